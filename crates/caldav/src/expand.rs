//! `CALDAV:expand` in a report's `calendar-data` (RFC 4791 §9.6.5): each
//! series comes back as its instances overlapping the range, every one a
//! VEVENT with a RECURRENCE-ID (when the series recurs), its times in UTC,
//! no RRULE, RDATE or EXDATE and no VTIMEZONE.
//!
//! The instances are [`deputy_calendar::expand`]'s, so the work is bounded
//! as for time-range filters; all-day dates stay dates (they have no zone
//! to convert). A non-recurring event outside the range is left out, like
//! any instance outside it.

use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use deputy_calendar::{Calendar, DateTimeValue, Event, RecurrenceId, expand};

use crate::report::utc;
use crate::xml::{CALDAV, Node};

/// Most instances of one series returned.
const MAX_INSTANCES: usize = 1_000;

/// A UTC range, start inclusive, end exclusive.
pub(crate) type Range = (DateTime<Utc>, DateTime<Utc>);

/// The range of a `calendar-data` element's `expand`, if it has one; both
/// bounds are required and must be UTC date-times.
pub(crate) fn range(data: &Node) -> Result<Option<Range>, String> {
    let Some(e) = data.child(CALDAV, "expand") else { return Ok(None) };
    let start = utc(e.attr("start").ok_or("expand needs a start")?)?;
    let end = utc(e.attr("end").ok_or("expand needs an end")?)?;
    if end <= start {
        return Err("the expand range ends before it starts".into());
    }
    Ok(Some((start, end)))
}

/// `cal` with every series replaced by its instances in `[start, end)`.
pub(crate) fn expanded(cal: &Calendar, start: DateTime<Utc>, end: DateTime<Utc>) -> Calendar {
    let mut out = cal.clone();
    out.events.clear();
    out.timezones.clear();
    for uid in cal.uids() {
        // A series that can't be expanded matched no time-range either.
        let Ok(x) = expand(cal, uid, start, end, MAX_INSTANCES) else { continue };
        let recurs = cal.series(uid).any(|e| {
            e.recurrence_id.is_some()
                || e.rrule.is_some()
                || !e.rdates.is_empty()
                || e.extra.iter().any(|p| p.name == "RDATE")
        });
        for o in x.occurrences {
            let Some(e) = cal.events.get(o.event) else { continue };
            let rid = match &e.recurrence_id {
                Some(r) => in_utc(cal, &r.value).unwrap_or(o.start),
                None => o.start,
            };
            out.events.push(instance(e, o.start, o.end, recurs.then_some(rid)));
        }
    }
    out
}

/// One instance in UTC: the component's content at `start`–`end`.
fn instance(e: &Event, start: DateTime<Utc>, end: DateTime<Utc>, rid: Option<DateTime<Utc>>) -> Event {
    let all_day = e.start.as_ref().is_some_and(DateTimeValue::is_date);
    let at = |t: DateTime<Utc>| if all_day { DateTimeValue::Date(t.date_naive()) } else { DateTimeValue::Utc(t) };
    Event {
        recurrence_id: rid.map(|t| RecurrenceId { value: at(t), this_and_future: false }),
        start: Some(at(start)),
        end: Some(at(end)),
        duration: None,
        rrule: None,
        rdates: Vec::new(),
        exdates: Vec::new(),
        extra: e.extra.iter().filter(|p| !matches!(p.name.as_str(), "RDATE" | "EXRULE")).cloned().collect(),
        ..e.clone()
    }
}

/// A value on the UTC line: zoned times through the calendar's own zones
/// (by expanding a one-instance probe), floating times and dates on the
/// UTC clock, as [`expand`] reads them.
fn in_utc(cal: &Calendar, value: &DateTimeValue) -> Option<DateTime<Utc>> {
    match value {
        DateTimeValue::Utc(t) => Some(*t),
        DateTimeValue::Date(d) => Some(d.and_time(NaiveTime::MIN).and_utc()),
        DateTimeValue::Floating(t) => Some(t.and_utc()),
        DateTimeValue::Zoned { local, .. } => {
            let mut probe = Calendar::new(None);
            probe.timezones.clone_from(&cal.timezones);
            probe.events.push(Event { uid: "probe".into(), start: Some(value.clone()), ..Event::default() });
            // No zone is more than a day and a half from UTC.
            let around = local.and_utc();
            let x = expand(&probe, "probe", around - TimeDelta::days(2), around + TimeDelta::days(2), 1).ok()?;
            x.occurrences.first().map(|o| o.start)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weekly(extra: &str) -> Calendar {
        let text = format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//T//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:w\r\nDTSTAMP:20261101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20261202T100000\r\nDTEND;TZID=Europe/Berlin:20261202T110000\r\nRRULE:FREQ=WEEKLY;COUNT=10\r\nEXDATE;TZID=Europe/Berlin:20261223T100000\r\nSUMMARY:Weekly\r\nEND:VEVENT\r\n{extra}END:VCALENDAR\r\n"
        );
        deputy_calendar::parse(&text).expect("parse")
    }

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, day, hour, 0, 0).single().unwrap_or_default()
    }

    #[test]
    fn instances_are_in_utc_with_recurrence_ids_and_no_rules() {
        let out = expanded(&weekly(""), at(1, 0), at(22, 0)).to_ics();
        assert_eq!(out.matches("BEGIN:VEVENT").count(), 3, "{out}");
        for day in [2, 9, 16] {
            assert!(out.contains(&format!("RECURRENCE-ID:202612{day:02}T090000Z")), "{out}");
            assert!(out.contains(&format!("DTSTART:202612{day:02}T090000Z")), "{out}");
        }
        assert!(!out.contains("RRULE") && !out.contains("EXDATE") && !out.contains("VTIMEZONE"), "{out}");
    }

    #[test]
    fn an_override_keeps_its_own_time_and_original_id() {
        let moved = "BEGIN:VEVENT\r\nUID:w\r\nDTSTAMP:20261101T000000Z\r\nRECURRENCE-ID;TZID=Europe/Berlin:20261209T100000\r\nDTSTART;TZID=Europe/Berlin:20261209T150000\r\nDTEND;TZID=Europe/Berlin:20261209T160000\r\nSUMMARY:Moved\r\nEND:VEVENT\r\n";
        let out = expanded(&weekly(moved), at(8, 0), at(10, 0)).to_ics();
        assert_eq!(out.matches("BEGIN:VEVENT").count(), 1, "{out}");
        assert!(out.contains("RECURRENCE-ID:20261209T090000Z") && out.contains("DTSTART:20261209T140000Z"), "{out}");
        assert!(out.contains("SUMMARY:Moved"), "{out}");
    }

    #[test]
    fn a_single_event_has_no_recurrence_id_and_ranges_are_checked() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//T//EN\r\nBEGIN:VEVENT\r\nUID:s\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261202T100000Z\r\nDURATION:PT1H\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let out = expanded(&deputy_calendar::parse(text).expect("parse"), at(1, 0), at(3, 0)).to_ics();
        assert!(out.contains("DTEND:20261202T110000Z") && !out.contains("RECURRENCE-ID"), "{out}");
        let data = |attrs: &str| {
            let body = format!(r#"<C:calendar-data xmlns:C="{CALDAV}"><C:expand {attrs}/></C:calendar-data>"#);
            range(&crate::xml::parse(body.as_bytes()).expect("xml"))
        };
        assert_eq!(data(r#"start="20261201T000000Z" end="20261203T000000Z""#), Ok(Some((at(1, 0), at(3, 0)))));
        assert!(data(r#"start="20261201T000000Z""#).is_err());
        assert!(data(r#"start="20261203T000000Z" end="20261201T000000Z""#).is_err());
    }
}
