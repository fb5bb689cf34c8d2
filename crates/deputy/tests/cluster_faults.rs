//! PostgreSQL connections cut during a burst of sends (issue 7, "a fault
//! test"): two nodes on one schema take ~200 SMTP submissions from several
//! client threads and ~40 Graph `sendMail`s while another thread terminates every backend of *these* nodes
//! (found by their `application_name`, so parallel tests are untouched) every
//! ~150 ms. Runs when `DEPUTY_TEST_POSTGRES` holds a connection URL.
//!
//! What is held to: every message that got a `250` (or `202`) is in the
//! recipient's INBOX exactly once. An attempt that failed *after* its final
//! dot (a `451`, or the connection dropped awaiting the reply; for Graph a
//! `503` or a dropped request) may have been committed anyway — the
//! connection can die between PostgreSQL's `COMMIT` and its answer — and the
//! client retries, as RFC 5321 §4.5.4.1 tells it to, with the same
//! `Message-ID`: Deputy's duplicate detection (a folder that already holds the
//! `Message-ID` from the last minutes gets no second copy) keeps that retry
//! from storing it twice. A message never acknowledged is stored at most once.
//! And no transient failure is ever an SMTP `5xx` (nor a Graph status other
//! than `503`).

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use support::Server;
use support::cluster::{Cluster, PW, Sent, inbox_subjects, submit_raw};
use support::graph::{SHARED, agent, mail, user_token};

const MESSAGES: usize = 200;
const GRAPH_MESSAGES: usize = 40;
const THREADS: usize = 6;
const ATTEMPTS: usize = 8;

/// Every attempt of one message, in order.
type Attempts = Vec<Sent>;

/// One Graph `sendMail` as Rob: `202` is [`Sent::Accepted`], `503` or a
/// dropped request is temporary (and may have been stored), anything else permanent.
fn graph_send(server: &Server, token: &str, subject: &str) -> Sent {
    let mut message = mail(subject, "megan@contoso.test", None);
    // A client's retry carries the same Message-ID, as SMTP clients' do.
    message["internetMessageId"] = serde_json::json!(format!("<{}@client.test>", subject.replace(' ', "-")));
    let body = serde_json::json!({"message": message});
    let sent = agent()
        .post(&format!("{}/v1.0/me/sendMail", server.url))
        .header("Authorization", &format!("Bearer {token}"))
        .send_json(&body);
    match sent.map(|r| r.status().as_u16()) {
        Ok(202) => Sent::Accepted,
        Ok(503) => Sent::Temporary { reply: "503".to_owned(), after_data: true },
        Ok(status) => Sent::Permanent(status.to_string()),
        Err(e) => Sent::Temporary { reply: format!("io: {e}"), after_data: true },
    }
}

/// Sends `subject` with `send` until it is not a temporary failure, at most
/// `ATTEMPTS` times with a growing pause; `send` gets the attempt's number.
fn with_retries(subject: String, mut send: impl FnMut(usize) -> Sent) -> (String, Attempts) {
    let mut attempts = Vec::new();
    for attempt in 0..ATTEMPTS {
        let sent = send(attempt);
        let again = matches!(sent, Sent::Temporary { .. });
        attempts.push(sent);
        if !again {
            break;
        }
        std::thread::sleep(Duration::from_millis(100 * (attempt as u64 + 1)));
    }
    (subject, attempts)
}

#[test]
fn cut_connections_lose_no_acknowledged_message_and_the_nodes_recover() {
    let Some(cluster) = Cluster::start("faults", &[]) else {
        eprintln!("DEPUTY_TEST_POSTGRES is not set: the cluster fault test did not run");
        return;
    };
    let nodes = [cluster.a.submission, cluster.b.submission];
    // Signed in before the faults.
    let token = user_token(&cluster.a, "rob@contoso.test", PW, SHARED);

    let stop = Arc::new(AtomicBool::new(false));
    let killed = Arc::new(AtomicUsize::new(0));
    let terminator = {
        let (stop, killed) = (stop.clone(), killed.clone());
        let sql = format!(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name LIKE '{}'",
            cluster.connections()
        );
        let url = cluster.schema.url.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let out = std::process::Command::new("psql").args([&url, "-qtA", "-c", &sql]).output();
                if let Ok(n) = out.map(|o| String::from_utf8_lossy(&o.stdout).trim().parse::<usize>().unwrap_or(0)) {
                    killed.fetch_add(n, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(150));
            }
        })
    };

    let clients: Vec<_> = (0..THREADS)
        .map(|t| {
            std::thread::spawn(move || {
                (t..MESSAGES)
                    .step_by(THREADS)
                    .map(|i| {
                        let subject = format!("burst {i:03}");
                        with_retries(subject.clone(), |attempt| {
                            let id = format!("burst-{i}@client.test");
                            submit_raw(nodes[(i + attempt) % 2], "megan@contoso.test", &subject, &id)
                        })
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let graph_log: Vec<(String, Attempts)> = (0..GRAPH_MESSAGES)
        .map(|i| {
            let subject = format!("graph {i:03}");
            with_retries(subject.clone(), |attempt| {
                let node = if (i + attempt) % 2 == 0 { &cluster.a } else { &cluster.b };
                graph_send(node, &token, &subject)
            })
        })
        .collect();
    let mut log: Vec<(String, Attempts)> =
        clients.into_iter().flat_map(|c| c.join().expect("a client thread panicked")).collect();
    log.extend(graph_log);
    stop.store(true, Ordering::Relaxed);
    terminator.join().expect("the terminator thread panicked");

    let killed = killed.load(Ordering::Relaxed);
    let temporary = log.iter().flat_map(|(_, a)| a).filter(|s| matches!(s, Sent::Temporary { .. })).count();
    let accepted = log.iter().filter(|(_, a)| a.last() == Some(&Sent::Accepted)).count();
    let mut kinds: HashMap<String, usize> = HashMap::new();
    for sent in log.iter().flat_map(|(_, a)| a) {
        if let Sent::Temporary { reply, after_data } = sent {
            let code: String = reply.chars().take(9).collect();
            *kinds.entry(format!("{code} (after data: {after_data})")).or_default() += 1;
        }
    }
    eprintln!(
        "{killed} backends terminated; {temporary} temporary failures {kinds:?}; {accepted} of {} accepted",
        log.len()
    );
    assert!(killed > 0, "no backend of the nodes was terminated: the test proved nothing");
    let permanent: Vec<_> = log.iter().filter(|(_, a)| a.iter().any(|s| matches!(s, Sent::Permanent(_)))).collect();
    assert!(permanent.is_empty(), "a transient failure was answered as permanent: {permanent:?}");

    // The nodes serve again by themselves: a fresh send on each works at once.
    for (n, node) in nodes.iter().enumerate() {
        let sent = submit_raw(*node, "megan@contoso.test", &format!("after {n}"), &format!("after-{n}@client.test"));
        assert_eq!(sent, Sent::Accepted, "node {n} did not recover");
    }

    let mut stored: HashMap<String, usize> = HashMap::new();
    for subject in inbox_subjects(&cluster.b, "megan@contoso.test") {
        *stored.entry(subject).or_default() += 1;
    }
    for n in 0..2 {
        assert_eq!(stored.remove(&format!("after {n}")), Some(1), "the send after the faults through node {n}");
    }
    let mut problems = Vec::new();
    for (subject, attempts) in &log {
        let count = stored.remove(subject).unwrap_or(0);
        let acknowledged = attempts.last() == Some(&Sent::Accepted);
        // Attempts that failed after the final dot may have been stored (once).
        let maybe = attempts.iter().any(|s| matches!(s, Sent::Temporary { after_data: true, .. }));
        let wrong = if acknowledged { count != 1 } else { count > usize::from(maybe) };
        if wrong {
            problems.push(format!("{subject}: stored {count} times, attempts {attempts:?}"));
        }
    }
    assert!(stored.is_empty(), "stored but never sent: {stored:?}");
    assert!(problems.is_empty(), "{} messages stored wrongly:\n{}", problems.len(), problems.join("\n"));
}
