//! Mailbox delegation and Group delegation (spec §3, §7.6; the admin center
//! pages of seed 001): Send As, Send on Behalf and Full Access lists with Add
//! and Remove, and the Sent Items copy switches (spec §4.2).

use crate::layout::{csrf, page, respond};
use crate::recipients::{delegation_path, kind_label};
use crate::{Admin, Fields, Flash, WebState};
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use deputy_access::{Permission, Surface, check_grant};
use deputy_core::{Applied, CoreError, Ctx, MailboxGrant, MultiEdit, RecipientEdit, State as Core};
use deputy_types::{InheritanceType, MailboxRights, Recipient, RecipientId, RecipientType as T};
use maud::html;
use std::collections::HashMap;

/// The three permissions of the delegation pages.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Perm {
    SendAs,
    SendOnBehalf,
    FullAccess,
}

impl Perm {
    pub(crate) const ALL: [Perm; 3] = [Perm::SendAs, Perm::SendOnBehalf, Perm::FullAccess];

    pub(crate) fn key(self) -> &'static str {
        match self {
            Perm::SendAs => "sendas",
            Perm::SendOnBehalf => "sendonbehalf",
            Perm::FullAccess => "fullaccess",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.key() == s)
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            Perm::SendAs => "Send As",
            Perm::SendOnBehalf => "Send on Behalf",
            Perm::FullAccess => "Full Access",
        }
    }

    /// The admin center's explanation under each list (seed 001).
    fn help(self) -> &'static str {
        match self {
            Perm::SendAs => {
                "The Send As permission allows a delegate to send email from this mailbox or group. The message will appear to have been sent by the mailbox or group."
            }
            Perm::SendOnBehalf => {
                "The Send on Behalf permission allows the delegate to send email on behalf of this mailbox or group. The From line in any message sent by a delegate indicates that the message was sent by the delegate on behalf of the mailbox or group."
            }
            Perm::FullAccess => {
                "The Full Access permission allows a delegate to open this mailbox and view its contents. However, the Full Access permission doesn't allow the delegate to send email from the mailbox."
            }
        }
    }

    pub(crate) fn access(self) -> Permission {
        match self {
            Perm::SendAs => Permission::SendAs,
            Perm::SendOnBehalf => Permission::SendOnBehalf,
            Perm::FullAccess => Permission::FullAccess,
        }
    }

    /// Whether the admin center offers this list for a target of this kind
    /// (groups have no Full Access; shared mailboxes no Send on Behalf).
    pub(crate) fn offered(self, target: T) -> bool {
        check_grant(self.access(), target, T::UserMailbox, Surface::AdminCenter).is_ok()
    }

    /// Whether `trustee` may be picked for this permission on `target`.
    pub(crate) fn may_hold(self, target: T, trustee: T) -> bool {
        check_grant(self.access(), target, trustee, Surface::AdminCenter).is_ok()
    }
}

/// A delegate as a list shows it.
struct Person {
    id: RecipientId,
    display_name: String,
    address: String,
    automapping: Option<bool>,
}

fn person(r: &Recipient, automapping: Option<bool>) -> Person {
    Person {
        id: r.id,
        display_name: r.display_name.clone(),
        address: r.primary_smtp.as_ref().map(|a| a.to_string()).or_else(|| r.upn.clone()).unwrap_or_default(),
        automapping,
    }
}

/// The current holders of `perm` on `target` (allow entries only; denies are the shell's).
fn holders(s: &Core, target: &Recipient, perm: Perm) -> Vec<Person> {
    let mut out: Vec<Person> = match perm {
        Perm::SendAs => s
            .send_as_aces(target.id)
            .iter()
            .filter(|a| !a.deny)
            .filter_map(|a| s.dir.get(a.trustee).map(|r| person(r, None)))
            .collect(),
        Perm::SendOnBehalf => {
            target.grant_send_on_behalf_to.iter().filter_map(|id| s.dir.get(*id).map(|r| person(r, None))).collect()
        }
        Perm::FullAccess => s
            .mailbox_aces(target.id)
            .iter()
            .filter(|a| !a.deny && a.rights.contains(MailboxRights::FULL_ACCESS))
            .filter_map(|a| s.dir.get(a.trustee).map(|r| person(r, Some(a.automapping))))
            .collect(),
    };
    out.sort_by_cached_key(|p| p.display_name.to_lowercase());
    out
}

/// Whether the Sent Items copy switches apply (user and shared mailboxes, spec §4.2).
fn has_copy_switches(kind: T) -> bool {
    matches!(kind, T::UserMailbox | T::SharedMailbox)
}

/// The `Set-` cmdlet the shell would use for the target.
fn set_cmdlet(kind: T) -> &'static str {
    match kind {
        T::MailUniversalDistributionGroup | T::MailUniversalSecurityGroup => "Set-DistributionGroup",
        T::DynamicDistributionGroup => "Set-DynamicDistributionGroup",
        T::GroupMailbox => "Set-UnifiedGroup",
        _ => "Set-Mailbox",
    }
}

/// A PowerShell single-quoted string, for the audit log's command line.
pub(crate) fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn not_found() -> Response {
    crate::layout::error_page(
        StatusCode::NOT_FOUND,
        "Not found",
        "The object you selected no longer exists or has no delegation page.",
    )
}

/// The target of a delegation URL, checked to be of the URL's kind.
fn target(s: &Core, kind: &str, id: &str) -> Option<Recipient> {
    let id = RecipientId(uuid::Uuid::parse_str(id).ok()?);
    let r = s.dir.get(id)?;
    (delegation_path(r)? == format!("/ecp/{kind}/{}/delegation", id.0)).then(|| r.clone())
}

fn title(r: &Recipient) -> String {
    let what = if r.kind.is_group() { "Group delegation" } else { "Mailbox delegation" };
    format!("{what}: {}", r.display_name)
}

/// `GET /ecp/{kind}/{id}/delegation`.
pub(crate) async fn show(
    State(state): State<WebState>,
    Extension(admin): Extension<Admin>,
    Path((kind, id)): Path<(String, String)>,
) -> Response {
    let (admin, kind, id) = (&admin, kind.as_str(), id.as_str());
    let view = state.deputy.read(|s| {
        let t = target(s, kind, id)?;
        let lists: Vec<(Perm, Vec<Person>)> =
            Perm::ALL.into_iter().filter(|p| p.offered(t.kind)).map(|p| (p, holders(s, &t, p))).collect();
        Some((t, lists))
    });
    let Some((t, lists)) = view else { return not_found() };
    let base = format!("/ecp/{kind}/{}/delegation", t.id.0);
    let flash = state.take_flash(admin);
    let content = html! {
        p.breadcrumb { a href="/ecp/recipients" { "Recipients" } " › " (t.display_name) " (" (kind_label(t.kind)) ")" }
        p.related {
            @if kind == "mailbox" { a href={ "/ecp/mailbox/" (t.id.0) "/folders" } { "Folder permissions" } }
            a href={ "/ecp/access?" (serde_urlencoded::to_string([("target", t.alias.as_str())]).unwrap_or_default()) } {
                "Who can act on " (t.display_name)
            }
        }
        @for (perm, people) in &lists {
            section.perm aria-labelledby={ "h-" (perm.key()) } {
                h2 id={ "h-" (perm.key()) } { (perm.label()) }
                p.help { (perm.help()) }
                table.list {
                    caption.visually-hidden { (perm.label()) " delegates" }
                    thead { tr {
                        th scope="col" { "Display name" } th scope="col" { "Address" }
                        @if *perm == Perm::FullAccess { th scope="col" { "Auto-mapping" } }
                        th scope="col" { span.visually-hidden { "Actions" } }
                    } }
                    tbody {
                        @for p in people {
                            tr {
                                td { (p.display_name) } td { (p.address) }
                                @if let Some(a) = p.automapping { td { @if a { "On" } @else { "Off" } } }
                                td {
                                    form method="post" action={ (base) "/remove" } {
                                        (csrf(admin))
                                        input type="hidden" name="perm" value=(perm.key());
                                        input type="hidden" name="trustee" value=(p.id.0);
                                        button type="submit" aria-label={ "Remove " (p.display_name) " from " (perm.label()) } { "Remove" }
                                    }
                                }
                            }
                        }
                        @if people.is_empty() { tr { td colspan="4" { "No delegates." } } }
                    }
                }
                a.button href={ (base) "/pick?perm=" (perm.key()) } aria-label={ "Add " (perm.label()) " delegate" } { "Add" }
            }
        }
        @if has_copy_switches(t.kind) {
            section.perm aria-labelledby="h-copies" {
                h2 #h-copies { "Sent Items" }
                form method="post" action={ (base) "/copies" } {
                    (csrf(admin))
                    p { label {
                        input type="checkbox" name="copy_sent_as" checked[t.message_copy_for_sent_as];
                        " Copy items sent as this mailbox (MessageCopyForSentAsEnabled)"
                    } }
                    p { label {
                        input type="checkbox" name="copy_send_on_behalf" checked[t.message_copy_for_send_on_behalf];
                        " Copy items sent on behalf of this mailbox (MessageCopyForSendOnBehalfEnabled)"
                    } }
                    button type="submit" { "Save" }
                }
            }
        }
    };
    respond(StatusCode::OK, page(admin, &title(&t), flash, content))
}

/// `GET /ecp/{kind}/{id}/delegation/pick?perm=…&q=…`: the people who may hold the permission.
pub(crate) async fn picker(
    State(state): State<WebState>,
    Extension(admin): Extension<Admin>,
    Path((kind, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(perm) = query.get("perm").and_then(|p| Perm::parse(p)) else { return not_found() };
    let q = query.get("q").map(|q| q.trim()).unwrap_or_default().to_owned();
    let view = state.deputy.read(|s| {
        let t = target(s, &kind, &id)?;
        if !perm.offered(t.kind) {
            return None;
        }
        let have: Vec<RecipientId> = holders(s, &t, perm).iter().map(|p| p.id).collect();
        let mut found: Vec<&Recipient> = if q.is_empty() { s.dir.iter().collect() } else { s.dir.search(&q) };
        found.retain(|r| r.id != t.id && !have.contains(&r.id) && perm.may_hold(t.kind, r.kind));
        found.sort_by_cached_key(|r| r.display_name.to_lowercase());
        let people: Vec<(Person, T)> = found.into_iter().map(|r| (person(r, None), r.kind)).collect();
        Some((t, people))
    });
    let Some((t, people)) = view else { return not_found() };
    let base = format!("/ecp/{kind}/{}/delegation", t.id.0);
    let content = html! {
        p.breadcrumb { a href=(base) { (title(&t)) } " › Add " (perm.label()) }
        form.search method="get" action={ (base) "/pick" } role="search" {
            input type="hidden" name="perm" value=(perm.key());
            label for="q" { "Search users and groups" }
            input #q type="search" name="q" value=(q) placeholder="Part of a name or address";
            button type="submit" { "Search" }
        }
        form method="post" action={ (base) "/add" } {
            (csrf(&admin))
            input type="hidden" name="perm" value=(perm.key());
            fieldset {
                legend { "Select a user or group" }
                @for (p, k) in &people {
                    div.pick {
                        input type="radio" name="trustee" value=(p.id.0) id={ "t-" (p.id.0) } required;
                        label for={ "t-" (p.id.0) } { (p.display_name) " " span.muted { "(" (kind_label(*k)) ", " (p.address) ")" } }
                    }
                }
                @if people.is_empty() { p { "No users or groups that can hold " (perm.label()) " match." } }
            }
            @if perm == Perm::FullAccess {
                p { label {
                    input type="checkbox" name="automapping" checked;
                    " Automatically open this mailbox in the delegate's Outlook (auto-mapping)"
                } }
            }
            button type="submit" { "Add" }
            " "
            a.button.secondary href=(base) { "Cancel" }
        }
    };
    respond(StatusCode::OK, page(&admin, &format!("Add {}", perm.label()), None, content))
}

/// The target, the trustee and the permission of an add or remove form,
/// refused (with Exchange's words) when the admin center does not offer it.
fn form_parts(
    state: &WebState,
    kind: &str,
    id: &str,
    fields: &Fields,
) -> Result<(Recipient, Recipient, Perm), Option<String>> {
    let perm = fields.get("perm").and_then(Perm::parse).ok_or(None)?;
    state.deputy.read(|s| {
        let t = target(s, kind, id).ok_or(None)?;
        let trustee = fields
            .get("trustee")
            .and_then(|u| uuid::Uuid::parse_str(u).ok())
            .and_then(|u| s.dir.get(RecipientId(u)))
            .ok_or_else(|| Some("Select a user or group first.".to_owned()))?;
        if let Err(e) = check_grant(perm.access(), t.kind, trustee.kind, Surface::AdminCenter) {
            return Err(Some(e.to_string()));
        }
        Ok((t, trustee.clone(), perm))
    })
}

/// The flash for a core answer.
pub(crate) fn outcome<X>(result: Result<Applied<X>, CoreError>, done: String) -> Flash {
    match result {
        Ok(a) if !a.warnings.is_empty() => Flash::Warning(a.warnings.join(" ")),
        Ok(_) => Flash::Done(done),
        Err(e) => Flash::Error(e.to_string()),
    }
}

fn back(kind: &str, id: &str) -> Response {
    let kind = if kind == "group" { "group" } else { "mailbox" };
    let id = uuid::Uuid::parse_str(id).map(|u| u.to_string()).unwrap_or_default();
    Redirect::to(&format!("/ecp/{kind}/{id}/delegation")).into_response()
}

/// Adds (`add`) or removes `perm` for `u` on `t` through the core call the
/// shell makes for it, as `caller`; shared by the delegation pages and bulk edit.
pub(crate) async fn change(
    state: &WebState,
    caller: &str,
    perm: Perm,
    add: bool,
    t: &Recipient,
    u: &Recipient,
    automapping: bool,
) -> Result<Applied<()>, CoreError> {
    let d = &state.deputy;
    let (who, on) = (quote(&u.name), quote(&t.name));
    match (perm, add) {
        (Perm::SendAs, true) => {
            let line = format!("Add-RecipientPermission -Identity {on} -Trustee {who} -AccessRights SendAs");
            d.add_send_as(&Ctx::new(caller, "Add-RecipientPermission", &line), t.id, u.id, false).await.map(drop_value)
        }
        (Perm::SendAs, false) => {
            let line = format!("Remove-RecipientPermission -Identity {on} -Trustee {who} -AccessRights SendAs");
            d.remove_send_as(&Ctx::new(caller, "Remove-RecipientPermission", &line), t.id, u.id, false).await
        }
        (Perm::SendOnBehalf, _) => {
            let cmdlet = set_cmdlet(t.kind);
            let (verb, modify) = if add {
                ("Add", MultiEdit::Modify { add: vec![u.id], remove: Vec::new() })
            } else {
                ("Remove", MultiEdit::Modify { add: Vec::new(), remove: vec![u.id] })
            };
            let line = format!("{cmdlet} -Identity {on} -GrantSendOnBehalfTo @{{{verb}={who}}}");
            let edit = RecipientEdit { send_on_behalf: Some(modify), ..RecipientEdit::default() };
            d.set_recipient(&Ctx::new(caller, cmdlet, &line), t.id, edit).await.map(drop_value)
        }
        (Perm::FullAccess, true) => {
            let line = format!(
                "Add-MailboxPermission -Identity {on} -User {who} -AccessRights FullAccess -InheritanceType All -AutoMapping ${automapping}"
            );
            let grant = MailboxGrant {
                rights: MailboxRights::FULL_ACCESS,
                deny: false,
                inheritance: InheritanceType::All,
                automapping,
            };
            d.add_mailbox_permission(&Ctx::new(caller, "Add-MailboxPermission", &line), t.id, u.id, grant)
                .await
                .map(drop_value)
        }
        (Perm::FullAccess, false) => {
            let line = format!(
                "Remove-MailboxPermission -Identity {on} -User {who} -AccessRights FullAccess -InheritanceType All"
            );
            let ctx = Ctx::new(caller, "Remove-MailboxPermission", &line);
            d.remove_mailbox_permission(&ctx, t.id, u.id, MailboxRights::FULL_ACCESS, false).await
        }
    }
}

fn drop_value<X>(a: Applied<X>) -> Applied<()> {
    Applied { value: (), warnings: a.warnings, what_if: a.what_if, changed: a.changed }
}

/// `POST …/delegation/add` (`perm`, `trustee`, `automapping`).
pub(crate) async fn add(
    State(state): State<WebState>,
    Extension(admin): Extension<Admin>,
    Extension(fields): Extension<Fields>,
    Path((kind, id)): Path<(String, String)>,
) -> Response {
    add_or_remove(state, admin, fields, kind, id, true).await
}

/// `POST …/delegation/remove` (`perm`, `trustee`).
pub(crate) async fn remove(
    State(state): State<WebState>,
    Extension(admin): Extension<Admin>,
    Extension(fields): Extension<Fields>,
    Path((kind, id)): Path<(String, String)>,
) -> Response {
    add_or_remove(state, admin, fields, kind, id, false).await
}

async fn add_or_remove(state: WebState, admin: Admin, fields: Fields, kind: String, id: String, add: bool) -> Response {
    let (t, u, perm) = match form_parts(&state, &kind, &id, &fields) {
        Ok(parts) => parts,
        Err(None) => return not_found(),
        Err(Some(message)) => {
            state.flash(&admin, Flash::Error(message));
            return back(&kind, &id);
        }
    };
    let automapping = fields.get("automapping").is_some();
    let result = change(&state, &admin.caller, perm, add, &t, &u, automapping).await;
    let done = if add {
        format!("{} now has {} on {}.", u.display_name, perm.label(), t.display_name)
    } else {
        format!("{} no longer has {} on {}.", u.display_name, perm.label(), t.display_name)
    };
    state.flash(&admin, outcome(result, done));
    back(&kind, &id)
}

/// `POST /ecp/mailbox/{id}/delegation/copies` (`copy_sent_as`, `copy_send_on_behalf` checkboxes).
pub(crate) async fn copies(
    State(state): State<WebState>,
    Extension(admin): Extension<Admin>,
    Extension(fields): Extension<Fields>,
    Path((kind, id)): Path<(String, String)>,
) -> Response {
    let Some(t) = state.deputy.read(|s| target(s, &kind, &id)) else { return not_found() };
    if !has_copy_switches(t.kind) {
        return not_found();
    }
    let (sent_as, on_behalf) = (fields.get("copy_sent_as").is_some(), fields.get("copy_send_on_behalf").is_some());
    let line = format!(
        "Set-Mailbox -Identity {} -MessageCopyForSentAsEnabled ${sent_as} -MessageCopyForSendOnBehalfEnabled ${on_behalf}",
        quote(&t.name)
    );
    let edit =
        RecipientEdit { copy_sent_as: Some(sent_as), copy_send_on_behalf: Some(on_behalf), ..RecipientEdit::default() };
    let result = state.deputy.set_recipient(&Ctx::new(&admin.caller, "Set-Mailbox", &line), t.id, edit).await;
    state.flash(&admin, outcome(result, "Your changes to Sent Items were saved.".to_owned()));
    back(&kind, &id)
}
