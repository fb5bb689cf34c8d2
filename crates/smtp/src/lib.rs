//! Deputy's SMTP door: the server side of RFC 5321 for the inbound (MX)
//! listener and RFC 6409 submission, with STARTTLS (RFC 3207), AUTH PLAIN and
//! LOGIN (RFC 4954), PIPELINING (2920), 8BITMIME (6152), SMTPUTF8 (6531),
//! SIZE (1870), CHUNKING (3030) and enhanced status codes (2034, 3463).
//!
//! The crate speaks SMTP and decides nothing about mail: the application plugs
//! in through [`Handler`] (who may sign in, which addresses are accepted, what
//! happens to a message). It depends on no other Deputy crate.
//!
//! Invariants:
//! - never panics on any input; every reply is one well-formed line (or a
//!   multi-line EHLO reply) and, apart from the greeting, EHLO/HELO, 334 and
//!   354, carries an enhanced status code;
//! - a message ends only at the exact `<CRLF>.<CRLF>` (or the last BDAT
//!   chunk); a message containing a bare CR or LF is refused whole, so the
//!   handler never sees one and no input is split into two messages (SMTP
//!   smuggling);
//! - at most `max_message_size` octets of a message are held in memory;
//! - bytes received before a TLS handshake are never processed after it;
//! - addresses handed to the handler contain no control characters and stay
//!   within RFC 5321's lengths;
//! - every message, accepted or not, ends its transaction.

mod auth;
mod command;
mod conn;
pub mod data;
pub mod handler;
mod limits;
mod reply;
mod server;
mod session;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

pub use handler::{Envelope, Handler, Mode, Reply, SessionInfo, SignIn};
pub use server::Server;
/// The TLS library, re-exported so callers build a matching `ServerConfig`.
pub use tokio_rustls::rustls;

/// How a listener behaves. `Config::new` gives the defaults; change fields after.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The name in the greeting and EHLO reply.
    pub hostname: String,
    /// Inbound (MX) or submission.
    pub mode: Mode,
    /// Largest message accepted, in octets (advertised as SIZE). Default 35 MiB.
    pub max_message_size: usize,
    /// Most recipients per message. Default 500.
    pub max_recipients: usize,
    /// Enables STARTTLS when set.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Offer AUTH without TLS to loopback clients. Default true.
    pub plaintext_auth_on_loopback: bool,
    /// Most open connections. Default 1000.
    pub max_connections: usize,
    /// Most open connections from one IP address. Default 50.
    pub max_connections_per_ip: usize,
    /// A session waiting longer than this for the client is closed with `421 4.4.2`. Default 5 minutes.
    pub idle_timeout: Duration,
    /// Failed AUTH attempts on one connection before `421 4.7.0` and close. Default 3.
    pub max_auth_failures: u32,
    /// Failed AUTH attempts from one IP within `auth_failure_window` before
    /// further attempts get `454 4.7.0` without being checked. Default 10.
    pub auth_failures_per_ip: u32,
    /// The window for `auth_failures_per_ip`. Default 5 minutes.
    pub auth_failure_window: Duration,
    /// How long `serve` waits for sessions (e.g. ones receiving a message) after shutdown. Default 10 s.
    pub shutdown_grace: Duration,
}

impl Config {
    /// The defaults for a listener named `hostname` in `mode`.
    pub fn new(hostname: impl Into<String>, mode: Mode) -> Self {
        Config {
            hostname: hostname.into(),
            mode,
            max_message_size: 35 * 1024 * 1024,
            max_recipients: 500,
            tls: None,
            plaintext_auth_on_loopback: true,
            max_connections: 1000,
            max_connections_per_ip: 50,
            idle_timeout: Duration::from_secs(300),
            max_auth_failures: 3,
            auth_failures_per_ip: 10,
            auth_failure_window: Duration::from_secs(300),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Why a session ended abnormally.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The connection failed (including a failed TLS handshake).
    #[error("SMTP connection failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Accepts connections on `listener` until `shutdown` resolves, one task per
/// session; then stops accepting, lets sessions receiving a message finish
/// (up to `Config::shutdown_grace`) and closes the others with `421 4.3.2`.
pub async fn serve<H: Handler>(
    listener: TcpListener,
    config: Arc<Config>,
    handler: Arc<H>,
    shutdown: impl Future<Output = ()> + Send,
) {
    Server::new(config, handler).serve(listener, shutdown).await;
}

/// Runs one session over any byte stream, as if `peer` had connected (for
/// tests and fuzzing). AUTH failures are remembered per IP only within this
/// call; use [`Server::run_session`] to share them across sessions.
pub async fn run_session<H, S>(stream: S, peer: SocketAddr, config: Arc<Config>, handler: Arc<H>) -> Result<(), Error>
where
    H: Handler,
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    Server::new(config, handler).run_session(stream, peer).await
}
