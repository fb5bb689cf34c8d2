//! Timing of mail delivery into the SQLite store against its baseline measured
//! in the same run: 20 concurrent tasks each store 4 KiB messages with one
//! folder entry, durable before `store` returns. Group commit should let many
//! messages share one fsync, so the store should beat one 4 KiB append + fsync
//! per message (what a store without group commit can at best do).
//!
//! `cargo run --release -p deputy-store-sqlite --example mail_timing [dir] [messages]`

use deputy_store::MailStore;
use deputy_store::conformance::mail::{delivery, entry};
use deputy_store_sqlite::SqliteStore;
use deputy_types::MessageFlags;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const TASKS: usize = 20;
const MESSAGE: usize = 4096;
const BASELINE_MESSAGES: usize = 1000;
const ROUNDS: usize = 3;

fn percentile(mut xs: Vec<Duration>, p: usize) -> Duration {
    xs.sort();
    xs[(xs.len() * p / 100).min(xs.len() - 1)]
}

/// One 4 KiB append and fsync per message, one after another.
fn baseline(dir: &std::path::Path) -> std::io::Result<f64> {
    let mut file = std::fs::File::create(dir.join("fsync-baseline"))?;
    let t = Instant::now();
    for _ in 0..BASELINE_MESSAGES {
        file.write_all(&[b'x'; MESSAGE])?;
        file.sync_all()?;
    }
    Ok(BASELINE_MESSAGES as f64 / t.elapsed().as_secs_f64())
}

/// Stores `total` messages from [`TASKS`] tasks; returns (messages/s, messages per
/// transaction, p50 and p99 latency of one `store`).
async fn deliver(
    store: &SqliteStore,
    total: usize,
    round: usize,
) -> Result<(f64, f64, Duration, Duration), Box<dyn std::error::Error>> {
    let before = store.diagnostics().await?;
    let t = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                for i in 0..total / TASKS {
                    let n = ((round * total + task * (total / TASKS) + i) as u64) + 1;
                    let mut d = delivery(n, vec![entry(task as u64 % 10, MessageFlags::empty(), None)], None);
                    d.raw.resize(MESSAGE, b'x');
                    let started = Instant::now();
                    store.store(vec![d]).await?;
                    latencies.push(started.elapsed());
                }
                Ok::<_, deputy_store::StoreError>(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let elapsed = t.elapsed();
    let after = store.diagnostics().await?;
    let writes = (after.writes - before.writes) as f64;
    let transactions = (after.transactions - before.transactions).max(1) as f64;
    Ok((
        latencies.len() as f64 / elapsed.as_secs_f64(),
        writes / transactions,
        percentile(latencies.clone(), 50),
        percentile(latencies, 99),
    ))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join(format!("deputy-mail-timing-{}", std::process::id())));
    let total: usize = std::env::args().nth(2).map(|s| s.parse()).transpose()?.unwrap_or(10_000);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    println!("{TASKS} tasks, {MESSAGE}-byte messages, one folder entry each, {total} messages per round");
    let store = SqliteStore::open(&dir)?;
    for round in 0..ROUNDS {
        let base = baseline(&dir)?;
        let (rate, per_fsync, p50, p99) = deliver(&store, total, round).await?;
        println!(
            "round {round}: baseline append+fsync {base:>7.0} msg/s | store {rate:>7.0} msg/s, \
             {per_fsync:>5.1} msg/transaction, latency p50 {p50:?} p99 {p99:?} | store/baseline {:.2}x",
            rate / base
        );
    }
    let size = std::fs::metadata(store.path())?.len();
    println!("database size: {:.1} MiB", size as f64 / (1024.0 * 1024.0));
    drop(store);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
