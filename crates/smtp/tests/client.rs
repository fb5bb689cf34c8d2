//! A real SMTP client (lettre) against the server: plain inbound delivery,
//! submission with AUTH PLAIN and LOGIN, STARTTLS with a test certificate,
//! and 8BITMIME/SMTPUTF8.

#![allow(clippy::unwrap_used, reason = "test scaffolding: a failed unwrap is a failed test")]

mod support;

use deputy_smtp::Mode;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use support::{TestServer, config, tls};

fn transport(server: &TestServer, tls: Tls) -> lettre::transport::smtp::AsyncSmtpTransportBuilder {
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(server.addr.port())
        .hello_name(ClientId::Domain("client.test".into()))
        .tls(tls)
}

fn message(to: &str) -> Message {
    Message::builder()
        .from("Rob <rob@local.test>".parse().unwrap())
        .to(to.parse().unwrap())
        .subject("Hello")
        .body(String::from("Hi Bob,\r\n.a line starting with a dot\r\n"))
        .unwrap()
}

#[tokio::test]
async fn plain_inbound_delivery() {
    let server = TestServer::start(config(Mode::Inbound)).await;
    let mailer = transport(&server, Tls::None).build::<Tokio1Executor>();
    let response = mailer.send(message("bob@local.test")).await.unwrap();
    assert_eq!(response.code().to_string(), "250");
    let relayed = mailer.send(message("bob@elsewhere.test")).await.unwrap_err();
    assert!(relayed.to_string().contains("Relaying denied"), "{relayed}");
    let messages = server.handler.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].0.rcpt_to, ["bob@local.test"]);
    let body = String::from_utf8(messages[0].1.clone()).unwrap();
    assert!(body.contains("\r\n.a line starting with a dot\r\n"), "{body}");
    assert!(body.contains("Subject: Hello\r\n"), "{body}");
}

#[tokio::test]
async fn submission_with_auth_plain_and_login() {
    let server = TestServer::start(config(Mode::Submission)).await;
    for mechanism in [Mechanism::Plain, Mechanism::Login] {
        let mailer = transport(&server, Tls::None)
            .credentials(Credentials::new("rob".into(), "pw".into()))
            .authentication(vec![mechanism])
            .build::<Tokio1Executor>();
        mailer.send(message("bob@local.test")).await.unwrap();
    }
    let wrong = transport(&server, Tls::None)
        .credentials(Credentials::new("rob".into(), "nope".into()))
        .build::<Tokio1Executor>();
    let error = wrong.send(message("bob@local.test")).await.unwrap_err();
    assert!(error.to_string().contains("credentials invalid"), "{error}");
    let anonymous = transport(&server, Tls::None).build::<Tokio1Executor>();
    let error = anonymous.send(message("bob@local.test")).await.unwrap_err();
    assert!(error.to_string().contains("Authentication required"), "{error}");
    assert_eq!(server.handler.messages().len(), 2);
}

#[tokio::test]
async fn submission_over_starttls() {
    let tls = tls();
    let mut cfg = config(Mode::Submission);
    cfg.tls = Some(tls.server.clone());
    cfg.plaintext_auth_on_loopback = false;
    let server = TestServer::start(cfg).await;
    let parameters = TlsParameters::builder("localhost".into())
        .certificate_store(CertificateStore::None)
        .add_root_certificate(Certificate::from_der(tls.cert_der.clone()).unwrap())
        .build_rustls()
        .unwrap();
    let mailer = transport(&server, Tls::Required(parameters))
        .credentials(Credentials::new("rob".into(), "pw".into()))
        .build::<Tokio1Executor>();
    mailer.send(message("bob@local.test")).await.unwrap();
    assert_eq!(server.handler.messages().len(), 1);

    // Without TLS the same client cannot authenticate on a plaintext-AUTH-off listener.
    let plaintext = transport(&server, Tls::None)
        .credentials(Credentials::new("rob".into(), "pw".into()))
        .build::<Tokio1Executor>();
    assert!(plaintext.send(message("bob@local.test")).await.is_err());
}

#[tokio::test]
async fn eight_bit_body_and_utf8_addresses() {
    let server = TestServer::start(config(Mode::Inbound)).await;
    let mailer = transport(&server, Tls::None).build::<Tokio1Executor>();
    let envelope =
        Envelope::new(Some("jörg@remote.test".parse().unwrap()), vec!["zoë@local.test".parse().unwrap()]).unwrap();
    let raw = "From: jörg@remote.test\r\nTo: zoë@local.test\r\nSubject: Grüße\r\n\r\nÜberweisung ✓\r\n";
    mailer.send_raw(&envelope, raw.as_bytes()).await.unwrap();
    let messages = server.handler.messages();
    let (envelope, body) = &messages[0];
    assert!(envelope.eight_bit && envelope.smtputf8);
    assert_eq!(envelope.mail_from, "jörg@remote.test");
    assert_eq!(envelope.rcpt_to, ["zoë@local.test"]);
    // lettre always sends `<CRLF>.<CRLF>` after the message, so one empty line follows.
    assert_eq!(body, format!("{raw}\r\n").as_bytes());
}
