//! Free/busy over CalDAV: the `CALDAV:free-busy-query` REPORT on a calendar
//! (RFC 4791 §7.10) and the RFC 6638 §5 lookup, a `VFREEBUSY` `REQUEST`
//! POSTed to the caller's own schedule outbox.
//!
//! The core decides what the caller sees ([`deputy_core::Deputy::free_busy`]):
//! a calendar resolves only for callers holding at least
//! `CALDAV:read-free-busy` (the `Default` AvailabilityOnly entry gives every
//! colleague that), and the answer carries busy periods only — no subjects,
//! as a `VFREEBUSY` has no room for them. Free items are left out (free time
//! is what no period covers), tentative ones are `BUSY-TENTATIVE`, out of
//! office `BUSY-UNAVAILABLE`. Periods are clipped to the asked window, in UTC.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use deputy_calendar::{BusyStatus, Calendar, Component, Method, Property};
use deputy_core::calendar::{CalendarError, FreeBusyItem, MAX_ITEMS, MAX_PER_SERIES, MAX_WINDOW_DAYS};
use deputy_types::RecipientId;

use crate::paths::{self, Cal, Target};
use crate::report::utc;
use crate::xml::{self, CALDAV, Node};
use crate::{ALLOW, Req, error, internal, need_privileges, not_found, plain};

/// Recipients of one outbox lookup, at most.
const MAX_RECIPIENTS: usize = 100;

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A window in bounds, or why not.
fn window(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<(), String> {
    if end <= start {
        return Err("the time range must end after it starts".into());
    }
    if end - start > TimeDelta::days(MAX_WINDOW_DAYS) {
        return Err(format!("free/busy may be asked for at most {MAX_WINDOW_DAYS} days at once"));
    }
    Ok(())
}

/// The `FREEBUSY` lines of the items, clipped to the window.
fn periods(items: &[FreeBusyItem], start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<Property> {
    items
        .iter()
        .filter_map(|i| {
            let kind = match i.status {
                BusyStatus::Free => return None,
                BusyStatus::Tentative => "BUSY-TENTATIVE",
                BusyStatus::Busy => "BUSY",
                BusyStatus::OutOfOffice => "BUSY-UNAVAILABLE",
            };
            let (from, to) = (i.start.max(start), i.end.min(end));
            (from < to)
                .then(|| Property::new("FREEBUSY", format!("{}/{}", stamp(from), stamp(to))).with_param("FBTYPE", kind))
        })
        .collect()
}

/// One `VCALENDAR` with one `VFREEBUSY`; `lookup` adds the iTIP REPLY parts.
fn vfreebusy(items: &[FreeBusyItem], start: DateTime<Utc>, end: DateTime<Utc>, lookup: Option<&[Property]>) -> String {
    let mut c = Component::new("VFREEBUSY");
    c.properties.push(Property::new("DTSTAMP", stamp(Utc::now())));
    c.properties.push(Property::new("DTSTART", stamp(start)));
    c.properties.push(Property::new("DTEND", stamp(end)));
    if let Some(extra) = lookup {
        c.properties.extend(extra.iter().cloned());
    }
    c.properties.extend(periods(items, start, end));
    let mut cal = Calendar::new(lookup.map(|_| Method::Reply));
    cal.components.push(c);
    cal.to_ics()
}

/// `REPORT` `CALDAV:free-busy-query` on a calendar.
pub(crate) async fn query(req: &Req, target: &Target, root: &Node) -> Response {
    let Target::Calendar(cal) = target else {
        return error(StatusCode::FORBIDDEN, "<D:supported-report/>", "free-busy-query is asked of a calendar.");
    };
    let range = root.child(CALDAV, "time-range").ok_or_else(|| "free-busy-query needs a time-range".to_owned());
    let bounds = range.and_then(|tr| {
        let start = utc(tr.attr("start").ok_or("the time-range needs a start")?)?;
        let end = utc(tr.attr("end").ok_or("the time-range needs an end")?)?;
        window(start, end).map(|()| (start, end))
    });
    let (start, end) = match bounds {
        Ok(b) => b,
        Err(why) => return error(StatusCode::FORBIDDEN, "<C:valid-filter/>", &why),
    };
    let items = if cal.primary {
        req.deputy.free_busy(req.principal, cal.owner.id, start, end).await.map(|(_, view)| view.items)
    } else {
        folder_busy(req, cal, start, end).await
    };
    match items {
        Ok(items) => calendar_response(vfreebusy(&items, start, end, None)),
        Err(e) => refused(e, cal),
    }
}

/// Busy time of a calendar below the primary one, from its events with the
/// core's bounds: [`deputy_core::Deputy::free_busy`] reads the primary
/// Calendar only, the one scheduling asks about.
async fn folder_busy(
    req: &Req,
    cal: &Cal,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<FreeBusyItem>, CalendarError> {
    let (_, events) = req.deputy.calendar_events(req.principal, cal.folder).await?;
    let owner =
        req.deputy.read(|s| s.dir.get(cal.owner.id).and_then(|r| r.primary_smtp.as_ref().map(ToString::to_string)));
    let mut items = Vec::new();
    for ev in &events {
        let busy = deputy_calendar::free_busy(&ev.calendar, owner.as_deref(), start, end, MAX_PER_SERIES);
        items.extend(busy.intervals.into_iter().map(|i| FreeBusyItem {
            start: i.start,
            end: i.end,
            status: i.status,
            private: false,
            subject: None,
            location: None,
        }));
        if items.len() >= MAX_ITEMS {
            items.truncate(MAX_ITEMS);
            break;
        }
    }
    items.sort_by_key(|i| (i.start, i.end));
    Ok(items)
}

fn calendar_response(ics: String) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")], ics).into_response()
}

fn refused(e: CalendarError, cal: &Cal) -> Response {
    match e {
        CalendarError::NotFound => not_found(),
        CalendarError::Denied(_) => need_privileges(
            &paths::collection(cal),
            "<C:read-free-busy/>",
            "You may not see this calendar's free/busy time.",
        ),
        CalendarError::Invalid(m) => error(StatusCode::FORBIDDEN, "<C:valid-filter/>", &m),
        CalendarError::Send(e) => internal(&e),
        CalendarError::Store(e) => internal(&e),
    }
}

/// The request's `VFREEBUSY` and what it asks: window, attendees, the extra
/// properties echoed in each reply (ORGANIZER, UID).
struct Lookup {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    attendees: Vec<String>,
    echo: Vec<Property>,
    organizer: String,
}

fn read_lookup(body: &[u8]) -> Result<Lookup, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the request is not UTF-8 text".to_owned())?;
    let cal = deputy_calendar::parse(text).map_err(|e| e.to_string())?;
    if cal.method != Some(Method::Request) {
        return Err("a free/busy lookup is an iTIP REQUEST (METHOD:REQUEST)".into());
    }
    let [fb] = cal.components.as_slice() else {
        return Err("a free/busy lookup holds exactly one VFREEBUSY".into());
    };
    if fb.name != "VFREEBUSY" || !cal.events.is_empty() {
        return Err("a free/busy lookup holds exactly one VFREEBUSY".into());
    }
    let value = |name: &str| fb.property(name).map(|p| p.value.clone()).ok_or(format!("the VFREEBUSY has no {name}"));
    let (start, end) = (utc(&value("DTSTART")?)?, utc(&value("DTEND")?)?);
    window(start, end)?;
    let organizer = fb.property("ORGANIZER").ok_or("the VFREEBUSY has no ORGANIZER")?;
    let attendees: Vec<String> =
        fb.properties.iter().filter(|p| p.name == "ATTENDEE").map(|p| p.value.clone()).collect();
    if attendees.is_empty() || attendees.len() > MAX_RECIPIENTS {
        return Err(format!("a free/busy lookup names from 1 to {MAX_RECIPIENTS} attendees"));
    }
    let echo = fb.properties.iter().filter(|p| p.name == "ORGANIZER" || p.name == "UID").cloned().collect();
    Ok(Lookup { start, end, attendees, echo, organizer: organizer.value.clone() })
}

/// `POST` to a schedule outbox: one `C:response` per attendee.
pub(crate) async fn post(req: &Req, target: &Target) -> Response {
    let Target::Outbox(owner) = target else {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "POST is accepted by the schedule outbox only.");
        r.headers_mut().insert(header::ALLOW, HeaderValue::from_static(ALLOW));
        return r;
    };
    let lookup = match read_lookup(&req.body) {
        Ok(l) => l,
        Err(why) => return error(StatusCode::BAD_REQUEST, "<C:valid-calendar-data/>", &why),
    };
    // RFC 6638 §5.1: the ORGANIZER is the outbox's owner.
    let deputy = &req.deputy;
    if deputy.read(|s| s.free_busy_mailbox(req.principal, &lookup.organizer)) != Some(owner.id) {
        return error(
            StatusCode::FORBIDDEN,
            "<C:organizer-allowed/>",
            "The ORGANIZER of a free/busy lookup is the owner of this outbox.",
        );
    }
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<C:schedule-response xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\">",
    );
    for attendee in &lookup.attendees {
        let target: Option<RecipientId> = deputy.read(|s| s.free_busy_mailbox(req.principal, attendee));
        let (status, data) = match target {
            None => ("3.7;Invalid calendar user", None),
            Some(id) => match deputy.free_busy(req.principal, id, lookup.start, lookup.end).await {
                Ok((_, view)) => {
                    let mut echo = lookup.echo.clone();
                    echo.push(Property::new("ATTENDEE", attendee.clone()));
                    ("2.0;Success", Some(vfreebusy(&view.items, lookup.start, lookup.end, Some(&echo))))
                }
                Err(CalendarError::NotFound | CalendarError::Denied(_)) => ("3.8;No authority", None),
                Err(CalendarError::Invalid(m)) => {
                    return error(StatusCode::BAD_REQUEST, "<C:valid-calendar-data/>", &m);
                }
                Err(CalendarError::Send(e)) => return internal(&e),
                Err(CalendarError::Store(e)) => return internal(&e),
            },
        };
        out.push_str(&format!(
            "<C:response><C:recipient>{}</C:recipient><C:request-status>{status}</C:request-status>",
            xml::href(attendee)
        ));
        if let Some(ics) = data {
            out.push_str(&format!("<C:calendar-data>{}</C:calendar-data>", xml::esc(&ics)));
        }
        out.push_str("</C:response>");
    }
    out.push_str("</C:schedule-response>");
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/xml; charset=utf-8")], out).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, h, 0, 0).single().unwrap_or_default()
    }

    fn item(start: u32, end: u32, status: BusyStatus) -> FreeBusyItem {
        FreeBusyItem { start: at(start), end: at(end), status, private: false, subject: None, location: None }
    }

    #[test]
    fn periods_are_typed_clipped_and_free_time_left_out() {
        let items = [
            item(7, 9, BusyStatus::Busy),
            item(10, 11, BusyStatus::Free),
            item(11, 12, BusyStatus::Tentative),
            item(13, 20, BusyStatus::OutOfOffice),
        ];
        let ics = vfreebusy(&items, at(8), at(18), None);
        assert!(ics.contains("FREEBUSY;FBTYPE=BUSY:20261202T080000Z/20261202T090000Z\r\n"), "{ics}");
        assert!(ics.contains("FREEBUSY;FBTYPE=BUSY-TENTATIVE:20261202T110000Z/20261202T120000Z"), "{ics}");
        assert!(ics.contains("FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20261202T130000Z/20261202T180000Z"), "{ics}");
        assert_eq!(ics.matches("FREEBUSY;").count(), 3);
        assert!(ics.contains("BEGIN:VFREEBUSY") && !ics.contains("METHOD:"));
    }

    #[test]
    fn a_lookup_request_is_read_and_checked() {
        let body = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//T//EN\r\nMETHOD:REQUEST\r\nBEGIN:VFREEBUSY\r\nUID:fb1\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261202T000000Z\r\nDTEND:20261203T000000Z\r\nORGANIZER:mailto:rob@contoso.test\r\nATTENDEE:mailto:mary@contoso.test\r\nATTENDEE:mailto:x@y.test\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n";
        let l = read_lookup(body.as_bytes()).expect("lookup");
        assert_eq!(l.attendees, ["mailto:mary@contoso.test", "mailto:x@y.test"]);
        assert_eq!((l.start, l.end), (at(0), at(0) + TimeDelta::days(1)));
        assert_eq!(l.organizer, "mailto:rob@contoso.test");
        assert_eq!(l.echo.len(), 2);
        let long = body.replace("DTEND:20261203", "DTEND:20270303");
        assert!(read_lookup(long.as_bytes()).is_err());
        assert!(read_lookup(body.replace("METHOD:REQUEST", "METHOD:PUBLISH").as_bytes()).is_err());
        assert!(read_lookup(b"\xff").is_err());
        assert!(read_lookup(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n").is_err());
    }
}
