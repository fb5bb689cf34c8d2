//! Acknowledged mail is durable (issue 4): clients send 2,000 messages while the
//! server is killed with SIGKILL at a random moment and restarted; every
//! message that got `250` is in the mailbox exactly once afterwards.

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deputy_store::{MailStore, Store};
use deputy_store_sqlite::SqliteStore;
use deputy_types::WellKnownFolder;
use support::{Server, TempDir, free_port, init};

const TOTAL: usize = 2_000;
const CLIENTS: usize = 4;

/// Sends one message in its own transaction; `Ok(true)` only on `250` after DATA.
fn send_one(conn: &mut (BufReader<TcpStream>, TcpStream), id: &str) -> std::io::Result<bool> {
    let (input, out) = conn;
    let body = format!(
        "MAIL FROM:<load@fabrikam.test>\r\nRCPT TO:<mary@contoso.test>\r\nDATA\r\n\
         From: load@fabrikam.test\r\nTo: mary@contoso.test\r\nMessage-ID: <{id}>\r\nSubject: {id}\r\n\r\n{}\r\n.\r\n",
        "x".repeat(512)
    );
    out.write_all(body.as_bytes())?;
    let mut codes = Vec::new();
    let mut line = String::new();
    while codes.len() < 4 {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line.as_bytes().get(3) == Some(&b' ') {
            codes.push(line[..3].to_owned());
        }
    }
    Ok(codes == ["250", "250", "354", "250"])
}

fn connect(addr: &str) -> std::io::Result<(BufReader<TcpStream>, TcpStream)> {
    let stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut input = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    input.read_line(&mut line)?;
    if !line.starts_with("220") {
        return Err(std::io::Error::other(line));
    }
    let mut out = stream;
    out.write_all(b"EHLO load.test\r\n")?;
    loop {
        line.clear();
        input.read_line(&mut line)?;
        if line.len() < 4 || line.as_bytes()[3] == b' ' {
            break;
        }
    }
    Ok((input, out))
}

async fn inbox_message_ids(dir: &Path) -> HashMap<String, usize> {
    let store = SqliteStore::open(dir).expect("reopen the store");
    let snapshot = store.load().await.expect("load");
    let mary = snapshot.recipients.iter().find(|r| r.alias == "mary").expect("mary").id;
    let inbox = snapshot
        .folders
        .iter()
        .find(|f| f.mailbox == mary && f.well_known == Some(WellKnownFolder::Inbox))
        .expect("inbox")
        .id;
    let mut counts = HashMap::new();
    for entry in store.entries(inbox).await.expect("entries") {
        assert!(store.body(entry.blob).await.expect("body").is_some(), "an entry without its body");
        *counts.entry(entry.message_id.unwrap_or_default()).or_insert(0) += 1;
    }
    counts
}

#[test]
fn sigkill_during_2000_messages_loses_none_that_got_250() {
    let dir = TempDir::new("mail-crash");
    assert!(init(&dir.0, "contoso.test").status.success());
    let (smtp, submission, http) = (free_port(), free_port(), free_port());
    let flags = [
        format!("--smtp=127.0.0.1:{smtp}"),
        format!("--submission=127.0.0.1:{submission}"),
        format!("--http=127.0.0.1:{http}"),
    ];
    let args: Vec<&str> = flags.iter().map(String::as_str).collect();
    let server = Server::start_with(&dir.0, &args);
    server
        .shell("New-Mailbox -Name Mary -Alias mary -Password (ConvertTo-SecureString 'M4ry!Pass' -AsPlainText -Force)")
        .expect_ok();

    let acked = Arc::new(Mutex::new(HashSet::new()));
    let done = Arc::new(AtomicUsize::new(0));
    let addr = format!("127.0.0.1:{smtp}");
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (acked, done, addr) = (acked.clone(), done.clone(), addr.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                let mut conn = None;
                let deadline = Instant::now() + Duration::from_secs(240);
                while done.load(Ordering::SeqCst) < TOTAL && Instant::now() < deadline {
                    if conn.is_none() {
                        conn = connect(&addr).ok();
                        if conn.is_none() {
                            std::thread::sleep(Duration::from_millis(20));
                            continue;
                        }
                    }
                    n += 1;
                    // A fresh id for every attempt: an unacknowledged message may or may not be stored.
                    let id = format!("c{c}-{n}@load.test");
                    match conn.as_mut().map(|k| send_one(k, &id)) {
                        Some(Ok(true)) => {
                            acked.lock().expect("lock").insert(id);
                            done.fetch_add(1, Ordering::SeqCst);
                        }
                        _ => conn = None,
                    }
                }
            })
        })
        .collect();

    // Kill at a random point of the load (a count the clock and pid choose), so the
    // kill always lands mid-stream however fast or slow this machine is today.
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let kill_at = 100 + (nanos as usize ^ std::process::id() as usize) % (TOTAL / 2);
    while done.load(Ordering::SeqCst) < kill_at {
        std::thread::sleep(Duration::from_micros(200));
    }
    let before_kill = done.load(Ordering::SeqCst);
    let mut server = server;
    let _ = server.child.kill();
    let _ = server.child.wait();
    drop(server);
    let server = Server::start_with(&dir.0, &args);
    for c in clients {
        c.join().expect("client thread");
    }
    let acked = acked.lock().expect("lock").clone();
    assert!(acked.len() >= TOTAL, "only {} messages were acknowledged", acked.len());
    assert!(before_kill < TOTAL, "the kill came after the load; nothing was tested");
    server.stop();

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let stored = runtime.block_on(inbox_message_ids(&dir.0));
    for id in &acked {
        assert_eq!(stored.get(id).copied().unwrap_or(0), 1, "{id} was acknowledged; it must be stored exactly once");
    }
    assert!(stored.values().all(|&n| n == 1), "no message is stored twice");
}
