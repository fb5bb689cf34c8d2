//! The messages of a moving mailbox, copied in bounded pages (spec §9,
//! `New-MoveRequest`): the source reads a folder's messages after a UID, a
//! page at a time ([`Deputy::message_page`]); the target stores a page and
//! remembers how far the folder got ([`Deputy::take_messages`]).
//!
//! No message is stored twice, even when the copy is killed at any point:
//! a page is stored in one commit of the message store, and the target then
//! records, in the mailbox's `HybridMoveProgress` attribute, the last source
//! UID copied and the UID its copy got here. The two commits are not one, so
//! a crash between them leaves a page stored but not recorded; the next page
//! request starts at the recorded UID again, and the target first skips every
//! message it finds already stored after the recorded copy (same size,
//! INTERNALDATE and `Message-ID`, in order), as an atomic store can only have
//! left a whole prefix of the same page.

use super::moves::MOVED_IN;
use crate::recipients::audit_json;
use crate::{CoreError, Ctx, Deputy, Plan, Result};
use chrono::{DateTime, Utc};
use deputy_store::{Change, Delivery, NewEntry};
use deputy_types::{FolderEntry, FolderId, MessageFlags, RecipientId, Uid};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Attribute of a mailbox being copied in: `<folder>:<source uid>:<uid here>;…`,
/// the last message copied of each folder.
pub const MOVE_PROGRESS: &str = "HybridMoveProgress";

/// One message of a moved mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedMessage {
    /// Its UID in the source folder (pages are in UID order).
    pub uid: Uid,
    /// The raw RFC 5322 bytes.
    #[serde(skip)]
    pub raw: Vec<u8>,
    /// Its flags.
    pub flags: MessageFlags,
    /// Its INTERNALDATE.
    pub internal_date: DateTime<Utc>,
    /// Who created it (spec §5 "own items"): the same `Guid` in both forests.
    #[serde(default)]
    pub creator: Option<RecipientId>,
}

/// How much one page may hold: at most `messages` messages and, past the
/// first message, at most `bytes` bytes of bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit {
    /// Messages per page.
    pub messages: usize,
    /// Body bytes per page (a larger single message still travels, alone).
    pub bytes: usize,
}

impl Default for PageLimit {
    fn default() -> Self {
        Self { messages: 100, bytes: 8 * 1024 * 1024 }
    }
}

/// How far a folder's copy got, as the target reports it to the sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FolderProgress {
    /// The last source UID copied.
    pub copied: Uid,
    /// The source folder's HIGHESTMODSEQ the last incremental pass carried (0: none yet).
    pub modseq: u64,
}

/// How far a folder's copy got: the last message copied (its source UID and
/// its UID here), the source folder's HIGHESTMODSEQ the last incremental
/// pass carried ([`super::delta`]), and which UIDs here hold copies (ranges),
/// so that pass never touches mail that arrived here on its own.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Copied {
    pub(super) source: Uid,
    pub(super) here: Uid,
    pub(super) modseq: u64,
    pub(super) copies: Vec<(Uid, Uid)>,
}

impl Copied {
    /// Records that UID `uid` here holds a copy, merging adjacent ranges.
    fn add_copy(&mut self, uid: Uid) {
        match self.copies.last_mut() {
            Some((_, last)) if *last >= uid => {}
            Some((_, last)) if *last + 1 == uid => *last = uid,
            _ => self.copies.push((uid, uid)),
        }
    }

    /// Whether UID `uid` here holds a copy.
    pub(super) fn is_copy(&self, uid: Uid) -> bool {
        self.copies.iter().any(|(a, b)| (*a..=*b).contains(&uid))
    }
}

/// `<folder>:<source uid>:<uid here>[:<modseq>[:<a>-<b>+…]]` per folder,
/// `;`-separated (the two last parts are absent in older records).
pub(super) fn parse_progress(value: Option<&str>) -> BTreeMap<FolderId, Copied> {
    let mut map = BTreeMap::new();
    for part in value.unwrap_or_default().split(';') {
        let mut f = part.trim().split(':');
        let (Some(folder), Some(source), Some(here)) = (f.next(), f.next(), f.next()) else { continue };
        let (Ok(folder), Ok(source), Ok(here)) = (folder.parse::<uuid::Uuid>(), source.parse(), here.parse()) else {
            continue;
        };
        let modseq = f.next().and_then(|m| m.parse().ok()).unwrap_or(0);
        let copies = f
            .next()
            .unwrap_or_default()
            .split('+')
            .filter_map(|r| r.split_once('-'))
            .filter_map(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
            .collect();
        map.insert(FolderId(folder), Copied { source, here, modseq, copies });
    }
    map
}

pub(super) fn format_progress(map: &BTreeMap<FolderId, Copied>) -> String {
    let ranges = |c: &Copied| c.copies.iter().map(|(a, b)| format!("{a}-{b}")).collect::<Vec<_>>().join("+");
    map.iter()
        .map(|(f, c)| format!("{f}:{}:{}:{}:{}", c.source, c.here, c.modseq, ranges(c)))
        .collect::<Vec<_>>()
        .join(";")
}

/// Whether a mailbox in this `HybridMovedIn` state takes pages and passes:
/// while copying, and once moved in, for the final pass the source makes at
/// the switch ([`super::delta`]).
pub(super) fn takes_pages(state: Option<&str>) -> bool {
    matches!(state, Some("Copying" | "Done"))
}

/// Whether `entry` (stored here) is the copy of `m`.
fn same(entry: &FolderEntry, m: &MovedMessage, message_id: Option<&String>) -> bool {
    entry.internal_date == m.internal_date
        && usize::try_from(entry.size).is_ok_and(|s| s == m.raw.len())
        && entry.message_id.as_ref() == message_id
}

impl Deputy {
    /// The messages of folder `folder` of mailbox `id` with a UID above
    /// `after`, in UID order, at most `limit` of them (the source side).
    pub async fn message_page(
        &self,
        id: RecipientId,
        folder: FolderId,
        after: Uid,
        limit: PageLimit,
    ) -> Result<Vec<MovedMessage>> {
        if !self.moving_folder(id, folder) {
            return Err(CoreError::NotApplicable(format!("{folder} is not a folder of {id}.")));
        }
        let mut entries: Vec<FolderEntry> =
            self.mail.entries(folder).await?.into_iter().filter(|e| e.uid > after).collect();
        entries.sort_by_key(|e| e.uid);
        let (mut page, mut bytes) = (Vec::new(), 0usize);
        for e in entries {
            let size = usize::try_from(e.size).unwrap_or(usize::MAX);
            if page.len() >= limit.messages.max(1) || (!page.is_empty() && bytes.saturating_add(size) > limit.bytes) {
                break;
            }
            // An entry whose body is gone (expunged meanwhile) is skipped, not an error.
            let Some(raw) = self.mail.body(e.blob).await? else { continue };
            bytes = bytes.saturating_add(raw.len());
            page.push(MovedMessage {
                uid: e.uid,
                raw,
                flags: e.flags,
                internal_date: e.internal_date,
                creator: e.creator,
            });
        }
        Ok(page)
    }

    /// How far the copy into mailbox `id` got: the last source UID copied of each folder.
    pub fn move_progress(&self, id: RecipientId) -> BTreeMap<FolderId, Uid> {
        self.folder_progress(id).into_iter().map(|(f, p)| (f, p.copied)).collect()
    }

    /// How far the copy into mailbox `id` got, per folder: the last source
    /// UID copied and the source HIGHESTMODSEQ the incremental pass carried.
    pub fn folder_progress(&self, id: RecipientId) -> BTreeMap<FolderId, FolderProgress> {
        let value = self.read(|s| s.dir.get(id).and_then(|r| r.attribute(MOVE_PROGRESS)).map(str::to_owned));
        let progress = parse_progress(value.as_deref()).into_iter();
        progress.map(|(f, c)| (f, FolderProgress { copied: c.source, modseq: c.modseq })).collect()
    }

    /// The target side: stores the messages of `page` (folder `folder` of
    /// mailbox `id`, which is being copied in) that aren't here yet, and
    /// answers the last source UID now copied of the folder. Giving it a
    /// page again, whole or in part, stores nothing twice.
    pub async fn take_messages(
        &self,
        ctx: &Ctx,
        id: RecipientId,
        folder: FolderId,
        mut page: Vec<MovedMessage>,
    ) -> Result<Uid> {
        let (state, progress) = self.read(|s| {
            let r = s.dir.get(id);
            let state = r.and_then(|r| r.attribute(MOVED_IN)).map(str::to_owned);
            (state, parse_progress(r.and_then(|r| r.attribute(MOVE_PROGRESS))))
        });
        if !takes_pages(state.as_deref()) {
            return Err(CoreError::NotApplicable(format!("{id} is not a mailbox being moved here.")));
        }
        if !self.read(|s| s.folder(folder).is_some_and(|f| f.mailbox == id)) {
            return Err(CoreError::NotApplicable(format!("{folder} is not a folder of {id}.")));
        }
        let mut copied = progress.get(&folder).cloned().unwrap_or_default();
        page.sort_by_key(|m| m.uid);
        page.retain(|m| m.uid > copied.source);
        if page.is_empty() {
            return Ok(copied.source);
        }
        // A page stored before a crash, but not recorded: skip its prefix.
        let mut stored: Vec<FolderEntry> =
            self.mail.entries(folder).await?.into_iter().filter(|e| e.uid > copied.here).collect();
        stored.sort_by_key(|e| e.uid);
        let ids: Vec<Option<String>> = page.iter().map(|m| crate::mail::inspect(&m.raw).message_id).collect();
        let mut skip = 0;
        for e in &stored {
            if skip < page.len() && same(e, &page[skip], ids[skip].as_ref()) {
                (copied.source, copied.here) = (page[skip].uid, e.uid);
                copied.add_copy(e.uid);
                skip += 1;
            }
        }
        let deliveries: Vec<Delivery> = page
            .iter()
            .zip(ids)
            .skip(skip)
            .map(|(m, message_id)| Delivery {
                raw: m.raw.clone(),
                received: m.internal_date,
                message_id,
                entries: vec![NewEntry { folder, flags: m.flags, creator: m.creator }],
                outbound: None,
            })
            .collect();
        let last = page.last().map_or(copied.source, |m| m.uid);
        if !deliveries.is_empty() {
            // One commit for the whole page: after a crash, all of it is here or none.
            let done = self.mail.store(deliveries).await?;
            let mut here: Vec<Uid> =
                done.iter().flat_map(|d| d.uids.iter()).filter(|(f, _)| *f == folder).map(|(_, u)| *u).collect();
            here.sort_unstable();
            for uid in &here {
                copied.add_copy(*uid);
            }
            copied.here = here.last().copied().unwrap_or(copied.here);
        }
        copied.source = last;
        let source = copied.source;
        self.record_progress(ctx, id, folder, copied).await?;
        Ok(source)
    }

    /// Records how far folder `folder` of mailbox `id` got. Its audit record
    /// names the step and leaves out the recipient's before/after (the
    /// attribute only grows with the copy), so a large move's many records
    /// stay small.
    pub(super) async fn record_progress(
        &self,
        ctx: &Ctx,
        id: RecipientId,
        folder: FolderId,
        copied: Copied,
    ) -> Result<()> {
        self.mutate(ctx, |s| {
            let old = s.dir.get(id).ok_or_else(|| CoreError::Gone(id.to_string()))?;
            let mut progress = parse_progress(old.attribute(MOVE_PROGRESS));
            if progress.get(&folder) == Some(&copied) {
                return Ok(Plan::new((), old.name.clone(), ""));
            }
            progress.insert(folder, copied.clone());
            let mut r = old.clone();
            r.set_attribute(MOVE_PROGRESS, &format_progress(&progress));
            let what = format!(
                "Copying mailbox \"{}\": folder {folder} through UID {}, modseq {}.",
                r.name, copied.source, copied.modseq
            );
            let mut plan = Plan::new((), r.name.clone(), what);
            plan.changes.push(Change::PutRecipient(r));
            Ok(plan)
        })
        .await?;
        Ok(())
    }

    /// The target side, after the last page: the mailbox moved in whole
    /// (`Done`), which lets the source forest release its copy. Again, it
    /// changes nothing.
    pub async fn finish_move(&self, ctx: &Ctx, id: RecipientId) -> Result<bool> {
        let applied = self
            .mutate(ctx, |s| {
                let old = s.dir.get(id).ok_or_else(|| CoreError::Gone(id.to_string()))?;
                match old.attribute(MOVED_IN) {
                    Some("Done") => {
                        return Ok(Plan::warn(false, old.name.clone(), "The mailbox has already moved here.".into()));
                    }
                    Some("Copying") => {}
                    _ => return Err(CoreError::NotApplicable(format!("{id} is not a mailbox being moved here."))),
                }
                let mut r = old.clone();
                // The progress stays: the source's final pass at the switch
                // needs the copies and their mod-sequences (`super::delta`).
                r.set_attribute(MOVED_IN, "Done");
                let mut plan = Plan::new(true, r.name.clone(), format!("Mailbox \"{}\" moved in.", r.name));
                plan.before = Some(audit_json(old));
                plan.after = Some(audit_json(&r));
                plan.changes.push(Change::PutRecipient(r));
                Ok(plan)
            })
            .await?;
        Ok(applied.changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_round_trips_and_skips_garbage() {
        let f = FolderId(uuid::Uuid::from_u128(7));
        let mut map = BTreeMap::new();
        map.insert(f, Copied { source: 42, here: 9, modseq: 77, copies: vec![(1, 5), (7, 9)] });
        let text = format_progress(&map);
        assert_eq!(parse_progress(Some(&text)), map);
        assert_eq!(parse_progress(Some(&format!("{text};junk;x:1:2;{f}:a:1"))), map);
        assert!(parse_progress(None).is_empty());
        // Records written before the incremental pass existed still read.
        let old = parse_progress(Some(&format!("{f}:42:9")));
        assert_eq!(old.get(&f), Some(&Copied { source: 42, here: 9, ..Copied::default() }));
        let mut c = Copied::default();
        for uid in [3, 4, 5, 5, 8] {
            c.add_copy(uid);
        }
        assert_eq!(c.copies, vec![(3, 5), (8, 8)]);
        assert!(c.is_copy(4) && c.is_copy(8) && !c.is_copy(6));
    }

    #[allow(clippy::unwrap_used, reason = "test scaffolding: a failed unwrap is a failed test")]
    #[tokio::test]
    async fn a_page_stored_but_not_recorded_is_not_stored_again() {
        let dir = std::env::temp_dir().join(format!("deputy-core-move-pages-{}", std::process::id()));
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
        let page = |from: u32, to: u32| -> Vec<MovedMessage> {
            (from..=to)
                .map(|uid| MovedMessage {
                    uid: uid * 2,
                    raw: format!("Subject: m{uid}\r\nMessage-ID: <m{uid}@x>\r\n\r\nbody {uid}\r\n").into_bytes(),
                    flags: MessageFlags::SEEN,
                    internal_date: DateTime::from_timestamp(1_700_000_000 + i64::from(uid) * 60, 0).unwrap(),
                    creator: None,
                })
                .collect()
        };
        let count = || async { d.mail.entries(inbox).await.unwrap().len() };
        // Only a mailbox being moved in takes pages.
        assert!(d.take_messages(&ctx, mary, inbox, page(1, 2)).await.is_err());
        let copying = crate::RecipientEdit {
            attributes: vec![(MOVED_IN.to_owned(), "Copying".to_owned())],
            ..Default::default()
        };
        d.set_recipient(&ctx, mary, copying).await.unwrap();
        assert_eq!(d.take_messages(&ctx, mary, inbox, page(1, 5)).await.unwrap(), 10);
        assert_eq!(count().await, 5);
        // A crash after the store's commit and before the progress: 6..8 are here, unrecorded.
        let crashed: Vec<Delivery> = page(6, 8)
            .into_iter()
            .map(|m| Delivery {
                message_id: crate::mail::inspect(&m.raw).message_id,
                raw: m.raw,
                received: m.internal_date,
                entries: vec![NewEntry { folder: inbox, flags: m.flags, creator: None }],
                outbound: None,
            })
            .collect();
        d.mail.store(crashed).await.unwrap();
        assert_eq!(d.move_progress(mary).get(&inbox), Some(&10));
        // The resumed copy sends 6..10 again: only 9 and 10 are stored.
        assert_eq!(d.take_messages(&ctx, mary, inbox, page(6, 10)).await.unwrap(), 20);
        assert_eq!(count().await, 10);
        assert_eq!(d.take_messages(&ctx, mary, inbox, page(1, 10)).await.unwrap(), 20);
        assert_eq!(count().await, 10, "a page given again stores nothing");
        assert!(d.finish_move(&ctx, mary).await.unwrap());
        assert!(!d.finish_move(&ctx, mary).await.unwrap());
        assert_eq!(d.move_progress(mary).get(&inbox), Some(&20), "kept for the final pass");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
