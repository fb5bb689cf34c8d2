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
    assert!(out.contains(r#"(\\Trash \\HasNoChildren) "/" "Other Users/mary/Deleted Items""#), "{out}");
    assert!(out.contains(r#"(\\Noselect \\HasChildren) "/" "Other Users/mary""#), "{out}");
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

/// Runs `before`, lets `between` act (the shell, say) while the session stays
/// open and selected, then runs `after` in the same session; returns stdout.
fn imap_paused(server: &Server, login: &str, before: &str, between: impl FnOnce(), after: &str) -> String {
    use std::io::{BufRead, Write};
    let script = format!(
        "import imaplib, sys\nM = imaplib.IMAP4('{host}', {port})\nM.login({login:?}, '{ROB_PW}')\n{before}\n\
         print('PAUSED', flush=True)\nsys.stdin.readline()\n{after}\nM.logout()\n",
        host = server.imap.ip(),
        port = server.imap.port(),
        login = wire_login(login),
    );
    let mut child = std::process::Command::new("python3")
        .args(["-c", &script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("piped"));
    let mut seen = String::new();
    while !seen.contains("PAUSED") {
        let mut line = String::new();
        if stdout.read_line(&mut line).expect("read python") == 0 {
            break;
        }
        seen.push_str(&line);
    }
    between();
    child.stdin.take().expect("piped").write_all(b"go\n").expect("resume python");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).expect("read python");
    let out = child.wait_with_output().expect("python ends");
    assert!(out.status.success(), "{seen}{rest}{}", String::from_utf8_lossy(&out.stderr));
    seen + &rest
}

/// SEARCH (RFC 3501 §6.4.4) through imaplib: flags, decoded headers, body
/// text, dates, sizes, UID SEARCH, ESEARCH's RETURN (RFC 4731) and CHARSET.
#[test]
fn search_finds_by_flags_headers_text_and_dates() {
    let (_dir, server) = org("imap-search");
    deliver_to_mary(&server);
    let out = imap_as(
        &server,
        "mary@contoso.test",
        "M4ry!Passw0rd",
        r#"
import datetime
today = datetime.datetime.now(datetime.timezone.utc).strftime('%d-%b-%Y')
print('SELECT', M.select('INBOX'))
print('APPEND', M.append('INBOX', '(\\Flagged)', None, b"From: =?UTF-8?Q?Ren=C3=A9e?= <renee@contoso.test>\r\nSubject: =?UTF-8?Q?Caf=C3=A9?= budget\r\nDate: Tue, 3 Mar 2026 10:00:00 +0000\r\n\r\nQuarterly numbers inside.\r\n"))
print('NOOP', M.noop())
print('ALL', M.search(None, 'ALL'))
print('FLAGGED', M.search(None, 'FLAGGED'))
print('UNFLAGGED', M.search(None, 'UNFLAGGED UNSEEN'))
print('FROM', M.search(None, 'FROM', 'FABRIKAM'))
print('SUBJECT', M.uid('SEARCH', 'SUBJECT', '"note 2"'))
M.literal = 'café'.encode()
print('UTF8', M.search('UTF-8', 'SUBJECT'))
print('BODY', M.search(None, 'BODY', 'quarterly'))
print('TEXT', M.search(None, 'OR', 'TEXT', 'n2@fabrikam', 'HEADER', 'Subject', '"note 1"'))
print('NOT', M.search(None, 'NOT', '(FROM fabrikam)', 'LARGER', '10'))
print('SENTON', M.search(None, 'SENTON', '3-Mar-2026'))
print('SINCE', M.search(None, 'SINCE', today, 'NOT', 'BEFORE', today))
print('SEQ', M.search(None, '2:*', 'UNDELETED'))
print('BADCS', M.search('KOI8-R', 'ALL'))
typ, dat = M._simple_command('SEARCH', 'RETURN (MIN MAX COUNT ALL)', 'ALL')
print('ESEARCH', M._untagged_response(typ, dat, 'ESEARCH'))
"#,
    );
    assert!(out.contains("APPEND ('OK'"), "{out}");
    assert!(out.contains("ALL ('OK', [b'1 2 3'])"), "{out}");
    assert!(out.contains("FLAGGED ('OK', [b'3'])"), "{out}");
    assert!(out.contains("UNFLAGGED ('OK', [b'1 2'])"), "{out}");
    assert!(out.contains("FROM ('OK', [b'1 2'])"), "{out}");
    assert!(out.contains("SUBJECT ('OK', [b'2'])"), "{out}");
    assert!(out.contains("UTF8 ('OK', [b'3'])"), "{out}");
    assert!(out.contains("BODY ('OK', [b'3'])"), "{out}");
    assert!(out.contains("TEXT ('OK', [b'1 2'])"), "{out}");
    assert!(out.contains("NOT ('OK', [b'3'])"), "{out}");
    assert!(out.contains("SENTON ('OK', [b'3'])"), "{out}");
    assert!(out.contains("SINCE ('OK', [b'1 2 3'])"), "{out}");
    assert!(out.contains("SEQ ('OK', [b'2 3'])"), "{out}");
    assert!(out.contains("BADCS ('NO', [b'[BADCHARSET (UTF-8)]"), "{out}");
    assert!(out.contains("MIN 1 MAX 3 COUNT 3 ALL 1:3"), "{out}");
}

/// A search needs Read (spec §5): a Reviewer searches Mary's Inbox, and once
/// the shell leaves only FolderVisible, the same session's search gets `NO`.
#[test]
fn search_needs_read_rights_decided_now() {
    let (_dir, server) = org("imap-search-deny");
    deliver_to_mary(&server);
    server.shell(r"Add-MailboxFolderPermission -Identity 'mary:\Inbox' -User rob -AccessRights Reviewer").expect_ok();
    let out = imap_paused(
        &server,
        "rob@contoso.test",
        "print('SELECT', M.select('\"Other Users/mary/INBOX\"'))\nprint('BEFORE', M.search(None, 'SUBJECT', 'note'))",
        || {
            server
                .shell(r"Set-MailboxFolderPermission -Identity 'mary:\Inbox' -User rob -AccessRights FolderVisible")
                .expect_ok();
        },
        "print('AFTER', M.search(None, 'ALL'))",
    );
    assert!(out.contains("BEFORE ('OK', [b'1 2'])"), "{out}");
    assert!(out.contains("AFTER ('NO'") && out.contains("[NOPERM]"), "{out}");
}

/// FETCH sections and structure (RFC 3501 §6.4.5, §7.4.2) through imaplib;
/// `BODY[...]` without PEEK sets `\Seen`, which a Reviewer may (Read carries `s`).
#[test]
fn fetch_serves_sections_structure_and_sets_seen_for_a_reviewer() {
    let (_dir, server) = org("imap-fetch");
    let out = imap_as(
        &server,
        "mary@contoso.test",
        "M4ry!Passw0rd",
        r#"
msg = (b"From: mary@contoso.test\r\nSubject: report\r\nMIME-Version: 1.0\r\n"
       b"Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
       b"Hello\r\nworld\r\n--b1\r\nContent-Type: application/pdf; name=r.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
       b"JVBERi0=\r\n--b1--\r\n")
print('APPEND', M.append('INBOX', None, None, msg))
print('SELECT', M.select('INBOX'))
print('PARTS', M.fetch('1', '(BODY.PEEK[1] BODY.PEEK[2.MIME] BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[1]<2.3>)'))
print('STRUCT', M.fetch('1', '(BODYSTRUCTURE)'))
print('FLAGS', M.fetch('1', '(FLAGS)'))
"#,
    );
    assert!(out.contains("APPEND ('OK'"), "{out}");
    assert!(out.contains(r"b'Hello\r\nworld'"), "{out}");
    assert!(
        out.contains(r"Content-Type: application/pdf; name=r.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"),
        "{out}"
    );
    assert!(
        out.contains(r"b'Subject: report\r\n\r\n'") && out.contains("BODY[1]<2> {3}") && out.contains("b'llo'"),
        "{out}"
    );
    assert!(out.contains(r#"(("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 12 2"#), "{out}");
    assert!(out.contains(r#""BASE64" 8 NIL NIL NIL NIL) "MIXED" ("BOUNDARY" "b1")"#), "{out}");
    assert!(out.contains("FLAGS ('OK', [b'1 (FLAGS ())'])"), "PEEK leaves \\Seen unset: {out}");

    server.shell(r"Add-MailboxFolderPermission -Identity 'mary:\Inbox' -User rob -AccessRights Reviewer").expect_ok();
    let out = imap(
        &server,
        "rob@contoso.test",
        r#"
print('SELECT', M.select('"Other Users/mary/INBOX"'))
print('TEXT', M.fetch('1', '(BODY[TEXT])'))
print('FLAGS', M.fetch('1', '(FLAGS)'))
"#,
    );
    assert!(out.contains("TEXT ('OK'") && out.contains("Hello"), "{out}");
    assert!(out.contains(r"FLAGS ('OK', [b'1 (FLAGS (\\Seen))'])"), "{out}");
}

/// CREATE, RENAME, DELETE and subscriptions (RFC 3501 §6.3.3–6.3.9) go through
/// the core's folder services: Mary shapes her own mailbox; default folders
/// stay; a Reviewer may not create under Mary's Inbox, a Full Access delegate may.
#[test]
fn mailboxes_are_created_renamed_deleted_with_the_rights_they_need() {
    let (_dir, server) = org("imap-folders");
    let out = imap_as(
        &server,
        "mary@contoso.test",
        "M4ry!Passw0rd",
        r#"
print('CREATE', M.create('Projects'))
print('NESTED', M.create('INBOX/Reports/2026'))
print('AGAIN', M.create('projects'))
print('RENAME', M.rename('Projects', '"INBOX/Old Projects"'))
print('APPEND', M.append('INBOX/Reports/2026', None, None, b'Subject: q1\r\n\r\nnumbers\r\n'))
print('LIST', M.list())
print('PARENT', M.delete('INBOX/Reports'))
print('DELETE', M.delete('INBOX/Reports/2026'))
print('INBOX', M.delete('INBOX'))
print('SENT', M.delete('"Sent Items"'))
print('RENSENT', M.rename('"Sent Items"', 'Elsewhere'))
print('UNSUB', M.unsubscribe('"Deleted Items"'))
print('LSUB', M.lsub())
typ, dat = M._simple_command('LIST', '(SUBSCRIBED)', '""', '"*"')
print('SUBSCRIBED', M._untagged_response(typ, dat, 'LIST'))
print('AFTER', M.list())
"#,
    );
    assert!(out.contains("CREATE ('OK'") && out.contains("NESTED ('OK'"), "{out}");
    assert!(out.contains("AGAIN ('NO', [b'[ALREADYEXISTS]"), "{out}");
    assert!(out.contains("RENAME ('OK'") && out.contains("APPEND ('OK'"), "{out}");
    let list = out.split("LIST (").nth(1).and_then(|l| l.lines().next()).unwrap_or_default();
    assert!(list.contains(r#""INBOX/Old Projects""#) && list.contains(r#""INBOX/Reports/2026""#), "{out}");
    assert!(!list.contains(r#"/" "Projects""#), "renamed away: {out}");
    assert!(out.contains("PARENT ('NO', [b'[HASCHILDREN]"), "{out}");
    assert!(out.contains("DELETE ('OK'"), "{out}");
    assert!(out.contains("INBOX ('NO', [b'[CANNOT]") && out.contains("SENT ('NO', [b'[CANNOT]"), "{out}");
    assert!(out.contains("RENSENT ('NO', [b'[CANNOT]"), "{out}");
    let lsub = out.split("LSUB (").nth(1).and_then(|l| l.lines().next()).unwrap_or_default();
    assert!(out.contains("UNSUB ('OK'") && !lsub.contains("Deleted Items") && lsub.contains("Sent Items"), "{out}");
    let subscribed = out.split("SUBSCRIBED (").nth(1).and_then(|l| l.lines().next()).unwrap_or_default();
    assert!(subscribed.contains(r#"(\\Subscribed \\HasChildren) "/" "INBOX""#), "{out}");
    assert!(!subscribed.contains("Deleted Items") && subscribed.contains("Sent Items"), "{out}");
    let after = out.split("AFTER (").nth(1).unwrap_or_default();
    assert!(after.contains("Deleted Items") && !after.contains("2026"), "{out}");
    // The shell sees what IMAP made (one folder service for both doors).
    server.shell(r"Get-MailboxFolderPermission -Identity 'mary:\Inbox\Old Projects'").expect_ok();

    server.shell(r"Add-MailboxFolderPermission -Identity 'mary:\Inbox' -User rob -AccessRights Reviewer").expect_ok();
    let out = imap(
        &server,
        "rob@contoso.test",
        r#"
print('CREATE', M.create('"Other Users/mary/INBOX/Rob"'))
print('DELETE', M.delete('"Other Users/mary/INBOX/Old Projects"'))
print('OWN', M.create('Mine'))
"#,
    );
    assert!(out.contains("CREATE ('NO', [b\"[NOPERM]"), "a Reviewer may not create under Mary's Inbox: {out}");
    assert!(out.contains("DELETE ('NO', [b'[NONEXISTENT]"), "not visible to Rob at all: {out}");
    assert!(out.contains("OWN ('OK'"), "{out}");

    server.shell("Add-MailboxPermission -Identity mary -User rob -AccessRights FullAccess").expect_ok();
    let out = imap(
        &server,
        "rob@contoso.test",
        r#"
print('CREATE', M.create('"Other Users/mary/Shared"'))
print('RENAME', M.rename('"Other Users/mary/Shared"', '"Other Users/mary/INBOX/Shared"'))
print('DELETE', M.delete('"Other Users/mary/INBOX/Old Projects"'))
"#,
    );
    assert!(out.contains("CREATE ('OK'") && out.contains("RENAME ('OK'") && out.contains("DELETE ('OK'"), "{out}");
    server.shell(r"Get-MailboxFolderPermission -Identity 'mary:\Inbox\Shared'").expect_ok();
}

/// Subscriptions are stored: an UNSUBSCRIBE outlives a restart, a deleted
/// folder's choice goes with it (the same name made again is subscribed),
/// and one principal's choice is not another's.
#[test]
fn subscriptions_survive_a_restart() {
    let (dir, server) = org("imap-subscriptions");
    server.shell("Add-MailboxPermission -Identity mary -User rob -AccessRights FullAccess").expect_ok();
    let mary = |server: &Server, body: &str| imap_as(server, "mary@contoso.test", "M4ry!Passw0rd", body);
    let out = mary(
        &server,
        r#"
print('CREATE', M.create('Temp'), M.create('Projects'))
print('UNSUB', M.unsubscribe('"Deleted Items"'), M.unsubscribe('Temp'), M.unsubscribe('Projects'))
print('RESUB', M.subscribe('Projects'))
print('DELETE', M.delete('Temp'))
print('NOSUCH', M.unsubscribe('Nowhere'), M.subscribe('Nowhere'))
"#,
    );
    assert!(out.contains("UNSUB ('OK'") && out.contains("RESUB ('OK'") && out.contains("DELETE ('OK'"), "{out}");
    assert!(out.contains("NOSUCH ('OK'") && out.contains("('NO', [b'[NONEXISTENT]"), "{out}");
    // Rob's own choice for Mary's Inbox leaves hers alone.
    let out = imap(&server, "rob@contoso.test", r#"print('ROB', M.unsubscribe('"Other Users/mary/INBOX"'))"#);
    assert!(out.contains("ROB ('OK'"), "{out}");
    server.stop();

    let server = Server::start(&dir.0);
    let out = mary(
        &server,
        r#"
print('CREATE', M.create('Temp'))
print('LSUB', M.lsub())
typ, dat = M._simple_command('LIST', '(SUBSCRIBED)', '""', '"*"')
print('SUBSCRIBED', M._untagged_response(typ, dat, 'LIST'))
"#,
    );
    for tag in ["LSUB (", "SUBSCRIBED ("] {
        let listed = out.split(tag).nth(1).and_then(|l| l.lines().next()).unwrap_or_default();
        assert!(!listed.contains("Deleted Items"), "unsubscribed before the restart: {out}");
        assert!(listed.contains(r#""INBOX""#) && listed.contains("Sent Items"), "never unsubscribed: {out}");
        assert!(listed.contains("Projects") && listed.contains("Temp"), "subscribed again, or new: {out}");
    }
    let out = imap(&server, "rob@contoso.test", "print('LSUB', M.lsub())");
    assert!(!out.contains("Other Users/mary/INBOX\""), "Rob's choice outlives the restart too: {out}");
    assert!(out.contains("Other Users/mary/Sent Items"), "{out}");
}

#[test]
fn condstore_mod_sequences_reach_imaplib() {
    // RFC 7162 §3.1 on Mary's Inbox: two messages delivered, UIDs 1 and 2.
    let (_dir, server) = org("imap-condstore");
    deliver_to_mary(&server);
    let out = imap_as(
        &server,
        "mary@contoso.test",
        "M4ry!Passw0rd",
        r#"
print('CAPS', 'CONDSTORE' in M.capabilities)
print('STATUS', M.status('INBOX', '(MESSAGES HIGHESTMODSEQ)'))
print('ENABLE', M.enable('CONDSTORE'), M.response('ENABLED'))
print('SELECT', M.select('INBOX (CONDSTORE)'), M.response('HIGHESTMODSEQ'))
print('MODSEQ', M.fetch('1:*', '(MODSEQ)'))
print('STORE', M.store('1', '+FLAGS', '(\\Seen)'))
print('CHANGED', M.fetch('1:*', '(FLAGS) (CHANGEDSINCE 3)'))
print('COND', M._simple_command('STORE', '1:2', '(UNCHANGEDSINCE 3)', '+FLAGS', '(\\Flagged)'), M.response('FETCH'))
print('SEARCH', M.search(None, 'MODSEQ', '5'))
print('AFTER', M.status('INBOX', '(HIGHESTMODSEQ)'))
"#,
    );
    assert!(out.contains("CAPS True"), "{out}");
    assert!(out.contains(r#"STATUS ('OK', [b'"INBOX" (MESSAGES 2 HIGHESTMODSEQ 3)'])"#), "{out}");
    assert!(out.contains("SELECT ('OK', [b'2']) ('HIGHESTMODSEQ', [b'3'])"), "{out}");
    assert!(out.contains("ENABLE ('OK', [b'ENABLE completed']) ('ENABLED', [b'CONDSTORE'])"), "{out}");
    assert!(out.contains("MODSEQ ('OK', [b'1 (MODSEQ (2))', b'2 (MODSEQ (3))'])"), "{out}");
    // Once enabled, flag changes come back with their new mod-sequence.
    assert!(out.contains(r"STORE ('OK', [b'1 (FLAGS (\\Seen) MODSEQ (4))'])"), "{out}");
    assert!(out.contains(r"CHANGED ('OK', [b'1 (FLAGS (\\Seen) MODSEQ (4))'])"), "{out}");
    // Message 1 changed since 3: left alone and reported; message 2 changes.
    assert!(out.contains("COND ('OK', [b'[MODIFIED 1] Conditional STORE failed for some messages'])"), "{out}");
    assert!(out.contains(r"('FETCH', [b'2 (FLAGS (\\Flagged) MODSEQ (5))'])"), "{out}");
    assert!(out.contains("SEARCH ('OK', [b'2 (MODSEQ 5)'])"), "{out}");
    assert!(out.contains(r#"AFTER ('OK', [b'"INBOX" (HIGHESTMODSEQ 5)'])"#), "{out}");
}

#[test]
fn utf8_accept_reaches_imaplib() {
    // RFC 9755: imaplib's `enable('UTF8=ACCEPT')` switches it to UTF-8
    // mailbox names; the folder is the one the shell sees.
    let (_dir, server) = org("imap-utf8");
    let out = imap_as(
        &server,
        "mary@contoso.test",
        "M4ry!Passw0rd",
        r#"
print('CAPS', 'UTF8=ACCEPT' in M.capabilities)
print('ENABLE', M.enable('UTF8=ACCEPT'), M.response('ENABLED'))
print('CREATE', M.create('"Zürich Büro"'))
print('LIST', [x.decode() for x in M.list('""', '"Zü*"')[1]])
print('SELECT', M.select('"Zürich Büro"'))
try:
    M._simple_command('SEARCH', 'CHARSET', 'UTF-8', 'ALL')
except M.error as e:
    print('CHARSET refused:', e)
"#,
    );
    assert!(out.contains("CAPS True"), "{out}");
    assert!(out.contains("ENABLE ('OK', [b'ENABLE completed']) ('ENABLED', [b'UTF8=ACCEPT'])"), "{out}");
    assert!(out.contains("CREATE ('OK'"), "{out}");
    assert!(out.contains(r#"'(\\HasNoChildren) "/" "Zürich Büro"'"#), "{out}");
    assert!(out.contains("SELECT ('OK', [b'0'])"), "{out}");
    assert!(out.contains("CHARSET refused: SEARCH command error: BAD"), "{out}");
    server.shell(r"Get-MailboxFolderPermission -Identity 'mary:\Zürich Büro'").expect_ok();
}
