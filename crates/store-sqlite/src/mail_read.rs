//! Reading mail: a folder's entries, bodies, folder counts and the queue.

use crate::codec::{Columns, join_time, split_time};
use crate::error::sql;
use crate::read::each;
use chrono::{DateTime, Utc};
use deputy_store::StoreError;
use deputy_store::conformance::mail::FolderStatus;
use deputy_types::{
    BlobId, FolderCounts, FolderEntry, FolderId, MessageFlags, QueueId, QueueRecipient, QueuedMessage, Uid,
};
use rusqlite::{Connection, OptionalExtension, params};

const ENTRY_COLUMNS: &str =
    "SELECT uid, blob, flags, size, internal_ms, internal_ns, creator, message_id, modseq FROM folder_entries";

pub(crate) fn entry_row(folder: FolderId) -> impl FnMut(&Columns<'_, '_>) -> Result<FolderEntry, StoreError> {
    move |c| {
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
            modseq: c.bits(8)?,
        })
    }
}

/// A folder's entries in UID order: one range of the (folder, uid) key.
pub(crate) fn entries(conn: &Connection, folder: FolderId) -> Result<Vec<FolderEntry>, StoreError> {
    each(
        conn,
        "folder_entries",
        &format!("{ENTRY_COLUMNS} WHERE folder = ?1 ORDER BY uid"),
        &[&folder.to_string()],
        entry_row(folder),
    )
}

/// One entry, by its key.
pub(crate) fn entry(conn: &Connection, folder: FolderId, uid: Uid) -> Result<Option<FolderEntry>, StoreError> {
    let found = each(
        conn,
        "folder_entries",
        &format!("{ENTRY_COLUMNS} WHERE folder = ?1 AND uid = ?2"),
        &[&folder.to_string(), &uid],
        entry_row(folder),
    )?;
    Ok(found.into_iter().next())
}

/// The lowest-UID entry of `folder` with this Message-ID received at or after
/// `since`: the (folder, message_id) index narrows it to the copies of one message.
pub(crate) fn find_by_message_id(
    conn: &Connection,
    folder: FolderId,
    message_id: &str,
    since: DateTime<Utc>,
) -> Result<Option<FolderEntry>, StoreError> {
    let (ms, ns) = split_time(since);
    let found = each(
        conn,
        "folder_entries",
        &format!(
            "{ENTRY_COLUMNS} WHERE folder = ?1 AND message_id = ?2
               AND internal_ms >= ?3 AND (internal_ms > ?3 OR internal_ns >= ?4)
             ORDER BY uid LIMIT 1"
        ),
        &[&folder.to_string(), &message_id, &ms, &ns],
        entry_row(folder),
    )?;
    Ok(found.into_iter().next())
}

/// The folder's status, `None` when it has no state row yet. Call it inside a
/// transaction so the state and the counts agree.
pub(crate) fn status(conn: &Connection, folder: FolderId) -> Result<Option<FolderStatus>, StoreError> {
    let key = folder.to_string();
    let state = each(
        conn,
        "folder_state",
        "SELECT uidvalidity, uidnext, highest_modseq FROM folder_state WHERE folder = ?1",
        &[&key],
        |c| Ok((c.bits::<u32>(0)?, c.int(1)?, c.bits::<u64>(2)?)),
    )?;
    let Some((uidvalidity, uidnext, highest_modseq)) = state.into_iter().next() else { return Ok(None) };
    // uidnext is 4294967296 once every UID was used. Failing the status would
    // make the folder unselectable, and its messages could not be moved out
    // to a new folder; 4294967295 is the highest UIDNEXT IMAP can say.
    let uidnext = u32::try_from(uidnext).unwrap_or(u32::MAX);
    let counts = each(
        conn,
        "folder_entries",
        "SELECT count(*), coalesce(sum((flags & 1) = 0), 0) FROM folder_entries WHERE folder = ?1",
        &[&key],
        |c| Ok((c.bits::<u64>(0)?, c.bits::<u64>(1)?)),
    )?;
    let (exists, unseen) = counts.into_iter().next().unwrap_or_default();
    Ok(Some(FolderStatus { uidvalidity, uidnext, highest_modseq, exists, unseen }))
}

/// [`status`] from one read transaction.
pub(crate) fn status_read(conn: &mut Connection, folder: FolderId) -> Result<Option<FolderStatus>, StoreError> {
    let tx = conn.transaction().map_err(sql("starting to read a folder's status"))?;
    status(&tx, folder)
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
