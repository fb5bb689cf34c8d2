//! The permission engine (spec §3, §4.1, §5, §8).
//!
//! Invariants: no I/O, no async, no serde, never panics. An [`AccessIndex`] is
//! an in-memory projection of the grants and memberships, updated change by
//! change; [`AccessIndex::decide`] answers "may P do X on T" with the path that
//! led to the answer. A change is visible to the very next decision: group
//! closures are computed per question (a breadth-first walk up the membership
//! edges), so there is no cache to invalidate.
//!
//! # Decisions taken where the spec is silent
//!
//! - **Who may act.** Only kinds that sign in (UserMailbox, LinkedMailbox,
//!   MailUser, User) with an enabled account; the principal is checked first
//!   (`UnknownPrincipal`, `PrincipalCannotAct`, `PrincipalDisabled`).
//! - **Owner.** A principal acting on itself is allowed every action with
//!   [`Reason::Owner`]; a send is [`SendMode::Own`], a folder gets Owner rights.
//!   A folder must still belong to the target (`UnknownTarget` otherwise).
//! - **Order of checks** for a non-owner: target in the directory
//!   (`UnknownTarget`), for OpenMailbox the target has a mailbox (`NotAMailbox`),
//!   the target is not hidden (`Hidden`, for every action), then grants.
//! - **Groups.** A group confers its grants on every transitive member when it
//!   is in the directory and has a stored member list: every group kind except
//!   DynamicDistributionGroup, whose members come from a filter. Cycles are
//!   tolerated. The trustee's kind is not re-checked when deciding:
//!   [`check_grant`] is the gate when a grant is made. The chain reported is a
//!   shortest one (breadth-first from the principal).
//! - **Deny beats allow** for Full Access and Send As, through groups too.
//!   `GrantSendOnBehalfTo` has no deny. A Send As deny does not take away Send
//!   on Behalf: [`Action::Send`] then falls back to it.
//! - **Only FullAccess opens a mailbox**; the other `MailboxRights` are stored
//!   by the directory and ignored here.
//! - **Folders.** Full Access (not denied) gives Owner rights on every folder.
//!   Otherwise the principal's own entry wins; else the union of its groups'
//!   entries (the reason names the nearest group, with the union of rights);
//!   else `Default`, which on a calendar without a Default entry is
//!   AvailabilityOnly and elsewhere no rights. Owner and Full Access report no
//!   sharing flags: callers that show private items (spec §10) check the reason.
//! - **Delegations** list exactly what `decide` would allow through a grant;
//!   a principal that may not act has none. Folder delegations are reported
//!   with the principal's effective entry rights and skipped when empty.
//! - **Unknown ids.** Grants and memberships may name recipients that are not
//!   (or no longer) in the directory; they are kept, and such recipients are
//!   neither principals, targets nor conferring groups until upserted.

mod closure;
mod combos;
mod decide;
mod explain;
mod index;

pub use combos::check_grant;
pub use index::AccessIndex;

use deputy_types::{FolderId, FolderRights, FolderUser, RecipientId, RecipientType, SharingFlags};

/// What the engine needs to know about a recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// Its kind.
    pub kind: RecipientType,
    /// `HiddenFromAddressListsEnabled`.
    pub hidden: bool,
    /// Whether its account is disabled.
    pub account_disabled: bool,
}

/// A mailbox- or recipient-level permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Open the mailbox (spec §3.1).
    FullAccess,
    /// Send as the recipient (spec §3.2).
    SendAs,
    /// Send on behalf of the recipient (spec §3.3).
    SendOnBehalf,
    /// A folder permission entry (spec §5).
    Folder,
}

/// Where a grant is being made: the shell accepts more combinations than the
/// admin center (spec §2, §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// `deputy shell` and the admin API.
    Shell,
    /// The web admin center.
    AdminCenter,
}

/// A folder operation (spec §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderOp {
    /// See that the folder exists.
    See,
    /// Read items.
    Read,
    /// Create items.
    CreateItem,
    /// Change an item created by `creator`.
    EditItem {
        /// Who created the item.
        creator: Option<RecipientId>,
    },
    /// Delete an item created by `creator`.
    DeleteItem {
        /// Who created the item.
        creator: Option<RecipientId>,
    },
    /// Create subfolders.
    CreateSubfolder,
    /// Change the folder's permissions (FolderOwner).
    ManagePermissions,
    /// Read free/busy time (calendar).
    ReadFreeBusy,
}

/// What is being asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Open the mailbox (Full Access).
    OpenMailbox,
    /// Hold Send As on the target.
    SendAs,
    /// Hold Send on Behalf on the target.
    SendOnBehalf,
    /// Author a message from the target's address (spec §4.1): own address,
    /// then Send As, then Send on Behalf.
    Send,
    /// Operate on a folder of the target's mailbox.
    Folder {
        /// The folder.
        folder: FolderId,
        /// The operation.
        op: FolderOp,
    },
}

/// How a permitted send is made (spec §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendMode {
    /// The principal's own address.
    Own,
    /// Send As: `From:` kept, no `Sender:`.
    SendAs,
    /// Send on Behalf: `Sender:` is the principal.
    SendOnBehalf,
}

/// A grant that applied, and how it reached the principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The permission.
    pub permission: Permission,
    /// The trustee named on the grant: the principal or a group.
    pub trustee: RecipientId,
    /// The groups from the principal up to the trustee: `chain[0]` has the
    /// principal as a direct member, each next group has the previous one as a
    /// member, and the last is `trustee`. Empty for a direct grant.
    pub chain: Vec<RecipientId>,
}

/// Why a decision came out the way it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The principal is the target (its own mailbox or address).
    Owner,
    /// A grant allowed it.
    Granted(Grant),
    /// A folder permission entry allowed it.
    FolderEntry {
        /// Whose entry.
        user: FolderUser,
        /// The groups from the principal up to `user` (empty unless via a group).
        chain: Vec<RecipientId>,
        /// The rights of the entry.
        rights: FolderRights,
    },
    /// No grant applies.
    NoGrant,
    /// An explicit deny applies; it beats any allow (spec §3.1).
    ExplicitDeny(Grant),
    /// The target is hidden from address lists (spec §3.1–3.3).
    Hidden,
    /// The principal's kind cannot act as a delegate (shared, resource, group…).
    PrincipalCannotAct(RecipientType),
    /// The principal's account is disabled.
    PrincipalDisabled,
    /// The principal is not in the directory.
    UnknownPrincipal,
    /// The target is not in the directory, or not a folder of its mailbox.
    UnknownTarget,
    /// The target has no mailbox to open.
    NotAMailbox(RecipientType),
    /// Folder rights exist but do not include what the operation needs.
    InsufficientFolderRights {
        /// The rights the principal has on the folder.
        have: FolderRights,
        /// Where they come from.
        source: Box<Reason>,
    },
}

/// The answer to "may P do X on T".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Whether it is allowed.
    pub allowed: bool,
    /// For [`Action::Send`], how the send is made.
    pub mode: Option<SendMode>,
    /// The path: which grant allowed it, or which rule denied it.
    pub reason: Reason,
}

/// One thing a trustee can do on someone else's recipient (`Get-DelegatedMailbox`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delegation {
    /// The mailbox or group.
    pub target: RecipientId,
    /// The grant, and through which groups.
    pub grant: Grant,
    /// For Full Access: whether the mailbox is auto-mapped (direct grant with AutoMapping on).
    pub automapped: bool,
    /// For folder entries: the folder and its rights.
    pub folder: Option<(FolderId, FolderRights, SharingFlags)>,
}

/// A grant combination Exchange does not allow (spec §2, §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidCombination {
    /// The permission.
    pub permission: Permission,
    /// The target's kind.
    pub target: RecipientType,
    /// The trustee's kind.
    pub trustee: RecipientType,
}
