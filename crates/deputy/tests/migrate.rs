//! `deputy migrate` end to end (issue 7 item 4): a data directory filled by
//! the real server over the shell and SMTP is copied into a fresh PostgreSQL
//! schema, verified, and a second copy into the now filled schema is refused.
//! Runs when `DEPUTY_TEST_POSTGRES` holds a URL.

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::{SmtpTransport, Transport};
use std::process::{Command, Output};
use support::{BIN, Server, TempDir, free_port, init};

const VAR: &str = "DEPUTY_TEST_POSTGRES";
const ROB_PW: &str = "R0b!Passw0rd";

fn migrate(dir: &TempDir, url: &str, schema: &str) -> Output {
    Command::new(BIN)
        .args(["migrate", "--from"])
        .arg(&dir.0)
        .args(["--to", url, "--schema", schema])
        .output()
        .expect("run deputy migrate")
}

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Rob submits a message to `to` over SMTP submission.
fn send(server: &Server, to: &[&str], subject: &str) {
    let rcpts = to.iter().map(|t| t.parse().expect("an address")).collect();
    let envelope = Envelope::new(Some("rob@contoso.test".parse().expect("an address")), rcpts).expect("an envelope");
    let raw = format!(
        "From: rob@contoso.test\r\nTo: {}\r\nSubject: {subject}\r\nMessage-ID: <{}@client.test>\r\n\r\nHello.\r\n",
        to.join(", "),
        subject.replace(' ', "-")
    );
    SmtpTransport::builder_dangerous(server.submission.ip().to_string())
        .port(server.submission.port())
        .credentials(Credentials::new("rob@contoso.test".into(), ROB_PW.into()))
        .authentication(vec![Mechanism::Plain])
        .build()
        .send_raw(&envelope, raw.as_bytes())
        .expect("the submission is accepted");
}

/// Drops `schema` with everything in it.
fn drop_schema(url: &str, schema: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.expect("connect");
        tokio::spawn(connection);
        client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")).await.expect("drop the schema");
    });
}

/// The (source, target) counts of one row of the report.
fn counts(report: &str, kind: &str) -> (u64, u64) {
    let line = report.lines().find(|l| l.starts_with(kind)).unwrap_or_else(|| panic!("no {kind} row:\n{report}"));
    let numbers: Vec<u64> = line[kind.len()..].split_whitespace().filter_map(|w| w.parse().ok()).collect();
    assert!(line.ends_with(" ok"), "{kind} differs:\n{report}");
    (numbers[0], numbers[1])
}

#[test]
fn a_data_directory_moves_into_postgres_and_a_filled_target_is_refused() {
    let url = match std::env::var(VAR) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => {
            eprintln!(
                "{VAR} is not set: the PostgreSQL test of deputy migrate was not run (it passes without running)"
            );
            return;
        }
    };
    let dir = TempDir::new("migrate");
    assert!(init(&dir.0, "contoso.test").status.success());
    // Remote mail stays queued: nothing listens at the relay host.
    let relay = format!("127.0.0.1:{}", free_port());
    let server = Server::start_with(&dir.0, &["--relay-host", &relay]);
    server
        .shell(&format!(
            r#"
New-Mailbox -Name "Mary Smith" -Alias mary -Password (ConvertTo-SecureString -String 'M4ry!Passw0rd' -AsPlainText -Force)
New-Mailbox -Name "Rob Jones" -Alias rob -Password (ConvertTo-SecureString -String '{ROB_PW}' -AsPlainText -Force)
New-DistributionGroup -Name Helpers -Alias helpers -Type Security -Members rob
Add-MailboxPermission -Identity mary -User helpers -AccessRights FullAccess
Set-Mailbox -Identity mary -GrantSendOnBehalfTo @{{Add='rob'}}
"#
        ))
        .expect_ok();
    send(&server, &["mary@contoso.test"], "local one");
    send(&server, &["mary@contoso.test", "partner@fabrikam.test"], "local and remote");
    send(&server, &["partner@fabrikam.test"], "remote only");

    let schema = format!("deputy_migrate_{}", std::process::id());
    // While the server runs, the source is in use and nothing is copied.
    let busy = migrate(&dir, &url, &schema);
    let (_, stderr) = text(&busy);
    assert_eq!(busy.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("stop it first"), "{stderr}");
    server.stop();

    let first = migrate(&dir, &url, &schema);
    let (report, stderr) = text(&first);
    let second = migrate(&dir, &url, &schema);
    drop_schema(&url, &schema);
    assert_eq!(first.status.code(), Some(0), "{report}\n{stderr}");
    assert!(report.contains("The copy matches the source"), "{report}");
    let (recipients, _) = counts(&report, "recipients");
    assert!(recipients >= 4, "admin, mary, rob and helpers:\n{report}");
    assert_eq!(counts(&report, "memberships"), (1, 1), "{report}");
    assert_eq!(counts(&report, "mailbox permissions"), (1, 1), "{report}");
    let (entries, _) = counts(&report, "folder entries");
    assert!(entries >= 5, "two in Mary's Inbox, three in Rob's Sent Items:\n{report}");
    let (bodies, _) = counts(&report, "bodies");
    assert_eq!(bodies, 3, "one body per message, however many folders show it:\n{report}");
    assert_eq!(counts(&report, "queue entries"), (2, 2), "{report}");
    assert!(report.lines().any(|l| l.starts_with("checksum") && l.ends_with(" ok")), "{report}");

    let (_, stderr) = text(&second);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("not empty"), "{stderr}");
}
