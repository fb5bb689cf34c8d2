//! Inbound checks: SPF for the HELO and MAIL FROM identities (RFC 7208),
//! DKIM (RFC 6376) and DMARC, summed up in one `Authentication-Results:`
//! field (RFC 8601) that the SMTP door prepends to the message.

use std::net::IpAddr;

use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimError;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{AuthenticatedMessage, AuthenticationResults, DkimOutput, DkimResult, Error, SpfOutput};

use crate::MailResolver;

/// Checks SPF, DKIM and DMARC for a message received from `peer_ip`, which
/// greeted with `helo` and gave `mail_from` (empty for the null reverse
/// path), and returns the `Authentication-Results:` field (ending CRLF)
/// naming `hostname` as the authentication service. DNS failures show as
/// `temperror`; the function itself never fails.
pub async fn authentication_results(
    resolver: &MailResolver,
    hostname: &str,
    peer_ip: IpAddr,
    helo: &str,
    mail_from: &str,
    raw: &[u8],
) -> String {
    let auth = resolver.authenticator();
    let spf_helo = auth.verify_spf(resolver.parameters(SpfParameters::verify_ehlo(peer_ip, helo, hostname))).await;
    // RFC 7208 §2.4: with the null reverse path the MAIL FROM identity is
    // postmaster@<helo>, whose result is the HELO check's.
    let spf_mail_from = if mail_from.is_empty() {
        spf_helo.clone()
    } else {
        auth.verify_spf(resolver.parameters(SpfParameters::verify_mail_from(peer_ip, helo, hostname, mail_from))).await
    };

    let spf = AuthenticationResults::new(hostname)
        .with_spf_ehlo_result(&spf_helo, peer_ip, helo)
        .with_spf_mailfrom_result(&spf_mail_from, peer_ip, mail_from, helo)
        .to_header();
    let mut field = spf.trim_end_matches("\r\n").to_owned();
    field.push_str(&message_results(resolver, raw, mail_from, helo, &spf_mail_from).await);
    field.push_str("\r\n");
    field
}

/// The `; dkim=…; dmarc=…` part, always present (`none` when the message
/// carries no signature or has no author domain).
async fn message_results(resolver: &MailResolver, raw: &[u8], mail_from: &str, helo: &str, spf: &SpfOutput) -> String {
    let Some(message) = AuthenticatedMessage::parse(raw) else {
        return ";\r\n\tdkim=none (message has no header);\r\n\tdmarc=none".to_owned();
    };
    let auth = resolver.authenticator();
    let dkim = auth.verify_dkim(resolver.parameters(&message)).await;
    let mail_from_domain = mail_from.rsplit_once('@').map_or(helo, |(_, d)| d);
    let dmarc =
        auth.verify_dmarc(resolver.parameters(DmarcParameters::new(&message, &dkim, mail_from_domain, spf))).await;

    // `AuthenticationResults` displays as "<hostname><results>": an empty
    // hostname leaves just the results, ready to append.
    let mut out = if dkim.is_empty() {
        ";\r\n\tdkim=none".to_owned()
    } else {
        AuthenticationResults::new("").with_dkim_results(&shown(&dkim), message.from()).to_string()
    };
    if dmarc.domain().is_empty() {
        out.push_str(";\r\n\tdmarc=none");
    } else {
        out.push_str(&AuthenticationResults::new("").with_dmarc_result(&dmarc).to_string());
    }
    out
}

/// The DKIM results as reported: a body that no longer matches its hash is
/// `fail` (RFC 6376 §6.1.3 PERMFAIL "body hash did not verify", RFC 8601
/// §2.7.1 "failed the verification test"), where mail-auth, like Gmail,
/// says `neutral`.
fn shown<'a>(dkim: &'a [DkimOutput<'a>]) -> Vec<DkimOutput<'a>> {
    dkim.iter()
        .map(|out| match out.result() {
            DkimResult::Neutral(err @ Error::Dkim(DkimError::FailedBodyHashMatch)) => {
                let failed = DkimOutput::fail(err.clone());
                match out.signature() {
                    Some(signature) => failed.with_signature(signature),
                    None => failed,
                }
            }
            _ => out.clone(),
        })
        .collect()
}
