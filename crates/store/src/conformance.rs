//! The conformance suite: the behaviour every [`Store`] backend must show.
//!
//! A backend implements [`Harness`] (make a fresh, empty store; close a store
//! and open the same data again) and runs every case, usually with
//! [`conformance_tests!`](crate::conformance_tests), which expands to one
//! `#[tokio::test]` per case:
//!
//! ```text
//! deputy_store::conformance_tests!(SqliteHarness::new());
//! ```
//!
//! Every case compares the backend with the reference model — [`Snapshot::apply`]
//! for the directory, [`Model::search`] for the audit log — and panics with the
//! first difference. The suite is compiled as an ordinary module so that every
//! backend crate can reuse it; it has no backend of its own.
//!
//! Portable expectations: every record must come back exactly, except audit
//! times, which the suite only writes in whole milliseconds (so a backend must
//! keep at least millisecond precision).
//!
//! Atomicity of a failing batch cannot be forced portably; each backend tests it
//! with its own fault injection.
//!
//! The [`mail`] module holds the cases for [`MailStore`](crate::MailStore),
//! run with the same [`Harness`] by a backend whose store implements it.

mod fixtures;
pub mod mail;

pub use fixtures::{
    BASE_MS, CMDLETS, Rng, VARIANTS, Workload, at_ms, audit_at, every_change, fid, plain_recipient, rich_recipient,
    rid, service_principal, spid, variant,
};

use crate::{AuditQuery, Change, Snapshot, Store, StoreError};
use deputy_types::{AuditRecord, FolderUser, MailboxAce, RecipientType, SendAsAce};
use std::collections::BTreeSet;
use std::fmt::Debug;
use std::future::Future;

/// How the suite gets stores from a backend.
pub trait Harness {
    /// The backend under test.
    type S: Store;

    /// A new, empty store that shares nothing with stores made before.
    fn fresh(&mut self) -> impl Future<Output = Self::S>;

    /// Closes `store` (drops it, as a stopped process would) and opens the same data again.
    fn reopen(&mut self, store: Self::S) -> impl Future<Output = Self::S>;
}

/// What a store should hold after a sequence of commits: the reference model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Model {
    /// The directory, built with [`Snapshot::apply`].
    pub snapshot: Snapshot,
    /// Every audit record, in commit order.
    pub audit: Vec<AuditRecord>,
}

impl Model {
    /// Applies one committed batch.
    pub fn commit(&mut self, changes: &[Change], audit: &[AuditRecord]) {
        for change in changes {
            self.snapshot.apply(change);
        }
        self.audit.extend_from_slice(audit);
    }

    /// The reference `search_audit`: start and end inclusive, cmdlets compared
    /// ignoring ASCII case (empty means all), newest first with ties in reverse
    /// commit order, at most `limit` records (0 means no limit).
    pub fn search(&self, query: &AuditQuery) -> Vec<AuditRecord> {
        let mut hits: Vec<&AuditRecord> = self
            .audit
            .iter()
            .rev()
            .filter(|r| query.start.is_none_or(|s| r.time >= s))
            .filter(|r| query.end.is_none_or(|e| r.time <= e))
            .filter(|r| query.cmdlets.is_empty() || query.cmdlets.iter().any(|c| c.eq_ignore_ascii_case(&r.cmdlet)))
            .collect();
        // Stable: records with the same time stay newest-committed first.
        hits.sort_by_key(|r| std::cmp::Reverse(r.time));
        if query.limit > 0 {
            hits.truncate(query.limit);
        }
        hits.into_iter().cloned().collect()
    }
}

fn ok<T>(result: Result<T, StoreError>, context: &str) -> T {
    match result {
        Ok(v) => v,
        Err(e) => panic!("{context}: the store failed: {e}"),
    }
}

fn list_difference<T: PartialEq + Debug>(name: &str, actual: &[T], expected: &[T]) -> Option<String> {
    if actual == expected {
        return None;
    }
    let i = actual.iter().zip(expected).position(|(a, e)| a != e).unwrap_or(actual.len().min(expected.len()));
    Some(format!(
        "{name}: {} stored, {} in the model; first difference at #{i}: stored {:?}, model {:?}",
        actual.len(),
        expected.len(),
        actual.get(i),
        expected.get(i)
    ))
}

/// Where two snapshots differ once normalized, described for a person; `None` when equal.
pub fn snapshot_difference(actual: &Snapshot, expected: &Snapshot) -> Option<String> {
    let (mut a, mut e) = (actual.clone(), expected.clone());
    a.normalize();
    e.normalize();
    let diffs: Vec<String> = [
        (a.organization != e.organization)
            .then(|| format!("organization: stored {:?}, model {:?}", a.organization, e.organization)),
        list_difference("accepted_domains", &a.accepted_domains, &e.accepted_domains),
        list_difference("recipients", &a.recipients, &e.recipients),
        list_difference("members", &a.members, &e.members),
        list_difference("mailbox_aces", &a.mailbox_aces, &e.mailbox_aces),
        list_difference("send_as_aces", &a.send_as_aces, &e.send_as_aces),
        list_difference("folders", &a.folders, &e.folders),
        list_difference("folder_aces", &a.folder_aces, &e.folder_aces),
        list_difference("service_principals", &a.service_principals, &e.service_principals),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!diffs.is_empty()).then(|| diffs.join("; "))
}

/// Asserts that `store` loads `model.snapshot` and holds exactly `model.audit`.
pub async fn check<S: Store>(store: &S, model: &Model, context: &str) {
    let loaded = ok(store.load().await, context);
    if let Some(diff) = snapshot_difference(&loaded, &model.snapshot) {
        panic!("{context}: load() differs from the model: {diff}");
    }
    check_search(store, model, &AuditQuery::default(), context).await;
}

/// Asserts that `search_audit(query)` returns what the model does.
pub async fn check_search<S: Store>(store: &S, model: &Model, query: &AuditQuery, context: &str) {
    let found = ok(store.search_audit(query).await, context);
    if let Some(diff) = list_difference("audit", &found, &model.search(query)) {
        panic!("{context}: search_audit({query:?}) differs from the model: {diff}");
    }
}

/// Commits a batch that must succeed and applies it to the model.
pub async fn commit<S: Store>(store: &S, model: &mut Model, changes: Vec<Change>, audit: Vec<AuditRecord>) {
    model.commit(&changes, &audit);
    ok(store.commit(changes, audit).await, "commit");
}

/// A fresh store loads an empty snapshot and has no audit records.
pub async fn fresh_store_is_empty<H: Harness>(h: &mut H) {
    let store = h.fresh().await;
    let loaded = ok(store.load().await, "load of a fresh store");
    assert_eq!(loaded, Snapshot::default(), "a fresh store must load an empty snapshot");
    check(&store, &Model::default(), "a fresh store").await;
}

/// Each change of a fixture using every variant, committed alone, leaves the
/// store equal to the model, and every record comes back exactly.
pub async fn every_change_round_trips<H: Harness>(h: &mut H) {
    let store = h.fresh().await;
    let mut model = Model::default();
    let mut seen = BTreeSet::new();
    for change in every_change() {
        let context = format!("after {change:?}");
        seen.insert(variant(&change));
        commit(&store, &mut model, vec![change], vec![]).await;
        check(&store, &model, &context).await;
    }
    let missing: Vec<_> = VARIANTS.iter().filter(|v| !seen.contains(*v)).collect();
    assert!(missing.is_empty(), "the fixture does not use {missing:?}");
}

/// Putting something whose key exists replaces it; putting a set member twice keeps one.
pub async fn put_replaces_by_key<H: Harness>(h: &mut H) {
    let store = h.fresh().await;
    let mut model = Model::default();
    let fixture = every_change();
    let puts: Vec<Change> =
        fixture.iter().filter(|c| variant(c).starts_with("Put") || variant(c) == "AddMember").cloned().collect();
    commit(&store, &mut model, puts.clone(), vec![]).await;
    let before = ok(store.load().await, "load");
    // The same keys again, plus changed values for keyed records.
    let mut again = puts;
    again.push(Change::PutRecipient(rich_recipient(1, 7)));
    again.push(Change::PutMailboxAce(MailboxAce {
        target: rid(2),
        trustee: rid(1),
        rights: deputy_types::MailboxRights::EXTERNAL_ACCOUNT,
        deny: false,
        inheritance: deputy_types::InheritanceType::None,
        automapping: true,
    }));
    commit(&store, &mut model, again, vec![]).await;
    check(&store, &model, "after putting every key twice").await;
    let after = ok(store.load().await, "load");
    assert_eq!(after.recipients.len(), before.recipients.len(), "a put of an existing recipient must replace it");
    assert_eq!(after.members.len(), before.members.len(), "adding a member twice must keep one membership");
    assert_eq!(after.send_as_aces.len(), before.send_as_aces.len(), "a Send As entry is a set member");
    assert_eq!(
        after.mailbox_aces.len(),
        before.mailbox_aces.len(),
        "mailbox entries are keyed by target, trustee, deny"
    );
    assert_eq!(after.folder_aces.len(), before.folder_aces.len(), "folder entries are keyed by folder and user");
    assert!(after.recipients.contains(&rich_recipient(1, 7)), "the replacing record must be the one stored");
}

/// A registered application is put, replaced whole (secrets and role
/// assignments included, fewer as well as more), deleted, and survives a reopen.
pub async fn service_principals_put_replace_delete_and_persist<H: Harness>(h: &mut H) {
    let mut store = h.fresh().await;
    let mut model = Model::default();
    let puts = (1..=3).map(|n| Change::PutServicePrincipal(service_principal(n, n))).collect();
    commit(&store, &mut model, puts, vec![audit_at(1, "New-ServicePrincipal", "App 1")]).await;
    check(&store, &model, "after putting three applications").await;
    let grown = Change::PutServicePrincipal(service_principal(1, 3));
    let shrunk = Change::PutServicePrincipal(service_principal(3, 0));
    commit(&store, &mut model, vec![grown, shrunk], vec![]).await;
    check(&store, &model, "after replacing two applications").await;
    let loaded = ok(store.load().await, "load");
    assert_eq!(loaded.service_principals.len(), 3, "a put of an existing application must replace it");
    assert!(loaded.service_principals.contains(&service_principal(1, 3)), "the replacing record must be stored");
    assert!(loaded.service_principals.contains(&service_principal(3, 0)), "a replacement may drop every secret");
    commit(&store, &mut model, vec![Change::DeleteServicePrincipal(spid(2))], vec![]).await;
    check(&store, &model, "after deleting an application").await;
    store = h.reopen(store).await;
    check(&store, &model, "after reopening").await;
    let loaded = ok(store.load().await, "load");
    assert_eq!(loaded.service_principals.len(), 2, "a deleted application must stay deleted");
    assert!(loaded.service_principals.iter().all(|sp| sp.id != spid(2)));
}

/// Deleting what is not there succeeds and changes nothing else.
pub async fn delete_of_absent_is_fine<H: Harness>(h: &mut H) {
    let store = h.fresh().await;
    let mut model = Model::default();
    let absent = vec![
        Change::DeleteAcceptedDomain { domain: "nowhere.test".to_owned() },
        Change::DeleteRecipient(rid(90)),
        Change::RemoveMember { group: rid(90), member: rid(91) },
        Change::DeleteMailboxAce { target: rid(90), trustee: rid(91), deny: false },
        Change::DeleteSendAsAce(SendAsAce { target: rid(90), trustee: rid(91), deny: true }),
        Change::DeleteFolder(fid(90)),
        Change::DeleteFolderAce { folder: fid(90), user: FolderUser::Default },
        Change::DeleteServicePrincipal(spid(90)),
    ];
    commit(&store, &mut model, absent.clone(), vec![]).await;
    check(&store, &model, "after deleting absent keys from an empty store").await;
    commit(&store, &mut model, every_change(), vec![]).await;
    commit(&store, &mut model, absent, vec![]).await;
    check(&store, &model, "after deleting absent keys from a full store").await;
}

/// Changes in one batch apply in order: a later change sees an earlier one.
pub async fn changes_apply_in_order<H: Harness>(h: &mut H) {
    let store = h.fresh().await;
    let mut model = Model::default();
    let batch = vec![
        Change::PutRecipient(plain_recipient(1, RecipientType::UserMailbox, 0)),
        Change::DeleteRecipient(rid(1)),
        Change::DeleteRecipient(rid(2)),
        Change::PutRecipient(plain_recipient(2, RecipientType::UserMailbox, 0)),
        Change::PutRecipient(plain_recipient(2, RecipientType::UserMailbox, 1)),
        Change::AddMember { group: rid(3), member: rid(2) },
        Change::RemoveMember { group: rid(3), member: rid(2) },
        Change::AddMember { group: rid(3), member: rid(2) },
        Change::PutSendAsAce(SendAsAce { target: rid(2), trustee: rid(3), deny: false }),
        Change::DeleteSendAsAce(SendAsAce { target: rid(2), trustee: rid(3), deny: false }),
    ];
    commit(&store, &mut model, batch, vec![]).await;
    check(&store, &model, "after a batch that puts, deletes and puts again").await;
    let loaded = ok(store.load().await, "load");
    assert_eq!(loaded.recipients, vec![plain_recipient(2, RecipientType::UserMailbox, 1)]);
    assert_eq!(loaded.members, vec![(rid(3), rid(2))]);
    assert!(loaded.send_as_aces.is_empty(), "a delete after a put in one batch must win");
}

/// An empty batch, and a batch of audit records only, commit fine.
pub async fn empty_and_audit_only_batches_commit<H: Harness>(h: &mut H) {
    let store = h.fresh().await;
    let mut model = Model::default();
    commit(&store, &mut model, vec![], vec![]).await;
    check(&store, &model, "after an empty batch").await;
    commit(&store, &mut model, vec![], vec![audit_at(0, "Get-Mailbox", "nobody")]).await;
    check(&store, &model, "after an audit-only batch").await;
}

/// Closing and reopening keeps every change and audit record, and the reopened store keeps working.
pub async fn reopen_keeps_everything<H: Harness>(h: &mut H) {
    let mut store = h.fresh().await;
    let mut model = Model::default();
    commit(&store, &mut model, every_change(), vec![audit_at(5, "New-Mailbox", "zoe")]).await;
    let mut workload = Workload::new(7, 10);
    for _ in 0..10 {
        let (changes, audit) = workload.next_batch();
        commit(&store, &mut model, changes, audit).await;
    }
    store = h.reopen(store).await;
    check(&store, &model, "after reopening").await;
    store = h.reopen(store).await;
    check(&store, &model, "after reopening twice").await;
    let (changes, audit) = workload.next_batch();
    commit(&store, &mut model, changes, audit).await;
    store = h.reopen(store).await;
    check(&store, &model, "after committing to a reopened store and reopening").await;
}

fn awkward_audit() -> Vec<AuditRecord> {
    let mut failed = audit_at(1, "Add-MailboxPermission", "Zoë O'Brien, \"Jr\"");
    failed.succeeded = false;
    failed.error = Some("The user \"x\" wasn't found.\nLine two; DROP TABLE audit; --".to_owned());
    failed.before = Some("{\"rights\":[]}".to_owned());
    failed.after = Some("{\"rights\":[\"FullAccess\"],\"emoji\":\"😀\"}".to_owned());
    failed.command = "Add-MailboxPermission -Identity 'Zoë' -User % -AccessRights FullAccess".to_owned();
    let mut empty = audit_at(2, "", "");
    empty.caller = String::new();
    empty.command = String::new();
    empty.before = Some(String::new());
    vec![failed, empty, audit_at(3, "Set-Mailbox", "shared")]
}

/// Audit records come back exactly, newest first, including empty and absent fields.
pub async fn audit_round_trips_exactly<H: Harness>(h: &mut H) {
    let mut store = h.fresh().await;
    let mut model = Model::default();
    commit(&store, &mut model, vec![], awkward_audit()).await;
    check(&store, &model, "after auditing awkward records").await;
    let found = ok(store.search_audit(&AuditQuery::default()).await, "search");
    let mut expected = awkward_audit();
    expected.reverse();
    assert_eq!(found, expected, "search_audit must return the records exactly, newest first");
    store = h.reopen(store).await;
    check(&store, &model, "after reopening").await;
}

fn query(start: Option<i64>, end: Option<i64>, cmdlets: &[&str], limit: usize) -> AuditQuery {
    AuditQuery {
        start: start.map(|ms| at_ms(BASE_MS + ms)),
        end: end.map(|ms| at_ms(BASE_MS + ms)),
        cmdlets: cmdlets.iter().map(|c| (*c).to_owned()).collect(),
        limit,
    }
}

fn objects(records: &[AuditRecord]) -> Vec<&str> {
    records.iter().map(|r| r.object.as_str()).collect()
}

/// `start` and `end` are inclusive bounds on the record's time.
pub async fn audit_search_by_time<H: Harness>(h: &mut H) {
    let store = h.fresh().await;
    let mut model = Model::default();
    let records = (1..=4).map(|i| audit_at(i * 1000, "Set-Mailbox", &format!("t{i}"))).collect();
    commit(&store, &mut model, vec![], records).await;
    let cases: [(Option<i64>, Option<i64>, &[&str]); 7] = [
        (Some(2000), None, &["t4", "t3", "t2"]),
        (None, Some(3000), &["t3", "t2", "t1"]),
        (Some(2000), Some(3000), &["t3", "t2"]),
        (Some(2000), Some(2000), &["t2"]),
        (Some(2001), Some(2999), &[]),
        (Some(3000), Some(2000), &[]),
        (Some(999), Some(4001), &["t4", "t3", "t2", "t1"]),
    ];
    for (start, end, want) in cases {
        let q = query(start, end, &[], 0);
        let found = ok(store.search_audit(&q).await, "search");
        assert_eq!(objects(&found), want, "search_audit({q:?})");
        check_search(&store, &model, &q, "time bounds").await;
    }
}

/// Cmdlet names match ignoring case; several names match any of them; none matches all.
pub async fn audit_search_by_cmdlets<H: Harness>(h: &mut H) {
    let store = h.fresh().await;
    let mut model = Model::default();
    let records = vec![
        audit_at(1, "Set-Mailbox", "a"),
        audit_at(2, "Add-MailboxPermission", "b"),
        audit_at(3, "SET-MAILBOX", "c"),
        audit_at(4, "New-Mailbox", "d"),
    ];
    commit(&store, &mut model, vec![], records).await;
    let cases: [(&[&str], &[&str]); 5] = [
        (&["set-mailbox"], &["c", "a"]),
        (&["Set-Mailbox", "new-MAILBOX"], &["d", "c", "a"]),
        (&["Remove-Mailbox"], &[]),
        (&["Set-Mailbox "], &[]),
        (&[], &["d", "c", "b", "a"]),
    ];
    for (cmdlets, want) in cases {
        let q = query(None, None, cmdlets, 0);
        let found = ok(store.search_audit(&q).await, "search");
        assert_eq!(objects(&found), want, "search_audit({q:?})");
    }
}

/// Results are newest first, records with equal times newest-committed first, cut at `limit`.
pub async fn audit_search_limit_and_order<H: Harness>(h: &mut H) {
    let store = h.fresh().await;
    let mut model = Model::default();
    // Times out of commit order, with ties inside a batch and across batches.
    let first = vec![
        audit_at(2000, "Set-Mailbox", "a"),
        audit_at(1000, "Set-Mailbox", "b"),
        audit_at(2000, "Set-Mailbox", "c"),
    ];
    commit(&store, &mut model, vec![], first).await;
    commit(&store, &mut model, vec![], vec![audit_at(2000, "Set-Mailbox", "d"), audit_at(500, "Set-Mailbox", "e")])
        .await;
    let cases: [(usize, &[&str]); 5] = [
        (0, &["d", "c", "a", "b", "e"]),
        (1, &["d"]),
        (3, &["d", "c", "a"]),
        (5, &["d", "c", "a", "b", "e"]),
        (50, &["d", "c", "a", "b", "e"]),
    ];
    for (limit, want) in cases {
        let q = query(None, None, &[], limit);
        let found = ok(store.search_audit(&q).await, "search");
        assert_eq!(objects(&found), want, "search_audit({q:?})");
    }
    let q = query(Some(1000), None, &["set-mailbox"], 2);
    assert_eq!(objects(&ok(store.search_audit(&q).await, "search")), ["d", "c"], "filters and limit combine");
}

fn random_query(rng: &mut Rng) -> AuditQuery {
    let bound = |rng: &mut Rng| (rng.below(3) != 0).then(|| rng.below(42) as i64 * 1000 - 1000);
    let mut cmdlets = Vec::new();
    for _ in 0..rng.below(3) {
        let c = rng.pick(&CMDLETS);
        cmdlets.push(if rng.below(2) == 0 { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() });
    }
    let start = bound(rng);
    let end = bound(rng);
    let limit = rng.below(6) as usize;
    AuditQuery { start: start.map(|ms| at_ms(BASE_MS + ms)), end: end.map(|ms| at_ms(BASE_MS + ms)), cmdlets, limit }
}

/// Model-based test: random batches from fixed seeds; after every batch the
/// store equals the model, random audit searches agree, and so does a reopened store.
pub async fn random_batches_match_model<H: Harness>(h: &mut H) {
    for seed in [1, 2, 3] {
        let mut store = h.fresh().await;
        let mut model = Model::default();
        let mut workload = Workload::new(seed, 8);
        let mut queries = Rng::new(seed.wrapping_mul(31));
        let mut seen = BTreeSet::new();
        for batch in 0..60 {
            let (changes, audit) = workload.next_batch();
            seen.extend(changes.iter().map(variant));
            let context = format!("seed {seed}, batch {batch}: {changes:?}");
            commit(&store, &mut model, changes, audit).await;
            check(&store, &model, &context).await;
            let q = random_query(&mut queries);
            check_search(&store, &model, &q, &context).await;
            if batch % 20 == 19 {
                store = h.reopen(store).await;
                check(&store, &model, &format!("seed {seed}, after reopening at batch {batch}")).await;
            }
        }
        assert_eq!(seen.len(), VARIANTS.len(), "seed {seed}: the workload must use every variant, used {seen:?}");
    }
}

/// Runs every case in turn.
pub async fn run_all<H: Harness>(h: &mut H) {
    fresh_store_is_empty(h).await;
    every_change_round_trips(h).await;
    put_replaces_by_key(h).await;
    service_principals_put_replace_delete_and_persist(h).await;
    delete_of_absent_is_fine(h).await;
    changes_apply_in_order(h).await;
    empty_and_audit_only_batches_commit(h).await;
    reopen_keeps_everything(h).await;
    audit_round_trips_exactly(h).await;
    audit_search_by_time(h).await;
    audit_search_by_cmdlets(h).await;
    audit_search_limit_and_order(h).await;
    random_batches_match_model(h).await;
}

/// Expands to one `#[tokio::test]` per conformance case, each with a harness
/// made by `$harness` (the calling crate needs `tokio` with `macros` and `rt`).
#[macro_export]
macro_rules! conformance_tests {
    ($harness:expr) => {
        $crate::conformance_tests!(@cases ($harness)
            fresh_store_is_empty,
            every_change_round_trips,
            put_replaces_by_key,
            service_principals_put_replace_delete_and_persist,
            delete_of_absent_is_fine,
            changes_apply_in_order,
            empty_and_audit_only_batches_commit,
            reopen_keeps_everything,
            audit_round_trips_exactly,
            audit_search_by_time,
            audit_search_by_cmdlets,
            audit_search_limit_and_order,
            random_batches_match_model,
        );
    };
    (@cases ($harness:expr) $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let mut harness = $harness;
                $crate::conformance::$case(&mut harness).await;
            }
        )*
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_search_orders_newest_first_with_ties_newest_committed_first() {
        let mut model = Model::default();
        model.commit(&[], &[audit_at(2, "A", "old"), audit_at(1, "A", "older"), audit_at(2, "a", "new")]);
        let all = model.search(&AuditQuery::default());
        assert_eq!(objects(&all), ["new", "old", "older"]);
        let q = AuditQuery { cmdlets: vec!["a".to_owned()], limit: 2, ..AuditQuery::default() };
        assert_eq!(objects(&model.search(&q)), ["new", "old"]);
    }

    #[test]
    fn workload_is_deterministic_per_seed() {
        let (mut a, mut b, mut c) = (Workload::new(9, 8), Workload::new(9, 8), Workload::new(10, 8));
        let xs: Vec<_> = (0..20).map(|_| a.next_batch()).collect();
        let ys: Vec<_> = (0..20).map(|_| b.next_batch()).collect();
        let zs: Vec<_> = (0..20).map(|_| c.next_batch()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn snapshot_difference_names_the_differing_list() {
        let mut model = Model::default();
        model.commit(&every_change(), &[]);
        let mut shuffled = model.snapshot.clone();
        shuffled.recipients.reverse();
        assert_eq!(snapshot_difference(&shuffled, &model.snapshot), None, "order must not matter");
        shuffled.folders.pop();
        let diff = snapshot_difference(&shuffled, &model.snapshot).unwrap_or_default();
        assert!(diff.starts_with("folders:"), "{diff}");
    }
}
