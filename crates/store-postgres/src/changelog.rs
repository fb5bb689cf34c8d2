//! The change log that lets every node of a cluster apply what the others
//! committed (`Store::head`, `changes_since`, `commit_after`).
//!
//! Every directory commit first takes one transaction-scoped advisory lock,
//! so directory commits run one at a time across all nodes and the log's
//! `seq` order is their commit order: a reader can never see a batch before
//! one committed earlier. The lock is held only for the commit itself.

use crate::directory;
use crate::error::Error;
use crate::sql::{exec, row, rows};
use deadpool_postgres::GenericClient;
use deputy_store::{Change, StoreError};
use deputy_types::AuditRecord;

/// The advisory lock key of directory commits ("deputy" in ASCII).
const COMMIT_LOCK: i64 = 0x0000_6465_7075_7479;

/// The NOTIFY channel a commit signals on, for nodes that wait (IMAP IDLE).
pub const CHANNEL: &str = "deputy_changes";

/// The newest position in the log, 0 when empty.
pub(crate) async fn head<C: GenericClient>(c: &C) -> Result<u64, Error> {
    let r = row(c, "reading the change log's head", "SELECT coalesce(max(seq), 0) FROM change_log", &[]).await?;
    let seq: i64 = r.and_then(|r| r.try_get(0).ok()).unwrap_or(0);
    Ok(u64::try_from(seq).unwrap_or(0))
}

/// The batches after `position`, oldest first.
pub(crate) async fn since<C: GenericClient>(c: &C, position: u64) -> Result<Vec<(u64, Vec<Change>)>, Error> {
    let doing = "reading the change log";
    let from = i64::try_from(position).unwrap_or(i64::MAX);
    let found = rows(c, doing, "SELECT seq, batch::text FROM change_log WHERE seq > $1 ORDER BY seq", &[&from]).await?;
    found
        .iter()
        .map(|r| {
            let seq: i64 = r.try_get(0).map_err(|e| Error::Store(StoreError::Corrupt(format!("{doing}: {e}"))))?;
            let batch: String = r.try_get(1).map_err(|e| Error::Store(StoreError::Corrupt(format!("{doing}: {e}"))))?;
            let changes: Vec<Change> = serde_json::from_str(&batch)
                .map_err(|e| Error::Store(StoreError::Corrupt(format!("{doing}: batch {seq}: {e}"))))?;
            Ok((u64::try_from(seq).unwrap_or(0), changes))
        })
        .collect()
}

/// Applies a batch inside the caller's transaction and appends it to the log,
/// after checking (with `base`) that nobody committed since the caller's read.
pub(crate) async fn commit<C: GenericClient>(
    tx: &C,
    base: Option<u64>,
    changes: &[Change],
    audit: &[AuditRecord],
) -> Result<(), Error> {
    exec(tx, "waiting for the directory commit lock", "SELECT pg_advisory_xact_lock($1)", &[&COMMIT_LOCK]).await?;
    if let Some(base) = base
        && head(tx).await? != base
    {
        return Err(Error::Store(StoreError::Conflict));
    }
    let batch = serde_json::to_string(changes)
        .map_err(|e| Error::Store(StoreError::Backend(format!("encoding a change batch: {e}"))))?;
    exec(tx, "appending to the change log", "INSERT INTO change_log (batch) VALUES ($1::text::jsonb)", &[&batch])
        .await?;
    directory::apply_batch(tx, changes, audit).await?;
    exec(tx, "signalling the other nodes", &format!("NOTIFY {CHANNEL}"), &[]).await?;
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
