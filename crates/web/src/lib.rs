//! The web admin center at `/ecp/` (where Exchange serves its admin center,
//! spec §7.6): server-rendered HTML pages for administrators. No JavaScript
//! is needed; one small same-origin script (`/ecp/ecp.js`) only adds Shift- and
//! Ctrl-click selection to the bulk edit lists.
//!
//! - `GET /ecp/` → the recipients list, or the sign-in form without a session.
//! - `GET|POST /ecp/signin`, `POST /ecp/signout`.
//! - `GET /ecp/recipients?tab=…&q=…`: Mailboxes, Resources, Shared, Groups,
//!   Contacts (mail users), searched by any part of a name or address.
//! - `GET /ecp/{mailbox|group}/{id}/delegation`: Send As, Send on Behalf, Full
//!   Access (mailboxes only) and the Sent Items copy switches;
//!   `…/delegation/pick?perm=…&q=…` is the picker; `POST …/delegation/add`,
//!   `…/remove`, `…/copies` change them.
//! - `POST /ecp/bulk`: bulk edit of the selected mailboxes' delegation (one
//!   permission, Add or Remove, one delegate), refused for mixed types.
//! - `GET /ecp/mailbox/{id}/folders?folder=…`: folder permissions (spec §5);
//!   `POST …/folders/add`, `…/set`, `…/remove` change them.
//! - `GET /ecp/access?user=…&target=…`: who can do what (spec §8).
//! - `GET /ecp/audit?cmdlet=…&object=…&caller=…&from=…&to=…`: the admin audit log.
//!
//! Sessions: a random 192-bit token in the `ecp_session` cookie (`HttpOnly`,
//! `SameSite=Strict`, `Path=/ecp`, and `Secure` when the request came over TLS
//! — Deputy's HTTP listener is plain HTTP on loopback, so `Secure` is set only
//! behind a TLS proxy that says `X-Forwarded-Proto: https`), forgotten after
//! [`IDLE`] without a request. Every `POST` but the sign-in itself carries the
//! session's CSRF token in the `csrf` field, checked in [`guard`] before any
//! handler runs: without it the answer is `403` and nothing changes. The
//! sign-in form is protected the same way by a token in a pre-session cookie.
//!
//! Invariant: every change is a `deputy-core` call made as the signed-in
//! administrator (so `Search-AdminAuditLog` names them), with the cmdlet
//! line the shell would have run; this crate authenticates and renders, the
//! core decides. What the admin center *offers* (which lists, which people in
//! a picker) is `deputy_access::check_grant` on [`Surface::AdminCenter`].
//!
//! [`Surface::AdminCenter`]: deputy_access::Surface::AdminCenter

mod access;
mod audit;
mod bulk;
mod delegation;
mod folders;
mod layout;
mod recipients;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use deputy_core::Deputy;
use rand::Rng;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Sessions idle longer than this are forgotten.
pub const IDLE: Duration = Duration::from_secs(30 * 60);
const SESSION_COOKIE: &str = "ecp_session";
const SIGNIN_COOKIE: &str = "ecp_signin";
/// Forms are small; a bigger body is refused before it is read.
const MAX_FORM: usize = 64 * 1024;

/// A message shown once at the top of the next page (after a redirect).
#[derive(Clone, Debug)]
pub(crate) enum Flash {
    Done(String),
    Warning(String),
    Error(String),
}

struct Session {
    caller: String,
    csrf: String,
    last_used: Instant,
    flash: Option<Flash>,
}

/// Shared state of the admin center.
#[derive(Clone)]
pub struct WebState {
    deputy: Arc<Deputy>,
    sessions: Arc<Mutex<HashMap<String, Session>>>,
}

impl WebState {
    /// The admin center over `deputy`.
    pub fn new(deputy: Arc<Deputy>) -> Self {
        Self { deputy, sessions: Arc::new(Mutex::new(HashMap::new())) }
    }

    fn sessions(&self) -> MutexGuard<'_, HashMap<String, Session>> {
        // The map holds no invariant a panicking holder could break half-way.
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Leaves a message for the session's next page.
    pub(crate) fn flash(&self, admin: &Admin, flash: Flash) {
        if let Some(s) = self.sessions().get_mut(&admin.token) {
            s.flash = Some(flash);
        }
    }

    pub(crate) fn take_flash(&self, admin: &Admin) -> Option<Flash> {
        self.sessions().get_mut(&admin.token).and_then(|s| s.flash.take())
    }
}

/// The signed-in administrator, put in the request by [`guard`].
#[derive(Clone, Debug)]
pub(crate) struct Admin {
    /// UPN, recorded as the caller in the audit log.
    pub caller: String,
    /// The session's CSRF token, for the forms of the page.
    pub csrf: String,
    token: String,
}

/// The fields of a `POST`ed form, parsed once by [`guard`].
#[derive(Clone, Debug, Default)]
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated field (checkboxes), in form order.
    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// The admin center's routes, to be merged into the HTTP listener's router.
pub fn router(deputy: Arc<Deputy>) -> Router {
    let state = WebState::new(deputy);
    let signed_in = Router::new()
        .route("/ecp/recipients", get(recipients::list))
        .route("/ecp/signout", post(sign_out))
        .route("/ecp/{kind}/{id}/delegation", get(delegation::show))
        .route("/ecp/{kind}/{id}/delegation/pick", get(delegation::picker))
        .route("/ecp/{kind}/{id}/delegation/add", post(delegation::add))
        .route("/ecp/{kind}/{id}/delegation/remove", post(delegation::remove))
        .route("/ecp/{kind}/{id}/delegation/copies", post(delegation::copies))
        .route("/ecp/bulk", post(bulk::apply))
        .route("/ecp/mailbox/{id}/folders", get(folders::show))
        .route("/ecp/mailbox/{id}/folders/{op}", post(folders::change))
        .route("/ecp/access", get(access::show))
        .route("/ecp/audit", get(audit::show))
        .route_layer(middleware::from_fn_with_state(state.clone(), guard));
    Router::new()
        .route("/ecp", get(|| async { Redirect::to("/ecp/") }))
        .route("/ecp/", get(home))
        .route("/ecp/signin", get(sign_in_form).post(sign_in))
        .route("/ecp/ecp.css", get(css))
        .route("/ecp/ecp.js", get(script))
        .merge(signed_in)
        .layer(middleware::map_response(security_headers))
        .with_state(state)
}

async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    let set = |h: &mut HeaderMap, name: &'static str, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "same-origin");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    response
}

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=300")],
        include_str!("../assets/ecp.css"),
    )
        .into_response()
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=300")],
        include_str!("../assets/ecp.js"),
    )
        .into_response()
}

/// Bad form or query data: a `400` page that says what was wrong; nothing changed.
pub(crate) fn bad_request(message: &str) -> Response {
    layout::error_page(StatusCode::BAD_REQUEST, "Bad request", message)
}

/// A recipient id from a form or URL.
pub(crate) fn parse_id(s: &str) -> Option<deputy_types::RecipientId> {
    uuid::Uuid::parse_str(s.trim()).ok().map(deputy_types::RecipientId)
}

fn random_token() -> String {
    let bytes: [u8; 24] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares secrets in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(k, v)| (k == name).then_some(v))
}

/// Whether the browser reached us over TLS (directly, or through a proxy that says so).
fn over_tls(headers: &HeaderMap) -> bool {
    headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

fn set_cookie(name: &str, value: &str, max_age: Option<u64>, secure: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/ecp; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    // Built from hex tokens and fixed text only.
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("ecp_invalid=1"))
}

fn forbidden(message: &str) -> Response {
    layout::error_page(StatusCode::FORBIDDEN, "Access denied", message)
}

/// Requires a live session; for a `POST`, also the session's CSRF token.
async fn guard(State(state): State<WebState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let token = cookie(&parts.headers, SESSION_COOKIE).unwrap_or_default().to_owned();
    let admin = {
        let mut sessions = state.sessions();
        let now = Instant::now();
        sessions.retain(|_, s| now.duration_since(s.last_used) < IDLE);
        sessions.get_mut(&token).map(|s| {
            s.last_used = now;
            Admin { caller: s.caller.clone(), csrf: s.csrf.clone(), token: token.clone() }
        })
    };
    let Some(admin) = admin else {
        if parts.method == Method::GET {
            return Redirect::to("/ecp/signin").into_response();
        }
        return forbidden("Your session has expired or you haven't signed in. Sign in again.");
    };
    let body = if parts.method == Method::POST {
        let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM).await else {
            return layout::error_page(StatusCode::PAYLOAD_TOO_LARGE, "Too large", "The form is too large.");
        };
        let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        let fields = Fields(fields);
        if !fields.get("csrf").is_some_and(|t| same_secret(t, &admin.csrf)) {
            tracing::warn!(caller = %admin.caller, path = %parts.uri.path(), "admin center POST without a valid CSRF token");
            return forbidden(
                "The request didn't carry this session's security token, so nothing was changed. Reload the page and try again.",
            );
        }
        parts.extensions.insert(fields);
        Body::from(bytes)
    } else {
        body
    };
    parts.extensions.insert(admin);
    next.run(Request::from_parts(parts, body)).await
}

async fn home(State(state): State<WebState>, headers: HeaderMap) -> Redirect {
    let token = cookie(&headers, SESSION_COOKIE).unwrap_or_default();
    let live = state.sessions().get(token).is_some_and(|s| s.last_used.elapsed() < IDLE);
    Redirect::to(if live { "/ecp/recipients" } else { "/ecp/signin" })
}

async fn sign_in_form(headers: HeaderMap) -> Response {
    let token = random_token();
    let mut response = layout::sign_in_page(&token, None, StatusCode::OK);
    response.headers_mut().append(header::SET_COOKIE, set_cookie(SIGNIN_COOKIE, &token, None, over_tls(&headers)));
    response
}

async fn sign_in(State(state): State<WebState>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let fields = Fields(serde_urlencoded::from_bytes(&body).unwrap_or_default());
    let expected = cookie(&headers, SIGNIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !fields.get("csrf").is_some_and(|t| same_secret(t, expected)) {
        return forbidden("The sign-in form has expired. Open the sign-in page again.");
    }
    let (user, password) = (fields.get("username").unwrap_or_default(), fields.get("password").unwrap_or_default());
    let Some(id) = state.deputy.authenticate(user, password).await else {
        tracing::info!(user, "admin center sign-in failed");
        return layout::sign_in_page(
            expected,
            Some("The user name or password is incorrect."),
            StatusCode::UNAUTHORIZED,
        );
    };
    let caller = state
        .deputy
        .read(|s| s.dir.get(id).filter(|r| r.is_admin).map(|r| r.upn.clone().unwrap_or_else(|| r.name.clone())));
    let Some(caller) = caller else {
        tracing::info!(user, "admin center sign-in refused: not an administrator");
        return forbidden(
            "You don't have permission to use the Exchange admin center: this account isn't an administrator of the organization.",
        );
    };
    let token = random_token();
    let session = Session { caller: caller.clone(), csrf: random_token(), last_used: Instant::now(), flash: None };
    state.sessions().insert(token.clone(), session);
    tracing::info!(%caller, "admin center sign-in");
    let secure = over_tls(&headers);
    let mut response = Redirect::to("/ecp/recipients").into_response();
    let h = response.headers_mut();
    h.append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, &token, None, secure));
    h.append(header::SET_COOKIE, set_cookie(SIGNIN_COOKIE, "", Some(0), secure));
    response
}

async fn sign_out(
    State(state): State<WebState>,
    axum::Extension(admin): axum::Extension<Admin>,
    headers: HeaderMap,
) -> Response {
    state.sessions().remove(&admin.token);
    let mut response = Redirect::to("/ecp/signin").into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", Some(0), over_tls(&headers)));
    response
}

#[cfg(test)]
mod tests;
