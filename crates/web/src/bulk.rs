//! Bulk edit of mailbox delegation (seed 001, spec §7.6): the mailboxes
//! ticked on a Recipients tab get one delegate added to, or removed from, one
//! permission, each through the core call the shell makes (one audit record
//! per mailbox). A selection of mixed mailbox types is refused, as Exchange's
//! admin center refuses it, and nothing changes.

use crate::delegation::{Perm, change};
use crate::recipients::{MAILBOX_KINDS, TABS, kind_label};
use crate::{Admin, Fields, Flash, WebState, bad_request, parse_id};
use axum::Extension;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use deputy_access::{Surface, check_grant};
use deputy_core::State as Core;
use deputy_types::{Recipient, RecipientId, RecipientType as T};
use maud::{Markup, html};

/// The admin center's warning for a selection of several mailbox types.
pub(crate) const MIXED_TYPES: &str = "Bulk edit won't work because the selected mailboxes aren't all the same type. \
     Select only mailboxes of one type (for example, only user mailboxes or only shared mailboxes) and try again. \
     Nothing was changed.";

/// Who the bulk form offers as a delegate: everyone who may hold at least one
/// of the three permissions on some mailbox in the admin center.
pub(crate) fn candidates(s: &Core) -> Vec<(RecipientId, String)> {
    let mut out: Vec<&Recipient> = s
        .dir
        .iter()
        .filter(|r| Perm::ALL.into_iter().any(|p| MAILBOX_KINDS.iter().any(|&t| p.may_hold(t, r.kind))))
        .collect();
    out.sort_by_cached_key(|r| r.display_name.to_lowercase());
    out.into_iter()
        .map(|r| {
            let address = r.primary_smtp.as_ref().map(|a| a.to_string()).or_else(|| r.upn.clone()).unwrap_or_default();
            (r.id, format!("{} ({address})", r.display_name))
        })
        .collect()
}

/// The bulk edit controls under a mailbox list.
pub(crate) fn fields(candidates: &[(RecipientId, String)]) -> Markup {
    html! {
        fieldset.bulk {
            legend { "Bulk edit: mailbox delegation" }
            p.help #bulk-help {
                "Select mailboxes of the same type in the list (Shift+click selects a range, Ctrl+click one more), then add or remove a delegate for one permission on all of them."
            }
            div.row {
                label for="bulk-action" { "Action" }
                select #bulk-action name="action" aria-describedby="bulk-help" {
                    option value="add" { "Add" }
                    option value="remove" { "Remove" }
                }
            }
            div.row {
                label for="bulk-perm" { "Permission" }
                select #bulk-perm name="perm" {
                    @for p in Perm::ALL { option value=(p.key()) { (p.label()) } }
                }
            }
            div.row {
                label for="bulk-trustee" { "Delegate" }
                select #bulk-trustee name="trustee" required {
                    option value="" { "Select a user or group" }
                    @for (id, label) in candidates { option value=(id.0) { (label) } }
                }
            }
            div.row {
                input #bulk-automapping type="checkbox" name="automapping" checked;
                label for="bulk-automapping" { "Auto-mapping (Full Access only: open the mailboxes in the delegate's Outlook)" }
            }
            button type="submit" { "Save" }
        }
    }
}

/// Where to go back to: the tab and search the form came from.
fn back(fields: &Fields) -> Response {
    let tab = TABS.iter().find(|t| fields.get("tab") == Some(t.key)).map_or("mailboxes", |t| t.key);
    let q = fields.get("q").unwrap_or_default();
    let query = serde_urlencoded::to_string([("tab", tab), ("q", q)]).unwrap_or_default();
    Redirect::to(&format!("/ecp/recipients?{query}")).into_response()
}

/// `POST /ecp/bulk` (`mailbox`… , `action`, `perm`, `trustee`, `automapping`, `tab`, `q`).
pub(crate) async fn apply(
    State(state): State<WebState>,
    Extension(admin): Extension<Admin>,
    Extension(fields): Extension<Fields>,
) -> Response {
    let add = match fields.get("action") {
        Some("add") => true,
        Some("remove") => false,
        _ => return bad_request("The bulk edit form has no action: choose Add or Remove."),
    };
    let Some(perm) = fields.get("perm").and_then(Perm::parse) else {
        return bad_request("The bulk edit form has no permission: choose Send As, Send on Behalf or Full Access.");
    };
    let mut ids = Vec::new();
    for raw in fields.all("mailbox") {
        let Some(id) = parse_id(raw) else { return bad_request("A selected mailbox isn't a valid identifier.") };
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let looked_up = state.deputy.read(|s| {
        let targets: Option<Vec<Recipient>> =
            ids.iter().map(|id| s.dir.get(*id).filter(|r| MAILBOX_KINDS.contains(&r.kind)).cloned()).collect();
        let trustee = fields.get("trustee").and_then(parse_id).and_then(|id| s.dir.get(id)).cloned();
        (targets, trustee)
    });
    let (Some(mut targets), trustee) = looked_up else {
        state.flash(&admin, Flash::Error("A selected mailbox no longer exists. Nothing was changed.".into()));
        return back(&fields);
    };
    if targets.is_empty() {
        state.flash(&admin, Flash::Error("Select one or more mailboxes first.".into()));
        return back(&fields);
    }
    let mut kinds: Vec<T> = targets.iter().map(|t| t.kind).collect();
    kinds.sort_by_key(|k| kind_label(*k));
    kinds.dedup();
    if kinds.len() > 1 {
        let found: Vec<&str> = kinds.iter().map(|k| kind_label(*k)).collect();
        tracing::info!(caller = %admin.caller, "bulk edit refused: mixed mailbox types");
        state.flash(&admin, Flash::Warning(format!("{MIXED_TYPES} (Selected: {}.)", found.join(", "))));
        return back(&fields);
    }
    let Some(u) = trustee else {
        state.flash(&admin, Flash::Error("Select a user or group as the delegate. Nothing was changed.".into()));
        return back(&fields);
    };
    // All targets share one kind, so one check decides for all of them.
    if let Err(e) = check_grant(perm.access(), targets[0].kind, u.kind, Surface::AdminCenter) {
        state.flash(&admin, Flash::Error(format!("{e} Nothing was changed.")));
        return back(&fields);
    }
    targets.sort_by_cached_key(|t| t.display_name.to_lowercase());
    let automapping = fields.get("automapping").is_some();
    let (mut done, mut notes, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    for t in &targets {
        match change(&state, &admin.caller, perm, add, t, &u, automapping).await {
            Ok(a) if a.warnings.is_empty() => done.push(t.display_name.clone()),
            Ok(a) => notes.push(format!("{}: {}", t.display_name, a.warnings.join(" "))),
            Err(e) => errors.push(format!("{}: {e}", t.display_name)),
        }
    }
    let mut summary = Vec::new();
    if !done.is_empty() {
        let verb = if add { "now has" } else { "no longer has" };
        summary.push(format!("{} {verb} {} on {}.", u.display_name, perm.label(), done.join(", ")));
    }
    summary.extend(notes.iter().cloned());
    summary.extend(errors.iter().cloned());
    let text = summary.join(" ");
    let flash = if !errors.is_empty() {
        Flash::Error(text)
    } else if !notes.is_empty() {
        Flash::Warning(text)
    } else {
        Flash::Done(text)
    };
    state.flash(&admin, flash);
    back(&fields)
}
