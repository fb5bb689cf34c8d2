//! Graph's `calendar` resource: the primary calendar (`…/calendar`) and
//! every calendar of the mailbox the caller may see (`…/calendars`), made,
//! renamed and removed through `…/calendars[/{id}]` (Graph's calendar
//! resource type, "Create calendar", "Update calendar", "Delete calendar").
//!
//! A calendar is a folder at or below the mailbox's Calendar folder; new
//! ones go directly below it (Graph's default calendar group). The core
//! lists them (`calendars_of`, primary first) and makes every folder change
//! with the caller's rights (`create_folder_as` needs CreateSubfolder on the
//! Calendar folder, `rename_folder_as`/`delete_folder_as` FolderOwner on the
//! calendar). A calendar the caller may see no more than free/busy of is
//! left out or answers `404`, as its events do.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use deputy_access::FolderOp;
use deputy_calendar::{Viewer, Visibility};
use deputy_core::calendar::CalendarAccess;
use deputy_core::{CoreError, FolderChangeError, MailboxError};
use deputy_types::{Folder, FolderId, FolderRights, RecipientId};
use serde_json::{Map, Value, json};

use crate::Call;
use crate::auth::{Acting, Need};
use crate::error::GraphError;
use crate::events::{audit, calendar_error, context, core_error, identity, ok, page, readable};
use crate::ids;
use crate::mail::json_body;

type Result<T> = std::result::Result<T, GraphError>;

/// Properties Graph computes, accepted in a body and ignored (as Graph
/// ignores read-only properties).
const READ_ONLY: &[&str] = &[
    "id",
    "changeKey",
    "hexColor",
    "owner",
    "canEdit",
    "canShare",
    "canViewPrivateItems",
    "isRemovable",
    "isTallyingResponses",
    "allowedOnlineMeetingProviders",
    "defaultOnlineMeetingProvider",
];

/// Graph's `calendarColor` values. A colour is accepted and not kept:
/// Deputy's folders have no colour, so every calendar shows `auto`.
const COLORS: &[&str] = &[
    "auto",
    "lightBlue",
    "lightGreen",
    "lightOrange",
    "lightGray",
    "lightYellow",
    "lightTeal",
    "lightPink",
    "lightBrown",
    "lightRed",
    "maxColor",
];

/// The calendar folder a `calendars/{id}` names in `mailbox`; `404` for an
/// id of no calendar there (whether the caller may see it is asked next).
pub(crate) fn folder_of(call: &Call, mailbox: RecipientId, id: &str) -> Result<FolderId> {
    let folder = ids::parse_folder(id).ok_or_else(GraphError::not_found)?;
    let ours = call
        .state
        .deputy
        .read(|s| s.folder(folder).is_some_and(|f| f.mailbox == mailbox) && s.is_calendar_folder(folder));
    ours.then_some(folder).ok_or_else(GraphError::not_found)
}

/// A stable token that changes when the name (the one stored property) does.
fn change_key(folder: &Folder) -> String {
    // FNV-1a: tiny and deterministic across processes and nodes.
    let hash =
        folder.name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    format!("{hash:016x}")
}

/// One calendar as Graph shows it, with the caller's standing on it.
fn calendar_json(call: &Call, acting: Acting, folder: &Folder, access: &CalendarAccess) -> Result<Value> {
    let mailbox = acting.mailbox;
    let (name, address) = identity(call, mailbox)?;
    let deputy = &call.state.deputy;
    let primary = deputy.read(|s| s.calendar_folder(mailbox)) == Some(folder.id);
    let owner = acting.principal == mailbox;
    let manages = owner || deputy.require(acting.principal, folder.id, FolderOp::ManagePermissions).is_ok();
    Ok(json!({
        "id": ids::folder(folder.id),
        // A delegate sees the manager's primary calendar under her name, as Outlook shows it.
        "name": if primary && !owner { name.clone() } else { folder.name.clone() },
        "color": "auto",
        "hexColor": "",
        "isDefaultCalendar": primary && owner,
        "changeKey": change_key(folder),
        "canShare": manages,
        "canViewPrivateItems": access.viewer.can_view_private,
        "canEdit": access.rights.intersects(FolderRights::CREATE_ITEMS | FolderRights::EDIT_ALL),
        "isRemovable": !primary && manages,
        "isTallyingResponses": true,
        "allowedOnlineMeetingProviders": [],
        "defaultOnlineMeetingProvider": "none",
        "owner": {"name": name, "address": address},
    }))
}

/// The caller's standing for `need` and one calendar it may read, or `404`.
fn visible(
    call: &Call,
    mailbox: RecipientId,
    need: Need,
    folder: FolderId,
) -> Result<(Acting, Folder, CalendarAccess)> {
    let acting = call.caller.acting(mailbox, need)?;
    let access = call.state.deputy.require_calendar(acting.principal, folder).map_err(calendar_error)?;
    readable(&access)?;
    let folder = call.state.deputy.read(|s| s.folder(folder).cloned()).ok_or_else(GraphError::not_found)?;
    Ok((acting, folder, access))
}

/// One calendar with its `@odata.context`.
fn entity(call: &Call, acting: Acting, folder: &Folder, access: &CalendarAccess, what: &str) -> Result<Value> {
    let mut value = calendar_json(call, acting, folder, access)?;
    value["@odata.context"] = json!(context(call, acting.mailbox, what));
    Ok(value)
}

/// `GET …/calendar`: the primary calendar.
pub(crate) fn primary(call: &Call, mailbox: RecipientId) -> Result<Response> {
    let folder = call.state.deputy.read(|s| s.calendar_folder(mailbox)).ok_or_else(GraphError::not_found)?;
    let (acting, folder, access) = visible(call, mailbox, Need::CalendarRead, folder)?;
    Ok(ok(entity(call, acting, &folder, &access, "calendar/$entity")?))
}

/// `GET …/calendars/{id}`.
pub(crate) fn get(call: &Call, mailbox: RecipientId, id: &str) -> Result<Response> {
    let (acting, folder, access) = visible(call, mailbox, Need::CalendarRead, folder_of(call, mailbox, id)?)?;
    Ok(ok(entity(call, acting, &folder, &access, "calendars/$entity")?))
}

/// `GET …/calendars`: every calendar the caller may read, the primary first,
/// paged like every Graph collection.
pub(crate) fn list(call: &Call, mailbox: RecipientId) -> Result<Response> {
    let acting = call.caller.acting(mailbox, Need::CalendarRead)?;
    let shown: Vec<(Folder, CalendarAccess)> = call.state.deputy.read(|s| {
        s.calendars_of(acting.principal, mailbox)
            .into_iter()
            .filter(|(_, access)| readable(access).is_ok())
            .map(|(f, access)| (f.clone(), access))
            .collect()
    });
    let items =
        shown.iter().map(|(f, access)| calendar_json(call, acting, f, access)).collect::<Result<Vec<Value>>>()?;
    page(call, mailbox, "calendars", items, |_| {})
}

/// The new name in a `POST`/`PATCH` body, after checking that every other
/// property is one Graph's calendar has (`color` accepted and not kept).
fn name_in(body: &Map<String, Value>, required: bool, is_default: bool) -> Result<Option<String>> {
    let invalid = |m: String| GraphError::new(StatusCode::BAD_REQUEST, "ErrorInvalidRequest", m);
    for (key, value) in body.iter().filter(|(k, _)| !k.starts_with('@')) {
        match key.as_str() {
            "name" => {}
            "color" => {
                let known = value.as_str().is_some_and(|c| COLORS.iter().any(|k| k.eq_ignore_ascii_case(c)));
                if !known {
                    return Err(invalid(format!("Invalid value for property 'color': {value}")));
                }
            }
            // Which calendar is the default can't change: it is the Calendar folder.
            "isDefaultCalendar" if value.as_bool() == Some(is_default) => {}
            "isDefaultCalendar" => {
                return Err(invalid(
                    "The default calendar is the mailbox's Calendar folder; it can't be changed.".into(),
                ));
            }
            k if READ_ONLY.contains(&k) => {}
            other => {
                return Err(GraphError::new(
                    StatusCode::BAD_REQUEST,
                    "RequestBodyRead",
                    format!("The property '{other}' does not exist on type 'microsoft.graph.calendar'."),
                ));
            }
        }
    }
    match body.get("name") {
        Some(Value::String(n)) if !n.trim().is_empty() => Ok(Some(n.trim().to_owned())),
        None if !required => Ok(None),
        _ => Err(invalid("The property 'name' is required and must be a non-empty string.".into())),
    }
}

/// Maps a refused folder change: a hidden calendar is `404`, a missing
/// right `403`, a taken name `409 ErrorFolderExists` (Exchange's code for
/// a folder that already exists).
fn change_error(e: FolderChangeError) -> GraphError {
    match e {
        FolderChangeError::Access(MailboxError::NotFound) => GraphError::not_found(),
        FolderChangeError::Access(MailboxError::Denied(_)) => GraphError::access_denied(),
        FolderChangeError::Access(MailboxError::Store(e)) => core_error(CoreError::Store(e)),
        FolderChangeError::Refused(CoreError::Taken { .. }) => GraphError::new(
            StatusCode::CONFLICT,
            "ErrorFolderExists",
            "A folder with the specified name already exists.",
        ),
        FolderChangeError::Refused(CoreError::InvalidValue { reason, .. }) => GraphError::new(
            StatusCode::BAD_REQUEST,
            "ErrorInvalidRequest",
            format!("Invalid value for property 'name': {reason}."),
        ),
        FolderChangeError::Refused(e) => core_error(e),
    }
}

/// The folder path the shell would name, for the audit record (renames and
/// removals have no Exchange cmdlet, so, as the IMAP and CalDAV doors do,
/// the record names the request instead).
fn shell_identity(call: &Call, folder: FolderId) -> String {
    call.state.deputy.read(|s| s.folder_identity(folder))
}

/// `POST …/calendars` `{"name": …}`: a new calendar below the primary one.
pub(crate) async fn create(call: &Call, mailbox: RecipientId) -> Result<Response> {
    let acting = call.caller.acting(mailbox, Need::CalendarWrite)?;
    let parent = call.state.deputy.read(|s| s.calendar_folder(mailbox)).ok_or_else(GraphError::not_found)?;
    let body = json_body(call)?;
    let name = name_in(&body, true, false)?.unwrap_or_default();
    let command = format!("New-MailboxFolder -Parent '{}' -Name '{name}'", shell_identity(call, parent));
    let ctx = audit(call, acting, "New-MailboxFolder", command);
    let deputy = &call.state.deputy;
    let folder = deputy.create_folder_as(&ctx, acting.principal, parent, &name).await.map_err(change_error)?;
    // One who may create calendars but not read them gets the calendar without rights.
    let none = CalendarAccess {
        viewer: Viewer { visibility: Visibility::None, can_view_private: false },
        rights: FolderRights::empty(),
        delegate: false,
    };
    let access = deputy.read(|s| s.calendar_access(acting.principal, folder.id)).unwrap_or(none);
    let value = entity(call, acting, &folder, &access, "calendars/$entity")?;
    Ok((StatusCode::CREATED, axum::Json(value)).into_response())
}

/// `PATCH …/calendars/{id}` `{"name": …}`: renames the calendar in place.
/// `color` is accepted and not kept; `isDefaultCalendar` may only repeat
/// what it is. The primary calendar keeps its name (a default folder).
pub(crate) async fn update(call: &Call, mailbox: RecipientId, id: &str) -> Result<Response> {
    let (acting, folder, _) = visible(call, mailbox, Need::CalendarWrite, folder_of(call, mailbox, id)?)?;
    let deputy = &call.state.deputy;
    let is_default = deputy.read(|s| s.calendar_folder(mailbox)) == Some(folder.id);
    let body = json_body(call)?;
    if let Some(name) = name_in(&body, false, is_default)?.filter(|n| *n != folder.name) {
        let parent = folder.parent.ok_or_else(GraphError::not_found)?;
        let command = format!("PATCH calendars '{}' name '{name}'", shell_identity(call, folder.id));
        let ctx = audit(call, acting, "PATCH calendar", command);
        deputy.rename_folder_as(&ctx, acting.principal, folder.id, parent, &name).await.map_err(change_error)?;
    }
    let (acting, folder, access) = visible(call, mailbox, Need::CalendarWrite, folder.id)?;
    Ok(ok(entity(call, acting, &folder, &access, "calendars/$entity")?))
}

/// `DELETE …/calendars/{id}`: removes a calendar with its events. Graph
/// deletes "a calendar other than the default calendar"; the default one
/// is refused as Exchange refuses deleting a distinguished folder
/// (`400 ErrorDeleteDistinguishedFolder`).
pub(crate) async fn delete(call: &Call, mailbox: RecipientId, id: &str) -> Result<Response> {
    let (acting, folder, _) = visible(call, mailbox, Need::CalendarWrite, folder_of(call, mailbox, id)?)?;
    let deputy = &call.state.deputy;
    if deputy.read(|s| s.calendar_folder(mailbox)) == Some(folder.id) {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "ErrorDeleteDistinguishedFolder",
            "Distinguished folders cannot be deleted.",
        ));
    }
    let command = format!("DELETE calendars '{}'", shell_identity(call, folder.id));
    let ctx = audit(call, acting, "DELETE calendar", command);
    deputy.delete_folder_as(&ctx, acting.principal, folder.id).await.map_err(change_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
