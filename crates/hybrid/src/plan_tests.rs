//! The sync's decisions on small hand-made exports.

use super::*;
use crate::protocol::ExportedAce;

fn config(role: Role, writeback: bool, sync_send_as: bool) -> HybridConfig {
    let (forest, routing, peer_routing) = match role {
        Role::Onprem => ("onprem", "onprem.contoso.test", "cloud.contoso.test"),
        Role::Cloud => ("cloud", "cloud.contoso.test", "onprem.contoso.test"),
    };
    HybridConfig {
        forest: forest.into(),
        role,
        local_url: "http://127.0.0.1:1".into(),
        peer_url: "http://127.0.0.1:2".into(),
        secret_file: "secret".into(),
        routing_domain: routing.into(),
        peer_routing_domain: peer_routing.into(),
        writeback,
        sync_send_as,
        interval_secs: 30,
        delete_threshold: crate::config::DEFAULT_DELETE_THRESHOLD,
    }
}

fn id(n: u128) -> RecipientId {
    RecipientId::from_u128(n)
}

fn object(n: u128, kind: RecipientType, alias: &str) -> ExportedObject {
    ExportedObject {
        id: id(n),
        kind,
        name: alias.to_uppercase(),
        alias: alias.into(),
        display_name: alias.to_uppercase(),
        primary_smtp: Some(format!("{alias}@contoso.test")),
        proxy_addresses: Vec::new(),
        upn: kind.can_sign_in().then(|| format!("{alias}@contoso.test")),
        external_address: None,
        password_hash: kind.can_sign_in().then(|| "$argon2id$x".to_owned()),
        hidden: false,
        account_disabled: !kind.can_sign_in(),
        is_admin: false,
        source_forest: None,
        remote_kind: None,
        members: Vec::new(),
        public_delegates: Vec::new(),
        public_delegates_base: None,
        peer_send_as: Vec::new(),
        peer_send_as_applied: false,
        move_request: None,
        moved_in: None,
        move_frozen: false,
    }
}

fn export(forest: &str, role: Role, routing: &str, objects: Vec<ExportedObject>) -> Export {
    Export {
        forest: forest.into(),
        role,
        routing_domain: routing.into(),
        accepted_domains: vec!["contoso.test".into(), routing.into()],
        objects,
        send_as: Vec::new(),
        generation: String::new(),
    }
}

/// What the cloud would hold after applying `ops` for the upserts (enough for these tests).
fn upserted(ops: &[Op]) -> Vec<(RecipientId, RecipientType, Option<String>)> {
    ops.iter()
        .filter_map(|op| match op {
            Op::Upsert { object, kind, target_address, .. } => Some((object.id, *kind, target_address.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn the_cloud_imports_onprem_objects_as_mail_users_and_groups() {
    let mut group = object(3, RecipientType::MailUniversalSecurityGroup, "helpers");
    group.members = vec![id(1)];
    let mut admin = object(9, RecipientType::UserMailbox, "admin");
    admin.is_admin = true;
    let onprem = export(
        "onprem",
        Role::Onprem,
        "onprem.contoso.test",
        vec![object(1, RecipientType::UserMailbox, "rob"), group, admin],
    );
    let cloud = export("cloud", Role::Cloud, "cloud.contoso.test", vec![]);
    let ops = plan(&config(Role::Cloud, false, false), &cloud, &onprem).unwrap();
    assert_eq!(
        upserted(&ops),
        [
            (id(1), RecipientType::MailUser, Some("rob@onprem.contoso.test".into())),
            (id(3), RecipientType::MailUniversalSecurityGroup, None)
        ],
        "{ops:?}"
    );
    assert!(ops.contains(&Op::Members { group: id(3), members: vec![id(1)] }), "{ops:?}");
}

#[test]
fn onprem_imports_cloud_objects_only_with_writeback() {
    let cloud = export("cloud", Role::Cloud, "cloud.contoso.test", vec![object(2, RecipientType::UserMailbox, "mary")]);
    let onprem = export("onprem", Role::Onprem, "onprem.contoso.test", vec![]);
    assert!(upserted(&plan(&config(Role::Onprem, false, false), &onprem, &cloud).unwrap()).is_empty());
    let ops = plan(&config(Role::Onprem, true, false), &onprem, &cloud).unwrap();
    assert_eq!(upserted(&ops), [(id(2), RecipientType::MailUser, Some("mary@cloud.contoso.test".into()))]);
}

#[test]
fn nothing_is_removed_but_what_sync_created_and_the_peer_no_longer_has() {
    let mut gone = object(5, RecipientType::MailUser, "gone");
    gone.source_forest = Some("onprem".into());
    let cloud =
        export("cloud", Role::Cloud, "cloud.contoso.test", vec![gone, object(6, RecipientType::UserMailbox, "mine")]);
    let onprem = export("onprem", Role::Onprem, "onprem.contoso.test", vec![]);
    let ops = plan(&config(Role::Cloud, false, false), &cloud, &onprem).unwrap();
    let removed: Vec<_> = ops.iter().filter(|o| matches!(o, Op::Remove { .. })).collect();
    assert_eq!(removed, [&Op::Remove { id: id(5), name: "GONE".into() }]);
}

#[test]
fn public_delegates_merge_three_ways() {
    let (a, b) = ([id(1)], [id(2)]);
    // Only the peer changed: take it; only we changed: keep ours.
    assert_eq!(merge_public_delegates(Role::Onprem, true, &a, &[], Some(&[]), None), Some((a.to_vec(), a.to_vec())));
    assert_eq!(merge_public_delegates(Role::Onprem, true, &[], &a, Some(&[]), None), None);
    // The peer's base tells when this side never recorded one.
    assert_eq!(merge_public_delegates(Role::Onprem, true, &b, &a, None, Some(&a)), Some((b.to_vec(), b.to_vec())));
    assert_eq!(merge_public_delegates(Role::Onprem, true, &b, &a, None, Some(&b)), None);
    // Both changed: on-premises wins, on either side.
    assert_eq!(merge_public_delegates(Role::Onprem, true, &a, &b, Some(&[]), None), None);
    assert_eq!(merge_public_delegates(Role::Cloud, true, &a, &b, Some(&[]), None), Some((a.to_vec(), a.to_vec())));
    // Without writeback the cloud always follows on-premises.
    assert_eq!(merge_public_delegates(Role::Cloud, false, &[], &a, Some(&[]), None), Some((vec![], vec![])));
    // Agreement only records the base.
    assert_eq!(merge_public_delegates(Role::Cloud, true, &a, &a, None, None), Some((a.to_vec(), a.to_vec())));
    assert_eq!(merge_public_delegates(Role::Cloud, true, &a, &a, Some(&a), None), None);
}

#[test]
fn send_as_is_recorded_and_applied_only_with_sync_send_as() {
    let mut mary = object(2, RecipientType::UserMailbox, "mary");
    mary.proxy_addresses = vec!["mary@cloud.contoso.test".into()];
    let mut rob_shadow = object(1, RecipientType::MailUser, "rob");
    rob_shadow.source_forest = Some("onprem".into());
    rob_shadow.remote_kind = Some(RecipientType::UserMailbox);
    rob_shadow.external_address = Some("rob@onprem.contoso.test".into());
    let cloud = export("cloud", Role::Cloud, "cloud.contoso.test", vec![rob_shadow, mary]);
    let mut mary_shadow = object(2, RecipientType::MailUser, "mary");
    mary_shadow.source_forest = Some("cloud".into());
    let mut onprem = export(
        "onprem",
        Role::Onprem,
        "onprem.contoso.test",
        vec![object(1, RecipientType::UserMailbox, "rob"), mary_shadow],
    );
    onprem.send_as.push(ExportedAce { target: id(2), trustee: id(1), deny: false, synced: false });
    let send_as =
        |ops: Vec<Op>| -> Vec<Op> { ops.into_iter().filter(|o| matches!(o, Op::PeerSendAs { .. })).collect() };
    let off = send_as(plan(&config(Role::Cloud, true, false), &cloud, &onprem).unwrap());
    assert_eq!(off, [Op::PeerSendAs { target: id(2), forest: "onprem".into(), trustees: vec![id(1)], apply: false }]);
    let on = send_as(plan(&config(Role::Cloud, true, true), &cloud, &onprem).unwrap());
    assert_eq!(on, [Op::PeerSendAs { target: id(2), forest: "onprem".into(), trustees: vec![id(1)], apply: true }]);
    // The cloud has no Send As of its own: nothing goes back on-premises.
    assert!(send_as(plan(&config(Role::Onprem, true, true), &onprem, &cloud).unwrap()).is_empty());
    // The cloud's own entry (granted there) goes on-premises with writeback and SyncSendAs…
    let mut cloud = cloud;
    cloud.send_as.push(ExportedAce { target: id(2), trustee: id(1), deny: false, synced: false });
    let back = send_as(plan(&config(Role::Onprem, true, true), &onprem, &cloud).unwrap());
    assert_eq!(back, [Op::PeerSendAs { target: id(2), forest: "cloud".into(), trustees: vec![id(1)], apply: true }]);
    // …is only recorded without SyncSendAs, and ignored without writeback.
    let recorded = send_as(plan(&config(Role::Onprem, true, false), &onprem, &cloud).unwrap());
    assert!(matches!(&recorded[..], [Op::PeerSendAs { apply: false, .. }]), "{recorded:?}");
    assert!(send_as(plan(&config(Role::Onprem, false, true), &onprem, &cloud).unwrap()).is_empty());
    // An entry the cloud holds because sync applied it from on-premises never echoes back.
    cloud.send_as[0].synced = true;
    assert!(send_as(plan(&config(Role::Onprem, true, true), &onprem, &cloud).unwrap()).is_empty());
}

#[test]
fn a_forest_will_not_pair_with_itself_or_its_own_role() {
    let a = export("onprem", Role::Onprem, "onprem.contoso.test", vec![]);
    let b = export("other", Role::Onprem, "x.contoso.test", vec![]);
    assert!(plan(&config(Role::Onprem, false, false), &a, &b).is_err());
    assert!(plan(&config(Role::Onprem, false, false), &a, &a).is_err());
}

#[test]
fn a_move_is_taken_by_the_target_then_released_by_the_source() {
    let mut mary = object(2, RecipientType::UserMailbox, "mary");
    mary.move_request = Some("Queued".into());
    let mut shadow = object(2, RecipientType::MailUser, "mary");
    shadow.source_forest = Some("cloud".into());
    let cloud = export("cloud", Role::Cloud, "cloud.contoso.test", vec![mary.clone()]);
    let onprem = export("onprem", Role::Onprem, "onprem.contoso.test", vec![shadow]);
    let moves = |ops: Vec<Op>| -> Vec<Op> {
        ops.into_iter().filter(|o| matches!(o, Op::MoveIn { .. } | Op::MoveOut { .. })).collect()
    };
    let taken = moves(plan(&config(Role::Onprem, true, false), &onprem, &cloud).unwrap());
    assert!(
        matches!(&taken[..], [Op::MoveIn { object, routing_address, content: None }]
            if object.id == id(2) && routing_address == "mary@onprem.contoso.test"),
        "{taken:?}"
    );
    // Half-copied: taken again; copied: not again, and the source releases it.
    let mut moved = object(2, RecipientType::UserMailbox, "mary");
    moved.moved_in = Some("Copying".into());
    let onprem = export("onprem", Role::Onprem, "onprem.contoso.test", vec![moved.clone()]);
    assert_eq!(moves(plan(&config(Role::Onprem, true, false), &onprem, &cloud).unwrap()).len(), 1);
    moved.moved_in = Some("Done".into());
    let onprem = export("onprem", Role::Onprem, "onprem.contoso.test", vec![moved]);
    assert!(moves(plan(&config(Role::Onprem, true, false), &onprem, &cloud).unwrap()).is_empty());
    let released = moves(plan(&config(Role::Cloud, true, false), &cloud, &onprem).unwrap());
    assert!(
        matches!(&released[..], [Op::MoveOut { target_address, source_forest, .. }]
            if target_address == "mary@onprem.contoso.test" && source_forest == "onprem"),
        "{released:?}"
    );
    // Switched, with messages still frozen for the final pass: released again
    // (the sync's final pass follows); once purged, nothing more.
    let moved = onprem.objects[0].clone();
    let mut stand_in = object(2, RecipientType::MailUser, "mary");
    stand_in.source_forest = Some("onprem".into());
    stand_in.move_request = Some("Completed".into());
    stand_in.move_frozen = true;
    let cloud = export("cloud", Role::Cloud, "cloud.contoso.test", vec![stand_in.clone()]);
    let onprem = export("onprem", Role::Onprem, "onprem.contoso.test", vec![moved]);
    assert_eq!(moves(plan(&config(Role::Cloud, true, false), &cloud, &onprem).unwrap()).len(), 1);
    stand_in.move_frozen = false;
    let cloud = export("cloud", Role::Cloud, "cloud.contoso.test", vec![stand_in]);
    assert!(moves(plan(&config(Role::Cloud, true, false), &cloud, &onprem).unwrap()).is_empty());
}
