//! The mail part of the conformance suite: the behaviour every [`MailStore`]
//! backend must show.
//!
//! A backend whose [`Harness`] store also implements [`MailStore`] runs these
//! cases with [`mail_conformance_tests!`](crate::mail_conformance_tests), one
//! `#[tokio::test]` each, or all at once with [`run_all`]:
//!
//! ```text
//! deputy_store::mail_conformance_tests!(SqliteHarness::new());
//! ```
//!
//! Each case compares the store with [`MailModel`] and panics with the first
//! difference. Portable expectations: bodies come back byte for byte; times may
//! lose their fraction of a second (the suite compares them within a second and
//! puts queue times that must order or compare whole seconds apart); a folder's
//! first UID is 1; a new queue entry has every recipient pending and no attempt,
//! and is queued and due at its delivery's `received` time; a request that
//! fails changes nothing.
//!
//! Folder operations (the cases in `folders`) hold a backend to the
//! mod-sequence numbering documented on [`MailStore`]: a folder's state starts
//! at highest mod-sequence 1, each new entry and each flag change takes the
//! next value in request order, and an expunge that removes something takes
//! one more. UIDs a folder lacks are ignored by every folder operation, and
//! answers come in ascending UID order.
//!
//! What makes a delivery fail is portable too: a delivery with no folder entry
//! and no remote recipient (its body could never be removed), and an outbound
//! part with no recipients, are refused; so is a `queue_update` of an entry that
//! is no longer queued (its notice would otherwise be stored twice).

mod folders;
mod model;
mod subscriptions;

pub use folders::{
    mail_copy_and_move, mail_expunge_removes_bodies_only_when_unreferenced, mail_find_by_message_id_respects_since,
    mail_folder_operations_follow_the_model, mail_folder_status_is_stable_from_the_first_call,
    mail_set_flags_round_trip, mail_set_flags_unchanged_since_conflicts,
};
pub use model::{MailModel, at_s, check_due, check_mail, delivery, entry, join_all, message, outbound};
pub use subscriptions::mail_subscriptions_round_trip;

// The folder vocabulary, nameable from here until the crate root re-exports it.
pub use crate::mail::{FlagOp, FlagOutcome, FolderStatus};

use super::{Harness, fid, ok};
use crate::{Delivery, MailStore, Stored};
use deputy_types::{BlobId, FolderCounts, MessageFlags, QueueRecipient, RecipientStatus};

const SEEN: MessageFlags = MessageFlags::SEEN;
const NONE: MessageFlags = MessageFlags::empty();

/// Stores `deliveries` in one call that must succeed, checks the shape of the
/// answer, and records it in the model.
pub async fn store<S: MailStore>(store: &S, model: &mut MailModel, deliveries: Vec<Delivery>) -> Vec<Stored> {
    let stored = ok(store.store(deliveries.clone()).await, "store");
    assert_eq!(stored.len(), deliveries.len(), "store must answer once per delivery");
    for (d, s) in deliveries.iter().zip(&stored) {
        let folders: Vec<_> = d.entries.iter().map(|e| e.folder).collect();
        let answered: Vec<_> = s.uids.iter().map(|(f, _)| *f).collect();
        assert_eq!(answered, folders, "Stored::uids must follow Delivery::entries");
        assert_eq!(s.queued.is_some(), d.outbound.is_some(), "a queue entry exactly when there are remote recipients");
        model.stored(d, s);
    }
    stored
}

/// A fresh store holds nothing, and storing nothing succeeds.
pub async fn mail_fresh_store_is_empty<H: Harness>(h: &mut H)
where
    H::S: MailStore,
{
    let s = h.fresh().await;
    assert!(ok(s.entries(fid(1)).await, "entries").is_empty());
    assert_eq!(ok(s.body(BlobId(1)).await, "body"), None);
    assert_eq!(ok(s.folder_counts(&[fid(1), fid(2)]).await, "counts"), vec![FolderCounts::default(); 2]);
    assert!(ok(s.folder_counts(&[]).await, "counts of no folder").is_empty());
    assert!(ok(s.queue_all().await, "queue_all").is_empty());
    assert!(ok(s.queue_due(at_s(1_000_000), 10).await, "queue_due").is_empty());
    assert!(ok(s.store(Vec::new()).await, "store of nothing").is_empty());
    check_mail(&s, &MailModel::default(), "a fresh store").await;
}

/// Entries come back in UID order with their flags, creator, Message-ID,
/// INTERNALDATE and size; several deliveries in one call all land.
pub async fn mail_entries_round_trip<H: Harness>(h: &mut H)
where
    H::S: MailStore,
{
    let s = h.fresh().await;
    let mut model = MailModel::default();
    let all = MessageFlags::all();
    let mut no_id = delivery(3, vec![entry(1, all, Some(7))], None);
    no_id.message_id = None;
    let mut empty = delivery(4, vec![entry(1, MessageFlags::DRAFT, Some(8))], None);
    empty.raw = Vec::new();
    let stored = store(
        &s,
        &mut model,
        vec![
            delivery(1, vec![entry(1, NONE, None)], None),
            delivery(2, vec![entry(1, SEEN | MessageFlags::FLAGGED, Some(7))], None),
            no_id,
            empty,
        ],
    )
    .await;
    store(&s, &mut model, vec![delivery(5, vec![entry(1, MessageFlags::ANSWERED, None)], None)]).await;
    check_mail(&s, &model, "after storing five messages in one folder").await;
    let entries = ok(s.entries(fid(1)).await, "entries");
    let uids: Vec<u32> = entries.iter().map(|e| e.uid).collect();
    assert!(uids.windows(2).all(|w| w[0] < w[1]), "entries must come in UID order: {uids:?}");
    assert_eq!(uids[..4], stored.iter().map(|s| s.uids[0].1).collect::<Vec<_>>(), "UIDs follow the order stored");
    assert_eq!(entries[3].size, 0, "an empty body has size 0");
    assert_eq!(ok(s.body(entries[3].blob).await, "body"), Some(Vec::new()), "an empty body is still a body");
    assert_eq!(entries[2].message_id, None);
    assert_eq!(entries[2].flags, all);
}

/// One delivery is one body: every entry and the queue entry show the same
/// blob, and the body comes back byte for byte (spec §4.2: the sender's and the
/// From mailbox's Sent Items copies share one body).
pub async fn mail_one_body_for_many_entries<H: Harness>(h: &mut H)
where
    H::S: MailStore,
{
    let s = h.fresh().await;
    let mut model = MailModel::default();
    let mut d = delivery(
        10,
        vec![entry(1, NONE, None), entry(2, NONE, None), entry(3, SEEN, Some(3)), entry(4, SEEN, Some(3))],
        Some(outbound("delegate@contoso.test", &["far@remote.test"])),
    );
    d.raw = message(10, 4 * 256 + 13);
    let stored = store(&s, &mut model, vec![d.clone()]).await;
    let blob = stored[0].blob;
    for folder in 1..=4 {
        let entries = ok(s.entries(fid(folder)).await, "entries");
        assert_eq!(entries.len(), 1, "folder {folder} shows the message once");
        assert_eq!(entries[0].blob, blob, "folder {folder} must show the one shared body");
    }
    assert_eq!(ok(s.queue_all().await, "queue_all")[0].blob, blob, "the queue entry sends the same body");
    assert_eq!(ok(s.body(blob).await, "body").as_deref(), Some(d.raw.as_slice()), "the body must be byte-identical");
    check_mail(&s, &model, "after one delivery to four folders and a remote recipient").await;
}

/// UIDs grow in each folder on its own, starting at 1, and two entries of one
/// delivery in the same folder get two UIDs.
pub async fn mail_uids_increase_per_folder_independently<H: Harness>(h: &mut H)
where
    H::S: MailStore,
{
    let s = h.fresh().await;
    let mut model = MailModel::default();
    let mut seen: Vec<(u64, u32)> = Vec::new();
    for (n, folder) in [(1, 1), (2, 1), (3, 1), (4, 2), (5, 1), (6, 2)] {
        let stored = store(&s, &mut model, vec![delivery(n, vec![entry(folder, NONE, None)], None)]).await;
        seen.push((folder, stored[0].uids[0].1));
    }
    let twice =
        store(&s, &mut model, vec![delivery(7, vec![entry(2, NONE, None), entry(2, SEEN, Some(1))], None)]).await;
    seen.extend(twice[0].uids.iter().map(|(_, uid)| (2, *uid)));
    for folder in [1, 2] {
        let uids: Vec<u32> = seen.iter().filter(|(f, _)| *f == folder).map(|(_, u)| *u).collect();
        assert_eq!(uids[0], 1, "folder {folder}'s first UID must be 1, whatever other folders hold: {seen:?}");
        assert!(uids.windows(2).all(|w| w[0] < w[1]), "folder {folder}'s UIDs must increase: {uids:?}");
    }
    check_mail(&s, &model, "after interleaving two folders").await;
}

/// Counts are per folder, in the order asked, zero for an unknown folder.
pub async fn mail_folder_counts<H: Harness>(h: &mut H)
where
    H::S: MailStore,
{
    let s = h.fresh().await;
    let mut model = MailModel::default();
    let ds = vec![
        delivery(1, vec![entry(1, NONE, None), entry(2, SEEN, Some(1))], None),
        delivery(2, vec![entry(1, SEEN | MessageFlags::FLAGGED, None)], None),
        delivery(3, vec![entry(1, MessageFlags::DELETED, None), entry(2, SEEN, Some(1))], None),
    ];
    let sizes: Vec<u64> = ds.iter().map(|d| d.raw.len() as u64).collect();
    store(&s, &mut model, ds).await;
    let counts = ok(s.folder_counts(&[fid(3), fid(1), fid(2), fid(1)]).await, "folder_counts");
    let one = FolderCounts { items: 3, unread: 2, size: sizes.iter().sum() };
    let two = FolderCounts { items: 2, unread: 0, size: sizes[0] + sizes[2] };
    assert_eq!(counts, vec![FolderCounts::default(), one, two, one]);
    check_mail(&s, &model, "after counting").await;
}

fn queued_delivery(n: u64, seconds: i64, recipients: &[&str]) -> Delivery {
    let mut d = delivery(n, Vec::new(), Some(outbound(&format!("sender{n}@contoso.test"), recipients)));
    d.received = at_s(seconds);
    d
}

/// `queue_due` returns entries whose next attempt is at or before `now`,
/// oldest queued first, at most `limit`; `queue_all` returns every entry.
pub async fn mail_queue_due_respects_time_limit_and_order<H: Harness>(h: &mut H)
where
    H::S: MailStore,
{
    let s = h.fresh().await;
    let mut model = MailModel::default();
    // Queued out of time order, and a null sender (a bounce, RFC 5321 §4.5.5).
    let mut bounce = queued_delivery(4, 40, &["postmaster@remote.test"]);
    if let Some(o) = bounce.outbound.as_mut() {
        o.mail_from = String::new();
    }
    let ds = vec![
        queued_delivery(1, 10, &["a@remote.test"]),
        queued_delivery(2, 30, &["b@remote.test", "c@remote.test"]),
        queued_delivery(3, 20, &["d@remote.test"]),
        bounce,
    ];
    let stored = store(&s, &mut model, ds).await;
    check_mail(&s, &model, "after queueing four messages").await;
    for (now, limit) in [(5, 10), (10, 10), (25, 10), (40, 10), (40, 2), (40, 0), (1000, 3)] {
        check_due(&s, &model, at_s(now), limit, "before any attempt").await;
    }
    let got = ok(s.queue_due(at_s(25), 10).await, "queue_due");
    let mail_from: Vec<&str> = got.iter().map(|q| q.mail_from.as_str()).collect();
    assert_eq!(mail_from, ["sender1@contoso.test", "sender3@contoso.test"], "due at 25 s, oldest first");
    // Postponing the oldest takes it out of what is due, but not out of the queue.
    let first = stored[0].queued.unwrap_or_else(|| panic!("delivery 1 was queued"));
    let mut later = model.queued(first);
    later.attempts = 1;
    later.next_attempt = at_s(100);
    later.recipients[0].status = RecipientStatus::Pending { last_error: Some("451 4.4.1 try later".to_owned()) };
    ok(s.queue_update(&later, None).await, "queue_update");
    model.updated(&later);
    check_mail(&s, &model, "after postponing the oldest").await;
    for now in [40, 99, 100] {
        check_due(&s, &model, at_s(now), 10, "after postponing the oldest").await;
    }
}

/// An attempt that leaves some recipients pending replaces the statuses,
/// attempts and next attempt and keeps the entry and its body; the attempt
/// that settles the last one removes both.
pub async fn mail_queue_update_partial_then_final<H: Harness>(h: &mut H)
where
    H::S: MailStore,
{
    let s = h.fresh().await;
    let mut model = MailModel::default();
    let stored = store(&s, &mut model, vec![queued_delivery(1, 10, &["a@r.test", "b@r.test", "c@r.test"])]).await;
    let id = stored[0].queued.unwrap_or_else(|| panic!("queued"));
    let mut m = model.queued(id);
    m.recipients = vec![
        QueueRecipient {
            address: "a@r.test".into(),
            status: RecipientStatus::Delivered { reply: "250 2.0.0 ok".into() },
        },
        QueueRecipient {
            address: "b@r.test".into(),
            status: RecipientStatus::Pending { last_error: Some("451 4.4.1 Connection refused".into()) },
        },
        QueueRecipient {
            address: "c@r.test".into(),
            status: RecipientStatus::Failed { reply: "550 5.1.1 no such user".into() },
        },
    ];
    m.attempts = 1;
    m.next_attempt = at_s(10 + 600);
    ok(s.queue_update(&m, None).await, "partial queue_update");
    model.updated(&m);
    check_mail(&s, &model, "after a partial attempt").await;
    assert_eq!(ok(s.queue_all().await, "queue_all").len(), 1, "a pending recipient keeps the entry");
    check_due(&s, &model, at_s(609), 10, "before the next attempt").await;
    check_due(&s, &model, at_s(610), 10, "at the next attempt").await;
    m.recipients[1].status = RecipientStatus::Delivered { reply: "250 ok".into() };
    m.attempts = 2;
    ok(s.queue_update(&m, None).await, "final queue_update");
    model.updated(&m);
    assert!(ok(s.queue_all().await, "queue_all").is_empty(), "the settled entry must be removed");
    assert_eq!(ok(s.body(stored[0].blob).await, "body"), None, "a body nothing shows or sends is removed");
    check_mail(&s, &model, "after the final attempt").await;
}

/// Removing the last queue entry keeps the body while a folder entry (the
/// sender's Sent Items copy) still shows it.
pub async fn mail_queue_final_keeps_body_a_folder_shows<H: Harness>(h: &mut H)
where
    H::S: MailStore,
{
    let s = h.fresh().await;
    let mut model = MailModel::default();
    let d = delivery(1, vec![entry(5, SEEN, Some(5))], Some(outbound("me@contoso.test", &["you@r.test"])));
    let stored = store(&s, &mut model, vec![d.clone(), queued_delivery(2, 20, &["x@r.test"])]).await;
    for st in &stored {
        let mut m = model.queued(st.queued.unwrap_or_else(|| panic!("queued")));
        m.recipients[0].status = RecipientStatus::Delivered { reply: "250 ok".into() };
        m.attempts = 1;
        ok(s.queue_update(&m, None).await, "final queue_update");
        model.updated(&m);
    }
    assert!(ok(s.queue_all().await, "queue_all").is_empty());
    assert_eq!(ok(s.body(stored[0].blob).await, "body"), Some(d.raw), "the Sent Items copy still shows the body");
    assert_eq!(ok(s.body(stored[1].blob).await, "body"), None, "nothing shows the other body any more");
    check_mail(&s, &model, "after settling both entries").await;
}

/// The notice commits with the update; when either half fails, neither lands.
pub async fn mail_queue_update_stores_notice_atomically<H: Harness>(h: &mut H)
where
    H::S: MailStore,
{
    let s = h.fresh().await;
    let mut model = MailModel::default();
    let stored = store(&s, &mut model, vec![queued_delivery(1, 10, &["gone@r.test", "later@r.test"])]).await;
    let id = stored[0].queued.unwrap_or_else(|| panic!("queued"));
    // A notice that cannot be stored (nothing would show it) fails the update too.
    let mut m = model.queued(id);
    m.recipients[0].status = RecipientStatus::Failed { reply: "550 5.1.1 unknown".into() };
    m.attempts = 1;
    m.next_attempt = at_s(70);
    let unstorable = delivery(50, Vec::new(), None);
    assert!(s.queue_update(&m, Some(unstorable)).await.is_err(), "a notice that cannot be stored must fail the update");
    check_mail(&s, &model, "after an update whose notice failed").await;
    // A good notice (the bounce in the sender's Inbox) lands with the update.
    let notice = delivery(51, vec![entry(6, NONE, None)], None);
    ok(s.queue_update(&m, Some(notice.clone())).await, "queue_update with a notice");
    model.updated(&m);
    let shown = ok(s.entries(fid(6)).await, "entries");
    assert_eq!(shown.len(), 1, "the notice must be stored with the update");
    let stored_notice = Stored { blob: shown[0].blob, uids: vec![(fid(6), shown[0].uid)], queued: None };
    model.stored(&notice, &stored_notice);
    check_mail(&s, &model, "after an update with a notice").await;
    // The last recipient fails too: the entry goes, with a second notice.
    m.recipients[1].status = RecipientStatus::Failed { reply: "550 gave up".into() };
    m.attempts = 2;
    let notice = delivery(52, vec![entry(6, NONE, None)], None);
    ok(s.queue_update(&m, Some(notice.clone())).await, "final queue_update with a notice");
    model.updated(&m);
    let shown = ok(s.entries(fid(6)).await, "entries");
    assert_eq!(shown.len(), 2, "the second notice must be stored");
    model.stored(&notice, &Stored { blob: shown[1].blob, uids: vec![(fid(6), shown[1].uid)], queued: None });
    check_mail(&s, &model, "after the final update with a notice").await;
    // Repeating the final update (a retry after a lost answer) must not store its notice again.
    let again = delivery(53, vec![entry(6, NONE, None)], None);
    assert!(s.queue_update(&m, Some(again)).await.is_err(), "an update of an entry no longer queued must fail");
    check_mail(&s, &model, "after repeating a final update").await;
}

/// Fifty concurrent `store` calls all succeed, with distinct UIDs per folder.
pub async fn mail_concurrent_stores_get_distinct_uids<H: Harness>(h: &mut H)
where
    H::S: MailStore,
{
    let s = h.fresh().await;
    let mut model = MailModel::default();
    let ds: Vec<Delivery> = (0..50)
        .map(|n| {
            let mut entries = vec![entry(n % 3, NONE, None)];
            if n % 5 == 0 {
                entries.push(entry(9, SEEN, Some(n)));
            }
            delivery(n, entries, (n % 7 == 0).then(|| outbound("me@contoso.test", &["you@r.test"])))
        })
        .collect();
    let results = join_all(ds.iter().map(|d| s.store(vec![d.clone()])).collect()).await;
    for (d, result) in ds.iter().zip(results) {
        let stored = ok(result, "a concurrent store");
        assert_eq!(stored.len(), 1);
        model.stored(d, &stored[0]);
    }
    for (folder, entries) in &model.entries {
        let mut uids: Vec<u32> = entries.iter().map(|e| e.uid).collect();
        uids.dedup();
        assert_eq!(uids.len(), entries.len(), "folder {folder:?} got a UID twice");
    }
    check_mail(&s, &model, "after fifty concurrent stores").await;
}

/// Requests that fail, stored concurrently with good ones, fail alone and
/// leave nothing behind; a call is all or nothing.
pub async fn mail_failing_delivery_does_not_fail_others<H: Harness>(h: &mut H)
where
    H::S: MailStore,
{
    let s = h.fresh().await;
    let mut model = MailModel::default();
    let nowhere = delivery(100, Vec::new(), None);
    let no_recipients = delivery(101, vec![entry(8, NONE, None)], Some(outbound("me@contoso.test", &[])));
    let mut calls: Vec<(bool, Vec<Delivery>)> =
        (0..20).map(|n| (true, vec![delivery(n, vec![entry(n % 2, NONE, None)], None)])).collect();
    calls.insert(3, (false, vec![nowhere.clone()]));
    calls.insert(9, (false, vec![no_recipients]));
    // The good half of a failing call must not land either.
    calls.insert(15, (false, vec![delivery(102, vec![entry(8, SEEN, None)], None), nowhere]));
    let results = join_all(calls.iter().map(|(_, ds)| s.store(ds.clone())).collect()).await;
    for ((good, ds), result) in calls.iter().zip(results) {
        match (good, result) {
            (true, Ok(stored)) => model.stored(&ds[0], &stored[0]),
            (true, Err(e)) => panic!("a good delivery failed beside a bad one: {e}"),
            (false, Ok(_)) => panic!("a bad request succeeded: {ds:?}"),
            (false, Err(_)) => {}
        }
    }
    assert!(ok(s.entries(fid(8)).await, "entries").is_empty(), "a failed request must leave no entry");
    check_mail(&s, &model, "after good and bad requests together").await;
}

/// Closing and reopening keeps entries, bodies, counts and the queue, and UIDs
/// continue above those handed out before.
pub async fn mail_reopen_keeps_everything<H: Harness>(h: &mut H)
where
    H::S: MailStore,
{
    let mut s = h.fresh().await;
    let mut model = MailModel::default();
    let stored = store(
        &s,
        &mut model,
        vec![
            delivery(1, vec![entry(1, NONE, None), entry(2, SEEN, Some(2))], Some(outbound("x@c.test", &["y@r.test"]))),
            delivery(2, vec![entry(1, SEEN, None)], None),
            queued_delivery(3, 30, &["z@r.test", "w@r.test"]),
        ],
    )
    .await;
    let mut m = model.queued(stored[2].queued.unwrap_or_else(|| panic!("queued")));
    m.recipients[1].status = RecipientStatus::Failed { reply: "550 no".into() };
    m.attempts = 3;
    m.next_attempt = at_s(3600);
    ok(s.queue_update(&m, None).await, "queue_update");
    model.updated(&m);
    s = h.reopen(s).await;
    check_mail(&s, &model, "after reopening").await;
    let highest = model.entries.get(&fid(1)).and_then(|e| e.last()).map_or(0, |e| e.uid);
    let more = store(&s, &mut model, vec![delivery(4, vec![entry(1, NONE, None)], None)]).await;
    assert!(more[0].uids[0].1 > highest, "a reopened store must not reuse UIDs");
    s = h.reopen(s).await;
    check_mail(&s, &model, "after storing into a reopened store and reopening").await;
}

/// Runs every mail case in turn.
pub async fn run_all<H: Harness>(h: &mut H)
where
    H::S: MailStore,
{
    mail_fresh_store_is_empty(h).await;
    mail_entries_round_trip(h).await;
    mail_one_body_for_many_entries(h).await;
    mail_uids_increase_per_folder_independently(h).await;
    mail_folder_counts(h).await;
    mail_queue_due_respects_time_limit_and_order(h).await;
    mail_queue_update_partial_then_final(h).await;
    mail_queue_final_keeps_body_a_folder_shows(h).await;
    mail_queue_update_stores_notice_atomically(h).await;
    mail_concurrent_stores_get_distinct_uids(h).await;
    mail_failing_delivery_does_not_fail_others(h).await;
    mail_reopen_keeps_everything(h).await;
    mail_folder_status_is_stable_from_the_first_call(h).await;
    mail_set_flags_round_trip(h).await;
    mail_set_flags_unchanged_since_conflicts(h).await;
    mail_expunge_removes_bodies_only_when_unreferenced(h).await;
    mail_copy_and_move(h).await;
    mail_folder_operations_follow_the_model(h).await;
    mail_find_by_message_id_respects_since(h).await;
    mail_subscriptions_round_trip(h).await;
}

/// Expands to one `#[tokio::test]` per mail conformance case, each with a
/// harness made by `$harness`, whose store must implement [`MailStore`].
#[macro_export]
macro_rules! mail_conformance_tests {
    ($harness:expr) => {
        $crate::mail_conformance_tests!(@cases ($harness)
            mail_fresh_store_is_empty,
            mail_entries_round_trip,
            mail_one_body_for_many_entries,
            mail_uids_increase_per_folder_independently,
            mail_folder_counts,
            mail_queue_due_respects_time_limit_and_order,
            mail_queue_update_partial_then_final,
            mail_queue_final_keeps_body_a_folder_shows,
            mail_queue_update_stores_notice_atomically,
            mail_concurrent_stores_get_distinct_uids,
            mail_failing_delivery_does_not_fail_others,
            mail_reopen_keeps_everything,
            mail_folder_status_is_stable_from_the_first_call,
            mail_set_flags_round_trip,
            mail_set_flags_unchanged_since_conflicts,
            mail_expunge_removes_bodies_only_when_unreferenced,
            mail_copy_and_move,
            mail_folder_operations_follow_the_model,
            mail_find_by_message_id_respects_since,
            mail_subscriptions_round_trip,
        );
    };
    (@cases ($harness:expr) $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let mut harness = $harness;
                $crate::conformance::mail::$case(&mut harness).await;
            }
        )*
    };
}
