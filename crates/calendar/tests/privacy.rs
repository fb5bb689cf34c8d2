//! What viewers see (spec §5 calendar roles, §10 private items) and
//! free/busy.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed expectation is a failed test")]

use chrono::{DateTime, TimeZone, Utc};
use deputy_calendar::{BusyInterval, BusyStatus, PRIVATE_SUBJECT, Viewer, Visibility, free_busy, parse, project};

fn utc(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap()
}

const CALENDAR: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n\
BEGIN:VEVENT\r\nUID:public\r\nDTSTART:20260302T090000Z\r\nDTEND:20260302T100000Z\r\nSUMMARY:Budget review\r\n\
LOCATION:Room 1\r\nDESCRIPTION:Numbers\r\nORGANIZER:mailto:mary@contoso.com\r\nATTENDEE:mailto:bob@contoso.com\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:private\r\nDTSTART:20260302T120000Z\r\nDTEND:20260302T130000Z\r\nSUMMARY:Doctor\r\n\
LOCATION:Clinic\r\nCLASS:PRIVATE\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:free\r\nDTSTART:20260302T140000Z\r\nDTEND:20260302T150000Z\r\nSUMMARY:Reading\r\nTRANSP:TRANSPARENT\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:invite\r\nDTSTART:20260303T090000Z\r\nDTEND:20260303T100000Z\r\nSUMMARY:Offsite\r\n\
ORGANIZER:mailto:bob@contoso.com\r\nATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:mary@contoso.com\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:declined\r\nDTSTART:20260303T110000Z\r\nDTEND:20260303T120000Z\r\n\
ORGANIZER:mailto:bob@contoso.com\r\nATTENDEE;PARTSTAT=DECLINED:mailto:mary@contoso.com\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:cancelled\r\nDTSTART:20260303T130000Z\r\nDTEND:20260303T140000Z\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:oof\r\nDTSTART;VALUE=DATE:20260304\r\nDTEND;VALUE=DATE:20260305\r\nX-MICROSOFT-CDO-BUSYSTATUS:OOF\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";

fn event(uid: &str) -> deputy_calendar::Event {
    parse(CALENDAR).unwrap().events.into_iter().find(|e| e.uid == uid).unwrap()
}

#[test]
fn private_event_without_private_access_is_busy_time_named_private_appointment() {
    // Spec §10: "otherwise private items show only free/busy time".
    let reviewer = Viewer { visibility: Visibility::Full, can_view_private: false };
    let shown = project(&event("private"), &reviewer).unwrap();
    assert_eq!(shown.summary.as_deref(), Some(PRIVATE_SUBJECT));
    assert_eq!((&shown.location, &shown.description), (&None, &None));
    assert!(shown.components.is_empty(), "alarms are the owner's");
    assert!(shown.start.is_some() && shown.end.is_some());
    assert!(shown.is_private(), "the client can show the lock");
}

#[test]
fn delegate_with_can_view_private_items_sees_the_private_event() {
    let delegate = Viewer { visibility: Visibility::Full, can_view_private: true };
    assert_eq!(project(&event("private"), &delegate), Some(event("private")));
    assert_eq!(project(&event("private"), &Viewer::owner()), Some(event("private")));
}

#[test]
fn limited_details_shows_subject_and_location_only() {
    let limited = Viewer { visibility: Visibility::Limited, can_view_private: false };
    let shown = project(&event("public"), &limited).unwrap();
    assert_eq!((shown.summary.as_deref(), shown.location.as_deref()), (Some("Budget review"), Some("Room 1")));
    assert_eq!(shown.description, None);
    assert!(shown.organizer.is_none() && shown.attendees.is_empty());
    let private = project(&event("private"), &limited).unwrap();
    assert_eq!((private.summary.as_deref(), private.location), (Some(PRIVATE_SUBJECT), None));
}

#[test]
fn availability_only_shows_time_and_none_shows_nothing() {
    let free_busy_viewer = Viewer { visibility: Visibility::FreeBusy, can_view_private: false };
    let shown = project(&event("public"), &free_busy_viewer).unwrap();
    assert_eq!((shown.summary, shown.location, shown.class), (None, None, None));
    assert_eq!(shown.start, event("public").start);
    let shown = project(&event("private"), &free_busy_viewer).unwrap();
    assert_eq!((shown.summary, shown.class), (None, None), "not even that it is private");
    let nobody = Viewer { visibility: Visibility::None, can_view_private: true };
    assert_eq!(project(&event("public"), &nobody), None);
}

#[test]
fn free_busy_reports_status_and_leaves_out_cancelled_and_declined() {
    let calendar = parse(CALENDAR).unwrap();
    let fb = free_busy(&calendar, Some("mary@contoso.com"), utc(1, 0), utc(10, 0), 100);
    assert!(fb.failed.is_empty() && !fb.truncated);
    assert_eq!(
        fb.intervals,
        vec![
            BusyInterval { start: utc(2, 9), end: utc(2, 10), status: BusyStatus::Busy },
            BusyInterval { start: utc(2, 12), end: utc(2, 13), status: BusyStatus::Busy },
            BusyInterval { start: utc(2, 14), end: utc(2, 15), status: BusyStatus::Free },
            BusyInterval { start: utc(3, 9), end: utc(3, 10), status: BusyStatus::Tentative },
            BusyInterval { start: utc(4, 0), end: utc(5, 0), status: BusyStatus::OutOfOffice },
        ]
    );
}

#[test]
fn free_busy_keeps_going_past_a_broken_series() {
    let text = CALENDAR.replace(
        "END:VCALENDAR",
        "BEGIN:VEVENT\r\nUID:broken\r\nDTSTART:20260301T000000Z\r\nRRULE:FREQ=DAILY;BYMONTHDAY=99\r\nEND:VEVENT\r\nEND:VCALENDAR",
    );
    let calendar = parse(&text).unwrap();
    let fb = free_busy(&calendar, None, utc(1, 0), utc(10, 0), 100);
    assert_eq!(fb.failed.len(), 1, "{:?}", fb.failed);
    assert_eq!(fb.failed[0].0, "broken");
    assert_eq!(fb.intervals.len(), 6, "without an owner the declined one counts; the cancelled one never");
}
