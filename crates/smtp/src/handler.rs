//! What the server asks of the application: who may sign in, which addresses
//! it accepts, and what to do with a message. The protocol engine decides
//! nothing about mail; the handler decides nothing about SMTP.

use std::net::SocketAddr;

use async_trait::async_trait;

/// An SMTP reply: code, enhanced status code (RFC 3463) and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit reply code.
    pub code: u16,
    /// The enhanced status code, e.g. `5.7.60`.
    pub status: &'static str,
    /// Human-readable text (one line; no CR or LF).
    pub text: String,
}

impl Reply {
    /// A reply.
    pub fn new(code: u16, status: &'static str, text: impl Into<String>) -> Self {
        Reply { code, status, text: text.into() }
    }

    /// True for 2xx replies.
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }
}

/// Which listener a session came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// MX-style inbound: no AUTH, local recipients only.
    Inbound,
    /// Submission (RFC 6409): AUTH required before MAIL.
    Submission,
}

/// What the handler knows about the session when it is asked something.
#[derive(Debug, Clone)]
pub struct SessionInfo<P> {
    /// The listener.
    pub mode: Mode,
    /// The client's address.
    pub peer: SocketAddr,
    /// The name the client gave in EHLO/HELO.
    pub helo: String,
    /// Whether the connection is encrypted (after STARTTLS).
    pub tls: bool,
    /// The signed-in principal, after a successful AUTH.
    pub principal: Option<P>,
}

/// One message transaction's envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// `MAIL FROM` (empty for the null reverse-path `<>`).
    pub mail_from: String,
    /// The accepted `RCPT TO` addresses, in order.
    pub rcpt_to: Vec<String>,
    /// `BODY=8BITMIME` was given.
    pub eight_bit: bool,
    /// `SMTPUTF8` was given.
    pub smtputf8: bool,
}

/// What checking a user name and password concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn<P> {
    /// Signed in as this principal (`235`).
    Accepted(P),
    /// Wrong credentials (`535 5.7.8`, counted as a failure).
    Refused,
    /// They could not be checked now, e.g. the directory is unreachable
    /// (`454 4.7.0`, RFC 4954 §6; not counted as a failure).
    TryLater,
}

impl<P> From<Option<P>> for SignIn<P> {
    fn from(principal: Option<P>) -> Self {
        principal.map_or(SignIn::Refused, SignIn::Accepted)
    }
}

/// The application behind the SMTP listeners.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// The signed-in identity AUTH produces.
    type Principal: Clone + Send + Sync + 'static;

    /// Checks a user name and password (AUTH PLAIN/LOGIN).
    async fn authenticate(&self, user: &str, password: &str) -> SignIn<Self::Principal>;

    /// `MAIL FROM`: accept (`Ok`) or refuse with the reply to send.
    async fn mail_from(&self, session: &SessionInfo<Self::Principal>, from: &str) -> Result<(), Reply>;

    /// `RCPT TO`: accept (`Ok`) or refuse with the reply to send (e.g. `550 5.1.1`, relay `550 5.7.1`).
    async fn rcpt_to(
        &self,
        session: &SessionInfo<Self::Principal>,
        envelope: &Envelope,
        rcpt: &str,
    ) -> Result<(), Reply>;

    /// The message (after DATA or the last BDAT), exactly as received with the
    /// transparency dots removed and lines ending CRLF. The reply is sent to the
    /// client as is; a positive reply must mean the message is durably stored.
    async fn data(&self, session: &SessionInfo<Self::Principal>, envelope: &Envelope, message: Vec<u8>) -> Reply;
}
