//! iTIP messages that try to change a calendar they have no say in: a
//! `SENT-BY` the sender wrote about herself, a CANCEL naming no organizer,
//! a REQUEST for the UID of someone's own appointment. Each is ignored.

#![allow(clippy::unwrap_used, reason = "tests: a failed expectation is a failed test")]

use deputy_calendar::{Calendar, IgnoreReason, ItipOutcome, Method, parse, process};

/// RFC 5546 §4.2.2, as received by b@example.com.
const REQUEST: &str = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nPRODID:-//Example//EN\r\nVERSION:2.0\r\n\
BEGIN:VEVENT\r\nORGANIZER:mailto:a@example.com\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:a@example.com\r\n\
ATTENDEE;RSVP=TRUE:mailto:b@example.com\r\nATTENDEE;RSVP=TRUE:mailto:c@example.com\r\n\
DTSTAMP:19970611T190000Z\r\nDTSTART:19970701T200000Z\r\nDTEND:19970701T210000Z\r\nSUMMARY:Conference\r\n\
UID:conf-1@example.com\r\nSEQUENCE:0\r\nSTATUS:CONFIRMED\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

/// b@example.com's copy, as delivery stored it.
fn bs_copy() -> Calendar {
    match process(None, &parse(REQUEST).unwrap(), "b@example.com", Some("a@example.com")).unwrap() {
        ItipOutcome::Store { calendar, .. } => calendar,
        other => panic!("expected Store, got {other:?}"),
    }
}

fn mismatch(sender: &str) -> ItipOutcome {
    ItipOutcome::Ignored(IgnoreReason::SenderMismatch { sender: sender.into() })
}

#[test]
fn an_organizer_sent_by_naming_the_sender_does_not_let_her_update_or_cancel() {
    // c, a fellow attendee, claims to act for the organizer.
    let forged = REQUEST
        .replace("ORGANIZER:mailto:a@", "ORGANIZER;SENT-BY=\"mailto:c@example.com\":mailto:a@")
        .replace("SEQUENCE:0", "SEQUENCE:3")
        .replace("SUMMARY:Conference", "SUMMARY:Moved to my place");
    let update = parse(&forged).unwrap();
    assert_eq!(
        process(Some(&bs_copy()), &update, "b@example.com", Some("c@example.com")).unwrap(),
        mismatch("c@example.com")
    );
    let mut cancel = update.clone();
    cancel.method = Some(Method::Cancel);
    assert_eq!(
        process(Some(&bs_copy()), &cancel, "b@example.com", Some("c@example.com")).unwrap(),
        mismatch("c@example.com")
    );
}

#[test]
fn a_cancel_naming_no_organizer_cancels_nothing() {
    let mut cancel = parse(REQUEST).unwrap();
    cancel.method = Some(Method::Cancel);
    cancel.events[0].organizer = None;
    cancel.events[0].sequence = 9;
    for sender in [None, Some("c@example.com"), Some("a@example.com")] {
        assert_eq!(
            process(Some(&bs_copy()), &cancel, "b@example.com", sender).unwrap(),
            ItipOutcome::Ignored(IgnoreReason::NotOrganizer),
            "{sender:?}"
        );
    }
}

#[test]
fn a_reply_whose_sent_by_names_the_sender_is_not_the_attendees_answer() {
    let mut organizers = parse(REQUEST).unwrap();
    organizers.method = None;
    let forged = "BEGIN:VCALENDAR\r\nPRODID:-//X//EN\r\nMETHOD:REPLY\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\n\
ATTENDEE;PARTSTAT=DECLINED;SENT-BY=\"mailto:c@example.com\":mailto:b@example.com\r\n\
ORGANIZER:mailto:a@example.com\r\nUID:conf-1@example.com\r\nSEQUENCE:0\r\nDTSTAMP:19970612T190000Z\r\n\
END:VEVENT\r\nEND:VCALENDAR\r\n";
    let outcome = process(Some(&organizers), &parse(forged).unwrap(), "a@example.com", Some("c@example.com"));
    assert_eq!(outcome.unwrap(), mismatch("c@example.com"));
}

#[test]
fn a_request_for_the_uid_of_an_own_appointment_does_not_take_it_over() {
    // b's own appointment (no ORGANIZER) whose UID someone learned.
    let mut own = bs_copy();
    for e in &mut own.events {
        e.organizer = None;
        e.attendees.clear();
    }
    let mut update = parse(REQUEST).unwrap();
    update.events[0].sequence = 5;
    for method in [Method::Request, Method::Cancel] {
        update.method = Some(method);
        assert_eq!(
            process(Some(&own), &update, "b@example.com", Some("a@example.com")).unwrap(),
            ItipOutcome::Ignored(IgnoreReason::NotOrganizer),
            "{method:?}"
        );
    }
}
