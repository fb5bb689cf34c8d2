//! Command lines to typed commands: `smtp-proto` parses the grammar, this
//! module adds Deputy's stricter checks (line framing, address contents and
//! lengths, the parameters Deputy supports) and maps every error to its reply.
//! Pure and synchronous: no I/O, no session state.

use smtp_proto::{
    AUTH_LOGIN, AUTH_PLAIN, Error as ProtoError, MAIL_BODY_7BIT, MAIL_BODY_8BITMIME, MAIL_SMTPUTF8, MailFrom, RcptTo,
    Request,
};

use crate::reply::Canned;

/// Longest command line accepted, CRLF included. RFC 5321 §4.5.3.1.4 says
/// 512, but extensions lengthen MAIL; Postfix-like tolerance.
pub const MAX_COMMAND_LINE: usize = 2048;

/// Longest local part (RFC 5321 §4.5.3.1.1).
const MAX_LOCAL_PART: usize = 64;
/// Longest address (RFC 5321 §4.5.3.1.3's 256-octet path less the brackets,
/// less RFC 3696 erratum 1690's two).
const MAX_ADDRESS: usize = 254;

/// A SASL mechanism Deputy implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// RFC 4616.
    Plain,
    /// The de-facto LOGIN mechanism.
    Login,
}

/// One parsed client command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `EHLO domain`.
    Ehlo(String),
    /// `HELO domain`.
    Helo(String),
    /// `MAIL FROM:<path>` with the parameters Deputy supports.
    Mail {
        /// The reverse-path (empty for `<>`).
        from: String,
        /// `SIZE=` (0 when absent).
        size: usize,
        /// `BODY=8BITMIME`.
        eight_bit: bool,
        /// `SMTPUTF8`.
        smtputf8: bool,
    },
    /// `RCPT TO:<path>`.
    Rcpt(String),
    /// `DATA`.
    Data,
    /// `BDAT size [LAST]`.
    Bdat {
        /// Chunk size in octets.
        size: usize,
        /// `LAST` was given.
        last: bool,
    },
    /// `AUTH mechanism [initial-response]`; `None` for a mechanism Deputy lacks.
    Auth(Option<Mechanism>, Option<String>),
    /// `STARTTLS`.
    StartTls,
    /// `RSET`.
    Rset,
    /// `NOOP`.
    Noop,
    /// `QUIT`.
    Quit,
    /// `VRFY`.
    Vrfy,
    /// `EXPN`.
    Expn,
    /// `HELP`.
    Help,
    /// ETRN, ATRN, BURL, LHLO: recognised, not offered.
    NotImplemented,
}

/// Why a command line was refused, and how the session must react.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Reply and go on reading commands.
    Reply(Canned),
    /// Reply with text naming the offending parameter.
    Unsupported(String),
    /// A BDAT whose size cannot be read: the chunk cannot be skipped, so the
    /// byte stream can no longer be framed and the session must end.
    BadBdat,
}

/// Parses one command line (`line` ends with LF; the caller framed it).
pub fn parse(line: &[u8]) -> Result<Command, Refusal> {
    let body = line.strip_suffix(b"\n").unwrap_or(line);
    let Some(body) = body.strip_suffix(b"\r") else {
        // RFC 5321 §2.3.8: lines end with CRLF; a bare LF is refused, never guessed at.
        return Err(Refusal::Reply(Canned::BareLfCommand));
    };
    if body.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(Refusal::Reply(Canned::BadCharacters));
    }
    if std::str::from_utf8(body).is_err() {
        return Err(Refusal::Reply(Canned::BadUtf8));
    }
    let is_bdat =
        body.get(..4).is_some_and(|verb| verb.eq_ignore_ascii_case(b"BDAT")) && body.get(4).is_none_or(|&b| b == b' ');
    let request = match Request::parse(&mut line.iter()) {
        Ok(request) => request,
        Err(_) if is_bdat => return Err(Refusal::BadBdat),
        Err(error) => return Err(map_error(error)),
    };
    Ok(match request {
        Request::Ehlo { host } => Command::Ehlo(domain(host.into_owned())?),
        Request::Helo { host } => Command::Helo(domain(host.into_owned())?),
        Request::Mail { from } => mail(from)?,
        Request::Rcpt { to } => rcpt(to, body)?,
        Request::Data => Command::Data,
        Request::Bdat { chunk_size, is_last } => Command::Bdat { size: chunk_size, last: is_last },
        Request::Auth { mechanism, initial_response } => {
            let mechanism = match mechanism {
                AUTH_PLAIN => Some(Mechanism::Plain),
                AUTH_LOGIN => Some(Mechanism::Login),
                _ => None,
            };
            let initial = (!initial_response.is_empty()).then(|| initial_response.into_owned());
            Command::Auth(mechanism, initial)
        }
        Request::StartTls => Command::StartTls,
        Request::Rset => Command::Rset,
        Request::Noop { .. } => Command::Noop,
        Request::Quit => Command::Quit,
        Request::Vrfy { .. } => Command::Vrfy,
        Request::Expn { .. } => Command::Expn,
        Request::Help { .. } => Command::Help,
        Request::Lhlo { .. } | Request::Etrn { .. } | Request::Atrn { .. } | Request::Burl { .. } => {
            Command::NotImplemented
        }
    })
}

fn map_error(error: ProtoError) -> Refusal {
    Refusal::Reply(match error {
        ProtoError::UnknownCommand => Canned::UnknownCommand,
        ProtoError::InvalidSenderAddress => Canned::BadSender,
        ProtoError::InvalidRecipientAddress => Canned::BadRecipient,
        ProtoError::InvalidParameter { .. } => Canned::BadParameter,
        ProtoError::UnsupportedParameter { param } => return Refusal::Unsupported(param),
        ProtoError::SyntaxError { .. }
        | ProtoError::NeedsMoreData { .. }
        | ProtoError::ResponseTooLong
        | ProtoError::InvalidResponse { .. } => Canned::SyntaxError,
    })
}

fn mail(from: MailFrom<std::borrow::Cow<'_, str>>) -> Result<Command, Refusal> {
    let supported = MAIL_BODY_7BIT | MAIL_BODY_8BITMIME | MAIL_SMTPUTF8;
    // smtp-proto parses DSN, FUTURERELEASE, MT-PRIORITY and more; Deputy offers
    // none of them, so their presence is an unsupported parameter (RFC 5321 §4.1.1.11).
    let unsupported = from.flags & !supported != 0
        || from.trans_id.is_some()
        || from.by != 0
        || from.env_id.is_some()
        || from.solicit.is_some()
        || from.mtrk.is_some()
        || from.hold_for != 0
        || from.hold_until != 0
        || from.mt_priority != 0;
    if unsupported {
        return Err(Refusal::Reply(Canned::UnsupportedParameter));
    }
    let smtputf8 = from.flags & MAIL_SMTPUTF8 != 0;
    let address = from.address.into_owned();
    if !address.is_empty() {
        check_address(&address, Canned::BadSender)?;
        if !smtputf8 && !address.is_ascii() {
            return Err(Refusal::Reply(Canned::NeedSmtpUtf8));
        }
    }
    Ok(Command::Mail { from: address, size: from.size, eight_bit: from.flags & MAIL_BODY_8BITMIME != 0, smtputf8 })
}

fn rcpt(to: RcptTo<std::borrow::Cow<'_, str>>, line: &[u8]) -> Result<Command, Refusal> {
    if to.flags != 0 || to.orcpt.is_some() || to.rrvs != 0 {
        return Err(Refusal::Reply(Canned::UnsupportedParameter));
    }
    let address = to.address.into_owned();
    if address.is_empty() {
        // smtp-proto turns `<postmaster>` into "" as it does `<>`; only the
        // former is a valid forward-path (RFC 5321 §4.1.1.3).
        let postmaster = memchr::memmem::find(&line.to_ascii_lowercase(), b"<postmaster>").is_some();
        return if postmaster {
            Ok(Command::Rcpt("postmaster".into()))
        } else {
            Err(Refusal::Reply(Canned::BadRecipient))
        };
    }
    check_address(&address, Canned::BadRecipient)?;
    Ok(Command::Rcpt(address))
}

/// The EHLO/HELO name ends up in trace headers: no control characters.
fn domain(host: String) -> Result<String, Refusal> {
    if host.chars().any(|c| c.is_control() || c == char::REPLACEMENT_CHARACTER) {
        return Err(Refusal::Reply(Canned::BadDomain));
    }
    Ok(host)
}

/// The header-injection defence: an address never carries control
/// characters and stays within RFC 5321's lengths.
fn check_address(address: &str, refusal: Canned) -> Result<(), Refusal> {
    let bad = address.chars().any(|c| c.is_control() || c == char::REPLACEMENT_CHARACTER);
    let local = address.rsplit_once('@').map_or(address, |(local, _)| local);
    if bad || address.len() > MAX_ADDRESS || local.len() > MAX_LOCAL_PART {
        return Err(Refusal::Reply(refusal));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &str) -> Command {
        parse(line.as_bytes()).unwrap()
    }

    fn refused(line: &[u8]) -> Refusal {
        parse(line).unwrap_err()
    }

    #[test]
    fn mail_parameters() {
        assert_eq!(
            ok("MAIL FROM:<a@b.test> SIZE=100 BODY=8BITMIME SMTPUTF8 AUTH=<>\r\n"),
            Command::Mail { from: "a@b.test".into(), size: 100, eight_bit: true, smtputf8: true }
        );
        assert_eq!(
            ok("mail from:<>\r\n"),
            Command::Mail { from: String::new(), size: 0, eight_bit: false, smtputf8: false }
        );
        assert_eq!(refused(b"MAIL FROM:<a@b.test> RET=FULL\r\n"), Refusal::Reply(Canned::UnsupportedParameter));
        assert!(matches!(refused(b"MAIL FROM:<a@b.test> FOO=BAR\r\n"), Refusal::Unsupported(_)));
        assert_eq!(refused(b"MAIL FROM:<\xc3\xa9@b.test>\r\n"), Refusal::Reply(Canned::NeedSmtpUtf8));
    }

    #[test]
    fn addresses_with_control_characters_or_too_long_are_refused() {
        assert_eq!(refused(b"RCPT TO:<\"a\x01b\"@b.test>\r\n"), Refusal::Reply(Canned::BadRecipient));
        assert_eq!(refused(b"RCPT TO:<a\rb@b.test>\r\n"), Refusal::Reply(Canned::BadCharacters));
        let long_local = format!("RCPT TO:<{}@b.test>\r\n", "a".repeat(65));
        assert_eq!(refused(long_local.as_bytes()), Refusal::Reply(Canned::BadRecipient));
        let long = format!("MAIL FROM:<a@{}.test>\r\n", "b".repeat(250));
        assert_eq!(refused(long.as_bytes()), Refusal::Reply(Canned::BadSender));
        assert_eq!(refused(b"RCPT TO:<>\r\n"), Refusal::Reply(Canned::BadRecipient));
        assert_eq!(ok("RCPT TO:<Postmaster>\r\n"), Command::Rcpt("postmaster".into()));
    }

    #[test]
    fn framing_and_bdat() {
        assert_eq!(refused(b"NOOP\n"), Refusal::Reply(Canned::BareLfCommand));
        assert_eq!(refused(b"FOO\r\n"), Refusal::Reply(Canned::UnknownCommand));
        assert_eq!(ok("BDAT 10 LAST\r\n"), Command::Bdat { size: 10, last: true });
        assert_eq!(ok("bdat 0\r\n"), Command::Bdat { size: 0, last: false });
        assert_eq!(refused(b"BDAT x\r\n"), Refusal::BadBdat);
        assert_eq!(refused(b"BDATX 1\r\n"), Refusal::Reply(Canned::UnknownCommand));
        assert_eq!(refused(b"EHLO a\x01b\r\n"), Refusal::Reply(Canned::BadDomain));
        assert_eq!(ok("AUTH PLAIN AGEAYg==\r\n"), Command::Auth(Some(Mechanism::Plain), Some("AGEAYg==".into())));
        assert_eq!(ok("AUTH CRAM-MD5\r\n"), Command::Auth(None, None));
    }
}
