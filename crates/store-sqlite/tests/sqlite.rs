//! Behaviour only the SQLite backend has: its pragmas, its migrations, its
//! mapping of SQLite failures, and atomicity under an injected fault.

#![expect(clippy::unwrap_used, reason = "helpers outside #[test] fail the test by panicking")]

mod common;

use common::TempDir;
use deputy_store::conformance::{Model, audit_at, check, commit, every_change, plain_recipient, rid};
use deputy_store::{AuditQuery, Change, Store, StoreError};
use deputy_store_sqlite::{DB_FILE, SCHEMA_VERSION, SqliteOptions, SqliteStore};
use deputy_types::{Folder, RecipientType};
use rusqlite::Connection;
use std::time::Duration;

fn raw(dir: &TempDir) -> Connection {
    Connection::open(dir.path().join(DB_FILE)).unwrap()
}

#[tokio::test]
async fn wal_and_full_sync_are_in_effect() {
    let dir = TempDir::new("pragmas");
    let store = SqliteStore::open(dir.path()).unwrap();
    let d = store.diagnostics().await.unwrap();
    assert_eq!(d.journal_mode, "wal");
    assert_eq!(d.synchronous, 2, "synchronous must be FULL (2) so a returned commit survives power loss");
    assert_eq!(d.schema_version, SCHEMA_VERSION);
    // WAL is a property of the file: another connection sees it too.
    let mode: String = raw(&dir).query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn open_creates_missing_directories_and_exists_reports_the_database() {
    let root = TempDir::new("exists");
    let dir = root.path().join("a").join("b");
    assert!(!SqliteStore::exists(&dir));
    let store = SqliteStore::open(&dir).unwrap();
    assert!(SqliteStore::exists(&dir));
    assert_eq!(store.path(), dir.join(DB_FILE));
    assert!(!SqliteStore::exists(root.path()), "only the directory holding deputy.db has a database");
}

#[tokio::test]
async fn reopening_migrates_nothing_and_keeps_data() {
    let dir = TempDir::new("migrate");
    let mut model = Model::default();
    {
        let store = SqliteStore::open(dir.path()).unwrap();
        commit(&store, &mut model, every_change(), vec![audit_at(1, "New-Mailbox", "x")]).await;
    }
    // The first migration creates tables without IF NOT EXISTS, so running it
    // twice would fail: opening again proves the version check skips it.
    for _ in 0..3 {
        let store = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(store.diagnostics().await.unwrap().schema_version, SCHEMA_VERSION);
        check(&store, &model, "after reopening").await;
    }
    let tables: i64 = raw(&dir)
        .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(
        tables, 15,
        "v1: organization, accepted_domains, recipients, members, 3 ace tables, folders, audit; \
         v2: blobs, folder_state, folder_entries, queue; v4: service_principals; v5: subscriptions"
    );
}

/// A version 3 database gains the service principal table and keeps its directory.
#[tokio::test]
async fn a_version_3_database_migrates_to_service_principals() {
    let dir = TempDir::new("migrate-v3");
    let mut model = Model::default();
    let without_apps: Vec<Change> = every_change()
        .into_iter()
        .filter(|c| !matches!(c, Change::PutServicePrincipal(_) | Change::DeleteServicePrincipal(_)))
        .collect();
    {
        let store = SqliteStore::open(dir.path()).unwrap();
        commit(&store, &mut model, without_apps, vec![audit_at(1, "New-Mailbox", "x")]).await;
    }
    raw(&dir)
        .execute_batch("DROP TABLE service_principals; DROP TABLE subscriptions; PRAGMA user_version = 3;")
        .unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.diagnostics().await.unwrap().schema_version, SCHEMA_VERSION);
    check(&store, &model, "after migrating from version 3").await;
    commit(&store, &mut model, every_change(), vec![]).await;
    check(&store, &model, "after storing applications in a migrated store").await;
}

#[tokio::test]
async fn a_database_from_a_newer_deputy_is_refused_and_left_alone() {
    let dir = TempDir::new("too-new");
    drop(SqliteStore::open(dir.path()).unwrap());
    raw(&dir).pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
    match SqliteStore::open(dir.path()) {
        Err(StoreError::SchemaTooNew { found, supported }) => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    let version: i64 = raw(&dir).pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, SCHEMA_VERSION + 1);
}

/// Installs a trigger that makes any insert into `table` matching `when` fail,
/// the way a full disk or a bug would fail a statement halfway through a batch.
fn inject_fault(dir: &TempDir, table: &str, when: &str) {
    raw(dir)
        .execute_batch(&format!(
            "CREATE TRIGGER fault BEFORE INSERT ON {table} WHEN {when} BEGIN SELECT RAISE(ABORT, 'injected fault'); END;"
        ))
        .unwrap();
}

#[tokio::test]
async fn a_batch_failing_on_a_late_change_leaves_nothing_behind() {
    let dir = TempDir::new("atomic-change");
    let store = SqliteStore::open(dir.path()).unwrap();
    let mut model = Model::default();
    commit(&store, &mut model, every_change(), vec![audit_at(1, "New-Mailbox", "before")]).await;
    inject_fault(&dir, "folders", "NEW.name = 'boom'");
    let mut batch: Vec<Change> =
        (10..20).map(|n| Change::PutRecipient(plain_recipient(n, RecipientType::UserMailbox, 0))).collect();
    batch.push(Change::DeleteRecipient(rid(1)));
    batch.push(Change::SetOrganization(deputy_types::Organization {
        name: "x".into(),
        primary_domain: "x.test".into(),
    }));
    batch.push(Change::PutFolder(Folder {
        id: deputy_types::FolderId::from_u128(77),
        mailbox: rid(2),
        parent: None,
        name: "boom".into(),
        well_known: None,
    }));
    let err = store.commit(batch, vec![audit_at(2, "Set-Mailbox", "during")]).await.unwrap_err();
    assert!(matches!(&err, StoreError::Backend(m) if m.contains("injected fault")), "{err}");
    check(&store, &model, "after a failed batch").await;
    // The store still works, and a clean batch commits.
    commit(&store, &mut model, vec![Change::DeleteRecipient(rid(1))], vec![audit_at(3, "Remove-Mailbox", "after")])
        .await;
    check(&store, &model, "after a good batch following a failed one").await;
}

#[tokio::test]
async fn a_batch_failing_on_its_audit_record_leaves_nothing_behind() {
    let dir = TempDir::new("atomic-audit");
    let store = SqliteStore::open(dir.path()).unwrap();
    let mut model = Model::default();
    commit(&store, &mut model, vec![], vec![audit_at(1, "New-Mailbox", "kept")]).await;
    inject_fault(&dir, "audit", "NEW.object = 'boom'");
    let audit = vec![audit_at(2, "Set-Mailbox", "fine"), audit_at(3, "Set-Mailbox", "boom")];
    let err = store.commit(every_change(), audit).await.unwrap_err();
    assert!(matches!(err, StoreError::Backend(_)), "{err}");
    check(&store, &model, "after a batch whose audit insert failed").await;
}

#[tokio::test]
async fn a_locked_database_is_unavailable_and_recovers() {
    let dir = TempDir::new("busy");
    let options = SqliteOptions { busy_timeout: Duration::from_millis(50) };
    let store = SqliteStore::open_with(dir.path(), &options).unwrap();
    let mut model = Model::default();
    let other = raw(&dir);
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let err = store.commit(every_change(), vec![]).await.unwrap_err();
    assert!(matches!(&err, StoreError::Unavailable(m) if m.contains("locked")), "{err}");
    other.execute_batch("ROLLBACK").unwrap();
    check(&store, &model, "after a commit refused for a lock").await;
    commit(&store, &mut model, every_change(), vec![]).await;
    check(&store, &model, "once the lock is released").await;
}

#[tokio::test]
async fn unreadable_rows_are_reported_as_corrupt() {
    let cases = [
        "UPDATE recipients SET record = '{not json'",
        "UPDATE recipients SET record = (SELECT o.record FROM recipients o WHERE o.id != recipients.id LIMIT 1)",
        "UPDATE members SET member_id = 'not-a-guid'",
        "UPDATE mailbox_aces SET rights = 65536",
        "UPDATE folder_aces SET user = 'default' WHERE user = 'Default'",
        "UPDATE folders SET well_known = 'Inbox' WHERE well_known IS NOT NULL",
        "UPDATE accepted_domains SET kind = 'Relay'",
    ];
    for damage in cases {
        let dir = TempDir::new("corrupt");
        let store = SqliteStore::open(dir.path()).unwrap();
        store.commit(every_change(), vec![]).await.unwrap();
        raw(&dir).execute_batch(damage).unwrap();
        match store.load().await {
            Err(StoreError::Corrupt(m)) => assert!(!m.is_empty()),
            other => panic!("{damage}: expected Corrupt, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn audit_times_keep_nanoseconds_and_bounds_are_exact() {
    let dir = TempDir::new("nanos");
    let store = SqliteStore::open(dir.path()).unwrap();
    let mut record = audit_at(0, "Set-Mailbox", "x");
    record.time += chrono::Duration::nanoseconds(123_456_789);
    store.commit(vec![], vec![record.clone()]).await.unwrap();
    let all = store.search_audit(&AuditQuery::default()).await.unwrap();
    assert_eq!(all, vec![record.clone()]);
    let one_ns = chrono::Duration::nanoseconds(1);
    let hits = |start, end| AuditQuery { start: Some(start), end: Some(end), ..AuditQuery::default() };
    assert_eq!(store.search_audit(&hits(record.time, record.time)).await.unwrap().len(), 1);
    assert!(store.search_audit(&hits(record.time + one_ns, record.time + one_ns)).await.unwrap().is_empty());
    assert!(store.search_audit(&hits(record.time - one_ns * 2, record.time - one_ns)).await.unwrap().is_empty());
}
