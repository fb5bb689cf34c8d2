//! The worker against the real embedded store: a queued message with one
//! refused recipient ends with the other delivered, the entry gone, and the
//! bounce stored atomically with the update, queued with the null sender
//! and delivered in its turn.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use std::sync::Arc;

use chrono::Utc;
use deputy_store::{Delivery, MailStore, NewOutbound};
use deputy_store_sqlite::SqliteStore;
use support::sink::Sink;
use support::{eventually, fast_config, message, start};

#[tokio::test]
async fn sqlite_queue_is_delivered_and_the_bounce_is_queued_back() {
    let dir = std::env::temp_dir().join(format!("deputy-outbound-{}", uuid::Uuid::new_v4().simple()));
    let store = Arc::new(SqliteStore::open(&dir).unwrap());
    let sink = Sink::start().await;
    sink.refuse_rcpt("carol@example.org", "550 5.1.1 No such user");

    let raw = message("dave@example.net", "Via sqlite");
    let delivery = Delivery {
        raw: raw.clone(),
        received: Utc::now(),
        message_id: None,
        entries: Vec::new(),
        outbound: Some(NewOutbound {
            mail_from: "dave@example.net".into(),
            recipients: vec!["bob@example.org".into(), "carol@example.org".into()],
        }),
    };
    let stored = store.store(vec![delivery]).await.unwrap();
    let id = stored[0].queued.expect("queued");

    let worker = start(fast_config(Some(sink.port())), store.clone(), None, None);
    worker.waker.wake();

    // The original goes to bob; the bounce for carol goes back to dave with the null sender.
    eventually("the queue is empty and both messages arrived", || {
        let store = store.clone();
        let sink_count = sink.received().len();
        async move { sink_count == 2 && store.queue_all().await.unwrap().is_empty() }
    })
    .await;
    let received = sink.received();
    let original = received.iter().find(|r| r.mail_from == "dave@example.net").unwrap();
    assert_eq!(original.rcpt_to, ["bob@example.org"]);
    assert_eq!(original.data, raw);
    let bounce = received.iter().find(|r| r.mail_from.is_empty()).unwrap();
    assert_eq!(bounce.rcpt_to, ["dave@example.net"]);
    let text = String::from_utf8_lossy(&bounce.data);
    assert!(text.contains("Final-Recipient: rfc822; carol@example.org") && text.contains("Status: 5.1.1"), "{text}");
    assert!(store.queue_all().await.unwrap().iter().all(|m| m.id != id));

    worker.stop().await;
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
