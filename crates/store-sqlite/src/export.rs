//! Reading the whole message store at once, ids, UIDs and mod-sequences
//! included, for `deputy migrate`; and making sure no other process uses the
//! database while it is copied.

use crate::error::sql;
use crate::mail_read::{entry_row, queue_all};
use crate::read::each;
use crate::subscriptions;
use crate::{DB_FILE, SqliteStore};
use deputy_store::{ExportedBody, ExportedFolder, FolderState, MailExport, StoreError};
use deputy_types::{BlobId, FolderId};
use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::collections::BTreeMap;
use std::path::Path;

/// Reads every folder state, entry, body, queue entry and subscription in one read
/// transaction, so they agree with each other.
pub(crate) fn export(conn: &mut Connection) -> Result<MailExport, StoreError> {
    let tx = conn.transaction().map_err(sql("starting to export mail"))?;
    let states =
        each(&tx, "folder_state", "SELECT folder, uidvalidity, uidnext, highest_modseq FROM folder_state", &[], |c| {
            let state = FolderState { uidvalidity: c.bits(1)?, uidnext: c.bits(2)?, highest_modseq: c.bits(3)? };
            Ok((c.folder_id(0)?, state))
        })?;
    let mut folders: BTreeMap<FolderId, ExportedFolder> = states
        .into_iter()
        .map(|(folder, state)| (folder, ExportedFolder { folder, state, entries: Vec::new() }))
        .collect();
    // The entry columns `entry_row` reads, then the folder.
    let all = each(
        &tx,
        "folder_entries",
        "SELECT uid, blob, flags, size, internal_ms, internal_ns, creator, message_id, modseq, folder
         FROM folder_entries ORDER BY folder, uid",
        &[],
        |c| {
            let folder = c.folder_id(9)?;
            entry_row(folder)(c)
        },
    )?;
    for entry in all {
        let Some(exported) = folders.get_mut(&entry.folder) else {
            return Err(StoreError::Corrupt(format!(
                "folder {} has entries but no UID state in folder_state",
                entry.folder
            )));
        };
        exported.entries.push(entry);
    }
    for exported in folders.values_mut() {
        exported.entries.sort_by_key(|e| e.uid);
    }
    let bodies = each(&tx, "blobs", "SELECT id, raw FROM blobs ORDER BY id", &[], |c| {
        let raw = c.row.get_ref(1).map_err(sql("reading blobs"))?;
        let raw = raw.as_blob().map_err(|e| StoreError::Corrupt(format!("blobs.raw: expected bytes: {e}")))?;
        Ok(ExportedBody { id: BlobId(c.bits(0)?), raw: raw.to_vec() })
    })?;
    let mut queue = queue_all(&tx)?;
    queue.sort_by_key(|q| q.id);
    let sequence = |table: &str| -> Result<u64, StoreError> {
        let found = each(&tx, "sqlite_sequence", "SELECT seq FROM sqlite_sequence WHERE name = ?1", &[&table], |c| {
            c.bits::<u64>(0)
        })?;
        Ok(found.into_iter().next().unwrap_or(0) + 1)
    };
    let next_body_id = sequence("blobs")?.max(bodies.last().map_or(1, |b| b.id.0 + 1));
    let next_queue_id = sequence("queue")?.max(queue.last().map_or(1, |q| q.id.0 + 1));
    let subscriptions = subscriptions::all(&tx)?;
    Ok(MailExport {
        folders: folders.into_values().collect(),
        bodies,
        queue,
        subscriptions,
        next_body_id,
        next_queue_id,
    })
}

impl SqliteStore {
    /// Fails with [`StoreError::Unavailable`] when another connection, in this
    /// process or another, has the database in `dir` open (a running
    /// `deputy serve` keeps it open), and with [`StoreError::Backend`] when
    /// there is none. Asks SQLite's own file locks, without waiting: an
    /// exclusive-mode connection cannot open a WAL database others hold.
    /// Call it before [`SqliteStore::open`]; it holds nothing afterwards.
    pub fn ensure_unused(dir: &Path) -> Result<(), StoreError> {
        let path = dir.join(DB_FILE);
        if !path.is_file() {
            return Err(StoreError::Backend(format!("{} holds no Deputy database ({DB_FILE})", dir.display())));
        }
        let doing = format!("checking that nothing else uses {}", path.display());
        let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_WRITE).map_err(sql(&doing))?;
        conn.busy_timeout(std::time::Duration::ZERO).map_err(sql(&doing))?;
        let probe = conn
            .pragma_update(None, "locking_mode", "EXCLUSIVE")
            .and_then(|()| conn.execute_batch("BEGIN EXCLUSIVE; SELECT count(*) FROM sqlite_master; COMMIT;"));
        match probe {
            Ok(()) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(f, _))
                if matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) =>
            {
                Err(StoreError::Unavailable(format!(
                    "{} is in use by another process (a running deputy serve?); stop it first",
                    path.display()
                )))
            }
            Err(e) => Err(sql(&doing)(e)),
        }
    }
}
