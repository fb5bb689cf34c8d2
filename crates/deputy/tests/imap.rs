//! The IMAP door end to end (issue 6, spec §5, §7.2): the real binary driven
//! by Python's `imaplib`. Rob reaches Mary's mailbox through Full Access, then
//! through a folder permission, and loses it the moment the shell removes it.

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use support::{Server, TempDir, init};

const ROB_PW: &str = "R0b!Passw0rd";

fn org(name: &str) -> (TempDir, Server) {
    let dir = TempDir::new(name);
    assert!(init(&dir.0, "contoso.test").status.success());
    let server = Server::start(&dir.0);
    server
        .shell(&format!(
            r#"
New-Mailbox -Name "Mary Smith" -Alias mary -Password (ConvertTo-SecureString -String 'M4ry!Passw0rd' -AsPlainText -Force)
New-Mailbox -Name "Rob Jones" -Alias rob -Password (ConvertTo-SecureString -String '{ROB_PW}' -AsPlainText -Force)
"#
        ))
        .expect_ok();
    (dir, server)
}

/// Runs a Python script with `M`, an `imaplib.IMAP4` signed in as `login` (Rob's password); returns stdout.
fn imap(server: &Server, login: &str, body: &str) -> String {
    imap_as(server, login, ROB_PW, body)
}

/// Like [`imap`], with any password.
fn imap_as(server: &Server, login: &str, password: &str, body: &str) -> String {
    let login = wire_login(login);
    let script = format!(
        "import imaplib, smtplib\nM = imaplib.IMAP4('{host}', {port})\nM.login({login:?}, '{password}')\n{body}\nM.logout()\n",
        host = server.imap.ip(),
        port = server.imap.port(),
    );
    let out = std::process::Command::new("python3").args(["-c", &script]).output().expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// imaplib sends the user name as typed: quote the `delegate\\mailbox` form (RFC 3501 quoted string).
fn wire_login(login: &str) -> String {
    if login.contains('\\') { format!("\"{}\"", login.replace('\\', "\\\\")) } else { login.to_owned() }
}

/// Two messages from outside into Mary's Inbox through the inbound SMTP listener.
fn deliver_to_mary(server: &Server) {
    let script = format!(
        r#"
import smtplib
s = smtplib.SMTP('{host}', {port})
for n in (1, 2):
    s.sendmail('partner@fabrikam.test', ['mary@contoso.test'],
        'From: partner@fabrikam.test\r\nTo: mary@contoso.test\r\nSubject: note %d\r\nMessage-ID: <n%d@fabrikam.test>\r\n\r\nHello.\r\n' % (n, n))
s.quit()
"#,
        host = server.smtp.ip(),
        port = server.smtp.port(),
    );
    let out = std::process::Command::new("python3").args(["-c", &script]).output().expect("python3 runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn delegates_reach_other_users_mailboxes_as_the_engine_decides() {
    let (_dir, server) = org("imap");
    deliver_to_mary(&server);
    let inbox = r#""Other Users/mary/INBOX""#;

    // Full Access: Mary's folders appear under Other Users, and Rob can do anything.
    server.shell("Add-MailboxPermission -Identity mary -User rob -AccessRights FullAccess").expect_ok();
    let out = imap(
        &server,
        "rob@contoso.test",
        &format!(
            r#"
print('LIST', M.list())
print('SELECT', M.select('{inbox}'))
print('FETCH', M.uid('FETCH', '1:*', '(FLAGS BODY.PEEK[])'))
print('STORE', M.uid('STORE', '1', '+FLAGS', '(\\Seen)'))
print('MOVE', M.uid('MOVE', '2', '"Other Users/mary/Deleted Items"'))
print('TRASH', M.select('"Other Users/mary/Deleted Items"'))
"#
        ),
    );
    assert!(out.contains(r#""Other Users/mary/INBOX""#), "{out}");
    assert!(out.contains(r#"(\\Trash) "/" "Other Users/mary/Deleted Items""#), "{out}");
    assert!(out.contains("SELECT ('OK', [b'2'])"), "{out}");
    assert!(out.contains("note 1") && out.contains("note 2"), "{out}");
    assert!(out.contains("STORE ('OK'") && out.contains("\\\\Seen"), "{out}");
    assert!(out.contains("MOVE ('OK'"), "{out}");
    assert!(out.contains("TRASH ('OK', [b'1'])"), "{out}");

    // Exchange's login form opens Mary's mailbox as the personal namespace.
    let out = imap(&server, "rob@contoso.test\\mary", "print('SELECT', M.select('INBOX'))");
    assert!(out.contains("SELECT ('OK', [b'1'])"), "{out}");

    // Removed in the shell: the next session sees nothing of Mary.
    server
        .shell("Remove-MailboxPermission -Identity mary -User rob -AccessRights FullAccess -Confirm:$false")
        .expect_ok();
    let out =
        imap(&server, "rob@contoso.test", &format!("print('LIST', M.list())\nprint('SELECT', M.select('{inbox}'))"));
    assert!(!out.contains("mary"), "{out}");
    assert!(out.contains("SELECT ('NO'") && out.contains("NONEXISTENT"), "{out}");

    // Reviewer on Mary's Inbox: read, but not change or add.
    server.shell(r"Add-MailboxFolderPermission -Identity 'mary:\Inbox' -User rob -AccessRights Reviewer").expect_ok();
    let out = imap(
        &server,
        "rob@contoso.test",
        &format!(
            r#"
print('LIST', M.list())
print('SELECT', M.select('{inbox}'))
print('FETCH', M.uid('FETCH', '1', '(BODY.PEEK[])'))
print('STORE', M.uid('STORE', '1', '+FLAGS', '(\\Flagged)'))
print('APPEND', M.append('{inbox}', None, None, b'Subject: x\r\n\r\nx\r\n'))
print('MYRIGHTS', M.myrights('{inbox}'))
"#
        ),
    );
    assert!(out.contains(r#""Other Users/mary/INBOX""#) && !out.contains("mary/Deleted Items"), "{out}");
    assert!(out.contains("SELECT ('OK'") && out.contains("note 1"), "{out}");
    assert!(out.contains("STORE ('NO', [b\"[NOPERM]"), "{out}");
    assert!(out.contains("APPEND ('NO', [b\"[NOPERM]"), "{out}");
    assert!(out.contains("MYRIGHTS ('OK', [b'\"Other Users/mary/INBOX\" \"lrs\"'])"), "{out}");
    // The delegate form needs Full Access: without it, it fails like a bad password.
    let script = format!(
        "import imaplib\nM = imaplib.IMAP4('{}', {})\ntry:\n    M.login({:?}, '{ROB_PW}')\n    print('IN')\nexcept imaplib.IMAP4.error as e:\n    print('REFUSED', e)\n",
        server.imap.ip(),
        server.imap.port(),
        wire_login("rob@contoso.test\\mary"),
    );
    let out = std::process::Command::new("python3").args(["-c", &script]).output().expect("python3 runs");
    assert!(String::from_utf8_lossy(&out.stdout).contains("REFUSED"), "{out:?}");
}

/// SETACL by the folder's owner and the shell's folder permission cmdlets
/// change the same entries (issue 6 item 3), and MYRIGHTS follows them.
#[test]
fn setacl_and_the_folder_permission_cmdlets_are_one_list() {
    let (_dir, server) = org("imap-acl");
    let out =
        imap_as(&server, "mary@contoso.test", "M4ry!Passw0rd", "print('SETACL', M.setacl('INBOX', 'rob', 'lrs'))");
    assert!(out.contains("SETACL ('OK'"), "{out}");
    let rows = server.json(r"Get-MailboxFolderPermission -Identity 'mary:\Inbox' -User rob");
    assert_eq!(rows[0]["AccessRights"], serde_json::json!(["Reviewer"]), "{rows:?}");

    server.shell(r"Set-MailboxFolderPermission -Identity 'mary:\Inbox' -User rob -AccessRights Editor").expect_ok();
    let out = imap_as(&server, "mary@contoso.test", "M4ry!Passw0rd", "print('GETACL', M.getacl('INBOX'))");
    let acl = out.split("GETACL").nth(1).unwrap_or_default();
    // imaplib shows the list as `"rob" "lrswipte"`: the quoted token after the identifier.
    let rob = acl.split("\"rob\" \"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default();
    assert!(rob.contains('w') && rob.contains('i') && rob.contains('t'), "Editor seen through GETACL: {out}");
    let out = imap(&server, "rob@contoso.test", "print('MYRIGHTS', M.myrights('\"Other Users/mary/INBOX\"'))");
    assert!(out.contains(rob), "MYRIGHTS matches GETACL's entry {rob}: {out}");

    // Rob is not the owner: he may not change Mary's list.
    let out = imap(
        &server,
        "rob@contoso.test",
        "print('SETACL', M.setacl('\"Other Users/mary/INBOX\"', 'rob', 'lrswipkxtea'))",
    );
    assert!(out.contains("SETACL ('NO'"), "{out}");
}

/// Spec §4.2: a client that APPENDs to Sent Items what submission already stored
/// there (same Message-ID, within minutes) gets OK and no second copy.
#[test]
fn append_after_submission_does_not_duplicate_the_sent_copy() {
    let (_dir, server) = org("imap-append");
    let message = "From: rob@contoso.test\\r\\nTo: mary@contoso.test\\r\\nSubject: once\\r\\nMessage-ID: <once@contoso.test>\\r\\n\\r\\nHi.\\r\\n";
    let script = format!(
        r#"
s = smtplib.SMTP('{host}', {port})
s.login('rob@contoso.test', '{ROB_PW}')
s.sendmail('rob@contoso.test', ['mary@contoso.test'], "{message}")
s.quit()
print('APPEND', M.append('"Sent Items"', '(\\Seen)', None, b"{message}"))
print('OTHER', M.append('"Sent Items"', '(\\Seen)', None, b"{other}"))
"#,
        host = server.submission.ip(),
        port = server.submission.port(),
        other = message.replace("once@", "twice@"),
    );
    let out = imap(&server, "rob@contoso.test", &script);
    assert!(out.contains("APPEND ('OK'") && out.contains("OTHER ('OK'"), "{out}");
    assert_eq!(server.items("rob", "SentItems"), 2, "the submitted copy and the other message, nothing twice: {out}");
}

/// Author (spec §5): Rob may add to Mary's Inbox and delete what he created,
/// not what others did; a grant to a group reaches its members; a hidden
/// mailbox cannot be opened even with Full Access.
#[test]
fn author_owns_only_its_items_groups_reach_members_hidden_stays_closed() {
    let (_dir, server) = org("imap-author");
    deliver_to_mary(&server);
    server
        .shell(
            r#"
New-DistributionGroup -Name Helpers -Alias helpers -Type Security -Members rob
Add-MailboxFolderPermission -Identity 'mary:\Inbox' -User helpers -AccessRights Author
"#,
        )
        .expect_ok();
    let inbox = r#""Other Users/mary/INBOX""#;
    let out = imap(
        &server,
        "rob@contoso.test",
        &format!(
            r#"
print('SELECT', M.select('{inbox}'))
print('APPEND', M.append('{inbox}', None, None, b"From: rob@contoso.test\r\nSubject: mine\r\nMessage-ID: <mine@contoso.test>\r\n\r\nx\r\n"))
print('NOOP', M.noop())
print('THEIRS', M.uid('STORE', '1', '+FLAGS', '(\\Deleted)'))
print('MINE', M.uid('STORE', '3', '+FLAGS', '(\\Deleted)'))
print('EXPUNGE', M.expunge())
print('LEFT', M.uid('FETCH', '1:*', '(UID)'))
"#
        ),
    );
    assert!(out.contains("SELECT ('OK'") && out.contains("APPEND ('OK'"), "{out}");
    assert!(out.contains("THEIRS ('NO'") && out.contains("NOPERM"), "Author may not touch others' items: {out}");
    assert!(out.contains("MINE ('OK'"), "Author may flag its own item: {out}");
    assert_eq!(server.items("mary", "Inbox"), 2, "Rob's own item expunged, Mary's two kept: {out}");

    server.shell("Add-MailboxPermission -Identity mary -User rob -AccessRights FullAccess").expect_ok();
    server.shell("Set-Mailbox mary -HiddenFromAddressListsEnabled $true").expect_ok();
    let out =
        imap(&server, "rob@contoso.test", &format!("print('SELECT', M.select('{inbox}'))\nprint('LIST', M.list())"));
    assert!(out.contains("SELECT ('NO'"), "a hidden mailbox is closed to delegates: {out}");
    assert!(!out.contains("Other Users/mary"), "{out}");
}
