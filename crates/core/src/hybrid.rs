//! Directory sync between two forests (spec §9): the one service the sync
//! engine (`deputy-hybrid`) needs beyond the cmdlets' own — creating or
//! updating a synced object with the password hash of its source, as password
//! hash sync does. Everything else the engine changes (memberships,
//! `GrantSendOnBehalfTo`, Send As, removal) goes through the cmdlets' calls.
//!
//! A synced object keeps its source object's `Guid`, as Exchange hybrid keeps
//! one `ExchangeGuid`/`ImmutableId` for the object in both forests, so grants
//! and memberships name the same GUIDs on both sides and a re-run finds what
//! the last one created instead of creating it again.

mod copy;
mod delta;
mod moves;

pub use copy::{FolderProgress, MOVE_PROGRESS, MovedMessage, PageLimit};
pub use delta::{Carried, Manifest, ManifestEntry};
pub use moves::{MOVE_FROZEN, MOVE_REQUEST, MOVED_IN, MailboxContent};

use crate::recipients::{audit_json, check_unique};
use crate::{Applied, CoreError, Ctx, Deputy, Plan, Result, State, now};
use deputy_store::Change;
use deputy_types::{EmailAddress, Recipient, RecipientId, RecipientType};

/// Attribute naming the forest a synced object comes from; absent on objects
/// homed in this forest (which are the only ones this forest exports as its own).
pub const SOURCE_FOREST: &str = "HybridSourceForest";
/// Attribute of a mail user that stands for a mailbox in the other forest
/// (Exchange's `RemoteUserMailbox`/`RemoteSharedMailbox`): the mailbox's kind.
pub const REMOTE_TYPE: &str = "HybridRemoteRecipientType";
/// Attribute holding the `GrantSendOnBehalfTo` value both forests last agreed
/// on (GUIDs, comma-separated): the base of the three-way merge writeback needs.
pub const PUBLIC_DELEGATES_BASE: &str = "HybridPublicDelegatesBase";
/// Attribute holding the Send As trustees the other forest has on this
/// recipient: `<forest>|<on|off>|<guid>,<guid>` (`on` when `SyncSendAs` applied them).
pub const PEER_SEND_AS: &str = "HybridPeerSendAs";

/// A recipient as directory sync wants it in this forest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncedRecipient {
    /// The source object's `Guid`, kept here.
    pub id: RecipientId,
    /// The forest the object comes from.
    pub source_forest: String,
    /// Its kind here (a mailbox of the other forest is a `MailUser`).
    pub kind: RecipientType,
    /// For a mail user standing for a mailbox there: the mailbox's kind.
    pub remote_kind: Option<RecipientType>,
    /// `Name`.
    pub name: String,
    /// `Alias`.
    pub alias: String,
    /// `DisplayName`.
    pub display_name: String,
    /// `PrimarySmtpAddress`.
    pub primary_smtp: Option<EmailAddress>,
    /// Secondary SMTP addresses (accepted here).
    pub proxy_addresses: Vec<EmailAddress>,
    /// `UserPrincipalName`.
    pub upn: Option<String>,
    /// `ExternalEmailAddress`: where mail for the object is relayed.
    pub external_address: Option<EmailAddress>,
    /// The source's Argon2 PHC string (password hash sync).
    pub password_hash: Option<String>,
    /// `HiddenFromAddressListsEnabled`.
    pub hidden: bool,
    /// Whether the account is disabled.
    pub account_disabled: bool,
}

/// Whether a recipient came from the other forest by sync.
pub fn is_synced(r: &Recipient) -> bool {
    r.attribute(SOURCE_FOREST).is_some()
}

/// The kind a recipient has for the permission rules: a mail user standing for
/// a mailbox of the other forest takes that mailbox's kind, so its
/// `GrantSendOnBehalfTo` can be set where the directory is mastered (spec §9,
/// Exchange's `Set-RemoteMailbox -GrantSendOnBehalfTo`).
pub fn effective_kind(r: &Recipient) -> RecipientType {
    match r.attribute(REMOTE_TYPE).map(RecipientType::parse) {
        Some(Ok(k)) if r.kind == RecipientType::MailUser && k.has_mailbox() => k,
        _ => r.kind,
    }
}

/// The recipient `spec` describes, built on `old` when there is one (keeping
/// what sync does not own: grants, Sent Items switches, other attributes).
fn desired(spec: &SyncedRecipient, old: Option<&Recipient>) -> Recipient {
    let mut r = old.cloned().unwrap_or_else(|| Recipient::new(spec.id, spec.kind, &spec.name, &spec.alias, now()));
    r.kind = spec.kind;
    r.name = spec.name.clone();
    r.alias = spec.alias.clone();
    r.display_name = spec.display_name.clone();
    r.primary_smtp = spec.primary_smtp.clone();
    r.proxy_addresses = spec.proxy_addresses.clone();
    r.upn = if spec.kind.can_sign_in() { spec.upn.clone() } else { None };
    r.external_address = spec.external_address.clone();
    r.password_hash = if spec.kind.can_sign_in() { spec.password_hash.clone() } else { None };
    r.hidden = spec.hidden;
    r.account_disabled = spec.account_disabled || !spec.kind.can_sign_in();
    r.set_attribute(SOURCE_FOREST, &spec.source_forest);
    r.set_attribute(REMOTE_TYPE, spec.remote_kind.map_or("", RecipientType::as_str));
    r
}

impl Deputy {
    /// Creates or updates the synced object `spec.id` (spec §9). Re-running
    /// with the same description changes nothing (a warning, like Exchange's
    /// "no settings have been modified"). An object of the same `Guid` homed in
    /// this forest is never overwritten.
    pub async fn sync_recipient(&self, ctx: &Ctx, spec: SyncedRecipient) -> Result<Applied<Recipient>> {
        self.mutate(ctx, |s: &State| {
            let old = s.dir.get(spec.id);
            if let Some(o) = old
                && !is_synced(o)
            {
                return Err(CoreError::NotApplicable(format!(
                    "\"{}\" is homed in this forest; directory sync doesn't overwrite it.",
                    o.name
                )));
            }
            if old.is_some_and(|o| o.kind.has_mailbox() != spec.kind.has_mailbox()) {
                return Err(CoreError::NotApplicable(format!(
                    "\"{}\" can't change between a mailbox and a recipient without one by sync; move it (New-MoveRequest).",
                    spec.name
                )));
            }
            let r = desired(&spec, old);
            if old == Some(&r) {
                return Ok(Plan::warn(
                    r.clone(),
                    r.name.clone(),
                    format!("The command completed successfully but no settings of '{}' have been modified.", r.name),
                ));
            }
            check_unique(s, &r)?;
            let verb = if old.is_some() { "Updating" } else { "Creating" };
            let mut plan = Plan::new(r.clone(), r.name.clone(), format!("{verb} synced {} \"{}\".", r.kind, r.name));
            plan.before = old.map(audit_json);
            plan.after = Some(audit_json(&r));
            plan.changes.push(Change::PutRecipient(r));
            Ok(plan)
        })
        .await
    }
}
