//! Directory sync between two forests (issue 10, spec §9): authenticated,
//! idempotent, keyed by the source `Guid`, password hash sync, and never a
//! removal because the other side can't be reached.

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use std::time::{Duration, Instant};
use support::forests::{Forest, SECRET, autodiscover, pair, recipients, sync, sync_ok};

const ROB_PW: &str = "R0b!Passw0rd";

fn by_name<'a>(rows: &'a [serde_json::Value], name: &str) -> Option<&'a serde_json::Value> {
    rows.iter().find(|r| r["Name"] == name)
}

fn http(method: &str, url: &str, bearer: Option<&str>, body: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let auth = bearer.map(|b| format!("Bearer {b}"));
    let mut resp = if method == "GET" {
        let mut r = agent.get(url);
        if let Some(a) = &auth {
            r = r.header("Authorization", a);
        }
        r.call()
    } else {
        let mut r = agent.post(url).header("Content-Type", "application/json");
        if let Some(a) = &auth {
            r = r.header("Authorization", a);
        }
        r.send(body)
    }
    .expect("request");
    (resp.status().as_u16(), resp.body_mut().read_to_string().unwrap_or_default())
}

#[test]
fn directory_sync_is_authenticated_idempotent_and_never_deletes_blindly() {
    let mut p = pair("hybrid-sync", &["--interval", "1"]);
    p.onprem
        .server()
        .shell(&format!(
            r#"
New-Mailbox -Name "Rob Jones" -Alias rob -Password (ConvertTo-SecureString '{ROB_PW}' -AsPlainText -Force)
New-Mailbox -Name "Kim Akers" -Alias kim -Password (ConvertTo-SecureString 'K1m!Passw0rd' -AsPlainText -Force)
New-Mailbox -Name "Front Desk" -Alias desk -Shared
New-DistributionGroup -Name Helpers -Alias helpers -Type Security -Members rob,kim
New-MailUser -Name "Partner" -Alias partner -ExternalEmailAddress partner@fabrikam.test
"#
        ))
        .expect_ok();
    let onprem_rows = recipients(&p.onprem);
    let rob_guid = by_name(&onprem_rows, "Rob Jones").expect("rob")["Guid"].clone();

    // Without the secret: 401, nothing learned, nothing changed.
    let export = format!("{}/hybrid/export", p.onprem.url());
    for bearer in [None, Some("wrong-secret-wrong-secret"), Some("")] {
        let (status, body) = http("GET", &export, bearer, "");
        assert_eq!((status, body.as_str()), (401, ""), "{bearer:?}");
    }
    let remove = format!(r#"{{"op":"Remove","id":{rob_guid},"name":"x"}}"#);
    let (status, body) =
        http("POST", &format!("{}/hybrid/apply", p.onprem.url()), Some("nope-nope-nope-nope"), &remove);
    assert_eq!((status, body.as_str()), (401, ""));
    let (status, body) = http("GET", &export, Some(SECRET), "");
    assert_eq!(status, 200);
    assert!(body.contains("\"forest\":\"onprem\"") && body.contains("Rob Jones"), "{body}");
    // Even with the secret, a forest never removes an object homed in it.
    let (status, body) = http("POST", &format!("{}/hybrid/apply", p.onprem.url()), Some(SECRET), &remove);
    assert_eq!(status, 200);
    assert!(body.contains("never removes"), "{body}");
    assert!(by_name(&recipients(&p.onprem), "Rob Jones").is_some());

    // One run: on-premises objects reach the cloud under the same Guid, mailboxes as mail users.
    let out = sync_ok(&p.cloud);
    assert!(out.contains("sync complete"), "{out}");
    let cloud_rows = recipients(&p.cloud);
    let rob = by_name(&cloud_rows, "Rob Jones").expect("rob in the cloud");
    assert_eq!(rob["Guid"], rob_guid);
    assert_eq!(rob["RecipientTypeDetails"], "MailUser");
    assert_eq!(rob["PrimarySmtpAddress"], "rob@contoso.test");
    let rob_mu = p.cloud.server().json("Get-MailUser rob");
    assert_eq!(rob_mu[0]["ExternalEmailAddress"], "SMTP:rob@onprem.contoso.test", "{rob_mu:?}");
    assert_eq!(by_name(&cloud_rows, "Front Desk").expect("desk")["AccountDisabled"], true);
    assert_eq!(by_name(&cloud_rows, "Partner").expect("partner")["RecipientTypeDetails"], "MailUser");
    let members = p.cloud.server().json("Get-DistributionGroupMember Helpers");
    let mut names: Vec<&str> = members.iter().filter_map(|m| m["Name"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["Kim Akers", "Rob Jones"]);
    assert_eq!(cloud_rows.iter().filter(|r| r["Name"] == "Administrator").count(), 1, "admins are not synced");
    // The on-premises run (no writeback) imports nothing but stamps the routing addresses.
    let before = recipients(&p.onprem).len();
    sync_ok(&p.onprem);
    assert_eq!(recipients(&p.onprem).len(), before, "without writeback nothing comes back on-premises");
    let rob_onprem = p.onprem.server().json("Get-Mailbox rob");
    assert!(rob_onprem[0]["EmailAddresses"].to_string().contains("smtp:rob@onprem.contoso.test"), "{rob_onprem:?}");

    // Password hash sync: Rob signs in to the cloud with his on-premises password
    // and, being a mail user there, is sent home by Autodiscover.
    let (status, body) = autodiscover(&p.cloud, "rob@contoso.test", ROB_PW, "rob@contoso.test");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<Action>redirectAddr</Action>"), "{body}");
    assert!(body.contains("<RedirectAddr>rob@onprem.contoso.test</RedirectAddr>"), "{body}");
    assert_eq!(autodiscover(&p.cloud, "rob@contoso.test", "wrong", "rob@contoso.test").0, 401);

    // Idempotent: the on-premises stamps change nothing in the cloud, the cursor
    // then says so, and without the cursor a re-plan changes nothing.
    let out = sync_ok(&p.cloud);
    assert!(out.contains(" 0 change(s)"), "{out}");
    let out = sync_ok(&p.cloud);
    assert!(out.contains("up to date"), "{out}");
    std::fs::remove_file(p.cloud.data().join("hybrid-state.json")).expect("cursor exists");
    let again = sync_ok(&p.cloud);
    assert!(again.contains(" 0 change(s)"), "{again}");
    assert_eq!(recipients(&p.cloud).len(), cloud_rows.len());
    let audit = p.cloud.server().json("Search-AdminAuditLog -Cmdlets Start-ADSyncSyncCycle");
    assert!(!audit.is_empty(), "sync changes are audited like cmdlets");

    // Kim leaves on-premises while the on-premises forest is down: the cloud keeps her.
    p.onprem.server().shell("Remove-Mailbox kim -Confirm:$false").expect_ok();
    p.onprem.stop();
    let out = sync(&p.cloud);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unreachable"), "{out:?}");
    assert!(by_name(&recipients(&p.cloud), "Kim Akers").is_some(), "nothing removed while unreachable");
    // A peer that answers with a wrong secret is no better.
    p.onprem.start();
    let wrong = p.secret.0.join("wrong");
    std::fs::write(&wrong, "another-secret-entirely\n").expect("write");
    p.configure_secret(true, &wrong, &["--interval", "1"]);
    let out = sync(&p.cloud);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP 401"), "{out:?}");
    assert!(by_name(&recipients(&p.cloud), "Kim Akers").is_some());
    p.configure(true, &["--interval", "1"]);
    // Reached and authenticated, the peer says she is gone: now she goes.
    sync_ok(&p.cloud);
    let rows = recipients(&p.cloud);
    assert!(by_name(&rows, "Kim Akers").is_none());
    let members = p.cloud.server().json("Get-DistributionGroupMember Helpers");
    assert_eq!(members.len(), 1, "{members:?}");

    // Continuous sync while both servers serve.
    let mut child = std::process::Command::new(support::BIN)
        .args(["hybrid", "sync", "--data"])
        .arg(p.cloud.data())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start continuous sync");
    p.onprem.server().shell("New-MailUser -Name Lee -Alias lee -ExternalEmailAddress lee@fabrikam.test").expect_ok();
    let deadline = Instant::now() + Duration::from_secs(60);
    while by_name(&recipients(&p.cloud), "Lee").is_none() {
        assert!(Instant::now() < deadline, "the continuous sync never brought Lee over");
        std::thread::sleep(Duration::from_millis(300));
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_run_with_too_many_deletions_stops_until_allowed() {
    let p = pair("hybrid-deletes", &["--delete-threshold", "3"]);
    let mut script = String::new();
    for n in 0..5 {
        script.push_str(&format!(
            "New-MailUser -Name 'Contact {n}' -Alias c{n} -ExternalEmailAddress c{n}@fabrikam.test\n"
        ));
    }
    p.onprem.server().shell(&script).expect_ok();
    sync_ok(&p.cloud);
    let count = |f: &Forest| {
        recipients(f).iter().filter(|r| r["Name"].as_str().is_some_and(|n| n.starts_with("Contact"))).count()
    };
    assert_eq!(count(&p.cloud), 5);
    // Four removals on-premises (and one addition): above the threshold, so the run stops and changes nothing.
    p.onprem
        .server()
        .shell("0..3 | ForEach-Object { Remove-MailUser \"c$_\" -Confirm:$false }\nNew-MailUser -Name 'Contact 9' -Alias c9 -ExternalEmailAddress c9@fabrikam.test")
        .expect_ok();
    let out = sync(&p.cloud);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr
            .contains("would remove 4 object(s), more than the accidental-delete threshold of 3; nothing was applied"),
        "{stderr}"
    );
    assert!(stderr.contains("--allow-deletes"), "{stderr}");
    assert_eq!(count(&p.cloud), 5, "nothing removed, nothing added");
    // Told the deletions are intended, the run applies everything.
    let out = std::process::Command::new(support::BIN)
        .args(["hybrid", "sync", "--once", "--allow-deletes", "--data"])
        .arg(p.cloud.data())
        .output()
        .expect("run sync");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(count(&p.cloud), 2);
    // And the threshold is 500 unless configured.
    p.configure(true, &[]);
    let config = std::fs::read_to_string(p.cloud.data().join("hybrid.json")).expect("hybrid.json");
    assert!(config.contains("\"delete_threshold\": 500"), "{config}");
}
