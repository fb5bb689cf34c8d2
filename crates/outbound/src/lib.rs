//! The durable outbound queue worker: delivers mail queued for other
//! servers over SMTP, through a smarthost or the recipients' MX hosts,
//! retries temporary failures with exponential backoff, DKIM-signs mail
//! whose author domain is local, and returns a delivery status notification
//! (RFC 3464) to the sender of every recipient that fails.
//!
//! Invariants:
//! - the store is the only memory: every attempt ends in one
//!   [`MailStore::queue_update`] that records the recipients' fates and the
//!   bounce together, so a crash neither loses nor repeats a bounce; a
//!   delivery interrupted before that call is attempted again (a duplicate
//!   is preferred to a loss, RFC 5321 §6.1);
//! - two deliveries of the same queue entry never run at once;
//! - a recipient is `Failed` only on a 5xx reply, a null MX, a domain with
//!   no mail server, or expiry; everything else stays `Pending`;
//! - a message with the null sender never causes a bounce.
//!
//! The worker decides nothing about who may send what: the core did that
//! before the message was queued. It reaches the core only through the
//! small [`Notices`] trait.

mod attempt;
mod client;
mod config;
mod deliver;
mod dsn;
mod route;
mod tls;
mod worker;

use std::future::Future;
use std::sync::Arc;

use deputy_mailauth::{DkimSigner, MailResolver};
use deputy_store::{Delivery, MailStore};
use tokio_rustls::TlsConnector;

pub use config::{Backoff, Config};
pub use worker::Waker;

/// What the worker needs from the organization.
pub trait Notices: Send + Sync + 'static {
    /// The delivery of a notice (a bounce) addressed to `to`: into a local
    /// Inbox or queued with the null sender; `None` when it cannot go anywhere.
    fn notice_delivery(&self, to: &str, raw: Vec<u8>) -> Option<Delivery>;
    /// Whether mail from `domain` is ours (and so DKIM-signed on the way out).
    fn is_local_domain(&self, domain: &str) -> bool;
    /// The organization's first domain: bounces come from `MAILER-DAEMON@`
    /// it when the server's host name is not a domain (e.g. `localhost`).
    fn primary_domain(&self) -> Option<String> {
        None
    }
}

impl Notices for deputy_core::Deputy {
    fn notice_delivery(&self, to: &str, raw: Vec<u8>) -> Option<Delivery> {
        deputy_core::Deputy::notice_delivery(self, to, raw)
    }

    fn is_local_domain(&self, domain: &str) -> bool {
        self.is_accepted_domain(domain)
    }

    fn primary_domain(&self) -> Option<String> {
        self.accepted_domains().into_iter().next()
    }
}

/// Everything a delivery needs, shared by all of them.
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) store: Arc<dyn MailStore>,
    pub(crate) notices: Arc<dyn Notices>,
    pub(crate) signer: Option<Arc<DkimSigner>>,
    pub(crate) resolver: MailResolver,
    /// `None` only if the TLS client could not be set up: mail then goes
    /// out in plaintext, as it would to a server without STARTTLS.
    pub(crate) tls: Option<TlsConnector>,
}

/// Runs the worker until `shutdown` completes: reads the due queue entries
/// every `poll_interval` or when `waker` is woken, delivers up to
/// `concurrency` messages at a time, and records each attempt. On shutdown
/// it waits up to `shutdown_grace` for deliveries under way. It never
/// fails: store and network errors are logged and retried.
pub async fn run(
    config: Config,
    store: Arc<dyn MailStore>,
    notices: Arc<dyn Notices>,
    signer: Option<Arc<DkimSigner>>,
    resolver: MailResolver,
    waker: Waker,
    shutdown: impl Future<Output = ()>,
) {
    let tls = match tls::connector() {
        Ok(tls) => Some(tls),
        Err(e) => {
            tracing::error!(error = %e, "cannot set up the TLS client; outbound mail will not use STARTTLS");
            None
        }
    };
    let shared = Arc::new(Shared { config, store, notices, signer, resolver, tls });
    worker::work(shared, waker, shutdown).await;
}
