//! The outbound queue is worked by every node with no message sent twice
//! (issue 7): two nodes on one schema relay to one SMTP sink, and each message
//! submitted through either arrives there exactly once. Runs when
//! `DEPUTY_TEST_POSTGRES` holds a connection URL.

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use std::collections::HashMap;
use std::time::Duration;

use support::cluster::{Cluster, Sent, submit_raw};
use support::sink::Sink;

const MESSAGES: usize = 50;

#[test]
fn both_nodes_work_the_queue_and_send_each_message_once() {
    let sink = Sink::start();
    let Some(cluster) = Cluster::start("queue", &["--relay-host", &sink.relay_flag()]) else {
        eprintln!("DEPUTY_TEST_POSTGRES is not set: the cluster queue test did not run");
        return;
    };
    let nodes = [cluster.a.submission, cluster.b.submission];
    let clients: Vec<_> = (0..2)
        .map(|n| {
            std::thread::spawn(move || {
                for i in (n..MESSAGES).step_by(2) {
                    let to = format!("someone{i}@elsewhere.test");
                    let sent = submit_raw(nodes[n], &to, &format!("remote {i}"), &format!("remote-{i}@client.test"));
                    assert_eq!(sent, Sent::Accepted, "message {i} through node {n}");
                }
            })
        })
        .collect();
    for c in clients {
        c.join().expect("a client thread panicked");
    }
    sink.wait_for(MESSAGES);
    // Give a second delivery, were there one, the time to arrive.
    std::thread::sleep(Duration::from_secs(3));
    let got = sink.messages();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut by_node: HashMap<String, usize> = HashMap::new();
    for m in &got {
        *by_id.entry(m.header("Message-ID").unwrap_or_default()).or_default() += 1;
        *by_node.entry(m.helo.clone()).or_default() += 1;
    }
    for i in 0..MESSAGES {
        assert_eq!(by_id.remove(&format!("<remote-{i}@client.test>")), Some(1), "message {i} arrived {by_id:?}");
    }
    assert!(by_id.is_empty(), "the sink got messages nobody sent: {by_id:?}");
    eprintln!("deliveries by node: {by_node:?}");
    // Each node's submissions wake its own worker, so both deliver some; how
    // many each is left to the race.
    for node in ["a.contoso.test", "b.contoso.test"] {
        assert!(by_node.get(node).is_some_and(|n| *n > 0), "{node} delivered nothing: {by_node:?}");
    }
}
