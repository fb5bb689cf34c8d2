//! The sync's decisions, as a pure function of the two exports and this
//! forest's configuration (spec §9, modelled on Azure AD Connect with the
//! Exchange hybrid options):
//!
//! - objects: the cloud imports every object homed on-premises; the
//!   on-premises forest imports the cloud's own objects only with writeback;
//!   a mailbox of the other forest becomes a mail user whose target address
//!   is in the other forest's routing domain;
//! - memberships of synced groups follow their source;
//! - `PublicDelegates` (`GrantSendOnBehalfTo`): to the cloud always, back
//!   on-premises with writeback, merged three ways against the value both
//!   sides last agreed on (on-premises wins when both changed);
//! - Send As: never applied unless `SyncSendAs` is on (to the cloud; back
//!   on-premises with writeback too), but always recorded where objects are
//!   imported, so `Test-DelegateAccess` can say why it is missing;
//! - removal: only of objects this sync created, and only when the other
//!   forest's export (fetched and authenticated) no longer has them.

use crate::config::HybridConfig;
use crate::protocol::{Export, ExportedObject, Op, Role, sorted};
use deputy_types::{RecipientId, RecipientType};
use std::collections::{BTreeMap, BTreeSet};

/// Why two exports can't be synced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The peer is this forest, or has the same role.
    #[error("the peer forest {peer} ({peer_role}) can't pair with {local} ({local_role})")]
    BadPeer {
        /// The peer's name.
        peer: String,
        /// The peer's role.
        peer_role: &'static str,
        /// This forest's name.
        local: String,
        /// This forest's role.
        local_role: &'static str,
    },
}

/// Whether an object of this kind is synced at all (AAD Connect's scope:
/// no system mailboxes, no dynamic groups, no administrators).
pub fn syncable(o: &ExportedObject) -> bool {
    use RecipientType::*;
    !o.is_admin
        && matches!(
            o.kind,
            UserMailbox
                | LinkedMailbox
                | SharedMailbox
                | RoomMailbox
                | EquipmentMailbox
                | MailUser
                | User
                | MailUniversalDistributionGroup
                | MailUniversalSecurityGroup
                | SecurityGroup
        )
}

/// How a homed object of the peer is represented here: kind, mailbox kind it
/// stands for, target address.
fn representation(o: &ExportedObject, peer_routing: &str) -> (RecipientType, Option<RecipientType>, Option<String>) {
    if o.kind.has_mailbox() {
        (RecipientType::MailUser, Some(o.kind), Some(format!("{}@{peer_routing}", o.alias)))
    } else if o.kind == RecipientType::MailUser {
        (RecipientType::MailUser, None, o.external_address.clone())
    } else {
        (o.kind, None, None)
    }
}

fn domain_of(a: &str) -> String {
    a.rsplit_once('@').map_or_else(String::new, |(_, d)| d.to_ascii_lowercase())
}

/// Whether the local object already is what an `Upsert` would make of `o`.
fn up_to_date(
    local: &ExportedObject,
    o: &ExportedObject,
    rep: &(RecipientType, Option<RecipientType>, Option<String>),
    forest: &str,
    accepted: &BTreeSet<String>,
) -> bool {
    let (kind, remote_kind, target) = rep;
    let lower = |v: &Option<String>| v.as_ref().map(|a| a.to_ascii_lowercase());
    let mut addresses: Vec<String> = o
        .primary_smtp
        .iter()
        .chain(o.proxy_addresses.iter())
        .filter(|a| accepted.contains(&domain_of(a)))
        .map(|a| a.to_ascii_lowercase())
        .collect();
    let primary = (kind.is_mail_enabled() && !addresses.is_empty()).then(|| addresses.remove(0));
    let proxies: Vec<String> = if kind.is_mail_enabled() { addresses } else { Vec::new() };
    let local_proxies: Vec<String> = local.proxy_addresses.iter().map(|a| a.to_ascii_lowercase()).collect();
    let signs_in = kind.can_sign_in();
    local.kind == *kind
        && local.remote_kind == *remote_kind
        && local.source_forest.as_deref() == Some(forest)
        && local.name == o.name
        && local.alias == o.alias
        && local.display_name == o.display_name
        && lower(&local.primary_smtp) == primary
        && local_proxies == proxies
        && local.upn == if signs_in { o.upn.clone() } else { None }
        && lower(&local.external_address) == lower(&target.clone().or_else(|| o.external_address.clone()))
        && local.password_hash == if signs_in { o.password_hash.clone() } else { None }
        && local.hidden == o.hidden
        && local.account_disabled == (o.account_disabled || !signs_in)
}

/// The three-way merge of `PublicDelegates`: the new local value and base, or
/// `None` when nothing changes.
fn merge_public_delegates(
    role: Role,
    writeback: bool,
    peer: &[RecipientId],
    local: &[RecipientId],
    base: Option<&[RecipientId]>,
    peer_base: Option<&[RecipientId]>,
) -> Option<(Vec<RecipientId>, Vec<RecipientId>)> {
    let take_peer = if peer == local || (role == Role::Cloud && !writeback) {
        // Agreement; or one way, where the source of authority overwrites
        // cloud-side edits (the documented pain).
        true
    } else if base == Some(peer) || peer_base == Some(peer) {
        // The peer still has the agreed value: only this side changed.
        false
    } else if base == Some(local) || peer_base == Some(local) {
        // This side still has the agreed value (or the peer took it from here): only the peer changed.
        true
    } else {
        // Both changed, or they never agreed: on-premises wins.
        role == Role::Cloud
    };
    let (value, new_base) =
        if take_peer { (peer.to_vec(), Some(peer.to_vec())) } else { (local.to_vec(), base.map(<[_]>::to_vec)) };
    let changed = value != local || new_base.as_deref() != base;
    changed.then(|| (value, new_base.unwrap_or_default()))
}

/// What this forest (`local`) must do to catch up with `peer`.
pub fn plan(config: &HybridConfig, local: &Export, peer: &Export) -> Result<Vec<Op>, PlanError> {
    if peer.forest.eq_ignore_ascii_case(&local.forest) || peer.role == local.role {
        return Err(PlanError::BadPeer {
            peer: peer.forest.clone(),
            peer_role: peer.role.as_str(),
            local: local.forest.clone(),
            local_role: local.role.as_str(),
        });
    }
    let role = config.role;
    let imports_objects = role == Role::Cloud || config.writeback;
    let imports_delegates = role == Role::Cloud || config.writeback;
    let mut ops = Vec::new();
    let routing = config.routing_domain.to_ascii_lowercase();
    let mut accepted: BTreeSet<String> = local.accepted_domains.iter().cloned().collect();
    if !accepted.contains(&routing) {
        ops.push(Op::AcceptDomain { domain: routing.clone() });
        accepted.insert(routing.clone());
    }
    let locals: BTreeMap<RecipientId, &ExportedObject> = local.objects.iter().map(|o| (o.id, o)).collect();
    for o in local.objects.iter().filter(|o| o.source_forest.is_none() && o.kind.has_mailbox() && syncable(o)) {
        let address = format!("{}@{routing}", o.alias).to_ascii_lowercase();
        let has = o.primary_smtp.iter().chain(o.proxy_addresses.iter()).any(|a| a.eq_ignore_ascii_case(&address));
        if !has {
            ops.push(Op::RoutingAddress { id: o.id, address });
        }
    }

    let homed: Vec<&ExportedObject> =
        peer.objects.iter().filter(|o| o.source_forest.is_none() && syncable(o)).collect();
    let mut known: BTreeSet<RecipientId> = locals.keys().copied().collect();
    let mut synced_groups = Vec::new();
    if imports_objects {
        for o in &homed {
            let rep = representation(o, &config.peer_routing_domain);
            match locals.get(&o.id) {
                // Homed here too (a conflict a move resolves): never overwritten.
                Some(l) if l.source_forest.is_none() => continue,
                Some(l) if up_to_date(l, o, &rep, &peer.forest, &accepted) => {}
                _ => ops.push(Op::Upsert {
                    object: Box::new((*o).clone()),
                    target_address: rep.2.clone(),
                    kind: rep.0,
                    remote_kind: rep.1,
                    source_forest: peer.forest.clone(),
                }),
            }
            known.insert(o.id);
            if o.kind.has_static_members() {
                synced_groups.push(*o);
            }
        }
        for g in synced_groups {
            let want = sorted(g.members.iter().copied().filter(|m| known.contains(m)).collect());
            let have = locals.get(&g.id).map(|l| l.members.clone()).unwrap_or_default();
            if want != have {
                ops.push(Op::Members { group: g.id, members: want });
            }
        }
    }

    if imports_delegates {
        for o in peer.objects.iter().filter(|o| known.contains(&o.id) && !o.is_admin) {
            let l = locals.get(&o.id);
            if l.is_some_and(|l| l.is_admin) {
                continue;
            }
            let peer_value = sorted(o.public_delegates.iter().copied().filter(|d| known.contains(d)).collect());
            let local_value = l.map(|l| l.public_delegates.clone()).unwrap_or_default();
            let base = l.and_then(|l| l.public_delegates_base.as_deref());
            let peer_base = o.public_delegates_base.as_deref();
            if let Some((delegates, base)) =
                merge_public_delegates(role, config.writeback, &peer_value, &local_value, base, peer_base)
            {
                ops.push(Op::PublicDelegates { id: o.id, delegates, base });
            }
        }
    }

    // Send As must exist in the sending user's forest (spec §9). Recorded
    // wherever objects are imported (so `Test-DelegateAccess` can say why it
    // is missing); applied only with `SyncSendAs` — into the cloud, and with
    // writeback also on-premises, for senders whose mailbox is there. Entries
    // the peer holds because sync put them there are not sent back, so the
    // two directions never echo an entry (or resurrect a removed one).
    if imports_objects {
        let mut peer_aces: BTreeMap<RecipientId, Vec<RecipientId>> = BTreeMap::new();
        let native = |a: &&crate::protocol::ExportedAce| !a.deny && !a.synced;
        for a in peer.send_as.iter().filter(native).filter(|a| known.contains(&a.target) && known.contains(&a.trustee))
        {
            peer_aces.entry(a.target).or_default().push(a.trustee);
        }
        let recorded = local.objects.iter().filter(|o| !o.peer_send_as.is_empty()).map(|o| o.id);
        let targets: BTreeSet<RecipientId> = peer_aces.keys().copied().chain(recorded).collect();
        for target in targets {
            let trustees = sorted(peer_aces.get(&target).cloned().unwrap_or_default());
            let (current, applied) =
                locals.get(&target).map_or((Vec::new(), false), |l| (l.peer_send_as.clone(), l.peer_send_as_applied));
            let local_aces: Vec<RecipientId> =
                local.send_as.iter().filter(|a| a.target == target && !a.deny).map(|a| a.trustee).collect();
            let stale = if config.sync_send_as {
                !applied && !trustees.is_empty()
                    || trustees.iter().any(|t| !local_aces.contains(t))
                    || current.iter().any(|t| !trustees.contains(t) && local_aces.contains(t))
            } else {
                applied && !trustees.is_empty()
            };
            if trustees != current || stale {
                ops.push(Op::PeerSendAs { target, forest: peer.forest.clone(), trustees, apply: config.sync_send_as });
            }
        }
    }

    plan_moves(config, &locals, &peer.objects, &peer.forest, &mut ops);

    if imports_objects {
        let present: BTreeSet<RecipientId> = homed.iter().map(|o| o.id).collect();
        for l in local.objects.iter() {
            if l.source_forest.as_deref() == Some(peer.forest.as_str()) && !present.contains(&l.id) {
                ops.push(Op::Remove { id: l.id, name: l.name.clone() });
            }
        }
    }
    Ok(ops)
}

/// Moves (`New-MoveRequest`): the target forest takes a mailbox the other
/// forest has queued (again while its copy is unfinished); the source forest
/// releases its mailbox once the other forest holds it, copied whole.
fn plan_moves(
    config: &HybridConfig,
    locals: &BTreeMap<RecipientId, &ExportedObject>,
    peer_objects: &[ExportedObject],
    peer_forest: &str,
    ops: &mut Vec<Op>,
) {
    for o in peer_objects.iter().filter(|o| o.kind.has_mailbox() && syncable(o)) {
        let local = locals.get(&o.id);
        let homed_there = o.source_forest.is_none();
        let queued = o.move_request.as_deref() == Some("Queued");
        let copied_here = local.is_some_and(|l| l.source_forest.is_none() && l.moved_in.as_deref() == Some("Done"));
        if homed_there
            && queued
            && !copied_here
            && local.is_none_or(|l| l.source_forest.is_some() || l.moved_in.is_some())
        {
            ops.push(Op::MoveIn {
                object: Box::new(o.clone()),
                routing_address: format!("{}@{}", o.alias, config.routing_domain).to_ascii_lowercase(),
                content: None,
            });
        }
        // Released here once the other side holds the whole mailbox; again
        // while the released mailbox's messages wait for the final pass.
        let moving_out = local.is_some_and(|l| {
            l.source_forest.is_none() && l.kind.has_mailbox() && l.move_request.as_deref() == Some("Queued")
                || l.move_frozen
        });
        if homed_there && moving_out && o.moved_in.as_deref() == Some("Done") {
            ops.push(Op::MoveOut {
                object: Box::new(o.clone()),
                target_address: format!("{}@{}", o.alias, config.peer_routing_domain).to_ascii_lowercase(),
                source_forest: peer_forest.to_owned(),
            });
        }
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
