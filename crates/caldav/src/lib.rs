//! Deputy's CalDAV door: RFC 4791 calendar access, the basics of RFC 6638
//! scheduling, and Apple's calendar-proxy extension
//! (`http://calendarserver.org/ns/`), on the core's calendar services.
//!
//! - **Layout** (see [`paths`]): `/.well-known/caldav` redirects to `/dav/`;
//!   principals under `/dav/principals/{alias}/`, each with its
//!   `calendar-proxy-read/` and `calendar-proxy-write/` groups; calendar
//!   homes under `/dav/calendars/{alias}/` with the primary calendar
//!   `calendar/` (the mailbox's Calendar folder), every calendar below it
//!   at `{folder-id}/` (also found by its name, or by the segment a client
//!   chose in MKCALENDAR), and `{uid}.ics` resources in each.
//! - **Calendars are folders** below the primary Calendar, each with its
//!   own folder permissions: MKCALENDAR (RFC 4791 §5.3.1) creates one named
//!   by the body's `DAV:displayname` (else the URL segment), DELETE removes
//!   one (never the primary: `403`), PROPPATCH of `DAV:displayname` renames
//!   one — the core's folder services the shell and IMAP use, with their
//!   rights (CreateSubfolder on the primary, FolderOwner on the calendar).
//!   A home lists the calendars of the mailbox the caller may see.
//! - **Methods**: OPTIONS, PROPFIND (depth 0/1), PROPPATCH (proxy group
//!   membership, calendar names), MKCALENDAR, REPORT (calendar-query with
//!   time-range and `expand`, calendar-multiget, sync-collection,
//!   free-busy-query), GET/HEAD, PUT (If-Match / If-None-Match), DELETE,
//!   POST of a `VFREEBUSY` lookup to the caller's schedule outbox (RFC 6638
//!   §5). Scheduling (an attendee's answer, free/busy lookups) concerns the
//!   primary calendar, where meeting messages land.
//! - **Proxy groups are folder permissions** (spec §5): the write group is
//!   every entry on the owner's Calendar holding Create and EditAll (Editor,
//!   delegates), the read group every entry that reads without them
//!   (Reviewer); setting a group's `DAV:group-member-set` adds, changes or
//!   removes those entries (Editor, Reviewer) through the core's
//!   `*-MailboxFolderPermission` services, so the shell shows the same rows.
//!
//! Invariants: HTTP Basic with the caller's own credentials, rights asked
//! of the core afresh on every request; a calendar or event the caller may
//! not see answers `404` exactly like a missing one, a visible one without
//! the right `403` with `DAV:need-privileges`; events are shown only through
//! [`deputy_calendar::project`] (private events become busy time); every
//! input — XML, iCalendar, paths — is bounded and never panics.

mod collections;
mod expand;
mod freebusy;
mod objects;
pub mod paths;
mod props;
mod proxy;
mod report;
pub mod xml;

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use deputy_core::Deputy;
use deputy_types::RecipientId;

/// The largest request body read. An iCalendar object is refused above
/// 1 MiB by [`deputy_calendar::ingest`] (with `CALDAV:max-resource-size`);
/// this only stops the read of anything far larger.
const MAX_BODY: usize = 2 << 20;

/// What every request of the door shares.
#[derive(Clone)]
struct Door {
    deputy: Arc<Deputy>,
}

/// The CalDAV routes: `/.well-known/caldav` and everything under `/dav`.
pub fn router(deputy: Arc<Deputy>) -> Router {
    Router::new()
        .route("/.well-known/caldav", any(well_known))
        .route("/dav", any(dav))
        .route("/dav/", any(dav))
        .route("/dav/{*path}", any(dav))
        .with_state(Door { deputy })
}

/// One authenticated request.
pub(crate) struct Req {
    pub deputy: Arc<Deputy>,
    pub principal: RecipientId,
    /// The login as typed, for the audit log of permission changes.
    pub login: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub head: bool,
}

impl Req {
    /// A request header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

async fn well_known() -> Response {
    (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, "/dav/")]).into_response()
}

async fn dav(State(door): State<Door>, method: Method, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    let Door { deputy } = door;
    if method == Method::OPTIONS {
        return options();
    }
    // The body is read (bounded) before a 401: answering with an unread
    // body makes the server drop the connection, which clients that send
    // credentials only after a challenge see as a reset.
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return plain(StatusCode::PAYLOAD_TOO_LARGE, "The request body is too large.");
    };
    let Some((user, password)) = basic(&headers) else { return unauthorized() };
    let Some(principal) = deputy.authenticate(&user, &password).await else { return unauthorized() };
    if deputy.catch_up().await.is_err() {
        return plain(StatusCode::SERVICE_UNAVAILABLE, "The directory cannot be reached; try again later.");
    }
    let Some(target) = paths::resolve(&deputy, principal, uri.path()) else { return not_found() };
    if matches!(target, paths::Target::Unmapped(..)) && method.as_str() != "MKCALENDAR" {
        return not_found();
    }
    let head = method == Method::HEAD;
    let req = Req { deputy, principal, login: user, headers, body, head };
    match method.as_str() {
        "PROPFIND" => props::propfind(&req, target).await,
        "PROPPATCH" if matches!(target, paths::Target::Calendar(_)) => collections::proppatch(&req, target).await,
        "PROPPATCH" => proxy::proppatch(&req, target).await,
        "REPORT" => report::report(&req, target).await,
        "POST" => freebusy::post(&req, &target).await,
        "GET" | "HEAD" => objects::get(&req, target).await,
        "PUT" => objects::put(&req, target).await,
        "DELETE" if matches!(target, paths::Target::Calendar(_)) => collections::delete(&req, target).await,
        "DELETE" => objects::delete(&req, target).await,
        "MKCALENDAR" => collections::mkcalendar(&req, target).await,
        // RFC 5689's extended MKCOL is not offered: calendars are made with MKCALENDAR.
        "MKCOL" => {
            error(StatusCode::FORBIDDEN, "", "Only calendars can be made here, with MKCALENDAR (RFC 4791 §5.3.1).")
        }
        _ => {
            let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed.");
            r.headers_mut().insert(header::ALLOW, HeaderValue::from_static(ALLOW));
            r
        }
    }
}

pub(crate) const ALLOW: &str = "OPTIONS, GET, HEAD, POST, PUT, DELETE, PROPFIND, PROPPATCH, REPORT, MKCALENDAR";

fn options() -> Response {
    (
        StatusCode::OK,
        [("DAV", "1, 3, access-control, calendar-access, calendar-schedule, calendar-proxy"), ("Allow", ALLOW)],
    )
        .into_response()
}

/// `user:password` from `Authorization: Basic …`.
fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    deputy_core::basic_credentials(headers.get(header::AUTHORIZATION)?.to_str().ok()?)
}

fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Basic realm=\"Deputy CalDAV\", charset=\"UTF-8\"")], "")
        .into_response()
}

pub(crate) fn plain(status: StatusCode, text: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{text}\n")).into_response()
}

pub(crate) fn not_found() -> Response {
    plain(StatusCode::NOT_FOUND, "The specified object was not found.")
}

/// A `DAV:error` answer naming a precondition.
pub(crate) fn error(status: StatusCode, precondition: &str, message: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/xml; charset=utf-8")], xml::error_body(precondition, message))
        .into_response()
}

/// `403` with `DAV:need-privileges` for `privilege` (e.g. `<D:bind/>`) on `path`.
pub(crate) fn need_privileges(path: &str, privilege: &str, message: &str) -> Response {
    let inner = format!(
        "<D:need-privileges><D:resource>{}<D:privilege>{privilege}</D:privilege></D:resource></D:need-privileges>",
        xml::href(path)
    );
    error(StatusCode::FORBIDDEN, &inner, message)
}

/// `400` for a request body that is not usable XML.
pub(crate) fn bad_xml(e: &xml::XmlError) -> Response {
    plain(StatusCode::BAD_REQUEST, &e.to_string())
}

/// A `207 Multi-Status`.
pub(crate) fn multistatus(body: String) -> Response {
    (StatusCode::MULTI_STATUS, [(header::CONTENT_TYPE, "application/xml; charset=utf-8")], body).into_response()
}

/// The store failed or the submission pipeline refused: `500`, logged.
pub(crate) fn internal(e: &dyn std::fmt::Display) -> Response {
    tracing::warn!("caldav: {e}");
    plain(StatusCode::INTERNAL_SERVER_ERROR, &format!("The request failed: {e}"))
}

/// The `Depth` header: 0, 1, or infinity (answered as 1: calendars hold no
/// collections).
pub(crate) fn depth(req: &Req, default: u8) -> u8 {
    match req.header("depth").map(str::trim) {
        Some("0") => 0,
        Some("1") | Some("infinity") => 1,
        _ => default,
    }
}
