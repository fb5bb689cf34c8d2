//! Writing mail: bodies, folder entries with their UIDs, and the outbound
//! queue, inside the caller's transaction.

use crate::codec::{get, signed, split_time};
use crate::error::Error;
use crate::folder_state::Folders;
use crate::sql::{exec, row};
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
pub(crate) use deputy_store::plan::EntryRow;
use deputy_store::plan::{DeliveryPlan, PlannedDelivery};
use deputy_store::{Delivery, StoreError, Stored, columns};
use deputy_types::{FolderId, QueuedMessage, RecipientStatus, Uid};

/// Stores every delivery: the folders they write to are locked first, all
/// at once, the plan numbers the entries from their states, then each body,
/// its entries and its queue entry are written.
pub(crate) async fn store<C: GenericClient>(
    tx: &C,
    deliveries: &[Delivery],
    now: DateTime<Utc>,
) -> Result<Vec<Stored>, Error> {
    let plan = DeliveryPlan::new(deliveries)?;
    let mut locked = Folders::ensure_and_lock(tx, &plan.folders(), now).await?;
    let planned = plan.assign(&mut locked)?;
    let mut stored = Vec::with_capacity(planned.len());
    for p in &planned {
        stored.push(write(tx, p).await?);
    }
    locked.save(tx).await?;
    Ok(stored)
}

/// Writes one planned delivery: the body once, its entries, its queue entry
/// (leased by no node).
async fn write<C: GenericClient>(tx: &C, p: &PlannedDelivery<'_>) -> Result<Stored, Error> {
    let doing = "storing a message body";
    let inserted =
        row(tx, doing, "INSERT INTO blobs (size, raw) VALUES ($1, $2) RETURNING id", &[&i64::from(p.size), &p.raw])
            .await?
            .ok_or_else(|| StoreError::Backend(format!("{doing}: the database returned no id")))?;
    let blob: i64 = get(&inserted, 0, "blobs.id")?;
    for entry in &p.entries {
        insert_entry(tx, entry.folder, entry.uid, entry.modseq, &p.entry_row(entry, blob)).await?;
    }
    let queued = match &p.queue {
        None => None,
        Some(q) => {
            let (ms, ns) = split_time(p.received);
            let doing = "queueing a message";
            let inserted = row(
                tx,
                doing,
                "INSERT INTO queue (blob, mail_from, recipients, attempts, queued_ms, queued_ns, next_ms, next_ns)
                 VALUES ($1, $2, $3::text::jsonb, 0, $4, $5, $4, $5) RETURNING id",
                &[&blob, &q.mail_from, &columns::recipients_json(&q.recipients)?, &ms, &ns],
            )
            .await?
            .ok_or_else(|| StoreError::Backend(format!("{doing}: the database returned no id")))?;
            Some(get::<i64>(&inserted, 0, "queue.id")?)
        }
    };
    Ok(p.stored(blob, queued)?)
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
            &[
                &id,
                &columns::recipients_json(&message.recipients)?,
                &signed(message.attempts, "attempts")?,
                &next_ms,
                &next_ns,
            ],
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
