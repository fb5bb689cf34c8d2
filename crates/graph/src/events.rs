//! Calendars through Graph (spec §5, §10; exchange-reference §3): events of
//! the primary calendar and of any other (`calendars/{id}/…`),
//! `calendarView`, meeting answers, and dispatch of the calendars
//! themselves, calendarPermissions, mailboxSettings and delegates. Single
//! occurrences (`instances`, an occurrence's `PATCH` and `DELETE`) are
//! `occurrences`'; recurrence patterns are `event_recurrence`'s.
//!
//! Event times are UTC unless the request says `Prefer: outlook.timezone`
//! (Graph's "Support various time zones" on every event GET): then they are
//! shown on that zone's clock and the answer says `Preference-Applied`.
//!
//! The core decides everything: `calendar_events`/`calendar_event` give the
//! caller's viewer, every event is shown through `deputy_calendar::project`,
//! `save_event`/`remove_event`/`respond_to_event`/`send_meeting` check the
//! folder rights and the delegate's standing. This module maps outcomes:
//! `NotFound` → 404, `Denied` → 403, `Invalid` → 400. A caller who may see
//! no more than free/busy of the calendar gets 404 on every calendar
//! resource, as one who may see nothing (free/busy is `getSchedule`'s, in
//! `schedule`).

use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use deputy_calendar::{Calendar, Event, Occurrence, PartStat, Visibility, expand, instance, project};
use deputy_core::calendar::{CalendarAccess, CalendarError, StoredEvent};
use deputy_core::mail::MailError;
use deputy_core::{CoreError, Ctx};
use deputy_types::{FolderId, RecipientId};
use serde_json::{Value, json};

use crate::Call;
use crate::auth::{Acting, Need};
use crate::error::GraphError;
use crate::event_json::{self, Shown, Zone};
use crate::mail::{json_body, next_link, odata_error};
use crate::path::{EventAnswer, Resource};
use crate::{calendar_permissions, calendars, delegates, ids, mailbox_settings, occurrences, odata, schedule};

type Result<T> = std::result::Result<T, GraphError>;

/// Items in a page when the client gives no `$top` (Graph's default).
const DEFAULT_PAGE: usize = 10;
/// Occurrences of one series a `calendarView` expands at most.
const MAX_PER_SERIES: usize = 1_000;
/// The longest `calendarView` window (Graph's own limit is five years).
const MAX_WINDOW_DAYS: i64 = 1_825;

/// Answers a calendar, mailbox-settings or delegates request.
pub(crate) async fn handle(call: &Call, mailbox: RecipientId, resource: Resource) -> Result<Response> {
    let m = &call.method;
    match resource {
        Resource::Events { calendar } if m == Method::GET => list(call, mailbox, calendar.as_deref()).await,
        Resource::Events { calendar } if m == Method::POST => create(call, mailbox, calendar.as_deref()).await,
        Resource::Event { calendar, id } if m == Method::GET => get(call, mailbox, calendar.as_deref(), &id).await,
        Resource::Event { calendar, id } if m == Method::PATCH => update(call, mailbox, calendar.as_deref(), &id).await,
        Resource::Event { calendar, id } if m == Method::DELETE => {
            delete(call, mailbox, calendar.as_deref(), &id).await
        }
        Resource::EventInstances { calendar, id } if m == Method::GET => {
            occurrences::instances(call, mailbox, calendar.as_deref(), &id).await
        }
        Resource::EventResponse { id, answer } if m == Method::POST => respond(call, mailbox, &id, answer).await,
        Resource::Calendar if m == Method::GET => calendars::primary(call, mailbox),
        Resource::Calendars if m == Method::GET => calendars::list(call, mailbox),
        Resource::Calendars if m == Method::POST => calendars::create(call, mailbox).await,
        Resource::CalendarById { id } if m == Method::GET => calendars::get(call, mailbox, &id),
        Resource::CalendarById { id } if m == Method::PATCH => calendars::update(call, mailbox, &id).await,
        Resource::CalendarById { id } if m == Method::DELETE => calendars::delete(call, mailbox, &id).await,
        Resource::CalendarView { calendar } if m == Method::GET => view(call, mailbox, calendar.as_deref()).await,
        Resource::GetSchedule if m == Method::POST => schedule::get_schedule(call, mailbox).await,
        Resource::CalendarPermissions if m == Method::GET => calendar_permissions::list(call, mailbox),
        Resource::CalendarPermissions if m == Method::POST => calendar_permissions::create(call, mailbox).await,
        Resource::CalendarPermission { id } if m == Method::GET => calendar_permissions::get(call, mailbox, &id),
        Resource::CalendarPermission { id } if m == Method::PATCH => {
            calendar_permissions::update(call, mailbox, &id).await
        }
        Resource::CalendarPermission { id } if m == Method::DELETE => {
            calendar_permissions::delete(call, mailbox, &id).await
        }
        Resource::MailboxSettings if m == Method::GET => mailbox_settings::get(call, mailbox),
        Resource::MailboxSettings if m == Method::PATCH => mailbox_settings::update(call, mailbox).await,
        Resource::Delegates if m == Method::GET => delegates::list(call, mailbox),
        Resource::Delegates if m == Method::POST => delegates::add(call, mailbox).await,
        Resource::Delegate { id } if m == Method::GET => delegates::get(call, mailbox, &id),
        Resource::Delegate { id } if m == Method::PATCH => delegates::update(call, mailbox, &id).await,
        Resource::Delegate { id } if m == Method::DELETE => delegates::remove(call, mailbox, &id).await,
        _ => Err(GraphError::method_not_allowed()),
    }
}

pub(crate) fn ok(body: Value) -> Response {
    (StatusCode::OK, axum::Json(body)).into_response()
}

pub(crate) fn created(body: Value) -> Response {
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

pub(crate) fn context(call: &Call, mailbox: RecipientId, what: &str) -> String {
    format!("{}/v1.0/$metadata#users('{}')/{what}", call.state.authority(&call.headers), mailbox.0)
}

/// Maps a calendar refusal to Graph's answer.
pub(crate) fn calendar_error(e: CalendarError) -> GraphError {
    match e {
        CalendarError::NotFound => GraphError::not_found(),
        CalendarError::Denied(_) => GraphError::access_denied(),
        CalendarError::Invalid(m) => GraphError::new(StatusCode::BAD_REQUEST, "ErrorInvalidRequest", m),
        CalendarError::Send(MailError::Denied(_)) => GraphError::send_as_denied(),
        CalendarError::Send(MailError::NoRecipients) => GraphError::invalid_recipients(),
        CalendarError::Send(MailError::Store(e)) | CalendarError::Store(e) => {
            tracing::warn!(error = %e, "store failed during a Graph calendar request");
            GraphError::unavailable()
        }
    }
}

/// Maps a refusal of the core's directory and permission services.
pub(crate) fn core_error(e: CoreError) -> GraphError {
    match e {
        CoreError::FolderEntryExists(_) => {
            GraphError::new(StatusCode::CONFLICT, "ErrorItemAlreadyExists", e.to_string())
        }
        CoreError::NoFolderEntry(_) | CoreError::FolderNotFound(_) | CoreError::Gone(_) => GraphError::not_found(),
        CoreError::Store(e) => {
            tracing::warn!(error = %e, "store failed during a Graph request");
            GraphError::unavailable()
        }
        other => GraphError::new(StatusCode::BAD_REQUEST, "ErrorInvalidRequest", other.to_string()),
    }
}

/// The audit context of a change made through Graph: the caller's UPN (an
/// application by its id), and the cmdlet the shell would have run.
pub(crate) fn audit(call: &Call, acting: Acting, cmdlet: &str, command: String) -> Ctx {
    let caller = if acting.app {
        match &call.caller {
            crate::auth::Caller::App { id, .. } => format!("app:{id}"),
            crate::auth::Caller::User { id, .. } => id.0.to_string(),
        }
    } else {
        call.state
            .deputy
            .read(|s| {
                s.dir
                    .get(acting.principal)
                    .and_then(|r| r.upn.clone().or(r.primary_smtp.as_ref().map(ToString::to_string)))
            })
            .unwrap_or_else(|| acting.principal.0.to_string())
    };
    Ctx::new(&caller, cmdlet, &format!("{command} # via Microsoft Graph"))
}

/// The mailbox's display name and primary address.
pub(crate) fn identity(call: &Call, mailbox: RecipientId) -> Result<(String, String)> {
    call.state
        .deputy
        .read(|s| {
            let r = s.dir.get(mailbox)?;
            Some((r.display_name.clone(), r.primary_smtp.as_ref()?.to_string()))
        })
        .ok_or_else(GraphError::not_found)
}

/// The caller's standing for `need` and the calendar the path names: the
/// primary one, or `calendars/{id}`.
pub(crate) fn standing(
    call: &Call,
    mailbox: RecipientId,
    need: Need,
    calendar: Option<&str>,
) -> Result<(Acting, FolderId)> {
    let acting = call.caller.acting(mailbox, need)?;
    let folder = match calendar {
        None => call.state.deputy.read(|s| s.calendar_folder(mailbox)).ok_or_else(GraphError::not_found)?,
        Some(id) => calendars::folder_of(call, mailbox, id)?,
    };
    Ok((acting, folder))
}

/// Free/busy alone does not open events: answer as if there were none.
pub(crate) fn readable(access: &CalendarAccess) -> Result<()> {
    match access.viewer.visibility {
        Visibility::Full | Visibility::Limited => Ok(()),
        Visibility::FreeBusy | Visibility::None => Err(GraphError::not_found()),
    }
}

fn access(call: &Call, acting: Acting, folder: FolderId) -> Result<CalendarAccess> {
    let access = call.state.deputy.require_calendar(acting.principal, folder).map_err(calendar_error)?;
    readable(&access)?;
    Ok(access)
}

/// The series an event id names in `mailbox`'s calendar.
pub(crate) fn event_ref(folder: FolderId, id: &str) -> Result<(String, Option<DateTime<Utc>>)> {
    match ids::parse_event(id) {
        Some((f, uid, occurrence)) if f == folder => Ok((uid, occurrence)),
        _ => Err(GraphError::not_found()),
    }
}

pub(crate) fn is_recurring(calendar: &Calendar, uid: &str) -> bool {
    calendar.master(uid).is_some_and(|m| m.rrule.is_some() || !m.rdates.is_empty())
}

/// The JSON of one stored series' master, projected for the caller; `None`
/// when the viewer may not see it.
fn master_json(stored: &StoredEvent, access: &CalendarAccess, folder: FolderId, mailbox: &str) -> Option<Value> {
    let uid = stored.uid();
    let master = stored.calendar.master(uid).or_else(|| stored.calendar.events.first())?;
    let shown = project(master, &access.viewer)?;
    let recurring = is_recurring(&stored.calendar, uid);
    let info = Shown {
        id: ids::event(folder, uid, None),
        series: None,
        mailbox,
        modseq: stored.entry.modseq,
        kind: if recurring { "seriesMaster" } else { "singleInstance" },
        window: None,
        hidden: shown.organizer.is_none() && master.organizer.is_some(),
    };
    Some(Value::Object(event_json::to_json(&shown, &info)))
}

/// The JSON of one instance of a series, projected; `None` when the viewer
/// may not see it. An occurrence is named by its original start (its
/// RECURRENCE-ID), so an exception keeps its id however often it moves.
fn instance_json(
    stored: &StoredEvent,
    access: &CalendarAccess,
    folder: FolderId,
    mailbox: &str,
    occ: &Occurrence,
) -> Option<Value> {
    let uid = stored.uid();
    let component = stored.calendar.events.get(occ.event)?;
    let shown = project(component, &access.viewer)?;
    let (id, kind, series) = if is_recurring(&stored.calendar, uid) {
        let kind = if occ.overridden { "exception" } else { "occurrence" };
        (ids::event(folder, uid, Some(occ.original)), kind, Some(ids::event(folder, uid, None)))
    } else {
        (ids::event(folder, uid, None), "singleInstance", None)
    };
    let info = Shown {
        id,
        series,
        mailbox,
        modseq: stored.entry.modseq,
        kind,
        window: Some((occ.start, occ.end)),
        hidden: shown.organizer.is_none() && component.organizer.is_some(),
    };
    Some(Value::Object(event_json::to_json(&shown, &info)))
}

/// The occurrences of one series in a window, projected, as JSON with their start.
pub(crate) fn occurrences(
    stored: &StoredEvent,
    access: &CalendarAccess,
    folder: FolderId,
    mailbox: &str,
    window: (DateTime<Utc>, DateTime<Utc>),
) -> Vec<(DateTime<Utc>, Value)> {
    let uid = stored.uid();
    let expansion = match expand(&stored.calendar, uid, window.0, window.1, MAX_PER_SERIES) {
        Ok(e) => e,
        Err(e) => {
            tracing::info!(uid, error = %e, "an event could not be expanded; left out of calendarView");
            return Vec::new();
        }
    };
    expansion
        .occurrences
        .iter()
        .filter_map(|occ| Some((occ.start, instance_json(stored, access, folder, mailbox, occ)?)))
        .collect()
}

/// A page of a collection with `$top`, `$skip`, `$filter`, `$orderby`,
/// `$select`; `shape` finishes each item of the page (filters and order
/// see the items as they were).
pub(crate) fn page(
    call: &Call,
    mailbox: RecipientId,
    what: &str,
    mut items: Vec<Value>,
    shape: impl FnMut(&mut Value),
) -> Result<Response> {
    let query = odata::parse(&call.query).map_err(odata_error)?;
    if let Some(filter) = &query.filter {
        items.retain(|i| filter.matches(i));
    }
    let (total, mut page) = odata::page_of(items, &query, DEFAULT_PAGE);
    page.iter_mut().for_each(shape);
    let context = context(call, mailbox, what);
    Ok(ok(odata::collection(&query, context, total, page, |skip| next_link(call, skip))))
}

/// A page of events, their times on the preferred zone's clock.
pub(crate) fn event_page(call: &Call, mailbox: RecipientId, what: &str, items: Vec<Value>) -> Result<Response> {
    let zone = Zone::preferred(&call.headers);
    let response = page(call, mailbox, what, items, |item| {
        if let Value::Object(map) = item {
            event_json::show_in(map, &zone);
        }
    })?;
    Ok(applied(response, &zone))
}

/// Adds `Preference-Applied` when the client's zone was used.
fn applied(mut response: Response, zone: &Zone) -> Response {
    if let Some(v) = zone.applied().and_then(|v| HeaderValue::from_str(&v).ok()) {
        response.headers_mut().insert("preference-applied", v);
    }
    response
}

/// `GET …/events`: single events and series masters, by start.
async fn list(call: &Call, mailbox: RecipientId, calendar: Option<&str>) -> Result<Response> {
    let (acting, folder) = standing(call, mailbox, Need::CalendarRead, calendar)?;
    let (access, events) = call.state.deputy.calendar_events(acting.principal, folder).await.map_err(calendar_error)?;
    readable(&access)?;
    let (_, address) = identity(call, mailbox)?;
    let mut shown: Vec<(String, Value)> = events
        .iter()
        .filter_map(|stored| {
            let start =
                stored.calendar.master(stored.uid()).and_then(|m| m.start.as_ref()).map(|s| s.naive().to_string());
            Some((start.unwrap_or_default(), master_json(stored, &access, folder, &address)?))
        })
        .collect();
    shown.sort_by(|a, b| a.0.cmp(&b.0));
    event_page(call, mailbox, "events", shown.into_iter().map(|(_, v)| v).collect())
}

/// The stored series an id names, readable by the caller.
pub(crate) async fn load(
    call: &Call,
    acting: Acting,
    folder: FolderId,
    uid: &str,
) -> Result<(CalendarAccess, StoredEvent)> {
    let (access, stored) =
        call.state.deputy.calendar_event(acting.principal, folder, uid).await.map_err(calendar_error)?;
    readable(&access)?;
    let stored = stored.ok_or_else(GraphError::not_found)?;
    Ok((access, stored))
}

/// One event (a series, or one occurrence by its id), projected, its times
/// on the preferred zone's clock.
pub(crate) async fn event_value(
    call: &Call,
    acting: Acting,
    folder: FolderId,
    mailbox: RecipientId,
    id: &str,
) -> Result<Value> {
    let (uid, occurrence) = event_ref(folder, id)?;
    let (access, stored) = load(call, acting, folder, &uid).await?;
    let (_, address) = identity(call, mailbox)?;
    let mut value = match occurrence {
        None => master_json(&stored, &access, folder, &address),
        Some(at) => match instance(&stored.calendar, &uid, at) {
            Ok(occ) => occ.and_then(|occ| instance_json(&stored, &access, folder, &address, &occ)),
            Err(e) => {
                tracing::info!(uid, error = %e, "an event could not be expanded to find an occurrence");
                None
            }
        },
    }
    .ok_or_else(GraphError::not_found)?;
    value["@odata.context"] = json!(context(call, mailbox, "events/$entity"));
    if let Value::Object(map) = &mut value {
        event_json::show_in(map, &Zone::preferred(&call.headers));
    }
    Ok(value)
}

/// An answer carrying one event, with `Preference-Applied` when due.
pub(crate) fn event_answer(call: &Call, status: StatusCode, value: Value) -> Response {
    applied((status, axum::Json(value)).into_response(), &Zone::preferred(&call.headers))
}

/// `GET …/events/{id}`.
async fn get(call: &Call, mailbox: RecipientId, calendar: Option<&str>, id: &str) -> Result<Response> {
    let (acting, folder) = standing(call, mailbox, Need::CalendarRead, calendar)?;
    let query = odata::parse(&call.query).map_err(odata_error)?;
    let value = event_value(call, acting, folder, mailbox, id).await?;
    let Value::Object(map) = value else { return Err(GraphError::not_found()) };
    Ok(event_answer(call, StatusCode::OK, Value::Object(odata::project(map, query.select.as_deref()))))
}

/// Invitations, updates and cancellations go out only for the primary
/// calendar: the core sends meetings from there (`send_meeting`), and a
/// meeting stored elsewhere without its messages would mislead everyone.
pub(crate) fn meetings_allowed(call: &Call, mailbox: RecipientId, folder: FolderId) -> Result<()> {
    if call.state.deputy.read(|s| s.calendar_folder(mailbox)) == Some(folder) {
        return Ok(());
    }
    Err(GraphError::new(
        StatusCode::BAD_REQUEST,
        "ErrorInvalidRequest",
        "Meetings with attendees are sent from the primary calendar only; use /events or /calendar/events.",
    ))
}

/// Whether anyone but the mailbox is invited, so a change is sent to them.
pub(crate) fn has_guests(event: &Event, mailbox: &str) -> bool {
    event.attendees.iter().any(|a| !a.address.eq_ignore_ascii_case(mailbox))
}

/// Sends the series to its attendees; a queued message wakes the outbound worker.
pub(crate) async fn send(call: &Call, acting: Acting, mailbox: RecipientId, uid: &str, cancel: bool) -> Result<()> {
    let sent = call.state.deputy.send_meeting(acting.principal, mailbox, uid, cancel).await.map_err(calendar_error)?;
    if sent.is_some_and(|s| s.queued > 0) {
        call.state.queued.notify_one();
    }
    Ok(())
}

/// `POST …/events`: a new event in the calendar; with attendees the
/// mailbox is its organizer and the invitations go out (on her behalf when
/// a delegate creates it).
async fn create(call: &Call, mailbox: RecipientId, calendar: Option<&str>) -> Result<Response> {
    let (acting, folder) = standing(call, mailbox, Need::CalendarWrite, calendar)?;
    access(call, acting, folder)?;
    let body = json_body(call)?;
    if !body.contains_key("start") || !body.contains_key("end") {
        return Err(GraphError::bad_request("The properties 'start' and 'end' are required."));
    }
    let (name, address) = identity(call, mailbox)?;
    let uid = format!("{}", uuid::Uuid::new_v4());
    let mut event = Event { uid: uid.clone(), dtstamp: Some(Utc::now()), ..Event::default() };
    event_json::apply(&mut event, &body)?;
    event.organizer = Some(event_json::organizer(&name, &address));
    let guests = has_guests(&event, &address);
    if guests {
        meetings_allowed(call, mailbox, folder)?;
    }
    let mut calendar = Calendar::new(None);
    calendar.events.push(event);
    let deputy = &call.state.deputy;
    deputy.save_event(acting.principal, folder, calendar).await.map_err(calendar_error)?;
    if guests {
        send(call, acting, mailbox, &uid, false).await?;
    }
    let value = event_value(call, acting, folder, mailbox, &ids::event(folder, &uid, None)).await?;
    Ok(event_answer(call, StatusCode::CREATED, value))
}

/// `PATCH …/events/{id}`: changes the series (one occurrence: see
/// `occurrences`); when the mailbox organizes a meeting and its time, place,
/// subject or attendees changed, the update is sent to the attendees with a
/// higher SEQUENCE.
async fn update(call: &Call, mailbox: RecipientId, calendar: Option<&str>, id: &str) -> Result<Response> {
    let (acting, folder) = standing(call, mailbox, Need::CalendarWrite, calendar)?;
    let (uid, occurrence) = event_ref(folder, id)?;
    if let Some(at) = occurrence {
        return occurrences::update(call, mailbox, (acting, folder), (&uid, at), id).await;
    }
    let (access, stored) = load(call, acting, folder, &uid).await?;
    let body = json_body(call)?;
    let mut calendar = stored.calendar;
    let index = calendar.events.iter().position(|e| e.uid == uid && e.recurrence_id.is_none()).unwrap_or(0);
    let Some(master) = calendar.events.get_mut(index) else { return Err(GraphError::not_found()) };
    if project(master, &access.viewer).is_none() {
        return Err(GraphError::not_found());
    }
    let (_, address) = identity(call, mailbox)?;
    let timing = (master.start.clone(), master.end.clone(), master.duration, master.rrule.clone());
    let changed = event_json::apply(master, &body)?;
    // The exceptions and deleted occurrences named instances of the old
    // timing; like Outlook ("any exceptions associated with this recurring
    // appointment will be lost"), a new timing starts the series afresh.
    let retimed = timing != (master.start.clone(), master.end.clone(), master.duration, master.rrule.clone());
    if retimed {
        master.exdates.clear();
    }
    let organizer = master.organizer.is_none() || master.is_organizer(&address);
    let notify = changed && organizer && has_guests(master, &address);
    if notify {
        meetings_allowed(call, mailbox, folder)?;
        master.sequence = master.sequence.saturating_add(1);
    }
    master.dtstamp = Some(Utc::now());
    if retimed {
        calendar.events.retain(|e| e.uid != uid || e.recurrence_id.is_none());
    }
    call.state.deputy.save_event(acting.principal, folder, calendar).await.map_err(calendar_error)?;
    if notify {
        send(call, acting, mailbox, &uid, false).await?;
    }
    Ok(event_answer(call, StatusCode::OK, event_value(call, acting, folder, mailbox, id).await?))
}

/// `DELETE …/events/{id}`: removes the series (one occurrence: see
/// `occurrences`); a meeting the mailbox
/// organizes is cancelled with its attendees first (only once the caller's
/// right to delete it is established).
async fn delete(call: &Call, mailbox: RecipientId, calendar: Option<&str>, id: &str) -> Result<Response> {
    let (acting, folder) = standing(call, mailbox, Need::CalendarWrite, calendar)?;
    let (uid, occurrence) = event_ref(folder, id)?;
    if let Some(at) = occurrence {
        return occurrences::delete(call, mailbox, (acting, folder), (&uid, at)).await;
    }
    let (access, stored) = load(call, acting, folder, &uid).await?;
    let deputy = &call.state.deputy;
    let master = stored.calendar.master(&uid).or_else(|| stored.calendar.events.first());
    if master.is_none_or(|m| project(m, &access.viewer).is_none()) {
        return Err(GraphError::not_found());
    }
    let (_, address) = identity(call, mailbox)?;
    let meeting = master.is_some_and(|m| m.is_organizer(&address) && has_guests(m, &address));
    if meeting && !stored.calendar.events.iter().all(|e| e.status == Some(deputy_calendar::Status::Cancelled)) {
        meetings_allowed(call, mailbox, folder)?;
        let op = deputy_access::FolderOp::DeleteItem { creator: stored.entry.creator };
        deputy.require(acting.principal, folder, op).map_err(|e| calendar_error(e.into()))?;
        send(call, acting, mailbox, &uid, true).await?;
    }
    deputy.remove_event(acting.principal, folder, &uid).await.map_err(calendar_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST …/events/{id}/accept|decline|tentativelyAccept` `{comment, sendResponse}`:
/// the owner, or a delegate for her, answers; the reply goes to the organizer
/// `From:` the mailbox, `Sender:` the delegate (spec §3.3, §10).
async fn respond(call: &Call, mailbox: RecipientId, id: &str, answer: EventAnswer) -> Result<Response> {
    let (acting, folder) = standing(call, mailbox, Need::CalendarWrite, None)?;
    let (uid, _) = event_ref(folder, id)?;
    load(call, acting, folder, &uid).await?;
    let body = json_body(call)?;
    if let Some(key) = body.keys().find(|k| !k.starts_with('@') && *k != "comment" && *k != "sendResponse") {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "RequestBodyRead",
            format!("The property '{key}' does not exist on this action."),
        ));
    }
    let comment = match body.get("comment") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()).filter(|s| !s.is_empty()),
        Some(_) => return Err(GraphError::bad_request("Invalid value for property 'comment'.")),
    };
    let send_response = match body.get("sendResponse") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(GraphError::bad_request("Invalid value for property 'sendResponse'.")),
    };
    let partstat = match answer {
        EventAnswer::Accept => PartStat::Accepted,
        EventAnswer::Decline => PartStat::Declined,
        EventAnswer::TentativelyAccept => PartStat::Tentative,
    };
    let (_, sent) = call
        .state
        .deputy
        .respond_to_event(acting.principal, mailbox, &uid, partstat, comment, send_response)
        .await
        .map_err(calendar_error)?;
    if sent.is_some_and(|s| s.queued > 0) {
        call.state.queued.notify_one();
    }
    Ok(StatusCode::ACCEPTED.into_response())
}

/// A `calendarView` bound: an ISO 8601 date-time, with or without offset
/// (none means UTC).
fn bound(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| event_json::parse_local(raw).map(|t| t.and_utc()))
}

/// The window `startDateTime`/`endDateTime` of `calendarView` and `instances`.
pub(crate) fn window(call: &Call) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let param = |name: &str| {
        call.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            let k = percent_encoding::percent_decode_str(k).decode_utf8_lossy();
            k.eq_ignore_ascii_case(name).then(|| {
                percent_encoding::percent_decode_str(v).decode_utf8_lossy().replace('+', " ").trim().to_owned()
            })
        })
    };
    let invalid = |m: &str| GraphError::new(StatusCode::BAD_REQUEST, "ErrorInvalidParameter", m.to_owned());
    let (Some(start), Some(end)) = (param("startDateTime"), param("endDateTime")) else {
        return Err(invalid(
            "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.",
        ));
    };
    // A `+` in an offset arrives as a space when the client did not encode it.
    let (Some(start), Some(end)) = (bound(&start.replace(' ', "+")), bound(&end.replace(' ', "+"))) else {
        return Err(invalid("The value of StartDateTime or EndDateTime is not a valid ISO 8601 date and time."));
    };
    if end <= start {
        return Err(invalid("EndDateTime must be later than StartDateTime."));
    }
    if end - start > TimeDelta::days(MAX_WINDOW_DAYS) {
        return Err(invalid("The time window may not be longer than 1,825 days."));
    }
    Ok((start, end))
}

/// `GET …/calendarView?startDateTime=&endDateTime=`: every occurrence in the
/// window, recurrences expanded (bounded per series), by start.
async fn view(call: &Call, mailbox: RecipientId, calendar: Option<&str>) -> Result<Response> {
    let (acting, folder) = standing(call, mailbox, Need::CalendarRead, calendar)?;
    let (start, end) = window(call)?;
    let (access, events) = call.state.deputy.calendar_events(acting.principal, folder).await.map_err(calendar_error)?;
    readable(&access)?;
    let (_, address) = identity(call, mailbox)?;
    let mut all: Vec<(DateTime<Utc>, Value)> =
        events.iter().flat_map(|stored| occurrences(stored, &access, folder, &address, (start, end))).collect();
    all.sort_by_key(|(at, _)| *at);
    event_page(call, mailbox, "calendarView", all.into_iter().map(|(_, v)| v).collect())
}
