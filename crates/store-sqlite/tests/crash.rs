//! Crash test: a writer process is SIGKILLed mid-run; reopening must show every
//! acknowledged batch and exactly a prefix of the batches (never half of one).

#![expect(clippy::unwrap_used, reason = "helpers outside #[test] fail the test by panicking")]

mod common;

use common::TempDir;
use deputy_store::conformance::{Model, Workload, audit_at, check};
use deputy_store::{AuditQuery, Store};
use deputy_store_sqlite::SqliteStore;
use deputy_types::AuditRecord;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Set in the child process: the data directory to write to.
const CHILD_DIR: &str = "DEPUTY_STORE_CRASH_CHILD_DIR";
const SEED: u64 = 0xC0FFEE;
/// Large batches, so the kill often lands inside a transaction.
const MAX_CHANGES: u64 = 60;

/// Batch `n` of the crash workload: the workload's changes and audit, plus a
/// marker record that says the batch landed.
fn batches() -> impl Iterator<Item = (Vec<deputy_store::Change>, Vec<AuditRecord>)> {
    let mut workload = Workload::new(SEED, MAX_CHANGES);
    (0_u64..).map(move |n| {
        let (changes, mut audit) = workload.next_batch();
        audit.push(audit_at(0, "Crash-Marker", &n.to_string()));
        (changes, audit)
    })
}

/// The child's entry point, not a test of its own: it does nothing unless the
/// parent below started this executable with `CHILD_DIR` set. It then commits
/// batches forever, printing `ack <n>` after each commit returns.
#[tokio::test]
async fn crash_child_process() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else { return };
    let store = SqliteStore::open(Path::new(&dir)).unwrap();
    for (n, (changes, audit)) in batches().enumerate() {
        store.commit(changes, audit).await.unwrap();
        println!("ack {n}");
    }
}

/// Runs one writer, kills it after `acks` acknowledgements (plus `extra`), and
/// returns the highest acknowledged batch number.
fn run_and_kill(dir: &Path, acks: usize, extra: Duration) -> usize {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["crash_child_process", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut last = None;
    for line in lines.by_ref() {
        if let Some(n) = line.unwrap().strip_prefix("ack ") {
            last = Some(n.parse::<usize>().unwrap());
            if last >= Some(acks) {
                break;
            }
        }
    }
    assert!(last >= Some(acks), "the writer stopped after {last:?} acknowledgements; see its stderr above");
    std::thread::sleep(extra);
    child.kill().unwrap();
    child.wait().unwrap();
    // Whatever the child printed before it died was acknowledged too.
    for line in lines {
        if let Some(n) = line.unwrap().strip_prefix("ack ") {
            last = Some(n.parse().unwrap());
        }
    }
    last.unwrap_or_default()
}

#[tokio::test]
async fn killed_writer_loses_no_acknowledged_batch_and_leaves_no_half_batch() {
    for (round, extra_us) in [0_u64, 300, 1_300, 2_900, 4_700, 8_000].into_iter().enumerate() {
        let dir = TempDir::new("crash");
        let acked = run_and_kill(dir.path(), 8 + 5 * round, Duration::from_micros(extra_us));
        let store = SqliteStore::open(dir.path()).unwrap();
        let markers: Vec<usize> = store
            .search_audit(&AuditQuery { cmdlets: vec!["Crash-Marker".into()], ..AuditQuery::default() })
            .await
            .unwrap()
            .iter()
            .map(|r| r.object.parse().unwrap())
            .collect();
        let landed = markers.len();
        assert!(landed > acked, "round {round}: batch {acked} was acknowledged but only {landed} batches survived");
        let expected: Vec<usize> = (0..landed).rev().collect();
        assert_eq!(markers, expected, "round {round}: the surviving batches must be a prefix");
        let mut model = Model::default();
        for (changes, audit) in batches().take(landed) {
            model.commit(&changes, &audit);
        }
        check(&store, &model, &format!("round {round}: after the crash, at {landed} batches")).await;
    }
}
