//! Calendars through the Graph door of the real binary (issue 9, spec §5,
//! §10, exchange-reference §3): an external meeting request arriving over
//! inbound SMTP for a manager with a calendar delegate under each meeting
//! delivery option, the delegate accepting it over Graph on her behalf, what
//! each kind of viewer sees of a private event, calendarPermissions and
//! `/me/delegates` against the shell, mailboxSettings ownership, bad input.

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

use base64::Engine;
use serde_json::{Value, json};
use support::graph::{agent, call, user_token};
use support::sink::Sink;
use support::{Server, TempDir, init};

const PW: &str = "Str0ng!Passw0rd";
const MARY: &str = "mary@contoso.test";
const OWN: &str = "Calendars.ReadWrite MailboxSettings.ReadWrite Mail.ReadWrite";
const SHARED: &str = "Calendars.ReadWrite.Shared Mail.ReadWrite.Shared";

fn mailboxes(names: &[(&str, &str)]) -> String {
    names
        .iter()
        .map(|(name, alias)| {
            format!(
                "New-Mailbox -Name '{name}' -Alias {alias} -Password (ConvertTo-SecureString '{PW}' -AsPlainText -Force)\n"
            )
        })
        .collect()
}

fn org(name: &str, script: &str) -> (TempDir, Sink, Server) {
    let dir = TempDir::new(name);
    assert!(init(&dir.0, "contoso.test").status.success());
    let sink = Sink::start();
    let server = Server::start_with(&dir.0, &["--relay-host", &sink.relay_flag()]);
    server.shell(script).expect_ok();
    (dir, sink, server)
}

fn token(server: &Server, alias: &str, scope: &str) -> String {
    user_token(server, &format!("{alias}@contoso.test"), PW, scope)
}

/// A JSON request whose body is sent as is (for malformed JSON).
fn raw_request(server: &Server, method: &str, path: &str, token: &str, body: &str) -> (u16, Value) {
    let url = format!("{}/v1.0/{path}", server.url);
    let auth = format!("Bearer {token}");
    let a = agent();
    let request = match method {
        "POST" => a.post(&url),
        _ => a.patch(&url),
    };
    let mut resp = request
        .header("Authorization", &auth)
        .header("Content-Type", "application/json")
        .send(body)
        .expect("graph request");
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The MIME text of a message (`$value`).
fn mime(server: &Server, token: &str, id: &str) -> String {
    let url = format!("{}/v1.0/me/messages/{id}/%24value", server.url);
    let mut resp = agent().get(&url).header("Authorization", &format!("Bearer {token}")).call().expect("$value");
    resp.body_mut().read_to_string().unwrap_or_default()
}

/// (subject, id) of the messages in a folder, newest first.
fn folder(server: &Server, token: &str, folder: &str) -> Vec<(String, String)> {
    let (status, list) = call(server, "GET", &format!("me/mailFolders/{folder}/messages?$top=100"), token, None);
    assert_eq!(status, 200, "{list}");
    list["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|m| {
            (m["subject"].as_str().unwrap_or_default().to_owned(), m["id"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

fn has(list: &[(String, String)], subject: &str) -> bool {
    list.iter().any(|(s, _)| s == subject)
}

/// Sends an iMIP REQUEST from the external organizer to Mary through the
/// inbound SMTP door, by hand (one plain SMTP dialogue).
fn invite(server: &Server, tag: &str) {
    let ics = format!(
        "BEGIN:VCALENDAR\r\nPRODID:-//Fabrikam//Test//EN\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:budget-{tag}@fabrikam.test\r\nDTSTAMP:20261101T090000Z\r\nDTSTART:20261201T100000Z\r\nDTEND:20261201T110000Z\r\nSUMMARY:Budget review {tag}\r\nLOCATION:Fabrikam HQ\r\nORGANIZER;CN=Olga Organizer:mailto:olga@fabrikam.test\r\nATTENDEE;CN=Mary;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{MARY}\r\nSEQUENCE:0\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    );
    let message = format!(
        "From: Olga Organizer <olga@fabrikam.test>\r\nTo: Mary <{MARY}>\r\nSubject: Budget review {tag}\r\nMessage-ID: <budget-{tag}@fabrikam.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease come to the budget review.\r\n--b1\r\nContent-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\r\n{ics}--b1--\r\n"
    );
    let stream = TcpStream::connect(server.smtp).expect("connect to inbound SMTP");
    let mut out = stream.try_clone().expect("clone");
    let mut input = BufReader::new(stream);
    let mut expect = |code: &str| loop {
        let mut line = String::new();
        input.read_line(&mut line).expect("SMTP reply");
        assert!(line.starts_with(code), "expected {code}, got {line}");
        if line.as_bytes().get(3) == Some(&b' ') {
            break;
        }
    };
    expect("220");
    for (command, code) in [
        ("EHLO mx.fabrikam.test".to_owned(), "250"),
        ("MAIL FROM:<olga@fabrikam.test>".to_owned(), "250"),
        (format!("RCPT TO:<{MARY}>"), "250"),
        ("DATA".to_owned(), "354"),
    ] {
        out.write_all(format!("{command}\r\n").as_bytes()).expect("write");
        expect(code);
    }
    out.write_all(message.as_bytes()).expect("write");
    out.write_all(b".\r\n").expect("write");
    expect("250");
    out.write_all(b"QUIT\r\n").expect("write");
}

/// The decoded text of a captured message: quoted-printable soft breaks
/// undone and base64 bodies decoded, so a check does not depend on how the
/// builder chose to encode the calendar part.
fn decoded(data: &str) -> String {
    let mut text = data.replace("=\r\n", "").replace("=3D", "=");
    for block in data.split("\r\n\r\n").skip(1) {
        let b64: String = block.lines().take_while(|l| !l.starts_with("--")).collect();
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) {
            text.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    text
}

/// The Graph id of the event with this iCalendar UID in Mary's calendar, as `token` sees it.
fn event_id(server: &Server, token: &str, uid: &str) -> String {
    let (status, list) = call(server, "GET", &format!("users/{MARY}/events?$top=100"), token, None);
    assert_eq!(status, 200, "{list}");
    list["value"]
        .as_array()
        .expect("value")
        .iter()
        .find(|e| e["iCalUId"] == uid)
        .and_then(|e| e["id"].as_str())
        .unwrap_or_else(|| panic!("no event {uid} in {list}"))
        .to_owned()
}

#[test]
fn a_delegate_receives_and_accepts_an_external_invitation_under_each_delivery_option() {
    let mut script = mailboxes(&[("Mary", "mary"), ("Rob", "rob")]);
    script.push_str(
        "Add-MailboxFolderPermission mary:\\Calendar -User rob -AccessRights Editor -SharingPermissionFlags Delegate\n",
    );
    let (_dir, sink, server) = org("gcal-accept", &script);
    let mary = token(&server, "mary", OWN);
    let rob = token(&server, "rob", &format!("{SHARED} Mail.ReadWrite"));

    // The default, then each option: Graph as Mary, the shell, Graph again.
    let (status, settings) = call(&server, "GET", "me/mailboxSettings", &mary, None);
    assert_eq!((status, settings["delegateMeetingMessageDeliveryOptions"].as_str()), (200, Some("sendToDelegateOnly")));
    let patch = json!({"delegateMeetingMessageDeliveryOptions": "sendToDelegateOnly"});
    assert_eq!(call(&server, "PATCH", "me/mailboxSettings", &mary, Some(&patch)).0, 200);
    invite(&server, "A");
    let (mary_inbox, mary_deleted, rob_inbox) =
        (folder(&server, &mary, "inbox"), folder(&server, &mary, "deleteditems"), folder(&server, &rob, "inbox"));
    assert!(has(&rob_inbox, "Budget review A"), "the delegate gets the request: {rob_inbox:?}");
    assert!(!has(&mary_inbox, "Budget review A"), "sendToDelegateOnly: not in Mary's inbox");
    assert!(has(&mary_deleted, "Budget review A"), "Mary's copy is in Deleted Items: {mary_deleted:?}");

    server
        .shell("Set-MailboxCalendarConfiguration mary -DelegateMeetingMessageDeliveryOptions SendToDelegateAndInformationToPrincipal")
        .expect_ok();
    let (_, settings) = call(&server, "GET", "me/mailboxSettings", &mary, None);
    assert_eq!(settings["delegateMeetingMessageDeliveryOptions"], "sendToDelegateAndInformationToPrincipal");
    invite(&server, "B");
    let mary_inbox = folder(&server, &mary, "inbox");
    assert!(has(&folder(&server, &rob, "inbox"), "Budget review B"));
    let (_, info) = mary_inbox.iter().find(|(s, _)| s == "Budget review B").expect("Mary's informational copy");
    let text = mime(&server, &mary, info);
    assert!(!text.contains("BEGIN:VCALENDAR") && text.contains("budget review"), "informational only: {text}");

    let patch = json!({"delegateMeetingMessageDeliveryOptions": "sendToDelegateAndPrincipal"});
    let (status, settings) = call(&server, "PATCH", "me/mailboxSettings", &mary, Some(&patch));
    assert_eq!(
        (status, settings["delegateMeetingMessageDeliveryOptions"].as_str()),
        (200, Some("sendToDelegateAndPrincipal"))
    );
    let shell = server.shell("Get-MailboxCalendarConfiguration mary").expect_ok();
    assert!(shell.contains("SendToDelegateAndPrincipal"), "the shell sees Graph's change: {shell}");
    invite(&server, "C");
    let mary_inbox = folder(&server, &mary, "inbox");
    assert!(has(&folder(&server, &rob, "inbox"), "Budget review C"));
    let (_, actionable) = mary_inbox.iter().find(|(s, _)| s == "Budget review C").expect("Mary's own request");
    assert!(mime(&server, &mary, actionable).contains("BEGIN:VCALENDAR"));

    // Rob accepts A for Mary: the reply leaves From Mary, Sender Rob.
    let id = event_id(&server, &rob, "budget-A@fabrikam.test");
    let answer = json!({"comment": "Mary will be there.", "sendResponse": true});
    let (status, body) = call(&server, "POST", &format!("users/{MARY}/events/{id}/accept"), &rob, Some(&answer));
    assert_eq!(status, 202, "{body}");
    let got = sink.wait_for(1);
    let reply = &got[0];
    assert_eq!(reply.rcpt_to, vec!["olga@fabrikam.test".to_owned()]);
    assert!(reply.header("From").unwrap_or_default().to_lowercase().contains(MARY), "{:?}", reply.header("From"));
    assert!(reply.header("Sender").unwrap_or_default().to_lowercase().contains("rob@contoso.test"));
    let text = decoded(&reply.data);
    assert!(text.contains("METHOD:REPLY") && text.contains("PARTSTAT=ACCEPTED"), "{text}");

    // Mary's calendar shows the answer; the id did not change.
    let (status, events) = call(&server, "GET", "me/events?$top=100", &mary, None);
    assert_eq!(status, 200, "{events}");
    let event = events["value"].as_array().expect("value").iter().find(|e| e["iCalUId"] == "budget-A@fabrikam.test");
    let event = event.expect("the accepted event");
    assert_eq!(event["responseStatus"]["response"], "accepted");
    assert_eq!(event["id"], id.as_str(), "event ids are stable across updates");
    assert_eq!(event["organizer"]["emailAddress"]["address"], "olga@fabrikam.test");
    assert!(has(&folder(&server, &rob, "sentitems"), "Accepted: Budget review A"), "Rob's Sent Items keep the reply");
    assert!(!has(&folder(&server, &mary, "sentitems"), "Accepted: Budget review A"), "no copy for Mary by default");

    // With MessageCopyForSendOnBehalfEnabled Mary's Sent Items get a copy too.
    server.shell("Set-Mailbox mary -MessageCopyForSendOnBehalfEnabled $true").expect_ok();
    let id = event_id(&server, &rob, "budget-C@fabrikam.test");
    let (status, _) =
        call(&server, "POST", &format!("users/{MARY}/events/{id}/tentativelyAccept"), &rob, Some(&json!({})));
    assert_eq!(status, 202);
    let got = sink.wait_for(2);
    assert!(decoded(&got[1].data).contains("PARTSTAT=TENTATIVE"));
    assert!(has(&folder(&server, &mary, "sentitems"), "Tentative: Budget review C"));
    assert!(has(&folder(&server, &rob, "sentitems"), "Tentative: Budget review C"));

    // Declining without a response sends nothing.
    let id = event_id(&server, &rob, "budget-B@fabrikam.test");
    let (status, _) = call(
        &server,
        "POST",
        &format!("users/{MARY}/events/{id}/decline"),
        &rob,
        Some(&json!({"sendResponse": false})),
    );
    assert_eq!(status, 202);
    let (_, event) = call(&server, "GET", &format!("me/events/{id}"), &mary, None);
    assert_eq!(event["responseStatus"]["response"], "declined");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(sink.messages().len(), 2, "sendResponse false sends no reply");
}

#[test]
fn private_events_show_as_busy_time_unless_the_viewer_may_see_private_items() {
    let mut script = mailboxes(&[
        ("Mary", "mary"),
        ("Rob", "rob"),
        ("Pat", "pat"),
        ("Fiona", "fiona"),
        ("Rita", "rita"),
        ("Uma", "uma"),
    ]);
    script.push_str(
        "Add-MailboxFolderPermission mary:\\Calendar -User rob -AccessRights Editor -SharingPermissionFlags Delegate
Add-MailboxFolderPermission mary:\\Calendar -User pat -AccessRights Editor -SharingPermissionFlags Delegate,CanViewPrivateItems
Add-MailboxPermission -Identity mary -User fiona -AccessRights FullAccess -AutoMapping $false
Add-MailboxFolderPermission mary:\\Calendar -User rita -AccessRights Reviewer
",
    );
    let (_dir, sink, server) = org("gcal-private", &script);
    let mary = token(&server, "mary", OWN);
    let private = json!({
        "subject": "Doctor", "body": {"contentType": "text", "content": "Secret diagnosis"},
        "start": {"dateTime": "2026-12-02T09:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2026-12-02T10:00:00", "timeZone": "UTC"},
        "location": {"displayName": "Clinic"}, "sensitivity": "private",
    });
    let (status, created) = call(&server, "POST", "me/events", &mary, Some(&private));
    assert_eq!(status, 201, "{created}");
    assert_eq!((created["subject"].as_str(), created["isOrganizer"].as_bool()), (Some("Doctor"), Some(true)));
    let private_id = created["id"].as_str().expect("id").to_owned();
    let team = json!({
        "subject": "Team sync", "start": {"dateTime": "2026-12-02T11:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2026-12-02T11:30:00", "timeZone": "UTC"}, "location": {"displayName": "Room 4"},
        "recurrence": {"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["wednesday"]},
                       "range": {"type": "numbered", "numberOfOccurrences": 3}},
    });
    let (status, created) = call(&server, "POST", "me/calendar/events", &mary, Some(&team));
    assert_eq!((status, created["type"].as_str()), (201, Some("seriesMaster")), "{created}");
    assert_eq!(created["recurrence"]["pattern"]["type"], "weekly");
    let team_id = created["id"].as_str().expect("id").to_owned();

    let read = "Calendars.Read.Shared";
    let view = |who: &str| {
        let t = token(&server, who, read);
        call(&server, "GET", &format!("users/{MARY}/events/{private_id}"), &t, None)
    };
    // Rob, a delegate without CanViewPrivateItems: busy time only.
    let (status, seen) = view("rob");
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["subject"], "Private Appointment");
    assert_eq!((seen["body"]["content"].as_str(), seen["location"]["displayName"].as_str()), (Some(""), Some("")));
    assert_eq!(seen["attendees"], json!([]));
    assert_eq!(
        (seen["showAs"].as_str(), seen["start"]["dateTime"].as_str()),
        (Some("busy"), Some("2026-12-02T09:00:00.0000000"))
    );
    // Pat (CanViewPrivateItems) and Fiona (Full Access): everything.
    for who in ["pat", "fiona"] {
        let (status, seen) = view(who);
        assert_eq!((status, seen["subject"].as_str()), (200, Some("Doctor")), "{who}: {seen}");
        assert_eq!(seen["body"]["content"], "Secret diagnosis", "{who}");
    }
    // calendarView: the private event projected, the series expanded.
    let rob = token(&server, "rob", SHARED);
    let window = "startDateTime=2026-12-01T00:00:00Z&endDateTime=2026-12-31T00:00:00Z&$top=50";
    let (status, occ) = call(&server, "GET", &format!("users/{MARY}/calendarView?{window}"), &rob, None);
    assert_eq!(status, 200, "{occ}");
    let subjects: Vec<&str> =
        occ["value"].as_array().expect("value").iter().filter_map(|e| e["subject"].as_str()).collect();
    assert_eq!(subjects, ["Private Appointment", "Team sync", "Team sync", "Team sync"]);
    let second = &occ["value"][2];
    assert_eq!(
        (second["type"].as_str(), second["seriesMasterId"].as_str()),
        (Some("occurrence"), Some(team_id.as_str()))
    );
    let occurrence_id = second["id"].as_str().expect("id");
    let (status, one) = call(&server, "GET", &format!("users/{MARY}/events/{occurrence_id}"), &rob, None);
    assert_eq!((status, one["start"]["dateTime"].as_str()), (200, Some("2026-12-09T11:00:00.0000000")), "{one}");

    // Rob may change the ordinary event, not the private one; the id stays.
    let (status, changed) = call(
        &server,
        "PATCH",
        &format!("users/{MARY}/events/{team_id}"),
        &rob,
        Some(&json!({"subject": "Team sync (moved)"})),
    );
    assert_eq!((status, changed["id"].as_str()), (200, Some(team_id.as_str())), "{changed}");
    let (status, denied) =
        call(&server, "PATCH", &format!("users/{MARY}/events/{private_id}"), &rob, Some(&json!({"subject": "x"})));
    assert_eq!((status, denied["error"]["code"].as_str()), (403, Some("ErrorAccessDenied")));

    // Rita (Reviewer) reads ordinary events but may change nothing.
    let rita = token(&server, "rita", "Calendars.ReadWrite.Shared");
    let (status, seen) = call(&server, "GET", &format!("users/{MARY}/events/{team_id}"), &rita, None);
    assert_eq!((status, seen["location"]["displayName"].as_str()), (200, Some("Room 4")));
    for (method, path, body) in [
        ("POST", format!("users/{MARY}/events"), Some(team.clone())),
        ("PATCH", format!("users/{MARY}/events/{team_id}"), Some(json!({"subject": "mine"}))),
        ("DELETE", format!("users/{MARY}/events/{team_id}"), None),
    ] {
        let (status, denied) = call(&server, method, &path, &rita, body.as_ref());
        assert_eq!((status, denied["error"]["code"].as_str()), (403, Some("ErrorAccessDenied")), "{method} {path}");
    }
    // Uma, unrelated (Default is free/busy only): not found.
    let uma = token(&server, "uma", read);
    for path in
        [format!("users/{MARY}/events"), format!("users/{MARY}/events/{team_id}"), format!("users/{MARY}/calendar")]
    {
        let (status, body) = call(&server, "GET", &path, &uma, None);
        assert_eq!((status, body["error"]["code"].as_str()), (404, Some("ErrorItemNotFound")), "{path}");
    }
    // Without a Calendars scope nothing is read.
    let mail_only = token(&server, "rob", "Mail.Read.Shared");
    assert_eq!(call(&server, "GET", &format!("users/{MARY}/events"), &mail_only, None).0, 403);
    // The calendar itself tells each caller its standing.
    let (_, cal) = call(&server, "GET", &format!("users/{MARY}/calendar"), &rob, None);
    assert_eq!(
        (cal["canEdit"].as_bool(), cal["canShare"].as_bool(), cal["canViewPrivateItems"].as_bool()),
        (Some(true), Some(false), Some(false))
    );
    assert_eq!(cal["owner"]["address"], MARY);
    let (_, cal) = call(&server, "GET", "me/calendars", &mary, None);
    assert_eq!(
        (cal["value"][0]["canShare"].as_bool(), cal["value"][0]["isDefaultCalendar"].as_bool()),
        (Some(true), Some(true))
    );
    // Mary deletes the private event.
    assert_eq!(call(&server, "DELETE", &format!("me/events/{private_id}"), &mary, None).0, 204);
    assert_eq!(call(&server, "GET", &format!("me/events/{private_id}"), &mary, None).0, 404);

    // Rob organizes a meeting in Mary's calendar: it goes out on her behalf,
    // an update raises SEQUENCE, and Mary's DELETE cancels it.
    let meeting = json!({
        "subject": "Vendor call", "start": {"dateTime": "2026-12-03T15:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2026-12-03T15:30:00", "timeZone": "UTC"},
        "attendees": [{"emailAddress": {"address": "vic@fabrikam.test", "name": "Vic"}, "type": "required"}],
    });
    let (status, created) = call(&server, "POST", &format!("users/{MARY}/events"), &rob, Some(&meeting));
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["organizer"]["emailAddress"]["address"], MARY);
    let meeting_id = created["id"].as_str().expect("id").to_owned();
    let got = sink.wait_for(1);
    assert!(got[0].header("From").unwrap_or_default().to_lowercase().contains(MARY));
    assert!(got[0].header("Sender").unwrap_or_default().to_lowercase().contains("rob@contoso.test"));
    assert!(decoded(&got[0].data).contains("METHOD:REQUEST"), "{}", got[0].data);
    let (status, _) = call(
        &server,
        "PATCH",
        &format!("users/{MARY}/events/{meeting_id}"),
        &rob,
        Some(&json!({"location": {"displayName": "Teams"}})),
    );
    assert_eq!(status, 200);
    let got = sink.wait_for(2);
    assert!(decoded(&got[1].data).contains("SEQUENCE:1"), "{}", got[1].data);
    assert_eq!(call(&server, "DELETE", &format!("me/events/{meeting_id}"), &mary, None).0, 204);
    let got = sink.wait_for(3);
    assert!(decoded(&got[2].data).contains("METHOD:CANCEL"), "{}", got[2].data);
    assert!(got[2].header("Sender").is_none(), "Mary cancels as herself");
}

/// The shell's rows for Mary's calendar: user → (AccessRights, SharingPermissionFlags).
fn shell_rows(server: &Server) -> Vec<(String, String, String)> {
    server
        .json("Get-MailboxFolderPermission mary:\\Calendar")
        .iter()
        .map(|r| {
            (
                r["User"].as_str().unwrap_or_default().to_owned(),
                r["AccessRights"].to_string(),
                r["SharingPermissionFlags"].to_string(),
            )
        })
        .collect()
}

#[test]
fn calendar_permissions_are_the_folder_entries_the_shell_shows() {
    let (_dir, _sink, server) = org("gcal-perms", &mailboxes(&[("Mary", "mary"), ("Rob", "rob"), ("Pat", "pat")]));
    let mary = token(&server, "mary", OWN);
    let (status, list) = call(&server, "GET", "me/calendar/calendarPermissions", &mary, None);
    assert_eq!(status, 200, "{list}");
    let org_entry = &list["value"][0];
    assert_eq!(list["value"].as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(
        (org_entry["emailAddress"]["name"].as_str(), org_entry["role"].as_str()),
        (Some("My Organization"), Some("freeBusyRead"))
    );
    assert_eq!(org_entry["isRemovable"], false);

    let body = json!({"emailAddress": {"address": "rob@contoso.test", "name": "Rob"}, "role": "delegateWithPrivateEventAccess"});
    let (status, created) = call(&server, "POST", "me/calendar/calendarPermissions", &mary, Some(&body));
    assert_eq!((status, created["role"].as_str()), (200, Some("delegateWithPrivateEventAccess")), "{created}");
    let rob_id = created["id"].as_str().expect("id").to_owned();
    let rows = shell_rows(&server);
    let rob_row = rows.iter().find(|r| r.0 == "Rob").expect("Rob's entry in the shell");
    assert!(
        rob_row.1.contains("Editor") && rob_row.2.contains("Delegate") && rob_row.2.contains("CanViewPrivateItems"),
        "{rob_row:?}"
    );

    let (status, changed) = call(
        &server,
        "PATCH",
        &format!("me/calendar/calendarPermissions/{rob_id}"),
        &mary,
        Some(&json!({"role": "read"})),
    );
    assert_eq!((status, changed["role"].as_str()), (200, Some("read")), "{changed}");
    let org_id = org_entry["id"].as_str().expect("id");
    let (status, _) = call(
        &server,
        "PATCH",
        &format!("me/calendar/calendarPermissions/{org_id}"),
        &mary,
        Some(&json!({"role": "limitedRead"})),
    );
    assert_eq!(status, 200);
    let rows = shell_rows(&server);
    assert!(rows.iter().any(|r| r.0 == "Rob" && r.1.contains("Reviewer") && !r.2.contains("Delegate")), "{rows:?}");
    assert!(rows.iter().any(|r| r.0 == "Default" && r.1.contains("LimitedDetails")), "{rows:?}");

    // A shell change shows in Graph.
    server.shell("Add-MailboxFolderPermission mary:\\Calendar -User pat -AccessRights Editor").expect_ok();
    let (_, list) = call(&server, "GET", "me/calendar/calendarPermissions", &mary, None);
    let pat =
        list["value"].as_array().expect("value").iter().find(|p| p["emailAddress"]["address"] == "pat@contoso.test");
    assert_eq!(pat.map(|p| p["role"].clone()), Some(json!("write")), "{list}");

    // Others see an empty collection and may change nothing.
    let rob = token(&server, "rob", "Calendars.ReadWrite.Shared");
    let (status, list) = call(&server, "GET", &format!("users/{MARY}/calendar/calendarPermissions"), &rob, None);
    assert_eq!((status, list["value"].clone()), (200, json!([])));
    let (status, _) = call(&server, "POST", &format!("users/{MARY}/calendar/calendarPermissions"), &rob, Some(&body));
    assert_eq!(status, 403);

    // Bad input, and My Organization can't go.
    let bad = json!({"emailAddress": {"address": "pat@contoso.test"}, "role": "superuser"});
    let (status, err) = call(&server, "POST", "me/calendar/calendarPermissions", &mary, Some(&bad));
    assert_eq!((status, err["error"]["code"].as_str()), (400, Some("BadRequest")), "{err}");
    let (status, _) = call(&server, "DELETE", &format!("me/calendar/calendarPermissions/{org_id}"), &mary, None);
    assert_eq!(status, 400);
    let (status, _) = call(&server, "DELETE", &format!("me/calendar/calendarPermissions/{rob_id}"), &mary, None);
    assert_eq!(status, 204);
    assert!(!shell_rows(&server).iter().any(|r| r.0 == "Rob"), "Rob's entry is gone from the shell too");
    let audit = server.shell("Search-AdminAuditLog -Cmdlets Add-MailboxFolderPermission | ConvertTo-Json").expect_ok();
    assert!(audit.contains(MARY), "the audit log names Mary as the caller: {audit}");
}

#[test]
fn mailbox_settings_are_the_owners_only() {
    let mut script = mailboxes(&[("Mary", "mary"), ("Fiona", "fiona")]);
    script.push_str("Add-MailboxPermission -Identity mary -User fiona -AccessRights FullAccess -AutoMapping $false\n");
    let (_dir, _sink, server) = org("gcal-settings", &script);
    let read_only = token(&server, "mary", "MailboxSettings.Read");
    let (status, settings) = call(&server, "GET", "me/mailboxSettings", &read_only, None);
    assert_eq!(status, 200, "{settings}");
    assert_eq!((settings["timeZone"].as_str(), settings["userPurpose"].as_str()), (Some("UTC"), Some("user")));
    assert_eq!(settings["workingHours"]["daysOfWeek"][0], "monday");
    let change = json!({"delegateMeetingMessageDeliveryOptions": "sendToDelegateAndPrincipal"});
    assert_eq!(call(&server, "PATCH", "me/mailboxSettings", &read_only, Some(&change)).0, 403);
    let calendars_only = token(&server, "mary", "Calendars.ReadWrite");
    assert_eq!(call(&server, "GET", "me/mailboxSettings", &calendars_only, None).0, 403);

    let mary = token(&server, "mary", "MailboxSettings.ReadWrite");
    let (status, err) =
        call(&server, "PATCH", "me/mailboxSettings", &mary, Some(&json!({"timeZone": "Pacific Standard Time"})));
    assert_eq!(status, 400);
    assert!(err["error"]["message"].as_str().unwrap_or_default().contains("doesn't store"), "{err}");
    let (status, _) = call(
        &server,
        "PATCH",
        "me/mailboxSettings",
        &mary,
        Some(&json!({"delegateMeetingMessageDeliveryOptions": "everyone"})),
    );
    assert_eq!(status, 400);
    let (status, _) = raw_request(&server, "PATCH", "me/mailboxSettings", &mary, "{not json");
    assert_eq!(status, 400);

    // Full Access does not open another's settings (Exchange Online's rule).
    let fiona = token(&server, "fiona", "MailboxSettings.ReadWrite Mail.ReadWrite.Shared");
    let (status, err) = call(&server, "GET", &format!("users/{MARY}/mailboxSettings"), &fiona, None);
    assert_eq!((status, err["error"]["code"].as_str()), (403, Some("ErrorAccessDenied")));
    assert_eq!(call(&server, "PATCH", &format!("users/{MARY}/mailboxSettings"), &fiona, Some(&change)).0, 403);

    // An application acts for any mailbox with the roles it holds now.
    let app = server.json("New-ServicePrincipal -DisplayName Scheduler");
    let app_id = app[0]["AppId"].as_str().expect("AppId").to_owned();
    let secret = server.json(&format!("Add-MgApplicationPassword -ApplicationId {app_id}"));
    let secret = secret[0]["SecretText"].as_str().expect("SecretText").to_owned();
    let app_token = || {
        let (status, body) = support::graph::token_request(
            &server,
            "common",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &app_id),
                ("client_secret", &secret),
                ("scope", "https://graph.microsoft.com/.default"),
            ],
        );
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().expect("token").to_owned()
    };
    server.shell(&format!("New-ManagementRoleAssignment -App {app_id} -Role 'Application Calendars.Read'")).expect_ok();
    let t = app_token();
    assert_eq!(call(&server, "GET", &format!("users/{MARY}/events"), &t, None).0, 200);
    assert_eq!(call(&server, "GET", &format!("users/{MARY}/mailboxSettings"), &t, None).0, 403);
    let (status, _) = call(&server, "POST", &format!("users/{MARY}/events"), &t, Some(&json!({})));
    assert_eq!(status, 403, "Calendars.Read does not write");
    server
        .shell(&format!("New-ManagementRoleAssignment -App {app_id} -Role 'Application MailboxSettings.Read'"))
        .expect_ok();
    let t = app_token();
    let (status, settings) = call(&server, "GET", &format!("users/{MARY}/mailboxSettings"), &t, None);
    assert_eq!((status, settings["timeZone"].as_str()), (200, Some("UTC")));
}

#[test]
fn self_service_delegates_are_folder_entries_and_send_on_behalf() {
    let (_dir, _sink, server) = org("gcal-delegates", &mailboxes(&[("Mary", "mary"), ("Rob", "rob")]));
    let mary = token(&server, "mary", "MailboxSettings.ReadWrite");
    let body = json!({
        "user": {"address": "rob@contoso.test"},
        "permissions": {"calendar": "editor", "inbox": "reviewer"},
        "receiveCopiesOfMeetingMessages": true, "canViewPrivateItems": true,
    });
    let (status, added) = call(&server, "POST", "me/delegates", &mary, Some(&body));
    assert_eq!(status, 201, "{added}");
    assert_eq!(
        added["permissions"],
        json!({"calendar": "editor", "tasks": "editor", "inbox": "reviewer", "contacts": "none", "notes": "none"})
    );
    let id = added["id"].as_str().expect("id").to_owned();
    let rows = shell_rows(&server);
    assert!(
        rows.iter().any(|r| r.0 == "Rob" && r.1.contains("Editor") && r.2.contains("CanViewPrivateItems")),
        "{rows:?}"
    );
    let inbox = server.json("Get-MailboxFolderPermission mary:\\Inbox -User rob");
    assert!(inbox[0]["AccessRights"].to_string().contains("Reviewer"), "{inbox:?}");
    let sob = server.shell("(Get-Mailbox mary).GrantSendOnBehalfTo").expect_ok();
    assert!(sob.to_lowercase().contains("rob"), "Send on Behalf granted: {sob}");
    let delegates = server.shell("Get-MailboxCalendarConfiguration mary | ConvertTo-Json").expect_ok();
    assert!(delegates.contains("Rob"), "Rob is a calendar delegate: {delegates}");
    let audit = server.shell("Search-AdminAuditLog -Cmdlets Set-Mailbox | ConvertTo-Json").expect_ok();
    assert!(audit.contains(MARY), "the change is audited as Mary: {audit}");

    let (status, list) = call(&server, "GET", "me/delegates", &mary, None);
    assert_eq!((status, list["value"].as_array().map(Vec::len)), (200, Some(1)));
    let patch = json!({"permissions": {"inbox": "none"}, "canViewPrivateItems": false});
    let (status, changed) = call(&server, "PATCH", &format!("me/delegates/{id}"), &mary, Some(&patch));
    assert_eq!(
        (status, changed["permissions"]["inbox"].as_str(), changed["canViewPrivateItems"].as_bool()),
        (200, Some("none"), Some(false)),
        "{changed}"
    );
    let inbox = server.json("Get-MailboxFolderPermission mary:\\Inbox");
    assert!(!inbox.iter().any(|r| r["User"] == "Rob"), "the inbox entry is gone: {inbox:?}");
    let rows = shell_rows(&server);
    assert!(
        rows.iter().any(|r| r.0 == "Rob" && r.2.contains("Delegate") && !r.2.contains("CanViewPrivateItems")),
        "{rows:?}"
    );

    // Only Mary manages them; bad input is a 400.
    let rob = token(&server, "rob", "MailboxSettings.ReadWrite");
    assert_eq!(call(&server, "GET", &format!("users/{MARY}/delegates"), &rob, None).0, 403);
    let bad_role = json!({"user": {"address": "rob@contoso.test"}, "permissions": {"calendar": "owner"}});
    assert_eq!(call(&server, "PATCH", &format!("me/delegates/{id}"), &mary, Some(&bad_role)).0, 400);
    let no_editor = json!({"permissions": {"calendar": "reviewer"}, "receiveCopiesOfMeetingMessages": true});
    let (status, err) = call(&server, "PATCH", &format!("me/delegates/{id}"), &mary, Some(&no_editor));
    assert_eq!(status, 400, "{err}");
    assert_eq!(call(&server, "POST", "me/delegates", &mary, Some(&body)).0, 409, "already a delegate");

    assert_eq!(call(&server, "DELETE", &format!("me/delegates/{id}"), &mary, None).0, 204);
    assert!(!shell_rows(&server).iter().any(|r| r.0 == "Rob"), "calendar entry gone");
    let tasks = server.json("Get-MailboxFolderPermission mary:\\Tasks");
    assert!(!tasks.iter().any(|r| r["User"] == "Rob"), "{tasks:?}");
    let sob = server.shell("(Get-Mailbox mary).GrantSendOnBehalfTo").expect_ok();
    assert!(!sob.to_lowercase().contains("rob"), "Send on Behalf removed: {sob}");
    let (_, list) = call(&server, "GET", "me/delegates", &mary, None);
    assert_eq!(list["value"], json!([]));
}

#[test]
fn bad_calendar_input_gets_graph_shaped_400s() {
    let (_dir, _sink, server) = org("gcal-bad", &mailboxes(&[("Mary", "mary")]));
    let mary = token(&server, "mary", OWN);
    let (status, err) = raw_request(&server, "POST", "me/events", &mary, "{\"subject\": ");
    assert_eq!((status, err["error"]["code"].as_str()), (400, Some("BadRequest")), "{err}");
    assert!(err["error"]["innerError"]["request-id"].is_string());
    let bad_time = json!({"subject": "x", "start": {"dateTime": "next tuesday", "timeZone": "UTC"},
                          "end": {"dateTime": "2026-12-01T10:00:00", "timeZone": "UTC"}});
    let (status, err) = call(&server, "POST", "me/events", &mary, Some(&bad_time));
    assert_eq!(status, 400, "{err}");
    let backwards = json!({"start": {"dateTime": "2026-12-01T10:00:00", "timeZone": "UTC"},
                           "end": {"dateTime": "2026-12-01T09:00:00", "timeZone": "UTC"}});
    let (status, err) = call(&server, "POST", "me/events", &mary, Some(&backwards));
    assert_eq!((status, err["error"]["code"].as_str()), (400, Some("ErrorCalendarEndDateIsEarlierThanStartDate")));
    let (status, err) = call(&server, "GET", "me/calendarView", &mary, None);
    assert_eq!((status, err["error"]["code"].as_str()), (400, Some("ErrorInvalidParameter")), "{err}");
    let (status, _) = call(
        &server,
        "GET",
        "me/calendarView?startDateTime=2026-12-02T00:00:00Z&endDateTime=2026-12-01T00:00:00Z",
        &mary,
        None,
    );
    assert_eq!(status, 400);
    let (status, _) = call(
        &server,
        "GET",
        "me/calendar/calendarView?startDateTime=2000-01-01T00:00:00Z&endDateTime=2030-01-01T00:00:00Z",
        &mary,
        None,
    );
    assert_eq!(status, 400, "windows are bounded");
    let mut unknown = backwards.clone();
    unknown["end"] = bad_time["end"].clone();
    unknown["frobnicate"] = json!(1);
    let (status, err) = call(&server, "POST", "me/events", &mary, Some(&unknown));
    assert_eq!((status, err["error"]["code"].as_str()), (400, Some("RequestBodyRead")));
    let (status, _) = call(
        &server,
        "POST",
        "me/calendar/calendarPermissions",
        &mary,
        Some(&json!({"emailAddress": {"address": MARY}, "role": "read"})),
    );
    assert_eq!(status, 400, "the owner can't share with herself");
    assert_eq!(call(&server, "GET", "me/events/not-an-id", &mary, None).0, 404);
    assert_eq!(call(&server, "POST", "me/events/not-an-id/accept", &mary, Some(&json!({}))).0, 404);
}
