//! `…/calendar/calendarPermissions` (exchange-reference §3.3): the entries of
//! the primary Calendar folder, the same ones `Get-MailboxFolderPermission
//! mary:\Calendar` shows, in Graph's shape. "My Organization" is the
//! `Default` entry (never removable); `Anonymous` is not shown, as in Graph.
//!
//! Only the owner (or whoever may manage the folder's permissions: an
//! application, Full Access) lists or changes them; anyone else gets an empty
//! collection on list (Graph's documented answer) and 403 on changes. The
//! changes are the shell's core calls, audited as the signed-in user.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use deputy_core::{FolderPermissionEdit, FolderPermissionRow};
use deputy_types::{FolderId, FolderRights, FolderRole, FolderUser, RecipientId, SharingFlags};
use serde_json::{Value, json};

use crate::Call;
use crate::auth::{Acting, Need};
use crate::error::GraphError;
use crate::events::{audit, context, core_error, ok};
use crate::ids;
use crate::mail::json_body;

type Result<T> = std::result::Result<T, GraphError>;

/// Graph's calendar roles and the folder rights and delegate flags each
/// stands for (the reference's mapping).
const ROLES: &[(&str, FolderRole, SharingFlags)] = &[
    ("none", FolderRole::None, SharingFlags::empty()),
    ("freeBusyRead", FolderRole::AvailabilityOnly, SharingFlags::empty()),
    ("limitedRead", FolderRole::LimitedDetails, SharingFlags::empty()),
    ("read", FolderRole::Reviewer, SharingFlags::empty()),
    ("write", FolderRole::Editor, SharingFlags::empty()),
    ("delegateWithoutPrivateEventAccess", FolderRole::Editor, SharingFlags::DELEGATE),
    (
        "delegateWithPrivateEventAccess",
        FolderRole::Editor,
        SharingFlags::DELEGATE.union(SharingFlags::CAN_VIEW_PRIVATE_ITEMS),
    ),
];

/// What My Organization may be set to.
const ORGANIZATION_ROLES: &[&str] = &["none", "freeBusyRead", "limitedRead", "read", "write"];

/// The Graph role of an entry; `custom` for rights no role names.
pub(crate) fn role_of(rights: FolderRights, flags: SharingFlags) -> &'static str {
    if rights.is_empty() {
        return "none";
    }
    ROLES.iter().find(|(_, r, f)| r.rights() == rights && *f == flags).map_or("custom", |(n, _, _)| n)
}

/// The rights and flags a role name stands for (case-insensitive).
pub(crate) fn parse_role(name: &str) -> Option<(&'static str, FolderRights, SharingFlags)> {
    ROLES.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(name)).map(|(n, r, f)| (*n, r.rights(), *f))
}

fn allowed_roles(user: FolderUser) -> Vec<&'static str> {
    match user {
        FolderUser::Recipient(_) => ROLES.iter().map(|(n, _, _)| *n).filter(|n| *n != "none").collect(),
        _ => ORGANIZATION_ROLES.to_vec(),
    }
}

fn row_json(call: &Call, row: &FolderPermissionRow) -> Value {
    let email = match row.user {
        FolderUser::Recipient(id) => call
            .state
            .deputy
            .read(|s| {
                s.dir.get(id).map(
                    |r| json!({"name": r.display_name, "address": r.primary_smtp.as_ref().map(ToString::to_string)}),
                )
            })
            .unwrap_or_else(|| json!({"name": id.0.to_string(), "address": null})),
        _ => json!({"name": "My Organization", "address": null}),
    };
    json!({
        "id": ids::permission(row.user),
        "emailAddress": email,
        "isInsideOrganization": true,
        "isRemovable": matches!(row.user, FolderUser::Recipient(_)),
        "role": role_of(row.rights, row.flags),
        "allowedRoles": allowed_roles(row.user),
    })
}

/// The calendar and whether the caller manages its permissions: the owner,
/// or whoever the core lets manage the folder's permissions.
fn managed(call: &Call, mailbox: RecipientId, need: Need) -> Result<(Acting, FolderId, bool)> {
    let acting = call.caller.acting(mailbox, need)?;
    let deputy = &call.state.deputy;
    let folder = deputy.read(|s| s.calendar_folder(mailbox)).ok_or_else(GraphError::not_found)?;
    let manages = acting.principal == mailbox
        || deputy.require(acting.principal, folder, deputy_access::FolderOp::ManagePermissions).is_ok();
    Ok((acting, folder, manages))
}

fn rows(call: &Call, folder: FolderId) -> Vec<FolderPermissionRow> {
    call.state
        .deputy
        .read(|s| s.folder_permission_rows(folder))
        .into_iter()
        .filter(|r| r.user != FolderUser::Anonymous)
        .collect()
}

/// `GET …/calendar/calendarPermissions`.
pub(crate) fn list(call: &Call, mailbox: RecipientId) -> Result<Response> {
    let (_, folder, manages) = managed(call, mailbox, Need::CalendarRead)?;
    let value: Vec<Value> =
        if manages { rows(call, folder).iter().map(|r| row_json(call, r)).collect() } else { Vec::new() };
    Ok(ok(json!({"@odata.context": context(call, mailbox, "calendar/calendarPermissions"), "value": value})))
}

/// The entry an id names, if it exists (Anonymous is never addressable).
fn entry(call: &Call, folder: FolderId, id: &str) -> Result<FolderPermissionRow> {
    let user = ids::parse_permission(id).filter(|u| *u != FolderUser::Anonymous).ok_or_else(GraphError::not_found)?;
    call.state.deputy.read(|s| s.folder_entry(folder, user)).ok_or_else(GraphError::not_found)
}

/// `GET …/calendarPermissions/{id}`.
pub(crate) fn get(call: &Call, mailbox: RecipientId, id: &str) -> Result<Response> {
    let (_, folder, manages) = managed(call, mailbox, Need::CalendarRead)?;
    if !manages {
        return Err(GraphError::not_found());
    }
    let row = entry(call, folder, id)?;
    let mut value = row_json(call, &row);
    value["@odata.context"] = json!(context(call, mailbox, "calendar/calendarPermissions/$entity"));
    Ok(ok(value))
}

fn role_value(body: &serde_json::Map<String, Value>) -> Result<(&'static str, FolderRights, SharingFlags)> {
    let name = body
        .get("role")
        .and_then(Value::as_str)
        .ok_or_else(|| GraphError::bad_request("The property 'role' is required."))?;
    parse_role(name).ok_or_else(|| {
        GraphError::bad_request(format!(
            "Invalid value for property 'role': '{name}' is not a calendar role (none, freeBusyRead, limitedRead, read, write, delegateWithoutPrivateEventAccess, delegateWithPrivateEventAccess)."
        ))
    })
}

/// The shell line an entry change corresponds to, for the audit log.
fn command(
    call: &Call,
    verb: &str,
    folder: FolderId,
    user: FolderUser,
    rights: Option<(FolderRights, SharingFlags)>,
) -> String {
    call.state.deputy.read(|s| {
        let mut line = format!(
            "{verb}-MailboxFolderPermission -Identity '{}' -User '{}'",
            s.folder_identity(folder),
            s.folder_user_name(user)
        );
        if let Some((rights, flags)) = rights {
            line.push_str(&format!(" -AccessRights {}", rights.display_names().join(",")));
            if !flags.is_empty() {
                line.push_str(&format!(" -SharingPermissionFlags {}", flags.display()));
            }
        }
        line
    })
}

/// `POST …/calendarPermissions` `{emailAddress, role}`: a new entry; `200`
/// with the object, as Graph documents.
pub(crate) async fn create(call: &Call, mailbox: RecipientId) -> Result<Response> {
    let (acting, folder, manages) = managed(call, mailbox, Need::CalendarWrite)?;
    if !manages {
        return Err(GraphError::access_denied());
    }
    let body = json_body(call)?;
    let address = body
        .get("emailAddress")
        .and_then(|e| e.get("address"))
        .and_then(Value::as_str)
        .ok_or_else(|| GraphError::bad_request("The property 'emailAddress' with an address is required."))?;
    let (role, rights, flags) = role_value(&body)?;
    // Hidden from address lists: unknown to users, as everywhere else in the
    // doors (an administrator still adds it through the shell).
    let found = call.state.deputy.read(|s| s.dir.by_address(address).filter(|r| !r.hidden).map(|r| r.id));
    let user = found.filter(|id| *id != mailbox).ok_or_else(|| {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "ErrorInvalidUser",
            format!("The user '{address}' is not in the organization."),
        )
    })?;
    let user = FolderUser::Recipient(user);
    if !allowed_roles(user).contains(&role) {
        return Err(GraphError::bad_request(format!("The role '{role}' can't be given to a user.")));
    }
    let ctx =
        audit(call, acting, "Add-MailboxFolderPermission", command(call, "Add", folder, user, Some((rights, flags))));
    let edit = FolderPermissionEdit { rights, flags: Some(flags), send_notification: false };
    let applied = call.state.deputy.add_folder_permission(&ctx, folder, user, edit).await.map_err(core_error)?;
    Ok(ok(row_json(call, &applied.value)))
}

/// `PATCH …/calendarPermissions/{id}` `{role}`: the only updatable property.
pub(crate) async fn update(call: &Call, mailbox: RecipientId, id: &str) -> Result<Response> {
    let (acting, folder, manages) = managed(call, mailbox, Need::CalendarWrite)?;
    if !manages {
        return Err(GraphError::access_denied());
    }
    let row = entry(call, folder, id)?;
    let body = json_body(call)?;
    if let Some(key) = body.keys().find(|k| !k.starts_with('@') && *k != "role") {
        return Err(GraphError::bad_request(format!(
            "The property '{key}' can't be updated; only 'role' can (delete and re-create the permission instead)."
        )));
    }
    let (role, rights, flags) = role_value(&body)?;
    if !allowed_roles(row.user).contains(&role) {
        return Err(GraphError::bad_request(format!("The role '{role}' is not in allowedRoles of this permission.")));
    }
    let ctx = audit(
        call,
        acting,
        "Set-MailboxFolderPermission",
        command(call, "Set", folder, row.user, Some((rights, flags))),
    );
    let edit = FolderPermissionEdit { rights, flags: Some(flags), send_notification: false };
    let applied = call.state.deputy.set_folder_permission(&ctx, folder, row.user, edit).await.map_err(core_error)?;
    Ok(ok(row_json(call, &applied.value)))
}

/// `DELETE …/calendarPermissions/{id}`: My Organization is not removable.
pub(crate) async fn delete(call: &Call, mailbox: RecipientId, id: &str) -> Result<Response> {
    let (acting, folder, manages) = managed(call, mailbox, Need::CalendarWrite)?;
    if !manages {
        return Err(GraphError::access_denied());
    }
    let row = entry(call, folder, id)?;
    if !matches!(row.user, FolderUser::Recipient(_)) {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "ErrorInvalidRequest",
            "My Organization can't be removed; set its role to none instead.",
        ));
    }
    let ctx = audit(call, acting, "Remove-MailboxFolderPermission", command(call, "Remove", folder, row.user, None));
    call.state.deputy.remove_folder_permission(&ctx, folder, row.user).await.map_err(core_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_map_both_ways() {
        for (name, role, flags) in ROLES {
            assert_eq!(role_of(role.rights(), *flags), *name);
            assert_eq!(parse_role(&name.to_ascii_uppercase()).map(|r| r.0), Some(*name));
        }
        assert_eq!(role_of(FolderRights::empty(), SharingFlags::empty()), "none");
        assert_eq!(role_of(FolderRole::Owner.rights(), SharingFlags::empty()), "custom");
        assert_eq!(parse_role("custom"), None);
    }
}
