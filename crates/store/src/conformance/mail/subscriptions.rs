//! IMAP subscription rows: each principal's explicit SUBSCRIBE/UNSUBSCRIBE
//! choice per folder, kept across reopening, removed per folder on request,
//! and carried by `export`.

use std::collections::BTreeMap;

use crate::conformance::{Harness, fid, ok, rid};
use crate::{MailStore, Subscription};
use deputy_types::{FolderId, RecipientId};

/// The rows the store should hold, by (principal, folder).
type Rows = BTreeMap<(RecipientId, FolderId), bool>;

/// Compares every principal the test used, and the export, with `rows`.
async fn check<S: MailStore>(s: &S, rows: &Rows, principals: &[RecipientId], context: &str) {
    for p in principals {
        let expected: Vec<(FolderId, bool)> =
            rows.iter().filter(|((who, _), _)| who == p).map(|((_, folder), on)| (*folder, *on)).collect();
        let got = ok(s.subscriptions(*p).await, context);
        assert_eq!(got, expected, "{context}: subscriptions({p:?}), ascending by folder");
    }
    let exported = ok(s.export().await, context).subscriptions;
    let expected: Vec<Subscription> = rows
        .iter()
        .map(|((principal, folder), on)| Subscription { principal: *principal, folder: *folder, subscribed: *on })
        .collect();
    assert_eq!(exported, expected, "{context}: the export's subscriptions, ascending by (principal, folder)");
}

/// Subscribe and unsubscribe rows round-trip per principal, a later choice
/// replaces an earlier one, removing a folder's rows removes every
/// principal's (and nothing else), and everything survives a reopen.
pub async fn mail_subscriptions_round_trip<H: Harness>(h: &mut H)
where
    H::S: MailStore,
{
    let mut s = h.fresh().await;
    let (rob, mary, nobody) = (rid(1), rid(2), rid(3));
    let who = [rob, mary, nobody];
    let mut rows = Rows::new();
    check(&s, &rows, &who, "a fresh store").await;
    // Out of folder order, so the answer's order is the store's doing.
    for (p, f, on) in [(rob, 9, false), (rob, 2, true), (mary, 9, true), (rob, 5, false), (mary, 2, false)] {
        ok(s.set_subscription(p, fid(f), on).await, "set_subscription");
        rows.insert((p, fid(f)), on);
    }
    check(&s, &rows, &who, "after five choices").await;
    // Choosing again replaces; choosing the same twice keeps one row.
    for (p, f, on) in [(rob, 9, true), (rob, 9, true), (mary, 2, false), (rob, 5, true), (rob, 5, false)] {
        ok(s.set_subscription(p, fid(f), on).await, "set_subscription again");
        rows.insert((p, fid(f)), on);
    }
    check(&s, &rows, &who, "after choosing again").await;
    s = h.reopen(s).await;
    check(&s, &rows, &who, "after reopening").await;
    ok(s.delete_subscriptions(fid(9)).await, "delete_subscriptions");
    rows.retain(|(_, folder), _| *folder != fid(9));
    check(&s, &rows, &who, "after removing folder 9's rows").await;
    ok(s.delete_subscriptions(fid(9)).await, "delete_subscriptions of a folder without rows");
    ok(s.delete_subscriptions(fid(77)).await, "delete_subscriptions of an unknown folder");
    check(&s, &rows, &who, "after removing rows that are not there").await;
    s = h.reopen(s).await;
    check(&s, &rows, &who, "after removing and reopening").await;
}
