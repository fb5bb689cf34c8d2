//! The listener: accepts connections under the connection limits, runs one
//! task per session, and shuts down gracefully.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::limits::{AuthFailures, Connections};
use crate::reply::{Canned, render};
use crate::{Config, Error, Handler};

/// How long to wait before accepting again after `accept` fails (e.g. out of file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// What all sessions of one server share.
pub(crate) struct Shared<H> {
    pub(crate) config: Arc<Config>,
    pub(crate) handler: Arc<H>,
    pub(crate) tls: Option<TlsAcceptor>,
    pub(crate) auth_failures: AuthFailures,
    pub(crate) connections: Arc<Connections>,
    pub(crate) shutdown: watch::Sender<bool>,
}

/// An SMTP server: configuration, handler and the state its sessions share
/// (connection counts, AUTH failures per IP, the shutdown signal).
pub struct Server<H: Handler> {
    shared: Arc<Shared<H>>,
}

impl<H: Handler> Clone for Server<H> {
    fn clone(&self) -> Self {
        Server { shared: Arc::clone(&self.shared) }
    }
}

impl<H: Handler> Server<H> {
    /// A server with `config` that hands mail to `handler`.
    pub fn new(config: Arc<Config>, handler: Arc<H>) -> Self {
        let tls = config.tls.clone().map(TlsAcceptor::from);
        let shared = Shared {
            auth_failures: AuthFailures::new(config.auth_failures_per_ip, config.auth_failure_window),
            connections: Connections::new(config.max_connections, config.max_connections_per_ip),
            shutdown: watch::Sender::new(false),
            tls,
            handler,
            config,
        };
        Server { shared: Arc::new(shared) }
    }

    /// Runs one session over any byte stream, as if `peer` had connected.
    /// Connection limits are not applied (`serve` applies them at accept).
    pub async fn run_session<S>(&self, stream: S, peer: SocketAddr) -> Result<(), Error>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        crate::session::run(&self.shared, stream, peer).await
    }

    /// Tells every session to finish: idle ones get `421 4.3.2` at once, one
    /// receiving a message gets it after the message.
    pub fn shutdown(&self) {
        self.shared.shutdown.send_replace(true);
    }

    /// Accepts connections until `shutdown` resolves, then stops accepting,
    /// signals the sessions and waits up to `Config::shutdown_grace` for them.
    pub async fn serve(&self, listener: TcpListener, shutdown: impl Future<Output = ()> + Send) {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut sessions = JoinSet::new();
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let server = self.clone();
                        sessions.spawn(async move { server.connection(stream, peer).await });
                    }
                    Err(error) => {
                        tracing::warn!(%error, "smtp accept failed");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                },
                Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
            }
        }
        drop(listener);
        self.shutdown();
        let grace = self.shared.config.shutdown_grace;
        let drained = tokio::time::timeout(grace, async { while sessions.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::warn!(left = sessions.len(), "smtp sessions still open after the grace period; closing them");
            sessions.shutdown().await;
        }
    }

    /// One accepted connection: admitted under the limits, or told to come back later.
    async fn connection(&self, mut stream: TcpStream, peer: SocketAddr) {
        // Replies are small and written once per batch; Nagle would only add latency.
        let _ = stream.set_nodelay(true);
        let Some(_slot) = self.shared.connections.admit(peer.ip()) else {
            let mut out = Vec::new();
            let (code, status, text) = Canned::TooManyConnections.parts();
            render(&mut out, code, status, text);
            let _ = tokio::time::timeout(Duration::from_secs(5), async {
                stream.write_all(&out).await?;
                stream.shutdown().await
            })
            .await;
            return;
        };
        if let Err(error) = self.run_session(stream, peer).await {
            tracing::debug!(%peer, %error, "smtp session ended with an error");
        }
    }
}
