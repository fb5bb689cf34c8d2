//! The URL layout and what each path names, resolved for one caller:
//!
//! ```text
//! /dav/                                        root (current-user-principal)
//! /dav/principals/{alias}/                     a principal
//! /dav/principals/{alias}/calendar-proxy-read/ read proxies of its calendar
//! /dav/principals/{alias}/calendar-proxy-write/ write proxies
//! /dav/calendars/{alias}/                      calendar home
//! /dav/calendars/{alias}/calendar/             the primary calendar
//! /dav/calendars/{alias}/calendar/{name}.ics   one event series
//! /dav/calendars/{alias}/inbox/  …/outbox/     RFC 6638 schedule collections
//! ```
//!
//! A path the caller may not see resolves to nothing, exactly like an
//! unknown one (`404`), so the door never reveals whose calendar exists.

use deputy_access::FolderOp;
use deputy_core::calendar::CalendarAccess;
use deputy_core::{Deputy, State};
use deputy_types::{FolderId, RecipientId};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// Characters kept as they are in a path segment we write.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'@');

/// Which proxy group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proxy {
    /// `calendar-proxy-read`: Read without write (Reviewer).
    Read,
    /// `calendar-proxy-write`: Create and EditAll (Editor, delegates).
    Write,
}

impl Proxy {
    /// The path segment and CS element name.
    pub fn segment(self) -> &'static str {
        match self {
            Self::Read => "calendar-proxy-read",
            Self::Write => "calendar-proxy-write",
        }
    }
}

/// A recipient named in a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Who {
    /// The recipient.
    pub id: RecipientId,
    /// Its alias (the path segment).
    pub alias: String,
}

/// A calendar the caller may see, with the caller's standing on it.
#[derive(Debug, Clone)]
pub struct Cal {
    /// Whose calendar.
    pub owner: Who,
    /// The Calendar folder.
    pub folder: FolderId,
    /// What the caller may see and do there.
    pub access: CalendarAccess,
}

/// What a path names.
#[derive(Debug, Clone)]
pub enum Target {
    /// `/dav/`.
    Root,
    /// `/dav/principals/`.
    Principals,
    /// A principal.
    Principal(Who),
    /// A proxy group of the principal's calendar.
    Proxy(Who, Proxy),
    /// A calendar home.
    Home(Cal),
    /// The primary calendar.
    Calendar(Cal),
    /// The caller's schedule inbox.
    Inbox(Who),
    /// The caller's schedule outbox.
    Outbox(Who),
    /// A calendar object resource (the name as in the path, decoded).
    Object(Cal, String),
}

fn enc(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

/// `/dav/principals/{alias}/`.
pub fn principal(alias: &str) -> String {
    format!("/dav/principals/{}/", enc(alias))
}

/// `/dav/principals/{alias}/calendar-proxy-…/`.
pub fn proxy(alias: &str, kind: Proxy) -> String {
    format!("/dav/principals/{}/{}/", enc(alias), kind.segment())
}

/// `/dav/calendars/{alias}/`.
pub fn home(alias: &str) -> String {
    format!("/dav/calendars/{}/", enc(alias))
}

/// `/dav/calendars/{alias}/calendar/`.
pub fn calendar(alias: &str) -> String {
    format!("/dav/calendars/{}/calendar/", enc(alias))
}

/// `/dav/calendars/{alias}/inbox/` or `…/outbox/`.
pub fn schedule(alias: &str, outbox: bool) -> String {
    format!("/dav/calendars/{}/{}/", enc(alias), if outbox { "outbox" } else { "inbox" })
}

/// `/dav/calendars/{alias}/calendar/{name}`.
pub fn object(alias: &str, name: &str) -> String {
    format!("{}{}", calendar(alias), enc(name))
}

/// The path part of an href a client sent (absolute URL or path).
pub fn href_path(href: &str) -> &str {
    let after_scheme = href.split_once("://").map_or(href, |(_, rest)| rest);
    if after_scheme.len() == href.len() {
        return href;
    }
    after_scheme.find('/').map_or("/", |i| &after_scheme[i..])
}

/// The decoded, non-empty segments of a path.
fn segments(path: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for raw in path.split('/').filter(|s| !s.is_empty()) {
        let s = percent_decode_str(raw).decode_utf8().ok()?.into_owned();
        if s == "." || s == ".." {
            return None;
        }
        out.push(s);
    }
    Some(out)
}

/// A recipient by alias (case-insensitive), hidden ones only to themselves.
pub fn who(s: &State, caller: RecipientId, alias: &str) -> Option<Who> {
    let r = s.dir.iter().find(|r| r.alias.eq_ignore_ascii_case(alias))?;
    if r.hidden && r.id != caller {
        return None;
    }
    Some(Who { id: r.id, alias: r.alias.clone() })
}

/// The calendar of `owner` as `caller` may see it.
pub fn cal(s: &State, caller: RecipientId, owner: Who) -> Option<Cal> {
    let folder = s.calendar_folder(owner.id)?;
    if !s.is_calendar_folder(folder) {
        return None;
    }
    let access = s.calendar_access(caller, folder)?;
    Some(Cal { owner, folder, access })
}

/// Whether `caller` may see the proxy groups of `owner`: the owner, whoever
/// manages the Calendar's permissions, and the members themselves. (The
/// engine is asked outside any state read: its own read must not nest.)
fn sees_proxies(deputy: &Deputy, caller: RecipientId, owner: RecipientId) -> bool {
    let Some(folder) = deputy.read(|s| s.calendar_folder(owner)) else { return false };
    caller == owner
        || deputy.require(caller, folder, FolderOp::ManagePermissions).is_ok()
        || deputy.read(|s| s.folder_aces(folder).iter().any(|a| a.user == deputy_types::FolderUser::Recipient(caller)))
}

/// Resolves a request path for `caller`; `None` is `404`.
pub fn resolve(deputy: &Deputy, caller: RecipientId, path: &str) -> Option<Target> {
    let segs = segments(path)?;
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let (calendar_side, rest) = match segs.as_slice() {
        ["dav"] => return Some(Target::Root),
        ["dav", "principals"] => return Some(Target::Principals),
        ["dav", "principals", rest @ ..] => (false, rest),
        ["dav", "calendars", rest @ ..] if !rest.is_empty() => (true, rest),
        _ => return None,
    };
    // Proxy visibility asks the engine, which needs no lock held.
    let (owner, proxy_kind) = {
        let owner = deputy.read(|s| who(s, caller, rest[0]))?;
        let kind = match (calendar_side, &rest[1..]) {
            (false, []) => return Some(Target::Principal(owner)),
            (false, ["calendar-proxy-read"]) => Some(Proxy::Read),
            (false, ["calendar-proxy-write"]) => Some(Proxy::Write),
            (false, _) => return None,
            (true, _) => None,
        };
        (owner, kind)
    };
    if let Some(kind) = proxy_kind {
        return sees_proxies(deputy, caller, owner.id).then_some(Target::Proxy(owner, kind));
    }
    match &rest[1..] {
        ["inbox"] if owner.id == caller => Some(Target::Inbox(owner)),
        ["outbox"] if owner.id == caller => Some(Target::Outbox(owner)),
        [] => deputy.read(|s| cal(s, caller, owner)).map(Target::Home),
        ["calendar"] => deputy.read(|s| cal(s, caller, owner)).map(Target::Calendar),
        ["calendar", name] if !name.is_empty() && name.len() <= 512 => {
            let name = (*name).to_owned();
            deputy.read(|s| cal(s, caller, owner)).map(|c| Target::Object(c, name))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_keep_only_their_path() {
        assert_eq!(href_path("http://h:8/dav/x/"), "/dav/x/");
        assert_eq!(href_path("/dav/x/"), "/dav/x/");
        assert_eq!(href_path("https://h"), "/");
        assert_eq!(object("mary", "a b/c.ics"), "/dav/calendars/mary/calendar/a%20b%2Fc.ics");
    }

    #[test]
    fn dot_segments_are_refused() {
        assert!(segments("/dav/../x").is_none());
        assert_eq!(segments("/dav//principals/%6Dary/"), Some(vec!["dav".into(), "principals".into(), "mary".into()]));
    }
}
