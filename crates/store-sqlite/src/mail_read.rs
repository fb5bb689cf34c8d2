//! Reading mail: a folder's entries, bodies, folder counts and the queue.

use crate::codec::{Columns, join_time, split_time};
use crate::error::sql;
use crate::read::each;
use chrono::{DateTime, Utc};
use deputy_store::StoreError;
use deputy_types::{BlobId, FolderCounts, FolderEntry, FolderId, MessageFlags, QueueId, QueueRecipient, QueuedMessage};
use rusqlite::{Connection, OptionalExtension, params};

/// A folder's entries in UID order: one range of the (folder, uid) key.
pub(crate) fn entries(conn: &Connection, folder: FolderId) -> Result<Vec<FolderEntry>, StoreError> {
    each(
        conn,
        "folder_entries",
        "SELECT uid, blob, flags, size, internal_ms, internal_ns, creator, message_id
         FROM folder_entries WHERE folder = ?1 ORDER BY uid",
        &[&folder.to_string()],
        |c| {
            let flags = c.bits::<u16>(2)?;
            Ok(FolderEntry {
                folder,
                uid: c.bits(0)?,
                blob: BlobId(c.bits(1)?),
                flags: MessageFlags::from_bits(flags)
                    .ok_or_else(|| StoreError::Corrupt(format!("folder_entries.flags has unknown bits: {flags:#x}")))?,
                size: c.bits(3)?,
                internal_date: join_time(c.int(4)?, c.int(5)?)?,
                creator: c.opt_recipient_id(6)?,
                message_id: c.opt_text(7)?.map(str::to_owned),
            })
        },
    )
}

/// A body, exactly as stored.
pub(crate) fn body(conn: &Connection, blob: BlobId) -> Result<Option<Vec<u8>>, StoreError> {
    // An id beyond i64 was never handed out.
    let Ok(id) = i64::try_from(blob.0) else { return Ok(None) };
    let mut statement =
        conn.prepare_cached("SELECT raw FROM blobs WHERE id = ?1").map_err(sql("reading a message body"))?;
    statement
        .query_row(params![id], |r| r.get::<_, Vec<u8>>(0))
        .optional()
        .map_err(sql(&format!("reading message body {}", blob.0)))
}

/// Counts per folder in the order given, all from one read transaction so
/// they agree with each other. Each is a range scan of the folder's key,
/// which holds flags and size, so no body or other table is read.
pub(crate) fn folder_counts(conn: &mut Connection, folders: &[FolderId]) -> Result<Vec<FolderCounts>, StoreError> {
    let tx = conn.transaction().map_err(sql("starting to count folders"))?;
    let mut out = Vec::with_capacity(folders.len());
    for folder in folders {
        let counts = each(
            &tx,
            "folder_entries",
            "SELECT count(*), coalesce(sum((flags & 1) = 0), 0), coalesce(sum(size), 0)
             FROM folder_entries WHERE folder = ?1",
            &[&folder.to_string()],
            |c| Ok(FolderCounts { items: c.bits(0)?, unread: c.bits(1)?, size: c.bits(2)? }),
        )?;
        out.push(counts.into_iter().next().unwrap_or_default());
    }
    Ok(out)
}

const QUEUE_COLUMNS: &str =
    "SELECT id, blob, mail_from, recipients, attempts, queued_ms, queued_ns, next_ms, next_ns FROM queue";

fn queued(c: &Columns<'_, '_>) -> Result<QueuedMessage, StoreError> {
    let id = QueueId(c.bits(0)?);
    let recipients: Vec<QueueRecipient> = serde_json::from_str(c.text(3)?)
        .map_err(|e| StoreError::Corrupt(format!("queue.recipients of entry {} is not a recipient list: {e}", id.0)))?;
    Ok(QueuedMessage {
        id,
        blob: BlobId(c.bits(1)?),
        mail_from: c.text(2)?.to_owned(),
        recipients,
        attempts: c.bits(4)?,
        queued_at: join_time(c.int(5)?, c.int(6)?)?,
        next_attempt: join_time(c.int(7)?, c.int(8)?)?,
    })
}

/// Entries due at `now`, oldest first (ties in queueing order), at most `limit`.
pub(crate) fn queue_due(conn: &Connection, now: DateTime<Utc>, limit: usize) -> Result<Vec<QueuedMessage>, StoreError> {
    let (ms, ns) = split_time(now);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    each(
        conn,
        "queue",
        &format!(
            "{QUEUE_COLUMNS} WHERE next_ms <= ?1 AND (next_ms < ?1 OR next_ns <= ?2)
             ORDER BY queued_ms, queued_ns, id LIMIT ?3"
        ),
        &[&ms, &ns, &limit],
        queued,
    )
}

/// Every entry, oldest first (ties in queueing order).
pub(crate) fn queue_all(conn: &Connection) -> Result<Vec<QueuedMessage>, StoreError> {
    each(conn, "queue", &format!("{QUEUE_COLUMNS} ORDER BY queued_ms, queued_ns, id"), &[], queued)
}
