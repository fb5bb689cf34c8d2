//! What a viewer may see of a calendar (spec §5 calendar roles, §10 private
//! items): projection of events, and free/busy.

use chrono::{DateTime, Utc};

use crate::Error;
use crate::model::{Calendar, Event, PartStat, Status, Transparency};
use crate::recur::expand;

/// The subject shown in place of a private event's (what Outlook shows to
/// someone with read access but without private-item access).
pub const PRIVATE_SUBJECT: &str = "Private Appointment";

/// How much of a calendar's events a viewer sees (spec §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Visibility {
    /// Everything (Reviewer and up, delegates, the owner).
    Full,
    /// Time, busy status, subject and location (`LimitedDetails`, Graph
    /// `limitedRead`).
    Limited,
    /// Time and busy status only (`AvailabilityOnly`, Graph `freeBusyRead`).
    FreeBusy,
    /// Nothing (`None`).
    None,
}

/// Who is looking, as the core decided it from folder rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Viewer {
    /// What the viewer's role shows.
    pub visibility: Visibility,
    /// The owner, a delegate with `CanViewPrivateItems`, or a Full Access
    /// holder (spec §10): private events are shown like others.
    pub can_view_private: bool,
}

impl Viewer {
    /// The calendar's owner: sees everything.
    pub fn owner() -> Self {
        Self { visibility: Visibility::Full, can_view_private: true }
    }
}

/// The event as `viewer` may see it, or `None` when it is hidden.
///
/// A private event (CLASS PRIVATE, CONFIDENTIAL or unknown) seen without
/// private access keeps only its time and busy status, with the subject
/// [`PRIVATE_SUBJECT`] for Limited and Full viewers (spec §10: "private
/// items show only free/busy time"). A FreeBusy viewer never sees a
/// subject, a location, or the CLASS itself.
pub fn project(event: &Event, viewer: &Viewer) -> Option<Event> {
    let hide_private = event.is_private() && !viewer.can_view_private;
    match viewer.visibility {
        Visibility::None => None,
        Visibility::FreeBusy => Some(time_only(event)),
        Visibility::Limited | Visibility::Full if hide_private => {
            Some(Event { summary: Some(PRIVATE_SUBJECT.to_owned()), class: event.class.clone(), ..time_only(event) })
        }
        Visibility::Limited => Some(Event {
            summary: event.summary.clone(),
            location: event.location.clone(),
            class: event.class.clone(),
            ..time_only(event)
        }),
        Visibility::Full => Some(event.clone()),
    }
}

/// Identity, time and busy status; nothing a person wrote.
fn time_only(event: &Event) -> Event {
    Event {
        uid: event.uid.clone(),
        recurrence_id: event.recurrence_id.clone(),
        sequence: event.sequence,
        dtstamp: event.dtstamp,
        start: event.start.clone(),
        end: event.end.clone(),
        duration: event.duration,
        rrule: event.rrule.clone(),
        rdates: event.rdates.clone(),
        exdates: event.exdates.clone(),
        transparency: event.transparency,
        status: event.status,
        extra: event
            .extra
            .iter()
            .filter(|p| p.name == "RDATE" || p.name == "X-MICROSOFT-CDO-BUSYSTATUS")
            .cloned()
            .collect(),
        ..Event::default()
    }
}

/// Free/busy status of an interval (Graph `freeBusyStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BusyStatus {
    /// Shown, but does not block time (TRANSP:TRANSPARENT).
    Free,
    /// Tentative: STATUS:TENTATIVE, or the owner has not answered or
    /// answered tentatively.
    Tentative,
    /// Busy.
    Busy,
    /// Out of office (`X-MICROSOFT-CDO-BUSYSTATUS:OOF`).
    OutOfOffice,
}

/// One interval of free/busy time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BusyInterval {
    /// Start instant.
    pub start: DateTime<Utc>,
    /// End instant (exclusive).
    pub end: DateTime<Utc>,
    /// Status.
    pub status: BusyStatus,
}

/// Free/busy over a window.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FreeBusy {
    /// Intervals by start (cancelled and declined events left out).
    pub intervals: Vec<BusyInterval>,
    /// True when some series was cut by an expansion bound.
    pub truncated: bool,
    /// Series that could not be expanded, with why; the rest is still shown.
    pub failed: Vec<(String, Error)>,
}

/// Free/busy of `calendar` over `[window_start, window_end)`, at most
/// `max_per_series` intervals per series. `owner` is the calendar's owner:
/// an event she declined is left out, one she has not answered is tentative.
pub fn free_busy(
    calendar: &Calendar,
    owner: Option<&str>,
    window_start: DateTime<Utc>,
    window_end: DateTime<Utc>,
    max_per_series: usize,
) -> FreeBusy {
    let mut result = FreeBusy::default();
    for uid in calendar.uids() {
        match expand(calendar, uid, window_start, window_end, max_per_series) {
            Ok(expansion) => {
                result.truncated |= expansion.truncated;
                for occurrence in expansion.occurrences {
                    let Some(event) = calendar.events.get(occurrence.event) else { continue };
                    if let Some(status) = busy_status(event, owner) {
                        result.intervals.push(BusyInterval { start: occurrence.start, end: occurrence.end, status });
                    }
                }
            }
            Err(error) => result.failed.push((uid.to_owned(), error)),
        }
    }
    result.intervals.sort();
    result
}

fn busy_status(event: &Event, owner: Option<&str>) -> Option<BusyStatus> {
    if event.status == Some(Status::Cancelled) {
        return None;
    }
    let answer = owner.and_then(|o| event.attendee(o)).filter(|_| !owner.is_some_and(|o| event.is_organizer(o)));
    let answer = answer.map(|a| a.partstat.clone().unwrap_or(PartStat::NeedsAction));
    if answer == Some(PartStat::Declined) {
        return None;
    }
    let outlook = event.extra.iter().find(|p| p.name == "X-MICROSOFT-CDO-BUSYSTATUS");
    match outlook.map(|p| p.value.trim().to_ascii_uppercase()).as_deref() {
        Some("FREE") => return Some(BusyStatus::Free),
        Some("TENTATIVE") => return Some(BusyStatus::Tentative),
        Some("OOF") => return Some(BusyStatus::OutOfOffice),
        Some("BUSY") => return Some(BusyStatus::Busy),
        _ => {}
    }
    if event.transparency == Some(Transparency::Transparent) {
        return Some(BusyStatus::Free);
    }
    if event.status == Some(Status::Tentative) || matches!(answer, Some(PartStat::NeedsAction | PartStat::Tentative)) {
        return Some(BusyStatus::Tentative);
    }
    Some(BusyStatus::Busy)
}
