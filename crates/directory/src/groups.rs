//! Group membership, dynamic groups and delivery expansion (spec §2, §6).

use crate::opath::{self, FilterContext};
use crate::{Directory, DirectoryError};
use deputy_types::{Recipient, RecipientId, RecipientType};
use rustc_hash::FxHashSet;

/// Whether mail addressed to a recipient of this kind lands with it (a mailbox
/// or a mail user), as opposed to being expanded or dropped.
const fn receives_mail(kind: RecipientType) -> bool {
    (kind.has_mailbox() && !kind.is_group()) || matches!(kind, RecipientType::MailUser)
}

/// Kinds Exchange keeps out of every dynamic group, whatever its filter says:
/// it appends exclusions for system mailboxes to each custom RecipientFilter.
const fn excluded_from_dynamic(kind: RecipientType) -> bool {
    matches!(kind, RecipientType::ArbitrationMailbox | RecipientType::DiscoveryMailbox)
}

impl Directory {
    /// Makes `member` a direct member of `group` (nothing happens if it already is).
    /// The caller checks that both exist and that `group` has a static member list.
    pub fn add_member(&mut self, group: RecipientId, member: RecipientId) {
        if self.edges.insert((group, member)) {
            self.members.entry(group).or_default().push(member);
            self.member_of.entry(member).or_default().push(group);
        }
    }

    /// Removes `member` from `group`'s direct members (nothing happens if it is not one).
    pub fn remove_member(&mut self, group: RecipientId, member: RecipientId) {
        if self.edges.remove(&(group, member)) {
            if let Some(list) = self.members.get_mut(&group) {
                list.retain(|m| *m != member);
            }
            if let Some(list) = self.member_of.get_mut(&member) {
                list.retain(|g| *g != group);
            }
        }
    }

    /// Whether `member` is a direct member of `group`.
    pub fn is_member(&self, group: RecipientId, member: RecipientId) -> bool {
        self.edges.contains(&(group, member))
    }

    /// The direct, static members of `group`, in the order they were added.
    pub fn members(&self, group: RecipientId) -> &[RecipientId] {
        self.members.get(&group).map_or(&[], Vec::as_slice)
    }

    /// The groups `member` is directly a member of, in the order it joined them.
    pub fn member_of(&self, member: RecipientId) -> &[RecipientId] {
        self.member_of.get(&member).map_or(&[], Vec::as_slice)
    }

    /// Every group `member` belongs to through static membership, directly or
    /// through nested groups (cycles tolerated), nearest first. Dynamic groups are
    /// not included: they are computed, and cannot hold permissions (spec §2).
    pub fn groups_containing(&self, member: RecipientId) -> Vec<RecipientId> {
        let mut seen: FxHashSet<RecipientId> = FxHashSet::default();
        let mut out = Vec::new();
        let mut queue = std::collections::VecDeque::from([member]);
        while let Some(x) = queue.pop_front() {
            for g in self.member_of(x) {
                if *g != member && seen.insert(*g) {
                    out.push(*g);
                    queue.push_back(*g);
                }
            }
        }
        out
    }

    /// Members of a dynamic distribution group: every recipient matching its
    /// RecipientFilter (spec §6), except the group itself and the system
    /// mailboxes Exchange always excludes; ordered by Name. Scans the directory.
    pub fn dynamic_members(&self, group: RecipientId) -> Result<Vec<RecipientId>, DirectoryError> {
        let g = self.get(group).ok_or(DirectoryError::UnknownRecipient(group))?;
        if g.kind != RecipientType::DynamicDistributionGroup {
            return Err(DirectoryError::NotADynamicGroup { name: g.name.clone(), kind: g.kind.as_str() });
        }
        let text =
            g.recipient_filter.as_deref().ok_or_else(|| DirectoryError::MissingFilter { group: g.name.clone() })?;
        let filter = opath::parse(text).map_err(|source| DirectoryError::Filter { group: g.name.clone(), source })?;
        let mut hits: Vec<&Recipient> = self
            .recipients
            .values()
            .filter(|r| r.id != group && !excluded_from_dynamic(r.kind) && filter.matches(r, self))
            .collect();
        hits.sort_by_cached_key(|r| (r.name.to_lowercase(), r.id));
        Ok(hits.into_iter().map(|r| r.id).collect())
    }

    /// Delivery expansion (spec §6): the recipients that receive mail sent to `id`.
    ///
    /// A non-group is itself. A group expands to its members transitively (static
    /// groups, nested, dynamic groups via their filter), each mailbox or mail user
    /// once, cycles tolerated, groups themselves never returned; plain User and
    /// SecurityGroup members without mail are skipped (a SecurityGroup asked for
    /// directly is still expanded). Output is in depth-first, first-visit order.
    pub fn expand(&self, id: RecipientId) -> Result<Vec<RecipientId>, DirectoryError> {
        let root = self.get(id).ok_or(DirectoryError::UnknownRecipient(id))?;
        if !root.kind.is_group() {
            return Ok(vec![id]);
        }
        let mut out = Vec::new();
        let mut delivered: FxHashSet<RecipientId> = FxHashSet::default();
        let mut expanded: FxHashSet<RecipientId> = FxHashSet::default();
        // An explicit stack, so a deeply nested chain of groups cannot overflow the call stack.
        let mut stack = vec![id];
        while let Some(x) = stack.pop() {
            let Some(r) = self.get(x) else { continue };
            if r.kind.is_group() {
                if (x != id && !r.kind.is_mail_enabled()) || !expanded.insert(x) {
                    continue;
                }
                let children = if r.kind == RecipientType::DynamicDistributionGroup {
                    self.dynamic_members(x)?
                } else {
                    self.members(x).to_vec()
                };
                stack.extend(children.into_iter().rev());
            } else if receives_mail(r.kind) && delivered.insert(x) {
                out.push(x);
            }
        }
        Ok(out)
    }
}

impl FilterContext for Directory {
    fn member_of_dns(&self, r: &Recipient) -> Vec<String> {
        self.member_of(r.id).iter().filter_map(|g| self.get(*g)).map(|g| self.distinguished_name(g)).collect()
    }
}
