//! The role × resource × action matrix of the Graph door (issue 5): for the
//! owner, a Full Access delegate, a Send As delegate, a Send on Behalf
//! delegate, a folder Reviewer, an unrelated user and an application token,
//! every mail endpoint on Mary's mailbox answers what spec §3–§5 and §7.3 say.

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use serde_json::{Value, json};
use support::graph::{SHARED, call, mail, token_request, user_token};
use support::{Server, TempDir, init};

const PW: &str = "Str0ng!Passw0rd";
const ROLES: [&str; 7] = ["owner", "fullaccess", "sendas", "sendonbehalf", "reviewer", "unrelated", "app"];

/// (action, expected status per role in `ROLES` order; a `403` that must be
/// ErrorSendAsDenied is written 4031).
const MATRIX: &[(&str, [u16; 7])] = &[
    ("list inbox", [200, 200, 403, 403, 200, 403, 200]),
    ("get message", [200, 200, 404, 404, 200, 404, 200]),
    ("get $value", [200, 200, 404, 404, 200, 404, 200]),
    ("mark read", [200, 200, 404, 404, 200, 404, 200]),
    ("move to archive", [201, 201, 404, 404, 403, 404, 201]),
    ("delete", [204, 204, 404, 404, 403, 404, 204]),
    ("create draft", [201, 201, 403, 403, 403, 403, 201]),
    ("sendMail in Mary's mailbox", [202, 4031, 403, 403, 403, 403, 202]),
    ("sendMail from Mary via /me", [202, 4031, 202, 202, 4031, 4031, 400]),
    ("list folders", [200, 200, 403, 403, 200, 403, 200]),
    ("get sentitems folder", [200, 200, 403, 403, 403, 403, 200]),
    ("list whole mailbox", [200, 200, 403, 403, 200, 403, 200]),
];

fn app_token(server: &Server) -> String {
    let app = server.json("New-ServicePrincipal -DisplayName Robot");
    let app_id = app[0]["AppId"].as_str().expect("AppId").to_owned();
    let secret = server.json(&format!("Add-MgApplicationPassword -ApplicationId {app_id}"));
    let secret = secret[0]["SecretText"].as_str().expect("SecretText").to_owned();
    server
        .shell(&format!(
            "New-ManagementRoleAssignment -App {app_id} -Role 'Application Mail.ReadWrite'\nNew-ManagementRoleAssignment -App {app_id} -Role 'Application Mail.Send'"
        ))
        .expect_ok();
    let (status, body) = token_request(
        server,
        "contoso.test",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &app_id),
            ("client_secret", &secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    );
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().expect("token").to_owned()
}

#[test]
fn every_role_gets_what_the_spec_says_on_every_endpoint() {
    let dir = TempDir::new("graph-matrix");
    assert!(init(&dir.0, "contoso.test").status.success());
    let server = Server::start(&dir.0);
    let mut script = String::new();
    for (name, alias) in [
        ("Mary Smith", "owner"),
        ("Rob Full", "fullaccess"),
        ("Sam SendAs", "sendas"),
        ("Sue Behalf", "sendonbehalf"),
        ("Rita Reviewer", "reviewer"),
        ("Eve Stranger", "unrelated"),
        ("Megan Bowen", "megan"),
    ] {
        script.push_str(&format!(
            "New-Mailbox -Name '{name}' -Alias {alias} -Password (ConvertTo-SecureString '{PW}' -AsPlainText -Force)\n"
        ));
    }
    script.push_str(
        "Add-MailboxPermission -Identity owner -User fullaccess -AccessRights FullAccess
Add-RecipientPermission -Identity owner -Trustee sendas -AccessRights SendAs -Confirm:$false
Set-Mailbox owner -GrantSendOnBehalfTo sendonbehalf
Add-MailboxFolderPermission -Identity owner:\\Inbox -User reviewer -AccessRights Reviewer
",
    );
    server.shell(&script).expect_ok();
    let mut tokens: Vec<String> =
        ROLES[..6].iter().map(|r| user_token(&server, &format!("{r}@contoso.test"), PW, SHARED)).collect();
    tokens.push(app_token(&server));
    let megan = user_token(&server, "megan@contoso.test", PW, SHARED);
    let owner = tokens[0].clone();

    // A fresh message in Mary's Inbox; returns its id (as the owner sees it).
    let mut sent = 0;
    let mut fresh = |tag: &str| -> String {
        sent += 1;
        let subject = format!("matrix {tag} {sent}");
        let body = json!({"message": mail(&subject, "owner@contoso.test", None)});
        assert_eq!(call(&server, "POST", "me/sendMail", &megan, Some(&body)).0, 202);
        let (_, list) = call(
            &server,
            "GET",
            &format!("me/mailFolders/inbox/messages?$filter=subject eq '{subject}'"),
            &owner,
            None,
        );
        list["value"][0]["id"].as_str().expect("the delivered message").to_owned()
    };

    fresh("seed");
    let mut failures = Vec::new();
    for (action, expected) in MATRIX {
        for (i, role) in ROLES.iter().enumerate() {
            let token = &tokens[i];
            let mary = "users/owner@contoso.test";
            let (status, answer) = match *action {
                "list inbox" => call(&server, "GET", &format!("{mary}/mailFolders/inbox/messages"), token, None),
                "get message" => call(&server, "GET", &format!("{mary}/messages/{}", fresh(role)), token, None),
                "get $value" => call(&server, "GET", &format!("{mary}/messages/{}/$value", fresh(role)), token, None),
                "mark read" => call(
                    &server,
                    "PATCH",
                    &format!("{mary}/messages/{}", fresh(role)),
                    token,
                    Some(&json!({"isRead": true})),
                ),
                "move to archive" => call(
                    &server,
                    "POST",
                    &format!("{mary}/messages/{}/move", fresh(role)),
                    token,
                    Some(&json!({"destinationId": "archive"})),
                ),
                "delete" => call(&server, "DELETE", &format!("{mary}/messages/{}", fresh(role)), token, None),
                "create draft" => call(
                    &server,
                    "POST",
                    &format!("{mary}/messages"),
                    token,
                    Some(&mail("a draft", "megan@contoso.test", None)),
                ),
                "sendMail in Mary's mailbox" => call(
                    &server,
                    "POST",
                    &format!("{mary}/sendMail"),
                    token,
                    Some(&json!({"message": mail("in her mailbox", "megan@contoso.test", None)})),
                ),
                "sendMail from Mary via /me" => call(
                    &server,
                    "POST",
                    "me/sendMail",
                    token,
                    Some(&json!({"message": mail("from her", "megan@contoso.test", Some("owner@contoso.test"))})),
                ),
                "list folders" => call(&server, "GET", &format!("{mary}/mailFolders"), token, None),
                "get sentitems folder" => call(&server, "GET", &format!("{mary}/mailFolders/sentitems"), token, None),
                "list whole mailbox" => call(&server, "GET", &format!("{mary}/messages"), token, None),
                other => panic!("no such action {other}"),
            };
            let want = expected[i];
            let (want_status, want_code) = if want == 4031 { (403, Some("ErrorSendAsDenied")) } else { (want, None) };
            let code = answer["error"]["code"].as_str();
            let ok = status == want_status
                && want_code.is_none_or(|c| code == Some(c))
                && (status < 400 || answer["error"]["message"].is_string());
            if !ok {
                failures.push(format!("{action} as {role}: got {status} {answer}, want {want_status} {want_code:?}"));
            }
            // A refusal never hides a second, different answer: the code of a
            // 403 on someone else's mail that is not ErrorSendAsDenied is ErrorAccessDenied.
            if status == 403 && want_code.is_none() && code != Some("ErrorAccessDenied") {
                failures.push(format!("{action} as {role}: 403 with code {code:?}"));
            }
            if status == 200 && action.starts_with("list") && answer["value"].as_array().is_none_or(Vec::is_empty) {
                failures.push(format!("{action} as {role}: an empty list"));
            }
            if status == 404 && code != Some("ErrorItemNotFound") {
                failures.push(format!("{action} as {role}: 404 with code {code:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));

    // What the reviewer sees is only the Inbox.
    let (_, folders) = call(&server, "GET", "users/owner@contoso.test/mailFolders", &tokens[4], None);
    let names: Vec<&str> =
        folders["value"].as_array().expect("value").iter().filter_map(|f| f["displayName"].as_str()).collect();
    assert_eq!(names, ["Inbox"], "{folders}");
    let _: Value = folders;
}
