//! The sync killed mid-run (issue 10 §4): SIGKILL the `deputy hybrid sync`
//! process half-way through, start it again, and both directories converge
//! with nothing lost and nothing duplicated.

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use support::forests::{Forest, converge, imap, pair, recipients, sync_ok};

/// Starts a one-shot sync into `forest` and SIGKILLs it after `after` applied operations.
/// Returns how many it reported.
fn kill_mid_run(forest: &Forest, after: usize) -> usize {
    let mut child = Command::new(support::BIN)
        .args(["hybrid", "sync", "--once", "--data"])
        .arg(forest.data())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the sync");
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    let mut applied = 0;
    while applied < after {
        let line = lines.next().expect("the sync ended before it was killed").expect("read");
        assert!(!line.starts_with("sync complete"), "the run finished too soon: {line}");
        applied += usize::from(line.starts_with("applied"));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(!rest.iter().any(|l| l.starts_with("sync complete")), "killed mid-run: {rest:?}");
    applied + rest.iter().filter(|l| l.starts_with("applied")).count()
}

/// Guid → name of every recipient but the forest's administrator.
fn directory(forest: &Forest) -> Vec<(String, String, String)> {
    let mut rows: Vec<(String, String, String)> = recipients(forest)
        .iter()
        .filter(|r| r["Name"] != "Administrator")
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            (s("Guid"), s("Name"), s("RecipientTypeDetails"))
        })
        .collect();
    rows.sort();
    rows
}

fn members(forest: &Forest, group: &str) -> BTreeSet<String> {
    forest
        .server()
        .json(&format!("Get-DistributionGroupMember '{group}'"))
        .iter()
        .filter_map(|m| m["Guid"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn a_sync_killed_mid_run_converges_on_restart() {
    let p = pair("hybrid-faults", &["--writeback"]);
    let (onprem, cloud) = (&p.onprem, &p.cloud);
    let mut script = String::new();
    for n in 0..90 {
        script.push_str(&format!(
            "New-MailUser -Name 'User {n:03}' -Alias user{n:03} -ExternalEmailAddress user{n:03}@fabrikam.test\n"
        ));
    }
    for g in 0..30 {
        let m: Vec<String> = (0..3).map(|k| format!("user{:03}", g * 3 + k)).collect();
        script.push_str(&format!(
            "New-DistributionGroup -Name 'List {g:02}' -Alias list{g:02} -Members {}\n",
            m.join(",")
        ));
    }
    onprem.server().shell(&script).expect_ok();
    let mut cloud_script = String::new();
    for n in 0..40 {
        cloud_script.push_str(&format!("New-Mailbox -Name 'Desk {n:02}' -Alias desk{n:02} -Shared\n"));
    }
    cloud.server().shell(&cloud_script).expect_ok();
    let onprem_own = directory(onprem);
    let cloud_own = directory(cloud);
    assert_eq!((onprem_own.len(), cloud_own.len()), (120, 40));

    // Killed half-way into the cloud: some objects there, no cursor.
    let done = kill_mid_run(cloud, 50);
    assert!(done >= 50);
    assert!(!cloud.data().join("hybrid-state.json").exists(), "the cursor moves only after a complete run");
    let partial = directory(cloud).len() - cloud_own.len();
    assert!(partial > 0 && partial < onprem_own.len(), "{partial} objects after the kill");
    // And half-way into on-premises (writeback).
    kill_mid_run(onprem, 20);
    assert!(!onprem.data().join("hybrid-state.json").exists());

    // Restarted: both complete, and agree.
    sync_ok(cloud);
    sync_ok(onprem);
    let (on, cl) = (directory(onprem), directory(cloud));
    let guids = |rows: &[(String, String, String)]| rows.iter().map(|r| r.0.clone()).collect::<BTreeSet<_>>();
    assert_eq!(on.len(), 160, "120 own + 40 written back");
    assert_eq!(cl.len(), 160, "40 own + 120 synced");
    assert_eq!(guids(&on), guids(&cl), "the same objects, by Guid, on both sides");
    let names: BTreeSet<&str> = cl.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(names.len(), cl.len(), "nothing duplicated");
    for g in [0, 17, 29] {
        let group = format!("List {g:02}");
        let want = members(onprem, &group);
        assert_eq!(want.len(), 3);
        assert_eq!(members(cloud, &group), want, "{group}");
    }
    // Nothing left to do.
    for forest in [cloud, onprem, cloud] {
        let out = sync_ok(forest);
        assert!(out.contains("up to date") || out.contains(" 0 change(s)"), "{}: {out}", forest.name);
    }
}

const MARY_PW: &str = "M4ry!Passw0rd";

/// `folder|subject|INTERNALDATE|flags` of every message in Mary's mailbox in `forest`, sorted.
fn mailbox_listing(forest: &Forest) -> Vec<String> {
    let out = imap(
        forest,
        "mary@contoso.test",
        MARY_PW,
        r#"
import re
for line in M.list()[1]:
    attrs, name = re.match(rb'\((.*?)\) "." (.*)', line).groups()
    if b'\\Noselect' in attrs:
        continue
    name = name.decode()
    typ, count = M.select(name, readonly=True)
    if int(count[0]) == 0:
        continue
    typ, data = M.fetch('1:*', '(FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
    for item in data:
        if not isinstance(item, tuple):
            continue
        flags = sorted(re.search(rb'FLAGS \((.*?)\)', item[0]).group(1).decode().split())
        date = re.search(rb'INTERNALDATE "(.*?)"', item[0]).group(1).decode()
        subject = item[1].decode().strip()
        print('MSG', name.strip('"'), subject, date, ' '.join(f for f in flags if f != '\\Recent'), sep='|')
"#,
    );
    let mut rows: Vec<String> = out.lines().filter(|l| l.starts_with("MSG|")).map(str::to_owned).collect();
    rows.sort();
    rows
}

/// Starts `deputy hybrid sync --once` into `forest` with small move pages; the child and its stdout lines.
fn start_sync(forest: &Forest) -> (std::process::Child, std::io::Lines<BufReader<std::process::ChildStdout>>) {
    let mut child = Command::new(support::BIN)
        .args(["hybrid", "sync", "--once", "--page-size", "10", "--data"])
        .arg(forest.data())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the sync");
    let lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    (child, lines)
}

/// Reads lines until `n` pages were reported copied.
fn wait_for_pages(lines: &mut std::io::Lines<BufReader<std::process::ChildStdout>>, n: usize) {
    let mut pages = 0;
    while pages < n {
        let line = lines.next().expect("the sync ended before the copy was interrupted").expect("read");
        assert!(!line.contains("move done") && !line.starts_with("sync complete"), "finished too soon: {line}");
        pages += usize::from(line.starts_with("copied "));
    }
}

#[test]
fn a_move_killed_mid_copy_resumes_without_loss_or_duplicates() {
    let mut p = pair("hybrid-move-kill", &["--writeback"]);
    p.onprem
        .server()
        .shell(&format!(
            "New-Mailbox -Name 'Mary Smith' -Alias mary -Password (ConvertTo-SecureString '{MARY_PW}' -AsPlainText -Force)"
        ))
        .expect_ok();
    // 300 messages in four folders, with flags and INTERNALDATEs of their own.
    let out = imap(
        &p.onprem,
        "mary@contoso.test",
        MARY_PW,
        r#"
print(M.create('Projects'), M.create('Projects/Old'))
folders = [('INBOX', 120), ('"Sent Items"', 60), ('Projects', 70), ('Projects/Old', 50)]
n = 0
for folder, count in folders:
    for i in range(count):
        n += 1
        flags = ' '.join(f for f, k in (('\\Seen', 2), ('\\Flagged', 5), ('\\Answered', 7)) if n % k == 0)
        body = ('Subject: message %03d\r\nMessage-ID: <m%03d@contoso.test>\r\n\r\n' % (n, n)) + ('line %d\r\n' % n) * (n % 40 + 1)
        typ, _ = M.append(folder, '(' + flags + ')', imaplib.Time2Internaldate(1700000000 + n * 61), body.encode())
        assert typ == 'OK', (folder, n)
print('APPENDED', n)
"#,
    );
    assert!(out.contains("APPENDED 300"), "{out}");
    let before = mailbox_listing(&p.onprem);
    assert_eq!(before.len(), 300);
    sync_ok(&p.cloud);
    sync_ok(&p.onprem);
    p.onprem
        .server()
        .shell("New-MoveRequest -Identity mary -Remote -RemoteHostName cloud.contoso.test -TargetDeliveryDomain cloud.contoso.test")
        .expect_ok();

    // The sync copying the mailbox into the cloud is SIGKILLed after three pages of ten…
    let cursor = || std::fs::read(p.cloud.data().join("hybrid-state.json")).expect("the first runs' cursor");
    let last_cursor = cursor();
    let (mut child, mut lines) = start_sync(&p.cloud);
    wait_for_pages(&mut lines, 3);
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert_eq!(cursor(), last_cursor, "the cursor moves only after a complete run");
    // …the source has not let go: Mary's mailbox is still on-premises, whole.
    sync_ok(&p.onprem);
    assert_eq!(p.onprem.server().json("Get-Mailbox mary")[0]["RecipientTypeDetails"], "UserMailbox");
    // The restarted copy goes on where it stopped; then the cloud server itself is SIGKILLed mid-page.
    let (mut child, mut lines) = start_sync(&p.cloud);
    wait_for_pages(&mut lines, 2);
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    p.cloud.kill();
    let _ = child.wait();
    assert!(!first.contains("move done"), "{first}");
    p.cloud.start();

    // Restarted again: the copy completes; the source releases the mailbox; both forests agree.
    let out = sync_ok(&p.cloud);
    assert!(out.contains("applied move done"), "{out}");
    let copied: usize =
        out.lines().filter_map(|l| l.strip_prefix("copied ")?.split_once(' ')?.0.parse::<usize>().ok()).sum();
    assert!(copied < 300, "the last run resumed rather than copying all again ({copied})");
    assert_eq!(p.cloud.server().json("Get-Mailbox mary")[0]["RecipientTypeDetails"], "UserMailbox");
    let after = mailbox_listing(&p.cloud);
    assert_eq!(after.len(), 300, "every message exactly once");
    assert_eq!(after, before, "the same messages, flags and dates in the same folders");
    sync_ok(&p.onprem);
    let mary = p.onprem.server().json("Get-MailUser mary");
    assert_eq!(mary[0]["ExternalEmailAddress"], "SMTP:mary@cloud.contoso.test", "{mary:?}");
    assert_eq!(p.onprem.server().json("Get-MoveRequest mary")[0]["Status"], "Completed");
    converge(&p);
    assert_eq!(mailbox_listing(&p.cloud), before, "and nothing changed it since");
}
