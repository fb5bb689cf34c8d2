//! Free/busy through Graph's `getSchedule` on the real binary (spec §5,
//! §10): a colleague sees Mary's busy times through the `Default`
//! AvailabilityOnly entry, a LimitedDetails viewer also subjects and
//! locations (never of a private item), a `Default` of `None` and a hidden or
//! unknown address are error entries of their own schedules, bad windows and
//! missing scopes are refused.

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use serde_json::{Value, json};
use support::graph::{call, user_token};
use support::{Server, TempDir, init};

const PW: &str = "Str0ng!Passw0rd";

fn token(server: &Server, alias: &str, scope: &str) -> String {
    user_token(server, &format!("{alias}@contoso.test"), PW, scope)
}

fn request(schedules: &[&str], start: &str, end: &str, zone: &str, interval: i64) -> Value {
    json!({
        "schedules": schedules,
        "startTime": {"dateTime": start, "timeZone": zone},
        "endTime": {"dateTime": end, "timeZone": zone},
        "availabilityViewInterval": interval,
    })
}

#[test]
fn get_schedule_shows_each_caller_what_its_calendar_role_allows() {
    let dir = TempDir::new("graph-freebusy");
    assert!(init(&dir.0, "contoso.test").status.success());
    let server = Server::start(&dir.0);
    let mut script = String::new();
    for (name, alias) in [("Mary", "mary"), ("Rob", "rob"), ("Lina", "lina"), ("Sam", "sam"), ("Hank", "hank")] {
        script.push_str(&format!(
            "New-Mailbox -Name '{name}' -Alias {alias} -Password (ConvertTo-SecureString '{PW}' -AsPlainText -Force)\n"
        ));
    }
    script.push_str(
        "Add-MailboxFolderPermission mary:\\Calendar -User lina -AccessRights LimitedDetails
Set-MailboxFolderPermission sam:\\Calendar -User Default -AccessRights None
Set-Mailbox hank -HiddenFromAddressListsEnabled $true
",
    );
    server.shell(&script).expect_ok();

    let mary = token(&server, "mary", "Calendars.ReadWrite");
    for event in [
        json!({"subject": "Doctor", "sensitivity": "private", "location": {"displayName": "Clinic"},
               "start": {"dateTime": "2026-12-02T09:00:00", "timeZone": "UTC"},
               "end": {"dateTime": "2026-12-02T10:00:00", "timeZone": "UTC"}}),
        json!({"subject": "Team sync", "location": {"displayName": "Room 4"},
               "start": {"dateTime": "2026-12-02T11:00:00", "timeZone": "UTC"},
               "end": {"dateTime": "2026-12-02T11:30:00", "timeZone": "UTC"}}),
    ] {
        let (status, body) = call(&server, "POST", "me/events", &mary, Some(&event));
        assert_eq!(status, 201, "{body}");
    }
    for (alias, event) in [("sam", "Sam's secret"), ("hank", "Hank's secret")] {
        let own = token(&server, alias, "Calendars.ReadWrite");
        let body = json!({"subject": event, "start": {"dateTime": "2026-12-02T09:00:00", "timeZone": "UTC"},
                          "end": {"dateTime": "2026-12-02T10:00:00", "timeZone": "UTC"}});
        assert_eq!(call(&server, "POST", "me/events", &own, Some(&body)).0, 201);
    }

    // Rob, an ordinary colleague: busy times only.
    let rob = token(&server, "rob", "Calendars.Read");
    let asked = request(
        &["mary@contoso.test", "sam@contoso.test", "hank@contoso.test", "nobody@contoso.test"],
        "2026-12-02T08:00:00",
        "2026-12-02T12:00:00",
        "UTC",
        60,
    );
    let (status, answer) = call(&server, "POST", "me/calendar/getSchedule", &rob, Some(&asked));
    assert_eq!(status, 200, "{answer}");
    let value = answer["value"].as_array().expect("value");
    assert_eq!(value.len(), 4);
    let mary_fb = &value[0];
    assert_eq!(mary_fb["scheduleId"], "mary@contoso.test");
    assert_eq!(mary_fb["availabilityView"], "0202");
    let items = mary_fb["scheduleItems"].as_array().expect("scheduleItems");
    assert_eq!(items.len(), 2, "{mary_fb}");
    for item in items {
        assert_eq!((item["status"].as_str(), item["isPrivate"].as_bool()), (Some("busy"), Some(false)));
        assert!(item.get("subject").is_none() && item.get("location").is_none(), "{item}");
    }
    assert_eq!(items[0]["start"], json!({"dateTime": "2026-12-02T09:00:00.0000000", "timeZone": "UTC"}));
    assert_eq!(items[1]["end"]["dateTime"], "2026-12-02T11:30:00.0000000");
    assert_eq!(mary_fb["workingHours"]["startTime"], "08:00:00.0000000");
    assert_eq!(value[1]["error"]["responseCode"], "ErrorNoFreeBusyAccess", "Sam's Default is None");
    for hidden_or_unknown in &value[2..] {
        assert_eq!(hidden_or_unknown["error"]["responseCode"], "ErrorMailRecipientNotFound", "{hidden_or_unknown}");
        assert!(hidden_or_unknown.get("scheduleItems").is_none());
    }
    assert!(!answer.to_string().contains("secret"));

    // Lina (LimitedDetails), asking in Berlin time: subject and location of
    // the ordinary event, the private one still bare busy time.
    let lina = token(&server, "lina", "Calendars.Read");
    let asked = request(&["mary@contoso.test"], "2026-12-02T09:00:00", "2026-12-02T13:00:00", "Europe/Berlin", 30);
    let (status, answer) = call(&server, "POST", "users/lina@contoso.test/calendar/getSchedule", &lina, Some(&asked));
    assert_eq!(status, 200, "{answer}");
    let mary_fb = &answer["value"][0];
    assert_eq!(mary_fb["availabilityView"], "00220020");
    let items = &mary_fb["scheduleItems"];
    assert_eq!((items[0]["isPrivate"].as_bool(), items[0].get("subject")), (Some(true), None), "{items}");
    assert_eq!((items[1]["subject"].as_str(), items[1]["location"].as_str()), (Some("Team sync"), Some("Room 4")));
    assert!(!answer.to_string().contains("Doctor") && !answer.to_string().contains("Clinic"));

    // Mary herself sees her private event's subject.
    let (_, own) = call(&server, "POST", "me/calendar/getSchedule", &mary, Some(&asked));
    assert_eq!(own["value"][0]["scheduleItems"][0]["subject"], "Doctor");

    // Bad windows and intervals, and no Calendars scope.
    for bad in [
        request(&["mary@contoso.test"], "2026-12-01T00:00:00", "2027-02-02T00:00:00", "UTC", 30),
        request(&["mary@contoso.test"], "2026-12-02T10:00:00", "2026-12-02T09:00:00", "UTC", 30),
        request(&["mary@contoso.test"], "2026-12-02T08:00:00", "2026-12-02T09:00:00", "UTC", 2),
        json!({"schedules": [], "startTime": {"dateTime": "2026-12-02T08:00:00", "timeZone": "UTC"},
               "endTime": {"dateTime": "2026-12-02T09:00:00", "timeZone": "UTC"}}),
    ] {
        let (status, body) = call(&server, "POST", "me/calendar/getSchedule", &rob, Some(&bad));
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("ErrorInvalidParameter")), "{bad}");
    }
    let mail_only = token(&server, "rob", "Mail.Read");
    let asked = request(&["mary@contoso.test"], "2026-12-02T08:00:00", "2026-12-02T12:00:00", "UTC", 30);
    assert_eq!(call(&server, "POST", "me/calendar/getSchedule", &mail_only, Some(&asked)).0, 403);
}
