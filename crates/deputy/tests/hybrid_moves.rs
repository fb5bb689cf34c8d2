//! A mailbox move carries what changed in the source after a message was
//! copied (spec §9; Exchange's incremental sync before completion): flags
//! set and cleared, messages expunged and added, both while the copy runs
//! and between the copy and the switch (a folder made then too), so the
//! target ends with exactly the source's messages and flags at the switch.
//! A sync killed in the final pass converges on the next run.

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use support::forests::{Forest, Pair, converge, imap, pair, sync_ok};

const MARY_PW: &str = "M4ry!Passw0rd";

/// `folder|subject|INTERNALDATE|flags` of every message in Mary's mailbox in `forest`, sorted.
fn listing(forest: &Forest) -> Vec<String> {
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

/// Messages per folder of a listing.
fn counts(rows: &[String]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for row in rows {
        *counts.entry(row.split('|').nth(1).unwrap_or_default().to_owned()).or_default() += 1;
    }
    counts
}

/// Runs IMAP commands as Mary in `forest` (`M` is signed in), asserting they printed `DONE`.
fn as_mary(forest: &Forest, body: &str) {
    let out = imap(forest, "mary@contoso.test", MARY_PW, &format!("{body}\nprint('DONE')"));
    assert!(out.contains("DONE"), "{out}");
}

/// Python appending message `n` (`Subject: message NNN`) to `folder`.
fn append(folder: &str, n: usize) -> String {
    format!(
        "body = ('Subject: message {n:03}\\r\\nMessage-ID: <m{n:03}@contoso.test>\\r\\n\\r\\n' + 'line {n}\\r\\n' * {lines}).encode()\n\
         assert M.append('{folder}', '', imaplib.Time2Internaldate(1700000000 + {n} * 61), body)[0] == 'OK'\n",
        lines = n % 7 + 1,
    )
}

/// Two forests; Mary on-premises with 30 messages in INBOX and 20 in
/// Projects (every fourth `\Answered`), synced, and her move to the cloud queued.
fn forests_with_a_queued_move(test: &str) -> Pair {
    let p = pair(test, &["--writeback"]);
    p.onprem
        .server()
        .shell(&format!(
            "New-Mailbox -Name 'Mary Smith' -Alias mary -Password (ConvertTo-SecureString '{MARY_PW}' -AsPlainText -Force)"
        ))
        .expect_ok();
    let mut script = String::from("assert M.create('Projects')[0] == 'OK'\n");
    for n in 1..=50 {
        script.push_str(&append(if n <= 30 { "INBOX" } else { "Projects" }, n));
    }
    script.push_str("M.select('INBOX')\nM.uid('STORE', '4,8,12,16', '+FLAGS', '(\\\\Answered)')\n");
    as_mary(&p.onprem, &script);
    sync_ok(&p.cloud);
    sync_ok(&p.onprem);
    p.onprem
        .server()
        .shell("New-MoveRequest -Identity mary -Remote -RemoteHostName cloud.contoso.test -TargetDeliveryDomain cloud.contoso.test")
        .expect_ok();
    p
}

/// Starts `deputy hybrid sync --once --page-size 10` into `forest`; kills it
/// once a line contains `wanted`, and returns the lines it printed.
fn sync_killed_at(forest: &Forest, wanted: &str) -> Vec<String> {
    let mut child = Command::new(support::BIN)
        .args(["hybrid", "sync", "--once", "--page-size", "10", "--data"])
        .arg(forest.data())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the sync");
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    let mut seen = Vec::new();
    loop {
        let line = lines.next().expect("the sync ended before it was killed").expect("read");
        assert!(!line.starts_with("sync complete"), "the run finished too soon: {seen:?}");
        let found = line.contains(wanted);
        seen.push(line);
        if found {
            break;
        }
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    seen
}

#[test]
fn changes_in_the_source_after_the_copy_reach_the_target_by_the_switch() {
    let p = forests_with_a_queued_move("hybrid-moves-delta");
    // The copy into the cloud stops after a page of INBOX (UIDs 1–10 there).
    sync_killed_at(&p.cloud, "(Inbox) through UID 10");

    // On-premises, Mary goes on working on messages already copied.
    as_mary(
        &p.onprem,
        &format!(
            "M.select('INBOX')\n\
             M.uid('STORE', '3', '+FLAGS', '(\\\\Seen \\\\Flagged)')\n\
             M.uid('STORE', '4', '-FLAGS', '(\\\\Answered)')\n\
             M.uid('STORE', '5', '+FLAGS', '(\\\\Deleted)')\n\
             M.expunge()\n{}",
            append("INBOX", 51)
        ),
    );
    // The copy completes, with what changed meanwhile: the cloud holds the
    // mailbox, equal to the source now.
    let out = sync_ok(&p.cloud);
    assert!(out.contains("applied move done"), "{out}");
    assert!(out.contains("1 removed, 2 reflagged"), "the copy carried the changes: {out}");
    assert_eq!(listing(&p.cloud), listing(&p.onprem), "the target matches the source when the copy is done");

    // Between the copy and the switch the source is still read-write: more changes.
    as_mary(
        &p.onprem,
        &format!(
            "M.select('INBOX')\n\
             M.uid('STORE', '6', '+FLAGS', '(\\\\Flagged)')\n\
             M.uid('STORE', '3', '-FLAGS', '(\\\\Flagged)')\n\
             M.uid('STORE', '7', '+FLAGS', '(\\\\Deleted)')\n\
             M.expunge()\n\
             M.select('Projects')\n\
             M.uid('STORE', '1', '+FLAGS', '(\\\\Deleted)')\n\
             M.expunge()\n\
             assert M.create('Later')[0] == 'OK'\n{}{}{}",
            append("INBOX", 52),
            append("Projects", 53),
            append("Later", 54)
        ),
    );
    let at_switch = listing(&p.onprem);
    let want = [("INBOX", 30), ("Projects", 20), ("Later", 1)].map(|(f, n)| (f.to_owned(), n));
    assert_eq!(counts(&at_switch), BTreeMap::from(want));
    // The switch, then the final pass, in the source forest's run.
    let out = sync_ok(&p.onprem);
    assert!(out.contains("applied move final pass"), "{out}");
    assert_eq!(p.onprem.server().json("Get-MailUser mary")[0]["ExternalEmailAddress"], "SMTP:mary@cloud.contoso.test");
    assert_eq!(p.onprem.server().json("Get-MoveRequest mary")[0]["Status"], "Completed");

    let moved = listing(&p.cloud);
    assert_eq!(counts(&moved), counts(&at_switch), "per folder");
    assert_eq!(moved, at_switch, "the same messages, once each, with the same flags and dates");
    let row = |subject: &str| moved.iter().find(|r| r.contains(&format!("|{subject}|"))).cloned();
    assert!(row("Subject: message 003").is_some_and(|r| r.ends_with("|\\Seen")), "{moved:?}");
    assert!(row("Subject: message 004").is_some_and(|r| r.ends_with('|')), "a flag cleared: {moved:?}");
    assert!(row("Subject: message 006").is_some_and(|r| r.ends_with("|\\Flagged")), "{moved:?}");
    for gone in ["005", "007", "031"] {
        assert!(row(&format!("Subject: message {gone}")).is_none(), "{gone} was expunged: {moved:?}");
    }
    for new in ["051", "052", "053", "054"] {
        assert!(row(&format!("Subject: message {new}")).is_some(), "{new} was added: {moved:?}");
    }
    converge(&p);
    assert_eq!(listing(&p.cloud), at_switch, "and nothing changed it since");
}

#[test]
fn a_sync_killed_in_the_final_pass_converges() {
    let p = forests_with_a_queued_move("hybrid-moves-final-kill");
    let out = sync_ok(&p.cloud);
    assert!(out.contains("applied move done"), "{out}");
    // After the copy: 25 new messages (three pages of the final pass), a flag, an expunge.
    let mut script = String::new();
    for n in 60..85 {
        script.push_str(&append("INBOX", n));
    }
    script.push_str(
        "M.select('INBOX')\nM.uid('STORE', '9', '+FLAGS', '(\\\\Seen)')\nM.uid('STORE', '10', '+FLAGS', '(\\\\Deleted)')\nM.expunge()\n",
    );
    as_mary(&p.onprem, &script);
    let at_switch = listing(&p.onprem);
    assert_eq!(at_switch.len(), 74);

    // The source's run is killed after the switch, a page into the final pass.
    let seen = sync_killed_at(&p.onprem, "copied 10 message(s)");
    assert!(seen.iter().any(|l| l.starts_with("applied move out")), "{seen:?}");
    assert_eq!(p.onprem.server().json("Get-MailUser mary")[0]["RecipientTypeDetails"], "MailUser");

    // The next run finishes the pass: nothing lost, nothing twice.
    let out = sync_ok(&p.onprem);
    assert!(out.contains("applied move final pass"), "{out}");
    assert_eq!(listing(&p.cloud), at_switch);
    converge(&p);
    assert_eq!(listing(&p.cloud), at_switch, "and nothing changed it since");
}
