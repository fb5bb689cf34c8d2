//! The IMAP folder operations: flags with mod-sequences, expunge, copy and
//! move, each inside the caller's transaction after locking the state rows
//! of the folders it touches (see `folder_state`).

use crate::codec::{get, int};
use crate::error::Error;
use crate::folder_state::{Folders, ensure};
use crate::mail_read;
use crate::mail_write::{EntryRow, delete_unreferenced, insert_entry};
use crate::sql::{exec, rows};
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use deputy_store::{FlagOp, FlagOutcome, StoreError};
use deputy_types::{FolderId, MessageFlags, RecipientId, Uid};

/// Who a copied entry is created by.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Creator {
    /// `copy`: the caller's.
    Set(Option<RecipientId>),
    /// `move_entries`: each entry's own.
    Keep,
}

/// The UIDs asked for, ascending and once each, as the `bigint`s they are stored as.
fn sorted(uids: &[Uid]) -> Vec<i64> {
    let mut uids: Vec<i64> = uids.iter().map(|u| i64::from(*u)).collect();
    uids.sort_unstable();
    uids.dedup();
    uids
}

/// `MailStore::set_flags`: each entry that passes the `UNCHANGEDSINCE` test and
/// whose flags change takes the folder's next mod-sequence, in UID order.
pub(crate) async fn set_flags<C: GenericClient>(
    tx: &C,
    folder: FolderId,
    uids: &[Uid],
    op: FlagOp,
    unchanged_since: Option<u64>,
) -> Result<FlagOutcome, Error> {
    let mut outcome = FlagOutcome::default();
    let mut locked = Folders::lock(tx, &[folder]).await?;
    if !locked.has(folder) {
        return Ok(outcome);
    }
    let doing = format!("changing flags in folder {folder}");
    let found = rows(
        tx,
        &doing,
        "SELECT uid, flags, modseq FROM folder_entries WHERE folder = $1 AND uid = ANY($2) ORDER BY uid",
        &[&folder.0, &sorted(uids)],
    )
    .await?;
    let (mut changed_uids, mut changed_flags, mut changed_modseqs) = (Vec::new(), Vec::new(), Vec::new());
    for r in &found {
        let uid: Uid = int(r, 0, "folder_entries.uid")?;
        let bits: u16 = int(r, 1, "folder_entries.flags")?;
        let modseq: u64 = int(r, 2, "folder_entries.modseq")?;
        let flags = MessageFlags::from_bits(bits)
            .ok_or_else(|| StoreError::Corrupt(format!("folder_entries.flags has unknown bits: {bits:#x}")))?;
        // RFC 7162 §3.1.3: a mod-sequence above UNCHANGEDSINCE means another
        // session changed the entry since the client looked; report, don't touch.
        if unchanged_since.is_some_and(|since| modseq > since) {
            outcome.failed_modified.push(uid);
            continue;
        }
        let new = op.apply(flags);
        if new == flags {
            continue;
        }
        let modseq = locked.next_modseq(folder)?;
        changed_uids.push(i64::from(uid));
        changed_flags.push(i64::from(new.bits()));
        changed_modseqs.push(modseq);
        outcome.changed.push((uid, new, modseq.unsigned_abs()));
    }
    if !changed_uids.is_empty() {
        exec(
            tx,
            &doing,
            "UPDATE folder_entries e SET flags = u.flags, modseq = u.modseq
             FROM unnest($2::bigint[], $3::bigint[], $4::bigint[]) AS u(uid, flags, modseq)
             WHERE e.folder = $1 AND e.uid = u.uid",
            &[&folder.0, &changed_uids, &changed_flags, &changed_modseqs],
        )
        .await?;
    }
    locked.save(tx).await?;
    Ok(outcome)
}

/// `MailStore::expunge`: see [`expunge_locked`].
pub(crate) async fn expunge<C: GenericClient>(tx: &C, folder: FolderId, uids: &[Uid]) -> Result<Vec<Uid>, Error> {
    let mut locked = Folders::lock(tx, &[folder]).await?;
    if !locked.has(folder) {
        return Ok(Vec::new());
    }
    let removed = expunge_locked(tx, &mut locked, folder, uids).await?;
    locked.save(tx).await?;
    Ok(removed)
}

/// Removes the entries, raises the folder's highest mod-sequence once if any
/// went (so a client's cached HIGHESTMODSEQ shows the change), and deletes the
/// bodies nothing shows any more.
async fn expunge_locked<C: GenericClient>(
    tx: &C,
    locked: &mut Folders,
    folder: FolderId,
    uids: &[Uid],
) -> Result<Vec<Uid>, Error> {
    let doing = format!("expunging entries of folder {folder}");
    let gone = rows(
        tx,
        &doing,
        "DELETE FROM folder_entries WHERE folder = $1 AND uid = ANY($2) RETURNING uid, blob",
        &[&folder.0, &sorted(uids)],
    )
    .await?;
    let mut removed = Vec::with_capacity(gone.len());
    let mut blobs = Vec::with_capacity(gone.len());
    for r in &gone {
        removed.push(int::<Uid>(r, 0, "folder_entries.uid")?);
        blobs.push(get::<i64>(r, 1, "folder_entries.blob")?);
    }
    if removed.is_empty() {
        return Ok(removed);
    }
    removed.sort_unstable();
    locked.next_modseq(folder)?;
    delete_unreferenced(tx, &doing, &blobs).await?;
    Ok(removed)
}

/// `MailStore::copy` (`remove` false) and `MailStore::move_entries` (`remove`
/// true): new entries in `to` showing the same bodies, in ascending source
/// UID order, then, for a move, the originals expunged.
pub(crate) async fn copy<C: GenericClient>(
    tx: &C,
    from: FolderId,
    uids: &[Uid],
    to: FolderId,
    creator: Creator,
    remove: bool,
    now: DateTime<Utc>,
) -> Result<Vec<(Uid, Uid)>, Error> {
    ensure(tx, &[to], now).await?;
    let mut locked = Folders::lock(tx, &[from, to]).await?;
    if !locked.has(from) {
        return Ok(Vec::new());
    }
    let sources = rows(
        tx,
        &format!("reading entries of folder {from} to copy"),
        &format!("{} WHERE folder = $1 AND uid = ANY($2) ORDER BY uid", mail_read::ENTRY_COLUMNS),
        &[&from.0, &sorted(uids)],
    )
    .await?;
    let mut pairs = Vec::with_capacity(sources.len());
    for r in &sources {
        let source = mail_read::entry_from_row(from, r)?;
        let blob = i64::try_from(source.blob.0)
            .map_err(|_| StoreError::Corrupt(format!("folder_entries.blob {} is out of range", source.blob.0)))?;
        let entry = EntryRow {
            blob,
            size: source.size,
            flags: source.flags,
            received: source.internal_date,
            creator: match creator {
                Creator::Set(c) => c,
                Creator::Keep => source.creator,
            },
            message_id: source.message_id.as_deref(),
        };
        // The source's mod-sequence stays behind: the copy is a new entry of `to`.
        let (uid, modseq) = locked.next_uid(to)?;
        insert_entry(tx, to, uid, modseq, &entry).await?;
        pairs.push((source.uid, uid));
    }
    if remove && !pairs.is_empty() {
        let moved: Vec<Uid> = pairs.iter().map(|(source, _)| *source).collect();
        expunge_locked(tx, &mut locked, from, &moved).await?;
    }
    locked.save(tx).await?;
    Ok(pairs)
}
