//! Who may do what (spec §8): `Test-DelegateAccess`, `Get-DelegatedMailbox`
//! and its converse, everyone who may act on one mailbox or group.

use crate::{Deputy, Result, State};
use chrono::{DateTime, Utc};
use deputy_access::{Action, Decision, Delegation, Permission};
use deputy_store::AuditQuery;
use deputy_types::{AuditRecord, RecipientId};

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

    /// Everyone who may act on `target` (open it, send as or on behalf of it,
    /// use its folders) and how: `Get-DelegatedMailbox` asked of every
    /// principal, kept to `target`. Each row is exactly what [`Self::delegated`]
    /// answers for that principal, so both views always agree (group paths
    /// included). Ordered by the principal's display name.
    pub fn delegates_of(&self, target: RecipientId) -> Vec<(RecipientId, DelegatedRow)> {
        let mut principals: Vec<_> = self.dir.iter().filter(|r| r.id != target).collect();
        principals.sort_by_cached_key(|r| (r.display_name.to_lowercase(), r.id));
        principals
            .into_iter()
            .flat_map(|p| self.delegated(p.id).into_iter().filter(|d| d.target == target).map(move |d| (p.id, d)))
            .collect()
    }
}

impl Deputy {
    /// `Search-AdminAuditLog -Cmdlets … -StartDate … -EndDate … -ResultSize …`
    /// for doors that don't see the store's query type (the web admin center):
    /// newest first; `limit` 0 means every record.
    pub async fn search_admin_audit_log(
        &self,
        cmdlets: Vec<String>,
        start: Option<DateTime<Utc>>,
        end: Option<DateTime<Utc>>,
        limit: usize,
    ) -> Result<Vec<AuditRecord>> {
        self.search_audit(&AuditQuery { start, end, cmdlets, limit }).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deputy_store::Snapshot;
    use deputy_types::{InheritanceType, MailboxAce, MailboxRights, Recipient, RecipientType as T};

    fn recipient(n: u128, kind: T, name: &str) -> Recipient {
        Recipient::new(RecipientId(uuid::Uuid::from_u128(n)), kind, name, &name.to_lowercase(), chrono::Utc::now())
    }

    #[test]
    fn delegates_of_a_mailbox_name_the_group_path_and_agree_with_delegated() {
        let (rob, ann, helpdesk, team, shared) = (
            recipient(1, T::UserMailbox, "Rob"),
            recipient(2, T::UserMailbox, "Ann"),
            recipient(3, T::MailUniversalSecurityGroup, "Helpdesk"),
            recipient(4, T::MailUniversalSecurityGroup, "Team"),
            recipient(5, T::SharedMailbox, "Support"),
        );
        let ace = |trustee: &Recipient| MailboxAce {
            target: shared.id,
            trustee: trustee.id,
            rights: MailboxRights::FULL_ACCESS,
            deny: false,
            inheritance: InheritanceType::All,
            automapping: false,
        };
        let s = State::from_snapshot(Snapshot {
            recipients: vec![rob.clone(), ann.clone(), helpdesk.clone(), team.clone(), shared.clone()],
            // Rob is in Team, Team is in Helpdesk; Helpdesk holds Full Access.
            members: vec![(team.id, rob.id), (helpdesk.id, team.id)],
            mailbox_aces: vec![ace(&helpdesk), ace(&ann)],
            ..Snapshot::default()
        });
        let rows = s.delegates_of(shared.id);
        let people: Vec<RecipientId> = rows.iter().map(|(p, _)| *p).collect();
        assert_eq!(people, vec![ann.id, rob.id], "{rows:?}");
        let (_, via) = &rows[1];
        assert_eq!(via.grant.permission, Permission::FullAccess);
        assert_eq!((via.grant.trustee, via.grant.chain.clone()), (helpdesk.id, vec![team.id, helpdesk.id]));
        assert!(rows[0].1.grant.chain.is_empty(), "Ann's grant is direct");
        for (p, d) in &rows {
            assert!(s.delegated(*p).contains(d), "the two views disagree on {d:?}");
        }
        assert!(s.delegates_of(rob.id).is_empty());
    }
}
