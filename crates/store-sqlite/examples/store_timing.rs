//! Timing of the SQLite store against its goals, with the baseline measured in
//! the same run: a small commit should cost about one fsync, and loading
//! 100,000 recipients should take well under a few seconds.
//!
//! `cargo run --release -p deputy-store-sqlite --example store_timing [dir]`

use deputy_store::conformance::{audit_at, plain_recipient, rich_recipient, rid};
use deputy_store::{Change, Store};
use deputy_store_sqlite::SqliteStore;
use deputy_types::{InheritanceType, MailboxAce, MailboxRights, RecipientType};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const SMALL_COMMITS: usize = 300;
const RECIPIENTS: u64 = 100_000;
const BULK_BATCH: u64 = 10_000;

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn percentile(mut xs: Vec<Duration>, p: usize) -> Duration {
    xs.sort();
    xs[(xs.len() * p / 100).min(xs.len() - 1)]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join(format!("deputy-store-timing-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;

    // Baseline: append four 4 KiB pages to a file and fsync it, as a WAL commit
    // of a small batch must (the table page, its index pages and the audit pages).
    let mut file = std::fs::File::create(dir.join("fsync-baseline"))?;
    let mut fsyncs = Vec::new();
    for _ in 0..SMALL_COMMITS {
        let t = Instant::now();
        file.write_all(&[0u8; 4 * 4096])?;
        file.sync_all()?;
        fsyncs.push(t.elapsed());
    }

    let store = SqliteStore::open(&dir)?;
    let mut commits = Vec::new();
    for i in 0..SMALL_COMMITS as u64 {
        let ace = MailboxAce {
            target: rid(i % 50),
            trustee: rid(1000 + i),
            rights: MailboxRights::FULL_ACCESS,
            deny: false,
            inheritance: InheritanceType::All,
            automapping: true,
        };
        let t = Instant::now();
        store.commit(vec![Change::PutMailboxAce(ace)], vec![audit_at(i as i64, "Add-MailboxPermission", "x")]).await?;
        commits.push(t.elapsed());
    }
    let (fsync_median, commit_median) = (median(fsyncs.clone()), median(commits.clone()));
    println!("fsync baseline:  median {fsync_median:?}, p99 {:?}", percentile(fsyncs, 99));
    println!("small commit:    median {commit_median:?}, p99 {:?}", percentile(commits, 99));
    println!("commit / fsync:  {:.2}x", commit_median.as_secs_f64() / fsync_median.as_secs_f64().max(1e-9));

    let t = Instant::now();
    for start in (0..RECIPIENTS).step_by(BULK_BATCH as usize) {
        let batch = (start..start + BULK_BATCH)
            .map(|n| {
                Change::PutRecipient(if n % 2 == 0 {
                    rich_recipient(n, 0)
                } else {
                    plain_recipient(n, RecipientType::UserMailbox, 0)
                })
            })
            .collect();
        store.commit(batch, vec![]).await?;
    }
    println!("insert {RECIPIENTS} recipients in batches of {BULK_BATCH}: {:?}", t.elapsed());
    drop(store);

    let t = Instant::now();
    let store = SqliteStore::open(&dir)?;
    let opened = t.elapsed();
    let t = Instant::now();
    let snapshot = store.load().await?;
    let loaded = t.elapsed();
    assert_eq!(snapshot.recipients.len() as u64, RECIPIENTS);
    println!("reopen: {opened:?}; load {} recipients: {loaded:?}", snapshot.recipients.len());
    let size = std::fs::metadata(store.path())?.len();
    println!("database size: {:.1} MiB", size as f64 / (1024.0 * 1024.0));
    drop(store);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
