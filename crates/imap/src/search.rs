//! SEARCH and UID SEARCH (RFC 3501 §6.4.4), with ESEARCH's `RETURN (MIN MAX
//! COUNT ALL)` (RFC 4731) and SEARCHRES's `SAVE` (RFC 5182). The codec does not parse `RETURN`, so a command
//! carrying it is rewritten without it and handed to the codec again. The
//! backend supplies the messages (through its FETCH call, which checks the
//! right to read); the criteria are evaluated here.

use imap_codec::CommandCodec;
use imap_codec::decode::Decoder;
use imap_codec::imap_types::IntoStatic;
use imap_codec::imap_types::command::Command;
use imap_codec::imap_types::core::Charset;
use imap_codec::imap_types::search::SearchKey;

use crate::commands::Open;
use crate::criteria::{self, Bounds, Candidate};
use crate::{Backend, FetchItems, wire};

/// ESEARCH result options (RFC 4731 §3.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Return {
    min: bool,
    max: bool,
    count: bool,
    all: bool,
    /// Keep the result as `$` (RFC 5182).
    save: bool,
}

impl Return {
    /// `RETURN (ALL)`, what IMAP4rev2 answers a plain SEARCH with.
    pub(crate) fn all() -> Self {
        Return { all: true, ..Return::default() }
    }

    /// What `$` becomes after a search that found `found` (UIDs, ascending;
    /// `None` when it failed): `None` when the search does not save.
    pub(crate) fn saving(self, found: Option<&[u32]>) -> Option<Vec<u32>> {
        let all_or_count = self.all || self.count;
        self.save
            .then(|| found.map(|f| crate::searchres::to_save(f, self.min, self.max, all_or_count)).unwrap_or_default())
    }

    /// Only `SAVE`: no ESEARCH response at all (RFC 5182 §2.4).
    fn only_save(self) -> bool {
        self == Return { save: true, ..Return::default() }
    }
}

/// `tag [UID ]SEARCH RETURN (opts) criteria`: the command without `RETURN`,
/// and the options (or, when one is unknown, whether `SAVE` was among them);
/// `None` when the message is not such a command.
pub(crate) fn parse_return(message: &[u8]) -> Option<(Command<'static>, Result<Return, bool>)> {
    let tag_end = message.iter().position(|&b| b == b' ')?;
    let (tag, rest) = message.split_at(tag_end + 1);
    let upper = |n: usize| rest.get(..n).map(<[u8]>::to_ascii_uppercase);
    let verb_len = if upper(11)? == b"UID SEARCH " {
        11
    } else if upper(7)? == b"SEARCH " {
        7
    } else {
        return None;
    };
    let after_verb = &rest[verb_len..];
    if after_verb.get(..8).map(<[u8]>::to_ascii_uppercase)? != b"RETURN (" {
        return None;
    }
    let close = after_verb.iter().position(|&b| b == b')')?;
    let options = std::str::from_utf8(&after_verb[8..close]).ok()?;
    let criteria = after_verb.get(close + 1..)?.strip_prefix(b" ")?;
    let mut line = tag.to_vec();
    line.extend_from_slice(&rest[..verb_len]);
    line.extend_from_slice(criteria);
    let (_, command) = CommandCodec::default().decode(&line).ok()?;
    let mut ret = Return::default();
    let mut valid = true;
    for option in options.split_ascii_whitespace() {
        match option.to_ascii_uppercase().as_str() {
            "MIN" => ret.min = true,
            "MAX" => ret.max = true,
            "COUNT" => ret.count = true,
            "ALL" => ret.all = true,
            "SAVE" => ret.save = true,
            _ => valid = false,
        }
    }
    // `RETURN ()` means `RETURN (ALL)` (RFC 4731 §3.1).
    if ret == Return::default() {
        ret.all = true;
    }
    Some((command.into_static(), if valid { Ok(ret) } else { Err(ret.save) }))
}

/// Runs a search over the selected mailbox and writes `* SEARCH` (or `*
/// ESEARCH` when `ret` is given); the UIDs found, or `None` when it failed.
#[expect(clippy::too_many_arguments, reason = "one call site per form; a struct would only rename the parameters")]
pub(crate) async fn search<B: Backend>(
    backend: &B,
    user: &B::User,
    open: &Open,
    tag: &str,
    charset: Option<&Charset<'_>>,
    criteria: &[SearchKey<'_>],
    by_uid: bool,
    ret: Option<Return>,
    out: &mut Vec<u8>,
) -> Option<Vec<u32>> {
    // Strings are compared as UTF-8, of which US-ASCII is a subset (RFC 9051 §6.4.4).
    if let Some(cs) = charset
        && !["UTF-8", "US-ASCII"].iter().any(|ok| cs.as_ref().eq_ignore_ascii_case(ok))
    {
        wire::status(out, tag, "NO", Some("BADCHARSET (UTF-8)"), "Only UTF-8 is supported");
        return None;
    }
    let want = FetchItems { raw: criteria.iter().any(criteria::needs_content), set_seen: false };
    let bounds = Bounds {
        max_seq: u32::try_from(open.uids.len()).unwrap_or(u32::MAX),
        max_uid: open.uids.last().copied().unwrap_or(0),
    };
    let mut found = Vec::new();
    // With a MODSEQ key, the answer carries the highest mod-sequence found (RFC 7162 §3.1.5).
    let mut highest = criteria.iter().any(crate::condstore::searches_modseq).then_some(0u64);
    // In batches, so a text search holds a bounded number of messages in memory.
    let batch = if want.raw { 64 } else { 4096 };
    for uids in open.uids.chunks(batch) {
        let messages = match backend.fetch(user, &open.name, uids, want).await {
            Ok(m) => m,
            Err(no) => {
                wire::no(out, tag, &no);
                return None;
            }
        };
        matching(&messages, open, criteria, bounds, by_uid, &mut found, &mut highest);
    }
    found.sort_unstable();
    answer(out, tag, &found, by_uid, ret, highest.filter(|_| !found.is_empty()));
    wire::status(out, tag, "OK", None, "SEARCH completed");
    if by_uid {
        return Some(found);
    }
    Some(found.iter().filter_map(|&seq| open.uids.get(usize::try_from(seq).ok()?.checked_sub(1)?).copied()).collect())
}

/// Adds the sequence numbers (or UIDs) of the messages that satisfy every key.
fn matching(
    messages: &[crate::MessageData],
    open: &Open,
    criteria: &[SearchKey<'_>],
    bounds: Bounds,
    by_uid: bool,
    found: &mut Vec<u32>,
    highest: &mut Option<u64>,
) {
    for m in messages {
        let Some(seq) = crate::commands::seq_of(&open.uids, m.uid) else { continue };
        let raw = m.raw.as_deref().unwrap_or_default();
        let parsed = m.raw.as_deref().and_then(criteria::parse);
        let c = Candidate {
            seq: u32::try_from(seq).unwrap_or(u32::MAX),
            uid: m.uid,
            flags: &m.flags,
            internal_date: m.internal_date,
            size: m.size,
            modseq: m.modseq.unwrap_or(0),
            raw,
            parsed: parsed.as_ref(),
        };
        if criteria.iter().all(|k| criteria::matches(k, &c, bounds)) {
            found.push(if by_uid { c.uid } else { c.seq });
            if let Some(h) = highest {
                *h = (*h).max(c.modseq);
            }
        }
    }
}

/// `* SEARCH …`, or `* ESEARCH …` when the client asked for RETURN options.
fn answer(out: &mut Vec<u8>, tag: &str, found: &[u32], by_uid: bool, ret: Option<Return>, modseq: Option<u64>) {
    match ret {
        None => {
            out.extend_from_slice(b"* SEARCH");
            for n in found {
                out.extend_from_slice(format!(" {n}").as_bytes());
            }
            if let Some(m) = modseq {
                out.extend_from_slice(format!(" (MODSEQ {m})").as_bytes());
            }
            out.extend_from_slice(b"\r\n");
        }
        Some(r) if r.only_save() => {}
        Some(r) => {
            out.extend_from_slice(b"* ESEARCH (TAG ");
            wire::string(out, tag.as_bytes());
            out.push(b')');
            if by_uid {
                out.extend_from_slice(b" UID");
            }
            if let (true, Some(min)) = (r.min, found.first()) {
                out.extend_from_slice(format!(" MIN {min}").as_bytes());
            }
            if let (true, Some(max)) = (r.max, found.last()) {
                out.extend_from_slice(format!(" MAX {max}").as_bytes());
            }
            if r.count {
                out.extend_from_slice(format!(" COUNT {}", found.len()).as_bytes());
            }
            if r.all && !found.is_empty() {
                out.extend_from_slice(format!(" ALL {}", criteria::compact(found)).as_bytes());
            }
            if let Some(m) = modseq {
                out.extend_from_slice(format!(" MODSEQ {m}").as_bytes());
            }
            out.extend_from_slice(b"\r\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_codec::imap_types::command::CommandBody;

    #[test]
    fn return_options_are_lifted_off_the_command() {
        let (cmd, ret) = parse_return(b"t1 UID SEARCH RETURN (MIN count) UNSEEN\r\n").expect("esearch");
        assert_eq!(cmd.tag.as_ref(), "t1");
        assert!(matches!(cmd.body, CommandBody::Search { uid: true, .. }));
        assert_eq!(ret, Ok(Return { min: true, count: true, ..Return::default() }));
        let (_, ret) = parse_return(b"t2 search return () ALL\r\n").expect("esearch");
        assert_eq!(ret, Ok(Return { all: true, ..Return::default() }));
        let (_, ret) = parse_return(b"t3 SEARCH RETURN (SAVE) ALL\r\n").expect("esearch");
        assert!(ret.is_ok_and(Return::only_save));
        assert_eq!(parse_return(b"t3 SEARCH RETURN (SAVE NOPE) ALL\r\n").map(|(_, r)| r), Some(Err(true)));
        assert_eq!(parse_return(b"t3 SEARCH RETURN (NOPE) ALL\r\n").map(|(_, r)| r), Some(Err(false)));
        assert!(parse_return(b"t4 SEARCH ALL\r\n").is_none());
        assert!(parse_return(b"t5 FETCH RETURN (MIN) ALL\r\n").is_none());
    }

    proptest::proptest! {
        /// Whatever follows `SEARCH RETURN (`, the pre-parser answers without panicking.
        #[test]
        fn return_parser_never_panics(rest in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            let mut line = b"t UID SEARCH RETURN (".to_vec();
            line.extend_from_slice(&rest);
            let _ = parse_return(&line);
        }
    }
}
