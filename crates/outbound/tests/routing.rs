//! Delivery without a smarthost: MX records by preference, the domain's own
//! address when it has none (RFC 5321 §5.1), null MX (RFC 7505), and one
//! transaction per domain. Records come from the in-memory resolver and
//! point at loopback sinks.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use std::net::IpAddr;
use std::sync::Arc;

use deputy_mailauth::MailResolver;
use deputy_types::RecipientStatus;
use support::mem_store::MemStore;
use support::sink::Sink;
use support::{eventually, fast_config, message, start};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[tokio::test]
async fn mx_hosts_are_tried_by_preference_until_one_answers() {
    let sink = Sink::start().await;
    let resolver = MailResolver::in_memory().unwrap();
    // The preferred exchanger is down (nothing listens on 127.0.0.2), the backup answers.
    resolver.add_mx("example.org", 10, "mx1.example.org");
    resolver.add_mx("example.org", 20, "mx2.example.org");
    resolver.add_ip("mx1.example.org", ip("127.0.0.2"));
    resolver.add_ip("mx2.example.org", ip("127.0.0.1"));
    let store = Arc::new(MemStore::default());
    let id = store.enqueue("alice@contoso.test", &["bob@example.org"], &message("alice@contoso.test", "MX"));
    let mut config = fast_config(None);
    config.mx_port = sink.port();
    let worker = start(config, store.clone(), None, Some(resolver));
    worker.waker.wake();

    eventually("the message left the queue", || async { store.queued(id).is_none() }).await;
    assert_eq!(sink.received().len(), 1);
    assert_eq!(store.updates(id).len(), 1, "the backup took it in the same attempt");
    worker.stop().await;
}

#[tokio::test]
async fn the_most_preferred_mx_gets_the_mail() {
    let backup = Sink::start().await;
    let primary = Sink::start_at("127.0.0.3", backup.port(), None).await;
    let resolver = MailResolver::in_memory().unwrap();
    resolver.add_mx("example.org", 20, "backup.example.org");
    resolver.add_mx("example.org", 5, "primary.example.org");
    resolver.add_ip("backup.example.org", ip("127.0.0.1"));
    resolver.add_ip("primary.example.org", ip("127.0.0.3"));
    let store = Arc::new(MemStore::default());
    let id = store.enqueue("alice@contoso.test", &["bob@example.org"], &message("alice@contoso.test", "Preferred"));
    let mut config = fast_config(None);
    config.mx_port = backup.port();
    let worker = start(config, store.clone(), None, Some(resolver));
    worker.waker.wake();

    eventually("the message left the queue", || async { store.queued(id).is_none() }).await;
    assert_eq!(primary.received().len(), 1);
    assert!(backup.received().is_empty());
    worker.stop().await;
}

#[tokio::test]
async fn a_domain_without_mx_gets_mail_at_its_own_address() {
    let sink = Sink::start().await;
    let resolver = MailResolver::in_memory().unwrap();
    resolver.add_ip("example.net", ip("127.0.0.1"));
    let store = Arc::new(MemStore::default());
    let id = store.enqueue("alice@contoso.test", &["carol@example.net"], &message("alice@contoso.test", "Implicit MX"));
    let mut config = fast_config(None);
    config.mx_port = sink.port();
    let worker = start(config, store.clone(), None, Some(resolver));
    worker.waker.wake();

    eventually("the message left the queue", || async { store.queued(id).is_none() }).await;
    assert_eq!(sink.received()[0].rcpt_to, ["carol@example.net"]);
    worker.stop().await;
}

#[tokio::test]
async fn each_domain_gets_its_own_transaction() {
    let sink = Sink::start().await;
    let resolver = MailResolver::in_memory().unwrap();
    for domain in ["example.org", "example.net"] {
        resolver.add_mx(domain, 10, "mx.shared.example");
    }
    resolver.add_ip("mx.shared.example", ip("127.0.0.1"));
    let store = Arc::new(MemStore::default());
    let id = store.enqueue(
        "alice@contoso.test",
        &["bob@example.org", "carol@example.net", "dan@EXAMPLE.org"],
        &message("alice@contoso.test", "Two domains"),
    );
    let mut config = fast_config(None);
    config.mx_port = sink.port();
    let worker = start(config, store.clone(), None, Some(resolver));
    worker.waker.wake();

    eventually("the message left the queue", || async { store.queued(id).is_none() }).await;
    let mut got: Vec<Vec<String>> = sink.received().into_iter().map(|r| r.rcpt_to).collect();
    got.sort();
    assert_eq!(
        got,
        [vec!["bob@example.org".to_owned(), "dan@EXAMPLE.org".to_owned()], vec!["carol@example.net".to_owned()]]
    );
    worker.stop().await;
}

#[tokio::test]
async fn null_mx_fails_at_once_with_5_1_10() {
    let resolver = MailResolver::in_memory().unwrap();
    resolver.add_mx("nomail.example", 0, ".");
    let store = Arc::new(MemStore::default());
    let id = store.enqueue("alice@contoso.test", &["bob@nomail.example"], &message("alice@contoso.test", "Null MX"));
    let worker = start(fast_config(None), store.clone(), None, Some(resolver));
    worker.waker.wake();

    eventually("the message left the queue", || async { store.queued(id).is_none() }).await;
    let last = store.updates(id).pop().unwrap();
    assert!(
        matches!(&last.recipients[0].status, RecipientStatus::Failed { reply } if reply.starts_with("556 5.1.10")),
        "{last:?}"
    );
    assert_eq!(store.notices().len(), 1, "the sender hears of it");
    worker.stop().await;
}

#[tokio::test]
async fn a_domain_with_no_mail_server_at_all_fails() {
    let store = Arc::new(MemStore::default());
    let id = store.enqueue("alice@contoso.test", &["bob@nowhere.example"], &message("alice@contoso.test", "Typo"));
    let worker = start(fast_config(None), store.clone(), None, Some(MailResolver::in_memory().unwrap()));
    worker.waker.wake();

    eventually("the message left the queue", || async { store.queued(id).is_none() }).await;
    let last = store.updates(id).pop().unwrap();
    assert!(
        matches!(&last.recipients[0].status, RecipientStatus::Failed { reply } if reply.starts_with("550 5.4.4")),
        "{last:?}"
    );
    worker.stop().await;
}

#[tokio::test]
async fn mx_hosts_without_addresses_defer() {
    let resolver = MailResolver::in_memory().unwrap();
    resolver.add_mx("example.org", 10, "ghost.example.org");
    let store = Arc::new(MemStore::default());
    let id = store.enqueue("alice@contoso.test", &["bob@example.org"], &message("alice@contoso.test", "Ghost"));
    let worker = start(fast_config(None), store.clone(), None, Some(resolver));
    worker.waker.wake();

    eventually("an attempt was made", || async { !store.updates(id).is_empty() }).await;
    let msg = store.queued(id).expect("still queued");
    assert!(
        matches!(&msg.recipients[0].status, RecipientStatus::Pending { last_error: Some(e) } if e.contains("4.4.3")),
        "{msg:?}"
    );
    worker.stop().await;
}
