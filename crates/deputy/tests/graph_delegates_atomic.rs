//! `/v1.0/me/delegates` through the real binary: a delegate change is one
//! core mutation (MS-OXODLGT's delegate = folder entries on Calendar, Tasks,
//! Inbox, Contacts and Notes plus Send on Behalf), so a refused change leaves
//! every folder, `GrantSendOnBehalfTo` and the audit log as they were, and an
//! accepted one shows all of it at once in the shell.

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use serde_json::{Value, json};
use support::graph::{call, user_token};
use support::{Server, TempDir, init};

const PW: &str = "Str0ng!Passw0rd";
const FOLDERS: [&str; 5] = ["Calendar", "Tasks", "Inbox", "Contacts", "Notes"];

fn org(name: &str) -> (TempDir, Server) {
    let dir = TempDir::new(name);
    assert!(init(&dir.0, "contoso.test").status.success());
    let server = Server::start(&dir.0);
    let mut script = String::new();
    for (name, alias) in [("Mary", "mary"), ("Rob", "rob")] {
        script.push_str(&format!(
            "New-Mailbox -Name {name} -Alias {alias} -Password (ConvertTo-SecureString '{PW}' -AsPlainText -Force)\n"
        ));
    }
    script.push_str("New-Mailbox -Name 'Board Room' -Alias board -Room\n");
    server.shell(&script).expect_ok();
    (dir, server)
}

/// What the shell shows of Mary's delegates: each dialog folder's
/// `Get-MailboxFolderPermission` rows, her `GrantSendOnBehalfTo`, and the
/// admin audit log.
fn shell_view(server: &Server) -> (Vec<Vec<Value>>, String, Vec<Value>) {
    let folders = FOLDERS.iter().map(|f| server.json(&format!("Get-MailboxFolderPermission mary:\\{f}"))).collect();
    let send_on_behalf = server.shell("(Get-Mailbox mary).GrantSendOnBehalfTo").expect_ok();
    (folders, send_on_behalf, server.json("Search-AdminAuditLog"))
}

/// A POST naming a role on every folder of the dialog.
fn delegate(address: &str) -> Value {
    json!({
        "user": {"address": address},
        "permissions": {"calendar": "editor", "tasks": "editor", "inbox": "reviewer", "contacts": "author", "notes": "reviewer"},
        "receiveCopiesOfMeetingMessages": true, "canViewPrivateItems": true,
    })
}

#[test]
fn a_refused_delegate_changes_nothing_and_an_accepted_one_shows_everything() {
    let (_dir, server) = org("graph-delegates-atomic");
    let mary = user_token(&server, "mary@contoso.test", PW, "MailboxSettings.ReadWrite");
    let before = shell_view(&server);

    // The door accepts a room's address (it has a mailbox); the core refuses
    // it a folder entry (spec §5: rooms hold no folder permissions), and with
    // that the whole change: no folder entry, no Send on Behalf, no record.
    let (status, err) = call(&server, "POST", "me/delegates", &mary, Some(&delegate("board@contoso.test")));
    assert_eq!((status, err["error"]["code"].as_str()), (400, Some("ErrorInvalidRequest")), "{err}");
    assert_eq!(shell_view(&server), before, "nothing changed");
    let (status, list) = call(&server, "GET", "me/delegates", &mary, None);
    assert_eq!((status, &list["value"]), (200, &json!([])), "{list}");

    let (status, added) = call(&server, "POST", "me/delegates", &mary, Some(&delegate("rob@contoso.test")));
    assert_eq!(status, 201, "{added}");
    let (folders, send_on_behalf, audit) = shell_view(&server);
    for (name, (rows, role)) in
        FOLDERS.iter().zip(folders.iter().zip(["Editor", "Editor", "Reviewer", "Author", "Reviewer"]))
    {
        let rob = rows.iter().find(|r| r["User"] == "Rob").unwrap_or_else(|| panic!("no Rob on {name}: {rows:?}"));
        assert!(rob["AccessRights"].to_string().contains(role), "{name}: {rob}");
    }
    let calendar = folders[0].iter().find(|r| r["User"] == "Rob").expect("Rob on the calendar");
    let flags = calendar["SharingPermissionFlags"].to_string();
    assert!(flags.contains("Delegate") && flags.contains("CanViewPrivateItems"), "{calendar}");
    assert!(send_on_behalf.to_lowercase().contains("rob"), "Send on Behalf granted: {send_on_behalf}");

    // One record for the whole change, as Mary, naming every statement.
    assert_eq!(audit.len(), before.2.len() + 1, "{audit:?}");
    let record = audit.iter().find(|r| !before.2.contains(r)).expect("the new record").to_string();
    assert!(record.contains("mary@contoso.test") && record.contains("Set-Mailbox"), "{record}");
    for folder in FOLDERS {
        assert!(record.contains(&format!("Add-MailboxFolderPermission -Identity 'mary:\\\\{folder}'")), "{record}");
    }
}
