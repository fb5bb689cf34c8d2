//! A forest's export: its directory as the sync sees it, built from one
//! consistent read of the core's state.

use crate::protocol::{Export, ExportedAce, ExportedObject, Role, sorted, split_ids};
use blake2::{Blake2b512, Digest};
use deputy_core::State;
use deputy_core::hybrid::{
    MOVE_FROZEN, MOVE_REQUEST, MOVED_IN, PEER_SEND_AS, PUBLIC_DELEGATES_BASE, REMOTE_TYPE, SOURCE_FOREST,
};
use deputy_types::{Recipient, RecipientId, RecipientType};

fn object(s: &State, r: &Recipient) -> ExportedObject {
    let peer_send_as =
        r.attribute(PEER_SEND_AS).map(|v| v.rsplit('|').next().map(split_ids).unwrap_or_default()).unwrap_or_default();
    ExportedObject {
        id: r.id,
        kind: r.kind,
        name: r.name.clone(),
        alias: r.alias.clone(),
        display_name: r.display_name.clone(),
        primary_smtp: r.primary_smtp.as_ref().map(|a| a.as_str().to_owned()),
        proxy_addresses: r.proxy_addresses.iter().map(|a| a.as_str().to_owned()).collect(),
        upn: r.upn.clone(),
        external_address: r.external_address.as_ref().map(|a| a.as_str().to_owned()),
        password_hash: r.password_hash.clone(),
        hidden: r.hidden,
        account_disabled: r.account_disabled,
        is_admin: r.is_admin,
        source_forest: r.attribute(SOURCE_FOREST).map(str::to_owned),
        remote_kind: r.attribute(REMOTE_TYPE).and_then(|k| RecipientType::parse(k).ok()),
        members: sorted(s.dir.members(r.id).to_vec()),
        public_delegates: sorted(r.grant_send_on_behalf_to.clone()),
        public_delegates_base: r.attribute(PUBLIC_DELEGATES_BASE).map(|v| sorted(split_ids(v))),
        peer_send_as: sorted(peer_send_as),
        move_request: r.attribute(MOVE_REQUEST).map(|v| v.split('|').next().unwrap_or_default().to_owned()),
        moved_in: r.attribute(MOVED_IN).map(str::to_owned),
        move_frozen: r.attribute(MOVE_FROZEN).is_some_and(|v| !v.is_empty()),
        peer_send_as_applied: r.attribute(PEER_SEND_AS).is_some_and(|v| v.split('|').nth(1) == Some("on")),
    }
}

/// The export of the forest `forest` (role `role`, routing domain `routing_domain`).
pub fn export(s: &State, forest: &str, role: Role, routing_domain: &str) -> Export {
    let mut objects: Vec<ExportedObject> = s.dir.iter().map(|r| object(s, r)).collect();
    objects.sort_by_key(|o| o.id);
    // An entry sync applied from the peer is listed, as applied, in its
    // target's `HybridPeerSendAs`.
    let synced = |target, trustee: RecipientId| {
        s.dir.get(target).and_then(|r| r.attribute(PEER_SEND_AS)).is_some_and(|v| {
            let mut parts = v.splitn(3, '|');
            let applied = parts.nth(1) == Some("on");
            applied && parts.next().is_some_and(|ids| split_ids(ids).contains(&trustee))
        })
    };
    let mut send_as: Vec<ExportedAce> = s
        .all_send_as_aces()
        .map(|a| ExportedAce {
            target: a.target,
            trustee: a.trustee,
            deny: a.deny,
            synced: !a.deny && synced(a.target, a.trustee),
        })
        .collect();
    send_as.sort_by_key(|a| (a.target, a.trustee, a.deny));
    let mut accepted_domains: Vec<String> =
        s.dir.accepted_domains().iter().map(|d| d.domain.to_ascii_lowercase()).collect();
    accepted_domains.sort();
    let mut e = Export {
        forest: forest.to_owned(),
        role,
        routing_domain: routing_domain.to_owned(),
        accepted_domains,
        objects,
        send_as,
        generation: String::new(),
    };
    let canonical = serde_json::to_vec(&e).unwrap_or_default();
    e.generation = Blake2b512::digest(&canonical)[..16].iter().map(|b| format!("{b:02x}")).collect();
    e
}
