//! Moving a whole store in (`deputy migrate`) and reading it all back out
//! (its verification): every id, UID, UIDVALIDITY and mod-sequence kept, so
//! IMAP clients see the same folders after the move.

use crate::changelog;
use crate::codec::{get, int, signed, split_time};
use crate::error::Error;
use crate::mail_read::{entry_from_row, queue_all};
use crate::sql::{exec, row, rows};
use deadpool_postgres::GenericClient;
use deputy_store::{Change, ExportedBody, ExportedFolder, FolderState, MailExport, StoreError};
use deputy_types::{AuditRecord, BlobId, FolderId};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Every table Deputy writes; the target of an import must have none of them filled.
const TABLES: &[&str] = &[
    "organization",
    "accepted_domains",
    "recipients",
    "members",
    "mailbox_aces",
    "send_as_aces",
    "folders",
    "folder_aces",
    "service_principals",
    "audit",
    "blobs",
    "folder_state",
    "folder_entries",
    "queue",
    "subscriptions",
];

/// Entries inserted per statement: one round trip each, parameters well under
/// PostgreSQL's limits.
const ENTRY_CHUNK: usize = 1000;

/// Writes `directory` with its `audit` records and then `mail` into an empty
/// store, inside the caller's transaction (the directory through the change
/// log, pruned by `retention`). The tables are locked against
/// other writers first, so a running node or a second import cannot slip in
/// between the emptiness check and the copy.
pub(crate) async fn import<C: GenericClient>(
    tx: &C,
    directory: &[Change],
    audit: &[AuditRecord],
    mail: &MailExport,
    retention: &changelog::Retention,
) -> Result<(), Error> {
    let doing = "checking that the target store is empty";
    exec(tx, doing, &format!("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE", TABLES.join(", ")), &[]).await?;
    let probes: Vec<String> = TABLES.iter().map(|t| format!("SELECT '{t}' FROM {t} LIMIT 1")).collect();
    let filled = rows(tx, doing, &format!("({})", probes.join(") UNION ALL (")), &[]).await?;
    if !filled.is_empty() {
        let names = filled.iter().map(|r| get::<String>(r, 0, "the table name")).collect::<Result<Vec<_>, _>>()?;
        return Err(StoreError::Backend(format!(
            "the target store is not empty (it has rows in {}); import only into a new database or schema, \
             nothing was changed",
            names.join(", ")
        ))
        .into());
    }
    // Through the change log, like every directory commit, so a node already
    // watching this database sees it.
    if !directory.is_empty() || !audit.is_empty() {
        changelog::commit(tx, None, directory, audit, retention).await?;
    }
    for body in &mail.bodies {
        insert_body(tx, body).await?;
    }
    for folder in &mail.folders {
        insert_folder(tx, folder).await?;
    }
    for q in &mail.queue {
        let (queued_ms, queued_ns) = split_time(q.queued_at);
        let (next_ms, next_ns) = split_time(q.next_attempt);
        let recipients = serde_json::to_string(&q.recipients)
            .map_err(|e| StoreError::Backend(format!("encoding queue recipients as JSON: {e}")))?;
        exec(
            tx,
            "copying a queue entry",
            "INSERT INTO queue (id, blob, mail_from, recipients, attempts, queued_ms, queued_ns, next_ms, next_ns)
             OVERRIDING SYSTEM VALUE
             VALUES ($1, $2, $3, $4::text::jsonb, $5, $6, $7, $8, $9)",
            &[
                &signed(q.id.0, "queue id")?,
                &signed(q.blob.0, "body id")?,
                &q.mail_from,
                &recipients,
                &i64::from(q.attempts),
                &queued_ms,
                &queued_ns,
                &next_ms,
                &next_ns,
            ],
        )
        .await?;
    }
    crate::subscriptions::import(tx, &mail.subscriptions).await?;
    // The identity sequences continue above every id the source handed out.
    let doing = "moving the id sequences on";
    for (table, next) in [("blobs", mail.next_body_id), ("queue", mail.next_queue_id)] {
        // Set as "last handed out", so reading it back gives the same next id.
        if next > 1 {
            let last = signed(next - 1, "last id")?;
            exec(tx, doing, "SELECT setval(pg_get_serial_sequence($1, 'id'), $2, true)", &[&table, &last]).await?;
        }
    }
    Ok(())
}

async fn insert_body<C: GenericClient>(tx: &C, body: &ExportedBody) -> Result<(), Error> {
    let size = i64::try_from(body.raw.len())
        .ok()
        .filter(|s| *s <= i64::from(u32::MAX))
        .ok_or_else(|| StoreError::Backend(format!("body {} is larger than 4 GiB", body.id.0)))?;
    exec(
        tx,
        "copying a message body",
        "INSERT INTO blobs (id, size, raw) OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3)",
        &[&signed(body.id.0, "body id")?, &size, &body.raw],
    )
    .await
    .map(|_| ())
}

async fn insert_folder<C: GenericClient>(tx: &C, folder: &ExportedFolder) -> Result<(), Error> {
    let FolderState { uidvalidity, uidnext, highest_modseq } = folder.state;
    exec(
        tx,
        "copying a folder's UID state",
        "INSERT INTO folder_state (folder, uidvalidity, uidnext, highest_modseq) VALUES ($1, $2, $3, $4)",
        &[
            &folder.folder.0,
            &i64::from(uidvalidity),
            &signed(uidnext, "UIDNEXT")?,
            &signed(highest_modseq, "highest mod-sequence")?,
        ],
    )
    .await?;
    for chunk in folder.entries.chunks(ENTRY_CHUNK) {
        let mut uid = Vec::with_capacity(chunk.len());
        let mut blob = Vec::with_capacity(chunk.len());
        let mut size = Vec::with_capacity(chunk.len());
        let mut flags = Vec::with_capacity(chunk.len());
        let (mut ms, mut ns) = (Vec::with_capacity(chunk.len()), Vec::with_capacity(chunk.len()));
        let mut creator: Vec<Option<Uuid>> = Vec::with_capacity(chunk.len());
        let mut message_id: Vec<Option<&str>> = Vec::with_capacity(chunk.len());
        let mut modseq = Vec::with_capacity(chunk.len());
        for e in chunk {
            if e.folder != folder.folder {
                return Err(StoreError::Backend(format!(
                    "an entry of folder {} is listed under folder {}",
                    e.folder, folder.folder
                ))
                .into());
            }
            uid.push(i64::from(e.uid));
            blob.push(signed(e.blob.0, "body id")?);
            size.push(i64::from(e.size));
            flags.push(i64::from(e.flags.bits()));
            let (m, n) = split_time(e.internal_date);
            ms.push(m);
            ns.push(n);
            creator.push(e.creator.map(|c| c.0));
            message_id.push(e.message_id.as_deref());
            modseq.push(signed(e.modseq, "mod-sequence")?);
        }
        exec(
            tx,
            "copying folder entries",
            "INSERT INTO folder_entries
                 (folder, uid, blob, size, flags, internal_ms, internal_ns, creator, message_id, modseq)
             SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],
                                      $7::bigint[], $8::uuid[], $9::text[], $10::bigint[])",
            &[&folder.folder.0, &uid, &blob, &size, &flags, &ms, &ns, &creator, &message_id, &modseq],
        )
        .await?;
    }
    Ok(())
}

/// Reads every folder state, entry, body, queue entry and subscription, inside the
/// caller's (repeatable-read) transaction so they agree with each other.
pub(crate) async fn export<C: GenericClient>(tx: &C) -> Result<MailExport, Error> {
    let doing = "exporting mail";
    let states =
        rows(tx, doing, "SELECT folder, uidvalidity, uidnext, highest_modseq FROM folder_state ORDER BY folder", &[])
            .await?;
    let mut folders = BTreeMap::new();
    for r in &states {
        let folder = FolderId(get(r, 0, "folder_state.folder")?);
        let state = FolderState {
            uidvalidity: int(r, 1, "folder_state.uidvalidity")?,
            uidnext: int(r, 2, "folder_state.uidnext")?,
            highest_modseq: int(r, 3, "folder_state.highest_modseq")?,
        };
        folders.insert(folder, ExportedFolder { folder, state, entries: Vec::new() });
    }
    // The columns `entry_from_row` reads, then the folder.
    let entries = rows(
        tx,
        doing,
        "SELECT uid, blob, flags, size, internal_ms, internal_ns, creator, message_id, modseq, folder
         FROM folder_entries ORDER BY folder, uid",
        &[],
    )
    .await?;
    for r in &entries {
        let folder = FolderId(get(r, 9, "folder_entries.folder")?);
        let entry = entry_from_row(folder, r)?;
        let Some(exported) = folders.get_mut(&folder) else {
            return Err(StoreError::Corrupt(format!("folder {folder} has entries but no UID state")).into());
        };
        exported.entries.push(entry);
    }
    let found = rows(tx, doing, "SELECT id, raw FROM blobs ORDER BY id", &[]).await?;
    let bodies = found
        .iter()
        .map(|r| Ok(ExportedBody { id: BlobId(int(r, 0, "blobs.id")?), raw: get(r, 1, "blobs.raw")? }))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let mut queue = queue_all(tx).await?;
    queue.sort_by_key(|q| q.id);
    let next = row(
        tx,
        doing,
        "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('blobs', 'id')::regclass), 0) + 1,
                coalesce(pg_sequence_last_value(pg_get_serial_sequence('queue', 'id')::regclass), 0) + 1",
        &[],
    )
    .await?
    .ok_or_else(|| StoreError::Backend(format!("{doing}: the sequences could not be read")))?;
    let subscriptions = crate::subscriptions::all(tx).await?;
    let next_body_id: u64 = int(&next, 0, "the body id sequence")?;
    let next_queue_id: u64 = int(&next, 1, "the queue id sequence")?;
    Ok(MailExport {
        folders: folders.into_values().collect(),
        next_body_id: next_body_id.max(bodies.last().map_or(1, |b| b.id.0 + 1)),
        next_queue_id: next_queue_id.max(queue.last().map_or(1, |q| q.id.0 + 1)),
        bodies,
        queue,
        subscriptions,
    })
}
