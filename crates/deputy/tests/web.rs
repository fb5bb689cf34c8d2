//! The web admin center in a real browser (issue 8): Debian's Chromium,
//! headless, driven by `tests/web/delegation.mjs` and `tests/web/admin.mjs`
//! (playwright-core, with axe-core for accessibility) against
//! the real `deputy serve`; between the script's steps this test checks the
//! change with `deputy shell`, so the page and the shell are seen to share one
//! truth. Needs `chromium` (Debian package; `.ci/run` installs it), `node`
//! and `npm`; without them the test fails and says so. Screenshots land in
//! `target/web-screenshots/`.

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::{PASSWORD, Server, TempDir, init};

const CHROMIUM: &str = "/usr/bin/chromium";
const ROB_PASSWORD: &str = "R0b!Passw0rd";

fn script_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/web")
}

/// Chromium, Node and the pinned playwright-core, or a failure that says what is missing.
fn browser_tooling() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "Chromium is not installed ({CHROMIUM} is missing): the browser tests need Debian's `chromium` package \
         (`apt-get install chromium`; .ci/run installs it before the tests)"
    );
    for tool in ["node", "npm"] {
        let ok = Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
        assert!(ok, "`{tool}` is not installed: the browser tests run playwright-core on Node.js");
    }
    let dir = script_dir();
    if !["playwright-core", "axe-core"].iter().all(|m| dir.join("node_modules").join(m).exists()) {
        let out =
            Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&dir).output().expect("run npm ci");
        assert!(
            out.status.success(),
            "`npm ci` in {} failed:\n{}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn send_on_behalf(server: &Server) -> Vec<String> {
    let rows = server.json("Get-Mailbox mary | Select-Object GrantSendOnBehalfTo");
    match &rows[0]["GrantSendOnBehalfTo"] {
        serde_json::Value::Array(a) => a.iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect(),
        serde_json::Value::Null => Vec::new(),
        v => vec![v.as_str().unwrap_or_default().to_owned()],
    }
}

#[test]
fn admin_grants_and_removes_send_on_behalf_in_chromium() {
    browser_tooling();
    let dir = TempDir::new("web");
    assert!(init(&dir.0, "contoso.test").status.success());
    let server = Server::start(&dir.0);
    server
        .shell(&format!(
            "New-Mailbox -Name 'Mary Smith' -Alias mary -Password (ConvertTo-SecureString 'M4ry!Passw0rd' -AsPlainText -Force)\n\
             New-Mailbox -Name 'Rob Jones' -Alias rob -Password (ConvertTo-SecureString '{ROB_PASSWORD}' -AsPlainText -Force)"
        ))
        .expect_ok();

    let screenshots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../web-screenshots");
    let mut node = Command::new("node")
        .arg("delegation.mjs")
        .current_dir(script_dir())
        .env("DEPUTY_URL", &server.url)
        .env("ADMIN_USER", "admin")
        .env("ADMIN_PASSWORD", PASSWORD)
        .env("USER_LOGIN", "rob@contoso.test")
        .env("USER_PASSWORD", ROB_PASSWORD)
        .env("SCREENSHOTS", &screenshots)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start node");
    let mut stdin = node.stdin.take().expect("node stdin");
    let stdout = BufReader::new(node.stdout.take().expect("node stdout"));
    let mut transcript = Vec::new();
    for line in stdout.lines() {
        let line = line.expect("read node stdout");
        eprintln!("browser: {line}");
        match line.as_str() {
            // The page granted it: the shell sees it at once.
            "STEP granted" => {
                let holders = send_on_behalf(&server);
                assert!(holders.iter().any(|h| h.contains("Rob")), "Get-Mailbox mary shows {holders:?}");
                writeln!(stdin, "ok").expect("answer node");
            }
            "STEP removed" => {
                let holders = send_on_behalf(&server);
                assert!(holders.is_empty(), "Get-Mailbox mary still shows {holders:?}");
                writeln!(stdin, "ok").expect("answer node");
            }
            _ => {}
        }
        transcript.push(line);
    }
    drop(stdin);
    let out = node.wait_with_output().expect("wait for node");
    assert!(
        out.status.success() && transcript.last().is_some_and(|l| l == "DONE"),
        "the browser script failed:\n{}\n{}",
        transcript.join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );
    for pass in [
        "PASS admin signs in",
        "PASS Send on Behalf granted through the page",
        "PASS Send on Behalf removed through the page",
        "PASS a POST without the CSRF token is refused with 403",
        "PASS a non-admin sign-in is refused",
    ] {
        assert!(transcript.iter().any(|l| l == pass), "missing {pass:?} in {transcript:?}");
    }
    // The refused POST changed nothing; the audit log names the signed-in admin.
    assert!(send_on_behalf(&server).is_empty());
    let audit = server.json("Search-AdminAuditLog -Cmdlets Set-Mailbox");
    assert_eq!(audit.len(), 2, "{audit:?}");
    server.stop();
}

fn screenshots() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("../web-screenshots")
}

/// Runs `script` against `server`, answering each `STEP <name>` after `check(name)`;
/// returns the transcript, having failed unless the script ended with `DONE`.
fn drive(script: &str, server: &Server, check: &mut dyn FnMut(&str)) -> Vec<String> {
    let mut node = Command::new("node")
        .arg(script)
        .current_dir(script_dir())
        .env("DEPUTY_URL", &server.url)
        .env("ADMIN_USER", "admin")
        .env("ADMIN_PASSWORD", PASSWORD)
        .env("SCREENSHOTS", screenshots())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start node");
    let mut stdin = node.stdin.take().expect("node stdin");
    let stdout = BufReader::new(node.stdout.take().expect("node stdout"));
    let mut transcript = Vec::new();
    for line in stdout.lines() {
        let line = line.expect("read node stdout");
        eprintln!("browser: {line}");
        if let Some(step) = line.strip_prefix("STEP ") {
            check(step);
            writeln!(stdin, "ok").expect("answer node");
        }
        transcript.push(line);
    }
    drop(stdin);
    let out = node.wait_with_output().expect("wait for node");
    assert!(
        out.status.success() && transcript.last().is_some_and(|l| l == "DONE"),
        "the browser script failed:\n{}\n{}",
        transcript.join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );
    transcript
}

/// The users Get-MailboxPermission shows with Full Access on `mailbox`.
fn full_access(server: &Server, mailbox: &str) -> Vec<String> {
    server
        .json(&format!("Get-MailboxPermission -Identity {mailbox}"))
        .iter()
        .filter(|r| r["AccessRights"].to_string().contains("FullAccess"))
        .map(|r| r["User"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn send_as_trustees(server: &Server, mailbox: &str) -> Vec<String> {
    server
        .json(&format!("Get-RecipientPermission -Identity {mailbox}"))
        .iter()
        .map(|r| r["Trustee"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn bulk_edit_folders_access_and_audit_pages_in_chromium() {
    browser_tooling();
    let dir = TempDir::new("web-admin");
    assert!(init(&dir.0, "contoso.test").status.success());
    let server = Server::start(&dir.0);
    server
        .shell(&format!(
            "New-Mailbox -Name 'Mary Smith' -Alias mary -Password (ConvertTo-SecureString 'M4ry!Passw0rd' -AsPlainText -Force)\n\
             New-Mailbox -Name 'Rob Jones' -Alias rob -Password (ConvertTo-SecureString '{ROB_PASSWORD}' -AsPlainText -Force)\n\
             New-Mailbox -Name Sales -Alias sales -Shared\n\
             New-Mailbox -Name Support -Alias support -Shared\n\
             New-Mailbox -Name Billing -Alias billing -Shared\n\
             New-Mailbox -Name Finance -Alias finance -Shared\n\
             New-DistributionGroup -Name 'Helpdesk Team' -Alias helpdesk -Type Security -Members rob\n\
             Add-RecipientPermission -Identity finance -Trustee helpdesk -AccessRights SendAs -Confirm:$false"
        ))
        .expect_ok();
    let transcript = drive("admin.mjs", &server, &mut |step| match step {
        // Each selected shared mailbox shows Rob with Full Access in the shell; the unselected one doesn't.
        "bulk" => {
            for mailbox in ["sales", "support", "billing"] {
                let users = full_access(&server, mailbox);
                assert!(users.iter().any(|u| u.starts_with("rob@")), "Get-MailboxPermission {mailbox}: {users:?}");
            }
            assert!(full_access(&server, "finance").iter().all(|u| !u.starts_with("rob@")));
            assert_eq!(server.json("Search-AdminAuditLog -Cmdlets Add-MailboxPermission").len(), 3);
        }
        // The mixed selection changed nothing.
        "mixed" => {
            for mailbox in ["mary", "sales"] {
                let trustees = send_as_trustees(&server, mailbox);
                assert!(trustees.iter().all(|t| !t.starts_with("rob@")), "Send As on {mailbox}: {trustees:?}");
            }
            assert_eq!(
                server.json("Search-AdminAuditLog -Cmdlets Add-RecipientPermission").len(),
                1,
                "only the setup's"
            );
        }
        "folder" => {
            let rows = server.json(r"Get-MailboxFolderPermission mary:\Calendar");
            let rob: Vec<_> = rows.iter().filter(|r| r["User"].to_string().contains("Rob")).collect();
            assert_eq!(rob.len(), 1, "{rows:?}");
            assert_eq!(rob[0]["AccessRights"], serde_json::json!(["Reviewer"]), "{rows:?}");
            assert!(!rob[0]["SharingPermissionFlags"].to_string().contains("Delegate"), "{rows:?}");
        }
        other => panic!("unexpected step {other}"),
    });
    for pass in [
        "PASS admin signs in",
        "PASS keyboard: Tab to a list row link and Enter opens it",
        "PASS bulk edit adds Full Access on three shared mailboxes",
        "PASS mixed mailbox types get the warning",
        "PASS Calendar permission changed through the page",
        "PASS Rob's access is explained with the group path",
        "PASS the audit log filters by cmdlet, object, caller and date",
    ] {
        assert!(transcript.iter().any(|l| l == pass), "missing {pass:?} in {transcript:?}");
    }
    assert!(transcript.iter().any(|l| l.starts_with("PASS axe: ")), "{transcript:?}");
    server.stop();
}
