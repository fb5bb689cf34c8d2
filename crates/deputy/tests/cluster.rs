//! Two `deputy serve` nodes on one PostgreSQL (issue 7): a grant made through
//! one node applies on the other's very next request, on every door. Runs when
//! `DEPUTY_TEST_POSTGRES` holds a connection URL (CI sets it), each run in a
//! schema of its own that is dropped at the end.

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::{SmtpTransport, Transport};
use serde_json::json;
use support::graph::{SHARED, call, mail, user_token};
use support::{BIN, PASSWORD, Server, TempDir};

const PW: &str = "Str0ng!Passw0rd";

/// Drops the test's schema even when the test fails.
struct Schema {
    url: String,
    name: String,
}

impl Drop for Schema {
    fn drop(&mut self) {
        let _ = std::process::Command::new("psql")
            .args([&self.url, "-q", "-c", &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name)])
            .output();
    }
}

fn submit(server: &Server, from: &str, to: &str, subject: &str) -> Result<(), String> {
    let transport = SmtpTransport::builder_dangerous(server.submission.ip().to_string())
        .port(server.submission.port())
        .credentials(Credentials::new("rob@contoso.test".into(), PW.into()))
        .authentication(vec![Mechanism::Plain])
        .build();
    let envelope = Envelope::new(
        Some("rob@contoso.test".parse().map_err(|e| format!("{e}"))?),
        vec![to.parse().map_err(|e| format!("{e}"))?],
    )
    .map_err(|e| e.to_string())?;
    let raw = format!("From: {from}\r\nTo: <{to}>\r\nSubject: {subject}\r\n\r\nHello.\r\n");
    transport.send_raw(&envelope, raw.as_bytes()).map(|_| ()).map_err(|e| e.to_string())
}

#[test]
fn two_nodes_share_grants_mail_and_the_queue() {
    let Ok(url) = std::env::var("DEPUTY_TEST_POSTGRES") else {
        eprintln!("DEPUTY_TEST_POSTGRES is not set: the cluster test did not run");
        return;
    };
    let name = format!("deputy_cluster_{}_{}", std::process::id(), chrono::Utc::now().timestamp_micros());
    let schema = Schema { url: url.clone(), name: name.clone() };
    let store = format!("{url}?schema={}", schema.name);
    let (a_dir, b_dir) = (TempDir::new("cluster-a"), TempDir::new("cluster-b"));
    let init = std::process::Command::new(BIN)
        .args(["init", "--data"])
        .arg(&a_dir.0)
        .args(["--domain", "contoso.test", "--admin-password", PASSWORD, "--store", &store])
        .output()
        .expect("deputy init");
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    // B starts with no keys of its own copied: it makes some, then adopts the
    // ones A stored, so both sign and check with the same keys.
    let a = Server::start_with(&a_dir.0, &["--store", &store]);
    let b = Server::start_with(&b_dir.0, &["--store", &store]);
    for key in ["tls/cert.pem", "tls/key.pem", "dkim/rsa.pem", "tokens/es256.pk8"] {
        let (ka, kb) =
            (std::fs::read(a_dir.0.join(key)).expect("A's key"), std::fs::read(b_dir.0.join(key)).expect("B's key"));
        assert!(ka == kb, "{key} differs between the nodes");
    }

    let mut script = String::new();
    for (name, alias) in [("Mary Smith", "mary"), ("Rob Jones", "rob"), ("Megan Bowen", "megan")] {
        script.push_str(&format!(
            "New-Mailbox -Name '{name}' -Alias {alias} -Password (ConvertTo-SecureString '{PW}' -AsPlainText -Force)\n"
        ));
    }
    a.shell(&script).expect_ok();

    // Granted through A's shell, used at once through B's SMTP submission.
    a.shell("Set-Mailbox mary -GrantSendOnBehalfTo rob").expect_ok();
    submit(&b, "Mary Smith <mary@contoso.test>", "megan@contoso.test", "through B").expect("B sees A's grant");
    assert_eq!(a.items("megan", "Inbox"), 1, "A sees the mail B stored");

    // Removed through B's shell: Rob's next Graph send on A is refused.
    let rob = user_token(&a, "rob@contoso.test", PW, SHARED);
    let body = json!({"message": mail("through A", "megan@contoso.test", Some("mary@contoso.test"))});
    assert_eq!(call(&a, "POST", "me/sendMail", &rob, Some(&body)).0, 202);
    b.shell("Set-Mailbox mary -GrantSendOnBehalfTo @{Remove='rob'}").expect_ok();
    let (status, answer) = call(&a, "POST", "me/sendMail", &rob, Some(&body));
    assert_eq!((status, answer["error"]["code"].as_str()), (403, Some("ErrorSendAsDenied")), "{answer}");
    let smtp = submit(&b, "Mary Smith <mary@contoso.test>", "megan@contoso.test", "refused");
    assert!(smtp.expect_err("refused on B too").contains("5.7.60"));
    // A token issued by one node works on the other.
    let (status, _) = call(&b, "GET", "me/mailFolders/inbox/messages", &rob, None);
    assert_eq!(status, 200);

    // A message delivered through A is read over IMAP on B, and an IMAP
    // UNSUBSCRIBE made on A (stored, not held by A) shows in B's LSUB.
    let megan = user_token(&a, "megan@contoso.test", PW, SHARED);
    let note = json!({"message": mail("for Mary via A", "mary@contoso.test", None)});
    assert_eq!(call(&a, "POST", "me/sendMail", &megan, Some(&note)).0, 202);
    let as_mary = |node: &Server, body: &str| {
        let script = format!(
            "import imaplib\nM = imaplib.IMAP4('{}', {})\nM.login('mary@contoso.test', '{PW}')\n{body}\nM.logout()\n",
            node.imap.ip(),
            node.imap.port()
        );
        let out = std::process::Command::new("python3").args(["-c", &script]).output().expect("python3");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{text} {}", String::from_utf8_lossy(&out.stderr));
        text
    };
    let text = as_mary(&a, "print('UNSUB', M.unsubscribe('\"Deleted Items\"'))");
    assert!(text.contains("UNSUB ('OK'"), "{text}");
    let text = as_mary(
        &b,
        "M.select('INBOX')\ntyp, data = M.fetch('1:*', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')\nprint(data)\n\
         print('LSUB', M.lsub())",
    );
    assert!(text.contains("for Mary via A"), "{text}");
    let lsub = text.split("LSUB (").nth(1).unwrap_or_default();
    assert!(lsub.contains("Sent Items") && !lsub.contains("Deleted Items"), "B sees A's UNSUBSCRIBE: {text}");
    drop(schema);
}

/// Reads one IMAP line from `input`.
fn imap_line(input: &mut std::io::BufReader<std::net::TcpStream>) -> String {
    use std::io::BufRead;
    let mut line = String::new();
    input.read_line(&mut line).expect("an IMAP line in time");
    line
}

/// Sends `command` tagged `tag` and reads up to its tagged `OK`.
fn imap(out: &mut std::net::TcpStream, input: &mut std::io::BufReader<std::net::TcpStream>, tag: &str, command: &str) {
    use std::io::Write;
    out.write_all(format!("{tag} {command}\r\n").as_bytes()).expect("send an IMAP command");
    loop {
        let line = imap_line(input);
        if line.starts_with(&format!("{tag} ")) {
            assert!(line.starts_with(&format!("{tag} OK")), "{command}: {line}");
            return;
        }
    }
}

#[test]
fn idle_on_one_node_sees_mail_delivered_through_the_other() {
    use std::io::Write;
    let Some(cluster) = support::cluster::Cluster::start("idle", &[]) else {
        eprintln!("DEPUTY_TEST_POSTGRES is not set: the cluster IDLE test did not run");
        return;
    };
    let stream = std::net::TcpStream::connect(cluster.b.imap).expect("connect to B's IMAP");
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).expect("read timeout");
    let mut out = stream.try_clone().expect("clone the stream");
    let mut input = std::io::BufReader::new(stream);
    assert!(imap_line(&mut input).starts_with("* OK"));
    imap(&mut out, &mut input, "a", &format!("LOGIN megan@contoso.test \"{PW}\""));
    imap(&mut out, &mut input, "b", "SELECT INBOX");
    out.write_all(b"c IDLE\r\n").expect("IDLE");
    assert!(imap_line(&mut input).starts_with('+'), "IDLE was not accepted");

    // Delivered from outside through A's inbound SMTP port.
    let mx = SmtpTransport::builder_dangerous(cluster.a.smtp.ip().to_string()).port(cluster.a.smtp.port()).build();
    let envelope = Envelope::new(
        Some("someone@elsewhere.test".parse().expect("address")),
        vec!["megan@contoso.test".parse().expect("address")],
    )
    .expect("envelope");
    let started = std::time::Instant::now();
    mx.send_raw(
        &envelope,
        b"From: <someone@elsewhere.test>\r\nTo: <megan@contoso.test>\r\nSubject: via A\r\n\r\nHi.\r\n",
    )
    .expect("A accepts the message");
    let line = imap_line(&mut input);
    assert_eq!(line.trim_end(), "* 1 EXISTS", "B's IDLE after {:?}", started.elapsed());
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "B's IDLE took {:?}", started.elapsed());
    out.write_all(b"DONE\r\n").expect("DONE");
    assert!(imap_line(&mut input).starts_with("c OK"));
}
