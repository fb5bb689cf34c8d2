//! Two `deputy serve` nodes on one PostgreSQL schema (issue 7), a raw SMTP
//! client that reports exactly what the server answered, and reading a
//! mailbox's subjects over IMAP.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use base64::Engine;

use super::{BIN, PASSWORD, Server, TempDir};

/// The password of every mailbox [`Cluster::start`] makes.
pub const PW: &str = "Str0ng!Passw0rd";

/// A schema of the test's own, dropped (with everything in it) even when the test fails.
pub struct Schema {
    pub url: String,
    pub name: String,
}

impl Drop for Schema {
    fn drop(&mut self) {
        let _ = std::process::Command::new("psql")
            .args([&self.url, "-q", "-c", &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name)])
            .output();
    }
}

/// Nodes A and B on one schema, with Mary, Rob and Megan made through A.
pub struct Cluster {
    // Fields drop in order: the servers stop before the schema is dropped.
    pub a: Server,
    pub b: Server,
    pub dirs: (TempDir, TempDir),
    pub schema: Schema,
}

impl Cluster {
    /// Starts A and B on a new schema named after `tag`, each with `extra`
    /// flags and `--hostname a.contoso.test` / `b.contoso.test`; `None` when
    /// `DEPUTY_TEST_POSTGRES` is unset (the caller prints why it did not run).
    pub fn start(tag: &str, extra: &[&str]) -> Option<Self> {
        let url = std::env::var("DEPUTY_TEST_POSTGRES").ok()?;
        let name = format!("deputy_{tag}_{}_{}", std::process::id(), chrono::Utc::now().timestamp_micros());
        let schema = Schema { url: url.clone(), name };
        let store = format!("{url}?schema={}", schema.name);
        let dirs = (TempDir::new(&format!("{tag}-a")), TempDir::new(&format!("{tag}-b")));
        let init = std::process::Command::new(BIN)
            .args(["init", "--data"])
            .arg(&dirs.0.0)
            .args(["--domain", "contoso.test", "--admin-password", PASSWORD, "--store", &store])
            .output()
            .expect("deputy init");
        assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
        let flags = |host: &'static str| {
            let mut f = vec!["--store", store.as_str(), "--hostname", host];
            f.extend_from_slice(extra);
            f
        };
        let a = Server::start_with(&dirs.0.0, &flags("a.contoso.test"));
        let b = Server::start_with(&dirs.1.0, &flags("b.contoso.test"));
        let mut script = String::new();
        for (name, alias) in [("Mary Smith", "mary"), ("Rob Jones", "rob"), ("Megan Bowen", "megan")] {
            script.push_str(&format!(
                "New-Mailbox -Name '{name}' -Alias {alias} -Password (ConvertTo-SecureString '{PW}' -AsPlainText -Force)\n"
            ));
        }
        a.shell(&script).expect_ok();
        Some(Self { a, b, dirs, schema })
    }

    /// The `LIKE` pattern matching every connection of this cluster's nodes
    /// (and no other test's: `_` is escaped).
    pub fn connections(&self) -> String {
        format!("deputy/{}/%", self.schema.name.replace('_', "\\_"))
    }

    /// Runs one SQL statement with `psql` on the test database; its unaligned output.
    pub fn psql(&self, sql: &str) -> Result<String, String> {
        let out = std::process::Command::new("psql")
            .args([&self.schema.url, "-qtA", "-c", sql])
            .output()
            .map_err(|e| format!("psql: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }
}

/// How one SMTP submission ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// `250` to the end of data: the server says it is stored.
    Accepted,
    /// A `4xx` reply, or the connection dropped. `after_data` says whether the
    /// message's final dot had been sent, i.e. whether it may have been stored.
    Temporary { reply: String, after_data: bool },
    /// A `5xx` reply, or an answer no SMTP server gives.
    Permanent(String),
}

/// Submits one message as Rob (AUTH PLAIN) on `addr` to `to`, speaking SMTP
/// by hand so that every reply code is seen as the server sent it.
pub fn submit_raw(addr: SocketAddr, to: &str, subject: &str, message_id: &str) -> Sent {
    let mut after_data = false;
    match session(addr, to, subject, message_id, &mut after_data) {
        Ok(()) => Sent::Accepted,
        Err(reply) if reply.starts_with('4') || reply.starts_with("io:") => Sent::Temporary { reply, after_data },
        Err(reply) => Sent::Permanent(reply),
    }
}

fn session(addr: SocketAddr, to: &str, subject: &str, message_id: &str, after_data: &mut bool) -> Result<(), String> {
    let io = |e: std::io::Error| format!("io: {e}");
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).map_err(io)?;
    stream.set_read_timeout(Some(Duration::from_secs(60))).map_err(io)?;
    let mut out = stream.try_clone().map_err(io)?;
    let mut input = BufReader::new(stream);
    let expect = |input: &mut BufReader<TcpStream>, want: char| -> Result<(), String> {
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            if input.read_line(&mut line).map_err(io)? == 0 {
                return Err(format!("io: connection closed after {reply:?}"));
            }
            reply.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                break;
            }
        }
        if reply.starts_with(want) { Ok(()) } else { Err(reply.trim_end().to_owned()) }
    };
    let credentials = base64::engine::general_purpose::STANDARD.encode(format!("\0rob@contoso.test\0{PW}"));
    expect(&mut input, '2')?;
    for (command, want) in [
        ("EHLO client.test".to_owned(), '2'),
        (format!("AUTH PLAIN {credentials}"), '2'),
        ("MAIL FROM:<rob@contoso.test>".to_owned(), '2'),
        (format!("RCPT TO:<{to}>"), '2'),
        ("DATA".to_owned(), '3'),
    ] {
        out.write_all(format!("{command}\r\n").as_bytes()).map_err(io)?;
        expect(&mut input, want)?;
    }
    let message = format!(
        "From: Rob Jones <rob@contoso.test>\r\nTo: <{to}>\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n\r\nHello.\r\n.\r\n"
    );
    *after_data = true;
    out.write_all(message.as_bytes()).map_err(io)?;
    expect(&mut input, '2')?;
    let _ = out.write_all(b"QUIT\r\n");
    Ok(())
}

/// The subjects in `user`'s INBOX, read over IMAP on `server`, in UID order.
pub fn inbox_subjects(server: &Server, user: &str) -> Vec<String> {
    let script = format!(
        "import imaplib\nM = imaplib.IMAP4('{}', {})\nM.login('{user}', '{PW}')\ntyp, n = M.select('INBOX', readonly=True)\n\
         if int(n[0]) > 0:\n    typ, data = M.fetch('1:*', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')\n\
         \x20   for item in data:\n        if isinstance(item, tuple):\n\
         \x20           for line in item[1].decode().splitlines():\n\
         \x20               if line.lower().startswith('subject:'):\n                    print(line.split(':', 1)[1].strip())\n\
         M.logout()\n",
        server.imap.ip(),
        server.imap.port()
    );
    let out = std::process::Command::new("python3").args(["-c", &script]).output().expect("python3");
    assert!(out.status.success(), "reading {user}'s INBOX: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
}
