//! Recipients: the tabs of Exchange's admin center, searched by any part of a
//! name or address; the mailbox tabs carry the bulk edit form (seed 001).

use crate::bulk;
use crate::layout::{page, respond};
use crate::{Admin, WebState};
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use deputy_types::{Recipient, RecipientType as T};
use maud::{Markup, html};
use std::collections::HashMap;

/// One tab of Recipients: its query value, label and the kinds it lists.
pub(crate) struct Tab {
    pub key: &'static str,
    pub label: &'static str,
    pub kinds: &'static [T],
}

/// Every kind of mailbox the admin center edits; the Mailboxes tab lists them
/// all (as Exchange Online's admin center does), so a selection can mix types
/// and bulk edit has to refuse it.
pub(crate) const MAILBOX_KINDS: &[T] =
    &[T::UserMailbox, T::LinkedMailbox, T::SharedMailbox, T::RoomMailbox, T::EquipmentMailbox];

/// The tabs; the first three list mailboxes and offer bulk edit.
pub(crate) const TABS: &[Tab] = &[
    Tab { key: "mailboxes", label: "Mailboxes", kinds: MAILBOX_KINDS },
    Tab { key: "resources", label: "Resources", kinds: &[T::RoomMailbox, T::EquipmentMailbox] },
    Tab { key: "shared", label: "Shared", kinds: &[T::SharedMailbox] },
    Tab {
        key: "groups",
        label: "Groups",
        kinds: &[
            T::MailUniversalDistributionGroup,
            T::MailUniversalSecurityGroup,
            T::DynamicDistributionGroup,
            T::GroupMailbox,
        ],
    },
    Tab { key: "contacts", label: "Contacts", kinds: &[T::MailUser] },
];

/// Where a recipient's delegation page is, if the admin center has one for its kind.
pub(crate) fn delegation_path(r: &Recipient) -> Option<String> {
    let kind = if MAILBOX_KINDS.contains(&r.kind) {
        "mailbox"
    } else if TABS[3].kinds.contains(&r.kind) {
        "group"
    } else {
        return None;
    };
    Some(format!("/ecp/{kind}/{}/delegation", r.id.0))
}

/// The admin center's name for a kind, as in its Type column.
pub(crate) fn kind_label(kind: T) -> &'static str {
    match kind {
        T::UserMailbox => "User mailbox",
        T::LinkedMailbox => "Linked mailbox",
        T::SharedMailbox => "Shared mailbox",
        T::RoomMailbox => "Room mailbox",
        T::EquipmentMailbox => "Equipment mailbox",
        T::ArbitrationMailbox => "Arbitration mailbox",
        T::DiscoveryMailbox => "Discovery mailbox",
        T::MailUser => "Mail user",
        T::User => "User",
        T::MailUniversalDistributionGroup => "Distribution group",
        T::MailUniversalSecurityGroup => "Mail-enabled security group",
        T::SecurityGroup => "Security group",
        T::DynamicDistributionGroup => "Dynamic distribution group",
        T::GroupMailbox => "Microsoft 365 group",
    }
}

struct Row {
    id: deputy_types::RecipientId,
    display_name: String,
    kind: T,
    address: String,
    hidden: bool,
    link: Option<String>,
}

/// `GET /ecp/recipients?tab=…&q=…`.
pub(crate) async fn list(
    State(state): State<WebState>,
    Extension(admin): Extension<Admin>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let tab = TABS.iter().find(|t| query.get("tab").is_some_and(|q| q == t.key)).unwrap_or(&TABS[0]);
    let q = query.get("q").map(|q| q.trim()).unwrap_or_default().to_owned();
    let bulk_tab = tab.kinds.iter().all(|k| MAILBOX_KINDS.contains(k));
    let (rows, candidates) = state.deputy.read(|s| {
        let mut found: Vec<&Recipient> = if q.is_empty() { s.dir.iter().collect() } else { s.dir.search(&q) };
        found.retain(|r| tab.kinds.contains(&r.kind));
        found.sort_by_cached_key(|r| r.display_name.to_lowercase());
        let rows = found
            .into_iter()
            .map(|r| Row {
                id: r.id,
                display_name: r.display_name.clone(),
                kind: r.kind,
                address: r.primary_smtp.as_ref().map(|a| a.to_string()).unwrap_or_default(),
                hidden: r.hidden,
                link: delegation_path(r),
            })
            .collect::<Vec<Row>>();
        let candidates = if bulk_tab { bulk::candidates(s) } else { Vec::new() };
        (rows, candidates)
    });
    let flash = state.take_flash(&admin);
    let content = html! {
        nav.tabs aria-label="Recipient types" {
            @for t in TABS {
                @let href = format!("/ecp/recipients?tab={}", t.key);
                @if t.key == tab.key {
                    a href=(href) aria-current="page" { (t.label) }
                } @else {
                    a href=(href) { (t.label) }
                }
            }
        }
        form.search method="get" action="/ecp/recipients" role="search" {
            input type="hidden" name="tab" value=(tab.key);
            label for="q" { "Search " (tab.label.to_lowercase()) }
            input #q type="search" name="q" value=(q) placeholder="Part of a name or address";
            button type="submit" { "Search" }
        }
        @if bulk_tab {
            form #bulk method="post" action="/ecp/bulk" {
                (crate::layout::csrf(&admin))
                input type="hidden" name="tab" value=(tab.key);
                input type="hidden" name="q" value=(q);
                (table(tab, &rows, true))
                (bulk::fields(&candidates))
            }
        } @else {
            (table(tab, &rows, false))
        }
    };
    respond(StatusCode::OK, page(&admin, "Recipients", flash, content))
}

/// The list of a tab; with `select`, a checkbox per row for bulk edit (its
/// label names the row, and the script adds Shift- and Ctrl-click on rows).
fn table(tab: &Tab, rows: &[Row], select: bool) -> Markup {
    html! {
        table.list data-bulk[select] {
            caption { (tab.label) " (" (rows.len()) ")" }
            thead { tr {
                @if select { th scope="col" { span.visually-hidden { "Select" } } }
                th scope="col" { "Display name" } th scope="col" { "Type" } th scope="col" { "Primary email address" } th scope="col" { "Hidden from address lists" }
            } }
            tbody {
                @for r in rows {
                    tr {
                        @if select {
                            td.select {
                                input type="checkbox" name="mailbox" value=(r.id.0) id={ "sel-" (r.id.0) };
                                label.visually-hidden for={ "sel-" (r.id.0) } { "Select " (r.display_name) }
                            }
                        }
                        td {
                            @if let Some(link) = &r.link { a href=(link) { (r.display_name) } } @else { (r.display_name) }
                        }
                        td { (kind_label(r.kind)) }
                        td { (r.address) }
                        td { @if r.hidden { "Yes" } @else { "No" } }
                    }
                }
                @if rows.is_empty() {
                    tr { td colspan="5" { "There are no items to show in this view." } }
                }
            }
        }
    }
}
