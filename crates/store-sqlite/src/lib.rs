//! Deputy's embedded store: one SQLite database in the data directory.
//!
//! - Durability: WAL journal with `synchronous=FULL`, so every commit fsyncs the
//!   log before [`Store::commit`] or [`MailStore::store`] returns and survives
//!   power loss.
//! - Group commit: one writer thread owns the only write connection; it applies
//!   every write request already waiting in one transaction, each in its own
//!   savepoint, and commits them with one fsync (see `writer`). A failing
//!   request fails alone.
//! - Atomicity: a request (a directory batch, a `store` call, a queue update
//!   with its notice, a folder's first status, a flag change, an expunge, a
//!   copy or a move, a subscription change) is all or nothing; each goes
//!   through the writer thread, so it shares group commit and never races
//!   another write.
//! - Schema: normalized tables, versioned by `PRAGMA user_version` (see
//!   [`SCHEMA_VERSION`]); a database from a newer Deputy is refused.
//! - Concurrency: reads use a small pool of query-only connections, which WAL
//!   lets run beside the writer; all SQLite work runs off tokio's async workers.
//!   Dropping the last handle waits for the writer to finish the writes already
//!   queued and close the database, so the directory can be reopened at once.
//!
//! Invariant: like every backend, this one decides nothing — it stores exactly
//! the changes it is given, and the conformance suite in
//! [`deputy_store::conformance`] holds it to the reference model.

mod codec;
mod error;
mod export;
mod mail_folder;
mod mail_read;
mod mail_write;
mod migrations;
mod read;
mod readers;
mod subscriptions;
mod write;
mod writer;

pub use migrations::SCHEMA_VERSION;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deputy_store::conformance::mail::{FlagOp, FlagOutcome, FolderStatus};
use deputy_store::{AuditQuery, Change, Delivery, MailExport, MailStore, Snapshot, Store, StoreError, Stored};
use deputy_types::{AuditRecord, BlobId, FolderCounts, FolderEntry, FolderId, QueuedMessage, RecipientId, Uid};
use error::sql;
use mail_folder::Creator;
use readers::Readers;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::oneshot;
use writer::{Job, Writer};

/// The database file's name inside the data directory.
pub const DB_FILE: &str = "deputy.db";

/// How long a statement waits for another process's lock before the store
/// reports [`StoreError::Unavailable`], unless [`SqliteOptions`] says otherwise.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Tunables for [`SqliteStore::open_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    /// How long to wait for a lock held by another connection.
    pub busy_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self { busy_timeout: DEFAULT_BUSY_TIMEOUT }
    }
}

/// What the write connection runs with, and what the writer has done, for
/// status output and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics {
    /// `PRAGMA journal_mode`, lower-case (`wal`).
    pub journal_mode: String,
    /// `PRAGMA synchronous` as SQLite numbers it (2 is `FULL`).
    pub synchronous: i64,
    /// `PRAGMA user_version`: the schema version.
    pub schema_version: i64,
    /// Write transactions committed since the store was opened: one fsync each.
    pub transactions: u64,
    /// Write requests (`store`, `queue_update`, `commit` calls) those
    /// transactions committed; above `transactions` when group commit merged some.
    pub writes: u64,
}

/// The SQLite-backed [`Store`] and [`MailStore`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    /// The write connection's settings, read once it was configured and migrated.
    settings: Settings,
    writer: Writer,
    readers: Readers,
}

impl SqliteStore {
    /// Opens or creates `<dir>/deputy.db` (creating `dir` if missing), switches
    /// it to WAL with full fsync, migrates the schema and starts the writer thread.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_with(dir, &SqliteOptions::default())
    }

    /// [`open`](Self::open) with explicit options.
    pub fn open_with(dir: &Path, options: &SqliteOptions) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Backend(format!(
                "cannot create the data directory {}: {e}; check its permissions",
                dir.display()
            ))
        })?;
        let path = dir.join(DB_FILE);
        let opening = format!("opening {}", path.display());
        let mut conn = Connection::open(&path).map_err(sql(&opening))?;
        conn.busy_timeout(options.busy_timeout).map_err(sql(&opening))?;
        // Every change statement and the mail statements stay prepared.
        conn.set_prepared_statement_cache_capacity(64);
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(sql(&opening))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!(
                "{opening}: SQLite refused WAL mode (it stayed {mode:?}); put the data directory on a local file system"
            )));
        }
        conn.pragma_update(None, "synchronous", "FULL").map_err(sql(&opening))?;
        migrations::migrate(&mut conn)?;
        let settings = settings(&conn)?;
        let writer = Writer::start(conn)?;
        let readers = Readers::new(path.clone(), options.busy_timeout);
        Ok(Self { inner: Arc::new(Inner { path, settings, writer, readers }) })
    }

    /// Whether `dir` already holds a Deputy database.
    pub fn exists(dir: &Path) -> bool {
        dir.join(DB_FILE).is_file()
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The settings the write connection runs with, and the writer's counters.
    pub async fn diagnostics(&self) -> Result<Diagnostics, StoreError> {
        let Settings { journal_mode, synchronous, schema_version } = self.inner.settings.clone();
        let stats = &self.inner.writer.stats;
        Ok(Diagnostics {
            journal_mode,
            synchronous,
            schema_version,
            transactions: stats.transactions.load(Ordering::Relaxed),
            writes: stats.writes.load(Ordering::Relaxed),
        })
    }

    /// Runs `work` on a read connection on the blocking pool.
    async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || inner.readers.with(work))
            .await
            .map_err(|e| StoreError::Backend(format!("the store's reading thread failed: {e}")))?
    }

    /// Hands a write to the writer thread and waits for its group to commit.
    async fn write<T>(&self, job: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Job) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.inner.writer.send(job(reply))?;
        answer.await.map_err(|_| {
            StoreError::Backend(
                "the store's writer thread stopped before answering; the write may or may not have landed".to_owned(),
            )
        })?
    }
}

/// The pragmas [`Diagnostics`] reports, as the write connection has them.
#[derive(Debug, Clone)]
struct Settings {
    journal_mode: String,
    synchronous: i64,
    schema_version: i64,
}

fn settings(conn: &Connection) -> Result<Settings, StoreError> {
    let read = |name: &str| -> Result<rusqlite::types::Value, StoreError> {
        conn.pragma_query_value(None, name, |r| r.get(0)).map_err(sql("reading the connection settings"))
    };
    let text = |v| match v {
        rusqlite::types::Value::Text(s) => Ok(s.to_lowercase()),
        other => Err(StoreError::Backend(format!("unexpected pragma value {other:?}"))),
    };
    let int = |v| match v {
        rusqlite::types::Value::Integer(n) => Ok(n),
        other => Err(StoreError::Backend(format!("unexpected pragma value {other:?}"))),
    };
    Ok(Settings {
        journal_mode: text(read("journal_mode")?)?,
        synchronous: int(read("synchronous")?)?,
        schema_version: int(read("user_version")?)?,
    })
}

#[async_trait]
impl Store for SqliteStore {
    async fn load(&self) -> Result<Snapshot, StoreError> {
        self.read(read::load).await
    }

    async fn commit(&self, changes: Vec<Change>, audit: Vec<AuditRecord>) -> Result<(), StoreError> {
        self.write(|reply| Job::Commit { changes, audit, reply }).await
    }

    async fn search_audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        let query = query.clone();
        self.read(move |conn| read::search_audit(conn, &query)).await
    }
}

#[async_trait]
impl MailStore for SqliteStore {
    async fn store(&self, deliveries: Vec<Delivery>) -> Result<Vec<Stored>, StoreError> {
        if deliveries.is_empty() {
            return Ok(Vec::new());
        }
        self.write(|reply| Job::Store { deliveries, reply }).await
    }

    async fn entries(&self, folder: FolderId) -> Result<Vec<FolderEntry>, StoreError> {
        self.read(move |conn| mail_read::entries(conn, folder)).await
    }

    async fn body(&self, blob: BlobId) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(move |conn| mail_read::body(conn, blob)).await
    }

    async fn folder_counts(&self, folders: &[FolderId]) -> Result<Vec<FolderCounts>, StoreError> {
        let folders = folders.to_vec();
        self.read(move |conn| mail_read::folder_counts(conn, &folders)).await
    }

    async fn queue_due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<QueuedMessage>, StoreError> {
        self.read(move |conn| mail_read::queue_due(conn, now, limit)).await
    }

    async fn queue_all(&self) -> Result<Vec<QueuedMessage>, StoreError> {
        self.read(|conn| mail_read::queue_all(conn)).await
    }

    async fn queue_update(&self, message: &QueuedMessage, notice: Option<Delivery>) -> Result<(), StoreError> {
        let message = message.clone();
        self.write(|reply| Job::QueueUpdate { message, notice, reply }).await
    }

    /// Reads the state when the folder has one; only a folder's first status
    /// goes through the writer, which creates the state durably (a stable
    /// UIDVALIDITY needs a stored one: the clock may go back).
    async fn folder_status(&self, folder: FolderId) -> Result<FolderStatus, StoreError> {
        if let Some(status) = self.read(move |conn| mail_read::status_read(conn, folder)).await? {
            return Ok(status);
        }
        self.write(|reply| Job::FolderStatus { folder, reply }).await
    }

    async fn entry(&self, folder: FolderId, uid: Uid) -> Result<Option<FolderEntry>, StoreError> {
        self.read(move |conn| mail_read::entry(conn, folder, uid)).await
    }

    async fn find_by_message_id(
        &self,
        folder: FolderId,
        message_id: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<FolderEntry>, StoreError> {
        let message_id = message_id.to_owned();
        self.read(move |conn| mail_read::find_by_message_id(conn, folder, &message_id, since)).await
    }

    async fn set_flags(
        &self,
        folder: FolderId,
        uids: &[Uid],
        op: FlagOp,
        unchanged_since: Option<u64>,
    ) -> Result<FlagOutcome, StoreError> {
        // Nothing to change needs no transaction (and no fsync).
        if uids.is_empty() {
            return Ok(FlagOutcome::default());
        }
        let uids = uids.to_vec();
        self.write(|reply| Job::SetFlags { folder, uids, op, unchanged_since, reply }).await
    }

    async fn expunge(&self, folder: FolderId, uids: &[Uid]) -> Result<Vec<Uid>, StoreError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let uids = uids.to_vec();
        self.write(|reply| Job::Expunge { folder, uids, reply }).await
    }

    async fn copy(
        &self,
        from: FolderId,
        uids: &[Uid],
        to: FolderId,
        creator: Option<RecipientId>,
    ) -> Result<Vec<(Uid, Uid)>, StoreError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let uids = uids.to_vec();
        self.write(|reply| Job::Copy { from, uids, to, creator: Creator::Set(creator), remove: false, reply }).await
    }

    async fn move_entries(&self, from: FolderId, uids: &[Uid], to: FolderId) -> Result<Vec<(Uid, Uid)>, StoreError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let uids = uids.to_vec();
        self.write(|reply| Job::Copy { from, uids, to, creator: Creator::Keep, remove: true, reply }).await
    }

    async fn subscriptions(&self, principal: RecipientId) -> Result<Vec<(FolderId, bool)>, StoreError> {
        self.read(move |conn| subscriptions::of(conn, principal)).await
    }

    async fn set_subscription(
        &self,
        principal: RecipientId,
        folder: FolderId,
        subscribed: bool,
    ) -> Result<(), StoreError> {
        self.write(|reply| Job::SetSubscription { principal, folder, subscribed, reply }).await
    }

    async fn delete_subscriptions(&self, folder: FolderId) -> Result<(), StoreError> {
        self.write(|reply| Job::DeleteSubscriptions { folder, reply }).await
    }

    /// Reads everything in one read transaction (see `export`); importing
    /// into the embedded store is left unsupported: the move goes the other way.
    async fn export(&self) -> Result<MailExport, StoreError> {
        self.read(export::export).await
    }
}
