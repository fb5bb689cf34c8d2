//! Calendar collections below the primary one: MKCALENDAR (RFC 4791
//! §5.3.1), DELETE, and PROPPATCH of `DAV:displayname` (a rename). Each is
//! one call of the core's folder services, which check the rights the
//! shell and IMAP need too: CreateSubfolder on the primary Calendar to
//! make one, FolderOwner on the calendar to remove or rename it.
//!
//! A calendar is a folder: a name and its events. So MKCALENDAR accepts
//! `DAV:displayname` and a VEVENT-only `supported-calendar-component-set`;
//! any other property (a colour, a time zone) can't be kept, and RFC 4791
//! §5.3.1 makes the request all or nothing, so it fails with `207` (`403`
//! for that property, `424` for the rest) and nothing is made.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use deputy_core::{CoreError, Ctx, FolderChangeError, MailboxError};

use crate::paths::{self, Target};
use crate::xml::{self, CALDAV, DAV, Node, QName};
use crate::{ALLOW, Req, bad_xml, error, internal, multistatus, need_privileges, not_found, plain};

/// `405` for MKCALENDAR where something already is (RFC 4791 §5.3.1.1).
fn exists(message: &str) -> Response {
    let mut r = error(StatusCode::METHOD_NOT_ALLOWED, "<D:resource-must-be-null/>", message);
    r.headers_mut().insert(header::ALLOW, HeaderValue::from_static(ALLOW));
    r
}

/// A `207` failing every instruction: `refused` ones with their status,
/// the rest `424` (RFC 4918 §9.2: all or nothing).
fn failed(path: &str, names: Vec<QName>, refused: &[(QName, u16)]) -> Response {
    let statuses: Vec<(QName, u16)> = names
        .into_iter()
        .map(|n| {
            let status = refused.iter().find(|(r, _)| *r == n).map_or(424, |(_, s)| *s);
            (n, status)
        })
        .collect();
    multistatus(xml::multistatus(&[xml::response(path, &[], &statuses)], ""))
}

fn ctx(req: &Req, method: &str, path: &str) -> Ctx {
    Ctx::new(&req.login, method, &format!("CalDAV {method} {path}"))
}

/// Whether a `CALDAV:supported-calendar-component-set` asks for what
/// Deputy stores: events, and events only.
fn events_only(set: &Node) -> bool {
    let mut comps = set.children_named(CALDAV, "comp").peekable();
    comps.peek().is_some() && comps.all(|c| c.attr("name").is_some_and(|n| n.eq_ignore_ascii_case("VEVENT")))
}

pub(crate) async fn mkcalendar(req: &Req, target: Target) -> Response {
    let (owner, segment) = match target {
        Target::Unmapped(owner, segment) => (owner, segment),
        Target::Object(..) => {
            return error(
                StatusCode::FORBIDDEN,
                "<C:calendar-collection-location-ok/>",
                "Calendars are made in a calendar home, not inside another calendar.",
            );
        }
        _ => return exists("Something already exists at this URL."),
    };
    let path = paths::in_home(&owner.alias, &segment);
    // RFC 4791 §5.3.1: the body, when there is one, is a CALDAV:mkcalendar
    // whose properties are all set, or the calendar is not made.
    let mut name = None;
    if !req.body.iter().all(u8::is_ascii_whitespace) {
        let root = match xml::parse(&req.body) {
            Ok(r) if r.is(CALDAV, "mkcalendar") => r,
            Ok(_) => return plain(StatusCode::BAD_REQUEST, "The body is not a CALDAV:mkcalendar."),
            Err(e) => return bad_xml(&e),
        };
        let mut names = Vec::new();
        let mut refused = Vec::new();
        for (p, set) in xml::updates(&root) {
            let q = QName::new(&p.ns, &p.name);
            let usable = match set {
                true if q.is(DAV, "displayname") => {
                    name = Some(p.text.trim().to_owned()).filter(|n| !n.is_empty());
                    true
                }
                true if q.is(CALDAV, "supported-calendar-component-set") => events_only(p),
                _ => false,
            };
            if !usable {
                refused.push((q.clone(), 403));
            }
            names.push(q);
        }
        if !refused.is_empty() {
            // Deputy's calendars are folders: a name and events, nothing else to keep.
            return failed(&path, names, &refused);
        }
    }
    let named = name.is_some();
    let name = name.unwrap_or_else(|| segment.clone());
    let Some(primary) = req.deputy.read(|s| s.calendar_folder(owner.id)) else { return not_found() };
    // The id follows from the URL, so the client's segment names it for good.
    let id = Some(paths::segment_folder(owner.id, &segment));
    let ctx = ctx(req, "MKCALENDAR", &path);
    match req.deputy.create_folder_with_id_as(&ctx, req.principal, primary, &name, id).await {
        // As RFC 4791's example answers: no body, nothing to cache.
        Ok(_) => (StatusCode::CREATED, [(header::CACHE_CONTROL, "no-cache")]).into_response(),
        Err(FolderChangeError::Refused(CoreError::Taken { what: "folder id", .. })) => {
            exists("A calendar was made at this URL already.")
        }
        Err(FolderChangeError::Refused(CoreError::Taken { value, .. })) => {
            exists(&format!("A calendar named \"{value}\" already exists here."))
        }
        Err(FolderChangeError::Refused(CoreError::InvalidValue { .. })) if named => {
            let q = QName::new(DAV, "displayname");
            failed(&path, vec![q.clone()], &[(q, 409)])
        }
        Err(FolderChangeError::Refused(CoreError::InvalidValue { reason, .. })) => error(
            StatusCode::FORBIDDEN,
            "<C:calendar-collection-location-ok/>",
            &format!("Not a calendar name: {reason}"),
        ),
        Err(e) => change_error(e, &paths::home(&owner.alias), "<D:bind/>"),
    }
}

/// Maps the folder services' other refusals; `privilege` is what a denial lacked on `path`.
fn change_error(e: FolderChangeError, path: &str, privilege: &str) -> Response {
    match e {
        FolderChangeError::Access(MailboxError::NotFound)
        | FolderChangeError::Refused(CoreError::FolderNotFound(_) | CoreError::Gone(_)) => not_found(),
        FolderChangeError::Access(MailboxError::Denied(_)) => {
            need_privileges(path, privilege, "You don't have the right to do this with calendars here.")
        }
        FolderChangeError::Refused(e @ CoreError::DefaultFolder(_)) => need_privileges(path, privilege, &e.to_string()),
        FolderChangeError::Refused(e @ CoreError::FolderHasSubfolders(_)) => {
            plain(StatusCode::CONFLICT, &e.to_string())
        }
        FolderChangeError::Access(MailboxError::Store(e)) => internal(&e),
        FolderChangeError::Refused(e) => internal(&e),
    }
}

/// DELETE of a calendar collection: its folder with its events.
pub(crate) async fn delete(req: &Req, target: Target) -> Response {
    let Target::Calendar(cal) = target else { return not_found() };
    let path = paths::collection(&cal);
    // RFC 3744: removing a member needs DAV:unbind on the home.
    let home = paths::home(&cal.owner.alias);
    if cal.primary {
        return need_privileges(&home, "<D:unbind/>", "The primary calendar can't be deleted.");
    }
    match req.deputy.delete_folder_as(&ctx(req, "DELETE", &path), req.principal, cal.folder).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => change_error(e, &home, "<D:unbind/>"),
    }
}

/// PROPPATCH of a calendar collection: setting `DAV:displayname` renames a
/// calendar below the primary one; nothing else is stored, so any other
/// instruction fails the request (RFC 4918 §9.2).
pub(crate) async fn proppatch(req: &Req, target: Target) -> Response {
    let Target::Calendar(cal) = target else { return not_found() };
    let root = match xml::parse(&req.body) {
        Ok(r) if r.is(DAV, "propertyupdate") => r,
        Ok(_) => return plain(StatusCode::BAD_REQUEST, "The body is not a DAV:propertyupdate."),
        Err(e) => return bad_xml(&e),
    };
    let path = paths::collection(&cal);
    let mut names = Vec::new();
    let mut refused = Vec::new();
    let mut name = None;
    for (p, set) in xml::updates(&root) {
        let q = QName::new(&p.ns, &p.name);
        let text = p.text.trim();
        if set && !cal.primary && q.is(DAV, "displayname") && !text.is_empty() {
            name = Some(text.to_owned());
        } else {
            refused.push((q.clone(), 403));
        }
        names.push(q);
    }
    if !refused.is_empty() {
        return failed(&path, names, &refused);
    }
    let ok = |names: Vec<QName>| {
        let found: Vec<(QName, String)> = names.into_iter().map(|n| (n, String::new())).collect();
        multistatus(xml::multistatus(&[xml::response(&path, &found, &[])], ""))
    };
    let Some(name) = name.filter(|n| *n != cal.name) else { return ok(names) };
    let Some(parent) = req.deputy.read(|s| s.folder(cal.folder).and_then(|f| f.parent)) else { return not_found() };
    let renamed =
        req.deputy.rename_folder_as(&ctx(req, "PROPPATCH", &path), req.principal, cal.folder, parent, &name).await;
    match renamed {
        // A URL it was made at still names it: the id came from that URL.
        Ok(()) => ok(names),
        Err(FolderChangeError::Refused(CoreError::Taken { .. } | CoreError::InvalidValue { .. })) => {
            failed(&path, names, &[(QName::new(DAV, "displayname"), 409)])
        }
        Err(e) => change_error(e, &path, "<D:write-properties/>"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_event_calendars_are_made() {
        let set = |comps: &str| {
            let body = format!(
                r#"<C:supported-calendar-component-set xmlns:C="{CALDAV}">{comps}</C:supported-calendar-component-set>"#
            );
            events_only(&xml::parse(body.as_bytes()).expect("xml"))
        };
        assert!(set(r#"<C:comp name="VEVENT"/>"#));
        assert!(!set(r#"<C:comp name="VEVENT"/><C:comp name="VTODO"/>"#));
        assert!(!set(r#"<C:comp name="VTODO"/>"#));
        assert!(!set(""));
    }
}
