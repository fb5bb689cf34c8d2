//! Differential test: `AccessIndex` against a small, obviously correct model
//! (flat lists, naive recursive closure) on random directories, random changes
//! (removals included) and random questions (spec §2–§5, §8).

use deputy_access::{AccessIndex, Action, Decision, Facts, FolderOp, Permission, Reason, SendMode};
use deputy_types::{
    FolderAce, FolderId, FolderRights, FolderRole, FolderUser, InheritanceType, MailboxAce, MailboxRights, RecipientId,
    RecipientType as K, SendAsAce, SharingFlags,
};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const IDS: u8 = 8;
const FOLDERS: u8 = 4;

const KINDS: [K; 10] = [
    K::UserMailbox,
    K::UserMailbox,
    K::SharedMailbox,
    K::MailUser,
    K::User,
    K::MailUniversalSecurityGroup,
    K::MailUniversalDistributionGroup,
    K::DynamicDistributionGroup,
    K::SecurityGroup,
    K::RoomMailbox,
];

fn rid(i: u8) -> RecipientId {
    RecipientId::from_u128(u128::from(i) + 1)
}

fn fid(i: u8) -> FolderId {
    FolderId::from_u128(u128::from(i) + 100)
}

fn mailbox_rights(i: u8) -> MailboxRights {
    [
        MailboxRights::FULL_ACCESS,
        MailboxRights::READ_PERMISSION,
        MailboxRights::FULL_ACCESS | MailboxRights::DELETE_ITEM,
    ][usize::from(i % 3)]
}

fn folder_rights(i: u8) -> FolderRights {
    FolderRole::ALL.get(usize::from(i)).map_or(FolderRights::empty(), |r| r.rights())
}

fn folder_user(i: u8) -> FolderUser {
    match i {
        0 => FolderUser::Default,
        1 => FolderUser::Anonymous,
        n => FolderUser::Recipient(rid(n % IDS)),
    }
}

/// One change, by small numbers so that shrinking stays readable.
#[derive(Debug, Clone)]
enum Op {
    Upsert { id: u8, kind: u8, hidden: bool, disabled: bool, sob: Vec<u8> },
    Remove(u8),
    AddMember(u8, u8),
    RemoveMember(u8, u8),
    PutMailboxAce { target: u8, trustee: u8, rights: u8, deny: bool, automap: bool },
    RemoveMailboxAce { target: u8, trustee: u8, deny: bool },
    PutSendAs { target: u8, trustee: u8, deny: bool },
    RemoveSendAs { target: u8, trustee: u8, deny: bool },
    PutFolder { folder: u8, mailbox: u8, calendar: bool },
    RemoveFolder(u8),
    PutFolderAce { folder: u8, user: u8, rights: u8 },
    RemoveFolderAce { folder: u8, user: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    let id = || 0..IDS;
    let folder = || 0..FOLDERS;
    prop_oneof![
        4 => (id(), 0..KINDS.len() as u8, prop::bool::weighted(0.15), prop::bool::weighted(0.1), prop::collection::vec(id(), 0..3))
            .prop_map(|(id, kind, hidden, disabled, sob)| Op::Upsert { id, kind, hidden, disabled, sob }),
        1 => id().prop_map(Op::Remove),
        4 => (id(), id()).prop_map(|(g, m)| Op::AddMember(g, m)),
        1 => (id(), id()).prop_map(|(g, m)| Op::RemoveMember(g, m)),
        4 => (id(), id(), 0..3u8, prop::bool::weighted(0.25), any::<bool>())
            .prop_map(|(target, trustee, rights, deny, automap)| Op::PutMailboxAce { target, trustee, rights, deny, automap }),
        1 => (id(), id(), any::<bool>()).prop_map(|(target, trustee, deny)| Op::RemoveMailboxAce { target, trustee, deny }),
        3 => (id(), id(), prop::bool::weighted(0.25)).prop_map(|(target, trustee, deny)| Op::PutSendAs { target, trustee, deny }),
        1 => (id(), id(), any::<bool>()).prop_map(|(target, trustee, deny)| Op::RemoveSendAs { target, trustee, deny }),
        2 => (folder(), id(), any::<bool>()).prop_map(|(folder, mailbox, calendar)| Op::PutFolder { folder, mailbox, calendar }),
        1 => folder().prop_map(Op::RemoveFolder),
        3 => (folder(), 0..IDS + 2, 0..12u8).prop_map(|(folder, user, rights)| Op::PutFolderAce { folder, user, rights }),
        1 => (folder(), 0..IDS + 2).prop_map(|(folder, user)| Op::RemoveFolderAce { folder, user }),
    ]
}

fn question() -> impl Strategy<Value = (u8, Action, u8)> {
    let creator = prop::option::of((0..IDS).prop_map(rid));
    let fop = prop_oneof![
        Just(FolderOp::See),
        Just(FolderOp::Read),
        Just(FolderOp::CreateItem),
        creator.clone().prop_map(|creator| FolderOp::EditItem { creator }),
        creator.prop_map(|creator| FolderOp::DeleteItem { creator }),
        Just(FolderOp::CreateSubfolder),
        Just(FolderOp::ManagePermissions),
        Just(FolderOp::ReadFreeBusy),
    ];
    let action = prop_oneof![
        Just(Action::OpenMailbox),
        Just(Action::SendAs),
        Just(Action::SendOnBehalf),
        Just(Action::Send),
        (0..FOLDERS, fop).prop_map(|(f, op)| Action::Folder { folder: fid(f), op }),
    ];
    (0..IDS, action, 0..IDS)
}

/// The model: the store's flat lists, evaluated the slow, plain way.
#[derive(Default)]
struct Model {
    recipients: BTreeMap<RecipientId, (Facts, Vec<RecipientId>)>,
    members: BTreeSet<(RecipientId, RecipientId)>,
    mailbox_aces: Vec<MailboxAce>,
    send_as: BTreeSet<(RecipientId, RecipientId, bool)>,
    folders: BTreeMap<FolderId, (RecipientId, bool)>,
    folder_aces: Vec<FolderAce>,
}

/// What the model concludes: allowed, mode, reason kind, chain length, folder rights.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    allowed: bool,
    mode: Option<SendMode>,
    kind: String,
    chain: Option<usize>,
    rights: Option<FolderRights>,
}

fn kind_of(r: &Reason) -> String {
    format!("{r:?}").split(['(', ' ']).next().unwrap_or_default().to_owned()
}

fn outcome(d: &Decision) -> Outcome {
    let (chain, rights) = match &d.reason {
        Reason::Granted(g) | Reason::ExplicitDeny(g) => (Some(g.chain.len()), None),
        Reason::FolderEntry { chain, rights, .. } => (Some(chain.len()), Some(*rights)),
        Reason::InsufficientFolderRights { have, source } => (source_chain(source), Some(*have)),
        _ => (None, None),
    };
    Outcome { allowed: d.allowed, mode: d.mode, kind: kind_of(&d.reason), chain, rights }
}

fn source_chain(r: &Reason) -> Option<usize> {
    match r {
        Reason::Granted(g) | Reason::ExplicitDeny(g) => Some(g.chain.len()),
        Reason::FolderEntry { chain, .. } => Some(chain.len()),
        _ => None,
    }
}

fn out(allowed: bool, kind: &str, chain: Option<usize>) -> Outcome {
    Outcome { allowed, mode: None, kind: kind.to_owned(), chain, rights: None }
}

impl Model {
    fn apply(&mut self, op: &Op, index: &mut AccessIndex) {
        match op.clone() {
            Op::Upsert { id, kind, hidden, disabled, sob } => {
                let facts = Facts { kind: KINDS[usize::from(kind)], hidden, account_disabled: disabled };
                let sob: Vec<RecipientId> = sob.into_iter().map(rid).collect();
                index.upsert_recipient(rid(id), facts, &sob);
                self.recipients.insert(rid(id), (facts, sob));
            }
            Op::Remove(id) => {
                index.remove_recipient(rid(id));
                self.recipients.remove(&rid(id));
            }
            Op::AddMember(g, m) => {
                index.add_member(rid(g), rid(m));
                self.members.insert((rid(g), rid(m)));
            }
            Op::RemoveMember(g, m) => {
                index.remove_member(rid(g), rid(m));
                self.members.remove(&(rid(g), rid(m)));
            }
            Op::PutMailboxAce { target, trustee, rights, deny, automap } => {
                let ace = MailboxAce {
                    target: rid(target),
                    trustee: rid(trustee),
                    rights: mailbox_rights(rights),
                    deny,
                    inheritance: InheritanceType::All,
                    automapping: automap,
                };
                index.put_mailbox_ace(&ace);
                self.mailbox_aces.retain(|a| (a.target, a.trustee, a.deny) != (ace.target, ace.trustee, deny));
                self.mailbox_aces.push(ace);
            }
            Op::RemoveMailboxAce { target, trustee, deny } => {
                index.remove_mailbox_ace(rid(target), rid(trustee), deny);
                self.mailbox_aces.retain(|a| (a.target, a.trustee, a.deny) != (rid(target), rid(trustee), deny));
            }
            Op::PutSendAs { target, trustee, deny } => {
                index.put_send_as(&SendAsAce { target: rid(target), trustee: rid(trustee), deny });
                self.send_as.insert((rid(target), rid(trustee), deny));
            }
            Op::RemoveSendAs { target, trustee, deny } => {
                index.remove_send_as(&SendAsAce { target: rid(target), trustee: rid(trustee), deny });
                self.send_as.remove(&(rid(target), rid(trustee), deny));
            }
            Op::PutFolder { folder, mailbox, calendar } => {
                index.put_folder(fid(folder), rid(mailbox), calendar);
                self.folders.insert(fid(folder), (rid(mailbox), calendar));
            }
            Op::RemoveFolder(folder) => {
                index.remove_folder(fid(folder));
                self.folders.remove(&fid(folder));
            }
            Op::PutFolderAce { folder, user, rights } => {
                let user = folder_user(user);
                let ace = FolderAce {
                    mailbox: rid(0),
                    folder: fid(folder),
                    user,
                    rights: folder_rights(rights),
                    flags: SharingFlags::empty(),
                };
                index.put_folder_ace(&ace);
                self.folder_aces.retain(|a| (a.folder, a.user) != (fid(folder), user));
                self.folder_aces.push(ace);
            }
            Op::RemoveFolderAce { folder, user } => {
                let user = folder_user(user);
                index.remove_folder_ace(fid(folder), user);
                self.folder_aces.retain(|a| (a.folder, a.user) != (fid(folder), user));
            }
        }
    }

    fn facts(&self, id: RecipientId) -> Option<Facts> {
        self.recipients.get(&id).map(|(f, _)| *f)
    }

    fn confers(&self, group: RecipientId) -> bool {
        self.facts(group).is_some_and(|f| f.kind.has_static_members())
    }

    /// Naive recursive closure with a visited set.
    fn collect_groups(&self, x: RecipientId, visited: &mut BTreeSet<RecipientId>) {
        for &(g, m) in &self.members {
            if m == x && self.confers(g) && visited.insert(g) {
                self.collect_groups(g, visited);
            }
        }
    }

    /// The principal and its groups, each with its shortest distance
    /// (relaxed until nothing changes).
    fn holders(&self, p: RecipientId) -> BTreeMap<RecipientId, usize> {
        let mut groups = BTreeSet::new();
        self.collect_groups(p, &mut groups);
        let mut dist = BTreeMap::from([(p, 0usize)]);
        loop {
            let mut changed = false;
            for &(g, m) in &self.members {
                if !groups.contains(&g) {
                    continue;
                }
                if let Some(&d) = dist.get(&m)
                    && dist.get(&g).is_none_or(|&old| d + 1 < old)
                {
                    dist.insert(g, d + 1);
                    changed = true;
                }
            }
            if !changed {
                return dist;
            }
        }
    }

    /// Shortest distance among `trustees` that are holders.
    fn nearest(holders: &BTreeMap<RecipientId, usize>, trustees: impl Iterator<Item = RecipientId>) -> Option<usize> {
        trustees.filter_map(|t| holders.get(&t).copied()).min()
    }

    fn full_access(&self, h: &BTreeMap<RecipientId, usize>, t: RecipientId) -> Option<Result<usize, usize>> {
        let fa = |deny: bool| {
            self.mailbox_aces
                .iter()
                .filter(move |a| a.target == t && a.deny == deny && a.rights.contains(MailboxRights::FULL_ACCESS))
                .map(|a| a.trustee)
        };
        if let Some(d) = Self::nearest(h, fa(true)) {
            return Some(Err(d));
        }
        Self::nearest(h, fa(false)).map(Ok)
    }

    fn send_as(&self, h: &BTreeMap<RecipientId, usize>, t: RecipientId) -> Option<Result<usize, usize>> {
        let sa = |deny: bool| self.send_as.iter().filter(move |a| a.0 == t && a.2 == deny).map(|a| a.1);
        if let Some(d) = Self::nearest(h, sa(true)) {
            return Some(Err(d));
        }
        Self::nearest(h, sa(false)).map(Ok)
    }

    fn sob(&self, h: &BTreeMap<RecipientId, usize>, t: RecipientId) -> Option<usize> {
        let list = self.recipients.get(&t).map(|(_, s)| s.clone()).unwrap_or_default();
        Self::nearest(h, list.into_iter())
    }

    /// Rights from folder entries: own, else union of groups, else Default.
    fn entry_rights(
        &self,
        p: RecipientId,
        h: &BTreeMap<RecipientId, usize>,
        f: FolderId,
    ) -> (FolderRights, usize, bool) {
        let entries: Vec<&FolderAce> = self.folder_aces.iter().filter(|a| a.folder == f).collect();
        if let Some(own) = entries.iter().find(|a| a.user == FolderUser::Recipient(p)) {
            return (own.rights, 0, true);
        }
        let mut rights = FolderRights::empty();
        let mut best: Option<usize> = None;
        for a in &entries {
            if let FolderUser::Recipient(u) = a.user
                && let Some(&d) = h.get(&u)
            {
                rights |= a.rights;
                best = Some(best.map_or(d, |b| b.min(d)));
            }
        }
        if let Some(d) = best {
            return (rights, d, true);
        }
        let calendar = self.folders.get(&f).is_some_and(|&(_, c)| c);
        let default = entries.iter().find(|a| a.user == FolderUser::Default).map(|a| a.rights);
        let rights =
            default.unwrap_or(if calendar { FolderRole::AvailabilityOnly.rights() } else { FolderRights::empty() });
        (rights, 0, false)
    }

    fn decide(&self, p: RecipientId, action: Action, t: RecipientId) -> Outcome {
        let Some(pf) = self.facts(p) else { return out(false, "UnknownPrincipal", None) };
        if !matches!(pf.kind, K::UserMailbox | K::LinkedMailbox | K::MailUser | K::User) {
            return out(false, "PrincipalCannotAct", None);
        }
        if pf.account_disabled {
            return out(false, "PrincipalDisabled", None);
        }
        if let Action::Folder { folder, op } = action {
            let Some(&(mailbox, _)) = self.folders.get(&folder) else { return out(false, "UnknownTarget", None) };
            if mailbox != t {
                return out(false, "UnknownTarget", None);
            }
            let (rights, kind, chain) = if t == p {
                (FolderRole::Owner.rights(), "Owner", None)
            } else {
                let Some(tf) = self.facts(t) else { return out(false, "UnknownTarget", None) };
                if tf.hidden {
                    return out(false, "Hidden", None);
                }
                let h = self.holders(p);
                match self.full_access(&h, t) {
                    Some(Ok(d)) => (FolderRole::Owner.rights(), "Granted", Some(d)),
                    _ => {
                        let (rights, d, _) = self.entry_rights(p, &h, folder);
                        (rights, "FolderEntry", Some(d))
                    }
                }
            };
            let ok = match op {
                FolderOp::See => !rights.is_empty(),
                FolderOp::Read => rights.contains(FolderRights::READ_ITEMS),
                FolderOp::CreateItem => rights.contains(FolderRights::CREATE_ITEMS),
                FolderOp::EditItem { creator } => {
                    rights.contains(FolderRights::EDIT_ALL)
                        || (creator == Some(p) && rights.contains(FolderRights::EDIT_OWNED))
                }
                FolderOp::DeleteItem { creator } => {
                    rights.contains(FolderRights::DELETE_ALL)
                        || (creator == Some(p) && rights.contains(FolderRights::DELETE_OWNED))
                }
                FolderOp::CreateSubfolder => rights.contains(FolderRights::CREATE_SUBFOLDERS),
                FolderOp::ManagePermissions => rights.contains(FolderRights::FOLDER_OWNER),
                FolderOp::ReadFreeBusy => {
                    rights.contains(FolderRights::READ_ITEMS) || rights.contains(FolderRights::FREE_BUSY_SIMPLE)
                }
            };
            let rights = if kind == "FolderEntry" || !ok { Some(rights) } else { None };
            let kind = if ok { kind } else { "InsufficientFolderRights" };
            return Outcome { allowed: ok, mode: None, kind: kind.to_owned(), chain, rights };
        }
        if p == t {
            let mode = matches!(action, Action::Send).then_some(SendMode::Own);
            return Outcome { mode, ..out(true, "Owner", None) };
        }
        let Some(tf) = self.facts(t) else { return out(false, "UnknownTarget", None) };
        if matches!(action, Action::OpenMailbox) && !tf.kind.has_mailbox() {
            return out(false, "NotAMailbox", None);
        }
        if tf.hidden {
            return out(false, "Hidden", None);
        }
        let h = self.holders(p);
        let either = |r: Option<Result<usize, usize>>| match r {
            Some(Ok(d)) => out(true, "Granted", Some(d)),
            Some(Err(d)) => out(false, "ExplicitDeny", Some(d)),
            None => out(false, "NoGrant", None),
        };
        match action {
            Action::OpenMailbox => either(self.full_access(&h, t)),
            Action::SendAs => either(self.send_as(&h, t)),
            Action::SendOnBehalf => {
                self.sob(&h, t).map_or(out(false, "NoGrant", None), |d| out(true, "Granted", Some(d)))
            }
            Action::Send => match (self.send_as(&h, t), self.sob(&h, t)) {
                (Some(Ok(d)), _) => Outcome { mode: Some(SendMode::SendAs), ..out(true, "Granted", Some(d)) },
                (_, Some(d)) => Outcome { mode: Some(SendMode::SendOnBehalf), ..out(true, "Granted", Some(d)) },
                (Some(Err(d)), None) => out(false, "ExplicitDeny", Some(d)),
                (None, None) => out(false, "NoGrant", None),
            },
            Action::Folder { .. } => out(false, "UnknownTarget", None),
        }
    }

    /// Get-DelegatedMailbox: (target, permission rank, folder, chain length).
    fn delegations(&self, p: RecipientId) -> BTreeSet<(RecipientId, u8, Option<FolderId>, usize)> {
        let mut set = BTreeSet::new();
        if self.decide(p, Action::Send, p).kind != "Owner" {
            return set;
        }
        let h = self.holders(p);
        for (&t, (tf, _)) in &self.recipients {
            if t == p || tf.hidden {
                continue;
            }
            if tf.kind.has_mailbox()
                && let Some(Ok(d)) = self.full_access(&h, t)
            {
                set.insert((t, 0, None, d));
            }
            if let Some(Ok(d)) = self.send_as(&h, t) {
                set.insert((t, 1, None, d));
            }
            if let Some(d) = self.sob(&h, t) {
                set.insert((t, 2, None, d));
            }
        }
        for (&f, &(mailbox, _)) in &self.folders {
            if mailbox == p || self.facts(mailbox).is_none_or(|mf| mf.hidden) {
                continue;
            }
            let (rights, d, explicit) = self.entry_rights(p, &h, f);
            if explicit && !rights.is_empty() {
                set.insert((mailbox, 3, Some(f), d));
            }
        }
        set
    }
}

fn rank(p: Permission) -> u8 {
    match p {
        Permission::FullAccess => 0,
        Permission::SendAs => 1,
        Permission::SendOnBehalf => 2,
        Permission::Folder => 3,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// `decide`, `delegations` and `member_of` agree with the model after every change.
    #[test]
    fn index_matches_model(
        ops in prop::collection::vec(op(), 1..60),
        questions in prop::collection::vec(question(), 1..30),
    ) {
        let mut model = Model::default();
        let mut index = AccessIndex::new();
        for (step, op) in ops.iter().enumerate() {
            model.apply(op, &mut index);
            // Ask some questions after every few changes, so stale state would show.
            if step % 5 != 4 && step + 1 != ops.len() {
                continue;
            }
            for &(p, action, t) in &questions {
                let got = index.decide(rid(p), action, rid(t));
                let want = model.decide(rid(p), action, rid(t));
                let mut got_o = outcome(&got);
                if want.rights.is_none() {
                    got_o.rights = None;
                }
                prop_assert_eq!(&got_o, &want, "step {} op {:?}: {:?} {:?} {:?} -> {:?}", step, op, p, action, t, got);
                // A reported chain is a real membership path ending at the trustee.
                if let Reason::Granted(g) | Reason::ExplicitDeny(g) = &got.reason {
                    let mut at = rid(p);
                    for &group in &g.chain {
                        prop_assert!(model.members.contains(&(group, at)), "chain step {:?} ∌ {:?}", group, at);
                        at = group;
                    }
                    prop_assert_eq!(at, g.trustee);
                }
            }
            for p in 0..IDS {
                let got: BTreeSet<_> = index
                    .delegations(rid(p))
                    .iter()
                    .map(|d| (d.target, rank(d.grant.permission), d.folder.map(|(f, _, _)| f), d.grant.chain.len()))
                    .collect();
                prop_assert_eq!(got, model.delegations(rid(p)), "delegations of {}", p);
                let h = model.holders(rid(p));
                let groups: BTreeMap<RecipientId, usize> =
                    index.member_of(rid(p)).into_iter().map(|(g, chain)| (g, chain.len())).collect();
                let want: BTreeMap<RecipientId, usize> = h.into_iter().filter(|&(g, _)| g != rid(p)).collect();
                prop_assert_eq!(groups, want, "member_of {}", p);
            }
        }
    }
}
