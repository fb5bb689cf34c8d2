//! The SMTP doors: the protocol engine (`deputy-smtp`) asks, the core decides.
//! This adapter only translates: addresses to routes, core outcomes to SMTP
//! replies with enhanced status codes, and the session to trace fields.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use deputy_core::Deputy;
use deputy_core::mail::{Inbound, MailError, Route, Submission};
use deputy_mailauth::MailResolver;
use deputy_smtp::{Envelope, Handler, Mode, Reply, SessionInfo, SignIn};
use deputy_types::RecipientId;
use tokio::sync::Notify;

/// The reply Exchange gives when spec §4.1 denies a send (interface.md).
const SEND_AS_DENIED: &str = "Client does not have permissions to send as this sender";

/// Both SMTP listeners' handler.
pub struct SmtpDoor {
    deputy: Arc<Deputy>,
    hostname: String,
    resolver: MailResolver,
    /// Wakes the outbound worker when something was queued.
    outbound: Arc<Notify>,
}

impl SmtpDoor {
    pub fn new(deputy: Arc<Deputy>, hostname: String, resolver: MailResolver, outbound: Arc<Notify>) -> Self {
        Self { deputy, hostname, resolver, outbound }
    }

    /// `Received:` (RFC 5321 §4.4) with the RFC 3848 protocol name.
    fn received(&self, session: &SessionInfo<RecipientId>, envelope: &Envelope) -> String {
        let with = match (session.tls, session.principal.is_some()) {
            (false, false) => "ESMTP",
            (true, false) => "ESMTPS",
            (false, true) => "ESMTPA",
            (true, true) => "ESMTPSA",
        };
        let rcpt = match envelope.rcpt_to.as_slice() {
            [one] => format!("\r\n\tfor <{one}>"),
            _ => String::new(),
        };
        format!(
            "Received: from {helo} ([{ip}])\r\n\tby {host} (Deputy) with {with}{rcpt};\r\n\t{date}\r\n",
            helo = sanitize(&session.helo),
            ip = session.peer.ip(),
            host = self.hostname,
            date = Utc::now().to_rfc2822(),
        )
    }
}

/// HELO names come from the client: keep only what may appear in a header.
fn sanitize(s: &str) -> String {
    let clean: String = s.chars().filter(|c| c.is_ascii_graphic()).take(255).collect();
    if clean.is_empty() { "unknown".into() } else { clean }
}

/// The store cannot be reached (a cluster's database is down): try later.
fn unavailable() -> Reply {
    Reply::new(451, "4.3.0", "Temporary failure: the directory cannot be reached, try again later")
}

fn temporary(e: &MailError) -> Reply {
    tracing::error!(error = %e, "storing a message failed");
    Reply::new(451, "4.3.0", "Temporary failure storing the message, try again later")
}

#[async_trait]
impl Handler for SmtpDoor {
    type Principal = RecipientId;

    async fn authenticate(&self, user: &str, password: &str) -> SignIn<RecipientId> {
        // A directory the cluster cannot refresh does not decide on an old
        // state: the client is told to try later (`454`), not that its
        // password is wrong.
        if self.deputy.catch_up().await.is_err() {
            return SignIn::TryLater;
        }
        self.deputy.authenticate(user, password).await.into()
    }

    async fn mail_from(&self, session: &SessionInfo<RecipientId>, from: &str) -> Result<(), Reply> {
        // Every transaction decides on what the whole cluster committed.
        self.deputy.catch_up().await.map_err(|_| unavailable())?;
        match (session.mode, session.principal) {
            (Mode::Submission, Some(p)) => {
                self.deputy.check_envelope_sender(p, from).map_err(|_| Reply::new(550, "5.7.60", SEND_AS_DENIED))
            }
            (Mode::Submission, None) => Err(Reply::new(530, "5.7.0", "Authentication required")),
            (Mode::Inbound, _) => Ok(()),
        }
    }

    async fn rcpt_to(&self, session: &SessionInfo<RecipientId>, _: &Envelope, rcpt: &str) -> Result<(), Reply> {
        match (self.deputy.route(rcpt), session.mode) {
            (Route::Local, _) | (Route::Remote, Mode::Submission) => Ok(()),
            (Route::Unknown, _) => Err(Reply::new(550, "5.1.1", "Recipient address rejected: User unknown")),
            (Route::Remote, Mode::Inbound) => Err(Reply::new(550, "5.7.1", "Relay access denied")),
        }
    }

    async fn data(&self, session: &SessionInfo<RecipientId>, envelope: &Envelope, message: Vec<u8>) -> Reply {
        if self.deputy.catch_up().await.is_err() {
            return unavailable();
        }
        let trace = self.received(session, envelope);
        let result = match (session.mode, session.principal) {
            (Mode::Submission, Some(principal)) => {
                let submission = Submission {
                    principal,
                    mail_from: envelope.mail_from.clone(),
                    recipients: envelope.rcpt_to.clone(),
                    raw: message,
                    trace: trace.into_bytes(),
                    saver: principal,
                    save_to_sent_items: true,
                };
                self.deputy.submit(submission).await.map(|s| (s.stored.blob, s.queued))
            }
            (Mode::Submission, None) => return Reply::new(530, "5.7.0", "Authentication required"),
            (Mode::Inbound, _) => {
                let results = deputy_mailauth::authentication_results(
                    &self.resolver,
                    &self.hostname,
                    session.peer.ip(),
                    &session.helo,
                    &envelope.mail_from,
                    &message,
                )
                .await;
                let trace = format!("Return-Path: <{}>\r\n{results}{trace}", envelope.mail_from);
                let inbound = Inbound {
                    mail_from: envelope.mail_from.clone(),
                    recipients: envelope.rcpt_to.clone(),
                    raw: message,
                    trace: trace.into_bytes(),
                };
                self.deputy.deliver(inbound).await.map(|s| (s.blob, usize::from(s.queued.is_some())))
            }
        };
        match result {
            Ok((blob, queued)) => {
                if queued > 0 {
                    self.outbound.notify_one();
                }
                Reply::new(250, "2.0.0", format!("Ok: queued as {:X}", blob.0))
            }
            Err(MailError::Denied(_)) => Reply::new(550, "5.7.60", SEND_AS_DENIED),
            Err(MailError::NoRecipients) => Reply::new(554, "5.5.1", "No valid recipients"),
            Err(e @ MailError::Store(_)) => temporary(&e),
        }
    }
}
