//! Two forests on loopback for the hybrid tests (spec §9): `onprem` and
//! `cloud`, both `contoso.test`, each relaying mail for the other's routing
//! domain to the other's inbound SMTP, configured with one shared secret.

use super::{BIN, Server, TempDir, free_port, init};
use base64::Engine as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const SECRET: &str = "s3cret-shared-between-forests";

/// One forest: its data directory, fixed ports (so a restart keeps them) and server.
pub struct Forest {
    pub name: &'static str,
    pub role: &'static str,
    pub dir: TempDir,
    pub http: u16,
    pub smtp: u16,
    pub relay_to: u16,
    pub server: Option<Server>,
}

impl Forest {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http)
    }

    pub fn server(&self) -> &Server {
        self.server.as_ref().expect("the forest is running")
    }

    pub fn start(&mut self) {
        let http = format!("--http=127.0.0.1:{}", self.http);
        let smtp = format!("--smtp=127.0.0.1:{}", self.smtp);
        let relay = format!("--relay-host=127.0.0.1:{}", self.relay_to);
        self.server = Some(Server::start_with(&self.dir.0, &[&http, &smtp, &relay]));
    }

    pub fn stop(&mut self) {
        if let Some(s) = self.server.take() {
            s.stop();
        }
    }

    /// SIGKILL the server: no shutdown, no flush, as a crash.
    pub fn kill(&mut self) {
        if let Some(mut s) = self.server.take() {
            let _ = s.child.kill();
            let _ = s.child.wait();
        }
    }

    pub fn data(&self) -> &Path {
        &self.dir.0
    }
}

/// The pair, with the secret file.
pub struct Pair {
    pub onprem: Forest,
    pub cloud: Forest,
    pub secret: TempDir,
}

impl Pair {
    pub fn secret_file(&self) -> PathBuf {
        self.secret.0.join("secret")
    }

    /// `deputy hybrid configure` for `forest` with extra flags (`--writeback`, `--sync-send-as`, …).
    pub fn configure(&self, cloud: bool, extra: &[&str]) {
        self.configure_secret(cloud, &self.secret_file(), extra);
    }

    /// Like [`Self::configure`], with another secret file.
    pub fn configure_secret(&self, cloud: bool, secret: &Path, extra: &[&str]) {
        let (me, peer) = if cloud { (&self.cloud, &self.onprem) } else { (&self.onprem, &self.cloud) };
        let out = Command::new(BIN)
            .args(["hybrid", "configure", "--data"])
            .arg(me.data())
            .args(["--forest", me.name, "--role", me.role, "--local-url", &me.url(), "--peer-url", &peer.url()])
            .arg("--secret-file")
            .arg(secret)
            .args(["--routing-domain", &format!("{}.contoso.test", me.name)])
            .args(["--peer-routing-domain", &format!("{}.contoso.test", peer.name)])
            .args(extra)
            .output()
            .expect("run deputy hybrid configure");
        assert!(out.status.success(), "configure: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// Two initialized, configured and running forests; `extra` goes to both configurations.
pub fn pair(test: &str, extra: &[&str]) -> Pair {
    let secret = TempDir::new(&format!("{test}-secret"));
    std::fs::create_dir_all(&secret.0).expect("secret dir");
    std::fs::write(secret.0.join("secret"), format!("{SECRET}\n")).expect("write the secret");
    let (onprem_smtp, cloud_smtp) = (free_port(), free_port());
    let forest = |name, role, smtp, relay_to| {
        let dir = TempDir::new(&format!("{test}-{name}"));
        assert!(init(&dir.0, "contoso.test").status.success());
        Forest { name, role, dir, http: free_port(), smtp, relay_to, server: None }
    };
    let mut p = Pair {
        onprem: forest("onprem", "onprem", onprem_smtp, cloud_smtp),
        cloud: forest("cloud", "cloud", cloud_smtp, onprem_smtp),
        secret,
    };
    p.configure(false, extra);
    p.configure(true, extra);
    p.onprem.start();
    p.cloud.start();
    p
}

/// `deputy hybrid sync --data DIR --once` into `forest`.
pub fn sync(forest: &Forest) -> Output {
    Command::new(BIN).args(["hybrid", "sync", "--once", "--data"]).arg(forest.data()).output().expect("run sync")
}

/// A sync that must succeed; its stdout.
#[track_caller]
pub fn sync_ok(forest: &Forest) -> String {
    let out = sync(forest);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "sync into {} failed:\n{stdout}\n{}",
        forest.name,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `Get-Recipient -ResultSize Unlimited` of a forest, as JSON objects.
pub fn recipients(forest: &Forest) -> Vec<serde_json::Value> {
    forest.server().json("Get-Recipient -ResultSize Unlimited")
}

/// Runs Python `body` with `M`, an imaplib client of `forest`'s IMAP signed in
/// as `login` (`user\mailbox` for Exchange's shared-mailbox form); its stdout.
#[track_caller]
pub fn imap(forest: &Forest, login: &str, password: &str, body: &str) -> String {
    let login = if login.contains('\\') { format!("\"{}\"", login.replace('\\', "\\\\")) } else { login.into() };
    let port = forest.server().imap.port();
    let script = format!(
        "import imaplib\nM = imaplib.IMAP4('127.0.0.1', {port})\nM.login({login:?}, '{password}')\n{body}\nM.logout()\n"
    );
    let out = Command::new("python3").args(["-c", &script]).output().expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// Both forests synced until neither has anything left to change.
#[track_caller]
pub fn converge(pair: &Pair) {
    for _ in 0..3 {
        sync_ok(&pair.onprem);
        sync_ok(&pair.cloud);
    }
    for forest in [&pair.onprem, &pair.cloud] {
        let out = sync_ok(forest);
        assert!(out.contains("up to date") || out.contains(" 0 change(s)"), "{}: {out}", forest.name);
    }
}

/// Outlook's Autodiscover request for `address`, signed in as `user`.
pub fn autodiscover(forest: &Forest, user: &str, password: &str, address: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let body = format!(
        "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">\
         <Request><EMailAddress>{address}</EMailAddress></Request></Autodiscover>"
    );
    let mut resp = agent
        .post(&format!("{}/autodiscover/autodiscover.xml", forest.url()))
        .header("Authorization", &format!("Basic {auth}"))
        .send(body)
        .expect("request");
    (resp.status().as_u16(), resp.body_mut().read_to_string().unwrap_or_default())
}
