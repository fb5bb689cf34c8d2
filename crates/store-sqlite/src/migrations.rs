//! Versioned schema migrations, tracked in `PRAGMA user_version`.
//!
//! Step `i` of [`MIGRATIONS`] takes the schema from version `i` to `i + 1`.
//! Steps are append-only: a released step is never edited, a change is a new step.

use crate::error::sql;
use deputy_store::StoreError;
use rusqlite::{Connection, TransactionBehavior};

/// The ordered migration steps.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5];

/// The schema version this build writes: a database above it is refused.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Version 1: the directory, the grants and the audit log.
///
/// No foreign keys and no uniqueness beyond the keys: the store decides nothing
/// (the core sends every deletion a removal implies). Ids are hyphenated
/// lower-case GUIDs; rights are their bit values; enums are their Exchange names.
const V1: &str = "
CREATE TABLE organization (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    name            TEXT NOT NULL,
    primary_domain  TEXT NOT NULL
);
CREATE TABLE accepted_domains (
    domain      TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    is_default  INTEGER NOT NULL CHECK (is_default IN (0, 1))
) WITHOUT ROWID;
-- The record is the Recipient as JSON; the other columns are lookup copies.
CREATE TABLE recipients (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL,
    primary_smtp  TEXT,
    upn           TEXT,
    record        TEXT NOT NULL
);
CREATE INDEX recipients_kind ON recipients (kind);
CREATE INDEX recipients_name ON recipients (name COLLATE NOCASE);
CREATE INDEX recipients_primary_smtp ON recipients (primary_smtp);
CREATE INDEX recipients_upn ON recipients (upn);
CREATE TABLE members (
    group_id   TEXT NOT NULL,
    member_id  TEXT NOT NULL,
    PRIMARY KEY (group_id, member_id)
) WITHOUT ROWID;
CREATE INDEX members_member ON members (member_id);
CREATE TABLE mailbox_aces (
    target       TEXT NOT NULL,
    trustee      TEXT NOT NULL,
    deny         INTEGER NOT NULL CHECK (deny IN (0, 1)),
    rights       INTEGER NOT NULL,
    inheritance  TEXT NOT NULL,
    automapping  INTEGER NOT NULL CHECK (automapping IN (0, 1)),
    PRIMARY KEY (target, trustee, deny)
) WITHOUT ROWID;
CREATE INDEX mailbox_aces_trustee ON mailbox_aces (trustee);
CREATE TABLE send_as_aces (
    target   TEXT NOT NULL,
    trustee  TEXT NOT NULL,
    deny     INTEGER NOT NULL CHECK (deny IN (0, 1)),
    PRIMARY KEY (target, trustee, deny)
) WITHOUT ROWID;
CREATE INDEX send_as_aces_trustee ON send_as_aces (trustee);
CREATE TABLE folders (
    id          TEXT PRIMARY KEY,
    mailbox     TEXT NOT NULL,
    parent      TEXT,
    name        TEXT NOT NULL,
    well_known  TEXT
) WITHOUT ROWID;
CREATE INDEX folders_mailbox ON folders (mailbox);
-- user is 'Default', 'Anonymous' or a recipient GUID.
CREATE TABLE folder_aces (
    folder   TEXT NOT NULL,
    user     TEXT NOT NULL,
    mailbox  TEXT NOT NULL,
    rights   INTEGER NOT NULL,
    flags    INTEGER NOT NULL,
    PRIMARY KEY (folder, user)
) WITHOUT ROWID;
CREATE INDEX folder_aces_mailbox ON folder_aces (mailbox);
-- time is milliseconds since the Unix epoch, time_ns the nanoseconds within
-- that millisecond, so records come back exactly and ranges use the index.
CREATE TABLE audit (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    time       INTEGER NOT NULL,
    time_ns    INTEGER NOT NULL CHECK (time_ns BETWEEN 0 AND 999999),
    caller     TEXT NOT NULL,
    cmdlet     TEXT NOT NULL COLLATE NOCASE,
    command    TEXT NOT NULL,
    object     TEXT NOT NULL,
    succeeded  INTEGER NOT NULL CHECK (succeeded IN (0, 1)),
    error      TEXT,
    before     TEXT,
    after      TEXT
);
CREATE INDEX audit_time ON audit (time, time_ns);
CREATE INDEX audit_cmdlet ON audit (cmdlet, time, time_ns);
";

/// Version 2: message bodies, the folder entries that show them, per-folder UID
/// state, and the outbound queue.
///
/// Times are (milliseconds since the epoch, nanoseconds within that millisecond)
/// as in `audit`. Blob and queue ids use AUTOINCREMENT so an id is never handed
/// out twice, even after its row is deleted: a stale id can only miss, never
/// reach another message. Entry and state tables are WITHOUT ROWID so a folder's
/// rows sit together in key order and counting them reads one range.
const V2: &str = "
-- size comes before raw so reading it never touches a large body's overflow pages.
CREATE TABLE blobs (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    size  INTEGER NOT NULL CHECK (size BETWEEN 0 AND 4294967295),
    raw   BLOB NOT NULL
);
-- Created on a folder's first message; uidnext only grows, so UIDs are never reused.
CREATE TABLE folder_state (
    folder       TEXT PRIMARY KEY,
    uidvalidity  INTEGER NOT NULL CHECK (uidvalidity BETWEEN 1 AND 4294967295),
    uidnext      INTEGER NOT NULL CHECK (uidnext BETWEEN 1 AND 4294967296)
) WITHOUT ROWID;
CREATE INDEX folder_state_uidvalidity ON folder_state (uidvalidity);
-- size copies the body's size (bodies never change) so counts need no join.
CREATE TABLE folder_entries (
    folder       TEXT NOT NULL,
    uid          INTEGER NOT NULL CHECK (uid BETWEEN 1 AND 4294967295),
    blob         INTEGER NOT NULL,
    size         INTEGER NOT NULL,
    flags        INTEGER NOT NULL,
    internal_ms  INTEGER NOT NULL,
    internal_ns  INTEGER NOT NULL CHECK (internal_ns BETWEEN 0 AND 999999),
    creator      TEXT,
    message_id   TEXT,
    PRIMARY KEY (folder, uid)
) WITHOUT ROWID;
-- IMAP APPEND looks for a copy with the same Message-ID in the folder (spec §4.2).
CREATE INDEX folder_entries_message_id ON folder_entries (folder, message_id);
-- Removing a queue entry asks whether any folder still shows its body.
CREATE INDEX folder_entries_blob ON folder_entries (blob);
-- recipients is a JSON array of QueueRecipient (address and status).
CREATE TABLE queue (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    blob        INTEGER NOT NULL,
    mail_from   TEXT NOT NULL,
    recipients  TEXT NOT NULL,
    attempts    INTEGER NOT NULL CHECK (attempts >= 0),
    queued_ms   INTEGER NOT NULL,
    queued_ns   INTEGER NOT NULL CHECK (queued_ns BETWEEN 0 AND 999999),
    next_ms     INTEGER NOT NULL,
    next_ns     INTEGER NOT NULL CHECK (next_ns BETWEEN 0 AND 999999)
);
CREATE INDEX queue_next ON queue (next_ms, next_ns);
CREATE INDEX queue_blob ON queue (blob);
";

/// Version 3: CONDSTORE mod-sequences (RFC 7162) for the IMAP door.
///
/// A folder's state starts at highest_modseq 1 and every assignment takes the
/// next value, so entries stored under version 2 are numbered as if they had
/// been stored under this one: the entry with UID u got the (u + 1)th value,
/// and the folder's highest is uidnext (one per UID handed out, plus the start).
/// The flag and UID order of a folder's range is unchanged, so counting it
/// stays one range scan.
const V3: &str = "
ALTER TABLE folder_state ADD COLUMN highest_modseq INTEGER NOT NULL DEFAULT 1
    CHECK (highest_modseq BETWEEN 1 AND 9223372036854775807);
ALTER TABLE folder_entries ADD COLUMN modseq INTEGER NOT NULL DEFAULT 1
    CHECK (modseq BETWEEN 1 AND 9223372036854775807);
UPDATE folder_entries SET modseq = uid + 1;
UPDATE folder_state SET highest_modseq = uidnext;
";

/// Version 4: registered applications (service principals) for Graph's
/// client-credentials tokens.
///
/// The record is the whole `ServicePrincipal` as JSON (its secrets' Argon2
/// hashes and its role assignments travel with it); `app_id` is a lookup copy,
/// indexed but not unique: the core keeps AppIds unique, the store decides nothing.
const V4: &str = "
CREATE TABLE service_principals (
    id      TEXT PRIMARY KEY,
    app_id  TEXT NOT NULL,
    record  TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX service_principals_app_id ON service_principals (app_id);
";

/// Version 5: IMAP subscriptions, one row per explicit SUBSCRIBE (1) or
/// UNSUBSCRIBE (0) of a principal for a folder; a folder without a row counts
/// as subscribed, so unsubscribing needs a row of its own.
///
/// No foreign key to `folders`, like every table here: whoever deletes a
/// folder removes its rows (`MailStore::delete_subscriptions`), found through
/// the folder index.
const V5: &str = "
CREATE TABLE subscriptions (
    principal   TEXT NOT NULL,
    folder      TEXT NOT NULL,
    subscribed  INTEGER NOT NULL CHECK (subscribed IN (0, 1)),
    PRIMARY KEY (principal, folder)
) WITHOUT ROWID;
CREATE INDEX subscriptions_folder ON subscriptions (folder);
";

/// Brings the schema up to [`SCHEMA_VERSION`] in one immediate transaction (so
/// two processes opening a new database at once cannot both migrate), and
/// refuses a database written by a newer Deputy. Returns the version found.
pub(crate) fn migrate(conn: &mut Connection) -> Result<i64, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql("starting the migration"))?;
    let found: i64 =
        tx.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(sql("reading the schema version"))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew { found, supported: SCHEMA_VERSION });
    }
    let start = usize::try_from(found)
        .map_err(|_| StoreError::Corrupt(format!("the schema version is {found}, which no Deputy writes")))?;
    for (step, version) in MIGRATIONS.iter().zip(1_i64..).skip(start) {
        tx.execute_batch(step).map_err(sql(&format!("migrating the schema to version {version}")))?;
        tx.pragma_update(None, "user_version", version).map_err(sql("recording the schema version"))?;
    }
    tx.commit().map_err(sql("committing the migration"))?;
    Ok(found)
}
