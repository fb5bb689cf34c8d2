//! Moving a mailbox between the forests (`New-MoveRequest`, spec §9): the
//! target forest takes the mailbox (its object becomes the mailbox, with the
//! source's folders, messages, flags and permissions), then the source
//! forest releases it (its mailbox becomes the mail user that stands for it).
//!
//! Resumable: the target marks the object `Copying` in the same commit that
//! creates the mailbox and `Done` after the last message. The messages come
//! in pages, folder by folder in UID order ([`super::copy`]), and the target
//! remembers how far each folder got, so a resumed copy continues where it
//! stopped and never stores a message twice.

use super::{SOURCE_FOREST, SyncedRecipient, desired, is_synced};
use crate::recipients::{audit_json, check_unique};
use crate::{Applied, CoreError, Ctx, Deputy, Plan, Result};
use deputy_store::Change;
use deputy_types::{Folder, FolderAce, FolderId, MailboxAce, Recipient, RecipientId, RecipientType, Uid};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Attribute of a mailbox asked to move: `<Queued|Completed>|<remote host>`.
pub const MOVE_REQUEST: &str = "HybridMoveRequest";
/// Attribute of a mailbox moved in: `Copying` until every message is in, then `Done`.
pub const MOVED_IN: &str = "HybridMovedIn";
/// Attribute of the mail user a released mailbox became: the ids of its
/// folders (comma-separated) whose messages are kept, frozen, until the
/// final pass carried them to the other forest ([`Deputy::purge_moved`]).
pub const MOVE_FROZEN: &str = "HybridMoveFrozen";

/// A mailbox's folders and permissions, as a move carries them; the
/// messages follow in pages ([`Deputy::message_page`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MailboxContent {
    /// Its folders, the root first.
    pub folders: Vec<Folder>,
    /// Its mailbox permissions (Full Access and the rest, spec §3.1).
    pub mailbox_aces: Vec<MailboxAce>,
    /// Its folder permissions (spec §5).
    pub folder_aces: Vec<FolderAce>,
}

impl Deputy {
    /// The folders and permissions a move carries of mailbox `id`.
    pub async fn mailbox_content(&self, id: RecipientId) -> Result<MailboxContent> {
        let (mut folders, mailbox_aces, folder_aces) = self.read(|s| {
            let folders: Vec<Folder> = s.folders_of(id).cloned().collect();
            let aces = s.mailbox_aces(id).to_vec();
            let folder_aces: Vec<FolderAce> = folders.iter().flat_map(|f| s.folder_aces(f.id).to_vec()).collect();
            (folders, aces, folder_aces)
        });
        if folders.is_empty() {
            return Err(CoreError::NotApplicable(format!("{id} has no mailbox here.")));
        }
        folders.sort_by_key(|f| f.parent.is_some());
        Ok(MailboxContent { folders, mailbox_aces, folder_aces })
    }

    /// The target side: makes `spec.id` the mailbox `content` describes,
    /// homed here (`spec.kind` is the mailbox kind), marked `Copying`; the
    /// messages follow ([`Self::take_messages`], then [`Self::finish_move`]).
    /// Again while `Copying`, it updates folders and permissions and keeps
    /// the messages copied so far. Permissions for trustees this forest
    /// doesn't know are left out.
    pub async fn take_mailbox(
        &self,
        ctx: &Ctx,
        spec: SyncedRecipient,
        routing_address: Option<deputy_types::EmailAddress>,
        content: &MailboxContent,
    ) -> Result<Applied<Recipient>> {
        let id = spec.id;
        let copying = self.read(|s| s.dir.get(id).and_then(|r| r.attribute(MOVED_IN)).map(str::to_owned));
        if copying.as_deref() == Some("Done") {
            let r = self.read(|s| s.dir.get(id).cloned()).ok_or_else(|| CoreError::Gone(id.to_string()))?;
            return Ok(Applied {
                value: r,
                warnings: vec!["The mailbox has already moved here.".into()],
                what_if: None,
                changed: false,
            });
        }
        let applied = self
            .mutate(ctx, |s| {
                let old = s.dir.get(id);
                // Only what stands for the other forest's mailbox (or nothing,
                // or a move already under way) becomes the moved mailbox: a
                // peer never takes over a recipient homed here.
                if let Some(o) = old
                    && !is_synced(o)
                    && o.attribute(MOVED_IN).is_none()
                {
                    return Err(CoreError::NotApplicable(format!(
                        "\"{}\" is homed in this forest; a move can't overwrite it.",
                        o.name
                    )));
                }
                // Folder ids come from the peer: none may name a folder of
                // another mailbox here, nor a permission one outside the move.
                let ours = |f: FolderId| s.folder(f).is_none_or(|f| f.mailbox == id);
                let moved = |f: FolderId| content.folders.iter().any(|m| m.id == f);
                if !content.folders.iter().all(|f| ours(f.id) && f.parent.is_none_or(ours))
                    || !content.folder_aces.iter().all(|a| moved(a.folder))
                {
                    return Err(CoreError::NotApplicable(
                        "The moved mailbox's folders name folders that are not its own.".into(),
                    ));
                }
                let mut r = desired(&spec, old);
                // A new move starts its progress afresh; a resumed one keeps it.
                if old.and_then(|o| o.attribute(MOVED_IN)) != Some("Copying") {
                    r.set_attribute(super::copy::MOVE_PROGRESS, "");
                }
                r.set_attribute(SOURCE_FOREST, "");
                r.set_attribute(super::REMOTE_TYPE, "");
                r.set_attribute(MOVED_IN, "Copying");
                r.set_attribute(MOVE_REQUEST, "");
                r.external_address = None;
                if let Some(a) = &routing_address
                    && !r.smtp_addresses().any(|x| x.key() == a.key())
                {
                    r.proxy_addresses.push(a.clone());
                }
                check_unique(s, &r)?;
                let mut plan = Plan::new(r.clone(), r.name.clone(), format!("Moving mailbox \"{}\" in.", r.name));
                plan.before = old.map(audit_json);
                plan.after = Some(audit_json(&r));
                plan.changes.push(Change::PutRecipient(r));
                let known = |t: RecipientId| t == id || s.dir.get(t).is_some();
                for f in &content.folders {
                    plan.changes.push(Change::PutFolder(Folder { mailbox: id, ..f.clone() }));
                }
                for a in content.mailbox_aces.iter().filter(|a| known(a.trustee)) {
                    plan.changes.push(Change::PutMailboxAce(MailboxAce { target: id, ..a.clone() }));
                }
                for a in &content.folder_aces {
                    let ok = match a.user {
                        deputy_types::FolderUser::Recipient(t) => known(t),
                        _ => true,
                    };
                    if ok {
                        plan.changes.push(Change::PutFolderAce(FolderAce { mailbox: id, ..a.clone() }));
                    }
                }
                Ok(plan)
            })
            .await?;
        Ok(applied)
    }

    /// The target side, just before the switch: adds the folders of
    /// `content` that the moved mailbox `id` lacks here (made in the source
    /// after the copy), so the final pass can fill them. Folders already
    /// here stay as they are, since the mailbox is in use here; a new folder
    /// whose name a sibling here already has is left out (its messages stay
    /// frozen in the source, and the final pass says so). Answers how many.
    pub async fn take_new_folders(&self, ctx: &Ctx, id: RecipientId, content: &MailboxContent) -> Result<usize> {
        let applied = self
            .mutate(ctx, |s| {
                let r = s.dir.get(id).ok_or_else(|| CoreError::Gone(id.to_string()))?;
                if !super::copy::takes_pages(r.attribute(MOVED_IN)) {
                    return Err(CoreError::NotApplicable(format!("{id} is not a mailbox being moved here.")));
                }
                let new: Vec<&Folder> = content.folders.iter().filter(|f| s.folder(f.id).is_none()).collect();
                let ours = |p: FolderId| s.folder(p).is_some_and(|f| f.mailbox == id) || new.iter().any(|n| n.id == p);
                let clash =
                    |f: &Folder| s.folders_of(id).any(|o| o.parent == f.parent && o.name.eq_ignore_ascii_case(&f.name));
                let mut plan = Plan::new(0, r.name.clone(), format!("Adding folders to moved mailbox \"{}\".", r.name));
                for f in new.iter().filter(|f| f.parent.is_some_and(ours) && !clash(f)) {
                    plan.changes.push(Change::PutFolder(Folder { mailbox: id, ..(*f).clone() }));
                }
                plan.value = plan.changes.len();
                Ok(plan)
            })
            .await?;
        Ok(applied.value)
    }

    /// The source side, the switch: once the other forest holds the
    /// mailbox, mailbox `spec.id` here becomes the mail user standing for it
    /// (`spec`), keeping its `GrantSendOnBehalfTo` and Send As entries (they
    /// belong to the address, spec §9) and dropping its folders and mailbox
    /// permissions, which moved. The folders' messages stay, frozen (listed
    /// in `HybridMoveFrozen`), until the final pass has carried what changed
    /// in them to the other forest; then [`Self::purge_moved`] removes them.
    ///
    /// This one commit is what freezes the mailbox: from it on no door
    /// resolves the folders (mail for the address is relayed to the other
    /// forest, and every door decides afresh at each call which folders it
    /// sees), so the final pass reads messages nothing changes any more.
    pub async fn release_mailbox(&self, ctx: &Ctx, spec: SyncedRecipient) -> Result<Applied<Recipient>> {
        let id = spec.id;
        self.mutate(ctx, |s| {
            let old = s.dir.get(id).ok_or_else(|| CoreError::Gone(id.to_string()))?;
            if !old.kind.has_mailbox() {
                return Ok(Plan::warn(old.clone(), old.name.clone(), "The mailbox has already moved.".into()));
            }
            if spec.kind != RecipientType::MailUser {
                return Err(CoreError::NotApplicable("A released mailbox becomes a mail user.".into()));
            }
            // Only a mailbox an administrator queued here (New-MoveRequest)
            // is released: the peer alone can't empty a local mailbox.
            let Some(status) = old.attribute(MOVE_REQUEST).filter(|v| v.starts_with("Queued")) else {
                return Err(CoreError::NotApplicable(format!(
                    "\"{}\" has no queued move request here; it is not released.",
                    old.name
                )));
            };
            let mut r = desired(&spec, Some(old));
            let status = status.replacen("Queued", "Completed", 1);
            r.set_attribute(MOVE_REQUEST, &status);
            r.set_attribute(MOVED_IN, "");
            r.set_attribute(super::copy::MOVE_PROGRESS, "");
            let frozen: Vec<String> = s.folders_of(id).map(|f| f.id.to_string()).collect();
            r.set_attribute(MOVE_FROZEN, &frozen.join(","));
            r.message_copy_for_sent_as = false;
            r.message_copy_for_send_on_behalf = false;
            check_unique(s, &r)?;
            let mut plan = Plan::new(r.clone(), r.name.clone(), format!("Moving mailbox \"{}\" out.", r.name));
            plan.before = Some(audit_json(old));
            plan.after = Some(audit_json(&r));
            let c = &mut plan.changes;
            for a in s.mailbox_aces(id) {
                c.push(Change::DeleteMailboxAce { target: id, trustee: a.trustee, deny: a.deny });
            }
            for f in s.folders_of(id) {
                c.extend(s.folder_aces(f.id).iter().map(|a| Change::DeleteFolderAce { folder: f.id, user: a.user }));
                c.push(Change::DeleteFolder(f.id));
            }
            c.push(Change::PutRecipient(r));
            Ok(plan)
        })
        .await
    }

    /// The folders of mailbox `id` released here whose messages wait for the final pass.
    pub fn frozen_folders(&self, id: RecipientId) -> Vec<FolderId> {
        self.read(|s| frozen(s.dir.get(id)))
    }

    /// Whether `folder` is a folder of mailbox `id` a move may read: one of
    /// its folders, or one frozen at the switch.
    pub(super) fn moving_folder(&self, id: RecipientId, folder: FolderId) -> bool {
        self.read(|s| s.folder(folder).is_some_and(|f| f.mailbox == id) || frozen(s.dir.get(id)).contains(&folder))
    }

    /// The source side, after the final pass: removes the messages of each
    /// frozen folder of `id` whose HIGHESTMODSEQ is still the one `carried`
    /// names (the final pass took everything through it to the other forest),
    /// and answers the folders left frozen. Every change in a folder raises
    /// its HIGHESTMODSEQ, so a change the pass could have missed (a request
    /// already under way at the switch) keeps the folder for the next run.
    pub async fn purge_moved(
        &self,
        ctx: &Ctx,
        id: RecipientId,
        carried: &BTreeMap<FolderId, u64>,
    ) -> Result<Vec<FolderId>> {
        let mut left = Vec::new();
        for folder in self.frozen_folders(id) {
            let highest = self.mail.folder_status(folder).await?.highest_modseq;
            if carried.get(&folder) != Some(&highest) {
                left.push(folder);
                continue;
            }
            // Only the UIDs read here go; one that arrived since stays, and
            // keeps the folder frozen for the next run. What could still slip
            // by is a flag change landing between the check above and the
            // expunge, on a message it removes: that needs a request that
            // resolved the folder before the switch and outlived the whole
            // final pass (many round trips), so it is not guarded further.
            let uids: Vec<Uid> = self.mail.entries(folder).await?.iter().map(|e| e.uid).collect();
            if !uids.is_empty() {
                self.mail.expunge(folder, &uids).await?;
            }
            if !self.mail.entries(folder).await?.is_empty() {
                left.push(folder);
            }
        }
        let value = left.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
        self.mutate(ctx, |s| {
            let old = s.dir.get(id).ok_or_else(|| CoreError::Gone(id.to_string()))?;
            if old.attribute(MOVE_FROZEN).unwrap_or_default() == value {
                return Ok(Plan::new((), old.name.clone(), ""));
            }
            let mut r = old.clone();
            r.set_attribute(MOVE_FROZEN, &value);
            let mut plan =
                Plan::new((), r.name.clone(), format!("Mailbox \"{}\" moved out: messages removed.", r.name));
            plan.before = Some(audit_json(old));
            plan.after = Some(audit_json(&r));
            plan.changes.push(Change::PutRecipient(r));
            Ok(plan)
        })
        .await?;
        Ok(left)
    }
}

fn frozen(r: Option<&Recipient>) -> Vec<FolderId> {
    let value = r.and_then(|r| r.attribute(MOVE_FROZEN)).unwrap_or_default();
    value.split(',').filter_map(|f| f.trim().parse::<uuid::Uuid>().ok().map(FolderId)).collect()
}
