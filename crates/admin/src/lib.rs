//! The admin API (interface.md `deputy shell`): an administrator signs in and
//! gets a session, then runs cmdlet statements in it; the session keeps its
//! PowerShell variables between statements, like a remote PowerShell runspace.
//!
//! - `POST /admin/v1/sessions` `{"user","password"}` → `201 {"token"}`;
//!   `401` for a wrong password, `403` for an account that is not an administrator.
//! - `POST /admin/v1/run` `{"script"}` with `Authorization: Bearer <token>`
//!   (or HTTP Basic, for one-off calls) → `200 {"output","errors","warnings","success"}`.
//! - `DELETE /admin/v1/sessions/current` signs out.
//! - `GET /admin/v1/health` → `{"status":"ok"}`.
//!
//! Invariant: every statement runs through `deputy-cmdlets` on `deputy-core`;
//! this crate only authenticates and transports.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use deputy_cmdlets::ExchangeHost;
use deputy_core::Deputy;
use deputy_pwsh::Session;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Sessions idle longer than this are forgotten.
const IDLE: Duration = Duration::from_secs(60 * 60);

struct Runspace {
    host: ExchangeHost,
    session: Session,
}

struct Entry {
    runspace: Arc<tokio::sync::Mutex<Runspace>>,
    last_used: Instant,
}

/// Shared state of the admin API.
#[derive(Clone)]
pub struct AdminState {
    deputy: Arc<Deputy>,
    sessions: Arc<Mutex<HashMap<String, Entry>>>,
}

impl AdminState {
    /// The admin API over `deputy`.
    pub fn new(deputy: Arc<Deputy>) -> Self {
        Self { deputy, sessions: Arc::new(Mutex::new(HashMap::new())) }
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // The map holds no invariant a panicking holder could break half-way.
        self.sessions.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The admin API's routes, to be merged into the HTTP listener's router.
pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/admin/v1/health", get(health))
        .route("/admin/v1/sessions", post(sign_in))
        .route("/admin/v1/sessions/current", delete(sign_out))
        .route("/admin/v1/run", post(run))
        .with_state(state)
}

#[derive(Deserialize)]
struct SignIn {
    user: String,
    password: String,
}

/// The body of `POST /admin/v1/sessions`' answer.
#[derive(Serialize, Deserialize, Debug)]
pub struct SessionToken {
    /// The bearer token for later calls.
    pub token: String,
}

#[derive(Deserialize)]
struct RunRequest {
    script: String,
}

/// The body of `POST /admin/v1/run`'s answer.
#[derive(Serialize, Deserialize, Debug, Default)]
pub struct RunResponse {
    /// Formatted output.
    pub output: String,
    /// Error records, one per failed invocation.
    pub errors: Vec<String>,
    /// Warning records.
    pub warnings: Vec<String>,
    /// Whether every invocation succeeded.
    pub success: bool,
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Checks credentials and that the account administers the organization.
async fn admin_login(deputy: &Deputy, user: &str, password: &str) -> Result<String, Response> {
    let Some(id) = deputy.authenticate(user, password).await else {
        return Err(error(StatusCode::UNAUTHORIZED, "The user name or password is incorrect."));
    };
    deputy
        .read(|s| s.dir.get(id).filter(|r| r.is_admin).map(|r| r.upn.clone().unwrap_or_else(|| r.name.clone())))
        .ok_or_else(|| error(StatusCode::FORBIDDEN, "This account isn't an administrator of the organization."))
}

fn new_token() -> String {
    let bytes: [u8; 24] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn sign_in(State(state): State<AdminState>, Json(body): Json<SignIn>) -> Response {
    let caller = match admin_login(&state.deputy, &body.user, &body.password).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let token = new_token();
    let runspace = Runspace { host: ExchangeHost::new(state.deputy.clone(), &caller), session: Session::new() };
    let now = Instant::now();
    let mut sessions = state.sessions();
    sessions.retain(|_, e| now.duration_since(e.last_used) < IDLE);
    sessions.insert(token.clone(), Entry { runspace: Arc::new(tokio::sync::Mutex::new(runspace)), last_used: now });
    tracing::info!(%caller, "admin signed in");
    (StatusCode::CREATED, Json(SessionToken { token })).into_response()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")
}

fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let encoded = headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(base64_decode(encoded.trim())?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// RFC 4648 base64, for HTTP Basic credentials only (too small a need for a dependency).
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes = s.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            acc |= value(*c)? << (18 - 6 * i);
        }
        let n = chunk.len().checked_sub(1)?;
        out.extend_from_slice(&acc.to_be_bytes()[1..1 + n]);
    }
    Some(out)
}

async fn sign_out(State(state): State<AdminState>, headers: HeaderMap) -> Response {
    match bearer(&headers) {
        Some(token) if state.sessions().remove(token).is_some() => StatusCode::NO_CONTENT.into_response(),
        _ => error(StatusCode::UNAUTHORIZED, "No session."),
    }
}

async fn run(State(state): State<AdminState>, headers: HeaderMap, Json(body): Json<RunRequest>) -> Response {
    let runspace = if let Some(token) = bearer(&headers) {
        let mut sessions = state.sessions();
        match sessions.get_mut(token) {
            Some(e) if e.last_used.elapsed() < IDLE => {
                e.last_used = Instant::now();
                e.runspace.clone()
            }
            _ => return error(StatusCode::UNAUTHORIZED, "The session has expired or doesn't exist; sign in again."),
        }
    } else if let Some((user, password)) = basic(&headers) {
        match admin_login(&state.deputy, &user, &password).await {
            Ok(caller) => Arc::new(tokio::sync::Mutex::new(Runspace {
                host: ExchangeHost::new(state.deputy.clone(), &caller),
                session: Session::new(),
            })),
            Err(r) => return r,
        }
    } else {
        return error(StatusCode::UNAUTHORIZED, "Sign in first: POST /admin/v1/sessions, then send the bearer token.");
    };
    let mut rs = runspace.lock().await;
    let Runspace { host, session } = &mut *rs;
    let result = session.run(host, &body.script).await;
    Json(RunResponse {
        output: result.output,
        errors: result.errors,
        warnings: result.warnings,
        success: result.success,
    })
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_basic_credentials() {
        assert_eq!(base64_decode("YWRtaW46cHc=").as_deref(), Some(&b"admin:pw"[..]));
        assert_eq!(base64_decode("YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64_decode("!!!!"), None);
    }
}
