//! The incremental pass of a move (spec §9, Exchange's incremental sync
//! before completion): what changed in a source folder after its messages
//! were copied — flags set or cleared, messages expunged — carried to the
//! copy, without sending a body again. New messages come in pages
//! ([`super::copy`]); this pass runs after them, during the copy and once
//! more at the switch, on the frozen source ([`Deputy::release_mailbox`]).
//!
//! The source answers a folder's manifest: its HIGHESTMODSEQ (RFC 7162), and
//! per message copied so far its UID, flags, mod-sequence and what identifies
//! its copy (INTERNALDATE, size, `Message-ID`). A folder whose HIGHESTMODSEQ
//! is still the one the target last carried answers no messages at all:
//! every new entry, flag change and expunge raises it. The target pairs the
//! manifest with its copies in order (both are in the order of the source's
//! UIDs), removes the copies whose message is gone, gives the source's flags
//! to the copies whose message changed since the last pass (its mod-sequence
//! is above the carried one, so a change made here to an unchanged message
//! stays), and records the HIGHESTMODSEQ it carried. Running it again with
//! the same manifest changes nothing, so a pass killed half-way is simply
//! run again.

use super::copy::{MOVE_PROGRESS, parse_progress, takes_pages};
use super::moves::MOVED_IN;
use crate::{CoreError, Ctx, Deputy, Result};
use chrono::{DateTime, Utc};
use deputy_store::FlagOp;
use deputy_types::{FolderEntry, FolderId, MessageFlags, RecipientId, Uid};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// One message of a source folder, as the incremental pass sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// Its UID in the source folder.
    pub uid: Uid,
    /// Its flags.
    pub flags: MessageFlags,
    /// Its mod-sequence.
    pub modseq: u64,
    /// Its INTERNALDATE.
    pub internal_date: DateTime<Utc>,
    /// Its size in bytes.
    pub size: u32,
    /// Its `Message-ID`.
    pub message_id: Option<String>,
}

/// A source folder's messages up to a UID, for the incremental pass.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// The folder's HIGHESTMODSEQ, read before its messages: everything the
    /// manifest leaves out changed after it.
    pub highest_modseq: u64,
    /// Nothing changed since the mod-sequence asked about: no messages follow.
    pub unchanged: bool,
    /// The messages with a UID up to the one asked about, in UID order.
    pub entries: Vec<ManifestEntry>,
}

/// What an incremental pass changed in a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Carried {
    /// Copies removed (their message was expunged in the source).
    pub removed: usize,
    /// Copies whose flags were set to the source's.
    pub reflagged: usize,
    /// The source's HIGHESTMODSEQ now carried.
    pub modseq: u64,
}

/// What pairs a copy with its message: INTERNALDATE, size and `Message-ID`.
type Key = (DateTime<Utc>, u32, Option<String>);

/// Pairs the source's messages with the copies here, both in source-UID
/// order: for each copy, the index of its message in `source`, if any. A
/// message is paired with the first unpaired copy of the same key after the
/// last pair; one without (its copy was removed here) is passed over.
fn align(source: &[ManifestEntry], copies: &[FolderEntry]) -> Vec<Option<usize>> {
    let mut at: HashMap<Key, Vec<usize>> = HashMap::new();
    for (i, c) in copies.iter().enumerate() {
        at.entry((c.internal_date, c.size, c.message_id.clone())).or_default().push(i);
    }
    let mut pairs = vec![None; copies.len()];
    let mut next = 0;
    for (si, m) in source.iter().enumerate() {
        let Some(positions) = at.get(&(m.internal_date, m.size, m.message_id.clone())) else { continue };
        let p = positions.partition_point(|&i| i < next);
        let Some(&ci) = positions.get(p) else { continue };
        if let Some(slot) = pairs.get_mut(ci) {
            *slot = Some(si);
            next = ci + 1;
        }
    }
    pairs
}

impl Deputy {
    /// The source side: the manifest of folder `folder` of mailbox `id` (a
    /// folder of it, or one frozen at the switch) through UID `through`;
    /// without messages when its HIGHESTMODSEQ is still `since`.
    pub async fn folder_manifest(
        &self,
        id: RecipientId,
        folder: FolderId,
        through: Uid,
        since: u64,
    ) -> Result<Manifest> {
        if !self.moving_folder(id, folder) {
            return Err(CoreError::NotApplicable(format!("{folder} is not a folder of {id}.")));
        }
        // Read first: a change landing between the two reads is in the
        // entries and raises the folder above this, so the next pass looks again.
        let highest_modseq = self.mail.folder_status(folder).await?.highest_modseq;
        if since > 0 && highest_modseq == since {
            return Ok(Manifest { highest_modseq, unchanged: true, entries: Vec::new() });
        }
        let mut entries: Vec<ManifestEntry> = self
            .mail
            .entries(folder)
            .await?
            .into_iter()
            .filter(|e| e.uid <= through)
            .map(|e| ManifestEntry {
                uid: e.uid,
                flags: e.flags,
                modseq: e.modseq,
                internal_date: e.internal_date,
                size: e.size,
                message_id: e.message_id,
            })
            .collect();
        entries.sort_by_key(|e| e.uid);
        Ok(Manifest { highest_modseq, unchanged: false, entries })
    }

    /// The target side: carries `manifest` (of source folder `folder`,
    /// through the last UID copied) to the copies in mailbox `id`.
    pub async fn carry_changes(
        &self,
        ctx: &Ctx,
        id: RecipientId,
        folder: FolderId,
        manifest: Manifest,
    ) -> Result<Carried> {
        let (state, progress) = self.read(|s| {
            let r = s.dir.get(id);
            (
                r.and_then(|r| r.attribute(MOVED_IN)).map(str::to_owned),
                parse_progress(r.and_then(|r| r.attribute(MOVE_PROGRESS))),
            )
        });
        if !takes_pages(state.as_deref()) {
            return Err(CoreError::NotApplicable(format!("{id} is not a mailbox being moved here.")));
        }
        if !self.read(|s| s.folder(folder).is_some_and(|f| f.mailbox == id)) {
            return Err(CoreError::NotApplicable(format!("{folder} is not a folder of {id}.")));
        }
        let mut copied = progress.get(&folder).cloned().unwrap_or_default();
        let mut carried = Carried { modseq: copied.modseq.max(manifest.highest_modseq), ..Carried::default() };
        if manifest.unchanged {
            return Ok(carried);
        }
        // Only what a page copied is touched: mail that reached this mailbox
        // on its own during the move has no message in the source.
        let mut copies: Vec<FolderEntry> =
            self.mail.entries(folder).await?.into_iter().filter(|e| copied.is_copy(e.uid)).collect();
        copies.sort_by_key(|e| e.uid);
        let source: Vec<ManifestEntry> = manifest.entries.into_iter().filter(|e| e.uid <= copied.source).collect();
        let pairs = align(&source, &copies);
        let gone: Vec<Uid> = copies.iter().zip(&pairs).filter(|(_, p)| p.is_none()).map(|(c, _)| c.uid).collect();
        let mut flags: BTreeMap<u16, (MessageFlags, Vec<Uid>)> = BTreeMap::new();
        for (c, p) in copies.iter().zip(&pairs) {
            let Some(m) = p.and_then(|i| source.get(i)) else { continue };
            if m.modseq > copied.modseq && m.flags != c.flags {
                flags.entry(m.flags.bits()).or_insert_with(|| (m.flags, Vec::new())).1.push(c.uid);
            }
        }
        if !gone.is_empty() {
            carried.removed = self.mail.expunge(folder, &gone).await?.len();
        }
        for (set, uids) in flags.into_values() {
            carried.reflagged += self.mail.set_flags(folder, &uids, FlagOp::Replace(set), None).await?.changed.len();
        }
        copied.modseq = carried.modseq;
        self.record_progress(ctx, id, folder, copied).await?;
        Ok(carried)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deputy_types::BlobId;

    fn at(n: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + n, 0).unwrap_or_default()
    }

    fn message(uid: Uid, n: i64) -> ManifestEntry {
        ManifestEntry {
            uid,
            flags: MessageFlags::empty(),
            modseq: 1,
            internal_date: at(n),
            size: 100,
            message_id: Some(format!("m{n}@x")),
        }
    }

    fn copy(uid: Uid, n: i64) -> FolderEntry {
        FolderEntry {
            folder: FolderId(uuid::Uuid::nil()),
            uid,
            blob: BlobId(0),
            flags: MessageFlags::empty(),
            size: 100,
            internal_date: at(n),
            creator: None,
            message_id: Some(format!("m{n}@x")),
            modseq: 1,
        }
    }

    #[allow(clippy::unwrap_used, reason = "test scaffolding: a failed unwrap is a failed test")]
    #[tokio::test]
    async fn the_pass_carries_changes_once_and_the_purge_waits_for_it() {
        use crate::hybrid::{MOVE_FROZEN, MovedMessage};
        let dir = std::env::temp_dir().join(format!("deputy-core-move-delta-{}", std::process::id()));
        let store = std::sync::Arc::new(deputy_store_sqlite::SqliteStore::open(&dir).unwrap());
        let d = Deputy::load(store.clone(), store).await.unwrap();
        d.initialize("contoso.test", "Adm1n!pass").await.unwrap();
        let ctx = Ctx::new("HybridSync@test", "Test", "test");
        let spec = crate::NewRecipient {
            kind: Some(deputy_types::RecipientType::SharedMailbox),
            name: "Mary".into(),
            ..Default::default()
        };
        let mary = d.new_recipient(&ctx, spec).await.unwrap().value.id;
        let inbox = d.read(|s| {
            s.folders_of(mary).find(|f| f.well_known == Some(deputy_types::WellKnownFolder::Inbox)).map(|f| f.id)
        });
        let inbox = inbox.unwrap();
        let edit = |k: &str, v: &str| crate::RecipientEdit {
            attributes: vec![(k.to_owned(), v.to_owned())],
            ..Default::default()
        };
        d.set_recipient(&ctx, mary, edit(MOVED_IN, "Copying")).await.unwrap();
        let raw = |n: i64| format!("Subject: m{n}\r\nMessage-ID: <m{n}@x>\r\n\r\nbody\r\n").into_bytes();
        let page: Vec<MovedMessage> = (1..=5)
            .map(|n| MovedMessage {
                uid: u32::try_from(n).unwrap(),
                raw: raw(n),
                flags: MessageFlags::SEEN,
                internal_date: at(n),
                creator: None,
            })
            .collect();
        d.take_messages(&ctx, mary, inbox, page).await.unwrap();
        // Mail that reached the mailbox here on its own is no copy: the pass leaves it.
        let own = deputy_store::Delivery {
            raw: raw(9),
            received: at(9),
            message_id: Some("m9@x".into()),
            entries: vec![deputy_store::NewEntry { folder: inbox, flags: MessageFlags::empty(), creator: None }],
            outbound: None,
        };
        d.mail.store(vec![own]).await.unwrap();
        // In the source: 3 expunged, 2 flagged since.
        let size = u32::try_from(raw(1).len()).unwrap();
        let entry =
            |n: i64, flags, modseq| ManifestEntry { size, flags, modseq, ..message(u32::try_from(n).unwrap(), n) };
        let mut entries: Vec<ManifestEntry> = [1, 4, 5].map(|n| entry(n, MessageFlags::SEEN, 6)).to_vec();
        entries.insert(1, entry(2, MessageFlags::SEEN | MessageFlags::FLAGGED, 8));
        let manifest = Manifest { highest_modseq: 9, unchanged: false, entries };
        let carried = d.carry_changes(&ctx, mary, inbox, manifest.clone()).await.unwrap();
        assert_eq!(carried, Carried { removed: 1, reflagged: 1, modseq: 9 });
        let here = d.mail.entries(inbox).await.unwrap();
        assert_eq!(here.len(), 5, "four copies and the message that arrived here");
        assert!(here.iter().any(|e| e.flags == MessageFlags::SEEN | MessageFlags::FLAGGED));
        // Again: nothing more to do.
        let again = d.carry_changes(&ctx, mary, inbox, manifest).await.unwrap();
        assert_eq!(again, Carried { removed: 0, reflagged: 0, modseq: 9 });
        assert_eq!(d.folder_progress(mary).get(&inbox).map(|p| p.modseq), Some(9));

        // The purge removes a frozen folder's messages only at the HIGHESTMODSEQ the pass carried.
        d.set_recipient(&ctx, mary, edit(MOVE_FROZEN, &inbox.to_string())).await.unwrap();
        let highest = d.mail.folder_status(inbox).await.unwrap().highest_modseq;
        let stale = BTreeMap::from([(inbox, highest - 1)]);
        assert_eq!(d.purge_moved(&ctx, mary, &stale).await.unwrap(), vec![inbox]);
        assert_eq!(d.mail.entries(inbox).await.unwrap().len(), 5, "a change the pass missed keeps them");
        let carried = BTreeMap::from([(inbox, highest)]);
        assert!(d.purge_moved(&ctx, mary, &carried).await.unwrap().is_empty());
        assert!(d.mail.entries(inbox).await.unwrap().is_empty());
        assert!(d.frozen_folders(mary).is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn copies_pair_in_order_and_gone_messages_stay_unpaired() {
        // Copies of messages 1..=5; 2 and 4 were expunged in the source.
        let copies: Vec<FolderEntry> = (1..=5).map(|n| copy(u32::try_from(n).unwrap_or(0) + 10, n)).collect();
        let source = vec![message(1, 1), message(3, 3), message(5, 5)];
        assert_eq!(align(&source, &copies), vec![Some(0), None, Some(1), None, Some(2)]);
        // A message whose copy was removed here is passed over, not paired with a later copy.
        let source = vec![message(1, 1), message(9, 9), message(3, 3)];
        assert_eq!(align(&source, &copies[..3]), vec![Some(0), None, Some(2)]);
        // Identical messages pair one to one, in order.
        let twins = vec![copy(1, 7), copy(2, 7), copy(3, 7)];
        assert_eq!(align(&[message(4, 7), message(6, 7)], &twins), vec![Some(0), Some(1), None]);
    }
}
