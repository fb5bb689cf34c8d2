//! Folder operations only the SQLite backend can show: a move or expunge hit
//! by an injected fault changes nothing, the migration from schema version 2
//! numbers existing entries' mod-sequences, and a folder's first status goes
//! through the writer once; the migration from version 4 adds subscriptions.

#![expect(clippy::unwrap_used, reason = "helpers outside #[test] fail the test by panicking")]

mod common;

use common::TempDir;
use deputy_store::MailStore;
use deputy_store::conformance::mail::{FlagOp, MailModel, check_mail, delivery, entry, store};
use deputy_store::conformance::{fid, rid};
use deputy_store_sqlite::{DB_FILE, SCHEMA_VERSION, SqliteStore};
use deputy_types::MessageFlags;
use rusqlite::Connection;

fn raw(dir: &TempDir) -> Connection {
    Connection::open(dir.path().join(DB_FILE)).unwrap()
}

/// A move whose expunge fails leaves no copy behind, and an expunge that
/// fails halfway removes nothing: each request is one savepoint.
#[tokio::test]
async fn a_failing_move_or_expunge_changes_nothing() {
    let dir = TempDir::new("move-fault");
    let s = SqliteStore::open(dir.path()).unwrap();
    let mut model = MailModel::default();
    for n in 1..=3 {
        store(&s, &mut model, vec![delivery(n, vec![entry(1, MessageFlags::empty(), None)], None)]).await;
    }
    raw(&dir)
        .execute_batch(
            "CREATE TRIGGER fault BEFORE DELETE ON folder_entries WHEN OLD.uid = 3
             BEGIN SELECT RAISE(ABORT, 'injected fault'); END;",
        )
        .unwrap();
    let before = s.folder_status(fid(2)).await.unwrap();
    model.status_seen(fid(2));
    let err = s.move_entries(fid(1), &[1, 2, 3], fid(2)).await.unwrap_err();
    assert!(err.to_string().contains("injected fault"), "{err}");
    assert!(s.entries(fid(2)).await.unwrap().is_empty(), "a failed move must leave no copy");
    assert_eq!(s.folder_status(fid(2)).await.unwrap(), before, "a failed move must not use UIDs or mod-sequences");
    assert!(s.expunge(fid(1), &[1, 3]).await.is_err());
    check_mail(&s, &model, "after a failed move and a failed expunge").await;
    raw(&dir).execute_batch("DROP TRIGGER fault").unwrap();
    let pairs = s.move_entries(fid(1), &[1, 2, 3], fid(2)).await.unwrap();
    model.copied(fid(1), &[1, 2, 3], fid(2), None, &pairs);
    check_mail(&s, &model, "after the move succeeded").await;
}

/// A version 2 database gains mod-sequences: the entry with UID u gets u + 1
/// and the folder's highest is its UIDNEXT, as if stored under version 3.
#[tokio::test]
async fn a_version_2_database_migrates_to_mod_sequences() {
    let dir = TempDir::new("migrate-v2");
    let mut model = MailModel::default();
    {
        let s = SqliteStore::open(dir.path()).unwrap();
        let flags = MessageFlags::empty();
        store(&s, &mut model, vec![delivery(1, vec![entry(1, flags, None), entry(2, flags, None)], None)]).await;
        store(&s, &mut model, vec![delivery(2, vec![entry(1, MessageFlags::SEEN, None)], None)]).await;
        // The model numbered them as version 3 does, which the migration must reproduce.
    }
    raw(&dir)
        .execute_batch(
            "ALTER TABLE folder_entries DROP COLUMN modseq; ALTER TABLE folder_state DROP COLUMN highest_modseq;
             DROP TABLE service_principals; DROP TABLE subscriptions; PRAGMA user_version = 2;",
        )
        .unwrap();
    let s = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(s.diagnostics().await.unwrap().schema_version, SCHEMA_VERSION);
    check_mail(&s, &model, "after migrating from version 2").await;
    let expected = model.set_flags(fid(1), &[1, 2], FlagOp::Add(MessageFlags::FLAGGED), None);
    assert_eq!(s.set_flags(fid(1), &[1, 2], FlagOp::Add(MessageFlags::FLAGGED), None).await.unwrap(), expected);
    check_mail(&s, &model, "after changing flags in a migrated store").await;
}

/// Only a folder's first status writes; later ones are reads.
#[tokio::test]
async fn only_the_first_status_of_a_folder_writes() {
    let dir = TempDir::new("status-write");
    let s = SqliteStore::open(dir.path()).unwrap();
    let before = s.diagnostics().await.unwrap().writes;
    let first = s.folder_status(fid(5)).await.unwrap();
    for _ in 0..3 {
        assert_eq!(s.folder_status(fid(5)).await.unwrap(), first);
    }
    assert_eq!(s.diagnostics().await.unwrap().writes - before, 1, "one write creates the state, reads do the rest");
}

/// A version 4 database gains the subscriptions table and keeps its mail; a
/// subscription choice then goes through the writer and survives a reopen.
#[tokio::test]
async fn a_version_4_database_migrates_to_subscriptions() {
    let dir = TempDir::new("migrate-v4");
    let mut model = MailModel::default();
    {
        let s = SqliteStore::open(dir.path()).unwrap();
        store(&s, &mut model, vec![delivery(1, vec![entry(1, MessageFlags::empty(), None)], None)]).await;
    }
    raw(&dir).execute_batch("DROP TABLE subscriptions; PRAGMA user_version = 4;").unwrap();
    let s = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(s.diagnostics().await.unwrap().schema_version, SCHEMA_VERSION);
    check_mail(&s, &model, "after migrating from version 4").await;
    assert!(s.subscriptions(rid(1)).await.unwrap().is_empty(), "nobody chose anything yet");
    s.set_subscription(rid(1), fid(1), false).await.unwrap();
    drop(s);
    let s = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(s.subscriptions(rid(1)).await.unwrap(), vec![(fid(1), false)]);
}
