//! Graph's `event` resource to and from Deputy's iCalendar model: what a
//! projected event looks like in JSON, and how a `POST`/`PATCH` body changes
//! an event. Nothing here decides who may see or change what: the handlers
//! project every event with the core's viewer before it reaches [`to_json`].

use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use deputy_calendar::{
    Attendee, Calendar, Class, CuType, DateTimeValue, Event, Organizer, PartStat, Property, Role, Status, Transparency,
    expand,
};
use serde_json::{Map, Value, json};

use crate::error::GraphError;
use crate::event_recurrence;

/// How an event is shown beside its own content.
pub(crate) struct Shown<'a> {
    /// Its Graph id.
    pub id: String,
    /// The id of its series master, for occurrences and exceptions.
    pub series: Option<String>,
    /// The mailbox whose calendar holds it (decides `isOrganizer`, `responseStatus`).
    pub mailbox: &'a str,
    /// The item's mod-sequence (`@odata.etag`, `changeKey`).
    pub modseq: u64,
    /// `singleInstance`, `occurrence`, `exception` or `seriesMaster`.
    pub kind: &'static str,
    /// An occurrence's own times (UTC), instead of the component's.
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Whether the projection hid the organizer and attendees.
    pub hidden: bool,
}

/// Graph's local date-time form: seven fractional digits, no zone.
fn graph_time(t: NaiveDateTime) -> String {
    format!("{}.0000000", t.format("%Y-%m-%dT%H:%M:%S"))
}

fn date_time(value: &DateTimeValue) -> Value {
    let zone = match value {
        DateTimeValue::Zoned { tzid, .. } => tzid.as_str(),
        // Floating times and dates are read on the UTC clock (deputy-calendar's decision).
        _ => "UTC",
    };
    json!({"dateTime": graph_time(value.naive()), "timeZone": zone})
}

/// The end a component implies: DTEND, DTSTART + DURATION, or one day for a
/// date and zero length otherwise (RFC 5545 §3.6.1).
fn end_of(event: &Event) -> Option<DateTimeValue> {
    if let Some(end) = &event.end {
        return Some(end.clone());
    }
    let start = event.start.as_ref()?;
    let delta = event.duration.unwrap_or(if start.is_date() { TimeDelta::days(1) } else { TimeDelta::zero() });
    let moved = start.naive().checked_add_signed(delta)?;
    Some(match start {
        DateTimeValue::Date(_) => DateTimeValue::Date(moved.date()),
        DateTimeValue::Floating(_) => DateTimeValue::Floating(moved),
        DateTimeValue::Utc(_) => DateTimeValue::Utc(moved.and_utc()),
        DateTimeValue::Zoned { tzid, .. } => DateTimeValue::Zoned { local: moved, tzid: tzid.clone() },
    })
}

fn response(partstat: Option<&PartStat>) -> &'static str {
    match partstat {
        Some(PartStat::Accepted) => "accepted",
        Some(PartStat::Declined) => "declined",
        Some(PartStat::Tentative) => "tentativelyAccepted",
        _ => "none",
    }
}

fn address_json(name: Option<&str>, address: &str) -> Value {
    json!({"emailAddress": {"name": name.unwrap_or(address), "address": address}})
}

fn sensitivity(class: Option<&Class>) -> &'static str {
    match class {
        None | Some(Class::Public) => "normal",
        Some(Class::Private) => "private",
        Some(Class::Confidential) => "confidential",
        Some(Class::Other(x)) if x == PERSONAL => "personal",
        // RFC 5545: an unknown class is treated as private.
        Some(Class::Other(_)) => "private",
    }
}

/// How Graph's `personal` sensitivity is kept in CLASS (an x-name, which
/// counts as private for projection, the safe side).
const PERSONAL: &str = "X-PERSONAL";

fn show_as(event: &Event) -> &'static str {
    let cdo = event.extra.iter().find(|p| p.name == "X-MICROSOFT-CDO-BUSYSTATUS").map(|p| p.value.to_ascii_uppercase());
    match cdo.as_deref() {
        Some("FREE") => return "free",
        Some("TENTATIVE") => return "tentative",
        Some("OOF") => return "oof",
        Some("WORKINGELSEWHERE") => return "workingElsewhere",
        Some("BUSY") => return "busy",
        _ => {}
    }
    if event.transparency == Some(Transparency::Transparent) {
        "free"
    } else if event.status == Some(Status::Tentative) {
        "tentative"
    } else {
        "busy"
    }
}

/// The Graph JSON of an event as projected for the caller.
pub(crate) fn to_json(event: &Event, shown: &Shown<'_>) -> Map<String, Value> {
    let (start, end) = match shown.window {
        Some((s, e)) => (
            Some(json!({"dateTime": graph_time(s.naive_utc()), "timeZone": "UTC"})),
            Some(json!({"dateTime": graph_time(e.naive_utc()), "timeZone": "UTC"})),
        ),
        None => (event.start.as_ref().map(date_time), end_of(event).as_ref().map(date_time)),
    };
    let description = event.description.clone().unwrap_or_default();
    let html = event.extra.iter().any(|p| p.name == BODY_TYPE && p.value.eq_ignore_ascii_case("html"));
    let organizer_is_mailbox = event.organizer.is_none() || event.is_organizer(shown.mailbox);
    let is_organizer = !shown.hidden && organizer_is_mailbox;
    let response_status = if shown.hidden {
        "none"
    } else if organizer_is_mailbox {
        "organizer"
    } else {
        response(event.attendee(shown.mailbox).and_then(|a| a.partstat.as_ref()))
    };
    let attendees: Vec<Value> = event
        .attendees
        .iter()
        .map(|a| {
            let kind = match (&a.cutype, &a.role) {
                (Some(CuType::Room | CuType::Resource), _) => "resource",
                (_, Some(Role::OptParticipant | Role::NonParticipant)) => "optional",
                _ => "required",
            };
            let mut v = address_json(a.cn.as_deref(), &a.address);
            v["type"] = json!(kind);
            v["status"] = json!({"response": response(a.partstat.as_ref()), "time": "0001-01-01T00:00:00Z"});
            v
        })
        .collect();
    let etag = format!("W/\"{}\"", shown.modseq);
    let mut m = Map::new();
    m.insert("@odata.etag".into(), json!(etag));
    m.insert("id".into(), json!(shown.id));
    m.insert("changeKey".into(), json!(shown.modseq.to_string()));
    m.insert("iCalUId".into(), json!(event.uid));
    m.insert("subject".into(), json!(event.summary.clone().unwrap_or_default()));
    m.insert("bodyPreview".into(), json!(description.chars().take(255).collect::<String>()));
    m.insert("body".into(), json!({"contentType": if html { "html" } else { "text" }, "content": description}));
    m.insert("start".into(), start.unwrap_or(Value::Null));
    m.insert("end".into(), end.unwrap_or(Value::Null));
    m.insert("isAllDay".into(), json!(event.start.as_ref().is_some_and(DateTimeValue::is_date)));
    m.insert("location".into(), json!({"displayName": event.location.clone().unwrap_or_default()}));
    m.insert("attendees".into(), Value::Array(attendees));
    m.insert(
        "organizer".into(),
        event.organizer.as_ref().map_or(Value::Null, |o| address_json(o.cn.as_deref(), &o.address)),
    );
    m.insert("isOrganizer".into(), json!(is_organizer));
    m.insert("responseStatus".into(), json!({"response": response_status, "time": "0001-01-01T00:00:00Z"}));
    m.insert("sensitivity".into(), json!(sensitivity(event.class.as_ref())));
    m.insert("showAs".into(), json!(show_as(event)));
    m.insert("isCancelled".into(), json!(event.status == Some(Status::Cancelled)));
    m.insert("type".into(), json!(shown.kind));
    m.insert("seriesMasterId".into(), shown.series.as_ref().map_or(Value::Null, |s| json!(s)));
    let recurrence = match (&event.rrule, shown.kind) {
        (Some(rule), "seriesMaster") => event_recurrence::to_json(rule, event.start.as_ref()),
        _ => Value::Null,
    };
    m.insert("recurrence".into(), recurrence);
    m.insert(
        "lastModifiedDateTime".into(),
        event.dtstamp.map_or(Value::Null, |t| json!(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))),
    );
    m
}

/// Where the body's content type is kept (DESCRIPTION has none).
const BODY_TYPE: &str = "X-DEPUTY-BODY-TYPE";

fn bad(property: &str, why: impl std::fmt::Display) -> GraphError {
    GraphError::bad_request(format!("Invalid value for property '{property}': {why}"))
}

fn text<'a>(body: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, GraphError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad(key, "a string is expected")),
    }
}

/// A Graph `dateTimeTimeZone` as an iCalendar value: `UTC` (or no zone)
/// gives a UTC time, any other name a TZID the calendar crate resolves
/// (IANA or Windows names).
pub(crate) fn parse_date_time(property: &str, value: &Value) -> Result<DateTimeValue, GraphError> {
    let Value::Object(o) = value else { return Err(bad(property, "an object {dateTime, timeZone} is expected")) };
    let raw = o.get("dateTime").and_then(Value::as_str).ok_or_else(|| bad(property, "dateTime is required"))?;
    let local = parse_local(raw).ok_or_else(|| {
        GraphError::bad_request(format!("Cannot convert the literal '{raw}' to the expected type 'Edm.DateTime'."))
    })?;
    let zone = o.get("timeZone").and_then(Value::as_str).unwrap_or("UTC").trim();
    if is_utc(zone) || raw.ends_with(['Z', 'z']) {
        return Ok(DateTimeValue::Utc(local.and_utc()));
    }
    if !is_zone_name(zone) {
        return Err(bad(property, format!("unknown time zone '{zone}'")));
    }
    Ok(DateTimeValue::Zoned { local, tzid: zone.to_owned() })
}

/// Names of UTC itself (no zone at all counts as UTC too).
fn is_utc(zone: &str) -> bool {
    ["", "UTC", "GMT", "Etc/UTC", "Etc/GMT", "Coordinated Universal Time"].iter().any(|z| z.eq_ignore_ascii_case(zone))
}

/// Whether a string may be a zone name (IANA or Windows) at all: bounded,
/// and only the characters such names use.
fn is_zone_name(zone: &str) -> bool {
    zone.len() <= 64 && zone.chars().all(|c| c.is_ascii_alphanumeric() || " /_+-().,".contains(c))
}

/// The instant a wall-clock time in the zone `tzid` names, by the calendar
/// crate's own zone rules (IANA or Windows names, DST gaps and overlaps as
/// RFC 5545 says) through a one-event expansion, so the door keeps no second
/// zone table. An unknown zone reads as UTC, as the calendar crate reads it.
fn instant_in(tzid: &str, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let start = DateTimeValue::Zoned { local, tzid: tzid.to_owned() };
    let mut calendar = Calendar::new(None);
    calendar.events.push(Event { uid: "t".into(), start: Some(start), ..Event::default() });
    // Every zone lies within a day of UTC; a two-day margin finds it.
    let around = local.and_utc();
    let x = expand(&calendar, "t", around - TimeDelta::days(2), around + TimeDelta::days(2), 1).ok()?;
    x.occurrences.first().map(|o| o.start)
}

/// The zone event times are shown in: Graph's event GETs answer in UTC
/// unless the request says `Prefer: outlook.timezone="…"` (a Windows or
/// IANA name, resolved by the calendar crate like an event's `timeZone`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Zone {
    /// The name as the client wrote it (shown back in `timeZone`).
    name: String,
    /// Whether the client asked for it (and so gets `Preference-Applied`).
    asked: bool,
}

impl Zone {
    /// UTC, Graph's default.
    pub fn utc() -> Self {
        Self { name: "UTC".into(), asked: false }
    }

    /// The zone `Prefer: outlook.timezone` asks for; UTC when there is none
    /// or the name is unknown (then no `Preference-Applied` either, as a
    /// preference that was not applied is not reported, RFC 7240 §3).
    pub fn preferred(headers: &HeaderMap) -> Self {
        let asked = headers.get_all("prefer").iter().filter_map(|v| v.to_str().ok()).find_map(prefer_timezone);
        match asked {
            Some(name) if is_known(&name) => Self { name, asked: true },
            _ => Self::utc(),
        }
    }

    /// The `Preference-Applied` value, when the client asked for this zone.
    pub fn applied(&self) -> Option<String> {
        self.asked.then(|| format!("outlook.timezone=\"{}\"", self.name))
    }

    /// An instant on this zone's wall clock.
    fn wall_time(&self, at: DateTime<Utc>) -> NaiveDateTime {
        if is_utc(&self.name) {
            return at.naive_utc();
        }
        // The offset at a nearby instant, then checked (and taken again from
        // the first guess) so an instant next to a DST change lands right.
        let offset = |local: NaiveDateTime| instant_in(&self.name, local).map(|i| local.and_utc() - i);
        let guess = |local: NaiveDateTime| offset(local).map(|o| at.naive_utc() + o);
        let first = guess(at.naive_utc()).unwrap_or_else(|| at.naive_utc());
        if instant_in(&self.name, first) == Some(at) {
            return first;
        }
        guess(first).filter(|second| instant_in(&self.name, *second) == Some(at)).unwrap_or(first)
    }
}

/// The zone in one `Prefer` header value: `outlook.timezone="Pacific Standard
/// Time"` (quoted or a bare token), among other preferences.
fn prefer_timezone(header: &str) -> Option<String> {
    const KEY: &str = "outlook.timezone";
    let at = header.to_ascii_lowercase().find(KEY)?;
    let rest = header.get(at + KEY.len()..)?.trim_start().strip_prefix('=')?.trim_start();
    let name = match rest.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next()?,
        None => rest.split([',', ';']).next()?,
    };
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

/// Whether the calendar crate knows the zone: a UTC name, or one whose
/// offset differs from UTC in winter or summer (an unknown name reads as
/// UTC all year, so a zone on UTC all year is shown as UTC itself).
fn is_known(zone: &str) -> bool {
    if is_utc(zone) {
        return true;
    }
    if !is_zone_name(zone) {
        return false;
    }
    ["2026-01-15T12:00:00", "2026-07-15T12:00:00"]
        .iter()
        .filter_map(|t| parse_local(t))
        .any(|local| instant_in(zone, local).is_some_and(|i| i != local.and_utc()))
}

/// Shows an event's `start` and `end` on `zone`'s clock. All-day events
/// keep their dates: a date is no instant (RFC 5545 §3.3.4), and Graph
/// too shows them as stored.
pub(crate) fn show_in(item: &mut Map<String, Value>, zone: &Zone) {
    if item.get("isAllDay") == Some(&Value::Bool(true)) {
        return;
    }
    for key in ["start", "end"] {
        let Some(Value::Object(time)) = item.get(key) else { continue };
        let Some(local) = time.get("dateTime").and_then(Value::as_str).and_then(parse_local) else { continue };
        let from = time.get("timeZone").and_then(Value::as_str).unwrap_or("UTC");
        let at = if is_utc(from) { Some(local.and_utc()) } else { instant_in(from, local) };
        let Some(at) = at else { continue };
        item.insert(key.into(), json!({"dateTime": graph_time(zone.wall_time(at)), "timeZone": zone.name}));
    }
}

/// `2026-12-01T10:00:00`, with optional fractions and `Z`.
pub(crate) fn parse_local(raw: &str) -> Option<NaiveDateTime> {
    let trimmed = raw.trim().trim_end_matches(['Z', 'z']);
    NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%dT%H:%M"))
        .ok()
}

fn attendees(value: &Value) -> Result<Vec<Attendee>, GraphError> {
    let Value::Array(items) = value else { return Err(bad("attendees", "an array is expected")) };
    let mut out: Vec<Attendee> = Vec::new();
    for item in items {
        let email = &item["emailAddress"];
        let address = email["address"].as_str().map(str::trim).filter(|a| a.contains('@') && !a.contains(['\r', '\n']));
        let address = address.ok_or_else(|| bad("attendees", "every attendee needs emailAddress.address"))?;
        let mut a = Attendee::new(address);
        a.cn = email["name"].as_str().map(str::to_owned).filter(|n| !n.is_empty());
        match item["type"].as_str().unwrap_or("required") {
            t if t.eq_ignore_ascii_case("required") => a.role = Some(Role::ReqParticipant),
            t if t.eq_ignore_ascii_case("optional") => a.role = Some(Role::OptParticipant),
            t if t.eq_ignore_ascii_case("resource") => a.cutype = Some(CuType::Resource),
            other => return Err(bad("attendees", format!("unknown attendee type '{other}'"))),
        }
        if !out.iter().any(|o| o.address.eq_ignore_ascii_case(&a.address)) {
            out.push(a);
        }
    }
    Ok(out)
}

/// Properties a client may send that Deputy keeps no state for: accepted
/// and ignored, as Graph ignores read-only ones.
const IGNORED: &[&str] = &[
    "id",
    "iCalUId",
    "changeKey",
    "createdDateTime",
    "lastModifiedDateTime",
    "bodyPreview",
    "isOrganizer",
    "organizer",
    "responseStatus",
    "type",
    "seriesMasterId",
    "isCancelled",
    "importance",
    "categories",
    "isReminderOn",
    "reminderMinutesBeforeStart",
    "responseRequested",
    "allowNewTimeProposals",
    "isOnlineMeeting",
    "onlineMeetingProvider",
    "originalStartTimeZone",
    "originalEndTimeZone",
    "hideAttendees",
    "transactionId",
    "webLink",
];

/// Applies a `POST`/`PATCH` body to `event`. Returns whether anything the
/// attendees must hear about changed (time, place, subject, attendees).
pub(crate) fn apply(event: &mut Event, body: &Map<String, Value>) -> Result<bool, GraphError> {
    const MODELLED: &[&str] = &[
        "subject",
        "body",
        "start",
        "end",
        "isAllDay",
        "location",
        "attendees",
        "sensitivity",
        "showAs",
        "recurrence",
    ];
    if let Some(key) =
        body.keys().find(|k| !k.starts_with('@') && !MODELLED.contains(&k.as_str()) && !IGNORED.contains(&k.as_str()))
    {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "RequestBodyRead",
            format!("The property '{key}' does not exist on type 'microsoft.graph.event'."),
        ));
    }
    let mut notify = false;
    if body.contains_key("subject") {
        event.summary = text(body, "subject")?.map(str::to_owned);
        notify = true;
    }
    if let Some(b) = body.get("body").filter(|b| !b.is_null()) {
        let content = b["content"].as_str().ok_or_else(|| bad("body", "content must be a string"))?;
        event.description = Some(content.to_owned()).filter(|c| !c.is_empty());
        event.extra.retain(|p| p.name != BODY_TYPE);
        if b["contentType"].as_str().is_some_and(|t| t.eq_ignore_ascii_case("html")) {
            event.extra.push(Property::new(BODY_TYPE, "html"));
        }
    }
    if let Some(l) = body.get("location") {
        event.location = l["displayName"].as_str().map(str::to_owned).filter(|s| !s.is_empty());
        notify = true;
    }
    let all_day = match body.get("isAllDay") {
        None | Some(Value::Null) => event.start.as_ref().is_some_and(DateTimeValue::is_date),
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad("isAllDay", "a Boolean is expected")),
    };
    for (key, slot) in [("start", 0), ("end", 1)] {
        let Some(v) = body.get(key) else { continue };
        let value = parse_date_time(key, v)?;
        if slot == 0 {
            event.start = Some(value);
        } else {
            event.end = Some(value);
            event.duration = None;
        }
        notify = true;
    }
    if all_day {
        for slot in [&mut event.start, &mut event.end] {
            if let Some(v) = slot.as_mut() {
                let n = v.naive();
                if n.time() != chrono::NaiveTime::MIN {
                    return Err(GraphError::new(
                        StatusCode::BAD_REQUEST,
                        "ErrorPropertyValidationFailure",
                        "An all-day event's start and end must be at midnight.",
                    ));
                }
                *v = DateTimeValue::Date(n.date());
            }
        }
    }
    let (Some(start), Some(end)) = (&event.start, end_of(event)) else {
        return Err(bad("start", "an event needs start and end"));
    };
    if end.naive() < start.naive() {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "ErrorCalendarEndDateIsEarlierThanStartDate",
            "The end date you entered occurs before the start date.",
        ));
    }
    if let Some(a) = body.get("attendees") {
        event.attendees = if a.is_null() { Vec::new() } else { attendees(a)? };
        notify = true;
    }
    if body.contains_key("sensitivity") {
        event.class = match text(body, "sensitivity")?.unwrap_or("normal") {
            s if s.eq_ignore_ascii_case("normal") => None,
            s if s.eq_ignore_ascii_case("private") => Some(Class::Private),
            s if s.eq_ignore_ascii_case("confidential") => Some(Class::Confidential),
            s if s.eq_ignore_ascii_case("personal") => Some(Class::Other(PERSONAL.into())),
            other => return Err(bad("sensitivity", format!("'{other}' is not a sensitivity"))),
        };
    }
    if body.contains_key("showAs") {
        let (cdo, transp) = match text(body, "showAs")?.unwrap_or("busy") {
            s if s.eq_ignore_ascii_case("free") => ("FREE", Transparency::Transparent),
            s if s.eq_ignore_ascii_case("tentative") => ("TENTATIVE", Transparency::Opaque),
            s if s.eq_ignore_ascii_case("busy") => ("BUSY", Transparency::Opaque),
            s if s.eq_ignore_ascii_case("oof") => ("OOF", Transparency::Opaque),
            s if s.eq_ignore_ascii_case("workingElsewhere") => ("WORKINGELSEWHERE", Transparency::Opaque),
            other => return Err(bad("showAs", format!("'{other}' is not a free/busy status"))),
        };
        event.extra.retain(|p| p.name != "X-MICROSOFT-CDO-BUSYSTATUS");
        event.extra.push(Property::new("X-MICROSOFT-CDO-BUSYSTATUS", cdo));
        event.transparency = Some(transp);
    }
    if let Some(r) = body.get("recurrence") {
        event.rrule = event_recurrence::parse(r)?;
        notify = true;
    }
    Ok(notify)
}

/// A new event's organizer: the mailbox whose calendar holds it.
pub(crate) fn organizer(name: &str, address: &str) -> Organizer {
    Organizer { address: address.to_owned(), cn: Some(name.to_owned()), ..Organizer::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_becomes_an_event_and_back() {
        let body: Map<String, Value> = serde_json::from_value(json!({
            "subject": "Plan",
            "body": {"contentType": "text", "content": "Agenda"},
            "start": {"dateTime": "2026-12-01T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-12-01T11:00:00.0000000", "timeZone": "UTC"},
            "location": {"displayName": "Room 1"},
            "attendees": [{"emailAddress": {"address": "a@x.test", "name": "A"}, "type": "optional"}],
            "sensitivity": "private",
            "showAs": "oof",
            "recurrence": {"pattern": {"type": "weekly", "interval": 2, "daysOfWeek": ["monday"]},
                           "range": {"type": "numbered", "numberOfOccurrences": 4}}
        }))
        .unwrap_or_default();
        let mut e = Event { uid: "u1".into(), ..Event::default() };
        assert_eq!(apply(&mut e, &body), Ok(true));
        let shown = Shown {
            id: "X".into(),
            series: None,
            mailbox: "m@x.test",
            modseq: 7,
            kind: "seriesMaster",
            window: None,
            hidden: false,
        };
        let j = Value::Object(to_json(&e, &shown));
        assert_eq!(j["subject"], "Plan");
        assert_eq!(j["start"]["dateTime"], "2026-12-01T10:00:00.0000000");
        assert_eq!(j["attendees"][0]["type"], "optional");
        assert_eq!(j["sensitivity"], "private");
        assert_eq!(j["showAs"], "oof");
        assert_eq!(j["recurrence"]["pattern"]["type"], "weekly");
        assert_eq!(j["recurrence"]["pattern"]["interval"], 2);
        assert_eq!(j["recurrence"]["range"]["numberOfOccurrences"], 4);
        assert_eq!(j["@odata.etag"], "W/\"7\"");
        assert_eq!(j["responseStatus"]["response"], "organizer");
    }

    fn prefer(value: &str) -> Zone {
        let mut headers = HeaderMap::new();
        if let Ok(v) = axum::http::HeaderValue::from_str(value) {
            headers.insert("prefer", v);
        }
        Zone::preferred(&headers)
    }

    #[test]
    fn times_are_shown_in_the_preferred_zone_windows_or_iana() {
        let item = || {
            let mut m = Map::new();
            m.insert("start".into(), json!({"dateTime": "2026-07-01T16:00:00.0000000", "timeZone": "UTC"}));
            m.insert(
                "end".into(),
                json!({"dateTime": "2026-07-01T09:30:00.0000000", "timeZone": "Pacific Standard Time"}),
            );
            m
        };
        let pacific = prefer("outlook.timezone=\"Pacific Standard Time\"");
        assert_eq!(pacific.applied().as_deref(), Some("outlook.timezone=\"Pacific Standard Time\""));
        let mut m = item();
        show_in(&mut m, &pacific);
        assert_eq!(m["start"], json!({"dateTime": "2026-07-01T09:00:00.0000000", "timeZone": "Pacific Standard Time"}));
        assert_eq!(m["end"]["dateTime"], "2026-07-01T09:30:00.0000000");
        let paris = prefer("return=minimal, outlook.timezone=Europe/Paris");
        let mut m = item();
        show_in(&mut m, &paris);
        assert_eq!(m["start"], json!({"dateTime": "2026-07-01T18:00:00.0000000", "timeZone": "Europe/Paris"}));
        // Without a preference (or with an unknown zone) every time is UTC.
        for zone in [prefer(""), prefer("outlook.timezone=\"Mars/Olympus\"")] {
            assert_eq!(zone, Zone::utc());
            let mut m = item();
            show_in(&mut m, &zone);
            assert_eq!(m["end"], json!({"dateTime": "2026-07-01T16:30:00.0000000", "timeZone": "UTC"}));
        }
        // Winter, and the hour after a DST change (2026-11-01 01:30 PST = 09:30 UTC).
        let at = |s: &str| parse_local(s).map(|t| t.and_utc()).unwrap_or_default();
        assert_eq!(pacific.wall_time(at("2026-01-15T16:00:00")).to_string(), "2026-01-15 08:00:00");
        assert_eq!(pacific.wall_time(at("2026-11-01T09:30:00")).to_string(), "2026-11-01 01:30:00");
        assert_eq!(pacific.wall_time(at("2026-11-01T08:30:00")).to_string(), "2026-11-01 01:30:00");
    }

    #[test]
    fn bad_input_is_refused_not_panicked_on() {
        let mut e = Event::default();
        for body in [
            json!({"start": {"dateTime": "tomorrow"}, "end": {"dateTime": "2026-01-01T00:00:00"}}),
            json!({"start": {"dateTime": "2026-01-02T00:00:00"}, "end": {"dateTime": "2026-01-01T00:00:00"}}),
            json!({"subject": 3}),
            json!({"frobnicate": true}),
            json!({"start": 1}),
        ] {
            let map: Map<String, Value> = serde_json::from_value(body).unwrap_or_default();
            assert!(apply(&mut e, &map).is_err(), "{map:?}");
        }
    }
}
