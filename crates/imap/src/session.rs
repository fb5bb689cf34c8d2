//! One connection: the read loop around the `Fragmentizer`, literal and line
//! limits, timeouts, and the STARTTLS switch.

use std::net::SocketAddr;
use std::sync::Arc;

use imap_codec::decode::Decoder;
use imap_codec::fragmentizer::{FragmentInfo, Fragmentizer, LiteralAnnouncement};
use imap_codec::imap_types::IntoStatic;
use imap_codec::imap_types::core::LiteralMode;
use imap_codec::{AuthenticateDataCodec, CommandCodec, IdleDoneCodec};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;

use crate::commands::{After, State};
use crate::{Backend, Config, Error, wire};

/// Output is flushed at least this often while a pipelined batch is processed.
const FLUSH_AT: usize = 64 * 1024;

/// How often an idling session looks for new mail (RFC 2177 IDLE).
const IDLE_POLL: std::time::Duration = std::time::Duration::from_secs(1);

/// What the next complete message is.
pub(crate) enum Mode {
    /// A command.
    Command,
    /// The client's answer in an AUTHENTICATE PLAIN exchange, for this tag.
    Authenticate(String),
    /// `DONE` ending IDLE, for this tag.
    Idle(String),
}

pub(crate) async fn run<B, S>(
    mut stream: S,
    peer: SocketAddr,
    config: Arc<Config>,
    backend: Arc<B>,
) -> Result<(), Error>
where
    B: Backend,
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let mut state = State::new(peer, Arc::clone(&config), backend);
    let greeting = format!("* OK [CAPABILITY {}] {} IMAP4rev1 ready\r\n", state.capabilities(), config.hostname);
    stream.write_all(greeting.as_bytes()).await?;
    match drive(&mut stream, &mut state).await? {
        After::StartTls => {
            let Some(tls) = config.tls.clone() else { return Ok(()) };
            let mut tls = TlsAcceptor::from(tls).accept(stream).await?;
            state.tls_active = true;
            drive(&mut tls, &mut state).await?;
            let _ = tls.shutdown().await;
        }
        After::Continue | After::Close => {
            let _ = stream.shutdown().await;
        }
    }
    Ok(())
}

/// Reads and answers until the session ends or switches to TLS. A fresh
/// `Fragmentizer` per call drops anything pipelined before the handshake.
async fn drive<B, S>(stream: &mut S, state: &mut State<B>) -> Result<After, Error>
where
    B: Backend,
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let config = Arc::clone(&state.config);
    // Room for the largest literal plus the command line around it.
    let max_message = config.max_literal_size.saturating_add(u32::try_from(config.max_line_length).unwrap_or(u32::MAX));
    let mut frag = Fragmentizer::new(max_message);
    let mut mode = Mode::Command;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    let mut unframed = 0usize;
    let mut literal_pending = 0usize;
    loop {
        let Some(info) = frag.progress() else {
            if unframed > config.max_line_length.saturating_add(literal_pending) {
                out.extend_from_slice(b"* BYE [TOOBIG] Command line too long\r\n");
                stream.write_all(&out).await?;
                return Ok(After::Close);
            }
            stream.write_all(&out).await?;
            out.clear();
            // While idling, look at the selected mailbox every IDLE_POLL: mail
            // may arrive through another process (a cluster node) that sends
            // this one no notice. `read` is cancel-safe, so nothing is lost.
            let deadline = tokio::time::Instant::now() + config.idle_timeout;
            let n = loop {
                let idling = matches!(mode, Mode::Idle(_));
                let wake = if idling { deadline.min(tokio::time::Instant::now() + IDLE_POLL) } else { deadline };
                match tokio::time::timeout_at(wake, stream.read(&mut buf)).await {
                    Ok(n) => break n?,
                    Err(_) if tokio::time::Instant::now() >= deadline => {
                        stream.write_all(b"* BYE Autologout; idle for too long\r\n").await?;
                        return Ok(After::Close);
                    }
                    Err(_) => {
                        if state.backend.refresh().await.is_ok() {
                            state.poll(&mut out).await;
                        }
                        stream.write_all(&out).await?;
                        out.clear();
                    }
                }
            };
            if n == 0 {
                return Ok(After::Close);
            }
            unframed += n;
            frag.enqueue_bytes(&buf[..n]);
            continue;
        };
        unframed = 0;
        literal_pending = 0;
        if let FragmentInfo::Line { announcement: Some(LiteralAnnouncement { mode: lit, length }), .. } = info {
            if length > config.max_literal_size {
                let tag = frag.decode_tag().map(|t| t.as_ref().to_owned());
                if lit == LiteralMode::NonSync {
                    // RFC 7888: the client sends the bytes regardless, so the stream can't be resynchronized.
                    wire::status(&mut out, tag.as_deref().unwrap_or("*"), "BAD", Some("TOOBIG"), "Literal too big");
                    out.extend_from_slice(b"* BYE Literal too big\r\n");
                    stream.write_all(&out).await?;
                    return Ok(After::Close);
                }
                wire::status(&mut out, tag.as_deref().unwrap_or("*"), "NO", Some("TOOBIG"), "Literal too big");
                frag.skip_message();
                continue;
            }
            literal_pending = usize::try_from(length).unwrap_or(usize::MAX);
            if lit == LiteralMode::Sync {
                out.extend_from_slice(b"+ Ready for literal data\r\n");
            }
            continue;
        }
        if !frag.is_message_complete() {
            continue;
        }
        let after = match std::mem::replace(&mut mode, Mode::Command) {
            Mode::Command => {
                state.dollar = None;
                match frag.decode_message(&CommandCodec::default()) {
                    Ok(command) => {
                        let command = command.into_static();
                        state.command(command, &mut out, &mut mode).await
                    }
                    Err(_) => undecoded(state, &frag, &mut out, &mut mode).await,
                }
            }
            Mode::Authenticate(tag) => match frag.decode_message(&AuthenticateDataCodec::default()) {
                Ok(data) => {
                    let data = data.into_static();
                    state.authenticate_data(&tag, data, &mut out).await
                }
                Err(_) => {
                    wire::status(&mut out, &tag, "BAD", None, "Invalid SASL response");
                    After::Continue
                }
            },
            Mode::Idle(tag) => {
                if frag.decode_message(&IdleDoneCodec::default()).is_ok() {
                    wire::status(&mut out, &tag, "OK", None, "IDLE terminated");
                } else {
                    wire::status(&mut out, &tag, "BAD", None, "Expected DONE");
                }
                After::Continue
            }
        };
        match after {
            After::Continue => {}
            After::Close => {
                stream.write_all(&out).await?;
                return Ok(After::Close);
            }
            After::StartTls => {
                stream.write_all(&out).await?;
                stream.flush().await?;
                return Ok(After::StartTls);
            }
        }
        if out.len() >= FLUSH_AT {
            stream.write_all(&out).await?;
            out.clear();
        }
    }
}

/// A message the codec refused: a command using SEARCHRES's `$`, a SEARCH
/// with `RETURN`, a LIST with LIST-EXTENDED's options or several patterns,
/// an ACL command, or a syntax error.
async fn undecoded<B: Backend>(state: &mut State<B>, frag: &Fragmentizer, out: &mut Vec<u8>, mode: &mut Mode) -> After {
    let message = frag.message_bytes();
    let substituted = crate::searchres::substitute(message);
    let (bytes, marker) = match &substituted {
        Some((line, marker)) => (line.as_slice(), Some(*marker)),
        None => (message, None),
    };
    state.dollar = marker;
    if marker.is_some()
        && let Ok((_, command)) = CommandCodec::default().decode(bytes)
    {
        let command = command.into_static();
        return state.command(command, out, mode).await;
    }
    if let Some((command, ret)) = crate::search::parse_return(bytes) {
        return state.esearch(command, ret, out).await;
    }
    state.dollar = None;
    if let Some((command, options)) = crate::mailboxes::parse_list_extended(message) {
        return state.list_extended(command, options, out).await;
    }
    match crate::acl::parse(message, state.utf8) {
        Some((tag, command)) => state.acl(&tag, command, out).await,
        None => {
            let tag = frag.decode_tag().map(|t| t.as_ref().to_owned());
            wire::status(out, tag.as_deref().unwrap_or("*"), "BAD", None, "Syntax error");
            After::Continue
        }
    }
}
