//! End to end: registered applications (service principals) for Graph's
//! client-credentials tokens, managed through `deputy shell` on the real
//! binary, and kept across a restart.

mod support;

use serde_json::Value;
use support::{Server, TempDir, init};

fn org(name: &str) -> (TempDir, Server) {
    let dir = TempDir::new(name);
    let out = init(&dir.0, "contoso.com");
    assert!(out.status.success(), "init failed: {}", String::from_utf8_lossy(&out.stderr));
    let server = Server::start(&dir.0);
    (dir, server)
}

fn one(rows: Vec<Value>, what: &str) -> Value {
    assert_eq!(rows.len(), 1, "{what}: {rows:#?}");
    rows.into_iter().next().unwrap_or_default()
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("no string {key} in {v:#?}"))
}

#[test]
fn an_application_is_registered_given_a_secret_and_a_role_and_survives_a_restart() {
    let (dir, server) = org("apps");
    let app_id = "6f1c7a52-3f5e-4c2a-9a51-0c3d2b1e4f77";
    let created = one(
        server.json(&format!("New-ServicePrincipal -DisplayName 'Contoso Mailer' -AppId {app_id}")),
        "New-ServicePrincipal",
    );
    assert_eq!(text(&created, "DisplayName"), "Contoso Mailer");
    assert_eq!(text(&created, "AppId"), app_id);
    let object_id = text(&created, "ObjectId").to_owned();
    assert_eq!(text(&created, "Identity"), object_id);
    let err = server.shell(&format!("New-ServicePrincipal -DisplayName Copy -AppId {app_id}")).expect_err();
    assert!(err.contains("AppId") && err.contains(app_id), "a second app with the same AppId: {err}");

    // The secret's text is shown once, in the result of Add-MgApplicationPassword.
    let secret = one(
        server.json(&format!(
            "Add-MgApplicationPassword -ApplicationId {app_id} -PasswordCredential @{{DisplayName='Mailer key'}}"
        )),
        "Add-MgApplicationPassword",
    );
    let secret_text = text(&secret, "SecretText");
    assert_eq!(secret_text.len(), 40, "{secret:#?}");
    assert_eq!(text(&secret, "Hint"), &secret_text[..3]);
    assert_eq!(text(&secret, "DisplayName"), "Mailer key");
    let key_id = text(&secret, "KeyId").to_owned();
    assert!(!server.shell("Get-ServicePrincipal | ConvertTo-Json").expect_ok().contains(secret_text));

    let assigned = one(
        server.json("New-ManagementRoleAssignment -App 'Contoso Mailer' -Role 'Application Mail.Send'"),
        "New-ManagementRoleAssignment",
    );
    assert_eq!(text(&assigned, "Name"), "Application Mail.Send-Contoso Mailer");
    assert_eq!(text(&assigned, "Role"), "Application Mail.Send");
    assert_eq!(text(&assigned, "RoleAssigneeName"), "Contoso Mailer");
    assert_eq!(text(&assigned, "RoleAssigneeType"), "ServicePrincipal");
    assert_eq!(text(&assigned, "RoleAssignmentDelegationType"), "Regular");
    assert_eq!(assigned["Enabled"], true);
    server
        .shell(&format!(
            "New-ManagementRoleAssignment -App {object_id} -Role 'application calendars.read' -Name 'Mailer calendars'"
        ))
        .expect_ok();
    let again = server.shell(&format!("New-ManagementRoleAssignment -App {app_id} -Role 'Application Mail.Send'"));
    let again = again.expect_ok();
    assert!(!again.contains("Regular"), "a role held already answers with a warning alone: {again}");

    let bad = server.shell("New-ManagementRoleAssignment -App 'Contoso Mailer' -Role 'Application Mail.Delete'");
    let bad = bad.expect_err();
    assert!(bad.contains("'Role'") && bad.contains("Application Mail.Delete"), "{bad}");
    assert!(bad.contains("Application Mail.ReadWrite"), "the error lists the valid roles: {bad}");
    let nobody = server.shell("New-ManagementRoleAssignment -App Nobody -Role 'Application Mail.Send'").expect_err();
    assert!(nobody.contains("'App'") && nobody.contains("Nobody"), "{nobody}");

    let listed = server.json("Get-ManagementRoleAssignment -RoleAssignee 'Contoso Mailer'");
    let names: Vec<&str> = listed.iter().map(|r| text(r, "Name")).collect();
    assert_eq!(names, ["Application Mail.Send-Contoso Mailer", "Mailer calendars"]);
    let sends = server.json("Get-ManagementRoleAssignment -Role 'Application Mail.Send'");
    assert_eq!(sends.len(), 1);

    server.shell("Remove-ManagementRoleAssignment -Identity 'Mailer calendars' -Confirm:$false").expect_ok();
    let listed = server.json("Get-ManagementRoleAssignment");
    assert_eq!(listed.len(), 1, "{listed:#?}");
    let gone = server.shell("Remove-ManagementRoleAssignment -Identity 'Mailer calendars' -Confirm:$false");
    assert!(gone.expect_err().contains("Mailer calendars"));
    server.shell(&format!("Set-ServicePrincipal -Identity {object_id} -DisplayName 'Contoso Mailer 2'")).expect_ok();

    // Restart: everything comes back from the store.
    server.stop();
    let server = Server::start(&dir.0);
    let sp = one(server.json(&format!("Get-ServicePrincipal -Identity {app_id}")), "after a restart");
    assert_eq!(text(&sp, "DisplayName"), "Contoso Mailer 2");
    assert_eq!(text(&sp, "ObjectId"), object_id);
    let kept = one(server.json("Get-ManagementRoleAssignment"), "assignments after a restart");
    assert_eq!(text(&kept, "Name"), "Application Mail.Send-Contoso Mailer");

    server.shell(&format!("Remove-MgApplicationPassword -ApplicationId {app_id} -KeyId {key_id}")).expect_ok();
    let no_key = server.shell(&format!("Remove-MgApplicationPassword -ApplicationId {app_id} -KeyId {key_id}"));
    assert!(no_key.expect_err().contains("KeyId"));
    server.shell("Get-ServicePrincipal 'Contoso Mailer 2' | Remove-ServicePrincipal -Confirm:$false").expect_ok();
    assert!(server.json("Get-ServicePrincipal").is_empty());
    assert!(server.json("Get-ManagementRoleAssignment").is_empty(), "the app's assignments went with it");

    server.stop();
    let server = Server::start(&dir.0);
    assert!(server.json("Get-ServicePrincipal").is_empty(), "the removal survives a restart");
    let audit = server.json("Search-AdminAuditLog -Cmdlets New-ServicePrincipal,Add-MgApplicationPassword");
    assert_eq!(audit.len(), 2, "{audit:#?}");
    assert!(audit.iter().all(|r| !r.to_string().contains(secret_text)), "the audit log never holds a secret");
}
