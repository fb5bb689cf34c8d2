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
    let master_zone = master.and_then(|i| match &calendar.events[i].start {
        Some(DateTimeValue::Zoned { tzid, .. }) => resolve(tzid),
        _ => None,
    });
    let clock = WallClock { zone: master_zone, resolve: &resolve };

    // SEQUENCE is left out because the engine pairs an override with its
    // master only when both carry the same one.
    let mut feed = Calendar::new(None);
    let mut fed: Vec<usize> = Vec::new();
    for &i in master.iter().chain(members.iter().filter(|&&i| Some(i) != master)) {
        let event = &calendar.events[i];
        if event.start.is_none() && event.recurrence_id.is_none() {
            return Err(Error::Missing { component: format!("VEVENT {uid:?}"), property: "DTSTART" });
        }
        feed.events.push(timing_only(event, Some(i) == master, window_end, &clock));
        fed.push(i);
    }
    let text = feed.to_ics();
    let ical = ICalendar::parse(&text).map_err(|e| error(format!("the expansion engine refused the series: {e:?}")))?;
    let component_to_event: Vec<Option<usize>> = {
        let mut next = fed.iter();
        ical.components
            .iter()
            .map(|c| if c.component_type == ICalendarComponentType::VEvent { next.next().copied() } else { None })
            .collect()
    };
    let expanded = ical.expand_dates(Tz::Floating, MAX_EXPANSION_STEPS);
    if let Some(failure) = expanded.errors.first() {
        return Err(error(failure.error.to_string()));
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
        if overlaps {
            occurrences.push(Occurrence { start: start_utc, end: end_utc, event, overridden });
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
