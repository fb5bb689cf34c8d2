//! The mail reference model, the fixtures the mail cases store, and the
//! comparison of a store with the model.

use crate::conformance::{BASE_MS, at_ms, fid, ok, rid};
use crate::mail::{FlagOp, FlagOutcome};
use crate::{Delivery, MailStore, NewEntry, NewOutbound, Stored};
use chrono::{DateTime, Utc};
use deputy_types::{
    BlobId, FolderCounts, FolderEntry, FolderId, MessageFlags, QueuedMessage, RecipientId, RecipientStatus, Uid,
};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

/// What a mail store should hold after a sequence of `store` and `queue_update` calls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailModel {
    /// Each folder's entries in UID order.
    pub entries: BTreeMap<FolderId, Vec<FolderEntry>>,
    /// Every body that should be readable.
    pub bodies: BTreeMap<BlobId, Vec<u8>>,
    /// Bodies that were removed with their last queue entry.
    pub gone: BTreeSet<BlobId>,
    /// The queue, in the order `queue_all` returns it.
    pub queue: Vec<QueuedMessage>,
    /// Each folder's highest mod-sequence (see the numbering in `crate::mail`).
    pub highest: BTreeMap<FolderId, u64>,
}

impl MailModel {
    /// Records what a successful `store` of `d` returned as `s`.
    pub fn stored(&mut self, d: &Delivery, s: &Stored) {
        let size = match u32::try_from(d.raw.len()) {
            Ok(n) => n,
            Err(_) => panic!("a fixture body of {} bytes is too large", d.raw.len()),
        };
        for (entry, (folder, uid)) in d.entries.iter().zip(&s.uids) {
            self.insert(FolderEntry {
                folder: *folder,
                uid: *uid,
                blob: s.blob,
                flags: entry.flags,
                size,
                internal_date: d.received,
                creator: entry.creator,
                message_id: d.message_id.clone(),
                modseq: 0,
            });
        }
        self.bodies.insert(s.blob, d.raw.clone());
        if let (Some(id), Some(out)) = (s.queued, &d.outbound) {
            self.queue.push(QueuedMessage {
                id,
                blob: s.blob,
                mail_from: out.mail_from.clone(),
                recipients: crate::plan::pending(out),
                attempts: 0,
                queued_at: d.received,
                next_attempt: d.received,
            });
            self.queue.sort_by_key(|q| (q.queued_at, q.id));
        }
    }

    /// Adds `e` with its folder's next mod-sequence. Concurrent stores are
    /// recorded in the order they were called, not committed; the UID shows the
    /// commit order, so an entry recorded after ones with higher UIDs (stored
    /// after it, and only stored: concurrent cases do nothing else) takes the
    /// lowest of their mod-sequences and moves them up by one.
    fn insert(&mut self, mut e: FolderEntry) {
        let highest = self.highest.entry(e.folder).or_insert(1);
        *highest += 1;
        let list = self.entries.entry(e.folder).or_default();
        e.modseq = match list.iter().filter(|o| o.uid > e.uid).map(|o| o.modseq).min() {
            None => *highest,
            Some(m) => {
                list.iter_mut().filter(|o| o.modseq >= m).for_each(|o| o.modseq += 1);
                m
            }
        };
        list.push(e);
        list.sort_by_key(|e| e.uid);
    }

    /// The folder's next mod-sequence, recorded as its highest.
    fn next_modseq(&mut self, folder: FolderId) -> u64 {
        let highest = self.highest.entry(folder).or_insert(1);
        *highest += 1;
        *highest
    }

    /// What `set_flags` should answer, applied to the model.
    pub fn set_flags(&mut self, folder: FolderId, uids: &[Uid], op: FlagOp, since: Option<u64>) -> FlagOutcome {
        let wanted: BTreeSet<Uid> = uids.iter().copied().collect();
        let mut outcome = FlagOutcome::default();
        for uid in wanted {
            let Some(e) = self.entries.get(&folder).and_then(|l| l.iter().find(|e| e.uid == uid)) else { continue };
            if since.is_some_and(|s| e.modseq > s) {
                outcome.failed_modified.push(uid);
                continue;
            }
            let flags = op.apply(e.flags);
            if flags == e.flags {
                continue;
            }
            let modseq = self.next_modseq(folder);
            if let Some(e) = self.entries.get_mut(&folder).and_then(|l| l.iter_mut().find(|e| e.uid == uid)) {
                e.flags = flags;
                e.modseq = modseq;
            }
            outcome.changed.push((uid, flags, modseq));
        }
        outcome
    }

    /// What `expunge` should answer, applied to the model: bodies nothing
    /// shows or sends any more are gone.
    pub fn expunge(&mut self, folder: FolderId, uids: &[Uid]) -> Vec<Uid> {
        let wanted: BTreeSet<Uid> = uids.iter().copied().collect();
        let list = self.entries.entry(folder).or_default();
        let (removed, kept): (Vec<FolderEntry>, Vec<FolderEntry>) =
            std::mem::take(list).into_iter().partition(|e| wanted.contains(&e.uid));
        *list = kept;
        if !removed.is_empty() {
            self.next_modseq(folder);
        }
        for e in &removed {
            let shown = self.entries.values().flatten().any(|o| o.blob == e.blob);
            if !shown && !self.queue.iter().any(|q| q.blob == e.blob) {
                self.bodies.remove(&e.blob);
                self.gone.insert(e.blob);
            }
        }
        removed.iter().map(|e| e.uid).collect()
    }

    /// Records a successful `copy` (`creator` set) or `move_entries` (`creator`
    /// `None`: each entry keeps its own) that answered `pairs`, after checking
    /// that it copied exactly the entries of `uids` that `from` holds, in
    /// ascending order, to new UIDs above every UID `to` had.
    pub fn copied(
        &mut self,
        from: FolderId,
        uids: &[Uid],
        to: FolderId,
        creator: Option<Option<RecipientId>>,
        pairs: &[(Uid, Uid)],
    ) {
        let wanted: BTreeSet<Uid> = uids.iter().copied().collect();
        let sources: Vec<FolderEntry> = self
            .entries
            .get(&from)
            .map(|l| l.iter().filter(|e| wanted.contains(&e.uid)).cloned().collect())
            .unwrap_or_default();
        let expected: Vec<Uid> = sources.iter().map(|e| e.uid).collect();
        let answered: Vec<Uid> = pairs.iter().map(|(s, _)| *s).collect();
        assert_eq!(answered, expected, "copy must answer each source UID {from:?} holds, ascending");
        let mut last = self.entries.get(&to).and_then(|l| l.iter().map(|e| e.uid).max()).unwrap_or(0);
        for (e, (_, uid)) in sources.into_iter().zip(pairs) {
            assert!(*uid > last, "copy's new UIDs must increase above every UID {to:?} had: {pairs:?} after {last}");
            last = *uid;
            let creator = creator.unwrap_or(e.creator);
            self.insert(FolderEntry { folder: to, uid: *uid, creator, ..e });
        }
        if creator.is_none() {
            self.expunge(from, &answered);
        }
    }

    /// An entry as the model holds it.
    pub fn entry(&self, folder: FolderId, uid: Uid) -> Option<FolderEntry> {
        self.entries.get(&folder).and_then(|l| l.iter().find(|e| e.uid == uid)).cloned()
    }

    /// Records a successful `queue_update(m, _)` (store the notice with [`stored`](Self::stored)).
    pub fn updated(&mut self, m: &QueuedMessage) {
        let Some(i) = self.queue.iter().position(|q| q.id == m.id) else {
            panic!("the model has no queue entry {:?}", m.id)
        };
        if m.recipients.iter().any(|r| matches!(r.status, RecipientStatus::Pending { .. })) {
            let q = &mut self.queue[i];
            q.recipients = m.recipients.clone();
            q.attempts = m.attempts;
            q.next_attempt = m.next_attempt;
            return;
        }
        let blob = self.queue.remove(i).blob;
        let shown = self.entries.values().flatten().any(|e| e.blob == blob);
        if !shown && !self.queue.iter().any(|q| q.blob == blob) {
            self.bodies.remove(&blob);
            self.gone.insert(blob);
        }
    }

    /// Records the state a successful `folder_status` creates for a folder with none.
    pub fn status_seen(&mut self, folder: FolderId) {
        self.highest.entry(folder).or_insert(1);
    }

    /// The counts `folder_counts` should report for `folder`.
    pub fn counts(&self, folder: FolderId) -> FolderCounts {
        let entries = self.entries.get(&folder).map(Vec::as_slice).unwrap_or_default();
        FolderCounts {
            items: entries.len() as u64,
            unread: entries.iter().filter(|e| !e.flags.contains(MessageFlags::SEEN)).count() as u64,
            size: entries.iter().map(|e| u64::from(e.size)).sum(),
        }
    }

    /// What `queue_due(now, limit)` should return.
    pub fn due(&self, now: DateTime<Utc>, limit: usize) -> Vec<QueuedMessage> {
        self.queue.iter().filter(|q| q.next_attempt <= now).take(limit).cloned().collect()
    }

    /// The entry the model holds for `id`.
    pub fn queued(&self, id: deputy_types::QueueId) -> QueuedMessage {
        match self.queue.iter().find(|q| q.id == id) {
            Some(q) => q.clone(),
            None => panic!("the model has no queue entry {id:?}"),
        }
    }
}

/// Times may lose their fraction of a second (IMAP INTERNALDATE has none).
fn near(a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
    (a - b).num_milliseconds().abs() < 1000
}

fn first_difference<T: Debug>(
    name: &str,
    actual: &[T],
    expected: &[T],
    same: impl Fn(&T, &T) -> bool,
) -> Option<String> {
    let i = match actual.iter().zip(expected).position(|(a, e)| !same(a, e)) {
        Some(i) => i,
        None if actual.len() == expected.len() => return None,
        None => actual.len().min(expected.len()),
    };
    Some(format!(
        "{name}: {} stored, {} in the model; first difference at #{i}: stored {:?}, model {:?}",
        actual.len(),
        expected.len(),
        actual.get(i),
        expected.get(i)
    ))
}

fn same_entry(a: &FolderEntry, e: &FolderEntry) -> bool {
    near(a.internal_date, e.internal_date) && *a == FolderEntry { internal_date: a.internal_date, ..e.clone() }
}

fn same_queued(a: &QueuedMessage, e: &QueuedMessage) -> bool {
    near(a.queued_at, e.queued_at)
        && near(a.next_attempt, e.next_attempt)
        && *a == QueuedMessage { queued_at: a.queued_at, next_attempt: a.next_attempt, ..e.clone() }
}

/// Asserts that `queue_due(now, limit)` returns what the model does.
pub async fn check_due<S: MailStore>(store: &S, model: &MailModel, now: DateTime<Utc>, limit: usize, context: &str) {
    let due = ok(store.queue_due(now, limit).await, context);
    if let Some(diff) = first_difference("queue_due", &due, &model.due(now, limit), same_queued) {
        panic!("{context}: queue_due({now}, {limit}) differs from the model: {diff}");
    }
}

/// Asserts that `store` holds exactly what `model` says: every folder's entries
/// (times within a second), every body byte for byte, removed bodies gone,
/// folder counts, and the queue.
pub async fn check_mail<S: MailStore>(store: &S, model: &MailModel, context: &str) {
    for (folder, expected) in &model.entries {
        let actual = ok(store.entries(*folder).await, context);
        if let Some(diff) = first_difference("entries", &actual, expected, same_entry) {
            panic!("{context}: entries({folder:?}) differ from the model: {diff}");
        }
    }
    for (blob, expected) in &model.bodies {
        match ok(store.body(*blob).await, context) {
            Some(raw) if raw == *expected => {}
            Some(raw) => panic!(
                "{context}: body {blob:?} has {} bytes, the model {}; first differing byte at {:?}",
                raw.len(),
                expected.len(),
                raw.iter().zip(expected).position(|(a, b)| a != b)
            ),
            None => panic!("{context}: body {blob:?} is missing"),
        }
    }
    for blob in &model.gone {
        assert_eq!(ok(store.body(*blob).await, context), None, "{context}: body {blob:?} should be gone");
    }
    // An unknown folder in the middle must count zero without shifting the others.
    let mut folders: Vec<FolderId> = model.entries.keys().copied().collect();
    folders.insert(folders.len() / 2, fid(0xDEAD));
    let counts = ok(store.folder_counts(&folders).await, context);
    let expected: Vec<FolderCounts> = folders.iter().map(|f| model.counts(*f)).collect();
    assert_eq!(counts, expected, "{context}: folder_counts({folders:?})");
    for (folder, highest) in &model.highest {
        let status = ok(store.folder_status(*folder).await, context);
        let counts = model.counts(*folder);
        let expected = (*highest, counts.items, counts.unread);
        let actual = (status.highest_modseq, status.exists, status.unseen);
        assert_eq!(actual, expected, "{context}: folder_status({folder:?}) (highest_modseq, exists, unseen)");
        let top = model.entries.get(folder).and_then(|l| l.iter().map(|e| e.uid).max()).unwrap_or(0);
        // A folder whose every UID is used says 4294967295, the highest UIDNEXT there is.
        let uidnext_ok = status.uidnext > top || status.uidnext == u32::MAX;
        assert!(uidnext_ok && status.uidvalidity != 0, "{context}: {folder:?} has {status:?}, UIDs to {top}");
    }
    let queue = ok(store.queue_all().await, context);
    if let Some(diff) = first_difference("queue_all", &queue, &model.queue, same_queued) {
        panic!("{context}: queue_all() differs from the model: {diff}");
    }
}

/// A time `s` seconds after [`BASE_MS`].
pub fn at_s(s: i64) -> DateTime<Utc> {
    at_ms(BASE_MS + s * 1000)
}

/// Message `n`: an RFC 5322 text whose header has 8-bit UTF-8 and whose body
/// runs through every byte value (NUL, bare CR and LF, a lone dot line, bytes
/// that are not UTF-8), `len` body bytes in all.
pub fn message(n: u64, len: usize) -> Vec<u8> {
    let mut raw = format!(
        "From: Zoë <zoe@contoso.test>\r\nSubject: Grüße {n}\r\nMessage-ID: <{n}@conformance.test>\r\n\r\n.\r\n"
    )
    .into_bytes();
    // 167 is odd, so each 256-byte stretch holds every byte value, in a mixed order.
    raw.extend((0..len).map(|i| (i as u8).wrapping_mul(167).wrapping_add(n as u8)));
    raw
}

/// An entry in fixture folder `folder`, created by fixture recipient `creator`.
pub fn entry(folder: u64, flags: MessageFlags, creator: Option<u64>) -> NewEntry {
    NewEntry { folder: fid(folder), flags, creator: creator.map(rid) }
}

/// Remote recipients.
pub fn outbound(mail_from: &str, recipients: &[&str]) -> NewOutbound {
    NewOutbound { mail_from: mail_from.to_owned(), recipients: recipients.iter().map(|r| (*r).to_owned()).collect() }
}

/// Delivery `n`: [`message`] `n` received `n` seconds and a quarter after
/// [`BASE_MS`], with Message-ID `n@conformance.test`.
pub fn delivery(n: u64, entries: Vec<NewEntry>, outbound: Option<NewOutbound>) -> Delivery {
    Delivery {
        raw: message(n, 300 + (n as usize % 7) * 100),
        received: at_ms(BASE_MS + n as i64 * 1000 + 250),
        message_id: Some(format!("{n}@conformance.test")),
        entries,
        outbound,
    }
}

/// Runs every future concurrently on the current task and returns their
/// outputs in order, so the suite needs no runtime of its own.
pub async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pending: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (future, output) in pending.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(v) => *output = Some(v),
                    Poll::Pending => done = false,
                }
            }
        }
        if done { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    outputs.into_iter().flatten().collect()
}
