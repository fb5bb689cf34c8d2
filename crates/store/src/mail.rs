//! The message store: each body stored once, folder entries that show it, and the outbound queue.
//!
//! Every door that accepts mail ends in one [`MailStore::store`] call: the
//! body, the folder entries of every local copy (recipients' Inboxes, the
//! sender's and the manager's Sent Items) and the queue entry for remote
//! recipients commit together, so a message is either acknowledged and
//! complete, or absent.
//!
//! The IMAP and Graph doors work on folders through the rest of the trait:
//! [`MailStore::folder_status`], [`MailStore::set_flags`] (CONDSTORE,
//! RFC 7162), [`MailStore::expunge`], [`MailStore::copy`] and
//! [`MailStore::move_entries`] (UIDPLUS, MOVE). IMAP `APPEND` is a
//! [`MailStore::store`] of one [`Delivery`] with one [`NewEntry`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deputy_types::{
    BlobId, FolderCounts, FolderEntry, FolderId, MessageFlags, QueueId, QueuedMessage, RecipientId, Uid,
};
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// A folder entry to create for a body being stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    /// The folder that shows the message.
    pub folder: FolderId,
    /// Its initial flags (a Sent Items copy is `\Seen`).
    pub flags: MessageFlags,
    /// Who created it (spec §5), `None` for mail from outside.
    pub creator: Option<RecipientId>,
}

/// Remote recipients of a body being stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutbound {
    /// The envelope sender (`MAIL FROM`); empty for a delivery status notification.
    pub mail_from: String,
    /// The envelope recipients, each on another server.
    pub recipients: Vec<String>,
}

/// One message to store: the body once, an entry per local copy, and a queue
/// entry when some recipients are remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The RFC 5322 message exactly as every copy shows it.
    pub raw: Vec<u8>,
    /// When it arrived (each entry's INTERNALDATE).
    pub received: DateTime<Utc>,
    /// Its `Message-ID` without angle brackets, when it has one.
    pub message_id: Option<String>,
    /// The local copies.
    pub entries: Vec<NewEntry>,
    /// The remote recipients, if any.
    pub outbound: Option<NewOutbound>,
}

/// Where a [`Delivery`] went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The body.
    pub blob: BlobId,
    /// The UID of each entry, in the order of [`Delivery::entries`].
    pub uids: Vec<(FolderId, Uid)>,
    /// The queue entry, when the delivery had remote recipients.
    pub queued: Option<QueueId>,
}

/// A folder's IMAP state (`SELECT`, `STATUS`): what a client caches between sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FolderStatus {
    /// Fixed from the folder's first `folder_status` or first entry on, so it
    /// never changes under a client that has seen it.
    pub uidvalidity: u32,
    /// The UID the next entry will get; 4294967295 once every UID is used
    /// (the folder can take no more entries, but can still be read and emptied).
    pub uidnext: u32,
    /// The highest mod-sequence ever assigned in the folder (RFC 7162
    /// HIGHESTMODSEQ); never decreases, and an expunge raises it too. At least 1.
    pub highest_modseq: u64,
    /// Entries in the folder.
    pub exists: u64,
    /// Of those, without `\Seen`.
    pub unseen: u64,
}

/// How [`MailStore::set_flags`] changes each entry's flags (IMAP `STORE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagOp {
    /// `+FLAGS`: add these.
    Add(MessageFlags),
    /// `-FLAGS`: remove these.
    Remove(MessageFlags),
    /// `FLAGS`: replace them with these.
    Replace(MessageFlags),
}

impl FlagOp {
    /// The flags an entry holding `flags` ends up with.
    pub fn apply(self, flags: MessageFlags) -> MessageFlags {
        match self {
            FlagOp::Add(f) => flags | f,
            FlagOp::Remove(f) => flags - f,
            FlagOp::Replace(f) => f,
        }
    }
}

/// What [`MailStore::set_flags`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FlagOutcome {
    /// Each entry whose flags changed, ascending by UID: its new flags and mod-sequence.
    pub changed: Vec<(Uid, MessageFlags, u64)>,
    /// Entries left alone because their mod-sequence is above `unchanged_since`
    /// (RFC 7162 `MODIFIED`), ascending.
    pub failed_modified: Vec<Uid>,
}

/// A folder's stored UID state, exactly as kept (unlike [`FolderStatus`],
/// whose UIDNEXT stops at 4294967295).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderState {
    /// The folder's UIDVALIDITY.
    pub uidvalidity: u32,
    /// The UID the next entry would get; 4294967296 once every UID is used.
    pub uidnext: u64,
    /// The highest mod-sequence ever assigned in the folder.
    pub highest_modseq: u64,
}

/// One folder of a [`MailExport`]: its state and its entries in UID order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedFolder {
    /// The folder.
    pub folder: FolderId,
    /// Its UID state.
    pub state: FolderState,
    /// Its entries, ascending by UID, each with its UID, flags,
    /// INTERNALDATE, creator, Message-ID and mod-sequence.
    pub entries: Vec<FolderEntry>,
}

/// One stored body of a [`MailExport`], with the id entries and queue entries refer to it by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedBody {
    /// Its id.
    pub id: BlobId,
    /// The raw RFC 5322 bytes.
    pub raw: Vec<u8>,
}

/// One principal's explicit IMAP subscription choice for a folder
/// (SUBSCRIBE/UNSUBSCRIBE). A folder without a row counts as subscribed (so
/// auto-mapped mailboxes need no SUBSCRIBE), which is why unsubscribing is a
/// row too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Subscription {
    /// Who chose.
    pub principal: RecipientId,
    /// The folder chosen.
    pub folder: FolderId,
    /// `true` for SUBSCRIBE, `false` for UNSUBSCRIBE.
    pub subscribed: bool,
}

/// Everything a message store holds, ids, UIDs and mod-sequences included,
/// for moving it to another backend ([`MailStore::export`], [`MailStore::import`]):
/// IMAP clients see the same UIDVALIDITY and UIDs after the move.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MailExport {
    /// Every folder with a state, ascending by folder id.
    pub folders: Vec<ExportedFolder>,
    /// Every body, once however many entries show it, ascending by id.
    pub bodies: Vec<ExportedBody>,
    /// The outbound queue, ascending by id, with attempts and recipient statuses.
    pub queue: Vec<QueuedMessage>,
    /// Every subscription row, ascending by (principal, folder). Absent from
    /// exports written before subscriptions were stored, hence the default.
    #[serde(default)]
    pub subscriptions: Vec<Subscription>,
    /// The lowest body id the source would hand out next: the target never
    /// hands out one at or below an id the source used.
    pub next_body_id: u64,
    /// The same for queue ids.
    pub next_queue_id: u64,
}

/// What a backend without folder operations answers (the in-memory test stores).
fn unsupported<T>() -> Result<T, StoreError> {
    Err(StoreError::Backend("not supported by this store".to_owned()))
}

/// Messages, folders' contents and the outbound queue.
///
/// Mod-sequences (RFC 7162 CONDSTORE): a folder's state starts with a highest
/// mod-sequence of 1; every entry created in it (by `store` or `copy`), and
/// every entry whose flags change, takes the folder's highest plus one, one at
/// a time in the order of the request; an expunge that removes something
/// raises the highest by one. So a folder's mod-sequences strictly increase
/// and its highest never decreases. Folder operations are all or nothing and
/// durable when they return, like `store`; the default bodies (for in-memory
/// test stores) report the operation unsupported.
#[async_trait]
pub trait MailStore: Send + Sync + 'static {
    /// Stores every delivery, all or nothing, durable (fsync'd) when this
    /// returns `Ok`. Backends merge concurrent calls into one transaction and one
    /// fsync (group commit) rather than skipping the fsync.
    async fn store(&self, deliveries: Vec<Delivery>) -> Result<Vec<Stored>, StoreError>;

    /// A folder's entries in UID order.
    async fn entries(&self, folder: FolderId) -> Result<Vec<FolderEntry>, StoreError>;

    /// A stored body.
    async fn body(&self, blob: BlobId) -> Result<Option<Vec<u8>>, StoreError>;

    /// Counts for each folder, in the order given (zero for an unknown or empty folder).
    async fn folder_counts(&self, folders: &[FolderId]) -> Result<Vec<FolderCounts>, StoreError>;

    /// Queue entries whose next attempt is due at `now`, oldest first, at most `limit`.
    async fn queue_due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<QueuedMessage>, StoreError>;

    /// Every queue entry, oldest first.
    async fn queue_all(&self) -> Result<Vec<QueuedMessage>, StoreError>;

    /// Records an attempt's outcome: `message`'s recipient statuses, attempts and
    /// next attempt replace the stored ones; when no recipient is left pending the
    /// entry is removed (and its body with it, when no folder shows it). `notice`
    /// (a delivery status notification for the failed recipients) is stored in
    /// the same transaction, so a crash can neither lose nor repeat it.
    async fn queue_update(&self, message: &QueuedMessage, notice: Option<Delivery>) -> Result<(), StoreError>;

    /// The folder's IMAP state. A folder that never had an entry gets its state
    /// (UIDVALIDITY, UIDNEXT 1, highest mod-sequence 1) created and stored
    /// durably here, so the UIDVALIDITY a client sees first never changes.
    async fn folder_status(&self, folder: FolderId) -> Result<FolderStatus, StoreError> {
        let _ = folder;
        unsupported()
    }

    /// One entry, `None` when the folder has no such UID.
    async fn entry(&self, folder: FolderId, uid: Uid) -> Result<Option<FolderEntry>, StoreError> {
        let _ = (folder, uid);
        unsupported()
    }

    /// The folder's entry with this `Message-ID` whose INTERNALDATE is at or
    /// after `since` (the lowest UID when several are), for IMAP `APPEND`'s
    /// duplicate check (spec §4.2).
    async fn find_by_message_id(
        &self,
        folder: FolderId,
        message_id: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<FolderEntry>, StoreError> {
        let _ = (folder, message_id, since);
        unsupported()
    }

    /// Changes the flags of the entries `uids` names (UIDs the folder lacks are
    /// ignored), in one durable transaction. With `unchanged_since`, an entry
    /// whose mod-sequence is above it is left alone and reported (RFC 7162
    /// `UNCHANGEDSINCE`). An entry whose flags would not change keeps its
    /// mod-sequence and is in neither list.
    async fn set_flags(
        &self,
        folder: FolderId,
        uids: &[Uid],
        op: FlagOp,
        unchanged_since: Option<u64>,
    ) -> Result<FlagOutcome, StoreError> {
        let _ = (folder, uids, op, unchanged_since);
        unsupported()
    }

    /// Removes the entries `uids` names and returns the UIDs removed,
    /// ascending. A body no entry and no queue entry shows any more goes too.
    async fn expunge(&self, folder: FolderId, uids: &[Uid]) -> Result<Vec<Uid>, StoreError> {
        let _ = (folder, uids);
        unsupported()
    }

    /// Copies the entries `uids` names from `from` into `to` (the same body,
    /// flags, INTERNALDATE and Message-ID, a new UID and mod-sequence, created
    /// by `creator`), in ascending source UID order, and returns (source UID,
    /// new UID) pairs for UIDPLUS `COPYUID`. UIDs `from` lacks are skipped.
    async fn copy(
        &self,
        from: FolderId,
        uids: &[Uid],
        to: FolderId,
        creator: Option<RecipientId>,
    ) -> Result<Vec<(Uid, Uid)>, StoreError> {
        let _ = (from, uids, to, creator);
        unsupported()
    }

    /// [`copy`](Self::copy) keeping each entry's creator, then
    /// [`expunge`](Self::expunge) of the originals, in one transaction (IMAP
    /// `MOVE`): the entries are in exactly one of the folders at any time.
    async fn move_entries(&self, from: FolderId, uids: &[Uid], to: FolderId) -> Result<Vec<(Uid, Uid)>, StoreError> {
        let _ = (from, uids, to);
        unsupported()
    }

    /// `principal`'s subscription rows (IMAP SUBSCRIBE/UNSUBSCRIBE), ascending
    /// by folder: `true` subscribed, `false` unsubscribed; a folder without a
    /// row has no recorded choice.
    async fn subscriptions(&self, principal: RecipientId) -> Result<Vec<(FolderId, bool)>, StoreError> {
        let _ = principal;
        unsupported()
    }

    /// Records `principal`'s choice for `folder`, replacing an earlier one,
    /// durably. The store does not check that the folder exists: the caller does.
    async fn set_subscription(
        &self,
        principal: RecipientId,
        folder: FolderId,
        subscribed: bool,
    ) -> Result<(), StoreError> {
        let _ = (principal, folder, subscribed);
        unsupported()
    }

    /// Removes every principal's row for `folder` (a deleted folder's choices
    /// go with it; the store never cascades, so whoever deletes the folder calls
    /// this). Removing nothing is fine.
    async fn delete_subscriptions(&self, folder: FolderId) -> Result<(), StoreError> {
        let _ = folder;
        unsupported()
    }

    /// Everything the store holds, read in one consistent snapshot (for
    /// `deputy migrate` and its verification).
    async fn export(&self) -> Result<MailExport, StoreError> {
        unsupported()
    }

    /// Writes `export` into this store keeping every id, UID, UIDVALIDITY and
    /// mod-sequence, all or nothing. Refuses a store that already holds
    /// anything (mail or directory), changing nothing.
    async fn import(&self, export: MailExport) -> Result<(), StoreError> {
        let _ = export;
        unsupported()
    }
}
