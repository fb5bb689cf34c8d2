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
