//! A mailbox owner's delegate as Outlook's Delegate Access dialog
//! (MS-OXODLGT) sets one up: its entries on several folders of the mailbox
//! and Send on Behalf (spec §3.3, §5). The whole change is one mutation,
//! planned against one read and committed with one audit record, so a
//! refused entry, a failed commit or a concurrent change leaves the delegate
//! exactly as it was, never half-added.

use crate::folders::{FolderPermissionRow, ace_json, put_ace};
use crate::permissions::account;
use crate::recipients::{check_send_on_behalf, check_unique};
use crate::{Applied, CoreError, Ctx, Deputy, Plan, Result, State};
use deputy_store::Change;
use deputy_types::{FolderId, FolderRights, FolderRole, FolderUser, RecipientId, SharingFlags};

/// What the delegate should hold on one folder of the mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DelegateFolder {
    /// The folder.
    pub folder: FolderId,
    /// The delegate's role there; `None` removes its entry.
    pub role: Option<FolderRole>,
    /// `Delegate` and `CanViewPrivateItems` (calendars, with Editor only).
    pub flags: SharingFlags,
}

/// What the delegate should hold on the mailbox: its entries on the named
/// folders (folders not named are left alone) and Send on Behalf.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DelegateAccess {
    /// One entry per folder, each folder at most once.
    pub folders: Vec<DelegateFolder>,
    /// Whether it is in the mailbox's `GrantSendOnBehalfTo`.
    pub send_on_behalf: bool,
}

impl Deputy {
    /// Adds, changes or (with no roles and no Send on Behalf) removes a
    /// delegate of `mailbox` in one commit. Every entry is checked as
    /// `Add-`/`Set-MailboxFolderPermission` and `Set-Mailbox
    /// -GrantSendOnBehalfTo` check it before anything is stored. Who may ask
    /// is the door's rule (the owner, for Graph's `/me/delegates`).
    pub async fn set_delegate(
        &self,
        ctx: &Ctx,
        mailbox: RecipientId,
        delegate: RecipientId,
        access: &DelegateAccess,
    ) -> Result<Applied<()>> {
        self.mutate(ctx, |s| plan(s, mailbox, delegate, access)).await
    }
}

fn plan(s: &State, mailbox: RecipientId, delegate: RecipientId, access: &DelegateAccess) -> Result<Plan<()>> {
    let owner = s.dir.get(mailbox).ok_or_else(|| CoreError::Gone(mailbox.to_string()))?;
    let trustee = s.dir.get(delegate).ok_or_else(|| CoreError::Gone(delegate.to_string()))?;
    let user = FolderUser::Recipient(delegate);
    let mut plan =
        Plan::new((), owner.name.clone(), format!("Setting delegate \"{}\" of \"{}\".", account(trustee), owner.name));
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for (i, want) in access.folders.iter().enumerate() {
        let folder = want.folder;
        // A folder of another mailbox would let the change reach past its owner.
        if s.folder(folder).is_none_or(|f| f.mailbox != mailbox) {
            return Err(CoreError::FolderNotFound(folder.to_string()));
        }
        if access.folders[..i].iter().any(|w| w.folder == folder) {
            return Err(CoreError::InvalidValue {
                parameter: "Identity",
                value: s.folder_identity(folder),
                reason: "a delegate change names each folder once".into(),
            });
        }
        let rights = want.role.map_or(FolderRights::empty(), FolderRole::rights);
        if want.role.is_some() {
            s.check_folder_trustee(folder, user)?;
        }
        s.check_flags(folder, rights, want.flags)?;
        let old = s.folder_entry(folder, user);
        let new = want.role.map(|_| FolderPermissionRow { folder, user, rights, flags: want.flags });
        if old == new {
            continue;
        }
        before.extend(old.iter().map(|row| ace_json(s, row)));
        match &new {
            Some(row) => {
                after.push(ace_json(s, row));
                plan.changes.push(put_ace(mailbox, row));
            }
            None => plan.changes.push(Change::DeleteFolderAce { folder, user }),
        }
    }
    let holds = owner.grant_send_on_behalf_to.contains(&delegate);
    if access.send_on_behalf != holds {
        let mut r = owner.clone();
        if access.send_on_behalf {
            check_send_on_behalf(s, owner, &[delegate])?;
            r.grant_send_on_behalf_to.push(delegate);
        } else {
            r.grant_send_on_behalf_to.retain(|id| *id != delegate);
        }
        // What `Set-Mailbox` checks of the whole recipient it stores.
        check_unique(s, &r)?;
        plan.changes.push(Change::PutRecipient(r));
    }
    if plan.changes.is_empty() {
        plan.warnings.push(format!(
            "The command completed successfully but no settings of '{}' have been modified.",
            owner.name
        ));
        return Ok(plan);
    }
    let record = |entries: Vec<serde_json::Value>, send_on_behalf: bool| {
        serde_json::json!({
            "Delegate": account(trustee),
            "FolderPermissions": entries,
            "GrantSendOnBehalf": send_on_behalf,
        })
    };
    plan.before = Some(record(before, holds));
    plan.after = Some(record(after, access.send_on_behalf));
    Ok(plan)
}
