//! Everything the store holds for the directory, and the reference model of
//! how changes apply to it.

use crate::Change;
use deputy_types::{
    AcceptedDomain, Folder, FolderAce, MailboxAce, Organization, Recipient, RecipientId, SendAsAce, ServicePrincipal,
};
use serde::{Deserialize, Serialize};

/// The whole stored directory: what `Store::load` returns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The organization, once initialized.
    pub organization: Option<Organization>,
    /// Accepted domains.
    pub accepted_domains: Vec<AcceptedDomain>,
    /// Every recipient.
    pub recipients: Vec<Recipient>,
    /// Direct group memberships as (group, member).
    pub members: Vec<(RecipientId, RecipientId)>,
    /// Mailbox permission entries.
    pub mailbox_aces: Vec<MailboxAce>,
    /// Send As entries.
    pub send_as_aces: Vec<SendAsAce>,
    /// Folders.
    pub folders: Vec<Folder>,
    /// Folder permission entries.
    pub folder_aces: Vec<FolderAce>,
    /// Registered applications.
    pub service_principals: Vec<ServicePrincipal>,
}

impl Snapshot {
    /// Applies one change: the reference model every backend must match.
    pub fn apply(&mut self, change: &Change) {
        match change {
            Change::SetOrganization(o) => self.organization = Some(o.clone()),
            Change::PutAcceptedDomain(d) => {
                self.accepted_domains.retain(|x| x.domain != d.domain);
                self.accepted_domains.push(d.clone());
            }
            Change::DeleteAcceptedDomain { domain } => self.accepted_domains.retain(|x| &x.domain != domain),
            Change::PutRecipient(r) => {
                self.recipients.retain(|x| x.id != r.id);
                self.recipients.push(r.clone());
            }
            Change::DeleteRecipient(id) => self.recipients.retain(|x| x.id != *id),
            Change::AddMember { group, member } => {
                if !self.members.contains(&(*group, *member)) {
                    self.members.push((*group, *member));
                }
            }
            Change::RemoveMember { group, member } => self.members.retain(|m| *m != (*group, *member)),
            Change::PutMailboxAce(a) => {
                self.mailbox_aces.retain(|x| (x.target, x.trustee, x.deny) != (a.target, a.trustee, a.deny));
                self.mailbox_aces.push(a.clone());
            }
            Change::DeleteMailboxAce { target, trustee, deny } => {
                self.mailbox_aces.retain(|x| (x.target, x.trustee, x.deny) != (*target, *trustee, *deny));
            }
            Change::PutSendAsAce(a) => {
                if !self.send_as_aces.contains(a) {
                    self.send_as_aces.push(a.clone());
                }
            }
            Change::DeleteSendAsAce(a) => self.send_as_aces.retain(|x| x != a),
            Change::PutFolder(f) => {
                self.folders.retain(|x| x.id != f.id);
                self.folders.push(f.clone());
            }
            Change::DeleteFolder(id) => self.folders.retain(|x| x.id != *id),
            Change::PutFolderAce(a) => {
                self.folder_aces.retain(|x| (x.folder, x.user) != (a.folder, a.user));
                self.folder_aces.push(a.clone());
            }
            Change::DeleteFolderAce { folder, user } => {
                self.folder_aces.retain(|x| (x.folder, x.user) != (*folder, *user));
            }
            Change::PutServicePrincipal(sp) => {
                self.service_principals.retain(|x| x.id != sp.id);
                self.service_principals.push(sp.clone());
            }
            Change::DeleteServicePrincipal(id) => self.service_principals.retain(|x| x.id != *id),
        }
    }

    /// The changes that build this snapshot from an empty store: a `Put*`
    /// (or `AddMember`, `SetOrganization`) for every object, so applying them
    /// to an empty snapshot gives this one (how `deputy migrate` copies a
    /// directory).
    pub fn changes(&self) -> Vec<Change> {
        let mut out = Vec::new();
        out.extend(self.organization.iter().cloned().map(Change::SetOrganization));
        out.extend(self.accepted_domains.iter().cloned().map(Change::PutAcceptedDomain));
        out.extend(self.recipients.iter().cloned().map(Change::PutRecipient));
        out.extend(self.members.iter().map(|&(group, member)| Change::AddMember { group, member }));
        out.extend(self.mailbox_aces.iter().cloned().map(Change::PutMailboxAce));
        out.extend(self.send_as_aces.iter().cloned().map(Change::PutSendAsAce));
        out.extend(self.folders.iter().cloned().map(Change::PutFolder));
        out.extend(self.folder_aces.iter().cloned().map(Change::PutFolderAce));
        out.extend(self.service_principals.iter().cloned().map(Change::PutServicePrincipal));
        out
    }

    /// Sorts every list by its key, so two snapshots with the same content compare equal.
    pub fn normalize(&mut self) {
        self.accepted_domains.sort_by(|a, b| a.domain.cmp(&b.domain));
        self.recipients.sort_by_key(|r| r.id);
        self.members.sort();
        self.mailbox_aces.sort_by_key(|a| (a.target, a.trustee, a.deny));
        self.send_as_aces.sort_by_key(|a| (a.target, a.trustee, a.deny));
        self.folders.sort_by_key(|f| f.id);
        self.folder_aces.sort_by_key(|a| (a.folder, a.user));
        self.service_principals.sort_by_key(|sp| sp.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::every_change;

    #[test]
    fn changes_rebuild_the_snapshot_from_empty() {
        let mut snapshot = Snapshot::default();
        for change in every_change() {
            snapshot.apply(&change);
        }
        let mut rebuilt = Snapshot::default();
        for change in snapshot.changes() {
            rebuilt.apply(&change);
        }
        snapshot.normalize();
        rebuilt.normalize();
        assert_eq!(rebuilt, snapshot);
    }
}
