//! From the component tree to the model: `parse` (syntax, structure and
//! limits) and `ingest` (what a mailbox accepts).

use chrono::TimeDelta;

use crate::model::{
    Attendee, Calendar, Class, CuType, Event, Method, Organizer, PartStat, RecurrenceId, Role, Status, Transparency,
    strip_mailto,
};
use crate::syntax::{Component, Property, parse_components};
use crate::value::{DateTimeValue, Frequency, RecurrenceRule, parse_duration};
use crate::{Error, Limits, Result};

/// Parses one iCalendar object with the default [`Limits`].
pub fn parse(text: &str) -> Result<Calendar> {
    parse_with(text, &Limits::default())
}

/// Parses one iCalendar object: exactly one `VCALENDAR`, every limit of
/// `limits` enforced, every VEVENT read into [`Event`].
pub fn parse_with(text: &str, limits: &Limits) -> Result<Calendar> {
    if text.len() > limits.max_bytes {
        return Err(Error::TooLarge { size: text.len(), limit: limits.max_bytes });
    }
    let mut top = parse_components(text, limits)?.into_iter();
    let root = top.next().ok_or_else(|| Error::Syntax { line: 1, reason: "no BEGIN:VCALENDAR".into() })?;
    if root.name != "VCALENDAR" {
        return Err(Error::Syntax { line: root.line, reason: format!("expected VCALENDAR, found {}", root.name) });
    }
    if let Some(second) = top.next() {
        return Err(Error::Syntax { line: second.line, reason: "more than one top-level component".into() });
    }
    let mut calendar = read_calendar(root, limits)?;
    calendar.raw = Some(text.to_owned());
    Ok(calendar)
}

/// The ingestion path for data arriving from outside (iMIP, CalDAV PUT,
/// Graph): size checked before decoding, parsed with the default limits,
/// then refused when a mailbox should not store it — an event without
/// DTSTART (except in REPLY, CANCEL, REFRESH and DECLINECOUNTER, where
/// RFC 5546 does not require it), or a sub-daily RRULE (Exchange has no
/// such recurrence pattern, and such rules are the cheap way to make
/// expansion expensive).
pub fn ingest(bytes: &[u8]) -> Result<Calendar> {
    let limits = Limits::default();
    if bytes.len() > limits.max_bytes {
        return Err(Error::TooLarge { size: bytes.len(), limit: limits.max_bytes });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| Error::NotUtf8 { offset: e.valid_up_to() })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let calendar = parse_with(text, &limits)?;
    let needs_start =
        !matches!(calendar.method, Some(Method::Reply | Method::Cancel | Method::Refresh | Method::DeclineCounter));
    for event in &calendar.events {
        let name = || format!("VEVENT {:?}", event.uid);
        if needs_start && event.start.is_none() && event.recurrence_id.is_none() {
            return Err(Error::Missing { component: name(), property: "DTSTART" });
        }
        if let Some(rule) = &event.rrule
            && matches!(rule.freq, Frequency::Secondly | Frequency::Minutely | Frequency::Hourly)
        {
            return Err(Error::Recurrence {
                uid: event.uid.clone(),
                reason: format!("sub-daily rule {:?} is not accepted (the finest recurrence is DAILY)", rule.raw),
            });
        }
    }
    Ok(calendar)
}

fn read_calendar(root: Component, limits: &Limits) -> Result<Calendar> {
    let mut calendar = Calendar::default();
    for property in root.properties {
        match property.name.as_str() {
            "METHOD" => {
                calendar.method = Some(
                    Method::parse(&property.value)
                        .ok_or_else(|| property.error(format!("unknown method {:?}", property.value)))?,
                );
            }
            "PRODID" => calendar.prodid = Some(property.text_value()),
            // VERSION is always written as 2.0.
            "VERSION" => {}
            _ => calendar.extra.push(property),
        }
    }
    for child in root.children {
        match child.name.as_str() {
            "VEVENT" => calendar.events.push(read_event(child, limits)?),
            "VTIMEZONE" => calendar.timezones.push(child),
            _ => calendar.components.push(child),
        }
    }
    Ok(calendar)
}

fn read_event(component: Component, limits: &Limits) -> Result<Event> {
    let mut event = Event { components: component.children, ..Event::default() };
    let mut uid = None;
    for property in component.properties {
        let prop = &property;
        match property.name.as_str() {
            "UID" => uid = Some(property.text_value()),
            "RECURRENCE-ID" => {
                let this_and_future = prop.param("RANGE").is_some_and(|r| r.eq_ignore_ascii_case("THISANDFUTURE"));
                event.recurrence_id =
                    Some(RecurrenceId { value: DateTimeValue::from_property(prop)?, this_and_future });
            }
            "SEQUENCE" => {
                event.sequence =
                    prop.value.trim().parse().map_err(|_| prop.error(format!("bad integer {:?}", prop.value)))?;
            }
            "DTSTAMP" => match DateTimeValue::from_property(prop)? {
                DateTimeValue::Utc(t) => event.dtstamp = Some(t),
                // Liberal: a DTSTAMP that is not UTC is read on the UTC clock.
                other => event.dtstamp = Some(other.naive().and_utc()),
            },
            "SUMMARY" => event.summary = Some(prop.text_value()),
            "DESCRIPTION" => event.description = Some(prop.text_value()),
            "LOCATION" => event.location = Some(prop.text_value()),
            "DTSTART" => event.start = Some(DateTimeValue::from_property(prop)?),
            "DTEND" => event.end = Some(DateTimeValue::from_property(prop)?),
            "DURATION" => {
                event.duration = Some(
                    parse_duration(&prop.value).ok_or_else(|| prop.error(format!("bad duration {:?}", prop.value)))?,
                );
            }
            "RRULE" => {
                if event.rrule.is_some() {
                    return Err(prop.error("more than one RRULE (RFC 5545 §3.6.1: SHOULD NOT occur more than once)"));
                }
                event.rrule = Some(RecurrenceRule::parse(&prop.value).map_err(|r| prop.error(r))?);
            }
            "RDATE" if prop.param("VALUE").is_some_and(|v| v.eq_ignore_ascii_case("PERIOD")) => {
                event.extra.push(property);
            }
            "RDATE" | "EXDATE" => {
                let tzid = prop.param("TZID");
                let value_type = prop.param("VALUE");
                let mut values = Vec::new();
                for item in prop.value.split(',').filter(|v| !v.trim().is_empty()) {
                    values.push(DateTimeValue::parse(item.trim(), tzid, value_type).map_err(|r| prop.error(r))?);
                }
                let list = if prop.name == "RDATE" { &mut event.rdates } else { &mut event.exdates };
                list.extend(values);
                if list.len() > limits.max_dates {
                    return Err(Error::Limit { what: format!("{} values", prop.name), limit: limits.max_dates });
                }
            }
            "ORGANIZER" => event.organizer = Some(read_organizer(property)),
            "ATTENDEE" => {
                if event.attendees.len() >= limits.max_attendees {
                    return Err(Error::Limit {
                        what: format!("attendees of the VEVENT at line {}", component.line),
                        limit: limits.max_attendees,
                    });
                }
                event.attendees.push(read_attendee(property));
            }
            "CLASS" => event.class = Some(Class::parse(&prop.value)),
            "TRANSP" => {
                event.transparency = Some(
                    Transparency::parse(&prop.value)
                        .ok_or_else(|| prop.error(format!("unknown transparency {:?}", prop.value)))?,
                );
            }
            "STATUS" => {
                event.status = Some(
                    Status::parse(&prop.value)
                        .ok_or_else(|| prop.error(format!("not an event status {:?}", prop.value)))?,
                );
            }
            _ => event.extra.push(property),
        }
    }
    event.uid =
        uid.ok_or_else(|| Error::Missing { component: format!("VEVENT at line {}", component.line), property: "UID" })?;
    if event.end.is_some() && event.duration.is_some() {
        return Err(Error::Property {
            line: component.line,
            property: "DURATION".into(),
            reason: "DTEND and DURATION must not both appear".into(),
        });
    }
    if let (Some(start), Some(end)) = (&event.start, &event.end)
        && start.is_date() != end.is_date()
    {
        return Err(Error::Property {
            line: component.line,
            property: "DTEND".into(),
            reason: "DTEND must have the same value type as DTSTART".into(),
        });
    }
    Ok(event)
}

fn read_organizer(property: Property) -> Organizer {
    let mut organizer =
        Organizer { address: strip_mailto(property.value.trim()).trim().to_owned(), ..Organizer::default() };
    for param in property.params {
        match param.name.as_str() {
            "CN" => organizer.cn = param.first().map(str::to_owned),
            "SENT-BY" => organizer.sent_by = param.first().map(|s| strip_mailto(s).to_owned()),
            _ => organizer.params.push(param),
        }
    }
    organizer
}

fn read_attendee(property: Property) -> Attendee {
    let mut attendee =
        Attendee { address: strip_mailto(property.value.trim()).trim().to_owned(), ..Attendee::default() };
    for param in property.params {
        let first = param.first().unwrap_or_default();
        match param.name.as_str() {
            "CN" => attendee.cn = Some(first.to_owned()),
            "ROLE" => attendee.role = Some(Role::parse(first)),
            "PARTSTAT" => attendee.partstat = Some(PartStat::parse(first)),
            "RSVP" => attendee.rsvp = first.eq_ignore_ascii_case("TRUE"),
            "SENT-BY" => attendee.sent_by = Some(strip_mailto(first).to_owned()),
            "CUTYPE" => attendee.cutype = Some(CuType::parse(first)),
            _ => attendee.params.push(param),
        }
    }
    attendee
}

/// The instance's end given its start, from the master's DTEND or DURATION
/// (used when an instance becomes an override).
pub(crate) fn event_length(event: &Event) -> Option<TimeDelta> {
    match (&event.start, &event.end, event.duration) {
        (_, _, Some(d)) => Some(d),
        (Some(start), Some(end), None) => Some(end.naive() - start.naive()),
        _ => None,
    }
}
