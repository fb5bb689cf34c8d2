//! Reading and editing a message's header section without touching anything
//! else: `mail-parser` finds the fields and their byte offsets, and edits are
//! splices of the original bytes, so a body (and any signature over it) stays
//! exactly as the client sent it.

use std::ops::Range;

use mail_builder::headers::Header as _;
use mail_builder::headers::address::Address;
use mail_parser::{HeaderName, MessageParser};

/// What the sending rules need from a message's header section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderFacts {
    /// Every address in every `From:` field.
    pub from: Vec<String>,
    /// The address in `Sender:`, when there is one.
    pub sender: Option<String>,
    /// `Message-ID` without angle brackets.
    pub message_id: Option<String>,
    /// Whether a `Date:` field is present.
    pub has_date: bool,
    /// Byte ranges of every `Sender:` field, line break included.
    pub sender_fields: Vec<Range<usize>>,
}

/// Reads the header section of `raw`. A message whose header section does not
/// parse at all yields empty facts (no From:), which the rules treat as
/// "author is the principal" after the submission door adds a From: field.
pub fn inspect(raw: &[u8]) -> HeaderFacts {
    let Some(message) = MessageParser::new().parse_headers(raw) else {
        return HeaderFacts::default();
    };
    let mut facts = HeaderFacts {
        from: Vec::new(),
        sender: message.sender().and_then(|a| a.first()).and_then(|m| m.address().map(str::to_owned)),
        message_id: message.message_id().map(str::to_owned),
        has_date: false,
        sender_fields: Vec::new(),
    };
    for field in message.headers() {
        match &field.name {
            HeaderName::From => {
                if let Some(list) = field.value.as_address() {
                    facts.from.extend(list.iter().filter_map(|m| m.address().map(str::to_owned)));
                }
            }
            HeaderName::Sender => facts.sender_fields.push(field.offset_field as usize..field.offset_end as usize),
            HeaderName::Date => facts.has_date = true,
            _ => {}
        }
    }
    facts
}

/// A `Name: value` field rendered by `mail-builder` (RFC 2047 encoding and
/// folding included), ending with CRLF.
pub fn address_field(name: &str, display: &str, address: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len() + display.len() + address.len() + 16);
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    let display = (!display.is_empty()).then_some(display);
    Address::new_address(display, address).write_header(&mut out, name.len() + 2);
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// `raw` with `prepend` (complete fields, each ending CRLF) placed first and
/// the byte ranges in `remove` cut out.
pub fn splice(raw: &[u8], prepend: &[Vec<u8>], remove: &[Range<usize>]) -> Vec<u8> {
    let extra: usize = prepend.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(raw.len() + extra);
    for field in prepend {
        out.extend_from_slice(field);
    }
    let mut ranges: Vec<&Range<usize>> = remove.iter().filter(|r| r.start <= r.end && r.end <= raw.len()).collect();
    ranges.sort_by_key(|r| r.start);
    let mut at = 0;
    for r in ranges {
        if r.start >= at {
            out.extend_from_slice(&raw[at..r.start]);
            at = r.end;
        }
    }
    out.extend_from_slice(&raw[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"From: Mary <mary@contoso.test>\r\nSender: Eve <eve@contoso.test>\r\nTo: x@fabrikam.test\r\n\
Message-ID: <abc@host>\r\nSubject: hi\r\n\r\nbody\r\nSender: not a header\r\n";

    #[test]
    fn inspect_finds_authors_sender_and_id() {
        let f = inspect(MSG);
        assert_eq!(f.from, vec!["mary@contoso.test"]);
        assert_eq!(f.sender.as_deref(), Some("eve@contoso.test"));
        assert_eq!(f.message_id.as_deref(), Some("abc@host"));
        assert!(!f.has_date);
        assert_eq!(f.sender_fields.len(), 1, "a body line is not a header");
    }

    #[test]
    fn splice_removes_sender_and_keeps_the_rest_byte_for_byte() {
        let f = inspect(MSG);
        let out = splice(MSG, &[address_field("Sender", "Rob Jones", "rob@contoso.test")], &f.sender_fields);
        let text = String::from_utf8(out).unwrap_or_default();
        assert!(text.starts_with("Sender: \"Rob Jones\" <rob@contoso.test>\r\nFrom: Mary"), "{text}");
        assert!(!text.contains("eve@"), "{text}");
        assert!(text.ends_with("\r\n\r\nbody\r\nSender: not a header\r\n"), "{text}");
    }

    #[test]
    fn non_ascii_display_names_are_encoded() {
        let field = address_field("Sender", "Zoë Čapek", "zoe@contoso.test");
        assert!(field.is_ascii(), "{}", String::from_utf8_lossy(&field));
        let again = inspect(&[field.as_slice(), b"\r\n"].concat());
        assert_eq!(again.sender.as_deref(), Some("zoe@contoso.test"));
    }
}
