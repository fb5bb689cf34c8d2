//! Calendars below a mailbox's primary Calendar over CalDAV, against the
//! real binary: MKCALENDAR (RFC 4791 §5.3.1) makes a folder the shell sees,
//! the calendar home lists every calendar the caller may see, each with its
//! own folder permissions (a 404 for whoever has none there, a 403 for a
//! Reviewer's PUT), DELETE removes a calendar but never the primary, and a
//! calendar-query with `expand` (RFC 4791 §9.6.5) returns a series as its
//! instances. Python's `caldav` (pinned, from PyPI) makes a calendar at a URL
//! of its own choosing and finds it again.

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use std::path::Path;
use std::process::Command;

use support::{Server, TempDir, init};

const PW: &str = "Str0ng!Passw0rd";
const ICS: (&str, &str) = ("Content-Type", "text/calendar; charset=utf-8");
const XML: (&str, &str) = ("Content-Type", "application/xml");
const HOME: &str = "/dav/calendars/mary/";

/// One raw HTTP/1.1 request as `user`: (status, body).
fn dav(server: &Server, user: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let login = format!("{user}@contoso.test");
    let (status, answer) = support::basic_request(server, (&login, PW), method, path, headers, body);
    (status, answer.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default())
}

fn event(uid: &str, summary: &str, extra: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261202T090000Z\r\nDTEND:20261202T100000Z\r\nSUMMARY:{summary}\r\n{extra}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn mkcalendar(name: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>{name}</D:displayname><C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>"#
    )
}

/// A calendar-query for events overlapping `[start, end)`; `data` goes
/// inside `calendar-data` (e.g. an `expand`).
fn query(start: &str, end: &str, data: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data>{data}</C:calendar-data></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="{start}" end="{end}"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"#
    )
}

const LISTING: &str = r#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/"><D:prop><D:resourcetype/><D:displayname/><CS:getctag/><D:current-user-privilege-set/><C:supported-calendar-component-set/></D:prop></D:propfind>"#;

/// The calendars a home listing shows: (href, its whole response).
fn calendars(listing: &str) -> Vec<(String, String)> {
    listing
        .split("<D:response>")
        .skip(1)
        .filter(|r| r.contains("<C:calendar/>"))
        .map(|r| {
            let href = r.split("<D:href>").nth(1).and_then(|h| h.split("</D:href>").next()).unwrap_or_default();
            (href.to_owned(), r.to_owned())
        })
        .collect()
}

fn setup(name: &str, people: &[&str]) -> (TempDir, Server) {
    let dir = TempDir::new(name);
    assert!(init(&dir.0, "contoso.test").status.success());
    let server = Server::start(&dir.0);
    let mut script = String::new();
    for name in people {
        let alias = name.to_lowercase();
        script.push_str(&format!(
            "New-Mailbox -Name {name} -Alias {alias} -Password (ConvertTo-SecureString '{PW}' -AsPlainText -Force)\n"
        ));
    }
    server.shell(&script).expect_ok();
    (dir, server)
}

#[test]
fn calendars_are_made_listed_shared_and_removed_as_folders() {
    let (_dir, server) = setup("caldav-calendars", &["Mary", "Rob"]);
    server.shell("Add-MailboxFolderPermission mary:\\Calendar -User rob -AccessRights Editor").expect_ok();

    // Mary makes "Projects"; the shell sees the folder below her Calendar.
    let projects_by_name = "/dav/calendars/mary/projects/";
    let (status, body) = dav(&server, "mary", "MKCALENDAR", projects_by_name, &[XML], &mkcalendar("Projects"));
    assert_eq!(status, 201, "{body}");
    server.shell("Get-MailboxFolderPermission 'mary:\\Calendar\\Projects'").expect_ok();

    // Her home lists the primary and Projects, each a calendar of its own.
    let (status, listing) = dav(&server, "mary", "PROPFIND", HOME, &[XML, ("Depth", "1")], LISTING);
    assert_eq!(status, 207, "{listing}");
    let cals = calendars(&listing);
    assert_eq!(cals.len(), 2, "{listing}");
    assert_eq!(cals[0].0, "/dav/calendars/mary/calendar/");
    let (projects, shown) = &cals[1];
    assert!(shown.contains("<D:displayname>Projects</D:displayname>"), "{shown}");
    assert!(shown.contains("<CS:getctag>") && shown.contains("<C:comp name=\"VEVENT\"/>"), "{shown}");
    assert!(shown.contains("<D:write/>"), "the owner may do everything: {shown}");
    assert_ne!(projects, projects_by_name, "listed at its folder id, which survives renames");

    // An event put there is found there, not in the primary.
    let kickoff = format!("{projects}kickoff.ics");
    let (status, body) = dav(&server, "mary", "PUT", &kickoff, &[ICS], &event("kickoff", "Kickoff", ""));
    assert_eq!(status, 201, "{body}");
    let day = query("20261202T000000Z", "20261203T000000Z", "");
    let report = [XML, ("Depth", "1")];
    let (status, found) = dav(&server, "mary", "REPORT", projects, &report, &day);
    assert!(status == 207 && found.contains("kickoff.ics") && found.contains("SUMMARY:Kickoff"), "{found}");
    let (_, primary) = dav(&server, "mary", "REPORT", "/dav/calendars/mary/calendar/", &report, &day);
    assert!(!primary.contains("kickoff"), "{primary}");
    // The name URL the calendar was made at names the same calendar.
    let by_name = format!("{projects_by_name}kickoff.ics");
    assert_eq!(dav(&server, "mary", "GET", &by_name, &[], "").0, 200);
    let multiget = |href: &str| {
        format!(
            r#"<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data/></D:prop><D:href>{href}</D:href></C:calendar-multiget>"#
        )
    };
    let (status, got) = dav(&server, "mary", "REPORT", projects, &report, &multiget(&by_name));
    assert!(status == 207 && got.contains(&by_name) && got.contains("SUMMARY:Kickoff"), "{got}");
    let (_, got) = dav(&server, "mary", "REPORT", "/dav/calendars/mary/calendar/", &report, &multiget(&kickoff));
    assert!(got.contains("404 Not Found") && !got.contains("Kickoff"), "another calendar's href: {got}");

    // Rob, Editor on the primary only, neither sees Projects nor reaches into it.
    let (_, robs) = dav(&server, "rob", "PROPFIND", HOME, &[XML, ("Depth", "1")], LISTING);
    assert_eq!(calendars(&robs).len(), 1, "{robs}");
    assert_eq!(dav(&server, "rob", "GET", &kickoff, &[], "").0, 404);
    assert_eq!(dav(&server, "rob", "PROPFIND", projects, &[XML, ("Depth", "0")], LISTING).0, 404);
    assert_eq!(dav(&server, "rob", "REPORT", projects, &report, &day).0, 404);
    assert_eq!(dav(&server, "rob", "PUT", &format!("{projects}rob.ics"), &[ICS], &event("rob", "Rob", "")).0, 404);
    // Editor is no right to make calendars (CreateSubfolder) in her home.
    let (status, body) = dav(&server, "rob", "MKCALENDAR", "/dav/calendars/mary/robs/", &[XML], &mkcalendar("Robs"));
    assert!(status == 403 && body.contains("need-privileges"), "{status} {body}");

    // As Reviewer on Projects he sees and reads it, but may not write there.
    server
        .shell("Add-MailboxFolderPermission -Identity 'mary:\\Calendar\\Projects' -User rob -AccessRights Reviewer")
        .expect_ok();
    let (_, robs) = dav(&server, "rob", "PROPFIND", HOME, &[XML, ("Depth", "1")], LISTING);
    let robs = calendars(&robs);
    assert_eq!(robs.len(), 2, "{robs:?}");
    assert_eq!(&robs[1].0, projects);
    assert!(robs[1].1.contains("Mary – Projects") && !robs[1].1.contains("<D:bind/>"), "{robs:?}");
    let (status, got) = dav(&server, "rob", "GET", &kickoff, &[], "");
    assert!(status == 200 && got.contains("SUMMARY:Kickoff"), "{got}");
    let (status, body) = dav(&server, "rob", "PUT", &format!("{projects}rob.ics"), &[ICS], &event("rob", "Rob", ""));
    assert!(status == 403 && body.contains("need-privileges"), "{status} {body}");
    let busy = r#"<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="20261202T000000Z" end="20261203T000000Z"/></C:free-busy-query>"#;
    let (status, fb) = dav(&server, "rob", "REPORT", projects, &report, busy);
    assert!(status == 200 && fb.contains("FREEBUSY;FBTYPE=BUSY:20261202T090000Z/20261202T100000Z"), "{fb}");
    let sync = r#"<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:prop><D:getetag/></D:prop></D:sync-collection>"#;
    let (status, synced) = dav(&server, "rob", "REPORT", projects, &report, sync);
    assert!(status == 207 && synced.contains("kickoff.ics") && synced.contains("<D:sync-token>"), "{synced}");

    // MKCALENDAR where a calendar is, or of a name taken, is refused.
    let (status, body) = dav(&server, "mary", "MKCALENDAR", projects_by_name, &[XML], &mkcalendar("Projects"));
    assert!(status == 405 && body.contains("resource-must-be-null"), "{status} {body}");
    let (status, body) = dav(&server, "mary", "MKCALENDAR", "/dav/calendars/mary/p2/", &[XML], &mkcalendar("projects"));
    assert!(status == 405 && body.contains("resource-must-be-null"), "{status} {body}");
    assert_eq!(dav(&server, "mary", "MKCALENDAR", "/dav/calendars/mary/p3/", &[XML], "<C:mkcalendar").0, 400);
    // Properties Deputy can't keep fail the whole request, and nothing is made.
    let colour = r#"<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="http://apple.com/ns/ical/"><D:set><D:prop><D:displayname>Colours</D:displayname><A:calendar-color>#FF0000</A:calendar-color></D:prop></D:set></C:mkcalendar>"#;
    let (status, body) = dav(&server, "mary", "MKCALENDAR", "/dav/calendars/mary/colours/", &[XML], colour);
    assert!(status == 207 && body.contains("403 Forbidden") && body.contains("424 Failed Dependency"), "{body}");
    server.shell("Get-MailboxFolderPermission 'mary:\\Calendar\\Colours'").expect_err();

    // PROPPATCH of the displayname renames the folder; the primary keeps its name.
    let rename = r#"<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Projects 2026</D:displayname></D:prop></D:set></D:propertyupdate>"#;
    let (status, body) = dav(&server, "mary", "PROPPATCH", projects, &[XML], rename);
    assert!(status == 207 && body.contains("200 OK"), "{body}");
    server.shell("Get-MailboxFolderPermission 'mary:\\Calendar\\Projects 2026'").expect_ok();
    let (status, body) = dav(&server, "mary", "PROPPATCH", "/dav/calendars/mary/calendar/", &[XML], rename);
    assert!(status == 207 && body.contains("403 Forbidden"), "{body}");

    // DELETE: never the primary; Projects with its events.
    let (status, body) = dav(&server, "mary", "DELETE", "/dav/calendars/mary/calendar/", &[], "");
    assert!(status == 403 && body.contains("need-privileges"), "{status} {body}");
    assert_eq!(dav(&server, "rob", "DELETE", projects, &[], "").0, 403, "a Reviewer removes nothing");
    assert_eq!(dav(&server, "mary", "DELETE", projects, &[], "").0, 204);
    assert_eq!(dav(&server, "mary", "GET", &kickoff, &[], "").0, 404);
    let (_, listing) = dav(&server, "mary", "PROPFIND", HOME, &[XML, ("Depth", "1")], LISTING);
    assert_eq!(calendars(&listing).len(), 1, "{listing}");
    server.shell("Get-MailboxFolderPermission 'mary:\\Calendar\\Projects 2026'").expect_err();
}

#[test]
fn expand_returns_a_series_as_its_instances_in_utc() {
    let (_dir, server) = setup("caldav-expand", &["Mary"]);
    let weekly = event("weekly", "Standup", "RRULE:FREQ=WEEKLY;COUNT=10\r\n")
        .replace("DTSTART:20261202T090000Z", "DTSTART;TZID=Europe/Berlin:20261202T100000")
        .replace("DTEND:20261202T100000Z", "DTEND;TZID=Europe/Berlin:20261202T110000");
    let path = "/dav/calendars/mary/calendar/weekly.ics";
    assert_eq!(dav(&server, "mary", "PUT", path, &[ICS], &weekly).0, 201);

    // Three weeks of a weekly series: three instances (RFC 4791 §9.6.5).
    let (start, end) = ("20261201T000000Z", "20261222T000000Z");
    let expanded = query(start, end, &format!(r#"<C:expand start="{start}" end="{end}"/>"#));
    let (status, body) =
        dav(&server, "mary", "REPORT", "/dav/calendars/mary/calendar/", &[XML, ("Depth", "1")], &expanded);
    assert_eq!(status, 207, "{body}");
    assert_eq!(body.matches("BEGIN:VEVENT").count(), 3, "{body}");
    for day in ["02", "09", "16"] {
        assert!(body.contains(&format!("RECURRENCE-ID:202612{day}T090000Z")), "{body}");
        assert!(body.contains(&format!("DTSTART:202612{day}T090000Z")), "{body}");
    }
    assert!(!body.contains("RRULE") && !body.contains("TZID"), "{body}");
    assert!(body.contains("weekly.ics"), "the href is the series' own: {body}");
    // Without expand, the series comes back as stored.
    let (_, stored) =
        dav(&server, "mary", "REPORT", "/dav/calendars/mary/calendar/", &[XML, ("Depth", "1")], &query(start, end, ""));
    assert!(stored.contains("RRULE:FREQ=WEEKLY;COUNT=10") && stored.matches("BEGIN:VEVENT").count() == 1, "{stored}");
    let bad = query(start, end, &format!(r#"<C:expand start="{start}"/>"#));
    assert_eq!(dav(&server, "mary", "REPORT", "/dav/calendars/mary/calendar/", &[XML, ("Depth", "1")], &bad).0, 400);
}

/// Runs `caldav_calendars.py` as `user`; its output lines.
fn client(server: &Server, user: &str, args: &[&str]) -> Vec<String> {
    let python = support::python::venv_with("caldav-venv", "caldav==2.2.6");
    let out = Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/caldav_calendars.py"))
        .args([&server.url, user, PW])
        .args(args)
        .output()
        .expect("run caldav_calendars.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "caldav_calendars.py {args:?} as {user} failed:\nstdout: {stdout}\nstderr: {stderr}");
    stdout.lines().map(str::to_owned).collect()
}

#[test]
fn caldav_client_makes_and_lists_calendars() {
    let (dir, server) = setup("caldav-calendars-client", &["Mary"]);
    let (status, _) =
        dav(&server, "mary", "MKCALENDAR", "/dav/calendars/mary/projects/", &[XML], &mkcalendar("Projects"));
    assert_eq!(status, 201);
    assert_eq!(client(&server, "mary", &["calendars"]), ["calendar: Calendar", "calendar: Projects"]);

    // The library makes "Trips" at a UUID of its own and keeps using that URL.
    let made = client(&server, "mary", &["make", "Trips", "lisbon", "Lisbon"]);
    let path = made.iter().find_map(|l| l.strip_prefix("path: ")).expect("the calendar's path").to_owned();
    let made: Vec<&str> = made.iter().map(String::as_str).filter(|l| !l.starts_with("path: ")).collect();
    assert_eq!(made, ["made: Trips", "saved: lisbon", "read: Lisbon", "found: Trips"]);
    assert!(path.starts_with("/dav/calendars/mary/") && !path.contains("Trips"), "{path}");
    assert_eq!(
        client(&server, "mary", &["calendars"]),
        ["calendar: Calendar", "calendar: Projects", "calendar: Trips"]
    );
    server.shell("Get-MailboxFolderPermission 'mary:\\Calendar\\Trips'").expect_ok();

    // The library's own URL names the calendar after a restart too: its
    // folder id derives from that URL, nothing was kept in memory.
    server.stop();
    let server = Server::start(&dir.0);
    let (status, listing) = dav(&server, "mary", "PROPFIND", &path, &[XML, ("Depth", "1")], "");
    assert_eq!(status, 207, "{listing}");
    assert!(listing.contains("Trips") && listing.contains("lisbon"), "{listing}");
}
