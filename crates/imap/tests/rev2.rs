//! IMAP4rev2 (RFC 9051) once a client enables it, and the rev2 items every
//! client gets: STATUS `SIZE`/`DELETED`, BINARY, LIST-EXTENDED and
//! LIST-STATUS, `RENAME INBOX`. A session that never enables IMAP4rev2 keeps
//! IMAP4rev1's answers.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use std::sync::Arc;

use deputy_imap::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Runs a whole session over an in-memory pipe: `input` then EOF; returns everything written.
async fn transcript(input: &[u8]) -> String {
    let (client, server) = tokio::io::duplex(1 << 16);
    let peer = "127.0.0.1:40000".parse().unwrap();
    let config = Arc::new(Config::new("imap.test"));
    let task = tokio::spawn(deputy_imap::run_session(server, peer, config, Arc::new(support::Memory::new())));
    let (mut r, mut w) = tokio::io::split(client);
    let input = input.to_vec();
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

const SIGNED_IN: &str = "a LOGIN alice secret\r\n";
const REV2: &str = "a LOGIN alice secret\r\nb ENABLE IMAP4rev2\r\n";

#[tokio::test]
async fn imap4rev2_is_advertised_and_enabled() {
    let out = transcript(format!("{REV2}c CAPABILITY\r\n").as_bytes()).await;
    assert!(out.contains("* CAPABILITY IMAP4rev1 IMAP4rev2 "), "{out}");
    assert!(out.contains("* ENABLED IMAP4rev2\r\nb OK ENABLE completed"), "{out}");
    let out = transcript(format!("{SIGNED_IN}b ENABLE CONDSTORE imap4rev2 X-NONE\r\n").as_bytes()).await;
    assert!(out.contains("* ENABLED CONDSTORE IMAP4rev2\r\n"), "{out}");
}

#[tokio::test]
async fn rev2_select_has_no_recent_and_names_itself_in_a_list_line() {
    let out = transcript(format!("{REV2}c SELECT INBOX\r\nd EXAMINE Sent\r\n").as_bytes()).await;
    assert!(!out.contains("RECENT") && !out.contains("[UNSEEN"), "{out}");
    assert!(
        out.contains("* 1 EXISTS\r\n") && out.contains("* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\nc OK [READ-WRITE]"),
        "{out}"
    );
    assert!(out.contains("* LIST (\\Sent \\HasNoChildren) \"/\" \"Sent\"\r\nd OK [READ-ONLY]"), "{out}");
    // A rev1 session still gets `* 0 RECENT` and no LIST line.
    let out = transcript(format!("{SIGNED_IN}c SELECT INBOX\r\n").as_bytes()).await;
    assert!(out.contains("* 0 RECENT\r\n") && out.contains("[UNSEEN 1]") && !out.contains("* LIST"), "{out}");
}

#[tokio::test]
async fn rev2_search_answers_with_esearch() {
    let input = format!(
        "{REV2}c SELECT INBOX\r\nd SEARCH ALL\r\ne UID SEARCH UNSEEN\r\nf SEARCH SEEN\r\n\
         g SEARCH RETURN (COUNT) ALL\r\nh UID SEARCH RETURN () 1:*\r\n"
    );
    let out = transcript(input.as_bytes()).await;
    assert!(out.contains("* ESEARCH (TAG \"d\") ALL 1\r\nd OK"), "{out}");
    assert!(out.contains("* ESEARCH (TAG \"e\") UID ALL 1\r\ne OK"), "{out}");
    assert!(out.contains("* ESEARCH (TAG \"f\")\r\nf OK"), "no match, no ALL: {out}");
    assert!(out.contains("* ESEARCH (TAG \"g\") COUNT 1\r\ng OK"), "{out}");
    assert!(out.contains("* ESEARCH (TAG \"h\") UID ALL 1\r\nh OK"), "{out}");
    assert!(!out.contains("* SEARCH"), "{out}");
    // Without ENABLE, SEARCH answers `* SEARCH`.
    let out = transcript(format!("{SIGNED_IN}c SELECT INBOX\r\nd SEARCH ALL\r\n").as_bytes()).await;
    assert!(out.contains("* SEARCH 1\r\nd OK"), "{out}");
}

#[tokio::test]
async fn rev2_mailbox_names_are_utf8() {
    let input = format!(
        "{REV2}c CREATE \"台北/日本語\"\r\nd SELECT \"台北/日本語\"\r\ne STATUS \"台北/日本語\" (MESSAGES)\r\n\
         f STATUS \"&U,BTFw-/&ZeVnLIqe-\" (MESSAGES)\r\ng CREATE \"a&b\"\r\nh STATUS \"a&b\" (MESSAGES)\r\n\
         i APPEND \"台北/日本語\" {{5+}}\r\nhello\r\nj CREATE {{2+}}\r\n\u{1}x\r\nk LIST \"\" \"\u{1}\"\r\n"
    );
    let out = transcript(input.as_bytes()).await;
    assert!(out.contains("c OK CREATE completed"), "{out}");
    assert!(out.contains("* LIST () \"/\" \"台北/日本語\"\r\nd OK [READ-WRITE]"), "{out}");
    assert!(out.contains("* STATUS \"台北/日本語\" (MESSAGES 0)\r\ne OK"), "{out}");
    // Modified UTF-7 is just ASCII to a rev2 session: no such mailbox.
    assert!(out.contains("f NO [NONEXISTENT]"), "{out}");
    assert!(out.contains("g OK") && out.contains("* STATUS \"a&b\" (MESSAGES 0)\r\nh OK"), "{out}");
    assert!(out.contains("i OK [APPENDUID 7 1]"), "{out}");
    assert!(out.contains("j BAD") && out.contains("k BAD"), "control characters are no name: {out}");
    // A rev1 session sees the same mailbox in modified UTF-7 and refuses raw UTF-8.
    let input = format!(
        "{SIGNED_IN}c CREATE \"&U,BTFw-\"\r\nd STATUS \"&U,BTFw-\" (MESSAGES)\r\ne STATUS \"台北\" (MESSAGES)\r\n"
    );
    let out = transcript(input.as_bytes()).await;
    assert!(out.contains("* STATUS \"&U,BTFw-\" (MESSAGES 0)\r\nd OK") && out.contains("e BAD"), "{out}");
}

/// RFC 9755 (UTF8=ACCEPT) for IMAP4rev1 clients: UTF-8 names without the
/// rest of rev2 (SEARCH still answers `* SEARCH`), and SEARCH CHARSET refused.
#[tokio::test]
async fn utf8_accept_gives_a_rev1_session_utf8_names() {
    let input = format!(
        "{SIGNED_IN}b ENABLE UTF8=ACCEPT\r\nc CREATE \"台北\"\r\nd STATUS \"台北\" (MESSAGES)\r\ne SELECT \"台北\"\r\n\
         f SEARCH ALL\r\ng SEARCH CHARSET UTF-8 ALL\r\nh SEARCH RETURN (SAVE) CHARSET UTF-8 ALL\r\n\
         i NAMESPACE\r\n"
    );
    let out = transcript(input.as_bytes()).await;
    assert!(out.contains("* ENABLED UTF8=ACCEPT\r\nb OK"), "{out}");
    assert!(out.contains("c OK CREATE completed"), "{out}");
    assert!(out.contains("* STATUS \"台北\" (MESSAGES 0)\r\nd OK"), "{out}");
    assert!(out.contains("* 0 RECENT") && out.contains("e OK [READ-WRITE]"), "still rev1: {out}");
    assert!(out.contains("* SEARCH\r\nf OK"), "{out}");
    assert!(out.contains("g BAD") && out.contains("h BAD"), "{out}");
    assert!(out.contains("i OK"), "{out}");
    // Advertised, and without ENABLE the name stays modified UTF-7.
    let out = transcript(
        format!("{SIGNED_IN}b CAPABILITY\r\nc CREATE \"&U,BTFw-\"\r\nd STATUS \"&U,BTFw-\" (MESSAGES)\r\n").as_bytes(),
    )
    .await;
    assert!(out.contains(" UTF8=ACCEPT"), "{out}");
    assert!(out.contains("* STATUS \"&U,BTFw-\" (MESSAGES 0)\r\nd OK"), "{out}");
}

#[tokio::test]
async fn status_size_and_deleted() {
    let size = support::MESSAGE.len();
    let input = format!(
        "{REV2}c STATUS INBOX (MESSAGES SIZE DELETED DELETED-STORAGE)\r\nd SELECT INBOX\r\n\
         e STORE 1 +FLAGS.SILENT (\\Deleted)\r\nf STATUS INBOX (DELETED SIZE UNSEEN)\r\n"
    );
    let out = transcript(input.as_bytes()).await;
    let first = format!("* STATUS \"INBOX\" (MESSAGES 1 SIZE {size} DELETED 0 DELETED-STORAGE 0)\r\nc OK");
    assert!(out.contains(&first), "{out}");
    assert!(out.contains(&format!("* STATUS \"INBOX\" (DELETED 1 SIZE {size} UNSEEN 1)\r\nf OK")), "{out}");
}

#[tokio::test]
async fn binary_fetch_undoes_the_transfer_encoding() {
    let b64 = "Subject: b\r\nContent-Transfer-Encoding: base64\r\n\r\nAGhp\r\n";
    let qp = "Subject: q\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9\r\n";
    let odd = "Subject: x\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin\r\n";
    let input = format!(
        "{REV2}c1 APPEND INBOX {{{}+}}\r\n{b64}\r\nc2 APPEND INBOX {{{}+}}\r\n{qp}\r\n\
         c3 APPEND INBOX {{{}+}}\r\n{odd}\r\nd SELECT INBOX\r\ne FETCH 2 (BINARY.PEEK[1] BINARY.SIZE[1])\r\n\
         f FETCH 3 (BINARY[1]<1.4> BINARY.SIZE[1])\r\ng FETCH 1 (BINARY.PEEK[] BINARY.PEEK[2])\r\n\
         h FETCH 4 (BINARY[1])\r\ni FETCH 4 (BINARY.SIZE[1])\r\n",
        b64.len(),
        qp.len(),
        odd.len()
    );
    let out = transcript(input.as_bytes()).await;
    // NUL in the decoded octets asks for a literal8 (RFC 3516 §4.2).
    assert!(out.contains("* 2 FETCH (BINARY[1] ~{3}\r\n\0hi BINARY.SIZE[1] 3)\r\ne OK"), "{out}");
    assert!(out.contains("* 3 FETCH (FLAGS (\\Seen) BINARY[1]<1> {4}\r\naf\u{e9} BINARY.SIZE[1] 7)"), "{out}");
    let whole = support::MESSAGE.len();
    assert!(out.contains(&format!("* 1 FETCH (BINARY[] {{{whole}}}\r\n")) && out.contains(" BINARY[2] NIL)"), "{out}");
    assert!(out.contains("h NO [UNKNOWN-CTE]") && out.contains("i NO [UNKNOWN-CTE]"), "{out}");
}

#[tokio::test]
async fn list_extended_and_list_status() {
    let input = format!(
        "{REV2}c SUBSCRIBE Gone\r\nd LIST (SUBSCRIBED) \"\" \"*\"\r\n\
         e LIST \"\" \"*\" RETURN (SUBSCRIBED CHILDREN STATUS (MESSAGES UIDNEXT))\r\n\
         f LIST (SPECIAL-USE) \"\" \"*\" RETURN (SPECIAL-USE)\r\ng LIST \"\" \"*\" RETURN (FROB)\r\n"
    );
    let out = transcript(input.as_bytes()).await;
    assert!(out.contains("* LIST (\\Subscribed \\HasNoChildren) \"/\" \"INBOX\"\r\n"), "{out}");
    assert!(out.contains("* LIST (\\Subscribed \\NonExistent) \"/\" \"Gone\"\r\n"), "{out}");
    assert!(
        out.contains(
            "* LIST (\\Subscribed \\HasNoChildren) \"/\" \"INBOX\"\r\n* STATUS \"INBOX\" (MESSAGES 1 UIDNEXT 2)\r\n"
        ),
        "{out}"
    );
    assert!(!out.contains("* STATUS \"Gone\""), "{out}");
    let special: Vec<&str> = out.split("\r\n").skip_while(|l| !l.starts_with("e OK")).skip(1).collect();
    assert_eq!(special[..2], ["* LIST (\\Sent \\HasNoChildren) \"/\" \"Sent\"", "f OK LIST completed"], "{out}");
    assert!(out.contains("g BAD"), "{out}");
}

#[tokio::test]
async fn rename_inbox_moves_its_messages_and_leaves_it_empty() {
    let input = format!(
        "{SIGNED_IN}b RENAME INBOX \"Old Mail\"\r\nc STATUS INBOX (MESSAGES UIDNEXT)\r\n\
         d STATUS \"Old Mail\" (MESSAGES)\r\ne RENAME INBOX Sent\r\nf SELECT \"Old Mail\"\r\ng FETCH 1 BODY.PEEK[]\r\n"
    );
    let out = transcript(input.as_bytes()).await;
    assert!(out.contains("b OK RENAME completed"), "{out}");
    assert!(out.contains("* STATUS \"INBOX\" (MESSAGES 0 UIDNEXT 2)\r\nc OK"), "{out}");
    assert!(out.contains("* STATUS \"Old Mail\" (MESSAGES 1)\r\nd OK"), "{out}");
    assert!(out.contains("e NO [ALREADYEXISTS]"), "{out}");
    assert!(out.contains("Subject: hello") && out.contains("g OK"), "{out}");
}

#[tokio::test]
async fn list_pattern_lists_and_childinfo() {
    let input = format!(
        "{SIGNED_IN}c SUBSCRIBE INBOX/Child\r\nd LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"*\" RETURN (CHILDREN)\r\n\
         e LIST \"\" (\"INBOX\" Sent INBOX)\r\nf LIST \"\" (INBOX\r\ng LIST \"\" ()\r\nh LIST \"\" (\"\")\r\n"
    );
    let out = transcript(input.as_bytes()).await;
    // RFC 5258 §3.5: INBOX has a subscribed descendant (that does not exist, so no \HasChildren).
    assert!(
        out.contains("* LIST (\\Subscribed \\HasNoChildren) \"/\" \"INBOX\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"),
        "{out}"
    );
    assert!(out.contains("* LIST (\\Sent \\Subscribed \\HasNoChildren) \"/\" \"Sent\"\r\n"), "{out}");
    assert!(out.contains("* LIST (\\Subscribed \\NonExistent) \"/\" \"INBOX/Child\"\r\nd OK"), "{out}");
    // Several patterns: every mailbox once.
    let e: Vec<&str> = out.split("\r\n").skip_while(|l| !l.starts_with("d OK")).skip(1).take(3).collect();
    assert_eq!(
        e,
        [
            "* LIST (\\HasNoChildren) \"/\" \"INBOX\"",
            "* LIST (\\Sent \\HasNoChildren) \"/\" \"Sent\"",
            "e OK LIST completed"
        ],
        "{out}"
    );
    assert!(out.contains("f BAD") && out.contains("g BAD") && out.contains("h OK LIST"), "{out}");
}
