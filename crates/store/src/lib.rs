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
pub mod conformance;
mod mail;
mod snapshot;

pub use change::Change;
pub use mail::{Delivery, FlagOp, FlagOutcome, FolderStatus, MailStore, NewEntry, NewOutbound, Stored};
pub use snapshot::Snapshot;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deputy_types::AuditRecord;

/// A storage failure, in terms a door can map to a temporary or permanent error.
#[derive(Debug, thiserror::Error)]
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
}
