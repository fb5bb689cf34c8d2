//! In-process tests of the router: sessions, CSRF, what each page offers, and
//! that changes are the core's, made as the signed-in administrator.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test scaffolding: a failure is a failed test")]

use super::router;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use deputy_core::{Ctx, Deputy, NewRecipient};
use deputy_types::{RecipientId, RecipientType as T};
use http_body_util::BodyExt;
use std::path::PathBuf;
use std::sync::Arc;
use tower::ServiceExt;

struct Org {
    _dir: TempDir,
    deputy: Arc<Deputy>,
    app: Router,
}

struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const PASSWORD: &str = "P@ssw0rd!";

async fn org(name: &str) -> Org {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let dir = TempDir(std::env::temp_dir().join(format!("deputy-web-{name}-{}-{n}", std::process::id())));
    let store = Arc::new(deputy_store_sqlite::SqliteStore::open(&dir.0).unwrap());
    let deputy = Arc::new(Deputy::load(store.clone(), store).await.unwrap());
    deputy.initialize("contoso.test", PASSWORD).await.unwrap();
    Org { _dir: dir, app: router(deputy.clone()), deputy }
}

impl Org {
    async fn add(&self, name: &str, kind: T) -> RecipientId {
        let spec = NewRecipient {
            kind: Some(kind),
            name: name.into(),
            password: matches!(kind, T::UserMailbox).then(|| PASSWORD.into()),
            ..Default::default()
        };
        self.deputy.new_recipient(&Ctx::new("setup", "Test", "test"), spec).await.unwrap().value.id
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        cookie: &str,
        form: Option<&str>,
    ) -> (StatusCode, Vec<String>, String) {
        let mut req = Request::builder().method(method).uri(path).header(header::COOKIE, cookie);
        if form.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        let res = self.app.clone().oneshot(req.body(Body::from(form.unwrap_or("").to_owned())).unwrap()).await.unwrap();
        let status = res.status();
        let cookies =
            res.headers().get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect();
        let location = res.headers().get(header::LOCATION).map(|l| l.to_str().unwrap().to_owned());
        let body = String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
        (status, cookies, location.unwrap_or(body))
    }

    /// Signs in; returns the session cookie, the raw Set-Cookie line and the CSRF token.
    async fn sign_in(&self, user: &str) -> Result<(String, String, String), (StatusCode, String)> {
        let (_, cookies, _) = self.call("GET", "/ecp/signin", "", None).await;
        let pre = cookies[0].split(';').next().unwrap().to_owned();
        let token = pre.split_once('=').unwrap().1.to_owned();
        let form =
            format!("csrf={token}&username={user}&password={}", PASSWORD.replace('!', "%21").replace('@', "%40"));
        let (status, cookies, body) = self.call("POST", "/ecp/signin", &pre, Some(&form)).await;
        if status != StatusCode::SEE_OTHER {
            return Err((status, body));
        }
        let line = cookies.iter().find(|c| c.starts_with("ecp_session=")).unwrap().clone();
        let session = line.split(';').next().unwrap().to_owned();
        let (_, _, page) = self.call("GET", "/ecp/recipients", &session, None).await;
        let csrf = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        Ok((session, line, csrf))
    }
}

#[tokio::test]
async fn only_administrators_get_a_session_cookie() {
    let o = org("signin").await;
    o.add("Rob", T::UserMailbox).await;
    let (_, line, _) = o.sign_in("admin@contoso.test").await.unwrap();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/ecp"] {
        assert!(line.contains(part), "{line}");
    }
    assert!(!line.contains("Secure"), "plain HTTP on loopback: {line}");
    let (status, body) = o.sign_in("rob@contoso.test").await.unwrap_err();
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("isn't an administrator"), "{body}");
    let (_, cookies, _) = o.call("GET", "/ecp/signin", "", None).await;
    let pre = cookies[0].split(';').next().unwrap();
    let token = pre.split_once('=').unwrap().1;
    let (status, _, body) = o
        .call("POST", "/ecp/signin", pre, Some(&format!("csrf={token}&username=admin%40contoso.test&password=nope")))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("The user name or password is incorrect."));
}

#[tokio::test]
async fn pages_without_a_session_lead_to_sign_in() {
    let o = org("nosession").await;
    let (status, _, location) = o.call("GET", "/ecp/recipients", "", None).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/ecp/signin"));
    let (status, _, _) = o.call("POST", "/ecp/signout", "ecp_session=forged", Some("csrf=x")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_post_without_the_csrf_token_is_refused_and_changes_nothing() {
    let o = org("csrf").await;
    let mary = o.add("Mary", T::UserMailbox).await;
    let rob = o.add("Rob", T::UserMailbox).await;
    let (session, _, csrf) = o.sign_in("admin@contoso.test").await.unwrap();
    let path = format!("/ecp/mailbox/{}/delegation/add", mary.0);
    for form in
        [format!("perm=sendonbehalf&trustee={}", rob.0), format!("csrf=wrong&perm=sendonbehalf&trustee={}", rob.0)]
    {
        let (status, _, _) = o.call("POST", &path, &session, Some(&form)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    assert!(o.deputy.read(|s| s.dir.get(mary).unwrap().grant_send_on_behalf_to.is_empty()));
    let form = format!("csrf={csrf}&perm=sendonbehalf&trustee={}", rob.0);
    let (status, _, _) = o.call("POST", &path, &session, Some(&form)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(o.deputy.read(|s| s.dir.get(mary).unwrap().grant_send_on_behalf_to.clone()), vec![rob]);
}

#[tokio::test]
async fn send_on_behalf_is_granted_and_removed_as_the_signed_in_admin() {
    let o = org("sob").await;
    let mary = o.add("Mary", T::UserMailbox).await;
    let rob = o.add("Rob", T::UserMailbox).await;
    let (session, _, csrf) = o.sign_in("admin@contoso.test").await.unwrap();
    let base = format!("/ecp/mailbox/{}/delegation", mary.0);
    let form = format!("csrf={csrf}&perm=sendonbehalf&trustee={}", rob.0);
    o.call("POST", &format!("{base}/add"), &session, Some(&form)).await;
    let (_, _, page) = o.call("GET", &base, &session, None).await;
    assert!(page.contains("Rob now has Send on Behalf on Mary."), "{page}");
    o.call("POST", &format!("{base}/remove"), &session, Some(&form)).await;
    assert!(o.deputy.read(|s| s.dir.get(mary).unwrap().grant_send_on_behalf_to.is_empty()));
    let records = o.deputy.search_audit(&Default::default()).await.unwrap();
    let web: Vec<_> = records.iter().filter(|r| r.cmdlet == "Set-Mailbox").collect();
    assert_eq!(web.len(), 2, "{records:?}");
    assert!(web.iter().all(|r| r.caller == "admin@contoso.test"));
    assert!(web.iter().any(|r| r.command.contains("-GrantSendOnBehalfTo @{Add='Rob'}")));
}

#[tokio::test]
async fn full_access_records_the_auto_mapping_choice() {
    let o = org("fa").await;
    let mary = o.add("Mary", T::UserMailbox).await;
    let rob = o.add("Rob", T::UserMailbox).await;
    let (session, _, csrf) = o.sign_in("admin@contoso.test").await.unwrap();
    let form = format!("csrf={csrf}&perm=fullaccess&trustee={}", rob.0);
    o.call("POST", &format!("/ecp/mailbox/{}/delegation/add", mary.0), &session, Some(&form)).await;
    let ace = o.deputy.read(|s| s.mailbox_aces(mary).to_vec());
    assert_eq!(ace.len(), 1);
    assert!(!ace[0].automapping, "no automapping box ticked");
}

#[tokio::test]
async fn pages_offer_what_the_exchange_admin_center_offers() {
    let o = org("offers").await;
    let shared = o.add("Helpdesk", T::SharedMailbox).await;
    let group = o.add("Sales", T::MailUniversalDistributionGroup).await;
    let mary = o.add("Mary", T::UserMailbox).await;
    let (session, _, csrf) = o.sign_in("admin@contoso.test").await.unwrap();
    let (_, _, page) = o.call("GET", &format!("/ecp/mailbox/{}/delegation", shared.0), &session, None).await;
    assert!(page.contains("Full Access") && page.contains("Send As") && !page.contains("Send on Behalf</h2>"));
    assert!(page.contains("MessageCopyForSentAsEnabled"));
    let (_, _, page) = o.call("GET", &format!("/ecp/group/{}/delegation", group.0), &session, None).await;
    assert!(page.contains("Send on Behalf</h2>") && !page.contains("Full Access</h2>"), "{page}");
    // A distribution group may hold Send on Behalf only (spec §3.3).
    let pick = |perm: &str| format!("/ecp/mailbox/{}/delegation/pick?perm={perm}", mary.0);
    let (_, _, page) = o.call("GET", &pick("sendonbehalf"), &session, None).await;
    assert!(page.contains("Sales"));
    let (_, _, page) = o.call("GET", &pick("sendas"), &session, None).await;
    assert!(!page.contains("Sales") && page.contains("Administrator"));
    // Posting it anyway: refused in Exchange's words, nothing stored.
    let form = format!("csrf={csrf}&perm=sendas&trustee={}", group.0);
    o.call("POST", &format!("/ecp/mailbox/{}/delegation/add", mary.0), &session, Some(&form)).await;
    let (_, _, page) = o.call("GET", &format!("/ecp/mailbox/{}/delegation", mary.0), &session, None).await;
    assert!(page.contains("can&#39;t be granted SendAs") || page.contains("can't be granted SendAs"), "{page}");
    assert!(o.deputy.read(|s| s.send_as_aces(mary).is_empty()));
    // A mailbox under the group URL is not found.
    let (status, _, _) = o.call("GET", &format!("/ecp/group/{}/delegation", mary.0), &session, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn recipients_tabs_and_search_by_part_of_an_address() {
    let o = org("list").await;
    o.add("Mary Smith", T::UserMailbox).await;
    o.add("Helpdesk", T::SharedMailbox).await;
    o.add("Board Room", T::RoomMailbox).await;
    let (session, _, _) = o.sign_in("admin@contoso.test").await.unwrap();
    let (_, _, page) = o.call("GET", "/ecp/recipients?tab=mailboxes&q=smith%40", &session, None).await;
    assert!(page.contains("Mary Smith") && !page.contains("Administrator</a>"), "{page}");
    let (_, _, page) = o.call("GET", "/ecp/recipients?tab=resources", &session, None).await;
    assert!(page.contains("Board Room") && page.contains("Room mailbox") && !page.contains("Helpdesk"));
    let (_, _, page) = o.call("GET", "/ecp/recipients?tab=shared", &session, None).await;
    assert!(page.contains("Helpdesk") && !page.contains("Board Room"));
}

#[tokio::test]
async fn sent_items_switches_and_sign_out() {
    let o = org("copies").await;
    let mary = o.add("Mary", T::UserMailbox).await;
    let (session, _, csrf) = o.sign_in("admin@contoso.test").await.unwrap();
    let path = format!("/ecp/mailbox/{}/delegation/copies", mary.0);
    o.call("POST", &path, &session, Some(&format!("csrf={csrf}&copy_send_on_behalf=on"))).await;
    let flags =
        o.deputy.read(|s| s.dir.get(mary).map(|r| (r.message_copy_for_sent_as, r.message_copy_for_send_on_behalf)));
    assert_eq!(flags, Some((false, true)));
    let (status, cookies, _) = o.call("POST", "/ecp/signout", &session, Some(&format!("csrf={csrf}"))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(cookies.iter().any(|c| c.starts_with("ecp_session=;") && c.contains("Max-Age=0")), "{cookies:?}");
    let (status, _, location) = o.call("GET", "/ecp/recipients", &session, None).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/ecp/signin"));
}

impl Org {
    async fn group(&self, name: &str, members: Vec<RecipientId>) -> RecipientId {
        let spec = NewRecipient {
            kind: Some(T::MailUniversalSecurityGroup),
            name: name.into(),
            members,
            ..Default::default()
        };
        self.deputy.new_recipient(&Ctx::new("setup", "Test", "test"), spec).await.unwrap().value.id
    }

    async fn audit_count(&self, cmdlet: &str) -> usize {
        let records = self.deputy.search_audit(&Default::default()).await.unwrap();
        records.iter().filter(|r| r.cmdlet == cmdlet).count()
    }

    fn calendar(&self, mailbox: RecipientId) -> deputy_types::FolderId {
        self.deputy.read(|s| s.resolve_folder(mailbox, "Calendar").unwrap())
    }
}

fn full_access_holders(o: &Org, mailbox: RecipientId) -> Vec<RecipientId> {
    o.deputy.read(|s| s.mailbox_aces(mailbox).iter().map(|a| a.trustee).collect())
}

#[tokio::test]
async fn the_new_post_routes_refuse_a_missing_csrf_token() {
    let o = org("csrf-new").await;
    let mary = o.add("Mary", T::UserMailbox).await;
    let rob = o.add("Rob", T::UserMailbox).await;
    let (session, _, _) = o.sign_in("admin@contoso.test").await.unwrap();
    let cal = o.calendar(mary);
    let bulk = format!("action=add&perm=fullaccess&trustee={}&mailbox={}", rob.0, mary.0);
    let folder = format!("folder={}&user={}&role=Editor", cal.0, rob.0);
    for (path, form) in [
        ("/ecp/bulk".to_owned(), bulk.clone()),
        (format!("/ecp/mailbox/{}/folders/add", mary.0), folder.clone()),
        (format!("/ecp/mailbox/{}/folders/set", mary.0), folder.clone()),
        (format!("/ecp/mailbox/{}/folders/remove", mary.0), folder.clone()),
    ] {
        for form in [form.clone(), format!("csrf=forged&{form}")] {
            let (status, _, body) = o.call("POST", &path, &session, Some(&form)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        }
    }
    assert!(full_access_holders(&o, mary).is_empty());
    assert!(o.deputy.read(|s| s.folder_aces(cal).is_empty()));
}

#[tokio::test]
async fn bulk_edit_of_mixed_types_warns_and_changes_nothing() {
    let o = org("bulk-mixed").await;
    let mary = o.add("Mary", T::UserMailbox).await;
    let help = o.add("Helpdesk", T::SharedMailbox).await;
    let rob = o.add("Rob", T::UserMailbox).await;
    let (session, _, csrf) = o.sign_in("admin@contoso.test").await.unwrap();
    let form = format!(
        "csrf={csrf}&tab=mailboxes&q=&action=add&perm=fullaccess&trustee={}&mailbox={}&mailbox={}",
        rob.0, mary.0, help.0
    );
    let (status, _, location) = o.call("POST", "/ecp/bulk", &session, Some(&form)).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/ecp/recipients?tab=mailboxes&q="));
    let (_, _, page) = o.call("GET", &location, &session, None).await;
    assert!(page.contains("Bulk edit won&#39;t work") || page.contains("Bulk edit won't work"), "{page}");
    assert!(full_access_holders(&o, mary).is_empty() && full_access_holders(&o, help).is_empty());
    assert_eq!(o.audit_count("Add-MailboxPermission").await, 0);
}

#[tokio::test]
async fn bulk_edit_adds_and_removes_on_every_selected_mailbox() {
    let o = org("bulk").await;
    let shared = [
        o.add("Sales", T::SharedMailbox).await,
        o.add("Support", T::SharedMailbox).await,
        o.add("Billing", T::SharedMailbox).await,
    ];
    let rob = o.add("Rob", T::UserMailbox).await;
    let (session, _, csrf) = o.sign_in("admin@contoso.test").await.unwrap();
    let (_, _, page) = o.call("GET", "/ecp/recipients?tab=shared", &session, None).await;
    assert!(page.contains("name=\"mailbox\"") && page.contains("Select Sales"), "{page}");
    let picked: String = shared.iter().map(|id| format!("&mailbox={}", id.0)).collect();
    let form = format!("csrf={csrf}&tab=shared&action=add&perm=fullaccess&trustee={}{picked}", rob.0);
    o.call("POST", "/ecp/bulk", &session, Some(&form)).await;
    for id in shared {
        assert_eq!(full_access_holders(&o, id), vec![rob]);
    }
    assert_eq!(o.audit_count("Add-MailboxPermission").await, 3, "one audit record per mailbox");
    let (_, _, page) = o.call("GET", "/ecp/recipients?tab=shared", &session, None).await;
    assert!(page.contains("Rob now has Full Access on Billing, Sales, Support."), "{page}");
    let form = form.replace("action=add", "action=remove");
    o.call("POST", "/ecp/bulk", &session, Some(&form)).await;
    assert!(shared.iter().all(|id| full_access_holders(&o, *id).is_empty()));
    // Bad form data: a 400 that says what is wrong, nothing changed.
    let (status, _, body) =
        o.call("POST", "/ecp/bulk", &session, Some(&format!("csrf={csrf}&action=grant&perm=fullaccess"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("choose Add or Remove"), "{body}");
    let (status, _, _) = o
        .call("POST", "/ecp/bulk", &session, Some(&format!("csrf={csrf}&action=add&perm=fullaccess&mailbox=nope")))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn calendar_permissions_are_added_changed_and_removed_with_core_errors_shown() {
    let o = org("folders").await;
    let mary = o.add("Mary", T::UserMailbox).await;
    let rob = o.add("Rob", T::UserMailbox).await;
    let (session, _, csrf) = o.sign_in("admin@contoso.test").await.unwrap();
    let cal = o.calendar(mary);
    let base = format!("/ecp/mailbox/{}/folders", mary.0);
    let (_, _, page) = o.call("GET", &base, &session, None).await;
    assert!(page.contains("Inbox") && page.contains("Mary:\\Calendar") && page.contains("AvailabilityOnly"), "{page}");
    let form = |role: &str, extra: &str| format!("csrf={csrf}&folder={}&user={}&role={role}{extra}", cal.0, rob.0);
    o.call("POST", &format!("{base}/add"), &session, Some(&form("Editor", "&delegate=on"))).await;
    let entry = o.deputy.read(|s| s.folder_entry(cal, deputy_types::FolderUser::Recipient(rob))).unwrap();
    assert_eq!(entry.flags, deputy_types::SharingFlags::DELEGATE);
    // The core refuses Delegate without Editor; the page shows its words and nothing changes.
    let (_, _, back) = o.call("POST", &format!("{base}/set"), &session, Some(&form("Reviewer", "&delegate=on"))).await;
    let (_, _, page) = o.call("GET", &back, &session, None).await;
    assert!(page.contains("only together with the Editor access right"), "{page}");
    let again = o.deputy.read(|s| s.folder_entry(cal, deputy_types::FolderUser::Recipient(rob))).unwrap();
    assert_eq!(again, entry);
    o.call("POST", &format!("{base}/set"), &session, Some(&form("Reviewer", ""))).await;
    let (_, _, page) = o.call("GET", &back, &session, None).await;
    assert!(page.contains("Rob now has Reviewer on Mary:\\Calendar."), "{page}");
    o.call("POST", &format!("{base}/remove"), &session, Some(&form("", ""))).await;
    assert!(o.deputy.read(|s| s.folder_aces(cal).is_empty()));
    assert_eq!(o.audit_count("Set-MailboxFolderPermission").await, 1);
    let (status, _, _) = o.call("POST", &format!("{base}/set"), &session, Some(&form("Boss", ""))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn who_can_do_what_shows_the_group_path_both_ways() {
    let o = org("access").await;
    let help = o.add("Helpdesk", T::SharedMailbox).await;
    let rob = o.add("Rob", T::UserMailbox).await;
    let team = o.group("Support Team", vec![rob]).await;
    let (session, _, csrf) = o.sign_in("admin@contoso.test").await.unwrap();
    let form = format!("csrf={csrf}&perm=fullaccess&trustee={}", team.0);
    o.call("POST", &format!("/ecp/mailbox/{}/delegation/add", help.0), &session, Some(&form)).await;
    let (_, _, page) = o.call("GET", "/ecp/access?user=rob", &session, None).await;
    assert!(page.contains("Helpdesk") && page.contains("Rob → Support Team"), "{page}");
    let (_, _, page) = o.call("GET", "/ecp/access?target=helpdesk", &session, None).await;
    assert!(page.contains("Who can act on Helpdesk") && page.contains("Rob → Support Team"), "{page}");
    let (_, _, page) = o.call("GET", "/ecp/access?user=rob&target=helpdesk", &session, None).await;
    assert!(page.contains("Allowed") && page.contains("to group Support Team"), "{page}");
    let (_, _, page) = o.call("GET", "/ecp/access?user=nobody", &session, None).await;
    assert!(page.contains("Couldn&#39;t find object") || page.contains("Couldn't find object"), "{page}");
}

#[tokio::test]
async fn the_audit_log_filters_by_cmdlet_object_caller_and_date() {
    let o = org("audit").await;
    let mary = o.add("Mary", T::UserMailbox).await;
    let rob = o.add("Rob", T::UserMailbox).await;
    let (session, _, csrf) = o.sign_in("admin@contoso.test").await.unwrap();
    let form = format!("csrf={csrf}&perm=sendas&trustee={}", rob.0);
    o.call("POST", &format!("/ecp/mailbox/{}/delegation/add", mary.0), &session, Some(&form)).await;
    let (_, _, page) =
        o.call("GET", "/ecp/audit?cmdlet=Add-RecipientPermission&object=mary&caller=admin", &session, None).await;
    assert!(
        page.contains("Audit records (1)") && page.contains("-Trustee &#39;Rob&#39;")
            || page.contains("-Trustee 'Rob'"),
        "{page}"
    );
    let (_, _, page) = o.call("GET", "/ecp/audit?caller=setup", &session, None).await;
    assert!(!page.contains("Add-RecipientPermission</td>"), "{page}");
    let (_, _, page) = o.call("GET", "/ecp/audit?to=2000-01-01", &session, None).await;
    assert!(page.contains("Audit records (0)"), "{page}");
    let (status, _, body) = o.call("GET", "/ecp/audit?from=yesterday", &session, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("YYYY-MM-DD"), "{body}");
}
