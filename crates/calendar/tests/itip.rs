//! iTIP (RFC 5546) processing and builders, with a delegate acting for the
//! manager (spec §10).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed expectation is a failed test")]

use chrono::{TimeZone, Utc};
use deputy_calendar::{
    Calendar, DateTimeValue, Error, IgnoreReason, ItipOutcome, Method, PartStat, Status, StoreChange, cancel, expand,
    free_busy, parse, process, reply, request,
};

/// RFC 5546 §4.2.2 (DTEND corrected), as received by b@example.com.
const REQUEST: &str = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nPRODID:-//Example/ExampleCalendarClient//EN\r\nVERSION:2.0\r\n\
BEGIN:VEVENT\r\nORGANIZER:mailto:a@example.com\r\nATTENDEE;ROLE=CHAIR;PARTSTAT=ACCEPTED:mailto:a@example.com\r\n\
ATTENDEE;RSVP=TRUE;CUTYPE=INDIVIDUAL:mailto:b@example.com\r\nATTENDEE;RSVP=TRUE;CUTYPE=INDIVIDUAL:mailto:c@example.com\r\n\
DTSTAMP:19970611T190000Z\r\nDTSTART:19970701T200000Z\r\nDTEND:19970701T210000Z\r\nSUMMARY:Conference\r\n\
UID:calsrv.example.com-873970198738777@example.com\r\nSEQUENCE:0\r\nSTATUS:CONFIRMED\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

/// RFC 5546 §4.2.3: b accepts.
const REPLY: &str = "BEGIN:VCALENDAR\r\nPRODID:-//Example/ExampleCalendarClient//EN\r\nMETHOD:REPLY\r\nVERSION:2.0\r\n\
BEGIN:VEVENT\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:b@example.com\r\nORGANIZER:mailto:a@example.com\r\n\
UID:calsrv.example.com-873970198738777@example.com\r\nSEQUENCE:0\r\nREQUEST-STATUS:2.0;Success\r\n\
DTSTAMP:19970612T190000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

const UID: &str = "calsrv.example.com-873970198738777@example.com";

fn stored_after(outcome: ItipOutcome) -> Calendar {
    match outcome {
        ItipOutcome::Store { calendar, .. } => calendar,
        other => panic!("expected Store, got {other:?}"),
    }
}

fn organizer_copy() -> Calendar {
    let mut copy = parse(REQUEST).unwrap();
    copy.method = None;
    copy
}

#[test]
fn new_request_is_stored_without_method_and_needs_action_for_the_recipient() {
    let outcome = process(None, &parse(REQUEST).unwrap(), "b@example.com", Some("a@example.com")).unwrap();
    let ItipOutcome::Store { calendar, change, acted_by } = outcome else { panic!() };
    assert_eq!((change, acted_by), (StoreChange::Created, None));
    assert_eq!(calendar.method, None);
    let me = calendar.events[0].attendee("mailto:B@example.com").unwrap();
    assert_eq!(me.partstat, Some(PartStat::NeedsAction));
    // An unanswered invitation is tentative time for the recipient.
    let window =
        (Utc.with_ymd_and_hms(1997, 7, 1, 0, 0, 0).unwrap(), Utc.with_ymd_and_hms(1997, 7, 2, 0, 0, 0).unwrap());
    let fb = free_busy(&calendar, Some("b@example.com"), window.0, window.1, 10);
    assert_eq!(fb.intervals[0].status, deputy_calendar::BusyStatus::Tentative);
}

#[test]
fn older_sequence_is_ignored_and_a_same_sequence_update_keeps_the_answer() {
    let incoming = parse(REQUEST).unwrap();
    let mut stored = stored_after(process(None, &incoming, "b@example.com", None).unwrap());
    stored.events[0].attendee_mut("b@example.com").unwrap().partstat = Some(PartStat::Accepted);
    stored.events[0].sequence = 1;
    assert_eq!(
        process(Some(&stored), &incoming, "b@example.com", None).unwrap(),
        ItipOutcome::Ignored(IgnoreReason::Stale { stored: 1, incoming: 0 })
    );

    let mut same = incoming.clone();
    same.events[0].sequence = 1;
    same.events[0].location = Some("Room 2".into());
    let updated = stored_after(process(Some(&stored), &same, "b@example.com", None).unwrap());
    assert_eq!(updated.events[0].location.as_deref(), Some("Room 2"));
    assert_eq!(updated.events[0].attendee("b@example.com").unwrap().partstat, Some(PartStat::Accepted));

    let mut moved = same.clone();
    moved.events[0].sequence = 2;
    let updated = stored_after(process(Some(&stored), &moved, "b@example.com", None).unwrap());
    assert_eq!(updated.events[0].attendee("b@example.com").unwrap().partstat, Some(PartStat::NeedsAction));
}

#[test]
fn an_update_from_someone_else_is_ignored() {
    let incoming = parse(REQUEST).unwrap();
    let stored = stored_after(process(None, &incoming, "b@example.com", None).unwrap());
    let mut hijack = incoming.clone();
    hijack.events[0].sequence = 5;
    hijack.events[0].organizer.as_mut().unwrap().address = "mallory@example.com".into();
    assert_eq!(
        process(Some(&stored), &hijack, "b@example.com", None).unwrap(),
        ItipOutcome::Ignored(IgnoreReason::NotOrganizer)
    );
    let mut forged = incoming.clone();
    forged.events[0].sequence = 5;
    assert_eq!(
        process(Some(&stored), &forged, "b@example.com", Some("mallory@example.com")).unwrap(),
        ItipOutcome::Ignored(IgnoreReason::SenderMismatch { sender: "mallory@example.com".into() })
    );
}

#[test]
fn reply_updates_the_attendee_on_the_organizers_copy() {
    let outcome =
        process(Some(&organizer_copy()), &parse(REPLY).unwrap(), "a@example.com", Some("b@example.com")).unwrap();
    let ItipOutcome::Store { calendar, change, .. } = outcome else { panic!() };
    assert_eq!(
        change,
        StoreChange::ReplyRecorded { attendee: "b@example.com".into(), partstat: PartStat::Accepted, instance: None }
    );
    assert_eq!(calendar.events[0].attendee("b@example.com").unwrap().partstat, Some(PartStat::Accepted));
}

#[test]
fn reply_from_a_stranger_or_a_forger_changes_nothing() {
    let stranger = REPLY.replace("mailto:b@example.com", "mailto:z@example.com");
    assert_eq!(
        process(Some(&organizer_copy()), &parse(&stranger).unwrap(), "a@example.com", None).unwrap(),
        ItipOutcome::Ignored(IgnoreReason::NotAnAttendee("z@example.com".into()))
    );
    assert_eq!(
        process(Some(&organizer_copy()), &parse(REPLY).unwrap(), "a@example.com", Some("c@example.com")).unwrap(),
        ItipOutcome::Ignored(IgnoreReason::SenderMismatch { sender: "c@example.com".into() })
    );
    assert_eq!(
        process(None, &parse(REPLY).unwrap(), "a@example.com", None).unwrap(),
        ItipOutcome::Ignored(IgnoreReason::UnknownEvent)
    );
}

#[test]
fn delegate_replies_for_the_manager_with_sent_by() {
    // Spec §10: Rob (delegate) accepts Mary's invitation; the reply carries
    // ATTENDEE;SENT-BY=rob and goes out on behalf of Mary.
    let invitation = REQUEST.replace("b@example.com", "mary@contoso.com");
    let marys_copy = stored_after(process(None, &parse(&invitation).unwrap(), "mary@contoso.com", None).unwrap());
    let now = Utc.with_ymd_and_hms(1997, 6, 12, 9, 0, 0).unwrap();
    let answer =
        reply(&marys_copy.events[0], "mary@contoso.com", PartStat::Accepted, Some("rob@contoso.com"), now).unwrap();
    assert_eq!(answer.method, Some(Method::Reply));
    let text = answer.to_ics();
    let unfolded = text.replace("\r\n ", "");
    assert!(
        unfolded.contains("PARTSTAT=ACCEPTED;SENT-BY=\"mailto:rob@contoso.com\":mailto:mary@contoso.com"),
        "{text}"
    );
    assert_eq!(answer.events[0].attendees.len(), 1);

    let mut organizer = parse(&invitation).unwrap();
    organizer.method = None;
    let received = parse(&text).unwrap();
    // The reply goes out `From:` Mary (`Sender:` Rob): from Rob's address
    // alone its SENT-BY would be only his own claim.
    let from_rob = process(Some(&organizer), &received, "a@example.com", Some("rob@contoso.com")).unwrap();
    assert_eq!(from_rob, ItipOutcome::Ignored(IgnoreReason::SenderMismatch { sender: "rob@contoso.com".into() }));
    let outcome = process(Some(&organizer), &received, "a@example.com", Some("mary@contoso.com")).unwrap();
    let ItipOutcome::Store { calendar, acted_by, .. } = outcome else { panic!() };
    assert_eq!(acted_by.as_deref(), Some("rob@contoso.com"), "the core checks Rob's right");
    let mary = calendar.events[0].attendee("mary@contoso.com").unwrap();
    assert_eq!((mary.partstat.clone(), mary.sent_by.as_deref()), (Some(PartStat::Accepted), Some("rob@contoso.com")));

    let not_invited = reply(&marys_copy.events[0], "rob@contoso.com", PartStat::Accepted, None, now);
    assert!(matches!(not_invited, Err(Error::Itip(_))));
}

const SERIES: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:weekly\r\nSEQUENCE:3\r\n\
DTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Paris:20260105T100000\r\nDTEND;TZID=Europe/Paris:20260105T110000\r\n\
RRULE:FREQ=WEEKLY;COUNT=4\r\nSUMMARY:Staff\r\nORGANIZER:mailto:mary@contoso.com\r\n\
ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@contoso.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

fn paris(d: u32) -> DateTimeValue {
    DateTimeValue::Zoned {
        local: chrono::NaiveDate::from_ymd_opt(2026, 1, d).unwrap().and_hms_opt(10, 0, 0).unwrap(),
        tzid: "Europe/Paris".into(),
    }
}

#[test]
fn delegate_cancels_one_instance_and_the_attendee_copy_marks_it() {
    let marys = parse(SERIES).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 1, 2, 0, 0, 0).unwrap();
    let message = cancel(&marys, "weekly", Some(&paris(12)), Some("rob@contoso.com"), now).unwrap();
    assert_eq!(message.method, Some(Method::Cancel));
    let cancelled = &message.events[0];
    assert_eq!((cancelled.sequence, cancelled.status), (4, Some(Status::Cancelled)));
    assert_eq!(cancelled.recurrence_id.as_ref().unwrap().value, paris(12));
    assert_eq!(cancelled.organizer.as_ref().unwrap().sent_by.as_deref(), Some("rob@contoso.com"));

    let bobs = parse(SERIES).unwrap();
    let received = parse(&message.to_ics()).unwrap();
    // Sent `From:` Mary (`Sender:` Rob), as the core's pipeline sends it.
    let outcome = process(Some(&bobs), &received, "bob@contoso.com", Some("mary@contoso.com")).unwrap();
    let ItipOutcome::Store { calendar, change, acted_by } = outcome else { panic!() };
    assert_eq!(change, StoreChange::Cancelled { instances: vec![paris(12)] });
    assert_eq!(acted_by.as_deref(), Some("rob@contoso.com"));
    let from = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let to = Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap();
    let x = expand(&calendar, "weekly", from, to, 10).unwrap();
    assert_eq!(x.occurrences.len(), 4);
    let fb = free_busy(&calendar, Some("bob@contoso.com"), from, to, 10);
    assert_eq!(fb.intervals.len(), 3, "the cancelled instance is no longer busy time");
}

#[test]
fn cancel_of_the_series_cancels_every_component() {
    let marys = parse(SERIES).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 1, 2, 0, 0, 0).unwrap();
    let message = cancel(&marys, "weekly", None, None, now).unwrap();
    let received = parse(&message.to_ics()).unwrap();
    let calendar = stored_after(process(Some(&marys), &received, "bob@contoso.com", Some("mary@contoso.com")).unwrap());
    assert!(calendar.events.iter().all(|e| e.status == Some(Status::Cancelled)));
    let stale = stored_after(process(Some(&marys), &received, "bob@contoso.com", None).unwrap());
    assert_eq!(
        process(
            Some(&stale),
            &parse(SERIES.replace("VERSION:2.0", "METHOD:REQUEST").as_str()).unwrap(),
            "bob@contoso.com",
            None
        )
        .unwrap(),
        ItipOutcome::Ignored(IgnoreReason::Stale { stored: 4, incoming: 3 })
    );
}

#[test]
fn reply_for_one_instance_creates_an_override_on_the_organizers_copy() {
    let marys = parse(SERIES).unwrap();
    let bobs_instance = marys.events[0].instance_at(&paris(19));
    let now = Utc.with_ymd_and_hms(2026, 1, 3, 0, 0, 0).unwrap();
    let answer = reply(&bobs_instance, "bob@contoso.com", PartStat::Declined, None, now).unwrap();
    let calendar = stored_after(process(Some(&marys), &answer, "mary@contoso.com", None).unwrap());
    assert_eq!(calendar.events.len(), 2);
    let instance = &calendar.events[1];
    assert_eq!(instance.recurrence_id.as_ref().unwrap().value, paris(19));
    assert_eq!(instance.attendee("bob@contoso.com").unwrap().partstat, Some(PartStat::Declined));
    assert_eq!(calendar.events[0].attendee("bob@contoso.com").unwrap().partstat, Some(PartStat::NeedsAction));
}

#[test]
fn request_builder_sets_method_organizer_sent_by_and_dtstamp() {
    let marys = parse(SERIES).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 1, 2, 8, 0, 0).unwrap();
    let message = request(&marys, "weekly", Some("rob@contoso.com"), now).unwrap();
    let text = message.to_ics();
    assert!(text.contains("METHOD:REQUEST\r\n"));
    assert!(text.contains("ORGANIZER;SENT-BY=\"mailto:rob@contoso.com\":mailto:mary@contoso.com"), "{text}");
    assert!(text.contains("DTSTAMP:20260102T080000Z"));
    let mut lonely = marys.clone();
    lonely.events[0].attendees.clear();
    assert!(matches!(request(&lonely, "weekly", None, now), Err(Error::Itip(_))));
    assert_eq!(request(&marys, "nope", None, now), Err(Error::UnknownUid("nope".into())));
}

#[test]
fn counter_refresh_and_declinecounter_are_reported() {
    let counter = REPLY.replace("METHOD:REPLY", "METHOD:COUNTER");
    assert!(matches!(
        process(Some(&organizer_copy()), &parse(&counter).unwrap(), "a@example.com", None).unwrap(),
        ItipOutcome::Counter { from, .. } if from == "b@example.com"
    ));
    let refresh = REPLY.replace("METHOD:REPLY", "METHOD:REFRESH");
    assert_eq!(
        process(Some(&organizer_copy()), &parse(&refresh).unwrap(), "a@example.com", None).unwrap(),
        ItipOutcome::Refresh { from: "b@example.com".into(), uid: UID.into() }
    );
    let decline = REPLY.replace("METHOD:REPLY", "METHOD:DECLINECOUNTER");
    assert_eq!(
        process(None, &parse(&decline).unwrap(), "b@example.com", None).unwrap(),
        ItipOutcome::DeclineCounter { uid: UID.into() }
    );
}

#[test]
fn messages_without_method_or_with_two_uids_are_errors() {
    assert!(matches!(process(None, &organizer_copy(), "b@example.com", None), Err(Error::Itip(_))));
    let mut two = parse(REQUEST).unwrap();
    let mut other = two.events[0].clone();
    other.uid = "other".into();
    two.events.push(other);
    assert!(matches!(process(None, &two, "b@example.com", None), Err(Error::Itip(_))));
}
