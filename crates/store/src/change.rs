//! The mutations a backend applies.

use deputy_types::{
    AcceptedDomain, Folder, FolderAce, FolderId, FolderUser, MailboxAce, Organization, Recipient, RecipientId,
    SendAsAce, ServicePrincipal,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One mutation of the stored directory. `Put*` inserts or replaces by key;
/// `Delete*` of something absent is not an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    /// Sets the organization's settings.
    SetOrganization(Organization),
    /// Inserts or replaces an accepted domain, keyed by its domain name.
    PutAcceptedDomain(AcceptedDomain),
    /// Deletes an accepted domain.
    DeleteAcceptedDomain {
        /// The domain name.
        domain: String,
    },
    /// Inserts or replaces a recipient, keyed by its id.
    PutRecipient(Recipient),
    /// Deletes a recipient (and nothing else).
    DeleteRecipient(RecipientId),
    /// Makes `member` a direct member of `group`.
    AddMember {
        /// The group.
        group: RecipientId,
        /// The member.
        member: RecipientId,
    },
    /// Removes a direct membership.
    RemoveMember {
        /// The group.
        group: RecipientId,
        /// The member.
        member: RecipientId,
    },
    /// Inserts or replaces a mailbox permission entry, keyed by (target, trustee, deny).
    PutMailboxAce(MailboxAce),
    /// Deletes a mailbox permission entry.
    DeleteMailboxAce {
        /// The mailbox.
        target: RecipientId,
        /// The trustee.
        trustee: RecipientId,
        /// Whether it is the deny entry.
        deny: bool,
    },
    /// Inserts a Send As entry (a set: putting it twice keeps one).
    PutSendAsAce(SendAsAce),
    /// Deletes a Send As entry.
    DeleteSendAsAce(SendAsAce),
    /// Inserts or replaces a folder, keyed by its id.
    PutFolder(Folder),
    /// Deletes a folder (and nothing else).
    DeleteFolder(FolderId),
    /// Inserts or replaces a folder permission entry, keyed by (folder, user).
    PutFolderAce(FolderAce),
    /// Deletes a folder permission entry.
    DeleteFolderAce {
        /// The folder.
        folder: FolderId,
        /// Whose entry.
        user: FolderUser,
    },
    /// Inserts or replaces a registered application, keyed by its `ObjectId`
    /// (its secrets and role assignments travel with it).
    PutServicePrincipal(ServicePrincipal),
    /// Deletes a registered application, with its secrets and role assignments.
    DeleteServicePrincipal(Uuid),
}
