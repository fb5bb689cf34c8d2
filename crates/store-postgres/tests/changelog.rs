//! The change log several nodes share (`Store::head`, `changes_since`,
//! `commit_after`): batches come back in commit order with their positions,
//! and a batch planned on an old read is refused without writing anything.
//! Runs when `DEPUTY_TEST_POSTGRES` holds a URL, like the conformance suite.

mod common;

use common::PgHarness;
use deputy_store::conformance::Harness;
use deputy_store::conformance::{plain_recipient, rid};
use deputy_store::{Change, Store, StoreError};
use deputy_store_postgres::PgOptions;
use deputy_types::RecipientType;

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
