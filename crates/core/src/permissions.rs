//! Full Access and Send As grants (spec §3.1, §3.2).

use crate::{Applied, CoreError, Ctx, Deputy, Plan, Result, State};
use deputy_access::{Permission, Surface, check_grant};
use deputy_store::Change;
use deputy_types::{InheritanceType, MailboxAce, MailboxRights, Recipient, RecipientId, SendAsAce};

/// One row of `Get-MailboxPermission`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxPermissionRow {
    /// The mailbox.
    pub target: RecipientId,
    /// The trustee; `None` for the mailbox's own `NT AUTHORITY\SELF` entry.
    pub trustee: Option<RecipientId>,
    /// The rights.
    pub rights: MailboxRights,
    /// Whether it is a deny entry.
    pub deny: bool,
    /// `InheritanceType`.
    pub inheritance: InheritanceType,
    /// `AutoMapping` (Deputy shows it; Exchange keeps it hidden).
    pub automapping: bool,
}

/// The rights part of an `Add-MailboxPermission` call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxGrant {
    /// `-AccessRights`.
    pub rights: MailboxRights,
    /// `-Deny`.
    pub deny: bool,
    /// `-InheritanceType` (default `All`).
    pub inheritance: InheritanceType,
    /// `-AutoMapping` (default `$true`).
    pub automapping: bool,
}

/// One Send As entry, as `Get-RecipientPermission` and `Get-ADPermission` show it.
pub type SendAsRow = SendAsAce;

fn get(s: &State, id: RecipientId) -> Result<&Recipient> {
    s.dir.get(id).ok_or_else(|| CoreError::Gone(id.to_string()))
}

/// How Exchange names a trustee in messages: its UPN, else its name.
pub(crate) fn account(r: &Recipient) -> String {
    r.upn.clone().unwrap_or_else(|| r.name.clone())
}

fn already_present(target: &Recipient, trustee: &Recipient) -> String {
    format!(
        "The appropriate access control entry is already present on the object \"{}\" for account \"{}\".",
        target.name,
        account(trustee)
    )
}

fn not_present(target: &Recipient, trustee: &Recipient) -> String {
    format!(
        "Can't remove the access control entry on the object \"{}\" for account \"{}\" because the ACE doesn't exist on the object.",
        target.name,
        account(trustee)
    )
}

impl Deputy {
    /// `Add-MailboxPermission` (spec §3.1). A grant that already exists is a warning.
    pub async fn add_mailbox_permission(
        &self,
        ctx: &Ctx,
        target: RecipientId,
        trustee: RecipientId,
        grant: MailboxGrant,
    ) -> Result<Applied<MailboxPermissionRow>> {
        let MailboxGrant { rights, deny, inheritance, automapping } = grant;
        if rights.contains(MailboxRights::SEND_AS) {
            return Err(CoreError::InvalidValue {
                parameter: "AccessRights",
                value: "SendAs".into(),
                reason: "Send As isn't a mailbox right; use Add-RecipientPermission or Add-ADPermission".into(),
            });
        }
        self.mutate(ctx, |s| {
            let t = get(s, target)?;
            let u = get(s, trustee)?;
            if !t.kind.has_mailbox() {
                return Err(CoreError::NotApplicable(format!("\"{}\" is a {}, which has no mailbox.", t.name, t.kind)));
            }
            check_grant(Permission::FullAccess, t.kind, u.kind, Surface::Shell)?;
            let existing = s.mailbox_aces(target).iter().find(|a| a.trustee == trustee && a.deny == deny);
            let ace = MailboxAce {
                target,
                trustee,
                rights: existing.map_or(rights, |a| a.rights | rights),
                deny,
                inheritance,
                automapping: existing.map_or(automapping, |a| a.automapping),
            };
            let row = MailboxPermissionRow {
                target,
                trustee: Some(trustee),
                rights: ace.rights,
                deny,
                inheritance: ace.inheritance,
                automapping: ace.automapping,
            };
            if existing.is_some_and(|a| a.rights.contains(rights)) {
                return Ok(Plan::warn(row, t.name.clone(), already_present(t, u)));
            }
            let verb = if deny { "Denying" } else { "Adding" };
            let mut plan = Plan::new(
                row,
                t.name.clone(),
                format!("{verb} mailbox permission {:?} on \"{}\" for \"{}\".", rights.names(), t.name, account(u)),
            );
            plan.before = existing.and_then(|a| serde_json::to_value(a).ok());
            plan.after = serde_json::to_value(&ace).ok();
            plan.changes.push(Change::PutMailboxAce(ace));
            Ok(plan)
        })
        .await
    }

    /// `Remove-MailboxPermission -ClearAutoMapping` (Exchange Online): the
    /// mailbox is auto-mapped for nobody any more; every Full Access grant stays.
    pub async fn clear_automapping(&self, ctx: &Ctx, target: RecipientId) -> Result<Applied<()>> {
        self.mutate(ctx, |s| {
            let t = get(s, target)?;
            let mut plan =
                Plan::new((), t.name.clone(), format!("Clearing auto-mapping on \"{}\" for every user.", t.name));
            for ace in s.mailbox_aces(target).iter().filter(|a| a.automapping) {
                plan.changes.push(Change::PutMailboxAce(MailboxAce { automapping: false, ..ace.clone() }));
            }
            Ok(plan)
        })
        .await
    }

    /// `Remove-MailboxPermission -ResetDefault` (Exchange Online): only the
    /// owner keeps access to the mailbox; every other mailbox permission entry
    /// (allow or deny, users and groups) goes, with its auto-mapping. Send As,
    /// Send on Behalf and folder permissions are left alone, as Exchange does.
    pub async fn reset_default_permissions(&self, ctx: &Ctx, target: RecipientId) -> Result<Applied<()>> {
        self.mutate(ctx, |s| {
            let t = get(s, target)?;
            let mut plan = Plan::new(
                (),
                t.name.clone(),
                format!("Resetting the mailbox permissions of \"{}\" to the default.", t.name),
            );
            plan.before = serde_json::to_value(s.mailbox_aces(target)).ok();
            for ace in s.mailbox_aces(target) {
                plan.changes.push(Change::DeleteMailboxAce { target, trustee: ace.trustee, deny: ace.deny });
            }
            Ok(plan)
        })
        .await
    }

    /// `Remove-MailboxPermission` (spec §3.1): removes the given rights; an
    /// entry left with none is deleted. `SendAs` removes the Send As entry.
    pub async fn remove_mailbox_permission(
        &self,
        ctx: &Ctx,
        target: RecipientId,
        trustee: RecipientId,
        rights: MailboxRights,
        deny: bool,
    ) -> Result<Applied<()>> {
        self.mutate(ctx, |s| {
            let t = get(s, target)?;
            let u = get(s, trustee)?;
            let mut plan = Plan::new(
                (),
                t.name.clone(),
                format!("Removing mailbox permission on \"{}\" for \"{}\".", t.name, account(u)),
            );
            let mut missing = false;
            let mailbox_rights = rights - MailboxRights::SEND_AS;
            if !mailbox_rights.is_empty() {
                match s.mailbox_aces(target).iter().find(|a| a.trustee == trustee && a.deny == deny) {
                    Some(a) if a.rights.intersects(mailbox_rights) => {
                        plan.before = serde_json::to_value(a).ok();
                        let left = a.rights - mailbox_rights;
                        if left.is_empty() {
                            plan.changes.push(Change::DeleteMailboxAce { target, trustee, deny });
                        } else {
                            let ace = MailboxAce { rights: left, ..a.clone() };
                            plan.after = serde_json::to_value(&ace).ok();
                            plan.changes.push(Change::PutMailboxAce(ace));
                        }
                    }
                    _ => missing = true,
                }
            }
            if rights.contains(MailboxRights::SEND_AS) {
                let ace = SendAsAce { target, trustee, deny };
                if s.send_as_aces(target).contains(&ace) {
                    plan.changes.push(Change::DeleteSendAsAce(ace));
                } else {
                    missing = true;
                }
            }
            if missing {
                plan.warnings.push(not_present(t, u));
            }
            Ok(plan)
        })
        .await
    }

    /// `Add-RecipientPermission -AccessRights SendAs` / `Add-ADPermission -ExtendedRights "Send As"` (spec §3.2).
    pub async fn add_send_as(
        &self,
        ctx: &Ctx,
        target: RecipientId,
        trustee: RecipientId,
        deny: bool,
    ) -> Result<Applied<SendAsRow>> {
        self.mutate(ctx, |s| {
            let t = get(s, target)?;
            let u = get(s, trustee)?;
            check_grant(Permission::SendAs, t.kind, u.kind, Surface::Shell)?;
            let ace = SendAsAce { target, trustee, deny };
            if s.send_as_aces(target).contains(&ace) {
                return Ok(Plan::warn(ace, t.name.clone(), already_present(t, u)));
            }
            let verb = if deny { "Denying" } else { "Granting" };
            let mut plan = Plan::new(
                ace.clone(),
                t.name.clone(),
                format!("{verb} Send As on \"{}\" to \"{}\".", t.name, account(u)),
            );
            plan.after = serde_json::to_value(&ace).ok();
            plan.changes.push(Change::PutSendAsAce(ace));
            Ok(plan)
        })
        .await
    }

    /// `Remove-RecipientPermission` / `Remove-ADPermission` (spec §3.2).
    pub async fn remove_send_as(
        &self,
        ctx: &Ctx,
        target: RecipientId,
        trustee: RecipientId,
        deny: bool,
    ) -> Result<Applied<()>> {
        self.mutate(ctx, |s| {
            let t = get(s, target)?;
            let u = get(s, trustee)?;
            let ace = SendAsAce { target, trustee, deny };
            if !s.send_as_aces(target).contains(&ace) {
                return Ok(Plan::warn((), t.name.clone(), not_present(t, u)));
            }
            let mut plan =
                Plan::new((), t.name.clone(), format!("Removing Send As on \"{}\" from \"{}\".", t.name, account(u)));
            plan.before = serde_json::to_value(&ace).ok();
            plan.changes.push(Change::DeleteSendAsAce(ace));
            Ok(plan)
        })
        .await
    }
}

impl State {
    /// `Get-MailboxPermission`: the mailbox's own `SELF` entry first, then its
    /// grants in the order they were made.
    pub fn mailbox_permission_rows(&self, target: RecipientId) -> Vec<MailboxPermissionRow> {
        let mut rows = Vec::new();
        if self.dir.get(target).is_some_and(|r| r.kind.has_mailbox()) {
            rows.push(MailboxPermissionRow {
                target,
                trustee: None,
                rights: MailboxRights::FULL_ACCESS | MailboxRights::READ_PERMISSION,
                deny: false,
                inheritance: InheritanceType::All,
                automapping: false,
            });
        }
        rows.extend(self.mailbox_aces(target).iter().map(|a| MailboxPermissionRow {
            target,
            trustee: Some(a.trustee),
            rights: a.rights,
            deny: a.deny,
            inheritance: a.inheritance,
            automapping: a.automapping,
        }));
        rows
    }
}
