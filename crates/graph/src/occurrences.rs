//! Single occurrences of a series through Graph: `GET …/events/{id}/instances`
//! (Graph's "List instances": the occurrences and exceptions in a window,
//! not the series master), and `PATCH`/`DELETE` of an occurrence id (the
//! series id with the occurrence's original start, see `ids`).
//!
//! A changed occurrence is kept as an exception: a VEVENT with RECURRENCE-ID
//! in the series' own iCalendar object (RFC 5545 §3.8.4.4), which expansion
//! shows in place of the occurrence. A deleted one becomes an EXDATE of the
//! master (§3.8.5.1), its exception removed, so it leaves calendarView and
//! instances as Graph's deleted occurrences do.
//!
//! Rights are the series' own: the change is a new version of the series'
//! item, so the core's `save_event` decides (edit rights, private items), and
//! a deletion also needs the right to delete that item. A meeting the
//! mailbox organizes is sent again to its attendees as a REQUEST of the whole
//! series (RFC 5546 §3.2.2: master, exceptions and EXDATEs), the one form
//! the core's `send_meeting` sends; an attendee's copy is replaced by it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use deputy_access::FolderOp;
use deputy_calendar::{Calendar, Occurrence, instance, instance_value, project};
use deputy_types::{FolderId, RecipientId};

use crate::Call;
use crate::auth::{Acting, Need};
use crate::error::GraphError;
use crate::event_json;
use crate::events::{
    calendar_error, event_answer, event_page, event_ref, event_value, has_guests, identity, is_recurring, load,
    meetings_allowed, occurrences, send, standing, window,
};
use crate::mail::json_body;

type Result<T> = std::result::Result<T, GraphError>;

/// `GET …/events/{id}/instances?startDateTime=&endDateTime=`: the series'
/// occurrences and exceptions overlapping the window, by start (an event
/// that does not recur is its own single instance).
pub(crate) async fn instances(call: &Call, mailbox: RecipientId, calendar: Option<&str>, id: &str) -> Result<Response> {
    let (acting, folder) = standing(call, mailbox, Need::CalendarRead, calendar)?;
    let (start, end) = window(call)?;
    let (uid, occurrence) = event_ref(folder, id)?;
    // Only a series master (or a single event) has instances.
    if occurrence.is_some() {
        return Err(GraphError::not_found());
    }
    let (access, stored) = load(call, acting, folder, &uid).await?;
    if stored.calendar.master(&uid).is_none_or(|m| project(m, &access.viewer).is_none()) {
        return Err(GraphError::not_found());
    }
    let (_, address) = identity(call, mailbox)?;
    let items = occurrences(&stored, &access, folder, &address, (start, end)).into_iter().map(|(_, v)| v).collect();
    event_page(call, mailbox, &format!("events('{id}')/instances"), items)
}

/// The occurrence of the series `uid` first scheduled at `at`, if the
/// series recurs and has one there.
fn find(calendar: &Calendar, uid: &str, at: DateTime<Utc>) -> Result<Occurrence> {
    if !is_recurring(calendar, uid) {
        return Err(GraphError::not_found());
    }
    match instance(calendar, uid, at) {
        Ok(Some(occ)) => Ok(occ),
        Ok(None) => Err(GraphError::not_found()),
        Err(e) => {
            tracing::info!(uid, error = %e, "a series could not be expanded to find an occurrence");
            Err(GraphError::not_found())
        }
    }
}

/// `PATCH` of an occurrence: its exception is created (from the master) or
/// changed; a meeting the mailbox organizes is sent again with the
/// exception's SEQUENCE raised, so attendees are asked about that
/// occurrence only (RFC 5546 §2.1.4).
pub(crate) async fn update(
    call: &Call,
    mailbox: RecipientId,
    (acting, folder): (Acting, FolderId),
    (uid, at): (&str, DateTime<Utc>),
    id: &str,
) -> Result<Response> {
    let (access, stored) = load(call, acting, folder, uid).await?;
    let body = json_body(call)?;
    if body.get("recurrence").is_some_and(|r| !r.is_null()) {
        return Err(GraphError::bad_request(
            "Invalid value for property 'recurrence': an occurrence has no recurrence of its own; change the series (seriesMasterId).",
        ));
    }
    let mut calendar = stored.calendar;
    let occ = find(&calendar, uid, at)?;
    let master = calendar.master(uid).ok_or_else(GraphError::not_found)?;
    if project(master, &access.viewer).is_none() {
        return Err(GraphError::not_found());
    }
    let (_, address) = identity(call, mailbox)?;
    let organizer = master.organizer.is_none() || master.is_organizer(&address);
    let master_sequence = master.sequence;
    let index = if occ.overridden {
        occ.event
    } else {
        let rid = instance_value(&calendar, uid, at).ok_or_else(GraphError::not_found)?;
        let exception = master.instance_at(&rid);
        calendar.events.push(exception);
        calendar.events.len() - 1
    };
    let Some(exception) = calendar.events.get_mut(index) else { return Err(GraphError::not_found()) };
    let changed = event_json::apply(exception, &body)?;
    let notify = changed && organizer && has_guests(exception, &address);
    if notify {
        meetings_allowed(call, mailbox, folder)?;
        exception.sequence = exception.sequence.max(master_sequence).saturating_add(1);
    }
    exception.dtstamp = Some(Utc::now());
    call.state.deputy.save_event(acting.principal, folder, calendar).await.map_err(calendar_error)?;
    if notify {
        send(call, acting, mailbox, uid, false).await?;
    }
    Ok(event_answer(call, StatusCode::OK, event_value(call, acting, folder, mailbox, id).await?))
}

/// `DELETE` of an occurrence: an EXDATE on the master, its exception gone.
/// A meeting the mailbox organizes is sent again with the master's SEQUENCE
/// raised (RFC 5546 §2.1.4 counts EXDATE among the changes that raise it).
pub(crate) async fn delete(
    call: &Call,
    mailbox: RecipientId,
    (acting, folder): (Acting, FolderId),
    (uid, at): (&str, DateTime<Utc>),
) -> Result<Response> {
    let (access, stored) = load(call, acting, folder, uid).await?;
    let mut calendar = stored.calendar;
    let occ = find(&calendar, uid, at)?;
    let master = calendar.master(uid).ok_or_else(GraphError::not_found)?;
    if project(master, &access.viewer).is_none() {
        return Err(GraphError::not_found());
    }
    // Removing an occurrence deletes part of the series: the right to delete
    // its item first, then `save_event`'s right to change it.
    let deputy = &call.state.deputy;
    let op = FolderOp::DeleteItem { creator: stored.entry.creator };
    deputy.require(acting.principal, folder, op).map_err(|e| calendar_error(e.into()))?;
    let (_, address) = identity(call, mailbox)?;
    let notify = master.is_organizer(&address) && has_guests(master, &address);
    let rid = instance_value(&calendar, uid, at).ok_or_else(GraphError::not_found)?;
    if occ.overridden {
        calendar.events.remove(occ.event);
    }
    let Some(master) = calendar.events.iter_mut().find(|e| e.uid == uid && e.recurrence_id.is_none()) else {
        return Err(GraphError::not_found());
    };
    master.exdates.push(rid);
    if notify {
        meetings_allowed(call, mailbox, folder)?;
        master.sequence = master.sequence.saturating_add(1);
    }
    master.dtstamp = Some(Utc::now());
    deputy.save_event(acting.principal, folder, calendar).await.map_err(calendar_error)?;
    if notify {
        send(call, acting, mailbox, uid, false).await?;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
