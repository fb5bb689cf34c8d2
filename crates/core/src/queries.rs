//! Who may do what (spec §8): `Test-DelegateAccess` and `Get-DelegatedMailbox`.

use crate::State;
use deputy_access::{Action, Decision, Delegation, Permission};
use deputy_types::RecipientId;

/// One row of `Test-DelegateAccess`: a permission, the decision and its path in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessCheck {
    /// Which permission was checked.
    pub permission: Permission,
    /// The engine's decision.
    pub decision: Decision,
    /// The path in words, naming every group on it.
    pub reason: String,
}

/// One row of `Get-DelegatedMailbox`.
pub type DelegatedRow = Delegation;

impl State {
    /// A name for messages about a recipient: its Name.
    fn label(&self, id: RecipientId) -> String {
        self.name_of(id)
    }

    /// `Test-DelegateAccess -Identity <target> -User <principal>`: Full Access
    /// (for recipients with a mailbox), Send As and Send on Behalf.
    pub fn test_delegate_access(&self, target: RecipientId, principal: RecipientId) -> Vec<AccessCheck> {
        let has_mailbox = self.dir.get(target).is_some_and(|r| r.kind.has_mailbox());
        let mut checks = Vec::with_capacity(3);
        if has_mailbox {
            checks.push((Permission::FullAccess, Action::OpenMailbox));
        }
        checks.push((Permission::SendAs, Action::SendAs));
        checks.push((Permission::SendOnBehalf, Action::SendOnBehalf));
        let name = |id| self.label(id);
        checks
            .into_iter()
            .map(|(permission, action)| {
                let decision = self.access.decide(principal, action, target);
                let reason = decision.explain_for(principal, &name);
                AccessCheck { permission, decision, reason }
            })
            .collect()
    }

    /// `Get-DelegatedMailbox -User <principal>`.
    pub fn delegated(&self, principal: RecipientId) -> Vec<DelegatedRow> {
        self.access.delegations(principal)
    }
}
