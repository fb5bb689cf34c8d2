//! The admin audit log (spec §8; `Search-AdminAuditLog`), filtered by cmdlet,
//! object or mailbox, caller and date range. The cmdlet and dates go to the
//! store's query; object and caller match any part, case-insensitively.

use crate::layout::{page_in, respond};
use crate::{Admin, WebState, bad_request};
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use maud::html;
use std::collections::HashMap;

/// The most records one page shows, newest first.
const SHOWN: usize = 500;

/// A `YYYY-MM-DD` date field as the start (or, with `end`, the last instant) of that day in UTC.
fn day(value: Option<&String>, end: bool, what: &str) -> Result<Option<DateTime<Utc>>, String> {
    let Some(v) = value.map(|v| v.trim()).filter(|v| !v.is_empty()) else { return Ok(None) };
    let date = NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| format!("The {what} date \"{v}\" isn't a date of the form YYYY-MM-DD."))?;
    let time = if end { NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999) } else { Some(NaiveTime::MIN) };
    Ok(time.map(|t| date.and_time(t).and_utc()))
}

fn contains(haystack: &str, needle: &str) -> bool {
    needle.is_empty() || haystack.to_lowercase().contains(&needle.to_lowercase())
}

/// `GET /ecp/audit?cmdlet=…&object=…&caller=…&from=…&to=…`.
pub(crate) async fn show(
    State(state): State<WebState>,
    Extension(admin): Extension<Admin>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let field = |k: &str| query.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let (cmdlet, object, caller, from, to) =
        (field("cmdlet"), field("object"), field("caller"), field("from"), field("to"));
    let (start, end) = match (day(query.get("from"), false, "start"), day(query.get("to"), true, "end")) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(m), _) | (_, Err(m)) => return bad_request(&m),
    };
    if let (Some(s), Some(e)) = (start, end)
        && s > e
    {
        return bad_request("The start date is after the end date.");
    }
    let cmdlets = if cmdlet.is_empty() { Vec::new() } else { vec![cmdlet.clone()] };
    let records = match state.deputy.search_admin_audit_log(cmdlets, start, end, 0).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "admin center audit search failed");
            return crate::layout::error_page(StatusCode::INTERNAL_SERVER_ERROR, "Audit log", &e.to_string());
        }
    };
    let matching: Vec<_> =
        records.into_iter().filter(|r| contains(&r.object, &object) && contains(&r.caller, &caller)).collect();
    let total = matching.len();
    let content = html! {
        form.search.filters method="get" action="/ecp/audit" {
            div.row { label for="cmdlet" { "Cmdlet" } input #cmdlet type="text" name="cmdlet" value=(cmdlet) placeholder="Add-MailboxPermission"; }
            div.row { label for="object" { "Object or mailbox" } input #object type="text" name="object" value=(object) placeholder="Part of a name"; }
            div.row { label for="caller" { "Caller" } input #caller type="text" name="caller" value=(caller) placeholder="Part of a UPN"; }
            div.row { label for="from" { "From (UTC)" } input #from type="date" name="from" value=(from); }
            div.row { label for="to" { "To (UTC)" } input #to type="date" name="to" value=(to); }
            button type="submit" { "Search" }
            " " a.button.secondary href="/ecp/audit" { "Clear" }
        }
        table.list.audit {
            caption {
                "Audit records (" (total) ")"
                @if total > SHOWN { ", the newest " (SHOWN) " shown" }
            }
            thead { tr {
                th scope="col" { "Date (UTC)" } th scope="col" { "Cmdlet" } th scope="col" { "Object" }
                th scope="col" { "Caller" } th scope="col" { "Succeeded" } th scope="col" { "Command" }
            } }
            tbody {
                @for r in matching.iter().take(SHOWN) {
                    tr {
                        td { (r.time.format("%Y-%m-%d %H:%M:%S")) }
                        td { (r.cmdlet) } td { (r.object) } td { (r.caller) }
                        td { @if r.succeeded { "True" } @else { "False" } }
                        td { code { (r.command) } @if let Some(e) = &r.error { br; span.muted { (e) } } }
                    }
                }
                @if matching.is_empty() { tr { td colspan="6" { "There are no items to show in this view." } } }
            }
        }
    };
    respond(StatusCode::OK, page_in("audit", &admin, "Admin audit log", None, content))
}
