//! Deputy's embedded store: one SQLite database in the data directory.
//!
//! - Durability: WAL journal with `synchronous=FULL`, so every commit fsyncs the
//!   log before [`Store::commit`] returns and survives power loss.
//! - Atomicity: a batch is one `BEGIN IMMEDIATE` transaction; any error rolls it back.
//! - Schema: normalized tables, versioned by `PRAGMA user_version` (see
//!   [`SCHEMA_VERSION`]); a database from a newer Deputy is refused.
//! - Concurrency: one connection behind a mutex; all SQLite work runs on
//!   tokio's blocking pool, never on an async worker.
//!
//! Invariant: like every backend, this one decides nothing — it stores exactly
//! the changes it is given, and the conformance suite in
//! [`deputy_store::conformance`] holds it to the reference model.

mod codec;
mod error;
mod migrations;
mod read;
mod write;

pub use migrations::SCHEMA_VERSION;

use async_trait::async_trait;
use deputy_store::{AuditQuery, Change, Snapshot, Store, StoreError};
use deputy_types::AuditRecord;
use error::sql;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

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

/// What the open connection is actually running with, for status output and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics {
    /// `PRAGMA journal_mode`, lower-case (`wal`).
    pub journal_mode: String,
    /// `PRAGMA synchronous` as SQLite numbers it (2 is `FULL`).
    pub synchronous: i64,
    /// `PRAGMA user_version`: the schema version.
    pub schema_version: i64,
}

/// The SQLite-backed [`Store`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens or creates `<dir>/deputy.db` (creating `dir` if missing), switches
    /// it to WAL with full fsync, and migrates the schema.
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
        // Every change statement, the load queries and a few audit searches stay prepared.
        conn.set_prepared_statement_cache_capacity(64);
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(sql(&opening))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!(
                "{opening}: SQLite refused WAL mode (it stayed {mode:?}); put the data directory on a local file system"
            )));
        }
        conn.pragma_update(None, "synchronous", "FULL").map_err(sql(&opening))?;
        migrations::migrate(&mut conn)?;
        Ok(Self { inner: Arc::new(Inner { path, conn: Mutex::new(conn) }) })
    }

    /// Whether `dir` already holds a Deputy database.
    pub fn exists(dir: &Path) -> bool {
        dir.join(DB_FILE).is_file()
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The settings the connection runs with.
    pub async fn diagnostics(&self) -> Result<Diagnostics, StoreError> {
        self.run(|conn| {
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
            Ok(Diagnostics {
                journal_mode: text(read("journal_mode")?)?,
                synchronous: int(read("synchronous")?)?,
                schema_version: int(read("user_version")?)?,
            })
        })
        .await
    }

    /// Runs `work` with the connection on the blocking pool.
    async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock leaves no transaction open (rusqlite
            // rolls back on drop), so the connection is still good to use.
            let mut conn = inner.conn.lock().unwrap_or_else(PoisonError::into_inner);
            work(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("the store's worker thread failed: {e}")))?
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn load(&self) -> Result<Snapshot, StoreError> {
        self.run(read::load).await
    }

    async fn commit(&self, changes: Vec<Change>, audit: Vec<AuditRecord>) -> Result<(), StoreError> {
        self.run(move |conn| write::commit(conn, &changes, &audit)).await
    }

    async fn search_audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        let query = query.clone();
        self.run(move |conn| read::search_audit(conn, &query)).await
    }
}
