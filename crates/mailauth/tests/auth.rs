//! Signing, verification and the `Authentication-Results:` field, against
//! records served from memory.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

use std::net::IpAddr;
use std::sync::OnceLock;
use std::time::Instant;

use deputy_mailauth::{DkimKey, DkimSigner, MailResolver, authentication_results};

const HOST: &str = "mx.deputy.test";

/// One key for the whole file: RSA generation is the slow part.
fn key() -> &'static DkimKey {
    static KEY: OnceLock<DkimKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let started = Instant::now();
        let key = DkimKey::generate().unwrap();
        // A debug build must still start a new server quickly.
        assert!(started.elapsed().as_secs() < 20, "RSA 2048 generation took {:?}", started.elapsed());
        key
    })
}

fn message(from: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Alice <{from}>\r\nTo: bob@example.org\r\nSubject: Lunch\r\nDate: Tue, 1 Jul 2025 10:00:00 +0000\r\n\
         Message-ID: <1@contoso.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n{body}"
    )
    .into_bytes()
}

fn signed(from: &str, domain: &str, body: &str) -> Vec<u8> {
    let raw = message(from, body);
    let mut out = DkimSigner::new(key()).unwrap().sign(domain, &raw).unwrap();
    out.extend_from_slice(&raw);
    out
}

fn resolver_with_key(domain: &str) -> MailResolver {
    let resolver = MailResolver::in_memory().unwrap();
    let (name, value) = key().dns_record(domain);
    resolver.add_txt(&name, &value).unwrap();
    resolver
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The value of `method=` in an Authentication-Results field (its first word).
fn result<'a>(field: &'a str, method: &str) -> Vec<&'a str> {
    field
        .split(';')
        .skip(1)
        .map(str::trim)
        .filter_map(|part| part.strip_prefix(method).and_then(|r| r.strip_prefix('=')))
        .map(|r| r.split([' ', '\r', '\n', '\t']).next().unwrap())
        .collect()
}

#[test]
fn dns_record_names_the_selector_and_the_public_key() {
    let (name, value) = key().dns_record("contoso.test");
    assert_eq!(name, "deputy._domainkey.contoso.test");
    assert!(value.starts_with("v=DKIM1; k=rsa; p=MII"), "{value}");
    assert_eq!(key().selector(), "deputy");
}

#[test]
fn signature_is_one_crlf_terminated_relaxed_field() {
    let raw = message("alice@contoso.test", "Hi\r\n");
    let sig = String::from_utf8(DkimSigner::new(key()).unwrap().sign("contoso.test", &raw).unwrap()).unwrap();
    assert!(sig.starts_with("DKIM-Signature: "), "{sig}");
    assert!(sig.ends_with("\r\n"));
    assert!(!sig.trim_end_matches("\r\n").contains("\r\n") || sig.contains("\r\n\t") || sig.contains("\r\n "));
    assert!(sig.contains("c=relaxed/relaxed"), "{sig}");
    assert!(sig.contains("d=contoso.test"), "{sig}");
    assert!(sig.contains("s=deputy"), "{sig}");
    let h = sig.split("h=").nth(1).unwrap().split(';').next().unwrap().to_ascii_lowercase();
    for field in ["from", "to", "subject", "date", "message-id", "mime-version", "content-type"] {
        assert!(h.contains(field), "{field} not signed: {h}");
    }
}

#[test]
fn key_survives_save_and_load_with_owner_only_permissions() {
    let dir = std::env::temp_dir().join(format!("deputy-mailauth-{}", uuid::Uuid::new_v4().simple()));
    let path = dir.join("dkim").join("rsa.pem");
    key().save(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("-----BEGIN PRIVATE KEY-----"), "PKCS#8 PEM expected");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let loaded = DkimKey::load(&path).unwrap();
    assert_eq!(loaded.public_key_base64(), key().public_key_base64());
    assert!(!format!("{loaded:?}").contains("PRIVATE"), "Debug must not print the key");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn loading_a_missing_key_names_the_file() {
    let err = DkimKey::load(std::path::Path::new("/nonexistent/dkim.pem")).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/dkim.pem"), "{err}");
}

#[tokio::test]
async fn signed_message_verifies_as_dkim_pass() {
    let resolver = resolver_with_key("contoso.test");
    let raw = signed("alice@contoso.test", "contoso.test", "See you at noon.\r\n");
    let field =
        authentication_results(&resolver, HOST, ip("192.0.2.1"), "mail.contoso.test", "alice@contoso.test", &raw).await;
    assert_eq!(result(&field, "dkim"), ["pass"], "{field}");
    assert!(field.contains("header.d=contoso.test"), "{field}");
    assert!(field.contains("header.s=deputy"), "{field}");
}

#[tokio::test]
async fn tampered_body_is_dkim_fail() {
    let resolver = resolver_with_key("contoso.test");
    let raw = signed("alice@contoso.test", "contoso.test", "See you at noon.\r\n");
    let tampered = String::from_utf8(raw).unwrap().replace("noon", "ten").into_bytes();
    let field =
        authentication_results(&resolver, HOST, ip("192.0.2.1"), "mail.contoso.test", "alice@contoso.test", &tampered)
            .await;
    assert_eq!(result(&field, "dkim"), ["fail"], "{field}");

    let raw = signed("alice@contoso.test", "contoso.test", "See you at noon.\r\n");
    let forged = String::from_utf8(raw).unwrap().replace("Subject: Lunch", "Subject: Dinner").into_bytes();
    let field =
        authentication_results(&resolver, HOST, ip("192.0.2.1"), "mail.contoso.test", "alice@contoso.test", &forged)
            .await;
    assert_eq!(result(&field, "dkim"), ["fail"], "a signed header changed: {field}");
}

#[tokio::test]
async fn unpublished_key_is_not_a_pass_and_unsigned_mail_is_dkim_none() {
    let resolver = MailResolver::in_memory().unwrap();
    let raw = signed("alice@contoso.test", "contoso.test", "Hi\r\n");
    let field = authentication_results(&resolver, HOST, ip("192.0.2.1"), "h", "alice@contoso.test", &raw).await;
    assert_ne!(result(&field, "dkim"), ["pass"], "{field}");
    let field =
        authentication_results(&resolver, HOST, ip("192.0.2.1"), "h", "", &message("a@contoso.test", "Hi\r\n")).await;
    assert_eq!(result(&field, "dkim"), ["none"], "{field}");
}

#[tokio::test]
async fn spf_pass_fail_and_none() {
    let resolver = MailResolver::in_memory().unwrap();
    resolver.add_txt("contoso.test", "v=spf1 ip4:192.0.2.0/24 -all").unwrap();
    resolver.add_txt("mail.contoso.test", "v=spf1 a -all").unwrap();
    resolver.add_ip("mail.contoso.test", ip("192.0.2.10"));
    let raw = message("alice@contoso.test", "Hi\r\n");

    let pass =
        authentication_results(&resolver, HOST, ip("192.0.2.10"), "mail.contoso.test", "alice@contoso.test", &raw)
            .await;
    assert_eq!(result(&pass, "spf"), ["pass", "pass"], "helo then mail from: {pass}");
    assert!(pass.contains("smtp.mailfrom=alice@contoso.test"), "{pass}");
    assert!(pass.contains("smtp.helo=mail.contoso.test"), "{pass}");

    let fail =
        authentication_results(&resolver, HOST, ip("198.51.100.7"), "mail.contoso.test", "alice@contoso.test", &raw)
            .await;
    assert_eq!(result(&fail, "spf"), ["fail", "fail"], "{fail}");

    let none =
        authentication_results(&resolver, HOST, ip("198.51.100.7"), "elsewhere.example", "bob@example.org", &raw).await;
    assert_eq!(result(&none, "spf"), ["none", "none"], "{none}");
}

#[tokio::test]
async fn null_sender_is_checked_as_postmaster_at_helo() {
    let resolver = MailResolver::in_memory().unwrap();
    resolver.add_txt("mail.contoso.test", "v=spf1 ip4:192.0.2.10 -all").unwrap();
    let raw = message("mailer-daemon@contoso.test", "Bounce\r\n");
    let field = authentication_results(&resolver, HOST, ip("192.0.2.10"), "mail.contoso.test", "", &raw).await;
    assert_eq!(result(&field, "spf"), ["pass", "pass"], "{field}");
    assert!(field.contains("smtp.mailfrom=<>"), "{field}");
}

#[tokio::test]
async fn dmarc_passes_on_an_aligned_signature_and_fails_without_one() {
    let resolver = resolver_with_key("contoso.test");
    resolver.add_txt("_dmarc.contoso.test", "v=DMARC1; p=reject").unwrap();
    resolver.add_txt("contoso.test", "v=spf1 ip4:192.0.2.0/24 -all").unwrap();

    // Signed by the author domain, sent from a server SPF does not list: DKIM alignment suffices.
    let raw = signed("alice@contoso.test", "contoso.test", "Hi\r\n");
    let pass =
        authentication_results(&resolver, HOST, ip("198.51.100.7"), "relay.example", "bounces@relay.example", &raw)
            .await;
    assert_eq!(result(&pass, "dmarc"), ["pass"], "{pass}");
    assert!(pass.contains("header.from=contoso.test"), "{pass}");
    assert!(pass.contains("policy.dmarc=reject"), "{pass}");

    // Unsigned, and SPF fails for the author domain: DMARC fails.
    let raw = message("alice@contoso.test", "Hi\r\n");
    let fail =
        authentication_results(&resolver, HOST, ip("198.51.100.7"), "x.example", "alice@contoso.test", &raw).await;
    assert_eq!(result(&fail, "dmarc"), ["fail"], "{fail}");

    // No DMARC record at all.
    let other = message("carol@example.org", "Hi\r\n");
    let none =
        authentication_results(&resolver, HOST, ip("198.51.100.7"), "x.example", "carol@example.org", &other).await;
    assert_eq!(result(&none, "dmarc"), ["none"], "{none}");
}

#[tokio::test]
async fn header_follows_rfc_8601_syntax() {
    let resolver = resolver_with_key("contoso.test");
    let raw = signed("alice@contoso.test", "contoso.test", "Hi\r\n");
    let field =
        authentication_results(&resolver, HOST, ip("192.0.2.1"), "mail.contoso.test", "alice@contoso.test", &raw).await;
    assert!(field.starts_with("Authentication-Results: mx.deputy.test;"), "{field}");
    assert!(field.ends_with("\r\n") && !field.ends_with("\r\n\r\n"), "{field:?}");
    // Every line after the first is a folded continuation.
    for line in field.trim_end_matches("\r\n").split("\r\n").skip(1) {
        assert!(line.starts_with('\t') || line.starts_with(' '), "unfolded line {line:?}");
    }
    // One resinfo per method, in order: spf (helo), spf (mail from), dkim, dmarc.
    let methods: Vec<&str> = field.split(';').skip(1).map(|p| p.trim().split('=').next().unwrap()).collect();
    assert_eq!(methods, ["spf", "spf", "dkim", "dmarc"], "{field}");
    // The field parses as a header of a message.
    let mut parsed = field.clone().into_bytes();
    parsed.extend_from_slice(&raw);
    let msg = mail_parser_free_parse(&parsed);
    assert!(msg.starts_with("mx.deputy.test;"), "{msg}");
}

/// The unfolded value of the first header field, without a MIME parser.
fn mail_parser_free_parse(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut value = String::new();
    for (i, line) in text.split("\r\n").enumerate() {
        if i == 0 {
            value.push_str(line.split_once(": ").unwrap().1);
        } else if line.starts_with([' ', '\t']) {
            value.push(' ');
            value.push_str(line.trim_start());
        } else {
            break;
        }
    }
    value
}

#[tokio::test]
async fn mx_lookup_orders_by_preference_and_keeps_null_mx() {
    let resolver = MailResolver::in_memory().unwrap();
    resolver.add_mx("example.org", 20, "backup.example.org");
    resolver.add_mx("example.org", 10, "mx1.example.org");
    resolver.add_mx("nullmx.example", 0, ".");
    assert_eq!(
        resolver.mx("example.org").await.unwrap(),
        [(10, "mx1.example.org".to_owned()), (20, "backup.example.org".to_owned())]
    );
    assert_eq!(resolver.mx("nullmx.example").await.unwrap(), [(0, ".".to_owned())]);
    assert!(resolver.mx("nomx.example").await.unwrap().is_empty());

    resolver.add_ip("mx1.example.org", ip("192.0.2.25"));
    resolver.add_ip("mx1.example.org", ip("2001:db8::25"));
    assert_eq!(resolver.addresses("mx1.example.org").await.unwrap(), [ip("192.0.2.25"), ip("2001:db8::25")]);
    assert!(resolver.addresses("nowhere.example").await.unwrap().is_empty());
}

#[test]
fn system_resolver_starts_even_without_resolv_conf() {
    // Whatever this machine's resolv.conf says, construction must not fail.
    MailResolver::system().unwrap();
}

#[test]
fn in_memory_resolver_refuses_records_it_cannot_parse() {
    let resolver = MailResolver::in_memory().unwrap();
    assert!(resolver.add_txt("example.org", "google-site-verification=abc").is_err());
}
