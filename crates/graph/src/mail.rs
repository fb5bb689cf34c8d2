//! The mail API: messages, sending, and dispatch of every `/v1.0/` request
//! (spec §4, §7.3). Sending goes through `Deputy::submit`, the pipeline SMTP
//! uses; reading and changing go through the core's mailbox services, which
//! decide every right afresh.

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use deputy_core::MailboxError;
use deputy_core::mail::{MailError, Submission};
use deputy_store::FlagOp;
use deputy_types::{FolderEntry, FolderId, FolderRights, MessageFlags, RecipientId, Uid, WellKnownFolder};
use serde_json::{Map, Value, json};

use crate::Call;
use crate::auth::{Acting, Caller, Need};
use crate::error::GraphError;
use crate::message::{self, BodyType, EmailAddress, ItemMeta, MessageInput};
use crate::path::{MessageAction, Resource, Subject};
use crate::{delegated, folders, ids, odata};

/// Messages in a page when the client gives no `$top` (Graph's default).
const DEFAULT_PAGE: usize = 10;

type Result<T> = std::result::Result<T, GraphError>;

/// Answers one Graph request.
pub(crate) async fn handle(call: &Call, subject: Subject, resource: Resource) -> Result<Response> {
    let mailbox = resolve(call, &subject)?;
    let m = &call.method;
    match resource {
        Resource::User if m == Method::GET => user(call, mailbox),
        Resource::SendMail if m == Method::POST => send_mail(call, mailbox).await,
        Resource::Messages { folder } if m == Method::GET => list(call, mailbox, folder.as_deref()).await,
        Resource::Messages { folder } if m == Method::POST => create_draft(call, mailbox, folder.as_deref()).await,
        Resource::Message { id } if m == Method::GET => get(call, mailbox, &id).await,
        Resource::Message { id } if m == Method::PATCH => update(call, mailbox, &id).await,
        Resource::Message { id } if m == Method::DELETE => delete(call, mailbox, &id, false).await,
        Resource::MessageValue { id } if m == Method::GET => mime(call, mailbox, &id).await,
        Resource::MessageAction { id, action } if m == Method::POST => match action {
            MessageAction::Send => send_draft(call, mailbox, &id).await,
            MessageAction::Move => relocate(call, mailbox, &id, true).await,
            MessageAction::Copy => relocate(call, mailbox, &id, false).await,
            MessageAction::PermanentDelete => delete(call, mailbox, &id, true).await,
        },
        Resource::Folders if m == Method::GET => folders::list(call, mailbox, None).await,
        Resource::Folder { id } if m == Method::GET => folders::get(call, mailbox, &id).await,
        Resource::ChildFolders { id } if m == Method::GET => folders::list(call, mailbox, Some(&id)).await,
        Resource::DelegatedMailboxes if m == Method::GET => delegated::list(call, mailbox),
        r if r.is_calendar() => crate::events::handle(call, mailbox, r).await,
        _ => Err(GraphError::method_not_allowed()),
    }
}

/// The mailbox `/me` or `/users/{id | userPrincipalName}` names.
fn resolve(call: &Call, subject: &Subject) -> Result<RecipientId> {
    let id = match subject {
        Subject::Me => return call.caller.user(),
        Subject::User(id) => id,
    };
    let found = call.state.deputy.read(|s| {
        let usable = |r: &deputy_types::Recipient| r.kind.has_mailbox() || r.kind.can_sign_in();
        // Graph names users by id or userPrincipalName only, never by name or alias.
        match uuid::Uuid::parse_str(id) {
            Ok(guid) => s.dir.get(RecipientId(guid)).filter(|r| usable(r)).map(|r| r.id),
            Err(_) if id.contains('@') => s.dir.resolve_where(id, &usable).ok().map(|r| r.id),
            Err(_) => None,
        }
    });
    found.ok_or_else(|| GraphError::invalid_user(id))
}

/// `GET /me`, `GET /users/{id}`: the user's basic profile.
fn user(call: &Call, mailbox: RecipientId) -> Result<Response> {
    let body = call
        .state
        .deputy
        .read(|s| {
            let r = s.dir.get(mailbox)?;
            Some(json!({
                "@odata.context": format!("{}/v1.0/$metadata#users/$entity", call.state.authority(&call.headers)),
                "id": r.id.0.to_string(),
                "displayName": r.display_name,
                "mail": r.primary_smtp.as_ref().map(ToString::to_string),
                "userPrincipalName": r.upn.clone().or_else(|| r.primary_smtp.as_ref().map(ToString::to_string)),
                "mailNickname": r.alias,
            }))
        })
        .ok_or_else(|| GraphError::invalid_user(&mailbox.0.to_string()))?;
    Ok(Json::ok(body))
}

/// JSON answers.
struct Json;

impl Json {
    fn ok(body: Value) -> Response {
        (StatusCode::OK, axum::Json(body)).into_response()
    }

    fn created(body: Value) -> Response {
        (StatusCode::CREATED, axum::Json(body)).into_response()
    }
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

fn accepted() -> Response {
    StatusCode::ACCEPTED.into_response()
}

/// Maps a mailbox refusal: an item the caller may not even read is "not
/// found" (a 403 would reveal it exists); a right missing on something it
/// can see is "access denied".
fn refused(e: MailboxError) -> GraphError {
    match e {
        MailboxError::NotFound => GraphError::not_found(),
        MailboxError::Denied(_) => GraphError::access_denied(),
        MailboxError::Store(e) => {
            tracing::warn!(error = %e, "store failed during a Graph request");
            GraphError::unavailable()
        }
    }
}

/// Like [`refused`], for reads: any refusal is "not found".
fn unreadable(e: MailboxError) -> GraphError {
    match e {
        MailboxError::Store(_) => refused(e),
        _ => GraphError::not_found(),
    }
}

/// A JSON request body (an empty body is an empty object).
/// Top-level names are taken as Graph spells them (see [`message::camel`]).
pub(crate) fn json_body(call: &Call) -> Result<Map<String, Value>> {
    if call.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(&call.body) {
        Ok(Value::Object(map)) => Ok(map.into_iter().map(|(k, v)| (message::camel(&k).into_owned(), v)).collect()),
        _ => Err(GraphError::bad_request(
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )),
    }
}

fn input_error(e: message::InputError) -> GraphError {
    GraphError::new(StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST), e.code, e.message)
}

/// The body type the client prefers (`Prefer: outlook.body-content-type="text"`).
fn preferred_body(call: &Call) -> BodyType {
    let text = call
        .headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("outlook.body-content-type=\"text\""));
    if text { BodyType::Text } else { BodyType::Html }
}

/// The folder a path's folder segment names in `mailbox`: a well-known name
/// or an id of one of its folders.
pub(crate) fn folder_ref(call: &Call, mailbox: RecipientId, s: &str) -> Result<FolderId> {
    call.state
        .deputy
        .read(|st| match WellKnownFolder::parse(s) {
            Some(w) => st.folders_of(mailbox).find(|f| f.well_known == Some(w)).map(|f| f.id),
            None => ids::parse_folder(s).filter(|id| st.folder(*id).is_some_and(|f| f.mailbox == mailbox)),
        })
        .ok_or_else(GraphError::not_found)
}

/// A refusal on a folder the path names by its well-known name: the folder
/// surely exists, so hiding it behind `404` protects nothing, and Graph
/// answers `403` there.
pub(crate) fn by_name(folder: &str, e: GraphError) -> GraphError {
    if WellKnownFolder::parse(folder).is_some() && e.code == "ErrorItemNotFound" {
        GraphError::access_denied()
    } else {
        e
    }
}

/// The folder and UID a message id names, when the folder is `mailbox`'s.
fn message_ref(call: &Call, mailbox: RecipientId, id: &str) -> Result<(FolderId, Uid)> {
    ids::parse_message(id)
        .filter(|(folder, _)| call.state.deputy.read(|s| s.folder(*folder).is_some_and(|f| f.mailbox == mailbox)))
        .ok_or_else(GraphError::not_found)
}

/// An entry and its body, which `acting` must be allowed to read.
async fn load(call: &Call, acting: Acting, folder: FolderId, uid: Uid) -> Result<(FolderEntry, Vec<u8>)> {
    let deputy = &call.state.deputy;
    deputy.require(acting.principal, folder, deputy_access::FolderOp::Read).map_err(unreadable)?;
    let store = |e| refused(MailboxError::Store(e));
    let entry = deputy.mail_store().entry(folder, uid).await.map_err(store)?.ok_or_else(GraphError::not_found)?;
    let raw = deputy.item_body(acting.principal, folder, entry.blob).await.map_err(unreadable)?;
    Ok((entry, raw.ok_or_else(GraphError::not_found)?))
}

fn meta(entry: &FolderEntry) -> ItemMeta {
    ItemMeta {
        id: ids::message(entry.folder, entry.uid),
        parent_folder_id: ids::folder(entry.folder),
        received: entry.internal_date,
        is_read: entry.flags.contains(MessageFlags::SEEN),
        is_draft: entry.flags.contains(MessageFlags::DRAFT),
        change_key: entry.modseq.to_string(),
        has_flag: entry.flags.contains(MessageFlags::FLAGGED),
    }
}

fn message_json(call: &Call, entry: &FolderEntry, raw: &[u8]) -> Map<String, Value> {
    let mut item = message::to_json(raw, &meta(entry), preferred_body(call));
    if call.caller.reads_basic_only() {
        item.remove("body");
        item.remove("bodyPreview");
        item.remove("uniqueBody");
    }
    item
}

fn context(call: &Call, mailbox: RecipientId, what: &str) -> String {
    format!("{}/v1.0/$metadata#users('{}')/{what}", call.state.authority(&call.headers), mailbox.0)
}

/// `GET …/messages/{id}`.
async fn get(call: &Call, mailbox: RecipientId, id: &str) -> Result<Response> {
    let acting = call.caller.acting(mailbox, Need::Read)?;
    let (folder, uid) = message_ref(call, mailbox, id)?;
    let (entry, raw) = load(call, acting, folder, uid).await?;
    let query = odata::parse(&call.query).map_err(odata_error)?;
    let mut item = message_json(call, &entry, &raw);
    item.insert("@odata.context".into(), json!(context(call, mailbox, "messages/$entity")));
    Ok(Json::ok(Value::Object(odata::project(item, query.select.as_deref()))))
}

/// `GET …/messages/{id}/$value`: the MIME content.
async fn mime(call: &Call, mailbox: RecipientId, id: &str) -> Result<Response> {
    let acting = call.caller.acting(mailbox, Need::Read)?;
    if call.caller.reads_basic_only() {
        return Err(GraphError::access_denied());
    }
    let (folder, uid) = message_ref(call, mailbox, id)?;
    let (_, raw) = load(call, acting, folder, uid).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain")], raw).into_response())
}

pub(crate) fn odata_error(e: odata::ODataError) -> GraphError {
    GraphError::new(StatusCode::BAD_REQUEST, e.code, e.message)
}

/// The folders of `mailbox` whose messages `acting` may read.
fn readable_folders(call: &Call, acting: Acting) -> Vec<FolderId> {
    call.state
        .deputy
        .visible_folders(acting.principal)
        .into_iter()
        .filter(|f| f.mailbox == acting.mailbox && f.rights.contains(FolderRights::READ_ITEMS))
        .map(|f| f.folder)
        .collect()
}

/// `GET …/messages` and `GET …/mailFolders/{id}/messages`, with `$top`,
/// `$skip`, `$select`, `$orderby`, `$count`, `$filter` and `@odata.nextLink`.
async fn list(call: &Call, mailbox: RecipientId, folder: Option<&str>) -> Result<Response> {
    let acting = call.caller.acting(mailbox, Need::Read)?;
    let query = odata::parse(&call.query).map_err(odata_error)?;
    let deputy = &call.state.deputy;
    let folders = match folder {
        Some(f) => vec![folder_ref(call, mailbox, f)?],
        None => {
            let all = readable_folders(call, acting);
            if all.is_empty() {
                return Err(GraphError::access_denied());
            }
            all
        }
    };
    let mut entries = Vec::new();
    for f in &folders {
        let found = deputy.folder_entries(acting.principal, *f).await.map_err(refused);
        entries.extend(found.map_err(|e| by_name(folder.unwrap_or_default(), e))?);
    }
    // Newest first, as Graph lists messages when no order is given.
    entries.sort_by(|a, b| b.internal_date.cmp(&a.internal_date).then(b.uid.cmp(&a.uid)));
    let top = query.top.unwrap_or(DEFAULT_PAGE);
    let by_date_only =
        query.orderby.iter().all(|o| o.path.eq_ignore_ascii_case("receivedDateTime")) && query.filter.is_none();
    let (total, page): (usize, Vec<Value>) = if by_date_only {
        if query.orderby.first().is_some_and(|o| !o.descending) {
            entries.reverse();
        }
        let total = entries.len();
        let mut page = Vec::new();
        for entry in entries.iter().skip(query.skip).take(top) {
            let raw = deputy.mail_store().body(entry.blob).await.map_err(|e| refused(MailboxError::Store(e)))?;
            page.push(Value::Object(message_json(call, entry, &raw.unwrap_or_default())));
        }
        (total, page)
    } else {
        // A filter or another order needs every message's properties.
        let mut all = Vec::with_capacity(entries.len());
        for entry in &entries {
            let raw = deputy.mail_store().body(entry.blob).await.map_err(|e| refused(MailboxError::Store(e)))?;
            let item = Value::Object(message_json(call, entry, &raw.unwrap_or_default()));
            if query.filter.as_ref().is_none_or(|f| f.matches(&item)) {
                all.push(item);
            }
        }
        odata::page_of(all, &query, DEFAULT_PAGE)
    };
    let context = context(call, mailbox, "messages");
    Ok(Json::ok(odata::collection(&query, context, total, page, |skip| next_link(call, skip))))
}

/// The request's URL with `$skip` replaced.
pub(crate) fn next_link(call: &Call, skip: usize) -> String {
    let mut pairs: Vec<&str> = call
        .query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let key = p.split('=').next().unwrap_or_default();
            let key = percent_encoding::percent_decode_str(key).decode_utf8_lossy();
            !key.eq_ignore_ascii_case("$skip") && !key.eq_ignore_ascii_case("skip")
        })
        .collect();
    let skip = format!("%24skip={skip}");
    pairs.push(&skip);
    format!("{}?{}", call.url, pairs.join("&"))
}

/// The address a mailbox sends from by default.
fn mailbox_address(call: &Call, mailbox: RecipientId) -> Option<EmailAddress> {
    call.state.deputy.read(|s| {
        let r = s.dir.get(mailbox)?;
        Some(EmailAddress { name: Some(r.display_name.clone()), address: r.primary_smtp.as_ref()?.to_string() })
    })
}

/// Exchange shows recipients of its directory by their display names; where
/// the client gave only an address, the name is filled in.
fn fill_names(call: &Call, input: &mut MessageInput) {
    call.state.deputy.read(|s| {
        let lists =
            [&mut input.to_recipients, &mut input.cc_recipients, &mut input.bcc_recipients, &mut input.reply_to];
        let singles = [&mut input.from, &mut input.sender];
        let all = lists
            .into_iter()
            .flat_map(|l| l.iter_mut().flatten())
            .chain(singles.into_iter().flat_map(|a| a.iter_mut()));
        for a in all {
            if a.name.as_deref().is_none_or(str::is_empty)
                && let Some(r) = s.dir.by_address(&a.address)
            {
                a.name = Some(r.display_name.clone());
            }
        }
    });
}

fn new_message_id(call: &Call) -> String {
    format!("{}@{}", uuid::Uuid::new_v4().simple(), call.state.deputy.server_info().hostname)
}

/// `POST …/messages`: a draft in Drafts (or the folder named).
async fn create_draft(call: &Call, mailbox: RecipientId, folder: Option<&str>) -> Result<Response> {
    let acting = call.caller.acting(mailbox, Need::Write)?;
    let named = folder.unwrap_or("drafts");
    let folder = folder_ref(call, mailbox, named)?;
    let body = json_body(call)?;
    let mut input = message::parse_input(&Value::Object(body)).map_err(input_error)?;
    fill_names(call, &mut input);
    let author = mailbox_address(call, mailbox).ok_or_else(GraphError::not_found)?;
    let message_id = input.internet_message_id.clone().unwrap_or_else(|| new_message_id(call));
    let raw = message::build_mime_draft(&input, &author, &message_id, chrono::Utc::now());
    let uid = call
        .state
        .deputy
        .append_item(acting.principal, folder, raw, MessageFlags::DRAFT | MessageFlags::SEEN, None)
        .await
        .map_err(|e| by_name(named, refused(e)))?;
    let (entry, raw) = load(call, acting, folder, uid).await?;
    let mut item = message_json(call, &entry, &raw);
    item.insert("@odata.context".into(), json!(context(call, mailbox, "messages/$entity")));
    let mut response = Json::created(Value::Object(item));
    let location = format!(
        "{}/v1.0/users('{}')/messages('{}')",
        call.state.authority(&call.headers),
        mailbox.0,
        ids::message(folder, uid)
    );
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// Properties a message that is not a draft lets a client change.
const MUTABLE_SENT: &[&str] = &["isRead", "flag", "categories", "inferenceClassification", "importance"];

/// `PATCH …/messages/{id}`: `isRead` and `flag` on any message; every
/// property of a draft.
async fn update(call: &Call, mailbox: RecipientId, id: &str) -> Result<Response> {
    let acting = call.caller.acting(mailbox, Need::Write)?;
    let (folder, uid) = message_ref(call, mailbox, id)?;
    let (entry, raw) = load(call, acting, folder, uid).await?;
    let mut body = json_body(call)?;
    let flag = body.remove("flag");
    let input = message::parse_input(&Value::Object(body.clone())).map_err(input_error)?;
    let deputy = &call.state.deputy;
    let is_draft = entry.flags.contains(MessageFlags::DRAFT);
    if !is_draft && let Some(key) = body.keys().find(|k| !k.starts_with('@') && !MUTABLE_SENT.contains(&k.as_str())) {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "ErrorInvalidPropertyUpdateSentMessage",
            format!("Update operation is not supported for property '{key}' on a message that is not a draft."),
        ));
    }
    let mut add = MessageFlags::empty();
    let mut remove = MessageFlags::empty();
    match input.is_read {
        Some(true) => add |= MessageFlags::SEEN,
        Some(false) => remove |= MessageFlags::SEEN,
        None => {}
    }
    if let Some(flag) = &flag {
        match flag.get("flagStatus").and_then(Value::as_str) {
            Some(s) if s.eq_ignore_ascii_case("flagged") => add |= MessageFlags::FLAGGED,
            Some(s) if s.eq_ignore_ascii_case("notFlagged") || s.eq_ignore_ascii_case("complete") => {
                remove |= MessageFlags::FLAGGED;
            }
            None if flag.is_null() => remove |= MessageFlags::FLAGGED,
            _ => return Err(GraphError::bad_request("Invalid value for property 'flag'.")),
        }
    }
    let (folder, uid) = if is_draft && draft_content_changes(&body) {
        let mut merged = message::input_from_mime(&raw);
        message::merge(&mut merged, input);
        fill_names(call, &mut merged);
        let message_id = entry.message_id.clone().unwrap_or_else(|| new_message_id(call));
        let author = mailbox_address(call, mailbox).ok_or_else(GraphError::not_found)?;
        let rebuilt = message::build_mime_draft(&merged, &author, &message_id, chrono::Utc::now());
        let new_uid = deputy.replace_item(acting.principal, folder, uid, rebuilt).await.map_err(refused)?;
        (folder, new_uid)
    } else {
        (folder, uid)
    };
    if !add.is_empty() {
        deputy.set_item_flags(acting.principal, folder, &[uid], FlagOp::Add(add)).await.map_err(refused)?;
    }
    if !remove.is_empty() {
        deputy.set_item_flags(acting.principal, folder, &[uid], FlagOp::Remove(remove)).await.map_err(refused)?;
    }
    let (entry, raw) = load(call, acting, folder, uid).await?;
    let mut item = message_json(call, &entry, &raw);
    item.insert("@odata.context".into(), json!(context(call, mailbox, "messages/$entity")));
    Ok(Json::ok(Value::Object(item)))
}

/// Whether a PATCH changes a draft's content rather than only its flags.
fn draft_content_changes(body: &Map<String, Value>) -> bool {
    body.keys().any(|k| !k.starts_with('@') && k != "isRead")
}

/// `DELETE …/messages/{id}` moves the message to Deleted Items (deletes it
/// outright when it is already there, or when the caller may not create
/// items there); `permanentDelete` always deletes outright.
async fn delete(call: &Call, mailbox: RecipientId, id: &str, permanent: bool) -> Result<Response> {
    let acting = call.caller.acting(mailbox, Need::Write)?;
    let (folder, uid) = message_ref(call, mailbox, id)?;
    let deputy = &call.state.deputy;
    deputy.require(acting.principal, folder, deputy_access::FolderOp::See).map_err(unreadable)?;
    let deleted_items = folder_ref(call, mailbox, "deleteditems").ok();
    let may_move = deleted_items.filter(|d| {
        !permanent && *d != folder && deputy.require(acting.principal, *d, deputy_access::FolderOp::CreateItem).is_ok()
    });
    let done = match may_move {
        Some(to) => deputy.move_items(acting.principal, folder, &[uid], to).await.map_err(refused)?.len(),
        None => deputy.delete_items(acting.principal, folder, &[uid]).await.map_err(refused)?.len(),
    };
    if done == 0 {
        return Err(GraphError::not_found());
    }
    Ok(no_content())
}

/// `POST …/messages/{id}/move|copy` `{"destinationId"}`.
async fn relocate(call: &Call, mailbox: RecipientId, id: &str, moving: bool) -> Result<Response> {
    let acting = call.caller.acting(mailbox, Need::Write)?;
    let (folder, uid) = message_ref(call, mailbox, id)?;
    let body = json_body(call)?;
    if let Some(key) = body.keys().find(|k| !k.starts_with('@') && *k != "destinationId") {
        return Err(unknown_property(key, if moving { "move" } else { "copy" }));
    }
    let destination = body
        .get("destinationId")
        .and_then(Value::as_str)
        .ok_or_else(|| GraphError::bad_request("The property 'destinationId' is required."))?;
    let to = folder_ref(call, mailbox, destination)
        .or_else(|_| ids::parse_folder(destination).ok_or_else(GraphError::not_found))?;
    let deputy = &call.state.deputy;
    load(call, acting, folder, uid).await?;
    let pairs = if moving {
        deputy.move_items(acting.principal, folder, &[uid], to).await
    } else {
        deputy.copy_items(acting.principal, folder, &[uid], to).await
    }
    .map_err(|e| by_name(destination, refused(e)))?;
    let (_, new_uid) = pairs.first().copied().ok_or_else(GraphError::not_found)?;
    let (entry, raw) = load(call, acting, to, new_uid).await?;
    let mut item = message_json(call, &entry, &raw);
    item.insert("@odata.context".into(), json!(context(call, mailbox, "messages/$entity")));
    Ok(Json::created(Value::Object(item)))
}

fn unknown_property(key: &str, on: &str) -> GraphError {
    GraphError::new(
        StatusCode::BAD_REQUEST,
        "RequestBodyRead",
        format!(
            "The property '{key}' does not exist on type 'microsoft.graph.{on}'. Make sure to only use property names that are defined by the type or mark the type as open type."
        ),
    )
}

/// `POST …/sendMail`: JSON `{message, saveToSentItems}`, or a base64 MIME
/// message with `Content-Type: text/plain`.
async fn send_mail(call: &Call, mailbox: RecipientId) -> Result<Response> {
    let content_type = call.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if content_type.to_ascii_lowercase().starts_with("text/plain") {
        let text: Vec<u8> = call.body.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
        let raw = base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| {
            GraphError::new(
                StatusCode::BAD_REQUEST,
                "ErrorMimeContentInvalidBase64String",
                "Invalid base64 string for MIME content.",
            )
        })?;
        let input = message::input_from_mime(&raw);
        let recipients = message::envelope_recipients(&input);
        let raw = without_bcc(&raw);
        submit(call, mailbox, &input, Outgoing::Mime(raw), recipients, true).await?;
        return Ok(accepted());
    }
    let body = json_body(call)?;
    if let Some(key) = body.keys().find(|k| !k.starts_with('@') && *k != "message" && *k != "saveToSentItems") {
        return Err(unknown_property(key, "sendMail"));
    }
    let save = match body.get("saveToSentItems") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        // Microsoft's own example sends the string "false".
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
        Some(_) => return Err(GraphError::bad_request("Invalid value for property 'saveToSentItems'.")),
    };
    let message = body.get("message").ok_or_else(|| GraphError::bad_request("The property 'message' is required."))?;
    let mut input = message::parse_input(message).map_err(input_error)?;
    fill_names(call, &mut input);
    let recipients = message::envelope_recipients(&input);
    let message_id = input.internet_message_id.clone().unwrap_or_else(|| new_message_id(call));
    submit(call, mailbox, &input, Outgoing::Build(message_id), recipients, save).await?;
    Ok(accepted())
}

/// `POST …/messages/{id}/send`: sends a draft, which then leaves Drafts.
async fn send_draft(call: &Call, mailbox: RecipientId, id: &str) -> Result<Response> {
    let reader = call.caller.acting(mailbox, Need::Read).or_else(|_| call.caller.acting(mailbox, Need::Send))?;
    let (folder, uid) = message_ref(call, mailbox, id)?;
    let (entry, raw) = load(call, reader, folder, uid).await?;
    if !entry.flags.contains(MessageFlags::DRAFT) {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "ErrorInvalidOperation",
            "Only draft messages can be sent.",
        ));
    }
    let input = message::input_from_mime(&raw);
    let recipients = message::envelope_recipients(&input);
    let message_id = entry.message_id.clone().unwrap_or_else(|| new_message_id(call));
    let acting = submit(call, mailbox, &input, Outgoing::Build(message_id), recipients, true).await?;
    // Sent: the draft goes (Exchange turns it into the Sent Items copy).
    if let Err(e) = call.state.deputy.delete_items(acting.principal, folder, &[uid]).await {
        tracing::warn!(error = %e, "a sent draft could not be removed from its folder");
    }
    Ok(accepted())
}

/// What is sent: a message built from Graph JSON with this Message-ID, or
/// MIME the client gave.
enum Outgoing {
    Build(String),
    Mime(Vec<u8>),
}

/// Spec §4 through the one pipeline. The path's mailbox decides whose Sent
/// Items the request saves to; acting in another user's mailbox needs Full
/// Access there (spec §4.2); `from` other than the caller's own needs
/// `Mail.Send.Shared` and then Send As or Send on Behalf, which the core decides.
async fn submit(
    call: &Call,
    mailbox: RecipientId,
    input: &MessageInput,
    outgoing: Outgoing,
    recipients: Vec<String>,
    save: bool,
) -> Result<Acting> {
    let acting = call.caller.acting(mailbox, Need::Send)?;
    let deputy = &call.state.deputy;
    if !acting.app && acting.principal != mailbox && !deputy.may_open_mailbox(acting.principal, mailbox) {
        return Err(GraphError::access_denied());
    }
    let author = mailbox_address(call, mailbox).ok_or_else(GraphError::not_found)?;
    let from = input.from.as_ref().map_or(author.address.as_str(), |f| f.address.as_str());
    let own = deputy.read(|s| s.dir.by_address(from).map(|r| r.id)) == Some(acting.principal);
    if !own && matches!(call.caller, Caller::User { .. }) && !call.caller.may_send_shared() {
        return Err(GraphError::access_denied());
    }
    if recipients.is_empty() {
        return Err(GraphError::invalid_recipients());
    }
    let raw = match outgoing {
        Outgoing::Build(message_id) => message::build_mime(input, &author, &message_id, chrono::Utc::now()),
        Outgoing::Mime(raw) => raw,
    };
    // The principal's own address: the pipeline puts the author's or the
    // delegate's in MAIL FROM as spec §4.1 needs.
    let mail_from = deputy
        .read(|s| s.dir.get(acting.principal).and_then(|r| r.primary_smtp.as_ref()).map(ToString::to_string))
        .unwrap_or_default();
    let trace = format!(
        "Received: from graph by {} (Deputy) with HTTP; {}\r\n",
        deputy.server_info().hostname,
        chrono::Utc::now().to_rfc2822()
    );
    let submission = Submission {
        principal: acting.principal,
        mail_from,
        recipients,
        raw,
        trace: trace.into_bytes(),
        saver: mailbox,
        save_to_sent_items: save,
    };
    match deputy.submit(submission).await {
        Ok(done) => {
            if done.queued > 0 {
                call.state.queued.notify_one();
            }
            Ok(acting)
        }
        Err(MailError::Denied(d)) => {
            tracing::info!(principal = %d.principal, address = %d.address, "Graph send denied");
            Err(GraphError::send_as_denied())
        }
        Err(MailError::NoRecipients) => Err(GraphError::invalid_recipients()),
        Err(MailError::Store(e)) => {
            tracing::warn!(error = %e, "store failed during a Graph send");
            Err(GraphError::unavailable())
        }
    }
}

/// The MIME message without its `Bcc:` fields: the envelope carries those
/// recipients, and nobody who receives the message may see them.
fn without_bcc(raw: &[u8]) -> Vec<u8> {
    let Some(parsed) = mail_parser::MessageParser::new().parse_headers(raw) else { return raw.to_vec() };
    let mut out = Vec::with_capacity(raw.len());
    let mut pos = 0;
    for h in parsed.root_part().headers() {
        if matches!(h.name, mail_parser::HeaderName::Bcc) {
            let (start, end) = (h.offset_field as usize, h.offset_end as usize);
            if start >= pos && end <= raw.len() {
                out.extend_from_slice(&raw[pos..start]);
                pos = end;
            }
        }
    }
    out.extend_from_slice(&raw[pos..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcc_fields_are_removed_and_nothing_else() {
        let raw = b"From: a@x.test\r\nBcc: hidden@x.test,\r\n other@x.test\r\nTo: b@x.test\r\n\r\nBcc: in the body\r\n";
        let out = without_bcc(raw);
        assert_eq!(out, b"From: a@x.test\r\nTo: b@x.test\r\n\r\nBcc: in the body\r\n".to_vec());
        assert_eq!(without_bcc(b"no headers at all"), b"no headers at all".to_vec());
    }
}
