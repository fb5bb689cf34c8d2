//! What the forests say to each other over HTTP: a forest's export (its whole
//! directory as sync sees it) and the operations the sync applies.

use deputy_types::{RecipientId, RecipientType};
use serde::{Deserialize, Serialize};

/// Which side of the hybrid deployment a forest is (Exchange hybrid: the
/// on-premises forest is the source of authority for directory attributes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The on-premises forest: masters recipients, groups, memberships and `PublicDelegates`.
    Onprem,
    /// The cloud forest: a replica that also holds cloud mailboxes.
    Cloud,
}

impl Role {
    /// `onprem` or `cloud`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Onprem => "onprem",
            Self::Cloud => "cloud",
        }
    }
}

/// One recipient in an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedObject {
    /// `Guid` (the same in both forests for a synced object).
    pub id: RecipientId,
    /// `RecipientTypeDetails` in the exporting forest.
    pub kind: RecipientType,
    /// `Name`.
    pub name: String,
    /// `Alias`.
    pub alias: String,
    /// `DisplayName`.
    pub display_name: String,
    /// `PrimarySmtpAddress`.
    pub primary_smtp: Option<String>,
    /// Secondary SMTP addresses.
    pub proxy_addresses: Vec<String>,
    /// `UserPrincipalName`.
    pub upn: Option<String>,
    /// `ExternalEmailAddress` (mail users).
    pub external_address: Option<String>,
    /// The Argon2 PHC string (password hash sync); only ever sent to an authenticated peer.
    pub password_hash: Option<String>,
    /// `HiddenFromAddressListsEnabled`.
    pub hidden: bool,
    /// Whether the account is disabled.
    pub account_disabled: bool,
    /// Whether it administers its forest (never synced: each forest has its own administrators).
    pub is_admin: bool,
    /// The forest the object was synced from; `None` when it is homed in the exporting forest.
    pub source_forest: Option<String>,
    /// For a mail user standing for a mailbox of the other forest: that mailbox's kind.
    pub remote_kind: Option<RecipientType>,
    /// Direct members (groups).
    pub members: Vec<RecipientId>,
    /// `GrantSendOnBehalfTo` (`PublicDelegates`).
    pub public_delegates: Vec<RecipientId>,
    /// The `PublicDelegates` value both forests last agreed on, if any.
    pub public_delegates_base: Option<Vec<RecipientId>>,
    /// The other forest's Send As trustees as last recorded here (`HybridPeerSendAs`).
    pub peer_send_as: Vec<RecipientId>,
    /// Whether those were applied here (`SyncSendAs` was on).
    pub peer_send_as_applied: bool,
    /// `New-MoveRequest` on this mailbox: `Queued` or `Completed`.
    #[serde(default)]
    pub move_request: Option<String>,
    /// A mailbox moved in: `Copying`, then `Done`.
    #[serde(default)]
    pub moved_in: Option<String>,
    /// A mailbox moved out whose messages wait, frozen, for the final pass.
    #[serde(default)]
    pub move_frozen: bool,
}

/// One Send As entry (spec §3.2) in an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedAce {
    /// The recipient whose address may be used.
    pub target: RecipientId,
    /// Who holds the right.
    pub trustee: RecipientId,
    /// An explicit deny.
    pub deny: bool,
    /// Whether sync applied it here from the other forest (never sent back).
    #[serde(default)]
    pub synced: bool,
}

/// A forest's directory as sync sees it (`GET /hybrid/export`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    /// The forest's name.
    pub forest: String,
    /// Its role.
    pub role: Role,
    /// The domain that routes mail to this forest (`cloud.contoso.test`).
    pub routing_domain: String,
    /// The forest's accepted domains.
    pub accepted_domains: Vec<String>,
    /// Every recipient, sorted by `Guid`.
    pub objects: Vec<ExportedObject>,
    /// Every Send As entry, sorted.
    pub send_as: Vec<ExportedAce>,
    /// A digest of everything above: equal generations, equal directories.
    pub generation: String,
}

/// A change the sync asks its own forest to make (`POST /hybrid/apply`).
/// Every operation states the wanted result rather than a step, so applying
/// one twice is the same as applying it once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op")]
pub enum Op {
    /// Accept mail for the forest's routing domain.
    AcceptDomain {
        /// The domain.
        domain: String,
    },
    /// Give a mailbox homed here its routing address (`alias@<routing domain>`),
    /// as Exchange's email address policy stamps `@tenant.mail.onmicrosoft.com`.
    RoutingAddress {
        /// The mailbox.
        id: RecipientId,
        /// The address to add.
        address: String,
    },
    /// Create or update a synced object.
    Upsert {
        /// The object as the other forest exports it.
        object: Box<ExportedObject>,
        /// Where its mail goes (for a mailbox of the other forest).
        target_address: Option<String>,
        /// Its kind here.
        kind: RecipientType,
        /// The mailbox kind it stands for, if any.
        remote_kind: Option<RecipientType>,
        /// The other forest's name.
        source_forest: String,
    },
    /// Make a synced group's direct members exactly these.
    Members {
        /// The group.
        group: RecipientId,
        /// The members.
        members: Vec<RecipientId>,
    },
    /// Set `GrantSendOnBehalfTo` and the agreed base.
    PublicDelegates {
        /// The mailbox or group.
        id: RecipientId,
        /// The new value.
        delegates: Vec<RecipientId>,
        /// The value both forests now agree on.
        base: Vec<RecipientId>,
    },
    /// Record the other forest's Send As trustees on a recipient, and with
    /// `SyncSendAs` make them the synced Send As entries here.
    PeerSendAs {
        /// The recipient.
        target: RecipientId,
        /// The other forest's name.
        forest: String,
        /// Its Send As trustees (allow entries).
        trustees: Vec<RecipientId>,
        /// Whether to apply them (`SyncSendAs`).
        apply: bool,
    },
    /// Take the mailbox the other forest is moving here (its content is
    /// fetched by the sync from the other forest just before applying).
    MoveIn {
        /// The mailbox as the other forest exports it.
        object: Box<ExportedObject>,
        /// Its routing address here (`alias@<this routing domain>`).
        routing_address: String,
        /// Folders, messages and permissions.
        content: Option<Box<deputy_core::hybrid::MailboxContent>>,
    },
    /// The other forest holds the mailbox now: make it the mail user
    /// standing for it (the switch); the sync then makes the final pass.
    MoveOut {
        /// The mailbox as the other forest now exports it.
        object: Box<ExportedObject>,
        /// Where its mail goes now.
        target_address: String,
        /// The other forest's name.
        source_forest: String,
    },
    /// Remove a synced object the other forest positively no longer has.
    Remove {
        /// The object.
        id: RecipientId,
        /// Its name, for the log.
        name: String,
    },
}

impl Op {
    /// One line for logs and progress output.
    pub fn summary(&self) -> String {
        match self {
            Self::AcceptDomain { domain } => format!("accept domain {domain}"),
            Self::RoutingAddress { address, .. } => format!("routing address {address}"),
            Self::Upsert { object, kind, .. } => format!("upsert {kind} \"{}\" {}", object.name, object.id),
            Self::Members { group, members } => format!("members of {group}: {}", members.len()),
            Self::PublicDelegates { id, delegates, .. } => format!("PublicDelegates of {id}: {}", delegates.len()),
            Self::PeerSendAs { target, trustees, apply, .. } => {
                format!("Send As on {target} from peer: {} (apply: {apply})", trustees.len())
            }
            Self::MoveIn { object, .. } => format!("move in \"{}\" {}", object.name, object.id),
            Self::MoveOut { object, .. } => format!("move out \"{}\" {}", object.name, object.id),
            Self::Remove { id, name } => format!("remove \"{name}\" {id}"),
        }
    }
}

/// What `POST /hybrid/apply` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    /// Whether anything was stored.
    pub changed: bool,
    /// The refusal, when the forest refused the operation.
    pub error: Option<String>,
}

/// Sorted, without duplicates: how id lists are compared.
pub fn sorted(mut ids: Vec<RecipientId>) -> Vec<RecipientId> {
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// `a,b,c` ↔ ids, as the sync attributes store them.
pub fn join_ids(ids: &[RecipientId]) -> String {
    ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

/// The ids of a `join_ids` string; unreadable parts are skipped.
pub fn split_ids(s: &str) -> Vec<RecipientId> {
    s.split(',').filter_map(|p| p.trim().parse::<uuid::Uuid>().ok().map(RecipientId)).collect()
}
