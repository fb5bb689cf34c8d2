//! Recurring events through the Graph door of the real binary: Graph's
//! relative patterns (recurrencePattern `relativeMonthly`, `relativeYearly`),
//! `events/{id}/instances`, and single occurrences changed (an exception,
//! RFC 5545 §3.8.4.4) or deleted (an EXDATE), with the series' own rights.

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use base64::Engine;
use serde_json::{Value, json};
use support::graph::{call, user_token};
use support::sink::Sink;
use support::{Server, TempDir, init};

const PW: &str = "Str0ng!Passw0rd";
const MARY: &str = "mary@contoso.test";
const OWN: &str = "Calendars.ReadWrite";
const SHARED: &str = "Calendars.ReadWrite.Shared";

/// A server with Mary and Rob (outbound mail to `sink`), and the extra shell lines run.
fn org(name: &str, script: &str) -> (TempDir, Sink, Server) {
    let dir = TempDir::new(name);
    assert!(init(&dir.0, "contoso.test").status.success());
    let sink = Sink::start();
    let server = Server::start_with(&dir.0, &["--relay-host", &sink.relay_flag()]);
    let mut setup = String::new();
    for (name, alias) in [("Mary", "mary"), ("Rob", "rob")] {
        setup.push_str(&format!(
            "New-Mailbox -Name '{name}' -Alias {alias} -Password (ConvertTo-SecureString '{PW}' -AsPlainText -Force)\n"
        ));
    }
    setup.push_str(script);
    server.shell(&setup).expect_ok();
    (dir, sink, server)
}

fn token(server: &Server, alias: &str, scope: &str) -> String {
    user_token(server, &format!("{alias}@contoso.test"), PW, scope)
}

/// A one-hour event at 10:00 UTC on `day` with a recurrence.
fn series(subject: &str, day: &str, pattern: Value, range: Value) -> Value {
    json!({
        "subject": subject,
        "start": {"dateTime": format!("{day}T10:00:00"), "timeZone": "UTC"},
        "end": {"dateTime": format!("{day}T11:00:00"), "timeZone": "UTC"},
        "recurrence": {"pattern": pattern, "range": range},
    })
}

fn create(server: &Server, token: &str, body: &Value) -> Value {
    let (status, event) = call(server, "POST", "me/events", token, Some(body));
    assert_eq!(status, 201, "{event}");
    event
}

/// The items of a collection (one page of up to 100).
fn list(server: &Server, token: &str, path: &str) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let (status, page) = call(server, "GET", &format!("{path}{sep}$top=100"), token, None);
    assert_eq!(status, 200, "{path}: {page}");
    page["value"].as_array().cloned().unwrap_or_default()
}

fn window(from: &str, to: &str) -> String {
    format!("startDateTime={from}T00:00:00Z&endDateTime={to}T00:00:00Z")
}

/// Each item's start date-time (UTC, Graph's seven fractional digits cut).
fn starts(items: &[Value]) -> Vec<String> {
    items.iter().map(|i| i["start"]["dateTime"].as_str().unwrap_or_default().chars().take(19).collect()).collect()
}

/// The text of a captured message with quoted-printable soft breaks and
/// base64 bodies undone, and folded lines unfolded, whichever encoding the
/// iMIP builder chose.
fn decoded(data: &str) -> String {
    let mut text = data.replace("=\r\n", "").replace("=3D", "=");
    for block in data.split("\r\n\r\n").skip(1) {
        let b64: String = block.lines().take_while(|l| !l.starts_with("--")).collect();
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) {
            text.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    text.replace("\r\n ", "")
}

#[test]
fn an_occurrence_is_changed_as_an_exception_and_deleted_as_an_exdate() {
    let (_dir, _sink, server) = org("grec-occurrences", "");
    let mary = token(&server, "mary", OWN);
    let pattern = json!({"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]});
    let range = json!({"type": "numbered", "startDate": "2026-12-07", "numberOfOccurrences": 5});
    let master = create(&server, &mary, &series("Standup", "2026-12-07", pattern, range));
    let id = master["id"].as_str().expect("id");
    let instances = format!("me/events/{id}/instances?{}", window("2026-12-01", "2027-02-01"));

    let all = list(&server, &mary, &instances);
    assert_eq!(
        starts(&all),
        [
            "2026-12-07T10:00:00",
            "2026-12-14T10:00:00",
            "2026-12-21T10:00:00",
            "2026-12-28T10:00:00",
            "2027-01-04T10:00:00"
        ]
    );
    assert!(all.iter().all(|i| i["type"] == "occurrence" && i["seriesMasterId"] == id), "{all:?}");
    let ids: Vec<String> = all.iter().map(|i| i["id"].as_str().expect("occurrence id").to_owned()).collect();

    // The third moves to Tuesday afternoon with a new subject.
    let change = json!({
        "subject": "Standup (moved)",
        "start": {"dateTime": "2026-12-22T14:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2026-12-22T15:00:00", "timeZone": "UTC"},
        "showAs": "tentative",
    });
    let (status, exception) = call(&server, "PATCH", &format!("me/events/{}", ids[2]), &mary, Some(&change));
    assert_eq!(status, 200, "{exception}");
    assert_eq!((exception["type"].as_str(), exception["id"].as_str()), (Some("exception"), Some(ids[2].as_str())));
    assert_eq!(exception["seriesMasterId"], id);
    assert_eq!(exception["showAs"], "tentative");

    let all = list(&server, &mary, &instances);
    assert_eq!(starts(&all)[2], "2026-12-22T14:00:00");
    assert_eq!((all[2]["subject"].as_str(), all[2]["type"].as_str()), (Some("Standup (moved)"), Some("exception")));
    assert_eq!(all[3]["subject"], "Standup", "the other occurrences keep the series' subject");
    let view = list(&server, &mary, &format!("me/calendarView?{}", window("2026-12-20", "2026-12-24")));
    assert_eq!(view.len(), 1, "{view:?}");
    assert_eq!((view[0]["subject"].as_str(), view[0]["id"].as_str()), (Some("Standup (moved)"), Some(ids[2].as_str())));
    let (status, got) = call(&server, "GET", &format!("me/events/{}", ids[2]), &mary, None);
    assert_eq!(
        (status, got["type"].as_str(), got["subject"].as_str()),
        (200, Some("exception"), Some("Standup (moved)"))
    );
    // The exception keeps its id: it may be changed again.
    let again = json!({"location": {"displayName": "Room 7"}});
    let (status, got) = call(&server, "PATCH", &format!("me/events/{}", ids[2]), &mary, Some(&again));
    assert_eq!((status, got["location"]["displayName"].as_str()), (200, Some("Room 7")));
    assert_eq!(got["start"]["dateTime"], "2026-12-22T14:00:00.0000000");

    // An occurrence has no recurrence of its own.
    let bad = json!({"recurrence": {"pattern": {"type": "daily"}, "range": {"type": "noEnd"}}});
    let (status, err) = call(&server, "PATCH", &format!("me/events/{}", ids[1]), &mary, Some(&bad));
    assert_eq!(status, 400, "{err}");
    assert!(err["error"]["message"].as_str().unwrap_or_default().contains("recurrence"), "{err}");

    // The fourth is deleted: four remain, everywhere.
    assert_eq!(call(&server, "DELETE", &format!("me/events/{}", ids[3]), &mary, None).0, 204);
    let all = list(&server, &mary, &instances);
    assert_eq!(
        starts(&all),
        ["2026-12-07T10:00:00", "2026-12-14T10:00:00", "2026-12-22T14:00:00", "2027-01-04T10:00:00"]
    );
    assert_eq!(list(&server, &mary, &format!("me/calendarView?{}", window("2026-12-01", "2027-02-01"))).len(), 4);
    assert_eq!(call(&server, "GET", &format!("me/events/{}", ids[3]), &mary, None).0, 404);
    assert_eq!(call(&server, "DELETE", &format!("me/events/{}", ids[3]), &mary, None).0, 404);
    // A new subject for the series leaves the exception as it is.
    let rename = json!({"subject": "Team standup"});
    assert_eq!(call(&server, "PATCH", &format!("me/events/{id}"), &mary, Some(&rename)).0, 200);
    let all = list(&server, &mary, &instances);
    let subjects: Vec<&str> = all.iter().filter_map(|i| i["subject"].as_str()).collect();
    assert_eq!(subjects, ["Team standup", "Team standup", "Standup (moved)", "Team standup"]);
    // Deleting the exception removes it too.
    assert_eq!(call(&server, "DELETE", &format!("me/events/{}", ids[2]), &mary, None).0, 204);
    assert_eq!(list(&server, &mary, &instances).len(), 3);

    // The series is still a series with its recurrence.
    let (status, got) = call(&server, "GET", &format!("me/events/{id}"), &mary, None);
    assert_eq!((status, got["type"].as_str()), (200, Some("seriesMaster")));
    assert_eq!(got["recurrence"]["pattern"]["type"], "weekly");
    assert_eq!(got["recurrence"]["range"]["numberOfOccurrences"], 5);
    // A new time for the series starts it afresh: Outlook's "any exceptions
    // associated with this recurring appointment will be lost".
    let retime = json!({
        "start": {"dateTime": "2026-12-07T09:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2026-12-07T09:30:00", "timeZone": "UTC"},
    });
    assert_eq!(call(&server, "PATCH", &format!("me/events/{id}"), &mary, Some(&retime)).0, 200);
    let all = list(&server, &mary, &instances);
    assert_eq!(all.len(), 5);
    assert!(all.iter().all(|i| i["type"] == "occurrence" && i["start"]["dateTime"].as_str().is_some_and(|t| t.contains("T09:00"))));
    // instances needs a window, as calendarView does.
    let (status, _) =
        call(&server, "GET", &format!("me/events/{id}/instances?startDateTime=x&endDateTime=y"), &mary, None);
    assert_eq!(status, 400);
}

#[test]
fn relative_patterns_round_trip_and_expand_to_the_right_days() {
    let (_dir, _sink, server) = org("grec-relative", "");
    let mary = token(&server, "mary", OWN);
    let no_end = json!({"type": "noEnd", "startDate": "2027-01-12"});
    let cases = [
        (
            json!({"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["tuesday"], "index": "second"}),
            "2027-01-12",
            vec!["2027-01-12T10:00:00", "2027-02-09T10:00:00", "2027-03-09T10:00:00"],
        ),
        (
            json!({"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["friday"], "index": "last"}),
            "2027-01-29",
            vec!["2027-01-29T10:00:00", "2027-02-26T10:00:00", "2027-03-26T10:00:00"],
        ),
        // Several days with an index: the last weekday of each month.
        (
            json!({"type": "relativeMonthly", "interval": 1,
                "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"], "index": "last"}),
            "2027-01-29",
            vec!["2027-01-29T10:00:00", "2027-02-26T10:00:00", "2027-03-31T10:00:00"],
        ),
    ];
    for (pattern, day, want) in cases {
        let event = create(&server, &mary, &series("Relative", day, pattern.clone(), no_end.clone()));
        let id = event["id"].as_str().expect("id");
        let (_, got) = call(&server, "GET", &format!("me/events/{id}"), &mary, None);
        for key in ["type", "interval", "daysOfWeek", "index"] {
            assert_eq!(got["recurrence"]["pattern"][key], pattern[key], "{key} of {pattern}");
        }
        let all = list(&server, &mary, &format!("me/events/{id}/instances?{}", window("2027-01-01", "2027-04-01")));
        assert_eq!(starts(&all), want, "{pattern}");
        assert_eq!(call(&server, "DELETE", &format!("me/events/{id}"), &mary, None).0, 204);
    }

    // Thanksgiving: the fourth Thursday of November, three times.
    let pattern =
        json!({"type": "relativeYearly", "interval": 1, "month": 11, "daysOfWeek": ["thursday"], "index": "fourth"});
    let range = json!({"type": "numbered", "startDate": "2026-11-26", "numberOfOccurrences": 3});
    let event = create(&server, &mary, &series("Thanksgiving", "2026-11-26", pattern.clone(), range));
    let id = event["id"].as_str().expect("id");
    for key in ["type", "interval", "month", "daysOfWeek", "index"] {
        assert_eq!(event["recurrence"]["pattern"][key], pattern[key], "{key}");
    }
    let view = list(&server, &mary, &format!("me/calendarView?{}", window("2026-01-01", "2030-01-01")));
    let thanksgiving: Vec<Value> = view.into_iter().filter(|e| e["seriesMasterId"] == id).collect();
    assert_eq!(starts(&thanksgiving), ["2026-11-26T10:00:00", "2027-11-25T10:00:00", "2028-11-23T10:00:00"]);

    // A PATCH turns the series into a relative one, read back as written.
    let monthly = json!({"recurrence": {"pattern": {"type": "relativeMonthly", "interval": 2,
        "daysOfWeek": ["thursday"], "index": "fourth"}, "range": {"type": "endDate", "startDate": "2026-11-26", "endDate": "2027-06-30"}}});
    let (status, got) = call(&server, "PATCH", &format!("me/events/{id}"), &mary, Some(&monthly));
    assert_eq!((status, got["recurrence"]["pattern"]["interval"].as_u64()), (200, Some(2)), "{got}");
    assert_eq!(got["recurrence"]["range"]["endDate"], "2027-06-30");
    let all = list(&server, &mary, &format!("me/events/{id}/instances?{}", window("2026-11-01", "2027-12-01")));
    assert_eq!(
        starts(&all),
        ["2026-11-26T10:00:00", "2027-01-28T10:00:00", "2027-03-25T10:00:00", "2027-05-27T10:00:00"]
    );

    // Invalid patterns are refused naming the property.
    for (pattern, property) in [
        (json!({"type": "relativeMonthly", "index": "second"}), "daysOfWeek"),
        (json!({"type": "relativeMonthly", "daysOfWeek": ["tuesday"], "index": "fifth"}), "index"),
        (json!({"type": "relativeYearly", "daysOfWeek": ["tuesday"], "index": "first"}), "month"),
    ] {
        let body = series("Bad", "2027-01-12", pattern.clone(), json!({"type": "noEnd"}));
        let (status, err) = call(&server, "POST", "me/events", &mary, Some(&body));
        assert_eq!(status, 400, "{pattern}: {err}");
        assert!(err["error"]["message"].as_str().unwrap_or_default().contains(property), "{pattern}: {err}");
    }
}

#[test]
fn a_reviewer_may_not_change_or_delete_an_occurrence_and_an_editor_may() {
    let (_dir, _sink, server) =
        org("grec-rights", "Add-MailboxFolderPermission mary:\\Calendar -User rob -AccessRights Reviewer\n");
    let mary = token(&server, "mary", OWN);
    let rob = token(&server, "rob", SHARED);
    let pattern = json!({"type": "daily", "interval": 1});
    let range = json!({"type": "numbered", "startDate": "2026-12-07", "numberOfOccurrences": 3});
    let master = create(&server, &mary, &series("Daily", "2026-12-07", pattern, range));
    let id = master["id"].as_str().expect("id");
    let instances = format!("users/{MARY}/events/{id}/instances?{}", window("2026-12-01", "2027-01-01"));
    let all = list(&server, &rob, &instances);
    assert_eq!(all.len(), 3, "a reviewer reads the instances");
    let first = all[0]["id"].as_str().expect("id").to_owned();
    let second = all[1]["id"].as_str().expect("id").to_owned();

    let change = json!({"subject": "Rob was here"});
    let (status, err) = call(&server, "PATCH", &format!("users/{MARY}/events/{first}"), &rob, Some(&change));
    assert_eq!((status, err["error"]["code"].as_str()), (403, Some("ErrorAccessDenied")), "{err}");
    assert_eq!(call(&server, "DELETE", &format!("users/{MARY}/events/{second}"), &rob, None).0, 403);
    let all = list(&server, &mary, &format!("me/events/{id}/instances?{}", window("2026-12-01", "2027-01-01")));
    assert_eq!(all.len(), 3, "nothing was deleted");
    assert!(all.iter().all(|i| i["subject"] == "Daily" && i["type"] == "occurrence"), "nothing was changed: {all:?}");

    server.shell("Set-MailboxFolderPermission mary:\\Calendar -User rob -AccessRights Editor").expect_ok();
    let (status, got) = call(&server, "PATCH", &format!("users/{MARY}/events/{first}"), &rob, Some(&change));
    assert_eq!((status, got["type"].as_str(), got["subject"].as_str()), (200, Some("exception"), Some("Rob was here")));
    assert_eq!(call(&server, "DELETE", &format!("users/{MARY}/events/{second}"), &rob, None).0, 204);
    let all = list(&server, &mary, &format!("me/events/{id}/instances?{}", window("2026-12-01", "2027-01-01")));
    assert_eq!(starts(&all), ["2026-12-07T10:00:00", "2026-12-09T10:00:00"]);
    assert_eq!(all[0]["subject"], "Rob was here");

    // A private series: an editor without private access sees busy time
    // named "Private Appointment", and may not change an occurrence of it.
    let mut private = series(
        "Doctor",
        "2026-12-07",
        json!({"type": "daily", "interval": 1}),
        json!({"type": "numbered", "startDate": "2026-12-07", "numberOfOccurrences": 2}),
    );
    private["sensitivity"] = json!("private");
    let master = create(&server, &mary, &private);
    let id = master["id"].as_str().expect("id");
    let all =
        list(&server, &rob, &format!("users/{MARY}/events/{id}/instances?{}", window("2026-12-01", "2027-01-01")));
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|i| i["subject"] == "Private Appointment"), "{all:?}");
    let first = all[0]["id"].as_str().expect("id");
    assert_eq!(call(&server, "PATCH", &format!("users/{MARY}/events/{first}"), &rob, Some(&change)).0, 403);
    assert_eq!(call(&server, "DELETE", &format!("users/{MARY}/events/{first}"), &rob, None).0, 403);
}

#[test]
fn an_organizer_changing_or_deleting_an_occurrence_sends_the_series_again() {
    let (_dir, sink, server) = org("grec-meeting", "");
    let mary = token(&server, "mary", OWN);
    let mut body = series(
        "Weekly sync",
        "2026-12-07",
        json!({"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]}),
        json!({"type": "numbered", "startDate": "2026-12-07", "numberOfOccurrences": 3}),
    );
    body["attendees"] =
        json!([{"emailAddress": {"address": "olga@fabrikam.test", "name": "Olga"}, "type": "required"}]);
    let master = create(&server, &mary, &body);
    let id = master["id"].as_str().expect("id");
    sink.wait_for(1);
    let all = list(&server, &mary, &format!("me/events/{id}/instances?{}", window("2026-12-01", "2027-01-01")));
    let second = all[1]["id"].as_str().expect("id").to_owned();
    let third = all[2]["id"].as_str().expect("id").to_owned();

    let change = json!({"subject": "Weekly sync (in the big room)"});
    assert_eq!(call(&server, "PATCH", &format!("me/events/{second}"), &mary, Some(&change)).0, 200);
    let sent = sink.wait_for(2);
    let update = sent.last().map(|m| decoded(&m.data)).unwrap_or_default();
    assert!(update.contains("METHOD:REQUEST") && update.contains("RECURRENCE-ID"), "{update}");
    assert!(update.contains("Weekly sync (in the big room)"), "{update}");

    assert_eq!(call(&server, "DELETE", &format!("me/events/{third}"), &mary, None).0, 204);
    let sent = sink.wait_for(3);
    let update = sent.last().map(|m| decoded(&m.data)).unwrap_or_default();
    assert!(update.contains("METHOD:REQUEST") && update.contains("EXDATE"), "{update}");
}
