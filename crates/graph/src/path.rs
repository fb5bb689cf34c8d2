//! Graph request paths below `/v1.0/`, parsed by hand because Graph matches
//! segments case-insensitively (`/me/sendmail` works, as Microsoft's own
//! examples show) and accepts OData key syntax (`mailFolders('Inbox')`),
//! neither of which a router's literal segments express.

/// Whose mailbox the path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// `/me`: the signed-in user.
    Me,
    /// `/users/{id | userPrincipalName}`.
    User(String),
}

/// An action on one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageAction {
    /// `send` (a draft).
    Send,
    /// `move`.
    Move,
    /// `copy`.
    Copy,
    /// `permanentDelete`.
    PermanentDelete,
}

/// What the path names in that mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// The user itself.
    User,
    /// `sendMail`.
    SendMail,
    /// `messages`, or `mailFolders/{folder}/messages`.
    Messages {
        /// The folder, when the path names one.
        folder: Option<String>,
    },
    /// `messages/{id}` (also under a folder).
    Message {
        /// The message id.
        id: String,
    },
    /// `messages/{id}/$value`: the MIME content.
    MessageValue {
        /// The message id.
        id: String,
    },
    /// `messages/{id}/{action}`.
    MessageAction {
        /// The message id.
        id: String,
        /// What to do.
        action: MessageAction,
    },
    /// `mailFolders`.
    Folders,
    /// `mailFolders/{id}`.
    Folder {
        /// Its id or well-known name.
        id: String,
    },
    /// `mailFolders/{id}/childFolders`.
    ChildFolders {
        /// The parent's id or well-known name.
        id: String,
    },
    /// `delegatedMailboxes` (Deputy's extension, spec §8).
    DelegatedMailboxes,
    /// `events`, `calendar/events` or `calendars/{calendar}/events`.
    Events {
        /// The calendar's id under `calendars/{calendar}`; `None` for the primary one.
        calendar: Option<String>,
    },
    /// `events/{id}` (also under `calendar` and `calendars/{calendar}`).
    Event {
        /// The calendar's id under `calendars/{calendar}`; `None` for the primary one.
        calendar: Option<String>,
        /// The event id.
        id: String,
    },
    /// `events/{id}/instances` (also under `calendar` and `calendars/{calendar}`).
    EventInstances {
        /// The calendar's id under `calendars/{calendar}`; `None` for the primary one.
        calendar: Option<String>,
        /// The series id.
        id: String,
    },
    /// `events/{id}/{accept | decline | tentativelyAccept}`.
    EventResponse {
        /// The event id.
        id: String,
        /// The answer.
        answer: EventAnswer,
    },
    /// `calendar`: the primary calendar.
    Calendar,
    /// `calendars`: every calendar of the mailbox the caller may see.
    Calendars,
    /// `calendars/{id}`: one calendar (the primary one too, by its id).
    CalendarById {
        /// The calendar's id.
        id: String,
    },
    /// `calendarView`, `calendar/calendarView` or `calendars/{calendar}/calendarView`.
    CalendarView {
        /// The calendar's id under `calendars/{calendar}`; `None` for the primary one.
        calendar: Option<String>,
    },
    /// `calendar/getSchedule`: free/busy of several mailboxes.
    GetSchedule,
    /// `calendar/calendarPermissions`.
    CalendarPermissions,
    /// `calendar/calendarPermissions/{id}`.
    CalendarPermission {
        /// The permission id.
        id: String,
    },
    /// `mailboxSettings`.
    MailboxSettings,
    /// `delegates` (Deputy's extension: Outlook's Delegate Access dialog).
    Delegates,
    /// `delegates/{id}`.
    Delegate {
        /// The delegate's id.
        id: String,
    },
}

/// An answer to a meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventAnswer {
    /// `accept`.
    Accept,
    /// `decline`.
    Decline,
    /// `tentativelyAccept`.
    TentativelyAccept,
}

impl Resource {
    /// Whether the calendar, mailbox settings and delegates handlers answer it.
    pub fn is_calendar(&self) -> bool {
        matches!(
            self,
            Self::Events { .. }
                | Self::Event { .. }
                | Self::EventInstances { .. }
                | Self::EventResponse { .. }
                | Self::Calendar
                | Self::Calendars
                | Self::CalendarById { .. }
                | Self::CalendarView { .. }
                | Self::GetSchedule
                | Self::CalendarPermissions
                | Self::CalendarPermission { .. }
                | Self::MailboxSettings
                | Self::Delegates
                | Self::Delegate { .. }
        )
    }
}

/// Splits `name('key')` or `name(key)` into the name and the key.
fn keyed(segment: &str) -> (&str, Option<String>) {
    let Some(open) = segment.find('(') else { return (segment, None) };
    let Some(inner) = segment[open + 1..].strip_suffix(')') else { return (segment, None) };
    let key = inner.strip_prefix('\'').and_then(|k| k.strip_suffix('\'')).unwrap_or(inner);
    (&segment[..open], Some(key.replace("''", "'")))
}

fn is(segment: &str, name: &str) -> bool {
    segment.eq_ignore_ascii_case(name)
}

/// Expands key syntax into plain segments: `mailFolders('Inbox')` becomes
/// `mailFolders`, `Inbox`.
fn segments(path: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for raw in path.split('/').filter(|s| !s.is_empty()) {
        let (name, key) = keyed(raw);
        if name.is_empty() {
            return None;
        }
        out.push(name.to_owned());
        out.extend(key);
    }
    Some(out)
}

/// Parses the path after `/v1.0/`; `None` when Graph has no such resource here.
pub fn parse(path: &str) -> Option<(Subject, Resource)> {
    let segs = segments(path)?;
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let (subject, rest) = match s.as_slice() {
        [me, rest @ ..] if is(me, "me") => (Subject::Me, rest),
        [users, id, rest @ ..] if is(users, "users") => (Subject::User((*id).to_owned()), rest),
        _ => return None,
    };
    Some((subject, resource(rest)?))
}

fn message(id: &str, rest: &[&str]) -> Option<Resource> {
    let id = id.to_owned();
    Some(match rest {
        [] => Resource::Message { id },
        [v] if is(v, "$value") => Resource::MessageValue { id },
        [a] => {
            let action = [
                ("send", MessageAction::Send),
                ("move", MessageAction::Move),
                ("copy", MessageAction::Copy),
                ("permanentDelete", MessageAction::PermanentDelete),
            ]
            .into_iter()
            .find(|(n, _)| is(a, n))?
            .1;
            Resource::MessageAction { id, action }
        }
        _ => return None,
    })
}

/// What follows `/me`, `calendar` or `calendars/{calendar}`: events and the
/// calendar view. Meeting answers are parsed for the primary calendar only
/// (the core answers meetings there).
fn event(calendar: Option<&str>, rest: &[&str]) -> Option<Resource> {
    let calendar = calendar.map(str::to_owned);
    Some(match rest {
        [e] if is(e, "events") => Resource::Events { calendar },
        [e, id] if is(e, "events") => Resource::Event { calendar, id: (*id).to_owned() },
        [e, id, i] if is(e, "events") && is(i, "instances") => {
            Resource::EventInstances { calendar, id: (*id).to_owned() }
        }
        [e, id, a] if is(e, "events") && calendar.is_none() => {
            let answer = [
                ("accept", EventAnswer::Accept),
                ("decline", EventAnswer::Decline),
                ("tentativelyAccept", EventAnswer::TentativelyAccept),
            ]
            .into_iter()
            .find(|(n, _)| is(a, n))?
            .1;
            Resource::EventResponse { id: (*id).to_owned(), answer }
        }
        [v] if is(v, "calendarView") => Resource::CalendarView { calendar },
        _ => return None,
    })
}

fn resource(rest: &[&str]) -> Option<Resource> {
    Some(match rest {
        [e, ..] if is(e, "events") || is(e, "calendarView") => event(None, rest)?,
        [c] if is(c, "calendar") => Resource::Calendar,
        [c] if is(c, "calendars") => Resource::Calendars,
        [c, id] if is(c, "calendars") => Resource::CalendarById { id: (*id).to_owned() },
        [c, id, more @ ..] if is(c, "calendars") => event(Some(id), more)?,
        [c, g] if is(c, "calendar") && is(g, "getSchedule") => Resource::GetSchedule,
        [c, p] if is(c, "calendar") && is(p, "calendarPermissions") => Resource::CalendarPermissions,
        [c, p, id] if is(c, "calendar") && is(p, "calendarPermissions") => {
            Resource::CalendarPermission { id: (*id).to_owned() }
        }
        [c, more @ ..] if is(c, "calendar") => event(None, more)?,
        [s] if is(s, "mailboxSettings") => Resource::MailboxSettings,
        [d] if is(d, "delegates") => Resource::Delegates,
        [d, id] if is(d, "delegates") => Resource::Delegate { id: (*id).to_owned() },
        [] => Resource::User,
        [s] if is(s, "sendMail") => Resource::SendMail,
        [s] if is(s, "delegatedMailboxes") => Resource::DelegatedMailboxes,
        [m] if is(m, "messages") => Resource::Messages { folder: None },
        [m, id, more @ ..] if is(m, "messages") => message(id, more)?,
        [f] if is(f, "mailFolders") => Resource::Folders,
        [f, id] if is(f, "mailFolders") => Resource::Folder { id: (*id).to_owned() },
        [f, id, c] if is(f, "mailFolders") && is(c, "childFolders") => Resource::ChildFolders { id: (*id).to_owned() },
        [f, id, m] if is(f, "mailFolders") && is(m, "messages") => {
            Resource::Messages { folder: Some((*id).to_owned()) }
        }
        [f, _, m, id, more @ ..] if is(f, "mailFolders") && is(m, "messages") => message(id, more)?,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn paths_parse_case_insensitively_with_key_syntax() {
        assert_eq!(parse("me/sendmail"), Some((Subject::Me, Resource::SendMail)));
        assert_eq!(parse("me/sendMail"), Some((Subject::Me, Resource::SendMail)));
        assert_eq!(
            parse("users/mary@contoso.test/mailFolders('Inbox')/messages"),
            Some((Subject::User("mary@contoso.test".into()), Resource::Messages { folder: Some("Inbox".into()) }))
        );
        assert_eq!(
            parse("users('it''s')/messages/AB/$value"),
            Some((Subject::User("it's".into()), Resource::MessageValue { id: "AB".into() }))
        );
        assert_eq!(
            parse("me/mailfolders/inbox/messages/X/move"),
            Some((Subject::Me, Resource::MessageAction { id: "X".into(), action: MessageAction::Move }))
        );
        assert_eq!(parse("me/messages/X/explode"), None);
        assert_eq!(parse("me/calendar/events"), Some((Subject::Me, Resource::Events { calendar: None })));
        assert_eq!(
            parse("users/m@x.test/events/E1/tentativelyaccept"),
            Some((
                Subject::User("m@x.test".into()),
                Resource::EventResponse { id: "E1".into(), answer: EventAnswer::TentativelyAccept }
            ))
        );
        assert_eq!(parse("me/calendar/calendarView"), Some((Subject::Me, Resource::CalendarView { calendar: None })));
        assert_eq!(
            parse("me/calendar/calendarPermissions('P')"),
            Some((Subject::Me, Resource::CalendarPermission { id: "P".into() }))
        );
        assert_eq!(
            parse("users/m@x.test/calendar/getschedule"),
            Some((Subject::User("m@x.test".into()), Resource::GetSchedule))
        );
        assert_eq!(parse("me/mailboxsettings"), Some((Subject::Me, Resource::MailboxSettings)));
        assert_eq!(parse("me/events/E/explode"), None);
        assert_eq!(parse("me/calendar/other"), None);
        assert_eq!(parse("groups/x"), None);
        assert_eq!(parse("(x)/me"), None);
    }

    #[test]
    fn calendars_by_id_name_their_events_and_view() {
        let me = |p: &str| parse(p).map(|(_, r)| r);
        let cal = Some("C1".to_owned());
        assert_eq!(me("me/calendars"), Some(Resource::Calendars));
        assert_eq!(me("me/Calendars('C1')"), Some(Resource::CalendarById { id: "C1".into() }));
        assert_eq!(me("users/m@x.test/calendars/C1/events"), Some(Resource::Events { calendar: cal.clone() }));
        assert_eq!(me("me/calendars/C1/events/E1"), Some(Resource::Event { calendar: cal.clone(), id: "E1".into() }));
        assert_eq!(me("me/calendars/C1/calendarview"), Some(Resource::CalendarView { calendar: cal }));
        assert_eq!(me("me/events/E1"), Some(Resource::Event { calendar: None, id: "E1".into() }));
        assert_eq!(me("me/events/E1/instances"), Some(Resource::EventInstances { calendar: None, id: "E1".into() }));
        assert_eq!(
            me("users/m@x.test/calendars/C1/events/E1/instances"),
            Some(Resource::EventInstances { calendar: Some("C1".into()), id: "E1".into() })
        );
        // Meeting answers only on the primary calendar; nothing else below a calendar.
        assert_eq!(me("me/calendars/C1/events/E1/accept"), None);
        assert_eq!(me("me/calendars/C1/other"), None);
        assert_eq!(me("me/calendars/C1/events/E1/x/y"), None);
    }

    proptest! {
        #[test]
        fn parse_never_panics(path in ".{0,200}") {
            let _ = parse(&path);
        }
    }
}
