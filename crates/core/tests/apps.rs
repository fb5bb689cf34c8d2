//! Registered applications on the embedded store: creation rules, secrets that
//! are shown once and checked with Argon2, role assignments, removal that
//! takes effect at once, and persistence across a reload.

#![allow(clippy::unwrap_used, reason = "test scaffolding: a failed unwrap is a failed test")]

use deputy_core::{CoreError, Ctx, Deputy, NewAppSecret, NewServicePrincipal};
use deputy_store::AuditQuery;
use deputy_store_sqlite::SqliteStore;
use deputy_types::AppRole;
use std::path::PathBuf;
use std::sync::Arc;
use uuid::Uuid;

struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
fn temp_dir(name: &str) -> TempDir {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    TempDir(std::env::temp_dir().join(format!("deputy-core-apps-{name}-{}-{n}", std::process::id())))
}

async fn org(dir: &TempDir) -> Deputy {
    let store = Arc::new(SqliteStore::open(&dir.0).unwrap());
    let d = Deputy::load(store.clone(), store).await.unwrap();
    if !d.is_initialized() {
        d.initialize("contoso.test", "Adm1n!pass").await.unwrap();
    }
    d
}

fn ctx() -> Ctx {
    Ctx::new("admin@contoso.test", "Test", "test")
}

async fn app(d: &Deputy, name: &str) -> (Uuid, Uuid) {
    let spec = NewServicePrincipal { display_name: name.into(), ..Default::default() };
    let sp = d.new_service_principal(&ctx(), spec).await.unwrap().value;
    (sp.id, sp.app_id)
}

#[tokio::test]
async fn a_secret_authenticates_its_app_until_removed() {
    let dir = temp_dir("secret");
    let d = org(&dir).await;
    let (id, app_id) = app(&d, "Mailer").await;
    let created = d.add_app_secret(&ctx(), id, NewAppSecret::default()).await.unwrap().value;
    assert_eq!(created.text.len(), 40);
    assert_eq!(created.secret.hint, created.text[..3]);
    assert!(created.secret.hash.starts_with("$argon2id$"), "only the hash is stored");
    let lifetime = created.secret.end - created.secret.start;
    assert!((729..=731).contains(&lifetime.num_days()), "two years by default: {lifetime}");

    let client_id = app_id.to_string();
    let sp = d.authenticate_app(&client_id, &created.text).await.expect("the right secret authenticates");
    assert_eq!(sp.id, id);
    // The second time comes from the cache; it must give the same answer.
    assert!(d.authenticate_app(&client_id.to_uppercase(), &created.text).await.is_some());
    assert!(d.authenticate_app(&client_id, "wrong").await.is_none());
    assert!(d.authenticate_app(&client_id, &format!("{}x", created.text)).await.is_none());
    assert!(d.authenticate_app(&client_id, "").await.is_none());
    assert!(d.authenticate_app(&id.to_string(), &created.text).await.is_none(), "the client id is the AppId");
    assert!(d.authenticate_app("not-a-guid", &created.text).await.is_none());

    // A second secret works alongside; removing the first refuses it at once, cached or not.
    let other = d.add_app_secret(&ctx(), id, NewAppSecret::default()).await.unwrap().value;
    assert!(d.authenticate_app(&client_id, &other.text).await.is_some());
    d.remove_app_secret(&ctx(), id, created.secret.key_id).await.unwrap();
    assert!(d.authenticate_app(&client_id, &created.text).await.is_none(), "a removed secret fails at once");
    assert!(d.authenticate_app(&client_id, &other.text).await.is_some());
    let err = d.remove_app_secret(&ctx(), id, created.secret.key_id).await.unwrap_err();
    assert!(matches!(err, CoreError::NotFound(_)), "{err}");

    d.remove_service_principal(&ctx(), id).await.unwrap();
    assert!(d.authenticate_app(&client_id, &other.text).await.is_none(), "a removed app fails at once");
    assert!(d.service_principal(&client_id).is_none());
}

#[tokio::test]
async fn secret_dates_are_checked() {
    let dir = temp_dir("dates");
    let d = org(&dir).await;
    let (id, _) = app(&d, "Dated").await;
    let past = chrono::Utc::now() - chrono::Duration::days(1);
    let expired = NewAppSecret { end: Some(past), start: Some(past - chrono::Duration::days(2)), ..Default::default() };
    let err = d.add_app_secret(&ctx(), id, expired).await.unwrap_err();
    assert!(matches!(err, CoreError::InvalidValue { parameter: "EndDateTime", .. }), "{err}");
    let backwards = NewAppSecret { end: Some(past), ..Default::default() };
    assert!(d.add_app_secret(&ctx(), id, backwards).await.is_err());
    // A secret that starts tomorrow does not work today.
    let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
    let later = NewAppSecret { start: Some(tomorrow), display_name: Some("later".into()), ..Default::default() };
    let created = d.add_app_secret(&ctx(), id, later).await.unwrap().value;
    assert_eq!(created.secret.display_name, "later");
    let client_id = d.service_principal(&id.to_string()).unwrap().app_id.to_string();
    assert!(d.authenticate_app(&client_id, &created.text).await.is_none());
}

#[tokio::test]
async fn app_ids_are_unique_and_identities_resolve() {
    let dir = temp_dir("unique");
    let d = org(&dir).await;
    let app_id = Uuid::new_v4();
    let object_id = Uuid::new_v4();
    let spec = NewServicePrincipal { display_name: "First".into(), app_id: Some(app_id), object_id: Some(object_id) };
    d.new_service_principal(&ctx(), spec).await.unwrap();
    let again = NewServicePrincipal { display_name: "Second".into(), app_id: Some(app_id), object_id: None };
    let err = d.new_service_principal(&ctx(), again).await.unwrap_err();
    assert!(matches!(err, CoreError::Taken { what: "AppId", .. }), "{err}");
    let blank = NewServicePrincipal { display_name: "  ".into(), ..Default::default() };
    let err = d.new_service_principal(&ctx(), blank).await.unwrap_err();
    assert!(matches!(err, CoreError::InvalidValue { parameter: "DisplayName", .. }), "{err}");

    assert_eq!(d.service_principal(&app_id.to_string()).unwrap().id, object_id);
    assert_eq!(d.service_principal(&format!("{{{object_id}}}")).unwrap().app_id, app_id);
    d.read(|s| {
        assert_eq!(s.resolve_service_principal("first").unwrap().id, object_id);
        assert!(matches!(s.resolve_service_principal("Nobody"), Err(CoreError::NotFound(_))));
    });
    app(&d, "Twin").await;
    app(&d, "Twin").await;
    let err = d.read(|s| s.resolve_service_principal("twin").map(|sp| sp.id)).unwrap_err();
    assert!(matches!(err, CoreError::Ambiguous { .. }), "display names may repeat; resolving one is an error");
}

#[tokio::test]
async fn role_assignments_are_named_unique_and_survive_a_reload() {
    let dir = temp_dir("roles");
    let d = org(&dir).await;
    let (id, app_id) = app(&d, "Contoso Mailer").await;
    let (other, _) = app(&d, "Other").await;
    let a = d.add_app_role(&ctx(), id, AppRole::MailSend, None).await.unwrap();
    assert!(a.changed);
    assert_eq!(a.value.name, "Application Mail.Send-Contoso Mailer");
    let dup = d.add_app_role(&ctx(), id, AppRole::MailSend, Some("another")).await.unwrap();
    assert!(!dup.changed && dup.warnings.len() == 1, "a role held already is a warning: {dup:?}");
    let err = d.add_app_role(&ctx(), other, AppRole::MailRead, Some("application mail.send-contoso mailer")).await;
    assert!(matches!(err, Err(CoreError::Taken { what: "Name", .. })), "{err:?}");
    d.add_app_role(&ctx(), id, AppRole::CalendarsRead, Some("Calendars for the mailer")).await.unwrap();
    assert_eq!(d.service_principal(&app_id.to_string()).unwrap().permissions(), ["Mail.Send", "Calendars.Read"]);

    drop(d);
    let d = org(&dir).await;
    let sp = d.service_principal(&app_id.to_string()).unwrap();
    assert_eq!(sp.display_name, "Contoso Mailer");
    assert_eq!(sp.permissions(), ["Mail.Send", "Calendars.Read"]);
    d.remove_app_role(&ctx(), "CALENDARS FOR THE MAILER").await.unwrap();
    assert!(matches!(d.remove_app_role(&ctx(), "Calendars for the mailer").await, Err(CoreError::NotFound(_))));
    d.set_service_principal(&ctx(), id, "Renamed").await.unwrap();
    let sp = d.service_principal(&id.to_string()).unwrap();
    assert_eq!((sp.display_name.as_str(), sp.permissions()), ("Renamed", vec!["Mail.Send"]));

    let audit = d.search_audit(&AuditQuery { limit: 50, ..Default::default() }).await.unwrap();
    assert!(audit.iter().any(|r| r.object == "Contoso Mailer"), "changes are audited");
}

#[tokio::test]
async fn audit_records_never_hold_secret_hashes() {
    let dir = temp_dir("audit");
    let d = org(&dir).await;
    let (id, _) = app(&d, "Audited").await;
    let created = d.add_app_secret(&ctx(), id, NewAppSecret::default()).await.unwrap().value;
    d.remove_app_secret(&ctx(), id, created.secret.key_id).await.unwrap();
    let audit = d.search_audit(&AuditQuery::default()).await.unwrap();
    for r in audit {
        let text = format!("{:?} {:?}", r.before, r.after);
        assert!(!text.contains("argon2") && !text.contains(&created.text), "{text}");
    }
}
