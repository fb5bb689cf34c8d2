//! The IMAP folder operations: status, flags with mod-sequences, expunge, copy
//! and move, inside the transaction (and savepoint) the writer thread opened,
//! so each request is atomic and durable like a delivery.

use crate::error::sql;
use crate::mail_read;
use crate::mail_write::{EntryRow, delete_if_unreferenced, ensure_state, execute, insert_entry, next_modseq};
use chrono::{DateTime, Utc};
use deputy_store::StoreError;
use deputy_store::conformance::mail::{FlagOp, FlagOutcome, FolderStatus};
use deputy_types::{FolderId, MessageFlags, RecipientId, Uid};
use rusqlite::{Connection, OptionalExtension, params};

/// Who a copied entry is created by.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Creator {
    /// `copy`: the caller's.
    Set(Option<RecipientId>),
    /// `move_entries`: each entry's own.
    Keep,
}

/// The folder's status, creating its state first when it has none, so the
/// UIDVALIDITY a client sees is the one its first message will be stored under.
pub(crate) fn folder_status(
    conn: &Connection,
    folder: FolderId,
    now: DateTime<Utc>,
) -> Result<FolderStatus, StoreError> {
    ensure_state(conn, folder, now)?;
    mail_read::status(conn, folder)?
        .ok_or_else(|| StoreError::Backend(format!("the state of folder {folder} vanished while it was created")))
}

/// The UIDs asked for, ascending and once each, so answers come in UID order
/// and an entry named twice changes once.
fn sorted(uids: &[Uid]) -> Vec<Uid> {
    let mut uids = uids.to_vec();
    uids.sort_unstable();
    uids.dedup();
    uids
}

/// One existing entry's columns a folder operation needs.
struct Row {
    blob: i64,
    size: u32,
    flags: MessageFlags,
    received: DateTime<Utc>,
    creator: Option<RecipientId>,
    message_id: Option<String>,
}

fn row(conn: &Connection, folder: FolderId, uid: Uid) -> Result<Option<Row>, StoreError> {
    let Some(e) = mail_read::entry(conn, folder, uid)? else { return Ok(None) };
    let blob = i64::try_from(e.blob.0)
        .map_err(|_| StoreError::Corrupt(format!("folder_entries.blob {} is out of range", e.blob.0)))?;
    Ok(Some(Row {
        blob,
        size: e.size,
        flags: e.flags,
        received: e.internal_date,
        creator: e.creator,
        message_id: e.message_id,
    }))
}

/// `MailStore::set_flags`: each entry that passes the `UNCHANGEDSINCE` test and
/// whose flags change takes the folder's next mod-sequence.
pub(crate) fn set_flags(
    conn: &Connection,
    folder: FolderId,
    uids: &[Uid],
    op: FlagOp,
    unchanged_since: Option<u64>,
    now: DateTime<Utc>,
) -> Result<FlagOutcome, StoreError> {
    let doing = format!("changing flags in folder {folder}");
    let key = folder.to_string();
    let mut outcome = FlagOutcome::default();
    for uid in sorted(uids) {
        let current: Option<(u16, i64)> = conn
            .prepare_cached("SELECT flags, modseq FROM folder_entries WHERE folder = ?1 AND uid = ?2")
            .and_then(|mut s| s.query_row(params![key, uid], |r| Ok((r.get(0)?, r.get(1)?))).optional())
            .map_err(sql(&doing))?;
        let Some((bits, modseq)) = current else { continue };
        let modseq = u64::try_from(modseq)
            .map_err(|_| StoreError::Corrupt(format!("folder_entries.modseq {modseq} is negative")))?;
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
        let modseq = next_modseq(conn, folder, now)?;
        execute(
            conn,
            &doing,
            "UPDATE folder_entries SET flags = ?3, modseq = ?4 WHERE folder = ?1 AND uid = ?2",
            params![key, uid, new.bits(), modseq],
        )?;
        // next_modseq only hands out values above 1.
        outcome.changed.push((uid, new, modseq.unsigned_abs()));
    }
    Ok(outcome)
}

/// `MailStore::expunge`: removes the entries, raises the folder's highest
/// mod-sequence once if any went (so a client's cached HIGHESTMODSEQ shows the
/// change), and deletes the bodies nothing shows any more.
pub(crate) fn expunge(
    conn: &Connection,
    folder: FolderId,
    uids: &[Uid],
    now: DateTime<Utc>,
) -> Result<Vec<Uid>, StoreError> {
    let doing = format!("expunging entries of folder {folder}");
    let key = folder.to_string();
    let mut removed = Vec::new();
    let mut blobs = Vec::new();
    for uid in sorted(uids) {
        let blob: Option<i64> = conn
            .prepare_cached("DELETE FROM folder_entries WHERE folder = ?1 AND uid = ?2 RETURNING blob")
            .and_then(|mut s| s.query_row(params![key, uid], |r| r.get(0)).optional())
            .map_err(sql(&doing))?;
        if let Some(blob) = blob {
            removed.push(uid);
            blobs.push(blob);
        }
    }
    if removed.is_empty() {
        return Ok(removed);
    }
    next_modseq(conn, folder, now)?;
    blobs.sort_unstable();
    blobs.dedup();
    for blob in blobs {
        delete_if_unreferenced(conn, &doing, blob)?;
    }
    Ok(removed)
}

/// `MailStore::copy` (`remove` false) and `MailStore::move_entries` (`remove`
/// true): new entries in `to` showing the same bodies, then, for a move, the
/// originals expunged, all in the caller's savepoint.
pub(crate) fn copy(
    conn: &Connection,
    from: FolderId,
    uids: &[Uid],
    to: FolderId,
    creator: Creator,
    remove: bool,
    now: DateTime<Utc>,
) -> Result<Vec<(Uid, Uid)>, StoreError> {
    let mut pairs = Vec::new();
    for uid in sorted(uids) {
        let Some(r) = row(conn, from, uid)? else { continue };
        let entry = EntryRow {
            blob: r.blob,
            size: r.size,
            flags: r.flags,
            received: r.received,
            creator: match creator {
                Creator::Set(c) => c,
                Creator::Keep => r.creator,
            },
            message_id: r.message_id.as_deref(),
        };
        // The source's mod-sequence stays behind: the copy is a new entry of `to`.
        pairs.push((uid, insert_entry(conn, to, &entry, now)?));
    }
    if remove {
        let moved: Vec<Uid> = pairs.iter().map(|(source, _)| *source).collect();
        expunge(conn, from, &moved, now)?;
    }
    Ok(pairs)
}
