//! Every reply the protocol engine sends on its own, in one table, and the
//! rendering of replies to bytes. Each carries an RFC 3463 enhanced status
//! code except the 354 and 334 intermediates (whose text is protocol data).

use std::io::Write;

/// A reply the engine sends by itself; `parts` gives each its code and text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Canned {
    Ok,
    MailOk,
    RcptOk,
    Bye,
    Help,
    Vrfy,
    StartData,
    UnknownCommand,
    BareLfCommand,
    BadCharacters,
    BadUtf8,
    LineTooLong,
    SyntaxError,
    BadParameter,
    UnsupportedParameter,
    BadDomain,
    BadSender,
    BadRecipient,
    NeedSmtpUtf8,
    NotImplemented,
    Expn,
    NeedHelo,
    NestedMail,
    NeedMail,
    BadSequence,
    NoValidRecipients,
    BdatNoRecipients,
    DataAfterBdat,
    TooManyRecipients,
    SizeExceeded,
    BareCrLf,
    MessageLineTooLong,
    HeaderTooLarge,
    AuthRequired,
    EncryptionRequired,
    AuthInvalid,
    AuthTooManyFailures,
    AuthLocked,
    AuthTryLater,
    AuthCancelled,
    AuthOk,
    AuthUnavailable,
    AlreadyAuthenticated,
    AuthInTransaction,
    BadMechanism,
    BadBase64,
    TlsUnavailable,
    AlreadyTls,
    TlsReady,
    ShuttingDown,
    TooManyConnections,
    BadBdat,
}

impl Canned {
    /// Code, enhanced status code (empty for intermediates) and text.
    pub fn parts(self) -> (u16, &'static str, &'static str) {
        use Canned::*;
        match self {
            Ok => (250, "2.0.0", "OK"),
            MailOk => (250, "2.1.0", "Sender OK"),
            RcptOk => (250, "2.1.5", "Recipient OK"),
            Bye => (221, "2.0.0", "Bye"),
            Help => (214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH"),
            Vrfy => (252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery"),
            StartData => (354, "", "End data with <CR><LF>.<CR><LF>"),
            UnknownCommand => (500, "5.5.1", "Unknown command"),
            BareLfCommand => (500, "5.5.2", "Command lines must end with CRLF"),
            BadCharacters => (501, "5.5.2", "Invalid characters in command"),
            BadUtf8 => (501, "5.5.2", "Command is not valid UTF-8"),
            LineTooLong => (500, "5.5.2", "Line too long"),
            SyntaxError => (501, "5.5.2", "Syntax error"),
            BadParameter => (501, "5.5.4", "Invalid parameter value"),
            UnsupportedParameter => (555, "5.5.4", "Unsupported parameter"),
            BadDomain => (501, "5.5.4", "Invalid domain name"),
            BadSender => (501, "5.1.7", "Invalid sender address"),
            BadRecipient => (501, "5.1.3", "Invalid recipient address"),
            NeedSmtpUtf8 => (553, "5.6.7", "Non-ASCII address requires SMTPUTF8"),
            NotImplemented => (502, "5.5.1", "Command not implemented"),
            Expn => (502, "5.5.1", "EXPN not available"),
            NeedHelo => (503, "5.5.1", "Send EHLO or HELO first"),
            NestedMail => (503, "5.5.1", "Sender already specified"),
            NeedMail => (503, "5.5.1", "Need MAIL command first"),
            BadSequence => (503, "5.5.1", "Bad sequence of commands"),
            NoValidRecipients => (554, "5.5.1", "No valid recipients"),
            BdatNoRecipients => (503, "5.5.1", "No valid recipients"),
            DataAfterBdat => (503, "5.5.1", "DATA not allowed after BDAT"),
            TooManyRecipients => (452, "4.5.3", "Too many recipients"),
            SizeExceeded => (552, "5.3.4", "Message size exceeds fixed maximum message size"),
            BareCrLf => (550, "5.5.2", "Message contains bare CR or LF"),
            MessageLineTooLong => (500, "5.5.2", "Message line too long"),
            HeaderTooLarge => (552, "5.3.4", "Header too large"),
            AuthRequired => (530, "5.7.0", "Authentication required"),
            EncryptionRequired => (538, "5.7.11", "Encryption required for requested authentication mechanism"),
            AuthInvalid => (535, "5.7.8", "Authentication credentials invalid"),
            AuthTooManyFailures => (421, "4.7.0", "Too many authentication failures"),
            AuthLocked => (454, "4.7.0", "Temporary authentication failure"),
            AuthTryLater => (454, "4.7.0", "Temporary authentication failure, try again later"),
            AuthCancelled => (501, "5.7.0", "Authentication cancelled"),
            AuthOk => (235, "2.7.0", "Authentication successful"),
            AuthUnavailable => (502, "5.5.1", "AUTH not available"),
            AlreadyAuthenticated => (503, "5.5.1", "Already authenticated"),
            AuthInTransaction => (503, "5.5.1", "AUTH not allowed during a mail transaction"),
            BadMechanism => (504, "5.5.4", "Unrecognized authentication mechanism"),
            BadBase64 => (501, "5.5.2", "Invalid base64 data"),
            TlsUnavailable => (502, "5.5.1", "STARTTLS not available"),
            AlreadyTls => (503, "5.5.1", "Already using TLS"),
            TlsReady => (220, "2.0.0", "Ready to start TLS"),
            ShuttingDown => (421, "4.3.2", "Service shutting down"),
            TooManyConnections => (421, "4.7.0", "Too many connections, try again later"),
            BadBdat => (501, "5.5.4", "Syntax: BDAT chunk-size [LAST]"),
        }
    }
}

/// Appends one reply line. Text from outside (handler replies, echoed
/// parameters) is cleaned so a reply is always exactly one line.
pub fn render(out: &mut Vec<u8>, code: u16, status: &str, text: &str) {
    render_line(out, code, ' ', status, text);
}

/// Appends one line of a reply; `sep` is `-` for all but the last line.
pub fn render_line(out: &mut Vec<u8>, code: u16, sep: char, status: &str, text: &str) {
    // A code outside 200..=599 would break the client's parser; 451 is the safe stand-in.
    let code = if (200..600).contains(&code) { code } else { 451 };
    let _ = write!(out, "{code}{sep}");
    if !status.is_empty() {
        push_clean(out, status);
        out.push(b' ');
    }
    push_clean(out, text);
    out.extend_from_slice(b"\r\n");
}

/// Copies text, replacing control characters and capping the length.
fn push_clean(out: &mut Vec<u8>, text: &str) {
    const MAX_TEXT: usize = 480;
    let mut room = MAX_TEXT;
    for c in text.chars() {
        let c = if c.is_control() { '?' } else { c };
        let len = c.len_utf8();
        if len > room {
            break;
        }
        room -= len;
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_single_lines() {
        let mut out = Vec::new();
        render(&mut out, 550, "5.7.1", "bad\r\nRCPT TO:<x>");
        assert_eq!(out, b"550 5.7.1 bad??RCPT TO:<x>\r\n");
        out.clear();
        render(&mut out, 42, "", "x");
        assert_eq!(out, b"451 x\r\n");
    }
}
