//! End to end: the real binary (`init`, `serve`) driven by `deputy shell`
//! through the admin API on loopback (issue 3, "Done when").

mod support;

use serde_json::Value;
use support::{PASSWORD, Server, TempDir, init};

const PW: &str = "(ConvertTo-SecureString -String 'P@ssw0rd1' -AsPlainText -Force)";

fn org(name: &str, domain: &str) -> (TempDir, Server) {
    let dir = TempDir::new(name);
    let out = init(&dir.0, domain);
    assert!(out.status.success(), "init failed: {}", String::from_utf8_lossy(&out.stderr));
    let server = Server::start(&dir.0);
    (dir, server)
}

fn field<'a>(rows: &'a [Value], key: &str, value: &str) -> Option<&'a Value> {
    rows.iter().find(|r| r[key].as_str().is_some_and(|v| v.eq_ignore_ascii_case(value)))
}

/// Every recipient kind of spec §2, created the way administrators create them.
const CREATE_EVERY_KIND: &str = r#"
New-Mailbox -Name "Terry Adams" -Alias terrya -Password PW
New-Mailbox -Name "Raymond Sam" -Alias raymonds -Password PW
New-Mailbox -Name "Ayla Kol" -Alias ayla -Password PW
New-Mailbox -Name "Jim Hance" -Alias jimh -Password PW
New-Mailbox -Name "Esther Valle" -Alias estherv -Password PW
New-Mailbox -Name "Mary" -Alias mary -Password PW -Department Sales
New-Mailbox -Name "Helpdesk Tickets" -Shared
New-Mailbox -Name "Contoso Executives" -Shared
New-Mailbox -Name "Conference Room 1" -Room
New-Mailbox -Name "Projector" -Equipment
New-Mailbox -Name "Linked Lee" -Alias lee -LinkedMasterAccount fabrikam\lee -LinkedDomainController dc1.fabrikam.test
New-Mailbox -Name "SystemMailbox Approval" -Alias approval -Arbitration
New-Mailbox -Name "DiscoverySearchMailbox{D919BA05-46A6-415f-80AD-7E09334BB852}" -Discovery
New-MailUser -Name "Partner Pat" -Alias pat -ExternalEmailAddress pat@fabrikam.test
New-ADUser -Name "Service Account" -UserPrincipalName svc@contoso.com -AccountPassword PW -Enabled $true
New-ADGroup -Name "File Share Admins" -GroupScope Universal -GroupCategory Security
New-DistributionGroup -Name Helpdesk -Type Security -Members raymonds,ayla
New-DistributionGroup -Name "Temp Assistants" -Alias tempassistants
New-DynamicDistributionGroup -Name "All Employees" -RecipientFilter "RecipientType -eq 'UserMailbox'"
New-UnifiedGroup -DisplayName "Project X"
"#;

#[test]
fn every_recipient_kind_and_every_seed_cmdlet_works_through_the_shell() {
    let (_dir, server) = org("seeds", "contoso.com");
    server.shell(&CREATE_EVERY_KIND.replace("PW", PW)).expect_ok();

    let recipients = server.json("Get-Recipient -ResultSize Unlimited");
    for kind in [
        "UserMailbox",
        "LinkedMailbox",
        "SharedMailbox",
        "RoomMailbox",
        "EquipmentMailbox",
        "ArbitrationMailbox",
        "DiscoveryMailbox",
        "MailUser",
        "User",
        "MailUniversalDistributionGroup",
        "MailUniversalSecurityGroup",
        "SecurityGroup",
        "DynamicDistributionGroup",
        "GroupMailbox",
    ] {
        assert!(field(&recipients, "RecipientTypeDetails", kind).is_some(), "no {kind} in {recipients:#?}");
    }
    let mary = field(&recipients, "Name", "Mary").unwrap();
    assert_eq!(mary["PrimarySmtpAddress"], "mary@contoso.com");
    assert_eq!(mary["DistinguishedName"], "CN=Mary,CN=Users,DC=contoso,DC=com");
    assert_eq!(mary["Department"], "Sales");

    // The seeds' lines, written exactly as Microsoft documents them (seeds 000, 001).
    server
        .shell(
            r#"
Add-MailboxPermission -Identity "Terry Adams" -User raymonds -AccessRights FullAccess -InheritanceType All
Add-MailboxPermission -Identity "Helpdesk Tickets" -User Helpdesk -AccessRights FullAccess -InheritanceType All
Add-MailboxPermission -Identity "DiscoverySearchMailbox{D919BA05-46A6-415f-80AD-7E09334BB852}" -User estherv -AccessRights FullAccess -InheritanceType All -AutoMapping $false
Add-MailboxPermission -Identity ayla -User "Jim Hance" -AccessRights FullAccess -InheritanceType All
Remove-MailboxPermission -Identity ayla -User "Jim Hance" -AccessRights FullAccess -InheritanceType All -Confirm:$false
Set-Mailbox -Identity "Contoso Executives" -GrantSendOnBehalfTo @{Add="tempassistants@contoso.com"}
Set-DynamicDistributionGroup "All Employees" -GrantSendOnBehalfTo Administrator
Set-DynamicDistributionGroup "All Employees" -GrantSendOnBehalfTo @{Remove="Administrator"}
Set-Mailbox mary@contoso.com –MessageCopyForSentAsEnabled $true
Set-Mailbox mary@contoso.com –MessageCopyForSendOnBehalfEnabled $true
Add-RecipientPermission "Mary" -AccessRights SendAs -Trustee "Raymond Sam" -Confirm:$false
Add-ADPermission -Identity "Terry Adams" -User raymonds -AccessRights ExtendedRight -ExtendedRights "Send As"
Add-MailboxFolderPermission -Identity mary:\Calendar -User raymonds -AccessRights Editor -SharingPermissionFlags Delegate,CanViewPrivateItems
Add-MailboxFolderPermission -Identity "mary@contoso.com:\Inbox" -User Helpdesk -AccessRights Reviewer
"#,
        )
        .expect_ok();

    let terry = server.json(r#"Get-MailboxPermission -Identity "Terry Adams""#);
    let row = field(&terry, "User", "raymonds@contoso.com").expect("raymonds' grant");
    assert_eq!(row["AccessRights"], serde_json::json!(["FullAccess"]));
    assert_eq!(row["Deny"], false);
    assert_eq!(row["IsInherited"], false);
    assert_eq!(row["InheritanceType"], "All");
    assert!(field(&terry, "User", "NT AUTHORITY\\SELF").is_some(), "the mailbox's own entry is listed");
    let discovery = server
        .json(r#"Get-MailboxPermission "DiscoverySearchMailbox{D919BA05-46A6-415f-80AD-7E09334BB852}" -User estherv"#);
    assert_eq!(discovery.len(), 1);
    assert_eq!(discovery[0]["AutoMapping"], false);
    let helpdesk = server.json(r#"Get-MailboxPermission "Helpdesk Tickets" | Where-Object {$_.User -like 'Help*'}"#);
    assert_eq!(helpdesk.len(), 1, "the group's grant");
    assert!(server.json("Get-MailboxPermission -Identity ayla -User \"Jim Hance\"").is_empty(), "removed");

    let execs = server.json(r#"Get-Mailbox "Contoso Executives""#);
    assert_eq!(execs[0]["GrantSendOnBehalfTo"], serde_json::json!(["Temp Assistants"]));
    let everyone = server.json(r#"Get-DynamicDistributionGroup "All Employees""#);
    assert_eq!(everyone[0]["GrantSendOnBehalfTo"], serde_json::json!([]));
    let mary = server.json("Get-Mailbox mary");
    assert_eq!(mary[0]["MessageCopyForSentAsEnabled"], true);
    assert_eq!(mary[0]["MessageCopyForSendOnBehalfEnabled"], true);

    let send_as = server.json("Get-RecipientPermission mary");
    assert_eq!(send_as.len(), 1);
    assert_eq!(send_as[0]["Trustee"], "raymonds@contoso.com");
    assert_eq!(send_as[0]["AccessRights"], serde_json::json!(["SendAs"]));
    assert_eq!(send_as[0]["AccessControlType"], "Allow");
    let reverse = server.json(r#"Get-RecipientPermission -Trustee raymonds"#);
    assert_eq!(reverse.len(), 2, "Send As on Mary and on Terry: {reverse:#?}");
    let ad = server.json(r#"Get-ADPermission -Identity "Terry Adams" | where {$_.ExtendedRights -like 'Send*'}"#);
    assert_eq!(ad[0]["User"], "CONTOSO\\raymonds");

    let calendar = server.json(r"Get-MailboxFolderPermission -Identity mary:\Calendar");
    assert_eq!(field(&calendar, "User", "Default").unwrap()["AccessRights"], serde_json::json!(["AvailabilityOnly"]));
    assert_eq!(field(&calendar, "User", "Anonymous").unwrap()["AccessRights"], serde_json::json!(["None"]));
    let raymond = field(&calendar, "User", "Raymond Sam").unwrap();
    assert_eq!(raymond["AccessRights"], serde_json::json!(["Editor"]));
    assert_eq!(raymond["SharingPermissionFlags"], "Delegate, CanViewPrivateItems");

    // And every removal through its own cmdlet.
    server
        .shell(
            r#"
Remove-RecipientPermission "Mary" -AccessRights SendAs -Trustee "Raymond Sam" -Confirm:$false
Remove-ADPermission -Identity "Terry Adams" -User raymonds -ExtendedRights "Send As" -Confirm:$false
Remove-MailboxFolderPermission -Identity mary:\Calendar -User raymonds -Confirm:$false
Set-MailboxFolderPermission -Identity mary:\Inbox -User Helpdesk -AccessRights Editor
Set-Mailbox "Contoso Executives" -GrantSendOnBehalfTo $null
Remove-DistributionGroupMember -Identity Helpdesk -Member ayla -Confirm:$false
"#,
        )
        .expect_ok();
    assert!(server.json("Get-RecipientPermission mary").is_empty());
    assert!(server.json(r#"Get-ADPermission "Terry Adams""#).is_empty());
    let cal = server.json(r"Get-MailboxFolderPermission mary:\Calendar");
    assert_eq!(cal.len(), 2, "only Default and Anonymous are left: {cal:#?}");
    let inbox = server.json(r"Get-MailboxFolderPermission mary:\Inbox -User Helpdesk");
    assert_eq!(inbox[0]["AccessRights"], serde_json::json!(["Editor"]));
    assert_eq!(server.json(r#"Get-Mailbox "Contoso Executives""#)[0]["GrantSendOnBehalfTo"], serde_json::json!([]));
    let members = server.json("Get-DistributionGroupMember Helpdesk");
    assert_eq!(members.len(), 1);
    assert_eq!(members[0]["Name"], "Raymond Sam");
}

#[test]
fn test_delegate_access_explains_nested_groups_and_hidden_mailboxes() {
    let (_dir, server) = org("explain", "contoso.test");
    server
        .shell(&format!(
            r#"
New-Mailbox -Name Mary -Password {PW}
New-Mailbox -Name Rob -Password {PW}
New-DistributionGroup -Name Tier1 -Type Security -Members rob
New-DistributionGroup -Name Assistants -Type Security -Members Tier1
Add-MailboxPermission -Identity mary -User Assistants -AccessRights FullAccess
Add-RecipientPermission mary -Trustee rob -AccessRights SendAs
"#
        ))
        .expect_ok();
    let rows = server.json("Test-DelegateAccess -Identity mary -User rob");
    let full = field(&rows, "Permission", "FullAccess").unwrap();
    assert_eq!(full["Allowed"], true);
    let reason = full["Reason"].as_str().unwrap();
    assert!(reason.contains("Assistants") && reason.contains("Tier1"), "the path names each group: {reason}");
    assert_eq!(field(&rows, "Permission", "SendAs").unwrap()["Allowed"], true);
    assert_eq!(field(&rows, "Permission", "SendOnBehalf").unwrap()["Allowed"], false);

    let delegated = server.json("Get-DelegatedMailbox -User rob");
    let via = delegated.iter().find(|d| d["AccessRights"] == "FullAccess").unwrap();
    assert_eq!(via["Identity"], "Mary");
    assert_eq!(via["Via"], "Tier1 > Assistants");
    assert_eq!(via["AutoMapping"], false, "group grants are never auto-mapped (spec §3.1)");

    server.shell("Set-Mailbox mary -HiddenFromAddressListsEnabled $true").expect_ok();
    let rows = server.json("Test-DelegateAccess -Identity mary -User rob");
    for row in &rows {
        assert_eq!(row["Allowed"], false, "{row}");
        assert!(row["Reason"].as_str().unwrap().to_lowercase().contains("hidden"), "{row}");
    }
    assert!(server.json("Get-DelegatedMailbox -User rob").is_empty(), "a hidden mailbox is not offered");
}

/// Everything the errors test might disturb, as JSON text.
fn dump(server: &Server) -> String {
    let script = "Get-Recipient -ResultSize Unlimited | Sort-Object Name | ConvertTo-Json -Depth 3; \
                  Get-MailboxPermission mary | ConvertTo-Json; Get-RecipientPermission | ConvertTo-Json; \
                  Get-MailboxFolderPermission mary:\\Inbox | ConvertTo-Json";
    server.shell(script).expect_ok()
}

#[test]
fn errors_name_the_cmdlet_parameter_and_value_and_change_nothing() {
    let (_dir, server) = org("errors", "contoso.test");
    server
        .shell(&format!(
            r#"
New-Mailbox -Name Mary -Password {PW}
New-Mailbox -Name Rob -Password {PW}
New-Mailbox -Name Pat -Alias patricia -Password {PW}
New-Mailbox -Name "Pat Two" -Alias pat -Password {PW}
New-Mailbox -Name "Helpdesk Tickets" -Shared
Add-MailboxPermission mary -User rob -AccessRights FullAccess
"#
        ))
        .expect_ok();
    let before = dump(&server);
    let cases: &[(&str, &[&str])] = &[
        (
            "Add-MailboxPermission -Identity nobody -User rob -AccessRights FullAccess",
            &["Add-MailboxPermission", "'Identity'", "Couldn't find object \"nobody\""],
        ),
        (
            "Add-MailboxPermission -Identity mary -User ghost -AccessRights FullAccess",
            &["Add-MailboxPermission", "'User'", "Couldn't find object \"ghost\""],
        ),
        (
            "Add-RecipientPermission mary -Trustee pat -AccessRights SendAs",
            &["'Trustee'", "'pat' matches multiple entries", "Pat", "Pat Two"],
        ),
        (
            "Add-MailboxPermission -Identity mary -User \"Helpdesk Tickets\" -AccessRights FullAccess",
            &["Add-MailboxPermission", "SharedMailbox", "UserMailbox"],
        ),
        (
            "Add-MailboxPermission -Identity mary -User rob -AccessRights FullAccess -Colour blue",
            &["Add-MailboxPermission", "A parameter cannot be found that matches parameter name 'Colour'"],
        ),
        ("Add-MailboxPermission -Identity mary -User rob -AccessRights Everything", &["AccessRights", "Everything"]),
        (
            "Add-MailboxPermission -Identity mary -User rob -AccessRights FullAccess -AutoMapping maybe",
            &["AutoMapping", "maybe"],
        ),
        ("Add-MailboxPermission -Identity mary -AccessRights FullAccess", &["missing mandatory parameters: User"]),
        ("Add-MailboxFolderPermission -Identity mary:\\Inbox -User rob -AccessRights Boss", &["AccessRights", "Boss"]),
        ("Add-MailboxFolderPermission -Identity mary:\\Nowhere -User rob -AccessRights Reviewer", &["Nowhere"]),
        (
            "New-Mailbox -Name Mary -Password (ConvertTo-SecureString -String 'x1!Aaaaa' -AsPlainText -Force)",
            &["Mary", "already"],
        ),
        ("Add-MailboxPermission -Identity 'mary -User rob", &["missing the terminator"]),
    ];
    for (line, expected) in cases {
        let err = server.shell(line).expect_err();
        for e in *expected {
            assert!(err.contains(e), "`{line}` error lacks {e:?}:\n{err}");
        }
    }
    // A failing statement in a script stops nothing before it and is reported; the data is as before.
    assert_eq!(dump(&server), before, "a failed command changes nothing");
}

#[test]
fn what_if_and_the_audit_log() {
    let (_dir, server) = org("audit", "contoso.test");
    server.shell(&format!("New-Mailbox -Name Mary -Password {PW}; New-Mailbox -Name Rob -Password {PW}")).expect_ok();
    let what_if = server.shell("Add-MailboxPermission mary -User rob -AccessRights FullAccess -WhatIf").expect_ok();
    assert!(what_if.contains("What if:"), "{what_if}");
    assert_eq!(server.json("Get-MailboxPermission mary -User rob").len(), 0, "-WhatIf changes nothing");
    server.shell("Add-MailboxPermission mary -User rob -AccessRights FullAccess").expect_ok();
    // Granting it again: Exchange's warning, no object, no audit record.
    let again = server.shell("Add-MailboxPermission mary -User rob -AccessRights FullAccess");
    assert!(again.ok && again.stdout.trim().is_empty(), "{again:?}");
    assert!(again.stderr.contains("WARNING: The appropriate access control entry is already present"), "{again:?}");
    let events = server.json("Search-AdminAuditLog -Cmdlets Add-MailboxPermission");
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["Caller"], "admin@contoso.test");
    assert_eq!(events[0]["ObjectModified"], "Mary");
    assert_eq!(events[0]["CmdletParameters"], "Add-MailboxPermission mary -User rob -AccessRights FullAccess");
    assert!(events[0]["NewValue"].as_str().unwrap().contains("\"automapping\":true"), "{}", events[0]["NewValue"]);
    let all = server.json("Search-AdminAuditLog -StartDate 2000-01-01 -EndDate 2999-01-01");
    assert!(all.len() >= 3, "New-Mailbox twice and the grant: {all:#?}");
    assert!(server.json("Search-AdminAuditLog -EndDate 2000-01-01").is_empty());
}

#[test]
fn only_administrators_get_a_shell() {
    let (_dir, server) = org("nonadmin", "contoso.test");
    server.shell(&format!("New-Mailbox -Name Rob -Password {PW}")).expect_ok();
    let err = server.shell_as("rob", "P@ssw0rd1", "Get-Mailbox").expect_err();
    assert!(err.contains("isn't an administrator"), "{err}");
    let err = server.shell_as("admin", "wrong", "Get-Mailbox").expect_err();
    assert!(err.contains("incorrect"), "{err}");
    assert!(!PASSWORD.is_empty());
}

#[test]
fn init_refuses_an_existing_directory_and_serve_initializes_an_empty_one() {
    let dir = TempDir::new("init");
    assert!(init(&dir.0, "contoso.test").status.success());
    let again = init(&dir.0, "contoso.test");
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("never overwrites"));

    let fresh = TempDir::new("fresh");
    let server = Server::start_with(&fresh.0, &["--domain", "fabrikam.test"]);
    let banner = server.stdout.join("\n");
    let password = banner.split("password: ").nth(1).and_then(|s| s.split_whitespace().next()).expect(&banner);
    let out = server.shell_as("admin@fabrikam.test", password, "Get-AcceptedDomain | ConvertTo-Json").expect_ok();
    assert!(out.contains("fabrikam.test"), "{out}");
}
