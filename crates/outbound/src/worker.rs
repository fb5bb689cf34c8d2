//! The loop that reads the queue and runs deliveries, a bounded number at a
//! time, never two of the same entry at once.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use deputy_types::{QueueId, QueuedMessage};
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::Shared;
use crate::attempt::attempt;

/// Wakes the worker so that a message just queued is attempted now rather
/// than at the next poll. Cheap to clone; a wake while the worker is busy
/// is remembered, never lost.
#[derive(Debug, Clone, Default)]
pub struct Waker(Arc<Notify>);

impl Waker {
    /// A waker not yet given to a worker.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the worker to read the queue now.
    pub fn wake(&self) {
        self.0.notify_one();
    }

    async fn woken(&self) {
        self.0.notified().await;
    }
}

/// Shares a `Notify` the caller already hands to other parts (e.g. the
/// SMTP door that queues mail).
impl From<Arc<Notify>> for Waker {
    fn from(notify: Arc<Notify>) -> Self {
        Self(notify)
    }
}

/// Deliveries under way: which queue entry each task works on.
struct InFlight {
    /// Each task ends with the time its entry is due again when the store
    /// could not record the attempt.
    tasks: JoinSet<Option<DateTime<Utc>>>,
    entries: HashMap<tokio::task::Id, QueueId>,
    /// Entries whose attempt the store failed to record: still due as far
    /// as the store knows, but held back until their retry time so a
    /// failing store does not turn into a loop of duplicate deliveries.
    held: HashMap<QueueId, DateTime<Utc>>,
}

impl InFlight {
    fn busy(&self, id: QueueId) -> bool {
        self.entries.values().any(|e| *e == id) || self.held.get(&id).is_some_and(|until| *until > Utc::now())
    }

    fn start(&mut self, shared: &Arc<Shared>, msg: QueuedMessage) {
        let id = msg.id;
        let shared = shared.clone();
        let handle = self.tasks.spawn(async move { deliver_and_record(&shared, msg).await });
        self.entries.insert(handle.id(), id);
    }

    /// Forgets a finished task; its entry may be picked up again.
    fn finished(&mut self, joined: Result<(tokio::task::Id, Option<DateTime<Utc>>), tokio::task::JoinError>) {
        let (task, hold) = match joined {
            Ok(done) => done,
            Err(e) => {
                if e.is_panic() {
                    tracing::error!(error = %e, "a delivery panicked; its entry will be retried");
                }
                (e.id(), None)
            }
        };
        if let Some(id) = self.entries.remove(&task) {
            match hold {
                Some(until) => self.held.insert(id, until),
                None => self.held.remove(&id),
            };
        }
        let now = Utc::now();
        self.held.retain(|_, until| *until > now);
    }
}

async fn deliver_and_record(shared: &Arc<Shared>, msg: QueuedMessage) -> Option<DateTime<Utc>> {
    let id = msg.id;
    let (updated, notice) = attempt(shared, msg).await;
    match shared.store.queue_update(&updated, notice).await {
        Ok(()) => None,
        Err(e) => {
            // The store still has the entry as it was; it is tried again at
            // the retry time this attempt chose.
            tracing::error!(queue_id = id.0, error = %e, "could not record a delivery attempt");
            Some(updated.next_attempt)
        }
    }
}

/// Reads the due entries and starts as many deliveries as there is room for.
async fn dispatch(shared: &Arc<Shared>, flight: &mut InFlight) {
    let room = shared.config.concurrency.max(1).saturating_sub(flight.tasks.len());
    if room == 0 {
        return;
    }
    // Entries being delivered or held are still due: ask for enough to see past them.
    let limit = room + flight.entries.len() + flight.held.len();
    let due = match shared.store.queue_due(Utc::now(), limit).await {
        Ok(due) => due,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the outbound queue");
            return;
        }
    };
    let mut started = 0;
    for msg in due {
        if started == room {
            break;
        }
        if !flight.busy(msg.id) {
            flight.start(shared, msg);
            started += 1;
        }
    }
}

pub(crate) async fn work(shared: Arc<Shared>, waker: Waker, shutdown: impl Future<Output = ()>) {
    let mut flight = InFlight { tasks: JoinSet::new(), entries: HashMap::new(), held: HashMap::new() };
    tokio::pin!(shutdown);
    loop {
        dispatch(&shared, &mut flight).await;
        tokio::select! {
            () = &mut shutdown => break,
            () = waker.woken() => {}
            () = tokio::time::sleep(shared.config.poll_interval) => {}
            Some(joined) = flight.tasks.join_next_with_id(), if !flight.tasks.is_empty() => flight.finished(joined),
        }
        while let Some(joined) = flight.tasks.try_join_next_with_id() {
            flight.finished(joined);
        }
    }

    let grace = shared.config.shutdown_grace;
    let drained = tokio::time::timeout(grace, async {
        while let Some(joined) = flight.tasks.join_next_with_id().await {
            flight.finished(joined);
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(count = flight.tasks.len(), "abandoning deliveries under way at shutdown; they will be retried");
        flight.tasks.shutdown().await;
    }
}
