//! Moving an embedded store into PostgreSQL (`deputy migrate`'s storage
//! part): everything comes back the same, UIDs and UIDVALIDITY included, and
//! a target that already holds something is refused. Runs when
//! `DEPUTY_TEST_POSTGRES` holds a URL.

mod common;

use common::PgHarness;
use deputy_store::conformance::Harness;
use deputy_store::conformance::mail::{delivery, entry, outbound};
use deputy_store::conformance::{at_ms, audit_at, every_change, fid, rid};
use deputy_store::{AuditQuery, FlagOp, MailExport, MailStore, Snapshot, Store, StoreError};
use deputy_store_sqlite::SqliteStore;
use deputy_types::{MessageFlags, QueueRecipient, RecipientStatus};
use std::path::PathBuf;

fn ok<T>(result: Result<T, StoreError>, doing: &str) -> T {
    result.unwrap_or_else(|e| panic!("{doing}: {e}"))
}

/// A data directory removed when the test ends.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        Self(std::env::temp_dir().join(format!("deputy-import-{}", uuid::Uuid::new_v4().simple())))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An embedded store with the directory fixtures and mail that went through
/// deliveries, copies, moves, flag changes, expunges and queue attempts, so
/// UIDs have gaps and mod-sequences differ from UIDs.
async fn filled(dir: &TempDir) -> SqliteStore {
    let store = ok(SqliteStore::open(&dir.0), "opening the embedded store");
    ok(store.commit(every_change(), vec![audit_at(1_000, "New-Mailbox", "rob")]).await, "committing fixtures");
    ok(store.commit(Vec::new(), vec![audit_at(2_000, "Add-MailboxPermission", "rob")]).await, "auditing");
    let (inbox, archive, empty) = (fid(1), fid(3), fid(9));
    let seen = MessageFlags::SEEN;
    let mut deliveries = Vec::new();
    for n in 1..=6 {
        let mut entries = vec![entry(1, MessageFlags::empty(), None)];
        if n % 2 == 0 {
            entries.push(entry(2, seen, Some(7)));
        }
        let remote = (n == 3 || n == 5).then(|| outbound("rob@contoso.test", &["a@remote.test", "b@remote.test"]));
        deliveries.push(delivery(n, entries, remote));
    }
    // A body only the queue shows.
    deliveries.push(delivery(7, Vec::new(), Some(outbound("", &["c@remote.test"]))));
    ok(store.store(deliveries).await, "storing deliveries");
    ok(store.set_flags(inbox, &[1, 2, 4], FlagOp::Add(MessageFlags::FLAGGED | seen), None).await, "flagging");
    ok(store.copy(inbox, &[2, 3], archive, None).await, "copying");
    ok(store.move_entries(inbox, &[5], archive).await, "moving");
    ok(store.expunge(inbox, &[1]).await, "expunging");
    ok(store.folder_status(empty).await, "creating an empty folder's state");
    // IMAP subscription choices, one of them for a folder without mail.
    ok(store.set_subscription(rid(1), inbox, true).await, "subscribing");
    ok(store.set_subscription(rid(1), archive, false).await, "unsubscribing");
    ok(store.set_subscription(rid(2), fid(40), false).await, "unsubscribing another");
    let mut queue = ok(store.queue_all().await, "reading the queue");
    let mut first = queue.remove(0);
    first.attempts = 2;
    first.next_attempt = at_ms(9_000_000);
    first.recipients = vec![
        QueueRecipient {
            address: "a@remote.test".into(),
            status: RecipientStatus::Delivered { reply: "250 ok".into() },
        },
        QueueRecipient {
            address: "b@remote.test".into(),
            status: RecipientStatus::Pending { last_error: Some("451 4.4.1 try later".into()) },
        },
    ];
    ok(
        store.queue_update(&first, Some(delivery(8, vec![entry(1, MessageFlags::empty(), None)], None))).await,
        "update",
    );
    store
}

async fn whole_audit<S: Store>(store: &S) -> Vec<deputy_types::AuditRecord> {
    ok(store.search_audit(&AuditQuery::default()).await, "reading the audit log")
}

fn normalized(mut snapshot: Snapshot) -> Snapshot {
    snapshot.normalize();
    snapshot
}

#[tokio::test]
async fn an_embedded_store_moves_into_postgres_with_its_uids_bodies_and_queue() {
    let Some(mut harness) = PgHarness::from_env("an_embedded_store_moves_into_postgres_with_its_uids_bodies_and_queue")
    else {
        return;
    };
    let dir = TempDir::new();
    let source = filled(&dir).await;
    let snapshot = ok(source.load().await, "loading the source");
    let audit = whole_audit(&source).await;
    let export: MailExport = ok(source.export().await, "exporting");
    assert_eq!(export.folders.len(), 4, "inbox, sent, archive and the empty folder: {:?}", export.folders);
    // Eight bodies, less the one whose only entry was expunged; three queue entries.
    assert!(export.bodies.len() == 7 && export.queue.len() == 3, "{} bodies, {:?}", export.bodies.len(), export.queue);
    assert_eq!(export.subscriptions.len(), 3, "{:?}", export.subscriptions);

    let target = harness.fresh().await;
    let mut oldest_first = audit.clone();
    oldest_first.reverse();
    ok(target.import_all(snapshot.changes(), oldest_first.clone(), export.clone()).await, "importing");

    assert_eq!(normalized(ok(target.load().await, "loading the target")), normalized(snapshot.clone()));
    assert_eq!(whole_audit(&target).await, audit, "the audit log, newest first");
    assert_eq!(
        ok(target.export().await, "exporting the target"),
        export,
        "every folder, entry, body, queue entry and subscription"
    );
    assert_eq!(
        ok(target.subscriptions(rid(1)).await, "subscriptions"),
        ok(source.subscriptions(rid(1)).await, "source")
    );
    for folder in &export.folders {
        let (a, b) = (source.folder_status(folder.folder).await, target.folder_status(folder.folder).await);
        assert_eq!(ok(b, "target status"), ok(a, "source status"), "{}", folder.folder);
    }

    // The target goes on where the source stopped: the next UID, a new body id.
    let next_uid = export.folders.iter().find(|f| f.folder == fid(1)).map(|f| f.state.uidnext);
    let stored = ok(target.store(vec![delivery(20, vec![entry(1, MessageFlags::empty(), None)], None)]).await, "store");
    assert_eq!(stored[0].uids[0].1 as u64, next_uid.unwrap_or_default());
    assert!(stored[0].blob.0 >= export.next_body_id, "{:?} reuses a source body id", stored[0].blob);

    // A second import into the now filled target is refused and changes nothing.
    let before = ok(target.export().await, "exporting before");
    match target.import_all(snapshot.changes(), oldest_first, export.clone()).await {
        Err(StoreError::Backend(message)) => assert!(message.contains("not empty"), "{message}"),
        other => panic!("importing into a filled store must be refused, got {other:?}"),
    }
    assert_eq!(ok(target.export().await, "exporting after"), before);
    match target.import(MailExport::default()).await {
        Err(StoreError::Backend(message)) => assert!(message.contains("not empty"), "{message}"),
        other => panic!("importing into a filled store must be refused, got {other:?}"),
    }
}

#[tokio::test]
async fn an_import_that_fails_half_way_leaves_the_target_empty() {
    let Some(mut harness) = PgHarness::from_env("an_import_that_fails_half_way_leaves_the_target_empty") else {
        return;
    };
    let dir = TempDir::new();
    let source = filled(&dir).await;
    let mut export = ok(source.export().await, "exporting");
    // An entry whose body is missing fails on the foreign key, after the bodies went in.
    export.bodies.remove(0);
    let target = harness.fresh().await;
    let snapshot = ok(source.load().await, "loading the source");
    let failed = target.import_all(snapshot.changes(), Vec::new(), export).await;
    assert!(failed.is_err(), "an entry without its body must fail the import");
    assert_eq!(ok(target.load().await, "loading"), Snapshot::default());
    let nothing = MailExport { next_body_id: 1, next_queue_id: 1, ..MailExport::default() };
    assert_eq!(ok(target.export().await, "exporting the target"), nothing);
}
