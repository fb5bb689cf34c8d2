//! The HTTP side of a forest: `GET /hybrid/export`, `POST /hybrid/apply` and
//! the mailbox-move endpoints under `/hybrid/mailbox/{id}`, all for bearers
//! of the shared secret only. Anything else — no
//! configuration, no or a wrong secret — is the same bare `401`, before the
//! request body is read: an unauthenticated caller changes nothing and learns
//! nothing, not even whether the forest is configured for hybrid.

use crate::config::HybridConfig;
use crate::pages;
use crate::protocol::{Applied, Op};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use blake2::{Blake2b512, Digest};
use deputy_core::hybrid::{Carried, MailboxContent, Manifest, PageLimit};
use deputy_core::{Ctx, Deputy};
use deputy_types::{FolderId, RecipientId};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// The largest operation accepted (a move's carries folders and permissions, not messages).
const MAX_OP: usize = 16 * 1024 * 1024;
/// The largest page of messages accepted: a page holds at most 8 MiB of
/// bodies past its first message, which may be as large as Deputy accepts.
const MAX_PAGE: usize = 96 * 1024 * 1024;
/// The largest manifest accepted: under 100 bytes a message, so about a
/// million messages in one folder.
pub const MAX_MANIFEST: usize = 96 * 1024 * 1024;

#[derive(Clone)]
struct Hybrid {
    deputy: Arc<Deputy>,
    data: PathBuf,
    /// Pages are stored one at a time: a page a killed sync left running and
    /// the restarted sync's page of the same folder must not interleave.
    pages: Arc<tokio::sync::Mutex<()>>,
}

#[derive(serde::Deserialize)]
struct PageQuery {
    folder: uuid::Uuid,
    #[serde(default)]
    after: u32,
    /// Messages per page, at most the default's.
    limit: Option<usize>,
}

/// The hybrid routes of the forest whose data directory is `data`.
pub fn router(deputy: Arc<Deputy>, data: PathBuf) -> Router {
    Router::new()
        .route("/hybrid/export", get(export))
        .route("/hybrid/apply", post(apply))
        .route("/hybrid/mailbox/{id}", get(mailbox))
        .route("/hybrid/mailbox/{id}/messages", get(page_out).post(page_in))
        .route("/hybrid/mailbox/{id}/progress", get(progress))
        .route("/hybrid/mailbox/{id}/manifest", get(manifest))
        .route("/hybrid/mailbox/{id}/carry", post(carry))
        .route("/hybrid/mailbox/{id}/folders", post(folders))
        .route("/hybrid/mailbox/{id}/frozen", get(frozen))
        .route("/hybrid/mailbox/{id}/purge", post(purge))
        .route("/hybrid/mailbox/{id}/done", post(done))
        .with_state(Hybrid { deputy, data, pages: Arc::default() })
}

/// Whether two secrets are equal, in time independent of where they differ
/// (both are hashed first, so the length leaks nothing either).
pub fn same_secret(a: &str, b: &str) -> bool {
    let (x, y) = (Blake2b512::digest(a.as_bytes()), Blake2b512::digest(b.as_bytes()));
    x.iter().zip(y.iter()).fold(0u8, |acc, (p, q)| acc | (p ^ q)) == 0
}

/// The configuration, when the request carries its secret.
fn authorized(h: &Hybrid, headers: &HeaderMap) -> Option<HybridConfig> {
    let config = HybridConfig::load(&h.data).ok()??;
    let secret = config.secret().ok()?;
    let given = headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")?;
    same_secret(given.trim(), &secret).then_some(config)
}

fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer realm=\"Deputy hybrid\"")]).into_response()
}

async fn export(State(h): State<Hybrid>, headers: HeaderMap) -> Response {
    let Some(config) = authorized(&h, &headers) else { return unauthorized() };
    let export = h.deputy.read(|s| crate::export::export(s, &config.forest, config.role, &config.routing_domain));
    axum::Json(export).into_response()
}

/// A mailbox's folders and permissions for a move into the other forest.
async fn mailbox(State(h): State<Hybrid>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if authorized(&h, &headers).is_none() {
        return unauthorized();
    }
    let Some(id) = guid(&id) else { return StatusCode::NOT_FOUND.into_response() };
    match h.deputy.mailbox_content(id).await {
        Ok(content) => axum::Json(content).into_response(),
        Err(e) => (StatusCode::NOT_FOUND, e.to_string()).into_response(),
    }
}

fn guid(id: &str) -> Option<RecipientId> {
    id.parse::<uuid::Uuid>().ok().map(RecipientId)
}

fn ctx(config: &HybridConfig, what: &str) -> Ctx {
    Ctx::new(&format!("HybridSync@{}", config.forest), "Start-ADSyncSyncCycle", what)
}

/// The source side of a move: a page of a folder's messages after a UID.
async fn page_out(
    State(h): State<Hybrid>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    if authorized(&h, &headers).is_none() {
        return unauthorized();
    }
    let Some(id) = guid(&id) else { return StatusCode::NOT_FOUND.into_response() };
    let mut limit = PageLimit::default();
    limit.messages = q.limit.unwrap_or(limit.messages).clamp(1, limit.messages);
    let page = match h.deputy.message_page(id, FolderId(q.folder), q.after, limit).await {
        Ok(page) => page,
        Err(e) => return (StatusCode::NOT_FOUND, e.to_string()).into_response(),
    };
    match pages::encode(&page) {
        Ok(bytes) => ([(header::CONTENT_TYPE, pages::CONTENT_TYPE)], bytes).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// How far a page got, as `POST /hybrid/mailbox/{id}/messages` answers it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PageTaken {
    /// The last source UID now copied of the folder.
    pub copied: u32,
    /// The refusal, when the forest refused the page.
    pub error: Option<String>,
}

/// The target side of a move: stores a page (skipping what is already here).
async fn page_in(
    State(h): State<Hybrid>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
    body: axum::body::Body,
) -> Response {
    let Some(config) = authorized(&h, &headers) else { return unauthorized() };
    let Some(id) = guid(&id) else { return StatusCode::NOT_FOUND.into_response() };
    let Ok(body) = axum::body::to_bytes(body, MAX_PAGE).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let page = match pages::decode(&body) {
        Ok(page) => page,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    drop(body);
    // Finished even if the sync goes away, like an operation (see `apply`).
    let (deputy, lock) = (h.deputy.clone(), h.pages.clone());
    let ctx = ctx(&config, &format!("move in {id}: messages of {}", q.folder));
    let task = tokio::spawn(async move {
        let _one_at_a_time = lock.lock().await;
        deputy.take_messages(&ctx, id, FolderId(q.folder), page).await
    });
    let taken = match task.await {
        Ok(Ok(copied)) => PageTaken { copied, error: None },
        Ok(Err(e)) => PageTaken { copied: 0, error: Some(e.to_string()) },
        Err(_) => return (StatusCode::INTERNAL_SERVER_ERROR, "the page failed").into_response(),
    };
    axum::Json(taken).into_response()
}

/// The target side: the last source UID copied of each folder, and the
/// source HIGHESTMODSEQ its incremental pass carried.
async fn progress(State(h): State<Hybrid>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if authorized(&h, &headers).is_none() {
        return unauthorized();
    }
    let Some(id) = guid(&id) else { return StatusCode::NOT_FOUND.into_response() };
    axum::Json(h.deputy.folder_progress(id)).into_response()
}

#[derive(serde::Deserialize)]
struct ManifestQuery {
    folder: uuid::Uuid,
    through: u32,
    #[serde(default)]
    since: u64,
}

/// The source side of the incremental pass: a folder's manifest
/// (`deputy_core::hybrid::Manifest`) through a UID, empty when its
/// HIGHESTMODSEQ is still `since`.
async fn manifest(
    State(h): State<Hybrid>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<ManifestQuery>,
) -> Response {
    if authorized(&h, &headers).is_none() {
        return unauthorized();
    }
    let Some(id) = guid(&id) else { return StatusCode::NOT_FOUND.into_response() };
    match h.deputy.folder_manifest(id, FolderId(q.folder), q.through, q.since).await {
        Ok(m) => axum::Json(m).into_response(),
        Err(e) => (StatusCode::NOT_FOUND, e.to_string()).into_response(),
    }
}

/// What `POST /hybrid/mailbox/{id}/carry` answers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChangesCarried {
    /// What the pass changed, when it ran.
    pub carried: Option<Carried>,
    /// The refusal, when the forest refused the pass.
    pub error: Option<String>,
}

/// The target side of the incremental pass: carries a source folder's manifest to its copies.
async fn carry(
    State(h): State<Hybrid>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
    body: axum::body::Body,
) -> Response {
    let Some(config) = authorized(&h, &headers) else { return unauthorized() };
    let Some(id) = guid(&id) else { return StatusCode::NOT_FOUND.into_response() };
    let Ok(body) = axum::body::to_bytes(body, MAX_MANIFEST).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let manifest: Manifest = match serde_json::from_slice(&body) {
        Ok(m) => m,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    drop(body);
    // Finished even if the sync goes away, and never beside a page of the same mailbox.
    let (deputy, lock) = (h.deputy.clone(), h.pages.clone());
    let ctx = ctx(&config, &format!("move in {id}: changes of {}", q.folder));
    let task = tokio::spawn(async move {
        let _one_at_a_time = lock.lock().await;
        deputy.carry_changes(&ctx, id, FolderId(q.folder), manifest).await
    });
    let answer = match task.await {
        Ok(Ok(carried)) => ChangesCarried { carried: Some(carried), error: None },
        Ok(Err(e)) => ChangesCarried { carried: None, error: Some(e.to_string()) },
        Err(_) => return (StatusCode::INTERNAL_SERVER_ERROR, "the pass failed").into_response(),
    };
    axum::Json(answer).into_response()
}

/// The target side, just before the switch: the folders the source made after the copy.
async fn folders(
    State(h): State<Hybrid>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Body,
) -> Response {
    let Some(config) = authorized(&h, &headers) else { return unauthorized() };
    let Some(id) = guid(&id) else { return StatusCode::NOT_FOUND.into_response() };
    let Ok(body) = axum::body::to_bytes(body, MAX_OP).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let content: MailboxContent = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let (deputy, ctx) = (h.deputy.clone(), ctx(&config, &format!("move in {id}: new folders")));
    let task = tokio::spawn(async move { deputy.take_new_folders(&ctx, id, &content).await });
    let applied = match task.await {
        Ok(Ok(added)) => Applied { changed: added > 0, error: None },
        Ok(Err(e)) => Applied { changed: false, error: Some(e.to_string()) },
        Err(_) => return (StatusCode::INTERNAL_SERVER_ERROR, "the operation failed").into_response(),
    };
    axum::Json(applied).into_response()
}

/// The source side, after the switch: the folders whose messages wait for the final pass.
async fn frozen(State(h): State<Hybrid>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if authorized(&h, &headers).is_none() {
        return unauthorized();
    }
    let Some(id) = guid(&id) else { return StatusCode::NOT_FOUND.into_response() };
    axum::Json(h.deputy.frozen_folders(id)).into_response()
}

/// What `POST /hybrid/mailbox/{id}/purge` answers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Purged {
    /// Folders still frozen: they changed after the final pass read them.
    pub left: Vec<FolderId>,
    /// The refusal, when the forest refused.
    pub error: Option<String>,
}

/// The source side, after the final pass: removes the frozen messages the
/// pass carried (the body: each folder's HIGHESTMODSEQ the target carried).
async fn purge(
    State(h): State<Hybrid>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Body,
) -> Response {
    let Some(config) = authorized(&h, &headers) else { return unauthorized() };
    let Some(id) = guid(&id) else { return StatusCode::NOT_FOUND.into_response() };
    let Ok(body) = axum::body::to_bytes(body, 1 << 20).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let carried: BTreeMap<FolderId, u64> = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let (deputy, lock, ctx) = (h.deputy.clone(), h.pages.clone(), ctx(&config, &format!("move out {id}: purge")));
    let task = tokio::spawn(async move {
        let _one_at_a_time = lock.lock().await;
        deputy.purge_moved(&ctx, id, &carried).await
    });
    let answer = match task.await {
        Ok(Ok(left)) => Purged { left, error: None },
        Ok(Err(e)) => Purged { left: Vec::new(), error: Some(e.to_string()) },
        Err(_) => return (StatusCode::INTERNAL_SERVER_ERROR, "the purge failed").into_response(),
    };
    axum::Json(answer).into_response()
}

/// The target side: every page is in; the mailbox has moved.
async fn done(State(h): State<Hybrid>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let Some(config) = authorized(&h, &headers) else { return unauthorized() };
    let Some(id) = guid(&id) else { return StatusCode::NOT_FOUND.into_response() };
    let (deputy, lock, ctx) = (h.deputy.clone(), h.pages.clone(), ctx(&config, &format!("move in {id}: done")));
    let task = tokio::spawn(async move {
        let _one_at_a_time = lock.lock().await;
        deputy.finish_move(&ctx, id).await
    });
    let applied = match task.await {
        Ok(Ok(changed)) => Applied { changed, error: None },
        Ok(Err(e)) => Applied { changed: false, error: Some(e.to_string()) },
        Err(_) => return (StatusCode::INTERNAL_SERVER_ERROR, "the operation failed").into_response(),
    };
    axum::Json(applied).into_response()
}

async fn apply(State(h): State<Hybrid>, headers: HeaderMap, body: axum::body::Body) -> Response {
    // The secret first: an unauthenticated body is never read.
    let Some(config) = authorized(&h, &headers) else { return unauthorized() };
    let Ok(body) = axum::body::to_bytes(body, MAX_OP).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let op: Op = match serde_json::from_slice(&body) {
        Ok(op) => op,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    // Finished even if the sync goes away mid-request (killed, timed out):
    // a dropped handler could stop between the store's commit and the core's
    // memory, and a spawned task is not dropped with the connection.
    let (deputy, forest, task_op) = (h.deputy.clone(), config.forest.clone(), op.clone());
    let task = tokio::spawn(async move { crate::apply::apply(&deputy, &forest, &task_op).await });
    let Ok(applied) = task.await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "the operation failed").into_response();
    };
    if let Some(e) = &applied.error {
        tracing::warn!(op = %op.summary(), error = %e, "hybrid sync operation refused");
    }
    axum::Json(applied).into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_compare_whole() {
        assert!(super::same_secret("0123456789abcdef", "0123456789abcdef"));
        assert!(!super::same_secret("0123456789abcdef", "0123456789abcdeF"));
        assert!(!super::same_secret("0123456789abcdef", "0123456789abcdef0"));
        assert!(!super::same_secret("", "x"));
    }
}
