//! Deputy's shared vocabulary: identifiers, e-mail addresses, recipient kinds,
//! mailbox and folder rights, grants, folders, registered applications and
//! audit records.
//!
//! Invariant: this crate does no I/O and decides nothing; it only names things
//! and parses them once at the edge (spec §1, §2, §3, §5).

mod address;
mod app;
mod audit;
mod folder;
mod grants;
mod ids;
mod message;
mod org;
mod recipient;
mod rights;

pub use address::{AddressError, EmailAddress};
pub use app::{AppRole, AppSecret, RoleAssignment, ServicePrincipal};
pub use audit::AuditRecord;
pub use folder::{Folder, WellKnownFolder};
pub use grants::{FolderAce, FolderUser, MailboxAce, SendAsAce};
pub use ids::{FolderId, RecipientId};
pub use message::{
    BlobId, FolderCounts, FolderEntry, MessageFlags, QueueId, QueueRecipient, QueuedMessage, RecipientStatus, Uid,
};
pub use org::{AcceptedDomain, AcceptedDomainType, Organization};
pub use recipient::{MeetingDelivery, Recipient, RecipientType, UnknownName};
pub use rights::{FolderRights, FolderRole, InheritanceType, MailboxRights, SharingFlags};
