use super::*;
use crate::NewEntry;
use uuid::Uuid;

fn folder(n: u128) -> FolderId {
    FolderId(Uuid::from_u128(n))
}

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).expect("a valid time")
}

fn delivery(folders: &[FolderId], outbound: Option<&[&str]>) -> Delivery {
    Delivery {
        raw: b"Subject: hi\r\n\r\nbody\r\n".to_vec(),
        received: at(1_700_000_000),
        message_id: Some("m@example.com".to_owned()),
        entries: folders
            .iter()
            .map(|f| NewEntry { folder: *f, flags: MessageFlags::SEEN, creator: Some(RecipientId(Uuid::from_u128(9))) })
            .collect(),
        outbound: outbound.map(|rs| NewOutbound {
            mail_from: "a@example.com".to_owned(),
            recipients: rs.iter().map(|r| (*r).to_owned()).collect(),
        }),
    }
}

fn states(folders: &[(FolderId, i64, i64)]) -> FolderStates {
    let mut states = FolderStates::new();
    for (f, uidnext, highest_modseq) in folders {
        states.insert(*f, FolderCounters { uidnext: *uidnext, highest_modseq: *highest_modseq });
    }
    states
}

#[test]
fn entries_take_uids_and_modseqs_in_batch_order() {
    let (a, b) = (folder(1), folder(2));
    let batch = [delivery(&[a, b], None), delivery(&[b], None), delivery(&[a], None)];
    let plan = DeliveryPlan::new(&batch).expect("storable");
    assert_eq!(plan.folders(), vec![a, b]);
    let mut st = states(&[(a, 1, 1), (b, 7, 20)]);
    let planned = plan.assign(&mut st).expect("numbers left");
    let numbers: Vec<Vec<(FolderId, Uid, i64)>> =
        planned.iter().map(|p| p.entries.iter().map(|e| (e.folder, e.uid, e.modseq)).collect()).collect();
    assert_eq!(numbers, vec![vec![(a, 1, 2), (b, 7, 21)], vec![(b, 8, 22)], vec![(a, 2, 3)]]);
    assert!(st.changed());
    assert_eq!(
        st.iter().collect::<Vec<_>>(),
        vec![
            (a, FolderCounters { uidnext: 3, highest_modseq: 3 }),
            (b, FolderCounters { uidnext: 9, highest_modseq: 22 })
        ]
    );
}

#[test]
fn the_body_is_planned_once_with_its_queue_entry() {
    let a = folder(1);
    let batch = [delivery(&[a], Some(&["x@remote.example", "y@remote.example"]))];
    let planned = DeliveryPlan::new(&batch).expect("storable").assign(&mut states(&[(a, 5, 5)])).expect("numbers");
    let [p] = planned.as_slice() else { panic!("one delivery, one plan: {planned:?}") };
    assert_eq!(p.size as usize, batch[0].raw.len());
    let queue = p.queue.as_ref().expect("remote recipients are queued");
    assert_eq!(queue.mail_from, "a@example.com");
    assert_eq!(queue.recipients.len(), 2);
    assert!(queue.recipients.iter().all(|r| r.status == RecipientStatus::Pending { last_error: None }));
    let row = p.entry_row(&p.entries[0], 42);
    assert_eq!((row.blob, row.size, row.flags, row.received), (42, p.size, MessageFlags::SEEN, batch[0].received));
    assert_eq!(row.message_id, Some("m@example.com"));
    let stored = p.stored(42, Some(3)).expect("valid ids");
    assert_eq!(stored, Stored { blob: BlobId(42), uids: vec![(a, 5)], queued: Some(QueueId(3)) });
    assert!(matches!(p.stored(-1, None), Err(StoreError::Corrupt(_))));
    assert!(matches!(p.stored(1, Some(-1)), Err(StoreError::Corrupt(_))));
}

#[test]
fn a_queue_only_delivery_takes_no_folder_state() {
    let batch = [delivery(&[], Some(&["x@remote.example"]))];
    let plan = DeliveryPlan::new(&batch).expect("storable");
    assert!(plan.folders().is_empty());
    let mut st = FolderStates::new();
    let planned = plan.assign(&mut st).expect("nothing to number");
    assert!(planned[0].entries.is_empty() && planned[0].queue.is_some());
    assert!(!st.changed());
}

#[test]
fn unstorable_deliveries_are_refused_before_anything_is_read() {
    let a = folder(1);
    let nothing = delivery(&[], None);
    let no_recipients = delivery(&[a], Some(&[]));
    for bad in [nothing, no_recipients] {
        let batch = [delivery(&[a], None), bad];
        assert!(matches!(DeliveryPlan::new(&batch), Err(StoreError::Backend(_))));
    }
}

#[test]
fn exhausted_or_corrupt_counters_fail() {
    let a = folder(1);
    let full = i64::from(Uid::MAX) + 1;
    let cases = [(full, 1, "every UID"), (1, i64::MAX, "every mod-sequence"), (0, 1, "is 0")];
    for (uidnext, highest, says) in cases {
        let mut st = states(&[(a, uidnext, highest)]);
        let err = st.next_uid(a).expect_err("no number left");
        assert!(err.to_string().contains(says), "{err}");
    }
    let mut st = states(&[(a, 1, i64::MAX)]);
    assert!(st.next_modseq(a).is_err());
    // A folder whose state was never read has no numbers to give.
    assert!(FolderStates::new().next_uid(a).is_err());
}

#[test]
fn next_modseq_raises_the_highest_only() {
    let a = folder(1);
    let mut st = states(&[(a, 4, 10)]);
    assert_eq!(st.next_modseq(a).expect("left"), 11);
    assert_eq!(st.next_modseq(a).expect("left"), 12);
    assert_eq!(st.iter().next(), Some((a, FolderCounters { uidnext: 4, highest_modseq: 12 })));
    assert!(st.has(a) && !st.has(folder(2)));
}
