//! A small organization to write rule tests against, by name.

#![allow(dead_code, missing_docs)]

use deputy_access::{AccessIndex, Action, Decision, Facts, FolderOp};
use deputy_types::{
    FolderAce, FolderId, FolderRights, FolderRole, FolderUser, InheritanceType, MailboxAce, MailboxRights, RecipientId,
    RecipientType, SendAsAce, SharingFlags,
};
use std::collections::BTreeMap;

/// An index plus the names of its recipients.
#[derive(Default)]
pub struct Org {
    pub index: AccessIndex,
    names: BTreeMap<String, RecipientId>,
    folders: BTreeMap<String, FolderId>,
}

impl Org {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn id(&self, name: &str) -> RecipientId {
        self.names[name]
    }

    pub fn name_of(&self, id: RecipientId) -> String {
        self.names.iter().find(|(_, v)| **v == id).map_or_else(|| id.to_string(), |(k, _)| k.clone())
    }

    pub fn folder(&self, name: &str) -> FolderId {
        self.folders[name]
    }

    /// Adds a recipient of `kind`, enabled and visible; for mailboxes also an
    /// Inbox (`<name>/Inbox`) and a Calendar (`<name>/Calendar`).
    pub fn add(&mut self, name: &str, kind: RecipientType) -> RecipientId {
        let id = RecipientId::from_u128(self.names.len() as u128 + 1);
        self.names.insert(name.to_owned(), id);
        self.index.upsert_recipient(id, Facts { kind, hidden: false, account_disabled: false }, &[]);
        if kind.has_mailbox() {
            for (folder, cal) in [("Inbox", false), ("Calendar", true)] {
                let f = FolderId::from_u128(1000 + self.folders.len() as u128);
                self.folders.insert(format!("{name}/{folder}"), f);
                self.index.put_folder(f, id, cal);
            }
        }
        id
    }

    pub fn user(&mut self, name: &str) -> RecipientId {
        self.add(name, RecipientType::UserMailbox)
    }

    pub fn set(&mut self, name: &str, kind: RecipientType, hidden: bool, disabled: bool, sob: &[&str]) {
        let sob: Vec<RecipientId> = sob.iter().map(|n| self.id(n)).collect();
        self.index.upsert_recipient(self.id(name), Facts { kind, hidden, account_disabled: disabled }, &sob);
    }

    pub fn member(&mut self, group: &str, member: &str) {
        self.index.add_member(self.id(group), self.id(member));
    }

    pub fn mailbox_ace(&mut self, target: &str, trustee: &str, rights: MailboxRights, deny: bool) {
        self.index.put_mailbox_ace(&MailboxAce {
            target: self.id(target),
            trustee: self.id(trustee),
            rights,
            deny,
            inheritance: InheritanceType::All,
            automapping: true,
        });
    }

    pub fn full_access(&mut self, target: &str, trustee: &str) {
        self.mailbox_ace(target, trustee, MailboxRights::FULL_ACCESS, false);
    }

    pub fn deny_full_access(&mut self, target: &str, trustee: &str) {
        self.mailbox_ace(target, trustee, MailboxRights::FULL_ACCESS, true);
    }

    pub fn send_as(&mut self, target: &str, trustee: &str, deny: bool) {
        self.index.put_send_as(&SendAsAce { target: self.id(target), trustee: self.id(trustee), deny });
    }

    pub fn folder_entry(&mut self, folder: &str, user: FolderUser, rights: FolderRights) {
        let f = self.folder(folder);
        let mailbox = self.id(folder.split('/').next().unwrap_or_default());
        self.index.put_folder_ace(&FolderAce { mailbox, folder: f, user, rights, flags: SharingFlags::empty() });
    }

    pub fn role(&mut self, folder: &str, user: &str, role: FolderRole) {
        let u = FolderUser::Recipient(self.id(user));
        self.folder_entry(folder, u, role.rights());
    }

    pub fn decide(&self, principal: &str, action: Action, target: &str) -> Decision {
        self.index.decide(self.id(principal), action, self.id(target))
    }

    /// `principal` doing `op` on `folder` (named `<mailbox>/<folder>`).
    pub fn folder_op(&self, principal: &str, folder: &str, op: FolderOp) -> Decision {
        let mailbox = folder.split('/').next().unwrap_or_default();
        self.decide(principal, Action::Folder { folder: self.folder(folder), op }, mailbox)
    }

    pub fn explain(&self, principal: &str, d: &Decision) -> String {
        d.explain_for(self.id(principal), &|id| self.name_of(id))
    }
}
