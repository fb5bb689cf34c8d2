//! Acknowledged changes are durable: across a clean restart, and across a
//! SIGKILL in the middle of a burst of 1,000 grant commands (issue 3).

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use support::{BIN, PASSWORD, Server, TempDir, init};

#[test]
fn restart_keeps_everything() {
    let dir = TempDir::new("restart");
    assert!(init(&dir.0, "contoso.test").status.success());
    let server = Server::start(&dir.0);
    let pw = "(ConvertTo-SecureString -String 'P@ssw0rd1' -AsPlainText -Force)";
    server
        .shell(&format!(
            "New-Mailbox -Name Mary -Password {pw}; New-Mailbox -Name Rob -Password {pw}; \
             New-DistributionGroup -Name Assistants -Type Security -Members rob; \
             Add-MailboxPermission mary -User Assistants -AccessRights FullAccess -AutoMapping $false; \
             Add-RecipientPermission mary -Trustee rob -AccessRights SendAs; \
             Set-Mailbox mary -GrantSendOnBehalfTo rob -MessageCopyForSendOnBehalfEnabled $true; \
             Add-MailboxFolderPermission mary:\\Calendar -User rob -AccessRights Editor -SharingPermissionFlags Delegate"
        ))
        .expect_ok();
    let dump = "Get-Recipient -ResultSize Unlimited | Sort-Object Name | ConvertTo-Json -Depth 3; \
                Get-MailboxPermission mary | ConvertTo-Json; Get-RecipientPermission | ConvertTo-Json; \
                Get-MailboxFolderPermission mary:\\Calendar | ConvertTo-Json; Test-DelegateAccess mary -User rob | ConvertTo-Json";
    let before = server.shell(dump).expect_ok();
    server.stop();
    let server = Server::start(&dir.0);
    assert_eq!(server.shell(dump).expect_ok(), before);
    // The administrator's password survived too: the shell above signed in with it.
    assert!(!PASSWORD.is_empty());
}

#[test]
fn sigkill_during_a_burst_of_grants_loses_none_that_reported_success() {
    let dir = TempDir::new("sigkill");
    assert!(init(&dir.0, "contoso.test").status.success());
    let server = Server::start(&dir.0);
    // 40 shared mailboxes × 25 mail users = 1,000 distinct Full Access grants.
    let mut setup = String::new();
    for i in 0..40 {
        setup.push_str(&format!("New-Mailbox -Name box{i} -Shared\n"));
    }
    for j in 0..25 {
        setup.push_str(&format!("New-MailUser -Name user{j} -ExternalEmailAddress user{j}@fabrikam.test\n"));
    }
    server.shell(&setup).expect_ok();

    let mut script = String::new();
    for i in 0..40 {
        for j in 0..25 {
            script.push_str(&format!(
                "Add-MailboxPermission -Identity box{i} -User user{j} -AccessRights FullAccess | Select-Object Identity,User | ConvertTo-Json -Compress\n"
            ));
        }
    }
    let file = dir.0.join("burst.ps1");
    std::fs::File::create(&file).unwrap().write_all(script.as_bytes()).unwrap();
    let mut shell = Command::new(BIN)
        .args(["shell", "--server", &server.url, "--user", "admin", "--password", PASSWORD, "-f"])
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acknowledged = Vec::new();
    let reader = BufReader::new(shell.stdout.take().unwrap());
    let mut server = server;
    for line in reader.lines() {
        let line = line.unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        acknowledged.push((v["Identity"].as_str().unwrap().to_owned(), v["User"].as_str().unwrap().to_owned()));
        if acknowledged.len() == 300 {
            server.child.kill().unwrap(); // SIGKILL, mid-burst
            server.child.wait().unwrap();
        }
    }
    let _ = shell.wait();
    assert!(
        acknowledged.len() >= 300 && acknowledged.len() < 1000,
        "the kill landed mid-burst: {}",
        acknowledged.len()
    );
    drop(server);

    let server = Server::start(&dir.0);
    let rows = server.json("Get-Mailbox -RecipientTypeDetails SharedMailbox -ResultSize Unlimited | Get-MailboxPermission | Where-Object {$_.User -like 'user*'} | Select-Object Identity,User");
    let stored: std::collections::HashSet<(String, String)> = rows
        .iter()
        .map(|v| (v["Identity"].as_str().unwrap().to_owned(), v["User"].as_str().unwrap().to_owned()))
        .collect();
    for pair in &acknowledged {
        assert!(stored.contains(pair), "acknowledged grant {pair:?} was lost");
    }
    // Nothing half-applied: at most the one in flight beyond what was acknowledged.
    assert!(stored.len() <= acknowledged.len() + 1, "{} stored, {} acknowledged", stored.len(), acknowledged.len());
}
