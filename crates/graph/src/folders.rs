//! `mailFolders`: the folders a caller can see in a mailbox (spec §5), with
//! Graph's counts. A folder the caller may not see answers `404`, exactly as
//! a folder that does not exist.

use axum::response::{IntoResponse, Response};
use deputy_core::VisibleFolder;
use deputy_types::{FolderId, FolderRights, RecipientId, WellKnownFolder};
use serde_json::{Map, Value, json};

use crate::Call;
use crate::auth::Need;
use crate::error::GraphError;
use crate::mail::{by_name, folder_ref, next_link, odata_error};
use crate::{ids, odata};

/// Folders in a page when the client gives no `$top`.
const DEFAULT_PAGE: usize = 10;

/// What the caller sees of `mailbox`: its visible mail folders and the root's id.
fn visible(call: &Call, principal: RecipientId, mailbox: RecipientId) -> (Vec<VisibleFolder>, Option<FolderId>) {
    let folders: Vec<VisibleFolder> =
        call.state.deputy.visible_folders(principal).into_iter().filter(|f| f.mailbox == mailbox).collect();
    let root = call
        .state
        .deputy
        .read(|s| s.folders_of(mailbox).find(|f| f.well_known == Some(WellKnownFolder::Root)).map(|f| f.id));
    (folders, root)
}

fn parent_of(call: &Call, folder: FolderId) -> Option<FolderId> {
    call.state.deputy.read(|s| s.folder(folder).and_then(|f| f.parent))
}

async fn folder_json(call: &Call, f: &VisibleFolder, all: &[VisibleFolder]) -> Result<Map<String, Value>, GraphError> {
    let counts = if f.rights.contains(FolderRights::READ_ITEMS) {
        call.state.deputy.folder_counts(&[f.folder]).await.map_err(|_| GraphError::unavailable())?.pop()
    } else {
        None
    };
    let children = all.iter().filter(|c| parent_of(call, c.folder) == Some(f.folder)).count();
    let display = f.path.rsplit('/').next().unwrap_or(&f.path).to_owned();
    let mut m = Map::new();
    m.insert("id".into(), json!(ids::folder(f.folder)));
    m.insert("displayName".into(), json!(display));
    m.insert("parentFolderId".into(), json!(parent_of(call, f.folder).map(ids::folder)));
    m.insert("childFolderCount".into(), json!(children));
    m.insert("unreadItemCount".into(), json!(counts.map_or(0, |c| c.unread)));
    m.insert("totalItemCount".into(), json!(counts.map_or(0, |c| c.items)));
    m.insert("sizeInBytes".into(), json!(counts.map_or(0, |c| c.size)));
    m.insert("isHidden".into(), json!(false));
    Ok(m)
}

/// `GET …/mailFolders` (the root's children) and `…/mailFolders/{id}/childFolders`.
pub(crate) async fn list(call: &Call, mailbox: RecipientId, parent: Option<&str>) -> Result<Response, GraphError> {
    let acting = call.caller.acting(mailbox, Need::Read)?;
    let query = odata::parse(&call.query).map_err(odata_error)?;
    let (all, root) = visible(call, acting.principal, mailbox);
    let parent = match parent {
        Some(p) => {
            let id = folder_ref(call, mailbox, p)?;
            if Some(id) != root && !all.iter().any(|f| f.folder == id) {
                return Err(by_name(p, GraphError::not_found()));
            }
            Some(id)
        }
        None => root,
    };
    if all.is_empty() && acting.principal != mailbox {
        return Err(GraphError::access_denied());
    }
    let mut items = Vec::new();
    for f in all.iter().filter(|f| parent_of(call, f.folder) == parent) {
        let item = Value::Object(folder_json(call, f, &all).await?);
        if query.filter.as_ref().is_none_or(|q| q.matches(&item)) {
            items.push(item);
        }
    }
    let (total, page) = odata::page_of(items, &query, DEFAULT_PAGE);
    let context = format!("{}/v1.0/$metadata#users('{}')/mailFolders", call.state.authority(&call.headers), mailbox.0);
    Ok(axum::Json(odata::collection(&query, context, total, page, |skip| next_link(call, skip))).into_response())
}

/// `GET …/mailFolders/{id | well-known name}`.
pub(crate) async fn get(call: &Call, mailbox: RecipientId, id: &str) -> Result<Response, GraphError> {
    let acting = call.caller.acting(mailbox, Need::Read)?;
    let query = odata::parse(&call.query).map_err(odata_error)?;
    let folder = folder_ref(call, mailbox, id)?;
    let (all, root) = visible(call, acting.principal, mailbox);
    let mut item = if Some(folder) == root {
        if !call.state.deputy.may_open_mailbox(acting.principal, mailbox) {
            return Err(GraphError::not_found());
        }
        let top = all.iter().filter(|f| parent_of(call, f.folder) == root).count();
        let mut m = Map::new();
        m.insert("id".into(), json!(ids::folder(folder)));
        m.insert("displayName".into(), json!(WellKnownFolder::Root.display_name()));
        m.insert("parentFolderId".into(), Value::Null);
        m.insert("childFolderCount".into(), json!(top));
        m.insert("unreadItemCount".into(), json!(0));
        m.insert("totalItemCount".into(), json!(0));
        m.insert("isHidden".into(), json!(false));
        m
    } else {
        let f = all.iter().find(|f| f.folder == folder).ok_or_else(|| by_name(id, GraphError::not_found()))?;
        folder_json(call, f, &all).await?
    };
    item.insert(
        "@odata.context".into(),
        json!(format!(
            "{}/v1.0/$metadata#users('{}')/mailFolders/$entity",
            call.state.authority(&call.headers),
            mailbox.0
        )),
    );
    Ok(axum::Json(Value::Object(odata::project(item, query.select.as_deref()))).into_response())
}
