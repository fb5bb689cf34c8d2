//! Mail flow end to end (issue 4): the real binary, real SMTP clients (lettre,
//! and Python's smtplib), and an SMTP sink standing in for the outside world
//! behind `--relay-host`. The seeds' Mary (manager) and Rob (assistant).

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::{SmtpTransport, Transport};
use support::sink::Sink;
use support::{Server, TempDir, init};

const ROB_PW: &str = "R0b!Passw0rd";

fn org(name: &str) -> (TempDir, Sink, Server) {
    let dir = TempDir::new(name);
    assert!(init(&dir.0, "contoso.test").status.success());
    let sink = Sink::start();
    let server = Server::start_with(&dir.0, &["--relay-host", &sink.relay_flag()]);
    server
        .shell(&format!(
            r#"
New-Mailbox -Name "Mary Smith" -Alias mary -Password (ConvertTo-SecureString -String 'M4ry!Passw0rd' -AsPlainText -Force)
New-Mailbox -Name "Rob Jones" -Alias rob -Password (ConvertTo-SecureString -String '{ROB_PW}' -AsPlainText -Force)
"#
        ))
        .expect_ok();
    (dir, sink, server)
}

/// Rob's authenticated submission client.
fn rob(server: &Server) -> SmtpTransport {
    SmtpTransport::builder_dangerous(server.submission.ip().to_string())
        .port(server.submission.port())
        .credentials(Credentials::new("rob@contoso.test".into(), ROB_PW.into()))
        .authentication(vec![Mechanism::Plain])
        .build()
}

fn message(from: &str, to: &str, subject: &str) -> String {
    format!(
        "From: {from}\r\nTo: <{to}>\r\nSubject: {subject}\r\nMessage-ID: <{}@client.test>\r\n\r\nHello.\r\n",
        subject.replace(' ', "-")
    )
}

/// Rob submits `From: <from>` to `to`; the SMTP reply on failure.
fn send(server: &Server, mail_from: &str, from: &str, to: &str, subject: &str) -> Result<(), String> {
    let envelope = Envelope::new(
        Some(mail_from.parse().map_err(|e| format!("{e}"))?),
        vec![to.parse().map_err(|e| format!("{e}"))?],
    )
    .map_err(|e| e.to_string())?;
    rob(server).send_raw(&envelope, message(from, to, subject).as_bytes()).map(|_| ()).map_err(|e| e.to_string())
}

#[track_caller]
fn assert_denied(result: Result<(), String>) {
    let e = result.expect_err("the send must be refused");
    assert!(e.contains("550") || e.contains("5.7.60"), "{e}");
    assert!(e.contains("5.7.60") && e.contains("does not have permissions to send as this sender"), "{e}");
}

#[test]
fn send_as_and_send_on_behalf_through_smtp_submission() {
    let (_dir, sink, server) = org("delegation");
    let mary = "\"Mary Smith\" <mary@contoso.test>";
    let ext = "partner@fabrikam.test";

    // Without permission: refused, nothing stored or sent.
    assert_denied(send(&server, "rob@contoso.test", mary, ext, "no permission"));
    assert_denied(send(&server, "mary@contoso.test", "rob@contoso.test", ext, "envelope only"));
    assert_eq!(server.items("rob", "SentItems"), 0);

    // Send on Behalf: From Mary, Sender Rob; Rob's Sent Items only.
    server.shell("Set-Mailbox -Identity mary -GrantSendOnBehalfTo @{Add='rob'}").expect_ok();
    send(&server, "rob@contoso.test", mary, ext, "on behalf").expect("send on behalf");
    let got = sink.wait_for(1);
    let m = &got[0];
    assert!(m.header("From").unwrap_or_default().contains("mary@contoso.test"), "{}", m.data);
    assert!(m.header("Sender").unwrap_or_default().contains("rob@contoso.test"), "{}", m.data);
    assert_eq!(m.rcpt_to, vec![ext.to_owned()]);
    assert_eq!(m.mail_from, "rob@contoso.test", "Send on Behalf carries the delegate as envelope sender");
    assert_eq!((server.items("rob", "SentItems"), server.items("mary", "SentItems")), (1, 0));

    // Mary's flag adds her copy for Send on Behalf.
    server.shell("Set-Mailbox mary -MessageCopyForSendOnBehalfEnabled $true").expect_ok();
    send(&server, "rob@contoso.test", mary, ext, "on behalf with copy").expect("send on behalf");
    sink.wait_for(2);
    assert_eq!((server.items("rob", "SentItems"), server.items("mary", "SentItems")), (2, 1));

    // Send As as well: Send As wins, no Sender:, and the Send As flag (off) decides Mary's copy.
    server
        .shell("Add-RecipientPermission -Identity mary -Trustee rob -AccessRights SendAs -Confirm:$false")
        .expect_ok();
    send(&server, "mary@contoso.test", mary, ext, "send as").expect("send as");
    let got = sink.wait_for(3);
    let m = got.iter().find(|m| m.header("Subject").as_deref() == Some("send as")).expect("send as arrived");
    assert!(m.header("From").unwrap_or_default().contains("mary@contoso.test"));
    assert_eq!(m.header("Sender"), None, "Send As leaves no trace of the delegate: {}", m.data);
    assert_eq!(m.mail_from, "mary@contoso.test");
    assert_eq!((server.items("rob", "SentItems"), server.items("mary", "SentItems")), (3, 1));
    server.shell("Set-Mailbox mary -MessageCopyForSentAsEnabled $true").expect_ok();
    send(&server, "rob@contoso.test", mary, ext, "send as with copy").expect("send as");
    sink.wait_for(4);
    assert_eq!((server.items("rob", "SentItems"), server.items("mary", "SentItems")), (4, 2));

    // Mail from an accepted domain leaves DKIM-signed, verifiably with the record Get-DkimSigningConfig prints.
    let config = server.json("Get-DkimSigningConfig -Identity contoso.test");
    let (name, value) = (
        config[0]["DnsRecordName"].as_str().unwrap_or_default(),
        config[0]["DnsRecordValue"].as_str().unwrap_or_default(),
    );
    assert!(name.ends_with("._domainkey.contoso.test") && value.starts_with("v=DKIM1; k=rsa; p="), "{config:?}");
    assert!(m.header("DKIM-Signature").unwrap_or_default().contains("d=contoso.test"), "{}", m.data);
    let resolver = deputy_mailauth::MailResolver::in_memory().expect("resolver");
    resolver.add_txt(name, value).expect("publish the key");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let results = runtime.block_on(deputy_mailauth::authentication_results(
        &resolver,
        "fabrikam.test",
        "127.0.0.1".parse().expect("ip"),
        "contoso.test",
        &m.mail_from,
        m.data.as_bytes(),
    ));
    assert!(results.contains("dkim=pass"), "{results}");

    // A client-written Sender: naming someone else is refused like a From:.
    let forged = format!("Sender: mary@contoso.test\r\n{}", message("rob@contoso.test", ext, "forged sender"));
    let envelope = Envelope::new(Some("rob@contoso.test".parse().expect("addr")), vec![ext.parse().expect("addr")])
        .expect("envelope");
    rob(&server).send_raw(&envelope, forged.as_bytes()).expect_err("Sender: must be the principal");

    // Hidden from address lists: no delegate may send from it.
    server.shell("Set-Mailbox mary -HiddenFromAddressListsEnabled $true").expect_ok();
    assert_denied(send(&server, "rob@contoso.test", mary, ext, "hidden"));
}

#[test]
fn groups_as_senders_and_group_trustees() {
    let (_dir, sink, server) = org("groups");
    server
        .shell(
            r#"
New-DistributionGroup -Name Sales -Alias sales -Members mary
New-DistributionGroup -Name Assistants -Alias assistants -Type Security -Members rob
New-Mailbox -Name "Front Desk" -Alias desk -Shared
Add-RecipientPermission -Identity Sales -Trustee rob -AccessRights SendAs -Confirm:$false
Add-RecipientPermission -Identity desk -Trustee Assistants -AccessRights SendAs -Confirm:$false
"#,
        )
        .expect_ok();
    let ext = "buyer@fabrikam.test";

    send(&server, "sales@contoso.test", "Sales <sales@contoso.test>", ext, "from the group").expect("send as group");
    let got = sink.wait_for(1);
    assert!(got[0].header("From").unwrap_or_default().contains("sales@contoso.test"));
    assert_eq!(got[0].header("Sender"), None);
    assert_eq!(server.items("rob", "SentItems"), 1, "the delegate keeps a copy; the group has none");
    assert_eq!(server.items("mary", "Inbox"), 0, "a send as the group is not delivered to its members");

    // Through the security group, and not a moment after Rob leaves it.
    send(&server, "desk@contoso.test", "desk@contoso.test", ext, "via group").expect("send via security group");
    sink.wait_for(2);
    server.shell("Remove-DistributionGroupMember -Identity Assistants -Member rob -Confirm:$false").expect_ok();
    assert_denied(send(&server, "desk@contoso.test", "desk@contoso.test", ext, "after removal"));
}

#[test]
fn inbound_delivery_expands_groups_once_per_mailbox() {
    let (dir, _sink, server) = org("inbound");
    server
        .shell(
            r#"
New-DistributionGroup -Name Team -Alias team -Members mary,rob
New-DistributionGroup -Name Everyone -Alias everyone -Members team,mary
"#,
        )
        .expect_ok();
    let mx = SmtpTransport::builder_dangerous(server.smtp.ip().to_string()).port(server.smtp.port()).build();
    let to = |rcpts: &[&str]| {
        Envelope::new(
            Some("someone@fabrikam.test".parse().expect("addr")),
            rcpts.iter().map(|r| r.parse().expect("addr")).collect(),
        )
        .expect("envelope")
    };
    let body = message("someone@fabrikam.test", "everyone@contoso.test", "hello all");
    mx.send_raw(&to(&["everyone@contoso.test", "mary@contoso.test"]), body.as_bytes()).expect("inbound");
    assert_eq!((server.items("mary", "Inbox"), server.items("rob", "Inbox")), (1, 1), "one copy per mailbox");

    let e = mx.send_raw(&to(&["nobody@contoso.test"]), body.as_bytes()).expect_err("unknown user").to_string();
    assert!(e.contains("5.1.1"), "{e}");
    let e = mx.send_raw(&to(&["x@elsewhere.test"]), body.as_bytes()).expect_err("relay").to_string();
    assert!(e.contains("5.7.1"), "{e}");
    let stats = server.json("Get-MailboxFolderStatistics -Identity mary");
    assert!(stats.iter().any(|r| r["FolderPath"] == "/Inbox" && r["ItemsInFolder"] == 1), "{stats:?}");

    // What was stored: trace fields first, then the message exactly as sent.
    server.stop();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let stored = runtime.block_on(async {
        use deputy_store::{MailStore, Store};
        let store = deputy_store_sqlite::SqliteStore::open(&dir.0).expect("store");
        let snapshot = store.load().await.expect("load");
        let mary = snapshot.recipients.iter().find(|r| r.alias == "mary").expect("mary").id;
        let inbox = snapshot
            .folders
            .iter()
            .find(|f| f.mailbox == mary && f.well_known == Some(deputy_types::WellKnownFolder::Inbox))
            .expect("inbox")
            .id;
        let entry = store.entries(inbox).await.expect("entries").remove(0);
        store.body(entry.blob).await.expect("body").expect("the body exists")
    });
    let text = String::from_utf8(stored).expect("utf-8");
    assert!(
        text.starts_with("Return-Path: <someone@fabrikam.test>\r\nAuthentication-Results: contoso.test;"),
        "{text}"
    );
    assert!(text.contains("spf=") && text.contains("dkim=none") && text.contains("\r\nReceived: from "), "{text}");
    // lettre ends DATA with CRLF.CRLF after the text, adding one CRLF of its own.
    assert!(text.ends_with(&format!("{body}\r\n")), "the message itself is stored byte for byte: {text}");
}

/// The same Send on Behalf through Python's smtplib: a second, independent client.
#[test]
fn python_smtplib_sends_on_behalf() {
    let (_dir, sink, server) = org("python");
    server.shell("Set-Mailbox -Identity mary -GrantSendOnBehalfTo rob").expect_ok();
    let script = format!(
        r#"
import smtplib, sys
from email.message import EmailMessage
m = EmailMessage()
m["From"] = "Mary Smith <mary@contoso.test>"
m["To"] = "partner@fabrikam.test"
m["Subject"] = "from python"
m.set_content("hi")
with smtplib.SMTP("{host}", {port}) as s:
    s.login("rob@contoso.test", "{ROB_PW}")
    s.send_message(m, from_addr="rob@contoso.test")
    m.replace_header("Subject", "denied")
    m.replace_header("From", "someone@contoso.test")
    try:
        s.send_message(m, from_addr="rob@contoso.test")
        sys.exit("the second send should have been refused")
    except smtplib.SMTPRecipientsRefused as e:
        sys.exit("unexpected: %r" % e)
    except smtplib.SMTPDataError as e:
        print(e.smtp_code, e.smtp_error.decode())
"#,
        host = server.submission.ip(),
        port = server.submission.port(),
    );
    let out = std::process::Command::new("python3").args(["-c", &script]).output().expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("550") && stdout.contains("5.7.60"), "{stdout}");
    let got = sink.wait_for(1);
    assert!(got[0].header("Sender").unwrap_or_default().contains("rob@contoso.test"));
}
