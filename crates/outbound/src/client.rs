//! The SMTP client side of one connection (RFC 5321): replies read with
//! smtp-proto's parser, every wait bounded by a timeout.

use std::time::Duration;

use smtp_proto::response::parser::ResponseReceiver;
use smtp_proto::{EXT_8BIT_MIME, EXT_SIZE, EXT_SMTP_UTF8, EXT_START_TLS, EhloResponse};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The longest reply accepted (a long EHLO list is a few hundred bytes).
const MAX_REPLY: usize = 64 * 1024;

/// A server's reply, kept as the one line a person reads in a bounce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    pub(crate) code: u16,
    /// `250 2.1.5 Ok`, continuation lines joined with spaces.
    pub(crate) text: String,
}

impl Reply {
    pub(crate) fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }

    pub(crate) fn is_permanent(&self) -> bool {
        (500..600).contains(&self.code)
    }

    /// A reply Deputy makes up for a failure of its own (connection,
    /// timeout, DNS), in the same shape as a server's.
    pub(crate) fn local(code: u16, text: impl std::fmt::Display) -> Self {
        Self { code, text: format!("{code} {text}") }
    }
}

/// Why a session ended before its transaction did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SessionError {
    /// The server refused (greeting, EHLO, MAIL FROM); its reply.
    Refused(Reply),
    /// The connection broke, timed out or spoke nonsense: the message state
    /// is unknown, so it counts as a temporary failure.
    Broken(String),
}

/// What `EHLO` told us.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Capabilities {
    pub(crate) starttls: bool,
    pub(crate) eight_bit_mime: bool,
    pub(crate) smtputf8: bool,
    /// Announced `SIZE` limit (0 = none given).
    pub(crate) size: usize,
}

/// One connection: the stream, bytes read but not yet used, and the name of
/// the peer for messages.
pub(crate) struct Session<S> {
    stream: S,
    buf: Vec<u8>,
    peer: String,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    pub(crate) fn new(stream: S, peer: String) -> Self {
        Self { stream, buf: Vec::new(), peer }
    }

    pub(crate) fn peer(&self) -> &str {
        &self.peer
    }

    /// The stream, for the TLS handshake. Refuses when the server sent
    /// bytes after its reply to STARTTLS: accepting them would let a
    /// man in the middle inject commands into the TLS session (CVE-2011-0411).
    pub(crate) fn into_stream(self) -> Result<S, SessionError> {
        if self.buf.is_empty() {
            Ok(self.stream)
        } else {
            Err(SessionError::Broken(format!("{} sent data ahead of the TLS handshake", self.peer)))
        }
    }

    /// Reads one complete reply (all its lines).
    async fn read_raw(&mut self) -> Result<Vec<u8>, SessionError> {
        loop {
            if let Some(end) = reply_end(&self.buf) {
                let rest = self.buf.split_off(end);
                return Ok(std::mem::replace(&mut self.buf, rest));
            }
            if self.buf.len() > MAX_REPLY {
                return Err(SessionError::Broken(format!("{} sent an overlong reply", self.peer)));
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).await.map_err(|e| self.broken(e))?;
            if n == 0 {
                return Err(SessionError::Broken(format!("{} closed the connection", self.peer)));
            }
            self.buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
        }
    }

    fn broken(&self, e: impl std::fmt::Display) -> SessionError {
        SessionError::Broken(format!("{}: {e}", self.peer))
    }

    /// The next reply, within `limit`.
    pub(crate) async fn reply(&mut self, limit: Duration, waiting_for: &str) -> Result<Reply, SessionError> {
        let raw = tokio::time::timeout(limit, self.read_raw())
            .await
            .map_err(|_| SessionError::Broken(format!("timed out waiting for {} ({waiting_for})", self.peer)))??;
        parse_reply(&raw).ok_or_else(|| SessionError::Broken(format!("{} sent an unreadable reply", self.peer)))
    }

    /// Sends `line` (without CRLF) and reads the reply.
    pub(crate) async fn command(&mut self, line: &str, limit: Duration) -> Result<Reply, SessionError> {
        let mut bytes = Vec::with_capacity(line.len() + 2);
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        self.write_all(&bytes, limit).await?;
        let verb = line.split([' ', ':']).next().unwrap_or(line);
        self.reply(limit, &format!("reply to {verb}")).await
    }

    async fn write_all(&mut self, bytes: &[u8], limit: Duration) -> Result<(), SessionError> {
        let write = async {
            self.stream.write_all(bytes).await?;
            self.stream.flush().await
        };
        match tokio::time::timeout(limit, write).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(self.broken(e)),
            Err(_) => Err(SessionError::Broken(format!("timed out writing to {}", self.peer))),
        }
    }

    /// `EHLO`, falling back to `HELO` for a server that refuses it (RFC 5321 §3.2).
    pub(crate) async fn hello(&mut self, name: &str, limit: Duration) -> Result<Capabilities, SessionError> {
        let line = format!("EHLO {name}\r\n");
        self.write_all(line.as_bytes(), limit).await?;
        let raw = tokio::time::timeout(limit, self.read_raw())
            .await
            .map_err(|_| SessionError::Broken(format!("timed out waiting for {} (reply to EHLO)", self.peer)))??;
        if raw.starts_with(b"250") {
            let ehlo =
                EhloResponse::<String>::parse(&mut raw.iter()).unwrap_or_else(|_| EhloResponse::new(String::new()));
            return Ok(Capabilities {
                starttls: ehlo.has_capability(EXT_START_TLS),
                eight_bit_mime: ehlo.has_capability(EXT_8BIT_MIME),
                smtputf8: ehlo.has_capability(EXT_SMTP_UTF8),
                size: if ehlo.has_capability(EXT_SIZE) { ehlo.size } else { 0 },
            });
        }
        let reply =
            parse_reply(&raw).ok_or_else(|| SessionError::Broken(format!("{} sent an unreadable reply", self.peer)))?;
        if !(500..=504).contains(&reply.code) {
            return Err(SessionError::Refused(reply));
        }
        let helo = self.command(&format!("HELO {name}"), limit).await?;
        if helo.is_positive() { Ok(Capabilities::default()) } else { Err(SessionError::Refused(helo)) }
    }

    /// Sends the message after a 354, dot-stuffed with CRLF line ends, and
    /// reads the reply to the final dot.
    pub(crate) async fn data(&mut self, message: &[u8], limit: Duration) -> Result<Reply, SessionError> {
        let wire = dot_stuff(message);
        self.write_all(&wire, limit).await?;
        self.reply(limit, "reply to the end of data").await
    }

    /// `QUIT`, politely, without waiting long: the transaction is already decided.
    pub(crate) async fn quit(mut self) {
        let _ = self.command("QUIT", Duration::from_secs(5)).await;
        let _ = self.stream.shutdown().await;
    }
}

/// Where the first complete reply in `buf` ends: after the line whose code
/// is followed by a space (or nothing), not a hyphen.
fn reply_end(buf: &[u8]) -> Option<usize> {
    let mut start = 0;
    while let Some(nl) = buf.get(start..)?.iter().position(|&b| b == b'\n') {
        let line = buf.get(start..start + nl)?;
        let end = start + nl + 1;
        if line.get(3) != Some(&b'-') {
            return Some(end);
        }
        start = end;
    }
    None
}

fn parse_reply(raw: &[u8]) -> Option<Reply> {
    let response = ResponseReceiver::default().parse(&mut raw.iter()).ok()?;
    let message = response.message.split_whitespace().collect::<Vec<_>>().join(" ");
    let [class, subject, detail] = response.esc;
    let text = if class == 0 {
        format!("{} {message}", response.code)
    } else {
        format!("{} {class}.{subject}.{detail} {message}", response.code)
    };
    Some(Reply { code: response.code, text: text.trim_end().to_owned() })
}

/// The message as DATA carries it: every line ending CRLF (bare LF or CR
/// become CRLF, RFC 5321 §2.3.8), a leading dot doubled (§4.5.2), then the
/// terminating `.` line.
pub(crate) fn dot_stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + message.len() / 50 + 5);
    let mut at_line_start = true;
    let mut iter = message.iter().copied().peekable();
    while let Some(b) = iter.next() {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        match b {
            b'\r' => {
                if iter.peek() == Some(&b'\n') {
                    iter.next();
                }
                out.extend_from_slice(b"\r\n");
                at_line_start = true;
            }
            b'\n' => {
                out.extend_from_slice(b"\r\n");
                at_line_start = true;
            }
            _ => {
                out.push(b);
                at_line_start = false;
            }
        }
    }
    if !at_line_start {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_stuffing_doubles_leading_dots_and_normalizes_line_ends() {
        assert_eq!(dot_stuff(b"a\r\n.b\r\n"), b"a\r\n..b\r\n.\r\n");
        assert_eq!(dot_stuff(b".\nx"), b"..\r\nx\r\n.\r\n");
        assert_eq!(dot_stuff(b""), b".\r\n");
        assert_eq!(dot_stuff(b"a\rb"), b"a\r\nb\r\n.\r\n");
    }

    #[test]
    fn a_multiline_reply_ends_at_its_last_line() {
        assert_eq!(reply_end(b"250-a\r\n250 b\r\nextra"), Some(14));
        assert_eq!(reply_end(b"250-a\r\n"), None);
        assert_eq!(reply_end(b"220\r\n"), Some(5));
    }

    #[test]
    fn replies_keep_their_enhanced_status() {
        let r = parse_reply(b"550-5.1.1 No such\r\n550 5.1.1 user here\r\n").unwrap_or_else(|| Reply::local(0, ""));
        assert_eq!(r.code, 550);
        assert!(r.text.starts_with("550 5.1.1 No such"), "{}", r.text);
        let r = parse_reply(b"250 Ok\r\n").unwrap_or_else(|| Reply::local(0, ""));
        assert_eq!(r.text, "250 Ok");
    }
}
