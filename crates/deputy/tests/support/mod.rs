//! Starting the real `deputy` binary on loopback, and driving it with `deputy shell`.
#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]
#![allow(dead_code, reason = "each test binary uses a different part of this module")]

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub mod cluster;
pub mod forests;
pub mod graph;
pub mod python;
pub mod sink;

pub const PASSWORD: &str = "Adm1n!Pass";
pub const BIN: &str = env!("CARGO_BIN_EXE_deputy");

/// A data directory removed at the end of the test.
pub struct TempDir(pub PathBuf);
impl TempDir {
    pub fn new(name: &str) -> Self {
        let n =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock after 1970").as_nanos();
        Self(std::env::temp_dir().join(format!("deputy-e2e-{name}-{}-{n}", std::process::id())))
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A loopback port nobody is listening on right now, for a test that must
/// know a server's port before starting it (a peer's URL, a relay target).
///
/// Taken below Linux's ephemeral range (32768–60999), from a sequence of this
/// process's own: a port the kernel hands to `bind(…:0)` or to an outgoing
/// connection of another test running meanwhile would be taken by the time
/// the server binds it ("Address already in use").
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    const LOW: u16 = 20_000;
    const SPAN: u16 = 12_000;
    static NEXT: AtomicU16 = AtomicU16::new(0);
    // Processes start at different places, so two test binaries rarely meet.
    let start = (std::process::id() % u32::from(SPAN)) as u16;
    for _ in 0..SPAN {
        let offset = (start + NEXT.fetch_add(1, Ordering::Relaxed) % SPAN) % SPAN;
        let port = LOW + offset;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port between {LOW} and {}", LOW + SPAN)
}

/// `deputy init`.
pub fn init(dir: &Path, domain: &str) -> Output {
    Command::new(BIN)
        .args(["init", "--data"])
        .arg(dir)
        .args(["--domain", domain, "--admin-password", PASSWORD])
        .output()
        .expect("run deputy init")
}

/// A running `deputy serve`.
pub struct Server {
    pub child: Child,
    pub url: String,
    /// Inbound SMTP.
    pub smtp: SocketAddr,
    /// SMTP submission.
    pub submission: SocketAddr,
    /// IMAP.
    pub imap: SocketAddr,
    pub stdout: Vec<String>,
}

/// `name=ADDR` from the ready line.
fn listener(ready: &str, name: &str) -> SocketAddr {
    ready
        .split_whitespace()
        .find_map(|w| w.strip_prefix(name).and_then(|w| w.strip_prefix('=')))
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no {name}= in the ready line: {ready}"))
}

impl Server {
    /// Starts `deputy serve` with every listener on a free loopback port and waits for its ready line.
    pub fn start(dir: &Path) -> Self {
        Self::start_with(dir, &[])
    }

    pub fn start_with(dir: &Path, extra: &[&str]) -> Self {
        // Every listener on a free port unless the test chose one.
        let defaults = ["--http", "--smtp", "--submission", "--imap"]
            .into_iter()
            .filter(|flag| !extra.iter().any(|e| e.split('=').next() == Some(*flag)))
            .map(|flag| format!("{flag}=127.0.0.1:0"));
        let mut child = Command::new(BIN)
            .args(["serve", "--data"])
            .arg(dir)
            .args(defaults)
            // Tests reach nothing beyond loopback, DNS included.
            .arg("--dns=none")
            .args(extra)
            .env("DEPUTY_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn deputy serve");
        let mut lines = Vec::new();
        let mut reader = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let deadline = Instant::now() + Duration::from_secs(60);
        let ready = loop {
            let mut line = String::new();
            let n = reader.read_line(&mut line).expect("read server stdout");
            assert!(n > 0, "deputy serve exited before it was ready: {lines:?}");
            let line = line.trim_end().to_owned();
            lines.push(line.clone());
            if line.starts_with("deputy ready") {
                break line;
            }
            assert!(Instant::now() < deadline, "deputy serve not ready in time");
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in reader.lines() {});
        Self {
            child,
            url: format!("http://{}", listener(&ready, "http")),
            smtp: listener(&ready, "smtp"),
            submission: listener(&ready, "submission"),
            imap: listener(&ready, "imap"),
            stdout: lines,
        }
    }

    /// `deputy shell -c SCRIPT` as the administrator.
    pub fn shell(&self, script: &str) -> Shell {
        self.shell_as("admin", PASSWORD, script)
    }

    pub fn shell_as(&self, user: &str, password: &str, script: &str) -> Shell {
        let out = Command::new(BIN)
            .args(["shell", "--server", &self.url, "--user", user, "--password", password, "-c", script])
            .output()
            .expect("run deputy shell");
        Shell::from(out)
    }

    /// Parses `SCRIPT | ConvertTo-Json` output as a JSON array (one object becomes `[obj]`).
    pub fn json(&self, script: &str) -> Vec<serde_json::Value> {
        let out = self.shell(&format!("{script} | ConvertTo-Json -Depth 4"));
        assert!(out.ok, "{script} failed: {}", out.stderr);
        if out.stdout.trim().is_empty() {
            return Vec::new();
        }
        match serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", out.stdout)) {
            serde_json::Value::Array(a) => a,
            v => vec![v],
        }
    }

    /// Stops with SIGTERM and waits.
    pub fn stop(mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a `deputy shell` run printed.
#[derive(Debug)]
pub struct Shell {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Shell {
    fn from(o: Output) -> Self {
        Self {
            ok: o.status.success(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Shell {
    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn expect_ok(self) -> String {
        assert!(self.ok, "shell failed:\nstdout: {}\nstderr: {}", self.stdout, self.stderr);
        self.stdout
    }

    /// Asserts failure and returns stderr.
    #[track_caller]
    pub fn expect_err(self) -> String {
        assert!(!self.ok, "shell should have failed:\nstdout: {}", self.stdout);
        self.stderr
    }
}

impl Server {
    /// `ItemsInFolder` of one well-known folder (`Inbox`, `SentItems`, …) of `mailbox`.
    #[track_caller]
    pub fn items(&self, mailbox: &str, scope: &str) -> i64 {
        let rows = self.json(&format!("Get-MailboxFolderStatistics -Identity '{mailbox}' -FolderScope {scope}"));
        rows.first().and_then(|r| r["ItemsInFolder"].as_i64()).unwrap_or_else(|| panic!("no {scope} row: {rows:?}"))
    }
}

/// One raw HTTP/1.1 request with Basic credentials, for doors a test must
/// see byte for byte (CalDAV's methods and headers): the status and the
/// whole answer, header section included.
pub fn basic_request(
    server: &Server,
    (login, password): (&str, &str),
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    use base64::Engine as _;
    use std::io::{Read, Write};
    let authority = server.url.trim_start_matches("http://");
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{login}:{password}"));
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Basic {auth}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let mut stream = std::net::TcpStream::connect(authority).expect("connect");
    stream.write_all(format!("{head}\r\n{body}").as_bytes()).expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, answer)
}
