//! SEARCHRES (RFC 5182, required by IMAP4rev2): `SEARCH RETURN (SAVE)` keeps
//! its result as `$`, which FETCH, STORE, COPY, MOVE, SEARCH and their UID
//! forms take as a sequence set; `$` holds UIDs, so expunged messages drop
//! out; SELECT, EXAMINE, CLOSE, UNSELECT and a failed saving SEARCH empty it.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use std::sync::Arc;

use deputy_imap::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Runs a whole session over an in-memory pipe: `input` then EOF; returns everything written.
async fn transcript(input: &str) -> String {
    let (client, server) = tokio::io::duplex(1 << 16);
    let peer = "127.0.0.1:40000".parse().unwrap();
    let config = Arc::new(Config::new("imap.test"));
    let task = tokio::spawn(deputy_imap::run_session(server, peer, config, Arc::new(support::Memory::new())));
    let (mut r, mut w) = tokio::io::split(client);
    let input = input.as_bytes().to_vec();
    let write = async move {
        let _ = w.write_all(&input).await;
        let _ = w.shutdown().await;
    };
    let mut out = Vec::new();
    let (_, read) = tokio::join!(write, r.read_to_end(&mut out));
    read.unwrap();
    task.await.unwrap().unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

/// Signed in, INBOX selected with four messages (UIDs 1–4, 2 flagged).
const FOUR: &str = "a LOGIN alice secret\r\n\
    a APPEND INBOX (\\Flagged) {19+}\r\nSubject: two\r\n\r\nb\r\n\r\n\
    a APPEND INBOX {21+}\r\nSubject: three\r\n\r\nc\r\n\r\n\
    a APPEND INBOX {20+}\r\nSubject: four\r\n\r\nd\r\n\r\n\
    a SELECT INBOX\r\n";

/// The lines answering `tag`, the tagged line included.
fn answer<'a>(out: &'a str, tag: &str) -> Vec<&'a str> {
    let mut lines = Vec::new();
    for line in out.split("\r\n") {
        if line.starts_with(&format!("{tag} ")) {
            lines.push(line);
            return lines;
        }
        if line.starts_with("* ") && !line.contains("EXISTS") {
            lines.push(line);
        } else {
            lines.clear();
        }
    }
    lines
}

#[tokio::test]
async fn searchres_is_advertised() {
    let out = transcript("a CAPABILITY\r\n").await;
    assert!(out.contains(" SEARCHRES ") && out.contains(" CHILDREN"), "{out}");
}

#[tokio::test]
async fn saved_result_feeds_fetch_search_and_uid_forms() {
    let input = format!(
        "{FOUR}b SEARCH RETURN (SAVE) FLAGGED\r\nc FETCH $ (FLAGS)\r\nd UID FETCH $ (FLAGS)\r\n\
         e SEARCH $\r\nf UID SEARCH UID $\r\ng SEARCH NOT $\r\nh SEARCH SUBJECT $\r\n"
    );
    let out = transcript(&input).await;
    assert_eq!(answer(&out, "b"), ["b OK SEARCH completed"], "SAVE alone sends no ESEARCH: {out}");
    assert_eq!(answer(&out, "c"), ["* 2 FETCH (FLAGS (\\Flagged))", "c OK FETCH completed"], "{out}");
    assert_eq!(answer(&out, "d")[0], "* 2 FETCH (UID 2 FLAGS (\\Flagged))", "{out}");
    assert_eq!(answer(&out, "e")[0], "* SEARCH 2", "{out}");
    assert_eq!(answer(&out, "f")[0], "* SEARCH 2", "{out}");
    assert_eq!(answer(&out, "g")[0], "* SEARCH 1 3 4", "{out}");
    // After a string key, `$` is the string.
    assert_eq!(answer(&out, "h")[0], "* SEARCH", "{out}");
}

#[tokio::test]
async fn min_and_max_save_only_themselves() {
    let input = format!(
        "{FOUR}b SEARCH RETURN (SAVE MIN) ALL\r\nc FETCH $ (UID)\r\nd UID SEARCH RETURN (SAVE MIN MAX) ALL\r\n\
         e FETCH $ (UID)\r\nf SEARCH RETURN (SAVE MAX COUNT) ALL\r\ng UID SEARCH RETURN (ALL) $\r\n"
    );
    let out = transcript(&input).await;
    assert_eq!(answer(&out, "b")[0], "* ESEARCH (TAG \"b\") MIN 1", "{out}");
    assert_eq!(answer(&out, "c"), ["* 1 FETCH (UID 1)", "c OK FETCH completed"], "{out}");
    assert_eq!(answer(&out, "d")[0], "* ESEARCH (TAG \"d\") UID MIN 1 MAX 4", "{out}");
    assert_eq!(answer(&out, "e"), ["* 1 FETCH (UID 1)", "* 4 FETCH (UID 4)", "e OK FETCH completed"], "{out}");
    // With COUNT (or ALL), every match is saved.
    assert_eq!(answer(&out, "f")[0], "* ESEARCH (TAG \"f\") MAX 4 COUNT 4", "{out}");
    assert_eq!(answer(&out, "g")[0], "* ESEARCH (TAG \"g\") UID ALL 1:4", "{out}");
}

#[tokio::test]
async fn store_copy_move_and_expunge_take_the_saved_uids() {
    let input = format!(
        "{FOUR}b UID SEARCH RETURN (SAVE) UID 2:3\r\nc COPY $ Sent\r\nd STORE $ +FLAGS.SILENT (\\Deleted)\r\n\
         e UID EXPUNGE $\r\nf FETCH $ (UID)\r\ng SEARCH RETURN (SAVE) ALL\r\nh MOVE $ Sent\r\ni SEARCH ALL\r\n"
    );
    let out = transcript(&input).await;
    assert_eq!(answer(&out, "b"), ["b OK SEARCH completed"], "{out}");
    assert!(out.contains("c OK [COPYUID 7 2,3 1,2] COPY completed"), "{out}");
    assert_eq!(answer(&out, "d"), ["d OK STORE completed"], "{out}");
    assert_eq!(answer(&out, "e"), ["* 3 EXPUNGE", "* 2 EXPUNGE", "e OK EXPUNGE completed"], "{out}");
    // The expunged messages dropped out of `$`: nothing left, and that is no error.
    assert_eq!(answer(&out, "f"), ["f OK FETCH completed"], "{out}");
    assert!(out.contains("* OK [COPYUID 7 1,4 3,4] Moved\r\n* 2 EXPUNGE\r\n* 1 EXPUNGE\r\nh OK MOVE"), "{out}");
    assert_eq!(answer(&out, "i")[0], "* SEARCH", "{out}");
}

#[tokio::test]
async fn select_unselect_and_failed_searches_empty_it() {
    let input = format!(
        "{FOUR}b SEARCH RETURN (SAVE) ALL\r\nc SELECT INBOX\r\nd FETCH $ (UID)\r\n\
         e SEARCH RETURN (SAVE) ALL\r\nf SEARCH RETURN (SAVE) CHARSET X-NONE ALL\r\ng FETCH $ (UID)\r\n\
         h SEARCH RETURN (SAVE) ALL\r\ni SEARCH RETURN (SAVE BOGUS) ALL\r\nj SEARCH $\r\n\
         k SEARCH RETURN (SAVE) ALL\r\nl UNSELECT\r\nm EXAMINE INBOX\r\nn SEARCH $\r\n"
    );
    let out = transcript(&input).await;
    assert_eq!(answer(&out, "d"), ["d OK FETCH completed"], "SELECT resets: {out}");
    assert!(out.contains("f NO [BADCHARSET (UTF-8)]"), "{out}");
    assert_eq!(answer(&out, "g"), ["g OK FETCH completed"], "a failed SAVE empties: {out}");
    assert!(out.contains("i BAD "), "{out}");
    assert_eq!(answer(&out, "j")[0], "* SEARCH", "a refused SAVE empties: {out}");
    assert_eq!(answer(&out, "n")[0], "* SEARCH", "UNSELECT resets: {out}");
}

#[tokio::test]
async fn rev2_sessions_save_too_and_dollar_is_never_out_of_range() {
    let input = format!(
        "{FOUR}b ENABLE IMAP4rev2\r\nc SEARCH RETURN (SAVE) 2:3\r\nd SEARCH $ RETURN\r\n\
         e STORE 2 -FLAGS (\\Flagged)\r\nf SEARCH $\r\nh FETCH $,1 (UID)\r\n"
    );
    let out = transcript(&input).await;
    assert_eq!(answer(&out, "c"), ["c OK SEARCH completed"], "{out}");
    assert!(out.contains("d BAD "), "{out}");
    assert_eq!(answer(&out, "f")[0], "* ESEARCH (TAG \"f\") ALL 2:3", "{out}");
    // `$` is a set on its own, never part of one (RFC 5182 §4).
    assert!(out.contains("h BAD "), "{out}");
}
