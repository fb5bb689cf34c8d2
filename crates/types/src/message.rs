//! Messages in mailboxes: per-folder UIDs, system flags, and the outbound queue's vocabulary.

use bitflags::bitflags;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{FolderId, RecipientId};

/// A message's number within one folder (IMAP UID): assigned in increasing
/// order at insertion and never reused while the folder's UIDVALIDITY holds.
pub type Uid = u32;

/// A stored message body (the raw RFC 5322 bytes), shared by every folder entry that shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BlobId(pub u64);

/// An entry of the outbound queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct QueueId(pub u64);

bitflags! {
    /// IMAP system flags (RFC 9051 §2.3.2); `\Recent` is per-session and not stored.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
    pub struct MessageFlags: u16 {
        /// `\Seen`
        const SEEN = 1;
        /// `\Answered`
        const ANSWERED = 1 << 1;
        /// `\Flagged`
        const FLAGGED = 1 << 2;
        /// `\Deleted`
        const DELETED = 1 << 3;
        /// `\Draft`
        const DRAFT = 1 << 4;
    }
}

/// One message as it appears in one folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderEntry {
    /// The folder.
    pub folder: FolderId,
    /// Its UID in that folder.
    pub uid: Uid,
    /// The body it shows.
    pub blob: BlobId,
    /// Its flags.
    pub flags: MessageFlags,
    /// The body's size in bytes.
    pub size: u32,
    /// When it arrived in this folder (IMAP INTERNALDATE).
    pub internal_date: DateTime<Utc>,
    /// Who created it (spec §5 "own items"); `None` for mail that arrived from outside.
    pub creator: Option<RecipientId>,
    /// The body's `Message-ID` header, without angle brackets, when it has one.
    pub message_id: Option<String>,
    /// Its CONDSTORE mod-sequence (RFC 7162): set when the entry is created and
    /// raised whenever its flags change; always at least 1 and at most the
    /// folder's highest mod-sequence (`deputy_store::FolderStatus`).
    pub modseq: u64,
}

/// How many messages a folder holds (`Get-MailboxFolderStatistics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FolderCounts {
    /// Messages in the folder.
    pub items: u64,
    /// Of those, without `\Seen`.
    pub unread: u64,
    /// Total size of their bodies in bytes.
    pub size: u64,
}

/// What became of one recipient of a queued message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecipientStatus {
    /// Not yet delivered; will be tried again.
    Pending {
        /// The last temporary failure, e.g. `451 4.4.1 Connection refused`.
        last_error: Option<String>,
    },
    /// Accepted by the next hop.
    Delivered {
        /// The next hop's reply.
        reply: String,
    },
    /// Permanently refused, or given up on; a delivery status notification is due.
    Failed {
        /// The reason, as the remote server or Deputy put it.
        reply: String,
    },
}

/// One recipient of a queued message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueRecipient {
    /// The envelope recipient address.
    pub address: String,
    /// Where it stands.
    pub status: RecipientStatus,
}

/// A message waiting to leave for other servers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedMessage {
    /// Its queue entry.
    pub id: QueueId,
    /// Its body.
    pub blob: BlobId,
    /// The envelope sender; empty for a delivery status notification (RFC 5321 §4.5.5 null path).
    pub mail_from: String,
    /// Its recipients.
    pub recipients: Vec<QueueRecipient>,
    /// Delivery attempts made so far.
    pub attempts: u32,
    /// When it was queued.
    pub queued_at: DateTime<Utc>,
    /// When to try next.
    pub next_attempt: DateTime<Utc>,
}
