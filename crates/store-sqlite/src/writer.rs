//! The single writer: one thread owning the write connection, and group commit.
//!
//! Every write (a mail delivery, a queue update, a directory batch) is a job
//! sent to the thread. The thread takes the first job waiting, then every job
//! already queued behind it (up to [`MAX_GROUP_JOBS`] or [`MAX_GROUP_BYTES`]),
//! applies each inside its own SAVEPOINT of one `BEGIN IMMEDIATE` transaction,
//! commits once (one fsync of the WAL with `synchronous=FULL`) and only then
//! answers each caller. While one group's fsync runs, the next group queues up,
//! so under load many callers share one fsync and an idle store adds no delay.
//!
//! A job that fails rolls back to its savepoint and fails alone; a failure of
//! the transaction itself (the lock, the commit) fails every job of the group.

use crate::error::sql;
use crate::mail_folder::{self, Creator};
use crate::{mail_write, subscriptions, write};
use chrono::{DateTime, Utc};
use deputy_store::conformance::mail::{FlagOp, FlagOutcome, FolderStatus};
use deputy_store::{Change, Delivery, StoreError, Stored};
use deputy_types::{AuditRecord, FolderId, QueuedMessage, RecipientId, Uid};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// At most this many jobs share a transaction, so one commit's latency stays bounded.
pub(crate) const MAX_GROUP_JOBS: usize = 256;

/// A group stops taking jobs once their bodies reach this many bytes.
pub(crate) const MAX_GROUP_BYTES: usize = 8 << 20;

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// One write request and where its answer goes.
pub(crate) enum Job {
    /// `MailStore::store`.
    Store { deliveries: Vec<Delivery>, reply: Reply<Vec<Stored>> },
    /// `MailStore::queue_update`.
    QueueUpdate { message: QueuedMessage, notice: Option<Delivery>, reply: Reply<()> },
    /// `Store::commit`.
    Commit { changes: Vec<Change>, audit: Vec<AuditRecord>, reply: Reply<()> },
    /// `MailStore::folder_status` of a folder that has no state yet.
    FolderStatus { folder: FolderId, reply: Reply<FolderStatus> },
    /// `MailStore::set_flags`.
    SetFlags { folder: FolderId, uids: Vec<Uid>, op: FlagOp, unchanged_since: Option<u64>, reply: Reply<FlagOutcome> },
    /// `MailStore::expunge`.
    Expunge { folder: FolderId, uids: Vec<Uid>, reply: Reply<Vec<Uid>> },
    /// `MailStore::copy` (`remove` false) and `MailStore::move_entries` (`remove` true).
    Copy { from: FolderId, uids: Vec<Uid>, to: FolderId, creator: Creator, remove: bool, reply: Reply<Vec<(Uid, Uid)>> },
    /// `MailStore::set_subscription`.
    SetSubscription { principal: RecipientId, folder: FolderId, subscribed: bool, reply: Reply<()> },
    /// `MailStore::delete_subscriptions`.
    DeleteSubscriptions { folder: FolderId, reply: Reply<()> },
}

/// Counters the writer keeps, read by `SqliteStore::diagnostics`.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    /// Transactions committed (each one fsync of the log).
    pub(crate) transactions: AtomicU64,
    /// Jobs whose changes those transactions committed.
    pub(crate) writes: AtomicU64,
}

/// The handle the store keeps: the job queue and the thread behind it.
#[derive(Debug)]
pub(crate) struct Writer {
    /// `None` only while dropping, which closes the queue and ends the thread.
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    pub(crate) stats: Arc<Stats>,
}

impl Writer {
    /// Starts the writer thread on `conn`, already configured and migrated.
    pub(crate) fn start(conn: Connection) -> Result<Self, StoreError> {
        let stats = Arc::new(Stats::default());
        let (jobs, queue) = mpsc::channel();
        let thread_stats = Arc::clone(&stats);
        let thread = std::thread::Builder::new()
            .name("deputy-sqlite-writer".to_owned())
            .spawn(move || run(conn, &queue, &thread_stats))
            .map_err(|e| StoreError::Backend(format!("cannot start the store's writer thread: {e}")))?;
        Ok(Self { jobs: Some(jobs), thread: Some(thread), stats })
    }

    /// Queues `job`. The queue is unbounded, but each caller waits for its
    /// answer, so it never holds more jobs than there are callers.
    pub(crate) fn send(&self, job: Job) -> Result<(), StoreError> {
        self.jobs
            .as_ref()
            .and_then(|jobs| jobs.send(job).ok())
            .ok_or_else(|| StoreError::Backend("the store's writer thread has stopped; restart Deputy".to_owned()))
    }
}

impl Drop for Writer {
    /// Closes the queue and waits for the thread to finish the jobs already
    /// queued and close the database, so the data can be reopened at once.
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            // A panicked writer has already answered (or dropped) every job.
            let _ = thread.join();
        }
    }
}

fn run(mut conn: Connection, queue: &mpsc::Receiver<Job>, stats: &Stats) {
    while let Ok(first) = queue.recv() {
        let mut bytes = first.weight();
        let mut group = vec![first];
        while group.len() < MAX_GROUP_JOBS && bytes < MAX_GROUP_BYTES {
            let Ok(job) = queue.try_recv() else { break };
            bytes += job.weight();
            group.push(job);
        }
        // A bug that panics must not take the writer down with it: unwinding
        // rolls the open transaction back and drops the group's replies, so its
        // callers get an error, and later jobs are served as usual.
        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| write_group(&mut conn, group, stats)));
    }
}

/// Applies, commits and answers one group.
fn write_group(conn: &mut Connection, group: Vec<Job>, stats: &Stats) {
    // IMMEDIATE takes the write lock up front, so a database locked by another
    // process fails here (after busy_timeout) rather than halfway through.
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            let e = sql("starting a write transaction")(e);
            group.into_iter().for_each(|job| job.fail(&e));
            return;
        }
    };
    let now = Utc::now();
    let mut answers = Vec::with_capacity(group.len());
    let mut jobs = group.into_iter();
    while let Some(job) = jobs.next() {
        let (answer, lost) = job.apply(&mut tx, now);
        answers.push(answer);
        if let Some(e) = lost {
            // The transaction is gone or cannot be trusted: nothing of the group commits.
            drop(tx);
            answers.into_iter().for_each(|a| a.send_or_fail(Some(&e)));
            jobs.for_each(|job| job.fail(&e));
            return;
        }
    }
    match tx.commit() {
        Ok(()) => {
            let committed = answers.iter().filter(|a| a.is_ok()).count();
            stats.transactions.fetch_add(1, Ordering::Relaxed);
            stats.writes.fetch_add(committed as u64, Ordering::Relaxed);
            answers.into_iter().for_each(|a| a.send_or_fail(None));
        }
        Err(e) => {
            let e = sql("committing a write transaction")(e);
            answers.into_iter().for_each(|a| a.send_or_fail(Some(&e)));
        }
    }
}

/// A job's outcome, held until the group's commit decides whether it stands:
/// whether it succeeded, and how to answer its caller given the error that
/// lost the transaction, if one did.
struct Answer {
    ok: bool,
    send: SendAnswer,
}

/// Sends a job's answer, given the error that lost the transaction, if any.
type SendAnswer = Box<dyn FnOnce(Option<&StoreError>)>;

impl Answer {
    fn new<T: 'static>(reply: Reply<T>, result: Result<T, StoreError>) -> Self {
        Self {
            ok: result.is_ok(),
            send: Box::new(move |lost| {
                let result = match lost {
                    Some(e) if result.is_ok() => Err(e.clone()),
                    _ => result,
                };
                // A caller that stopped waiting (cancelled) is no error.
                let _ = reply.send(result);
            }),
        }
    }

    fn is_ok(&self) -> bool {
        self.ok
    }

    /// Answers the caller, failing a success when the transaction was lost.
    fn send_or_fail(self, lost: Option<&StoreError>) {
        (self.send)(lost);
    }
}

impl Job {
    /// How many body bytes the job writes, for [`MAX_GROUP_BYTES`].
    fn weight(&self) -> usize {
        match self {
            Job::Store { deliveries, .. } => deliveries.iter().map(|d| d.raw.len()).sum(),
            Job::QueueUpdate { notice, .. } => notice.as_ref().map_or(0, |d| d.raw.len()),
            Job::Commit { .. }
            | Job::FolderStatus { .. }
            | Job::SetFlags { .. }
            | Job::Expunge { .. }
            | Job::Copy { .. }
            | Job::SetSubscription { .. }
            | Job::DeleteSubscriptions { .. } => 0,
        }
    }

    fn fail(self, e: &StoreError) {
        let answer = match self {
            Job::Store { reply, .. } => Answer::new(reply, Err(e.clone())),
            Job::QueueUpdate { reply, .. }
            | Job::Commit { reply, .. }
            | Job::SetSubscription { reply, .. }
            | Job::DeleteSubscriptions { reply, .. } => Answer::new(reply, Err(e.clone())),
            Job::FolderStatus { reply, .. } => Answer::new(reply, Err(e.clone())),
            Job::SetFlags { reply, .. } => Answer::new(reply, Err(e.clone())),
            Job::Expunge { reply, .. } => Answer::new(reply, Err(e.clone())),
            Job::Copy { reply, .. } => Answer::new(reply, Err(e.clone())),
        };
        answer.send_or_fail(None);
    }

    /// Applies the job in its own savepoint. Returns its answer, and the error
    /// that lost the whole transaction if that happened.
    fn apply(self, tx: &mut Transaction<'_>, now: DateTime<Utc>) -> (Answer, Option<StoreError>) {
        match self {
            Job::Store { deliveries, reply } => {
                let (r, lost) = in_savepoint(tx, |c| mail_write::store(c, &deliveries, now));
                (Answer::new(reply, r), lost)
            }
            Job::QueueUpdate { message, notice, reply } => {
                let (r, lost) = in_savepoint(tx, |c| mail_write::queue_update(c, &message, notice.as_ref(), now));
                (Answer::new(reply, r), lost)
            }
            Job::Commit { changes, audit, reply } => {
                let (r, lost) = in_savepoint(tx, |c| write::apply_batch(c, &changes, &audit));
                (Answer::new(reply, r), lost)
            }
            Job::FolderStatus { folder, reply } => {
                let (r, lost) = in_savepoint(tx, |c| mail_folder::folder_status(c, folder, now));
                (Answer::new(reply, r), lost)
            }
            Job::SetFlags { folder, uids, op, unchanged_since, reply } => {
                let (r, lost) =
                    in_savepoint(tx, |c| mail_folder::set_flags(c, folder, &uids, op, unchanged_since, now));
                (Answer::new(reply, r), lost)
            }
            Job::Expunge { folder, uids, reply } => {
                let (r, lost) = in_savepoint(tx, |c| mail_folder::expunge(c, folder, &uids, now));
                (Answer::new(reply, r), lost)
            }
            Job::Copy { from, uids, to, creator, remove, reply } => {
                let (r, lost) = in_savepoint(tx, |c| mail_folder::copy(c, from, &uids, to, creator, remove, now));
                (Answer::new(reply, r), lost)
            }
            Job::SetSubscription { principal, folder, subscribed, reply } => {
                let (r, lost) = in_savepoint(tx, |c| subscriptions::set(c, principal, folder, subscribed));
                (Answer::new(reply, r), lost)
            }
            Job::DeleteSubscriptions { folder, reply } => {
                let (r, lost) = in_savepoint(tx, |c| subscriptions::delete_folder(c, folder));
                (Answer::new(reply, r), lost)
            }
        }
    }
}

/// Runs `work` between `SAVEPOINT` and `RELEASE`, rolling back to the savepoint
/// when it fails. The second value is set when the enclosing transaction can no
/// longer be committed: the savepoint could not be taken, released or rolled
/// back, or SQLite rolled the whole transaction back itself (as it does on some
/// I/O and full-disk errors).
fn in_savepoint<T>(
    tx: &mut Transaction<'_>,
    work: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> (Result<T, StoreError>, Option<StoreError>) {
    let sp = match tx.savepoint() {
        Ok(sp) => sp,
        Err(e) => {
            let e = sql("starting a savepoint")(e);
            return (Err(e.clone()), Some(e));
        }
    };
    match work(&sp) {
        Ok(v) => match sp.commit() {
            Ok(()) => (Ok(v), None),
            Err(e) => {
                let e = sql("releasing a savepoint")(e);
                (Err(e.clone()), Some(e))
            }
        },
        Err(failure) => {
            // The default drop behaviour of a savepoint is to roll back to it and release it.
            let undone = sp.finish().map_err(sql("rolling back a failed write"));
            let lost = match undone {
                Err(e) => Some(e),
                Ok(()) if tx.is_autocommit() => Some(StoreError::Backend(format!(
                    "SQLite rolled back the whole write transaction after: {failure}"
                ))),
                Ok(()) => None,
            };
            (Err(failure), lost)
        }
    }
}
