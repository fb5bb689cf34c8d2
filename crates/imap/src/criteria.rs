//! SEARCH criteria (RFC 3501 §6.4.4, RFC 9051 §6.4.4) evaluated against one
//! message: a pure function of the key, the message's flags, dates, size and
//! (for header and text keys) its parsed content. Strings match as
//! case-insensitive substrings of the decoded text, and of the raw text, so
//! both `=?UTF-8?…?=` subjects and plain ones are found.

use chrono::NaiveDate;
use imap_codec::imap_types::core::AString;
use imap_codec::imap_types::search::SearchKey;
use mail_parser::{Address, HeaderValue, Message, MessageParser, PartType};

use crate::commands::contains;

/// What a key needs beyond flags, dates and size.
pub(crate) fn needs_content(key: &SearchKey<'_>) -> bool {
    match key {
        SearchKey::And(keys) => keys.as_ref().iter().any(needs_content),
        SearchKey::Not(k) => needs_content(k),
        SearchKey::Or(a, b) => needs_content(a) || needs_content(b),
        SearchKey::Bcc(_)
        | SearchKey::Body(_)
        | SearchKey::Cc(_)
        | SearchKey::From(_)
        | SearchKey::Header(..)
        | SearchKey::SentBefore(_)
        | SearchKey::SentOn(_)
        | SearchKey::SentSince(_)
        | SearchKey::Subject(_)
        | SearchKey::Text(_)
        | SearchKey::To(_) => true,
        _ => false,
    }
}

/// One message as a search sees it.
pub(crate) struct Candidate<'a> {
    /// Its sequence number in the session's view.
    pub(crate) seq: u32,
    pub(crate) uid: u32,
    pub(crate) flags: &'a [String],
    /// INTERNALDATE, Unix seconds (UTC).
    pub(crate) internal_date: i64,
    pub(crate) size: u64,
    /// Its mod-sequence (RFC 7162), 0 when the backend keeps none.
    pub(crate) modseq: u64,
    /// The raw message, when a key needs it.
    pub(crate) raw: &'a [u8],
    pub(crate) parsed: Option<&'a Message<'a>>,
}

/// The largest sequence number and UID of the view (`*` in sets).
#[derive(Clone, Copy)]
pub(crate) struct Bounds {
    pub(crate) max_seq: u32,
    pub(crate) max_uid: u32,
}

/// Parses a message for searching; `None` for one without a header section.
pub(crate) fn parse(raw: &[u8]) -> Option<Message<'_>> {
    MessageParser::default().parse(raw)
}

fn has_flag(c: &Candidate<'_>, flag: &str) -> bool {
    c.flags.iter().any(|f| f.eq_ignore_ascii_case(flag))
}

fn date_of(unix: i64) -> Option<NaiveDate> {
    chrono::DateTime::from_timestamp(unix, 0).map(|d| d.date_naive())
}

/// The Date header's date in its own zone, else the internal date (as Dovecot does).
fn sent_date(c: &Candidate<'_>) -> Option<NaiveDate> {
    let header = c
        .parsed
        .and_then(Message::date)
        .and_then(|d| NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day)));
    header.or_else(|| date_of(c.internal_date))
}

fn needle(s: &AString<'_>) -> String {
    String::from_utf8_lossy(s.as_ref()).to_lowercase()
}

fn found(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(needle)
}

/// A header value's decoded text (addresses as `name <address>`).
fn decoded(value: &HeaderValue<'_>) -> String {
    let addrs = |a: &Address<'_>| -> String {
        let list: Vec<String> = match a {
            Address::List(l) => l.iter().map(addr_text).collect(),
            Address::Group(g) => g.iter().flat_map(|g| g.addresses.iter()).map(addr_text).collect(),
        };
        list.join(", ")
    };
    match value {
        HeaderValue::Text(t) => t.to_string(),
        HeaderValue::TextList(l) => l.join(" "),
        HeaderValue::Address(a) => addrs(a),
        _ => String::new(),
    }
}

fn addr_text(a: &mail_parser::Addr<'_>) -> String {
    format!("{} <{}>", a.name.as_deref().unwrap_or_default(), a.address.as_deref().unwrap_or_default())
}

/// HEADER name value: any field of that name whose raw or decoded text contains the value.
fn header_matches(c: &Candidate<'_>, name: &str, value: &str) -> bool {
    let Some(msg) = c.parsed else { return false };
    msg.headers().iter().filter(|h| h.name.as_str().eq_ignore_ascii_case(name)).any(|h| {
        let raw = c.raw.get(h.offset_start as usize..h.offset_end as usize).unwrap_or_default();
        value.is_empty() || found(&String::from_utf8_lossy(raw), value) || found(&decoded(&h.value), value)
    })
}

/// The body's text: every decoded text part, then the raw body octets.
fn body_matches(c: &Candidate<'_>, value: &str) -> bool {
    let Some(msg) = c.parsed else { return found(&String::from_utf8_lossy(c.raw), value) };
    let decoded_hit = msg.parts.iter().any(|p| match &p.body {
        PartType::Text(t) | PartType::Html(t) => found(t, value),
        _ => false,
    });
    let start = msg.root_part().offset_body as usize;
    decoded_hit || found(&String::from_utf8_lossy(c.raw.get(start..).unwrap_or_default()), value)
}

fn header_section_matches(c: &Candidate<'_>, value: &str) -> bool {
    let Some(msg) = c.parsed else { return false };
    let end = msg.root_part().offset_body as usize;
    found(&String::from_utf8_lossy(c.raw.get(..end).unwrap_or_default()), value)
        || msg.headers().iter().any(|h| found(&decoded(&h.value), value))
}

/// Whether `c` satisfies `key`.
pub(crate) fn matches(key: &SearchKey<'_>, c: &Candidate<'_>, bounds: Bounds) -> bool {
    let internal = || date_of(c.internal_date);
    match key {
        SearchKey::And(keys) => keys.as_ref().iter().all(|k| matches(k, c, bounds)),
        SearchKey::Not(k) => !matches(k, c, bounds),
        SearchKey::Or(a, b) => matches(a, c, bounds) || matches(b, c, bounds),
        SearchKey::SequenceSet(set) => contains(set, c.seq, bounds.max_seq),
        SearchKey::Uid(set) => contains(set, c.uid, bounds.max_uid),
        SearchKey::All | SearchKey::Old => true,
        // Deputy keeps no \Recent (as IMAP4rev2 dropped it): nothing is recent, so nothing is new.
        SearchKey::Recent | SearchKey::New => false,
        SearchKey::Answered => has_flag(c, "\\Answered"),
        SearchKey::Unanswered => !has_flag(c, "\\Answered"),
        SearchKey::Deleted => has_flag(c, "\\Deleted"),
        SearchKey::Undeleted => !has_flag(c, "\\Deleted"),
        SearchKey::Draft => has_flag(c, "\\Draft"),
        SearchKey::Undraft => !has_flag(c, "\\Draft"),
        SearchKey::Flagged => has_flag(c, "\\Flagged"),
        SearchKey::Unflagged => !has_flag(c, "\\Flagged"),
        SearchKey::Seen => has_flag(c, "\\Seen"),
        SearchKey::Unseen => !has_flag(c, "\\Seen"),
        SearchKey::Keyword(k) => has_flag(c, k.as_ref()),
        SearchKey::Unkeyword(k) => !has_flag(c, k.as_ref()),
        SearchKey::Before(d) => internal().is_some_and(|i| i < *d.as_ref()),
        SearchKey::On(d) => internal().is_some_and(|i| i == *d.as_ref()),
        SearchKey::Since(d) => internal().is_some_and(|i| i >= *d.as_ref()),
        SearchKey::SentBefore(d) => sent_date(c).is_some_and(|s| s < *d.as_ref()),
        SearchKey::SentOn(d) => sent_date(c).is_some_and(|s| s == *d.as_ref()),
        SearchKey::SentSince(d) => sent_date(c).is_some_and(|s| s >= *d.as_ref()),
        SearchKey::Larger(n) => c.size > u64::from(*n),
        SearchKey::Smaller(n) => c.size < u64::from(*n),
        SearchKey::From(s) => header_matches(c, "From", &needle(s)),
        SearchKey::To(s) => header_matches(c, "To", &needle(s)),
        SearchKey::Cc(s) => header_matches(c, "Cc", &needle(s)),
        SearchKey::Bcc(s) => header_matches(c, "Bcc", &needle(s)),
        SearchKey::Subject(s) => header_matches(c, "Subject", &needle(s)),
        SearchKey::Header(name, value) => header_matches(c, &String::from_utf8_lossy(name.as_ref()), &needle(value)),
        SearchKey::Body(s) => body_matches(c, &needle(s)),
        SearchKey::Text(s) => {
            let n = needle(s);
            header_section_matches(c, &n) || body_matches(c, &n)
        }
        // Per-flag entries are not kept apart: the message's mod-sequence stands for all (RFC 7162 §3.1.5).
        SearchKey::ModSequence { modseq, .. } => c.modseq >= *modseq,
    }
}

/// `1:3,7` for ascending numbers (ESEARCH `ALL`, RFC 4731).
pub(crate) fn compact(numbers: &[u32]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while let Some(&start) = numbers.get(i) {
        let mut end = start;
        while numbers.get(i + 1).is_some_and(|&n| Some(n) == end.checked_add(1)) {
            i += 1;
            end = numbers[i];
        }
        out.push(if start == end { start.to_string() } else { format!("{start}:{end}") });
        i += 1;
    }
    out.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_codec::CommandCodec;
    use imap_codec::decode::Decoder;
    use imap_codec::imap_types::command::CommandBody;

    const MAIL: &[u8] = b"From: =?UTF-8?Q?Ren=C3=A9e?= <renee@fabrikam.test>\r\nTo: mary@contoso.test\r\n\
Cc: rob@contoso.test\r\nSubject: =?UTF-8?Q?Caf=C3=A9_budget?=\r\nDate: Tue, 3 Mar 2026 23:30:00 -0500\r\n\
X-Project: Apollo\r\n\r\nThe Quarterly numbers.\r\n";

    fn key(criteria: &str) -> SearchKey<'static> {
        let line = format!("a SEARCH {criteria}\r\n");
        let (_, cmd) = CommandCodec::default().decode(line.as_bytes()).expect("criteria parse");
        let CommandBody::Search { criteria, .. } = cmd.body else { panic!("not a search") };
        let keys: Vec<SearchKey<'_>> = criteria.into_inner();
        let k = if keys.len() == 1 {
            keys.into_iter().next().expect("one")
        } else {
            SearchKey::And(keys.try_into().expect("some"))
        };
        imap_codec::imap_types::IntoStatic::into_static(k)
    }

    fn hit(criteria: &str, flags: &[&str]) -> bool {
        let flags: Vec<String> = flags.iter().map(|f| (*f).to_owned()).collect();
        let parsed = parse(MAIL);
        // 2026-03-04 04:30 UTC: the Date header's own day is the 3rd.
        let c = Candidate {
            seq: 2,
            uid: 20,
            flags: &flags,
            internal_date: 1_772_598_600,
            size: MAIL.len() as u64,
            modseq: 0,
            raw: MAIL,
            parsed: parsed.as_ref(),
        };
        matches(&key(criteria), &c, Bounds { max_seq: 3, max_uid: 30 })
    }

    #[test]
    fn flags_and_their_negations() {
        assert!(hit("SEEN", &["\\Seen"]) && !hit("UNSEEN", &["\\Seen"]));
        assert!(hit("UNFLAGGED DELETED", &["\\Deleted"]));
        assert!(hit("ANSWERED DRAFT", &["\\Answered", "\\Draft"]) && !hit("UNDRAFT", &["\\Draft"]));
        assert!(!hit("RECENT", &[]) && !hit("NEW", &[]) && hit("OLD", &[]));
        assert!(!hit("KEYWORD $Junk", &[]) && hit("UNKEYWORD $Junk", &[]));
    }

    #[test]
    fn sequence_and_uid_sets_honour_the_asterisk() {
        assert!(hit("2", &[]) && hit("2:*", &[]) && !hit("3:*", &[]) && hit("*:1", &[]));
        assert!(hit("UID 20", &[]) && !hit("UID 25:*", &[]) && hit("UID 1:20", &[]));
    }

    #[test]
    fn decoded_headers_match_case_insensitively() {
        assert!(hit("FROM {6}\r\nrenée", &[]) && hit("FROM FABRIKAM", &[]));
        assert!(hit("SUBJECT {5}\r\ncafé", &[]) && hit("SUBJECT BUDGET", &[]) && !hit("SUBJECT lunch", &[]));
        assert!(hit("TO mary CC rob", &[]) && !hit("BCC rob", &[]));
        assert!(hit("HEADER X-Project apollo", &[]) && hit("HEADER X-Project \"\"", &[]));
        assert!(!hit("HEADER X-Other \"\"", &[]));
    }

    #[test]
    fn body_and_text() {
        assert!(hit("BODY quarterly", &[]) && !hit("BODY apollo", &[]));
        assert!(hit("TEXT apollo", &[]) && hit("TEXT quarterly", &[]));
    }

    #[test]
    fn dates_and_sizes() {
        assert!(hit("ON 4-Mar-2026", &[]) && hit("SINCE 4-Mar-2026", &[]) && !hit("BEFORE 4-Mar-2026", &[]));
        assert!(hit("SENTON 3-Mar-2026", &[]) && hit("SENTBEFORE 4-Mar-2026", &[]));
        assert!(!hit("SENTSINCE 4-Mar-2026", &[]));
        assert!(hit("LARGER 10 SMALLER 100000", &[]) && !hit("LARGER 100000", &[]));
    }

    #[test]
    fn boolean_combinations() {
        assert!(hit("OR SEEN FLAGGED", &["\\Flagged"]) && !hit("NOT OR SEEN FLAGGED", &["\\Flagged"]));
        assert!(hit("(UNSEEN SUBJECT budget) NOT DELETED", &[]));
        assert!(!hit("(UNSEEN SUBJECT budget) DELETED", &[]));
    }

    #[test]
    fn compact_sets() {
        assert_eq!(compact(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(compact(&[]), "");
        assert_eq!(compact(&[u32::MAX - 1, u32::MAX]), "4294967294:4294967295");
    }
}
