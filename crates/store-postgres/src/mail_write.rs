//! Writing mail: bodies, folder entries with their UIDs, and the outbound
//! queue, inside the caller's transaction.

use crate::codec::{get, signed, split_time};
use crate::error::Error;
use crate::folder_state::Folders;
use crate::sql::{exec, row};
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use deputy_store::{Delivery, NewOutbound, StoreError, Stored};
use deputy_types::{
    BlobId, FolderId, MessageFlags, QueueId, QueueRecipient, QueuedMessage, RecipientId, RecipientStatus, Uid,
};

/// Stores every delivery: the folders they write to are locked first, all
/// at once, then each body, its entries and its queue entry are written.
pub(crate) async fn store<C: GenericClient>(
    tx: &C,
    deliveries: &[Delivery],
    now: DateTime<Utc>,
) -> Result<Vec<Stored>, Error> {
    let mut sizes = Vec::with_capacity(deliveries.len());
    for d in deliveries {
        sizes.push(check(d)?);
    }
    let folders: Vec<FolderId> = deliveries.iter().flat_map(|d| d.entries.iter().map(|e| e.folder)).collect();
    let mut locked = Folders::ensure_and_lock(tx, &folders, now).await?;
    let mut stored = Vec::with_capacity(deliveries.len());
    for (d, size) in deliveries.iter().zip(sizes) {
        stored.push(store_one(tx, &mut locked, d, size).await?);
    }
    locked.save(tx).await?;
    Ok(stored)
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

async fn store_one<C: GenericClient>(tx: &C, locked: &mut Folders, d: &Delivery, size: u32) -> Result<Stored, Error> {
    let doing = "storing a message body";
    let inserted =
        row(tx, doing, "INSERT INTO blobs (size, raw) VALUES ($1, $2) RETURNING id", &[&i64::from(size), &d.raw])
            .await?
            .ok_or_else(|| StoreError::Backend(format!("{doing}: the database returned no id")))?;
    let blob: i64 = get(&inserted, 0, "blobs.id")?;
    let mut uids = Vec::with_capacity(d.entries.len());
    for entry in &d.entries {
        let (uid, modseq) = locked.next_uid(entry.folder)?;
        let row = EntryRow {
            blob,
            size,
            flags: entry.flags,
            received: d.received,
            creator: entry.creator,
            message_id: d.message_id.as_deref(),
        };
        insert_entry(tx, entry.folder, uid, modseq, &row).await?;
        uids.push((entry.folder, uid));
    }
    let queued = match &d.outbound {
        Some(o) => Some(enqueue(tx, blob, o, d.received).await?),
        None => None,
    };
    let blob = BlobId(u64::try_from(blob).map_err(|_| StoreError::Corrupt(format!("blob id {blob} is negative")))?);
    Ok(Stored { blob, uids, queued })
}

fn recipients_json(recipients: &[QueueRecipient]) -> Result<String, Error> {
    serde_json::to_string(recipients)
        .map_err(|e| StoreError::Backend(format!("encoding queue recipients as JSON: {e}")).into())
}

/// A new queue entry: every recipient pending, no attempt yet, due at once, leased by no node.
async fn enqueue<C: GenericClient>(
    tx: &C,
    blob: i64,
    outbound: &NewOutbound,
    received: DateTime<Utc>,
) -> Result<QueueId, Error> {
    let recipients: Vec<QueueRecipient> = outbound
        .recipients
        .iter()
        .map(|a| QueueRecipient { address: a.clone(), status: RecipientStatus::Pending { last_error: None } })
        .collect();
    let (ms, ns) = split_time(received);
    let doing = "queueing a message";
    let inserted = row(
        tx,
        doing,
        "INSERT INTO queue (blob, mail_from, recipients, attempts, queued_ms, queued_ns, next_ms, next_ns)
         VALUES ($1, $2, $3::text::jsonb, 0, $4, $5, $4, $5) RETURNING id",
        &[&blob, &outbound.mail_from, &recipients_json(&recipients)?, &ms, &ns],
    )
    .await?
    .ok_or_else(|| StoreError::Backend(format!("{doing}: the database returned no id")))?;
    let id: i64 = get(&inserted, 0, "queue.id")?;
    u64::try_from(id).map(QueueId).map_err(|_| StoreError::Corrupt(format!("queue id {id} is negative")).into())
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

/// Inserts an entry with a UID and mod-sequence taken from the locked folder state.
pub(crate) async fn insert_entry<C: GenericClient>(
    tx: &C,
    folder: FolderId,
    uid: Uid,
    modseq: i64,
    row: &EntryRow<'_>,
) -> Result<(), Error> {
    let (ms, ns) = split_time(row.received);
    exec(
        tx,
        "storing a folder entry",
        "INSERT INTO folder_entries
             (folder, uid, blob, size, flags, internal_ms, internal_ns, creator, message_id, modseq)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &folder.0,
            &i64::from(uid),
            &row.blob,
            &i64::from(row.size),
            &i64::from(row.flags.bits()),
            &ms,
            &ns,
            &row.creator.map(|c| c.0),
            &row.message_id,
            &modseq,
        ],
    )
    .await
    .map(|_| ())
}

/// Records a delivery attempt's outcome and stores its notice (see
/// `MailStore::queue_update`). The entry's row is locked first, so of two
/// nodes finishing the same entry one waits and then finds it gone: an
/// update for an entry no longer queued fails, and a notice is never stored
/// twice. The update also ends the entry's lease.
pub(crate) async fn queue_update<C: GenericClient>(
    tx: &C,
    message: &QueuedMessage,
    notice: Option<&Delivery>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let doing = format!("updating queue entry {}", message.id.0);
    let id = i64::try_from(message.id.0).ok();
    let blob: Option<i64> = match id {
        None => None,
        Some(id) => match row(tx, &doing, "SELECT blob FROM queue WHERE id = $1 FOR UPDATE", &[&id]).await? {
            Some(r) => Some(get(&r, 0, "queue.blob")?),
            None => None,
        },
    };
    let (Some(id), Some(blob)) = (id, blob) else {
        return Err(StoreError::Backend(format!(
            "{doing}: it is no longer queued (another attempt finished it); nothing was changed"
        ))
        .into());
    };
    // The notice first: it locks folder states, which every transaction takes before bodies.
    if let Some(notice) = notice {
        store(tx, std::slice::from_ref(notice), now).await?;
    }
    let pending = message.recipients.iter().any(|r| matches!(r.status, RecipientStatus::Pending { .. }));
    if pending {
        let (next_ms, next_ns) = split_time(message.next_attempt);
        exec(
            tx,
            &doing,
            "UPDATE queue SET recipients = $2::text::jsonb, attempts = $3, next_ms = $4, next_ns = $5,
                leased_by = NULL, leased_until = NULL
             WHERE id = $1",
            &[&id, &recipients_json(&message.recipients)?, &signed(message.attempts, "attempts")?, &next_ms, &next_ns],
        )
        .await?;
    } else {
        exec(tx, &doing, "DELETE FROM queue WHERE id = $1", &[&id]).await?;
        // The stored blob, not the caller's copy of it, is what this entry held.
        delete_unreferenced(tx, &doing, &[blob]).await?;
    }
    Ok(())
}

/// Deletes the bodies of `blobs` that no folder entry and no queue entry shows
/// any more. Each body's row is locked first, so two transactions removing the
/// last two references at once cannot both see the other's and keep the body.
pub(crate) async fn delete_unreferenced<C: GenericClient>(tx: &C, doing: &str, blobs: &[i64]) -> Result<(), Error> {
    let mut blobs = blobs.to_vec();
    blobs.sort_unstable();
    blobs.dedup();
    if blobs.is_empty() {
        return Ok(());
    }
    crate::sql::rows(tx, doing, "SELECT id FROM blobs WHERE id = ANY($1) ORDER BY id FOR UPDATE", &[&blobs]).await?;
    exec(
        tx,
        doing,
        "DELETE FROM blobs b WHERE b.id = ANY($1)
           AND NOT EXISTS (SELECT 1 FROM folder_entries e WHERE e.blob = b.id)
           AND NOT EXISTS (SELECT 1 FROM queue q WHERE q.blob = b.id)",
        &[&blobs],
    )
    .await
    .map(|_| ())
}
