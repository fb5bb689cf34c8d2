//! Deputy's calendar model: what the doors and the core read and change.
//! Everything not modelled is kept (`extra`, `components`) so a calendar
//! written back loses nothing a client put in it.

use chrono::{DateTime, TimeDelta, Utc};

use crate::syntax::{Component, Param, Property};
use crate::value::{DateTimeValue, RecurrenceRule};

/// An iCalendar object (one `VCALENDAR`). Equality ignores the raw text.
#[derive(Debug, Clone, Eq, Default)]
pub struct Calendar {
    /// `METHOD` (RFC 5546): present on iTIP messages, absent in stores.
    pub method: Option<Method>,
    /// `PRODID`.
    pub prodid: Option<String>,
    /// Every `VEVENT`, masters and overridden instances, in input order.
    pub events: Vec<Event>,
    /// `VTIMEZONE` components, written back as read.
    pub timezones: Vec<Component>,
    /// Other components (`VTODO`, `VJOURNAL`, `VFREEBUSY`, `X-…`), kept.
    pub components: Vec<Component>,
    /// Other calendar properties (`CALSCALE`, `X-WR-CALNAME`, …), kept.
    pub extra: Vec<Property>,
    /// The text this calendar was parsed from, if it was parsed.
    pub(crate) raw: Option<String>,
}

/// iTIP methods (RFC 5546 §1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `PUBLISH`: post an event, no replies expected.
    Publish,
    /// `REQUEST`: invite, update, or reschedule.
    Request,
    /// `REPLY`: an attendee's answer.
    Reply,
    /// `ADD`: add instances to a recurring event.
    Add,
    /// `CANCEL`: cancel the event or instances.
    Cancel,
    /// `REFRESH`: an attendee asks for the latest version.
    Refresh,
    /// `COUNTER`: an attendee proposes a change.
    Counter,
    /// `DECLINECOUNTER`: the organizer refuses a proposal.
    DeclineCounter,
}

/// One `VEVENT`: a whole series (master) or one overridden instance.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Event {
    /// `UID`.
    pub uid: String,
    /// `RECURRENCE-ID`: set on an overridden instance.
    pub recurrence_id: Option<RecurrenceId>,
    /// `SEQUENCE` (0 when absent).
    pub sequence: u32,
    /// `DTSTAMP`.
    pub dtstamp: Option<DateTime<Utc>>,
    /// `SUMMARY`, unescaped.
    pub summary: Option<String>,
    /// `DESCRIPTION`, unescaped.
    pub description: Option<String>,
    /// `LOCATION`, unescaped.
    pub location: Option<String>,
    /// `DTSTART`.
    pub start: Option<DateTimeValue>,
    /// `DTEND` (exclusive).
    pub end: Option<DateTimeValue>,
    /// `DURATION`, when given instead of `DTEND`.
    pub duration: Option<TimeDelta>,
    /// `RRULE`.
    pub rrule: Option<RecurrenceRule>,
    /// `RDATE` values (DATE / DATE-TIME; PERIOD values stay in `extra`).
    pub rdates: Vec<DateTimeValue>,
    /// `EXDATE` values.
    pub exdates: Vec<DateTimeValue>,
    /// `ORGANIZER`.
    pub organizer: Option<Organizer>,
    /// `ATTENDEE`s.
    pub attendees: Vec<Attendee>,
    /// `CLASS` (absent means PUBLIC).
    pub class: Option<Class>,
    /// `TRANSP` (absent means OPAQUE).
    pub transparency: Option<Transparency>,
    /// `STATUS`.
    pub status: Option<Status>,
    /// Other properties (`CREATED`, `X-MICROSOFT-CDO-BUSYSTATUS`, …), kept.
    pub extra: Vec<Property>,
    /// Nested components (`VALARM`), kept.
    pub components: Vec<Component>,
}

/// `RECURRENCE-ID` with its `RANGE` (RFC 5545 §3.8.4.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecurrenceId {
    /// The original start of the instance.
    pub value: DateTimeValue,
    /// `RANGE=THISANDFUTURE`.
    pub this_and_future: bool,
}

/// `ORGANIZER` (RFC 5545 §3.8.4.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Organizer {
    /// E-mail address (`mailto:` removed), or the URI when not `mailto:`.
    pub address: String,
    /// `CN`.
    pub cn: Option<String>,
    /// `SENT-BY`: who acts for the organizer (a delegate), as an address.
    pub sent_by: Option<String>,
    /// Other parameters, kept.
    pub params: Vec<Param>,
}

/// `ATTENDEE` (RFC 5545 §3.8.4.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Attendee {
    /// E-mail address (`mailto:` removed), or the URI when not `mailto:`.
    pub address: String,
    /// `CN`.
    pub cn: Option<String>,
    /// `ROLE` (absent means REQ-PARTICIPANT).
    pub role: Option<Role>,
    /// `PARTSTAT` (absent means NEEDS-ACTION).
    pub partstat: Option<PartStat>,
    /// `RSVP=TRUE`.
    pub rsvp: bool,
    /// `SENT-BY`: who answered for the attendee (a delegate), as an address.
    pub sent_by: Option<String>,
    /// `CUTYPE` (absent means INDIVIDUAL).
    pub cutype: Option<CuType>,
    /// Other parameters (`DELEGATED-TO`, `MEMBER`, …), kept.
    pub params: Vec<Param>,
}

/// `ROLE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Role {
    /// `CHAIR`.
    Chair,
    /// `REQ-PARTICIPANT`.
    ReqParticipant,
    /// `OPT-PARTICIPANT`.
    OptParticipant,
    /// `NON-PARTICIPANT`.
    NonParticipant,
    /// An x-name or IANA token.
    Other(String),
}

/// `PARTSTAT` for events.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PartStat {
    /// `NEEDS-ACTION`.
    NeedsAction,
    /// `ACCEPTED`.
    Accepted,
    /// `DECLINED`.
    Declined,
    /// `TENTATIVE`.
    Tentative,
    /// `DELEGATED`.
    Delegated,
    /// An x-name or IANA token.
    Other(String),
}

/// `CUTYPE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CuType {
    /// `INDIVIDUAL`.
    Individual,
    /// `GROUP`.
    Group,
    /// `RESOURCE`.
    Resource,
    /// `ROOM`.
    Room,
    /// `UNKNOWN`.
    Unknown,
    /// An x-name or IANA token.
    Other(String),
}

/// `CLASS`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Class {
    /// `PUBLIC`.
    Public,
    /// `PRIVATE`.
    Private,
    /// `CONFIDENTIAL`.
    Confidential,
    /// An x-name or IANA token; RFC 5545 says to treat it as PRIVATE.
    Other(String),
}

/// `TRANSP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transparency {
    /// `OPAQUE`: blocks time.
    Opaque,
    /// `TRANSPARENT`: does not block time.
    Transparent,
}

/// `STATUS` for events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// `TENTATIVE`.
    Tentative,
    /// `CONFIRMED`.
    Confirmed,
    /// `CANCELLED`.
    Cancelled,
}

/// Text form of the closed and open enumerations, both ways.
macro_rules! keyword_enum {
    ($ty:ident, open, $($variant:ident => $text:literal),+ $(,)?) => {
        impl $ty {
            /// The iCalendar keyword.
            pub fn as_str(&self) -> &str {
                match self { $(Self::$variant => $text,)+ Self::Other(s) => s }
            }
            /// Reads a keyword (case-insensitive); unknown tokens are kept.
            pub fn parse(s: &str) -> Self {
                let upper = s.trim().to_ascii_uppercase();
                match upper.as_str() { $($text => Self::$variant,)+ _ => Self::Other(upper) }
            }
        }
    };
    ($ty:ident, closed, $($variant:ident => $text:literal),+ $(,)?) => {
        impl $ty {
            /// The iCalendar keyword.
            pub fn as_str(&self) -> &'static str {
                match self { $(Self::$variant => $text,)+ }
            }
            /// Reads a keyword (case-insensitive).
            pub fn parse(s: &str) -> Option<Self> {
                match s.trim().to_ascii_uppercase().as_str() { $($text => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

keyword_enum!(Method, closed, Publish => "PUBLISH", Request => "REQUEST", Reply => "REPLY", Add => "ADD",
    Cancel => "CANCEL", Refresh => "REFRESH", Counter => "COUNTER", DeclineCounter => "DECLINECOUNTER");
keyword_enum!(Role, open, Chair => "CHAIR", ReqParticipant => "REQ-PARTICIPANT",
    OptParticipant => "OPT-PARTICIPANT", NonParticipant => "NON-PARTICIPANT");
keyword_enum!(PartStat, open, NeedsAction => "NEEDS-ACTION", Accepted => "ACCEPTED", Declined => "DECLINED",
    Tentative => "TENTATIVE", Delegated => "DELEGATED");
keyword_enum!(CuType, open, Individual => "INDIVIDUAL", Group => "GROUP", Resource => "RESOURCE",
    Room => "ROOM", Unknown => "UNKNOWN");
keyword_enum!(Class, open, Public => "PUBLIC", Private => "PRIVATE", Confidential => "CONFIDENTIAL");
keyword_enum!(Transparency, closed, Opaque => "OPAQUE", Transparent => "TRANSPARENT");
keyword_enum!(Status, closed, Tentative => "TENTATIVE", Confirmed => "CONFIRMED", Cancelled => "CANCELLED");

/// Compares calendar addresses: `mailto:` and letter case do not matter.
pub fn same_address(a: &str, b: &str) -> bool {
    strip_mailto(a.trim()).eq_ignore_ascii_case(strip_mailto(b.trim()))
}

/// `mailto:x@y` → `x@y`; other URIs unchanged.
pub(crate) fn strip_mailto(uri: &str) -> &str {
    match uri.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("mailto:") => &uri[7..],
        _ => uri,
    }
}

/// `x@y` → `mailto:x@y`; a value that already is a URI is kept.
pub(crate) fn to_uri(address: &str) -> String {
    if address.contains(':') { address.to_owned() } else { format!("mailto:{address}") }
}

impl PartialEq for Calendar {
    fn eq(&self, other: &Self) -> bool {
        self.method == other.method
            && self.prodid == other.prodid
            && self.events == other.events
            && self.timezones == other.timezones
            && self.components == other.components
            && self.extra == other.extra
    }
}

impl Calendar {
    /// An empty calendar with Deputy's PRODID and the given method.
    pub fn new(method: Option<Method>) -> Self {
        Self { method, prodid: Some(crate::PRODID.to_owned()), ..Self::default() }
    }

    /// The text this calendar was parsed from (byte for byte), if parsed.
    pub fn raw(&self) -> Option<&str> {
        self.raw.as_deref()
    }

    /// Every component of one series: the master first, then its
    /// overridden instances.
    pub fn series<'a>(&'a self, uid: &'a str) -> impl Iterator<Item = &'a Event> + 'a {
        let master = self.master(uid);
        master.into_iter().chain(self.events.iter().filter(move |e| e.uid == uid && e.recurrence_id.is_some()))
    }

    /// The master (no RECURRENCE-ID) of a series.
    pub fn master(&self, uid: &str) -> Option<&Event> {
        self.events.iter().find(|e| e.uid == uid && e.recurrence_id.is_none())
    }

    /// The distinct UIDs, in first-seen order.
    pub fn uids(&self) -> Vec<&str> {
        let mut uids: Vec<&str> = Vec::new();
        for event in &self.events {
            if !uids.contains(&event.uid.as_str()) {
                uids.push(&event.uid);
            }
        }
        uids
    }
}

impl Event {
    /// The attendee with this address, if any.
    pub fn attendee(&self, address: &str) -> Option<&Attendee> {
        self.attendees.iter().find(|a| same_address(&a.address, address))
    }

    /// The attendee with this address, for changing.
    pub fn attendee_mut(&mut self, address: &str) -> Option<&mut Attendee> {
        self.attendees.iter_mut().find(|a| same_address(&a.address, address))
    }

    /// True when CLASS hides details from viewers without private access
    /// (PRIVATE, CONFIDENTIAL, or an unknown class — RFC 5545 §3.8.1.3).
    pub fn is_private(&self) -> bool {
        matches!(self.class, Some(Class::Private | Class::Confidential | Class::Other(_)))
    }

    /// True for the organizer's address (case-insensitive, `mailto:` ignored).
    pub fn is_organizer(&self, address: &str) -> bool {
        self.organizer.as_ref().is_some_and(|o| same_address(&o.address, address))
    }
}

impl Attendee {
    /// An attendee with an address and PARTSTAT=NEEDS-ACTION, RSVP=TRUE.
    pub fn new(address: &str) -> Self {
        Self {
            address: strip_mailto(address).to_owned(),
            partstat: Some(PartStat::NeedsAction),
            rsvp: true,
            ..Self::default()
        }
    }
}
