//! Reading mail: a folder's entries, bodies, counts and status, and the queue
//! (whose `queue_due` also takes the lease on what it returns).

use crate::codec::{get, int, join_time, split_time};
use crate::error::Error;
use crate::sql::{row, rows};
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use deputy_store::{FolderStatus, StoreError};
use deputy_types::{
    BlobId, FolderCounts, FolderEntry, FolderId, MessageFlags, QueueId, QueueRecipient, QueuedMessage, RecipientId, Uid,
};
use std::collections::HashMap;
use std::time::Duration;
use tokio_postgres::Row;
use uuid::Uuid;

/// The columns [`entry_from_row`] reads, in its order.
pub(crate) const ENTRY_COLUMNS: &str =
    "SELECT uid, blob, flags, size, internal_ms, internal_ns, creator, message_id, modseq FROM folder_entries";

pub(crate) fn entry_from_row(folder: FolderId, r: &Row) -> Result<FolderEntry, StoreError> {
    let flags: u16 = int(r, 2, "folder_entries.flags")?;
    let creator: Option<Uuid> = get(r, 6, "folder_entries.creator")?;
    Ok(FolderEntry {
        folder,
        uid: int(r, 0, "folder_entries.uid")?,
        blob: BlobId(int(r, 1, "folder_entries.blob")?),
        flags: MessageFlags::from_bits(flags)
            .ok_or_else(|| StoreError::Corrupt(format!("folder_entries.flags has unknown bits: {flags:#x}")))?,
        size: int(r, 3, "folder_entries.size")?,
        internal_date: join_time(get(r, 4, "folder_entries.internal_ms")?, get(r, 5, "folder_entries.internal_ns")?)?,
        creator: creator.map(RecipientId),
        message_id: get(r, 7, "folder_entries.message_id")?,
        modseq: int(r, 8, "folder_entries.modseq")?,
    })
}

fn entry_rows(folder: FolderId, found: &[Row]) -> Result<Vec<FolderEntry>, Error> {
    found.iter().map(|r| entry_from_row(folder, r)).collect::<Result<_, _>>().map_err(Error::from)
}

/// A folder's entries in UID order: one range of the primary key.
pub(crate) async fn entries<C: GenericClient>(c: &C, folder: FolderId) -> Result<Vec<FolderEntry>, Error> {
    let found =
        rows(c, "reading a folder's entries", &format!("{ENTRY_COLUMNS} WHERE folder = $1 ORDER BY uid"), &[&folder.0])
            .await?;
    entry_rows(folder, &found)
}

/// One entry, by its key.
pub(crate) async fn entry<C: GenericClient>(c: &C, folder: FolderId, uid: Uid) -> Result<Option<FolderEntry>, Error> {
    let found = row(
        c,
        "reading an entry",
        &format!("{ENTRY_COLUMNS} WHERE folder = $1 AND uid = $2"),
        &[&folder.0, &i64::from(uid)],
    )
    .await?;
    found.map(|r| entry_from_row(folder, &r)).transpose().map_err(Error::from)
}

/// The lowest-UID entry of `folder` with this Message-ID received at or after `since`.
pub(crate) async fn find_by_message_id<C: GenericClient>(
    c: &C,
    folder: FolderId,
    message_id: &str,
    since: DateTime<Utc>,
) -> Result<Option<FolderEntry>, Error> {
    let (ms, ns) = split_time(since);
    let found = row(
        c,
        "looking for a Message-ID",
        &format!(
            "{ENTRY_COLUMNS} WHERE folder = $1 AND message_id = $2 AND (internal_ms, internal_ns) >= ($3, $4)
             ORDER BY uid LIMIT 1"
        ),
        &[&folder.0, &message_id, &ms, &ns],
    )
    .await?;
    found.map(|r| entry_from_row(folder, &r)).transpose().map_err(Error::from)
}

/// The folder's status, `None` when it has no state row yet: one statement,
/// so the state and the counts agree.
pub(crate) async fn status<C: GenericClient>(c: &C, folder: FolderId) -> Result<Option<FolderStatus>, Error> {
    let found = row(
        c,
        "reading a folder's status",
        "SELECT s.uidvalidity, s.uidnext, s.highest_modseq,
                (SELECT count(*) FROM folder_entries e WHERE e.folder = s.folder),
                (SELECT count(*) FROM folder_entries e WHERE e.folder = s.folder AND (e.flags & $2) = 0)
         FROM folder_state s WHERE s.folder = $1",
        &[&folder.0, &i64::from(MessageFlags::SEEN.bits())],
    )
    .await?;
    let Some(r) = found else { return Ok(None) };
    let uidnext: i64 = get(&r, 1, "folder_state.uidnext")?;
    Ok(Some(FolderStatus {
        uidvalidity: int(&r, 0, "folder_state.uidvalidity")?,
        // 4294967296 once every UID was used: 4294967295 is the highest UIDNEXT
        // IMAP can say, and failing would leave the folder unselectable.
        uidnext: u32::try_from(uidnext).unwrap_or(u32::MAX),
        highest_modseq: int(&r, 2, "folder_state.highest_modseq")?,
        exists: int(&r, 3, "the entry count")?,
        unseen: int(&r, 4, "the unseen count")?,
    }))
}

/// A body, exactly as stored.
pub(crate) async fn body<C: GenericClient>(c: &C, blob: BlobId) -> Result<Option<Vec<u8>>, Error> {
    // An id beyond i64 was never handed out.
    let Ok(id) = i64::try_from(blob.0) else { return Ok(None) };
    let found = row(c, "reading a message body", "SELECT raw FROM blobs WHERE id = $1", &[&id]).await?;
    found.map(|r| get(&r, 0, "blobs.raw")).transpose().map_err(Error::from)
}

/// Counts per folder in the order given, from one statement so they agree.
pub(crate) async fn folder_counts<C: GenericClient>(c: &C, folders: &[FolderId]) -> Result<Vec<FolderCounts>, Error> {
    if folders.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = folders.iter().map(|f| f.0).collect();
    let found = rows(
        c,
        "counting folders",
        "SELECT folder, count(*), count(*) FILTER (WHERE (flags & $2) = 0), coalesce(sum(size), 0)::bigint
         FROM folder_entries WHERE folder = ANY($1) GROUP BY folder",
        &[&ids, &i64::from(MessageFlags::SEEN.bits())],
    )
    .await?;
    let mut counts = HashMap::with_capacity(found.len());
    for r in &found {
        let folder: Uuid = get(r, 0, "folder_entries.folder")?;
        let c = FolderCounts {
            items: int(r, 1, "the entry count")?,
            unread: int(r, 2, "the unread count")?,
            size: int(r, 3, "the size sum")?,
        };
        counts.insert(folder, c);
    }
    Ok(folders.iter().map(|f| counts.get(&f.0).copied().unwrap_or_default()).collect())
}

// Qualified, so `queue_due`'s RETURNING is not ambiguous.
const QUEUE_COLUMNS: &str = "queue.id, queue.blob, queue.mail_from, queue.recipients::text, queue.attempts,
    queue.queued_ms, queue.queued_ns, queue.next_ms, queue.next_ns";

fn queued(r: &Row) -> Result<QueuedMessage, StoreError> {
    let id = QueueId(int(r, 0, "queue.id")?);
    let recipients: Vec<QueueRecipient> = serde_json::from_str(get(r, 3, "queue.recipients")?)
        .map_err(|e| StoreError::Corrupt(format!("queue.recipients of entry {} is not a recipient list: {e}", id.0)))?;
    Ok(QueuedMessage {
        id,
        blob: BlobId(int(r, 1, "queue.blob")?),
        mail_from: get(r, 2, "queue.mail_from")?,
        recipients,
        attempts: int(r, 4, "queue.attempts")?,
        queued_at: join_time(get(r, 5, "queue.queued_ms")?, get(r, 6, "queue.queued_ns")?)?,
        next_attempt: join_time(get(r, 7, "queue.next_ms")?, get(r, 8, "queue.next_ns")?)?,
    })
}

/// Entries due at `now` that no other node holds a live lease on, oldest
/// first (ties in queueing order), at most `limit`; this node takes (or
/// renews) the lease on each for `lease`. Rows another transaction has locked
/// are skipped, not waited for, so nodes polling at once split the queue.
pub(crate) async fn queue_due<C: GenericClient>(
    c: &C,
    node: Uuid,
    now: DateTime<Utc>,
    limit: usize,
    lease: Duration,
) -> Result<Vec<QueuedMessage>, Error> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let (ms, ns) = split_time(now);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let lease = lease.as_secs_f64();
    let found = rows(
        c,
        "taking due queue entries",
        &format!(
            "WITH due AS (
                SELECT id FROM queue
                WHERE (next_ms, next_ns) <= ($1, $2)
                  AND (leased_by IS NULL OR leased_by = $3 OR leased_until < clock_timestamp())
                ORDER BY queued_ms, queued_ns, id
                LIMIT $4
                FOR UPDATE SKIP LOCKED)
             UPDATE queue SET leased_by = $3, leased_until = clock_timestamp() + make_interval(secs => $5)
             FROM due WHERE queue.id = due.id
             RETURNING {QUEUE_COLUMNS}"
        ),
        &[&ms, &ns, &node, &limit, &lease],
    )
    .await?;
    let mut due = found.iter().map(queued).collect::<Result<Vec<_>, _>>()?;
    // RETURNING has no order of its own.
    due.sort_by_key(|q| (q.queued_at, q.id));
    Ok(due)
}

/// Every entry, oldest first (ties in queueing order), leased or not.
pub(crate) async fn queue_all<C: GenericClient>(c: &C) -> Result<Vec<QueuedMessage>, Error> {
    let found = rows(
        c,
        "reading the queue",
        &format!("SELECT {QUEUE_COLUMNS} FROM queue ORDER BY queued_ms, queued_ns, id"),
        &[],
    )
    .await?;
    found.iter().map(queued).collect::<Result<Vec<_>, _>>().map_err(Error::from)
}
