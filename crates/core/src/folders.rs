//! Folder paths, folder permissions (spec §5), and creating, removing and
//! renaming folders.

use crate::{Applied, CoreError, Ctx, Deputy, Plan, Result, State};
use deputy_access::{Permission, Surface, check_grant};
use deputy_store::Change;
use deputy_types::{
    Folder, FolderAce, FolderId, FolderRights, FolderRole, FolderUser, RecipientId, SharingFlags, WellKnownFolder,
};

/// One row of `Get-MailboxFolderPermission`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderPermissionRow {
    /// The folder.
    pub folder: FolderId,
    /// Whose entry.
    pub user: FolderUser,
    /// The rights.
    pub rights: FolderRights,
    /// Calendar delegate flags.
    pub flags: SharingFlags,
}

/// The rights part of `Add-`/`Set-MailboxFolderPermission`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderPermissionEdit {
    /// `-AccessRights`.
    pub rights: FolderRights,
    /// `-SharingPermissionFlags`, when given.
    pub flags: Option<SharingFlags>,
    /// Whether `-SendNotificationToUser` was given (either value).
    pub send_notification: bool,
}

impl State {
    /// Resolves `mary:\Inbox\Reports` to a folder of `mailbox` given the part
    /// after `:\` (empty for the root). Names match case-insensitively; the
    /// first level also accepts well-known names (`SentItems`, `sentitems`).
    pub fn resolve_folder(&self, mailbox: RecipientId, path: &str) -> Result<FolderId> {
        let folders: Vec<&Folder> = self.folders_of(mailbox).collect();
        let root = folders
            .iter()
            .find(|f| f.parent.is_none())
            .map(|f| f.id)
            .ok_or_else(|| CoreError::FolderNotFound(format!("{}:\\{path}", self.name_of(mailbox))))?;
        let mut current = root;
        for (depth, segment) in path.split('\\').filter(|s| !s.is_empty()).enumerate() {
            let well_known = if depth == 0 { WellKnownFolder::parse(segment) } else { None };
            let next = folders.iter().find(|f| {
                f.parent == Some(current)
                    && (f.name.eq_ignore_ascii_case(segment) || (well_known.is_some() && f.well_known == well_known))
            });
            current = next
                .map(|f| f.id)
                .ok_or_else(|| CoreError::FolderNotFound(format!("{}:\\{path}", self.name_of(mailbox))))?;
        }
        Ok(current)
    }

    /// `mary:\Inbox\Reports` for a folder (alias, then the path below the root).
    pub fn folder_identity(&self, folder: FolderId) -> String {
        let Some(f) = self.folder(folder) else { return folder.to_string() };
        let mut parts = Vec::new();
        let mut cur = Some(f);
        while let Some(x) = cur {
            if x.parent.is_some() {
                parts.push(x.name.as_str());
            }
            cur = x.parent.and_then(|p| self.folder(p));
        }
        parts.reverse();
        let alias = self.dir.get(f.mailbox).map_or_else(|| f.mailbox.to_string(), |r| r.alias.clone());
        format!("{alias}:\\{}", parts.join("\\"))
    }

    /// How a folder entry's user is shown: `Default`, `Anonymous`, or the display name.
    pub fn folder_user_name(&self, user: FolderUser) -> String {
        match user {
            FolderUser::Default => "Default".into(),
            FolderUser::Anonymous => "Anonymous".into(),
            FolderUser::Recipient(id) => self.dir.get(id).map_or_else(|| id.to_string(), |r| r.display_name.clone()),
        }
    }

    fn is_calendar(&self, folder: FolderId) -> bool {
        self.folder(folder).and_then(|f| f.well_known).is_some_and(WellKnownFolder::is_calendar)
    }

    /// The entry `user` has on `folder`, including the implicit Default and
    /// Anonymous entries (Default is AvailabilityOnly on calendars, else none).
    pub fn folder_entry(&self, folder: FolderId, user: FolderUser) -> Option<FolderPermissionRow> {
        let explicit = self.folder_aces(folder).iter().find(|a| a.user == user);
        match (explicit, user) {
            (Some(a), _) => Some(FolderPermissionRow { folder, user, rights: a.rights, flags: a.flags }),
            (None, FolderUser::Default) => Some(FolderPermissionRow {
                folder,
                user,
                rights: if self.is_calendar(folder) {
                    FolderRole::AvailabilityOnly.rights()
                } else {
                    FolderRights::empty()
                },
                flags: SharingFlags::empty(),
            }),
            (None, FolderUser::Anonymous) => {
                Some(FolderPermissionRow { folder, user, rights: FolderRights::empty(), flags: SharingFlags::empty() })
            }
            (None, FolderUser::Recipient(_)) => None,
        }
    }

    /// `Get-MailboxFolderPermission`: Default, Anonymous, then the explicit entries.
    pub fn folder_permission_rows(&self, folder: FolderId) -> Vec<FolderPermissionRow> {
        let mut rows: Vec<FolderPermissionRow> = [FolderUser::Default, FolderUser::Anonymous]
            .into_iter()
            .filter_map(|u| self.folder_entry(folder, u))
            .collect();
        rows.extend(
            self.folder_aces(folder)
                .iter()
                .filter(|a| matches!(a.user, FolderUser::Recipient(_)))
                .map(|a| FolderPermissionRow { folder, user: a.user, rights: a.rights, flags: a.flags }),
        );
        rows
    }

    /// spec §5: delegate flags only on calendars, only with Editor, and
    /// CanViewPrivateItems only with Delegate.
    pub(crate) fn check_flags(&self, folder: FolderId, rights: FolderRights, flags: SharingFlags) -> Result<()> {
        if flags.is_empty() {
            return Ok(());
        }
        if !self.is_calendar(folder) {
            return Err(CoreError::NotApplicable(
                "SharingPermissionFlags can be used on calendar folders only.".into(),
            ));
        }
        if rights != FolderRole::Editor.rights() {
            return Err(CoreError::NotApplicable(
                "SharingPermissionFlags can be set only together with the Editor access right.".into(),
            ));
        }
        if flags.contains(SharingFlags::CAN_VIEW_PRIVATE_ITEMS) && !flags.contains(SharingFlags::DELEGATE) {
            return Err(CoreError::NotApplicable("CanViewPrivateItems requires the Delegate flag.".into()));
        }
        Ok(())
    }

    /// spec §2: whether the user's kind may hold a folder permission on the folder's mailbox.
    pub(crate) fn check_folder_trustee(&self, folder: FolderId, user: FolderUser) -> Result<()> {
        let (FolderUser::Recipient(id), Some(f)) = (user, self.folder(folder)) else { return Ok(()) };
        let owner = self.dir.get(f.mailbox).ok_or_else(|| CoreError::Gone(f.mailbox.to_string()))?;
        let trustee = self.dir.get(id).ok_or_else(|| CoreError::Gone(id.to_string()))?;
        check_grant(Permission::Folder, owner.kind, trustee.kind, Surface::Shell)?;
        Ok(())
    }
}

/// A folder entry as the audit log records it.
pub(crate) fn ace_json(s: &State, row: &FolderPermissionRow) -> serde_json::Value {
    serde_json::json!({
        "Identity": s.folder_identity(row.folder),
        "User": s.folder_user_name(row.user),
        "AccessRights": row.rights.display_names(),
        "SharingPermissionFlags": row.flags.display(),
    })
}

impl Deputy {
    /// `Add-MailboxFolderPermission`: an existing entry is an error (use Set).
    pub async fn add_folder_permission(
        &self,
        ctx: &Ctx,
        folder: FolderId,
        user: FolderUser,
        edit: FolderPermissionEdit,
    ) -> Result<Applied<FolderPermissionRow>> {
        self.mutate(ctx, |s| {
            let f = s.folder(folder).ok_or_else(|| CoreError::FolderNotFound(folder.to_string()))?;
            if s.folder_entry(folder, user).is_some() {
                return Err(CoreError::FolderEntryExists(s.folder_user_name(user)));
            }
            s.check_folder_trustee(folder, user)?;
            let flags = edit.flags.unwrap_or_default();
            s.check_flags(folder, edit.rights, flags)?;
            let row = FolderPermissionRow { folder, user, rights: edit.rights, flags };
            let identity = s.folder_identity(folder);
            let mut plan = Plan::new(
                row.clone(),
                identity.clone(),
                format!("Adding folder permission for \"{}\" on \"{identity}\".", s.folder_user_name(user)),
            );
            plan.after = Some(ace_json(s, &row));
            plan.changes.push(put_ace(f.mailbox, &row));
            Ok(plan)
        })
        .await
    }

    /// `Set-MailboxFolderPermission`: replaces the rights of an existing entry.
    /// Without `-SharingPermissionFlags`, a delegate stays a delegate while it
    /// stays Editor, unless `-SendNotificationToUser` is given (Exchange's
    /// documented pitfall, exchange-reference.md §2.4).
    pub async fn set_folder_permission(
        &self,
        ctx: &Ctx,
        folder: FolderId,
        user: FolderUser,
        edit: FolderPermissionEdit,
    ) -> Result<Applied<FolderPermissionRow>> {
        self.mutate(ctx, |s| {
            let f = s.folder(folder).ok_or_else(|| CoreError::FolderNotFound(folder.to_string()))?;
            let old = s.folder_entry(folder, user).ok_or_else(|| CoreError::NoFolderEntry(s.folder_user_name(user)))?;
            let flags = match edit.flags {
                Some(f) => f,
                None if edit.send_notification => SharingFlags::empty(),
                None if edit.rights == FolderRole::Editor.rights() => old.flags,
                None => SharingFlags::empty(),
            };
            s.check_flags(folder, edit.rights, flags)?;
            let row = FolderPermissionRow { folder, user, rights: edit.rights, flags };
            let identity = s.folder_identity(folder);
            if row == old {
                let warning = format!(
                    "The command completed successfully but no permissions of '{identity}' have been modified."
                );
                return Ok(Plan::warn(row, identity, warning));
            }
            let mut plan = Plan::new(
                row.clone(),
                identity.clone(),
                format!("Setting folder permission for \"{}\" on \"{identity}\".", s.folder_user_name(user)),
            );
            plan.before = Some(ace_json(s, &old));
            plan.after = Some(ace_json(s, &row));
            plan.changes.push(put_ace(f.mailbox, &row));
            Ok(plan)
        })
        .await
    }

    /// `Remove-MailboxFolderPermission`: removes all of the user's rights.
    pub async fn remove_folder_permission(&self, ctx: &Ctx, folder: FolderId, user: FolderUser) -> Result<Applied<()>> {
        self.mutate(ctx, |s| {
            if !matches!(user, FolderUser::Recipient(_)) {
                return Err(CoreError::NotApplicable(format!(
                    "The {} entry can't be removed; use Set-MailboxFolderPermission -AccessRights None.",
                    s.folder_user_name(user)
                )));
            }
            let old = s.folder_entry(folder, user).ok_or_else(|| CoreError::NoFolderEntry(s.folder_user_name(user)))?;
            let identity = s.folder_identity(folder);
            let mut plan = Plan::new(
                (),
                identity.clone(),
                format!("Removing folder permission for \"{}\" on \"{identity}\".", s.folder_user_name(user)),
            );
            plan.before = Some(ace_json(s, &old));
            plan.changes.push(Change::DeleteFolderAce { folder, user });
            Ok(plan)
        })
        .await
    }

    /// `New-MailboxFolder -Parent <folder> -Name <name>`.
    pub async fn new_folder(&self, ctx: &Ctx, parent: FolderId, name: &str) -> Result<Applied<Folder>> {
        self.new_folder_with_id(ctx, parent, name, None).await
    }

    /// [`Deputy::new_folder`] with the folder's id chosen by the caller (a
    /// door that derives ids from its own URLs, as CalDAV does); an id in
    /// use is [`CoreError::Taken`].
    pub async fn new_folder_with_id(
        &self,
        ctx: &Ctx,
        parent: FolderId,
        name: &str,
        id: Option<FolderId>,
    ) -> Result<Applied<Folder>> {
        let name = folder_name(name)?;
        self.mutate(ctx, |s| {
            let p = s.folder(parent).ok_or_else(|| CoreError::FolderNotFound(parent.to_string()))?;
            if s.folders_of(p.mailbox).any(|f| f.parent == Some(parent) && f.name.eq_ignore_ascii_case(name)) {
                return Err(CoreError::Taken {
                    what: "folder name",
                    value: name.to_owned(),
                    owner: s.folder_identity(parent),
                });
            }
            if let Some(taken) = id.filter(|id| s.folder(*id).is_some()) {
                return Err(CoreError::Taken {
                    what: "folder id",
                    value: taken.to_string(),
                    owner: s.folder_identity(parent),
                });
            }
            let f = Folder {
                id: id.unwrap_or_else(FolderId::new_random),
                mailbox: p.mailbox,
                parent: Some(parent),
                name: name.to_owned(),
                well_known: None,
            };
            let mut plan = Plan::new(
                f.clone(),
                s.folder_identity(parent),
                format!("Creating folder \"{name}\" in \"{}\".", s.folder_identity(parent)),
            );
            plan.after = serde_json::to_value(&f).ok();
            plan.changes.push(Change::PutFolder(f));
            Ok(plan)
        })
        .await
    }
}

impl Deputy {
    /// Removes a folder (IMAP DELETE; any door's folder removal): one that is
    /// not a default folder and has no subfolders, with its permission
    /// entries, then its messages. Were the second step interrupted, the entries left behind
    /// belong to no folder and are seen by no one.
    pub async fn remove_folder(&self, ctx: &Ctx, folder: FolderId) -> Result<Applied<()>> {
        let applied = self
            .mutate(ctx, |s| {
                let f = s.folder(folder).ok_or_else(|| CoreError::FolderNotFound(folder.to_string()))?;
                let identity = s.folder_identity(folder);
                if f.well_known.is_some() {
                    return Err(CoreError::DefaultFolder(identity));
                }
                if s.folders_of(f.mailbox).any(|c| c.parent == Some(folder)) {
                    return Err(CoreError::FolderHasSubfolders(identity));
                }
                let mut plan = Plan::new((), identity.clone(), format!("Removing folder \"{identity}\"."));
                plan.before = serde_json::to_value(f).ok();
                plan.changes
                    .extend(s.folder_aces(folder).iter().map(|a| Change::DeleteFolderAce { folder, user: a.user }));
                plan.changes.push(Change::DeleteFolder(folder));
                Ok(plan)
            })
            .await?;
        let uids: Vec<u32> = self.mail.entries(folder).await?.iter().map(|e| e.uid).collect();
        if !uids.is_empty() {
            self.mail.expunge(folder, &uids).await?;
        }
        // The store never cascades: the folder's IMAP subscriptions go here. The
        // folder is gone either way and a left-over row is harmless (folder ids
        // are never reused), so a failure does not fail the removal.
        if let Err(error) = self.mail.delete_subscriptions(folder).await {
            tracing::warn!(%error, %folder, "a removed folder's subscriptions were left in the store");
        }
        Ok(applied)
    }

    /// Renames a folder and moves it under another parent of the same
    /// mailbox (IMAP RENAME); default folders stay where they are.
    pub async fn rename_folder(
        &self,
        ctx: &Ctx,
        folder: FolderId,
        parent: FolderId,
        name: &str,
    ) -> Result<Applied<Folder>> {
        let name = folder_name(name)?;
        self.mutate(ctx, |s| {
            let f = s.folder(folder).ok_or_else(|| CoreError::FolderNotFound(folder.to_string()))?;
            let identity = s.folder_identity(folder);
            if f.well_known.is_some() {
                return Err(CoreError::DefaultFolder(identity));
            }
            let p = s.folder(parent).ok_or_else(|| CoreError::FolderNotFound(parent.to_string()))?;
            if p.mailbox != f.mailbox {
                return Err(CoreError::NotApplicable("A folder can be moved only within its own mailbox.".into()));
            }
            let mut above = Some(parent);
            while let Some(id) = above {
                if id == folder {
                    return Err(CoreError::NotApplicable(
                        "A folder can't be moved into itself or one of its subfolders.".into(),
                    ));
                }
                above = s.folder(id).and_then(|x| x.parent);
            }
            if s.folders_of(f.mailbox)
                .any(|o| o.id != folder && o.parent == Some(parent) && o.name.eq_ignore_ascii_case(name))
            {
                return Err(CoreError::Taken {
                    what: "folder name",
                    value: name.to_owned(),
                    owner: s.folder_identity(parent),
                });
            }
            let renamed = Folder { parent: Some(parent), name: name.to_owned(), ..f.clone() };
            let mut plan =
                Plan::new(renamed.clone(), identity.clone(), format!("Renaming folder \"{identity}\" to \"{name}\"."));
            plan.before = serde_json::to_value(f).ok();
            plan.after = serde_json::to_value(&renamed).ok();
            plan.changes.push(Change::PutFolder(renamed));
            Ok(plan)
        })
        .await
    }
}

/// A folder name as the shell and IMAP may give it: 1 to 255 characters, no backslash.
fn folder_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.contains('\\') || name.chars().count() > 255 {
        return Err(CoreError::InvalidValue {
            parameter: "Name",
            value: name.to_owned(),
            reason: "a folder name has 1 to 255 characters and no backslash".into(),
        });
    }
    Ok(name)
}

/// The stored entry a permission row becomes.
pub(crate) fn put_ace(mailbox: RecipientId, row: &FolderPermissionRow) -> Change {
    Change::PutFolderAce(FolderAce {
        mailbox,
        folder: row.folder,
        user: row.user,
        rights: row.rights,
        flags: row.flags,
    })
}
