//! Folder state rows: where a folder's next UID and mod-sequence come from.
//!
//! A transaction that creates entries, changes flags or expunges first locks
//! the state rows of the folders it touches (`SELECT … FOR UPDATE`, in folder
//! order, so two transactions wait for each other instead of deadlocking),
//! takes UIDs and mod-sequences from them in memory, and writes them back
//! before it commits. So two nodes storing into one folder at once are
//! serialized on that folder alone and can never hand out the same UID, and
//! UID order is commit order, as IMAP clients expect.

use crate::codec::{get, int};
use crate::error::Error;
use crate::sql::{exec, rows};
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use deputy_store::plan::{FolderCounters, FolderStates};
use deputy_types::FolderId;
use std::ops::{Deref, DerefMut};
use uuid::Uuid;

/// The locked state rows of the folders one transaction works on; UIDs and
/// mod-sequences are taken from them as `deputy_store::plan` says.
#[derive(Debug, Default)]
pub(crate) struct Folders(FolderStates);

impl Deref for Folders {
    type Target = FolderStates;
    fn deref(&self) -> &FolderStates {
        &self.0
    }
}

impl DerefMut for Folders {
    fn deref_mut(&mut self) -> &mut FolderStates {
        &mut self.0
    }
}

/// Creates the state rows `folders` lack (UIDNEXT 1, highest mod-sequence 1,
/// a new UIDVALIDITY: the current second, above every one handed out before).
pub(crate) async fn ensure<C: GenericClient>(tx: &C, folders: &[FolderId], now: DateTime<Utc>) -> Result<(), Error> {
    let mut ids: Vec<Uuid> = folders.iter().map(|f| f.0).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(());
    }
    exec(
        tx,
        "creating folder states",
        "INSERT INTO folder_state (folder, uidvalidity, uidnext, highest_modseq)
         SELECT f, greatest($2, m.top + 1) + row_number() OVER (ORDER BY f) - 1, 1, 1
         FROM unnest($1::uuid[]) AS f, (SELECT coalesce(max(uidvalidity), 0) AS top FROM folder_state) AS m
         WHERE NOT EXISTS (SELECT 1 FROM folder_state s WHERE s.folder = f)
         ORDER BY f
         ON CONFLICT (folder) DO NOTHING",
        &[&ids, &now.timestamp().max(1)],
    )
    .await
    .map(|_| ())
}

impl Folders {
    /// Locks the state rows `folders` have, in folder order; a folder without
    /// one is absent from the answer (it has no entries either).
    pub(crate) async fn lock<C: GenericClient>(tx: &C, folders: &[FolderId]) -> Result<Self, Error> {
        let mut ids: Vec<Uuid> = folders.iter().map(|f| f.0).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut states = FolderStates::new();
        if ids.is_empty() {
            return Ok(Self(states));
        }
        let found = rows(
            tx,
            "locking folder states",
            "SELECT folder, uidnext, highest_modseq FROM folder_state
             WHERE folder = ANY($1) ORDER BY folder FOR UPDATE",
            &[&ids],
        )
        .await?;
        for r in &found {
            let folder = FolderId(get(r, 0, "folder_state.folder")?);
            let counters = FolderCounters {
                uidnext: int(r, 1, "folder_state.uidnext")?,
                highest_modseq: int(r, 2, "folder_state.highest_modseq")?,
            };
            states.insert(folder, counters);
        }
        Ok(Self(states))
    }

    /// [`ensure`] then [`lock`](Self::lock): every folder in the answer.
    pub(crate) async fn ensure_and_lock<C: GenericClient>(
        tx: &C,
        folders: &[FolderId],
        now: DateTime<Utc>,
    ) -> Result<Self, Error> {
        ensure(tx, folders, now).await?;
        let locked = Self::lock(tx, folders).await?;
        match folders.iter().find(|f| !locked.has(**f)) {
            // Only a folder state deleted by hand could vanish; run it all again.
            Some(f) => Err(Error::Conflict(format!("the state of folder {f} vanished while it was locked"))),
            None => Ok(locked),
        }
    }

    /// Writes the states back (one statement), when anything was taken.
    pub(crate) async fn save<C: GenericClient>(self, tx: &C) -> Result<(), Error> {
        if !self.changed() {
            return Ok(());
        }
        let ids: Vec<Uuid> = self.iter().map(|(f, _)| f.0).collect();
        let next: Vec<i64> = self.iter().map(|(_, c)| c.uidnext).collect();
        let highest: Vec<i64> = self.iter().map(|(_, c)| c.highest_modseq).collect();
        exec(
            tx,
            "recording folder states",
            "UPDATE folder_state s SET uidnext = u.n, highest_modseq = u.h
             FROM unnest($1::uuid[], $2::bigint[], $3::bigint[]) AS u(f, n, h) WHERE s.folder = u.f",
            &[&ids, &next, &highest],
        )
        .await
        .map(|_| ())
    }
}
