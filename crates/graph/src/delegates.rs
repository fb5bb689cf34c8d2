//! Deputy's extension `/v1.0/me/delegates`: self-service delegates, as
//! Outlook's Delegate Access dialog (MS-OXODLGT) sets them up. A delegate is
//! nothing of its own: it is folder permission entries on the owner's
//! Calendar, Tasks, Inbox, Contacts and Notes (the calendar entry with the
//! `Delegate` flag when it receives copies of meeting messages, and
//! `CanViewPrivateItems`), plus Send on Behalf (`GrantSendOnBehalfTo`).
//!
//! The list is whoever holds Send on Behalf or is a calendar delegate. Adding,
//! changing or removing one is one core call (`Deputy::set_delegate`): every
//! entry is checked first and all of them are committed together, or none.
//! It is audited as the signed-in owner with the cmdlets an administrator
//! would have typed, so the shell and the admin center show what was done.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use deputy_core::{DelegateAccess, DelegateFolder};
use deputy_types::{FolderId, FolderRole, FolderUser, RecipientId, SharingFlags, WellKnownFolder};
use serde_json::{Map, Value, json};

use crate::Call;
use crate::auth::{Acting, Need};
use crate::error::GraphError;
use crate::events::{audit, context, core_error, created, ok};
use crate::mail::json_body;

type Result<T> = std::result::Result<T, GraphError>;

/// The folders the dialog offers, by their property name in `permissions`.
const FOLDERS: [(&str, WellKnownFolder); 5] = [
    ("calendar", WellKnownFolder::Calendar),
    ("tasks", WellKnownFolder::Tasks),
    ("inbox", WellKnownFolder::Inbox),
    ("contacts", WellKnownFolder::Contacts),
    ("notes", WellKnownFolder::Notes),
];

/// The dialog's roles; `none` means no entry.
const ROLES: [(&str, Option<FolderRole>); 4] = [
    ("none", None),
    ("reviewer", Some(FolderRole::Reviewer)),
    ("author", Some(FolderRole::Author)),
    ("editor", Some(FolderRole::Editor)),
];

/// What a delegate holds, or should hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Standing {
    roles: [Option<FolderRole>; 5],
    receive_copies: bool,
    private_items: bool,
}

/// Only the signed-in owner manages her delegates (not another delegate,
/// not Full Access, not an application).
fn owner(call: &Call, mailbox: RecipientId, need: Need) -> Result<Acting> {
    let acting = call.caller.acting(mailbox, need)?;
    if acting.app || acting.principal != mailbox {
        return Err(GraphError::access_denied());
    }
    Ok(acting)
}

fn folders(call: &Call, mailbox: RecipientId) -> [Option<FolderId>; 5] {
    call.state
        .deputy
        .read(|s| FOLDERS.map(|(_, w)| s.folders_of(mailbox).find(|f| f.well_known == Some(w)).map(|f| f.id)))
}

fn standing(call: &Call, mailbox: RecipientId, delegate: RecipientId) -> (Standing, [Option<FolderId>; 5]) {
    let folders = folders(call, mailbox);
    let user = FolderUser::Recipient(delegate);
    let entries = call.state.deputy.read(|s| folders.map(|f| f.and_then(|f| s.folder_entry(f, user))));
    let flags = entries[0].as_ref().map(|e| e.flags).unwrap_or_default();
    let standing = Standing {
        roles: entries.map(|e| e.and_then(|e| FolderRole::of(e.rights)).filter(|r| *r != FolderRole::None)),
        receive_copies: flags.contains(SharingFlags::DELEGATE),
        private_items: flags.contains(SharingFlags::CAN_VIEW_PRIVATE_ITEMS),
    };
    (standing, folders)
}

fn role_name(call: &Call, folder: Option<FolderId>, delegate: RecipientId) -> &'static str {
    let entry = folder.and_then(|f| call.state.deputy.read(|s| s.folder_entry(f, FolderUser::Recipient(delegate))));
    let Some(entry) = entry else { return "none" };
    match FolderRole::of(entry.rights) {
        None if entry.rights.is_empty() => "none",
        Some(FolderRole::None) => "none",
        role => ROLES.iter().find(|(_, r)| r.is_some() && *r == role).map_or("custom", |(n, _)| n),
    }
}

/// Whoever holds Send on Behalf or is a calendar delegate, in that order.
fn delegate_ids(call: &Call, mailbox: RecipientId) -> Vec<RecipientId> {
    call.state.deputy.read(|s| {
        let mut out: Vec<RecipientId> =
            s.dir.get(mailbox).map(|r| r.grant_send_on_behalf_to.clone()).unwrap_or_default();
        for (id, _) in s.calendar_delegates(mailbox) {
            if !out.contains(&id) {
                out.push(id);
            }
        }
        out
    })
}

fn delegate_json(call: &Call, mailbox: RecipientId, delegate: RecipientId) -> Value {
    let (standing, folders) = standing(call, mailbox, delegate);
    let mut permissions = Map::new();
    for (i, (name, _)) in FOLDERS.iter().enumerate() {
        permissions.insert((*name).into(), json!(role_name(call, folders[i], delegate)));
    }
    let user = call
        .state
        .deputy
        .read(|s| {
            s.dir.get(delegate).map(|r| {
                json!({"id": r.id.0.to_string(), "name": r.display_name, "address": r.primary_smtp.as_ref().map(ToString::to_string)})
            })
        })
        .unwrap_or_else(|| json!({"id": delegate.0.to_string()}));
    json!({
        "id": delegate.0.to_string(),
        "user": user,
        "permissions": permissions,
        "receiveCopiesOfMeetingMessages": standing.receive_copies,
        "canViewPrivateItems": standing.private_items,
    })
}

/// `GET /me/delegates`.
pub(crate) fn list(call: &Call, mailbox: RecipientId) -> Result<Response> {
    owner(call, mailbox, Need::SettingsRead)?;
    let value: Vec<Value> = delegate_ids(call, mailbox).into_iter().map(|d| delegate_json(call, mailbox, d)).collect();
    Ok(ok(json!({"@odata.context": context(call, mailbox, "delegates"), "value": value})))
}

fn delegate_ref(call: &Call, mailbox: RecipientId, id: &str) -> Result<RecipientId> {
    let id = uuid::Uuid::parse_str(id).map(RecipientId).map_err(|_| GraphError::not_found())?;
    if delegate_ids(call, mailbox).contains(&id) { Ok(id) } else { Err(GraphError::not_found()) }
}

/// `GET /me/delegates/{id}`.
pub(crate) fn get(call: &Call, mailbox: RecipientId, id: &str) -> Result<Response> {
    owner(call, mailbox, Need::SettingsRead)?;
    let delegate = delegate_ref(call, mailbox, id)?;
    Ok(ok(delegate_json(call, mailbox, delegate)))
}

fn bool_field(body: &Map<String, Value>, key: &str, default: bool) -> Result<bool> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(GraphError::bad_request(format!("Invalid value for property '{key}': a Boolean is expected."))),
    }
}

/// The standing a body asks for, starting from `base`.
fn wanted(body: &Map<String, Value>, base: Standing, adding: bool) -> Result<Standing> {
    const KNOWN: &[&str] = &["user", "permissions", "receiveCopiesOfMeetingMessages", "canViewPrivateItems", "id"];
    if let Some(key) = body.keys().find(|k| !k.starts_with('@') && !KNOWN.contains(&k.as_str())) {
        return Err(GraphError::bad_request(format!("The property '{key}' does not exist on a delegate.")));
    }
    let mut out = base;
    match body.get("permissions") {
        None | Some(Value::Null) => {}
        Some(Value::Object(p)) => {
            for (key, value) in p {
                let slot = FOLDERS.iter().position(|(n, _)| n.eq_ignore_ascii_case(key)).ok_or_else(|| {
                    GraphError::bad_request(format!(
                        "Unknown folder '{key}' in permissions (calendar, tasks, inbox, contacts, notes)."
                    ))
                })?;
                let name = value.as_str().unwrap_or_default();
                let role = ROLES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).ok_or_else(|| {
                    GraphError::bad_request(format!(
                        "Invalid role '{name}' for {key}: use none, reviewer, author or editor."
                    ))
                })?;
                out.roles[slot] = role.1;
            }
        }
        Some(_) => {
            return Err(GraphError::bad_request("Invalid value for property 'permissions': an object is expected."));
        }
    }
    let calendar_editor = out.roles[0] == Some(FolderRole::Editor);
    let default_copies = if adding { calendar_editor } else { base.receive_copies && calendar_editor };
    out.receive_copies = bool_field(body, "receiveCopiesOfMeetingMessages", default_copies)?;
    out.private_items = bool_field(body, "canViewPrivateItems", base.private_items && out.receive_copies)?;
    if out.receive_copies && !calendar_editor {
        return Err(GraphError::bad_request(
            "receiveCopiesOfMeetingMessages needs the editor role on the calendar (the Delegate flag is only given with Editor).",
        ));
    }
    if out.private_items && !out.receive_copies {
        return Err(GraphError::bad_request(
            "canViewPrivateItems needs receiveCopiesOfMeetingMessages: Deputy gives private-item access to calendar delegates only.",
        ));
    }
    Ok(out)
}

/// Brings the delegate's entries and Send on Behalf to `want` (`None`:
/// removes it) in one core call, audited as the owner with the cmdlets an
/// administrator would have run for it.
async fn apply(
    call: &Call,
    acting: Acting,
    mailbox: RecipientId,
    delegate: RecipientId,
    want: Option<Standing>,
) -> Result<()> {
    let (have, folders) = standing(call, mailbox, delegate);
    let target = want.unwrap_or(Standing { roles: [None; 5], receive_copies: false, private_items: false });
    let user = FolderUser::Recipient(delegate);
    let deputy = &call.state.deputy;
    let mut access = DelegateAccess { folders: Vec::new(), send_on_behalf: want.is_some() };
    let mut lines = Vec::new();
    deputy.read(|s| {
        let alias = |id| s.dir.get(id).map(|r| r.alias.clone()).unwrap_or_default();
        let trustee = alias(delegate);
        // Outlook's delegate list is the mailbox's Send on Behalf list
        // (`publicDelegates`), so that statement comes first and names the record.
        let holds = s.dir.get(mailbox).is_some_and(|r| r.grant_send_on_behalf_to.contains(&delegate));
        if access.send_on_behalf != holds {
            let verb = if holds { "Remove" } else { "Add" };
            lines.push(format!(
                "Set-Mailbox -Identity '{}' -GrantSendOnBehalfTo @{{{verb}='{trustee}'}}",
                alias(mailbox)
            ));
        }
        for (i, folder) in folders.iter().enumerate() {
            let Some(folder) = *folder else { continue };
            let mut flags = SharingFlags::empty();
            if i == 0 && target.receive_copies {
                flags |= SharingFlags::DELEGATE;
            }
            if i == 0 && target.private_items {
                flags |= SharingFlags::CAN_VIEW_PRIVATE_ITEMS;
            }
            let role = target.roles[i];
            access.folders.push(DelegateFolder { folder, role, flags });
            let exists = s.folder_entry(folder, user).is_some();
            let same = have.roles[i] == role
                && (i != 0
                    || (have.receive_copies, have.private_items) == (target.receive_copies, target.private_items));
            let verb = match (role, exists) {
                (None, false) => continue,
                (Some(_), true) if same => continue,
                (None, true) => "Remove",
                (Some(_), true) => "Set",
                (Some(_), false) => "Add",
            };
            let mut line =
                format!("{verb}-MailboxFolderPermission -Identity '{}' -User '{trustee}'", s.folder_identity(folder));
            if let Some(r) = role {
                line.push_str(&format!(" -AccessRights {}", r.as_str()));
                if !flags.is_empty() {
                    line.push_str(&format!(" -SharingPermissionFlags {}", flags.display()));
                }
            }
            lines.push(line);
        }
    });
    // With no statement nothing changes, and the core writes no record to name.
    let cmdlet = lines.first().and_then(|l| l.split(' ').next()).unwrap_or("Set-Mailbox").to_owned();
    let ctx = audit(call, acting, &cmdlet, lines.join("; "));
    deputy.set_delegate(&ctx, mailbox, delegate, &access).await.map_err(core_error)?;
    Ok(())
}

/// `POST /me/delegates` `{user: {address}, permissions, receiveCopiesOfMeetingMessages, canViewPrivateItems}`:
/// `201` with the delegate. Outlook's defaults: Editor on the calendar and
/// tasks, meeting copies when the calendar role allows them.
pub(crate) async fn add(call: &Call, mailbox: RecipientId) -> Result<Response> {
    let acting = owner(call, mailbox, Need::SettingsWrite)?;
    let body = json_body(call)?;
    let address = body
        .get("user")
        .and_then(|u| u.get("address").or_else(|| u.get("emailAddress").and_then(|e| e.get("address"))))
        .and_then(Value::as_str)
        .ok_or_else(|| GraphError::bad_request("The property 'user' with an address is required."))?;
    // A mailbox hidden from address lists is unknown to users, as in
    // getSchedule and CalDAV: its address must neither resolve nor be probed.
    let found = call
        .state
        .deputy
        .read(|s| s.dir.by_address(address).filter(|r| r.kind.has_mailbox() && !r.hidden).map(|r| r.id));
    let delegate = found.filter(|d| *d != mailbox).ok_or_else(|| {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "ErrorInvalidUser",
            format!("The user '{address}' can't be a delegate of this mailbox."),
        )
    })?;
    if delegate_ids(call, mailbox).contains(&delegate) {
        return Err(GraphError::new(
            StatusCode::CONFLICT,
            "ErrorDelegateAlreadyExists",
            format!("'{address}' is already a delegate; change it with PATCH."),
        ));
    }
    let defaults = Standing {
        roles: [Some(FolderRole::Editor), Some(FolderRole::Editor), None, None, None],
        receive_copies: true,
        private_items: false,
    };
    let want = wanted(&body, defaults, true)?;
    apply(call, acting, mailbox, delegate, Some(want)).await?;
    Ok(created(delegate_json(call, mailbox, delegate)))
}

/// `PATCH /me/delegates/{id}`: what the body names changes; the rest stays.
pub(crate) async fn update(call: &Call, mailbox: RecipientId, id: &str) -> Result<Response> {
    let acting = owner(call, mailbox, Need::SettingsWrite)?;
    let delegate = delegate_ref(call, mailbox, id)?;
    let body = json_body(call)?;
    if body.contains_key("user") {
        return Err(GraphError::bad_request(
            "The property 'user' can't be changed; remove the delegate and add another.",
        ));
    }
    let (have, _) = standing(call, mailbox, delegate);
    let want = wanted(&body, have, false)?;
    apply(call, acting, mailbox, delegate, Some(want)).await?;
    Ok(ok(delegate_json(call, mailbox, delegate)))
}

/// `DELETE /me/delegates/{id}`: every entry on the five folders and Send on Behalf go.
pub(crate) async fn remove(call: &Call, mailbox: RecipientId, id: &str) -> Result<Response> {
    let acting = owner(call, mailbox, Need::SettingsWrite)?;
    let delegate = delegate_ref(call, mailbox, id)?;
    apply(call, acting, mailbox, delegate, None).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
