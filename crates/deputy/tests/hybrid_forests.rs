//! Delegation across two forests (issue 10, spec §9, seed 004): Mary's
//! mailbox in `cloud`, Rob's in `onprem`. Rob opens Mary's mailbox through
//! Autodiscover's target-address redirect and reads it over IMAP; his Send on
//! Behalf granted on-premises reaches the cloud by sync and works there; his
//! Send As added only on-premises doesn't work in the cloud until
//! `SyncSendAs` is on, and `Test-DelegateAccess` says why.

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::{SmtpTransport, Transport};
use std::time::{Duration, Instant};
use support::forests::{self, Forest, pair, sync_ok};

const ROB_PW: &str = "R0b!Passw0rd";
const MARY_PW: &str = "M4ry!Passw0rd";

/// Autodiscover for `address` as `user`, which must answer `200`.
fn autodiscover(forest: &Forest, user: &str, password: &str, address: &str) -> String {
    let (status, body) = forests::autodiscover(forest, user, password, address);
    assert_eq!(status, 200, "{body}");
    body
}

/// The text of the first `<tag>` after `after`.
fn element<'a>(body: &'a str, after: &str, tag: &str) -> Option<&'a str> {
    let rest = &body[body.find(after)?..];
    let start = rest.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = rest[start..].find(&format!("</{tag}>"))?;
    Some(&rest[start..start + end])
}

/// Runs Python `body` with `M`, an imaplib client of 127.0.0.1:`port` signed in as `login`.
fn imap(port: u16, login: &str, password: &str, body: &str) -> String {
    let login = if login.contains('\\') { format!("\"{}\"", login.replace('\\', "\\\\")) } else { login.into() };
    let script = format!(
        "import imaplib\nM = imaplib.IMAP4('127.0.0.1', {port})\nM.login({login:?}, '{password}')\n{body}\nM.logout()\n"
    );
    let out = std::process::Command::new("python3").args(["-c", &script]).output().expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// The `From:`/`Sender:` lines of the newest message with `subject` in Mary's Inbox, read as Rob.
fn headers(port: u16, subject: &str) -> String {
    imap(
        port,
        "rob@contoso.test\\mary",
        ROB_PW,
        &format!(
            r#"
M.select('INBOX')
typ, data = M.uid('SEARCH', None, 'SUBJECT', '{subject}')
uid = data[0].split()[-1]
typ, d = M.uid('FETCH', uid, '(BODY.PEEK[HEADER.FIELDS (FROM SENDER)])')
print('HDR', d[0][1].decode().replace('\r\n', ' | '))
"#
        ),
    )
}

/// Rob submits `From: mary` to Mary through the cloud forest's submission port.
fn send_from_mary(forest: &Forest, subject: &str) -> Result<(), String> {
    let server = forest.server();
    let transport = SmtpTransport::builder_dangerous(server.submission.ip().to_string())
        .port(server.submission.port())
        .credentials(Credentials::new("rob@contoso.test".into(), ROB_PW.into()))
        .authentication(vec![Mechanism::Plain])
        .build();
    let envelope = Envelope::new(
        Some("rob@contoso.test".parse().expect("address")),
        vec!["mary@contoso.test".parse().expect("address")],
    )
    .expect("envelope");
    let message = format!(
        "From: Mary Smith <mary@contoso.test>\r\nTo: <mary@contoso.test>\r\nSubject: {subject}\r\n\
         Message-ID: <{subject}@client.test>\r\n\r\nHello.\r\n"
    );
    transport.send_raw(&envelope, message.as_bytes()).map(|_| ()).map_err(|e| e.to_string())
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The `Test-DelegateAccess` row for one permission.
fn access(forest: &Forest, permission: &str) -> serde_json::Value {
    let rows = forest.server().json("Test-DelegateAccess -Identity mary -User rob");
    rows.into_iter().find(|r| r["Permission"] == permission).expect("a row per permission")
}

#[test]
fn rob_works_with_marys_cloud_mailbox_from_onprem() {
    let p = pair("hybrid-e2e", &["--writeback"]);
    let (onprem, cloud) = (&p.onprem, &p.cloud);
    cloud
        .server()
        .shell(&format!("New-Mailbox -Name 'Mary Smith' -Alias mary -Password (ConvertTo-SecureString '{MARY_PW}' -AsPlainText -Force)"))
        .expect_ok();
    onprem
        .server()
        .shell(&format!(
            r#"
New-Mailbox -Name 'Rob Jones' -Alias rob -Password (ConvertTo-SecureString '{ROB_PW}' -AsPlainText -Force)
New-Mailbox -Name 'Kim Akers' -Alias kim -Password (ConvertTo-SecureString 'K1m!Passw0rd' -AsPlainText -Force)
"#
        ))
        .expect_ok();
    // The cloud takes on-premises objects; writeback brings Mary on-premises as a mail user.
    sync_ok(cloud);
    sync_ok(onprem);
    let mary_onprem = onprem.server().json("Get-MailUser mary");
    assert_eq!(mary_onprem[0]["ExternalEmailAddress"], "SMTP:mary@cloud.contoso.test", "{mary_onprem:?}");

    // Mail for Mary sent on-premises is relayed to her mailbox in the cloud.
    let smtp = std::net::TcpStream::connect(onprem.server().smtp).expect("connect");
    drop(smtp);
    let script = format!(
        "import smtplib\ns = smtplib.SMTP('127.0.0.1', {})\ns.sendmail('partner@fabrikam.test', ['mary@contoso.test'], \
         'From: partner@fabrikam.test\\r\\nTo: mary@contoso.test\\r\\nSubject: quarterly report\\r\\n\\r\\nHello.\\r\\n')\ns.quit()\n",
        onprem.server().smtp.port()
    );
    let out = std::process::Command::new("python3").args(["-c", &script]).output().expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    wait_for("the relayed message in Mary's cloud Inbox", || cloud.server().items("mary", "Inbox") >= 1);

    // Full Access is granted where the mailbox is, to Rob's synced object there.
    cloud.server().shell("Add-MailboxPermission -Identity mary -User rob -AccessRights FullAccess").expect_ok();
    // On-premises Autodiscover sends Rob to Mary's target address…
    let body = autodiscover(onprem, "rob@contoso.test", ROB_PW, "mary@contoso.test");
    assert_eq!(element(&body, "<Account>", "Action"), Some("redirectAddr"), "{body}");
    let target = element(&body, "<Account>", "RedirectAddr").expect("a redirect address").to_owned();
    assert_eq!(target, "mary@cloud.contoso.test");
    // …whose forest (cloud.contoso.test) answers Rob, signed in with his on-premises password, with its IMAP settings.
    let body = autodiscover(cloud, "rob@contoso.test", ROB_PW, &target);
    assert_eq!(element(&body, "<Account>", "Action"), Some("settings"), "{body}");
    let port: u16 = element(&body, "<Type>IMAP</Type>", "Port").expect("IMAP settings").parse().expect("a port");
    assert_eq!(port, cloud.server().imap.port());
    // Rob reads Mary's mailbox over the cloud forest's IMAP, both login forms.
    let out = imap(
        port,
        "rob@contoso.test\\mary",
        ROB_PW,
        "print('SELECT', M.select('INBOX'))\nprint(M.fetch('1', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])'))",
    );
    assert!(out.contains("SELECT ('OK', [b'1'])") && out.contains("quarterly report"), "{out}");
    let out = imap(port, "rob@contoso.test", ROB_PW, "print('SELECT', M.select('\"Other Users/mary/INBOX\"'))");
    assert!(out.contains("SELECT ('OK', [b'1'])"), "{out}");

    // Send on Behalf: granted on-premises (on Mary's mail user), refused in the cloud until synced.
    onprem.server().shell("Set-MailUser mary -GrantSendOnBehalfTo rob").expect_ok();
    let refused = send_from_mary(cloud, "sob-early").expect_err("not synced yet");
    assert!(refused.contains("5.7.60"), "{refused}");
    sync_ok(cloud);
    let mary = cloud.server().json("Get-Mailbox mary");
    assert_eq!(mary[0]["GrantSendOnBehalfTo"], serde_json::json!(["Rob Jones"]), "{mary:?}");
    send_from_mary(cloud, "sob-1").expect("Send on Behalf works in the cloud");
    let out = headers(port, "sob-1");
    assert!(out.contains("From: Mary Smith <mary@contoso.test>") && out.contains("Sender: "), "{out}");
    assert!(out.contains("rob@contoso.test"), "{out}");
    // Writeback: a delegate added in the cloud reaches on-premises, and nothing flaps.
    cloud.server().shell("Set-Mailbox mary -GrantSendOnBehalfTo @{Add='kim'}").expect_ok();
    sync_ok(onprem);
    let mary_onprem = onprem.server().json("Get-MailUser mary");
    let mut delegates: Vec<String> =
        serde_json::from_value(mary_onprem[0]["GrantSendOnBehalfTo"].clone()).expect("list");
    delegates.sort();
    assert_eq!(delegates, ["Kim Akers", "Rob Jones"]);
    // One more round records the agreed value on both sides; after it, nothing moves.
    sync_ok(cloud);
    sync_ok(onprem);
    for forest in [cloud, onprem] {
        let out = sync_ok(forest);
        assert!(out.contains(" 0 change(s)") || out.contains("up to date"), "{}: {out}", forest.name);
    }
    assert_eq!(cloud.server().json("Get-Mailbox mary")[0]["GrantSendOnBehalfTo"].as_array().map(Vec::len), Some(2));

    // Send As added only on-premises: the cloud records it, doesn't apply it, and says why.
    onprem.server().shell("Add-ADPermission -Identity mary -User rob -ExtendedRights 'Send As'").expect_ok();
    sync_ok(cloud);
    let row = access(cloud, "SendAs");
    assert_eq!(row["Allowed"], false, "{row}");
    let reason = row["Reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains(
            "Send As for Rob Jones on Mary Smith exists in forest onprem but is not synced (SyncSendAs is off)"
        ),
        "{reason}"
    );
    // A send from Mary in the cloud falls back to Send on Behalf: the Sender: header names Rob.
    send_from_mary(cloud, "sendas-1").expect("sent on behalf");
    assert!(headers(port, "sendas-1").contains("Sender: "), "Send As is not in effect in the cloud");
    // Deputy's opt-in: with SyncSendAs the entry is applied, and Send As wins (spec §3.4).
    p.configure(true, &["--writeback", "--sync-send-as"]);
    sync_ok(cloud);
    assert_eq!(access(cloud, "SendAs")["Allowed"], true);
    send_from_mary(cloud, "sendas-2").expect("sent as Mary");
    let out = headers(port, "sendas-2");
    assert!(out.contains("From: Mary Smith <mary@contoso.test>") && !out.contains("Sender: "), "{out}");
    // Removed on-premises, it goes in the cloud too.
    onprem
        .server()
        .shell("Remove-ADPermission -Identity mary -User rob -ExtendedRights 'Send As' -Confirm:$false")
        .expect_ok();
    sync_ok(cloud);
    assert_eq!(access(cloud, "SendAs")["Allowed"], false);

    // Mary's mailbox moves on-premises; Rob keeps his access.
    imap(port, "rob@contoso.test\\mary", ROB_PW, "M.select('INBOX')\nprint(M.store('1', '+FLAGS', '(\\\\Flagged)'))");
    let before = cloud.server().items("mary", "Inbox");
    let out = cloud
        .server()
        .shell("New-MoveRequest -Identity mary -Outbound -RemoteHostName onprem.contoso.test -TargetDeliveryDomain onprem.contoso.test")
        .expect_ok();
    assert!(out.contains("Queued"), "{out}");
    sync_ok(onprem);
    assert_eq!(onprem.server().json("Get-Mailbox mary")[0]["RecipientTypeDetails"], "UserMailbox");
    assert_eq!(onprem.server().items("mary", "Inbox"), before, "every message moved");
    sync_ok(cloud);
    let mary = cloud.server().json("Get-MailUser mary");
    assert_eq!(mary[0]["ExternalEmailAddress"], "SMTP:mary@onprem.contoso.test", "{mary:?}");
    assert_eq!(cloud.server().json("Get-MoveRequest")[0]["Status"], "Completed");
    // Autodiscover now sends Rob from the cloud to the on-premises forest, where he reads on.
    let body = autodiscover(cloud, "rob@contoso.test", ROB_PW, "mary@contoso.test");
    assert_eq!(element(&body, "<Account>", "RedirectAddr"), Some("mary@onprem.contoso.test"), "{body}");
    let body = autodiscover(onprem, "rob@contoso.test", ROB_PW, "mary@onprem.contoso.test");
    let port: u16 = element(&body, "<Type>IMAP</Type>", "Port").expect("IMAP settings").parse().expect("a port");
    assert_eq!(port, onprem.server().imap.port());
    let out = imap(port, "rob@contoso.test\\mary", ROB_PW, "M.select('INBOX')\nprint(M.fetch('1', '(FLAGS)'))");
    assert!(out.contains("\\\\Flagged"), "flags moved with the messages: {out}");
    assert_eq!(access(onprem, "FullAccess")["Allowed"], true);
    // Send on Behalf on-premises, and mail for Mary through the cloud reaches her new home.
    send_from_mary(onprem, "sob-after-move").expect("Send on Behalf on-premises");
    assert!(headers(port, "sob-after-move").contains("Sender: "));
    let script = format!(
        "import smtplib\ns = smtplib.SMTP('127.0.0.1', {})\ns.sendmail('partner@fabrikam.test', ['mary@contoso.test'], \
         'From: partner@fabrikam.test\\r\\nTo: mary@contoso.test\\r\\nSubject: after the move\\r\\n\\r\\nHello.\\r\\n')\ns.quit()\n",
        cloud.server().smtp.port()
    );
    let out = std::process::Command::new("python3").args(["-c", &script]).output().expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    wait_for("mail relayed to the moved mailbox", || onprem.server().items("mary", "Inbox") >= before + 2);
    // And the forests are at rest.
    sync_ok(onprem);
    sync_ok(cloud);
    for forest in [onprem, cloud] {
        let out = sync_ok(forest);
        assert!(out.contains(" 0 change(s)") || out.contains("up to date"), "{}: {out}", forest.name);
    }
}

/// Send As granted in the cloud (Exchange Online's `Add-RecipientPermission`)
/// for Rob, whose mailbox — and so whose sending — is on-premises: with
/// writeback and `SyncSendAs` it is applied on-premises, where he sends; it
/// never echoes back, and a removal in the cloud removes it on-premises.
#[test]
fn send_as_granted_in_the_cloud_reaches_onprem_senders_with_writeback_and_sync_send_as() {
    let p = pair("hybrid-sendas-back", &["--writeback", "--sync-send-as"]);
    let (onprem, cloud) = (&p.onprem, &p.cloud);
    cloud
        .server()
        .shell(&format!("New-Mailbox -Name 'Mary Smith' -Alias mary -Password (ConvertTo-SecureString '{MARY_PW}' -AsPlainText -Force)"))
        .expect_ok();
    onprem
        .server()
        .shell(&format!(
            "New-Mailbox -Name 'Rob Jones' -Alias rob -Password (ConvertTo-SecureString '{ROB_PW}' -AsPlainText -Force)"
        ))
        .expect_ok();
    sync_ok(cloud);
    sync_ok(onprem);
    cloud.server().shell("Add-RecipientPermission mary -Trustee rob -AccessRights SendAs -Confirm:$false").expect_ok();
    assert_eq!(access(onprem, "SendAs")["Allowed"], false);
    let refused = send_from_mary(onprem, "before-sync").expect_err("no Send As on-premises yet");
    assert!(refused.contains("5.7.60"), "{refused}");
    let out = sync_ok(onprem);
    assert!(out.contains("Send As on"), "{out}");
    assert_eq!(access(onprem, "SendAs")["Allowed"], true);
    send_from_mary(onprem, "sent-as-mary").expect("Rob sends as Mary from his own forest");
    // Both forests at rest: the entry applied on-premises is not sent back to the cloud.
    for _ in 0..2 {
        sync_ok(cloud);
        sync_ok(onprem);
    }
    for forest in [cloud, onprem] {
        let out = sync_ok(forest);
        assert!(out.contains(" 0 change(s)") || out.contains("up to date"), "{}: {out}", forest.name);
    }
    // Removed where it was granted, it goes on-premises too, and stays gone.
    cloud
        .server()
        .shell("Remove-RecipientPermission mary -Trustee rob -AccessRights SendAs -Confirm:$false")
        .expect_ok();
    sync_ok(cloud);
    sync_ok(onprem);
    assert_eq!(access(onprem, "SendAs")["Allowed"], false);
    sync_ok(cloud);
    sync_ok(onprem);
    assert_eq!(access(onprem, "SendAs")["Allowed"], false, "not resurrected");
    assert_eq!(access(cloud, "SendAs")["Allowed"], false);
}
