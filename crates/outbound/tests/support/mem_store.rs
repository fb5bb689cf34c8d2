//! A `MailStore` in memory: just enough of the contract for the worker
//! (queue reads and updates, bodies, notices stored with their update).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deputy_store::{Delivery, MailStore, StoreError, Stored};
use deputy_types::{
    BlobId, FolderCounts, FolderEntry, FolderId, QueueId, QueueRecipient, QueuedMessage, RecipientStatus,
};

#[derive(Default)]
struct State {
    next: u64,
    blobs: HashMap<u64, Vec<u8>>,
    queue: BTreeMap<u64, QueuedMessage>,
    /// Every update the worker recorded, in order.
    updates: Vec<QueuedMessage>,
    /// Every notice stored with an update.
    notices: Vec<Delivery>,
    /// How many of the next queue updates fail.
    failing_updates: usize,
}

/// The store.
#[derive(Default)]
pub struct MemStore {
    state: Mutex<State>,
}

impl MemStore {
    /// Queues `raw` from `mail_from` to `recipients`, due now.
    pub fn enqueue(&self, mail_from: &str, recipients: &[&str], raw: &[u8]) -> QueueId {
        self.enqueue_at(mail_from, recipients, raw, Utc::now())
    }

    /// Queues a message as if it had arrived at `queued_at`.
    pub fn enqueue_at(&self, mail_from: &str, recipients: &[&str], raw: &[u8], queued_at: DateTime<Utc>) -> QueueId {
        let mut s = self.state.lock().unwrap();
        s.next += 1;
        let id = s.next;
        s.blobs.insert(id, raw.to_vec());
        let msg = QueuedMessage {
            id: QueueId(id),
            blob: BlobId(id),
            mail_from: mail_from.to_owned(),
            recipients: recipients
                .iter()
                .map(|a| QueueRecipient {
                    address: (*a).to_owned(),
                    status: RecipientStatus::Pending { last_error: None },
                })
                .collect(),
            attempts: 0,
            queued_at,
            next_attempt: Utc::now(),
        };
        s.queue.insert(id, msg);
        QueueId(id)
    }

    /// The entry as stored now, `None` once it left the queue.
    pub fn queued(&self, id: QueueId) -> Option<QueuedMessage> {
        self.state.lock().unwrap().queue.get(&id.0).cloned()
    }

    /// Every update recorded for `id`, oldest first.
    pub fn updates(&self, id: QueueId) -> Vec<QueuedMessage> {
        self.state.lock().unwrap().updates.iter().filter(|m| m.id == id).cloned().collect()
    }

    /// Makes the next `n` queue updates fail as an unavailable store would.
    pub fn fail_updates(&self, n: usize) {
        self.state.lock().unwrap().failing_updates = n;
    }

    /// Every notice stored so far.
    pub fn notices(&self) -> Vec<Delivery> {
        self.state.lock().unwrap().notices.clone()
    }

    fn put(s: &mut State, delivery: &Delivery) -> Stored {
        s.next += 1;
        let id = s.next;
        s.blobs.insert(id, delivery.raw.clone());
        let queued = delivery.outbound.as_ref().map(|out| {
            let msg = QueuedMessage {
                id: QueueId(id),
                blob: BlobId(id),
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
                queued_at: delivery.received,
                next_attempt: delivery.received,
            };
            s.queue.insert(id, msg);
            QueueId(id)
        });
        Stored { blob: BlobId(id), uids: Vec::new(), queued }
    }
}

#[async_trait]
impl MailStore for MemStore {
    async fn store(&self, deliveries: Vec<Delivery>) -> Result<Vec<Stored>, StoreError> {
        let mut s = self.state.lock().unwrap();
        Ok(deliveries.iter().map(|d| Self::put(&mut s, d)).collect())
    }

    async fn entries(&self, _folder: FolderId) -> Result<Vec<FolderEntry>, StoreError> {
        Ok(Vec::new())
    }

    async fn body(&self, blob: BlobId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.state.lock().unwrap().blobs.get(&blob.0).cloned())
    }

    async fn folder_counts(&self, folders: &[FolderId]) -> Result<Vec<FolderCounts>, StoreError> {
        Ok(vec![FolderCounts::default(); folders.len()])
    }

    async fn queue_due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<QueuedMessage>, StoreError> {
        let s = self.state.lock().unwrap();
        let mut due: Vec<QueuedMessage> = s.queue.values().filter(|m| m.next_attempt <= now).cloned().collect();
        due.sort_by_key(|m| (m.queued_at, m.id));
        due.truncate(limit);
        Ok(due)
    }

    async fn queue_all(&self) -> Result<Vec<QueuedMessage>, StoreError> {
        Ok(self.state.lock().unwrap().queue.values().cloned().collect())
    }

    async fn queue_update(&self, message: &QueuedMessage, notice: Option<Delivery>) -> Result<(), StoreError> {
        let mut s = self.state.lock().unwrap();
        if s.failing_updates > 0 {
            s.failing_updates -= 1;
            return Err(StoreError::Unavailable("the disk is on fire".into()));
        }
        s.updates.push(message.clone());
        let pending = message.recipients.iter().any(|r| matches!(r.status, RecipientStatus::Pending { .. }));
        if pending {
            s.queue.insert(message.id.0, message.clone());
        } else {
            s.queue.remove(&message.id.0);
        }
        if let Some(notice) = notice {
            Self::put(&mut s, &notice);
            s.notices.push(notice);
        }
        Ok(())
    }
}
