//! Recurrence expansion: RFC 5545 §3.8.5.3 examples, time zones across DST,
//! overrides, and the bounds that keep pathological rules cheap.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed expectation is a failed test")]

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use deputy_calendar::{Error, expand, parse};

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn wrap(event: &str) -> String {
    format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{event}END:VCALENDAR\r\n")
}

fn starts(text: &str, uid: &str, from: DateTime<Utc>, to: DateTime<Utc>, max: usize) -> Vec<DateTime<Utc>> {
    let calendar = parse(text).unwrap();
    expand(&calendar, uid, from, to, max).unwrap().occurrences.iter().map(|o| o.start).collect()
}

#[test]
fn daily_for_ten_occurrences_in_new_york_rfc5545() {
    // RFC 5545 §3.8.5.3: "Daily for 10 occurrences".
    let text = wrap(
        "BEGIN:VEVENT\r\nUID:d10\r\nDTSTAMP:19970901T000000Z\r\nDTSTART;TZID=America/New_York:19970902T090000\r\n\
         DURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=10\r\nEND:VEVENT\r\n",
    );
    let got = starts(&text, "d10", utc(1997, 1, 1, 0, 0), utc(1998, 1, 1, 0, 0), 100);
    let want: Vec<_> = (2..=11).map(|d| utc(1997, 9, d, 13, 0)).collect();
    assert_eq!(got, want);
}

#[test]
fn wall_clock_time_is_kept_across_the_dst_change() {
    // 1997-10-26 02:00 EDT → EST: 09:00 local is 13:00Z before, 14:00Z after.
    let text = wrap(
        "BEGIN:VEVENT\r\nUID:dst\r\nDTSTART;TZID=America/New_York:19971025T090000\r\n\
         DTEND;TZID=America/New_York:19971025T100000\r\nRRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\n",
    );
    let calendar = parse(&text).unwrap();
    let x = expand(&calendar, "dst", utc(1997, 10, 1, 0, 0), utc(1997, 11, 1, 0, 0), 10).unwrap();
    let got: Vec<_> = x.occurrences.iter().map(|o| (o.start, o.end)).collect();
    assert_eq!(
        got,
        vec![
            (utc(1997, 10, 25, 13, 0), utc(1997, 10, 25, 14, 0)),
            (utc(1997, 10, 26, 14, 0), utc(1997, 10, 26, 15, 0)),
            (utc(1997, 10, 27, 14, 0), utc(1997, 10, 27, 15, 0)),
        ]
    );
}

#[test]
fn vtimezone_with_a_windows_name_is_matched_to_its_zone() {
    // Outlook writes TZID "W. Europe Standard Time" with a VTIMEZONE.
    let text = wrap(
        "BEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\nBEGIN:STANDARD\r\nDTSTART:16010101T030000\r\n\
         TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\n\
         BEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n\
         RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n\
         BEGIN:VEVENT\r\nUID:w\r\nDTSTART;TZID=W. Europe Standard Time:20260105T100000\r\nDURATION:PT30M\r\n\
         RRULE:FREQ=MONTHLY;BYMONTHDAY=5;COUNT=8\r\nEND:VEVENT\r\n",
    );
    let got = starts(&text, "w", utc(2026, 1, 1, 0, 0), utc(2027, 1, 1, 0, 0), 100);
    assert_eq!(got.len(), 8);
    assert_eq!(got[0], utc(2026, 1, 5, 9, 0), "CET is UTC+1");
    assert_eq!(got[4], utc(2026, 5, 5, 8, 0), "CEST is UTC+2");
}

#[test]
fn exdate_rdate_and_overrides_shape_the_series() {
    let text = wrap(
        "BEGIN:VEVENT\r\nUID:s\r\nDTSTART:20260105T090000Z\r\nDTEND:20260105T100000Z\r\n\
         RRULE:FREQ=WEEKLY;COUNT=4\r\nEXDATE:20260112T090000Z\r\nRDATE:20260110T120000Z\r\nSUMMARY:Weekly\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:s\r\nRECURRENCE-ID:20260119T090000Z\r\nSEQUENCE:2\r\nDTSTART:20260119T150000Z\r\n\
         DTEND:20260119T160000Z\r\nSUMMARY:Moved\r\nEND:VEVENT\r\n",
    );
    let calendar = parse(&text).unwrap();
    let x = expand(&calendar, "s", utc(2026, 1, 1, 0, 0), utc(2026, 3, 1, 0, 0), 100).unwrap();
    let got: Vec<_> = x.occurrences.iter().map(|o| (o.start, o.overridden)).collect();
    assert_eq!(
        got,
        vec![
            (utc(2026, 1, 5, 9, 0), false),
            (utc(2026, 1, 10, 12, 0), false),
            (utc(2026, 1, 19, 15, 0), true),
            (utc(2026, 1, 26, 9, 0), false),
        ]
    );
    assert_eq!(calendar.events[x.occurrences[2].event].summary.as_deref(), Some("Moved"));
    assert!(!x.truncated);
}

#[test]
fn endless_rule_is_cut_at_the_window_and_at_max_instances() {
    let text = wrap(
        "BEGIN:VEVENT\r\nUID:e\r\nDTSTART:20000103T090000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=DAILY\r\nEND:VEVENT\r\n",
    );
    let calendar = parse(&text).unwrap();
    let x = expand(&calendar, "e", utc(2026, 3, 1, 0, 0), utc(2026, 3, 8, 0, 0), 100).unwrap();
    assert_eq!(x.occurrences.len(), 7);
    assert_eq!(x.occurrences[0].start, utc(2026, 3, 1, 9, 0));
    assert!(!x.truncated);
    let x = expand(&calendar, "e", utc(2026, 3, 1, 0, 0), utc(2026, 4, 1, 0, 0), 5).unwrap();
    assert_eq!(x.occurrences.len(), 5);
    assert!(x.truncated);
}

#[test]
fn all_day_events_and_occurrences_overlapping_the_window_start() {
    let text =
        wrap("BEGIN:VEVENT\r\nUID:a\r\nDTSTART;VALUE=DATE:20260301\r\nDTEND;VALUE=DATE:20260303\r\nEND:VEVENT\r\n");
    let calendar = parse(&text).unwrap();
    let x = expand(&calendar, "a", utc(2026, 3, 2, 12, 0), utc(2026, 3, 10, 0, 0), 10).unwrap();
    assert_eq!(x.occurrences.len(), 1);
    assert_eq!((x.occurrences[0].start, x.occurrences[0].end), (utc(2026, 3, 1, 0, 0), utc(2026, 3, 3, 0, 0)));
}

#[test]
fn secondly_rule_finishes_quickly_and_says_it_was_truncated() {
    let text = wrap("BEGIN:VEVENT\r\nUID:p\r\nDTSTART:20000101T000000Z\r\nRRULE:FREQ=SECONDLY\r\nEND:VEVENT\r\n");
    let calendar = parse(&text).unwrap();
    let started = Instant::now();
    let x = expand(&calendar, "p", utc(2026, 1, 1, 0, 0), utc(2026, 1, 2, 0, 0), 1000).unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert!(x.truncated);
    assert!(x.occurrences.is_empty(), "50,000 seconds from 2000 never reach 2026");
}

#[test]
fn rule_whose_parts_never_match_finishes_in_bounded_time() {
    // February 30th never exists.
    let text = wrap(
        "BEGIN:VEVENT\r\nUID:n\r\nDTSTART:20260101T090000Z\r\nRRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30\r\nEND:VEVENT\r\n",
    );
    let calendar = parse(&text).unwrap();
    let started = Instant::now();
    let result = expand(&calendar, "n", utc(2026, 1, 1, 0, 0), utc(2100, 1, 1, 0, 0), 100);
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    match result {
        Ok(x) => assert!(x.occurrences.iter().all(|o| o.start == utc(2026, 1, 1, 9, 0))),
        Err(e) => assert!(matches!(e, Error::Recurrence { .. }), "{e}"),
    }
}

#[test]
fn unknown_uid_and_reversed_window_are_errors() {
    let text = wrap("BEGIN:VEVENT\r\nUID:x\r\nDTSTART:20260101T090000Z\r\nEND:VEVENT\r\n");
    let calendar = parse(&text).unwrap();
    assert_eq!(
        expand(&calendar, "y", utc(2026, 1, 1, 0, 0), utc(2026, 2, 1, 0, 0), 1),
        Err(Error::UnknownUid("y".into()))
    );
    assert!(expand(&calendar, "x", utc(2026, 2, 1, 0, 0), utc(2026, 1, 1, 0, 0), 1).is_err());
}

#[test]
fn times_in_a_dst_gap_move_forward_and_overlaps_take_the_first_instant() {
    // 2026-03-08 02:30 does not exist in New York; 2026-11-01 01:30 exists twice.
    let text = wrap(
        "BEGIN:VEVENT\r\nUID:g\r\nDTSTART;TZID=America/New_York:20260307T023000\r\nDURATION:PT15M\r\n\
         RRULE:FREQ=DAILY;COUNT=2\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:o\r\nDTSTART;TZID=America/New_York:20261101T013000\r\nDURATION:PT15M\r\n\
         RRULE:FREQ=DAILY;COUNT=1\r\nEND:VEVENT\r\n",
    );
    let gap = starts(&text, "g", utc(2026, 3, 1, 0, 0), utc(2026, 3, 10, 0, 0), 10);
    assert_eq!(gap, vec![utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7, 30)], "02:30 EST, then 03:30 EDT");
    let overlap = starts(&text, "o", utc(2026, 10, 1, 0, 0), utc(2026, 12, 1, 0, 0), 10);
    assert_eq!(overlap, vec![utc(2026, 11, 1, 5, 30)], "01:30 EDT, the first of the two");
}

#[test]
fn extreme_windows_do_not_panic() {
    let text = wrap(
        "BEGIN:VEVENT\r\nUID:e\r\nDTSTART;TZID=Asia/Tokyo:20260101T090000\r\nRRULE:FREQ=YEARLY\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:f\r\nDTSTART:99991231T230000Z\r\nDURATION:PT2H\r\nRRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\n",
    );
    let calendar = parse(&text).unwrap();
    for uid in ["e", "f"] {
        let x = expand(&calendar, uid, DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, 20).unwrap();
        assert!(!x.occurrences.is_empty());
    }
}

#[test]
fn the_step_bound_keeps_a_whole_time_expansion_fast() {
    // The worst a caller can ask of one series: an endless rule over all time.
    let text = wrap(
        "BEGIN:VEVENT\r\nUID:w\r\nDTSTART;TZID=America/New_York:19900101T090000\r\nDURATION:PT1H\r\n\
         RRULE:FREQ=DAILY\r\nEND:VEVENT\r\n",
    );
    let calendar = parse(&text).unwrap();
    let started = Instant::now();
    let x = expand(&calendar, "w", DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, 10).unwrap();
    assert!(x.truncated && x.occurrences.len() == 10);
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
}
