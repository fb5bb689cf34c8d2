//! `POST /me/calendar/getSchedule` (and `/users/{id}/…`): free/busy of
//! several mailboxes over a window, as Graph's `calendar: getSchedule`.
//!
//! The core decides what the caller sees of each mailbox
//! ([`deputy_core::Deputy::free_busy`]): every colleague sees busy times
//! through the Calendar's `Default` entry, `LimitedDetails` and up also
//! subjects and locations of items that are not private. An address that
//! names no visible mailbox, or one whose free/busy the caller may not see,
//! is an `error` entry of its own schedule, not a failure of the request, as
//! Graph answers. Times are returned in UTC (`Prefer: outlook.timezone` is
//! not honoured, as elsewhere in this door).

use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use deputy_calendar::{BusyStatus, Calendar, DateTimeValue, Event, expand};
use deputy_core::calendar::{CalendarError, FreeBusyItem, MAX_WINDOW_DAYS};
use deputy_types::RecipientId;
use serde_json::{Map, Value, json};

use crate::Call;
use crate::auth::Need;
use crate::error::GraphError;
use crate::event_json::parse_date_time;
use crate::events::{calendar_error, ok};
use crate::mail::json_body;

type Result<T> = std::result::Result<T, GraphError>;

/// Mailboxes asked at once, at most (Exchange's availability service limit).
const MAX_SCHEDULES: usize = 100;
/// `availabilityViewInterval` bounds and default, in minutes (Graph's).
const INTERVAL: (i64, i64, i64) = (5, 1_440, 30);

fn invalid(message: impl Into<String>) -> GraphError {
    GraphError::new(StatusCode::BAD_REQUEST, "ErrorInvalidParameter", message)
}

/// `POST …/calendar/getSchedule`.
pub(crate) async fn get_schedule(call: &Call, mailbox: RecipientId) -> Result<Response> {
    let acting = call.caller.acting(mailbox, Need::CalendarRead)?;
    let body = json_body(call)?;
    let schedules = addresses(&body)?;
    let start = instant(&body, "startTime")?;
    let end = instant(&body, "endTime")?;
    if end <= start {
        return Err(invalid("The end time must be later than the start time."));
    }
    if end - start > TimeDelta::days(MAX_WINDOW_DAYS) {
        return Err(invalid(format!("The time window may not be longer than {MAX_WINDOW_DAYS} days.")));
    }
    let minutes = match body.get("availabilityViewInterval") {
        None | Some(Value::Null) => INTERVAL.2,
        Some(v) => v
            .as_i64()
            .filter(|m| (INTERVAL.0..=INTERVAL.1).contains(m))
            .ok_or_else(|| invalid("availabilityViewInterval must be a number of minutes from 5 to 1440."))?,
    };
    let deputy = &call.state.deputy;
    let mut value = Vec::with_capacity(schedules.len());
    for address in schedules {
        let target = deputy.read(|s| s.free_busy_mailbox(acting.principal, &address));
        let Some(target) = target else {
            value.push(failed(&address, "ErrorMailRecipientNotFound", "The user doesn't exist in the directory."));
            continue;
        };
        match deputy.free_busy(acting.principal, target, start, end).await {
            Ok((_, view)) => value.push(json!({
                "scheduleId": address,
                "availabilityView": availability_view(&view.items, start, end, minutes),
                "scheduleItems": view.items.iter().map(item).collect::<Vec<_>>(),
                "workingHours": working_hours(),
            })),
            Err(CalendarError::NotFound) => value.push(failed(
                &address,
                "ErrorNoFreeBusyAccess",
                "You don't have permission to see this mailbox's free/busy information.",
            )),
            Err(e) => return Err(calendar_error(e)),
        }
    }
    let context = format!(
        "{}/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)",
        call.state.authority(&call.headers)
    );
    Ok(ok(json!({"@odata.context": context, "value": value})))
}

/// The `schedules` addresses: a non-empty array of strings, bounded.
fn addresses(body: &Map<String, Value>) -> Result<Vec<String>> {
    let list = body
        .get("schedules")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("The request must name the mailboxes in 'schedules', an array of SMTP addresses."))?;
    if list.is_empty() || list.len() > MAX_SCHEDULES {
        return Err(invalid(format!("'schedules' must name from 1 to {MAX_SCHEDULES} mailboxes.")));
    }
    list.iter()
        .map(|v| match v.as_str().map(str::trim) {
            Some(a) if !a.is_empty() && a.len() <= 320 => Ok(a.to_owned()),
            _ => Err(invalid("Each entry of 'schedules' must be an SMTP address.")),
        })
        .collect()
}

/// A `dateTimeTimeZone` of the request as an instant.
fn instant(body: &Map<String, Value>, name: &str) -> Result<DateTime<Utc>> {
    let value = body.get(name).ok_or_else(|| invalid(format!("The request must give '{name}'.")))?;
    let value = parse_date_time(name, value)?;
    to_utc(&value).ok_or_else(|| invalid(format!("The time zone of '{name}' is not known.")))
}

/// A date-time in a named zone on the UTC line, resolved by the calendar
/// crate's own zone rules (IANA or Windows names, DST gaps and overlaps as
/// RFC 5545 says) through a one-event expansion, so the door never keeps a
/// second, possibly different, zone table.
fn to_utc(value: &DateTimeValue) -> Option<DateTime<Utc>> {
    if let DateTimeValue::Utc(t) = value {
        return Some(*t);
    }
    let mut calendar = Calendar::new(None);
    calendar.events.push(Event { uid: "t".into(), start: Some(value.clone()), ..Event::default() });
    let naive: NaiveDateTime = value.naive();
    // Every zone lies within a day of UTC; a two-day margin finds it.
    let around = naive.and_utc();
    let x = expand(&calendar, "t", around - TimeDelta::days(2), around + TimeDelta::days(2), 1).ok()?;
    x.occurrences.first().map(|o| o.start)
}

fn failed(address: &str, code: &str, message: &str) -> Value {
    json!({"scheduleId": address, "error": {"message": message, "responseCode": code}})
}

/// Graph's `freeBusyStatus` name and its `availabilityView` digit.
fn status(s: BusyStatus) -> (&'static str, u8) {
    match s {
        BusyStatus::Free => ("free", 0),
        BusyStatus::Tentative => ("tentative", 1),
        BusyStatus::Busy => ("busy", 2),
        BusyStatus::OutOfOffice => ("oof", 3),
    }
}

fn utc_json(t: DateTime<Utc>) -> Value {
    json!({"dateTime": format!("{}.0000000", t.format("%Y-%m-%dT%H:%M:%S")), "timeZone": "UTC"})
}

fn item(i: &FreeBusyItem) -> Value {
    let mut o = Map::new();
    o.insert("isPrivate".into(), json!(i.private));
    o.insert("status".into(), json!(status(i.status).0));
    if let Some(s) = &i.subject {
        o.insert("subject".into(), json!(s));
    }
    if let Some(l) = &i.location {
        o.insert("location".into(), json!(l));
    }
    o.insert("start".into(), utc_json(i.start));
    o.insert("end".into(), utc_json(i.end));
    Value::Object(o)
}

/// One digit per `minutes` slot from `start` to `end` (the last slot may be
/// short): the strongest status of the items overlapping it (out of office
/// over busy over tentative over free).
fn availability_view(items: &[FreeBusyItem], start: DateTime<Utc>, end: DateTime<Utc>, minutes: i64) -> String {
    let step = TimeDelta::minutes(minutes);
    let mut out = String::new();
    let mut slot = start;
    while slot < end {
        let next = slot + step;
        let digit =
            items.iter().filter(|i| i.start < next && i.end > slot).map(|i| status(i.status).1).max().unwrap_or(0);
        out.push(char::from(b'0' + digit));
        slot = next;
    }
    out
}

/// Deputy keeps no working hours: Graph's defaults, as mailboxSettings shows.
fn working_hours() -> Value {
    json!({
        "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
        "startTime": "08:00:00.0000000",
        "endTime": "17:00:00.0000000",
        "timeZone": {"name": "UTC"},
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, h, m, 0).single().unwrap_or_default()
    }

    fn busy(start: DateTime<Utc>, end: DateTime<Utc>, status: BusyStatus) -> FreeBusyItem {
        FreeBusyItem { start, end, status, private: false, subject: None, location: None }
    }

    #[test]
    fn the_availability_view_takes_the_strongest_status_per_slot() {
        let items = [
            busy(at(9, 0), at(9, 30), BusyStatus::Busy),
            busy(at(9, 15), at(10, 15), BusyStatus::Tentative),
            busy(at(11, 0), at(12, 0), BusyStatus::OutOfOffice),
        ];
        assert_eq!(availability_view(&items, at(8, 0), at(12, 30), 30), "002110330");
        assert_eq!(availability_view(&items, at(8, 0), at(8, 10), 30), "0");
    }

    #[test]
    fn zoned_times_are_placed_on_the_utc_line() {
        let local = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap_or_default();
        let zoned = |tz: &str| DateTimeValue::Zoned { local: local("2026-12-02T09:00:00"), tzid: tz.into() };
        assert_eq!(to_utc(&zoned("Europe/Berlin")), Some(at(8, 0)));
        assert_eq!(to_utc(&zoned("Pacific Standard Time")), Some(at(17, 0)));
        assert_eq!(to_utc(&DateTimeValue::Utc(at(9, 0))), Some(at(9, 0)));
    }

    #[test]
    fn bad_requests_are_refused() {
        let body = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert!(addresses(&body(json!({"schedules": []}))).is_err());
        assert!(addresses(&body(json!({"schedules": [1]}))).is_err());
        assert!(addresses(&body(json!({}))).is_err());
        assert_eq!(addresses(&body(json!({"schedules": [" a@b.test "]}))).ok(), Some(vec!["a@b.test".to_owned()]));
        assert!(instant(&body(json!({"startTime": {"dateTime": "nope", "timeZone": "UTC"}})), "startTime").is_err());
    }
}
