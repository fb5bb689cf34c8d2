//! Folder permissions of a mailbox (spec §5): every folder, and per folder the
//! entries `Get-MailboxFolderPermission` shows (User, AccessRights,
//! SharingPermissionFlags), with add, change and remove through the core's
//! folder services. The core enforces the rules (delegate flags only on
//! calendars and with Editor); its error text is shown as it is.

use crate::delegation::quote;
use crate::layout::{csrf, page, respond};
use crate::recipients::{MAILBOX_KINDS, kind_label};
use crate::{Admin, Fields, Flash, WebState, bad_request, parse_id};
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use deputy_access::{Permission, Surface, check_grant};
use deputy_core::{Ctx, FolderPermissionEdit, State as Core};
use deputy_types::{FolderId, FolderRights, FolderRole, FolderUser, Recipient, RecipientId, SharingFlags};
use maud::{Markup, html};
use std::collections::HashMap;

/// A folder as the list shows it.
struct FolderView {
    id: FolderId,
    name: String,
    depth: usize,
    calendar: bool,
}

/// One permission entry as the table shows it.
struct EntryView {
    user: FolderUser,
    name: String,
    rights: FolderRights,
    flags: SharingFlags,
}

fn not_found() -> Response {
    crate::layout::error_page(
        StatusCode::NOT_FOUND,
        "Not found",
        "The mailbox or folder you selected no longer exists.",
    )
}

fn mailbox(s: &Core, id: &str) -> Option<Recipient> {
    s.dir.get(parse_id(id)?).filter(|r| MAILBOX_KINDS.contains(&r.kind)).cloned()
}

/// The mailbox's folders, depth first from the root, in creation order.
fn tree(s: &Core, mailbox: RecipientId) -> Vec<FolderView> {
    let all: Vec<_> = s.folders_of(mailbox).collect();
    let mut out = Vec::with_capacity(all.len());
    // Depth-first with a stack: children are pushed in reverse to come out in order.
    let mut pending: Vec<(&deputy_types::Folder, usize)> =
        all.iter().rev().filter(|f| f.parent.is_none()).map(|f| (*f, 0)).collect();
    while let Some((f, depth)) = pending.pop() {
        let name = match (f.parent, f.well_known) {
            (None, Some(w)) => w.display_name().to_owned(),
            _ => f.name.clone(),
        };
        let calendar = f.well_known.is_some_and(|w| w.is_calendar());
        out.push(FolderView { id: f.id, name, depth, calendar });
        pending.extend(all.iter().rev().filter(|c| c.parent == Some(f.id)).map(|c| (*c, depth + 1)));
    }
    out
}

/// The roles offered for a folder: the calendar-only ones only on calendars.
fn roles(calendar: bool) -> impl Iterator<Item = FolderRole> {
    FolderRole::ALL
        .into_iter()
        .filter(move |r| calendar || !matches!(r, FolderRole::AvailabilityOnly | FolderRole::LimitedDetails))
}

fn user_key(user: FolderUser) -> String {
    match user {
        FolderUser::Default => "Default".into(),
        FolderUser::Anonymous => "Anonymous".into(),
        FolderUser::Recipient(id) => id.0.to_string(),
    }
}

fn parse_user(s: &str) -> Option<FolderUser> {
    match s {
        "Default" => Some(FolderUser::Default),
        "Anonymous" => Some(FolderUser::Anonymous),
        _ => parse_id(s).map(FolderUser::Recipient),
    }
}

/// The role select and, on calendars, the delegate flag boxes of one form.
fn rights_controls(
    prefix: &str,
    who: &str,
    calendar: bool,
    rights: Option<FolderRights>,
    flags: SharingFlags,
) -> Markup {
    let current = rights.and_then(FolderRole::of);
    html! {
        @if who.is_empty() {
            label for={ (prefix) "-role" } { "Access rights" }
        } @else {
            label.visually-hidden for={ (prefix) "-role" } { "Access rights for " (who) }
        }
        select id={ (prefix) "-role" } name="role" {
            @if let (Some(r), None) = (rights, current) {
                option value="" selected {
                    @if r.is_empty() { "No rights" } @else { "Custom: " (r.display_names().join(", ")) }
                }
            }
            @for role in roles(calendar) {
                option value=(role.as_str()) selected[current == Some(role)] { (role.as_str()) }
            }
        }
        @if calendar {
            span.flag {
                input type="checkbox" id={ (prefix) "-delegate" } name="delegate" checked[flags.contains(SharingFlags::DELEGATE)];
                label for={ (prefix) "-delegate" } { "Delegate" @if !who.is_empty() { span.visually-hidden { " (" (who) ")" } } }
            }
            span.flag {
                input type="checkbox" id={ (prefix) "-private" } name="private" checked[flags.contains(SharingFlags::CAN_VIEW_PRIVATE_ITEMS)];
                label for={ (prefix) "-private" } { "Can view private items" @if !who.is_empty() { span.visually-hidden { " (" (who) ")" } } }
            }
        }
    }
}

/// `GET /ecp/mailbox/{id}/folders?folder=…` (the Calendar when none is chosen).
pub(crate) async fn show(
    State(state): State<WebState>,
    Extension(admin): Extension<Admin>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let chosen = query.get("folder").and_then(|f| uuid::Uuid::parse_str(f).ok()).map(FolderId);
    let view = state.deputy.read(|s| {
        let m = mailbox(s, &id)?;
        let folders = tree(s, m.id);
        let current = match chosen {
            Some(c) => folders.iter().position(|f| f.id == c)?,
            None => folders.iter().position(|f| f.calendar).unwrap_or_default(),
        };
        let folder = folders.get(current)?.id;
        let entries: Vec<EntryView> = s
            .folder_permission_rows(folder)
            .into_iter()
            .map(|r| EntryView { user: r.user, name: s.folder_user_name(r.user), rights: r.rights, flags: r.flags })
            .collect();
        let mut people: Vec<&Recipient> = s
            .dir
            .iter()
            .filter(|r| {
                r.id != m.id
                    && check_grant(Permission::Folder, m.kind, r.kind, Surface::AdminCenter).is_ok()
                    && !entries.iter().any(|e| e.user == FolderUser::Recipient(r.id))
            })
            .collect();
        people.sort_by_cached_key(|r| r.display_name.to_lowercase());
        let people: Vec<(RecipientId, String)> =
            people.into_iter().map(|r| (r.id, format!("{} ({})", r.display_name, kind_label(r.kind)))).collect();
        Some((m, folders, current, s.folder_identity(folder), entries, people))
    });
    let Some((m, folders, current, identity, entries, people)) = view else { return not_found() };
    let f = &folders[current];
    let base = format!("/ecp/mailbox/{}/folders", m.id.0);
    let here = format!("{base}?folder={}", f.id.0);
    let flash = state.take_flash(&admin);
    let content = html! {
        p.breadcrumb {
            a href="/ecp/recipients" { "Recipients" } " › "
            a href={ "/ecp/mailbox/" (m.id.0) "/delegation" } { (m.display_name) } " › Folder permissions"
        }
        div.split {
            nav.folders aria-label="Folders" {
                ul {
                    @for (i, x) in folders.iter().enumerate() {
                        li class={ "depth" (x.depth.min(4)) } {
                            @let href = format!("{base}?folder={}", x.id.0);
                            @if i == current { a href=(href) aria-current="page" { (x.name) } } @else { a href=(href) { (x.name) } }
                        }
                    }
                }
            }
            section.perm aria-labelledby="h-folder" {
                h2 #h-folder { (f.name) " " span.muted { "(" (identity) ")" } }
                table.list {
                    caption.visually-hidden { "Permissions on " (f.name) }
                    thead { tr {
                        th scope="col" { "User" } th scope="col" { "AccessRights" }
                        th scope="col" { "SharingPermissionFlags" } th scope="col" { "Change" }
                        th scope="col" { span.visually-hidden { "Remove" } }
                    } }
                    tbody {
                        @for (n, e) in entries.iter().enumerate() {
                            tr {
                                td { (e.name) }
                                td { (e.rights.display_names().join(", ")) }
                                td { (e.flags.display()) }
                                td {
                                    form.inline method="post" action={ (base) "/set" } {
                                        (csrf(&admin))
                                        input type="hidden" name="folder" value=(f.id.0);
                                        input type="hidden" name="user" value=(user_key(e.user));
                                        (rights_controls(&format!("e{n}"), &e.name, f.calendar, Some(e.rights), e.flags))
                                        button type="submit" aria-label={ "Save the permission of " (e.name) } { "Save" }
                                    }
                                }
                                td {
                                    @if matches!(e.user, FolderUser::Recipient(_)) {
                                        form.inline method="post" action={ (base) "/remove" } {
                                            (csrf(&admin))
                                            input type="hidden" name="folder" value=(f.id.0);
                                            input type="hidden" name="user" value=(user_key(e.user));
                                            button type="submit" aria-label={ "Remove the permission of " (e.name) } { "Remove" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                form.add method="post" action={ (base) "/add" } {
                    (csrf(&admin))
                    input type="hidden" name="folder" value=(f.id.0);
                    fieldset {
                        legend { "Add a permission on " (f.name) }
                        label for="add-user" { "User or group" }
                        select #add-user name="user" required {
                            option value="" { "Select a user or group" }
                            @for (id, label) in &people { option value=(id.0) { (label) } }
                        }
                        (rights_controls("add", "", f.calendar, None, SharingFlags::empty()))
                        button type="submit" { "Add" }
                    }
                    @if f.calendar {
                        p.help { "Delegate and Can view private items need the Editor role; Can view private items also needs Delegate." }
                    }
                }
                p { a href=(here) { "Reload this folder" } }
            }
        }
    };
    respond(StatusCode::OK, page(&admin, &format!("Folder permissions: {}", m.display_name), flash, content))
}

/// `POST /ecp/mailbox/{id}/folders/{add|set|remove}` (`folder`, `user`, `role`, `delegate`, `private`).
pub(crate) async fn change(
    State(state): State<WebState>,
    Extension(admin): Extension<Admin>,
    Extension(fields): Extension<Fields>,
    Path((id, op)): Path<(String, String)>,
) -> Response {
    if !matches!(op.as_str(), "add" | "set" | "remove") {
        return not_found();
    }
    let Some(folder) = fields.get("folder").and_then(|f| uuid::Uuid::parse_str(f).ok()).map(FolderId) else {
        return bad_request("The form names no folder.");
    };
    let Some(user) = fields.get("user").and_then(parse_user) else {
        return bad_request("Select a user or group first.");
    };
    let found = state.deputy.read(|s| {
        let m = mailbox(s, &id)?;
        s.folder(folder).filter(|f| f.mailbox == m.id)?;
        Some((m, s.folder_identity(folder), s.folder_user_name(user), user_name(s, user)))
    });
    let Some((m, identity, display, name)) = found else { return not_found() };
    let back = Redirect::to(&format!("/ecp/mailbox/{}/folders?folder={}", m.id.0, folder.0)).into_response();
    let on = quote(&identity);
    let d = &state.deputy;
    let (result, done) = if op == "remove" {
        let line = format!("Remove-MailboxFolderPermission -Identity {on} -User {name} -Confirm:$false");
        let ctx = Ctx::new(&admin.caller, "Remove-MailboxFolderPermission", &line);
        (
            d.remove_folder_permission(&ctx, folder, user).await.map(|a| a.warnings),
            format!("Removed {display} from {identity}."),
        )
    } else {
        let Some(role) = fields.get("role").and_then(|r| FolderRole::ALL.into_iter().find(|x| x.as_str() == r)) else {
            return bad_request(
                "Choose one of the roles (Owner, PublishingEditor, Editor, PublishingAuthor, Author, NonEditingAuthor, Reviewer, Contributor, AvailabilityOnly, LimitedDetails, None).",
            );
        };
        let mut flags = SharingFlags::empty();
        flags.set(SharingFlags::DELEGATE, fields.get("delegate").is_some());
        flags.set(SharingFlags::CAN_VIEW_PRIVATE_ITEMS, fields.get("private").is_some());
        let cmdlet = if op == "add" { "Add-MailboxFolderPermission" } else { "Set-MailboxFolderPermission" };
        let mut line = format!("{cmdlet} -Identity {on} -User {name} -AccessRights {}", role.as_str());
        if !flags.is_empty() || op == "set" {
            line.push_str(&format!(" -SharingPermissionFlags {}", quote(&flags.display())));
        }
        // The form always states the flags, so a Set never keeps stale ones by omission.
        let edit = FolderPermissionEdit { rights: role.rights(), flags: Some(flags), send_notification: false };
        let ctx = Ctx::new(&admin.caller, cmdlet, &line);
        let result = if op == "add" {
            d.add_folder_permission(&ctx, folder, user, edit).await
        } else {
            d.set_folder_permission(&ctx, folder, user, edit).await
        };
        (result.map(|a| a.warnings), format!("{display} now has {} on {identity}.", role.as_str()))
    };
    let flash = match result {
        Ok(w) if w.is_empty() => Flash::Done(done),
        Ok(w) => Flash::Warning(w.join(" ")),
        Err(e) => Flash::Error(e.to_string()),
    };
    state.flash(&admin, flash);
    back
}

/// The `-User` value the shell would take for an entry: its Name, or the special user.
fn user_name(s: &Core, user: FolderUser) -> String {
    match user {
        FolderUser::Recipient(id) => quote(&s.name_of(id)),
        other => s.folder_user_name(other),
    }
}
