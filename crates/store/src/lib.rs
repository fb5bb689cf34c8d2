//! Storage behind a trait.
//!
//! The core computes every mutation as a list of [`Change`]s and hands them to
//! [`Store::commit`] together with the audit records that describe them; a
//! backend applies the whole batch in one transaction and returns only once it
//! is durable. The core then applies the same changes to its in-memory state,
//! so storage and memory never disagree and a failed command changes nothing.
//!
//! Invariants:
//! - a backend decides nothing: it never cascades, validates or rewrites a
//!   change (the core sends explicit deletions for everything a removal implies);
//! - [`Snapshot::apply`] is the reference model: after any sequence of committed
//!   batches, `load()` equals an empty snapshot with the same changes applied.

mod change;
pub mod columns;
pub mod conformance;
mod mail;
pub mod plan;
mod snapshot;

pub use change::Change;
pub use mail::{
    Delivery, ExportedBody, ExportedFolder, FlagOp, FlagOutcome, FolderState, FolderStatus, MailExport, MailStore,
    NewEntry, NewOutbound, Stored, Subscription,
};
pub use snapshot::Snapshot;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deputy_types::AuditRecord;

/// A storage failure, in terms a door can map to a temporary or permanent error.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot be reached or is busy; the operation may be retried.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// The stored data cannot be read back as Deputy wrote it.
    #[error("the store holds data Deputy cannot read: {0}")]
    Corrupt(String),
    /// The data directory or database was made by a newer Deputy.
    #[error("the store's schema version {found} is newer than this Deputy understands ({supported})")]
    SchemaTooNew {
        /// The version found.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// Another node committed a directory batch after the read the caller's
    /// batch was planned on; nothing was written (see [`Store::commit_after`]).
    #[error("another node changed the directory at the same time")]
    Conflict,
    /// The change log no longer holds every batch after `position` (older
    /// batches were pruned): load the directory again (`head`, then `load`)
    /// and follow from that head.
    #[error("the change log was pruned through {pruned_through}, past position {position}; load the directory again")]
    HistoryPruned {
        /// The position the caller asked to follow from.
        position: u64,
        /// The newest position pruned.
        pruned_through: u64,
    },
    /// Any other backend failure.
    #[error("store error: {0}")]
    Backend(String),
}

/// Which audit records `Search-AdminAuditLog` wants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Records at or after this time.
    pub start: Option<DateTime<Utc>>,
    /// Records at or before this time.
    pub end: Option<DateTime<Utc>>,
    /// Only these cmdlets (case-insensitive); empty means all.
    pub cmdlets: Vec<String>,
    /// At most this many records, newest first.
    pub limit: usize,
}

/// The directory and permission store.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Reads everything the directory and the permission engine hold in memory.
    async fn load(&self) -> Result<Snapshot, StoreError>;

    /// Applies `changes` in order and appends `audit`, all or nothing; the batch
    /// is durable (fsync'd) when this returns `Ok`.
    async fn commit(&self, changes: Vec<Change>, audit: Vec<AuditRecord>) -> Result<(), StoreError>;

    /// Audit records matching `query`, newest first.
    async fn search_audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError>;

    /// Whether several processes share this store (a cluster). Such a store
    /// keeps a change log: every committed batch, in commit order, so each
    /// node's core can apply what the others committed. A store only one
    /// process uses keeps none.
    fn is_shared(&self) -> bool {
        false
    }

    /// The position of the newest batch in the change log; 0 when it is
    /// empty or not kept. Read it *before* [`Store::load`]: replaying a batch
    /// the snapshot already holds is harmless, since every [`Change`] is
    /// idempotent.
    async fn head(&self) -> Result<u64, StoreError> {
        Ok(0)
    }

    /// The batches committed after `position`, oldest first, each with its
    /// position; [`StoreError::HistoryPruned`] when some of them were pruned.
    async fn changes_since(&self, position: u64) -> Result<Vec<(u64, Vec<Change>)>, StoreError> {
        let _ = position;
        Ok(Vec::new())
    }

    /// Key material every node of a cluster must share (the TLS certificate,
    /// the DKIM key, the token signing key), by name: stores `value` under
    /// `name` unless a value is already there, and returns the stored one. So
    /// the first node to start makes the keys and the others adopt them. A
    /// store only one process uses keeps keys in its data directory and
    /// returns `value` unchanged.
    async fn shared_key(&self, name: &str, value: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        let _ = name;
        Ok(value)
    }

    /// [`Store::commit`], but only if the change log's head is still `base`,
    /// i.e. no node committed since the read the batch was planned on;
    /// otherwise [`StoreError::Conflict`] and nothing is written. A store
    /// without a change log has one writer and simply commits.
    async fn commit_after(&self, base: u64, changes: Vec<Change>, audit: Vec<AuditRecord>) -> Result<(), StoreError> {
        let _ = base;
        self.commit(changes, audit).await
    }
}
