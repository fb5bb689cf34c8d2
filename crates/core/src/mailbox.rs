//! Mailbox access for the doors that read and change mail (IMAP now, Graph
//! later): which folders a principal sees, what it may do in each, and the
//! item operations with their checks. Every call asks the permission engine
//! afresh, so a grant removed in the shell applies to the very next command
//! (spec §2, Deputy decision); nothing here is cached per session.

use crate::{Deputy, State, now};
use chrono::{DateTime, Duration, Utc};
use deputy_access::{Action, FolderOp};
use deputy_store::{Delivery, FlagOp, FlagOutcome, FolderStatus, NewEntry, StoreError};
use deputy_types::{BlobId, FolderEntry, FolderId, FolderRights, MessageFlags, RecipientId, Uid, WellKnownFolder};
use std::collections::BTreeSet;

/// A folder a principal may see, with the rights it has there right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisibleFolder {
    /// The mailbox the folder belongs to.
    pub mailbox: RecipientId,
    /// The folder.
    pub folder: FolderId,
    /// The mailbox's alias (`mary`), for `Other Users/mary/…`.
    pub owner_alias: String,
    /// The path below the root, `/` between levels, as Exchange shows it
    /// (`Inbox`, `Sent Items`, `Inbox/Reports`).
    pub path: String,
    /// What it is, when it is one of the folders every mailbox has.
    pub well_known: Option<WellKnownFolder>,
    /// The principal's effective rights on it.
    pub rights: FolderRights,
}

impl VisibleFolder {
    /// Whether this folder is in the principal's own mailbox.
    pub fn is_own(&self, principal: RecipientId) -> bool {
        self.mailbox == principal
    }
}

/// Why a mailbox operation was refused; doors map it to their terms
/// (IMAP: `NO [NONEXISTENT]`, `NO [NOPERM]`).
#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    /// The folder does not exist, or the principal may not even see it (the
    /// two answer alike, so a refusal reveals nothing).
    #[error("The folder doesn't exist.")]
    NotFound,
    /// The folder is visible but the principal lacks the right.
    #[error("You don't have the right to {0} in this folder.")]
    Denied(&'static str),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How long an APPEND to Sent Items of an already-stored message is answered
/// with the stored copy (spec §4.2, Deputy decision).
const SENT_DEDUP_WINDOW_MINUTES: i64 = 10;

/// Folders that hold no mail; IMAP clients (as with Exchange) do not see them.
fn holds_mail(w: Option<WellKnownFolder>) -> bool {
    !matches!(
        w,
        Some(
            WellKnownFolder::Root
                | WellKnownFolder::Calendar
                | WellKnownFolder::Contacts
                | WellKnownFolder::Tasks
                | WellKnownFolder::Notes
        )
    )
}

/// The `/`-separated path of a folder below its root, `None` for the root and
/// for anything under a folder that holds no mail.
fn mail_path(s: &State, folder: FolderId) -> Option<String> {
    let mut parts = Vec::new();
    let mut cur = s.folder(folder);
    while let Some(f) = cur {
        f.parent?;
        if !holds_mail(f.well_known) {
            return None;
        }
        let name = match f.well_known {
            Some(w) => w.display_name().to_owned(),
            None => f.name.clone(),
        };
        parts.push(name);
        cur = f.parent.and_then(|p| s.folder(p)).filter(|p| p.parent.is_some());
    }
    parts.reverse();
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// What a refused op is called in the error text.
fn op_name(op: FolderOp) -> &'static str {
    match op {
        FolderOp::See => "see items",
        FolderOp::Read => "read items",
        FolderOp::CreateItem => "create items",
        FolderOp::EditItem { .. } => "change items",
        FolderOp::DeleteItem { .. } => "delete items",
        FolderOp::CreateSubfolder => "create subfolders",
        FolderOp::ManagePermissions => "change permissions",
        FolderOp::ReadFreeBusy => "read free/busy",
    }
}

/// `principal` may do `op` on `folder`, decided by the engine now.
fn check(s: &State, principal: RecipientId, folder: FolderId, op: FolderOp) -> Result<(), MailboxError> {
    let f = s.folder(folder).ok_or(MailboxError::NotFound)?;
    if s.access.decide(principal, Action::Folder { folder, op }, f.mailbox).allowed {
        return Ok(());
    }
    let (rights, _, _) = s.access.folder_rights(principal, folder);
    if rights.intersects(FolderRights::FOLDER_VISIBLE | FolderRights::READ_ITEMS) {
        Err(MailboxError::Denied(op_name(op)))
    } else {
        Err(MailboxError::NotFound)
    }
}

impl Deputy {
    /// Every mail folder `principal` sees: its own mailbox's with full rights;
    /// in a mailbox it may open (Full Access), every folder with Owner rights;
    /// elsewhere the folders where its rights include FolderVisible or Read.
    /// A hidden mailbox contributes nothing (the engine denies delegates).
    pub fn visible_folders(&self, principal: RecipientId) -> Vec<VisibleFolder> {
        self.read(|s| {
            // Candidates: the own mailbox, every mailbox the engine lists a
            // delegation on, and every mailbox with a folder entry (Default
            // and group entries reach principals the delegation list omits).
            let mut mailboxes = BTreeSet::from([principal]);
            mailboxes.extend(s.access.delegations(principal).into_iter().map(|d| d.target));
            mailboxes.extend(s.all_folder_aces().map(|a| a.mailbox));
            let mut out = Vec::new();
            for mailbox in mailboxes {
                let Some(owner) = s.dir.get(mailbox) else { continue };
                for f in s.folders_of(mailbox) {
                    let (rights, _, _) = s.access.folder_rights(principal, f.id);
                    if !rights.intersects(FolderRights::FOLDER_VISIBLE | FolderRights::READ_ITEMS) {
                        continue;
                    }
                    let Some(path) = mail_path(s, f.id) else { continue };
                    out.push(VisibleFolder {
                        mailbox,
                        folder: f.id,
                        owner_alias: owner.alias.clone(),
                        path,
                        well_known: f.well_known,
                        rights,
                    });
                }
            }
            out
        })
    }

    /// Whether `principal` may open `mailbox` as a whole (its own, or Full Access).
    pub fn may_open_mailbox(&self, principal: RecipientId, mailbox: RecipientId) -> bool {
        self.read(|s| s.access.decide(principal, Action::OpenMailbox, mailbox).allowed)
    }

    /// `principal`'s effective rights on `folder`, decided now (IMAP MYRIGHTS).
    pub fn folder_rights(&self, principal: RecipientId, folder: FolderId) -> FolderRights {
        self.read(|s| s.access.folder_rights(principal, folder).0)
    }

    /// Refuses unless `principal` may do `op` on `folder` now.
    pub fn require(&self, principal: RecipientId, folder: FolderId, op: FolderOp) -> Result<(), MailboxError> {
        self.read(|s| check(s, principal, folder, op))
    }

    /// The folder's IMAP state; needs Read.
    pub async fn folder_status(&self, principal: RecipientId, folder: FolderId) -> Result<FolderStatus, MailboxError> {
        self.require(principal, folder, FolderOp::Read)?;
        Ok(self.mail.folder_status(folder).await?)
    }

    /// The folder's entries in UID order; needs Read.
    pub async fn folder_entries(
        &self,
        principal: RecipientId,
        folder: FolderId,
    ) -> Result<Vec<FolderEntry>, MailboxError> {
        self.require(principal, folder, FolderOp::Read)?;
        Ok(self.mail.entries(folder).await?)
    }

    /// A body shown in `folder`; needs Read there.
    pub async fn item_body(
        &self,
        principal: RecipientId,
        folder: FolderId,
        blob: BlobId,
    ) -> Result<Option<Vec<u8>>, MailboxError> {
        self.require(principal, folder, FolderOp::Read)?;
        Ok(self.mail.body(blob).await?)
    }

    /// The entries `uids` names, each checked for `op(creator)` (own items:
    /// spec §5 EditOwn/DeleteOwn apply when the principal created the item).
    async fn checked_entries(
        &self,
        principal: RecipientId,
        folder: FolderId,
        uids: &[Uid],
        op: fn(Option<RecipientId>) -> FolderOp,
    ) -> Result<Vec<FolderEntry>, MailboxError> {
        self.require(principal, folder, FolderOp::See)?;
        let wanted: BTreeSet<Uid> = uids.iter().copied().collect();
        let entries: Vec<FolderEntry> =
            self.mail.entries(folder).await?.into_iter().filter(|e| wanted.contains(&e.uid)).collect();
        self.read(|s| entries.iter().try_for_each(|e| check(s, principal, folder, op(e.creator))))?;
        Ok(entries)
    }

    /// Changes flags. Changing only `\Seen` needs Read (IMAP `s`: the seen
    /// state goes with reading); any other flag needs EditAll, or EditOwn on
    /// the principal's own items (IMAP `w`, spec §5).
    pub async fn set_item_flags(
        &self,
        principal: RecipientId,
        folder: FolderId,
        uids: &[Uid],
        op: FlagOp,
    ) -> Result<FlagOutcome, MailboxError> {
        self.set_item_flags_unchanged_since(principal, folder, uids, op, None).await
    }

    /// Like [`Self::set_item_flags`], leaving alone entries whose mod-sequence
    /// is above `unchanged_since` (RFC 7162 `UNCHANGEDSINCE`; the store reports them).
    pub async fn set_item_flags_unchanged_since(
        &self,
        principal: RecipientId,
        folder: FolderId,
        uids: &[Uid],
        op: FlagOp,
        unchanged_since: Option<u64>,
    ) -> Result<FlagOutcome, MailboxError> {
        let entries = self.checked_entries(principal, folder, uids, |_| FolderOp::Read).await?;
        let beyond_seen = entries.iter().any(|e| !((op.apply(e.flags) ^ e.flags) - MessageFlags::SEEN).is_empty());
        if beyond_seen {
            self.read(|s| entries.iter().try_for_each(|e| check(s, principal, folder, edit_op(e.creator))))?;
        }
        let uids: Vec<Uid> = entries.iter().map(|e| e.uid).collect();
        Ok(self.mail.set_flags(folder, &uids, op, unchanged_since).await?)
    }

    /// Removes the entries `uids` names that carry `\Deleted`; each needs
    /// DeleteAll, or DeleteOwn on the principal's own items.
    pub async fn expunge_items(
        &self,
        principal: RecipientId,
        folder: FolderId,
        uids: &[Uid],
    ) -> Result<Vec<Uid>, MailboxError> {
        let deleted: Vec<Uid> = self
            .checked_entries(principal, folder, uids, |_| FolderOp::See)
            .await?
            .into_iter()
            .filter(|e| e.flags.contains(MessageFlags::DELETED))
            .map(|e| e.uid)
            .collect();
        self.checked_entries(principal, folder, &deleted, delete_op).await?;
        Ok(self.mail.expunge(folder, &deleted).await?)
    }

    /// Deletes entries outright (Graph `DELETE` in Deleted Items,
    /// `permanentDelete`): each needs DeleteAll, or DeleteOwn on the
    /// principal's own items; no flag right is needed, unlike IMAP's
    /// `\Deleted` + `EXPUNGE`. Returns the UIDs removed.
    pub async fn delete_items(
        &self,
        principal: RecipientId,
        folder: FolderId,
        uids: &[Uid],
    ) -> Result<Vec<Uid>, MailboxError> {
        let entries = self.checked_entries(principal, folder, uids, delete_op).await?;
        let uids: Vec<Uid> = entries.iter().map(|e| e.uid).collect();
        Ok(self.mail.expunge(folder, &uids).await?)
    }

    /// Replaces a message's content (Graph `PATCH` of a draft): needs EditAll,
    /// or EditOwn on the principal's own item. The new content keeps the
    /// entry's flags, creator and arrival time, and takes a new UID; the
    /// old entry goes. Returns the new UID.
    ///
    /// The store has no in-place body replacement, so this is two durable
    /// steps: a crash between them leaves both versions, never neither.
    pub async fn replace_item(
        &self,
        principal: RecipientId,
        folder: FolderId,
        uid: Uid,
        raw: Vec<u8>,
    ) -> Result<Uid, MailboxError> {
        let old = self.checked_entries(principal, folder, &[uid], edit_op).await?;
        let old = old.first().ok_or(MailboxError::NotFound)?;
        let delivery = Delivery {
            message_id: crate::mail::inspect(&raw).message_id,
            raw,
            received: old.internal_date,
            entries: vec![NewEntry { folder, flags: old.flags, creator: old.creator }],
            outbound: None,
        };
        let new_uid = self
            .mail
            .store(vec![delivery])
            .await?
            .into_iter()
            .flat_map(|s| s.uids)
            .find(|(f, _)| *f == folder)
            .map(|(_, uid)| uid)
            .ok_or_else(|| MailboxError::Store(StoreError::Backend("the store returned no UID".into())))?;
        self.mail.expunge(folder, &[uid]).await?;
        Ok(new_uid)
    }

    /// Copies entries: Read on the source, Create on the target; the copies
    /// are created by the principal.
    pub async fn copy_items(
        &self,
        principal: RecipientId,
        from: FolderId,
        uids: &[Uid],
        to: FolderId,
    ) -> Result<Vec<(Uid, Uid)>, MailboxError> {
        self.require(principal, from, FolderOp::Read)?;
        self.require(principal, to, FolderOp::CreateItem)?;
        Ok(self.mail.copy(from, uids, to, Some(principal)).await?)
    }

    /// Moves entries: as [`Deputy::copy_items`], plus the right to delete
    /// each one from the source.
    pub async fn move_items(
        &self,
        principal: RecipientId,
        from: FolderId,
        uids: &[Uid],
        to: FolderId,
    ) -> Result<Vec<(Uid, Uid)>, MailboxError> {
        self.require(principal, from, FolderOp::Read)?;
        self.require(principal, to, FolderOp::CreateItem)?;
        let entries = self.checked_entries(principal, from, uids, delete_op).await?;
        let uids: Vec<Uid> = entries.iter().map(|e| e.uid).collect();
        Ok(self.mail.move_entries(from, &uids, to).await?)
    }

    /// Stores a message in a folder (IMAP APPEND); needs Create, and the
    /// principal is recorded as its creator. Spec §4.2: a message whose
    /// Message-ID was stored in that Sent Items folder within the last ten
    /// minutes (the submission door's copy) is not stored again; its UID is
    /// returned instead.
    pub async fn append_item(
        &self,
        principal: RecipientId,
        folder: FolderId,
        raw: Vec<u8>,
        flags: MessageFlags,
        internal_date: Option<DateTime<Utc>>,
    ) -> Result<Uid, MailboxError> {
        self.require(principal, folder, FolderOp::CreateItem)?;
        let message_id = crate::mail::inspect(&raw).message_id;
        let sent = self.read(|s| s.folder(folder).and_then(|f| f.well_known)) == Some(WellKnownFolder::SentItems);
        if sent && let Some(id) = &message_id {
            let since = now() - Duration::minutes(SENT_DEDUP_WINDOW_MINUTES);
            if let Some(existing) = self.mail.find_by_message_id(folder, id, since).await? {
                return Ok(existing.uid);
            }
        }
        let delivery = Delivery {
            raw,
            received: internal_date.unwrap_or_else(now),
            message_id,
            entries: vec![NewEntry { folder, flags, creator: Some(principal) }],
            outbound: None,
        };
        let stored = self.mail.store(vec![delivery]).await?;
        stored
            .into_iter()
            .flat_map(|s| s.uids)
            .find(|(f, _)| *f == folder)
            .map(|(_, uid)| uid)
            .ok_or_else(|| MailboxError::Store(StoreError::Backend("the store returned no UID".into())))
    }
}

fn edit_op(creator: Option<RecipientId>) -> FolderOp {
    FolderOp::EditItem { creator }
}

fn delete_op(creator: Option<RecipientId>) -> FolderOp {
    FolderOp::DeleteItem { creator }
}

/// Why a folder change asked for by a principal (IMAP CREATE, DELETE,
/// RENAME) was refused: its rights, or the folder rules of the core.
#[derive(Debug, thiserror::Error)]
pub enum FolderChangeError {
    /// Missing, hidden, or not allowed.
    #[error(transparent)]
    Access(#[from] MailboxError),
    /// Refused by the folder rules (a name taken, a default folder, subfolders).
    #[error(transparent)]
    Refused(#[from] crate::CoreError),
}

impl Deputy {
    /// Creates `name` under `parent`; needs CreateSubfolder there (RFC 4314 `k`).
    pub async fn create_folder_as(
        &self,
        ctx: &crate::Ctx,
        principal: RecipientId,
        parent: FolderId,
        name: &str,
    ) -> Result<deputy_types::Folder, FolderChangeError> {
        self.create_folder_with_id_as(ctx, principal, parent, name, None).await
    }

    /// [`Deputy::create_folder_as`] with the new folder's id chosen by the
    /// door (see [`Deputy::new_folder_with_id`]).
    pub async fn create_folder_with_id_as(
        &self,
        ctx: &crate::Ctx,
        principal: RecipientId,
        parent: FolderId,
        name: &str,
        id: Option<FolderId>,
    ) -> Result<deputy_types::Folder, FolderChangeError> {
        self.require(principal, parent, FolderOp::CreateSubfolder)?;
        Ok(self.new_folder_with_id(ctx, parent, name, id).await?.value)
    }

    /// Removes a folder with its messages; needs FolderOwner on it (RFC 4314 `x`).
    pub async fn delete_folder_as(
        &self,
        ctx: &crate::Ctx,
        principal: RecipientId,
        folder: FolderId,
    ) -> Result<(), FolderChangeError> {
        self.require(principal, folder, FolderOp::ManagePermissions)?;
        self.remove_folder(ctx, folder).await?;
        Ok(())
    }

    /// Renames or moves a folder; needs FolderOwner on it (`x`) and
    /// CreateSubfolder on the new parent (`k`).
    pub async fn rename_folder_as(
        &self,
        ctx: &crate::Ctx,
        principal: RecipientId,
        folder: FolderId,
        parent: FolderId,
        name: &str,
    ) -> Result<(), FolderChangeError> {
        self.require(principal, folder, FolderOp::ManagePermissions)?;
        self.require(principal, parent, FolderOp::CreateSubfolder)?;
        self.rename_folder(ctx, folder, parent, name).await?;
        Ok(())
    }

    /// The root folder of `mailbox` (the parent of its top-level folders).
    pub fn root_folder(&self, mailbox: RecipientId) -> Option<FolderId> {
        self.read(|s| s.resolve_folder(mailbox, "").ok())
    }
}
