//! One SMTP transaction per destination: connect to the route's hosts in
//! order until one decides, STARTTLS when offered, then MAIL FROM, a RCPT TO
//! per recipient and DATA, and the fate of every recipient from the replies.

use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::client::{Capabilities, Reply, Session, SessionError};
use crate::route::{self, Route};
use crate::{Shared, tls};

/// What one attempt did for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The next hop took responsibility (2xx to the final dot).
    Delivered(String),
    /// Refused for good (5xx), or no server can ever take it.
    Failed(String),
    /// Not this time (4xx, no connection, timeout): try again later.
    Deferred(String),
}

impl Outcome {
    fn of(reply: &Reply) -> Self {
        if reply.is_positive() {
            Self::Delivered(reply.text.clone())
        } else if reply.is_permanent() {
            Self::Failed(reply.text.clone())
        } else {
            Self::Deferred(reply.text.clone())
        }
    }
}

/// A recipient's outcome and the server that gave it, if any.
#[derive(Debug, Clone)]
pub(crate) struct Decided {
    /// Index into the queued message's recipients.
    pub(crate) index: usize,
    pub(crate) outcome: Outcome,
    /// The host that replied (`Remote-MTA:` in a bounce).
    pub(crate) remote: Option<String>,
}

/// The envelope of one transaction.
pub(crate) struct Envelope<'a> {
    pub(crate) mail_from: &'a str,
    /// (index in the queued message, address)
    pub(crate) recipients: Vec<(usize, String)>,
    pub(crate) message: &'a [u8],
}

impl Envelope<'_> {
    fn all(&self, outcome: &Outcome, remote: Option<&str>) -> Vec<Decided> {
        self.recipients
            .iter()
            .map(|(index, _)| Decided { index: *index, outcome: outcome.clone(), remote: remote.map(str::to_owned) })
            .collect()
    }
}

/// How far one connection got.
enum HostResult {
    /// A transaction ran: every recipient has an outcome.
    Done(Vec<(usize, Outcome)>),
    /// This host could not take the mail now; the next one may.
    Next(String),
    /// The TLS handshake failed: try the same address in plaintext.
    TlsFailed(String),
}

/// Delivers `env` to `domain`'s next hops and decides each recipient.
pub(crate) async fn deliver(shared: &Shared, domain: &str, env: &Envelope<'_>) -> Vec<Decided> {
    let config = &shared.config;
    let hops = match route::route(config, &shared.resolver, domain).await {
        Route::Hops(hops) => hops,
        Route::Failed(reply) => return env.all(&Outcome::Failed(reply.text), None),
        Route::Deferred(reply) => return env.all(&Outcome::Deferred(reply.text), None),
    };
    let mut last = Reply::local(451, format!("4.4.0 No mail server for {domain} could be reached"));
    for hop in &hops {
        let addrs = match route::addresses(&shared.resolver, hop).await {
            Ok(addrs) if addrs.is_empty() && hop.implicit => {
                let reply = Reply::local(550, format!("5.4.4 {domain} has no mail server (no MX or address record)"));
                return env.all(&Outcome::Failed(reply.text), None);
            }
            Ok(addrs) if addrs.is_empty() => {
                last = Reply::local(451, format!("4.4.3 {} has no address", hop.host));
                continue;
            }
            Ok(addrs) => addrs,
            Err(e) => {
                last = Reply::local(451, format!("4.4.3 {e}"));
                continue;
            }
        };
        for addr in addrs.into_iter().take(4) {
            let mut result = try_address(shared, &hop.host, addr, env, config.starttls).await;
            if let HostResult::TlsFailed(why) = result {
                tracing::info!(host = %hop.host, %addr, %why, "TLS handshake failed; retrying without TLS");
                result = try_address(shared, &hop.host, addr, env, false).await;
            }
            match result {
                HostResult::Done(outcomes) => {
                    return outcomes
                        .into_iter()
                        .map(|(index, outcome)| Decided { index, outcome, remote: Some(hop.host.clone()) })
                        .collect();
                }
                HostResult::Next(why) | HostResult::TlsFailed(why) => {
                    tracing::debug!(host = %hop.host, %addr, %why, "next hop did not take the mail");
                    last = Reply::local(451, why);
                }
            }
        }
    }
    env.all(&Outcome::Deferred(last.text), None)
}

async fn try_address(shared: &Shared, host: &str, addr: SocketAddr, env: &Envelope<'_>, use_tls: bool) -> HostResult {
    let config = &shared.config;
    let peer = format!("{host}[{}]", addr.ip());
    let tcp = match tokio::time::timeout(config.connect_timeout, TcpStream::connect(addr)).await {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(e)) => return HostResult::Next(format!("4.4.1 Connection to {peer}:{} failed: {e}", addr.port())),
        Err(_) => return HostResult::Next(format!("4.4.1 Connection to {peer}:{} timed out", addr.port())),
    };
    let mut session = Session::new(tcp, peer);
    let caps = match open(&mut session, config).await {
        Ok(caps) => caps,
        Err(e) => return next(session.peer(), e),
    };
    let Some(connector) = shared.tls.as_ref().filter(|_| use_tls && caps.starttls) else {
        return transaction(session, caps, env, config).await;
    };
    match session.command("STARTTLS", config.command_timeout).await {
        Ok(reply) if reply.code == 220 => {}
        // Refused: opportunistic TLS goes on in plaintext.
        Ok(_) => return transaction(session, caps, env, config).await,
        Err(e) => return next(session.peer(), e),
    }
    let peer = session.peer().to_owned();
    let tcp = match session.into_stream() {
        Ok(tcp) => tcp,
        Err(e) => return next(&peer, e),
    };
    let handshake = connector.connect(tls::server_name(host, addr.ip()), tcp);
    let stream = match tokio::time::timeout(config.command_timeout, handshake).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return HostResult::TlsFailed(format!("4.7.5 TLS with {peer} failed: {e}")),
        Err(_) => return HostResult::TlsFailed(format!("4.7.5 TLS with {peer} timed out")),
    };
    let mut session = Session::new(stream, peer);
    // RFC 3207 §4.2: forget what was learnt before TLS and ask again.
    match session.hello(&config.hostname, config.command_timeout).await {
        Ok(caps) => transaction(session, caps, env, config).await,
        Err(e) => next(session.peer(), e),
    }
}

/// A failure that makes us try the next host is remembered as temporary,
/// keeping the server's words.
fn next(peer: &str, e: SessionError) -> HostResult {
    match e {
        SessionError::Refused(reply) => HostResult::Next(format!("4.4.0 {peer} said: {}", reply.text)),
        SessionError::Broken(why) => HostResult::Next(format!("4.4.2 {why}")),
    }
}

/// The greeting and EHLO.
async fn open<S: AsyncRead + AsyncWrite + Unpin + Send>(
    session: &mut Session<S>,
    config: &crate::Config,
) -> Result<Capabilities, SessionError> {
    let greeting = session.reply(config.command_timeout, "greeting").await?;
    if !greeting.is_positive() {
        return Err(SessionError::Refused(greeting));
    }
    session.hello(&config.hostname, config.command_timeout).await
}

/// MAIL FROM, RCPT TO each recipient, DATA.
async fn transaction<S: AsyncRead + AsyncWrite + Unpin + Send>(
    mut session: Session<S>,
    caps: Capabilities,
    env: &Envelope<'_>,
    config: &crate::Config,
) -> HostResult {
    let timeout = config.command_timeout;
    let mut mail = format!("MAIL FROM:<{}>", env.mail_from);
    if caps.size > 0 {
        mail.push_str(&format!(" SIZE={}", env.message.len()));
    }
    if caps.eight_bit_mime && !env.message.is_ascii() {
        mail.push_str(" BODY=8BITMIME");
    }
    let utf8 = !env.mail_from.is_ascii() || env.recipients.iter().any(|(_, r)| !r.is_ascii());
    if utf8 && caps.smtputf8 {
        mail.push_str(" SMTPUTF8");
    }
    match session.command(&mail, timeout).await {
        Ok(reply) if reply.is_positive() => {}
        Ok(reply) if reply.is_permanent() => {
            session.quit().await;
            return HostResult::Done(
                env.recipients.iter().map(|(i, _)| (*i, Outcome::Failed(reply.text.clone()))).collect(),
            );
        }
        Ok(reply) => {
            let peer = session.peer().to_owned();
            session.quit().await;
            return HostResult::Next(format!("4.4.0 {peer} said: {}", reply.text));
        }
        Err(e) => return next(session.peer(), e),
    }

    let mut decided = Vec::with_capacity(env.recipients.len());
    let mut accepted = Vec::new();
    for (index, rcpt) in &env.recipients {
        match session.command(&format!("RCPT TO:<{rcpt}>"), timeout).await {
            Ok(reply) if reply.is_positive() => accepted.push(*index),
            Ok(reply) => decided.push((*index, Outcome::of(&reply))),
            Err(e) => return HostResult::Done(broken_off(env, decided, e)),
        }
    }
    if accepted.is_empty() {
        session.quit().await;
        return HostResult::Done(decided);
    }

    let final_reply = match session.command("DATA", timeout).await {
        Ok(reply) if reply.code == 354 => session.data(env.message, config.data_timeout).await,
        Ok(reply) => Ok(reply),
        Err(e) => Err(e),
    };
    match final_reply {
        Ok(reply) => {
            let outcome = Outcome::of(&reply);
            decided.extend(accepted.iter().map(|i| (*i, outcome.clone())));
            session.quit().await;
            HostResult::Done(decided)
        }
        Err(e) => HostResult::Done(broken_off(env, decided, e)),
    }
}

/// The connection broke mid-transaction: recipients already refused stay
/// refused, every other one is deferred (whether the server kept the
/// message is unknown, so it is sent again later; RFC 5321 §6.1 prefers a
/// duplicate to a loss).
fn broken_off(env: &Envelope<'_>, mut decided: Vec<(usize, Outcome)>, e: SessionError) -> Vec<(usize, Outcome)> {
    let why = match e {
        SessionError::Refused(reply) => reply.text,
        SessionError::Broken(why) => format!("451 4.4.2 {why}"),
    };
    for (index, _) in &env.recipients {
        if !decided.iter().any(|(i, _)| i == index) {
            decided.push((*index, Outcome::Deferred(why.clone())));
        }
    }
    decided
}
