//! STARTTLS: advertised with LOGINDISABLED off loopback, pipelined bytes
//! before the handshake are dropped, and passwords work after it.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use std::sync::Arc;

use deputy_imap::Config;
use deputy_imap::rustls::{self, pki_types};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

fn tls() -> (Arc<rustls::ServerConfig>, tokio_rustls::TlsConnector) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key =
        pki_types::PrivateKeyDer::Pkcs8(pki_types::PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (Arc::new(server), tokio_rustls::TlsConnector::from(Arc::new(client)))
}

#[tokio::test]
async fn starttls_enables_login_and_drops_pipelined_bytes() {
    let (server_tls, connector) = tls();
    let mut config = Config::new("imap.test");
    config.tls = Some(server_tls);
    let (client, server) = tokio::io::duplex(1 << 16);
    let task = tokio::spawn(deputy_imap::run_session(
        server,
        "192.0.2.1:5000".parse().unwrap(),
        Arc::new(config),
        Arc::new(support::Memory::new()),
    ));
    let mut client = BufReader::new(client);
    let mut greeting = String::new();
    client.read_line(&mut greeting).await.unwrap();
    assert!(greeting.contains("STARTTLS") && greeting.contains("LOGINDISABLED"), "{greeting}");
    client.get_mut().write_all(b"a LOGIN alice secret\r\nb STARTTLS\r\nc NOOP\r\n").await.unwrap();
    let mut line = String::new();
    client.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("a NO [PRIVACYREQUIRED]"), "{line}");
    line.clear();
    client.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("b OK"), "{line}");
    let name = pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, client.into_inner()).await.unwrap();
    tls.write_all(b"d CAPABILITY\r\ne LOGIN alice secret\r\nf LOGOUT\r\n").await.unwrap();
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out).await;
    let out = String::from_utf8_lossy(&out);
    assert!(!out.contains("c OK"), "pre-TLS bytes were processed: {out}");
    assert!(out.contains("AUTH=PLAIN") && !out.contains("STARTTLS") && !out.contains("LOGINDISABLED"), "{out}");
    assert!(out.contains("e OK") && out.contains("f OK"), "{out}");
    task.await.unwrap().unwrap();
}
