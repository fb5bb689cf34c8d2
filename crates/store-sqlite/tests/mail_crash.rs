//! Crash test for mail: a process storing messages from 20 concurrent tasks is
//! SIGKILLed; after reopening, every acknowledged message is present exactly
//! once with its exact body, no entry or queue entry points to a missing body,
//! and UIDs continue above every one handed out.

#![expect(clippy::unwrap_used, reason = "helpers outside #[test] fail the test by panicking")]

mod common;

use common::TempDir;
use deputy_store::MailStore;
use deputy_store::conformance::fid;
use deputy_store::conformance::mail::{delivery, entry, message, outbound};
use deputy_store_sqlite::SqliteStore;
use deputy_types::{FolderId, MessageFlags, Uid};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Set in the child process: the data directory to write to.
const CHILD_DIR: &str = "DEPUTY_MAIL_CRASH_CHILD_DIR";
const TASKS: u64 = 20;
/// Each task's folder is `fid(task % FOLDERS)`; every third message also goes to `SHARED`.
const FOLDERS: u64 = 5;
const SHARED: u64 = 50;

/// The message task `task` stores `n`-th: its seed names its body and Message-ID.
fn seed(task: u64, n: u64) -> u64 {
    task * 1_000_000 + n
}

/// Body length for `seed`: from a few hundred bytes to several pages, so some
/// bodies span overflow pages.
fn body_len(seed: u64) -> usize {
    200 + (seed.wrapping_mul(7919) % 9000) as usize
}

fn message_id(seed: u64) -> String {
    format!("{seed}@conformance.test")
}

fn seed_of(message_id: &str) -> Option<u64> {
    message_id.strip_suffix("@conformance.test")?.parse().ok()
}

/// The child's entry point, not a test of its own: it does nothing unless the
/// parent below started this executable with `CHILD_DIR` set. Its tasks store
/// forever, printing `ack <folder> <uid> <message-id>` for each entry once
/// `store` returned.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mail_crash_child_process() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else { return };
    let store = SqliteStore::open(Path::new(&dir)).unwrap();
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let store = store.clone();
            tokio::spawn(async move {
                for n in 0_u64.. {
                    let s = seed(task, n);
                    let mut entries = vec![entry(task % FOLDERS, MessageFlags::empty(), None)];
                    let mut remote = None;
                    if n % 3 == 0 {
                        entries.push(entry(SHARED, MessageFlags::SEEN, Some(task)));
                        remote = Some(outbound("me@contoso.test", &["you@remote.test"]));
                    }
                    let mut d = delivery(s, entries, remote);
                    d.raw = message(s, body_len(s));
                    d.message_id = Some(message_id(s));
                    let stored = store.store(vec![d]).await.unwrap();
                    for (folder, uid) in &stored[0].uids {
                        println!("ack {folder} {uid} {}", message_id(s));
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

type Ack = (FolderId, Uid, String);

fn parse_ack(line: &str) -> Option<Ack> {
    let mut words = line.strip_prefix("ack ")?.split(' ');
    let folder = words.next()?.parse().ok()?;
    let uid = words.next()?.parse().ok()?;
    let id = words.next()?;
    seed_of(id)?;
    Some((folder, uid, id.to_owned()))
}

/// Runs one writer, kills it after `acks` acknowledgements plus `extra`, and
/// returns every acknowledgement it printed.
fn run_and_kill(dir: &Path, acks: usize, extra: Duration) -> Vec<Ack> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["mail_crash_child_process", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acked = Vec::new();
    for line in lines.by_ref() {
        acked.extend(parse_ack(&line.unwrap()));
        if acked.len() >= acks {
            break;
        }
    }
    assert!(acked.len() >= acks, "the writer stopped after {} acknowledgements; see its stderr above", acked.len());
    std::thread::sleep(extra);
    child.kill().unwrap();
    child.wait().unwrap();
    // Whatever the child printed before it died was acknowledged too.
    acked.extend(lines.map_while(Result::ok).filter_map(|l| parse_ack(&l)));
    acked
}

/// Checks the reopened store against the acknowledgements; returns each folder's highest UID.
async fn check_after_crash(store: &SqliteStore, acked: &[Ack], round: usize) -> BTreeMap<FolderId, Uid> {
    let folders: Vec<FolderId> = (0..FOLDERS).chain([SHARED]).map(fid).collect();
    let mut highest = BTreeMap::new();
    let mut found: BTreeMap<(FolderId, String), Uid> = BTreeMap::new();
    for folder in &folders {
        let entries = store.entries(*folder).await.unwrap();
        for e in &entries {
            let id = e.message_id.clone().unwrap();
            let s = seed_of(&id).unwrap();
            let body = store.body(e.blob).await.unwrap();
            assert!(body.is_some(), "round {round}: entry {} of {folder:?} points to missing body {:?}", e.uid, e.blob);
            assert!(body == Some(message(s, body_len(s))), "round {round}: {id} in {folder:?} has the wrong body");
            assert_eq!(e.size as usize, message(s, body_len(s)).len(), "round {round}: size of {id}");
            let again = found.insert((*folder, id.clone()), e.uid);
            assert!(again.is_none(), "round {round}: {id} is in {folder:?} twice");
        }
        highest.insert(*folder, entries.last().map_or(0, |e| e.uid));
    }
    for (folder, uid, id) in acked {
        assert_eq!(
            found.get(&(*folder, id.clone())),
            Some(uid),
            "round {round}: acknowledged {id} (UID {uid} in {folder:?}) did not survive the crash"
        );
    }
    for q in store.queue_all().await.unwrap() {
        assert!(store.body(q.blob).await.unwrap().is_some(), "round {round}: queue entry {:?} lost its body", q.id);
    }
    highest
}

#[tokio::test]
async fn killed_mail_writer_loses_no_acknowledged_message() {
    for (round, extra_us) in [0_u64, 700, 2_300, 4_100, 9_000].into_iter().enumerate() {
        let dir = TempDir::new("mail-crash");
        let acked = run_and_kill(dir.path(), 40 + 30 * round, Duration::from_micros(extra_us));
        let store = SqliteStore::open(dir.path()).unwrap();
        let highest = check_after_crash(&store, &acked, round).await;
        // UIDs continue above everything the crashed process handed out, acknowledged or not.
        for (folder, top) in highest {
            let d = delivery(
                9_999_999,
                vec![deputy_store::NewEntry { folder, ..entry(0, MessageFlags::empty(), None) }],
                None,
            );
            let uid = store.store(vec![d]).await.unwrap()[0].uids[0].1;
            assert!(uid > top, "round {round}: {folder:?} reused UID {uid} (highest before: {top})");
        }
    }
}
