//! Adversarial review of the Graph calendar doors against the real binary
//! (spec §3, §5, §10; exchange-reference §3): who may list or change
//! `calendarPermissions`, `/me/delegates` and `mailboxSettings`, what
//! `getSchedule` shows, and whether events can be changed, deleted or found
//! (by `$filter`) by someone whose folder role does not allow it, or through
//! an id naming another mailbox's calendar. Each denial is kept as a
//! regression test: the rule is "nobody sends, reads or changes what their
//! permissions do not allow, through any door". CalDAV is in
//! `security_caldav.rs`.

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use serde_json::{Value, json};
use support::graph::{call, token_request, user_token};
use support::{Server, TempDir, init};

const PW: &str = "Str0ng!Passw0rd";
const MARY: &str = "mary@contoso.test";
const OWN: &str = "Calendars.ReadWrite MailboxSettings.ReadWrite Mail.ReadWrite";
/// Everything a delegated client could ask for to act in another mailbox.
const SHARED: &str = "Calendars.ReadWrite.Shared Mail.ReadWrite.Shared Mail.Send.Shared MailboxSettings.ReadWrite";

fn org(name: &str, people: &[&str], extra: &str) -> (TempDir, Server) {
    let dir = TempDir::new(name);
    assert!(init(&dir.0, "contoso.test").status.success());
    let server = Server::start(&dir.0);
    let mut script = String::new();
    for person in people {
        let alias = person.to_lowercase();
        script.push_str(&format!(
            "New-Mailbox -Name {person} -Alias {alias} -Password (ConvertTo-SecureString '{PW}' -AsPlainText -Force)\n"
        ));
    }
    script.push_str(extra);
    server.shell(&script).expect_ok();
    (dir, server)
}

fn token(server: &Server, alias: &str, scope: &str) -> String {
    user_token(server, &format!("{alias}@contoso.test"), PW, scope)
}

/// A client-credentials token for a new application holding `roles`.
fn app_token(server: &Server, roles: &[&str]) -> String {
    let app = server.json("New-ServicePrincipal -DisplayName Robot");
    let app_id = app[0]["AppId"].as_str().expect("AppId").to_owned();
    let secret = server.json(&format!("Add-MgApplicationPassword -ApplicationId {app_id}"));
    let secret = secret[0]["SecretText"].as_str().expect("SecretText").to_owned();
    for role in roles {
        server.shell(&format!("New-ManagementRoleAssignment -App {app_id} -Role 'Application {role}'")).expect_ok();
    }
    let (status, body) = token_request(
        server,
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
}

/// `Get-MailboxFolderPermission mary:\Calendar` as one comparable text.
fn calendar_rows(server: &Server) -> String {
    server.shell("Get-MailboxFolderPermission mary:\\Calendar | ConvertTo-Json -Depth 4").expect_ok()
}

fn ids(list: &Value) -> Vec<String> {
    list["value"]
        .as_array()
        .map(|v| v.iter().filter_map(|e| e["id"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

#[test]
fn calendar_permissions_are_managed_by_the_owner_only() {
    let extra =
        "Add-MailboxFolderPermission mary:\\Calendar -User rob -AccessRights Editor -SharingPermissionFlags Delegate
Add-MailboxFolderPermission mary:\\Calendar -User rita -AccessRights Reviewer
Add-MailboxFolderPermission olive:\\Calendar -User rob -AccessRights Reviewer
Add-MailboxPermission -Identity mary -User fiona -AccessRights FullAccess -AutoMapping $false
";
    let (_dir, server) = org("sec-perms", &["Mary", "Rob", "Rita", "Uma", "Fiona", "Olive"], extra);
    let mary = token(&server, "mary", OWN);
    let (status, list) = call(&server, "GET", "me/calendar/calendarPermissions", &mary, None);
    assert_eq!(status, 200, "{list}");
    let entry_ids = ids(&list);
    assert_eq!(entry_ids.len(), 3, "Default, Rob, Rita: {list}");
    let rob_entry = list["value"]
        .as_array()
        .and_then(|v| v.iter().find(|e| e["emailAddress"]["address"] == "rob@contoso.test"))
        .and_then(|e| e["id"].as_str())
        .expect("Rob's entry")
        .to_owned();
    let before = calendar_rows(&server);
    let base = format!("users/{MARY}/calendar/calendarPermissions");

    // The delegate, a Reviewer and an unrelated colleague: an empty list,
    // no single entry, and no change, least of all to their own entry.
    for who in ["rob", "rita", "uma"] {
        let t = token(&server, who, SHARED);
        let (status, list) = call(&server, "GET", &base, &t, None);
        assert_eq!((status, list["value"].clone()), (200, json!([])), "{who}: {list}");
        for id in &entry_ids {
            assert_eq!(call(&server, "GET", &format!("{base}/{id}"), &t, None).0, 404, "{who} reads {id}");
            let escalate = json!({"role": "delegateWithPrivateEventAccess"});
            let (status, _) = call(&server, "PATCH", &format!("{base}/{id}"), &t, Some(&escalate));
            assert_eq!(status, 403, "{who} patches {id}");
            assert_eq!(call(&server, "DELETE", &format!("{base}/{id}"), &t, None).0, 403, "{who} deletes {id}");
        }
        let myself = json!({"emailAddress": {"address": format!("{who}@contoso.test")}, "role": "delegateWithPrivateEventAccess"});
        assert_eq!(call(&server, "POST", &base, &t, Some(&myself)).0, 403, "{who} adds itself");
        // Their own mailbox's scopes do not open Mary's either.
        let own = token(&server, who, OWN);
        assert_eq!(call(&server, "GET", &base, &own, None).0, 403, "{who} without .Shared");
        assert_eq!(call(&server, "POST", &base, &own, Some(&myself)).0, 403, "{who} without .Shared");
    }
    assert_eq!(calendar_rows(&server), before, "nothing changed");

    // An id is a user, never a folder: Mary's id for Rob, sent to Olive's
    // calendar, changes nothing there (Mary does not manage Olive's).
    let on_olive = format!("users/olive@contoso.test/calendar/calendarPermissions/{rob_entry}");
    assert_eq!(
        call(&server, "PATCH", &on_olive, &token(&server, "mary", SHARED), Some(&json!({"role": "write"}))).0,
        403
    );
    assert_eq!(call(&server, "DELETE", &on_olive, &token(&server, "mary", SHARED), None).0, 403);
    let olive = server.shell("Get-MailboxFolderPermission olive:\\Calendar -User rob").expect_ok();
    assert!(olive.contains("Reviewer") && !olive.contains("Editor"), "{olive}");
    // The owner can't make herself a delegate of her own calendar.
    let herself = json!({"emailAddress": {"address": MARY}, "role": "write"});
    let (status, err) = call(&server, "POST", "me/calendar/calendarPermissions", &mary, Some(&herself));
    assert_eq!((status, err["error"]["code"].as_str()), (400, Some("ErrorInvalidUser")), "{err}");

    // An application: Calendars.Read lists (Graph's least privilege for the
    // list) but changes nothing; MailboxSettings roles alone open nothing.
    let reader = app_token(&server, &["Calendars.Read"]);
    assert_eq!(call(&server, "GET", &base, &reader, None).0, 200);
    let add_uma = json!({"emailAddress": {"address": "uma@contoso.test"}, "role": "write"});
    assert_eq!(call(&server, "POST", &base, &reader, Some(&add_uma)).0, 403);
    let rob_url = format!("{base}/{rob_entry}");
    assert_eq!(call(&server, "PATCH", &rob_url, &reader, Some(&json!({"role": "read"}))).0, 403);
    assert_eq!(call(&server, "DELETE", &rob_url, &reader, None).0, 403);
    let settings_only = app_token(&server, &["MailboxSettings.ReadWrite"]);
    assert_eq!(call(&server, "GET", &base, &settings_only, None).0, 403);
    assert_eq!(call(&server, "POST", &base, &settings_only, Some(&add_uma)).0, 403);
    assert_eq!(calendar_rows(&server), before, "nothing changed");

    // Full Access is Owner on every folder (spec §5), FolderOwner included,
    // as IMAP SETACL and CalDAV proxies already allow: Fiona manages them.
    let fiona = token(&server, "fiona", SHARED);
    let (status, list) = call(&server, "GET", &base, &fiona, None);
    assert_eq!((status, ids(&list).len()), (200, 3), "{list}");
}

#[test]
fn delegates_and_mailbox_settings_are_the_owners_alone() {
    let extra =
        "Add-MailboxFolderPermission mary:\\Calendar -User rob -AccessRights Editor -SharingPermissionFlags Delegate
Add-MailboxPermission -Identity mary -User fiona -AccessRights FullAccess -AutoMapping $false
Set-Mailbox hank -HiddenFromAddressListsEnabled $true
New-DistributionGroup -Name Team -Alias team -Members rob
";
    let (_dir, server) = org("sec-delegates", &["Mary", "Rob", "Fiona", "Uma", "Hank"], extra);
    let base = format!("users/{MARY}/delegates");
    let settings = format!("users/{MARY}/mailboxSettings");
    let grant = |who: &str| json!({"user": {"address": format!("{who}@contoso.test")}, "permissions": {"calendar": "editor", "inbox": "editor"}, "canViewPrivateItems": true});
    let send_on_behalf = || server.shell("(Get-Mailbox mary).GrantSendOnBehalfTo").expect_ok();
    let before = (calendar_rows(&server), send_on_behalf());
    let mary = token(&server, "mary", OWN);
    let (status, list) = call(&server, "GET", "me/delegates", &mary, None);
    assert_eq!(status, 200, "{list}");
    let rob_id = ids(&list).pop().expect("Rob, a calendar delegate, is listed");

    // The delegate, Full Access and a stranger: no list, no self-promotion,
    // no Send on Behalf on a mailbox they do not own, no settings.
    for who in ["rob", "fiona", "uma"] {
        let t = token(&server, who, SHARED);
        assert_eq!(call(&server, "GET", &base, &t, None).0, 403, "{who} lists");
        assert_eq!(call(&server, "POST", &base, &t, Some(&grant(who))).0, 403, "{who} adds itself");
        let patch = json!({"canViewPrivateItems": true});
        assert_eq!(call(&server, "PATCH", &format!("{base}/{rob_id}"), &t, Some(&patch)).0, 403, "{who}");
        assert_eq!(call(&server, "DELETE", &format!("{base}/{rob_id}"), &t, None).0, 403, "{who}");
        let (status, err) = call(&server, "GET", &settings, &t, None);
        assert_eq!((status, err["error"]["code"].as_str()), (403, Some("ErrorAccessDenied")), "{who}: {err}");
        let change = json!({"delegateMeetingMessageDeliveryOptions": "sendToDelegateAndPrincipal"});
        assert_eq!(call(&server, "PATCH", &settings, &t, Some(&change)).0, 403, "{who}");
    }
    // An application manages nobody's delegates, and Calendars roles do
    // not open mailbox settings.
    let app = app_token(&server, &["MailboxSettings.ReadWrite"]);
    assert_eq!(call(&server, "GET", &base, &app, None).0, 403);
    assert_eq!(call(&server, "POST", &base, &app, Some(&grant("uma"))).0, 403);
    let calendars = app_token(&server, &["Calendars.ReadWrite"]);
    assert_eq!(call(&server, "GET", &settings, &calendars, None).0, 403);
    let change = json!({"delegateMeetingMessageDeliveryOptions": "sendToDelegateAndPrincipal"});
    assert_eq!(call(&server, "PATCH", &settings, &calendars, Some(&change)).0, 403);
    assert_eq!((calendar_rows(&server), send_on_behalf()), before, "nothing changed");

    // Mary herself: a group or a hidden mailbox is not a delegate (a hidden
    // one answers exactly like an address nobody has).
    for who in ["team", "hank", "nobody"] {
        let (status, err) = call(&server, "POST", "me/delegates", &mary, Some(&grant(who)));
        assert_eq!((status, err["error"]["code"].as_str()), (400, Some("ErrorInvalidUser")), "{who}: {err}");
    }
    let hidden = json!({"emailAddress": {"address": "hank@contoso.test"}, "role": "read"});
    let (status, err) = call(&server, "POST", "me/calendar/calendarPermissions", &mary, Some(&hidden));
    assert_eq!((status, err["error"]["code"].as_str()), (400, Some("ErrorInvalidUser")), "{err}");
    assert_eq!((calendar_rows(&server), send_on_behalf()), before, "nothing changed");
}

/// A Graph event body.
fn event(subject: &str, hour: u32, private: bool) -> Value {
    let mut e = json!({
        "subject": subject,
        "location": {"displayName": format!("{subject} room")},
        "start": {"dateTime": format!("2026-12-02T{hour:02}:00:00"), "timeZone": "UTC"},
        "end": {"dateTime": format!("2026-12-02T{:02}:00:00", hour + 1), "timeZone": "UTC"},
    });
    if private {
        e["sensitivity"] = json!("private");
    }
    e
}

#[test]
fn events_change_only_as_the_folder_role_allows_and_filters_never_leak() {
    let extra =
        "Add-MailboxFolderPermission mary:\\Calendar -User rob -AccessRights Editor -SharingPermissionFlags Delegate
Add-MailboxFolderPermission mary:\\Calendar -User aud -AccessRights Author
Add-MailboxFolderPermission mary:\\Calendar -User rita -AccessRights Reviewer
Add-MailboxFolderPermission mary:\\Calendar -User carl -AccessRights Contributor
Add-MailboxFolderPermission mary:\\Calendar -User lim -AccessRights LimitedDetails
Set-MailboxFolderPermission sam:\\Calendar -User Default -AccessRights None
Set-Mailbox hank -HiddenFromAddressListsEnabled $true
";
    let people = ["Mary", "Rob", "Aud", "Rita", "Carl", "Lim", "Uma", "Sam", "Hank"];
    let (_dir, server) = org("sec-events", &people, extra);
    let mary = token(&server, "mary", OWN);
    let events = format!("users/{MARY}/events");
    let create = |t: &str, body: &Value| {
        let (status, e) = call(&server, "POST", &events, t, Some(body));
        assert_eq!(status, 201, "{e}");
        e["id"].as_str().expect("id").to_owned()
    };
    let board = create(&mary, &event("Board", 9, false));
    let secret = create(&mary, &event("Dentist secret", 11, true));
    let subject_of = |id: &str| call(&server, "GET", &format!("{events}/{id}"), &mary, None).1["subject"].clone();

    // Author: creates and changes its own, not Mary's.
    let aud = token(&server, "aud", SHARED);
    let own = create(&aud, &event("Aud's", 14, false));
    let rename = json!({"subject": "Hijacked"});
    assert_eq!(call(&server, "PATCH", &format!("{events}/{board}"), &aud, Some(&rename)).0, 403);
    assert_eq!(call(&server, "DELETE", &format!("{events}/{board}"), &aud, None).0, 403);
    assert_eq!(call(&server, "PATCH", &format!("{events}/{own}"), &aud, Some(&json!({"subject": "Aud's 2"}))).0, 200);
    // Reviewer, Contributor, LimitedDetails, a colleague with free/busy: no change.
    for who in ["rita", "carl", "lim", "uma"] {
        let t = token(&server, who, SHARED);
        for id in [&board, &secret, &own] {
            let (status, _) = call(&server, "PATCH", &format!("{events}/{id}"), &t, Some(&rename));
            assert!(status == 403 || status == 404, "{who} patches {id}: {status}");
            let status = call(&server, "DELETE", &format!("{events}/{id}"), &t, None).0;
            assert!(status == 403 || status == 404, "{who} deletes {id}: {status}");
        }
    }
    assert_eq!(call(&server, "DELETE", &format!("{events}/{own}"), &aud, None).0, 204, "its own, yes");
    // The delegate without private access: private events stay Mary's.
    let rob = token(&server, "rob", SHARED);
    assert_eq!(call(&server, "PATCH", &format!("{events}/{secret}"), &rob, Some(&rename)).0, 403);
    assert_eq!(call(&server, "DELETE", &format!("{events}/{secret}"), &rob, None).0, 403);
    assert_eq!((subject_of(&board), subject_of(&secret)), (json!("Board"), json!("Dentist secret")));

    // Filters and ordering see only what the viewer sees.
    for who in ["rob", "rita", "lim"] {
        let t = token(&server, who, SHARED);
        for query in [
            "$filter=subject eq 'Dentist secret'",
            "$filter=contains(subject,'Dentist')",
            "$filter=startswith(subject,'Dent')",
            "$filter=location/displayName eq 'Dentist secret room'",
        ] {
            let (status, list) = call(&server, "GET", &format!("{events}?{query}"), &t, None);
            assert!(status == 200 || status == 400, "{who} {query}: {status} {list}");
            assert!(ids(&list).is_empty(), "{who} finds the private event by {query}: {list}");
        }
        let (status, list) =
            call(&server, "GET", &format!("{events}?$orderby=subject desc&$select=subject,body"), &t, None);
        assert_eq!(status, 200, "{list}");
        assert!(!list.to_string().contains("Dentist"), "{who}: {list}");
    }
    // Free/busy alone opens no events.
    let uma = token(&server, "uma", SHARED);
    assert_eq!(call(&server, "GET", &events, &uma, None).0, 404);
    assert_eq!(call(&server, "GET", &format!("{events}/{board}"), &uma, None).0, 404);

    // An id naming Mary's calendar, sent through another mailbox's path.
    for path in [format!("me/events/{board}"), format!("users/uma@contoso.test/events/{board}")] {
        assert_eq!(call(&server, "GET", &path, &rob, None).0, 404, "{path}");
        assert_eq!(call(&server, "PATCH", &path, &rob, Some(&rename)).0, 404, "{path}");
        assert_eq!(call(&server, "DELETE", &path, &rob, None).0, 404, "{path}");
    }
    assert_eq!(subject_of(&board), json!("Board"));

    // getSchedule: busy time for everyone, subjects for LimitedDetails and
    // up, a private subject for nobody; hidden looks unknown; Default None
    // is an error of its own.
    let ask = json!({
        "schedules": [MARY, "sam@contoso.test", "hank@contoso.test", "nobody@contoso.test"],
        "startTime": {"dateTime": "2026-12-02T00:00:00", "timeZone": "UTC"},
        "endTime": {"dateTime": "2026-12-03T00:00:00", "timeZone": "UTC"},
    });
    for who in ["uma", "lim", "rob"] {
        let t = token(&server, who, "Calendars.Read");
        let (status, answer) = call(&server, "POST", "me/calendar/getSchedule", &t, Some(&ask));
        assert_eq!(status, 200, "{answer}");
        let text = answer.to_string();
        assert!(!text.contains("Dentist"), "{who} sees a private subject: {answer}");
        assert_eq!(answer["value"][0]["scheduleItems"].as_array().map(Vec::len), Some(2), "{who}: {answer}");
        assert_eq!(text.contains("Board"), who != "uma", "{who}: {answer}");
        assert_eq!(answer["value"][1]["error"]["responseCode"], "ErrorNoFreeBusyAccess", "{answer}");
        assert_eq!(answer["value"][2]["error"], answer["value"][3]["error"], "hidden is unknown: {answer}");
    }
}
