//! The outbound worker against a loopback SMTP sink used as smarthost:
//! delivery, permanent and temporary refusals, retries, expiry and bounces.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use deputy_store::Delivery;
use deputy_types::{QueuedMessage, RecipientStatus};
use mail_parser::{MessageParser, MimeHeaders};
use support::mem_store::MemStore;
use support::sink::Sink;
use support::{INBOX, eventually, fast_config, message, start};

fn statuses(msg: &QueuedMessage) -> Vec<(String, RecipientStatus)> {
    msg.recipients.iter().map(|r| (r.address.clone(), r.status.clone())).collect()
}

/// The parts of a bounce a test looks at.
struct Bounce {
    subject: String,
    from: String,
    to: String,
    auto_submitted: String,
    report_type: String,
    explanation: String,
    status: String,
    headers: String,
}

fn parse_bounce(notice: &Delivery) -> Bounce {
    let msg = MessageParser::default().parse(&notice.raw).expect("the bounce parses");
    let ct = msg.content_type().expect("a content type");
    assert_eq!((ct.ctype(), ct.subtype()), ("multipart", Some("report")), "{}", String::from_utf8_lossy(&notice.raw));
    let part = |ctype: &str, subtype: &str| {
        msg.parts
            .iter()
            .find(|p| p.content_type().is_some_and(|c| c.ctype() == ctype && c.subtype() == Some(subtype)))
            .map(|p| String::from_utf8_lossy(p.contents()).into_owned())
            .unwrap_or_else(|| panic!("no {ctype}/{subtype} part"))
    };
    Bounce {
        subject: msg.subject().unwrap_or_default().to_owned(),
        from: msg.from().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_owned(),
        to: msg.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_owned(),
        auto_submitted: msg.header_raw("Auto-Submitted").unwrap_or_default().trim().to_owned(),
        report_type: ct.attribute("report-type").unwrap_or_default().to_owned(),
        explanation: part("text", "plain"),
        status: part("message", "delivery-status"),
        headers: part("text", "rfc822-headers"),
    }
}

#[tokio::test]
async fn delivered_message_leaves_the_queue_in_one_transaction() {
    let sink = Sink::start().await;
    let store = Arc::new(MemStore::default());
    let raw = message("alice@contoso.test", "Lunch");
    let id = store.enqueue("alice@contoso.test", &["bob@example.org", "carol@example.net"], &raw);
    let worker = start(fast_config(Some(sink.port())), store.clone(), None, None);
    worker.waker.wake();

    eventually("the message left the queue", || async { store.queued(id).is_none() }).await;
    let got = sink.received();
    assert_eq!(got.len(), 1, "a smarthost gets one transaction for every recipient");
    assert_eq!(got[0].mail_from, "alice@contoso.test");
    assert_eq!(got[0].rcpt_to, ["bob@example.org", "carol@example.net"]);
    assert_eq!(got[0].helo, "mx.deputy.test");
    assert_eq!(got[0].data, raw, "the body arrives as queued (dot-stuffing undone by the server)");
    let last = store.updates(id).pop().unwrap();
    assert_eq!(last.attempts, 1);
    for (_, status) in statuses(&last) {
        assert_eq!(status, RecipientStatus::Delivered { reply: "250 2.0.0 Ok: queued".into() });
    }
    assert!(store.notices().is_empty(), "no bounce for a delivered message");
    worker.stop().await;
}

#[tokio::test]
async fn permanent_refusal_fails_that_recipient_and_bounces_to_the_sender() {
    let sink = Sink::start().await;
    sink.refuse_rcpt("carol@example.org", "550 5.1.1 <carol@example.org>: Recipient address rejected");
    let store = Arc::new(MemStore::default());
    let id = store.enqueue(
        "alice@contoso.test",
        &["bob@example.org", "carol@example.org"],
        &message("alice@contoso.test", "Q3 plan"),
    );
    let worker = start(fast_config(Some(sink.port())), store.clone(), None, None);
    worker.waker.wake();

    eventually("the message left the queue", || async { store.queued(id).is_none() }).await;
    let last = store.updates(id).pop().unwrap();
    let st = statuses(&last);
    assert!(matches!(&st[0].1, RecipientStatus::Delivered { .. }), "{st:?}");
    assert!(matches!(&st[1].1, RecipientStatus::Failed { reply } if reply.starts_with("550 5.1.1")), "{st:?}");
    assert_eq!(sink.received()[0].rcpt_to, ["bob@example.org"]);

    let notices = store.notices();
    assert_eq!(notices.len(), 1, "one bounce, stored with the update");
    assert_eq!(notices[0].entries.len(), 1);
    assert_eq!(notices[0].entries[0].folder, INBOX, "a local sender finds it in the Inbox");
    let b = parse_bounce(&notices[0]);
    assert_eq!(b.subject, "Undeliverable: Q3 plan");
    assert_eq!(b.from, "MAILER-DAEMON@mx.deputy.test");
    assert_eq!(b.to, "alice@contoso.test");
    assert_eq!(b.auto_submitted, "auto-replied");
    assert_eq!(b.report_type, "delivery-status");
    assert!(b.status.contains("Reporting-MTA: dns; mx.deputy.test"), "{}", b.status);
    assert!(b.status.contains("Arrival-Date: "), "{}", b.status);
    assert!(b.status.contains("Final-Recipient: rfc822; carol@example.org"), "{}", b.status);
    assert!(b.status.contains("Action: failed"), "{}", b.status);
    assert!(b.status.contains("Status: 5.1.1"), "{}", b.status);
    assert!(b.status.contains("Remote-MTA: dns; 127.0.0.1"), "{}", b.status);
    assert!(b.status.contains("Diagnostic-Code: smtp; 550 5.1.1 <carol@example.org>"), "{}", b.status);
    assert!(!b.status.contains("bob@example.org"), "only failed recipients are reported: {}", b.status);
    assert!(b.explanation.contains("carol@example.org") && b.explanation.contains("550 5.1.1"), "{}", b.explanation);
    assert!(b.headers.contains("Subject: Q3 plan") && !b.headers.contains("Hello Bob"), "{}", b.headers);
    worker.stop().await;
}

#[tokio::test]
async fn temporary_refusal_is_retried_with_growing_backoff_until_delivered() {
    let sink = Sink::start().await;
    sink.refuse_rcpt_times("bob@example.org", "451 4.3.0 Try again later", 2);
    let store = Arc::new(MemStore::default());
    let id = store.enqueue("alice@contoso.test", &["bob@example.org"], &message("alice@contoso.test", "Retry"));
    let worker = start(fast_config(Some(sink.port())), store.clone(), None, None);
    worker.waker.wake();

    eventually("the message left the queue", || async { store.queued(id).is_none() }).await;
    let updates = store.updates(id);
    assert_eq!(updates.iter().map(|u| u.attempts).collect::<Vec<_>>(), [1, 2, 3]);
    for u in &updates[..2] {
        assert_eq!(statuses(u)[0].1, RecipientStatus::Pending { last_error: Some("451 4.3.0 Try again later".into()) });
    }
    assert!(matches!(statuses(&updates[2])[0].1, RecipientStatus::Delivered { .. }));
    // Delays of 50 then 100 ms: the second gap includes the first delay and the longer second one.
    let gap = updates[1].next_attempt - updates[0].next_attempt;
    assert!(gap >= chrono::Duration::milliseconds(100), "next attempt moved by {gap}");
    assert_eq!(sink.received().len(), 1);
    assert!(store.notices().is_empty(), "a temporary failure bounces nothing");
    worker.stop().await;
}

#[tokio::test]
async fn temporary_refusal_of_the_data_is_retried() {
    let sink = Sink::start().await;
    sink.answer_data("452 4.3.1 Insufficient system storage");
    let store = Arc::new(MemStore::default());
    let id = store.enqueue("alice@contoso.test", &["bob@example.org"], &message("alice@contoso.test", "Full disk"));
    let worker = start(fast_config(Some(sink.port())), store.clone(), None, None);
    worker.waker.wake();

    eventually("the message left the queue", || async { store.queued(id).is_none() }).await;
    let updates = store.updates(id);
    assert_eq!(updates.len(), 2);
    assert_eq!(
        statuses(&updates[0])[0].1,
        RecipientStatus::Pending { last_error: Some("452 4.3.1 Insufficient system storage".into()) }
    );
    assert_eq!(sink.received().len(), 1);
    worker.stop().await;
}

#[tokio::test]
async fn unreachable_server_keeps_mail_pending_until_it_comes_back() {
    let port = Sink::free_port().await;
    let store = Arc::new(MemStore::default());
    let id = store.enqueue("alice@contoso.test", &["bob@example.org"], &message("alice@contoso.test", "Down"));
    let worker = start(fast_config(Some(port)), store.clone(), None, None);
    worker.waker.wake();

    eventually("two attempts failed", || async { store.updates(id).len() >= 2 }).await;
    let pending = store.queued(id).expect("still queued");
    match &statuses(&pending)[0].1 {
        RecipientStatus::Pending { last_error: Some(e) } => assert!(e.starts_with("451 4.4.1 Connection to"), "{e}"),
        other => panic!("expected pending, got {other:?}"),
    }
    assert!(store.notices().is_empty());

    let sink = Sink::start_on(port, None).await;
    eventually("the message left the queue", || async { store.queued(id).is_none() }).await;
    assert_eq!(sink.received().len(), 1);
    worker.stop().await;
}

#[tokio::test]
async fn expired_message_fails_with_4_4_7_and_bounces() {
    let port = Sink::free_port().await;
    let store = Arc::new(MemStore::default());
    let queued_at = Utc::now() - chrono::Duration::hours(2);
    let id = store.enqueue_at(
        "alice@contoso.test",
        &["bob@example.org"],
        &message("alice@contoso.test", "Old news"),
        queued_at,
    );
    let mut config = fast_config(Some(port));
    config.give_up_after = Duration::from_secs(3600);
    let worker = start(config, store.clone(), None, None);
    worker.waker.wake();

    eventually("the message left the queue", || async { store.queued(id).is_none() }).await;
    let last = store.updates(id).pop().unwrap();
    assert_eq!(last.attempts, 1, "one last try before giving up");
    match &statuses(&last)[0].1 {
        RecipientStatus::Failed { reply } => {
            assert!(reply.contains("4.4.7 Message expired"), "{reply}");
            assert!(reply.contains("1 hour") && reply.contains("4.4.1 Connection to"), "{reply}");
        }
        other => panic!("expected failed, got {other:?}"),
    }
    let notices = store.notices();
    assert_eq!(notices.len(), 1);
    let b = parse_bounce(&notices[0]);
    assert!(b.status.contains("Status: 4.4.7"), "{}", b.status);
    assert!(b.status.contains("Final-Recipient: rfc822; bob@example.org"), "{}", b.status);
    assert!(!b.status.contains("Remote-MTA"), "Deputy itself gave up: {}", b.status);
    worker.stop().await;
}

#[tokio::test]
async fn failure_of_a_null_sender_message_bounces_nothing() {
    let sink = Sink::start().await;
    sink.refuse_rcpt("bob@example.org", "550 5.1.1 No such user");
    let store = Arc::new(MemStore::default());
    let id = store.enqueue("", &["bob@example.org"], &message("mailer-daemon@contoso.test", "Undeliverable: x"));
    let worker = start(fast_config(Some(sink.port())), store.clone(), None, None);
    worker.waker.wake();

    eventually("the message left the queue", || async { store.queued(id).is_none() }).await;
    assert!(matches!(statuses(&store.updates(id)[0])[0].1, RecipientStatus::Failed { .. }));
    assert!(store.notices().is_empty(), "RFC 5321 §4.5.5: a bounce is never bounced");
    worker.stop().await;
}

#[tokio::test]
async fn a_null_sender_is_sent_as_an_empty_path_and_remote_bounces_are_queued() {
    let sink = Sink::start().await;
    sink.answer_data("554 5.6.0 Content rejected");
    let store = Arc::new(MemStore::default());
    // A remote sender whose mail we relay: its bounce is queued back to it with the null sender.
    let id = store.enqueue("dave@example.net", &["bob@example.org"], &message("dave@example.net", "Relayed"));
    let worker = start(fast_config(Some(sink.port())), store.clone(), None, None);
    worker.waker.wake();

    eventually("the bounce was delivered", || async {
        store.queued(id).is_none() && sink.received().iter().any(|r| r.mail_from.is_empty())
    })
    .await;
    let bounce = sink.received().into_iter().find(|r| r.mail_from.is_empty()).unwrap();
    assert_eq!(bounce.rcpt_to, ["dave@example.net"]);
    let st = statuses(&store.updates(id)[0]);
    assert!(matches!(&st[0].1, RecipientStatus::Failed { reply } if reply == "554 5.6.0 Content rejected"), "{st:?}");
    let b = parse_bounce(&store.notices()[0]);
    assert!(b.status.contains("Status: 5.6.0"), "{}", b.status);
    assert_eq!(b.from, "MAILER-DAEMON@mx.deputy.test");
    worker.stop().await;
}

#[tokio::test]
async fn one_queue_entry_is_never_delivered_twice_at_once() {
    let sink = Sink::start().await;
    sink.slow_data(Duration::from_millis(300));
    let store = Arc::new(MemStore::default());
    let id = store.enqueue("alice@contoso.test", &["bob@example.org"], &message("alice@contoso.test", "Once"));
    let worker = start(fast_config(Some(sink.port())), store.clone(), None, None);
    // Wake the worker again and again while the slow delivery is under way.
    for _ in 0..20 {
        worker.waker.wake();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    eventually("the message left the queue", || async { store.queued(id).is_none() }).await;
    assert_eq!(sink.connections(), 1, "one connection for one delivery");
    assert_eq!(sink.received().len(), 1);
    assert_eq!(store.updates(id).len(), 1);
    worker.stop().await;
}

#[tokio::test]
async fn a_store_that_cannot_record_an_attempt_does_not_cause_a_delivery_storm() {
    let sink = Sink::start().await;
    let store = Arc::new(MemStore::default());
    store.fail_updates(3);
    let id = store.enqueue("alice@contoso.test", &["bob@example.org"], &message("alice@contoso.test", "Storm"));
    let started = std::time::Instant::now();
    let worker = start(fast_config(Some(sink.port())), store.clone(), None, None);
    worker.waker.wake();

    eventually("the message left the queue", || async { store.queued(id).is_none() }).await;
    // Each unrecorded attempt is repeated (a duplicate beats a loss), but only
    // after its 50 ms backoff, not in a tight loop.
    assert_eq!(sink.received().len(), 4);
    assert!(started.elapsed() >= Duration::from_millis(150), "retried after {:?}", started.elapsed());
    worker.stop().await;
}

#[tokio::test]
async fn starttls_is_used_when_the_server_offers_it() {
    let sink = Sink::start_tls().await;
    let store = Arc::new(MemStore::default());
    let id = store.enqueue("alice@contoso.test", &["bob@example.org"], &message("alice@contoso.test", "Secret"));
    let worker = start(fast_config(Some(sink.port())), store.clone(), None, None);
    worker.waker.wake();

    eventually("the message left the queue", || async { store.queued(id).is_none() }).await;
    let got = sink.received();
    assert_eq!(got.len(), 1);
    assert!(got[0].tls, "delivered inside TLS despite the self-signed certificate");
    worker.stop().await;
}

#[tokio::test]
async fn eight_bit_mail_declares_body_8bitmime_and_size() {
    let sink = Sink::start().await;
    let store = Arc::new(MemStore::default());
    let raw = "From: alice@contoso.test\r\nSubject: Caf\u{e9}\r\n\r\nd\u{e9}j\u{e0} vu\r\n".as_bytes().to_vec();
    let id = store.enqueue("alice@contoso.test", &["bob@example.org"], &raw);
    let worker = start(fast_config(Some(sink.port())), store.clone(), None, None);
    worker.waker.wake();
    eventually("the message left the queue", || async { store.queued(id).is_none() }).await;
    let params = &sink.received()[0].mail_params;
    assert!(params.contains("BODY=8BITMIME") && params.contains(&format!("SIZE={}", raw.len())), "{params}");
    worker.stop().await;
}
