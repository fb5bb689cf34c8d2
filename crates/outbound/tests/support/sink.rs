//! A tiny SMTP server on loopback that records what it is sent and answers
//! as told: chosen recipients refused (4xx or 5xx, for a number of times or
//! always), DATA refused, slow, or STARTTLS offered with a self-signed
//! certificate.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// One accepted transaction.
#[derive(Debug, Clone)]
pub struct Received {
    pub helo: String,
    pub mail_from: String,
    /// What followed the address in MAIL FROM (`SIZE=…`, `BODY=…`).
    pub mail_params: String,
    pub rcpt_to: Vec<String>,
    /// The message, dot-unstuffed, without the final dot line.
    pub data: Vec<u8>,
    pub tls: bool,
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    /// Replies to RCPT TO per address: each used once, then the address is accepted.
    rcpt_once: HashMap<String, VecDeque<String>>,
    /// Replies to RCPT TO per address, every time.
    rcpt_always: HashMap<String, String>,
    /// Replies to the final dot, each used once, then `250`.
    data_replies: VecDeque<String>,
    data_delay: Duration,
    connections: usize,
}

/// The running sink.
pub struct Sink {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl Sink {
    /// A sink on a free loopback port.
    pub async fn start() -> Sink {
        Self::start_on(0, None).await
    }

    /// A sink that offers STARTTLS with a self-signed certificate.
    pub async fn start_tls() -> Sink {
        Self::start_on(0, Some(acceptor())).await
    }

    /// A sink on `port` (0 for any free one).
    pub async fn start_on(port: u16, tls: Option<TlsAcceptor>) -> Sink {
        Self::start_at("127.0.0.1", port, tls).await
    }

    /// A sink on another loopback address (127.0.0.0/8), e.g. a second MX on the same port.
    pub async fn start_at(ip: &str, port: u16, tls: Option<TlsAcceptor>) -> Sink {
        let listener = TcpListener::bind((ip, port)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                shared.lock().unwrap().connections += 1;
                let (state, tls) = (shared.clone(), tls.clone());
                tokio::spawn(async move {
                    let _ = connection(tcp, state, tls).await;
                });
            }
        });
        Sink { addr, state, task }
    }

    /// A loopback port where nothing listens (a server that is down).
    pub async fn free_port() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Answers RCPT TO for `address` with `reply`, always.
    pub fn refuse_rcpt(&self, address: &str, reply: &str) {
        self.state.lock().unwrap().rcpt_always.insert(address.to_ascii_lowercase(), reply.to_owned());
    }

    /// Answers RCPT TO for `address` with `reply` the next `times` times.
    pub fn refuse_rcpt_times(&self, address: &str, reply: &str, times: usize) {
        let mut s = self.state.lock().unwrap();
        let queue = s.rcpt_once.entry(address.to_ascii_lowercase()).or_default();
        queue.extend(std::iter::repeat_n(reply.to_owned(), times));
    }

    /// Answers the next final dot with `reply`.
    pub fn answer_data(&self, reply: &str) {
        self.state.lock().unwrap().data_replies.push_back(reply.to_owned());
    }

    /// Waits this long before answering each final dot.
    pub fn slow_data(&self, delay: Duration) {
        self.state.lock().unwrap().data_delay = delay;
    }

    /// Transactions accepted so far.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.lock().unwrap().connections
    }

    /// Stops listening (connections under way are cut when they next wait).
    pub fn stop(self) {
        self.task.abort();
    }
}

fn acceptor() -> TlsAcceptor {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    TlsAcceptor::from(Arc::new(config))
}

async fn connection(tcp: TcpStream, state: Arc<Mutex<State>>, tls: Option<TlsAcceptor>) -> std::io::Result<()> {
    let offer_tls = tls.is_some();
    if let Some(tcp) = session(tcp, &state, offer_tls, false, true).await?
        && let Some(acceptor) = tls
    {
        let stream = acceptor.accept(tcp).await?;
        session(stream, &state, false, true, false).await?;
    }
    Ok(())
}

/// Serves commands until QUIT (returns `None`) or STARTTLS (returns the
/// stream for the handshake).
async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    state: &Arc<Mutex<State>>,
    offer_tls: bool,
    secured: bool,
    greet: bool,
) -> std::io::Result<Option<S>> {
    let mut io = BufReader::new(stream);
    if greet {
        io.get_mut().write_all(b"220 sink.test ESMTP ready\r\n").await?;
    }
    let (mut helo, mut mail_from, mut mail_params, mut rcpts) =
        (String::new(), None::<String>, String::new(), Vec::new());
    loop {
        let mut line = Vec::new();
        if io.read_until(b'\n', &mut line).await? == 0 {
            return Ok(None);
        }
        let line = String::from_utf8_lossy(&line).trim_end().to_owned();
        let upper = line.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO ") {
            helo = line[5..].to_owned();
            let tls = if offer_tls { "250-STARTTLS\r\n" } else { "" };
            format!("250-sink.test\r\n250-8BITMIME\r\n250-SIZE 10485760\r\n{tls}250 ENHANCEDSTATUSCODES\r\n")
        } else if upper.starts_with("HELO ") {
            helo = line[5..].to_owned();
            "250 sink.test\r\n".into()
        } else if upper == "STARTTLS" && offer_tls {
            io.get_mut().write_all(b"220 2.0.0 Ready to start TLS\r\n").await?;
            return Ok(Some(io.into_inner()));
        } else if upper.starts_with("MAIL FROM:") {
            let (addr, params) = path(&line[10..]);
            mail_from = Some(addr);
            mail_params = params;
            rcpts.clear();
            "250 2.1.0 Ok\r\n".into()
        } else if upper.starts_with("RCPT TO:") {
            let (addr, _) = path(&line[8..]);
            let refusal = {
                let mut s = state.lock().unwrap();
                let key = addr.to_ascii_lowercase();
                s.rcpt_once.get_mut(&key).and_then(VecDeque::pop_front).or_else(|| s.rcpt_always.get(&key).cloned())
            };
            match refusal {
                Some(r) => format!("{r}\r\n"),
                None => {
                    rcpts.push(addr);
                    "250 2.1.5 Ok\r\n".into()
                }
            }
        } else if upper == "DATA" {
            if mail_from.is_none() || rcpts.is_empty() {
                "503 5.5.1 No valid recipients\r\n".into()
            } else {
                io.get_mut().write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
                let data = read_data(&mut io).await?;
                let (delay, answer) = {
                    let mut s = state.lock().unwrap();
                    (s.data_delay, s.data_replies.pop_front())
                };
                tokio::time::sleep(delay).await;
                let answer = answer.unwrap_or_else(|| "250 2.0.0 Ok: queued".to_owned());
                if answer.starts_with('2') {
                    state.lock().unwrap().received.push(Received {
                        helo: helo.clone(),
                        mail_from: mail_from.clone().unwrap_or_default(),
                        mail_params: mail_params.clone(),
                        rcpt_to: std::mem::take(&mut rcpts),
                        data,
                        tls: secured,
                    });
                }
                mail_from = None;
                rcpts.clear();
                format!("{answer}\r\n")
            }
        } else if upper == "RSET" {
            mail_from = None;
            rcpts.clear();
            "250 2.0.0 Ok\r\n".into()
        } else if upper == "QUIT" {
            io.get_mut().write_all(b"221 2.0.0 Bye\r\n").await?;
            return Ok(None);
        } else if upper == "NOOP" {
            "250 2.0.0 Ok\r\n".into()
        } else {
            "502 5.5.2 Command not recognized\r\n".into()
        };
        io.get_mut().write_all(reply.as_bytes()).await?;
    }
}

/// `<addr> PARAMS` → (addr, params).
fn path(rest: &str) -> (String, String) {
    let rest = rest.trim_start();
    match rest.strip_prefix('<').and_then(|r| r.split_once('>')) {
        Some((addr, params)) => (addr.to_owned(), params.trim().to_owned()),
        None => (rest.to_owned(), String::new()),
    }
}

async fn read_data<S: AsyncRead + Unpin>(io: &mut BufReader<S>) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::new();
    loop {
        let mut line = Vec::new();
        if io.read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == b".\r\n" {
            return Ok(data);
        }
        let unstuffed = if line.starts_with(b"..") { &line[1..] } else { &line[..] };
        data.extend_from_slice(unstuffed);
    }
}
