//! Writing mail: bodies, folder entries with their UIDs, and the outbound queue,
//! inside the transaction (and savepoint) the writer thread opened.

use crate::codec::split_time;
use crate::error::sql;
use chrono::{DateTime, Utc};
pub(crate) use deputy_store::plan::EntryRow;
use deputy_store::plan::{DeliveryPlan, FolderCounters, FolderStates, PlannedDelivery};
use deputy_store::{Delivery, StoreError, Stored, columns};
use deputy_types::{FolderId, QueuedMessage, RecipientStatus, Uid};
use rusqlite::{Connection, OptionalExtension, params};

/// Stores every delivery; the caller's savepoint makes them all or nothing.
/// The plan numbers the entries from the folder states read here, which are
/// written back once every row is in.
pub(crate) fn store(conn: &Connection, deliveries: &[Delivery], now: DateTime<Utc>) -> Result<Vec<Stored>, StoreError> {
    let plan = DeliveryPlan::new(deliveries)?;
    let mut states = read_states(conn, &plan.folders(), now)?;
    let stored = plan.assign(&mut states)?.iter().map(|p| write(conn, p)).collect::<Result<Vec<_>, _>>()?;
    save_states(conn, &states)?;
    Ok(stored)
}

/// Records a delivery attempt's outcome and stores its notice (see
/// `MailStore::queue_update`). An update for an entry no longer queued fails,
/// so a stale or repeated attempt can never store its notice twice.
pub(crate) fn queue_update(
    conn: &Connection,
    message: &QueuedMessage,
    notice: Option<&Delivery>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let doing = format!("updating queue entry {}", message.id.0);
    let id = i64::try_from(message.id.0).ok();
    let blob: Option<i64> = match id {
        None => None,
        Some(id) => conn
            .prepare_cached("SELECT blob FROM queue WHERE id = ?1")
            .and_then(|mut s| s.query_row(params![id], |r| r.get(0)).optional())
            .map_err(sql(&doing))?,
    };
    let (Some(id), Some(blob)) = (id, blob) else {
        return Err(StoreError::Backend(format!(
            "{doing}: it is no longer queued (another attempt finished it); nothing was changed"
        )));
    };
    let pending = message.recipients.iter().any(|r| matches!(r.status, RecipientStatus::Pending { .. }));
    if pending {
        let (next_ms, next_ns) = split_time(message.next_attempt);
        execute(
            conn,
            &doing,
            "UPDATE queue SET recipients = ?2, attempts = ?3, next_ms = ?4, next_ns = ?5 WHERE id = ?1",
            params![id, columns::recipients_json(&message.recipients)?, message.attempts, next_ms, next_ns],
        )?;
    } else {
        execute(conn, &doing, "DELETE FROM queue WHERE id = ?1", params![id])?;
        // The stored blob, not the caller's copy of it, is what this entry held.
        delete_if_unreferenced(conn, &doing, blob)?;
    }
    if let Some(notice) = notice {
        store(conn, std::slice::from_ref(notice), now)?;
    }
    Ok(())
}

/// Deletes body `blob` when no folder entry and no queue entry shows it any more.
pub(crate) fn delete_if_unreferenced(conn: &Connection, doing: &str, blob: i64) -> Result<(), StoreError> {
    execute(
        conn,
        doing,
        "DELETE FROM blobs WHERE id = ?1
           AND NOT EXISTS (SELECT 1 FROM folder_entries WHERE blob = ?1)
           AND NOT EXISTS (SELECT 1 FROM queue WHERE blob = ?1)",
        params![blob],
    )
}

pub(crate) fn execute(
    conn: &Connection,
    doing: &str,
    query: &str,
    params: impl rusqlite::Params,
) -> Result<(), StoreError> {
    conn.prepare_cached(query).and_then(|mut s| s.execute(params)).map(|_| ()).map_err(sql(doing))
}

/// Writes one planned delivery: the body once, its entries, its queue entry.
fn write(conn: &Connection, p: &PlannedDelivery<'_>) -> Result<Stored, StoreError> {
    execute(conn, "storing a message body", "INSERT INTO blobs (size, raw) VALUES (?1, ?2)", params![p.size, p.raw])?;
    let blob = conn.last_insert_rowid();
    for entry in &p.entries {
        insert_row(conn, entry.folder, entry.uid, entry.modseq, &p.entry_row(entry, blob))?;
    }
    let queued = match &p.queue {
        None => None,
        Some(q) => {
            let (ms, ns) = split_time(p.received);
            execute(
                conn,
                "queueing a message",
                "INSERT INTO queue (blob, mail_from, recipients, attempts, queued_ms, queued_ns, next_ms, next_ns)
                 VALUES (?1, ?2, ?3, 0, ?4, ?5, ?4, ?5)",
                params![blob, q.mail_from, columns::recipients_json(&q.recipients)?, ms, ns],
            )?;
            Some(conn.last_insert_rowid())
        }
    };
    p.stored(blob, queued)
}

/// Inserts an entry into `folder` with the folder's next UID and mod-sequence.
pub(crate) fn insert_entry(
    conn: &Connection,
    folder: FolderId,
    row: &EntryRow<'_>,
    now: DateTime<Utc>,
) -> Result<Uid, StoreError> {
    let mut states = read_states(conn, &[folder], now)?;
    let (uid, modseq) = states.next_uid(folder)?;
    save_states(conn, &states)?;
    insert_row(conn, folder, uid, modseq, row)?;
    Ok(uid)
}

fn insert_row(
    conn: &Connection,
    folder: FolderId,
    uid: Uid,
    modseq: i64,
    row: &EntryRow<'_>,
) -> Result<(), StoreError> {
    let (ms, ns) = split_time(row.received);
    execute(
        conn,
        "storing a folder entry",
        "INSERT INTO folder_entries
             (folder, uid, blob, size, flags, internal_ms, internal_ns, creator, message_id, modseq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            folder.to_string(),
            uid,
            row.blob,
            row.size,
            row.flags.bits(),
            ms,
            ns,
            row.creator.map(|c| c.to_string()),
            row.message_id,
            modseq
        ],
    )
}

/// A folder's state row: (uidnext, highest_modseq).
pub(crate) fn folder_state(conn: &Connection, folder: FolderId) -> Result<Option<(i64, i64)>, StoreError> {
    conn.prepare_cached("SELECT uidnext, highest_modseq FROM folder_state WHERE folder = ?1")
        .and_then(|mut s| s.query_row(params![folder.to_string()], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(sql(&format!("reading the state of folder {folder}")))
}

/// The folder's state row, created (UIDNEXT 1, highest mod-sequence 1, a new
/// UIDVALIDITY) when the folder has none yet.
pub(crate) fn ensure_state(conn: &Connection, folder: FolderId, now: DateTime<Utc>) -> Result<(i64, i64), StoreError> {
    if let Some(state) = folder_state(conn, folder)? {
        return Ok(state);
    }
    execute(
        conn,
        &format!("creating the state of folder {folder}"),
        "INSERT INTO folder_state (folder, uidvalidity, uidnext, highest_modseq) VALUES (?1, ?2, 1, 1)",
        params![folder.to_string(), new_uidvalidity(conn, now)?],
    )?;
    Ok((1, 1))
}

/// The folder's next mod-sequence, recorded as its highest: every change of an
/// entry (and every expunge) takes one, so they strictly increase per folder.
pub(crate) fn next_modseq(conn: &Connection, folder: FolderId, now: DateTime<Utc>) -> Result<i64, StoreError> {
    let mut states = read_states(conn, &[folder], now)?;
    let modseq = states.next_modseq(folder)?;
    save_states(conn, &states)?;
    Ok(modseq)
}

/// The state rows of `folders`, each created (in the order named) on the
/// folder's first message or status.
fn read_states(conn: &Connection, folders: &[FolderId], now: DateTime<Utc>) -> Result<FolderStates, StoreError> {
    let mut states = FolderStates::new();
    for folder in folders {
        let (uidnext, highest_modseq) = ensure_state(conn, *folder, now)?;
        states.insert(*folder, FolderCounters { uidnext, highest_modseq });
    }
    Ok(states)
}

/// Writes back what was taken from `states`.
fn save_states(conn: &Connection, states: &FolderStates) -> Result<(), StoreError> {
    if !states.changed() {
        return Ok(());
    }
    for (folder, c) in states.iter() {
        execute(
            conn,
            &format!("recording the state of folder {folder}"),
            "UPDATE folder_state SET uidnext = ?2, highest_modseq = ?3 WHERE folder = ?1",
            params![folder.to_string(), c.uidnext, c.highest_modseq],
        )?;
    }
    Ok(())
}

/// The current time in seconds, but above every UIDVALIDITY already handed out,
/// so a folder made again, even within the same second, never reuses one (RFC
/// 9051 §2.3.1.1). Never 0, which IMAP forbids.
fn new_uidvalidity(conn: &Connection, now: DateTime<Utc>) -> Result<u32, StoreError> {
    let highest: i64 = conn
        .prepare_cached("SELECT coalesce(max(uidvalidity), 0) FROM folder_state")
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .map_err(sql("choosing a UIDVALIDITY"))?;
    let value = now.timestamp().max(highest.saturating_add(1)).max(1);
    u32::try_from(value).map_err(|_| {
        StoreError::Backend(format!("no UIDVALIDITY is left after {highest}: IMAP allows values up to 4294967295"))
    })
}
