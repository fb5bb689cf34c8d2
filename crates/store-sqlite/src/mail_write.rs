//! Writing mail: bodies, folder entries with their UIDs, and the outbound queue,
//! inside the transaction (and savepoint) the writer thread opened.

use crate::codec::split_time;
use crate::error::sql;
use chrono::{DateTime, Utc};
use deputy_store::{Delivery, NewOutbound, StoreError, Stored};
use deputy_types::{BlobId, FolderId, QueueId, QueueRecipient, QueuedMessage, RecipientStatus, Uid};
use rusqlite::{Connection, OptionalExtension, params};

/// Stores every delivery; the caller's savepoint makes them all or nothing.
pub(crate) fn store(conn: &Connection, deliveries: &[Delivery], now: DateTime<Utc>) -> Result<Vec<Stored>, StoreError> {
    deliveries.iter().map(|d| store_one(conn, d, now)).collect()
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
            params![id, recipients_json(&message.recipients)?, message.attempts, next_ms, next_ns],
        )?;
    } else {
        execute(conn, &doing, "DELETE FROM queue WHERE id = ?1", params![id])?;
        // The stored blob, not the caller's copy of it, is what this entry held.
        execute(
            conn,
            &doing,
            "DELETE FROM blobs WHERE id = ?1
               AND NOT EXISTS (SELECT 1 FROM folder_entries WHERE blob = ?1)
               AND NOT EXISTS (SELECT 1 FROM queue WHERE blob = ?1)",
            params![blob],
        )?;
    }
    if let Some(notice) = notice {
        store_one(conn, notice, now)?;
    }
    Ok(())
}

fn execute(conn: &Connection, doing: &str, query: &str, params: impl rusqlite::Params) -> Result<(), StoreError> {
    conn.prepare_cached(query).and_then(|mut s| s.execute(params)).map(|_| ()).map_err(sql(doing))
}

fn recipients_json(recipients: &[QueueRecipient]) -> Result<String, StoreError> {
    serde_json::to_string(recipients)
        .map_err(|e| StoreError::Backend(format!("encoding queue recipients as JSON: {e}")))
}

/// What would make a delivery unstorable, checked before anything is written.
fn check(d: &Delivery) -> Result<u32, StoreError> {
    let size = u32::try_from(d.raw.len()).map_err(|_| {
        StoreError::Backend(format!(
            "a message of {} bytes is larger than the 4 GiB a folder entry can count; refuse it at the door",
            d.raw.len()
        ))
    })?;
    if d.entries.is_empty() && d.outbound.is_none() {
        // Nothing could ever delete such a body: no entry shows it, no queue entry sends it.
        return Err(StoreError::Backend(
            "a delivery with no folder entry and no remote recipient would store a body nothing shows or sends"
                .to_owned(),
        ));
    }
    if d.outbound.as_ref().is_some_and(|o| o.recipients.is_empty()) {
        return Err(StoreError::Backend(
            "a delivery's outbound part has no recipients; leave it out instead".to_owned(),
        ));
    }
    Ok(size)
}

fn store_one(conn: &Connection, d: &Delivery, now: DateTime<Utc>) -> Result<Stored, StoreError> {
    let size = check(d)?;
    let doing = "storing a message body";
    conn.prepare_cached("INSERT INTO blobs (size, raw) VALUES (?1, ?2)")
        .and_then(|mut s| s.execute(params![size, d.raw]))
        .map_err(sql(doing))?;
    let blob = conn.last_insert_rowid();
    let blob_id = BlobId(u64::try_from(blob).map_err(|_| StoreError::Corrupt(format!("blob id {blob} is negative")))?);
    let (ms, ns) = split_time(d.received);
    let mut uids = Vec::with_capacity(d.entries.len());
    for entry in &d.entries {
        let uid = next_uid(conn, entry.folder, now)?;
        execute(
            conn,
            "storing a folder entry",
            "INSERT INTO folder_entries (folder, uid, blob, size, flags, internal_ms, internal_ns, creator, message_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                entry.folder.to_string(),
                uid,
                blob,
                size,
                entry.flags.bits(),
                ms,
                ns,
                entry.creator.map(|c| c.to_string()),
                d.message_id
            ],
        )?;
        uids.push((entry.folder, uid));
    }
    let queued = d.outbound.as_ref().map(|o| enqueue(conn, blob, o, d.received)).transpose()?;
    Ok(Stored { blob: blob_id, uids, queued })
}

/// A new queue entry: every recipient pending, no attempt yet, due at once.
fn enqueue(
    conn: &Connection,
    blob: i64,
    outbound: &NewOutbound,
    received: DateTime<Utc>,
) -> Result<QueueId, StoreError> {
    let recipients: Vec<QueueRecipient> = outbound
        .recipients
        .iter()
        .map(|a| QueueRecipient { address: a.clone(), status: RecipientStatus::Pending { last_error: None } })
        .collect();
    let (ms, ns) = split_time(received);
    execute(
        conn,
        "queueing a message",
        "INSERT INTO queue (blob, mail_from, recipients, attempts, queued_ms, queued_ns, next_ms, next_ns)
         VALUES (?1, ?2, ?3, 0, ?4, ?5, ?4, ?5)",
        params![blob, outbound.mail_from, recipients_json(&recipients)?, ms, ns],
    )?;
    let id = conn.last_insert_rowid();
    u64::try_from(id).map(QueueId).map_err(|_| StoreError::Corrupt(format!("queue id {id} is negative")))
}

/// The folder's next UID, taken from its state row (created on the folder's
/// first message). UIDs only grow, so one is never handed out twice.
fn next_uid(conn: &Connection, folder: FolderId, now: DateTime<Utc>) -> Result<Uid, StoreError> {
    let doing = format!("assigning a UID in folder {folder}");
    let key = folder.to_string();
    let next: Option<i64> = conn
        .prepare_cached("SELECT uidnext FROM folder_state WHERE folder = ?1")
        .and_then(|mut s| s.query_row(params![key], |r| r.get(0)).optional())
        .map_err(sql(&doing))?;
    let Some(next) = next else {
        execute(
            conn,
            &doing,
            "INSERT INTO folder_state (folder, uidvalidity, uidnext) VALUES (?1, ?2, 2)",
            params![key, new_uidvalidity(conn, now)?],
        )?;
        return Ok(1);
    };
    let uid = Uid::try_from(next).map_err(|_| {
        StoreError::Backend(format!(
            "{doing}: the folder has used every UID IMAP allows (up to 4294967295); move its messages to a new folder"
        ))
    })?;
    if uid == 0 {
        return Err(StoreError::Corrupt(format!("folder_state.uidnext of {folder} is 0")));
    }
    execute(conn, &doing, "UPDATE folder_state SET uidnext = ?2 WHERE folder = ?1", params![key, next + 1])?;
    Ok(uid)
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
