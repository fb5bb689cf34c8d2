//! Deputy's calendar logic, pure and I/O-free: the core and the doors (Graph
//! events, CalDAV, mail delivery) call it; it never reads a clock, a file or
//! the network, and never panics on input.
//!
//! # What it offers
//!
//! - **iCalendar (RFC 5545)**: [`parse`] / [`parse_with`] text into a
//!   [`Calendar`] of [`Event`]s (everything not modelled is kept, and the
//!   input text stays available as [`Calendar::raw`]); [`Calendar::to_ics`]
//!   writes it back. [`ingest`] is the door for bytes from outside: size cap,
//!   UTF-8, [`Limits`], and what a mailbox refuses to store.
//! - **Recurrence**: [`expand`] gives one series' [`Occurrence`]s in a UTC
//!   window, bounded (see [`recur`]); [`instance`] finds one by its original
//!   start (RECURRENCE-ID), however far an override moved it, and
//!   [`instance_value`] writes an instant in DTSTART's form for a new
//!   RECURRENCE-ID or EXDATE.
//! - **Privacy and free/busy** (spec §5, §10): [`project`] shows an event as
//!   a viewer with a given [`Visibility`] may see it; [`free_busy`] gives
//!   busy intervals.
//! - **iTIP (RFC 5546)**: [`process`] computes what an incoming message does
//!   to the stored copy ([`ItipOutcome`]); [`reply`], [`request`] and
//!   [`cancel`] build messages, with `SENT-BY` when a delegate acts.
//! - **iMIP (RFC 6047)**: [`extract`] finds the `text/calendar` part of a
//!   message; [`build_imip`] writes one.
//!
//! # How the rest of Deputy is meant to use it
//!
//! - *Delivery* (core `mail`): for each local recipient, `extract(raw)`; if a
//!   part is found, load the recipient's stored object for its UID (all
//!   components of that UID), `process(stored, &incoming, recipient,
//!   envelope_sender)`, then store `ItipOutcome::Store`'s calendar (with
//!   `to_ics()`), and let the core apply §10 (who gets the message:
//!   `sendToDelegateOnly` …) — this crate decides nothing about delegates
//!   (a message's own `SENT-BY` proves nothing: it is the sender's claim);
//!   [`ItipOutcome::Store::acted_by`] tells the core whose right to check.
//! - *A delegate answering for the manager* (Graph `accept`/`decline`,
//!   CalDAV scheduling): the core checks the §10 delegate flag, then
//!   `reply(&event, manager, PartStat::Accepted, Some(delegate), now)` and
//!   `build_imip` with `From: manager`, `Sender: delegate` (spec §3.3).
//! - *Reading a calendar* (Graph `/events`, `/calendarView`, CalDAV): the
//!   core maps the folder role and `SharingPermissionFlags` to a
//!   [`Viewer`] (`AvailabilityOnly` → `FreeBusy`, `LimitedDetails` →
//!   `Limited`, Reviewer and up → `Full`; `CanViewPrivateItems` or Full
//!   Access → `can_view_private`) and passes every event through
//!   [`project`]; `getSchedule`/free-busy uses [`free_busy`].
//!
//! Time is always an argument (`dtstamp`, windows): the caller owns the clock.
//!
//! # Decisions
//!
//! - **Reader and writer are Deputy's own** (`syntax`): they give errors with
//!   the line and property, enforce [`Limits`] while reading, and keep every
//!   unmodelled property, parameter and component, so
//!   parse → [`Calendar::to_ics`] → parse gives the same [`Calendar`].
//!   `calcard` (Stalwart) is used for what is hard to get right: RRULE
//!   expansion and time zone names.
//! - **Time zones**: a TZID is resolved as an IANA name, a Windows name, or a
//!   VTIMEZONE matched by its TZID, `X-LIC-LOCATION` or
//!   `X-MICROSOFT-CDO-TZID` (CalConnect's advice: trust the name, not the
//!   rules); an unresolvable TZID, floating times and all-day dates are read
//!   on the UTC clock. A time in a DST gap moves forward by the gap, a time
//!   in an overlap takes the first instant (RFC 5545 §3.3.5).
//! - **Private events** without private access become busy time with the
//!   subject [`PRIVATE_SUBJECT`] ("Private Appointment", what Outlook shows a
//!   Reviewer) for Full and Limited viewers, and bare time for FreeBusy
//!   viewers; CONFIDENTIAL and unknown classes count as private (RFC 5545).
//! - **Free/busy**: `X-MICROSOFT-CDO-BUSYSTATUS` wins (Outlook's own), then
//!   TRANSP:TRANSPARENT is free, then STATUS:TENTATIVE or an unanswered /
//!   tentative owner is tentative; cancelled and declined events are left out.
//! - **Ingest** refuses sub-daily RRULEs (SECONDLY, MINUTELY, HOURLY):
//!   Exchange has no such pattern (Graph's `recurrencePattern` is daily at
//!   finest) and they are the cheap way to make expansion expensive.
//!   [`parse`] accepts them; [`expand`] bounds them anyway.
//! - **iTIP**: an update or CANCEL must carry the stored ORGANIZER (an
//!   appointment without one is no meeting and no message changes it) and,
//!   when the sender is known, come from her address; a REPLY must come from
//!   the attendee's address (a `SENT-BY` in the message is only the sender's
//!   claim, so it is recorded, never trusted). A same-SEQUENCE update keeps
//!   the recipient's answer, a higher one asks again. A CANCEL or REPLY for
//!   one instance with no override yet creates one from the master
//!   ([`Event::instance_at`]). ADD is merged like an instance update.

mod error;
mod imip;
mod itip;
mod model;
mod privacy;
mod read;
pub mod recur;
mod syntax;
mod value;
mod write;

pub use error::{Error, Result};
pub use imip::{ImipHeaders, ImipPart, MailAddress, build_imip, extract};
pub use itip::{IgnoreReason, ItipOutcome, StoreChange, cancel, process, reply, request};
pub use model::{
    Attendee, Calendar, Class, CuType, Event, Method, Organizer, PartStat, RecurrenceId, Role, Status, Transparency,
    same_address,
};
pub use privacy::{BusyInterval, BusyStatus, FreeBusy, PRIVATE_SUBJECT, Viewer, Visibility, free_busy, project};
pub use read::{ingest, parse, parse_with};
pub use recur::{Expansion, MAX_EXPANSION_STEPS, Occurrence, expand, instance, instance_value};
pub use syntax::{Component, Param, Property, escape_text, unescape_text};
pub use value::{DateTimeValue, Frequency, RecurrenceRule, format_duration, parse_duration};

/// The PRODID Deputy writes.
pub const PRODID: &str = "-//Deputy//Deputy Calendar//EN";

/// Bounds on what a parse accepts, so hostile input costs bounded time and
/// memory. [`Limits::default`] is what [`parse`] and [`ingest`] use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Input size in bytes (default 1 MiB).
    pub max_bytes: usize,
    /// Components in the object, nested ones included (default 1,000).
    pub max_components: usize,
    /// Content lines in the object (default 20,000).
    pub max_properties: usize,
    /// Component nesting depth (default 8; VCALENDAR > VTIMEZONE > STANDARD
    /// needs 3, VCALENDAR > VEVENT > VALARM needs 3).
    pub max_depth: usize,
    /// Attendees of one event (default 1,000).
    pub max_attendees: usize,
    /// RDATE and EXDATE values of one event, each (default 5,000).
    pub max_dates: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 1 << 20,
            max_components: 1_000,
            max_properties: 20_000,
            max_depth: 8,
            max_attendees: 1_000,
            max_dates: 5_000,
        }
    }
}
