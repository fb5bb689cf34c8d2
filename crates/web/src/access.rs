//! Who can do what (spec §8, beyond Exchange): for a user, every mailbox and
//! group they can open or send from (`Get-DelegatedMailbox`); for a mailbox
//! or group, everyone who can act on it; for both, `Test-DelegateAccess`.
//! Every row names the grant's holder and the group path, as the engine
//! reports it; this page only renders the core's answers.

use crate::layout::{page_in, respond};
use crate::recipients::{delegation_path, kind_label};
use crate::{Admin, WebState};
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use deputy_access::{Delegation, Permission};
use deputy_core::State as Core;
use deputy_types::{Recipient, RecipientId};
use maud::{Markup, html};
use std::collections::HashMap;

/// One row: the other party (target or person), the permission and how it is held.
struct Line {
    other: String,
    other_link: Option<String>,
    other_kind: &'static str,
    permission: String,
    holder: String,
    path: String,
}

/// One `Test-DelegateAccess` row.
struct Check {
    permission: &'static str,
    allowed: bool,
    reason: String,
}

fn display(s: &Core, id: RecipientId) -> String {
    s.dir.get(id).map_or_else(|| id.to_string(), |r| r.display_name.clone())
}

fn permission_label(p: Permission) -> &'static str {
    match p {
        Permission::FullAccess => "Full Access",
        Permission::SendAs => "Send As",
        Permission::SendOnBehalf => "Send on Behalf",
        Permission::Folder => "Folder permission",
    }
}

/// The permission, the holder of the grant and the group path of a delegation of `principal`.
fn describe(s: &Core, principal: RecipientId, d: &Delegation) -> (String, String, String) {
    let mut permission = permission_label(d.grant.permission).to_owned();
    if let Some((folder, rights, flags)) = d.folder {
        permission = format!("{} on {}", rights.display_names().join(", "), s.folder_identity(folder));
        if !flags.is_empty() {
            permission.push_str(&format!(" ({})", flags.display()));
        }
    }
    if d.automapped {
        permission.push_str(" (auto-mapped)");
    }
    let path = if d.grant.chain.is_empty() {
        "Direct".to_owned()
    } else {
        std::iter::once(principal)
            .chain(d.grant.chain.iter().copied())
            .map(|id| display(s, id))
            .collect::<Vec<_>>()
            .join(" → ")
    };
    (permission, display(s, d.grant.trustee), path)
}

/// The engine lists by target id; people read by name.
fn by_target_name(s: &Core, mut rows: Vec<Delegation>) -> Vec<Delegation> {
    rows.sort_by_cached_key(|d| display(s, d.target).to_lowercase());
    rows
}

fn resolve(s: &Core, q: &str) -> Option<Result<Recipient, String>> {
    let q = q.trim();
    (!q.is_empty()).then(|| s.dir.resolve(q).cloned().map_err(|e| e.to_string()))
}

/// `GET /ecp/access?user=…&target=…`.
pub(crate) async fn show(
    State(state): State<WebState>,
    Extension(admin): Extension<Admin>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let user_q = query.get("user").map(|q| q.trim().to_owned()).unwrap_or_default();
    let target_q = query.get("target").map(|q| q.trim().to_owned()).unwrap_or_default();
    let view = state.deputy.read(|s| {
        let user = resolve(s, &user_q);
        let target = resolve(s, &target_q);
        let of_user: Option<Vec<Line>> = match &user {
            Some(Ok(u)) => Some(
                by_target_name(s, s.delegated(u.id))
                    .iter()
                    .map(|d| {
                        let (permission, holder, path) = describe(s, u.id, d);
                        let t = s.dir.get(d.target);
                        Line {
                            other: display(s, d.target),
                            other_link: t.and_then(delegation_path),
                            other_kind: t.map_or("", |t| kind_label(t.kind)),
                            permission,
                            holder,
                            path,
                        }
                    })
                    .collect(),
            ),
            _ => None,
        };
        let on_target: Option<Vec<Line>> = match &target {
            Some(Ok(t)) => Some(
                s.delegates_of(t.id)
                    .iter()
                    .map(|(p, d)| {
                        let (permission, holder, path) = describe(s, *p, d);
                        let name = s.dir.get(*p).map(|r| r.alias.clone()).unwrap_or_default();
                        Line {
                            other: display(s, *p),
                            other_link: Some(format!(
                                "/ecp/access?{}",
                                serde_urlencoded::to_string([("user", name)]).unwrap_or_default()
                            )),
                            other_kind: s.dir.get(*p).map_or("", |r| kind_label(r.kind)),
                            permission,
                            holder,
                            path,
                        }
                    })
                    .collect(),
            ),
            _ => None,
        };
        let checks: Option<Vec<Check>> = match (&user, &target) {
            (Some(Ok(u)), Some(Ok(t))) => Some(
                s.test_delegate_access(t.id, u.id)
                    .into_iter()
                    .map(|c| Check {
                        permission: permission_label(c.permission),
                        allowed: c.decision.allowed,
                        reason: c.reason,
                    })
                    .collect(),
            ),
            _ => None,
        };
        (user, target, of_user, on_target, checks)
    });
    let (user, target, of_user, on_target, checks) = view;
    let content = html! {
        p.help {
            "Enter a user to see every mailbox and group they can open or send from, a mailbox or group to see everyone who can act on it, or both to test one pair. Access through groups shows the group path."
        }
        form.search method="get" action="/ecp/access" {
            label for="user" { "User" }
            input #user type="search" name="user" value=(user_q) placeholder="Name, alias or address";
            label for="target" { "Mailbox or group" }
            input #target type="search" name="target" value=(target_q) placeholder="Name, alias or address";
            button type="submit" { "Show" }
        }
        @for r in [&user, &target].into_iter().flatten() {
            @if let Err(e) = r { div.flash.error role="alert" { (e) } }
        }
        @if let (Some(Ok(u)), Some(checks)) = (&user, &checks) {
            @if let Some(Ok(t)) = &target {
                section.perm aria-labelledby="h-test" {
                    h2 #h-test { "Can " (u.display_name) " act on " (t.display_name) "?" }
                    table.list {
                        caption.visually-hidden { "Test-DelegateAccess" }
                        thead { tr { th scope="col" { "Permission" } th scope="col" { "Decision" } th scope="col" { "Why" } } }
                        tbody {
                            @for c in checks {
                                tr { td { (c.permission) } td { @if c.allowed { "Allowed" } @else { "Denied" } } td { (c.reason) } }
                            }
                        }
                    }
                }
            }
        }
        @if let (Some(Ok(u)), Some(lines)) = (&user, &of_user) {
            (lines_table("h-user", &format!("What {} can open or send from", u.display_name), "Mailbox or group", lines))
        }
        @if let (Some(Ok(t)), Some(lines)) = (&target, &on_target) {
            (lines_table("h-target", &format!("Who can act on {}", t.display_name), "Person", lines))
        }
    };
    respond(StatusCode::OK, page_in("access", &admin, "Who can do what", None, content))
}

fn lines_table(id: &str, title: &str, first: &str, lines: &[Line]) -> Markup {
    html! {
        section.perm aria-labelledby=(id) {
            h2 id=(id) { (title) }
            table.list {
                caption.visually-hidden { (title) }
                thead { tr {
                    th scope="col" { (first) } th scope="col" { "Type" } th scope="col" { "Permission" }
                    th scope="col" { "Granted to" } th scope="col" { "Group path" }
                } }
                tbody {
                    @for l in lines {
                        tr {
                            td { @if let Some(href) = &l.other_link { a href=(href) { (l.other) } } @else { (l.other) } }
                            td { (l.other_kind) } td { (l.permission) } td { (l.holder) } td { (l.path) }
                        }
                    }
                    @if lines.is_empty() { tr { td colspan="5" { "Nothing: no grant applies." } } }
                }
            }
        }
    }
}
