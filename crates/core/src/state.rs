//! The in-memory state every question is answered from: the directory, the
//! permission index, and listable copies of the grants. It changes only by
//! [`State::apply`], with the same [`Change`]s the store committed.

use deputy_access::{AccessIndex, Facts};
use deputy_directory::Directory;
use deputy_store::{Change, Snapshot};
use deputy_types::{
    Folder, FolderAce, FolderId, MailboxAce, Organization, Recipient, RecipientId, SendAsAce, ServicePrincipal,
    WellKnownFolder,
};
use rustc_hash::FxHashMap;
use uuid::Uuid;

/// Everything Deputy knows about the organization, in memory.
#[derive(Debug)]
pub struct State {
    /// Recipients, memberships, accepted domains.
    pub dir: Directory,
    /// The permission engine's index.
    pub access: AccessIndex,
    mailbox_aces: FxHashMap<RecipientId, Vec<MailboxAce>>,
    send_as: FxHashMap<RecipientId, Vec<SendAsAce>>,
    folders: FxHashMap<FolderId, Folder>,
    mailbox_folders: FxHashMap<RecipientId, Vec<FolderId>>,
    folder_aces: FxHashMap<FolderId, Vec<FolderAce>>,
    /// Registered applications by `ObjectId` (questions in `apps.rs`).
    pub(crate) service_principals: FxHashMap<Uuid, ServicePrincipal>,
}

/// The permission engine's view of a recipient.
pub(crate) fn facts(r: &Recipient) -> Facts {
    Facts { kind: r.kind, hidden: r.hidden, account_disabled: r.account_disabled }
}

impl State {
    /// Builds the state from what the store loaded.
    pub fn from_snapshot(snapshot: Snapshot) -> Self {
        let org = snapshot
            .organization
            .clone()
            .unwrap_or_else(|| Organization { name: String::new(), primary_domain: String::new() });
        let mut state = Self {
            dir: Directory::new(org),
            access: AccessIndex::new(),
            mailbox_aces: FxHashMap::default(),
            send_as: FxHashMap::default(),
            folders: FxHashMap::default(),
            mailbox_folders: FxHashMap::default(),
            folder_aces: FxHashMap::default(),
            service_principals: FxHashMap::default(),
        };
        let Snapshot {
            organization: _,
            accepted_domains,
            recipients,
            members,
            mailbox_aces,
            send_as_aces,
            folders,
            folder_aces,
            service_principals,
        } = snapshot;
        let changes = accepted_domains
            .into_iter()
            .map(Change::PutAcceptedDomain)
            .chain(recipients.into_iter().map(Change::PutRecipient))
            .chain(members.into_iter().map(|(group, member)| Change::AddMember { group, member }))
            .chain(mailbox_aces.into_iter().map(Change::PutMailboxAce))
            .chain(send_as_aces.into_iter().map(Change::PutSendAsAce))
            .chain(folders.into_iter().map(Change::PutFolder))
            .chain(folder_aces.into_iter().map(Change::PutFolderAce))
            .chain(service_principals.into_iter().map(Change::PutServicePrincipal));
        for change in changes {
            state.apply(&change);
        }
        state
    }

    /// Applies one committed change to every in-memory view.
    pub fn apply(&mut self, change: &Change) {
        match change {
            Change::SetOrganization(o) => self.dir.set_organization(o.clone()),
            Change::PutAcceptedDomain(d) => self.dir.put_accepted_domain(d.clone()),
            Change::DeleteAcceptedDomain { domain } => self.dir.remove_accepted_domain(domain),
            Change::PutRecipient(r) => {
                self.access.upsert_recipient(r.id, facts(r), &r.grant_send_on_behalf_to);
                self.dir.put(r.clone());
            }
            Change::DeleteRecipient(id) => {
                self.access.remove_recipient(*id);
                self.dir.remove(*id);
            }
            Change::AddMember { group, member } => {
                self.access.add_member(*group, *member);
                self.dir.add_member(*group, *member);
            }
            Change::RemoveMember { group, member } => {
                self.access.remove_member(*group, *member);
                self.dir.remove_member(*group, *member);
            }
            Change::PutMailboxAce(a) => {
                self.access.put_mailbox_ace(a);
                let list = self.mailbox_aces.entry(a.target).or_default();
                list.retain(|x| (x.trustee, x.deny) != (a.trustee, a.deny));
                list.push(a.clone());
            }
            Change::DeleteMailboxAce { target, trustee, deny } => {
                self.access.remove_mailbox_ace(*target, *trustee, *deny);
                if let Some(list) = self.mailbox_aces.get_mut(target) {
                    list.retain(|x| (x.trustee, x.deny) != (*trustee, *deny));
                }
            }
            Change::PutSendAsAce(a) => {
                self.access.put_send_as(a);
                let list = self.send_as.entry(a.target).or_default();
                if !list.contains(a) {
                    list.push(a.clone());
                }
            }
            Change::DeleteSendAsAce(a) => {
                self.access.remove_send_as(a);
                if let Some(list) = self.send_as.get_mut(&a.target) {
                    list.retain(|x| x != a);
                }
            }
            Change::PutFolder(f) => {
                let calendar = f.well_known.is_some_and(WellKnownFolder::is_calendar);
                self.access.put_folder(f.id, f.mailbox, calendar);
                let list = self.mailbox_folders.entry(f.mailbox).or_default();
                if !list.contains(&f.id) {
                    list.push(f.id);
                }
                self.folders.insert(f.id, f.clone());
            }
            Change::DeleteFolder(id) => {
                self.access.remove_folder(*id);
                if let Some(f) = self.folders.remove(id)
                    && let Some(list) = self.mailbox_folders.get_mut(&f.mailbox)
                {
                    list.retain(|x| x != id);
                }
                self.folder_aces.remove(id);
            }
            Change::PutFolderAce(a) => {
                self.access.put_folder_ace(a);
                let list = self.folder_aces.entry(a.folder).or_default();
                list.retain(|x| x.user != a.user);
                list.push(a.clone());
            }
            Change::DeleteFolderAce { folder, user } => {
                self.access.remove_folder_ace(*folder, *user);
                if let Some(list) = self.folder_aces.get_mut(folder) {
                    list.retain(|x| x.user != *user);
                }
            }
            Change::PutServicePrincipal(sp) => {
                self.service_principals.insert(sp.id, sp.clone());
            }
            Change::DeleteServicePrincipal(id) => {
                self.service_principals.remove(id);
            }
        }
    }

    /// The organization.
    pub fn organization(&self) -> &Organization {
        self.dir.organization()
    }

    /// Whether the organization has been initialized.
    pub fn is_initialized(&self) -> bool {
        !self.dir.organization().primary_domain.is_empty()
    }

    /// The mailbox permission entries on `target`, in the order they were made.
    pub fn mailbox_aces(&self, target: RecipientId) -> &[MailboxAce] {
        self.mailbox_aces.get(&target).map_or(&[], Vec::as_slice)
    }

    /// Every mailbox permission entry, any target.
    pub fn all_mailbox_aces(&self) -> impl Iterator<Item = &MailboxAce> {
        self.mailbox_aces.values().flatten()
    }

    /// The Send As entries on `target`.
    pub fn send_as_aces(&self, target: RecipientId) -> &[SendAsAce] {
        self.send_as.get(&target).map_or(&[], Vec::as_slice)
    }

    /// Every Send As entry, any target.
    pub fn all_send_as_aces(&self) -> impl Iterator<Item = &SendAsAce> {
        self.send_as.values().flatten()
    }

    /// A folder by id.
    pub fn folder(&self, id: FolderId) -> Option<&Folder> {
        self.folders.get(&id)
    }

    /// The folders of a mailbox, in creation order.
    pub fn folders_of(&self, mailbox: RecipientId) -> impl Iterator<Item = &Folder> {
        self.mailbox_folders.get(&mailbox).into_iter().flatten().filter_map(|id| self.folders.get(id))
    }

    /// The explicit permission entries of a folder.
    pub fn folder_aces(&self, folder: FolderId) -> &[FolderAce] {
        self.folder_aces.get(&folder).map_or(&[], Vec::as_slice)
    }

    /// Every explicit folder permission entry, any folder.
    pub fn all_folder_aces(&self) -> impl Iterator<Item = &FolderAce> {
        self.folder_aces.values().flatten()
    }

    /// A recipient's display label for messages: its Name, or the id when unknown.
    pub fn name_of(&self, id: RecipientId) -> String {
        self.dir.get(id).map_or_else(|| id.to_string(), |r| r.name.clone())
    }
}
