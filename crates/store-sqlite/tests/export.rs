//! Reading the whole message store for `deputy migrate`, and refusing to
//! while another connection holds the database.

mod common;

use common::TempDir;
use deputy_store::conformance::mail::{delivery, entry, outbound};
use deputy_store::conformance::{fid, rid};
use deputy_store::{FlagOp, MailExport, MailStore, StoreError, Subscription};
use deputy_store_sqlite::SqliteStore;
use deputy_types::MessageFlags;

fn ok<T>(result: Result<T, StoreError>, doing: &str) -> T {
    result.unwrap_or_else(|e| panic!("{doing}: {e}"))
}

#[tokio::test]
async fn an_empty_store_exports_nothing() {
    let dir = TempDir::new("export-empty");
    let store = ok(SqliteStore::open(dir.path()), "opening");
    let nothing = MailExport { next_body_id: 1, next_queue_id: 1, ..MailExport::default() };
    assert_eq!(ok(store.export().await, "exporting"), nothing);
}

#[tokio::test]
async fn the_export_holds_every_entry_body_state_and_queue_entry() {
    let dir = TempDir::new("export");
    let store = ok(SqliteStore::open(dir.path()), "opening");
    let shared = delivery(1, vec![entry(1, MessageFlags::empty(), None), entry(2, MessageFlags::SEEN, Some(4))], None);
    let remote = delivery(2, vec![entry(1, MessageFlags::empty(), None)], Some(outbound("a@b.test", &["c@d.test"])));
    ok(store.store(vec![shared, remote]).await, "storing");
    ok(store.set_flags(fid(1), &[2], FlagOp::Add(MessageFlags::FLAGGED), None).await, "flagging");
    ok(store.expunge(fid(1), &[1]).await, "expunging");
    ok(store.set_subscription(rid(1), fid(2), false).await, "unsubscribing");
    let export = ok(store.export().await, "exporting");
    assert_eq!(export.folders.len(), 2);
    for folder in &export.folders {
        assert_eq!(folder.entries, ok(store.entries(folder.folder).await, "entries"), "{}", folder.folder);
        let status = ok(store.folder_status(folder.folder).await, "status");
        assert_eq!(
            (folder.state.uidvalidity, folder.state.uidnext, folder.state.highest_modseq),
            (status.uidvalidity, u64::from(status.uidnext), status.highest_modseq)
        );
    }
    // The shared body is listed once.
    assert_eq!(export.bodies.len(), 2);
    for body in &export.bodies {
        assert_eq!(Some(body.raw.clone()), ok(store.body(body.id).await, "body"));
    }
    assert_eq!(export.queue, ok(store.queue_all().await, "queue"));
    assert_eq!((export.next_body_id, export.next_queue_id), (3, 2));
    assert_eq!(export.subscriptions, vec![Subscription { principal: rid(1), folder: fid(2), subscribed: false }]);
}

#[tokio::test]
async fn the_store_knows_when_another_connection_holds_it() {
    let dir = TempDir::new("in-use");
    let store = ok(SqliteStore::open(dir.path()), "opening");
    match SqliteStore::ensure_unused(dir.path()) {
        Err(StoreError::Unavailable(message)) => assert!(message.contains("stop it first"), "{message}"),
        other => panic!("an open store must be reported in use, got {other:?}"),
    }
    drop(store);
    ok(SqliteStore::ensure_unused(dir.path()), "a closed store is free");
    ok(SqliteStore::open(dir.path()), "reopening after the check");
    let missing = TempDir::new("missing");
    assert!(matches!(SqliteStore::ensure_unused(missing.path()), Err(StoreError::Backend(_))));
}
