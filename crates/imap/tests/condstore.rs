//! CONDSTORE (RFC 7162) through the engine: the examples of §3.1 against the
//! in-memory backend, whose mod-sequences start at 1 and rise by one per change.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use std::sync::Arc;

use deputy_imap::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn transcript(input: &[u8]) -> String {
    let (client, server) = tokio::io::duplex(1 << 16);
    let peer = "127.0.0.1:40000".parse().unwrap();
    let config = Arc::new(Config::new("imap.test"));
    let task = tokio::spawn(deputy_imap::run_session(server, peer, config, Arc::new(support::Memory::new())));
    let (mut r, mut w) = tokio::io::split(client);
    let input = input.to_vec();
    let write = async move {
        w.write_all(&input).await.unwrap();
        w.shutdown().await.unwrap();
    };
    let mut out = Vec::new();
    let (_, read) = tokio::join!(write, r.read_to_end(&mut out));
    read.unwrap();
    task.await.unwrap().unwrap();
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn condstore_is_advertised_and_enabled() {
    let out = transcript(b"a CAPABILITY\r\nb LOGIN alice secret\r\nc ENABLE CONDSTORE X-UNKNOWN\r\n").await;
    assert!(out.contains("* CAPABILITY IMAP4rev1 ") && out.contains(" CONDSTORE"), "{out}");
    assert!(out.contains("* ENABLED CONDSTORE\r\nc OK"), "{out}");
    let out = transcript(b"a LOGIN alice secret\r\nb SELECT INBOX (CONDSTORE)\r\nc EXAMINE INBOX\r\n").await;
    assert!(out.contains("* OK [HIGHESTMODSEQ 1] ") && out.contains("b OK [READ-WRITE]"), "{out}");
    assert!(out.contains("c OK [READ-ONLY]"), "{out}");
    let out = transcript(b"a LOGIN alice secret\r\nb STATUS INBOX (MESSAGES HIGHESTMODSEQ)\r\n").await;
    assert!(out.contains("* STATUS \"INBOX\" (MESSAGES 1 HIGHESTMODSEQ 1)\r\nb OK"), "{out}");
}

#[tokio::test]
async fn fetch_modseq_and_changedsince() {
    let out = transcript(
        b"a LOGIN alice secret\r\nb APPEND INBOX {3+}\r\nabc\r\nc SELECT INBOX\r\nd FETCH 1:* (FLAGS MODSEQ)\r\n\
          e FETCH 1:* (FLAGS) (CHANGEDSINCE 1)\r\nf UID FETCH 1:* (UID) (CHANGEDSINCE 2)\r\n",
    )
    .await;
    assert!(out.contains("* 1 FETCH (FLAGS () MODSEQ (1))\r\n* 2 FETCH (FLAGS () MODSEQ (2))\r\nd OK"), "{out}");
    assert!(out.contains("\r\n* 2 FETCH (FLAGS () MODSEQ (2))\r\ne OK"), "{out}");
    assert!(out.contains("\r\nf OK") && !out.contains("UID 1 MODSEQ") && !out.contains("UID 2 MODSEQ"), "{out}");
}

#[tokio::test]
async fn store_unchangedsince_reports_modified_and_modseq() {
    let out = transcript(
        b"a LOGIN alice secret\r\nb APPEND INBOX {3+}\r\nabc\r\nc SELECT INBOX\r\nd ENABLE CONDSTORE\r\n\
          e STORE 1:2 (UNCHANGEDSINCE 1) +FLAGS (\\Flagged)\r\nf UID STORE 1 (UNCHANGEDSINCE 0) +FLAGS.SILENT (\\Seen)\r\n\
          g STORE 2 +FLAGS.SILENT (\\Seen)\r\nh SEARCH MODSEQ 4\r\ni SEARCH MODSEQ 99\r\n",
    )
    .await;
    // Message 1 (MODSEQ 1) is changed to 3; message 2 (MODSEQ 2) was changed since 1.
    assert!(out.contains("* 1 FETCH (FLAGS (\\Flagged) MODSEQ (3))\r\ne OK [MODIFIED 2] "), "{out}");
    // UNCHANGEDSINCE 0 always fails for an existing message (RFC 7162 §3.1.3).
    assert!(out.contains("\r\nf OK [MODIFIED 1] "), "{out}");
    // .SILENT still reports the new mod-sequence once CONDSTORE is on.
    assert!(out.contains("\r\n* 2 FETCH (MODSEQ (4))\r\ng OK STORE completed"), "{out}");
    assert!(out.contains("\r\n* SEARCH 2 (MODSEQ 4)\r\nh OK"), "{out}");
    assert!(out.contains("\r\n* SEARCH\r\ni OK"), "{out}");
}

/// Reads from `r` until the output contains `until`.
async fn read_until(r: &mut (impl tokio::io::AsyncRead + Unpin), until: &str) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&out).contains(until) {
        let n = r.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before {until:?}: {}", String::from_utf8_lossy(&out));
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn noop_reports_flags_changed_elsewhere_with_modseq_once_enabled() {
    let memory = Arc::new(support::Memory::new());
    let (mut client, server) = tokio::io::duplex(1 << 16);
    let peer = "127.0.0.1:40000".parse().unwrap();
    let config = Arc::new(Config::new("imap.test"));
    let task = tokio::spawn(deputy_imap::run_session(server, peer, config, Arc::clone(&memory)));
    let change = |flag: &str| {
        let mut folders = memory.folders.lock().unwrap();
        let inbox = folders.get_mut(&("alice".to_owned(), "INBOX".to_owned())).unwrap();
        inbox.modseq += 1;
        let m = inbox.messages.get_mut(&1).unwrap();
        m.flags = vec![flag.to_owned()];
        m.modseq = inbox.modseq;
    };
    client.write_all(b"a LOGIN alice secret\r\nb SELECT INBOX\r\n").await.unwrap();
    read_until(&mut client, "b OK").await;
    change("\\Flagged");
    client.write_all(b"c NOOP\r\n").await.unwrap();
    assert!(read_until(&mut client, "c OK").await.starts_with("* 1 FETCH (FLAGS (\\Flagged))\r\nc OK"));
    client.write_all(b"d NOOP\r\ne ENABLE CONDSTORE\r\n").await.unwrap();
    assert!(read_until(&mut client, "e OK").await.starts_with("d OK NOOP completed\r\n* ENABLED CONDSTORE\r\ne OK"));
    change("\\Seen");
    client.write_all(b"f NOOP\r\n").await.unwrap();
    assert!(read_until(&mut client, "f OK").await.starts_with("* 1 FETCH (FLAGS (\\Seen) MODSEQ (3))\r\nf OK"));
    // The session's own STORE is reported once, by the STORE.
    client.write_all(b"g STORE 1 +FLAGS (\\Deleted)\r\nh NOOP\r\n").await.unwrap();
    let out = read_until(&mut client, "h OK").await;
    assert!(
        out.starts_with("* 1 FETCH (FLAGS (\\Seen \\Deleted) MODSEQ (4))\r\ng OK STORE completed\r\nh OK"),
        "{out}"
    );
    drop(client);
    task.await.unwrap().unwrap();
}
