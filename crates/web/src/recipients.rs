//! Recipients: the tabs of Exchange's admin center, searched by any part of a
//! name or address.

use crate::layout::{page, respond};
use crate::{Admin, WebState};
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use deputy_types::{Recipient, RecipientType as T};
use maud::html;
use std::collections::HashMap;

/// One tab of Recipients: its query value, label and the kinds it lists.
pub(crate) struct Tab {
    pub key: &'static str,
    pub label: &'static str,
    kinds: &'static [T],
}

pub(crate) const TABS: &[Tab] = &[
    Tab { key: "mailboxes", label: "Mailboxes", kinds: &[T::UserMailbox, T::LinkedMailbox] },
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
    let kind = if TABS[..3].iter().any(|t| t.kinds.contains(&r.kind)) {
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
    let rows: Vec<Row> = state.deputy.read(|s| {
        let mut found: Vec<&Recipient> = if q.is_empty() { s.dir.iter().collect() } else { s.dir.search(&q) };
        found.retain(|r| tab.kinds.contains(&r.kind));
        found.sort_by_cached_key(|r| r.display_name.to_lowercase());
        found
            .into_iter()
            .map(|r| Row {
                display_name: r.display_name.clone(),
                kind: r.kind,
                address: r.primary_smtp.as_ref().map(|a| a.to_string()).unwrap_or_default(),
                hidden: r.hidden,
                link: delegation_path(r),
            })
            .collect()
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
        table.list {
            caption { (tab.label) " (" (rows.len()) ")" }
            thead { tr { th scope="col" { "Display name" } th scope="col" { "Type" } th scope="col" { "Primary email address" } th scope="col" { "Hidden from address lists" } } }
            tbody {
                @for r in &rows {
                    tr {
                        td {
                            @if let Some(link) = &r.link { a href=(link) { (r.display_name) } } @else { (r.display_name) }
                        }
                        td { (kind_label(r.kind)) }
                        td { (r.address) }
                        td { @if r.hidden { "Yes" } @else { "No" } }
                    }
                }
                @if rows.is_empty() {
                    tr { td colspan="4" { "There are no items to show in this view." } }
                }
            }
        }
    };
    respond(StatusCode::OK, page(&admin, "Recipients", flash, content))
}
