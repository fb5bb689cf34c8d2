//! Shared scaffolding for the SMTP tests: a fake handler, a server on
//! `127.0.0.1:0`, a raw line client, and a throwaway TLS certificate.

#![allow(dead_code, reason = "each test file uses a different part of the scaffolding")]
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use deputy_smtp::rustls::{self, pki_types};
use deputy_smtp::{Config, Envelope, Handler, Mode, Reply, SessionInfo, SignIn};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Accepts `@local.test` recipients, signs in `rob`/`pw`, keeps messages in memory.
#[derive(Default)]
pub struct FakeHandler {
    pub messages: Mutex<Vec<(Envelope, Vec<u8>)>>,
    pub auth_calls: AtomicUsize,
    /// Makes `data` take this long (to test shutdown during a message).
    pub data_delay: Mutex<Option<Duration>>,
}

impl FakeHandler {
    pub fn messages(&self) -> Vec<(Envelope, Vec<u8>)> {
        self.messages.lock().unwrap().clone()
    }

    pub fn bodies(&self) -> Vec<Vec<u8>> {
        self.messages().into_iter().map(|(_, body)| body).collect()
    }

    pub fn auth_calls(&self) -> usize {
        self.auth_calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Handler for FakeHandler {
    type Principal = String;

    async fn authenticate(&self, user: &str, password: &str) -> SignIn<String> {
        self.auth_calls.fetch_add(1, Ordering::SeqCst);
        if user == "unavailable" {
            return SignIn::TryLater;
        }
        (user == "rob" && password == "pw").then(|| user.to_owned()).into()
    }

    async fn mail_from(&self, _session: &SessionInfo<String>, from: &str) -> Result<(), Reply> {
        if from.ends_with("@blocked.test") {
            return Err(Reply::new(550, "5.7.1", "Sender blocked"));
        }
        Ok(())
    }

    async fn rcpt_to(&self, _session: &SessionInfo<String>, _envelope: &Envelope, rcpt: &str) -> Result<(), Reply> {
        if rcpt.ends_with("@local.test") || rcpt == "postmaster" {
            Ok(())
        } else {
            Err(Reply::new(550, "5.7.1", "Relaying denied"))
        }
    }

    async fn data(&self, _session: &SessionInfo<String>, envelope: &Envelope, message: Vec<u8>) -> Reply {
        let delay = *self.data_delay.lock().unwrap();
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        self.messages.lock().unwrap().push((envelope.clone(), message));
        Reply::new(250, "2.0.0", "Queued")
    }
}

/// A test configuration: hostname `mx.test`.
pub fn config(mode: Mode) -> Config {
    Config::new("mx.test", mode)
}

/// A server running on `127.0.0.1:0`.
pub struct TestServer {
    pub addr: SocketAddr,
    pub handler: Arc<FakeHandler>,
    stop: Option<oneshot::Sender<()>>,
    pub task: JoinHandle<()>,
}

impl TestServer {
    pub async fn start(config: Config) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let handler = Arc::new(FakeHandler::default());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(deputy_smtp::serve(listener, Arc::new(config), handler.clone(), async move {
            let _ = stopped.await;
        }));
        TestServer { addr, handler, stop: Some(stop), task }
    }

    /// Signals shutdown (the task ends once sessions are done).
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    pub async fn connect(&self) -> Client<TcpStream> {
        Client::new(TcpStream::connect(self.addr).await.unwrap())
    }

    /// Connects, reads the greeting and says EHLO.
    pub async fn ready(&self) -> Client<TcpStream> {
        let mut client = self.connect().await;
        client.expect("220 mx.test ESMTP Deputy").await;
        client.cmd("EHLO client.test", "250").await;
        client
    }
}

/// A line-oriented SMTP client that checks replies.
pub struct Client<S> {
    pub io: BufReader<S>,
}

impl<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin> Client<S> {
    pub fn new(stream: S) -> Self {
        Client { io: BufReader::new(stream) }
    }

    pub async fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.io.get_mut().write_all(bytes.as_ref()).await.unwrap();
    }

    /// Reads one complete (possibly multi-line) reply, lines joined with `\n`.
    /// An empty string means the server closed the connection.
    pub async fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(Duration::from_secs(10), self.io.read_line(&mut line))
                .await
                .expect("reply within 10 s")
                .unwrap_or(0);
            if n == 0 {
                return all;
            }
            assert!(line.ends_with("\r\n"), "reply line without CRLF: {line:?}");
            let line = line.trim_end_matches("\r\n");
            if !all.is_empty() {
                all.push('\n');
            }
            all.push_str(line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return all;
            }
        }
    }

    /// Reads a reply and asserts it starts with `expected`.
    pub async fn expect(&mut self, expected: &str) -> String {
        let reply = self.reply().await;
        assert!(reply.starts_with(expected), "expected {expected:?}, got {reply:?}");
        reply
    }

    /// Sends `line` + CRLF and checks the reply.
    pub async fn cmd(&mut self, line: &str, expected: &str) -> String {
        self.send(format!("{line}\r\n")).await;
        self.expect(expected).await
    }

    /// True when the server has closed the connection (EOF within 10 s).
    pub async fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        matches!(tokio::time::timeout(Duration::from_secs(10), self.io.read_to_end(&mut rest)).await, Ok(Ok(_)))
            && rest.is_empty()
    }
}

/// A self-signed certificate for `localhost`, the server config using it,
/// and the certificate for clients to trust.
pub struct TestTls {
    pub server: Arc<rustls::ServerConfig>,
    pub cert_der: Vec<u8>,
}

pub fn tls() -> TestTls {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key =
        pki_types::PrivateKeyDer::Pkcs8(pki_types::PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    TestTls { server: Arc::new(server), cert_der: cert.to_vec() }
}

/// A TLS client connector trusting the test certificate.
pub fn connector(tls: &TestTls) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki_types::CertificateDer::from(tls.cert_der.clone())).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(client))
}

/// `AGJvYgBwdw==`-style PLAIN response for user and password.
pub fn plain(user: &str, password: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"))
}

pub fn b64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}
