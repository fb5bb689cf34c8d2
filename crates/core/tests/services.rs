//! The core services on the embedded store: mutations commit, apply, audit,
//! survive a reload, and fail without changing anything.

#![allow(clippy::unwrap_used, reason = "test scaffolding: a failed unwrap is a failed test")]

use deputy_access::{Action, Reason, SendMode};
use deputy_core::{CoreError, Ctx, Deputy, FolderPermissionEdit, MailboxGrant, MultiEdit, NewRecipient, RecipientEdit};
use deputy_store::AuditQuery;
use deputy_store_sqlite::SqliteStore;
use deputy_types::{FolderRole, FolderUser, InheritanceType, MailboxRights, RecipientId, RecipientType, SharingFlags};
use std::path::PathBuf;
use std::sync::Arc;

struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
fn temp_dir(name: &str) -> TempDir {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    TempDir(std::env::temp_dir().join(format!("deputy-core-{name}-{}-{n}", std::process::id())))
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

async fn mailbox(d: &Deputy, name: &str, kind: RecipientType) -> RecipientId {
    let spec = NewRecipient {
        kind: Some(kind),
        name: name.into(),
        password: (kind == RecipientType::UserMailbox).then(|| "P@ssw0rd!".into()),
        ..Default::default()
    };
    d.new_recipient(&ctx(), spec).await.unwrap().value.id
}

const FULL: MailboxGrant = MailboxGrant {
    rights: MailboxRights::FULL_ACCESS,
    deny: false,
    inheritance: InheritanceType::All,
    automapping: true,
};

#[tokio::test]
async fn grants_are_visible_at_once_and_survive_reload() {
    let dir = temp_dir("reload");
    let d = org(&dir).await;
    let mary = mailbox(&d, "Mary", RecipientType::UserMailbox).await;
    let rob = mailbox(&d, "Rob", RecipientType::UserMailbox).await;
    d.add_mailbox_permission(&ctx(), mary, rob, FULL).await.unwrap();
    d.set_recipient(
        &ctx(),
        mary,
        RecipientEdit { send_on_behalf: Some(MultiEdit::Replace(vec![rob])), ..Default::default() },
    )
    .await
    .unwrap();
    let check = |d: &Deputy| {
        d.read(|s| {
            assert!(s.access.decide(rob, Action::OpenMailbox, mary).allowed);
            assert_eq!(s.access.decide(rob, Action::Send, mary).mode, Some(SendMode::SendOnBehalf));
        })
    };
    check(&d);
    drop(d);
    let d = org(&dir).await;
    check(&d);
    let audit = d.search_audit(&AuditQuery { limit: 10, ..Default::default() }).await.unwrap();
    assert!(audit.iter().any(|r| r.cmdlet == "Test" && r.object == "Mary"), "audit records the changes");
}

#[tokio::test]
async fn duplicate_grant_is_a_warning_and_changes_nothing() {
    let dir = temp_dir("dup");
    let d = org(&dir).await;
    let mary = mailbox(&d, "Mary", RecipientType::UserMailbox).await;
    let rob = mailbox(&d, "Rob", RecipientType::UserMailbox).await;
    d.add_mailbox_permission(&ctx(), mary, rob, FULL).await.unwrap();
    let before = d.search_audit(&AuditQuery::default()).await.unwrap().len();
    let again = d.add_mailbox_permission(&ctx(), mary, rob, FULL).await.unwrap();
    assert!(again.warnings[0].contains("already present"), "{:?}", again.warnings);
    assert_eq!(d.search_audit(&AuditQuery::default()).await.unwrap().len(), before, "no audit record, no change");
    let removed = d.remove_mailbox_permission(&ctx(), mary, rob, MailboxRights::FULL_ACCESS, false).await.unwrap();
    assert!(removed.warnings.is_empty());
    let missing = d.remove_mailbox_permission(&ctx(), mary, rob, MailboxRights::FULL_ACCESS, false).await.unwrap();
    assert!(missing.warnings[0].contains("doesn't exist"), "{:?}", missing.warnings);
}

#[tokio::test]
async fn invalid_combination_is_refused_naming_both_types() {
    // spec §2: a shared mailbox can't be a delegate.
    let dir = temp_dir("combo");
    let d = org(&dir).await;
    let mary = mailbox(&d, "Mary", RecipientType::UserMailbox).await;
    let shared = mailbox(&d, "Helpdesk", RecipientType::SharedMailbox).await;
    let err = d.add_mailbox_permission(&ctx(), mary, shared, FULL).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, CoreError::InvalidCombination(_)));
    assert!(text.contains("SharedMailbox") && text.contains("UserMailbox"), "{text}");
    assert!(d.read(|s| s.mailbox_aces(mary).is_empty()), "nothing applied");
}

#[tokio::test]
async fn removing_a_recipient_removes_every_reference_to_it() {
    let dir = temp_dir("cascade");
    let d = org(&dir).await;
    let mary = mailbox(&d, "Mary", RecipientType::UserMailbox).await;
    let rob = mailbox(&d, "Rob", RecipientType::UserMailbox).await;
    let group = d
        .new_recipient(
            &ctx(),
            NewRecipient {
                kind: Some(RecipientType::MailUniversalSecurityGroup),
                name: "Assistants".into(),
                members: vec![rob],
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .value
        .id;
    d.add_mailbox_permission(&ctx(), mary, rob, FULL).await.unwrap();
    d.add_send_as(&ctx(), mary, group, false).await.unwrap();
    d.set_recipient(
        &ctx(),
        mary,
        RecipientEdit { send_on_behalf: Some(MultiEdit::Replace(vec![rob])), ..Default::default() },
    )
    .await
    .unwrap();
    let inbox = d.read(|s| s.resolve_folder(mary, "Inbox")).unwrap();
    let edit = FolderPermissionEdit { rights: FolderRole::Reviewer.rights(), flags: None, send_notification: false };
    d.add_folder_permission(&ctx(), inbox, FolderUser::Recipient(rob), edit).await.unwrap();
    d.remove_recipient(&ctx(), rob).await.unwrap();
    d.read(|s| {
        assert!(s.mailbox_aces(mary).is_empty());
        assert!(s.dir.members(group).is_empty());
        assert!(s.dir.get(mary).unwrap().grant_send_on_behalf_to.is_empty());
        assert!(s.folder_aces(inbox).is_empty());
    });
    drop(d);
    let d = org(&dir).await;
    d.read(|s| {
        assert!(s.dir.get(rob).is_none());
        assert_eq!(s.send_as_aces(mary).len(), 1, "the group's own grant stays");
    });
}

#[tokio::test]
async fn calendar_delegate_flags_follow_spec_rules() {
    // spec §5: flags only on calendars, only with Editor; CanViewPrivateItems needs Delegate.
    let dir = temp_dir("flags");
    let d = org(&dir).await;
    let mary = mailbox(&d, "Mary", RecipientType::UserMailbox).await;
    let rob = mailbox(&d, "Rob", RecipientType::UserMailbox).await;
    let (cal, inbox) =
        d.read(|s| (s.resolve_folder(mary, "Calendar").unwrap(), s.resolve_folder(mary, "Inbox").unwrap()));
    let user = FolderUser::Recipient(rob);
    let editor = FolderRole::Editor.rights();
    let with = |flags| FolderPermissionEdit { rights: editor, flags: Some(flags), send_notification: false };
    assert!(d.add_folder_permission(&ctx(), inbox, user, with(SharingFlags::DELEGATE)).await.is_err());
    assert!(d.add_folder_permission(&ctx(), cal, user, with(SharingFlags::CAN_VIEW_PRIVATE_ITEMS)).await.is_err());
    let reviewer = FolderPermissionEdit {
        rights: FolderRole::Reviewer.rights(),
        flags: Some(SharingFlags::DELEGATE),
        send_notification: false,
    };
    assert!(d.add_folder_permission(&ctx(), cal, user, reviewer).await.is_err());
    d.add_folder_permission(&ctx(), cal, user, with(SharingFlags::DELEGATE | SharingFlags::CAN_VIEW_PRIVATE_ITEMS))
        .await
        .unwrap();
    let exists = d.add_folder_permission(&ctx(), cal, user, with(SharingFlags::DELEGATE)).await.unwrap_err();
    assert!(exists.to_string().starts_with("An existing permission entry was found for user: Rob"), "{exists}");
    // Set without flags keeps the delegate while Editor; -SendNotificationToUser demotes (exchange-reference §2.4).
    let keep = FolderPermissionEdit { rights: editor, flags: None, send_notification: false };
    d.set_folder_permission(&ctx(), cal, user, keep).await.unwrap();
    assert!(d.read(|s| s.folder_entry(cal, user).unwrap().flags.contains(SharingFlags::DELEGATE)));
    let demote = FolderPermissionEdit { rights: editor, flags: None, send_notification: true };
    d.set_folder_permission(&ctx(), cal, user, demote).await.unwrap();
    assert!(d.read(|s| s.folder_entry(cal, user).unwrap().flags.is_empty()));
}

#[tokio::test]
async fn what_if_describes_and_changes_nothing() {
    let dir = temp_dir("whatif");
    let d = org(&dir).await;
    let mary = mailbox(&d, "Mary", RecipientType::UserMailbox).await;
    let rob = mailbox(&d, "Rob", RecipientType::UserMailbox).await;
    let mut c = ctx();
    c.what_if = true;
    let applied = d.add_mailbox_permission(&c, mary, rob, FULL).await.unwrap();
    assert!(applied.what_if.unwrap().contains("Mary"));
    assert!(d.read(|s| s.mailbox_aces(mary).is_empty()));
}

#[tokio::test]
async fn hidden_mailbox_denies_full_access_with_reason() {
    let dir = temp_dir("hidden");
    let d = org(&dir).await;
    let mary = mailbox(&d, "Mary", RecipientType::UserMailbox).await;
    let rob = mailbox(&d, "Rob", RecipientType::UserMailbox).await;
    d.add_mailbox_permission(&ctx(), mary, rob, FULL).await.unwrap();
    d.set_recipient(&ctx(), mary, RecipientEdit { hidden: Some(true), ..Default::default() }).await.unwrap();
    let decision = d.read(|s| s.access.decide(rob, Action::OpenMailbox, mary));
    assert!(!decision.allowed);
    assert_eq!(decision.reason, Reason::Hidden);
}

#[tokio::test]
async fn sign_in_checks_the_argon2_password() {
    let dir = temp_dir("auth");
    let d = org(&dir).await;
    assert!(d.authenticate("admin@contoso.test", "Adm1n!pass").await.is_some());
    assert!(d.authenticate("admin", "Adm1n!pass").await.is_some(), "any identity form signs in");
    assert!(d.authenticate("admin@contoso.test", "wrong").await.is_none());
    let shared = mailbox(&d, "Helpdesk", RecipientType::SharedMailbox).await;
    assert!(d.read(|s| s.dir.get(shared).unwrap().account_disabled));

    // A remembered sign-in never outlives a password change or a conversion to a shared mailbox.
    let admin = d.authenticate("admin", "Adm1n!pass").await.unwrap();
    assert_eq!(d.authenticate("admin", "Adm1n!pass").await, Some(admin), "the second sign-in comes from the cache");
    d.set_recipient(&ctx(), admin, RecipientEdit { password: Some("N3w!pass".into()), ..Default::default() })
        .await
        .unwrap();
    assert!(d.authenticate("admin", "Adm1n!pass").await.is_none(), "the old password stops at once");
    assert!(d.authenticate("admin", "N3w!pass").await.is_some());
    let user = mailbox(&d, "Temp", RecipientType::UserMailbox).await;
    d.set_recipient(&ctx(), user, RecipientEdit { password: Some("T3mp!pass".into()), ..Default::default() })
        .await
        .unwrap();
    assert!(d.authenticate("temp", "T3mp!pass").await.is_some());
    d.set_recipient(&ctx(), user, RecipientEdit { kind: Some(RecipientType::SharedMailbox), ..Default::default() })
        .await
        .unwrap();
    assert!(d.authenticate("temp", "T3mp!pass").await.is_none(), "a disabled account is refused even if remembered");
}

/// Removing and renaming folders (IMAP DELETE/RENAME, spec §5 rights): default
/// folders stay, a folder with subfolders stays, a folder never moves below
/// itself or to another mailbox, names stay unique among siblings; a removal
/// takes the folder's permission entries and messages and is audited.
#[tokio::test]
async fn folders_are_removed_and_renamed_under_the_folder_rules() {
    use deputy_core::FolderChangeError;
    use deputy_types::MessageFlags;
    let dir = temp_dir("folders");
    let d = org(&dir).await;
    let mary = mailbox(&d, "Mary", RecipientType::UserMailbox).await;
    let rob = mailbox(&d, "Rob", RecipientType::UserMailbox).await;
    let (root, inbox) = d.read(|s| (s.resolve_folder(mary, "").unwrap(), s.resolve_folder(mary, "Inbox").unwrap()));
    let projects = d.create_folder_as(&ctx(), mary, root, "Projects").await.unwrap().id;
    let sub = d.create_folder_as(&ctx(), mary, projects, "Sub").await.unwrap().id;

    assert!(matches!(d.remove_folder(&ctx(), inbox).await, Err(CoreError::DefaultFolder(_))));
    assert!(matches!(d.rename_folder(&ctx(), inbox, root, "Post").await, Err(CoreError::DefaultFolder(_))));
    assert!(matches!(d.remove_folder(&ctx(), projects).await, Err(CoreError::FolderHasSubfolders(_))));
    assert!(matches!(d.rename_folder(&ctx(), projects, sub, "Loop").await, Err(CoreError::NotApplicable(_))));
    let robs_root = d.root_folder(rob).unwrap();
    assert!(matches!(d.rename_folder(&ctx(), sub, robs_root, "Away").await, Err(CoreError::NotApplicable(_))));
    assert!(matches!(d.rename_folder(&ctx(), sub, root, "projects").await, Err(CoreError::Taken { .. })));

    // Rob has no rights in Mary's mailbox: he can neither create, remove nor rename there.
    let denied = d.create_folder_as(&ctx(), rob, inbox, "Rob's").await.unwrap_err();
    assert!(matches!(denied, FolderChangeError::Access(_)), "{denied}");
    assert!(d.delete_folder_as(&ctx(), rob, sub).await.is_err());
    assert!(d.rename_folder_as(&ctx(), rob, sub, inbox, "Moved").await.is_err());

    d.rename_folder_as(&ctx(), mary, sub, inbox, "Renamed").await.unwrap();
    let d = org(&dir).await;
    let renamed = d.read(|s| s.resolve_folder(mary, "Inbox\\Renamed")).unwrap();
    assert_eq!(renamed, sub, "the rename survives a reload");

    let reviewer =
        FolderPermissionEdit { rights: FolderRole::Reviewer.rights(), flags: None, send_notification: false };
    d.add_folder_permission(&ctx(), sub, FolderUser::Recipient(rob), reviewer).await.unwrap();
    d.append_item(mary, sub, b"Subject: x\r\n\r\nx\r\n".to_vec(), MessageFlags::empty(), None).await.unwrap();
    d.delete_folder_as(&ctx(), mary, sub).await.unwrap();
    assert!(d.read(|s| s.folder(sub).is_none() && s.folder_entry(sub, FolderUser::Recipient(rob)).is_none()));
    assert!(d.mail_store().entries(sub).await.unwrap().is_empty(), "the folder's messages go with it");
    let audit = d.search_audit(&AuditQuery { limit: 10, ..Default::default() }).await.unwrap();
    assert!(audit.iter().any(|r| r.object.contains("Renamed")), "the removal is audited");
}
