//! A delegate change (Outlook's Delegate Access, MS-OXODLGT) on the embedded
//! store: every folder entry and Send on Behalf commit together with one
//! audit record, and a refusal anywhere in the change stores nothing.

#![allow(clippy::unwrap_used, reason = "test scaffolding: a failed unwrap is a failed test")]

use deputy_core::{
    CoreError, Ctx, DelegateAccess, DelegateFolder, Deputy, FolderPermissionEdit, FolderPermissionRow, NewRecipient,
};
use deputy_store::AuditQuery;
use deputy_store_sqlite::SqliteStore;
use deputy_types::{FolderId, FolderRole, FolderUser, RecipientId, RecipientType, SharingFlags, WellKnownFolder};
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
    TempDir(std::env::temp_dir().join(format!("deputy-core-delegates-{name}-{}-{n}", std::process::id())))
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
    Ctx::new("mary@contoso.test", "Set-Mailbox", "Set-Mailbox -Identity 'mary' -GrantSendOnBehalfTo @{Add='rob'}")
}

async fn mailbox(d: &Deputy, name: &str) -> RecipientId {
    let spec = NewRecipient {
        kind: Some(RecipientType::UserMailbox),
        name: name.into(),
        password: Some("P@ssw0rd!".into()),
        ..Default::default()
    };
    d.new_recipient(&Ctx::new("admin@contoso.test", "New-Mailbox", "New-Mailbox"), spec).await.unwrap().value.id
}

/// The dialog's folders of `mailbox`, in the order Outlook shows them.
fn folders(d: &Deputy, mailbox: RecipientId) -> Vec<FolderId> {
    use WellKnownFolder::*;
    d.read(|s| {
        [Calendar, Tasks, Inbox, Contacts, Notes]
            .map(|w| s.folders_of(mailbox).find(|f| f.well_known == Some(w)).unwrap().id)
            .to_vec()
    })
}

/// Everything a delegate change may touch: each folder's entry for the
/// delegate, whether it holds Send on Behalf, and the audit log's length.
async fn observed(
    d: &Deputy,
    mailbox: RecipientId,
    delegate: RecipientId,
) -> (Vec<Option<FolderPermissionRow>>, bool, usize) {
    let user = FolderUser::Recipient(delegate);
    let (entries, send_on_behalf) = d.read(|s| {
        let entries = folders(d, mailbox).into_iter().map(|f| s.folder_entry(f, user)).collect();
        (entries, s.dir.get(mailbox).unwrap().grant_send_on_behalf_to.contains(&delegate))
    });
    let audit = d.search_audit(&AuditQuery::default()).await.unwrap().len();
    (entries, send_on_behalf, audit)
}

/// Editor with meeting copies and private items on the calendar, Editor on
/// Tasks, Reviewer on Inbox, Author on Contacts and Reviewer on Notes.
fn full_delegate(folders: &[FolderId]) -> DelegateAccess {
    let roles =
        [FolderRole::Editor, FolderRole::Editor, FolderRole::Reviewer, FolderRole::Author, FolderRole::Reviewer];
    let entries = folders.iter().zip(roles).enumerate().map(|(i, (folder, role))| DelegateFolder {
        folder: *folder,
        role: Some(role),
        flags: if i == 0 {
            SharingFlags::DELEGATE | SharingFlags::CAN_VIEW_PRIVATE_ITEMS
        } else {
            SharingFlags::empty()
        },
    });
    DelegateAccess { folders: entries.collect(), send_on_behalf: true }
}

#[tokio::test]
async fn a_refusal_on_the_last_folder_changes_nothing_at_all() {
    let dir = temp_dir("refused");
    let d = org(&dir).await;
    let mary = mailbox(&d, "Mary").await;
    let rob = mailbox(&d, "Rob").await;
    let f = folders(&d, mary);
    // An entry Rob already has, which the failed change would have replaced.
    let edit = FolderPermissionEdit { rights: FolderRole::Author.rights(), flags: None, send_notification: false };
    d.add_folder_permission(&ctx(), f[2], FolderUser::Recipient(rob), edit).await.unwrap();
    let before = observed(&d, mary, rob).await;

    // spec §5: the Delegate flag belongs on a calendar; Notes is the last folder.
    let mut access = full_delegate(&f);
    access.folders[4].flags = SharingFlags::DELEGATE;
    let err = d.set_delegate(&ctx(), mary, rob, &access).await.unwrap_err();
    assert!(matches!(err, CoreError::NotApplicable(_)), "{err}");
    assert_eq!(observed(&d, mary, rob).await, before, "no entry, no Send on Behalf, no audit record");

    // The same with the calendar last and a role its Delegate flag can't go with.
    let mut access = full_delegate(&f);
    access.folders.rotate_left(1);
    access.folders[4].role = Some(FolderRole::Reviewer);
    let err = d.set_delegate(&ctx(), mary, rob, &access).await.unwrap_err();
    assert!(err.to_string().contains("Editor"), "{err}");
    assert_eq!(observed(&d, mary, rob).await, before);

    // A folder of another mailbox, last, refuses the whole change too.
    let mut access = full_delegate(&f);
    access.folders[4].folder = folders(&d, rob)[4];
    let err = d.set_delegate(&ctx(), mary, rob, &access).await.unwrap_err();
    assert!(matches!(err, CoreError::FolderNotFound(_)), "{err}");
    assert_eq!(observed(&d, mary, rob).await, before);
}

#[tokio::test]
async fn a_group_without_a_mailbox_is_refused_before_anything_is_stored() {
    let dir = temp_dir("trustee");
    let d = org(&dir).await;
    let mary = mailbox(&d, "Mary").await;
    let spec = NewRecipient {
        kind: Some(RecipientType::MailUniversalDistributionGroup),
        name: "Team".into(),
        ..Default::default()
    };
    let team = d.new_recipient(&ctx(), spec).await.unwrap().value.id;
    let before = observed(&d, mary, team).await;
    // spec §3.3 lets a distribution group hold Send on Behalf, spec §5 no folder entry.
    let err = d.set_delegate(&ctx(), mary, team, &full_delegate(&folders(&d, mary))).await.unwrap_err();
    assert!(matches!(err, CoreError::InvalidCombination(_)), "{err}");
    assert_eq!(observed(&d, mary, team).await, before);
}

#[tokio::test]
async fn a_delegate_is_added_changed_and_removed_in_one_commit_each() {
    let dir = temp_dir("commit");
    let d = org(&dir).await;
    let mary = mailbox(&d, "Mary").await;
    let rob = mailbox(&d, "Rob").await;
    let f = folders(&d, mary);
    let (_, _, audit) = observed(&d, mary, rob).await;

    let added = d.set_delegate(&ctx(), mary, rob, &full_delegate(&f)).await.unwrap();
    assert!(added.changed);
    let (entries, send_on_behalf, after) = observed(&d, mary, rob).await;
    let rights: Vec<_> = entries.iter().map(|e| e.as_ref().map(|e| e.rights)).collect();
    let want = [FolderRole::Editor, FolderRole::Editor, FolderRole::Reviewer, FolderRole::Author, FolderRole::Reviewer];
    assert_eq!(rights, want.map(|r| Some(r.rights())).to_vec());
    assert_eq!(entries[0].as_ref().unwrap().flags, SharingFlags::DELEGATE | SharingFlags::CAN_VIEW_PRIVATE_ITEMS);
    assert!(send_on_behalf);
    assert_eq!(after, audit + 1, "one audit record for the whole change");
    let record = d.search_audit(&AuditQuery { limit: 1, ..AuditQuery::default() }).await.unwrap();
    assert_eq!((record[0].caller.as_str(), record[0].object.as_str()), ("mary@contoso.test", "Mary"));
    assert!(d.read(|s| s.calendar_delegates(mary).iter().any(|(id, _)| *id == rob)));

    // The same change again stores nothing.
    let again = d.set_delegate(&ctx(), mary, rob, &full_delegate(&f)).await.unwrap();
    assert!(!again.changed && !again.warnings.is_empty());
    assert_eq!(observed(&d, mary, rob).await.2, audit + 1);

    // Removing: every entry and Send on Behalf go, in one record; a folder
    // that isn't named keeps its entry.
    let remove = DelegateAccess {
        folders: f[..4]
            .iter()
            .map(|folder| DelegateFolder { folder: *folder, role: None, flags: SharingFlags::empty() })
            .collect(),
        send_on_behalf: false,
    };
    d.set_delegate(&ctx(), mary, rob, &remove).await.unwrap();
    let (entries, send_on_behalf, records) = observed(&d, mary, rob).await;
    assert!(entries[..4].iter().all(Option::is_none) && entries[4].is_some(), "{entries:?}");
    assert!(!send_on_behalf);
    assert_eq!(records, audit + 2);

    // Everything survives a reload of the store.
    drop(d);
    let d = org(&dir).await;
    assert_eq!(observed(&d, mary, rob).await, (entries, false, audit + 2));
}
