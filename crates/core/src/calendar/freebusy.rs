//! Free/busy of a mailbox's calendar, for Graph's `getSchedule` and CalDAV's
//! `free-busy-query` and scheduling-outbox lookups (spec §5, §10).
//!
//! Anyone in the organization sees a colleague's free/busy through the
//! Calendar's `Default` entry (AvailabilityOnly); what more a busy item shows
//! follows the viewer: `LimitedDetails` and up add the subject and location
//! of items that are not private (Exchange's free/busy "with details"),
//! private items only to a viewer who may see private items. A mailbox whose
//! calendar the viewer may not even see free/busy of (a `Default` of `None`,
//! a hidden mailbox) is `NotFound`, like a missing one.
//!
//! Bounds: the window is at most [`MAX_WINDOW_DAYS`] (Exchange's own
//! `getSchedule` limit), each series gives at most [`MAX_PER_SERIES`]
//! occurrences, and the whole answer at most [`MAX_ITEMS`]; a cut answer says
//! `truncated`.

use chrono::{DateTime, TimeDelta, Utc};
use deputy_calendar::{BusyStatus, Event, Visibility, expand, free_busy};
use deputy_types::RecipientId;

use super::items::unwrap;
use super::{CalendarAccess, CalendarError};
use crate::{Deputy, State};

/// The longest window asked at once (Exchange Online refuses `getSchedule`
/// windows over 62 days).
pub const MAX_WINDOW_DAYS: i64 = 62;
/// Occurrences of one series looked at, at most. Ingest refuses rules finer
/// than daily, so a 62-day window never needs more than 63 of one series;
/// the bound is for rules that got in some other way.
pub const MAX_PER_SERIES: usize = 1_000;
/// Busy items in one answer, at most.
pub const MAX_ITEMS: usize = 5_000;

/// One busy (or free, tentative, out-of-office) item of the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreeBusyItem {
    /// Start instant (may lie before the window when the item overlaps it).
    pub start: DateTime<Utc>,
    /// End instant, exclusive.
    pub end: DateTime<Utc>,
    /// Its free/busy status.
    pub status: BusyStatus,
    /// The item is private and the viewer sees no details of it. Only told to
    /// viewers with details: a free/busy-only viewer never learns the class.
    pub private: bool,
    /// The subject, for viewers with details (Limited or Full visibility).
    pub subject: Option<String>,
    /// The location, likewise.
    pub location: Option<String>,
}

/// What a viewer sees of a mailbox's free/busy over a window.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FreeBusyView {
    /// The items overlapping the window, by start (cancelled events and
    /// meetings the owner declined are left out).
    pub items: Vec<FreeBusyItem>,
    /// True when a bound cut the answer: more items may exist.
    pub truncated: bool,
}

impl State {
    /// The mailbox whose free/busy `address` asks for, as `principal` may
    /// name it: a mailbox recipient by any of its SMTP addresses; a hidden
    /// one only for itself (it is not in the address lists, so it is
    /// unknown, as every door treats a hidden mailbox).
    pub fn free_busy_mailbox(&self, principal: RecipientId, address: &str) -> Option<RecipientId> {
        let address = address.trim();
        let address = address.strip_prefix("mailto:").or_else(|| address.strip_prefix("MAILTO:")).unwrap_or(address);
        let r = self.dir.by_address(address)?;
        (r.kind.has_mailbox() && (!r.hidden || r.id == principal)).then_some(r.id)
    }
}

impl Deputy {
    /// `mailbox`'s free/busy over `[start, end)` as `principal` may see it;
    /// `Invalid` for an empty, reversed or over-long window, `NotFound` when
    /// the principal may not see even free/busy of the mailbox's calendar.
    pub async fn free_busy(
        &self,
        principal: RecipientId,
        mailbox: RecipientId,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<(CalendarAccess, FreeBusyView), CalendarError> {
        if end <= start {
            return Err(CalendarError::Invalid("the free/busy window must end after it starts".into()));
        }
        if end - start > TimeDelta::days(MAX_WINDOW_DAYS) {
            return Err(CalendarError::Invalid(format!(
                "the free/busy window may span at most {MAX_WINDOW_DAYS} days"
            )));
        }
        let (folder, owner) = self
            .read(|s| Some((s.calendar_folder(mailbox)?, s.dir.get(mailbox)?.primary_smtp.as_ref()?.to_string())))
            .ok_or(CalendarError::NotFound)?;
        let access = self.require_calendar(principal, folder)?;
        let mut view = FreeBusyView::default();
        for entry in self.mail.entries(folder).await? {
            let Some(body) = self.mail.body(entry.blob).await? else { continue };
            // An item that no longer parses is skipped, as every reader does.
            let Some(calendar) = unwrap(&body) else { continue };
            view.truncated |= series(&calendar, &owner, start, end, &access, &mut view.items);
            if view.items.len() > MAX_ITEMS {
                view.items.truncate(MAX_ITEMS);
                view.truncated = true;
                break;
            }
        }
        view.items.sort_by_key(|i| (i.start, i.end));
        Ok((access, view))
    }
}

/// Adds one stored series' items to `out`; true when a bound cut it.
///
/// [`free_busy`] decides each occurrence's status and which ones count; the
/// same bounded [`expand`] tells which component (master or override)
/// describes each, so its subject and location can be shown. Both walk the
/// series identically, so an interval is matched to the first unused
/// occurrence with the same start and end.
fn series(
    calendar: &deputy_calendar::Calendar,
    owner: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    access: &CalendarAccess,
    out: &mut Vec<FreeBusyItem>,
) -> bool {
    let busy = free_busy(calendar, Some(owner), start, end, MAX_PER_SERIES);
    let mut truncated = busy.truncated;
    let mut occurrences = Vec::new();
    for uid in calendar.uids() {
        match expand(calendar, uid, start, end, MAX_PER_SERIES) {
            Ok(x) => occurrences.extend(x.occurrences),
            // free_busy reported the same failure; its intervals are none.
            Err(_) => truncated = true,
        }
    }
    let mut used = vec![false; occurrences.len()];
    for interval in busy.intervals {
        let found = occurrences
            .iter()
            .enumerate()
            .position(|(i, o)| !used[i] && o.start == interval.start && o.end == interval.end);
        let event = found.and_then(|i| {
            used[i] = true;
            calendar.events.get(occurrences[i].event)
        });
        let (private, subject, location) = details(event, access);
        out.push(FreeBusyItem {
            start: interval.start,
            end: interval.end,
            status: interval.status,
            private,
            subject,
            location,
        });
    }
    truncated
}

/// What the viewer sees of the event behind an item: (private, subject, location).
fn details(event: Option<&Event>, access: &CalendarAccess) -> (bool, Option<String>, Option<String>) {
    let Some(event) = event else { return (false, None, None) };
    match access.viewer.visibility {
        Visibility::Full | Visibility::Limited => {
            let private = event.is_private();
            if private && !access.viewer.can_view_private {
                (true, None, None)
            } else {
                (private, event.summary.clone(), event.location.clone())
            }
        }
        Visibility::FreeBusy | Visibility::None => (false, None, None),
    }
}
