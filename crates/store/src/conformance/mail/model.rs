//! The mail reference model, the fixtures the mail cases store, and the
//! comparison of a store with the model.

use crate::conformance::{BASE_MS, at_ms, fid, ok, rid};
use crate::{Delivery, MailStore, NewEntry, NewOutbound, Stored};
use chrono::{DateTime, Utc};
use deputy_types::{
    BlobId, FolderCounts, FolderEntry, FolderId, MessageFlags, QueueRecipient, QueuedMessage, RecipientStatus,
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
}

impl MailModel {
    /// Records what a successful `store` of `d` returned as `s`.
    pub fn stored(&mut self, d: &Delivery, s: &Stored) {
        let size = match u32::try_from(d.raw.len()) {
            Ok(n) => n,
            Err(_) => panic!("a fixture body of {} bytes is too large", d.raw.len()),
        };
        for (entry, (folder, uid)) in d.entries.iter().zip(&s.uids) {
            self.entries.entry(*folder).or_default().push(FolderEntry {
                folder: entry.folder,
                uid: *uid,
                blob: s.blob,
                flags: entry.flags,
                size,
                internal_date: d.received,
                creator: entry.creator,
                message_id: d.message_id.clone(),
            });
        }
        for list in self.entries.values_mut() {
            list.sort_by_key(|e| e.uid);
        }
        self.bodies.insert(s.blob, d.raw.clone());
        if let (Some(id), Some(out)) = (s.queued, &d.outbound) {
            self.queue.push(QueuedMessage {
                id,
                blob: s.blob,
                mail_from: out.mail_from.clone(),
                recipients: out
                    .recipients
                    .iter()
                    .map(|a| QueueRecipient {
                        address: a.clone(),
                        status: RecipientStatus::Pending { last_error: None },
                    })
                    .collect(),
                attempts: 0,
                queued_at: d.received,
                next_attempt: d.received,
            });
            self.queue.sort_by_key(|q| (q.queued_at, q.id));
        }
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
