//! Writing mail: bodies, folder entries with their UIDs, and the outbound queue,
//! inside the transaction (and savepoint) the writer thread opened.

use crate::codec::split_time;
use crate::error::sql;
use chrono::{DateTime, Utc};
use deputy_store::{Delivery, NewOutbound, StoreError, Stored};
use deputy_types::{
    BlobId, FolderId, MessageFlags, QueueId, QueueRecipient, QueuedMessage, RecipientId, RecipientStatus, Uid,
};
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
        delete_if_unreferenced(conn, &doing, blob)?;
    }
    if let Some(notice) = notice {
        store_one(conn, notice, now)?;
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
    let mut uids = Vec::with_capacity(d.entries.len());
    for entry in &d.entries {
        let row = EntryRow {
            blob,
            size,
            flags: entry.flags,
            received: d.received,
            creator: entry.creator,
            message_id: d.message_id.as_deref(),
        };
        uids.push((entry.folder, insert_entry(conn, entry.folder, &row, now)?));
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

/// What a new folder entry shows, whichever request creates it.
pub(crate) struct EntryRow<'a> {
    pub(crate) blob: i64,
    pub(crate) size: u32,
    pub(crate) flags: MessageFlags,
    pub(crate) received: DateTime<Utc>,
    pub(crate) creator: Option<RecipientId>,
    pub(crate) message_id: Option<&'a str>,
}

/// Inserts an entry into `folder` with the folder's next UID and mod-sequence.
pub(crate) fn insert_entry(
    conn: &Connection,
    folder: FolderId,
    row: &EntryRow<'_>,
    now: DateTime<Utc>,
) -> Result<Uid, StoreError> {
    let (uid, modseq) = next_uid(conn, folder, now)?;
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
    )?;
    Ok(uid)
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
    let (_, highest) = ensure_state(conn, folder, now)?;
    let modseq = highest
        .checked_add(1)
        .ok_or_else(|| StoreError::Backend(format!("folder {folder} has used every mod-sequence RFC 7162 allows")))?;
    execute(
        conn,
        &format!("assigning a mod-sequence in folder {folder}"),
        "UPDATE folder_state SET highest_modseq = ?2 WHERE folder = ?1",
        params![folder.to_string(), modseq],
    )?;
    Ok(modseq)
}

/// The folder's next UID and mod-sequence, taken from its state row (created
/// on the folder's first message or status). UIDs only grow, so one is never
/// handed out twice.
fn next_uid(conn: &Connection, folder: FolderId, now: DateTime<Utc>) -> Result<(Uid, i64), StoreError> {
    let doing = format!("assigning a UID in folder {folder}");
    let (next, highest) = ensure_state(conn, folder, now)?;
    let uid = Uid::try_from(next).map_err(|_| {
        StoreError::Backend(format!(
            "{doing}: the folder has used every UID IMAP allows (up to 4294967295); move its messages to a new folder"
        ))
    })?;
    if uid == 0 {
        return Err(StoreError::Corrupt(format!("folder_state.uidnext of {folder} is 0")));
    }
    let modseq = highest.checked_add(1).ok_or_else(|| {
        StoreError::Backend(format!("{doing}: the folder has used every mod-sequence RFC 7162 allows"))
    })?;
    execute(
        conn,
        &doing,
        "UPDATE folder_state SET uidnext = ?2, highest_modseq = ?3 WHERE folder = ?1",
        params![folder.to_string(), next + 1, modseq],
    )?;
    Ok((uid, modseq))
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
