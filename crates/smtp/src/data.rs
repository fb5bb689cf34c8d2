//! The message body codec: DATA's end-of-data detection and dot-unstuffing,
//! and the checks every body gets (DATA or BDAT) as it streams in.
//!
//! Written by hand rather than with `smtp_proto::request::receiver::DataReceiver`
//! because that receiver does not meet Deputy's smuggling rules: after
//! `<CRLF>.` it ends the message at the next `<CRLF>` even when other bytes
//! came between (so `<CRLF>.<CR><CR><LF>` ends a message that other servers
//! would continue), it does not report bare CR or LF, it buffers without a size
//! bound, and it does not recognise a terminator right after the DATA line.
//!
//! Deputy's rules (a Deputy decision, following Postfix's
//! `smtpd_forbid_bare_newline` and the 2023 SMTP smuggling reports):
//! - only the exact sequence `<CRLF>.<CRLF>` ends DATA; the DATA command's own
//!   CRLF counts, so an empty message is `.<CRLF>` right after `354`;
//! - a bare CR or bare LF is never part of a line ending or of a terminator;
//! - a message containing any bare CR or LF is read to its real end and then
//!   refused as a whole (`550 5.5.2`), so no byte sequence can split one
//!   message into two here or downstream.

use memchr::{memchr, memchr2_iter};

/// Longest line RFC 5321 §4.5.3.1.6 allows, excluding the CRLF.
pub const MAX_LINE: usize = 998;

/// Largest header section Deputy accepts.
pub const MAX_HEADER: usize = 256 * 1024;

/// Why a complete body is refused; the session maps each to its reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// More octets than the configured maximum message size.
    TooLarge,
    /// A CR not followed by LF, or an LF not preceded by CR.
    BareCrLf,
    /// A line longer than 998 octets.
    LineTooLong,
    /// A header section larger than 256 KiB.
    HeaderTooLarge,
}

/// Collects a body's content with its checks, never holding more than the
/// size limit in memory.
#[derive(Debug)]
pub struct Body {
    message: Vec<u8>,
    max_size: usize,
    size: usize,
    too_large: bool,
    bare: bool,
    long_line: bool,
    header_too_large: bool,
    in_header: bool,
    pending_cr: bool,
    line_len: usize,
}

impl Body {
    /// An empty body that accepts at most `max_size` octets.
    pub fn new(max_size: usize) -> Self {
        Body {
            message: Vec::new(),
            max_size,
            size: 0,
            too_large: false,
            bare: false,
            long_line: false,
            header_too_large: false,
            in_header: true,
            pending_cr: false,
            line_len: 0,
        }
    }

    /// Octets of content seen so far (including any discarded over the limit).
    pub fn size(&self) -> usize {
        self.size
    }

    /// True once the content went over the size limit (the rest is discarded).
    pub fn is_too_large(&self) -> bool {
        self.too_large
    }

    /// Appends content octets: checks them and keeps them while under the limit.
    pub fn push(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.scan(bytes);
        self.size = self.size.saturating_add(bytes.len());
        if self.too_large {
            return;
        }
        if self.size > self.max_size {
            // Free what was kept: the message will be refused anyway.
            self.too_large = true;
            self.message = Vec::new();
        } else {
            self.message.extend_from_slice(bytes);
        }
    }

    /// The complete message, or why it is refused.
    pub fn finish(mut self) -> Result<Vec<u8>, BodyError> {
        if self.pending_cr {
            self.bare = true;
        }
        if self.in_header && self.size > MAX_HEADER {
            self.header_too_large = true;
        }
        if self.too_large {
            Err(BodyError::TooLarge)
        } else if self.bare {
            Err(BodyError::BareCrLf)
        } else if self.long_line || self.line_len > MAX_LINE {
            Err(BodyError::LineTooLong)
        } else if self.header_too_large {
            Err(BodyError::HeaderTooLarge)
        } else {
            Ok(self.message)
        }
    }

    fn scan(&mut self, bytes: &[u8]) {
        let mut next = 0;
        for pos in memchr2_iter(b'\r', b'\n', bytes) {
            if pos > next {
                self.text(pos - next);
            }
            if bytes[pos] == b'\r' {
                if self.pending_cr {
                    self.bare = true;
                    self.line_len += 1;
                }
                self.pending_cr = true;
            } else {
                if !self.pending_cr {
                    self.bare = true;
                }
                self.pending_cr = false;
                self.end_line(self.size + pos + 1);
            }
            next = pos + 1;
        }
        if bytes.len() > next {
            self.text(bytes.len() - next);
        }
    }

    /// `n` octets that are neither CR nor LF.
    fn text(&mut self, n: usize) {
        if self.pending_cr {
            self.bare = true;
            self.pending_cr = false;
            self.line_len += 1;
        }
        self.line_len = self.line_len.saturating_add(n);
    }

    /// A line ended; `offset` is the octet count up to and including its LF.
    fn end_line(&mut self, offset: usize) {
        if self.line_len > MAX_LINE {
            self.long_line = true;
        }
        if self.in_header {
            if offset > MAX_HEADER {
                self.header_too_large = true;
                self.in_header = false;
            } else if self.line_len == 0 {
                self.in_header = false;
            }
        }
        self.line_len = 0;
    }
}

/// Where the DATA decoder is within a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Just after a CRLF (or the DATA command's CRLF).
    LineStart,
    /// A line began with a dot, which has been removed.
    Dot,
    /// `<CRLF>.<CR>` seen: only an LF now ends the message.
    DotCr,
    /// Anywhere else in a line.
    Text,
}

/// Finds the end of a DATA body on the wire and removes dot-stuffing.
#[derive(Debug)]
pub struct DataDecoder {
    state: State,
    /// The last content octet passed on was a CR.
    last_cr: bool,
}

impl Default for DataDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl DataDecoder {
    /// A decoder positioned right after the DATA command's CRLF.
    pub fn new() -> Self {
        DataDecoder { state: State::LineStart, last_cr: false }
    }

    /// Decodes wire octets into `body`. Returns `Some(n)` when the terminator
    /// ends within `input` (`n` octets consumed, terminator included; the rest
    /// belongs to the next command), or `None` when all of `input` was consumed.
    pub fn feed(&mut self, input: &[u8], body: &mut Body) -> Option<usize> {
        let mut i = 0;
        while i < input.len() {
            match self.state {
                State::LineStart => {
                    if input[i] == b'.' {
                        i += 1;
                        self.state = State::Dot;
                    } else {
                        self.state = State::Text;
                    }
                }
                State::Dot => {
                    if input[i] == b'\r' {
                        i += 1;
                        self.state = State::DotCr;
                    } else {
                        self.state = State::Text;
                    }
                }
                State::DotCr => {
                    if input[i] == b'\n' {
                        self.state = State::LineStart;
                        return Some(i + 1);
                    }
                    // `<CRLF>.<CR>` then something else: that CR is content.
                    body.push(b"\r");
                    self.last_cr = true;
                    self.state = State::Text;
                }
                State::Text => {
                    let rest = &input[i..];
                    match memchr(b'\n', rest) {
                        Some(p) => {
                            body.push(&rest[..=p]);
                            let crlf = if p == 0 { self.last_cr } else { rest[p - 1] == b'\r' };
                            self.last_cr = false;
                            // Only a real CRLF starts a line where a dot is special.
                            self.state = if crlf { State::LineStart } else { State::Text };
                            i += p + 1;
                        }
                        None => {
                            body.push(rest);
                            self.last_cr = rest.last() == Some(&b'\r');
                            i = input.len();
                        }
                    }
                }
            }
        }
        None
    }
}

/// Dot-stuffs `content` and appends the terminator, as a client sends it.
/// `content` should end with CRLF (or be empty) to round-trip unchanged.
pub fn encode(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + content.len() / 64 + 5);
    let mut line_start = true;
    for &b in content {
        if line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        line_start = b == b'\n';
    }
    if !(content.is_empty() || content.ends_with(b"\r\n")) {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `wire` in pieces of `step` octets; returns the consumed length and the result.
    fn decode(wire: &[u8], step: usize) -> (Option<usize>, Result<Vec<u8>, BodyError>) {
        let mut decoder = DataDecoder::new();
        let mut body = Body::new(1 << 20);
        let mut offset = 0;
        let mut end = None;
        for chunk in wire.chunks(step) {
            if let Some(n) = decoder.feed(chunk, &mut body) {
                end = Some(offset + n);
                break;
            }
            offset += chunk.len();
        }
        (end, body.finish())
    }

    #[test]
    fn only_crlf_dot_crlf_ends_data() {
        let cases: &[(&[u8], Option<usize>)] = &[
            (b".\r\n", Some(3)),
            (b"a\r\n.\r\nMAIL", Some(6)),
            (b"a\n.\nMAIL", None),
            (b"a\r.\rMAIL", None),
            (b"a\n.\r\nMAIL", None),
            (b"a\r\n.\nMAIL", None),
            (b"a\r\n.\r\r\nMAIL", None),
            (b"a\r.\r\nMAIL", None),
            (b"a\r\n..\r\n", None),
        ];
        for step in [1, 2, 3, 64] {
            for (wire, end) in cases {
                assert_eq!(decode(wire, step).0, *end, "{:?} step {step}", String::from_utf8_lossy(wire));
            }
        }
    }

    #[test]
    fn smuggled_terminators_make_the_message_refused() {
        for wire in [&b"a\n.\nb\r\n.\r\n"[..], b"a\r.\rb\r\n.\r\n", b"a\n.\r\nb\r\n.\r\n", b"a\r\n.\nb\r\n.\r\n"] {
            for step in [1, 5, 100] {
                let (end, result) = decode(wire, step);
                assert_eq!(end, Some(wire.len()));
                assert_eq!(result, Err(BodyError::BareCrLf));
            }
        }
    }

    #[test]
    fn dot_stuffing_is_removed() {
        let (_, result) = decode(b"..a\r\n..\r\nb\r\n...\r\n.\r\n", 1);
        assert_eq!(result, Ok(b".a\r\n.\r\nb\r\n..\r\n".to_vec()));
    }

    #[test]
    fn limits_are_checked_after_the_end() {
        let long = [b"x".repeat(999), b"\r\n.\r\n".to_vec()].concat();
        assert_eq!(decode(&long, 7).1, Err(BodyError::LineTooLong));
        let ok = [b"x".repeat(998), b"\r\n.\r\n".to_vec()].concat();
        assert!(decode(&ok, 7).1.is_ok());

        let mut body = Body::new(10);
        body.push(b"0123456789\r\n");
        assert_eq!(body.finish(), Err(BodyError::TooLarge));

        let mut header = Vec::new();
        while header.len() <= MAX_HEADER {
            header.extend_from_slice(b"X-Filler: 0123456789012345678901234567890123456789\r\n");
        }
        let mut body = Body::new(1 << 20);
        body.push(&header);
        body.push(b"\r\nbody\r\n");
        assert_eq!(body.finish(), Err(BodyError::HeaderTooLarge));
    }

    #[test]
    fn encode_round_trips() {
        let content = b"Subject: x\r\n\r\n.hidden\r\n..two\r\n.\r\nend\r\n";
        let wire = encode(content);
        let (end, result) = decode(&wire, 3);
        assert_eq!(end, Some(wire.len()));
        assert_eq!(result, Ok(content.to_vec()));
        assert_eq!(decode(&encode(b""), 1), (Some(3), Ok(Vec::new())));
    }
}
