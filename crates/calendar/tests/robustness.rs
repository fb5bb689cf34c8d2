//! Hostile and random input: nothing panics, valid calendars round-trip,
//! and the ingestion path answers huge or endless input with clear errors
//! in bounded time.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed expectation is a failed test")]

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use deputy_calendar::{
    Attendee, Calendar, Class, DateTimeValue, Error, Event, Method, Organizer, PartStat, RecurrenceRule, Status,
    Viewer, Visibility, expand, extract, free_busy, ingest, parse, process, project,
};
use proptest::prelude::*;

const SEED: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nMETHOD:REQUEST\r\n\
BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\n\
TZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n\
BEGIN:VEVENT\r\nUID:m\r\nSEQUENCE:1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Paris:20260105T100000\r\n\
DTEND;TZID=Europe/Paris:20260105T110000\r\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=20\r\nEXDATE;TZID=Europe/Paris:20260107T100000\r\n\
SUMMARY:Staff\\, weekly\r\nORGANIZER;CN=\"Mary, M\";SENT-BY=\"mailto:rob@x.com\":mailto:mary@x.com\r\n\
ATTENDEE;PARTSTAT=ACCEPTED;ROLE=CHAIR;CN=Bob:mailto:bob@x.com\r\nCLASS:PRIVATE\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\n\
TRIGGER:-PT5M\r\nEND:VALARM\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:m\r\nRECURRENCE-ID;TZID=Europe/Paris:20260112T100000\r\n\
DTSTART;TZID=Europe/Paris:20260112T150000\r\nDURATION:PT2H\r\nSTATUS:TENTATIVE\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

fn window() -> (DateTime<Utc>, DateTime<Utc>) {
    (Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(), Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap())
}

/// Everything downstream of a successful parse, which must not panic either.
fn exercise(calendar: &Calendar) {
    let (from, to) = window();
    for uid in calendar.uids() {
        let _ = expand(calendar, uid, from, to, 50);
    }
    let _ = free_busy(calendar, Some("bob@x.com"), from, to, 50);
    for event in &calendar.events {
        let _ = project(event, &Viewer { visibility: Visibility::Limited, can_view_private: false });
    }
    let _ = process(Some(calendar), calendar, "bob@x.com", Some("mary@x.com"));
}

fn round_trips(calendar: &Calendar) {
    let written = calendar.to_ics();
    let again = parse(&written).unwrap_or_else(|e| panic!("{e}\n{written}"));
    assert_eq!(&again, calendar, "{written}");
    assert_eq!(again.to_ics(), written);
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
    DuplicateLine(usize),
    Flip(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0usize..40).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (
            any::<usize>(),
            prop::collection::vec(
                prop_oneof![any::<u8>(), Just(b':'), Just(b';'), Just(b'\n'), Just(b' '), Just(b'"'), Just(b'\\')],
                0..12
            )
        )
            .prop_map(|(a, b)| Mutation::Insert(a, b)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Mutation::Flip(a, b)),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len().max(1);
        match m {
            Mutation::Delete(at, n) => {
                let at = at % len;
                let end = (at + n).min(bytes.len());
                if at < end {
                    bytes.drain(at..end);
                }
            }
            Mutation::Insert(at, new) => {
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, new.iter().copied());
            }
            Mutation::DuplicateLine(at) => {
                let lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
                let i = at % lines.len();
                let mut out = Vec::new();
                for (j, line) in lines.iter().enumerate() {
                    out.extend_from_slice(line);
                    out.push(b'\n');
                    if j == i {
                        out.extend_from_slice(line);
                        out.push(b'\n');
                    }
                }
                bytes = out;
            }
            Mutation::Flip(at, b) => {
                if !bytes.is_empty() {
                    let at = at % bytes.len();
                    bytes[at] = *b;
                }
            }
        }
    }
    bytes
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            any::<char>().prop_filter("no CR", |c| *c != '\r'),
            Just(','),
            Just(';'),
            Just('\\'),
            Just('\n'),
            Just(':')
        ],
        0..30,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn param_text() -> impl Strategy<Value = String> {
    text().prop_map(|s| s.chars().filter(|c| *c != '"' && !c.is_control()).collect())
}

fn address() -> impl Strategy<Value = String> {
    "[a-z]{1,8}@[a-z]{1,8}\\.com"
}

fn date_time() -> impl Strategy<Value = DateTimeValue> {
    (1990i32..2040, 1u32..13, 1u32..29, 0u32..24, 0u32..60, 0u8..4).prop_map(|(y, mo, d, h, mi, form)| {
        let date = NaiveDate::from_ymd_opt(y, mo, d).unwrap();
        let local = date.and_hms_opt(h, mi, 0).unwrap();
        match form {
            0 => DateTimeValue::Date(date),
            1 => DateTimeValue::Floating(local),
            2 => DateTimeValue::Utc(local.and_utc()),
            _ => DateTimeValue::Zoned { local, tzid: "America/New_York".into() },
        }
    })
}

fn event() -> impl Strategy<Value = Event> {
    (
        "[A-Za-z0-9@.-]{1,20}",
        0u32..5,
        prop::option::of(text()),
        prop::option::of(text()),
        date_time(),
        prop::option::of(1i64..100_000),
        prop::option::of(prop_oneof![
            Just("FREQ=DAILY;COUNT=5"),
            Just("FREQ=WEEKLY;BYDAY=MO,FR"),
            Just("FREQ=MONTHLY;BYMONTHDAY=-1;INTERVAL=2")
        ]),
        prop::collection::vec(
            (address(), prop::option::of(param_text()), 0u8..6, any::<bool>(), prop::option::of(address())),
            0..5,
        ),
        prop::option::of((address(), prop::option::of(param_text()))),
        prop::option::of(prop_oneof![Just(Class::Public), Just(Class::Private), Just(Class::Confidential)]),
        prop::option::of(prop_oneof![Just(Status::Tentative), Just(Status::Confirmed), Just(Status::Cancelled)]),
    )
        .prop_map(
            |(uid, sequence, summary, location, start, seconds, rule, attendees, organizer, class, status)| Event {
                uid,
                sequence,
                summary,
                location,
                start: Some(start),
                duration: seconds.map(chrono::TimeDelta::seconds),
                rrule: rule.map(|r| RecurrenceRule::parse(r).unwrap()),
                attendees: attendees
                    .into_iter()
                    .map(|(address, cn, p, rsvp, sent_by)| Attendee {
                        address,
                        cn,
                        partstat: [
                            None,
                            Some(PartStat::Accepted),
                            Some(PartStat::Declined),
                            Some(PartStat::Tentative),
                            Some(PartStat::NeedsAction),
                            Some(PartStat::Other("X-MAYBE".into())),
                        ][p as usize]
                            .clone(),
                        rsvp,
                        sent_by,
                        ..Attendee::default()
                    })
                    .collect(),
                organizer: organizer.map(|(address, cn)| Organizer { address, cn, ..Organizer::default() }),
                class,
                status,
                ..Event::default()
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(calendar) = ingest(&bytes) {
            exercise(&calendar);
        }
        let _ = parse(&String::from_utf8_lossy(&bytes));
        let _ = extract(&bytes);
    }

    #[test]
    fn mutated_calendars_never_panic_and_what_parses_round_trips(mutations in prop::collection::vec(mutation(), 1..6)) {
        let bytes = apply(SEED.as_bytes().to_vec(), &mutations);
        if let Ok(calendar) = ingest(&bytes) {
            exercise(&calendar);
            for uid in calendar.uids() {
                let _ = expand(&calendar, uid, DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, 5);
            }
            round_trips(&calendar);
        }
    }

    #[test]
    fn generated_calendars_round_trip(events in prop::collection::vec(event(), 1..4), method in prop::option::of(0usize..3)) {
        let mut calendar = Calendar::new(method.map(|m| [Method::Request, Method::Reply, Method::Cancel][m]));
        calendar.events = events;
        round_trips(&calendar);
        exercise(&calendar);
    }
}

#[test]
fn seed_calendar_round_trips() {
    let calendar = parse(SEED).unwrap();
    round_trips(&calendar);
    let (from, to) = window();
    let x = expand(&calendar, "m", from, to, 100).unwrap();
    assert_eq!(
        x.occurrences.len(),
        15,
        "16 Mondays and Wednesdays in the window, one EXDATE; the override replaces its instance"
    );
}

/// A small deterministic generator, so the fuzz-style test needs no seed file.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() as usize) % items.len()]
    }
}

#[test]
fn ingestion_of_huge_and_endless_input_is_bounded_and_clear() {
    let started = Instant::now();

    // A meeting for the whole company: 5,000 attendees in well under 1 MiB.
    let mut big = String::from(
        "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:all-hands\r\nDTSTART:20260101T090000Z\r\n",
    );
    for i in 0..5_000 {
        big.push_str(&format!("ATTENDEE;RSVP=TRUE:mailto:u{i}@contoso.com\r\n"));
    }
    big.push_str("END:VEVENT\r\nEND:VCALENDAR\r\n");
    let err = ingest(big.as_bytes()).unwrap_err();
    assert!(matches!(&err, Error::Limit { limit: 1_000, .. }), "{err}");
    assert!(err.to_string().contains("attendees"), "{err}");

    // One attendee repeated until the input is over the size cap.
    let line = "ATTENDEE:mailto:x@contoso.com\r\n";
    let huge = format!("BEGIN:VCALENDAR\r\n{}", line.repeat((1 << 20) / line.len() + 1));
    assert!(matches!(ingest(huge.as_bytes()), Err(Error::TooLarge { .. })));

    // Thousands of components, and deep nesting.
    let many = format!(
        "BEGIN:VCALENDAR\r\n{}END:VCALENDAR\r\n",
        "BEGIN:VEVENT\r\nUID:x\r\nDTSTART:20260101T000000Z\r\nEND:VEVENT\r\n".repeat(2_000)
    );
    assert!(matches!(ingest(many.as_bytes()), Err(Error::Limit { limit: 1_000, .. })));
    let deep = format!("BEGIN:VCALENDAR\r\n{}", "BEGIN:VEVENT\r\n".repeat(10_000));
    assert!(matches!(ingest(deep.as_bytes()), Err(Error::Limit { .. })));

    // Endless and pathological rules: ingest refuses the sub-daily ones; the
    // others expand within the bounds.
    let mut rng = Lcg(0x5eed);
    let freqs = ["SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"];
    let parts = [
        "",
        ";BYMONTH=2;BYMONTHDAY=30",
        ";BYDAY=-53MO",
        ";BYSETPOS=-366",
        ";BYYEARDAY=366",
        ";BYWEEKNO=53;BYDAY=SU",
        ";INTERVAL=65535",
        ";BYHOUR=25",
        ";BYMONTHDAY=31;BYMONTH=4,6,9,11",
        ";COUNT=4294967295",
        ";BYSECOND=0,1,2,3,4,5,6,7,8,9",
        ";UNTIL=99991231T235959Z",
        ";WKST=SU;BYDAY=1MO,2TU,3WE,-1FR",
    ];
    let (from, to) =
        (Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(), Utc.with_ymd_and_hms(2036, 1, 1, 0, 0, 0).unwrap());
    let mut refused = 0;
    let mut expanded = 0;
    for i in 0..120 {
        let freq = rng.pick(&freqs);
        let rule = format!("FREQ={freq}{}{}", rng.pick(&parts), rng.pick(&parts));
        let start = rng.pick(&["19000101T000000Z", "20260101T090000", "20251231", "20260301T023000"]);
        let (start_prop, tz) =
            if start.len() == 8 { ("DTSTART;VALUE=DATE", "") } else { ("DTSTART", ";TZID=America/New_York") };
        let tz = if start.ends_with('Z') { "" } else { tz };
        let ics = format!(
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:r{i}\r\n{start_prop}{tz}:{start}\r\nRRULE:{rule}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        );
        let one = Instant::now();
        match ingest(ics.as_bytes()) {
            Ok(calendar) => {
                let _ = expand(&calendar, &format!("r{i}"), from, to, 500);
                expanded += 1;
            }
            Err(e) => {
                assert!(matches!(e, Error::Recurrence { .. } | Error::Property { .. }), "{rule}: unexpected {e}");
                refused += 1;
            }
        }
        assert!(one.elapsed() < Duration::from_secs(2), "{rule} took {:?}", one.elapsed());
    }
    assert!(refused > 0 && expanded > 0, "refused {refused}, expanded {expanded}");
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
}
