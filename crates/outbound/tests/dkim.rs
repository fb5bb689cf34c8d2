//! Mail whose author domain is local leaves DKIM-signed, and the signature
//! verifies with Deputy's own verifier; other mail leaves as it came.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use std::sync::Arc;

use deputy_mailauth::{DkimKey, DkimSigner, MailResolver, authentication_results};
use support::mem_store::MemStore;
use support::sink::Sink;
use support::{LOCAL, eventually, fast_config, message, start};

#[tokio::test]
async fn local_mail_is_signed_and_verifies_and_foreign_mail_is_not_signed() {
    let key = DkimKey::generate().unwrap();
    let signer = Arc::new(DkimSigner::new(&key).unwrap());
    let sink = Sink::start().await;
    let store = Arc::new(MemStore::default());
    let ours = message("alice@contoso.test", "Signed");
    let theirs = message("dave@example.net", "Forwarded");
    let a = store.enqueue("alice@contoso.test", &["bob@example.org"], &ours);
    let b = store.enqueue("dave@example.net", &["bob@example.org"], &theirs);
    let worker = start(fast_config(Some(sink.port())), store.clone(), Some(signer), None);
    worker.waker.wake();

    eventually("both left the queue", || async { store.queued(a).is_none() && store.queued(b).is_none() }).await;
    let received = sink.received();
    let signed = received.iter().find(|r| r.mail_from == "alice@contoso.test").unwrap();
    let unsigned = received.iter().find(|r| r.mail_from == "dave@example.net").unwrap();

    assert!(signed.data.starts_with(b"DKIM-Signature: "), "{}", String::from_utf8_lossy(&signed.data));
    assert!(signed.data.ends_with(&ours), "the signature is prepended, the message unchanged");
    assert_eq!(unsigned.data, theirs, "mail from another organization's domain is not ours to sign");

    let resolver = MailResolver::in_memory().unwrap();
    let (name, value) = key.dns_record(LOCAL);
    resolver.add_txt(&name, &value).unwrap();
    let field = authentication_results(
        &resolver,
        "mx.example.org",
        "192.0.2.1".parse().unwrap(),
        "mx.deputy.test",
        &signed.mail_from,
        &signed.data,
    )
    .await;
    assert!(field.contains("dkim=pass header.d=contoso.test header.s=deputy"), "{field}");
    worker.stop().await;
}
