//! The CalDAV door against a real client library: Python's `caldav` from
//! PyPI (installed once per target dir into a virtual environment; a machine
//! without PyPI fails this test, it does not skip it). Rob, Mary's calendar
//! delegate, finds her calendar through `calendar-proxy-write-for`, lists
//! and creates events; a Reviewer reads but may not create; a private event
//! shows only busy time until `CanViewPrivateItems`; proxy groups written
//! over CalDAV are the folder entries the shell shows; bad input gets clear
//! errors quickly (spec §5, §10; issue 9). Free/busy (`free-busy-query`,
//! the RFC 6638 outbox lookup) is checked with raw HTTP requests.

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{Server, TempDir, init};

const PW: &str = "Str0ng!Passw0rd";

/// The client release this test pins.
const CALDAV: &str = "caldav==2.2.6";

/// The interpreter of a virtual environment with [`CALDAV`].
fn client_python() -> PathBuf {
    support::python::venv_with("caldav-venv", CALDAV)
}

/// Runs `caldav_client.py` as `user`; its output lines.
fn client(python: &Path, server: &Server, user: &str, args: &[&str]) -> Vec<String> {
    let out = Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/caldav_client.py"))
        .args([&server.url, user, PW])
        .args(args)
        .output()
        .expect("run caldav_client.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "caldav_client.py {args:?} as {user} failed:\nstdout: {stdout}\nstderr: {stderr}");
    stdout.lines().map(str::to_owned).collect()
}

const MARY: &str = "/dav/principals/mary/";

#[test]
fn caldav_client_works_through_calendar_proxies() {
    let python = client_python();
    let dir = TempDir::new("caldav");
    assert!(init(&dir.0, "contoso.test").status.success());
    let server = Server::start(&dir.0);
    let mut script = String::new();
    for name in ["Mary", "Rob", "Megan", "Ann"] {
        let alias = name.to_lowercase();
        script.push_str(&format!(
            "New-Mailbox -Name {name} -Alias {alias} -Password (ConvertTo-SecureString '{PW}' -AsPlainText -Force)\n"
        ));
    }
    script.push_str(
        "Add-MailboxFolderPermission mary:\\Calendar -User rob -AccessRights Editor -SharingPermissionFlags Delegate\n",
    );
    script.push_str("Add-MailboxFolderPermission mary:\\Calendar -User megan -AccessRights Reviewer\n");
    server.shell(&script).expect_ok();

    // Mary fills her own calendar, one event private.
    assert_eq!(client(&python, &server, "mary", &["create", MARY, "board", "Board meeting"]), ["created"]);
    assert_eq!(client(&python, &server, "mary", &["create", MARY, "dentist", "Dentist", "private"]), ["created"]);

    // Rob, a write proxy (Editor + Delegate), finds her and works in her calendar.
    let found = client(&python, &server, "rob", &["discover"]);
    assert!(found.iter().any(|l| l == &format!("write-for: {MARY}")), "{found:?}");
    let listed = client(&python, &server, "rob", &["list", MARY]);
    assert_eq!(listed, ["event: Board meeting", "event: Private Appointment"], "private events are busy time");
    assert_eq!(client(&python, &server, "rob", &["create", MARY, "robs", "Booked by Rob"]), ["created"]);
    let as_mary = client(&python, &server, "mary", &["list", MARY]);
    assert_eq!(as_mary, ["event: Board meeting", "event: Booked by Rob", "event: Dentist"]);

    // Megan, a read proxy (Reviewer), lists but may not create.
    let found = client(&python, &server, "megan", &["discover"]);
    assert!(found.iter().any(|l| l == &format!("read-for: {MARY}")), "{found:?}");
    assert!(!found.iter().any(|l| l.starts_with("write-for")), "{found:?}");
    assert_eq!(client(&python, &server, "megan", &["list", MARY]).len(), 3);
    let refused = client(&python, &server, "megan", &["create", MARY, "megs", "Megan's"]);
    assert!(refused.len() == 1 && refused[0].starts_with("refused") && refused[0].contains("Forbidden"), "{refused:?}");

    // With CanViewPrivateItems Rob sees the private event in full.
    server
        .shell("Set-MailboxFolderPermission mary:\\Calendar -User rob -AccessRights Editor -SharingPermissionFlags Delegate,CanViewPrivateItems")
        .expect_ok();
    let listed = client(&python, &server, "rob", &["list", MARY]);
    assert_eq!(listed, ["event: Board meeting", "event: Booked by Rob", "event: Dentist"]);

    // Proxy groups are folder entries: Mary adds Ann as a read proxy over
    // CalDAV, the shell shows Ann as Reviewer; only the owner may do it.
    let set =
        client(&python, &server, "mary", &["proxy", MARY, "read", "/dav/principals/megan/", "/dav/principals/ann/"]);
    assert_eq!(set, ["proxy: 207"]);
    let rows = server.shell("Get-MailboxFolderPermission mary:\\Calendar -User ann").expect_ok();
    assert!(rows.contains("Reviewer"), "{rows}");
    let denied = client(&python, &server, "megan", &["proxy", MARY, "read", "/dav/principals/megan/"]);
    assert_eq!(denied, ["proxy: 403"]);

    // Bad input: clear errors, quickly, and the server keeps serving.
    let lines = client(&python, &server, "mary", &["hostile", MARY]);
    let line = |name: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("{name}: ")))
            .cloned()
            .unwrap_or_else(|| panic!("{name}: {lines:?}"))
    };
    let fields = |name: &str| line(name).split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    let quick = |name: &str| {
        let f = fields(name);
        let secs: f64 = f[2].parse().expect("seconds");
        assert!(secs < 10.0, "{name} took {secs}s: {lines:?}");
        f[1].clone()
    };
    assert_eq!(quick("malformed"), "403", "{lines:?}");
    assert!(line("malformed").ends_with("valid-calendar-data"), "{lines:?}");
    assert_eq!(quick("endless-put"), "201", "{lines:?}");
    assert_eq!(quick("query"), "207", "{lines:?}");
    assert_eq!(line("query-endless-found"), "query-endless-found: True");
    assert_eq!(quick("attendees"), "403", "5,000 attendees are over the limit: {lines:?}");
    assert_eq!(quick("deep-xml"), "400", "{lines:?}");
    assert_eq!(client(&python, &server, "mary", &["list", MARY]).len(), 4, "the server still answers");
}

/// One raw HTTP/1.1 request as `user`: (status, body).
fn dav(server: &Server, user: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let login = format!("{user}@contoso.test");
    let (status, answer) = support::basic_request(server, (&login, PW), method, path, headers, body);
    (status, answer.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default())
}

fn event(uid: &str, hour: u32, extra: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261202T{hour:02}0000Z\r\nDTEND:20261202T{:02}0000Z\r\nSUMMARY:Secret {uid}\r\n{extra}END:VEVENT\r\nEND:VCALENDAR\r\n",
        hour + 1
    )
}

fn free_busy_query(start: &str, end: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="{start}" end="{end}"/></C:free-busy-query>"#
    )
}

fn lookup(organizer: &str, attendees: &[&str]) -> String {
    let attendees: String = attendees.iter().map(|a| format!("ATTENDEE:mailto:{a}\r\n")).collect();
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nMETHOD:REQUEST\r\nBEGIN:VFREEBUSY\r\nUID:lookup-1\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261202T000000Z\r\nDTEND:20261203T000000Z\r\nORGANIZER:mailto:{organizer}\r\n{attendees}END:VFREEBUSY\r\nEND:VCALENDAR\r\n"
    )
}

#[test]
fn free_busy_is_answered_by_query_and_by_outbox_lookup() {
    let dir = TempDir::new("caldav-freebusy");
    assert!(init(&dir.0, "contoso.test").status.success());
    let server = Server::start(&dir.0);
    let mut script = String::new();
    for name in ["Mary", "Rob", "Sam", "Hank"] {
        let alias = name.to_lowercase();
        script.push_str(&format!(
            "New-Mailbox -Name {name} -Alias {alias} -Password (ConvertTo-SecureString '{PW}' -AsPlainText -Force)\n"
        ));
    }
    script.push_str("Set-MailboxFolderPermission sam:\\Calendar -User Default -AccessRights None\n");
    script.push_str("Set-Mailbox hank -HiddenFromAddressListsEnabled $true\n");
    server.shell(&script).expect_ok();
    let put = [("Content-Type", "text/calendar; charset=utf-8"), ("If-None-Match", "*")];
    for (uid, hour, extra) in [
        ("dentist", 9, "CLASS:PRIVATE\r\n"),
        ("maybe", 11, "STATUS:TENTATIVE\r\n"),
        ("reminder", 13, "TRANSP:TRANSPARENT\r\n"),
    ] {
        let path = format!("/dav/calendars/mary/calendar/{uid}.ics");
        let (status, body) = dav(&server, "mary", "PUT", &path, &put, &event(uid, hour, extra));
        assert_eq!(status, 201, "{body}");
    }
    let (status, _) = dav(&server, "sam", "PUT", "/dav/calendars/sam/calendar/s.ics", &put, &event("sams", 9, ""));
    assert_eq!(status, 201);

    // Rob, a colleague with only the Default AvailabilityOnly entry.
    let report = [("Content-Type", "application/xml"), ("Depth", "1")];
    let day = free_busy_query("20261202T000000Z", "20261203T000000Z");
    let (status, ics) = dav(&server, "rob", "REPORT", "/dav/calendars/mary/calendar/", &report, &day);
    assert_eq!(status, 200, "{ics}");
    assert!(ics.contains("BEGIN:VFREEBUSY"), "{ics}");
    assert!(ics.contains("FREEBUSY;FBTYPE=BUSY:20261202T090000Z/20261202T100000Z"), "{ics}");
    assert!(ics.contains("FREEBUSY;FBTYPE=BUSY-TENTATIVE:20261202T110000Z/20261202T120000Z"), "{ics}");
    assert_eq!(ics.matches("FREEBUSY;").count(), 2, "free time is not listed: {ics}");
    assert!(!ics.contains("Secret"), "{ics}");
    // Sam's Default is None: his calendar is not there for Rob.
    let (status, _) = dav(&server, "rob", "REPORT", "/dav/calendars/sam/calendar/", &report, &day);
    assert_eq!(status, 404);
    let long = free_busy_query("20261201T000000Z", "20270301T000000Z");
    let (status, body) = dav(&server, "rob", "REPORT", "/dav/calendars/mary/calendar/", &report, &long);
    assert!(status == 403 && body.contains("valid-filter"), "{status} {body}");

    // RFC 6638 lookup through Rob's outbox: one answer per attendee.
    let post = [("Content-Type", "text/calendar; charset=utf-8")];
    let asked = lookup(
        "rob@contoso.test",
        &["mary@contoso.test", "sam@contoso.test", "hank@contoso.test", "nobody@contoso.test"],
    );
    let (status, xml) = dav(&server, "rob", "POST", "/dav/calendars/rob/outbox/", &post, &asked);
    assert_eq!(status, 200, "{xml}");
    assert!(xml.contains("schedule-response"), "{xml}");
    let responses: Vec<&str> = xml.split("<C:response>").skip(1).collect();
    assert_eq!(responses.len(), 4, "{xml}");
    assert!(responses[0].contains("mailto:mary@contoso.test") && responses[0].contains("2.0;Success"), "{xml}");
    assert!(responses[0].contains("FBTYPE=BUSY:20261202T090000Z/20261202T100000Z"), "{xml}");
    assert!(responses[0].contains("METHOD:REPLY") && responses[0].contains("UID:lookup-1"), "{xml}");
    assert!(responses[1].contains("3.8;No authority") && !responses[1].contains("calendar-data"), "{xml}");
    assert!(responses[2].contains("3.7;Invalid calendar user"), "hidden is unknown: {xml}");
    assert!(responses[3].contains("3.7;Invalid calendar user"), "{xml}");
    assert!(!xml.contains("Secret"));
    // Only the outbox's owner organizes its lookups; others' outboxes are not there.
    let (status, body) = dav(
        &server,
        "rob",
        "POST",
        "/dav/calendars/rob/outbox/",
        &post,
        &lookup("mary@contoso.test", &["sam@contoso.test"]),
    );
    assert!(status == 403 && body.contains("organizer-allowed"), "{status} {body}");
    assert_eq!(dav(&server, "rob", "POST", "/dav/calendars/mary/outbox/", &post, &asked).0, 404);
    let (status, body) = dav(&server, "rob", "POST", "/dav/calendars/rob/outbox/", &post, "BEGIN:VCALENDAR");
    assert!(status == 400 && body.contains("valid-calendar-data"), "{status} {body}");
}
