//! Several Deputy nodes on one PostgreSQL schema: each sees the other's
//! commits at once, concurrent deliveries through both never share a UID in
//! a folder, and the outbound queue's leases split the work between them.
//! Runs when `DEPUTY_TEST_POSTGRES` holds a URL, like the conformance suite.

mod common;

use common::{PgHarness, short_lease};
use deputy_store::conformance::mail::{MailModel, at_s, check_mail, delivery, entry, join_all, outbound};
use deputy_store::conformance::{Harness, Model, audit_at, check, commit, every_change, fid, plain_recipient, rid};
use deputy_store::{Change, MailStore};
use deputy_store_postgres::{PgOptions, PgStore};
use deputy_types::{MessageFlags, RecipientStatus, RecipientType};
use std::collections::BTreeSet;

async fn two_nodes(harness: &mut PgHarness) -> (PgStore, PgStore) {
    let a = harness.fresh().await;
    let b = harness.node(&a, PgOptions::default()).await;
    assert_ne!(a.node(), b.node(), "each connect is a node of its own");
    (a, b)
}

#[tokio::test]
async fn a_second_node_sees_every_commit_of_the_first_at_once() {
    let Some(mut harness) = PgHarness::from_env("a_second_node_sees_every_commit_of_the_first_at_once") else {
        return;
    };
    let (a, b) = two_nodes(&mut harness).await;
    let mut model = Model::default();
    commit(&a, &mut model, every_change(), vec![audit_at(1, "New-Mailbox", "zoe")]).await;
    check(&b, &model, "node B after node A's batch").await;
    let grant = vec![
        Change::PutRecipient(plain_recipient(40, RecipientType::UserMailbox, 0)),
        Change::AddMember { group: rid(3), member: rid(40) },
    ];
    commit(&b, &mut model, grant, vec![audit_at(2, "Add-DistributionGroupMember", "rob")]).await;
    check(&a, &model, "node A after node B's batch").await;
    commit(&a, &mut model, vec![Change::RemoveMember { group: rid(3), member: rid(40) }], vec![]).await;
    check(&b, &model, "node B after node A removed the membership").await;

    let mut mail = MailModel::default();
    let d = delivery(1, vec![entry(1, MessageFlags::empty(), None)], None);
    deputy_store::conformance::mail::store(&a, &mut mail, vec![d]).await;
    check_mail(&b, &mail, "node B after node A stored a message").await;
    let pairs = b.move_entries(fid(1), &[1], fid(2)).await.unwrap_or_else(|e| panic!("move on node B: {e}"));
    mail.copied(fid(1), &[1], fid(2), None, &pairs);
    check_mail(&a, &mail, "node A after node B moved it").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_stores_through_two_nodes_never_share_a_uid() {
    let Some(mut harness) = PgHarness::from_env("concurrent_stores_through_two_nodes_never_share_a_uid") else {
        return;
    };
    let (a, b) = two_nodes(&mut harness).await;
    let mut model = MailModel::default();
    // Every delivery writes folder 1; some also folder 2 or 3, so transactions
    // lock several folders in different combinations.
    let deliveries: Vec<_> = (0..80_u64)
        .map(|n| {
            let mut entries = vec![entry(1, MessageFlags::empty(), None)];
            if n % 3 == 0 {
                entries.push(entry(2, MessageFlags::SEEN, Some(n)));
            }
            if n % 4 == 0 {
                entries.push(entry(3, MessageFlags::empty(), None));
            }
            delivery(n, entries, (n % 5 == 0).then(|| outbound("me@contoso.test", &["you@r.test"])))
        })
        .collect();
    let calls = deliveries
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let node = if i % 2 == 0 { a.clone() } else { b.clone() };
            let d = d.clone();
            async move { node.store(vec![d]).await }
        })
        .collect();
    let results = join_all(calls).await;
    for (d, result) in deliveries.iter().zip(results) {
        let stored = result.unwrap_or_else(|e| panic!("a concurrent store failed: {e}"));
        model.stored(d, &stored[0]);
    }
    for (folder, entries) in &model.entries {
        let uids: BTreeSet<u32> = entries.iter().map(|e| e.uid).collect();
        assert_eq!(uids.len(), entries.len(), "folder {folder:?} got a UID twice");
        let expected: BTreeSet<u32> = (1..=entries.len() as u32).collect();
        assert_eq!(uids, expected, "folder {folder:?}: UIDs must be 1..n with no gap");
        let modseqs: BTreeSet<u64> = entries.iter().map(|e| e.modseq).collect();
        assert_eq!(modseqs.len(), entries.len(), "folder {folder:?} got a mod-sequence twice");
    }
    check_mail(&a, &model, "node A after concurrent stores through both nodes").await;
    check_mail(&b, &model, "node B after concurrent stores through both nodes").await;
}

#[tokio::test]
async fn a_queue_entry_leased_by_one_node_is_not_due_on_another() {
    let Some(mut harness) = PgHarness::from_env("a_queue_entry_leased_by_one_node_is_not_due_on_another") else {
        return;
    };
    let (a, b) = two_nodes(&mut harness).await;
    let mut model = MailModel::default();
    let ds = (1..=6).map(|n| delivery(n, Vec::new(), Some(outbound("me@contoso.test", &["you@r.test"])))).collect();
    deputy_store::conformance::mail::store(&a, &mut model, ds).await;
    let now = at_s(3600);
    let ids = |due: &[deputy_types::QueuedMessage]| due.iter().map(|q| q.id).collect::<Vec<_>>();
    let on_a = a.queue_due(now, 2).await.unwrap_or_else(|e| panic!("queue_due on A: {e}"));
    assert_eq!(ids(&on_a), ids(&model.due(now, 2)), "A takes the two oldest");
    let on_b = b.queue_due(now, 10).await.unwrap_or_else(|e| panic!("queue_due on B: {e}"));
    assert_eq!(ids(&on_b), ids(&model.due(now, 6)[2..]), "B gets only what A does not hold");
    let again = a.queue_due(now, 10).await.unwrap_or_else(|e| panic!("queue_due on A: {e}"));
    assert_eq!(ids(&again), ids(&on_a), "A still gets its own, and nothing B holds");
    // An attempt recorded by A ends its lease: B may take the entry when it is due again.
    let mut tried = on_a[0].clone();
    tried.attempts = 1;
    tried.recipients[0].status = RecipientStatus::Pending { last_error: Some("451 4.4.1 later".into()) };
    a.queue_update(&tried, None).await.unwrap_or_else(|e| panic!("queue_update on A: {e}"));
    let on_b = b.queue_due(now, 10).await.unwrap_or_else(|e| panic!("queue_due on B: {e}"));
    assert!(ids(&on_b).contains(&tried.id), "B takes the entry A released: {on_b:?}");
    assert!(!ids(&on_b).contains(&on_a[1].id), "A still holds the other one");
    check_mail(
        &a,
        &{
            let mut m = model.clone();
            m.updated(&tried);
            m
        },
        "after the leases",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_polling_at_once_split_the_queue_and_take_over_expired_leases() {
    let Some(mut harness) = PgHarness::from_env("nodes_polling_at_once_split_the_queue_and_take_over_expired_leases")
    else {
        return;
    };
    let (a, b) = two_nodes(&mut harness).await;
    let mut model = MailModel::default();
    let ds = (1..=40).map(|n| delivery(n, Vec::new(), Some(outbound("me@contoso.test", &["you@r.test"])))).collect();
    deputy_store::conformance::mail::store(&a, &mut model, ds).await;
    let now = at_s(3600);
    let polls: Vec<_> = (0..8)
        .map(|i| {
            let node = if i % 2 == 0 { a.clone() } else { b.clone() };
            async move { (node.node(), node.queue_due(now, 5).await) }
        })
        .collect();
    let mut holder = std::collections::HashMap::new();
    for (node, result) in join_all(polls).await {
        for q in result.unwrap_or_else(|e| panic!("a concurrent queue_due failed: {e}")) {
            let previous = holder.insert(q.id, node);
            assert!(previous.is_none_or(|p| p == node), "entry {:?} went to two nodes", q.id);
        }
    }
    assert!(!holder.is_empty());
    // A node with a lease of a millisecond holds nothing for long.
    let quick = harness.node(&a, short_lease()).await;
    let mut fresh = MailModel::default();
    let d = delivery(99, Vec::new(), Some(outbound("me@contoso.test", &["late@r.test"])));
    let stored = deputy_store::conformance::mail::store(&quick, &mut fresh, vec![d]).await;
    let id = stored[0].queued.unwrap_or_else(|| panic!("queued"));
    let taken = quick.queue_due(at_s(3600), 100).await.unwrap_or_else(|e| panic!("queue_due: {e}"));
    assert!(taken.iter().any(|q| q.id == id));
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let over = b.queue_due(at_s(3600), 100).await.unwrap_or_else(|e| panic!("queue_due: {e}"));
    assert!(over.iter().any(|q| q.id == id), "B takes over an entry whose lease ran out");
}
