//! The message store: each body stored once, folder entries that show it, and the outbound queue.
//!
//! Every door that accepts mail ends in one [`MailStore::store`] call: the
//! body, the folder entries of every local copy (recipients' Inboxes, the
//! sender's and the manager's Sent Items) and the queue entry for remote
//! recipients commit together, so a message is either acknowledged and
//! complete, or absent.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deputy_types::{
    BlobId, FolderCounts, FolderEntry, FolderId, MessageFlags, QueueId, QueuedMessage, RecipientId, Uid,
};

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

/// Messages, folders' contents and the outbound queue.
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
}
