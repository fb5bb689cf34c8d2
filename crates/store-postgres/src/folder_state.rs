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
use deputy_store::StoreError;
use deputy_types::{FolderId, Uid};
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Debug, Clone, Copy)]
struct State {
    uidnext: i64,
    highest: i64,
}

/// The locked state rows of the folders one transaction works on.
#[derive(Debug, Default)]
pub(crate) struct Folders {
    states: BTreeMap<FolderId, State>,
    changed: bool,
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
        let mut states = BTreeMap::new();
        if ids.is_empty() {
            return Ok(Self { states, changed: false });
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
            let state = State {
                uidnext: int(r, 1, "folder_state.uidnext")?,
                highest: int(r, 2, "folder_state.highest_modseq")?,
            };
            states.insert(folder, state);
        }
        Ok(Self { states, changed: false })
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

    /// Whether `folder` has a (locked) state row.
    pub(crate) fn has(&self, folder: FolderId) -> bool {
        self.states.contains_key(&folder)
    }

    fn state(&mut self, folder: FolderId) -> Result<&mut State, Error> {
        self.changed = true;
        self.states
            .get_mut(&folder)
            .ok_or_else(|| StoreError::Backend(format!("folder {folder}'s state was not locked")).into())
    }

    /// The folder's next mod-sequence, recorded as its highest.
    pub(crate) fn next_modseq(&mut self, folder: FolderId) -> Result<i64, Error> {
        let state = self.state(folder)?;
        state.highest = state.highest.checked_add(1).ok_or_else(|| {
            StoreError::Backend(format!("folder {folder} has used every mod-sequence RFC 7162 allows"))
        })?;
        Ok(state.highest)
    }

    /// The folder's next UID and mod-sequence. UIDs only grow, so one is never
    /// handed out twice.
    pub(crate) fn next_uid(&mut self, folder: FolderId) -> Result<(Uid, i64), Error> {
        let state = self.state(folder)?;
        let uid = Uid::try_from(state.uidnext).map_err(|_| {
            StoreError::Backend(format!(
                "folder {folder} has used every UID IMAP allows (up to 4294967295); move its messages to a new folder"
            ))
        })?;
        if uid == 0 {
            return Err(StoreError::Corrupt(format!("folder_state.uidnext of {folder} is 0")).into());
        }
        state.uidnext += 1;
        Ok((uid, self.next_modseq(folder)?))
    }

    /// Writes the states back (one statement), when anything was taken.
    pub(crate) async fn save<C: GenericClient>(self, tx: &C) -> Result<(), Error> {
        if !self.changed {
            return Ok(());
        }
        let ids: Vec<Uuid> = self.states.keys().map(|f| f.0).collect();
        let next: Vec<i64> = self.states.values().map(|s| s.uidnext).collect();
        let highest: Vec<i64> = self.states.values().map(|s| s.highest).collect();
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
