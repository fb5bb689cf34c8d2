//! The URL layout and what each path names, resolved for one caller:
//!
//! ```text
//! /dav/                                        root (current-user-principal)
//! /dav/principals/{alias}/                     a principal
//! /dav/principals/{alias}/calendar-proxy-read/ read proxies of its calendar
//! /dav/principals/{alias}/calendar-proxy-write/ write proxies
//! /dav/calendars/{alias}/                      calendar home
//! /dav/calendars/{alias}/calendar/             the primary calendar
//! /dav/calendars/{alias}/{folder-id}/          a calendar below it
//! /dav/calendars/{alias}/{cal}/{name}.ics      one event series
//! /dav/calendars/{alias}/inbox/  …/outbox/     RFC 6638 schedule collections
//! ```
//!
//! A calendar below the primary one is listed under its folder id. One
//! made with MKCALENDAR gets the id derived from its owner and the URL
//! segment the client chose ([`segment_folder`]: a hash, RFC 9562 version
//! 8), so a client that picks its own segment (Python's `caldav` and Apple
//! Calendar use a fresh UUID) finds the calendar there after renames,
//! restarts and on every node of a cluster, with nothing stored beside the
//! folder. A calendar is also found by its name when only one has it.
//!
//! A path the caller may not see resolves to nothing, exactly like an
//! unknown one (`404`), so the door never reveals whose calendar exists.

use blake2::{Blake2s256, Digest};
use deputy_access::FolderOp;
use deputy_core::calendar::CalendarAccess;
use deputy_core::{Deputy, State};
use deputy_types::{Folder, FolderId, RecipientId};
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

/// The segment of the primary calendar.
pub const PRIMARY: &str = "calendar";

/// A calendar the caller may see, with the caller's standing on it.
#[derive(Debug, Clone)]
pub struct Cal {
    /// Whose calendar.
    pub owner: Who,
    /// Its folder: the primary Calendar or one below it.
    pub folder: FolderId,
    /// Whether it is the primary Calendar folder.
    pub primary: bool,
    /// The folder's name.
    pub name: String,
    /// The URL segment it is addressed by (as the client used it).
    pub segment: String,
    /// What the caller may see and do there.
    pub access: CalendarAccess,
}

/// A calendar home: the owner and the calendars the caller sees there.
#[derive(Debug, Clone)]
pub struct Home {
    /// Whose home.
    pub owner: Who,
    /// The primary first, then the others by name, at their listed URLs.
    pub calendars: Vec<Cal>,
    /// Whether the caller may make calendars here (CreateSubfolder on the
    /// primary Calendar).
    pub bind: bool,
}

/// The folder id a calendar made with MKCALENDAR at `segment` of `owner`'s
/// home gets: the same on every node and after every restart, so the
/// client's URL keeps naming it without a stored mapping; a different owner
/// or segment gives a different id.
pub fn segment_folder(owner: RecipientId, segment: &str) -> FolderId {
    let mut hash = Blake2s256::new();
    hash.update(b"deputy caldav calendar\0");
    hash.update(owner.0.as_bytes());
    hash.update(segment.to_lowercase().as_bytes());
    let digest = hash.finalize();
    let mut bytes = [0; 16];
    bytes.copy_from_slice(&digest[..16]);
    FolderId::from_custom_bytes(bytes)
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
    Home(Home),
    /// A calendar collection.
    Calendar(Cal),
    /// An unused segment of a visible calendar home: only MKCALENDAR
    /// makes something of it; every other method answers `404`.
    Unmapped(Who, String),
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

/// `/dav/calendars/{alias}/{segment}/`.
pub fn in_home(alias: &str, segment: &str) -> String {
    format!("{}{}/", home(alias), enc(segment))
}

/// A calendar collection, at the segment it was addressed by.
pub fn collection(cal: &Cal) -> String {
    in_home(&cal.owner.alias, &cal.segment)
}

/// `/dav/calendars/{alias}/inbox/` or `…/outbox/`.
pub fn schedule(alias: &str, outbox: bool) -> String {
    format!("/dav/calendars/{}/{}/", enc(alias), if outbox { "outbox" } else { "inbox" })
}

/// A calendar object resource of `cal`.
pub fn object(cal: &Cal, name: &str) -> String {
    format!("{}{}", collection(cal), enc(name))
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

fn make_cal(owner: &Who, folder: &Folder, access: CalendarAccess, primary: bool, segment: &str) -> Cal {
    Cal {
        owner: owner.clone(),
        folder: folder.id,
        primary,
        name: folder.name.clone(),
        segment: segment.to_owned(),
        access,
    }
}

/// The calendars of `owner` that `caller` may see, at their listed URLs:
/// the primary at [`PRIMARY`], the others at their folder ids.
pub fn calendars(s: &State, caller: RecipientId, owner: &Who) -> Vec<Cal> {
    let Some(primary) = s.calendar_folder(owner.id) else { return Vec::new() };
    s.calendars_of(caller, owner.id)
        .into_iter()
        .map(|(f, access)| {
            let is_primary = f.id == primary;
            let segment = if is_primary { PRIMARY.to_owned() } else { f.id.to_string() };
            make_cal(owner, f, access, is_primary, &segment)
        })
        .collect()
}

/// The calendar of `owner` a segment names for `caller`: [`PRIMARY`], else
/// a calendar below it by folder id, by the segment it was made at with
/// MKCALENDAR ([`segment_folder`]), or by its name when only one has it.
fn by_segment(s: &State, caller: RecipientId, owner: &Who, segment: &str) -> Option<Cal> {
    let primary = s.calendar_folder(owner.id)?;
    let cals = s.calendars_of(caller, owner.id);
    if segment == PRIMARY {
        let (f, access) = cals.into_iter().find(|(f, _)| f.id == primary)?;
        return Some(make_cal(owner, f, access, true, segment));
    }
    let subs: Vec<(&Folder, CalendarAccess)> = cals.into_iter().filter(|(f, _)| f.id != primary).collect();
    let made_at = segment_folder(owner.id, segment);
    let by_id = subs.iter().find(|(f, _)| f.id == made_at || f.id.to_string().eq_ignore_ascii_case(segment));
    let named: Vec<_> = subs.iter().filter(|(f, _)| f.name.eq_ignore_ascii_case(segment)).collect();
    let found = match (by_id, named.as_slice()) {
        (Some(hit), _) => Some(*hit),
        (None, [hit]) => Some(**hit),
        _ => None,
    };
    found.map(|(f, access)| make_cal(owner, f, access, false, segment))
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
        [] => {
            // Seen by whoever sees one of its calendars, if only one below the primary.
            let (calendars, primary) = deputy.read(|s| (calendars(s, caller, &owner), s.calendar_folder(owner.id)));
            if calendars.is_empty() {
                return None;
            }
            // The engine is asked outside the read above: reads must not nest.
            let bind = primary.is_some_and(|p| deputy.require(caller, p, FolderOp::CreateSubfolder).is_ok());
            Some(Target::Home(Home { owner, calendars, bind }))
        }
        [segment] if segment.len() <= 255 => {
            let (found, home_seen) = deputy.read(|s| {
                let found = by_segment(s, caller, &owner, segment);
                (found, !s.calendars_of(caller, owner.id).is_empty())
            });
            match found {
                Some(c) => Some(Target::Calendar(c)),
                None => home_seen.then(|| Target::Unmapped(owner, (*segment).to_owned())),
            }
        }
        [segment, name] if !name.is_empty() && name.len() <= 512 => {
            let name = (*name).to_owned();
            deputy.read(|s| by_segment(s, caller, &owner, segment)).map(|c| Target::Object(c, name))
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
        let owner = Who { id: RecipientId::from_u128(1), alias: "mary".into() };
        let access = CalendarAccess {
            viewer: deputy_calendar::Viewer { visibility: deputy_calendar::Visibility::Full, can_view_private: true },
            rights: deputy_types::FolderRights::empty(),
            delegate: false,
        };
        let folder = FolderId::from_u128(2);
        let cal = Cal { owner, folder, primary: true, name: "Calendar".into(), segment: PRIMARY.into(), access };
        assert_eq!(object(&cal, "a b/c.ics"), "/dav/calendars/mary/calendar/a%20b%2Fc.ics");
        let sub = Cal { segment: "Trips & more".into(), ..cal };
        assert_eq!(collection(&sub), "/dav/calendars/mary/Trips%20%26%20more/");
    }

    #[test]
    fn dot_segments_are_refused() {
        assert!(segments("/dav/../x").is_none());
        assert_eq!(segments("/dav//principals/%6Dary/"), Some(vec!["dav".into(), "principals".into(), "mary".into()]));
    }
}
