//! The Graph-compatible door through real HTTP (spec §4, §7.3, issue 5):
//! seed 003's two examples byte for byte, every row of the §4.2 Sent Items
//! table, and the role × resource × action matrix.

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use serde_json::{Value, json};
use support::graph::{SHARED, call, mail, user_token};
use support::{Server, TempDir, init};

const PW: &str = "Str0ng!Passw0rd";

fn org(name: &str, script: &str) -> (TempDir, Server) {
    let dir = TempDir::new(name);
    assert!(init(&dir.0, "contoso.test").status.success());
    let server = Server::start(&dir.0);
    server.shell(script).expect_ok();
    (dir, server)
}

fn mailbox(name: &str, alias: &str) -> String {
    format!("New-Mailbox -Name '{name}' -Alias {alias} -Password (ConvertTo-SecureString '{PW}' -AsPlainText -Force)\n")
}

#[test]
fn seed_003_send_on_behalf_is_accepted_and_a_send_without_rights_is_denied_verbatim() {
    let mut script = String::new();
    for (name, alias) in [
        ("Adele Vance", "AdeleV"),
        ("Allan Deyoung", "AllanD"),
        ("Patti Fernandez", "PattiF"),
        ("Megan Bowen", "MeganB"),
    ] {
        script.push_str(&mailbox(name, alias));
    }
    script.push_str("Set-Mailbox AllanD -GrantSendOnBehalfTo AdeleV\n");
    let (_dir, server) = org("graph-seed003", &script);
    let adele = user_token(&server, "AdeleV@contoso.test", PW, "Mail.Send.Shared");

    // Example 1, as the seed writes it (lower-case `sendmail`).
    let body = json!({"message": {
        "subject": "Expense reports",
        "body": {"contentType": "text", "content": "Have you submitted your expense reports yet?"},
        "toRecipients": [{"emailAddress": {"address": "MeganB@contoso.test"}}],
        "from": {"emailAddress": {"address": "AllanD@contoso.test"}}
    }});
    let (status, answer) = call(&server, "POST", "me/sendmail", &adele, Some(&body));
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer, Value::Null, "202 has an empty body");

    // Megan sees "Adele on behalf of Allan": from = Allan, sender = Adele.
    let megan = user_token(&server, "MeganB@contoso.test", PW, "Mail.Read");
    let (status, list) = call(&server, "GET", "me/mailFolders/inbox/messages", &megan, None);
    assert_eq!(status, 200, "{list}");
    let m = &list["value"][0];
    assert_eq!(m["subject"], "Expense reports");
    assert_eq!(
        m["from"]["emailAddress"]["address"].as_str().map(str::to_lowercase).as_deref(),
        Some("alland@contoso.test")
    );
    assert_eq!(
        m["sender"]["emailAddress"]["address"].as_str().map(str::to_lowercase).as_deref(),
        Some("adelev@contoso.test")
    );
    assert_eq!(m["sender"]["emailAddress"]["name"], "Adele Vance");
    assert_eq!(m["from"]["emailAddress"]["name"], "Allan Deyoung", "directory names are filled in");

    // Example 2: Patti granted nothing.
    let mut body2 = body.clone();
    body2["message"]["subject"] = json!("Support ticket");
    body2["message"]["from"] = json!({"emailAddress": {"address": "PattiF@contoso.test"}});
    let (status, answer) = call(&server, "POST", "me/sendmail", &adele, Some(&body2));
    assert_eq!(status, 403);
    assert_eq!(answer["error"]["code"], "ErrorSendAsDenied");
    assert_eq!(
        answer["error"]["message"],
        "The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account. Cannot submit message."
    );
    assert!(
        answer["error"]["innerError"]["request-id"].is_string() && answer["error"]["innerError"]["date"].is_string()
    );
    assert_eq!(server.items("MeganB", "Inbox"), 1, "the denied message was not delivered");
    assert_eq!(server.items("AdeleV", "SentItems"), 1, "only the accepted send left a copy");
}

/// One row of spec §4.2 (exchange-reference §5): who sends, through which
/// path, with which grant, flag and saveToSentItems, and the expected
/// Sent Items counts of the delegate and the From mailbox.
struct Row {
    n: u8,
    path_is_from: bool,
    grant: &'static str,
    flag: bool,
    save: bool,
    delegate_copy: i64,
    from_copy: i64,
}

#[test]
fn sent_items_follow_every_row_of_the_table() {
    let rows = [
        Row { n: 1, path_is_from: false, grant: "SendAs", flag: false, save: true, delegate_copy: 1, from_copy: 0 },
        Row {
            n: 1,
            path_is_from: false,
            grant: "SendOnBehalf",
            flag: false,
            save: true,
            delegate_copy: 1,
            from_copy: 0,
        },
        Row { n: 2, path_is_from: false, grant: "SendAs", flag: true, save: true, delegate_copy: 1, from_copy: 1 },
        Row {
            n: 2,
            path_is_from: false,
            grant: "SendOnBehalf",
            flag: true,
            save: true,
            delegate_copy: 1,
            from_copy: 1,
        },
        Row { n: 3, path_is_from: false, grant: "SendAs", flag: false, save: false, delegate_copy: 0, from_copy: 0 },
        Row {
            n: 4,
            path_is_from: false,
            grant: "SendOnBehalf",
            flag: true,
            save: false,
            delegate_copy: 0,
            from_copy: 1,
        },
        Row { n: 5, path_is_from: true, grant: "SendAs", flag: false, save: true, delegate_copy: 0, from_copy: 1 },
        Row {
            n: 5,
            path_is_from: true,
            grant: "SendOnBehalf",
            flag: false,
            save: true,
            delegate_copy: 0,
            from_copy: 1,
        },
        Row { n: 6, path_is_from: true, grant: "SendAs", flag: true, save: true, delegate_copy: 0, from_copy: 1 },
        Row {
            n: 7,
            path_is_from: true,
            grant: "SendOnBehalf",
            flag: false,
            save: false,
            delegate_copy: 0,
            from_copy: 0,
        },
        Row { n: 8, path_is_from: true, grant: "SendAs", flag: true, save: false, delegate_copy: 0, from_copy: 1 },
    ];
    let mut script = mailbox("Rob Jones", "rob") + &mailbox("Megan Bowen", "megan");
    for (i, row) in rows.iter().enumerate() {
        script.push_str(&format!("New-Mailbox -Name 'Boss {i}' -Alias boss{i} -Shared\n"));
        if row.path_is_from {
            script.push_str(&format!("Add-MailboxPermission -Identity boss{i} -User rob -AccessRights FullAccess\n"));
        }
        match row.grant {
            "SendAs" => script.push_str(&format!(
                "Add-RecipientPermission -Identity boss{i} -Trustee rob -AccessRights SendAs -Confirm:$false\n"
            )),
            _ => script.push_str(&format!("Set-Mailbox boss{i} -GrantSendOnBehalfTo rob\n")),
        }
        let which =
            if row.grant == "SendAs" { "MessageCopyForSentAsEnabled" } else { "MessageCopyForSendOnBehalfEnabled" };
        script.push_str(&format!("Set-Mailbox boss{i} -{which} ${}\n", row.flag));
    }
    // Row 9: from a group, which has no Sent Items.
    script.push_str("New-DistributionGroup -Name Sales -Alias sales -Members megan\nAdd-RecipientPermission -Identity sales -Trustee rob -AccessRights SendAs -Confirm:$false\n");
    let (_dir, server) = org("graph-sent-items", &script);
    let rob = user_token(&server, "rob@contoso.test", PW, SHARED);

    for (i, row) in rows.iter().enumerate() {
        let before = server.items("rob", "SentItems");
        let from = format!("boss{i}@contoso.test");
        let path = if row.path_is_from { format!("users/{from}/sendMail") } else { "me/sendMail".to_owned() };
        let mut body = json!({"message": mail(&format!("row {}", row.n), "megan@contoso.test", Some(&from))});
        if !row.save {
            body["saveToSentItems"] = json!(false);
        }
        let (status, answer) = call(&server, "POST", &path, &rob, Some(&body));
        assert_eq!(status, 202, "row {} ({}): {answer}", row.n, row.grant);
        assert_eq!(
            server.items("rob", "SentItems") - before,
            row.delegate_copy,
            "row {} ({}): delegate's Sent Items",
            row.n,
            row.grant
        );
        assert_eq!(
            server.items(&format!("boss{i}"), "SentItems"),
            row.from_copy,
            "row {} ({}): From mailbox's Sent Items",
            row.n,
            row.grant
        );
    }

    // Row 9: a group as From: only the delegate's copy; delivery expands the group.
    let before = server.items("rob", "SentItems");
    let inbox = server.items("megan", "Inbox");
    let body = json!({"message": mail("row 9", "sales@contoso.test", Some("sales@contoso.test"))});
    assert_eq!(call(&server, "POST", "me/sendMail", &rob, Some(&body)).0, 202);
    assert_eq!(server.items("rob", "SentItems") - before, 1);
    assert_eq!(server.items("megan", "Inbox") - inbox, 1);

    // Acting in the From mailbox needs Full Access besides Send As (boss0 has none).
    let body = json!({"message": mail("no full access", "megan@contoso.test", None)});
    let (status, answer) = call(&server, "POST", "users/boss0@contoso.test/sendMail", &rob, Some(&body));
    assert_eq!((status, answer["error"]["code"].as_str()), (403, Some("ErrorAccessDenied")), "{answer}");

    // Row 11: a draft in the From mailbox, then send: as rows 5/6 (boss6: Send As, flag on).
    let draft = mail("row 11", "megan@contoso.test", Some("boss6@contoso.test"));
    let (status, created) = call(&server, "POST", "users/boss6@contoso.test/messages", &rob, Some(&draft));
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["isDraft"], true);
    let id = created["id"].as_str().expect("id");
    let before =
        (server.items("rob", "SentItems"), server.items("boss6", "SentItems"), server.items("boss6", "Drafts"));
    let (status, answer) = call(&server, "POST", &format!("users/boss6@contoso.test/messages/{id}/send"), &rob, None);
    assert_eq!(status, 202, "{answer}");
    assert_eq!(server.items("rob", "SentItems"), before.0, "row 11: no copy for the delegate");
    assert_eq!(server.items("boss6", "SentItems"), before.1 + 1, "row 11: one copy in the From mailbox");
    assert_eq!(server.items("boss6", "Drafts"), before.2 - 1, "the sent draft leaves Drafts");
}

#[test]
fn an_application_with_mail_send_sends_as_any_mailbox_and_nothing_else_does() {
    let script = mailbox("Mary Smith", "mary") + &mailbox("Megan Bowen", "megan");
    let (_dir, server) = org("graph-app", &script);
    let app = server.json("New-ServicePrincipal -DisplayName Mailer");
    let app_id = app[0]["AppId"].as_str().expect("AppId").to_owned();
    let secret = server.json(&format!("Add-MgApplicationPassword -ApplicationId {app_id}"));
    let secret = secret[0]["SecretText"].as_str().expect("SecretText").to_owned();
    let client = |scope: &str| {
        support::graph::token_request(
            &server,
            "common",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &app_id),
                ("client_secret", &secret),
                ("scope", scope),
            ],
        )
    };
    // No role yet: a token without permissions is refused at the door.
    let (status, body) = client("https://graph.microsoft.com/.default");
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().expect("token").to_owned();
    let send = json!({"message": mail("from the app", "megan@contoso.test", None)});
    let (status, _) = call(&server, "POST", "users/mary@contoso.test/sendMail", &token, Some(&send));
    assert_eq!(status, 401);

    server.shell(&format!("New-ManagementRoleAssignment -App {app_id} -Role 'Application Mail.Send'")).expect_ok();
    let (_, body) = client("https://graph.microsoft.com/.default");
    let token = body["access_token"].as_str().expect("token").to_owned();
    let (status, answer) = call(&server, "POST", "users/mary@contoso.test/sendMail", &token, Some(&send));
    assert_eq!(status, 202, "{answer}");
    assert_eq!(server.items("mary", "SentItems"), 1, "row 10: the mailbox's own Sent Items");
    assert_eq!(server.items("megan", "Inbox"), 1);
    // /me means nothing for an application.
    let (status, answer) = call(&server, "POST", "me/sendMail", &token, Some(&send));
    assert_eq!((status, answer["error"]["code"].as_str()), (400, Some("BadRequest")));
    // Mail.Send does not read mail.
    let (status, _) = call(&server, "GET", "users/mary@contoso.test/messages", &token, None);
    assert_eq!(status, 403);
    // The scope must be .default; a wrong secret is refused.
    assert_eq!(client("Mail.Send").0, 400);
    let (status, body) = support::graph::token_request(
        &server,
        "common",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &app_id),
            ("client_secret", "wrong"),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    );
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{body}");
    // Removing the role stops a token already issued.
    server
        .shell(&format!(
            "Get-ManagementRoleAssignment -RoleAssignee {app_id} | Remove-ManagementRoleAssignment -Confirm:$false"
        ))
        .expect_ok();
    assert_eq!(call(&server, "POST", "users/mary@contoso.test/sendMail", &token, Some(&send)).0, 401);
}

fn claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

#[test]
fn tokens_carry_graphs_claims_and_only_valid_tokens_get_in() {
    let (dir, server) = org("graph-tokens", &(mailbox("Rob Jones", "rob") + &mailbox("Mary Smith", "mary")));
    let form = |user: &str, password: &str, scope: &str| {
        support::graph::token_request(
            &server,
            "contoso.test",
            &[
                ("grant_type", "password"),
                ("client_id", "deputy"),
                ("username", user),
                ("password", password),
                ("scope", scope),
            ],
        )
    };
    let (status, body) = form("rob@contoso.test", PW, "https://graph.microsoft.com/Mail.Read Mail.Send offline_access");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let access = body["access_token"].as_str().expect("access_token").to_owned();
    let refresh = body["refresh_token"].as_str().expect("offline_access gives a refresh token").to_owned();
    let c = claims(&access);
    assert_eq!(c["aud"], "https://graph.microsoft.com");
    assert_eq!(c["scp"], "Mail.Read Mail.Send");
    assert_eq!(c["upn"], "rob@contoso.test");
    assert_eq!(c["preferred_username"], "rob@contoso.test");
    assert_eq!(c["idtyp"], "user");
    assert!(c["tid"].is_string() && c["oid"].is_string() && c["exp"].as_i64() > c["iat"].as_i64());
    let (status, me) = call(&server, "GET", "me", &access, None);
    assert_eq!((status, me["id"].as_str()), (200, c["oid"].as_str()), "{me}");

    // Identity-platform errors.
    let (status, body) = form("rob@contoso.test", "wrong", "Mail.Read");
    assert_eq!(
        (status, body["error"].as_str(), body["error_codes"][0].as_u64()),
        (400, Some("invalid_grant"), Some(50126))
    );
    assert_eq!(form("rob@contoso.test", PW, "Mail.Everything").1["error"], "invalid_scope");
    let (status, _) = support::graph::token_request(&server, "fabrikam.test", &[("grant_type", "password")]);
    assert_eq!(status, 400, "an unknown tenant");

    // Scopes are enforced: Mail.Read reads its own mail only; Mail.Send sends
    // only its own; another mailbox needs the .Shared scopes.
    server.shell("Add-MailboxPermission -Identity mary -User rob -AccessRights FullAccess\nSet-Mailbox mary -GrantSendOnBehalfTo rob").expect_ok();
    assert_eq!(call(&server, "GET", "me/messages", &access, None).0, 200);
    assert_eq!(call(&server, "GET", "me/mailFolders/inbox/messages", &access, None).0, 200);
    let (status, answer) = call(&server, "GET", "users/mary@contoso.test/mailFolders/inbox/messages", &access, None);
    assert_eq!((status, answer["error"]["code"].as_str()), (403, Some("ErrorAccessDenied")));
    let from_mary = json!({"message": mail("x", "mary@contoso.test", Some("mary@contoso.test"))});
    assert_eq!(
        call(&server, "POST", "me/sendMail", &access, Some(&from_mary)).0,
        403,
        "Send on Behalf needs Mail.Send.Shared"
    );
    assert_eq!(
        call(&server, "PATCH", "me/messages/AAAA", &access, Some(&json!({"isRead": true}))).0,
        403,
        "Mail.Read does not write"
    );

    // Refresh: a new pair, same scopes; a changed password ends the refresh token.
    let refresh_form = |token: &str| {
        support::graph::token_request(
            &server,
            "common",
            &[("grant_type", "refresh_token"), ("client_id", "deputy"), ("refresh_token", token)],
        )
    };
    let (status, body) = refresh_form(&refresh);
    assert_eq!(status, 200, "{body}");
    assert_eq!(claims(body["access_token"].as_str().expect("access")).get("scp"), Some(&json!("Mail.Read Mail.Send")));
    server.shell("Set-Mailbox rob -Password (ConvertTo-SecureString 'N3w!Passw0rd' -AsPlainText -Force)").expect_ok();
    let (status, body) = refresh_form(&refresh);
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    assert_eq!(refresh_form(&access).0, 400, "an access token is no refresh token");

    // Forged, tampered, expired or missing tokens: 401 InvalidAuthenticationToken.
    let mut tampered = access.clone();
    let last = tampered.pop().expect("non-empty");
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let header_payload: Vec<&str> = access.split('.').take(2).collect();
    let unsigned = format!("{}.", header_payload.join("."));
    let forged = {
        let key = rcgen_free_key();
        jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256), &c, &key).expect("sign")
    };
    let expired = {
        let der = std::fs::read(dir.0.join("tokens/es256.pk8")).expect("the server's signing key");
        let mut old = c.clone();
        old["exp"] = json!(1_000_000_000);
        old["nbf"] = json!(999_000_000);
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256),
            &old,
            &jsonwebtoken::EncodingKey::from_ec_der(&der),
        )
        .expect("sign")
    };
    for (what, token) in [
        ("tampered", tampered),
        ("unsigned", unsigned),
        ("forged", forged),
        ("expired", expired),
        ("empty", String::new()),
    ] {
        let (status, answer) = call(&server, "GET", "me/messages", &token, None);
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (401, Some("InvalidAuthenticationToken")),
            "{what}: {answer}"
        );
    }
    // A removed account's token stops working at once.
    server.shell("Remove-Mailbox rob -Confirm:$false").expect_ok();
    assert_eq!(call(&server, "GET", "me", &access, None).0, 401);
}

/// A P-256 key that is not the server's.
fn rcgen_free_key() -> jsonwebtoken::EncodingKey {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    jsonwebtoken::EncodingKey::from_ec_der(&pair.serialize_der())
}

#[test]
fn bad_requests_get_graph_shaped_errors_and_change_nothing() {
    let (_dir, server) = org("graph-bad-input", &(mailbox("Rob Jones", "rob") + &mailbox("Mary Smith", "mary")));
    let rob = user_token(&server, "rob@contoso.test", PW, SHARED);
    let raw = |body: &str, content_type: &str| {
        let mut resp = support::graph::agent()
            .post(&format!("{}/v1.0/me/sendMail", server.url))
            .header("Authorization", &format!("Bearer {rob}"))
            .header("Content-Type", content_type)
            .send(body)
            .expect("request");
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        (status, serde_json::from_str::<Value>(&text).unwrap_or(Value::Null))
    };
    let cases: Vec<(&str, (u16, Value), u16, &str)> = vec![
        ("malformed JSON", raw("{\"message\": ", "application/json"), 400, "BadRequest"),
        ("a JSON array", raw("[]", "application/json"), 400, "BadRequest"),
        ("unknown top-level field", raw(r#"{"message":{},"urgent":true}"#, "application/json"), 400, "RequestBodyRead"),
        (
            "unknown message field",
            raw(
                r#"{"message":{"subject":"x","colour":"red","toRecipients":[{"emailAddress":{"address":"mary@contoso.test"}}]}}"#,
                "application/json",
            ),
            400,
            "RequestBodyRead",
        ),
        (
            "invalid address",
            raw(
                r#"{"message":{"subject":"x","toRecipients":[{"emailAddress":{"address":"not an address"}}]}}"#,
                "application/json",
            ),
            400,
            "ErrorInvalidRecipients",
        ),
        ("no recipients", raw(r#"{"message":{"subject":"x"}}"#, "application/json"), 400, "ErrorInvalidRecipients"),
        ("bad base64 MIME", raw("!!!not base64!!!", "text/plain"), 400, "ErrorMimeContentInvalidBase64String"),
        ("oversize body", raw(&"x".repeat(5 * 1024 * 1024), "application/json"), 413, "RequestEntityTooLarge"),
        (
            "header injection in a name",
            raw(
                r#"{"message":{"subject":"x","toRecipients":[{"emailAddress":{"name":"a\r\nBcc: eve@evil.test","address":"mary@contoso.test"}}]}}"#,
                "application/json",
            ),
            400,
            "ErrorInvalidRecipients",
        ),
    ];
    for (what, (status, answer), want, code) in cases {
        assert_eq!((status, answer["error"]["code"].as_str()), (want, Some(code)), "{what}: {answer}");
        assert!(
            answer["error"]["message"].is_string() && answer["error"]["innerError"]["request-id"].is_string(),
            "{what}"
        );
    }
    assert_eq!(server.items("mary", "Inbox"), 0, "nothing was delivered");
    assert_eq!(server.items("rob", "SentItems"), 0, "nothing was stored");
    for (path, want) in [
        ("me/messages?$top=0", 400),
        ("me/messages?$filter=subject eq", 400),
        ("me/messages?$bogus=1", 400),
        ("me/teleport", 400),
        ("users/nobody@contoso.test/messages", 404),
    ] {
        let (status, answer) = call(&server, "GET", path, &rob, None);
        assert_eq!(status, want, "{path}: {answer}");
        assert!(answer["error"]["code"].is_string(), "{path}: {answer}");
    }
    assert_eq!(call(&server, "DELETE", "me/sendMail", &rob, None).0, 405);
    // A MIME message (base64, text/plain) goes through the same rules.
    use base64::Engine as _;
    let mime =
        "From: rob@contoso.test\r\nTo: mary@contoso.test\r\nBcc: rob@contoso.test\r\nSubject: mime\r\n\r\nhello\r\n";
    let (status, answer) = raw(&base64::engine::general_purpose::STANDARD.encode(mime), "text/plain");
    assert_eq!(status, 202, "{answer}");
    assert_eq!(server.items("mary", "Inbox"), 1);
    let mary = user_token(&server, "mary@contoso.test", PW, "Mail.Read");
    let (_, list) = call(&server, "GET", "me/mailFolders/inbox/messages", &mary, None);
    let id = list["value"][0]["id"].as_str().expect("id");
    let mut resp = support::graph::agent()
        .get(&format!("{}/v1.0/me/messages/{id}/$value", server.url))
        .header("Authorization", &format!("Bearer {mary}"))
        .call()
        .expect("$value");
    let text = resp.body_mut().read_to_string().expect("MIME");
    assert!(text.contains("Subject: mime") && !text.to_ascii_lowercase().contains("\nbcc:"), "{text}");
}

#[test]
fn lists_page_filter_select_and_order_like_graph() {
    let (_dir, server) = org("graph-odata", &(mailbox("Rob Jones", "rob") + &mailbox("Mary Smith", "mary")));
    let rob = user_token(&server, "rob@contoso.test", PW, SHARED);
    let mary = user_token(&server, "mary@contoso.test", PW, SHARED);
    for i in 0..15 {
        let body = json!({"message": mail(&format!("msg {i:02}"), "mary@contoso.test", None)});
        assert_eq!(call(&server, "POST", "me/sendMail", &rob, Some(&body)).0, 202);
    }
    let (status, page) = call(&server, "GET", "me/mailFolders/inbox/messages?$count=true", &mary, None);
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["@odata.count"], 15);
    assert_eq!(page["value"].as_array().map(Vec::len), Some(10), "Graph's default page is 10");
    assert_eq!(page["value"][0]["subject"], "msg 14", "newest first");
    let next = page["@odata.nextLink"].as_str().expect("a next page").to_owned();
    let next_path = next.split("/v1.0/").nth(1).expect("under /v1.0/");
    let (_, page2) = call(&server, "GET", next_path, &mary, None);
    assert_eq!(page2["value"].as_array().map(Vec::len), Some(5));
    assert!(page2.get("@odata.nextLink").is_none(), "{page2}");

    let (_, one) = call(&server, "GET", "me/messages?$filter=subject eq 'msg 03'&$select=subject,from", &mary, None);
    let item = &one["value"][0];
    assert_eq!(one["value"].as_array().map(Vec::len), Some(1), "{one}");
    let mut keys: Vec<&str> = item.as_object().expect("object").keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["@odata.etag", "from", "id", "subject"]);
    let (_, ordered) = call(&server, "GET", "me/mailFolders/inbox/messages?$orderby=subject asc&$top=3", &mary, None);
    let subjects: Vec<&str> =
        ordered["value"].as_array().expect("value").iter().filter_map(|m| m["subject"].as_str()).collect();
    assert_eq!(subjects, ["msg 00", "msg 01", "msg 02"]);
    let (_, from_rob) = call(
        &server,
        "GET",
        "me/messages?$filter=from/emailAddress/address eq 'rob@contoso.test' and startswith(subject,'msg 1')&$count=true",
        &mary,
        None,
    );
    assert_eq!(from_rob["@odata.count"], 5, "{from_rob}");

    // Mail.ReadBasic: every property but the body.
    let basic = user_token(&server, "mary@contoso.test", PW, "Mail.ReadBasic");
    let (_, list) = call(&server, "GET", "me/mailFolders/inbox/messages?$top=1", &basic, None);
    let item = &list["value"][0];
    assert!(item["subject"].is_string() && item.get("body").is_none() && item.get("bodyPreview").is_none(), "{item}");
    let id = item["id"].as_str().expect("id");
    assert_eq!(call(&server, "GET", &format!("me/messages/{id}/$value"), &basic, None).0, 403);

    // Reading and changing through Full Access, then Deputy's delegatedMailboxes.
    server.shell("Add-MailboxPermission -Identity mary -User rob -AccessRights FullAccess").expect_ok();
    let (_, inbox) = call(&server, "GET", "users/mary@contoso.test/mailFolders('Inbox')/messages?$top=1", &rob, None);
    let id = inbox["value"][0]["id"].as_str().expect("id").to_owned();
    let (status, patched) = call(
        &server,
        "PATCH",
        &format!("users/mary@contoso.test/messages/{id}"),
        &rob,
        Some(&json!({"isRead": true, "flag": {"flagStatus": "flagged"}})),
    );
    assert_eq!(
        (status, &patched["isRead"], &patched["flag"]["flagStatus"]),
        (200, &json!(true), &json!("flagged")),
        "{patched}"
    );
    let (_, folder) = call(&server, "GET", "users/mary@contoso.test/mailFolders/inbox", &rob, None);
    assert_eq!(
        (folder["totalItemCount"].as_u64(), folder["unreadItemCount"].as_u64()),
        (Some(15), Some(14)),
        "{folder}"
    );
    let (status, delegated) = call(&server, "GET", "me/delegatedMailboxes", &rob, None);
    assert_eq!(status, 200, "{delegated}");
    let row = delegated["value"]
        .as_array()
        .expect("value")
        .iter()
        .find(|r| r["mail"] == "mary@contoso.test")
        .expect("Mary is listed");
    assert_eq!((&row["permission"], &row["autoMapped"]), (&json!("FullAccess"), &json!(true)), "{row}");
    server
        .shell("Remove-MailboxPermission -Identity mary -User rob -AccessRights FullAccess -Confirm:$false")
        .expect_ok();
    let (status, _) = call(&server, "GET", &format!("users/mary@contoso.test/messages/{id}"), &rob, None);
    assert_eq!(status, 404, "a removed grant applies to the very next request");
    let (_, delegated) = call(&server, "GET", "me/delegatedMailboxes", &rob, None);
    assert_eq!(delegated["value"].as_array().map(Vec::len), Some(0), "{delegated}");
}

#[test]
fn a_retried_send_with_the_same_message_id_is_stored_once() {
    let (_dir, server) = org("graph-duplicates", &(mailbox("Rob Jones", "rob") + &mailbox("Mary Smith", "mary")));
    let rob = user_token(&server, "rob@contoso.test", PW, SHARED);
    let mut message = mail("retried", "mary@contoso.test", None);
    message["internetMessageId"] = json!("<retry-1@client.test>");
    let body = json!({"message": message});
    for _ in 0..2 {
        assert_eq!(call(&server, "POST", "me/sendMail", &rob, Some(&body)).0, 202, "a retry is acknowledged too");
    }
    assert_eq!(server.items("mary", "Inbox"), 1, "the second delivery of one Message-ID is a duplicate");
    assert_eq!(server.items("rob", "SentItems"), 1);
    // Another Message-ID is another message.
    let mut other = mail("retried", "mary@contoso.test", None);
    other["internetMessageId"] = json!("<retry-2@client.test>");
    assert_eq!(call(&server, "POST", "me/sendMail", &rob, Some(&json!({"message": other}))).0, 202);
    assert_eq!(server.items("mary", "Inbox"), 2);
}
