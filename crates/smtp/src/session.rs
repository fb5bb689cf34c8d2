//! One SMTP session: the state machine that reads commands in order, checks
//! their sequence, asks the handler, and queues replies. Message transactions
//! (MAIL, RCPT, DATA, BDAT) live here; AUTH is in `auth.rs`.

use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncWrite};

use crate::Error;
use crate::command::{self, Command, Refusal};
use crate::conn::{Conn, Line, Stop};
use crate::data::{Body, BodyError, DataDecoder};
use crate::handler::{Envelope, Handler, Mode, SessionInfo};
use crate::reply::{Canned, render_line};
use crate::server::Shared;

/// What the session does after a command.
pub(crate) enum Flow {
    /// Read the next command.
    Continue,
    /// Send what is queued and close.
    Close,
}

/// A message transaction: from an accepted MAIL to the end of its message.
struct Transaction {
    envelope: Envelope,
    /// The body being received in BDAT chunks, after the first one.
    chunks: Option<Body>,
}

/// The state of one session.
pub(crate) struct Session<'a, H: Handler> {
    pub(crate) shared: &'a Shared<H>,
    pub(crate) info: SessionInfo<H::Principal>,
    /// EHLO or HELO was given (since the connection or STARTTLS began).
    pub(crate) greeted: bool,
    tx: Option<Transaction>,
    /// Failed AUTH attempts on this connection.
    pub(crate) auth_failures: u32,
}

/// Runs a session on `stream` to its end.
pub(crate) async fn run<H, S>(shared: &Shared<H>, stream: S, peer: SocketAddr) -> Result<(), Error>
where
    H: Handler,
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let config = &shared.config;
    let mut conn = Conn::new(stream, config.idle_timeout, shared.shutdown.subscribe());
    let mut session = Session {
        shared,
        info: SessionInfo { mode: config.mode, peer, helo: String::new(), tls: false, principal: None },
        greeted: false,
        tx: None,
        auth_failures: 0,
    };
    conn.reply(220, "", &format!("{} ESMTP Deputy", config.hostname));
    match session.commands(&mut conn).await {
        Ok(()) | Err(Stop::Eof) => {}
        Err(Stop::Timeout) => conn.reply(421, "4.4.2", &format!("{} Error: timeout exceeded", config.hostname)),
        Err(Stop::Shutdown) => conn.canned(Canned::ShuttingDown),
        Err(Stop::Io(error)) => return Err(Error::Io(error)),
    }
    conn.close().await;
    Ok(())
}

impl<H: Handler> Session<'_, H> {
    /// The command loop; returns when the session should close.
    async fn commands<S>(&mut self, conn: &mut Conn<S>) -> Result<(), Stop>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        loop {
            // Between BDAT chunks a message is in flight: let it finish on shutdown.
            let in_message = self.tx.as_ref().is_some_and(|tx| tx.chunks.is_some());
            let parsed = match conn.next_line(!in_message).await? {
                Line::TooLong => {
                    conn.canned(Canned::LineTooLong);
                    continue;
                }
                Line::Ready(n) => {
                    let parsed = command::parse(&conn.buffered()[..n]);
                    conn.consume(n);
                    parsed
                }
            };
            let flow = match parsed {
                Ok(command) => self.execute(conn, command).await?,
                Err(Refusal::Reply(reply)) => {
                    conn.canned(reply);
                    Flow::Continue
                }
                Err(Refusal::Unsupported(param)) => {
                    conn.reply(555, "5.5.4", &format!("Unsupported parameter {param}"));
                    Flow::Continue
                }
                Err(Refusal::BadBdat) => {
                    conn.canned(Canned::BadBdat);
                    Flow::Close
                }
            };
            if let Flow::Close = flow {
                return Ok(());
            }
        }
    }

    async fn execute<S>(&mut self, conn: &mut Conn<S>, command: Command) -> Result<Flow, Stop>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        match command {
            Command::Ehlo(host) => {
                self.greet(host);
                self.ehlo(conn);
            }
            Command::Helo(host) => {
                self.greet(host);
                conn.reply(250, "", &self.shared.config.hostname);
            }
            Command::Mail { from, size, eight_bit, smtputf8 } => {
                let reply = self.mail(from, size, eight_bit, smtputf8).await;
                self.send(conn, reply);
            }
            Command::Rcpt(to) => {
                let reply = self.rcpt(to).await;
                self.send(conn, reply);
            }
            Command::Data => self.data(conn).await?,
            Command::Bdat { size, last } => self.bdat(conn, size, last).await?,
            Command::Auth(mechanism, initial) => return self.auth(conn, mechanism, initial).await,
            Command::StartTls => self.start_tls(conn).await?,
            Command::Rset => {
                self.tx = None;
                conn.canned(Canned::Ok);
            }
            Command::Noop => conn.canned(Canned::Ok),
            Command::Quit => {
                conn.canned(Canned::Bye);
                return Ok(Flow::Close);
            }
            Command::Vrfy => conn.canned(Canned::Vrfy),
            Command::Expn => conn.canned(Canned::Expn),
            Command::Help => conn.canned(Canned::Help),
            Command::NotImplemented => conn.canned(Canned::NotImplemented),
        }
        Ok(Flow::Continue)
    }

    /// Sends a canned reply or the handler's.
    fn send<S>(&self, conn: &mut Conn<S>, reply: Result<Canned, crate::Reply>)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        match reply {
            Ok(canned) => conn.canned(canned),
            Err(reply) => conn.reply(reply.code, reply.status, &reply.text),
        }
    }

    /// EHLO/HELO: a new greeting ends any transaction (RFC 5321 §4.1.4).
    fn greet(&mut self, host: String) {
        self.tx = None;
        self.info.helo = host;
        self.greeted = true;
    }

    fn ehlo<S>(&self, conn: &mut Conn<S>)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let config = &self.shared.config;
        let size = format!("SIZE {}", config.max_message_size);
        let mut lines = vec![config.hostname.as_str(), "PIPELINING", &size, "8BITMIME", "SMTPUTF8", "CHUNKING"];
        if self.shared.tls.is_some() && !conn.is_tls() {
            lines.push("STARTTLS");
        }
        if self.auth_allowed(conn) {
            lines.push("AUTH PLAIN LOGIN");
        }
        lines.push("ENHANCEDSTATUSCODES");
        let last = lines.len() - 1;
        for (i, line) in lines.into_iter().enumerate() {
            render_line(conn.out(), 250, if i == last { ' ' } else { '-' }, "", line);
        }
    }

    /// AUTH is offered on submission over TLS, or in plaintext from loopback when allowed.
    pub(crate) fn auth_allowed<S>(&self, conn: &Conn<S>) -> bool
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let config = &self.shared.config;
        config.mode == Mode::Submission
            && (conn.is_tls()
                || (config.plaintext_auth_on_loopback && self.info.peer.ip().to_canonical().is_loopback()))
    }

    /// True when a MAIL has been accepted and its message not yet ended.
    pub(crate) fn in_transaction(&self) -> bool {
        self.tx.is_some()
    }

    async fn mail(
        &mut self,
        from: String,
        size: usize,
        eight_bit: bool,
        smtputf8: bool,
    ) -> Result<Canned, crate::Reply> {
        if !self.greeted {
            return Ok(Canned::NeedHelo);
        }
        if self.tx.is_some() {
            return Ok(Canned::NestedMail);
        }
        if self.info.mode == Mode::Submission && self.info.principal.is_none() {
            return Ok(Canned::AuthRequired);
        }
        if size > self.shared.config.max_message_size {
            return Ok(Canned::SizeExceeded);
        }
        self.shared.handler.mail_from(&self.info, &from).await?;
        let envelope = Envelope { mail_from: from, rcpt_to: Vec::new(), eight_bit, smtputf8 };
        self.tx = Some(Transaction { envelope, chunks: None });
        Ok(Canned::MailOk)
    }

    async fn rcpt(&mut self, to: String) -> Result<Canned, crate::Reply> {
        let Some(tx) = &mut self.tx else {
            return Ok(Canned::NeedMail);
        };
        if tx.chunks.is_some() {
            return Ok(Canned::BadSequence);
        }
        if !tx.envelope.smtputf8 && !to.is_ascii() {
            return Ok(Canned::NeedSmtpUtf8);
        }
        if tx.envelope.rcpt_to.len() >= self.shared.config.max_recipients {
            return Ok(Canned::TooManyRecipients);
        }
        self.shared.handler.rcpt_to(&self.info, &tx.envelope, &to).await?;
        tx.envelope.rcpt_to.push(to);
        Ok(Canned::RcptOk)
    }

    async fn data<S>(&mut self, conn: &mut Conn<S>) -> Result<(), Stop>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let refusal = match &self.tx {
            None => Some(Canned::NeedMail),
            Some(tx) if tx.chunks.is_some() => Some(Canned::DataAfterBdat),
            Some(tx) if tx.envelope.rcpt_to.is_empty() => Some(Canned::NoValidRecipients),
            Some(_) => None,
        };
        if let Some(refusal) = refusal {
            conn.canned(refusal);
            return Ok(());
        }
        conn.canned(Canned::StartData);
        let mut decoder = DataDecoder::new();
        let mut body = Body::new(self.shared.config.max_message_size);
        loop {
            let buffered = conn.buffered();
            if let Some(n) = decoder.feed(buffered, &mut body) {
                conn.consume(n);
                break;
            }
            let n = buffered.len();
            conn.consume(n);
            conn.fill_body().await?;
        }
        if let Some(tx) = self.tx.take() {
            self.deliver(conn, tx.envelope, body).await;
        }
        Ok(())
    }

    /// BDAT (RFC 3030): the chunk is always read, even when refused, so the
    /// next command is found where the client put it.
    async fn bdat<S>(&mut self, conn: &mut Conn<S>, size: usize, last: bool) -> Result<(), Stop>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let max = self.shared.config.max_message_size;
        let mut target = match &mut self.tx {
            None => Err(Canned::NeedMail),
            Some(tx) if tx.envelope.rcpt_to.is_empty() => Err(Canned::BdatNoRecipients),
            Some(tx) => Ok(tx.chunks.get_or_insert_with(|| Body::new(max))),
        };
        let mut left = size;
        while left > 0 {
            if conn.buffered().is_empty() {
                conn.fill_body().await?;
            }
            let buffered = conn.buffered();
            let n = buffered.len().min(left);
            if let Ok(body) = &mut target {
                body.push(&buffered[..n]);
            }
            conn.consume(n);
            left -= n;
        }
        let too_large = match target {
            Err(refusal) => {
                conn.canned(refusal);
                return Ok(());
            }
            Ok(body) => body.is_too_large(),
        };
        if too_large {
            self.tx = None;
            conn.canned(Canned::SizeExceeded);
        } else if last {
            if let Some(mut tx) = self.tx.take() {
                let body = tx.chunks.take().unwrap_or_else(|| Body::new(max));
                self.deliver(conn, tx.envelope, body).await;
            }
        } else {
            conn.reply(250, "2.0.0", &format!("{size} octets received"));
        }
        Ok(())
    }

    /// Checks a complete body and hands it to the handler. The transaction
    /// has already been cleared: every message, accepted or not, ends it.
    async fn deliver<S>(&mut self, conn: &mut Conn<S>, envelope: Envelope, body: Body)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        match body.finish() {
            Ok(message) => {
                let reply = self.shared.handler.data(&self.info, &envelope, message).await;
                conn.reply(reply.code, reply.status, &reply.text);
            }
            Err(BodyError::TooLarge) => conn.canned(Canned::SizeExceeded),
            Err(BodyError::BareCrLf) => conn.canned(Canned::BareCrLf),
            Err(BodyError::LineTooLong) => conn.canned(Canned::MessageLineTooLong),
            Err(BodyError::HeaderTooLarge) => conn.canned(Canned::HeaderTooLarge),
        }
    }

    /// STARTTLS (RFC 3207): afterwards the session starts over, unauthenticated and ungreeted.
    async fn start_tls<S>(&mut self, conn: &mut Conn<S>) -> Result<(), Stop>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let Some(acceptor) = &self.shared.tls else {
            conn.canned(Canned::TlsUnavailable);
            return Ok(());
        };
        if conn.is_tls() {
            conn.canned(Canned::AlreadyTls);
            return Ok(());
        }
        conn.canned(Canned::TlsReady);
        conn.start_tls(acceptor).await?;
        self.tx = None;
        self.greeted = false;
        self.info.helo.clear();
        self.info.principal = None;
        self.info.tls = true;
        Ok(())
    }
}
