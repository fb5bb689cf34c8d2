//! The folder operations the IMAP and Graph doors use: status, flags with
//! CONDSTORE mod-sequences, expunge, copy and move, single fetches and the
//! APPEND duplicate check, each compared with [`MailModel`].

use super::{MailModel, check_mail, delivery, entry, outbound, store};
use crate::MailStore;
use crate::conformance::{Harness, Rng, fid, ok, rid};
use crate::mail::{FlagOp, FolderStatus};
use deputy_types::{FolderId, MessageFlags, Uid};

const SEEN: MessageFlags = MessageFlags::SEEN;
const NONE: MessageFlags = MessageFlags::empty();

async fn status<S: MailStore>(s: &S, folder: FolderId) -> FolderStatus {
    ok(s.folder_status(folder).await, "folder_status")
}

/// Stores message `n` into each of `folders` and returns the UIDs, in order.
async fn put<S: MailStore>(s: &S, model: &mut MailModel, n: u64, folders: &[u64], flags: MessageFlags) -> Vec<Uid> {
    let entries = folders.iter().map(|f| entry(*f, flags, Some(*f))).collect();
    store(s, model, vec![delivery(n, entries, None)]).await[0].uids.iter().map(|(_, u)| *u).collect()
}

/// A folder that never had an entry gets a stable state at its first status:
/// UIDNEXT 1, highest mod-sequence 1, nothing in it; the UIDVALIDITY it shows
/// is the one its first entry is stored under.
pub async fn mail_folder_status_is_stable_from_the_first_call<H: Harness>(h: &mut H)
where
    H::S: MailStore,
{
    let mut s = h.fresh().await;
    let mut model = MailModel::default();
    let first = status(&s, fid(1)).await;
    assert_eq!((first.uidnext, first.highest_modseq, first.exists, first.unseen), (1, 1, 0, 0), "{first:?}");
    assert_ne!(first.uidvalidity, 0, "IMAP forbids UIDVALIDITY 0");
    model.status_seen(fid(1));
    assert_eq!(status(&s, fid(1)).await, first, "a second status must show the same state");
    s = h.reopen(s).await;
    assert_eq!(status(&s, fid(1)).await, first, "the state must survive a reopen");
    put(&s, &mut model, 1, &[1], NONE).await;
    put(&s, &mut model, 2, &[1], SEEN).await;
    let after = status(&s, fid(1)).await;
    let expected = FolderStatus { uidnext: 3, highest_modseq: 3, exists: 2, unseen: 1, ..first };
    assert_eq!(after, expected, "two entries after the first status");
    check_mail(&s, &model, "after storing into a folder first seen by status").await;
}

/// Add, Remove and Replace change exactly the entries named (unknown and
/// repeated UIDs aside), each change takes a new mod-sequence, an entry whose
/// flags would not change keeps its own, and `entry` shows the result.
pub async fn mail_set_flags_round_trip<H: Harness>(h: &mut H)
where
    H::S: MailStore,
{
    let s = h.fresh().await;
    let mut model = MailModel::default();
    for n in 1..=4 {
        put(&s, &mut model, n, &[1, 2], if n == 2 { SEEN } else { NONE }).await;
    }
    let ops: [(&[Uid], FlagOp); 6] = [
        (&[1, 2, 3], FlagOp::Add(SEEN)),
        (&[3, 1, 3, 99], FlagOp::Add(MessageFlags::FLAGGED | MessageFlags::ANSWERED)),
        (&[1, 2, 4], FlagOp::Remove(SEEN | MessageFlags::FLAGGED)),
        (&[2], FlagOp::Remove(SEEN)),
        (&[1, 2, 3, 4], FlagOp::Replace(MessageFlags::DELETED | MessageFlags::DRAFT)),
        (&[4], FlagOp::Replace(MessageFlags::all())),
    ];
    for (uids, op) in ops {
        let expected = model.set_flags(fid(1), uids, op, None);
        let got = ok(s.set_flags(fid(1), uids, op, None).await, "set_flags");
        assert_eq!(got, expected, "set_flags({uids:?}, {op:?})");
        assert!(got.failed_modified.is_empty(), "no UNCHANGEDSINCE, no conflict");
        check_mail(&s, &model, &format!("after set_flags({uids:?}, {op:?})")).await;
    }
    for uid in [1, 4, 5] {
        assert_eq!(ok(s.entry(fid(1), uid).await, "entry"), model.entry(fid(1), uid), "entry({uid})");
    }
    assert_eq!(ok(s.entry(fid(7), 1).await, "entry"), None, "an unknown folder has no entry");
    let none = ok(s.set_flags(fid(7), &[1], FlagOp::Add(SEEN), None).await, "set_flags");
    assert_eq!(none, Default::default(), "flags of an unknown folder change nothing");
    check_mail(&s, &model, "after changing flags").await;
}

/// UNCHANGEDSINCE (RFC 7162): an entry whose mod-sequence is above the value
/// is left alone and reported; the others change.
pub async fn mail_set_flags_unchanged_since_conflicts<H: Harness>(h: &mut H)
where
    H::S: MailStore,
{
    let s = h.fresh().await;
    let mut model = MailModel::default();
    for n in 1..=3 {
        put(&s, &mut model, n, &[1], NONE).await;
    }
    let seen = model.entry(fid(1), 2).map_or(0, |e| e.modseq);
    // Another session changes entry 3 after this client saw the folder.
    let other = ok(s.set_flags(fid(1), &[3], FlagOp::Add(MessageFlags::FLAGGED), None).await, "set_flags");
    assert_eq!(other, model.set_flags(fid(1), &[3], FlagOp::Add(MessageFlags::FLAGGED), None));
    let since = model.entry(fid(1), 3).map_or(0, |e| e.modseq) - 1;
    let expected = model.set_flags(fid(1), &[1, 2, 3], FlagOp::Add(SEEN), Some(since));
    assert_eq!(expected.failed_modified, vec![3], "the model must see the conflict: {expected:?}");
    let got = ok(s.set_flags(fid(1), &[1, 2, 3], FlagOp::Add(SEEN), Some(since)).await, "set_flags");
    assert_eq!(got, expected, "UNCHANGEDSINCE {since}");
    // Equal passes; 0 fails every entry (mod-sequences are at least 1).
    let top = model.entry(fid(1), 1).map_or(0, |e| e.modseq);
    for (since, op) in
        [(top, FlagOp::Remove(SEEN)), (0, FlagOp::Replace(MessageFlags::all())), (seen, FlagOp::Add(SEEN))]
    {
        let expected = model.set_flags(fid(1), &[1, 2, 3], op, Some(since));
        let got = ok(s.set_flags(fid(1), &[1, 2, 3], op, Some(since)).await, "set_flags");
        assert_eq!(got, expected, "UNCHANGEDSINCE {since} with {op:?}");
    }
    check_mail(&s, &model, "after conditional stores").await;
}

/// Expunge removes the entries named and answers their UIDs ascending; a body
/// goes only when no entry in any folder and no queue entry shows it.
pub async fn mail_expunge_removes_bodies_only_when_unreferenced<H: Harness>(h: &mut H)
where
    H::S: MailStore,
{
    let s = h.fresh().await;
    let mut model = MailModel::default();
    put(&s, &mut model, 1, &[1], NONE).await;
    put(&s, &mut model, 2, &[1], SEEN).await;
    put(&s, &mut model, 3, &[1, 1], NONE).await;
    let sent = delivery(4, vec![entry(1, SEEN, Some(1))], Some(outbound("me@contoso.test", &["you@r.test"])));
    store(&s, &mut model, vec![sent]).await;
    let pairs = ok(s.copy(fid(1), &[1], fid(2), Some(rid(2))).await, "copy");
    model.copied(fid(1), &[1], fid(2), Some(Some(rid(2))), &pairs);
    check_mail(&s, &model, "before expunging").await;
    for uids in [&[5, 99, 1, 2][..], &[3], &[99], &[], &[4]] {
        let expected = model.expunge(fid(1), uids);
        assert_eq!(ok(s.expunge(fid(1), uids).await, "expunge"), expected, "expunge({uids:?})");
        check_mail(&s, &model, &format!("after expunge({uids:?})")).await;
    }
    assert!(ok(s.entries(fid(1)).await, "entries").is_empty(), "every entry of folder 1 is expunged");
    assert_eq!(model.bodies.len(), 2, "the copy and the queue entry keep two bodies: {:?}", model.bodies.keys());
}

/// Copy gives new UIDs that strictly increase above the target's, copies
/// flags, body and INTERNALDATE with a fresh mod-sequence and the creator
/// given; move does the same keeping creators and leaves no source entry.
pub async fn mail_copy_and_move<H: Harness>(h: &mut H)
where
    H::S: MailStore,
{
    let s = h.fresh().await;
    let mut model = MailModel::default();
    for n in 1..=4 {
        put(&s, &mut model, n, &[1], if n % 2 == 0 { SEEN } else { MessageFlags::FLAGGED }).await;
    }
    put(&s, &mut model, 5, &[2], NONE).await;
    let pairs = ok(s.copy(fid(1), &[4, 2, 99, 2], fid(2), None).await, "copy");
    model.copied(fid(1), &[4, 2, 99, 2], fid(2), Some(None), &pairs);
    check_mail(&s, &model, "after a copy").await;
    let pairs = ok(s.copy(fid(1), &[1], fid(1), Some(rid(9))).await, "copy into the same folder");
    model.copied(fid(1), &[1], fid(1), Some(Some(rid(9))), &pairs);
    check_mail(&s, &model, "after a copy into the same folder").await;
    let pairs = ok(s.move_entries(fid(1), &[1, 3, 77], fid(3)).await, "move");
    model.copied(fid(1), &[1, 3, 77], fid(3), None, &pairs);
    for (source, _) in &pairs {
        assert_eq!(ok(s.entry(fid(1), *source).await, "entry"), None, "a moved entry must leave its source");
    }
    check_mail(&s, &model, "after a move").await;
    let pairs = ok(s.move_entries(fid(3), &[], fid(1)).await, "an empty move");
    assert!(pairs.is_empty());
    check_mail(&s, &model, "after an empty move").await;
}

/// A long random run of stores, flag changes, copies, moves and expunges:
/// the store follows the model exactly, so every folder's mod-sequences
/// strictly increase and its highest never decreases; then a reopen keeps it all.
pub async fn mail_folder_operations_follow_the_model<H: Harness>(h: &mut H)
where
    H::S: MailStore,
{
    let mut s = h.fresh().await;
    let mut model = MailModel::default();
    let mut rng = Rng::new(7);
    let flags = [SEEN, MessageFlags::FLAGGED, MessageFlags::DELETED | SEEN, NONE, MessageFlags::all()];
    let mut highest: Vec<u64> = vec![0; 4];
    for step in 0..60_u64 {
        let (a, b) = (fid(rng.below(4)), fid(rng.below(4)));
        let uids: Vec<Uid> = (0..rng.below(4)).map(|_| 1 + rng.below(12) as Uid).collect();
        let bound = rng.below(40);
        let since = rng.pick(&[None, Some(bound)]);
        match rng.below(5) {
            0 => {
                put(&s, &mut model, 100 + step, &[rng.below(4)], rng.pick(&flags)).await;
            }
            1 => {
                let f = rng.pick(&flags);
                let op = rng.pick(&[FlagOp::Add(f), FlagOp::Remove(f), FlagOp::Replace(f)]);
                let expected = model.set_flags(a, &uids, op, since);
                assert_eq!(ok(s.set_flags(a, &uids, op, since).await, "set_flags"), expected, "step {step}");
            }
            2 => {
                let expected = model.expunge(a, &uids);
                assert_eq!(ok(s.expunge(a, &uids).await, "expunge"), expected, "step {step}");
            }
            3 => {
                let pairs = ok(s.copy(a, &uids, b, Some(rid(step))).await, "copy");
                model.copied(a, &uids, b, Some(Some(rid(step))), &pairs);
            }
            _ => {
                let pairs = ok(s.move_entries(a, &uids, b).await, "move");
                model.copied(a, &uids, b, None, &pairs);
            }
        }
        for (n, seen) in highest.iter_mut().enumerate() {
            let now = model.highest.get(&fid(n as u64)).copied().unwrap_or(0);
            assert!(now >= *seen, "step {step}: folder {n}'s highest mod-sequence went down");
            *seen = now;
        }
        if step % 10 == 9 {
            check_mail(&s, &model, &format!("after random step {step}")).await;
        }
    }
    for (folder, entries) in &model.entries {
        let top = model.highest.get(folder).copied().unwrap_or(0);
        assert!(entries.iter().all(|e| e.modseq >= 1 && e.modseq <= top), "{folder:?}: a mod-sequence above {top}");
    }
    s = h.reopen(s).await;
    check_mail(&s, &model, "after the random run and a reopen").await;
    // Mod-sequences continue above the highest after a reopen.
    let Some((folder, list)) = model.entries.iter().find(|(_, l)| !l.is_empty()) else { return };
    let (folder, uid) = (*folder, list[0].uid);
    let expected = model.set_flags(folder, &[uid], FlagOp::Replace(MessageFlags::ANSWERED), None);
    let got = ok(s.set_flags(folder, &[uid], FlagOp::Replace(MessageFlags::ANSWERED), None).await, "set_flags");
    assert_eq!(got, expected, "set_flags after a reopen");
    check_mail(&s, &model, "after changing flags in a reopened store").await;
}

/// The APPEND duplicate check finds an entry of that folder with that
/// Message-ID received at or after `since`, and nothing else.
pub async fn mail_find_by_message_id_respects_since<H: Harness>(h: &mut H)
where
    H::S: MailStore,
{
    let s = h.fresh().await;
    let mut model = MailModel::default();
    put(&s, &mut model, 5, &[1, 2], NONE).await;
    let found = |folder: u64, id: &str, since| {
        let s = &s;
        let id = id.to_owned();
        async move { ok(s.find_by_message_id(fid(folder), &id, since).await, "find_by_message_id") }
    };
    let received = model.entry(fid(1), 1).map(|e| e.internal_date).unwrap_or_default();
    let second = chrono::Duration::seconds(1);
    let hit = found(1, "5@conformance.test", received - second).await;
    assert_eq!(hit, model.entry(fid(1), 1), "received after `since`");
    assert_eq!(found(1, "5@conformance.test", received + second).await, None, "received before `since`");
    assert_eq!(found(1, "6@conformance.test", received - second).await, None, "another Message-ID");
    assert_eq!(found(3, "5@conformance.test", received - second).await, None, "another folder");
    let in_two = found(2, "5@conformance.test", received - second).await;
    assert_eq!(in_two, model.entry(fid(2), 1), "each folder finds its own copy");
}
