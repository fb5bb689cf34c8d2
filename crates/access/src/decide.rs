//! The questions: may P do X on T (spec §8), with the path that led there.

use crate::closure::{Closure, Path};
use crate::index::{AccessIndex, FolderMeta, Ix, Who};
use crate::{Action, Decision, Delegation, Facts, FolderOp, Grant, Permission, Reason, SendMode};
use deputy_types::{FolderId, FolderRights, FolderRole, FolderUser, RecipientId, SharingFlags};
use rustc_hash::FxHashSet;

fn allow(reason: Reason, mode: Option<SendMode>) -> Decision {
    Decision { allowed: true, mode, reason }
}

fn deny(reason: Reason) -> Decision {
    Decision { allowed: false, mode: None, reason }
}

/// What a folder permission check found: rights, flags and their source.
type FolderAccess = (FolderRights, SharingFlags, Reason);

/// Whether `rights` allow `op` for `principal` (spec §5 table; own items are
/// those the principal created).
fn op_allowed(op: FolderOp, rights: FolderRights, principal: RecipientId) -> bool {
    let own = |creator: Option<RecipientId>| creator == Some(principal);
    match op {
        FolderOp::See => !rights.is_empty(),
        FolderOp::Read => rights.contains(FolderRights::READ_ITEMS),
        FolderOp::CreateItem => rights.contains(FolderRights::CREATE_ITEMS),
        FolderOp::EditItem { creator } => {
            rights.contains(FolderRights::EDIT_ALL) || (own(creator) && rights.contains(FolderRights::EDIT_OWNED))
        }
        FolderOp::DeleteItem { creator } => {
            rights.contains(FolderRights::DELETE_ALL) || (own(creator) && rights.contains(FolderRights::DELETE_OWNED))
        }
        FolderOp::CreateSubfolder => rights.contains(FolderRights::CREATE_SUBFOLDERS),
        FolderOp::ManagePermissions => rights.contains(FolderRights::FOLDER_OWNER),
        FolderOp::ReadFreeBusy => rights.intersects(FolderRights::READ_ITEMS | FolderRights::FREE_BUSY_SIMPLE),
    }
}

impl AccessIndex {
    /// The principal's index if it may act at all (spec §2: only kinds that
    /// sign in, with an enabled account).
    fn acting(&self, principal: RecipientId) -> Result<Ix, Reason> {
        let p = self.ix(principal).ok_or(Reason::UnknownPrincipal)?;
        let facts = self.facts(p).ok_or(Reason::UnknownPrincipal)?;
        if !facts.kind.can_sign_in() {
            return Err(Reason::PrincipalCannotAct(facts.kind));
        }
        if facts.account_disabled {
            return Err(Reason::PrincipalDisabled);
        }
        Ok(p)
    }

    /// The target's index and facts, if it is in the directory.
    fn known(&self, target: RecipientId) -> Option<(Ix, Facts)> {
        let t = self.ix(target)?;
        Some((t, self.facts(t)?))
    }

    fn grant(&self, c: &Closure, permission: Permission, path: Path) -> Grant {
        Grant { permission, trustee: self.id(path.node), chain: c.chain(path) }
    }

    /// Full Access on `t` (spec §3.1): deny beats allow; `None` when neither applies.
    fn full_access(&self, c: &Closure, t: Ix) -> Option<Result<Grant, Grant>> {
        let node = self.node(t);
        if let Some((path, _)) = c.first_in(&node.fa_deny, |&x| x) {
            return Some(Err(self.grant(c, Permission::FullAccess, path)));
        }
        c.first_in(&node.fa_allow, |&(x, _)| x).map(|(path, _)| Ok(self.grant(c, Permission::FullAccess, path)))
    }

    /// Send As on `t` (spec §3.2): deny beats allow.
    fn send_as(&self, c: &Closure, t: Ix) -> Option<Result<Grant, Grant>> {
        let node = self.node(t);
        if let Some((path, _)) = c.first_in(&node.sa_deny, |&x| x) {
            return Some(Err(self.grant(c, Permission::SendAs, path)));
        }
        c.first_in(&node.sa_allow, |&x| x).map(|(path, _)| Ok(self.grant(c, Permission::SendAs, path)))
    }

    /// Send on Behalf on `t` (spec §3.3): `GrantSendOnBehalfTo` has no deny.
    fn send_on_behalf(&self, c: &Closure, t: Ix) -> Option<Grant> {
        c.first_in(&self.node(t).sob, |&x| x).map(|(path, _)| self.grant(c, Permission::SendOnBehalf, path))
    }

    /// The one entry point: may `principal` do `action` on `target` (spec §8). Never panics.
    pub fn decide(&self, principal: RecipientId, action: Action, target: RecipientId) -> Decision {
        let p = match self.acting(principal) {
            Ok(p) => p,
            Err(reason) => return deny(reason),
        };
        if let Action::Folder { folder, op } = action {
            return match self.folder_access(p, folder, target) {
                Ok((rights, _, reason)) if op_allowed(op, rights, principal) => allow(reason, None),
                Ok((have, _, source)) => deny(Reason::InsufficientFolderRights { have, source: Box::new(source) }),
                Err(reason) => deny(reason),
            };
        }
        if principal == target {
            let mode = matches!(action, Action::Send).then_some(SendMode::Own);
            return allow(Reason::Owner, mode);
        }
        let Some((t, facts)) = self.known(target) else { return deny(Reason::UnknownTarget) };
        if matches!(action, Action::OpenMailbox) && !facts.kind.has_mailbox() {
            return deny(Reason::NotAMailbox(facts.kind));
        }
        if facts.hidden {
            return deny(Reason::Hidden);
        }
        let c = Closure::of(self, p);
        match action {
            Action::OpenMailbox => match self.full_access(&c, t) {
                Some(Ok(g)) => allow(Reason::Granted(g), None),
                Some(Err(g)) => deny(Reason::ExplicitDeny(g)),
                None => deny(Reason::NoGrant),
            },
            Action::SendAs => match self.send_as(&c, t) {
                Some(Ok(g)) => allow(Reason::Granted(g), None),
                Some(Err(g)) => deny(Reason::ExplicitDeny(g)),
                None => deny(Reason::NoGrant),
            },
            Action::SendOnBehalf => match self.send_on_behalf(&c, t) {
                Some(g) => allow(Reason::Granted(g), None),
                None => deny(Reason::NoGrant),
            },
            // Spec §4.1, §3.4: Send As always wins over Send on Behalf; a
            // Send As deny does not take away Send on Behalf.
            Action::Send => match (self.send_as(&c, t), self.send_on_behalf(&c, t)) {
                (Some(Ok(g)), _) => allow(Reason::Granted(g), Some(SendMode::SendAs)),
                (_, Some(g)) => allow(Reason::Granted(g), Some(SendMode::SendOnBehalf)),
                (Some(Err(g)), None) => deny(Reason::ExplicitDeny(g)),
                (None, None) => deny(Reason::NoGrant),
            },
            Action::Folder { .. } => deny(Reason::UnknownTarget),
        }
    }

    /// Effective rights of `principal` on `folder` and where they come from (IMAP MYRIGHTS, spec §5).
    ///
    /// When the principal may not act, or the folder is unknown or in a hidden
    /// mailbox, the rights are empty and the reason says why.
    pub fn folder_rights(&self, principal: RecipientId, folder: FolderId) -> (FolderRights, SharingFlags, Reason) {
        let none = |reason| (FolderRights::empty(), SharingFlags::empty(), reason);
        let p = match self.acting(principal) {
            Ok(p) => p,
            Err(reason) => return none(reason),
        };
        let Some(meta) = self.folders.get(&folder) else { return none(Reason::UnknownTarget) };
        self.folder_access(p, folder, self.id(meta.mailbox)).unwrap_or_else(none)
    }

    /// Rights of an acting principal on a folder that must belong to `target`.
    fn folder_access(&self, p: Ix, folder: FolderId, target: RecipientId) -> Result<FolderAccess, Reason> {
        let meta = self.folders.get(&folder).ok_or(Reason::UnknownTarget)?;
        if self.id(meta.mailbox) != target {
            return Err(Reason::UnknownTarget);
        }
        if meta.mailbox == p {
            return Ok((FolderRole::Owner.rights(), SharingFlags::empty(), Reason::Owner));
        }
        let (t, facts) = self.known(target).ok_or(Reason::UnknownTarget)?;
        if facts.hidden {
            return Err(Reason::Hidden);
        }
        let c = Closure::of(self, p);
        // Spec §5: Full Access on the mailbox implies Owner rights on every folder.
        if let Some(Ok(g)) = self.full_access(&c, t) {
            return Ok((FolderRole::Owner.rights(), SharingFlags::empty(), Reason::Granted(g)));
        }
        Ok(self.entry_rights(&c, folder, meta))
    }

    /// Rights from folder entries alone: the principal's own entry, else the
    /// union of its groups' entries, else `Default` (spec §5).
    fn entry_rights(&self, c: &Closure, folder: FolderId, meta: &FolderMeta) -> FolderAccess {
        let entries = self.folder_entries.get(&folder).map_or(&[][..], Vec::as_slice);
        let p = c.principal();
        if let Some(e) = entries.iter().find(|e| e.who == Who::Recipient(p)) {
            let reason =
                Reason::FolderEntry { user: FolderUser::Recipient(self.id(p)), chain: Vec::new(), rights: e.rights };
            return (e.rights, e.flags, reason);
        }
        let mut rights = FolderRights::empty();
        let mut flags = SharingFlags::empty();
        let mut nearest: Option<Path> = None;
        for e in entries {
            let Who::Recipient(u) = e.who else { continue };
            if let Some(path) = c.path(u) {
                rights |= e.rights;
                flags |= e.flags;
                if nearest.is_none_or(|n| path.dist < n.dist) {
                    nearest = Some(path);
                }
            }
        }
        if let Some(path) = nearest {
            let user = FolderUser::Recipient(self.id(path.node));
            return (rights, flags, Reason::FolderEntry { user, chain: c.chain(path), rights });
        }
        let (rights, flags) = match entries.iter().find(|e| e.who == Who::Default) {
            Some(e) => (e.rights, e.flags),
            None if meta.is_calendar => (FolderRole::AvailabilityOnly.rights(), SharingFlags::empty()),
            None => (FolderRights::empty(), SharingFlags::empty()),
        };
        (rights, flags, Reason::FolderEntry { user: FolderUser::Default, chain: Vec::new(), rights })
    }

    /// Everything `principal` can do on other recipients, one entry per (target, permission, folder),
    /// excluding targets where the same permission is explicitly denied or the target is hidden (Get-DelegatedMailbox, spec §8).
    ///
    /// Exactly the grants [`AccessIndex::decide`] would allow, so a principal
    /// that may not act gets an empty list. Sorted by target, then permission.
    pub fn delegations(&self, principal: RecipientId) -> Vec<Delegation> {
        let Ok(p) = self.acting(principal) else { return Vec::new() };
        let c = Closure::of(self, p);
        let mut seen: FxHashSet<(Ix, u8)> = FxHashSet::default();
        let mut seen_folders: FxHashSet<FolderId> = FxHashSet::default();
        let mut out = Vec::new();
        // A target that is unknown, hidden or the principal itself yields nothing.
        let usable = |t: Ix| t != p && self.facts(t).is_some_and(|f| !f.hidden);
        for holder in c.all() {
            let node = self.cold(holder.node);
            for &t in &node.held_fa {
                let opens = self.facts(t).is_some_and(|f| f.kind.has_mailbox());
                if usable(t)
                    && opens
                    && seen.insert((t, 0))
                    && let Some(Ok(grant)) = self.full_access(&c, t)
                {
                    // Spec §3.1: auto-mapping is for direct grants only.
                    let automapped = grant.chain.is_empty() && self.automapping(t, p);
                    out.push(Delegation { target: self.id(t), grant, automapped, folder: None });
                }
            }
            for &t in &node.held_sa {
                if usable(t)
                    && seen.insert((t, 1))
                    && let Some(Ok(grant)) = self.send_as(&c, t)
                {
                    out.push(Delegation { target: self.id(t), grant, automapped: false, folder: None });
                }
            }
            for &t in &node.held_sob {
                if usable(t)
                    && seen.insert((t, 2))
                    && let Some(grant) = self.send_on_behalf(&c, t)
                {
                    out.push(Delegation { target: self.id(t), grant, automapped: false, folder: None });
                }
            }
            for &f in &node.held_folders {
                let Some(meta) = self.folders.get(&f) else { continue };
                if !usable(meta.mailbox) || !seen_folders.insert(f) {
                    continue;
                }
                let (rights, flags, reason) = self.entry_rights(&c, f, meta);
                if let Reason::FolderEntry { user: FolderUser::Recipient(trustee), chain, .. } = reason
                    && !rights.is_empty()
                {
                    let grant = Grant { permission: Permission::Folder, trustee, chain };
                    let folder = Some((f, rights, flags));
                    out.push(Delegation { target: self.id(meta.mailbox), grant, automapped: false, folder });
                }
            }
        }
        out.sort_by_key(|d| (d.target, permission_rank(d.grant.permission), d.folder.map(|(f, _, _)| f)));
        out
    }

    /// Whether `trustee`'s direct Full Access allow entry on `target` has AutoMapping on.
    fn automapping(&self, target: Ix, trustee: Ix) -> bool {
        let allow = &self.node(target).fa_allow;
        allow.binary_search_by_key(&trustee, |&(x, _)| x).is_ok_and(|at| allow[at].1)
    }

    /// The groups `principal` belongs to, transitively, each with its chain (as in Grant::chain).
    /// Nearest first; only groups that confer permissions (not dynamic ones).
    pub fn member_of(&self, principal: RecipientId) -> Vec<(RecipientId, Vec<RecipientId>)> {
        let Some(p) = self.ix(principal) else { return Vec::new() };
        let c = Closure::of(self, p);
        c.all().iter().skip(1).map(|&path| (self.id(path.node), c.chain(path))).collect()
    }
}

/// The order delegations are listed in.
fn permission_rank(p: Permission) -> u8 {
    match p {
        Permission::FullAccess => 0,
        Permission::SendAs => 1,
        Permission::SendOnBehalf => 2,
        Permission::Folder => 3,
    }
}
