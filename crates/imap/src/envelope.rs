//! The FETCH `ENVELOPE` item (RFC 3501 §7.4.2), built from the message's
//! header with `mail-parser`. Strings are the header values as sent (encoded
//! words are not decoded), as the RFC asks.

use mail_parser::{Address, MessageParser};

use crate::wire;

fn nstring(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        Some(v) => wire::string(out, v.trim().as_bytes()),
        None => out.extend_from_slice(b"NIL"),
    }
}

/// `(name adl mailbox host)` per address; group syntax is flattened to its members.
fn addresses(out: &mut Vec<u8>, address: Option<&Address<'_>>) {
    let list: Vec<&mail_parser::Addr<'_>> = match address {
        Some(Address::List(list)) => list.iter().collect(),
        Some(Address::Group(groups)) => groups.iter().flat_map(|g| g.addresses.iter()).collect(),
        None => Vec::new(),
    };
    if list.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for addr in list {
        let email = addr.address.as_deref().unwrap_or_default();
        let (mailbox, host) = email.rsplit_once('@').unwrap_or((email, ""));
        out.push(b'(');
        nstring(out, addr.name.as_deref());
        out.extend_from_slice(b" NIL ");
        nstring(out, Some(mailbox));
        out.push(b' ');
        nstring(out, Some(host));
        out.push(b')');
    }
    out.push(b')');
}

/// Appends `ENVELOPE (...)` for `raw`; a message that does not parse gets an all-NIL envelope.
pub(crate) fn envelope(out: &mut Vec<u8>, raw: &[u8]) {
    out.extend_from_slice(b"ENVELOPE ");
    envelope_only(out, raw);
}

/// The parenthesised envelope alone (also part of a `message/rfc822` BODYSTRUCTURE).
pub(crate) fn envelope_only(out: &mut Vec<u8>, raw: &[u8]) {
    out.push(b'(');
    let Some(msg) = MessageParser::default().parse(raw) else {
        out.extend_from_slice(b"NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
        return;
    };
    nstring(out, msg.header_raw("Date"));
    out.push(b' ');
    nstring(out, msg.header_raw("Subject"));
    let from = msg.from();
    // Sender and Reply-To default to From (RFC 3501 §7.4.2).
    for addr in [from, msg.sender().or(from), msg.reply_to().or(from), msg.to(), msg.cc(), msg.bcc()] {
        out.push(b' ');
        addresses(out, addr);
    }
    out.push(b' ');
    nstring(out, msg.header_raw("In-Reply-To"));
    out.push(b' ');
    nstring(out, msg.header_raw("Message-ID"));
    out.push(b')');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_of_a_simple_message() {
        let mut out = Vec::new();
        envelope(&mut out, b"From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nSubject: hi\r\n\r\nbody\r\n");
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            "ENVELOPE (NIL \"hi\" ((\"Alice\" NIL \"alice\" \"example.com\")) ((\"Alice\" NIL \"alice\" \"example.com\")) \
             ((\"Alice\" NIL \"alice\" \"example.com\")) ((NIL NIL \"bob\" \"example.com\")) NIL NIL NIL NIL)"
        );
    }
}
