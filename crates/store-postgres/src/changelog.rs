//! The change log that lets every node of a cluster apply what the others
//! committed (`Store::head`, `changes_since`, `commit_after`).
//!
//! Every directory commit first takes one transaction-scoped advisory lock,
//! so directory commits run one at a time across all nodes and the log's
//! `seq` order is their commit order: a reader can never see a batch before
//! one committed earlier. The lock is held only for the commit itself.
//!
//! The log is pruned by the commits themselves ([`Retention`]): a batch goes
//! only when it is old both by count and by age. The one-row table
//! `change_log_pruned` records how far the log was pruned, so a follower
//! whose position lies behind that horizon is told so (`StoreError::HistoryPruned`)
//! instead of being handed the batches after a gap. `seq` has gaps of its
//! own (a rolled-back commit still used its number), so a gap in the rows
//! cannot tell a pruned log from a complete one; the recorded horizon can.

use crate::directory;
use crate::error::Error;
use crate::sql::{exec, row, rows};
use deadpool_postgres::GenericClient;
use deputy_store::{Change, StoreError};
use deputy_types::AuditRecord;
use std::time::Duration;

/// The advisory lock key of directory commits ("deputy" in ASCII).
const COMMIT_LOCK: i64 = 0x0000_6465_7075_7479;

/// The NOTIFY channel a commit signals on, for nodes that wait (IMAP IDLE).
pub const CHANNEL: &str = "deputy_changes";

/// Batches always kept, however old: a node that lags by fewer replays them
/// rather than reloading the whole directory. A batch is about a kilobyte of
/// JSON at most (one recipient's record), so this is about a megabyte.
pub const KEEP_BATCHES: u64 = 1000;

/// Batches younger than this are always kept, however many: a node lags by
/// seconds while it serves requests (it catches up at the start of each), so
/// only a node idle for a day during a burst of changes has to reload. A day
/// of directory changes (administrators' work) is small next to mail.
pub const KEEP_FOR: Duration = Duration::from_secs(24 * 60 * 60);

/// Every this many commits one prunes, so pruning costs one statement per
/// hundred commits and the log holds about this many batches at most beyond
/// the retained ones (a position a rolled-back commit used prunes nothing).
pub const PRUNE_EVERY: u64 = 100;

/// How much of the change log a node keeps when it prunes ([`crate::PgOptions::change_log`]).
/// A batch is pruned only when it is outside *both* bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// The newest batches kept whatever their age (at least 1: the newest
    /// batch is the log's head, which `commit_after` compares against).
    pub batches: u64,
    /// Batches younger than this are kept whatever their number.
    pub age: Duration,
    /// A commit prunes when its position is a multiple of this (at least 1).
    pub every: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Self { batches: KEEP_BATCHES, age: KEEP_FOR, every: PRUNE_EVERY }
    }
}

/// Batches with their positions, oldest first.
pub(crate) type Batches = Vec<(u64, Vec<Change>)>;

/// The newest position in the log, 0 when empty.
pub(crate) async fn head<C: GenericClient>(c: &C) -> Result<u64, Error> {
    let r = row(c, "reading the change log's head", "SELECT coalesce(max(seq), 0) FROM change_log", &[]).await?;
    let seq: i64 = r.and_then(|r| r.try_get(0).ok()).unwrap_or(0);
    Ok(u64::try_from(seq).unwrap_or(0))
}

/// The batches after `position`, oldest first, or `StoreError::HistoryPruned`
/// when some of them may have been pruned. One statement, so the horizon and the
/// rows come from one snapshot: a prune committed meanwhile cannot slip in
/// between checking the horizon and reading the rows.
pub(crate) async fn since<C: GenericClient>(c: &C, position: u64) -> Result<Batches, Error> {
    let doing = "reading the change log";
    let corrupt = |e: &dyn std::fmt::Display| Error::Store(StoreError::Corrupt(format!("{doing}: {e}")));
    let from = i64::try_from(position).unwrap_or(i64::MAX);
    // The horizon table has exactly one row, so the left join yields it even
    // when no batch follows `position`.
    let found = rows(
        c,
        doing,
        "SELECT p.through, l.seq, l.batch::text FROM change_log_pruned p \
         LEFT JOIN change_log l ON l.seq > $1 ORDER BY l.seq",
        &[&from],
    )
    .await?;
    let through: i64 = match found.first() {
        Some(r) => r.try_get(0).map_err(|e| corrupt(&e))?,
        None => return Err(corrupt(&"the change_log_pruned row is missing")),
    };
    if through > from {
        let pruned_through = u64::try_from(through).unwrap_or(0);
        return Err(Error::Store(StoreError::HistoryPruned { position, pruned_through }));
    }
    let mut batches = Vec::with_capacity(found.len());
    for r in &found {
        let Some(seq) = r.try_get::<_, Option<i64>>(1).map_err(|e| corrupt(&e))? else {
            continue;
        };
        let batch: String = r.try_get(2).map_err(|e| corrupt(&e))?;
        let changes: Vec<Change> =
            serde_json::from_str(&batch).map_err(|e| corrupt(&format_args!("batch {seq}: {e}")))?;
        batches.push((u64::try_from(seq).unwrap_or(0), changes));
    }
    Ok(batches)
}

/// Applies a batch inside the caller's transaction and appends it to the log,
/// after checking (with `base`) that nobody committed since the caller's read;
/// then prunes the log when `retention` says this commit is the one to.
pub(crate) async fn commit<C: GenericClient>(
    tx: &C,
    base: Option<u64>,
    changes: &[Change],
    audit: &[AuditRecord],
    retention: &Retention,
) -> Result<(), Error> {
    exec(tx, "waiting for the directory commit lock", "SELECT pg_advisory_xact_lock($1)", &[&COMMIT_LOCK]).await?;
    if let Some(base) = base
        && head(tx).await? != base
    {
        return Err(Error::Store(StoreError::Conflict));
    }
    let batch = serde_json::to_string(changes)
        .map_err(|e| Error::Store(StoreError::Backend(format!("encoding a change batch: {e}"))))?;
    let doing = "appending to the change log";
    let appended =
        row(tx, doing, "INSERT INTO change_log (batch) VALUES ($1::text::jsonb) RETURNING seq", &[&batch]).await?;
    let seq: i64 = appended
        .and_then(|r| r.try_get(0).ok())
        .ok_or_else(|| Error::Store(StoreError::Backend(format!("{doing}: no position came back"))))?;
    directory::apply_batch(tx, changes, audit).await?;
    if u64::try_from(seq).is_ok_and(|seq| seq % retention.every.max(1) == 0) {
        prune(tx, seq, retention).await?;
    }
    exec(tx, "signalling the other nodes", &format!("NOTIFY {CHANNEL}"), &[]).await?;
    Ok(())
}

/// Deletes the batches outside both of `retention`'s bounds, counted back
/// from `head` (the batch just appended, which always stays), and moves the
/// horizon up to the newest one deleted. Runs under the commit lock, so the
/// horizon only grows and no commit lands in between. The deleted batches
/// are a prefix of the log: everything up to the newest batch that is old by
/// both measures (`committed_at` is taken under the lock, so it grows with
/// `seq`).
async fn prune<C: GenericClient>(tx: &C, head: i64, retention: &Retention) -> Result<(), Error> {
    let keep = i64::try_from(retention.batches.max(1)).unwrap_or(i64::MAX);
    let Some(newest_prunable) = head.checked_sub(keep).filter(|seq| *seq > 0) else {
        return Ok(());
    };
    exec(
        tx,
        "pruning the change log",
        "WITH cut AS ( \
             SELECT max(seq) AS through FROM change_log \
             WHERE seq <= $1 AND committed_at < now() - make_interval(secs => $2) \
         ), gone AS ( \
             DELETE FROM change_log WHERE seq <= (SELECT through FROM cut) \
         ) \
         UPDATE change_log_pruned SET through = (SELECT through FROM cut) \
         WHERE through < (SELECT through FROM cut)",
        &[&newest_prunable, &retention.age.as_secs_f64()],
    )
    .await?;
    Ok(())
}

/// Stores `value` under `name` unless a value is there; returns the stored one.
pub(crate) async fn shared_key<C: GenericClient>(c: &C, name: &str, value: &[u8]) -> Result<Vec<u8>, Error> {
    let doing = "sharing key material";
    exec(
        c,
        doing,
        "INSERT INTO shared_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        &[&name, &value],
    )
    .await?;
    let r = row(c, doing, "SELECT value FROM shared_keys WHERE name = $1", &[&name]).await?;
    r.and_then(|r| r.try_get::<_, Vec<u8>>(0).ok())
        .ok_or_else(|| Error::Store(StoreError::Backend(format!("{doing}: {name} vanished"))))
}
