//! FETCH: which data items are asked for, one backend call, one `* n FETCH`
//! line per message.

use imap_codec::imap_types::fetch::{Macro, MacroOrMessageDataItemNames, MessageDataItemName};

use crate::commands::{Open, seq_of};
use crate::{Backend, FetchItems, wire};

/// Answers FETCH / UID FETCH for `uids` (already resolved from the sequence set).
#[expect(clippy::too_many_arguments, reason = "one call site; a struct would only rename the parameters")]
pub(crate) async fn fetch<B: Backend>(
    backend: &B,
    user: &B::User,
    open: &Open,
    tag: &str,
    uids: &[u32],
    names: &MacroOrMessageDataItemNames<'_>,
    by_uid: bool,
    out: &mut Vec<u8>,
) {
    let items: Vec<MessageDataItemName<'_>> = match names {
        MacroOrMessageDataItemNames::Macro(m) => {
            let mut v =
                vec![MessageDataItemName::Flags, MessageDataItemName::InternalDate, MessageDataItemName::Rfc822Size];
            // ALL and FULL add ENVELOPE (FULL's BODY structure is not served yet).
            if *m != Macro::Fast {
                v.push(MessageDataItemName::Envelope);
            }
            v
        }
        MacroOrMessageDataItemNames::MessageDataItemNames(items) => items.clone(),
    };
    let mut want = FetchItems::default();
    for item in &items {
        match item {
            MessageDataItemName::Flags
            | MessageDataItemName::Uid
            | MessageDataItemName::InternalDate
            | MessageDataItemName::Rfc822Size => {}
            MessageDataItemName::BodyExt { section: None, partial: None, peek } => {
                want.raw = true;
                want.set_seen |= !peek && !open.read_only;
            }
            MessageDataItemName::Envelope => want.raw = true,
            MessageDataItemName::Rfc822 => {
                want.raw = true;
                want.set_seen |= !open.read_only;
            }
            _ => {
                wire::status(out, tag, "NO", Some("CANNOT"), "Data item not supported yet");
                return;
            }
        }
    }
    let messages = match backend.fetch(user, &open.name, uids, want).await {
        Ok(m) => m,
        Err(no) => return wire::no(out, tag, &no),
    };
    for m in messages {
        let Some(seq) = seq_of(&open.uids, m.uid) else { continue };
        let mut parts: Vec<Vec<u8>> = Vec::new();
        // UID FETCH always reports the UID (RFC 3501 §6.4.8).
        if by_uid && !items.contains(&MessageDataItemName::Uid) {
            parts.push(format!("UID {}", m.uid).into_bytes());
        }
        for item in &items {
            let part = match item {
                MessageDataItemName::Uid => format!("UID {}", m.uid).into_bytes(),
                MessageDataItemName::Flags => format!("FLAGS {}", wire::flags(&m.flags)).into_bytes(),
                MessageDataItemName::InternalDate => {
                    format!("INTERNALDATE {}", wire::date_time(m.internal_date)).into_bytes()
                }
                MessageDataItemName::Rfc822Size => format!("RFC822.SIZE {}", m.size).into_bytes(),
                MessageDataItemName::Envelope => {
                    let mut p = Vec::new();
                    crate::envelope::envelope(&mut p, m.raw.as_deref().unwrap_or_default());
                    p
                }
                MessageDataItemName::BodyExt { .. } | MessageDataItemName::Rfc822 => {
                    let mut p = if matches!(item, MessageDataItemName::Rfc822) {
                        b"RFC822 ".to_vec()
                    } else {
                        b"BODY[] ".to_vec()
                    };
                    wire::literal(&mut p, m.raw.as_deref().unwrap_or_default());
                    p
                }
                _ => continue,
            };
            parts.push(part);
        }
        out.extend_from_slice(format!("* {seq} FETCH (").as_bytes());
        out.extend_from_slice(&parts.join(&b' '));
        out.extend_from_slice(b")\r\n");
    }
    wire::status(out, tag, "OK", None, "FETCH completed");
}
