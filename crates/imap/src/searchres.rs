//! SEARCHRES (RFC 5182, part of IMAP4rev2): `SEARCH RETURN (SAVE)` keeps
//! its result in the session's `$`, which later commands use as a sequence
//! set. The codec knows neither, so a command it refuses is tried again with
//! each `$` that stands where a sequence set may replaced by a number the
//! command does not otherwise contain (the *marker*); a set that is exactly
//! the marker then means `$`. The saved result is a list of UIDs, so an
//! expunged message drops out of it, and it lives in the selected mailbox's
//! state: SELECT, EXAMINE, CLOSE and UNSELECT reset it.

use imap_codec::imap_types::core::Vec1;
use imap_codec::imap_types::search::SearchKey;
use imap_codec::imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};

/// Search keys followed by a string, after which a `$` is that string.
const STRING_KEYS: [&[u8]; 10] =
    [b"BCC", b"BODY", b"CC", b"FROM", b"SUBJECT", b"TEXT", b"TO", b"KEYWORD", b"UNKEYWORD", b"HEADER"];

/// Markers tried in turn; the first that the message does not contain is used.
const MARKERS: [u32; 8] = [
    4_294_967_295,
    4_294_967_294,
    4_294_967_293,
    4_294_967_291,
    4_294_967_279,
    4_294_967_231,
    4_294_967_197,
    4_294_967_189,
];

/// `message` with every `$` that may be a sequence set replaced by a marker,
/// and the marker; `None` when there is no such `$` (or no free marker).
/// Quoted strings and literals are skipped, and so is a `$` that is the
/// argument of a string search key (`SUBJECT $`).
pub(crate) fn substitute(message: &[u8]) -> Option<(Vec<u8>, u32)> {
    let mut dollars = Vec::new();
    // The last two atoms before the current position (uppercased), for the string keys.
    let (mut last, mut before): (&[u8], &[u8]) = (b"", b"");
    // The tag may be `$` too.
    let mut i = message.iter().position(|&b| b == b' ')?;
    while let Some(&b) = message.get(i) {
        match b {
            b'"' => {
                i += 1;
                while let Some(&c) = message.get(i) {
                    i += if c == b'\\' { 2 } else { 1 };
                    if c == b'"' {
                        break;
                    }
                }
                (before, last) = (last, b"\"");
            }
            b'{' => {
                let close = message.get(i..)?.iter().position(|&c| c == b'}')? + i;
                let digits = message.get(i + 1..close)?;
                let digits = digits.strip_suffix(b"+").unwrap_or(digits);
                let length: usize = std::str::from_utf8(digits).ok()?.parse().ok()?;
                // `}` CRLF, then the literal's octets.
                i = close.checked_add(3)?.checked_add(length)?;
                (before, last) = (last, b"{");
            }
            b' ' | b'\r' | b'\n' => i += 1,
            b'(' | b')' => {
                (before, last) = (last, if b == b'(' { b"(" } else { b")" });
                i += 1;
            }
            _ => {
                let end = message[i..].iter().position(|c| b" ()\r\n\"{".contains(c)).map_or(message.len(), |n| n + i);
                let atom = &message[i..end];
                let after_string_key = |w: &[u8]| STRING_KEYS.iter().any(|k| k.eq_ignore_ascii_case(w));
                if atom == b"$" && !after_string_key(last) && !before.eq_ignore_ascii_case(b"HEADER") {
                    dollars.push(i);
                }
                (before, last) = (last, atom);
                i = end;
            }
        }
    }
    if dollars.is_empty() {
        return None;
    }
    let marker = MARKERS.into_iter().find(|m| {
        let digits = m.to_string();
        !message.windows(digits.len()).any(|w| w == digits.as_bytes())
    })?;
    let digits = marker.to_string();
    let mut line = Vec::with_capacity(message.len() + dollars.len() * digits.len());
    let mut from = 0;
    for at in dollars {
        line.extend_from_slice(&message[from..at]);
        line.extend_from_slice(digits.as_bytes());
        from = at + 1;
    }
    line.extend_from_slice(&message[from..]);
    Some((line, marker))
}

/// Whether `set` is the `$` that `marker` stands for.
pub(crate) fn is_dollar(set: &SequenceSet, marker: Option<u32>) -> bool {
    match (marker, set.0.as_ref()) {
        (Some(m), [Sequence::Single(SeqOrUid::Value(v))]) => v.get() == m,
        _ => false,
    }
}

/// The saved UIDs still in the session's view (`view` ascending).
pub(crate) fn current(saved: &[u32], view: &[u32]) -> Vec<u32> {
    saved.iter().copied().filter(|u| view.binary_search(u).is_ok()).collect()
}

/// Search keys with `$` (as a sequence set or after `UID`) turned into the
/// saved UIDs, or into a key nothing matches when they are none.
pub(crate) fn criteria(keys: Vec<SearchKey<'static>>, marker: Option<u32>, saved: &[u32]) -> Vec<SearchKey<'static>> {
    if marker.is_none() {
        return keys;
    }
    let set = uid_set(saved);
    keys.into_iter().map(|k| rewrite(k, marker, set.as_ref())).collect()
}

fn rewrite(key: SearchKey<'static>, marker: Option<u32>, saved: Option<&SequenceSet>) -> SearchKey<'static> {
    match key {
        SearchKey::SequenceSet(s) | SearchKey::Uid(s) if is_dollar(&s, marker) => match saved {
            Some(set) => SearchKey::Uid(set.clone()),
            None => SearchKey::Not(Box::new(SearchKey::All)),
        },
        SearchKey::And(keys) => {
            let keys: Vec<_> = keys.into_iter().map(|k| rewrite(k, marker, saved)).collect();
            Vec1::try_from(keys).map_or(SearchKey::All, SearchKey::And)
        }
        SearchKey::Not(k) => SearchKey::Not(Box::new(rewrite(*k, marker, saved))),
        SearchKey::Or(a, b) => {
            SearchKey::Or(Box::new(rewrite(*a, marker, saved)), Box::new(rewrite(*b, marker, saved)))
        }
        other => other,
    }
}

/// `uids` (ascending) as a sequence set of ranges; `None` when empty.
fn uid_set(uids: &[u32]) -> Option<SequenceSet> {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for &u in uids {
        match runs.last_mut() {
            Some((_, end)) if end.checked_add(1) == Some(u) => *end = u,
            _ => runs.push((u, u)),
        }
    }
    let value = |n: u32| std::num::NonZeroU32::new(n).map(SeqOrUid::Value);
    let seqs: Option<Vec<Sequence>> = runs
        .into_iter()
        .map(|(a, b)| if a == b { value(a).map(Sequence::Single) } else { Some(Sequence::Range(value(a)?, value(b)?)) })
        .collect();
    SequenceSet::try_from(seqs?).ok()
}

/// What `SEARCH RETURN (SAVE …)` keeps (RFC 5182 §2.4): with MIN or MAX
/// and neither ALL nor COUNT, just those; otherwise every match. `found` is ascending UIDs.
pub(crate) fn to_save(found: &[u32], min: bool, max: bool, all_or_count: bool) -> Vec<u32> {
    if all_or_count || !(min || max) {
        return found.to_vec();
    }
    let mut kept = Vec::new();
    if let (true, Some(&first)) = (min, found.first()) {
        kept.push(first);
    }
    if let (true, Some(&last)) = (max, found.last())
        && kept.last() != Some(&last)
    {
        kept.push(last);
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_become_a_marker_outside_strings() {
        let (line, m) = substitute(b"a UID FETCH $ (FLAGS)\r\n").expect("substituted");
        assert_eq!(line, format!("a UID FETCH {m} (FLAGS)\r\n").as_bytes());
        let (line, m) = substitute(b"b SEARCH SUBJECT $ OR $ \"$\" {1}\r\n$ NOT $\r\n").expect("substituted");
        assert_eq!(line, format!("b SEARCH SUBJECT $ OR {m} \"$\" {{1}}\r\n$ NOT {m}\r\n").as_bytes());
        let (line, m) = substitute(b"c SEARCH HEADER X-A $ ($)\r\n").expect("substituted");
        assert_eq!(line, format!("c SEARCH HEADER X-A $ ({m})\r\n").as_bytes());
        assert!(substitute(b"d FETCH 1 $Forwarded\r\n").is_none());
        assert!(substitute(b"$ SEARCH RETURN (MIN) ALL\r\n").is_none());
        // A marker the command already contains is not used.
        let (line, m) = substitute(b"e SEARCH $ 4294967295\r\n").expect("substituted");
        assert_eq!(m, 4_294_967_294);
        assert_eq!(line, b"e SEARCH 4294967294 4294967295\r\n");
    }

    #[test]
    fn min_and_max_alone_save_only_themselves() {
        assert_eq!(to_save(&[3, 5, 9], true, false, false), vec![3]);
        assert_eq!(to_save(&[3, 5, 9], true, true, false), vec![3, 9]);
        assert_eq!(to_save(&[4], true, true, false), vec![4]);
        assert_eq!(to_save(&[3, 5, 9], true, false, true), vec![3, 5, 9]);
        assert_eq!(to_save(&[3, 5, 9], false, false, false), vec![3, 5, 9]);
        assert_eq!(uid_set(&[1, 2, 3, 7]).map(|s| s.0.as_ref().len()), Some(2));
        assert!(uid_set(&[]).is_none());
    }

    proptest::proptest! {
        /// Whatever the bytes, finding the `$`s answers without panicking.
        #[test]
        fn substitute_never_panics(rest in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            let mut line = b"t SEARCH $ ".to_vec();
            line.extend_from_slice(&rest);
            let _ = substitute(&line);
        }
    }
}
