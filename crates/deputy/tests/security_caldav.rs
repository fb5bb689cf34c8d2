//! Adversarial review of the CalDAV door against the real binary (spec §5,
//! §10): proxy groups changed by someone who does not manage the calendar,
//! multiget of another mailbox's hrefs or of private events, preconditions
//! and UID collisions used to overwrite what the caller may not edit, and
//! DELETE by Authors and Reviewers. Each denial is a regression test; the
//! Graph doors are in `security_doors.rs`.

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use support::{Server, TempDir, init};

const PW: &str = "Str0ng!Passw0rd";
const ICS: (&str, &str) = ("Content-Type", "text/calendar; charset=utf-8");
const XML: (&str, &str) = ("Content-Type", "application/xml");

/// One raw HTTP/1.1 request as `user`: (status, headers and body).
fn dav(server: &Server, user: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    support::basic_request(server, (&format!("{user}@contoso.test"), PW), method, path, headers, body)
}

fn event(uid: &str, summary: &str, extra: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261202T090000Z\r\nDTEND:20261202T100000Z\r\nSUMMARY:{summary}\r\n{extra}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn object(owner: &str, name: &str) -> String {
    format!("/dav/calendars/{owner}/calendar/{name}")
}

fn proxy_set(members: &[&str]) -> String {
    let hrefs: String = members.iter().map(|m| format!("<D:href>{m}</D:href>")).collect();
    format!(
        r#"<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:group-member-set>{hrefs}</D:group-member-set></D:prop></D:set></D:propertyupdate>"#
    )
}

fn multiget(hrefs: &[String]) -> String {
    let hrefs: String = hrefs.iter().map(|h| format!("<D:href>{h}</D:href>")).collect();
    format!(
        r#"<?xml version="1.0"?><C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>{hrefs}</C:calendar-multiget>"#
    )
}

#[test]
fn caldav_refuses_what_the_folder_role_does_not_allow() {
    let dir = TempDir::new("sec-caldav");
    assert!(init(&dir.0, "contoso.test").status.success());
    let server = Server::start(&dir.0);
    let mut script = String::new();
    for name in ["Mary", "Rob", "Aud", "Rita", "Uma", "Olive", "Hank"] {
        let alias = name.to_lowercase();
        script.push_str(&format!(
            "New-Mailbox -Name {name} -Alias {alias} -Password (ConvertTo-SecureString '{PW}' -AsPlainText -Force)\n"
        ));
    }
    script.push_str(
        "Add-MailboxFolderPermission mary:\\Calendar -User rob -AccessRights Editor -SharingPermissionFlags Delegate
Add-MailboxFolderPermission mary:\\Calendar -User aud -AccessRights Author
Add-MailboxFolderPermission mary:\\Calendar -User rita -AccessRights Reviewer
Set-Mailbox hank -HiddenFromAddressListsEnabled $true
",
    );
    server.shell(&script).expect_ok();
    let rows = || server.shell("Get-MailboxFolderPermission mary:\\Calendar | ConvertTo-Json").expect_ok();
    let create = [ICS, ("If-None-Match", "*")];
    for (owner, uid, summary, extra) in [
        ("mary", "board", "Board", ""),
        ("mary", "dentist", "Dentist secret", "CLASS:PRIVATE\r\n"),
        ("olive", "olives", "Olive secret", ""),
    ] {
        let (status, answer) =
            dav(&server, owner, "PUT", &object(owner, &format!("{uid}.ics")), &create, &event(uid, summary, extra));
        assert_eq!(status, 201, "{answer}");
    }
    let mary_sees = |name: &str| dav(&server, "mary", "GET", &object("mary", name), &[], "").1;

    // Proxy groups: only whoever manages the calendar's permissions.
    let before = rows();
    let write_group = "/dav/principals/mary/calendar-proxy-write/";
    let promote = proxy_set(&["/dav/principals/rob/", "/dav/principals/uma/"]);
    for who in ["rob", "rita", "aud"] {
        let (status, answer) = dav(&server, who, "PROPPATCH", write_group, &[XML], &promote);
        assert!(status == 403 && answer.contains("write-acl"), "{who}: {answer}");
    }
    assert_eq!(dav(&server, "uma", "PROPPATCH", write_group, &[XML], &promote).0, 404, "not even visible");
    assert_eq!(rows(), before, "nothing changed");
    // The owner names a hidden mailbox: unknown by mailto: as by path.
    for href in ["/dav/principals/hank/", "mailto:hank@contoso.test"] {
        let (status, answer) = dav(&server, "mary", "PROPPATCH", write_group, &[XML], &proxy_set(&[href]));
        assert_eq!(status, 409, "{href}: {answer}");
    }
    assert_eq!(rows(), before, "nothing changed");

    // multiget: hrefs of another mailbox are not found; private is busy time.
    let asked = [object("mary", "board.ics"), object("mary", "dentist.ics"), object("olive", "olives.ics")];
    for who in ["rob", "uma"] {
        let report = [XML, ("Depth", "1")];
        let (status, answer) = dav(&server, who, "REPORT", "/dav/calendars/mary/calendar/", &report, &multiget(&asked));
        assert_eq!(status, 207, "{answer}");
        assert!(!answer.contains("secret"), "{who}: {answer}");
        assert!(answer.contains("404"), "{who}: Olive's href is not found: {answer}");
    }

    // Preconditions never turn a refusal into a write.
    let hijack = |uid: &str| event(uid, "Hijacked", "");
    let etag = dav(&server, "rob", "GET", &object("mary", "dentist.ics"), &[], "")
        .1
        .lines()
        .find_map(|l| l.strip_prefix("etag: ").or_else(|| l.strip_prefix("ETag: ")).map(str::to_owned))
        .expect("an ETag");
    for (who, name, uid) in
        [("rob", "dentist.ics", "dentist"), ("rita", "board.ics", "board"), ("aud", "board.ics", "board")]
    {
        for pre in [("If-Match", "*"), ("If-Match", etag.as_str()), ("If-None-Match", "\"nope\"")] {
            let (status, answer) = dav(&server, who, "PUT", &object("mary", name), &[ICS, pre], &hijack(uid));
            assert!(status == 403 || status == 412, "{who} {pre:?}: {answer}");
        }
        let (status, answer) = dav(&server, who, "DELETE", &object("mary", name), &[("If-Match", "*")], "");
        assert_eq!(status, 403, "{who} deletes {name}: {answer}");
    }
    // A new resource whose UID is an event the caller may not change.
    for (who, uid) in [("rob", "dentist"), ("rita", "board"), ("aud", "board"), ("uma", "board")] {
        let (status, answer) = dav(&server, who, "PUT", &object("mary", "fresh.ics"), &create, &hijack(uid));
        assert!(status == 403 || status == 404, "{who} collides with {uid}: {answer}");
        assert!(!answer.contains("secret"), "{answer}");
    }
    assert!(mary_sees("board.ics").contains("SUMMARY:Board\r\n"), "{}", mary_sees("board.ics"));
    assert!(mary_sees("dentist.ics").contains("SUMMARY:Dentist secret"), "{}", mary_sees("dentist.ics"));
    assert_eq!(dav(&server, "mary", "GET", &object("mary", "fresh.ics"), &[], "").0, 404);

    // The Author's own event is its to change and delete.
    let (status, _) = dav(&server, "aud", "PUT", &object("mary", "auds.ics"), &create, &event("auds", "Aud's", ""));
    assert_eq!(status, 201);
    assert_eq!(dav(&server, "rita", "DELETE", &object("mary", "auds.ics"), &[], "").0, 403);
    assert_eq!(dav(&server, "aud", "DELETE", &object("mary", "auds.ics"), &[], "").0, 204);
}
