//! Bounded recurrence expansion (RFC 5545 §3.8.5) on `calcard`'s RRULE
//! engine, in UTC instants.
//!
//! Bounds, so that no rule costs more than a fixed amount of work:
//! - an endless rule (no COUNT/UNTIL) gets an UNTIL just past the window;
//! - the engine stops after [`MAX_EXPANSION_STEPS`] instances from DTSTART
//!   (reported as `truncated`), and itself gives up a rule whose BYxxx parts
//!   match nothing after 100,000 candidate steps;
//! - at most `max_instances` occurrences are returned (`truncated` again).

use calcard::common::timezone::Tz;
use calcard::icalendar::{ICalendar, ICalendarComponentType, dates::TimeOrDelta};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

use crate::model::{Calendar, Event, RecurrenceId};
use crate::value::{DateTimeValue, RecurrenceRule};
use crate::{Error, Result};

/// Instances generated from DTSTART before expansion stops (an hourly rule
/// reaches ~5.7 years, a daily one ~137 years).
pub const MAX_EXPANSION_STEPS: usize = 50_000;

/// One instance of an event, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Occurrence {
    /// Start instant.
    pub start: DateTime<Utc>,
    /// End instant (exclusive; equal to `start` for a zero-length event).
    pub end: DateTime<Utc>,
    /// Index in `Calendar::events` of the component describing it: the
    /// master, or the override carrying its RECURRENCE-ID.
    pub event: usize,
    /// True when an overriding component describes this instance.
    pub overridden: bool,
    /// The instant the rule gave this instance (its RECURRENCE-ID): equal
    /// to `start` unless an override moved it. It names the instance
    /// however often it is moved.
    pub original: DateTime<Utc>,
}

/// The instances of one series in a window.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expansion {
    /// Occurrences overlapping the window, by start.
    pub occurrences: Vec<Occurrence>,
    /// True when a bound cut the result (`max_instances` or
    /// [`MAX_EXPANSION_STEPS`]): more instances may exist in the window.
    pub truncated: bool,
}

/// Expands the series `uid` of `calendar` over `[window_start, window_end)`:
/// RRULE, RDATE, EXDATE and overridden instances (RECURRENCE-ID components
/// of the same UID), time zones from TZID (IANA or Windows names, or a
/// VTIMEZONE matched by name, X-LIC-LOCATION or X-MICROSOFT-CDO-TZID).
/// Floating times and all-day dates are read on the UTC clock.
pub fn expand(
    calendar: &Calendar,
    uid: &str,
    window_start: DateTime<Utc>,
    window_end: DateTime<Utc>,
    max_instances: usize,
) -> Result<Expansion> {
    let error = |reason: String| Error::Recurrence { uid: uid.to_owned(), reason };
    if window_end <= window_start {
        return Err(error("the window ends before it starts".into()));
    }
    let members: Vec<usize> =
        calendar.events.iter().enumerate().filter(|(_, e)| e.uid == uid).map(|(i, _)| i).collect();
    let master = members.iter().copied().find(|&i| calendar.events[i].recurrence_id.is_none());
    if members.is_empty() {
        return Err(Error::UnknownUid(uid.to_owned()));
    }
    if master.is_some_and(|i| calendar.events[i].start.is_none()) {
        return Err(Error::Missing { component: format!("VEVENT {uid:?}"), property: "DTSTART" });
    }
    with_clock(calendar, uid, |clock| {
        expand_on(calendar, &members, master, (window_start, window_end), max_instances, clock).map_err(error)
    })
}

/// The instance of the series `uid` whose RECURRENCE-ID is `original`
/// (an override where it now is, or the rule's own instance), if the
/// series has one there: how one occurrence is found by its id.
pub fn instance(calendar: &Calendar, uid: &str, original: DateTime<Utc>) -> Result<Option<Occurrence>> {
    // An override may have moved anywhere: look where its DTSTART is.
    let at = with_clock(calendar, uid, |clock| {
        calendar
            .events
            .iter()
            .filter(|e| e.uid == uid)
            .find(|e| e.recurrence_id.as_ref().is_some_and(|r| clock.instant(&r.value) == original))
            .and_then(|e| e.start.as_ref())
            .map(|start| clock.instant(start))
    })
    .unwrap_or(original);
    let end = at.checked_add_signed(Duration::seconds(1)).unwrap_or(at);
    let x = expand(calendar, uid, at, end, usize::MAX)?;
    Ok(x.occurrences.into_iter().find(|o| o.original == original && o.start == at))
}

/// An instant in the form of the master's DTSTART (a date, floating, UTC or
/// on the master's zone clock): how a RECURRENCE-ID or EXDATE for that
/// instance is written (RFC 5545 §3.8.4.4 and §3.8.5.1 want DTSTART's type).
pub fn instance_value(calendar: &Calendar, uid: &str, at: DateTime<Utc>) -> Option<DateTimeValue> {
    let start = calendar.master(uid)?.start.as_ref()?;
    with_clock(calendar, uid, |clock| {
        let local = clock.wall_time(at);
        Some(match start {
            DateTimeValue::Date(_) => DateTimeValue::Date(local.date()),
            DateTimeValue::Floating(_) => DateTimeValue::Floating(local),
            DateTimeValue::Utc(_) => DateTimeValue::Utc(at),
            DateTimeValue::Zoned { tzid, .. } => DateTimeValue::Zoned { local, tzid: tzid.clone() },
        })
    })
}

/// Runs `f` with the wall clock of the series `uid`'s master.
fn with_clock<R>(calendar: &Calendar, uid: &str, f: impl FnOnce(&WallClock<'_>) -> R) -> R {
    // The engine reads wall-clock times only: every value is moved to the
    // master's zone and made floating, expanded there, and each instance is
    // placed on the UTC line here. That keeps DST right (RFC 5545 §3.3.5:
    // the first instant of an overlap, a time in a gap moved forward by the
    // gap), which the engine itself gets wrong for such times.
    let mut zones_only = Calendar::new(None);
    zones_only.timezones.clone_from(&calendar.timezones);
    let zones_text = zones_only.to_ics();
    let zones = ICalendar::parse(&zones_text).unwrap_or_default();
    let resolver = zones.build_tz_resolver();
    let resolve = |tzid: &str| resolver.resolve(tzid);
    let master_zone = calendar.master(uid).and_then(|m| match &m.start {
        Some(DateTimeValue::Zoned { tzid, .. }) => resolve(tzid),
        _ => None,
    });
    f(&WallClock { zone: master_zone, resolve: &resolve })
}

/// [`expand`] once the series' components and clock are known.
fn expand_on(
    calendar: &Calendar,
    members: &[usize],
    master: Option<usize>,
    (window_start, window_end): (DateTime<Utc>, DateTime<Utc>),
    max_instances: usize,
    clock: &WallClock<'_>,
) -> std::result::Result<Expansion, String> {
    // SEQUENCE is left out because the engine pairs an override with its
    // master only when both carry the same one.
    let mut feed = Calendar::new(None);
    let mut fed: Vec<usize> = Vec::new();
    for &i in master.iter().chain(members.iter().filter(|&&i| Some(i) != master)) {
        let event = &calendar.events[i];
        feed.events.push(timing_only(event, Some(i) == master, window_end, clock));
        fed.push(i);
    }
    let text = feed.to_ics();
    let ical = ICalendar::parse(&text).map_err(|e| format!("the expansion engine refused the series: {e:?}"))?;
    let component_to_event: Vec<Option<usize>> = {
        let mut next = fed.iter();
        ical.components
            .iter()
            .map(|c| if c.component_type == ICalendarComponentType::VEvent { next.next().copied() } else { None })
            .collect()
    };
    let expanded = ical.expand_dates(Tz::Floating, MAX_EXPANSION_STEPS);
    if let Some(failure) = expanded.errors.first() {
        return Err(failure.error.to_string());
    }

    let mut generated = 0usize;
    let mut occurrences = Vec::new();
    for item in &expanded.events {
        let Some(&Some(event)) = component_to_event.get(item.comp_id as usize) else { continue };
        let overridden = Some(event) != master;
        if !overridden {
            generated += 1;
        }
        let start_utc = clock.to_utc(item.start.naive_local());
        let end_utc = match item.end {
            TimeOrDelta::Time(end) => clock.to_utc(end.naive_local()),
            TimeOrDelta::Delta(delta) => start_utc.checked_add_signed(delta).unwrap_or(start_utc),
        }
        .max(start_utc);
        let overlaps = if end_utc == start_utc {
            start_utc >= window_start && start_utc < window_end
        } else {
            start_utc < window_end && end_utc > window_start
        };
        let original = match &calendar.events[event].recurrence_id {
            Some(rid) if overridden => clock.instant(&rid.value),
            _ => start_utc,
        };
        if overlaps {
            occurrences.push(Occurrence { start: start_utc, end: end_utc, event, overridden, original });
        }
    }
    occurrences.sort();
    occurrences.dedup();
    let skipped = master.map_or(0, |i| calendar.events[i].exdates.len()) + members.len();
    let mut truncated = generated + skipped >= MAX_EXPANSION_STEPS;
    if occurrences.len() > max_instances {
        occurrences.truncate(max_instances);
        truncated = true;
    }
    Ok(Expansion { occurrences, truncated })
}

/// The master's zone, and how other TZIDs are found.
struct WallClock<'a> {
    zone: Option<Tz>,
    resolve: &'a dyn Fn(&str) -> Option<Tz>,
}

impl WallClock<'_> {
    /// A wall-clock time in the master's zone as an instant (UTC when the
    /// master is floating, all-day or in UTC).
    fn to_utc(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let Some(zone) = self.zone else { return local.and_utc() };
        zone.from_local_datetime(&local)
            .earliest()
            .or_else(|| zone.from_local_datetime(&local.checked_add_signed(Duration::hours(1))?).earliest())
            .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
    }

    /// Any value as an instant, read on its own zone's clock (the master's
    /// for floating values and dates).
    fn instant(&self, value: &DateTimeValue) -> DateTime<Utc> {
        self.to_utc(self.floating(value).naive())
    }

    /// An instant on the master's wall clock.
    fn wall_time(&self, instant: DateTime<Utc>) -> NaiveDateTime {
        match self.zone {
            Some(zone) => instant.with_timezone(&zone).naive_local(),
            None => instant.naive_utc(),
        }
    }

    /// Any value as a floating (or date) value on the master's wall clock.
    fn floating(&self, value: &DateTimeValue) -> DateTimeValue {
        match value {
            DateTimeValue::Date(_) | DateTimeValue::Floating(_) => value.clone(),
            DateTimeValue::Utc(t) => DateTimeValue::Floating(self.wall_time(*t)),
            DateTimeValue::Zoned { local, tzid } => match (self.resolve)(tzid) {
                Some(zone) if Some(zone) != self.zone => {
                    let instant = zone.from_local_datetime(local).earliest().map(|t| t.with_timezone(&Utc));
                    DateTimeValue::Floating(instant.map_or(*local, |t| self.wall_time(t)))
                }
                _ => DateTimeValue::Floating(*local),
            },
        }
    }

    /// An RRULE with its UNTIL on the master's wall clock, and an UNTIL a
    /// day past the window when it has no bound (so the engine stops there).
    fn rule(&self, rule: &RecurrenceRule, all_day: bool, window_end: DateTime<Utc>) -> RecurrenceRule {
        let wire = |value: DateTimeValue| match (all_day, value) {
            (true, v) => v.naive().format("%Y%m%d").to_string(),
            (false, DateTimeValue::Date(d)) => format!("{}T235959", d.format("%Y%m%d")),
            (false, v) => v.naive().format("%Y%m%dT%H%M%S").to_string(),
        };
        let mut parts: Vec<String> = rule
            .raw
            .split(';')
            .filter(|p| !p.is_empty() && !p.to_ascii_uppercase().starts_with("UNTIL="))
            .map(str::to_owned)
            .collect();
        let until = match &rule.until {
            Some(until) => Some(self.floating(until)),
            None if rule.count.is_none() => {
                // A day of margin for zone offsets, but never past what a
                // 4-digit year can write (a caller may pass a far-future end).
                let latest =
                    NaiveDate::from_ymd_opt(9999, 12, 30).map_or(window_end, |d| d.and_time(NaiveTime::MIN).and_utc());
                let until = window_end.checked_add_signed(Duration::days(1)).unwrap_or(window_end).min(latest);
                Some(DateTimeValue::Floating(self.wall_time(until)))
            }
            None => None,
        };
        if let Some(until) = until {
            parts.push(format!("UNTIL={}", wire(until)));
        }
        RecurrenceRule { raw: parts.join(";"), ..rule.clone() }
    }
}

/// A copy of `event` with only what decides its instants, on the master's
/// wall clock.
fn timing_only(event: &Event, is_master: bool, window_end: DateTime<Utc>, clock: &WallClock<'_>) -> Event {
    let all_day = event.start.as_ref().is_some_and(DateTimeValue::is_date);
    let rrule = event.rrule.as_ref().filter(|_| is_master).map(|r| clock.rule(r, all_day, window_end));
    let floating = |values: &[DateTimeValue]| values.iter().map(|v| clock.floating(v)).collect();
    Event {
        uid: event.uid.clone(),
        recurrence_id: event
            .recurrence_id
            .as_ref()
            .map(|r| RecurrenceId { value: clock.floating(&r.value), this_and_future: r.this_and_future }),
        start: event.start.as_ref().map(|v| clock.floating(v)),
        end: event.end.as_ref().map(|v| clock.floating(v)),
        duration: event.duration,
        rrule,
        rdates: if is_master { floating(&event.rdates) } else { Vec::new() },
        exdates: if is_master { floating(&event.exdates) } else { Vec::new() },
        extra: event.extra.iter().filter(|p| is_master && p.name == "RDATE").cloned().collect(),
        ..Event::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(y, m, d).and_then(|d| d.and_hms_opt(h, 0, 0)).map(|t| t.and_utc()).unwrap_or_default()
    }

    fn calendar(events: &str) -> Calendar {
        let text = format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\n{events}END:VCALENDAR\r\n");
        parse(&text).unwrap_or_default()
    }

    fn starts(calendar: &Calendar, uid: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        expand(calendar, uid, from, to, 100)
            .map(|x| x.occurrences.iter().map(|o| o.start).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_moved_override_is_found_by_its_recurrence_id() {
        let c = calendar(
            "BEGIN:VEVENT\r\nUID:s\r\nDTSTART:20260105T090000Z\r\nDTEND:20260105T100000Z\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:s\r\nRECURRENCE-ID:20260119T090000Z\r\nDTSTART:20260120T150000Z\r\nDTEND:20260120T160000Z\r\nEND:VEVENT\r\n",
        );
        let moved = instance(&c, "s", utc(2026, 1, 19, 9)).ok().flatten();
        assert_eq!(
            moved.map(|o| (o.start, o.overridden, o.original)),
            Some((utc(2026, 1, 20, 15), true, utc(2026, 1, 19, 9)))
        );
        let plain = instance(&c, "s", utc(2026, 1, 12, 9)).ok().flatten();
        assert_eq!(
            plain.map(|o| (o.start, o.overridden, o.original)),
            Some((utc(2026, 1, 12, 9), false, utc(2026, 1, 12, 9)))
        );
        // The moved start is no instance of the rule, and 10:00 is no instance at all.
        assert_eq!(instance(&c, "s", utc(2026, 1, 20, 15)).ok().flatten(), None);
        assert_eq!(instance(&c, "s", utc(2026, 1, 12, 10)).ok().flatten(), None);
    }

    #[test]
    fn instance_values_take_the_form_of_dtstart_and_exclude_by_exdate() {
        let mut c = calendar(
            "BEGIN:VEVENT\r\nUID:z\r\nDTSTART;TZID=Europe/Paris:20260105T100000\r\nDURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\n",
        );
        let local = NaiveDate::from_ymd_opt(2026, 1, 6).and_then(|d| d.and_hms_opt(10, 0, 0)).unwrap_or_default();
        let value = instance_value(&c, "z", utc(2026, 1, 6, 9));
        assert_eq!(value, Some(DateTimeValue::Zoned { local, tzid: "Europe/Paris".into() }));
        c.events[0].exdates.extend(value);
        assert_eq!(
            starts(&c, "z", utc(2026, 1, 1, 0), utc(2026, 2, 1, 0)),
            vec![utc(2026, 1, 5, 9), utc(2026, 1, 7, 9)]
        );
        let all_day =
            calendar("BEGIN:VEVENT\r\nUID:d\r\nDTSTART;VALUE=DATE:20260105\r\nRRULE:FREQ=DAILY\r\nEND:VEVENT\r\n");
        let day = NaiveDate::from_ymd_opt(2026, 1, 9).unwrap_or_default();
        assert_eq!(instance_value(&all_day, "d", utc(2026, 1, 9, 0)), Some(DateTimeValue::Date(day)));
    }

    #[test]
    fn relative_monthly_rules_in_both_forms_expand_alike() {
        let rule = |r: &str| {
            calendar(&format!(
                "BEGIN:VEVENT\r\nUID:r\r\nDTSTART:20260113T090000Z\r\nDURATION:PT1H\r\nRRULE:{r}\r\nEND:VEVENT\r\n"
            ))
        };
        let window = (utc(2026, 1, 1, 0), utc(2026, 4, 1, 0));
        let second_tuesdays = vec![utc(2026, 1, 13, 9), utc(2026, 2, 10, 9), utc(2026, 3, 10, 9)];
        for r in ["FREQ=MONTHLY;BYDAY=2TU", "FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2"] {
            assert_eq!(starts(&rule(r), "r", window.0, window.1), second_tuesdays, "{r}");
        }
        let last_fridays = calendar(
            "BEGIN:VEVENT\r\nUID:f\r\nDTSTART:20260130T090000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=MONTHLY;BYDAY=-1FR\r\nEND:VEVENT\r\n",
        );
        let want = vec![utc(2026, 1, 30, 9), utc(2026, 2, 27, 9), utc(2026, 3, 27, 9)];
        assert_eq!(starts(&last_fridays, "f", window.0, window.1), want);
    }
}
