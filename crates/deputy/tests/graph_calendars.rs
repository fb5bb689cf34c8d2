//! Calendars beyond the primary one through the Graph door of the real
//! binary (Graph's calendar resource: list, create, update, delete; events
//! and calendarView under `calendars/{id}`), their permissions against the
//! shell's folder entries (spec §5), and `Prefer: outlook.timezone`.

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use serde_json::{Value, json};
use support::graph::{agent, call, user_token};
use support::{Server, TempDir, init};

const PW: &str = "Str0ng!Passw0rd";
const MARY: &str = "mary@contoso.test";
const OWN: &str = "Calendars.ReadWrite";
const SHARED: &str = "Calendars.ReadWrite.Shared";

/// A server with Mary and Rob, and the extra shell lines run.
fn org(name: &str, script: &str) -> (TempDir, Server) {
    let dir = TempDir::new(name);
    assert!(init(&dir.0, "contoso.test").status.success());
    let server = Server::start(&dir.0);
    let mut setup = String::new();
    for (name, alias) in [("Mary", "mary"), ("Rob", "rob")] {
        setup.push_str(&format!(
            "New-Mailbox -Name '{name}' -Alias {alias} -Password (ConvertTo-SecureString '{PW}' -AsPlainText -Force)\n"
        ));
    }
    setup.push_str(script);
    server.shell(&setup).expect_ok();
    (dir, server)
}

fn token(server: &Server, alias: &str, scope: &str) -> String {
    user_token(server, &format!("{alias}@contoso.test"), PW, scope)
}

/// A GET with a `Prefer` header: (status, `Preference-Applied`, JSON body).
fn get_preferring(server: &Server, path: &str, token: &str, prefer: &str) -> (u16, Option<String>, Value) {
    let url = format!("{}/v1.0/{path}", server.url);
    let mut resp = agent()
        .get(&url)
        .header("Authorization", &format!("Bearer {token}"))
        .header("Prefer", prefer)
        .call()
        .expect("graph request");
    let applied = resp.headers().get("preference-applied").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (resp.status().as_u16(), applied, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn event(subject: &str, start: &str, end: &str) -> Value {
    json!({
        "subject": subject,
        "start": {"dateTime": start, "timeZone": "UTC"},
        "end": {"dateTime": end, "timeZone": "UTC"},
    })
}

fn subjects(list: &Value) -> Vec<String> {
    list["value"].as_array().expect("value").iter().filter_map(|e| e["subject"].as_str().map(str::to_owned)).collect()
}

fn names(list: &Value) -> Vec<String> {
    list["value"].as_array().expect("value").iter().filter_map(|c| c["name"].as_str().map(str::to_owned)).collect()
}

/// Mary's new calendar's id, created over Graph.
fn new_calendar(server: &Server, mary: &str, name: &str) -> String {
    let (status, created) = call(server, "POST", "me/calendars", mary, Some(&json!({"name": name})));
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().expect("id").to_owned()
}

#[test]
fn mary_creates_renames_fills_and_removes_a_calendar_beside_her_primary_one() {
    let (_dir, server) = org("gcals-own", "");
    let mary = token(&server, "mary", OWN);

    let (status, created) = call(&server, "POST", "me/calendars", &mary, Some(&json!({"name": "Project"})));
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        (created["name"].as_str(), created["isDefaultCalendar"].as_bool(), created["isRemovable"].as_bool()),
        (Some("Project"), Some(false), Some(true))
    );
    assert_eq!((created["canEdit"].as_bool(), created["color"].as_str()), (Some(true), Some("auto")));
    assert_eq!(created["owner"]["address"], MARY);
    let id = created["id"].as_str().expect("id").to_owned();
    for body in [json!({}), json!({"name": "  "}), json!({"name": 7})] {
        let (status, refused) = call(&server, "POST", "me/calendars", &mary, Some(&body));
        assert_eq!((status, refused["error"]["code"].as_str()), (400, Some("ErrorInvalidRequest")), "{body}");
        assert!(refused["error"]["message"].as_str().unwrap_or_default().contains("'name'"), "{refused}");
    }

    // The primary first, then the others by name; a rename keeps the id.
    new_calendar(&server, &mary, "Archive");
    let (status, list) = call(&server, "GET", "me/calendars", &mary, None);
    assert_eq!(status, 200, "{list}");
    assert_eq!(names(&list), ["Calendar", "Archive", "Project"]);
    assert_eq!(
        (list["value"][0]["isDefaultCalendar"].as_bool(), list["value"][0]["isRemovable"].as_bool()),
        (Some(true), Some(false))
    );
    let primary_id = list["value"][0]["id"].as_str().expect("id").to_owned();
    let (_, page) = call(&server, "GET", "me/calendars?$top=1&$skip=1", &mary, None);
    assert_eq!(names(&page), ["Archive"]);
    assert!(page["@odata.nextLink"].is_string(), "{page}");
    let (status, renamed) = call(
        &server,
        "PATCH",
        &format!("me/calendars/{id}"),
        &mary,
        Some(&json!({"name": "Projects", "color": "lightBlue"})),
    );
    assert_eq!((status, renamed["name"].as_str(), renamed["id"].as_str()), (200, Some("Projects"), Some(id.as_str())));
    let (status, taken) = call(&server, "POST", "me/calendars", &mary, Some(&json!({"name": "projects"})));
    assert_eq!((status, taken["error"]["code"].as_str()), (409, Some("ErrorFolderExists")), "{taken}");
    let (status, _) = call(&server, "PATCH", &format!("me/calendars/{id}"), &mary, Some(&json!({"name": "Archive"})));
    assert_eq!(status, 409);

    // An event in Projects lives there only.
    let body = event("Kick-off", "2026-07-01T16:00:00", "2026-07-01T17:00:00");
    let (status, made) = call(&server, "POST", &format!("me/calendars/{id}/events"), &mary, Some(&body));
    assert_eq!(status, 201, "{made}");
    let event_id = made["id"].as_str().expect("id").to_owned();
    let (status, list) = call(&server, "GET", &format!("me/calendars/{id}/events"), &mary, None);
    assert_eq!((status, subjects(&list)), (200, vec!["Kick-off".to_owned()]), "{list}");
    let window = "startDateTime=2026-07-01T00:00:00Z&endDateTime=2026-07-02T00:00:00Z";
    let (status, view) = call(&server, "GET", &format!("me/calendars/{id}/calendarView?{window}"), &mary, None);
    assert_eq!((status, subjects(&view)), (200, vec!["Kick-off".to_owned()]), "{view}");
    for path in ["me/calendar/events".to_owned(), "me/events".to_owned(), format!("me/calendarView?{window}")] {
        let (status, primary) = call(&server, "GET", &path, &mary, None);
        assert_eq!((status, subjects(&primary)), (200, Vec::<String>::new()), "{path}");
    }
    assert_eq!(call(&server, "GET", &format!("me/events/{event_id}"), &mary, None).0, 404);
    let (status, changed) = call(
        &server,
        "PATCH",
        &format!("me/calendars/{id}/events/{event_id}"),
        &mary,
        Some(&json!({"subject": "Kick-off (moved)"})),
    );
    assert_eq!((status, changed["subject"].as_str()), (200, Some("Kick-off (moved)")), "{changed}");
    let (status, one) = call(&server, "GET", &format!("me/calendars/{id}/events/{event_id}"), &mary, None);
    assert_eq!((status, one["subject"].as_str()), (200, Some("Kick-off (moved)")));

    // The primary calendar stays; Projects goes with its events.
    let (status, refused) = call(&server, "DELETE", &format!("me/calendars/{primary_id}"), &mary, None);
    assert_eq!((status, refused["error"]["code"].as_str()), (400, Some("ErrorDeleteDistinguishedFolder")));
    assert_eq!(call(&server, "DELETE", &format!("me/calendars/{id}"), &mary, None).0, 204);
    for path in [format!("me/calendars/{id}"), format!("me/calendars/{id}/events")] {
        let (status, gone) = call(&server, "GET", &path, &mary, None);
        assert_eq!((status, gone["error"]["code"].as_str()), (404, Some("ErrorItemNotFound")), "{path}");
    }
    assert_eq!(call(&server, "DELETE", &format!("me/calendars/{id}"), &mary, None).0, 404);
    let (_, list) = call(&server, "GET", "me/calendars", &mary, None);
    assert_eq!(names(&list), ["Calendar", "Archive"]);
    let shell = server.shell("Get-MailboxFolderStatistics -Identity mary | ConvertTo-Json").expect_ok();
    assert!(shell.contains("Archive") && !shell.contains("Projects"), "the shell sees Graph's changes: {shell}");
    let audit = server.shell("Search-AdminAuditLog -Cmdlets New-MailboxFolder | ConvertTo-Json").expect_ok();
    assert!(audit.contains("via Microsoft Graph") && audit.contains("Archive"), "{audit}");
}

#[test]
fn a_delegate_sees_a_calendar_only_with_a_right_on_it() {
    let (_dir, server) = org(
        "gcals-delegate",
        "Add-MailboxFolderPermission -Identity 'mary:\\Calendar' -User rob -AccessRights Editor\n",
    );
    let mary = token(&server, "mary", OWN);
    let rob = token(&server, "rob", SHARED);
    let projects = new_calendar(&server, &mary, "Projects");
    let body = event("Budget", "2026-07-02T09:00:00", "2026-07-02T10:00:00");
    let (status, made) = call(&server, "POST", &format!("me/calendars/{projects}/events"), &mary, Some(&body));
    assert_eq!(status, 201, "{made}");
    let event_id = made["id"].as_str().expect("id").to_owned();

    // Editor on the primary Calendar only: Projects is invisible.
    let (status, list) = call(&server, "GET", &format!("users/{MARY}/calendars"), &rob, None);
    assert_eq!(status, 200, "{list}");
    assert_eq!(names(&list), ["Mary"], "the manager's primary calendar under her name: {list}");
    assert_eq!(
        (list["value"][0]["canEdit"].as_bool(), list["value"][0]["isDefaultCalendar"].as_bool()),
        (Some(true), Some(false))
    );
    for path in [
        format!("users/{MARY}/calendars/{projects}"),
        format!("users/{MARY}/calendars/{projects}/events"),
        format!("users/{MARY}/calendars/{projects}/events/{event_id}"),
    ] {
        let (status, hidden) = call(&server, "GET", &path, &rob, None);
        assert_eq!((status, hidden["error"]["code"].as_str()), (404, Some("ErrorItemNotFound")), "{path}");
    }
    let (status, _) = call(&server, "POST", &format!("users/{MARY}/calendars/{projects}/events"), &rob, Some(&body));
    assert_eq!(status, 404);
    // Editor has no CreateSubfolders right on the Calendar folder.
    let (status, denied) =
        call(&server, "POST", &format!("users/{MARY}/calendars"), &rob, Some(&json!({"name": "Rob's"})));
    assert_eq!((status, denied["error"]["code"].as_str()), (403, Some("ErrorAccessDenied")), "{denied}");

    // Reviewer on Projects: listed and readable, not writable.
    server
        .shell("Add-MailboxFolderPermission -Identity 'mary:\\Calendar\\Projects' -User rob -AccessRights Reviewer")
        .expect_ok();
    let (_, list) = call(&server, "GET", &format!("users/{MARY}/calendars"), &rob, None);
    assert_eq!(names(&list), ["Mary", "Projects"]);
    assert_eq!(
        (list["value"][1]["canEdit"].as_bool(), list["value"][1]["canShare"].as_bool()),
        (Some(false), Some(false))
    );
    let (status, events) = call(&server, "GET", &format!("users/{MARY}/calendars/{projects}/events"), &rob, None);
    assert_eq!((status, subjects(&events)), (200, vec!["Budget".to_owned()]), "{events}");
    let (status, one) =
        call(&server, "GET", &format!("users/{MARY}/calendars/{projects}/events/{event_id}"), &rob, None);
    assert_eq!((status, one["subject"].as_str()), (200, Some("Budget")));
    for (method, path, body) in [
        ("POST", format!("users/{MARY}/calendars/{projects}/events"), Some(body.clone())),
        ("PATCH", format!("users/{MARY}/calendars/{projects}/events/{event_id}"), Some(json!({"subject": "x"}))),
        ("PATCH", format!("users/{MARY}/calendars/{projects}"), Some(json!({"name": "Mine"}))),
        ("DELETE", format!("users/{MARY}/calendars/{projects}"), None),
    ] {
        let (status, denied) = call(&server, method, &path, &rob, body.as_ref());
        assert_eq!((status, denied["error"]["code"].as_str()), (403, Some("ErrorAccessDenied")), "{method} {path}");
    }
    // Without a Calendars scope nothing is listed.
    let mail_only = token(&server, "rob", "Mail.Read.Shared");
    assert_eq!(call(&server, "GET", &format!("users/{MARY}/calendars"), &mail_only, None).0, 403);
}

#[test]
fn event_times_follow_prefer_outlook_timezone() {
    let (_dir, server) = org("gcals-zone", "");
    let mary = token(&server, "mary", OWN);
    let (status, made) = call(
        &server,
        "POST",
        "me/events",
        &mary,
        Some(&event("Stand-up", "2026-07-01T16:00:00", "2026-07-01T16:15:00")),
    );
    assert_eq!(status, 201, "{made}");
    let id = made["id"].as_str().expect("id").to_owned();
    let window = "startDateTime=2026-07-01T00:00:00Z&endDateTime=2026-07-02T00:00:00Z";

    for (zone, start, end) in [
        ("Pacific Standard Time", "2026-07-01T09:00:00.0000000", "2026-07-01T09:15:00.0000000"),
        ("Europe/Paris", "2026-07-01T18:00:00.0000000", "2026-07-01T18:15:00.0000000"),
    ] {
        let prefer = format!("outlook.timezone=\"{zone}\"");
        for path in [format!("me/events/{id}"), "me/events".to_owned(), format!("me/calendarView?{window}")] {
            let (status, applied, body) = get_preferring(&server, &path, &mary, &prefer);
            assert_eq!((status, applied.as_deref()), (200, Some(prefer.as_str())), "{path}: {body}");
            let shown = if body["value"].is_array() { &body["value"][0] } else { &body };
            assert_eq!(shown["start"], json!({"dateTime": start, "timeZone": zone}), "{path}");
            assert_eq!(shown["end"]["dateTime"], end, "{path}");
        }
    }
    // Without the header, or with a zone nobody knows: UTC, and no Preference-Applied.
    for prefer in ["return=minimal", "outlook.timezone=\"Mars Standard Time\""] {
        let (status, applied, body) = get_preferring(&server, &format!("me/events/{id}"), &mary, prefer);
        assert_eq!((status, applied), (200, None), "{prefer}");
        assert_eq!(body["start"], json!({"dateTime": "2026-07-01T16:00:00.0000000", "timeZone": "UTC"}), "{prefer}");
    }
    // A time given in a zone is shown in UTC unless another is preferred.
    let pacific = json!({
        "subject": "West coast", "start": {"dateTime": "2026-07-01T08:00:00", "timeZone": "Pacific Standard Time"},
        "end": {"dateTime": "2026-07-01T09:00:00", "timeZone": "Pacific Standard Time"},
    });
    let (status, made) = call(&server, "POST", "me/events", &mary, Some(&pacific));
    assert_eq!((status, made["start"]["dateTime"].as_str()), (201, Some("2026-07-01T15:00:00.0000000")), "{made}");
    let west = made["id"].as_str().expect("id");
    let (_, _, body) =
        get_preferring(&server, &format!("me/events/{west}"), &mary, "outlook.timezone=\"Europe/Paris\"");
    assert_eq!(body["start"]["dateTime"], "2026-07-01T17:00:00.0000000");
}
