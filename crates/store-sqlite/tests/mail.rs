//! Mail behaviour only the SQLite backend can show: group commit counted by its
//! diagnostics, failures injected into one request of a group, UID exhaustion,
//! damaged rows, and the migration from schema version 1.

#![expect(clippy::unwrap_used, reason = "helpers outside #[test] fail the test by panicking")]

mod common;

use common::TempDir;
use deputy_store::conformance::mail::{MailModel, check_mail, delivery, entry, join_all, outbound};
use deputy_store::conformance::{Model, check, commit, every_change, fid, plain_recipient};
use deputy_store::{Change, Delivery, MailStore, Store, StoreError};
use deputy_store_sqlite::{DB_FILE, SCHEMA_VERSION, SqliteStore};
use deputy_types::{BlobId, MessageFlags, QueueId, RecipientType};
use rusqlite::Connection;
use std::collections::BTreeSet;
use std::time::Duration;

fn raw(dir: &TempDir) -> Connection {
    Connection::open(dir.path().join(DB_FILE)).unwrap()
}

fn one(n: u64, folder: u64) -> Delivery {
    delivery(n, vec![entry(folder, MessageFlags::empty(), None)], None)
}

/// Fifty tasks on several threads store at once: all succeed with distinct
/// UIDs, and the writer commits them in fewer transactions than calls, which
/// is what group commit means (one fsync shared by several callers).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_stores_share_transactions() {
    let dir = TempDir::new("group-commit");
    let store = SqliteStore::open(dir.path()).unwrap();
    let before = store.diagnostics().await.unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move { store.store(vec![one(n, n % 2)]).await })
        })
        .collect();
    let mut uids = BTreeSet::new();
    for task in tasks {
        let stored = task.await.unwrap().unwrap();
        assert!(uids.insert(stored[0].uids[0]), "UID {:?} was handed out twice", stored[0].uids[0]);
    }
    let after = store.diagnostics().await.unwrap();
    let (writes, transactions) = (after.writes - before.writes, after.transactions - before.transactions);
    assert_eq!(writes, 50, "every store call must be counted as committed");
    assert!(transactions < writes, "50 concurrent calls took {transactions} transactions: nothing was grouped");
    assert_eq!(store.entries(fid(0)).await.unwrap().len() + store.entries(fid(1)).await.unwrap().len(), 50);
}

/// Holds the write lock from another connection so the writer's next group
/// waits for it, and releases it after `hold`.
fn hold_write_lock(dir: &TempDir, hold: Duration) -> std::thread::JoinHandle<()> {
    let conn = raw(dir);
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    std::thread::spawn(move || {
        std::thread::sleep(hold);
        conn.execute_batch("ROLLBACK").unwrap();
    })
}

/// One group holding good requests, a request hit by an injected fault, a
/// request for a folder out of UIDs and a directory batch: only the bad two
/// fail, and the group still commits once.
#[tokio::test]
async fn failing_requests_in_a_group_fail_alone() {
    let dir = TempDir::new("group-failure");
    let store = SqliteStore::open(dir.path()).unwrap();
    let mut model = MailModel::default();
    let mut directory = Model::default();
    // Folder 7 has handed out its last UID but one.
    deputy_store::conformance::mail::store(&store, &mut model, vec![one(1, 7)]).await;
    raw(&dir).execute("UPDATE folder_state SET uidnext = 4294967295 WHERE folder = ?1", [fid(7).to_string()]).unwrap();
    raw(&dir)
        .execute_batch(
            "CREATE TRIGGER fault BEFORE INSERT ON folder_entries WHEN NEW.message_id = '66@conformance.test'
             BEGIN SELECT RAISE(ABORT, 'injected fault'); END;",
        )
        .unwrap();
    let before = store.diagnostics().await.unwrap();
    let release = hold_write_lock(&dir, Duration::from_millis(300));
    // The first request takes a group of its own and waits for the lock; the
    // rest queue behind it meanwhile and form the second group.
    let first = store.store(vec![one(2, 7)]);
    let recipient = plain_recipient(40, RecipientType::UserMailbox, 0);
    let rest = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let calls = vec![
            store.store(vec![one(3, 1)]),
            store.store(vec![one(66, 1)]),
            store.store(vec![one(4, 7)]),
            store.store(vec![one(5, 2), delivery(6, vec![], Some(outbound("a@c.test", &["b@r.test"])))]),
        ];
        let directory_commit = store.commit(vec![Change::PutRecipient(recipient.clone())], vec![]);
        tokio::join!(join_all(calls), directory_commit)
    };
    let (first, (results, committed)) = tokio::join!(first, rest);
    release.join().unwrap();
    let stored = first.unwrap();
    assert_eq!(stored[0].uids[0].1, u32::MAX, "the last UID IMAP allows is still handed out");
    model.stored(&one(2, 7), &stored[0]);
    let mut results = results.into_iter();
    model.stored(&one(3, 1), &results.next().unwrap().unwrap()[0]);
    let fault = results.next().unwrap().unwrap_err();
    assert!(matches!(&fault, StoreError::Backend(m) if m.contains("injected fault")), "{fault}");
    let full = results.next().unwrap().unwrap_err();
    assert!(matches!(&full, StoreError::Backend(m) if m.contains("every UID")), "{full}");
    let pair = results.next().unwrap().unwrap();
    model.stored(&one(5, 2), &pair[0]);
    model.stored(&delivery(6, vec![], Some(outbound("a@c.test", &["b@r.test"]))), &pair[1]);
    committed.unwrap();
    directory.commit(&[Change::PutRecipient(recipient)], &[]);
    let after = store.diagnostics().await.unwrap();
    assert_eq!(after.transactions - before.transactions, 2, "the first request, then everything queued behind it");
    assert_eq!(after.writes - before.writes, 4, "the first request, two good stores and the directory batch");
    check_mail(&store, &model, "after a group with two failures").await;
    check(&store, &directory, "the directory batch of the same group").await;
}

/// A database locked by another process makes every request of the group
/// unavailable, and the writer recovers once the lock is gone.
#[tokio::test]
async fn a_locked_database_fails_the_whole_group_and_recovers() {
    let dir = TempDir::new("mail-busy");
    let options = deputy_store_sqlite::SqliteOptions { busy_timeout: Duration::from_millis(50) };
    let store = SqliteStore::open_with(dir.path(), &options).unwrap();
    let other = raw(&dir);
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let err = store.store(vec![one(1, 1)]).await.unwrap_err();
    assert!(matches!(&err, StoreError::Unavailable(m) if m.contains("locked")), "{err}");
    other.execute_batch("ROLLBACK").unwrap();
    let mut model = MailModel::default();
    check_mail(&store, &model, "after a refused store").await;
    deputy_store::conformance::mail::store(&store, &mut model, vec![one(2, 1)]).await;
    check_mail(&store, &model, "once the lock is released").await;
}

/// Dropping the store waits for its writer, so the data reopens at once, and
/// the directory and mail share the file.
#[tokio::test]
async fn directory_and_mail_survive_reopening_together() {
    let dir = TempDir::new("mail-reopen");
    let mut model = MailModel::default();
    let mut directory = Model::default();
    for round in 0..3_u64 {
        let store = SqliteStore::open(dir.path()).unwrap();
        check_mail(&store, &model, &format!("round {round}, on opening")).await;
        check(&store, &directory, &format!("round {round}, on opening")).await;
        deputy_store::conformance::mail::store(&store, &mut model, vec![one(round, 1)]).await;
        let change = Change::PutRecipient(plain_recipient(round, RecipientType::UserMailbox, 0));
        commit(&store, &mut directory, vec![change], vec![]).await;
    }
}

#[tokio::test]
async fn unreadable_mail_rows_are_reported_as_corrupt() {
    let cases = [
        "UPDATE folder_entries SET flags = 4096",
        "UPDATE folder_entries SET creator = 'not-a-guid'",
        "UPDATE folder_entries SET uid = -1",
        "UPDATE folder_entries SET size = 'big'",
        "UPDATE queue SET recipients = '{not json'",
        "UPDATE queue SET attempts = -3",
        "UPDATE blobs SET raw = 'text, not a blob'",
    ];
    for damage in cases {
        let dir = TempDir::new("mail-corrupt");
        let store = SqliteStore::open(dir.path()).unwrap();
        let d = delivery(1, vec![entry(1, MessageFlags::SEEN, Some(2))], Some(outbound("a@c.test", &["b@r.test"])));
        let blob = store.store(vec![d]).await.unwrap()[0].blob;
        // The damage the schema's CHECKs would refuse is what a bad disk or a hand edit leaves.
        raw(&dir).execute_batch(&format!("PRAGMA ignore_check_constraints = ON; {damage}")).unwrap();
        let results = [
            store.entries(fid(1)).await.map(|_| ()),
            store.queue_all().await.map(|_| ()),
            store.body(blob).await.map(|_| ()),
        ];
        assert!(
            results.iter().any(|r| matches!(r, Err(StoreError::Corrupt(_)))),
            "{damage}: expected a Corrupt error, got {results:?}"
        );
        assert!(results.iter().all(|r| matches!(r, Ok(()) | Err(StoreError::Corrupt(_)))), "{damage}: {results:?}");
    }
}

#[tokio::test]
async fn ids_out_of_range_are_absent_or_refused() {
    let dir = TempDir::new("mail-ids");
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.body(BlobId(u64::MAX)).await.unwrap(), None);
    let stored = store.store(vec![delivery(1, vec![], Some(outbound("a@c.test", &["b@r.test"])))]).await.unwrap();
    let mut m = store.queue_all().await.unwrap().remove(0);
    assert_eq!(Some(m.id), stored[0].queued);
    m.id = QueueId(u64::MAX);
    let err = store.queue_update(&m, None).await.unwrap_err();
    assert!(matches!(&err, StoreError::Backend(m) if m.contains("no longer queued")), "{err}");
}

/// A version 1 database (directory only) gains the mail tables and keeps its data.
#[tokio::test]
async fn a_version_1_database_migrates_to_mail() {
    let dir = TempDir::new("migrate-v1");
    let mut directory = Model::default();
    {
        let store = SqliteStore::open(dir.path()).unwrap();
        let v1_changes = every_change()
            .into_iter()
            .filter(|c| !matches!(c, Change::PutServicePrincipal(_) | Change::DeleteServicePrincipal(_)))
            .collect();
        commit(&store, &mut directory, v1_changes, vec![]).await;
    }
    // What version 1 left: no mail tables (nor later ones), user_version 1.
    raw(&dir)
        .execute_batch(
            "DROP TABLE blobs; DROP TABLE folder_state; DROP TABLE folder_entries; DROP TABLE queue;
             DROP TABLE service_principals; DROP TABLE subscriptions; DELETE FROM sqlite_sequence;
             PRAGMA user_version = 1;",
        )
        .unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.diagnostics().await.unwrap().schema_version, SCHEMA_VERSION);
    check(&store, &directory, "after migrating from version 1").await;
    let mut model = MailModel::default();
    deputy_store::conformance::mail::store(&store, &mut model, vec![one(1, 1)]).await;
    check_mail(&store, &model, "mail after migrating").await;
}

/// A new folder's UIDVALIDITY is never 0, is at least the current time in
/// seconds, and differs from every folder made before, even in the same second.
#[tokio::test]
async fn uidvalidity_is_nonzero_and_new_for_each_folder() {
    let dir = TempDir::new("uidvalidity");
    let store = SqliteStore::open(dir.path()).unwrap();
    let start = chrono::Utc::now().timestamp();
    store.store((0..5).map(|n| one(n, n)).collect()).await.unwrap();
    let values: Vec<i64> = raw(&dir)
        .prepare("SELECT uidvalidity FROM folder_state")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let distinct: BTreeSet<i64> = values.iter().copied().collect();
    assert_eq!(distinct.len(), 5, "{values:?}");
    assert!(values.iter().all(|v| *v >= start && *v > 0 && *v <= i64::from(u32::MAX)), "{values:?}");
}
