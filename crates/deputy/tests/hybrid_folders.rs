//! Folder permissions across forests (spec §9: "Folder permissions and Send
//! on Behalf work across forests"): Mary's mailbox is in the cloud, Rob's
//! on-premises. Mary's folders grant Rob (his synced mail user in the cloud)
//! Reviewer and Editor+Delegate; Rob reads but can't change her Inbox over the
//! cloud's IMAP, and the grants move with her mailbox on-premises, where they
//! name Rob's own mailbox (the same `Guid`).

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use support::forests::{Forest, Pair, converge, imap, pair, sync_ok};

const ROB_PW: &str = "R0b!Passw0rd";
const MARY_PW: &str = "M4ry!Passw0rd";
const INBOX: &str = "\"Other Users/mary/INBOX\"";

/// Rob, signed in to `forest` with his on-premises password, tries Mary's Inbox.
fn rob_in_marys_inbox(forest: &Forest) -> String {
    imap(
        forest,
        "rob@contoso.test",
        ROB_PW,
        &format!(
            r#"
print('LIST', M.list('""', '"Other Users/mary/*"'))
print('SELECT', M.select('{INBOX}'))
print('FETCH', M.fetch('1', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])'))
print('STORE', M.store('1', '+FLAGS', '(\\Flagged)'))
print('APPEND', M.append('{INBOX}', None, None, b'Subject: from rob\r\n\r\nHi.\r\n'))
"#
        ),
    )
}

fn assert_reviewer(forest: &Forest, out: &str) {
    let name = forest.name;
    assert!(out.contains("Other Users/mary/INBOX"), "{name}: Mary's Inbox is listed: {out}");
    assert!(out.contains("SELECT ('OK', [b'1'])"), "{name}: Rob opens it: {out}");
    assert!(out.contains("budget review"), "{name}: Rob reads it: {out}");
    assert!(out.contains("STORE ('NO'"), "{name}: Reviewer can't change flags: {out}");
    assert!(out.contains("APPEND ('NO'"), "{name}: Reviewer can't add items: {out}");
}

/// `(user, rights, flags)` of every entry of `folder` (`mary:\Inbox`).
fn permissions(forest: &Forest, folder: &str) -> Vec<(String, String, String)> {
    forest
        .server()
        .json(&format!("Get-MailboxFolderPermission {folder}"))
        .iter()
        .map(|r| (r["User"].to_string(), r["AccessRights"].to_string(), r["SharingPermissionFlags"].to_string()))
        .collect()
}

fn rob_row(forest: &Forest, folder: &str) -> (String, String) {
    let rows = permissions(forest, folder);
    let row = rows.iter().find(|r| r.0.contains("Rob Jones")).unwrap_or_else(|| panic!("{}: {rows:?}", forest.name));
    (row.1.clone(), row.2.clone())
}

fn setup() -> Pair {
    let p = pair("hybrid-folders", &["--writeback"]);
    p.cloud
        .server()
        .shell(&format!(
            "New-Mailbox -Name 'Mary Smith' -Alias mary -Password (ConvertTo-SecureString '{MARY_PW}' -AsPlainText -Force)"
        ))
        .expect_ok();
    p.onprem
        .server()
        .shell(&format!(
            "New-Mailbox -Name 'Rob Jones' -Alias rob -Password (ConvertTo-SecureString '{ROB_PW}' -AsPlainText -Force)"
        ))
        .expect_ok();
    sync_ok(&p.cloud);
    sync_ok(&p.onprem);
    let out = imap(
        &p.cloud,
        "mary@contoso.test",
        MARY_PW,
        "print('APPEND', M.append('INBOX', None, None, b'Subject: budget review\\r\\n\\r\\nNumbers.\\r\\n'))",
    );
    assert!(out.contains("APPEND ('OK'"), "{out}");
    p
}

#[test]
fn folder_permissions_work_across_forests_and_move_with_the_mailbox() {
    let p = setup();
    let (onprem, cloud) = (&p.onprem, &p.cloud);
    // Rob is a mail user in the cloud (his mailbox is on-premises), and still a folder trustee there.
    assert_eq!(cloud.server().json("Get-MailUser rob")[0]["ExternalEmailAddress"], "SMTP:rob@onprem.contoso.test");
    cloud
        .server()
        .shell(
            "Add-MailboxFolderPermission mary:\\Inbox -User rob -AccessRights Reviewer\n\
             Add-MailboxFolderPermission mary:\\Calendar -User rob -AccessRights Editor -SharingPermissionFlags Delegate",
        )
        .expect_ok();
    assert!(rob_row(cloud, "mary:\\Inbox").0.contains("Reviewer"));
    let (rights, flags) = rob_row(cloud, "mary:\\Calendar");
    assert!(rights.contains("Editor") && flags.contains("Delegate"), "{rights} {flags}");

    // Over the cloud's IMAP, in the Other Users namespace: read, but neither STORE nor APPEND.
    assert_reviewer(cloud, &rob_in_marys_inbox(cloud));

    // Mary's mailbox moves on-premises; the grants go with it and name Rob's own mailbox there.
    cloud
        .server()
        .shell("New-MoveRequest -Identity mary -Outbound -RemoteHostName onprem.contoso.test -TargetDeliveryDomain onprem.contoso.test")
        .expect_ok();
    sync_ok(onprem);
    sync_ok(cloud);
    assert_eq!(onprem.server().json("Get-Mailbox mary")[0]["RecipientTypeDetails"], "UserMailbox");
    assert_eq!(onprem.server().json("Get-Mailbox rob")[0]["RecipientTypeDetails"], "UserMailbox");
    assert!(rob_row(onprem, "mary:\\Inbox").0.contains("Reviewer"));
    let (rights, flags) = rob_row(onprem, "mary:\\Calendar");
    assert!(rights.contains("Editor") && flags.contains("Delegate"), "{rights} {flags}");
    assert_reviewer(onprem, &rob_in_marys_inbox(onprem));
    // In the cloud, Mary is the stand-in mail user now; nothing of her folders is left there.
    assert_eq!(cloud.server().json("Get-MailUser mary")[0]["ExternalEmailAddress"], "SMTP:mary@onprem.contoso.test");
    converge(&p);
}
