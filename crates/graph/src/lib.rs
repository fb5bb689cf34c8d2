//! The Microsoft Graph-compatible REST door (spec §7.3, interface.md): tokens
//! from `POST /{tenant}/oauth2/v2.0/token`, the mail API under `/v1.0/` for
//! `/me` and `/users/{id | userPrincipalName}`, Deputy's
//! `/v1.0/me/delegatedMailboxes` (spec §8), calendars (events, calendarView,
//! meeting answers, calendarPermissions, getSchedule free/busy: spec §5,
//! §10), mailboxSettings,
//! Deputy's `/v1.0/me/delegates`, and `/openapi.json`.
//!
//! Invariant: this crate authenticates, translates JSON and OData to core
//! calls and core outcomes to Graph's status codes and error bodies; every
//! permission and sending rule is decided by `deputy-core` (sending through
//! the one submission pipeline), afresh on each request.

pub mod auth;
mod calendar_permissions;
mod calendars;
mod delegated;
mod delegates;
pub mod error;
mod event_json;
mod event_recurrence;
mod events;
mod folders;
pub mod ids;
mod mail;
mod mailbox_settings;
pub mod message;
mod occurrences;
pub mod odata;
pub mod path;
mod schedule;
pub mod scopes;
pub mod token;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use deputy_core::Deputy;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::GraphError;
use crate::token::TokenKeys;

/// The largest request body accepted (Graph's own limit for a request is 4 MB).
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// The OpenAPI description of this API, checked in beside the code.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// Shared state of the Graph door.
pub struct GraphState {
    deputy: Arc<Deputy>,
    keys: TokenKeys,
    queued: Arc<tokio::sync::Notify>,
}

impl GraphState {
    /// The door over `deputy`, signing tokens with `keys`; `queued` is
    /// notified when a send queued mail for other domains (the outbound worker waits on it).
    pub fn new(deputy: Arc<Deputy>, keys: TokenKeys, queued: Arc<tokio::sync::Notify>) -> Self {
        Self { deputy, keys, queued }
    }

    /// The tenant a `{tenant}` path segment names: `common`, `organizations`,
    /// an accepted domain, or the tenant id.
    fn tenant_for(&self, tenant: &str) -> Option<Uuid> {
        let primary = self.deputy.read(|s| s.dir.organization().primary_domain.clone());
        let tid = token::tenant_id(&primary);
        let ok = tenant.eq_ignore_ascii_case("common")
            || tenant.eq_ignore_ascii_case("organizations")
            || self.deputy.is_accepted_domain(tenant)
            || Uuid::parse_str(tenant).is_ok_and(|t| t == tid);
        ok.then_some(tid)
    }

    /// `http://host` as the client reached this server.
    fn authority(&self, headers: &HeaderMap) -> String {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
        format!("http://{host}")
    }
}

/// The Graph door's routes, to be merged into the HTTP listener's router.
pub fn router(state: Arc<GraphState>) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token::token))
        .route("/{tenant}/discovery/v2.0/keys", get(token::jwks))
        .route("/{tenant}/v2.0/.well-known/openid-configuration", get(token::openid_configuration))
        .route("/openapi.json", get(openapi))
        .route("/v1.0/{*rest}", axum::routing::any(v1))
        .with_state(state)
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// One Graph request, as the handlers see it.
pub(crate) struct Call {
    pub state: Arc<GraphState>,
    pub caller: Caller,
    pub method: Method,
    pub headers: HeaderMap,
    /// The raw query string.
    pub query: String,
    /// `http://host/v1.0/<path>` without the query, for `@odata.nextLink`.
    pub url: String,
    pub body: Vec<u8>,
}

async fn v1(State(state): State<Arc<GraphState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let raw_path = parts.uri.path().strip_prefix("/v1.0/").unwrap_or_default();
    let path: String = percent_encoding::percent_decode_str(raw_path).decode_utf8_lossy().into_owned();
    let Some((subject, resource)) = path::parse(&path) else {
        return GraphError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("Resource not found for the segment '{}'.", path.split('/').next_back().unwrap_or_default()),
        )
        .into_response();
    };
    let caller = match Caller::from_headers(&parts.headers, &state.keys, &state.deputy) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let body = match read_body(body).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let url = format!("{}/v1.0/{raw_path}", state.authority(&parts.headers));
    let call = Call {
        state,
        caller,
        method: parts.method,
        headers: parts.headers,
        query: parts.uri.query().unwrap_or_default().to_owned(),
        url,
        body,
    };
    match mail::handle(&call, subject, resource).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

/// How much of an oversize body is read and thrown away so the client sees
/// the `413` instead of a reset connection; beyond it the connection closes.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

async fn read_body(mut body: Body) -> Result<Vec<u8>, GraphError> {
    use http_body_util::BodyExt;
    let mut out = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { return Err(GraphError::bad_request("The request body could not be read.")) };
        let Some(data) = frame.data_ref() else { continue };
        seen = seen.saturating_add(data.len());
        if seen <= MAX_BODY {
            out.extend_from_slice(data);
        } else if seen > DRAIN_LIMIT {
            break;
        }
    }
    if seen > MAX_BODY {
        return Err(GraphError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            format!("The request body is larger than the limit of {MAX_BODY} bytes."),
        ));
    }
    Ok(out)
}
