//! The IMAP door: the protocol engine (`deputy-imap`) asks, the core decides.
//! This adapter translates mailbox names to folders (the personal namespace
//! and `Other Users/<alias>/…`, spec §7.2), core refusals to `NO [NOPERM]` /
//! `NO [NONEXISTENT]`, and folder rights to RFC 4314 letters (spec §5). Names
//! are resolved against the folders the core says are visible *now*, so a
//! permission removed in the shell applies to the next command.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::DateTime;
use deputy_access::FolderOp;
use deputy_core::{CoreError, Ctx, Deputy, FolderChangeError, FolderPermissionEdit, MailboxError, VisibleFolder};
use deputy_imap::{
    AppendUid, Backend, Code, CopyUids, FetchItems, ListRights, MailboxInfo, MessageData, Namespace, Namespaces, No,
    Selected, StoreMode, StoreOutcome,
};
use deputy_store::FlagOp;
use deputy_types::{FolderId, FolderRights, FolderUser, MessageFlags, RecipientId, WellKnownFolder};

/// The prefix of other users' mailboxes (RFC 2342 "Other Users" namespace).
const OTHER_USERS: &str = "Other Users";

/// The IMAP listener's backend.
///
/// SUBSCRIBE/UNSUBSCRIBE choices live in the store
/// (`MailStore::subscriptions`), per principal and folder, so they survive a
/// restart and every node sharing the store sees them. A folder without a
/// choice counts as subscribed, so auto-mapped mailboxes appear without
/// subscribing.
pub struct ImapDoor {
    deputy: Arc<Deputy>,
}

impl ImapDoor {
    pub fn new(deputy: Arc<Deputy>) -> Self {
        Self { deputy }
    }
}

/// A signed-in session: who acts, and whose mailbox is the personal namespace
/// (its own, or with Exchange's `rob@contoso.test\mary` form, Mary's).
pub struct ImapUser {
    principal: RecipientId,
    personal: RecipientId,
    /// The caller's sign-in name, for the audit log of SETACL/DELETEACL.
    login: String,
}

/// A resolved mailbox name.
struct Resolved {
    folder: FolderId,
    rights: FolderRights,
}

fn map_err(e: MailboxError) -> No {
    match e {
        MailboxError::NotFound => No::new(Code::NonExistent, "No such mailbox"),
        MailboxError::Denied(what) => No::new(Code::NoPerm, format!("You don't have the right to {what}")),
        MailboxError::Store(e) => {
            tracing::error!(error = %e, "imap store operation failed");
            No::new(Code::ServerBug, "The store failed; try again")
        }
    }
}

fn map_change(e: FolderChangeError) -> No {
    match e {
        FolderChangeError::Access(e) => map_err(e),
        FolderChangeError::Refused(e) => {
            let code = match &e {
                CoreError::Taken { .. } => Code::AlreadyExists,
                CoreError::FolderNotFound(_) | CoreError::Gone(_) => Code::NonExistent,
                CoreError::FolderHasSubfolders(_) => Code::HasChildren,
                CoreError::Store(error) => {
                    tracing::error!(%error, "imap folder change failed in the store");
                    Code::ServerBug
                }
                _ => Code::Cannot,
            };
            No::new(code, e.to_string())
        }
    }
}

fn missing() -> No {
    No::new(Code::NonExistent, "No such mailbox")
}

/// The mailbox's name as this session sees it.
fn imap_name(user: &ImapUser, f: &VisibleFolder) -> String {
    // RFC 3501 §5.1: INBOX is spelled INBOX whatever the store calls it.
    let path = match f.path.strip_prefix("Inbox") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => format!("INBOX{rest}"),
        _ => f.path.clone(),
    };
    if f.mailbox == user.personal { path } else { format!("{OTHER_USERS}/{}/{path}", f.owner_alias) }
}

/// INBOX is case-insensitive (RFC 3501 §5.1) in every namespace's top level.
fn canonical(name: &str) -> String {
    let parts: Vec<&str> = name.split('/').collect();
    let inbox_at = if parts.first() == Some(&OTHER_USERS) { 2 } else { 0 };
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| if i == inbox_at && p.eq_ignore_ascii_case("INBOX") { "INBOX" } else { p })
        .collect::<Vec<_>>()
        .join("/")
}

/// RFC 6154 special-use attributes.
fn special_use(w: Option<WellKnownFolder>) -> Option<&'static str> {
    match w? {
        WellKnownFolder::SentItems => Some("\\Sent"),
        WellKnownFolder::Drafts => Some("\\Drafts"),
        WellKnownFolder::DeletedItems => Some("\\Trash"),
        WellKnownFolder::JunkEmail => Some("\\Junk"),
        WellKnownFolder::Archive => Some("\\Archive"),
        _ => None,
    }
}

/// RFC 3501 §6.3.8: `*` matches anything, `%` anything but the delimiter.
fn matches(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|i| matches(rest, &name[i..])),
        Some((b'%', rest)) => {
            (0..=name.len()).take_while(|&i| i == 0 || name[i - 1] != b'/').any(|i| matches(rest, &name[i..]))
        }
        Some((c, rest)) => name.split_first().is_some_and(|(n, tail)| n == c && matches(rest, tail)),
    }
}

/// Spec §5's mapping of folder rights to RFC 4314 letters.
fn acl_letters(r: FolderRights) -> String {
    let mut s = String::new();
    let mut add = |cond: bool, letters: &str| {
        if cond {
            s.push_str(letters);
        }
    };
    add(r.contains(FolderRights::FOLDER_VISIBLE), "l");
    add(r.contains(FolderRights::READ_ITEMS), "rs");
    add(r.contains(FolderRights::EDIT_ALL), "w");
    add(r.contains(FolderRights::CREATE_ITEMS), "ip");
    add(r.contains(FolderRights::CREATE_SUBFOLDERS), "k");
    add(r.contains(FolderRights::FOLDER_OWNER), "x");
    // Own-item deletion is still a delete right; the core checks the item's creator.
    add(r.intersects(FolderRights::DELETE_ALL | FolderRights::DELETE_OWNED), "te");
    add(r.contains(FolderRights::FOLDER_OWNER), "a");
    s
}

/// The inverse of [`acl_letters`]; "all" rights include the "own" ones.
fn acl_rights(letters: &str) -> Result<FolderRights, No> {
    let mut r = FolderRights::empty();
    for c in letters.chars() {
        r |= match c {
            'l' => FolderRights::FOLDER_VISIBLE,
            'r' | 's' => FolderRights::READ_ITEMS,
            'w' => FolderRights::EDIT_ALL | FolderRights::EDIT_OWNED,
            'i' | 'p' => FolderRights::CREATE_ITEMS,
            'k' | 'c' => FolderRights::CREATE_SUBFOLDERS,
            'x' | 'a' => FolderRights::FOLDER_OWNER,
            't' | 'e' | 'd' => FolderRights::DELETE_ALL | FolderRights::DELETE_OWNED,
            _ => return Err(No::new(Code::Cannot, format!("Unsupported right {c:?}"))),
        };
    }
    Ok(r)
}

fn flag_names(f: MessageFlags) -> Vec<String> {
    [
        (MessageFlags::SEEN, "\\Seen"),
        (MessageFlags::ANSWERED, "\\Answered"),
        (MessageFlags::FLAGGED, "\\Flagged"),
        (MessageFlags::DELETED, "\\Deleted"),
        (MessageFlags::DRAFT, "\\Draft"),
    ]
    .into_iter()
    .filter(|(bit, _)| f.contains(*bit))
    .map(|(_, name)| name.to_owned())
    .collect()
}

/// System flags only; keywords are not stored (PERMANENTFLAGS lacks `\*`).
fn parse_flags(names: &[String]) -> MessageFlags {
    names.iter().fold(MessageFlags::empty(), |acc, n| {
        acc | match n.to_ascii_lowercase().as_str() {
            "\\seen" => MessageFlags::SEEN,
            "\\answered" => MessageFlags::ANSWERED,
            "\\flagged" => MessageFlags::FLAGGED,
            "\\deleted" => MessageFlags::DELETED,
            "\\draft" => MessageFlags::DRAFT,
            _ => MessageFlags::empty(),
        }
    })
}

impl ImapDoor {
    /// The visible folder called `name` for this session, with its rights now.
    fn resolve(&self, user: &ImapUser, name: &str) -> Result<Resolved, No> {
        let want = canonical(name);
        self.deputy
            .visible_folders(user.principal)
            .into_iter()
            .find(|f| imap_name(user, f) == want)
            .map(|f| Resolved { folder: f.folder, rights: f.rights })
            .ok_or_else(missing)
    }

    /// A COPY/MOVE/APPEND target: a missing one is `[TRYCREATE]` (RFC 3501 §6.3.11).
    fn target(&self, user: &ImapUser, name: &str) -> Result<Resolved, No> {
        self.resolve(user, name).map_err(|_| No::new(Code::TryCreate, "No such mailbox"))
    }

    async fn uidvalidity(&self, folder: FolderId) -> Result<u32, No> {
        let status = self.deputy.mail_store().folder_status(folder).await;
        status.map(|s| s.uidvalidity).map_err(|e| map_err(e.into()))
    }

    /// SETACL/GETACL/DELETEACL/LISTRIGHTS need FolderOwner (RFC 4314 `a`).
    fn owned(&self, user: &ImapUser, mailbox: &str) -> Result<FolderId, No> {
        let r = self.resolve(user, mailbox)?;
        self.deputy.require(user.principal, r.folder, FolderOp::ManagePermissions).map_err(map_err)?;
        Ok(r.folder)
    }

    fn folder_user(&self, identifier: &str) -> Result<FolderUser, No> {
        if identifier.eq_ignore_ascii_case("Default") || identifier.eq_ignore_ascii_case("anyone") {
            return Ok(FolderUser::Default);
        }
        if identifier.eq_ignore_ascii_case("Anonymous") {
            return Ok(FolderUser::Anonymous);
        }
        self.deputy
            .read(|s| s.dir.resolve(identifier).map(|r| FolderUser::Recipient(r.id)))
            .map_err(|e| No::new(Code::Cannot, e.to_string()))
    }

    /// The root folder of the mailbox a name's namespace points at, and how
    /// many leading levels of the name that namespace takes (0 or 2).
    fn namespace_root(&self, user: &ImapUser, parts: &[&str]) -> Result<(FolderId, usize), No> {
        if parts.first() != Some(&OTHER_USERS) {
            return self.deputy.root_folder(user.personal).map(|root| (root, 0)).ok_or_else(missing);
        }
        let Some(alias) = parts.get(1).filter(|_| parts.len() > 2) else {
            return Err(No::new(Code::Cannot, "Other users' mailboxes can't be created or renamed"));
        };
        let mailbox = self
            .deputy
            .visible_folders(user.principal)
            .into_iter()
            .find(|f| f.mailbox != user.personal && f.owner_alias.eq_ignore_ascii_case(alias))
            .map(|f| f.mailbox)
            .ok_or_else(missing)?;
        self.deputy.root_folder(mailbox).map(|root| (root, 2)).ok_or_else(missing)
    }

    /// The parent folder `name` would be under and its last level.
    fn parent_of(&self, user: &ImapUser, name: &str) -> Result<(FolderId, String), No> {
        let name = canonical(name);
        let parts: Vec<&str> = name.split('/').collect();
        let (root, skip) = self.namespace_root(user, &parts)?;
        let (leaf, above) = parts.split_last().ok_or_else(missing)?;
        let parent = if above.len() <= skip { root } else { self.resolve(user, &above.join("/"))?.folder };
        Ok((parent, (*leaf).to_owned()))
    }

    fn ctx(&self, user: &ImapUser, command: &str) -> Ctx {
        Ctx::new(&user.login, command, &format!("IMAP {command}"))
    }
}

#[async_trait]
impl Backend for ImapDoor {
    type User = ImapUser;

    async fn refresh(&self) -> Result<(), No> {
        self.deputy
            .catch_up()
            .await
            .map_err(|_| No::new(Code::Unavailable, "The directory cannot be reached; try again later"))
    }

    async fn authenticate(&self, user: &str, password: &str) -> Option<ImapUser> {
        // Exchange's `delegate\mailbox` form: the delegate's password opens the
        // mailbox it has Full Access to; anything else fails like a bad password.
        let (login, mailbox) = match user.rsplit_once('\\') {
            Some((login, mailbox)) => (login, Some(mailbox)),
            None => (user, None),
        };
        let principal = self.deputy.authenticate(login, password).await?;
        let personal = match mailbox {
            None => principal,
            Some(m) => {
                let target =
                    self.deputy.read(|s| s.dir.resolve_where(m, &|r| r.kind.has_mailbox()).ok().map(|r| r.id))?;
                self.deputy.may_open_mailbox(principal, target).then_some(target)?
            }
        };
        Some(ImapUser { principal, personal, login: login.to_owned() })
    }

    async fn namespace(&self, _user: &ImapUser) -> Namespaces {
        Namespaces {
            personal: vec![Namespace { prefix: String::new(), delimiter: '/' }],
            other_users: vec![Namespace { prefix: format!("{OTHER_USERS}/"), delimiter: '/' }],
            shared: vec![],
        }
    }

    async fn list(&self, user: &ImapUser, reference: &str, pattern: &str) -> Vec<MailboxInfo> {
        let folders = self.deputy.visible_folders(user.principal);
        let mut entries: Vec<(String, Vec<String>)> = Vec::new();
        let mut owners: Vec<String> = Vec::new();
        for f in &folders {
            let attributes = special_use(f.well_known).map(str::to_owned).into_iter().collect();
            entries.push((imap_name(user, f), attributes));
            if f.mailbox != user.personal && !owners.contains(&f.owner_alias) {
                owners.push(f.owner_alias.clone());
            }
        }
        // The namespace's levels exist so clients can browse down to the folders.
        if !owners.is_empty() {
            entries.push((OTHER_USERS.to_owned(), vec!["\\Noselect".into()]));
        }
        entries.extend(owners.into_iter().map(|o| (format!("{OTHER_USERS}/{o}"), vec!["\\Noselect".into()])));
        let full = canonical(&format!("{reference}{pattern}"));
        entries.sort();
        entries
            .into_iter()
            .filter(|(name, _)| matches(full.as_bytes(), name.as_bytes()))
            .map(|(name, attributes)| MailboxInfo { name, delimiter: '/', attributes })
            .collect()
    }

    async fn select(&self, user: &ImapUser, mailbox: &str, read_only: bool) -> Result<Selected, No> {
        let r = self.resolve(user, mailbox)?;
        let status = self.deputy.folder_status(user.principal, r.folder).await.map_err(map_err)?;
        let entries = self.deputy.folder_entries(user.principal, r.folder).await.map_err(map_err)?;
        // Read carries `s` (storing \Seen), so anyone who may select may write
        // something unless they asked for EXAMINE.
        let writable = FolderRights::READ_ITEMS
            | FolderRights::EDIT_ALL
            | FolderRights::EDIT_OWNED
            | FolderRights::DELETE_ALL
            | FolderRights::DELETE_OWNED;
        let system = flag_names(MessageFlags::all());
        Ok(Selected {
            uidvalidity: status.uidvalidity,
            uidnext: status.uidnext,
            uids: entries.iter().map(|e| e.uid).collect(),
            unseen: u32::try_from(entries.iter().filter(|e| !e.flags.contains(MessageFlags::SEEN)).count())
                .unwrap_or(u32::MAX),
            first_unseen: entries.iter().find(|e| !e.flags.contains(MessageFlags::SEEN)).map(|e| e.uid),
            flags: system.clone(),
            permanent_flags: system,
            highest_modseq: Some(status.highest_modseq),
            read_only: read_only || !r.rights.intersects(writable),
        })
    }

    async fn fetch(
        &self,
        user: &ImapUser,
        mailbox: &str,
        uids: &[u32],
        items: FetchItems,
    ) -> Result<Vec<MessageData>, No> {
        let r = self.resolve(user, mailbox)?;
        let mut entries = self.deputy.folder_entries(user.principal, r.folder).await.map_err(map_err)?;
        entries.retain(|e| uids.contains(&e.uid));
        if items.set_seen {
            let unseen: Vec<u32> =
                entries.iter().filter(|e| !e.flags.contains(MessageFlags::SEEN)).map(|e| e.uid).collect();
            if !unseen.is_empty() {
                let out =
                    self.deputy.set_item_flags(user.principal, r.folder, &unseen, FlagOp::Add(MessageFlags::SEEN));
                for (uid, flags, modseq) in out.await.map_err(map_err)?.changed {
                    if let Some(e) = entries.iter_mut().find(|e| e.uid == uid) {
                        e.flags = flags;
                        e.modseq = modseq;
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let raw = if items.raw {
                self.deputy.item_body(user.principal, r.folder, e.blob).await.map_err(map_err)?
            } else {
                None
            };
            out.push(MessageData {
                uid: e.uid,
                flags: flag_names(e.flags),
                internal_date: e.internal_date.timestamp(),
                size: u64::from(e.size),
                raw,
                modseq: Some(e.modseq),
            });
        }
        Ok(out)
    }

    async fn store_flags(
        &self,
        user: &ImapUser,
        mailbox: &str,
        uids: &[u32],
        mode: StoreMode,
        flags: &[String],
        unchanged_since: Option<u64>,
    ) -> Result<StoreOutcome, No> {
        let r = self.resolve(user, mailbox)?;
        let f = parse_flags(flags);
        let op = match mode {
            StoreMode::Replace => FlagOp::Replace(f),
            StoreMode::Add => FlagOp::Add(f),
            StoreMode::Remove => FlagOp::Remove(f),
        };
        let outcome = self
            .deputy
            .set_item_flags_unchanged_since(user.principal, r.folder, uids, op, unchanged_since)
            .await
            .map_err(map_err)?;
        Ok(StoreOutcome {
            changed: outcome.changed.into_iter().map(|(uid, flags, m)| (uid, flag_names(flags), Some(m))).collect(),
            modified: outcome.failed_modified,
        })
    }

    async fn expunge(&self, user: &ImapUser, mailbox: &str, uids: Option<&[u32]>) -> Result<Vec<u32>, No> {
        let r = self.resolve(user, mailbox)?;
        let all: Vec<u32>;
        let uids = match uids {
            Some(u) => u,
            None => {
                all = self
                    .deputy
                    .folder_entries(user.principal, r.folder)
                    .await
                    .map_err(map_err)?
                    .iter()
                    .map(|e| e.uid)
                    .collect();
                &all
            }
        };
        self.deputy.expunge_items(user.principal, r.folder, uids).await.map_err(map_err)
    }

    async fn copy(&self, user: &ImapUser, mailbox: &str, uids: &[u32], target: &str) -> Result<CopyUids, No> {
        let (from, to) = (self.resolve(user, mailbox)?, self.target(user, target)?);
        let pairs = self.deputy.copy_items(user.principal, from.folder, uids, to.folder).await.map_err(map_err)?;
        let uidvalidity = self.uidvalidity(to.folder).await?;
        Ok(CopyUids {
            uidvalidity,
            source: pairs.iter().map(|p| p.0).collect(),
            target: pairs.iter().map(|p| p.1).collect(),
        })
    }

    async fn move_messages(&self, user: &ImapUser, mailbox: &str, uids: &[u32], target: &str) -> Result<CopyUids, No> {
        let (from, to) = (self.resolve(user, mailbox)?, self.target(user, target)?);
        let pairs = self.deputy.move_items(user.principal, from.folder, uids, to.folder).await.map_err(map_err)?;
        let uidvalidity = self.uidvalidity(to.folder).await?;
        Ok(CopyUids {
            uidvalidity,
            source: pairs.iter().map(|p| p.0).collect(),
            target: pairs.iter().map(|p| p.1).collect(),
        })
    }

    async fn append(
        &self,
        user: &ImapUser,
        mailbox: &str,
        flags: &[String],
        internal_date: Option<i64>,
        message: Vec<u8>,
    ) -> Result<AppendUid, No> {
        let to = self.target(user, mailbox)?;
        let date = internal_date.and_then(|t| DateTime::from_timestamp(t, 0));
        let uid = self
            .deputy
            .append_item(user.principal, to.folder, message, parse_flags(flags), date)
            .await
            .map_err(map_err)?;
        Ok(AppendUid { uidvalidity: self.uidvalidity(to.folder).await?, uid })
    }

    async fn myrights(&self, user: &ImapUser, mailbox: &str) -> Result<String, No> {
        let r = self.resolve(user, mailbox)?;
        Ok(acl_letters(self.deputy.folder_rights(user.principal, r.folder)))
    }

    async fn getacl(&self, user: &ImapUser, mailbox: &str) -> Result<Vec<(String, String)>, No> {
        let folder = self.owned(user, mailbox)?;
        Ok(self.deputy.read(|s| {
            s.folder_permission_rows(folder)
                .into_iter()
                .map(|row| {
                    let id = match row.user {
                        FolderUser::Recipient(id) => s.dir.get(id).map_or_else(|| id.to_string(), |r| r.alias.clone()),
                        other => s.folder_user_name(other),
                    };
                    (id, acl_letters(row.rights))
                })
                .collect()
        }))
    }

    async fn setacl(&self, user: &ImapUser, mailbox: &str, identifier: &str, rights: &str) -> Result<(), No> {
        let folder = self.owned(user, mailbox)?;
        let who = self.folder_user(identifier)?;
        let existing = self.deputy.read(|s| s.folder_entry(folder, who)).map(|row| row.rights);
        let new = match (rights.strip_prefix('+'), rights.strip_prefix('-')) {
            (Some(add), _) => existing.unwrap_or(FolderRights::empty()) | acl_rights(add)?,
            (_, Some(remove)) => existing.unwrap_or(FolderRights::empty()) - acl_rights(remove)?,
            _ => acl_rights(rights)?,
        };
        let edit = FolderPermissionEdit { rights: new, flags: None, send_notification: false };
        let ctx = self.ctx(user, "SETACL");
        let done = match existing {
            Some(_) => self.deputy.set_folder_permission(&ctx, folder, who, edit).await.map(|_| ()),
            None => self.deputy.add_folder_permission(&ctx, folder, who, edit).await.map(|_| ()),
        };
        done.map_err(|e| No::new(Code::Cannot, e.to_string()))
    }

    async fn deleteacl(&self, user: &ImapUser, mailbox: &str, identifier: &str) -> Result<(), No> {
        let folder = self.owned(user, mailbox)?;
        let who = self.folder_user(identifier)?;
        let ctx = self.ctx(user, "DELETEACL");
        self.deputy
            .remove_folder_permission(&ctx, folder, who)
            .await
            .map(|_| ())
            .map_err(|e| No::new(Code::Cannot, e.to_string()))
    }

    async fn create(&self, user: &ImapUser, mailbox: &str) -> Result<(), No> {
        if self.resolve(user, mailbox).is_ok() {
            return Err(No::new(Code::AlreadyExists, "Mailbox exists already"));
        }
        let name = canonical(mailbox);
        let parts: Vec<&str> = name.split('/').collect();
        let (mut current, skip) = self.namespace_root(user, &parts)?;
        // Missing levels above the new mailbox are created too (RFC 3501 §6.3.3).
        for i in skip..parts.len() {
            current = match self.resolve(user, &parts[..=i].join("/")) {
                Ok(existing) => existing.folder,
                Err(_) => {
                    let ctx = self.ctx(user, "CREATE");
                    let created = self.deputy.create_folder_as(&ctx, user.principal, current, parts[i]).await;
                    created.map_err(map_change)?.id
                }
            };
        }
        Ok(())
    }

    async fn delete(&self, user: &ImapUser, mailbox: &str) -> Result<(), No> {
        let r = self.resolve(user, mailbox)?;
        let ctx = self.ctx(user, "DELETE");
        // The core removes the folder's messages and subscriptions with it.
        self.deputy.delete_folder_as(&ctx, user.principal, r.folder).await.map_err(map_change)?;
        Ok(())
    }

    async fn rename(&self, user: &ImapUser, from: &str, to: &str) -> Result<(), No> {
        let r = self.resolve(user, from)?;
        if self.resolve(user, to).is_ok() {
            return Err(No::new(Code::AlreadyExists, "The new name is taken"));
        }
        let (parent, leaf) = self.parent_of(user, to)?;
        let ctx = self.ctx(user, "RENAME");
        self.deputy.rename_folder_as(&ctx, user.principal, r.folder, parent, &leaf).await.map_err(map_change)
    }

    async fn subscribe(&self, user: &ImapUser, mailbox: &str, subscribed: bool) -> Result<(), No> {
        // RFC 3501 §6.3.6: SUBSCRIBE needs an existing mailbox; UNSUBSCRIBE does
        // not. Choices are kept per folder, so unsubscribing a name no folder
        // has records nothing: no LSUB would show it anyway.
        let folder = match self.resolve(user, mailbox) {
            Ok(r) => r.folder,
            Err(_) if !subscribed => return Ok(()),
            Err(no) => return Err(no),
        };
        let store = self.deputy.mail_store();
        store.set_subscription(user.principal, folder, subscribed).await.map_err(|e| map_err(e.into()))
    }

    async fn lsub(&self, user: &ImapUser, reference: &str, pattern: &str) -> Vec<MailboxInfo> {
        let choices = match self.deputy.mail_store().subscriptions(user.principal).await {
            Ok(choices) => choices,
            Err(error) => {
                // LSUB has no NO here; listing everything would show unsubscribed
                // mailboxes as subscribed, so the answer is empty and logged.
                tracing::error!(%error, "imap subscriptions could not be read");
                return Vec::new();
            }
        };
        let unsubscribed: Vec<FolderId> = choices.into_iter().filter(|(_, on)| !on).map(|(f, _)| f).collect();
        let mut listed = self.list(user, reference, pattern).await;
        if unsubscribed.is_empty() {
            return listed;
        }
        // Names as this session spells them; namespace levels are no folder.
        let folders: HashMap<String, FolderId> =
            self.deputy.visible_folders(user.principal).iter().map(|f| (imap_name(user, f), f.folder)).collect();
        listed.retain(|m| folders.get(&m.name).is_none_or(|f| !unsubscribed.contains(f)));
        listed
    }

    async fn listrights(&self, user: &ImapUser, mailbox: &str, _identifier: &str) -> Result<ListRights, No> {
        self.owned(user, mailbox)?;
        let optional = ["l", "rs", "w", "ip", "k", "te", "xa"].into_iter().map(str::to_owned).collect();
        Ok(ListRights { required: String::new(), optional })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_follow_rfc_3501() {
        assert!(matches(b"*", b"Other Users/mary/INBOX"));
        assert!(matches(b"%", b"INBOX"));
        assert!(!matches(b"%", b"Other Users/mary"));
        assert!(matches(b"Other Users/%/INBOX", b"Other Users/mary/INBOX"));
    }

    #[test]
    fn reviewer_is_lrs_and_letters_round_trip() {
        use deputy_types::FolderRole;
        assert_eq!(acl_letters(FolderRole::Reviewer.rights()), "lrs");
        assert_eq!(acl_letters(FolderRole::Owner.rights()), "lrswipkxtea");
        for role in [FolderRole::Reviewer, FolderRole::Editor] {
            assert_eq!(acl_rights(&acl_letters(role.rights())), Ok(role.rights()));
        }
        assert_eq!(canonical("Other Users/mary/inbox"), "Other Users/mary/INBOX");
        assert_eq!(canonical("inbox/Reports"), "INBOX/Reports");
    }
}
