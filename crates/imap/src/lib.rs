//! Deputy's IMAP door: the server side of IMAP4rev1 (RFC 3501) and IMAP4rev2
//! (RFC 9051: a session that enables it gets ESEARCH answers, no `\Recent`
//! and UTF-8 mailbox names; BINARY, LIST-EXTENDED, LIST-STATUS and STATUS
//! `SIZE` serve every session), with STARTTLS,
//! SASL PLAIN and SASL-IR (RFC 4959), LITERAL+ (RFC 7888), ENABLE (5161),
//! ID (2971), IDLE (2177), NAMESPACE (2342), UNSELECT (3691), UIDPLUS (4315),
//! MOVE (6851), SPECIAL-USE (6154) attributes, ACL (4314), ESEARCH (4731),
//! SEARCHRES (5182), CHILDREN (3348) and
//! CONDSTORE (7162: mod-sequences are the backend's, the engine carries them). Commands are parsed by
//! `imap-codec`, whose `Fragmentizer` splits the byte stream into lines and
//! literals so that literal sizes are checked before a byte of them is read;
//! the ACL commands, which the codec lacks, have a small parser of their own.
//!
//! The crate speaks IMAP and decides nothing about mail: the application plugs
//! in through [`Backend`] (who may sign in, which mailboxes a user sees, the
//! messages). It depends on no other Deputy crate.
//!
//! Invariants:
//! - never panics on any input; every tagged response is one line
//!   `tag OK|NO|BAD [code] text` with no control characters in the text;
//! - no more than `max_literal_size` octets of a literal are held in memory,
//!   and a synchronizing literal over it is refused before the client sends it;
//! - bytes received before a TLS handshake are never processed after it;
//! - passwords are refused in clear text (`LOGINDISABLED`) unless the
//!   connection is encrypted or, when allowed, from loopback;
//! - sequence numbers map to UIDs through the session's own view, which
//!   changes only when the session reports `EXPUNGE` (or reselects); a
//!   sequence number outside it is `BAD`.

mod acl;
mod backend;
mod body;
mod commands;
mod condstore;
mod criteria;
mod envelope;
mod fetch;
mod mailboxes;
mod search;
mod searchres;
mod session;
mod status;
mod utf7;
mod wire;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

pub use backend::{
    AppendUid, Backend, Code, CopyUids, FetchItems, ListRights, MailboxInfo, MessageData, Namespace, Namespaces, No,
    Selected, StoreMode, StoreOutcome,
};
/// The TLS library, re-exported so callers build a matching `ServerConfig`.
pub use tokio_rustls::rustls;
pub use utf7::{InvalidName, decode as decode_mailbox_name, encode as encode_mailbox_name};

/// How a listener behaves. `Config::new` gives the defaults; change fields after.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The name in the greeting.
    pub hostname: String,
    /// Enables STARTTLS when set.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Allow LOGIN/AUTHENTICATE without TLS from loopback clients. Default true.
    pub plaintext_auth_on_loopback: bool,
    /// Largest literal accepted (APPEND), in octets. Default 35 MiB.
    pub max_literal_size: u32,
    /// Longest command line (without literals), in octets. Default 64 KiB.
    pub max_line_length: usize,
    /// A client silent this long is logged out (RFC 3501 §5.4: at least 30 minutes). Default 30 minutes.
    pub idle_timeout: Duration,
    /// Failed sign-ins on one connection before `BYE`. Default 3.
    pub max_auth_failures: u32,
}

impl Config {
    /// The defaults for a listener named `hostname`.
    pub fn new(hostname: impl Into<String>) -> Self {
        Config {
            hostname: hostname.into(),
            tls: None,
            plaintext_auth_on_loopback: true,
            max_literal_size: 35 * 1024 * 1024,
            max_line_length: 64 * 1024,
            idle_timeout: Duration::from_secs(30 * 60),
            max_auth_failures: 3,
        }
    }
}

/// Why a session ended abnormally.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The connection failed (including a failed TLS handshake).
    #[error("IMAP connection failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Accepts connections on `listener` until `shutdown` resolves, one task per session.
pub async fn serve<B: Backend>(
    listener: TcpListener,
    config: Arc<Config>,
    backend: Arc<B>,
    shutdown: impl Future<Output = ()> + Send,
) {
    let mut shutdown = std::pin::pin!(shutdown);
    let mut sessions = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let (config, backend) = (Arc::clone(&config), Arc::clone(&backend));
                    sessions.spawn(async move {
                        // Responses are written once per batch; Nagle would only add latency.
                        let _ = stream.set_nodelay(true);
                        if let Err(error) = run_session(stream, peer, config, backend).await {
                            tracing::debug!(%peer, %error, "imap session ended with an error");
                        }
                    });
                }
                Err(error) => {
                    tracing::warn!(%error, "imap accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
    sessions.shutdown().await;
}

/// Runs one session over any byte stream, as if `peer` had connected (for tests and fuzzing).
pub async fn run_session<B, S>(stream: S, peer: SocketAddr, config: Arc<Config>, backend: Arc<B>) -> Result<(), Error>
where
    B: Backend,
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    session::run(stream, peer, config, backend).await
}
