//! Grants: the stored permission entries the engine evaluates (spec §3, §5).

use crate::{FolderId, FolderRights, InheritanceType, MailboxRights, RecipientId, SharingFlags};
use serde::{Deserialize, Serialize};

/// One `Add-MailboxPermission` entry. Entries are keyed by
/// (`target`, `trustee`, `deny`): adding rights to an existing entry merges them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxAce {
    /// The mailbox.
    pub target: RecipientId,
    /// The user or group holding the rights.
    pub trustee: RecipientId,
    /// The rights.
    pub rights: MailboxRights,
    /// An explicit deny, which beats any allow (spec §3.1).
    pub deny: bool,
    /// `-InheritanceType`.
    pub inheritance: InheritanceType,
    /// `-AutoMapping`; meaningful for direct Full Access grants to users only.
    pub automapping: bool,
}

/// One Send As entry (`Add-RecipientPermission` / `Add-ADPermission`, spec §3.2),
/// keyed by (`target`, `trustee`, `deny`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SendAsAce {
    /// The recipient whose address may be used.
    pub target: RecipientId,
    /// The user or group holding the right.
    pub trustee: RecipientId,
    /// An explicit deny.
    pub deny: bool,
}

/// Who a folder permission entry is for (spec §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum FolderUser {
    /// Everyone in the organization without an entry of their own.
    Default,
    /// Unauthenticated and external users.
    Anonymous,
    /// A user or group.
    Recipient(RecipientId),
}

/// One `*-MailboxFolderPermission` entry, keyed by (`folder`, `user`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderAce {
    /// The mailbox owning the folder.
    pub mailbox: RecipientId,
    /// The folder.
    pub folder: FolderId,
    /// Who the entry is for.
    pub user: FolderUser,
    /// The rights.
    pub rights: FolderRights,
    /// Calendar delegate flags.
    pub flags: SharingFlags,
}
