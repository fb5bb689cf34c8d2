//! Versioned schema migrations, recorded in the `schema_version` table.
//!
//! Step `i` of [`MIGRATIONS`] takes the schema from version `i` to `i + 1`, in
//! its own transaction that also records the new version. Steps are
//! append-only: a released step is never edited, a change is a new step. Every
//! step runs under a transaction-scoped advisory lock keyed by the schema, so
//! several nodes starting at once migrate one after the other, and each sees
//! the version the one before it left.

use crate::error::db_store;
use deputy_store::StoreError;
use tokio_postgres::Client;

/// The ordered migration steps.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6];

/// The schema version this build writes: a database above it is refused.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The first key of the advisory lock migrations take (the second is the schema's hash).
const LOCK_CLASS: i32 = 0x0DE9_0717;

/// Version 1: the directory, the grants, registered applications and the audit log.
///
/// Like the embedded store: no foreign keys and no uniqueness beyond the keys,
/// since the store decides nothing (the core sends every deletion a removal
/// implies). Ids are `uuid`s; rights are their bit values; enums are their
/// Exchange names; a recipient and an application are their JSON records, with
/// lookup copies beside them. Times are (milliseconds since the epoch,
/// nanoseconds within that millisecond), exact where `timestamptz` would round.
const V1: &str = "
CREATE TABLE organization (
    id              integer PRIMARY KEY CHECK (id = 1),
    name            text NOT NULL,
    primary_domain  text NOT NULL
);
CREATE TABLE accepted_domains (
    domain      text PRIMARY KEY,
    name        text NOT NULL,
    kind        text NOT NULL,
    is_default  boolean NOT NULL
);
CREATE TABLE recipients (
    id            uuid PRIMARY KEY,
    kind          text NOT NULL,
    name          text NOT NULL,
    primary_smtp  text,
    upn           text,
    record        jsonb NOT NULL
);
CREATE INDEX recipients_kind ON recipients (kind);
CREATE INDEX recipients_name ON recipients (lower(name));
CREATE INDEX recipients_primary_smtp ON recipients (primary_smtp);
CREATE INDEX recipients_upn ON recipients (upn);
CREATE TABLE members (
    group_id   uuid NOT NULL,
    member_id  uuid NOT NULL,
    PRIMARY KEY (group_id, member_id)
);
CREATE INDEX members_member ON members (member_id);
CREATE TABLE mailbox_aces (
    target       uuid NOT NULL,
    trustee      uuid NOT NULL,
    deny         boolean NOT NULL,
    rights       bigint NOT NULL,
    inheritance  text NOT NULL,
    automapping  boolean NOT NULL,
    PRIMARY KEY (target, trustee, deny)
);
CREATE INDEX mailbox_aces_trustee ON mailbox_aces (trustee);
CREATE TABLE send_as_aces (
    target   uuid NOT NULL,
    trustee  uuid NOT NULL,
    deny     boolean NOT NULL,
    PRIMARY KEY (target, trustee, deny)
);
CREATE INDEX send_as_aces_trustee ON send_as_aces (trustee);
CREATE TABLE folders (
    id          uuid PRIMARY KEY,
    mailbox     uuid NOT NULL,
    parent      uuid,
    name        text NOT NULL,
    well_known  text
);
CREATE INDEX folders_mailbox ON folders (mailbox);
-- grantee is 'Default', 'Anonymous' or a recipient GUID.
CREATE TABLE folder_aces (
    folder   uuid NOT NULL,
    grantee  text NOT NULL,
    mailbox  uuid NOT NULL,
    rights   bigint NOT NULL,
    flags    bigint NOT NULL,
    PRIMARY KEY (folder, grantee)
);
CREATE INDEX folder_aces_mailbox ON folder_aces (mailbox);
CREATE TABLE service_principals (
    id      uuid PRIMARY KEY,
    app_id  uuid NOT NULL,
    record  jsonb NOT NULL
);
CREATE INDEX service_principals_app_id ON service_principals (app_id);
-- Cmdlets match ignoring ASCII case only (lower() under the C collation), like Exchange.
CREATE TABLE audit (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time_ms    bigint NOT NULL,
    time_ns    bigint NOT NULL CHECK (time_ns BETWEEN 0 AND 999999),
    caller     text NOT NULL,
    cmdlet     text NOT NULL,
    command    text NOT NULL,
    object     text NOT NULL,
    succeeded  boolean NOT NULL,
    error      text,
    before     text,
    after      text
);
CREATE INDEX audit_time ON audit (time_ms, time_ns);
CREATE INDEX audit_cmdlet ON audit ((lower(cmdlet COLLATE \"C\")), time_ms, time_ns);
";

/// Version 2: message bodies, the folder entries that show them, per-folder
/// UID and mod-sequence state, and the outbound queue.
///
/// Blob and queue ids come from identity sequences, never handed out twice, so
/// a stale id can only miss. Entries and queue entries reference their body
/// with a foreign key: a body is deleted only when nothing references it, and
/// a delete racing a new reference fails instead of leaving one dangling.
/// `folder_state` is the row a transaction locks (`FOR UPDATE`) to take a
/// folder's next UIDs and mod-sequences. A queue entry's lease (`leased_by`,
/// `leased_until`) says which node is delivering it (see the crate docs).
const V2: &str = "
CREATE TABLE blobs (
    id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    size  bigint NOT NULL CHECK (size BETWEEN 0 AND 4294967295),
    raw   bytea NOT NULL
);
CREATE TABLE folder_state (
    folder          uuid PRIMARY KEY,
    uidvalidity     bigint NOT NULL CHECK (uidvalidity BETWEEN 1 AND 4294967295),
    uidnext         bigint NOT NULL CHECK (uidnext BETWEEN 1 AND 4294967296),
    highest_modseq  bigint NOT NULL CHECK (highest_modseq >= 1)
);
CREATE INDEX folder_state_uidvalidity ON folder_state (uidvalidity);
-- size copies the body's size (bodies never change) so counts need no join.
CREATE TABLE folder_entries (
    folder       uuid NOT NULL,
    uid          bigint NOT NULL CHECK (uid BETWEEN 1 AND 4294967295),
    blob         bigint NOT NULL REFERENCES blobs (id),
    size         bigint NOT NULL,
    flags        bigint NOT NULL,
    internal_ms  bigint NOT NULL,
    internal_ns  bigint NOT NULL CHECK (internal_ns BETWEEN 0 AND 999999),
    creator      uuid,
    message_id   text,
    modseq       bigint NOT NULL CHECK (modseq >= 1),
    PRIMARY KEY (folder, uid)
);
CREATE INDEX folder_entries_message_id ON folder_entries (folder, message_id);
CREATE INDEX folder_entries_blob ON folder_entries (blob);
-- recipients is a JSON array of QueueRecipient (address and status).
CREATE TABLE queue (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    blob          bigint NOT NULL REFERENCES blobs (id),
    mail_from     text NOT NULL,
    recipients    jsonb NOT NULL,
    attempts      bigint NOT NULL CHECK (attempts >= 0),
    queued_ms     bigint NOT NULL,
    queued_ns     bigint NOT NULL CHECK (queued_ns BETWEEN 0 AND 999999),
    next_ms       bigint NOT NULL,
    next_ns       bigint NOT NULL CHECK (next_ns BETWEEN 0 AND 999999),
    leased_by     uuid,
    leased_until  timestamptz
);
CREATE INDEX queue_next ON queue (next_ms, next_ns);
CREATE INDEX queue_order ON queue (queued_ms, queued_ns, id);
CREATE INDEX queue_blob ON queue (blob);
";

/// The change log (`Store::changes_since`): every committed directory batch,
/// in commit order. Commits serialize on an advisory lock, so `seq` order is
/// commit order and a reader never sees a later batch before an earlier one.
const V3: &str = "
CREATE TABLE change_log (
    seq    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch  jsonb NOT NULL
);
";

/// Key material the nodes share (`Store::shared_key`): the first writer wins.
const V4: &str = "
CREATE TABLE shared_keys (
    name   text PRIMARY KEY,
    value  bytea NOT NULL
);
";

/// IMAP subscriptions, as in the embedded store: one row per explicit
/// SUBSCRIBE (true) or UNSUBSCRIBE (false) of a principal for a folder, since
/// a folder without a row counts as subscribed. Read straight from the table
/// (not through the change log), so every node sees a choice once committed.
/// No foreign key to `folders`: whoever deletes a folder removes its rows.
const V5: &str = "
CREATE TABLE subscriptions (
    principal   uuid NOT NULL,
    folder      uuid NOT NULL,
    subscribed  boolean NOT NULL,
    PRIMARY KEY (principal, folder)
);
CREATE INDEX subscriptions_folder ON subscriptions (folder);
";

/// Pruning the change log (`changelog::Retention`): when each batch was
/// committed, and how far the log has been pruned (one row; 0 = nothing yet),
/// so a follower behind that horizon is told to reload rather than handed a
/// gap. `clock_timestamp()`, not `now()`: the row is written under the commit
/// lock, so times grow with `seq` even when transactions began out of order.
/// Batches already logged count as committed at this migration.
const V6: &str = "
ALTER TABLE change_log ADD COLUMN committed_at timestamptz NOT NULL DEFAULT clock_timestamp();
CREATE TABLE change_log_pruned (
    id       integer PRIMARY KEY CHECK (id = 1),
    through  bigint NOT NULL
);
INSERT INTO change_log_pruned (id, through) VALUES (1, 0);
";

/// Creates `schema` when given (and makes it this session's search path),
/// brings the schema up to [`SCHEMA_VERSION`] one step per transaction, and
/// refuses a database written by a newer Deputy. Returns the version found.
pub(crate) async fn migrate(client: &mut Client, schema: Option<&str>) -> Result<i64, StoreError> {
    let mut found = None;
    loop {
        let tx = client.transaction().await.map_err(db_store("starting a migration"))?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext(coalesce($2, current_schema(), '')))",
            &[&LOCK_CLASS, &schema],
        )
        .await
        .map_err(db_store("waiting for other nodes' migrations"))?;
        if let Some(schema) = schema {
            // The name was checked to be a plain identifier (see `PgOptions::schema`).
            tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"; SET search_path TO \"{schema}\""))
                .await
                .map_err(db_store("creating the schema"))?;
        }
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_version (
                version     bigint PRIMARY KEY,
                applied_at  timestamptz NOT NULL DEFAULT now()
            )",
        )
        .await
        .map_err(db_store("creating the schema_version table"))?;
        let row = tx
            .query_one("SELECT coalesce(max(version), 0) FROM schema_version", &[])
            .await
            .map_err(db_store("reading the schema version"))?;
        let version: i64 = row.try_get(0).map_err(db_store("reading the schema version"))?;
        found.get_or_insert(version);
        if version > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew { found: version, supported: SCHEMA_VERSION });
        }
        let Some(step) = usize::try_from(version).ok().and_then(|v| MIGRATIONS.get(v)) else {
            tx.commit().await.map_err(db_store("finishing the migration"))?;
            return Ok(found.unwrap_or(version));
        };
        let next = version + 1;
        tx.batch_execute(step).await.map_err(db_store(&format!("migrating the schema to version {next}")))?;
        tx.execute("INSERT INTO schema_version (version) VALUES ($1)", &[&next])
            .await
            .map_err(db_store("recording the schema version"))?;
        tx.commit().await.map_err(db_store(&format!("committing the migration to version {next}")))?;
    }
}
