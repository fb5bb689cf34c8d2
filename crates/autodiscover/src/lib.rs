//! Outlook's Autodiscover door (spec §7.5): `POST /autodiscover/autodiscover.xml`
//! in the Outlook "POX" schema. A signed-in user learns where its mailbox is
//! and which delegated mailboxes Outlook should open by itself: one
//! `AlternativeMailbox` per auto-mapped mailbox (direct Full Access grants
//! with AutoMapping on, never through groups — spec §3.1).
//!
//! A mail user (in a hybrid pair, the stand-in for a mailbox of the other
//! forest, spec §9) answers Exchange's target-address redirect
//! (`<Action>redirectAddr</Action>`) to any signed-in caller.
//!
//! Invariants: HTTP Basic over the caller's own credentials; settings are
//! given for the caller's own address or a mailbox it may open, and any other
//! address gets the same "can't be found" error as an unknown one, so
//! Autodiscover never reveals who exists.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use deputy_access::{Action, Permission};
use deputy_core::Deputy;
use deputy_types::{RecipientId, RecipientType};
use quick_xml::escape::partial_escape as escape;
use quick_xml::events::Event;

#[cfg(test)]
const REQUEST_NS: &str = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";
const RESPONSE_NS: &str = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
const OUTLOOK_NS: &str = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
/// The largest request body read (an Autodiscover request is a few hundred bytes).
const MAX_REQUEST: usize = 16 * 1024;

/// The Autodiscover routes (both spellings Outlook tries).
pub fn router(deputy: Arc<Deputy>) -> Router {
    Router::new()
        .route("/autodiscover/autodiscover.xml", post(autodiscover))
        .route("/Autodiscover/Autodiscover.xml", post(autodiscover))
        .with_state(deputy)
}

fn xml(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Basic realm=\"Deputy\"")], "").into_response()
}

/// The POX error Exchange returns, e.g. code 500 "The email address can't be found."
fn error(code: u16, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<Autodiscover xmlns=\"{RESPONSE_NS}\">\r\n  <Response>\r\n    \
         <Error Time=\"00:00:00\" Id=\"0\">\r\n      <ErrorCode>{code}</ErrorCode>\r\n      <Message>{}</Message>\r\n      \
         <DebugData />\r\n    </Error>\r\n  </Response>\r\n</Autodiscover>\r\n",
        escape(message)
    );
    xml(StatusCode::OK, body)
}

/// `user:password` from `Authorization: Basic …`.
fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    deputy_core::basic_credentials(headers.get(header::AUTHORIZATION)?.to_str().ok()?)
}

/// The `EMailAddress` of a request, or why the request is unusable.
fn requested_address(body: &[u8]) -> Result<String, &'static str> {
    let text = std::str::from_utf8(body).map_err(|_| "The request isn't valid UTF-8.")?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut in_address = false;
    let mut saw_request = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = e.local_name();
                saw_request |= name.as_ref() == b"Autodiscover";
                in_address = name.as_ref() == b"EMailAddress";
            }
            Ok(Event::Text(t)) if in_address => {
                let address = t.decode().map_err(|_| "The request's EMailAddress can't be read.")?;
                return Ok(address.trim().to_owned());
            }
            Ok(Event::End(_)) => in_address = false,
            Ok(Event::Eof) if saw_request => return Err("The request has no EMailAddress."),
            Ok(Event::Eof) => return Err("The request isn't an Autodiscover request."),
            Err(_) => return Err("The request isn't well-formed XML."),
            Ok(_) => {}
        }
    }
}

async fn autodiscover(State(deputy): State<Arc<Deputy>>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let Some((user, password)) = basic(&headers) else { return unauthorized() };
    let Some(principal) = deputy.authenticate(&user, &password).await else { return unauthorized() };
    if body.len() > MAX_REQUEST {
        return error(600, "Invalid Request");
    }
    let address = match requested_address(&body) {
        Ok(a) => a,
        Err(_) => return error(600, "Invalid Request"),
    };
    match settings(&deputy, principal, &address) {
        Some(body) => xml(StatusCode::OK, body),
        None => error(500, "The email address can't be found."),
    }
}

/// Exchange's `redirectAddr` answer: ask again for `target`.
fn redirect(target: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<Autodiscover xmlns=\"{RESPONSE_NS}\">\r\n  \
         <Response xmlns=\"{OUTLOOK_NS}\">\r\n    <Account>\r\n      <Action>redirectAddr</Action>\r\n      \
         <RedirectAddr>{}</RedirectAddr>\r\n    </Account>\r\n  </Response>\r\n</Autodiscover>\r\n",
        escape(target)
    )
}

/// The response for `address`, when the caller may have it.
fn settings(deputy: &Deputy, principal: RecipientId, address: &str) -> Option<String> {
    let info = deputy.server_info();
    deputy.read(|s| {
        let found = s.dir.by_address(address)?;
        // Spec §9: a mail user's mailbox lives elsewhere (the other forest of a
        // hybrid pair): Exchange's target-address redirect, and the client asks
        // again for that address. Hidden ones stay unknown, as in address lists.
        if found.kind == RecipientType::MailUser
            && !found.hidden
            && let Some(target) = &found.external_address
        {
            return Some(redirect(target.as_str()));
        }
        let owner = Some(found).filter(|r| r.kind.has_mailbox())?;
        let mine = owner.id == principal;
        if !mine && !s.access.decide(principal, Action::OpenMailbox, owner.id).allowed {
            return None;
        }
        let primary = owner.primary_smtp.as_ref().map(|a| a.as_str().to_owned()).unwrap_or_default();
        let mut out = String::with_capacity(2048);
        out.push_str(&format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<Autodiscover xmlns=\"{RESPONSE_NS}\">\r\n  \
             <Response xmlns=\"{OUTLOOK_NS}\">\r\n    <User>\r\n      <DisplayName>{}</DisplayName>\r\n      \
             <LegacyDN>{}</LegacyDN>\r\n      <AutoDiscoverSMTPAddress>{}</AutoDiscoverSMTPAddress>\r\n      \
             <DeploymentId>{}</DeploymentId>\r\n    </User>\r\n    <Account>\r\n      <AccountType>email</AccountType>\r\n      \
             <Action>settings</Action>\r\n      <MicrosoftOnline>False</MicrosoftOnline>\r\n",
            escape(owner.display_name.as_str()),
            escape(s.dir.distinguished_name(owner).as_str()),
            escape(primary.as_str()),
            owner.id,
        ));
        for (kind, port, ssl) in [("IMAP", info.imap_port, "On"), ("SMTP", info.submission_port, "On")] {
            if let Some(port) = port {
                out.push_str(&format!(
                    "      <Protocol>\r\n        <Type>{kind}</Type>\r\n        <Server>{}</Server>\r\n        \
                     <Port>{port}</Port>\r\n        <LoginName>{}</LoginName>\r\n        <SSL>{ssl}</SSL>\r\n        \
                     <Encryption>TLS</Encryption>\r\n        <SPA>Off</SPA>\r\n        <AuthRequired>On</AuthRequired>\r\n      \
                     </Protocol>\r\n",
                    escape(info.hostname.as_str()),
                    escape(primary.as_str()),
                ));
            }
        }
        // Only the caller's own mailbox lists what it may open; spec §3.1: direct grants with AutoMapping on.
        if mine {
            let mut seen = Vec::new();
            for d in s.delegated(principal) {
                if d.grant.permission != Permission::FullAccess || !d.automapped || seen.contains(&d.target) {
                    continue;
                }
                seen.push(d.target);
                let Some(target) = s.dir.get(d.target) else { continue };
                let smtp = target.primary_smtp.as_ref().map(|a| a.as_str().to_owned()).unwrap_or_default();
                out.push_str(&format!(
                    "      <AlternativeMailbox>\r\n        <Type>Delegate</Type>\r\n        <DisplayName>{}</DisplayName>\r\n        \
                     <SmtpAddress>{}</SmtpAddress>\r\n        <OwnerSmtpAddress>{}</OwnerSmtpAddress>\r\n      </AlternativeMailbox>\r\n",
                    escape(target.display_name.as_str()),
                    escape(smtp.as_str()),
                    escape(smtp.as_str()),
                ));
            }
        }
        out.push_str("    </Account>\r\n  </Response>\r\n</Autodiscover>\r\n");
        Some(out)
    })
}

#[cfg(test)]
mod tests {
    use super::requested_address;

    #[test]
    fn reads_the_address_of_an_outlook_request() {
        let body = format!(
            "<?xml version=\"1.0\"?><Autodiscover xmlns=\"{}\"><Request><EMailAddress> rob@contoso.test </EMailAddress>\
             <AcceptableResponseSchema>x</AcceptableResponseSchema></Request></Autodiscover>",
            super::REQUEST_NS
        );
        assert_eq!(requested_address(body.as_bytes()), Ok("rob@contoso.test".to_owned()));
        assert!(requested_address(b"<Autodiscover><Request></Request></Autodiscover>").is_err());
        assert!(requested_address(b"<Autodiscover><Request><EMailAddress>").is_err());
        assert!(requested_address(b"not xml at all <<<").is_err());
        assert!(requested_address(&[0xff, 0xfe]).is_err());
    }
}
