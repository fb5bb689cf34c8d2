//! Autodiscover through real HTTP (spec §7.5, §3.1): Outlook's POX request,
//! one `AlternativeMailbox` per auto-mapped mailbox — direct Full Access with
//! AutoMapping on, never through a group — and nothing revealed to others.

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use base64::Engine as _;
use support::{Server, TempDir, init};

fn post(server: &Server, user: &str, password: &str, address: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
         <Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">\
         <Request><EMailAddress>{address}</EMailAddress>\
         <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\
         </AcceptableResponseSchema></Request></Autodiscover>"
    );
    let mut resp = agent
        .post(&format!("{}/autodiscover/autodiscover.xml", server.url))
        .header("Authorization", &format!("Basic {auth}"))
        .header("Content-Type", "text/xml")
        .send(body)
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_string().unwrap_or_default())
}

/// The `AlternativeMailbox` addresses of an Autodiscover answer, sorted.
fn alternative_mailboxes(body: &str) -> Vec<&str> {
    let mut mapped: Vec<&str> =
        body.split("<SmtpAddress>").skip(1).filter_map(|s| s.split("</SmtpAddress>").next()).collect();
    mapped.sort_unstable();
    mapped
}

#[test]
fn alternative_mailboxes_are_the_direct_automapped_grants() {
    let dir = TempDir::new("autodiscover");
    assert!(init(&dir.0, "contoso.test").status.success());
    let server = Server::start(&dir.0);
    server
        .shell(
            r#"
New-Mailbox -Name "Mary Smith" -Alias mary -Password (ConvertTo-SecureString 'M4ry!Passw0rd' -AsPlainText -Force)
New-Mailbox -Name "Rob Jones" -Alias rob -Password (ConvertTo-SecureString 'R0b!Passw0rd' -AsPlainText -Force)
New-Mailbox -Name "Front Desk" -Alias desk -Shared
New-Mailbox -Name "Archive Box" -Alias archive -Shared
New-Mailbox -Name "Quiet Box" -Alias quiet -Shared
New-DistributionGroup -Name Helpers -Alias helpers -Type Security -Members rob
Add-MailboxPermission -Identity mary -User rob -AccessRights FullAccess -InheritanceType All
Add-MailboxPermission -Identity desk -User rob -AccessRights FullAccess
Add-MailboxPermission -Identity quiet -User rob -AccessRights FullAccess -AutoMapping $false
Add-MailboxPermission -Identity archive -User helpers -AccessRights FullAccess
"#,
        )
        .expect_ok();

    let (status, body) = post(&server, "rob@contoso.test", "R0b!Passw0rd", "rob@contoso.test");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<AutoDiscoverSMTPAddress>rob@contoso.test</AutoDiscoverSMTPAddress>"), "{body}");
    assert!(body.contains("<Type>SMTP</Type>"), "submission settings: {body}");
    let mapped = alternative_mailboxes(&body);
    assert_eq!(
        mapped,
        ["desk@contoso.test", "mary@contoso.test"],
        "direct grants with AutoMapping on, nothing via groups or with it off: {body}"
    );

    // A mailbox Rob can open: its settings; one he can't, or nobody's: the same not-found error.
    let (_, body) = post(&server, "rob@contoso.test", "R0b!Passw0rd", "mary@contoso.test");
    assert!(body.contains("<AutoDiscoverSMTPAddress>mary@contoso.test</AutoDiscoverSMTPAddress>"), "{body}");
    assert!(!body.contains("AlternativeMailbox"), "{body}");
    let (_, hidden) = post(&server, "mary@contoso.test", "M4ry!Passw0rd", "rob@contoso.test");
    let (_, nobody) = post(&server, "mary@contoso.test", "M4ry!Passw0rd", "nobody@contoso.test");
    assert!(
        hidden.contains("<ErrorCode>500</ErrorCode>") && hidden.contains("The email address can't be found."),
        "{hidden}"
    );
    assert_eq!(hidden, nobody, "an existing mailbox one may not open looks like a missing one");

    // Grants change what the next request sees; bad credentials get 401.
    server
        .shell("Remove-MailboxPermission -Identity mary -User rob -AccessRights FullAccess -Confirm:$false")
        .expect_ok();
    let (_, body) = post(&server, "rob@contoso.test", "R0b!Passw0rd", "rob@contoso.test");
    assert!(!body.contains("mary@contoso.test"), "{body}");
    assert_eq!(post(&server, "rob@contoso.test", "wrong", "rob@contoso.test").0, 401);
}

#[test]
fn clear_automapping_and_reset_default_change_what_autodiscover_offers() {
    let dir = TempDir::new("autodiscover-reset");
    assert!(init(&dir.0, "contoso.test").status.success());
    let server = Server::start(&dir.0);
    server
        .shell(
            r#"
New-Mailbox -Name "Mary Smith" -Alias mary -Password (ConvertTo-SecureString 'M4ry!Passw0rd' -AsPlainText -Force)
New-Mailbox -Name "Rob Jones" -Alias rob -Password (ConvertTo-SecureString 'R0b!Passw0rd' -AsPlainText -Force)
New-Mailbox -Name "Front Desk" -Alias desk -Shared
Add-MailboxPermission -Identity mary -User rob -AccessRights FullAccess
Add-MailboxPermission -Identity desk -User rob -AccessRights FullAccess
Set-Mailbox mary -GrantSendOnBehalfTo rob
"#,
        )
        .expect_ok();
    let offered = |server: &Server| {
        let (status, body) = post(server, "rob@contoso.test", "R0b!Passw0rd", "rob@contoso.test");
        assert_eq!(status, 200, "{body}");
        alternative_mailboxes(&body).into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    assert_eq!(offered(&server), ["desk@contoso.test", "mary@contoso.test"]);

    // -ClearAutoMapping: Full Access stays, auto-mapping goes.
    server.shell("Remove-MailboxPermission -Identity desk -ClearAutoMapping").expect_ok();
    assert_eq!(offered(&server), ["mary@contoso.test"]);
    let rows = server.json("Get-MailboxPermission -Identity desk -User rob");
    assert_eq!((rows.len(), &rows[0]["AutoMapping"]), (1, &serde_json::json!(false)), "{rows:?}");

    // -ResetDefault: only the owner keeps access; Send on Behalf is untouched.
    server.shell("Remove-MailboxPermission -Identity mary -ResetDefault").expect_ok();
    assert!(offered(&server).is_empty());
    assert!(server.json("Get-MailboxPermission -Identity mary -User rob").is_empty());
    let mary = server.json("Get-Mailbox mary");
    assert!(mary[0]["GrantSendOnBehalfTo"].to_string().contains("Rob"), "{mary:?}");

    // The switches are parameter sets of their own.
    let e = server.shell("Remove-MailboxPermission -Identity mary -User rob -ClearAutoMapping").expect_err();
    assert!(e.contains("Parameter set cannot be resolved"), "{e}");
    let e = server.shell("Remove-MailboxPermission -Identity mary -User rob").expect_err();
    assert!(e.contains("AccessRights"), "{e}");
}
