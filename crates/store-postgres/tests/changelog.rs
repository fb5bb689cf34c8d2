//! The change log several nodes share (`Store::head`, `changes_since`,
//! `commit_after`): batches come back in commit order with their positions,
//! and a batch planned on an old read is refused without writing anything;
//! pruning keeps the log bounded, and a follower behind the pruned horizon
//! is told to reload, never handed the batches after a gap. Runs when `DEPUTY_TEST_POSTGRES` holds a URL, like the conformance suite.

mod common;

use common::PgHarness;
use deputy_store::conformance::Harness;
use deputy_store::conformance::{plain_recipient, rid};
use deputy_store::{Change, Store, StoreError};
use deputy_store_postgres::{PgOptions, PgStore, Retention};
use deputy_types::RecipientType;
use std::time::Duration;

#[tokio::test]
async fn batches_come_back_in_order_and_stale_commits_are_refused() {
    let Some(mut harness) = PgHarness::from_env("batches_come_back_in_order_and_stale_commits_are_refused") else {
        return;
    };
    let a = harness.fresh().await;
    let b = harness.node(&a, PgOptions::default()).await;
    assert!(a.is_shared());
    let start = a.head().await.unwrap_or_else(|e| panic!("{e}"));
    let first = vec![Change::PutRecipient(plain_recipient(1, RecipientType::UserMailbox, 0))];
    let second = vec![Change::PutRecipient(plain_recipient(2, RecipientType::UserMailbox, 0))];
    a.commit_after(start, first.clone(), vec![]).await.unwrap_or_else(|e| panic!("{e}"));
    let after_first = b.head().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(after_first > start);

    // B planned on `start`, which A has moved past: refused, nothing written.
    match b.commit_after(start, second.clone(), vec![]).await {
        Err(StoreError::Conflict) => {}
        other => panic!("a stale commit must be refused, got {other:?}"),
    }
    assert_eq!(a.head().await.unwrap_or_else(|e| panic!("{e}")), after_first);
    assert!(b.load().await.unwrap_or_else(|e| panic!("{e}")).recipients.iter().all(|r| r.id != rid(2)));

    // Planned again on the new head, it goes through; plain commits log too.
    b.commit_after(after_first, second.clone(), vec![]).await.unwrap_or_else(|e| panic!("{e}"));
    a.commit(vec![Change::DeleteRecipient(rid(1))], vec![]).await.unwrap_or_else(|e| panic!("{e}"));
    let log = a.changes_since(start).await.unwrap_or_else(|e| panic!("{e}"));
    let batches: Vec<Vec<Change>> = log.iter().map(|(_, c)| c.clone()).collect();
    assert_eq!(batches, vec![first, second, vec![Change::DeleteRecipient(rid(1))]]);
    assert!(log.windows(2).all(|w| w[0].0 < w[1].0), "positions increase: {log:?}");
    assert!(a.changes_since(log[2].0).await.unwrap_or_else(|e| panic!("{e}")).is_empty());
}

/// Prunes at every third position, keeping the newest five batches whatever their age.
fn tight() -> PgOptions {
    PgOptions { change_log: Retention { batches: 5, age: Duration::ZERO, every: 3 }, ..PgOptions::default() }
}

/// The most batches [`tight`] leaves: five kept, plus up to two since the last prune.
const TIGHT_MOST: i64 = 5 + 3 - 1;

/// A batch that puts recipient `n` (revision `revision`).
fn put(n: u64, revision: u64) -> Vec<Change> {
    vec![Change::PutRecipient(plain_recipient(n, RecipientType::UserMailbox, revision))]
}

/// The rows in `store`'s change log and its pruned horizon, read directly.
async fn log_rows(harness: &PgHarness, store: &PgStore) -> (i64, i64) {
    let schema = store.schema().unwrap_or_else(|| panic!("test stores have a schema"));
    let (client, connection) =
        tokio_postgres::connect(harness.url(), tokio_postgres::NoTls).await.unwrap_or_else(|e| panic!("{e}"));
    tokio::spawn(connection);
    let query = format!(
        "SELECT (SELECT count(*) FROM \"{schema}\".change_log), (SELECT through FROM \"{schema}\".change_log_pruned)"
    );
    let row = client.query_one(&query, &[]).await.unwrap_or_else(|e| panic!("{e}"));
    (row.get(0), row.get(1))
}

async fn head(store: &PgStore) -> u64 {
    store.head().await.unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn pruning_keeps_the_change_log_bounded_over_many_commits() {
    let Some(mut harness) = PgHarness::from_env("pruning_keeps_the_change_log_bounded_over_many_commits") else {
        return;
    };
    let plain = harness.fresh().await;
    let a = harness.node(&plain, tight()).await;
    for n in 1..=40 {
        a.commit(put(n, 0), vec![]).await.unwrap_or_else(|e| panic!("commit {n}: {e}"));
        let (rows, _) = log_rows(&harness, &a).await;
        assert!(rows <= TIGHT_MOST, "after commit {n} the log holds {rows} batches");
    }
    let (rows, through) = log_rows(&harness, &a).await;
    assert_eq!(head(&a).await, 40, "pruning never moves the head");
    assert_eq!(through, 39 - 5, "the last prune (at 39) kept 35..=39");
    assert_eq!(rows, 6);
    // What is kept is exactly the newest batches, in order.
    let kept = a.changes_since(34).await.unwrap_or_else(|e| panic!("{e}"));
    let expected: Vec<(u64, Vec<Change>)> = (35..=40).map(|n| (n, put(n, 0))).collect();
    assert_eq!(kept, expected);
    let all = a.load().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(all.recipients.len(), 40, "pruning the log leaves the directory alone");
}

#[tokio::test]
async fn young_batches_are_kept_however_many() {
    let Some(mut harness) = PgHarness::from_env("young_batches_are_kept_however_many") else {
        return;
    };
    let plain = harness.fresh().await;
    let hour = Retention { batches: 2, age: Duration::from_secs(3600), every: 1 };
    let a = harness.node(&plain, PgOptions { change_log: hour, ..PgOptions::default() }).await;
    for n in 1..=10 {
        a.commit(put(n, 0), vec![]).await.unwrap_or_else(|e| panic!("commit {n}: {e}"));
    }
    assert_eq!(log_rows(&harness, &a).await, (10, 0), "nothing is an hour old yet");
    assert_eq!(a.changes_since(0).await.unwrap_or_else(|e| panic!("{e}")).len(), 10);
}

#[tokio::test]
async fn a_current_follower_never_notices_pruning() {
    let Some(mut harness) = PgHarness::from_env("a_current_follower_never_notices_pruning") else {
        return;
    };
    let plain = harness.fresh().await;
    let (a, b) = (harness.node(&plain, tight()).await, harness.node(&plain, tight()).await);
    let mut position = head(&b).await;
    let mut seen = Vec::new();
    for n in 1..=30 {
        // Both nodes commit, so both prune; the follower reads after each commit.
        let writer = if n % 2 == 0 { &a } else { &b };
        writer.commit(put(n % 4, n), vec![]).await.unwrap_or_else(|e| panic!("commit {n}: {e}"));
        // Now and then it lags by a few batches, still within the five kept.
        if n % 4 != 0 {
            continue;
        }
        for (at, batch) in b.changes_since(position).await.unwrap_or_else(|e| panic!("following at {n}: {e}")) {
            assert!(at > position, "positions move forward");
            position = at;
            seen.push(batch);
        }
    }
    for (at, batch) in b.changes_since(position).await.unwrap_or_else(|e| panic!("{e}")) {
        position = at;
        seen.push(batch);
    }
    let expected: Vec<Vec<Change>> = (1..=30).map(|n| put(n % 4, n)).collect();
    assert_eq!(seen, expected, "every batch, once, in order");
    assert_eq!(position, head(&a).await);
    assert!(log_rows(&harness, &a).await.1 > 0, "the log was pruned meanwhile");
}

#[tokio::test]
async fn a_follower_behind_the_pruned_horizon_is_told_to_reload() {
    let Some(mut harness) = PgHarness::from_env("a_follower_behind_the_pruned_horizon_is_told_to_reload") else {
        return;
    };
    let plain = harness.fresh().await;
    let a = harness.node(&plain, tight()).await;
    let b = harness.node(&plain, PgOptions::default()).await;
    a.commit(put(1, 0), vec![]).await.unwrap_or_else(|e| panic!("{e}"));
    let behind = head(&b).await;
    for n in 2..=20 {
        a.commit(put(n, 0), vec![]).await.unwrap_or_else(|e| panic!("commit {n}: {e}"));
    }
    // Batch 2 is gone: the answer says so instead of starting at the oldest kept batch.
    match b.changes_since(behind).await {
        Err(StoreError::HistoryPruned { position, pruned_through }) => {
            assert_eq!((position, pruned_through), (behind, 18 - 5));
        }
        other => panic!("a follower behind the horizon must be told to reload, never a silent gap: {other:?}"),
    }
    // Reloading as a node starts (head first, then everything) lets it follow again.
    let reloaded_at = head(&b).await;
    let snapshot = b.load().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(snapshot.recipients.len(), 20);
    a.commit(put(21, 0), vec![]).await.unwrap_or_else(|e| panic!("{e}"));
    let next = b.changes_since(reloaded_at).await.unwrap_or_else(|e| panic!("following after a reload: {e}"));
    assert_eq!(next, vec![(21, put(21, 0))]);
}

#[tokio::test]
async fn commit_after_works_on_an_empty_log_and_after_pruning() {
    let Some(mut harness) = PgHarness::from_env("commit_after_works_on_an_empty_log_and_after_pruning") else {
        return;
    };
    let plain = harness.fresh().await;
    let a = harness.node(&plain, tight()).await;
    let b = harness.node(&plain, tight()).await;
    assert_eq!(head(&a).await, 0, "a new log is empty");
    a.commit_after(0, put(1, 0), vec![]).await.unwrap_or_else(|e| panic!("on an empty log: {e}"));
    for n in 2..=12 {
        let base = head(&a).await;
        a.commit_after(base, put(n, 0), vec![]).await.unwrap_or_else(|e| panic!("commit {n}: {e}"));
    }
    assert!(log_rows(&harness, &a).await.1 > 0, "the log was pruned");
    let base = head(&b).await;
    assert_eq!(base, 12);
    a.commit_after(base, put(13, 0), vec![]).await.unwrap_or_else(|e| panic!("{e}"));
    match b.commit_after(base, put(14, 0), vec![]).await {
        Err(StoreError::Conflict) => {}
        other => panic!("a stale commit must still be refused after pruning, got {other:?}"),
    }
    b.commit_after(base + 1, put(14, 0), vec![]).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(head(&a).await, 14);
}

#[tokio::test]
async fn a_log_from_before_pruning_is_kept_whole_by_the_upgrade() {
    let Some(mut harness) = PgHarness::from_env("a_log_from_before_pruning_is_kept_whole_by_the_upgrade") else {
        return;
    };
    let a = harness.fresh().await;
    a.commit(put(1, 0), vec![]).await.unwrap_or_else(|e| panic!("{e}"));
    a.commit(put(2, 0), vec![]).await.unwrap_or_else(|e| panic!("{e}"));
    // Back to schema version 5, as a database written before pruning existed.
    let schema = a.schema().unwrap_or_else(|| panic!("test stores have a schema")).to_owned();
    let (client, connection) =
        tokio_postgres::connect(harness.url(), tokio_postgres::NoTls).await.unwrap_or_else(|e| panic!("{e}"));
    tokio::spawn(connection);
    let downgrade = format!(
        "SET search_path TO \"{schema}\"; DROP TABLE change_log_pruned; \
         ALTER TABLE change_log DROP COLUMN committed_at; DELETE FROM schema_version WHERE version = 6"
    );
    client.batch_execute(&downgrade).await.unwrap_or_else(|e| panic!("{e}"));
    drop(a);
    let upgraded = PgStore::connect_with(harness.url(), &PgOptions { schema: Some(schema), ..tight() })
        .await
        .unwrap_or_else(|e| panic!("upgrading: {e}"));
    let log = upgraded.changes_since(0).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(log, vec![(1, put(1, 0)), (2, put(2, 0))]);
    upgraded.commit_after(2, put(3, 0), vec![]).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(log_rows(&harness, &upgraded).await, (3, 0), "fewer than five batches: nothing pruned");
}
