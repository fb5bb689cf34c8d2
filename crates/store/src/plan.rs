//! Planning a delivery, the same for every backend: which checks refuse it,
//! which UID and mod-sequence each entry takes in its folder, and what the
//! queue entry holds. A backend reads (and, where it must, locks) the state of
//! the folders named, lets [`DeliveryPlan::assign`] hand out the numbers, then
//! writes the planned rows and the folder states back in its own SQL. Pure, so
//! two backends can never number one delivery differently.

use crate::{Delivery, NewOutbound, StoreError, Stored};
use chrono::{DateTime, Utc};
use deputy_types::{BlobId, FolderId, MessageFlags, QueueId, QueueRecipient, RecipientId, RecipientStatus, Uid};
use std::collections::BTreeMap;

/// A folder's counters as its state row holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderCounters {
    /// The UID the next entry takes.
    pub uidnext: i64,
    /// The highest mod-sequence handed out so far.
    pub highest_modseq: i64,
}

/// The state of the folders one request works on, as the backend read them;
/// UIDs and mod-sequences are taken from here in memory, and the backend
/// writes the result back before it commits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FolderStates {
    states: BTreeMap<FolderId, FolderCounters>,
    changed: bool,
}

impl FolderStates {
    /// No folder yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `folder`'s counters as read from its state row.
    pub fn insert(&mut self, folder: FolderId, counters: FolderCounters) {
        self.states.insert(folder, counters);
    }

    /// Whether `folder`'s state was read.
    pub fn has(&self, folder: FolderId) -> bool {
        self.states.contains_key(&folder)
    }

    /// Whether anything was taken, so the states must be written back.
    pub fn changed(&self) -> bool {
        self.changed
    }

    /// Every folder's counters, in folder order (the order a backend locks in).
    pub fn iter(&self) -> impl Iterator<Item = (FolderId, FolderCounters)> + '_ {
        self.states.iter().map(|(f, c)| (*f, *c))
    }

    fn state(&mut self, folder: FolderId) -> Result<&mut FolderCounters, StoreError> {
        self.changed = true;
        self.states.get_mut(&folder).ok_or_else(|| StoreError::Backend(format!("folder {folder}'s state was not read")))
    }

    /// The folder's next mod-sequence, recorded as its highest: every change
    /// of an entry (and every expunge) takes one, so they strictly increase.
    pub fn next_modseq(&mut self, folder: FolderId) -> Result<i64, StoreError> {
        let state = self.state(folder)?;
        state.highest_modseq = state.highest_modseq.checked_add(1).ok_or_else(|| {
            StoreError::Backend(format!("folder {folder} has used every mod-sequence RFC 7162 allows"))
        })?;
        Ok(state.highest_modseq)
    }

    /// The folder's next UID and mod-sequence. UIDs only grow, so one is
    /// never handed out twice.
    pub fn next_uid(&mut self, folder: FolderId) -> Result<(Uid, i64), StoreError> {
        let state = self.state(folder)?;
        let uid = Uid::try_from(state.uidnext).map_err(|_| {
            StoreError::Backend(format!(
                "folder {folder} has used every UID IMAP allows (up to 4294967295); move its messages to a new folder"
            ))
        })?;
        if uid == 0 {
            return Err(StoreError::Corrupt(format!("folder_state.uidnext of {folder} is 0")));
        }
        // Checked before the UID is taken, so a failure leaves the state as it was.
        let modseq = state.highest_modseq.checked_add(1).ok_or_else(|| {
            StoreError::Backend(format!("folder {folder} has used every mod-sequence RFC 7162 allows"))
        })?;
        state.uidnext += 1;
        state.highest_modseq = modseq;
        Ok((uid, modseq))
    }
}

/// What a new folder entry shows, whichever request creates it; `blob` is
/// the body's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryRow<'a> {
    /// The body's row.
    pub blob: i64,
    /// The body's size in bytes.
    pub size: u32,
    /// The entry's flags.
    pub flags: MessageFlags,
    /// Its INTERNALDATE.
    pub received: DateTime<Utc>,
    /// Who created it.
    pub creator: Option<RecipientId>,
    /// The message's `Message-ID`.
    pub message_id: Option<&'a str>,
}

/// One planned folder entry of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedEntry {
    /// The folder that shows it.
    pub folder: FolderId,
    /// Its UID there.
    pub uid: Uid,
    /// Its mod-sequence there.
    pub modseq: i64,
    /// Its initial flags.
    pub flags: MessageFlags,
    /// Who created it.
    pub creator: Option<RecipientId>,
}

/// The queue entry a delivery with remote recipients gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedQueue<'a> {
    /// The envelope sender.
    pub mail_from: &'a str,
    /// Every recipient pending, no attempt yet; due at once (`received`).
    pub recipients: Vec<QueueRecipient>,
}

/// One delivery, planned: the body (stored once), its entries, its queue entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedDelivery<'a> {
    /// The body.
    pub raw: &'a [u8],
    /// Its size, which every entry counts.
    pub size: u32,
    /// When it arrived: each entry's INTERNALDATE, the queue entry's time.
    pub received: DateTime<Utc>,
    /// Its `Message-ID`.
    pub message_id: Option<&'a str>,
    /// The entries, in the order of [`Delivery::entries`].
    pub entries: Vec<PlannedEntry>,
    /// The queue entry, when some recipients are remote.
    pub queue: Option<PlannedQueue<'a>>,
}

impl<'a> PlannedDelivery<'a> {
    /// The row each entry inserts once the body is stored as row `blob`.
    pub fn entry_row(&self, entry: &PlannedEntry, blob: i64) -> EntryRow<'a> {
        EntryRow {
            blob,
            size: self.size,
            flags: entry.flags,
            received: self.received,
            creator: entry.creator,
            message_id: self.message_id,
        }
    }

    /// What the caller is told once the body is row `blob` and the queue
    /// entry (if any) row `queued`.
    pub fn stored(&self, blob: i64, queued: Option<i64>) -> Result<Stored, StoreError> {
        let blob = u64::try_from(blob).map_err(|_| StoreError::Corrupt(format!("blob id {blob} is negative")))?;
        let queued = queued
            .map(|id| {
                u64::try_from(id).map(QueueId).map_err(|_| StoreError::Corrupt(format!("queue id {id} is negative")))
            })
            .transpose()?;
        Ok(Stored { blob: BlobId(blob), uids: self.entries.iter().map(|e| (e.folder, e.uid)).collect(), queued })
    }
}

/// Deliveries that passed every check, waiting for their folders' states.
#[derive(Debug, Clone)]
pub struct DeliveryPlan<'a> {
    deliveries: &'a [Delivery],
    sizes: Vec<u32>,
}

impl<'a> DeliveryPlan<'a> {
    /// Checks every delivery before anything is read or written.
    pub fn new(deliveries: &'a [Delivery]) -> Result<Self, StoreError> {
        let sizes = deliveries.iter().map(check).collect::<Result<_, _>>()?;
        Ok(Self { deliveries, sizes })
    }

    /// The folders the deliveries write to, each once, in the order they are
    /// first named (the order a backend creating missing states hands out
    /// UIDVALIDITYs in).
    pub fn folders(&self) -> Vec<FolderId> {
        let mut folders = Vec::new();
        for entry in self.deliveries.iter().flat_map(|d| &d.entries) {
            if !folders.contains(&entry.folder) {
                folders.push(entry.folder);
            }
        }
        folders
    }

    /// Hands out UIDs and mod-sequences from `states` (which must hold every
    /// folder of [`folders`](Self::folders)), delivery by delivery and entry
    /// by entry, so UID order within a folder is the order of the batch.
    pub fn assign(self, states: &mut FolderStates) -> Result<Vec<PlannedDelivery<'a>>, StoreError> {
        self.deliveries
            .iter()
            .zip(self.sizes)
            .map(|(d, size)| {
                let entries = d
                    .entries
                    .iter()
                    .map(|e| {
                        let (uid, modseq) = states.next_uid(e.folder)?;
                        Ok(PlannedEntry { folder: e.folder, uid, modseq, flags: e.flags, creator: e.creator })
                    })
                    .collect::<Result<_, StoreError>>()?;
                let queue =
                    d.outbound.as_ref().map(|o| PlannedQueue { mail_from: &o.mail_from, recipients: pending(o) });
                Ok(PlannedDelivery {
                    raw: &d.raw,
                    size,
                    received: d.received,
                    message_id: d.message_id.as_deref(),
                    entries,
                    queue,
                })
            })
            .collect()
    }
}

/// A new queue entry's recipients: every one pending, none tried yet.
pub fn pending(outbound: &NewOutbound) -> Vec<QueueRecipient> {
    outbound
        .recipients
        .iter()
        .map(|a| QueueRecipient { address: a.clone(), status: RecipientStatus::Pending { last_error: None } })
        .collect()
}

/// What would make a delivery unstorable, checked before anything is written;
/// the body's size when it is storable.
pub fn check(d: &Delivery) -> Result<u32, StoreError> {
    let size = u32::try_from(d.raw.len()).map_err(|_| {
        StoreError::Backend(format!(
            "a message of {} bytes is larger than the 4 GiB a folder entry can count; refuse it at the door",
            d.raw.len()
        ))
    })?;
    if d.entries.is_empty() && d.outbound.is_none() {
        // Nothing could ever delete such a body: no entry shows it, no queue entry sends it.
        return Err(StoreError::Backend(
            "a delivery with no folder entry and no remote recipient would store a body nothing shows or sends"
                .to_owned(),
        ));
    }
    if d.outbound.as_ref().is_some_and(|o| o.recipients.is_empty()) {
        return Err(StoreError::Backend(
            "a delivery's outbound part has no recipients; leave it out instead".to_owned(),
        ));
    }
    Ok(size)
}

#[cfg(test)]
mod tests;
