//! iCalendar parse and write: RFC 5545 and RFC 5546 example objects, errors
//! that name the line and property, and the limits.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed expectation is a failed test")]

use deputy_calendar::{
    Class, CuType, DateTimeValue, Error, Limits, Method, PartStat, Role, Status, Transparency, ingest, parse,
    parse_with,
};

/// RFC 5545 §4, first example (note the folded DESCRIPTION).
pub const RFC5545_CONFERENCE: &str = "BEGIN:VCALENDAR\r
PRODID:-//xyz Corp//NONSGML PDA Calendar Version 1.0//EN\r
VERSION:2.0\r
BEGIN:VEVENT\r
DTSTAMP:19960704T120000Z\r
UID:uid1@example.com\r
ORGANIZER:mailto:jsmith@example.com\r
DTSTART:19960918T143000Z\r
DTEND:19960920T220000Z\r
STATUS:CONFIRMED\r
CATEGORIES:CONFERENCE\r
SUMMARY:Networld+Interop Conference\r
DESCRIPTION:Networld+Interop Conference\r
  and Exhibit\\nAtlanta World Congress Center\\n\r
 Atlanta\\, Georgia\r
END:VEVENT\r
END:VCALENDAR\r
";

/// RFC 5545 §4, second example: VTIMEZONE and a zoned meeting.
pub const RFC5545_XYZ_REVIEW: &str = "BEGIN:VCALENDAR\r
PRODID:-//RDU Software//NONSGML HandCal//EN\r
VERSION:2.0\r
BEGIN:VTIMEZONE\r
TZID:America/New_York\r
BEGIN:STANDARD\r
DTSTART:19981025T020000\r
TZOFFSETFROM:-0400\r
TZOFFSETTO:-0500\r
TZNAME:EST\r
END:STANDARD\r
BEGIN:DAYLIGHT\r
DTSTART:19990404T020000\r
TZOFFSETFROM:-0500\r
TZOFFSETTO:-0400\r
TZNAME:EDT\r
END:DAYLIGHT\r
END:VTIMEZONE\r
BEGIN:VEVENT\r
DTSTAMP:19980309T231000Z\r
UID:guid-1.example.com\r
ORGANIZER;ROLE=CHAIR:mailto:mrbig@example.com\r
ATTENDEE;RSVP=TRUE;ROLE=REQ-PARTICIPANT;CUTYPE=GROUP:\r
 mailto:employee-A@example.com\r
DESCRIPTION:Project XYZ Review Meeting\r
CATEGORIES:MEETING\r
CLASS:PUBLIC\r
CREATED:19980309T130000Z\r
SUMMARY:XYZ Project Review\r
DTSTART;TZID=America/New_York:19980312T083000\r
DTEND;TZID=America/New_York:19980312T093000\r
LOCATION:1CP Conference Room 4350\r
END:VEVENT\r
END:VCALENDAR\r
";

/// RFC 5546 §4.2.2, a group event request (the RFC's `DTEND:19970701T2100000Z`
/// has one digit too many; fixed here).
pub const RFC5546_GROUP_REQUEST: &str = "BEGIN:VCALENDAR\r
METHOD:REQUEST\r
PRODID:-//Example/ExampleCalendarClient//EN\r
VERSION:2.0\r
BEGIN:VEVENT\r
ORGANIZER:mailto:a@example.com\r
ATTENDEE;ROLE=CHAIR;PARTSTAT=ACCEPTED:mailto:a@example.com\r
ATTENDEE;RSVP=TRUE;CUTYPE=INDIVIDUAL:mailto:b@example.com\r
ATTENDEE;RSVP=TRUE;CUTYPE=INDIVIDUAL:mailto:c@example.com\r
ATTENDEE;RSVP=TRUE;CUTYPE=INDIVIDUAL:mailto:d@example.com\r
ATTENDEE;RSVP=FALSE;CUTYPE=ROOM:conf_Big@example.com\r
ATTENDEE;ROLE=NON-PARTICIPANT;RSVP=FALSE:mailto:e@example.com\r
DTSTAMP:19970611T190000Z\r
DTSTART:19970701T200000Z\r
DTEND:19970701T210000Z\r
SUMMARY:Conference\r
UID:calsrv.example.com-873970198738777@example.com\r
SEQUENCE:0\r
STATUS:CONFIRMED\r
END:VEVENT\r
END:VCALENDAR\r
";

#[test]
fn rfc5545_conference_example_reads_with_unfolding_and_escapes() {
    let calendar = parse(RFC5545_CONFERENCE).unwrap();
    assert_eq!(calendar.method, None);
    let event = &calendar.events[0];
    assert_eq!(event.uid, "uid1@example.com");
    assert_eq!(event.organizer.as_ref().unwrap().address, "jsmith@example.com");
    assert_eq!(event.status, Some(Status::Confirmed));
    assert_eq!(
        event.description.as_deref(),
        Some("Networld+Interop Conference and Exhibit\nAtlanta World Congress Center\nAtlanta, Georgia")
    );
    assert_eq!(event.extra[0].name, "CATEGORIES", "unmodelled properties are kept");
    assert_eq!(calendar.raw(), Some(RFC5545_CONFERENCE));
}

#[test]
fn rfc5545_review_example_keeps_the_time_zone_and_attendee_parameters() {
    let calendar = parse(RFC5545_XYZ_REVIEW).unwrap();
    assert_eq!(calendar.timezones.len(), 1);
    assert_eq!(calendar.timezones[0].children.len(), 2);
    let event = &calendar.events[0];
    assert!(matches!(&event.start, Some(DateTimeValue::Zoned { tzid, .. }) if tzid == "America/New_York"));
    let attendee = &event.attendees[0];
    assert_eq!(attendee.address, "employee-A@example.com");
    assert_eq!(attendee.role, Some(Role::ReqParticipant));
    assert_eq!(attendee.cutype, Some(CuType::Group));
    assert!(attendee.rsvp);
    assert_eq!(event.class, Some(Class::Public));
    assert_eq!(event.location.as_deref(), Some("1CP Conference Room 4350"));
}

#[test]
fn rfc5546_request_reads_method_roles_and_rooms() {
    let calendar = parse(RFC5546_GROUP_REQUEST).unwrap();
    assert_eq!(calendar.method, Some(Method::Request));
    let event = &calendar.events[0];
    assert_eq!(event.attendees.len(), 6);
    assert_eq!(event.attendees[0].partstat, Some(PartStat::Accepted));
    assert_eq!(event.attendees[4].cutype, Some(CuType::Room));
    assert_eq!(event.attendees[4].address, "conf_Big@example.com");
    assert_eq!(event.attendees[5].role, Some(Role::NonParticipant));
}

#[test]
fn written_examples_read_back_the_same() {
    for text in [RFC5545_CONFERENCE, RFC5545_XYZ_REVIEW, RFC5546_GROUP_REQUEST] {
        let first = parse(text).unwrap();
        let written = first.to_ics();
        let second = parse(&written).unwrap();
        assert_eq!(first, second, "{written}");
        assert_eq!(written, second.to_ics());
        assert!(written.split("\r\n").all(|l| l.len() <= 75), "{written}");
    }
}

#[test]
fn sent_by_transparency_and_private_class_are_modelled() {
    let text = "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:x\nDTSTART:20260101T090000Z\n\
        ORGANIZER;CN=Mary;SENT-BY=\"mailto:rob@contoso.com\":mailto:mary@contoso.com\n\
        ATTENDEE;PARTSTAT=TENTATIVE;SENT-BY=\"mailto:rob@contoso.com\":mailto:mary@contoso.com\n\
        CLASS:PRIVATE\nTRANSP:TRANSPARENT\nX-CUSTOM;X-P=1:kept\nEND:VEVENT\nEND:VCALENDAR\n";
    let event = &parse(text).unwrap().events[0];
    let organizer = event.organizer.as_ref().unwrap();
    assert_eq!((organizer.cn.as_deref(), organizer.sent_by.as_deref()), (Some("Mary"), Some("rob@contoso.com")));
    assert_eq!(event.attendees[0].sent_by.as_deref(), Some("rob@contoso.com"));
    assert_eq!(event.attendees[0].partstat, Some(PartStat::Tentative));
    assert!(event.is_private());
    assert_eq!(event.transparency, Some(Transparency::Transparent));
    assert!(event.to_component().properties.iter().any(|p| p.name == "X-CUSTOM" && p.param("X-P") == Some("1")));
}

#[test]
fn errors_name_the_line_and_property() {
    let bad_date = "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:x\nDTSTART:2026-01-01\nEND:VEVENT\nEND:VCALENDAR\n";
    assert_eq!(parse(bad_date).unwrap_err().to_string(), "line 5: property DTSTART: bad DATE-TIME \"2026-01-01\"");
    let no_colon = "BEGIN:VCALENDAR\nVERSION 2.0\nEND:VCALENDAR\n";
    assert_eq!(parse(no_colon).unwrap_err(), Error::Syntax { line: 2, reason: "content line without ':'".into() });
    let unclosed = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:x\n";
    assert_eq!(parse(unclosed).unwrap_err().to_string(), "line 2: BEGIN:VEVENT is never closed");
    let no_uid = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20260101T000000Z\nEND:VEVENT\nEND:VCALENDAR\n";
    assert_eq!(parse(no_uid).unwrap_err().to_string(), "VEVENT at line 2: missing required property UID");
    let bad_method = "BEGIN:VCALENDAR\nMETHOD:SHOUT\nEND:VCALENDAR\n";
    assert_eq!(parse(bad_method).unwrap_err().to_string(), "line 2: property METHOD: unknown method \"SHOUT\"");
    assert!(matches!(parse(""), Err(Error::Syntax { .. })));
    assert!(matches!(parse("BEGIN:VCARD\nEND:VCARD\n"), Err(Error::Syntax { .. })));
}

#[test]
fn too_many_attendees_is_a_clear_error() {
    let mut text = String::from("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:big\r\nDTSTART:20260101T090000Z\r\n");
    for i in 0..1_001 {
        text.push_str(&format!("ATTENDEE:mailto:user{i}@example.com\r\n"));
    }
    text.push_str("END:VEVENT\r\nEND:VCALENDAR\r\n");
    let err = parse(&text).unwrap_err();
    assert_eq!(err.to_string(), "attendees of the VEVENT at line 2: more than 1000");
}

#[test]
fn size_components_and_depth_are_capped() {
    let huge = vec![b'A'; (1 << 20) + 1];
    assert_eq!(ingest(&huge).unwrap_err(), Error::TooLarge { size: (1 << 20) + 1, limit: 1 << 20 });
    let limits = Limits { max_components: 3, ..Limits::default() };
    let text = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:1\nEND:VEVENT\nBEGIN:VEVENT\nUID:2\nEND:VEVENT\nBEGIN:VEVENT\nUID:3\nEND:VEVENT\nEND:VCALENDAR\n";
    assert_eq!(parse_with(text, &limits).unwrap_err().to_string(), "components: more than 3");
    let deep = format!("BEGIN:VCALENDAR\n{}", "BEGIN:X\n".repeat(20));
    assert!(matches!(parse(&deep), Err(Error::Limit { .. })));
}

#[test]
fn ingest_refuses_what_a_mailbox_should_not_store() {
    assert!(matches!(ingest(b"\xff\xfe"), Err(Error::NotUtf8 { offset: 0 })));
    let secondly = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:s\nDTSTART:20260101T000000Z\nRRULE:FREQ=SECONDLY\nEND:VEVENT\nEND:VCALENDAR\n";
    let err = ingest(secondly.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("sub-daily rule"), "{err}");
    let no_start = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:s\nEND:VEVENT\nEND:VCALENDAR\n";
    assert!(matches!(ingest(no_start.as_bytes()), Err(Error::Missing { property: "DTSTART", .. })));
    let with_bom = format!("\u{feff}{RFC5545_CONFERENCE}");
    assert!(ingest(with_bom.as_bytes()).is_ok());
}
