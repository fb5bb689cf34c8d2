//! Calendar object resources: GET, PUT and DELETE of one event series, the
//! name ↔ UID mapping, ETags and what a viewer is shown.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use deputy_calendar::{Calendar, Event, PartStat, Property, Viewer, Visibility, project};
use deputy_core::calendar::{CalendarError, StoredEvent};

use crate::paths::{self, Cal, Target};
use crate::{Req, error, internal, need_privileges, not_found, plain};

/// Where a resource name other than `{uid}.ics` chosen by a client is kept,
/// on the stored VCALENDAR (never shown to clients).
pub(crate) const NAME_PROP: &str = "X-DEPUTY-RESOURCE-NAME";

/// The ETag of a stored series: its item's UID and mod-sequence, both of
/// which change with every write.
pub(crate) fn etag(ev: &StoredEvent) -> String {
    format!("\"{}-{}\"", ev.entry.uid, ev.entry.modseq)
}

/// The resource name of a stored series.
pub(crate) fn resource_name(ev: &StoredEvent) -> String {
    ev.calendar
        .extra
        .iter()
        .find(|p| p.name == NAME_PROP)
        .map_or_else(|| format!("{}.ics", ev.uid()), Property::text_value)
}

/// The series as `viewer` may see it (spec §5, §10): every component
/// through [`project`]; calendar-level extras only for full, private-capable
/// viewers; never Deputy's own bookkeeping.
pub(crate) fn shown(cal: &Calendar, viewer: &Viewer) -> Calendar {
    let mut out = cal.clone();
    out.events = cal.events.iter().filter_map(|e| project(e, viewer)).collect();
    out.extra.retain(|p| p.name != NAME_PROP);
    let hides =
        viewer.visibility != Visibility::Full || (!viewer.can_view_private && cal.events.iter().any(Event::is_private));
    if hides {
        out.extra.clear();
        out.components.clear();
    }
    out
}

/// Maps the core's refusals to answers; `privilege` is what a `Denied` lacked.
pub(crate) fn calendar_error(e: CalendarError, path: &str, privilege: &str) -> Response {
    match e {
        CalendarError::NotFound => not_found(),
        CalendarError::Denied(_) => need_privileges(path, privilege, &e.to_string()),
        CalendarError::Invalid(m) => error(StatusCode::FORBIDDEN, "<C:valid-calendar-object-resource/>", &m),
        CalendarError::Send(e) => internal(&e),
        CalendarError::Store(e) => internal(&e),
    }
}

/// Every series of a calendar (unprojected).
pub(crate) async fn events(req: &Req, cal: &Cal) -> Result<Vec<StoredEvent>, Response> {
    match req.deputy.calendar_events(req.principal, cal.folder).await {
        Ok((_, events)) => Ok(events),
        Err(e) => Err(calendar_error(e, &paths::collection(cal), "<D:read/>")),
    }
}

/// The series stored under a resource name: `{uid}.ics` first (one lookup),
/// else a name a client chose.
pub(crate) async fn find(req: &Req, cal: &Cal, name: &str) -> Result<Option<StoredEvent>, Response> {
    let uid = name.strip_suffix(".ics").unwrap_or(name);
    let path = paths::object(cal, name);
    match req.deputy.calendar_event(req.principal, cal.folder, uid).await {
        Ok((_, Some(ev))) if resource_name(&ev) == name => return Ok(Some(ev)),
        Ok(_) => {}
        Err(e) => return Err(calendar_error(e, &path, "<D:read/>")),
    }
    Ok(events(req, cal).await?.into_iter().find(|ev| resource_name(ev) == name))
}

pub(crate) async fn get(req: &Req, target: Target) -> Response {
    let Target::Object(cal, name) = target else {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "GET is offered on calendar object resources only.");
    };
    let ev = match find(req, &cal, &name).await {
        Ok(Some(ev)) => ev,
        Ok(None) => return not_found(),
        Err(r) => return r,
    };
    let body = if req.head { String::new() } else { shown(&ev.calendar, &cal.access.viewer).to_ics() };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8".to_owned()), (header::ETAG, etag(&ev))],
        body,
    )
        .into_response()
}

/// Whether the `If-Match` / `If-None-Match` preconditions hold.
fn preconditions(req: &Req, existing: Option<&StoredEvent>) -> bool {
    if let Some(none) = req.header("if-none-match") {
        let hit = match existing {
            Some(ev) => none.split(',').any(|t| t.trim() == "*" || t.trim() == etag(ev)),
            None => false,
        };
        if hit {
            return false;
        }
    }
    if let Some(m) = req.header("if-match") {
        return existing.is_some_and(|ev| m.split(',').any(|t| t.trim() == "*" || t.trim() == etag(ev)));
    }
    true
}

fn precondition_failed() -> Response {
    plain(StatusCode::PRECONDITION_FAILED, "The resource changed (or exists) since the client's copy.")
}

pub(crate) async fn put(req: &Req, target: Target) -> Response {
    let Target::Object(cal, name) = target else {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "PUT is offered on calendar object resources only.");
    };
    let path = paths::object(&cal, &name);
    if let Some(ct) = req.header("content-type")
        && !ct.trim_start().to_ascii_lowercase().starts_with("text/calendar")
    {
        return error(StatusCode::FORBIDDEN, "<C:supported-calendar-data/>", "Only text/calendar is accepted.");
    }
    let mut new = match deputy_calendar::ingest(&req.body) {
        Ok(c) => c,
        Err(e @ deputy_calendar::Error::TooLarge { .. }) => {
            return error(StatusCode::FORBIDDEN, "<C:max-resource-size/>", &e.to_string());
        }
        Err(e) => return error(StatusCode::FORBIDDEN, "<C:valid-calendar-data/>", &e.to_string()),
    };
    if new.events.is_empty() {
        return error(StatusCode::FORBIDDEN, "<C:supported-calendar-component/>", "Only VEVENT objects are stored.");
    }
    if new.method.is_some() {
        return error(
            StatusCode::FORBIDDEN,
            "<C:valid-calendar-object-resource/>",
            "A calendar object resource carries no METHOD (RFC 4791 §4.1).",
        );
    }
    let uid = match new.uids().as_slice() {
        [uid] if !uid.is_empty() => (*uid).to_owned(),
        _ => {
            return error(
                StatusCode::FORBIDDEN,
                "<C:valid-calendar-object-resource/>",
                "A calendar object resource holds exactly one event series (one UID).",
            );
        }
    };
    let existing = match find(req, &cal, &name).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    if !preconditions(req, existing.as_ref()) {
        return precondition_failed();
    }
    let conflict = |href: &str, why: &str| {
        error(StatusCode::FORBIDDEN, &format!("<C:no-uid-conflict>{}</C:no-uid-conflict>", crate::xml::href(href)), why)
    };
    match &existing {
        Some(ev) if ev.uid() != uid => return conflict(&path, "A resource's UID can't change."),
        Some(_) => {}
        None => {
            if let Ok((_, Some(other))) = req.deputy.calendar_event(req.principal, cal.folder, &uid).await {
                let href = paths::object(&cal, &resource_name(&other));
                return conflict(&href, "Another resource of this calendar holds that UID.");
            }
        }
    }
    new.extra.retain(|p| p.name != NAME_PROP);
    if name != format!("{uid}.ics") {
        new.extra.push(Property::text(NAME_PROP, &name));
    }
    if let Some(old) = &existing
        && cal.primary
        && let Some(answer) = attendee_answer(req, &cal, &old.calendar, &new)
    {
        // RFC 6638 implicit scheduling for an attendee: the owner's answer
        // (given by herself or by a delegate) goes to the organizer. Meeting
        // messages are applied to the primary calendar, so only it answers.
        let send = !req.header("schedule-reply").is_some_and(|v| v.trim().eq_ignore_ascii_case("F"));
        return match req.deputy.respond_to_event(req.principal, cal.owner.id, &uid, answer, None, send).await {
            Ok((stored, _)) => stored_response(StatusCode::NO_CONTENT, &stored),
            Err(e) => calendar_error(e, &path, "<D:write-content/>"),
        };
    }
    let privilege = if existing.is_some() { "<D:write-content/>" } else { "<D:bind/>" };
    match req.deputy.save_event(req.principal, cal.folder, new).await {
        Ok(stored) => {
            let status = if existing.is_some() { StatusCode::NO_CONTENT } else { StatusCode::CREATED };
            stored_response(status, &stored)
        }
        Err(e) => calendar_error(e, &path, privilege),
    }
}

fn stored_response(status: StatusCode, stored: &StoredEvent) -> Response {
    (status, [(header::ETAG, etag(stored))]).into_response()
}

/// When `new` differs from `old` only in the calendar owner's PARTSTAT (one
/// answer throughout) of a meeting she is invited to, that answer.
fn attendee_answer(req: &Req, cal: &Cal, old: &Calendar, new: &Calendar) -> Option<PartStat> {
    let me =
        req.deputy.read(|s| s.dir.get(cal.owner.id).and_then(|r| r.primary_smtp.as_ref()).map(ToString::to_string))?;
    if old.events.len() != new.events.len() {
        return None;
    }
    let mut answer: Option<PartStat> = None;
    for (o, n) in old.events.iter().zip(&new.events) {
        if o.is_organizer(&me) {
            return None;
        }
        let (Some(oa), Some(na)) = (o.attendee(&me), n.attendee(&me)) else { return None };
        if oa.partstat != na.partstat {
            let given = na.partstat.clone()?;
            if answer.as_ref().is_some_and(|a| *a != given) {
                return None;
            }
            answer = Some(given);
        }
        let mut n = n.clone();
        if let Some(a) = n.attendee_mut(&me) {
            a.partstat.clone_from(&oa.partstat);
            a.rsvp = oa.rsvp;
            a.sent_by.clone_from(&oa.sent_by);
        }
        n.dtstamp = o.dtstamp;
        let volatile = |p: &Property| p.name == "LAST-MODIFIED" || p.name == "DTSTAMP";
        n.extra.retain(|p| !volatile(p));
        let mut o = o.clone();
        o.extra.retain(|p| !volatile(p));
        if n != o {
            return None;
        }
    }
    answer
}

pub(crate) async fn delete(req: &Req, target: Target) -> Response {
    let Target::Object(cal, name) = target else {
        return need_privileges("/dav/", "<D:unbind/>", "Only calendar object resources can be deleted.");
    };
    let path = paths::object(&cal, &name);
    let ev = match find(req, &cal, &name).await {
        Ok(Some(ev)) => ev,
        Ok(None) => return not_found(),
        Err(r) => return r,
    };
    if !preconditions(req, Some(&ev)) {
        return precondition_failed();
    }
    match req.deputy.remove_event(req.principal, cal.folder, ev.uid()).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => calendar_error(e, &path, "<D:unbind/>"),
    }
}
