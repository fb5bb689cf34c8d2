//! Deputy's PostgreSQL store: several stateless Deputy nodes on one database.
//!
//! [`PgStore`] implements [`Store`] and [`MailStore`] with the embedded
//! store's semantics, held to the same conformance suite
//! ([`deputy_store::conformance`]). It is cheap to clone (a handle on one
//! connection pool); each [`PgStore::connect`] is one *node*.
//!
//! - Durability: a call returns only after its transaction's `COMMIT`, which
//!   PostgreSQL makes durable with the server's `synchronous_commit` (on by
//!   default: the WAL is flushed, and concurrent commits share the flush, the
//!   server's own group commit). Run the server with it on.
//! - Atomicity: every request (a directory batch with its audit records, a
//!   `store` call, a queue update with its notice, a flag change, an expunge,
//!   a copy or a move) is one transaction, all or nothing. A transaction that
//!   loses a race with another node (a deadlock PostgreSQL broke, a
//!   serialization failure) runs again from the start, a few times, then
//!   reports [`StoreError::Unavailable`]. So does one whose connection broke
//!   before its `COMMIT` was sent (nothing of it landed); a connection lost
//!   during `COMMIT` is reported at once as [`StoreError::Unavailable`],
//!   never retried blindly, since that commit may have landed. Reads and the
//!   idempotent single statements run again the same way.
//! - Every connection is named `deputy/<schema or public>/<node id>`
//!   (`application_name`), so `pg_stat_activity` tells the nodes apart.
//! - Races between nodes: UIDs and mod-sequences come from a per-folder state
//!   row locked with `SELECT … FOR UPDATE` (in folder order, so transactions
//!   wait rather than deadlock), so two nodes never hand out one UID, and UID
//!   order is commit order. A body row is locked before asking whether
//!   anything still shows it, and entries and queue entries reference bodies
//!   with foreign keys, so a body is removed exactly when its last reference
//!   goes, whichever nodes remove them.
//! - The outbound queue's lease: [`MailStore::queue_due`] takes the due
//!   entries no *other* node holds a live lease on, with `FOR UPDATE SKIP
//!   LOCKED` (nodes polling at once split the queue instead of waiting), and
//!   marks each leased by this node until the database's clock plus
//!   [`PgOptions::queue_lease`]. The same node gets its own leased entries
//!   again (its worker skips the ones in flight, as with the embedded store)
//!   and renews the lease each time; [`MailStore::queue_update`] locks the
//!   entry's row and ends the lease. An entry whose node died is taken over by
//!   another once the lease runs out, so a message is delivered twice only if
//!   a node dies between the remote server's acceptance and recording it.
//!   Pick a lease well above the longest delivery attempt.
//! - The change log (`Store::changes_since`) is pruned by the commits
//!   themselves ([`Retention`]: the newest batches and the young ones stay),
//!   and a follower whose position lies behind what was pruned is told so
//!   (`StoreError::HistoryPruned` from `changes_since`), never handed a gap.
//! - Schema: normalized tables, versioned in `schema_version`, one migration
//!   step per transaction under an advisory lock, so nodes starting together
//!   migrate once; a database from a newer Deputy is refused. With
//!   [`PgStore::connect_schema`] everything lives in its own PostgreSQL
//!   schema (created if absent and set as `search_path` on every pooled
//!   connection), so tests, or several organizations, share one database.
//!
//! Invariant: like every backend, this one decides nothing — it stores exactly
//! the changes it is given.

mod changelog;
mod codec;
mod directory;
mod error;
mod folder_state;
mod import;
mod mail_folder;
mod mail_read;
mod mail_write;
mod migrations;
mod sql;
mod subscriptions;

pub use changelog::{KEEP_BATCHES, KEEP_FOR, PRUNE_EVERY, Retention};
pub use migrations::SCHEMA_VERSION;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use deputy_store::{
    AuditQuery, Change, Delivery, FlagOp, FlagOutcome, FolderStatus, MailExport, MailStore, Snapshot, Store,
    StoreError, Stored,
};
use deputy_types::{AuditRecord, BlobId, FolderCounts, FolderEntry, FolderId, QueuedMessage, RecipientId, Uid};
use error::{Error, db, pool, retrying};
use mail_folder::Creator;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::NoTls;
use tokio_postgres::config::Config;
use uuid::Uuid;

/// Tunables for [`PgStore::connect_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgOptions {
    /// The PostgreSQL schema to keep everything in (created if absent); `None`
    /// uses the connection's default `search_path` (normally `public`). A plain
    /// identifier: lower-case ASCII letters, digits and `_`, not starting with
    /// a digit or `pg_`, at most 63 bytes.
    pub schema: Option<String>,
    /// Connections in the pool.
    pub pool_size: usize,
    /// How long to wait for a connection (new or pooled) before reporting
    /// [`StoreError::Unavailable`].
    pub connect_timeout: Duration,
    /// How long a queue entry returned by `queue_due` stays with this node.
    pub queue_lease: Duration,
    /// How much of the change log this node's commits keep when they prune it
    /// (give every node of a cluster the same).
    pub change_log: Retention,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            schema: None,
            pool_size: 8,
            connect_timeout: Duration::from_secs(10),
            queue_lease: Duration::from_secs(15 * 60),
            change_log: Retention::default(),
        }
    }
}

/// The PostgreSQL-backed [`Store`] and [`MailStore`]; clones share one pool
/// and are one node.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    node: Uuid,
    schema: Option<String>,
    lease: Duration,
    retention: Retention,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("node", &self.inner.node)
            .field("schema", &self.inner.schema)
            .field("pool", &self.inner.pool.status())
            .finish()
    }
}

/// Whether `schema` is a plain identifier that needs no quoting or escaping.
fn valid_schema(schema: &str) -> bool {
    let mut chars = schema.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    first_ok
        && schema.len() <= 63
        && !schema.starts_with("pg_")
        && schema.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The `application_name` of every connection a node opens,
/// `deputy/<schema or public>/<node id>`, so an operator (or a test) can tell
/// nodes apart in `pg_stat_activity`. PostgreSQL keeps its first 63 bytes; a
/// schema name is at most 63, so the `deputy/<schema>/` prefix survives for
/// names up to 55 bytes.
fn application_name(schema: Option<&str>, node: Uuid) -> String {
    format!("deputy/{}/{}", schema.unwrap_or("public"), node.simple())
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`, no TLS: keep the
    /// database on a trusted network), migrates the schema and makes the pool.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, &PgOptions::default()).await
    }

    /// [`connect`](Self::connect) keeping everything in `schema`, created if absent.
    pub async fn connect_schema(url: &str, schema: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, &PgOptions { schema: Some(schema.to_owned()), ..PgOptions::default() }).await
    }

    /// [`connect`](Self::connect) with explicit options.
    pub async fn connect_with(url: &str, options: &PgOptions) -> Result<Self, StoreError> {
        // Errors never show the URL: it may hold a password.
        let mut config: Config = url.parse().map_err(|e| {
            StoreError::Backend(format!(
                "the store's address is not a PostgreSQL connection URL ({e}); \
                 write it as postgres://user@host:port/database"
            ))
        })?;
        if let Some(schema) = &options.schema {
            if !valid_schema(schema) {
                return Err(StoreError::Backend(format!(
                    "{schema:?} is not a schema name Deputy uses: write lower-case letters, digits and _, \
                     not starting with a digit or pg_, at most 63 characters"
                )));
            }
            config.options(format!("-c search_path={schema}"));
        }
        let node = Uuid::new_v4();
        config
            .application_name(application_name(options.schema.as_deref(), node))
            .connect_timeout(options.connect_timeout);
        let (mut client, connection) = config.connect(NoTls).await.map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot connect to PostgreSQL database {:?} on {:?}: {e}; is the server running?",
                config.get_dbname().unwrap_or_default(),
                config.get_hosts()
            ))
        })?;
        let driver = tokio::spawn(connection);
        let migrated = migrations::migrate(&mut client, options.schema.as_deref()).await;
        drop(client);
        // The connection ends once its client is gone; its result says nothing more.
        let _ = driver.await;
        migrated?;
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.connect_timeout))
            .create_timeout(Some(options.connect_timeout))
            .build()
            .map_err(|e| StoreError::Backend(format!("cannot make the PostgreSQL connection pool: {e}")))?;
        let inner = Inner {
            pool,
            node,
            schema: options.schema.clone(),
            lease: options.queue_lease,
            retention: options.change_log,
        };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// This node's id, as queue leases record it.
    pub fn node(&self) -> Uuid {
        self.inner.node
    }

    /// The schema everything lives in, when one was chosen.
    pub fn schema(&self) -> Option<&str> {
        self.inner.schema.as_deref()
    }

    /// The schema version the database holds.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let client = self.client("reading the schema version").await?;
        let r = sql::row(&client, "reading the schema version", "SELECT max(version) FROM schema_version", &[]).await?;
        Ok(r.and_then(|r| r.try_get::<_, Option<i64>>(0).ok().flatten()).unwrap_or(0))
    }

    async fn client(&self, doing: &str) -> Result<deadpool_postgres::Object, Error> {
        self.inner.pool.get().await.map_err(|e| pool(doing, e))
    }
}

/// Runs `$body` (an expression using the transaction `$tx`) in a transaction
/// of its own, committed when it succeeds, run again when it lost a race.
macro_rules! transaction {
    ($store:expr, $doing:expr, |$tx:ident| $body:expr) => {
        retrying(|| async {
            let mut client = $store.client($doing).await?;
            let $tx = client.transaction().await.map_err(db($doing))?;
            match $body.await {
                Ok(out) => {
                    // A connection lost here may have committed: not run again.
                    $tx.commit().await.map_err(|e| db($doing)(e).settled())?;
                    Ok::<_, Error>(out)
                }
                Err(e) => {
                    // Dropping would roll back too, but only once the connection is
                    // polled again; this returns it to the pool clean.
                    let _ = $tx.rollback().await;
                    Err(e)
                }
            }
        })
        .await
    };
}

/// Runs `$body` (using `$tx`) in a read-only repeatable-read transaction: one
/// snapshot for every table it reads, however other nodes commit meanwhile.
macro_rules! read_snapshot {
    ($store:expr, $doing:expr, |$tx:ident| $body:expr) => {
        retrying(|| async {
            let mut client = $store.client($doing).await?;
            let $tx = client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await
                .map_err(db($doing))?;
            let out = $body.await?;
            $tx.commit().await.map_err(db($doing))?;
            Ok::<_, Error>(out)
        })
        .await
    };
}

/// Runs a single statement (`$body`, using the pooled client `$c`) on a connection of the pool.
macro_rules! single {
    ($store:expr, $doing:expr, |$c:ident| $body:expr) => {
        retrying(|| async {
            let client = $store.client($doing).await?;
            let $c = &client;
            $body.await
        })
        .await
    };
}

impl PgStore {
    /// Writes a whole store into this empty one in one transaction: the
    /// directory as `directory` (its `Put*` changes) with the `audit` records,
    /// then `mail` with every id, UID, UIDVALIDITY and mod-sequence kept.
    /// Refuses, changing nothing, when any table already holds a row.
    pub async fn import_all(
        &self,
        directory: Vec<Change>,
        audit: Vec<AuditRecord>,
        mail: MailExport,
    ) -> Result<(), StoreError> {
        let retention = &self.inner.retention;
        transaction!(self, "importing a store", |tx| import::import(&tx, &directory, &audit, &mail, retention))
    }
}

#[async_trait]
impl Store for PgStore {
    async fn load(&self) -> Result<Snapshot, StoreError> {
        // One snapshot for every table, so they agree while other nodes commit.
        read_snapshot!(self, "loading the directory", |tx| directory::load(&tx))
    }

    async fn commit(&self, changes: Vec<Change>, audit: Vec<AuditRecord>) -> Result<(), StoreError> {
        let retention = &self.inner.retention;
        transaction!(self, "committing a directory batch", |tx| changelog::commit(
            &tx, None, &changes, &audit, retention
        ))
    }

    async fn search_audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        single!(self, "searching the audit log", |c| directory::search_audit(c, query))
    }

    fn is_shared(&self) -> bool {
        true
    }

    async fn head(&self) -> Result<u64, StoreError> {
        single!(self, "reading the change log", |c| changelog::head(c))
    }

    /// Pruned history becomes a [`StoreError::Backend`] here; see [`PgStore::changes_after`].
    async fn changes_since(&self, position: u64) -> Result<Vec<(u64, Vec<Change>)>, StoreError> {
        single!(self, "reading the change log", |c| changelog::since(c, position))
    }

    async fn shared_key(&self, name: &str, value: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        single!(self, "sharing key material", |c| changelog::shared_key(c, name, &value))
    }

    async fn commit_after(&self, base: u64, changes: Vec<Change>, audit: Vec<AuditRecord>) -> Result<(), StoreError> {
        let retention = &self.inner.retention;
        transaction!(self, "committing a directory batch", |tx| changelog::commit(
            &tx,
            Some(base),
            &changes,
            &audit,
            retention
        ))
    }
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

#[async_trait]
impl MailStore for PgStore {
    async fn store(&self, deliveries: Vec<Delivery>) -> Result<Vec<Stored>, StoreError> {
        if deliveries.is_empty() {
            return Ok(Vec::new());
        }
        transaction!(self, "storing mail", |tx| mail_write::store(&tx, &deliveries, now()))
    }

    async fn entries(&self, folder: FolderId) -> Result<Vec<FolderEntry>, StoreError> {
        single!(self, "reading a folder", |c| mail_read::entries(c, folder))
    }

    async fn body(&self, blob: BlobId) -> Result<Option<Vec<u8>>, StoreError> {
        single!(self, "reading a body", |c| mail_read::body(c, blob))
    }

    async fn folder_counts(&self, folders: &[FolderId]) -> Result<Vec<FolderCounts>, StoreError> {
        single!(self, "counting folders", |c| mail_read::folder_counts(c, folders))
    }

    async fn queue_due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<QueuedMessage>, StoreError> {
        let (node, lease) = (self.inner.node, self.inner.lease);
        single!(self, "taking due queue entries", |c| mail_read::queue_due(c, node, now, limit, lease))
    }

    async fn queue_all(&self) -> Result<Vec<QueuedMessage>, StoreError> {
        single!(self, "reading the queue", |c| mail_read::queue_all(c))
    }

    async fn queue_update(&self, message: &QueuedMessage, notice: Option<Delivery>) -> Result<(), StoreError> {
        transaction!(self, "recording a delivery attempt", |tx| mail_write::queue_update(
            &tx,
            message,
            notice.as_ref(),
            now()
        ))
    }

    /// Reads the state when the folder has one; a folder's first status
    /// creates it durably (a stable UIDVALIDITY needs a stored one).
    async fn folder_status(&self, folder: FolderId) -> Result<FolderStatus, StoreError> {
        if let Some(status) = single!(self, "reading a folder's status", |c| mail_read::status(c, folder))? {
            return Ok(status);
        }
        transaction!(self, "creating a folder's state", |tx| async {
            folder_state::ensure(&tx, &[folder], now()).await?;
            mail_read::status(&tx, folder)
                .await?
                .ok_or_else(|| Error::Conflict(format!("the state of folder {folder} vanished while it was created")))
        })
    }

    async fn entry(&self, folder: FolderId, uid: Uid) -> Result<Option<FolderEntry>, StoreError> {
        single!(self, "reading an entry", |c| mail_read::entry(c, folder, uid))
    }

    async fn find_by_message_id(
        &self,
        folder: FolderId,
        message_id: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<FolderEntry>, StoreError> {
        single!(self, "looking for a Message-ID", |c| mail_read::find_by_message_id(c, folder, message_id, since))
    }

    async fn set_flags(
        &self,
        folder: FolderId,
        uids: &[Uid],
        op: FlagOp,
        unchanged_since: Option<u64>,
    ) -> Result<FlagOutcome, StoreError> {
        if uids.is_empty() {
            return Ok(FlagOutcome::default());
        }
        transaction!(self, "changing flags", |tx| mail_folder::set_flags(&tx, folder, uids, op, unchanged_since))
    }

    async fn expunge(&self, folder: FolderId, uids: &[Uid]) -> Result<Vec<Uid>, StoreError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        transaction!(self, "expunging", |tx| mail_folder::expunge(&tx, folder, uids))
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
        transaction!(self, "copying entries", |tx| mail_folder::copy(
            &tx,
            from,
            uids,
            to,
            Creator::Set(creator),
            false,
            now()
        ))
    }

    async fn move_entries(&self, from: FolderId, uids: &[Uid], to: FolderId) -> Result<Vec<(Uid, Uid)>, StoreError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        transaction!(self, "moving entries", |tx| mail_folder::copy(&tx, from, uids, to, Creator::Keep, true, now()))
    }

    async fn subscriptions(&self, principal: RecipientId) -> Result<Vec<(FolderId, bool)>, StoreError> {
        single!(self, "reading subscriptions", |c| subscriptions::of(c, principal))
    }

    /// One idempotent statement, so it may run again after a lost connection.
    async fn set_subscription(
        &self,
        principal: RecipientId,
        folder: FolderId,
        subscribed: bool,
    ) -> Result<(), StoreError> {
        single!(self, "recording a subscription", |c| subscriptions::set(c, principal, folder, subscribed))
    }

    async fn delete_subscriptions(&self, folder: FolderId) -> Result<(), StoreError> {
        single!(self, "removing a folder's subscriptions", |c| subscriptions::delete_folder(c, folder))
    }

    /// Reads everything from one repeatable-read snapshot, so the parts agree
    /// while other nodes commit.
    async fn export(&self) -> Result<MailExport, StoreError> {
        read_snapshot!(self, "exporting mail", |tx| import::export(&tx))
    }

    async fn import(&self, export: MailExport) -> Result<(), StoreError> {
        self.import_all(Vec::new(), Vec::new(), export).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_name_their_schema_and_node() {
        let node = Uuid::nil();
        assert_eq!(application_name(Some("t_1"), node), format!("deputy/t_1/{}", "0".repeat(32)));
        assert!(application_name(None, node).starts_with("deputy/public/"));
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        for ok in ["deputy", "t_1", "_x", "a23456789012345678901234567890123456789012345678901234567890123"] {
            assert!(valid_schema(ok), "{ok}");
        }
        for bad in ["", "1a", "Deputy", "a-b", "a\"b", "pg_temp", "a b", "é", &"a".repeat(64)] {
            assert!(!valid_schema(bad), "{bad}");
        }
    }
}
