//! PROPFIND: the properties of every resource kind, rendered for the caller.

use std::hash::{Hash, Hasher};

use axum::response::Response;
use deputy_core::calendar::{CalendarAccess, StoredEvent};
use deputy_types::{FolderRights, RecipientType};

use crate::objects::{self, etag, resource_name, shown};
use crate::paths::{self, Cal, Home, Proxy, Target, Who};
use crate::proxy;
use crate::xml::{self, CALDAV, CS, DAV, Propfind, QName, esc, href};
use crate::{Req, bad_xml, depth, multistatus, not_found};

/// One resource to describe.
pub(crate) enum Res<'a> {
    Root,
    Principals,
    Principal(&'a Who),
    Proxy(&'a Who, Proxy),
    Home(&'a Home),
    /// With its CTag.
    Calendar(&'a Cal, &'a str),
    Inbox(&'a Who),
    Outbox(&'a Who),
    Object(&'a Cal, &'a StoredEvent),
}

impl Res<'_> {
    pub(crate) fn path(&self) -> String {
        match self {
            Res::Root => "/dav/".into(),
            Res::Principals => "/dav/principals/".into(),
            Res::Principal(w) => paths::principal(&w.alias),
            Res::Proxy(w, k) => paths::proxy(&w.alias, *k),
            Res::Home(h) => paths::home(&h.owner.alias),
            Res::Calendar(c, _) => paths::collection(c),
            Res::Inbox(w) => paths::schedule(&w.alias, false),
            Res::Outbox(w) => paths::schedule(&w.alias, true),
            Res::Object(c, ev) => paths::object(c, &resource_name(ev)),
        }
    }
}

/// The CTag of a calendar: changes whenever any series is added, changed or
/// removed (each write gives the item a new UID and mod-sequence).
pub(crate) fn ctag(events: &[StoredEvent]) -> String {
    let mut keys: Vec<(u32, u64)> = events.iter().map(|e| (e.entry.uid, e.entry.modseq)).collect();
    keys.sort_unstable();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    keys.hash(&mut h);
    format!("{}-{:016x}", keys.len(), h.finish())
}

/// The `DAV:sync-token` for a CTag (a URI, RFC 6578).
pub(crate) fn sync_token(ctag: &str) -> String {
    format!("http://deputy.invalid/sync/{ctag}")
}

fn q(ns: &str, name: &str) -> QName {
    QName::new(ns, name)
}

/// What `allprop` and `propname` list for a resource.
fn names(res: &Res<'_>) -> Vec<QName> {
    let mut out = vec![q(DAV, "resourcetype"), q(DAV, "displayname"), q(DAV, "current-user-principal")];
    let more: &[(&str, &str)] = match res {
        Res::Root | Res::Principals => &[(DAV, "principal-collection-set")],
        Res::Principal(_) => &[
            (DAV, "principal-URL"),
            (CALDAV, "calendar-home-set"),
            (CALDAV, "calendar-user-address-set"),
            (CALDAV, "calendar-user-type"),
            (CALDAV, "schedule-inbox-URL"),
            (CALDAV, "schedule-outbox-URL"),
            (DAV, "group-membership"),
            (CS, "calendar-proxy-read-for"),
            (CS, "calendar-proxy-write-for"),
        ],
        Res::Proxy(..) => &[(DAV, "principal-URL"), (DAV, "group-member-set"), (DAV, "group-membership")],
        Res::Home(_) | Res::Inbox(_) | Res::Outbox(_) => &[(DAV, "owner"), (DAV, "current-user-privilege-set")],
        Res::Calendar(..) => &[
            (DAV, "owner"),
            (DAV, "current-user-privilege-set"),
            (DAV, "supported-report-set"),
            (DAV, "sync-token"),
            (CS, "getctag"),
            (CALDAV, "supported-calendar-component-set"),
            (CALDAV, "supported-calendar-data"),
            (CALDAV, "max-resource-size"),
        ],
        Res::Object(..) => &[(DAV, "getetag"), (DAV, "getcontenttype")],
    };
    out.extend(more.iter().map(|(ns, n)| q(ns, n)));
    out
}

/// The privileges the caller holds on a calendar (RFC 3744 §5.4), from its
/// folder rights: Reviewer reads, Create binds, Edit writes content, Delete
/// unbinds; free/busy-only viewers get `CALDAV:read-free-busy` alone.
pub(crate) fn privileges(access: &CalendarAccess) -> String {
    let r = access.rights;
    let mut p: Vec<&str> = Vec::new();
    if access.viewer.visibility == deputy_calendar::Visibility::Full {
        p.extend(["<D:read/>", "<D:read-current-user-privilege-set/>"]);
    }
    p.push("<C:read-free-busy/>");
    if r.contains(FolderRights::CREATE_ITEMS) {
        p.push("<D:bind/>");
    }
    if r.intersects(FolderRights::EDIT_ALL | FolderRights::EDIT_OWNED) {
        p.extend(["<D:write-content/>", "<D:write-properties/>"]);
    }
    if r.intersects(FolderRights::DELETE_ALL | FolderRights::DELETE_OWNED) {
        p.push("<D:unbind/>");
    }
    if r.contains(FolderRights::CREATE_ITEMS | FolderRights::EDIT_ALL | FolderRights::DELETE_ALL) {
        p.push("<D:write/>");
    }
    if r.contains(FolderRights::FOLDER_OWNER) {
        p.push("<D:write-acl/>");
    }
    p.iter().map(|x| format!("<D:privilege>{x}</D:privilege>")).collect()
}

/// One property's content, or `None` (`404` in its propstat).
pub(crate) fn value(req: &Req, res: &Res<'_>, name: &QName) -> Option<String> {
    let d = &req.deputy;
    let me = d.read(|s| s.dir.get(req.principal).map(|r| r.alias.clone())).unwrap_or_default();
    let (ns, n) = (name.ns.as_str(), name.name.as_str());
    match (ns, n) {
        (DAV, "current-user-principal") => return Some(href(&paths::principal(&me))),
        (DAV, "principal-collection-set") => return Some(href("/dav/principals/")),
        _ => {}
    }
    match res {
        Res::Root | Res::Principals => match (ns, n) {
            (DAV, "resourcetype") => Some("<D:collection/>".into()),
            (DAV, "displayname") => Some(if matches!(res, Res::Root) { "Deputy" } else { "Principals" }.into()),
            _ => None,
        },
        Res::Principal(w) => principal_value(req, w, ns, n),
        Res::Proxy(w, kind) => match (ns, n) {
            (DAV, "resourcetype") => Some(format!("<D:principal/><CS:{}/>", kind.segment())),
            (DAV, "displayname") => Some(format!("{} ({})", esc(&w.alias), kind.segment())),
            (DAV, "principal-URL") => Some(href(&paths::proxy(&w.alias, *kind))),
            (DAV, "group-member-set") => {
                Some(proxy::members(d, w.id, *kind).iter().map(|m| href(&paths::principal(&m.alias))).collect())
            }
            (DAV, "group-membership") => Some(String::new()),
            _ => None,
        },
        Res::Home(h) => match (ns, n) {
            (DAV, "resourcetype") => Some("<D:collection/>".into()),
            (DAV, "displayname") => Some(esc(&h.owner.alias)),
            (DAV, "owner") => Some(href(&paths::principal(&h.owner.alias))),
            // Whoever sees the home lists it; bind is making calendars in it.
            (DAV, "current-user-privilege-set") => Some(
                if h.bind {
                    "<D:privilege><D:read/></D:privilege><D:privilege><D:bind/></D:privilege>"
                } else {
                    "<D:privilege><D:read/></D:privilege>"
                }
                .into(),
            ),
            _ => None,
        },
        Res::Inbox(w) | Res::Outbox(w) => match (ns, n) {
            (DAV, "resourcetype") => Some(format!(
                "<D:collection/><C:{}/>",
                if matches!(res, Res::Inbox(_)) { "schedule-inbox" } else { "schedule-outbox" }
            )),
            (DAV, "displayname") => Some(if matches!(res, Res::Inbox(_)) { "Inbox" } else { "Outbox" }.into()),
            (DAV, "owner") => Some(href(&paths::principal(&w.alias))),
            // The outbox takes free/busy lookups (RFC 6638 §6.2.2).
            (DAV, "current-user-privilege-set") => Some(if matches!(res, Res::Outbox(_)) {
                "<D:privilege><D:read/></D:privilege><D:privilege><C:schedule-send/></D:privilege>".into()
            } else {
                "<D:privilege><D:read/></D:privilege>".into()
            }),
            _ => None,
        },
        Res::Calendar(c, tag) => match (ns, n) {
            (DAV, "resourcetype") => Some("<D:collection/><C:calendar/>".into()),
            (DAV, "displayname") => {
                // The primary is "Calendar" whatever its folder is called, as before.
                let name = if c.primary { "Calendar" } else { c.name.as_str() };
                if c.owner.id == req.principal {
                    return Some(esc(name));
                }
                let owner = d.read(|s| s.dir.get(c.owner.id).map(|r| r.display_name.clone())).unwrap_or_default();
                Some(esc(&format!("{owner} – {name}")))
            }
            (DAV, "owner") => Some(href(&paths::principal(&c.owner.alias))),
            (DAV, "current-user-privilege-set") => Some(privileges(&c.access)),
            (DAV, "supported-report-set") => Some(
                ["<C:calendar-query/>", "<C:calendar-multiget/>", "<C:free-busy-query/>", "<D:sync-collection/>"]
                    .iter()
                    .map(|r| format!("<D:supported-report><D:report>{r}</D:report></D:supported-report>"))
                    .collect(),
            ),
            (DAV, "sync-token") => Some(esc(&sync_token(tag))),
            (CS, "getctag") => Some(esc(tag)),
            (CALDAV, "supported-calendar-component-set") => Some("<C:comp name=\"VEVENT\"/>".into()),
            (CALDAV, "supported-calendar-data") => {
                Some("<C:calendar-data content-type=\"text/calendar\" version=\"2.0\"/>".into())
            }
            (CALDAV, "max-resource-size") => Some("1048576".into()),
            (CALDAV, "schedule-calendar-transp") => Some("<C:opaque/>".into()),
            _ => None,
        },
        Res::Object(c, ev) => match (ns, n) {
            (DAV, "resourcetype") => Some(String::new()),
            (DAV, "getetag") => Some(esc(&etag(ev))),
            (DAV, "getcontenttype") => Some("text/calendar; charset=utf-8; component=VEVENT".into()),
            (CALDAV, "calendar-data") => Some(esc(&shown(&ev.calendar, &c.access.viewer).to_ics())),
            _ => None,
        },
    }
}

fn principal_value(req: &Req, w: &Who, ns: &str, n: &str) -> Option<String> {
    let d = &req.deputy;
    let own = w.id == req.principal;
    let (display, address, kind, mailbox) = d.read(|s| {
        let r = s.dir.get(w.id)?;
        let has_calendar = s.calendar_folder(w.id).is_some();
        Some((r.display_name.clone(), r.primary_smtp.as_ref().map(ToString::to_string), r.kind, has_calendar))
    })?;
    match (ns, n) {
        (DAV, "resourcetype") => Some("<D:principal/>".into()),
        (DAV, "displayname") => Some(esc(&display)),
        (DAV, "principal-URL") => Some(href(&paths::principal(&w.alias))),
        (DAV, "alternate-URI-set") => Some(address.map(|a| href(&format!("mailto:{a}"))).unwrap_or_default()),
        (CALDAV, "calendar-home-set") if mailbox => Some(href(&paths::home(&w.alias))),
        (CALDAV, "calendar-user-address-set") => {
            let mut out = address.map(|a| href(&format!("mailto:{a}"))).unwrap_or_default();
            out.push_str(&href(&paths::principal(&w.alias)));
            Some(out)
        }
        (CALDAV, "calendar-user-type") => Some(
            match kind {
                RecipientType::RoomMailbox => "ROOM",
                RecipientType::EquipmentMailbox => "RESOURCE",
                k if k.has_mailbox() => "INDIVIDUAL",
                _ => "GROUP",
            }
            .into(),
        ),
        (CS, "email-address-set") => address.map(|a| format!("<CS:email-address>{}</CS:email-address>", esc(&a))),
        (CALDAV, "schedule-inbox-URL") if own && mailbox => Some(href(&paths::schedule(&w.alias, false))),
        (CALDAV, "schedule-outbox-URL") if own && mailbox => Some(href(&paths::schedule(&w.alias, true))),
        (CS, "calendar-proxy-read-for") if own => Some(proxy_hrefs(req, Proxy::Read)),
        (CS, "calendar-proxy-write-for") if own => Some(proxy_hrefs(req, Proxy::Write)),
        (DAV, "group-membership") if own => {
            let mut out = String::new();
            for kind in [Proxy::Read, Proxy::Write] {
                for m in proxy::proxy_for(d, req.principal, kind) {
                    out.push_str(&href(&paths::proxy(&m.alias, kind)));
                }
            }
            Some(out)
        }
        _ => None,
    }
}

fn proxy_hrefs(req: &Req, kind: Proxy) -> String {
    proxy::proxy_for(&req.deputy, req.principal, kind).iter().map(|m| href(&paths::principal(&m.alias))).collect()
}

/// One `DAV:response` for a resource and a PROPFIND request.
pub(crate) fn render(req: &Req, res: &Res<'_>, want: &Propfind) -> String {
    let path = res.path();
    match want {
        Propfind::PropName => {
            let found: Vec<(QName, String)> = names(res).into_iter().map(|n| (n, String::new())).collect();
            xml::response(&path, &found, &[])
        }
        Propfind::AllProp => {
            let found: Vec<(QName, String)> =
                names(res).into_iter().filter_map(|n| value(req, res, &n).map(|v| (n, v))).collect();
            xml::response(&path, &found, &[])
        }
        Propfind::Props(list) => {
            let mut found = Vec::new();
            let mut missing = Vec::new();
            for n in list {
                match value(req, res, n) {
                    Some(v) => found.push((n.clone(), v)),
                    None => missing.push((n.clone(), 404)),
                }
            }
            xml::response(&path, &found, &missing)
        }
    }
}

pub(crate) async fn propfind(req: &Req, target: Target) -> Response {
    let want = match xml::propfind(&req.body) {
        Ok(w) => w,
        Err(e) => return bad_xml(&e),
    };
    let depth = depth(req, 1);
    let mut out = Vec::new();
    match &target {
        Target::Root => out.push(render(req, &Res::Root, &want)),
        Target::Principals => out.push(render(req, &Res::Principals, &want)),
        Target::Principal(w) => {
            out.push(render(req, &Res::Principal(w), &want));
            if depth > 0 && w.id == req.principal {
                for kind in [Proxy::Read, Proxy::Write] {
                    out.push(render(req, &Res::Proxy(w, kind), &want));
                }
            }
        }
        Target::Proxy(w, kind) => out.push(render(req, &Res::Proxy(w, *kind), &want)),
        Target::Inbox(w) => out.push(render(req, &Res::Inbox(w), &want)),
        Target::Outbox(w) => out.push(render(req, &Res::Outbox(w), &want)),
        Target::Home(h) => {
            out.push(render(req, &Res::Home(h), &want));
            if depth > 0 {
                for c in &h.calendars {
                    let events = match objects::events(req, c).await {
                        Ok(e) => e,
                        Err(r) => return r,
                    };
                    out.push(render(req, &Res::Calendar(c, &ctag(&events)), &want));
                }
                if h.owner.id == req.principal {
                    out.push(render(req, &Res::Inbox(&h.owner), &want));
                    out.push(render(req, &Res::Outbox(&h.owner), &want));
                }
            }
        }
        // Turned away before any handler runs.
        Target::Unmapped(..) => return not_found(),
        Target::Calendar(c) => {
            let events = match objects::events(req, c).await {
                Ok(e) => e,
                Err(r) => return r,
            };
            out.push(render(req, &Res::Calendar(c, &ctag(&events)), &want));
            if depth > 0 {
                for ev in &events {
                    out.push(render(req, &Res::Object(c, ev), &want));
                }
            }
        }
        Target::Object(c, name) => match objects::find(req, c, name).await {
            Ok(Some(ev)) => out.push(render(req, &Res::Object(c, &ev), &want)),
            Ok(None) => return not_found(),
            Err(r) => return r,
        },
    }
    multistatus(xml::multistatus(&out, ""))
}
