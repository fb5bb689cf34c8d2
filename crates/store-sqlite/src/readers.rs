//! Read connections: a small pool beside the writer, so reads run in parallel
//! with each other and with a commit (WAL lets readers see the last commit
//! while the writer appends the next).

use crate::error::sql;
use deputy_store::StoreError;
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Idle connections kept for reuse; more may be open while reads overlap.
const MAX_IDLE: usize = 8;

/// Opens read connections on demand and keeps a few idle ones.
#[derive(Debug)]
pub(crate) struct Readers {
    path: PathBuf,
    busy_timeout: Duration,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    pub(crate) fn new(path: PathBuf, busy_timeout: Duration) -> Self {
        Self { path, busy_timeout, idle: Mutex::new(Vec::new()) }
    }

    /// Runs `work` on an idle connection, or a new one. Blocking: call it from
    /// tokio's blocking pool.
    pub(crate) fn with<T>(&self, work: impl FnOnce(&mut Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        // A panic elsewhere cannot leave the list half-changed: push and pop are whole.
        let reused = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let mut conn = match reused {
            Some(conn) => conn,
            None => self.open()?,
        };
        let result = work(&mut conn);
        // A connection left inside a transaction would pin an old snapshot: drop it instead.
        if conn.is_autocommit() {
            let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
            if idle.len() < MAX_IDLE {
                idle.push(conn);
            }
        }
        result
    }

    fn open(&self) -> Result<Connection, StoreError> {
        let doing = format!("opening {} for reading", self.path.display());
        let conn = Connection::open(&self.path).map_err(sql(&doing))?;
        conn.busy_timeout(self.busy_timeout).map_err(sql(&doing))?;
        // Reads must never write; this makes any attempt an error instead.
        conn.pragma_update(None, "query_only", true).map_err(sql(&doing))?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(conn)
    }
}
