//! FETCH: which data items are asked for, one backend call, one `* n FETCH`
//! line per message.

use std::num::NonZeroU32;

use imap_codec::imap_types::fetch::{Macro, MacroOrMessageDataItemNames, MessageDataItemName, Section};

use crate::commands::{Open, seq_of};
use crate::{Backend, FetchItems, wire};

/// Answers FETCH / UID FETCH for `uids` (already resolved from the sequence set).
#[expect(clippy::too_many_arguments, reason = "one call site; a struct would only rename the parameters")]
pub(crate) async fn fetch<B: Backend>(
    backend: &B,
    user: &B::User,
    open: &mut Open,
    tag: &str,
    uids: &[u32],
    names: &MacroOrMessageDataItemNames<'_>,
    by_uid: bool,
    changed_since: Option<u64>,
    out: &mut Vec<u8>,
) {
    let mut items: Vec<MessageDataItemName<'_>> = match names {
        MacroOrMessageDataItemNames::Macro(m) => {
            let mut v =
                vec![MessageDataItemName::Flags, MessageDataItemName::InternalDate, MessageDataItemName::Rfc822Size];
            if *m != Macro::Fast {
                v.push(MessageDataItemName::Envelope);
            }
            if *m == Macro::Full {
                v.push(MessageDataItemName::Body);
            }
            v
        }
        MacroOrMessageDataItemNames::MessageDataItemNames(items) => items.clone(),
    };
    // CHANGEDSINCE implies MODSEQ (RFC 7162 §3.1.4.1).
    if changed_since.is_some() && !items.contains(&MessageDataItemName::ModSeq) {
        items.push(MessageDataItemName::ModSeq);
    }
    let mut want = FetchItems::default();
    for item in &items {
        match item {
            MessageDataItemName::Flags
            | MessageDataItemName::Uid
            | MessageDataItemName::InternalDate
            | MessageDataItemName::Rfc822Size
            | MessageDataItemName::ModSeq => {}
            MessageDataItemName::BodyExt { peek, .. } => {
                want.raw = true;
                want.set_seen |= !peek && !open.read_only;
            }
            MessageDataItemName::Envelope
            | MessageDataItemName::Body
            | MessageDataItemName::BodyStructure
            | MessageDataItemName::Rfc822Header => want.raw = true,
            MessageDataItemName::Rfc822 | MessageDataItemName::Rfc822Text => {
                want.raw = true;
                want.set_seen |= !open.read_only;
            }
            MessageDataItemName::Binary { peek, .. } => {
                want.raw = true;
                want.set_seen |= !peek && !open.read_only;
            }
            MessageDataItemName::BinarySize { .. } => want.raw = true,
        }
    }
    let mut messages = match backend.fetch(user, &open.name, uids, want).await {
        Ok(m) => m,
        Err(no) => return wire::no(out, tag, &no),
    };
    if want.set_seen {
        // The implicit \Seen is reported here; a later poll needn't repeat it.
        open.own.extend(messages.iter().filter_map(|m| Some((m.uid, m.modseq?))));
    }
    if let Some(since) = changed_since {
        messages.retain(|m| m.modseq.is_some_and(|n| n > since));
    }
    // A part BINARY can't decode refuses the whole FETCH (RFC 3516 §4.3).
    for m in &messages {
        for item in &items {
            let section = match item {
                MessageDataItemName::Binary { section, .. } | MessageDataItemName::BinarySize { section } => section,
                _ => continue,
            };
            if crate::body::binary(m.raw.as_deref().unwrap_or_default(), section).is_err() {
                return wire::status(out, tag, "NO", Some("UNKNOWN-CTE"), "Can't decode this part");
            }
        }
    }
    for m in messages {
        let Some(seq) = seq_of(&open.uids, m.uid) else { continue };
        let mut parts: Vec<Vec<u8>> = Vec::new();
        // UID FETCH always reports the UID (RFC 3501 §6.4.8).
        if by_uid && !items.contains(&MessageDataItemName::Uid) {
            parts.push(format!("UID {}", m.uid).into_bytes());
        }
        // An implicit \Seen is reported with the data (RFC 3501 §6.4.5).
        if want.set_seen && !items.contains(&MessageDataItemName::Flags) {
            parts.push(format!("FLAGS {}", wire::flags(&m.flags)).into_bytes());
        }
        for item in &items {
            let part = match item {
                MessageDataItemName::Uid => format!("UID {}", m.uid).into_bytes(),
                MessageDataItemName::Flags => format!("FLAGS {}", wire::flags(&m.flags)).into_bytes(),
                MessageDataItemName::InternalDate => {
                    format!("INTERNALDATE {}", wire::date_time(m.internal_date)).into_bytes()
                }
                MessageDataItemName::Rfc822Size => format!("RFC822.SIZE {}", m.size).into_bytes(),
                MessageDataItemName::ModSeq => format!("MODSEQ ({})", m.modseq.unwrap_or(0)).into_bytes(),
                MessageDataItemName::Envelope => {
                    let mut p = Vec::new();
                    crate::envelope::envelope(&mut p, m.raw.as_deref().unwrap_or_default());
                    p
                }
                MessageDataItemName::BodyExt { section, partial, .. } => {
                    body_ext(m.raw.as_deref().unwrap_or_default(), section.as_ref(), *partial)
                }
                MessageDataItemName::Binary { section, partial, .. } => {
                    binary(m.raw.as_deref().unwrap_or_default(), section, *partial)
                }
                MessageDataItemName::BinarySize { section } => {
                    let decoded = crate::body::binary(m.raw.as_deref().unwrap_or_default(), section);
                    let size = decoded.ok().flatten().map_or(0, |d| d.len());
                    format!("BINARY.SIZE[{}] {size}", dotted(section)).into_bytes()
                }
                MessageDataItemName::Body | MessageDataItemName::BodyStructure => {
                    let mut p = Vec::new();
                    let extended = matches!(item, MessageDataItemName::BodyStructure);
                    crate::body::body_structure(&mut p, m.raw.as_deref().unwrap_or_default(), extended);
                    p
                }
                MessageDataItemName::Rfc822 | MessageDataItemName::Rfc822Header | MessageDataItemName::Rfc822Text => {
                    let raw = m.raw.as_deref().unwrap_or_default();
                    let (name, octets) = match item {
                        MessageDataItemName::Rfc822Header => {
                            ("RFC822.HEADER", crate::body::section(raw, &Section::Header(None)).unwrap_or_default())
                        }
                        MessageDataItemName::Rfc822Text => {
                            ("RFC822.TEXT", crate::body::section(raw, &Section::Text(None)).unwrap_or_default())
                        }
                        _ => ("RFC822", raw.to_vec()),
                    };
                    let mut p = format!("{name} ").into_bytes();
                    wire::literal(&mut p, &octets);
                    p
                }
            };
            parts.push(part);
        }
        out.extend_from_slice(format!("* {seq} FETCH (").as_bytes());
        out.extend_from_slice(&parts.join(&b' '));
        out.extend_from_slice(b")\r\n");
    }
    wire::status(out, tag, "OK", None, "FETCH completed");
}

/// `BODY[section]<origin> octets`: the section (NIL when the message has no such
/// part), cut to `<start.count>` when a partial range was asked for (RFC 3501 §6.4.5).
fn body_ext(raw: &[u8], section: Option<&Section<'_>>, partial: Option<(u32, NonZeroU32)>) -> Vec<u8> {
    let octets = match section {
        None => Some(raw.to_vec()),
        Some(s) => crate::body::section(raw, s),
    };
    let mut p = format!("BODY[{}]", crate::body::section_name(section)).into_bytes();
    if let Some((start, _)) = partial {
        p.extend_from_slice(format!("<{start}>").as_bytes());
    }
    p.push(b' ');
    match octets {
        None => p.extend_from_slice(b"NIL"),
        Some(o) => {
            let cut = match partial {
                None => &o[..],
                Some((start, count)) => {
                    let from = (start as usize).min(o.len());
                    let to = from.saturating_add(count.get() as usize).min(o.len());
                    &o[from..to]
                }
            };
            wire::literal(&mut p, cut);
        }
    }
    p
}

/// `1.2` for a section path.
fn dotted(section: &[NonZeroU32]) -> String {
    section.iter().map(ToString::to_string).collect::<Vec<_>>().join(".")
}

/// `BINARY[section]<origin> octets`: decoded, as a `~{n}` literal8 when it
/// holds NUL (RFC 3516 §4.2), NIL when there is no such part.
fn binary(raw: &[u8], section: &[NonZeroU32], partial: Option<(u32, NonZeroU32)>) -> Vec<u8> {
    let mut p = format!("BINARY[{}]", dotted(section)).into_bytes();
    if let Some((start, _)) = partial {
        p.extend_from_slice(format!("<{start}>").as_bytes());
    }
    p.push(b' ');
    match crate::body::binary(raw, section).ok().flatten() {
        None => p.extend_from_slice(b"NIL"),
        Some(o) => {
            let cut = match partial {
                None => &o[..],
                Some((start, count)) => {
                    let from = (start as usize).min(o.len());
                    let to = from.saturating_add(count.get() as usize).min(o.len());
                    &o[from..to]
                }
            };
            if cut.contains(&0) {
                p.push(b'~');
            }
            wire::literal(&mut p, cut);
        }
    }
    p
}
