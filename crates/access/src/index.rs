//! The in-memory projection of the directory the engine evaluates, and the
//! change-by-change updates that keep it current (spec §2, §3, §5).
//!
//! Recipient ids are interned to dense `u32` indexes so that grants and
//! memberships are small sorted vectors beside the recipient they belong to.
//! Every list is kept sorted, so membership tests are binary searches.
//!
//! Each group that confers permissions keeps its upward closure (`up`): the
//! groups above it with their distances. A principal's groups are then its
//! direct groups' closures, a handful of lookups instead of a walk over the
//! graph. The closures are refreshed precisely when they can change: a
//! membership edge under a group, or a group gaining or losing the power to
//! confer; then the group and the groups below it are recomputed. Adding a
//! user to a group touches no closure.

use crate::Facts;
use deputy_types::{
    FolderAce, FolderId, FolderRights, FolderUser, MailboxAce, MailboxRights, RecipientId, SendAsAce, SharingFlags,
};
use rustc_hash::{FxHashMap, FxHashSet};

/// A dense index for a recipient id.
pub(crate) type Ix = u32;

/// What a decision reads about one recipient id, kept small so that the
/// hot data of 100,000 recipients stays in cache.
#[derive(Debug, Clone, Default)]
pub(crate) struct Node {
    /// Groups that list this recipient as a direct member, sorted.
    pub(crate) parents: Vec<Ix>,
    /// For a group that confers: itself and every conferring group above it,
    /// sorted by node. Empty for everything else.
    pub(crate) up: Vec<Up>,
    /// Allow entries with FullAccess on this mailbox: (trustee, automapping), sorted by trustee.
    pub(crate) fa_allow: Vec<(Ix, bool)>,
    /// Deny entries with FullAccess on this mailbox, sorted.
    pub(crate) fa_deny: Vec<Ix>,
    /// Send As allow trustees, sorted.
    pub(crate) sa_allow: Vec<Ix>,
    /// Send As deny trustees, sorted.
    pub(crate) sa_deny: Vec<Ix>,
    /// `GrantSendOnBehalfTo`, sorted.
    pub(crate) sob: Vec<Ix>,
}

/// What only updates and `delegations` read: the reverse links.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cold {
    /// Direct members of this recipient, sorted.
    pub(crate) children: Vec<Ix>,
    /// Targets on which this recipient holds a FullAccess allow entry, sorted.
    pub(crate) held_fa: Vec<Ix>,
    /// Targets on which this recipient holds a Send As allow entry, sorted.
    pub(crate) held_sa: Vec<Ix>,
    /// Targets whose `GrantSendOnBehalfTo` lists this recipient, sorted.
    pub(crate) held_sob: Vec<Ix>,
    /// Folders with an entry for this recipient, sorted.
    pub(crate) held_folders: Vec<FolderId>,
}

/// One group in a group's upward closure.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Up {
    /// The group above.
    pub(crate) node: Ix,
    /// Membership steps from the closure's owner (0 for itself).
    pub(crate) dist: u32,
    /// The member through which `node` was reached on a shortest path;
    /// `NONE` for the owner itself.
    pub(crate) pred: Ix,
}

/// No node.
pub(crate) const NONE: Ix = Ix::MAX;

/// Who a stored folder entry is for, with the recipient interned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    /// `Default`.
    Default,
    /// `Anonymous`.
    Anonymous,
    /// A user or group.
    Recipient(Ix),
}

/// One folder permission entry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FolderEntry {
    /// Who it is for.
    pub(crate) who: Who,
    /// Its rights.
    pub(crate) rights: FolderRights,
    /// Its calendar delegate flags.
    pub(crate) flags: SharingFlags,
}

/// A registered folder.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FolderMeta {
    /// The mailbox it belongs to.
    pub(crate) mailbox: Ix,
    /// Whether it is a calendar (its virtual Default is AvailabilityOnly).
    pub(crate) is_calendar: bool,
}

/// The permission engine's index of recipients, memberships and grants.
///
/// Build it with the `upsert_*`/`put_*`/`add_*` calls as changes are
/// committed; ask it with [`AccessIndex::decide`] and friends.
#[derive(Debug, Clone, Default)]
pub struct AccessIndex {
    /// Recipient id → dense index.
    ids: FxHashMap<RecipientId, Ix>,
    /// Dense index → recipient id.
    pub(crate) rev: Vec<RecipientId>,
    /// Dense index → facts; `None` until the recipient is upserted (or after
    /// it is removed): ids named only by grants or memberships have no facts.
    facts: Vec<Option<Facts>>,
    /// Dense index → what decisions read.
    nodes: Vec<Node>,
    /// Dense index → reverse links.
    cold: Vec<Cold>,
    /// Registered folders. Entries live apart so that folders and their
    /// entries may arrive in any order, as they do in a snapshot.
    pub(crate) folders: FxHashMap<FolderId, FolderMeta>,
    /// Folder permission entries by folder.
    pub(crate) folder_entries: FxHashMap<FolderId, Vec<FolderEntry>>,
}

/// Inserts `x` into the sorted `v`; false when it was already there.
fn insert_sorted<T: Ord + Copy>(v: &mut Vec<T>, x: T) -> bool {
    match v.binary_search(&x) {
        Ok(_) => false,
        Err(at) => {
            v.insert(at, x);
            true
        }
    }
}

/// Removes `x` from the sorted `v`; false when it was not there.
fn remove_sorted<T: Ord + Copy>(v: &mut Vec<T>, x: T) -> bool {
    match v.binary_search(&x) {
        Ok(at) => {
            v.remove(at);
            true
        }
        Err(_) => false,
    }
}

impl AccessIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// The dense index of `id`, if it was ever named.
    pub(crate) fn ix(&self, id: RecipientId) -> Option<Ix> {
        self.ids.get(&id).copied()
    }

    /// The node of a dense index; every `Ix` handed out has one.
    pub(crate) fn node(&self, ix: Ix) -> &Node {
        &self.nodes[ix as usize]
    }

    /// The facts of a dense index, if the recipient is in the directory.
    pub(crate) fn facts(&self, ix: Ix) -> Option<Facts> {
        self.facts[ix as usize]
    }

    /// The reverse links of a dense index.
    pub(crate) fn cold(&self, ix: Ix) -> &Cold {
        &self.cold[ix as usize]
    }

    fn cold_mut(&mut self, ix: Ix) -> &mut Cold {
        &mut self.cold[ix as usize]
    }

    /// The recipient id of a dense index.
    pub(crate) fn id(&self, ix: Ix) -> RecipientId {
        self.rev[ix as usize]
    }

    /// The dense index of `id`, creating an empty node the first time.
    fn intern(&mut self, id: RecipientId) -> Ix {
        if let Some(&ix) = self.ids.get(&id) {
            return ix;
        }
        // 4 billion distinct ids would exhaust memory long before u32.
        let ix = self.rev.len() as Ix;
        self.ids.insert(id, ix);
        self.rev.push(id);
        self.nodes.push(Node::default());
        self.cold.push(Cold::default());
        self.facts.push(None);
        ix
    }

    fn node_mut(&mut self, ix: Ix) -> &mut Node {
        &mut self.nodes[ix as usize]
    }

    /// Inserts or replaces a recipient's facts and its GrantSendOnBehalfTo list (spec §3.3).
    pub fn upsert_recipient(&mut self, id: RecipientId, facts: Facts, send_on_behalf: &[RecipientId]) {
        let ix = self.intern(id);
        let mut new: Vec<Ix> = send_on_behalf.iter().map(|&t| self.intern(t)).collect();
        new.sort_unstable();
        new.dedup();
        self.set_sob(ix, new);
        let before = self.confers(ix);
        self.facts[ix as usize] = Some(facts);
        if self.confers(ix) != before {
            self.refresh_from(ix);
        }
    }

    /// Forgets a recipient's facts and SOB list. Grants naming it are removed by separate calls.
    pub fn remove_recipient(&mut self, id: RecipientId) {
        let Some(ix) = self.ix(id) else { return };
        self.set_sob(ix, Vec::new());
        let before = self.confers(ix);
        self.facts[ix as usize] = None;
        if before {
            self.refresh_from(ix);
        }
    }

    /// Whether `ix` is a group whose members receive its grants: in the
    /// directory, with a stored member list (not a dynamic group, spec §6).
    pub(crate) fn confers(&self, ix: Ix) -> bool {
        self.facts(ix).is_some_and(|f| f.kind.has_static_members())
    }

    /// Recomputes the closures that can contain `x`: its own and those of the
    /// conferring groups below it.
    fn refresh_from(&mut self, x: Ix) {
        let mut affected = vec![x];
        let mut seen: FxHashSet<Ix> = FxHashSet::default();
        seen.insert(x);
        let mut at = 0;
        while let Some(&n) = affected.get(at) {
            for &c in &self.cold(n).children {
                if self.confers(c) && seen.insert(c) {
                    affected.push(c);
                }
            }
            at += 1;
        }
        for n in affected {
            let up = if self.confers(n) { self.compute_up(n) } else { Vec::new() };
            self.node_mut(n).up = up;
        }
    }

    /// Breadth-first walk up from the group `g` through conferring groups;
    /// cycles are tolerated.
    fn compute_up(&self, g: Ix) -> Vec<Up> {
        let mut items = vec![Up { node: g, dist: 0, pred: NONE }];
        let mut seen: FxHashSet<Ix> = FxHashSet::default();
        seen.insert(g);
        let mut at = 0;
        while let Some(&Up { node, dist, .. }) = items.get(at) {
            for &p in &self.node(node).parents {
                if self.confers(p) && seen.insert(p) {
                    items.push(Up { node: p, dist: dist + 1, pred: node });
                }
            }
            at += 1;
        }
        items.sort_unstable_by_key(|u| u.node);
        items
    }

    /// Replaces the SOB list of `target`, keeping the trustees' reverse lists in step.
    fn set_sob(&mut self, target: Ix, new: Vec<Ix>) {
        let old = std::mem::take(&mut self.node_mut(target).sob);
        for &t in old.iter().filter(|t| new.binary_search(t).is_err()) {
            remove_sorted(&mut self.cold_mut(t).held_sob, target);
        }
        for &t in new.iter().filter(|t| old.binary_search(t).is_err()) {
            insert_sorted(&mut self.cold_mut(t).held_sob, target);
        }
        self.node_mut(target).sob = new;
    }

    /// Makes `member` a direct member of `group` (spec §6).
    pub fn add_member(&mut self, group: RecipientId, member: RecipientId) {
        let g = self.intern(group);
        let m = self.intern(member);
        if insert_sorted(&mut self.node_mut(m).parents, g) {
            insert_sorted(&mut self.cold_mut(g).children, m);
            self.refresh_from(m);
        }
    }

    /// Removes a direct membership.
    pub fn remove_member(&mut self, group: RecipientId, member: RecipientId) {
        if let (Some(g), Some(m)) = (self.ix(group), self.ix(member))
            && remove_sorted(&mut self.node_mut(m).parents, g)
        {
            remove_sorted(&mut self.cold_mut(g).children, m);
            self.refresh_from(m);
        }
    }

    /// Inserts or replaces the mailbox permission entry keyed by (target, trustee, deny).
    /// Only FullAccess matters to decisions; the other rights are merely stored
    /// by the directory (spec §3.1).
    pub fn put_mailbox_ace(&mut self, ace: &MailboxAce) {
        let t = self.intern(ace.target);
        let u = self.intern(ace.trustee);
        if !ace.rights.contains(MailboxRights::FULL_ACCESS) {
            self.remove_fa(t, u, ace.deny);
            return;
        }
        if ace.deny {
            insert_sorted(&mut self.node_mut(t).fa_deny, u);
        } else {
            let allow = &mut self.node_mut(t).fa_allow;
            match allow.binary_search_by_key(&u, |&(x, _)| x) {
                Ok(at) => allow[at].1 = ace.automapping,
                Err(at) => allow.insert(at, (u, ace.automapping)),
            }
            insert_sorted(&mut self.cold_mut(u).held_fa, t);
        }
    }

    /// Removes the mailbox permission entry keyed by (target, trustee, deny).
    pub fn remove_mailbox_ace(&mut self, target: RecipientId, trustee: RecipientId, deny: bool) {
        if let (Some(t), Some(u)) = (self.ix(target), self.ix(trustee)) {
            self.remove_fa(t, u, deny);
        }
    }

    fn remove_fa(&mut self, t: Ix, u: Ix, deny: bool) {
        if deny {
            remove_sorted(&mut self.node_mut(t).fa_deny, u);
        } else {
            let allow = &mut self.node_mut(t).fa_allow;
            if let Ok(at) = allow.binary_search_by_key(&u, |&(x, _)| x) {
                allow.remove(at);
            }
            remove_sorted(&mut self.cold_mut(u).held_fa, t);
        }
    }

    /// Adds a Send As entry (a set: adding it twice keeps one; spec §3.2).
    pub fn put_send_as(&mut self, ace: &SendAsAce) {
        let t = self.intern(ace.target);
        let u = self.intern(ace.trustee);
        if ace.deny {
            insert_sorted(&mut self.node_mut(t).sa_deny, u);
        } else {
            insert_sorted(&mut self.node_mut(t).sa_allow, u);
            insert_sorted(&mut self.cold_mut(u).held_sa, t);
        }
    }

    /// Removes a Send As entry.
    pub fn remove_send_as(&mut self, ace: &SendAsAce) {
        let (Some(t), Some(u)) = (self.ix(ace.target), self.ix(ace.trustee)) else { return };
        if ace.deny {
            remove_sorted(&mut self.node_mut(t).sa_deny, u);
        } else {
            remove_sorted(&mut self.node_mut(t).sa_allow, u);
            remove_sorted(&mut self.cold_mut(u).held_sa, t);
        }
    }

    /// Registers a folder of `mailbox`; calendars get Default = AvailabilityOnly when they have no Default entry.
    pub fn put_folder(&mut self, folder: FolderId, mailbox: RecipientId, is_calendar: bool) {
        let mailbox = self.intern(mailbox);
        self.folders.insert(folder, FolderMeta { mailbox, is_calendar });
    }

    /// Forgets a folder. Its entries are removed by separate calls, as in the
    /// store; until then they are kept but unreachable.
    pub fn remove_folder(&mut self, folder: FolderId) {
        self.folders.remove(&folder);
    }

    /// Inserts or replaces the folder permission entry keyed by (folder, user) (spec §5).
    pub fn put_folder_ace(&mut self, ace: &FolderAce) {
        let who = match ace.user {
            FolderUser::Default => Who::Default,
            FolderUser::Anonymous => Who::Anonymous,
            FolderUser::Recipient(id) => {
                let u = self.intern(id);
                insert_sorted(&mut self.cold_mut(u).held_folders, ace.folder);
                Who::Recipient(u)
            }
        };
        let entry = FolderEntry { who, rights: ace.rights, flags: ace.flags };
        let entries = self.folder_entries.entry(ace.folder).or_default();
        match entries.iter_mut().find(|e| e.who == who) {
            Some(e) => *e = entry,
            None => entries.push(entry),
        }
    }

    /// Removes the folder permission entry keyed by (folder, user).
    pub fn remove_folder_ace(&mut self, folder: FolderId, user: FolderUser) {
        let who = match user {
            FolderUser::Default => Who::Default,
            FolderUser::Anonymous => Who::Anonymous,
            FolderUser::Recipient(id) => {
                let Some(u) = self.ix(id) else { return };
                remove_sorted(&mut self.cold_mut(u).held_folders, folder);
                Who::Recipient(u)
            }
        };
        if let Some(entries) = self.folder_entries.get_mut(&folder) {
            entries.retain(|e| e.who != who);
            if entries.is_empty() {
                self.folder_entries.remove(&folder);
            }
        }
    }
}
