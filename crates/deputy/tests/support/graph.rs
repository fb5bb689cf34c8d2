//! A small Graph client for the tests: tokens from the token endpoint and
//! JSON requests, answered with status and body whatever the status.

use serde_json::Value;

use super::Server;

/// An HTTP agent that reports error statuses instead of failing.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

/// `POST /{tenant}/oauth2/v2.0/token` with form fields; (status, JSON body).
pub fn token_request(server: &Server, tenant: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let mut resp = agent()
        .post(&format!("{}/{tenant}/oauth2/v2.0/token", server.url))
        .send_form(form.iter().copied())
        .expect("token request");
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// A delegated access token for `user` through the password grant.
#[track_caller]
pub fn user_token(server: &Server, user: &str, password: &str, scope: &str) -> String {
    let (status, body) = token_request(
        server,
        "contoso.test",
        &[
            ("grant_type", "password"),
            ("client_id", "deputy"),
            ("username", user),
            ("password", password),
            ("scope", scope),
        ],
    );
    assert_eq!(status, 200, "token for {user}: {body}");
    body["access_token"].as_str().expect("access_token").to_owned()
}

/// The scopes a delegate's client asks for.
pub const SHARED: &str = "Mail.ReadWrite.Shared Mail.Send.Shared offline_access";

/// A Graph request: (status, JSON body or `Null`).
pub fn call(server: &Server, method: &str, path: &str, token: &str, body: Option<&Value>) -> (u16, Value) {
    // Test paths are written readably; encode what a URL may not hold.
    let path = path.trim_start_matches('/').replace(' ', "%20").replace('\'', "%27");
    let url = format!("{}/v1.0/{path}", server.url);
    let auth = format!("Bearer {token}");
    let a = agent();
    let mut resp = match (method, body) {
        ("GET", _) => a.get(&url).header("Authorization", &auth).call(),
        ("DELETE", _) => a.delete(&url).header("Authorization", &auth).call(),
        ("POST", Some(b)) => a.post(&url).header("Authorization", &auth).send_json(b),
        ("POST", None) => a.post(&url).header("Authorization", &auth).send_empty(),
        ("PATCH", Some(b)) => a.patch(&url).header("Authorization", &auth).send_json(b),
        _ => panic!("unsupported test request {method} {path}"),
    }
    .expect("graph request");
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A `sendMail` body: subject, one recipient, and an optional `from`.
pub fn mail(subject: &str, to: &str, from: Option<&str>) -> Value {
    let mut m = serde_json::json!({
        "subject": subject,
        "body": {"contentType": "text", "content": format!("{subject} body")},
        "toRecipients": [{"emailAddress": {"address": to}}],
    });
    if let Some(f) = from {
        m["from"] = serde_json::json!({"emailAddress": {"address": f}});
    }
    m
}
