//! CONDSTORE (RFC 7162): the `CHANGEDSINCE` and `UNCHANGEDSINCE` modifiers,
//! the `MODSEQ` fetch item and search key, and STORE with its `[MODIFIED]`
//! answer. The backend keeps the mod-sequences; the engine only carries them.

use imap_codec::imap_types::command::{FetchModifier, StoreModifier};
use imap_codec::imap_types::fetch::{MacroOrMessageDataItemNames, MessageDataItemName};
use imap_codec::imap_types::search::SearchKey;

use crate::commands::{Open, seq_of};
use crate::{Backend, StoreMode, wire};

/// `(CHANGEDSINCE n)`, if given.
pub(crate) fn changed_since(modifiers: &[FetchModifier]) -> Option<u64> {
    modifiers.iter().find_map(|m| match m {
        FetchModifier::ChangedSince(n) => Some(n.get()),
        FetchModifier::Vanished => None,
    })
}

/// `(UNCHANGEDSINCE n)`, if given.
pub(crate) fn unchanged_since(modifiers: &[StoreModifier]) -> Option<u64> {
    modifiers.iter().map(|StoreModifier::UnchangedSince(n)| *n).next()
}

/// Whether a FETCH asks for `MODSEQ`.
pub(crate) fn asks_modseq(names: &MacroOrMessageDataItemNames<'_>) -> bool {
    matches!(names, MacroOrMessageDataItemNames::MessageDataItemNames(items) if items.contains(&MessageDataItemName::ModSeq))
}

/// Whether a search key uses `MODSEQ` anywhere (iteratively: keys may nest deeply).
pub(crate) fn searches_modseq(key: &SearchKey<'_>) -> bool {
    let mut stack = vec![key];
    while let Some(k) = stack.pop() {
        match k {
            SearchKey::ModSequence { .. } => return true,
            SearchKey::And(keys) => stack.extend(keys.as_ref().iter()),
            SearchKey::Not(k) => stack.push(k),
            SearchKey::Or(a, b) => stack.extend([&**a, &**b]),
            _ => {}
        }
    }
    false
}

/// A STORE as the session resolved it.
pub(crate) struct Store<'a> {
    pub(crate) uids: &'a [u32],
    pub(crate) mode: StoreMode,
    pub(crate) flags: Vec<String>,
    pub(crate) since: Option<u64>,
    pub(crate) silent: bool,
    pub(crate) by_uid: bool,
}

/// Runs STORE: one `* n FETCH` per changed message (with `MODSEQ` once
/// CONDSTORE is enabled, and only `MODSEQ` for `.SILENT`, RFC 7162 §3.1.3),
/// then `OK`, with `[MODIFIED set]` when `UNCHANGEDSINCE` held some back.
pub(crate) async fn store<B: Backend>(
    backend: &B,
    user: &B::User,
    open: &mut Open,
    tag: &str,
    s: Store<'_>,
    condstore: bool,
    out: &mut Vec<u8>,
) {
    let outcome = match backend.store_flags(user, &open.name, s.uids, s.mode, &s.flags, s.since).await {
        Ok(o) => o,
        Err(no) => return wire::no(out, tag, &no),
    };
    for (uid, flags, modseq) in &outcome.changed {
        if let Some(m) = modseq {
            open.own.push((*uid, *m));
        }
        let Some(seq) = seq_of(&open.uids, *uid) else { continue };
        let mut items = Vec::new();
        if !s.silent {
            items.push(format!("FLAGS {}", wire::flags(flags)));
        }
        if s.by_uid && (!s.silent || condstore) {
            items.push(format!("UID {uid}"));
        }
        if let (true, Some(m)) = (condstore, modseq) {
            items.push(format!("MODSEQ ({m})"));
        }
        if !items.is_empty() && (!s.silent || condstore) {
            out.extend_from_slice(format!("* {seq} FETCH ({})\r\n", items.join(" ")).as_bytes());
        }
    }
    if outcome.modified.is_empty() {
        return wire::status(out, tag, "OK", None, "STORE completed");
    }
    let mut modified: Vec<u32> = if s.by_uid {
        outcome.modified.clone()
    } else {
        outcome.modified.iter().filter_map(|u| seq_of(&open.uids, *u).and_then(|n| u32::try_from(n).ok())).collect()
    };
    modified.sort_unstable();
    let code = format!("MODIFIED {}", crate::criteria::compact(&modified));
    wire::status(out, tag, "OK", Some(&code), "Conditional STORE failed for some messages");
}
