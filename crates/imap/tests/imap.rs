//! The IMAP engine driven over real sockets, by Python's `imaplib`, by
//! hostile input and by a bounded fuzz test.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use deputy_imap::Config;
use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn config() -> Arc<Config> {
    Arc::new(Config::new("imap.test"))
}

/// Runs a whole session over an in-memory pipe: `input` then EOF; returns everything written.
async fn transcript_with(input: &[u8], peer: &str) -> String {
    let (mut client, server) = tokio::io::duplex(1 << 16);
    let task = tokio::spawn(deputy_imap::run_session(
        server,
        peer.parse().unwrap(),
        config(),
        Arc::new(support::Memory::new()),
    ));
    let input = input.to_vec();
    let writer = async move {
        let (mut r, mut w) = tokio::io::split(&mut client);
        let write = async {
            let _ = w.write_all(&input).await;
            let _ = w.shutdown().await;
        };
        let mut out = Vec::new();
        let read = r.read_to_end(&mut out);
        let (_, _) = tokio::join!(write, read);
        out
    };
    let out = writer.await;
    let _ = task.await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

async fn transcript(input: &[u8]) -> String {
    transcript_with(input, "127.0.0.1:40000").await
}

async fn start() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(deputy_imap::serve(listener, config(), Arc::new(support::Memory::new()), std::future::pending()));
    addr
}

#[tokio::test]
async fn tcp_conversation_login_list_select_fetch() {
    let addr = start().await;
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(
        b"a1 LOGIN bob secret\r\na2 LIST \"\" \"*\"\r\na3 SELECT \"Other Users/alice/INBOX\"\r\n\
          a4 UID FETCH 1:* (FLAGS RFC822.SIZE BODY.PEEK[])\r\na5 NAMESPACE\r\na6 LOGOUT\r\n",
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let out = String::from_utf8_lossy(&out);
    assert!(out.starts_with("* OK [CAPABILITY IMAP4rev1"), "{out}");
    assert!(out.contains("a1 OK [CAPABILITY"), "{out}");
    // CHILDREN (RFC 3348): every LIST line says whether the mailbox has children.
    assert!(out.contains("* LIST (\\Sent \\HasNoChildren) \"/\" \"Sent\""), "{out}");
    assert!(out.contains("* LIST (\\HasNoChildren) \"/\" \"Other Users/alice/INBOX\""), "{out}");
    assert!(out.contains("* 1 EXISTS") && out.contains("a3 OK [READ-WRITE]"), "{out}");
    assert!(out.contains("* 1 FETCH (UID 1 FLAGS () RFC822.SIZE 53 BODY[] {53}\r\nFrom:"), "{out}");
    assert!(out.contains("* NAMESPACE ((\"\" \"/\")) ((\"Other Users/\" \"/\")) NIL"), "{out}");
    assert!(out.contains("* BYE") && out.contains("a6 OK"), "{out}");
}

#[tokio::test]
async fn authenticate_plain_with_initial_response_and_continuation() {
    // "\0alice\0secret" in base64.
    let out = transcript(b"a AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\nb LOGOUT\r\n").await;
    assert!(out.contains("a OK [CAPABILITY"), "{out}");
    let out = transcript(b"a AUTHENTICATE PLAIN\r\nAGFsaWNlAHNlY3JldA==\r\n").await;
    assert!(out.contains("+ \r\n") && out.contains("a OK [CAPABILITY"), "{out}");
}

#[tokio::test]
async fn login_disabled_off_loopback_and_failures_end_the_session() {
    let out = transcript_with(b"a LOGIN alice secret\r\n", "192.0.2.1:5000").await;
    assert!(out.contains("LOGINDISABLED") && out.contains("a NO [PRIVACYREQUIRED]"), "{out}");
    let out = transcript(b"a LOGIN alice x\r\nb LOGIN alice x\r\nc LOGIN alice x\r\nd NOOP\r\n").await;
    assert!(out.contains("c NO [AUTHENTICATIONFAILED]") && out.contains("* BYE"), "{out}");
    assert!(!out.contains("d OK"), "{out}");
}

#[tokio::test]
async fn store_copy_move_expunge_append_idle() {
    let out = transcript(
        b"a LOGIN alice secret\r\nb SELECT INBOX\r\nc STORE 1 +FLAGS (\\Deleted)\r\nd COPY 1 Sent\r\n\
          e EXPUNGE\r\nf APPEND Sent (\\Seen) {11+}\r\nhello world\r\ng SELECT Sent\r\nh MOVE 1 INBOX\r\n\
          i IDLE\r\nDONE\r\nj UNSELECT\r\nk COPY 1 Nowhere\r\n",
    )
    .await;
    assert!(out.contains("* 1 FETCH (FLAGS (\\Deleted))"), "{out}");
    assert!(out.contains("d OK [COPYUID 7 1 1]"), "{out}");
    assert!(out.contains("* 1 EXPUNGE\r\ne OK"), "{out}");
    assert!(out.contains("f OK [APPENDUID 7 2]"), "{out}");
    assert!(out.contains("* 2 EXISTS"), "{out}");
    assert!(out.contains("* OK [COPYUID 7 1 2] Moved\r\n* 1 EXPUNGE\r\nh OK"), "{out}");
    assert!(out.contains("+ idling\r\ni OK IDLE terminated"), "{out}");
    assert!(out.contains("j OK") && out.contains("k BAD"), "{out}");
}

#[tokio::test]
async fn literal_over_limit_is_refused_before_it_is_sent() {
    let out = transcript(b"a LOGIN alice secret\r\nb APPEND INBOX {99999999999}\r\nc NOOP\r\n").await;
    assert!(out.contains("b NO [TOOBIG]") || out.contains("b BAD"), "{out}");
    assert!(out.contains("c OK"), "{out}");
    let out = transcript(b"a LOGIN alice secret\r\nb APPEND INBOX {40000000+}\r\n").await;
    assert!(out.contains("b BAD [TOOBIG]") && out.contains("* BYE"), "{out}");
}

#[tokio::test]
async fn unterminated_literal_at_eof_ends_quietly() {
    let out = transcript(b"a LOGIN alice secret\r\nb APPEND INBOX {100}\r\nonly a little").await;
    assert!(out.contains("+ Ready") && !out.contains("b OK"), "{out}");
}

#[tokio::test]
async fn deep_nesting_and_bad_mailbox_names_get_bad() {
    let mut cmd = b"a LOGIN alice secret\r\nb FETCH 1 ".to_vec();
    cmd.extend(std::iter::repeat_n(b'(', 1000));
    cmd.extend(std::iter::repeat_n(b')', 1000));
    cmd.extend_from_slice(b"\r\nc SELECT \"&AGE-\"\r\nd SELECT \"&U,BTFw\"\r\ne NOOP\r\n");
    let out = transcript(&cmd).await;
    assert!(out.contains("b BAD") && out.contains("c BAD") && out.contains("d BAD") && out.contains("e OK"), "{out}");
}

#[tokio::test]
async fn ten_thousand_pipelined_noops() {
    let mut cmd = Vec::new();
    for i in 0..10_000 {
        cmd.extend_from_slice(format!("n{i} NOOP\r\n").as_bytes());
    }
    let out = transcript(&cmd).await;
    assert_eq!(out.matches(" OK NOOP completed\r\n").count(), 10_000);
}

#[test]
fn python_imaplib_session() {
    // Python's standard library is the real client here; a machine without python3 fails the test.
    let status = std::process::Command::new("python3").arg("--version").status().expect("python3 is installed");
    assert!(status.success());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr = rt.block_on(start());
    let script = format!(
        r#"
import imaplib
m = imaplib.IMAP4("127.0.0.1", {port})
assert m.login("alice", "secret")[0] == "OK"
typ, boxes = m.list()
assert typ == "OK" and any(b"\\Sent" in b for b in boxes), boxes
typ, data = m.select("INBOX")
assert typ == "OK" and data == [b"1"], data
typ, data = m.fetch("1", "(FLAGS BODY.PEEK[])")
assert typ == "OK" and b"Hi there" in data[0][1], data
assert m.store("1", "+FLAGS", "(\\Flagged)")[0] == "OK"
typ, data = m.copy("1", "Sent")
assert typ == "OK", data
typ, data = m.append("Sent", "(\\Seen)", None, b"Subject: x\r\n\r\nbody\r\n")
assert typ == "OK", data
assert m.store("1", "+FLAGS", "(\\Deleted)")[0] == "OK"
typ, data = m.expunge()
assert typ == "OK" and data == [b"1"], data
assert m.logout()[0] == "BYE"
"#,
        port = addr.port()
    );
    let out = std::process::Command::new("python3").arg("-c").arg(script).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    drop(rt);
}

/// Every response is `* ...`, `+ ...` or `tag SP (OK|NO|BAD) SP text`, and
/// literals announced as `{n}` at a line end are followed by exactly n bytes.
fn responses_are_well_formed(out: &[u8]) -> Result<(), String> {
    let mut rest = out;
    while !rest.is_empty() {
        let mut response = Vec::new();
        loop {
            let end = rest.windows(2).position(|w| w == b"\r\n").ok_or("response without CRLF")?;
            let line = &rest[..end];
            response.extend_from_slice(line);
            rest = &rest[end + 2..];
            let Some(open) =
                line.strip_suffix(b"}").and_then(|l| l.iter().rposition(|&b| b == b'{').map(|i| &l[i + 1..]))
            else {
                break;
            };
            let n: usize = std::str::from_utf8(open).map_err(|e| e.to_string())?.parse().map_err(|_| "bad literal")?;
            if rest.len() < n {
                return Err("truncated literal".into());
            }
            rest = &rest[n..];
        }
        let text = String::from_utf8_lossy(&response);
        if text.starts_with("* ") || text.starts_with("+ ") {
            continue;
        }
        let mut parts = text.splitn(3, ' ');
        let tag = parts.next().unwrap_or_default();
        let kind = parts.next().unwrap_or_default();
        let msg = parts.next().unwrap_or_default();
        let tag_ok = !tag.is_empty() && tag.bytes().all(|b| b > 0x20 && b < 0x7f && !b"(){%*\"\\+".contains(&b));
        if !tag_ok || !matches!(kind, "OK" | "NO" | "BAD") || msg.is_empty() || msg.chars().any(char::is_control) {
            return Err(format!("malformed tagged response: {text:?}"));
        }
    }
    Ok(())
}

const SCRIPT: &[u8] = b"a LOGIN alice secret\r\nb SELECT INBOX\r\nc UID FETCH 1:* (FLAGS BODY.PEEK[] ENVELOPE)\r\n\
d STORE 1 +FLAGS (\\Deleted)\r\ne APPEND Sent {3+}\r\nabc\r\nf MOVE 1 Sent\r\ng GETACL INBOX\r\nh IDLE\r\nDONE\r\ni LIST \"\" *\r\n";

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn random_commands_never_panic(lines in proptest::collection::vec(
        prop_oneof![
            Just("a LOGIN alice secret".to_owned()),
            Just("b SELECT INBOX".to_owned()),
            Just("c FETCH 1:* (FLAGS UID)".to_owned()),
            Just("d STORE 1 FLAGS (\\Seen)".to_owned()),
            Just("e APPEND INBOX {3+}\r\nabc".to_owned()),
            "[ -~]{0,40}",
            "[a-z]{1,3} [A-Z]{2,8} [ -~]{0,20}",
        ], 0..12)) {
        let mut input = lines.join("\r\n").into_bytes();
        input.extend_from_slice(b"\r\n");
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let out = rt.block_on(transcript(&input));
        prop_assert!(out.starts_with("* OK"));
        let checked = responses_are_well_formed(out.as_bytes());
        prop_assert!(checked.is_ok(), "{:?}\n{}", checked, out);
    }

    #[test]
    fn mutated_sessions_never_panic(edits in proptest::collection::vec((0usize..400, any::<u8>(), 0u8..3), 1..8)) {
        let mut input = SCRIPT.to_vec();
        for (at, byte, op) in edits {
            let at = at % (input.len() + 1);
            match op {
                0 => input.insert(at, byte),
                1 if at < input.len() => { input.remove(at); }
                _ if at < input.len() => input[at] = byte,
                _ => input.push(byte),
            }
        }
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let out = rt.block_on(transcript(&input));
        prop_assert!(out.starts_with("* OK"));
        let checked = responses_are_well_formed(out.as_bytes());
        prop_assert!(checked.is_ok(), "{:?}\n{}", checked, out);
    }
}

#[tokio::test]
async fn acl_commands_reach_the_backend() {
    let out = transcript(
        b"a LOGIN bob secret\r\nb MYRIGHTS \"Other Users/alice/INBOX\"\r\nc GETACL INBOX\r\n\
          d SETACL INBOX alice +lr\r\ne LISTRIGHTS INBOX alice\r\nf GETACL\r\n",
    )
    .await;
    assert!(out.contains("* MYRIGHTS \"Other Users/alice/INBOX\" \"lrswipkxtecda\"\r\nb OK"), "{out}");
    assert!(out.contains("* ACL \"INBOX\" \"bob\" \"lrswipkxtecda\"\r\nc OK"), "{out}");
    assert!(
        out.contains("d NO [CANNOT]") && out.contains("* LISTRIGHTS \"INBOX\" \"alice\" \"\" \"lrswipkxtecda\""),
        "{out}"
    );
    assert!(out.contains("f BAD"), "{out}");
    responses_are_well_formed(out.as_bytes()).unwrap();
}
#[tokio::test]
async fn noop_reports_new_messages_and_envelope_is_served() {
    let out = transcript(
        b"a LOGIN alice secret\r\nb SELECT INBOX\r\nc APPEND INBOX {3+}\r\nabc\r\nd NOOP\r\ne FETCH 1 (ENVELOPE)\r\n\
          f STATUS \"Sent\" (MESSAGES UIDNEXT UNSEEN)\r\n",
    )
    .await;
    assert!(out.contains("* 2 EXISTS\r\nd OK"), "{out}");
    assert!(out.contains("* 1 FETCH (ENVELOPE (NIL \"hello\" ((NIL NIL \"alice\" \"example.com\"))"), "{out}");
    assert!(out.contains("* STATUS \"Sent\" (MESSAGES 0 UIDNEXT 1 UNSEEN 0)\r\nf OK"), "{out}");
}

#[tokio::test]
async fn search_answers_in_rev1_form_and_esearch_with_return() {
    let out = transcript(
        b"a LOGIN alice secret\r\nb SEARCH ALL\r\nc SELECT INBOX\r\nd APPEND INBOX (\\Flagged) {40+}\r\n\
          From: rob@x.test\r\nSubject: lunch\r\n\r\nsoup\r\ne NOOP\r\n\
          f SEARCH SUBJECT hello\r\ng UID SEARCH OR FLAGGED FROM alice\r\nh SEARCH NOT (FLAGGED) BODY SOUP\r\n\
          i SEARCH CHARSET ISO-8859-1 ALL\r\nj SEARCH CHARSET UTF-8 TEXT {4+}\r\nsoup\r\n\
          k UID SEARCH RETURN (MIN MAX COUNT ALL) ALL\r\nl SEARCH RETURN () SUBJECT nothing\r\n\
          m SEARCH RETURN (COUNT) 2:*\r\nn SEARCH RETURN (SAVE) ALL\r\no SEARCH RECENT\r\n",
    )
    .await;
    assert!(out.contains("b BAD"), "{out}");
    assert!(out.contains("* SEARCH 1\r\nf OK"), "{out}");
    assert!(out.contains("* SEARCH 1 2\r\ng OK"), "{out}");
    assert!(out.contains("* SEARCH\r\nh OK"), "{out}");
    assert!(out.contains("i NO [BADCHARSET (UTF-8)]"), "{out}");
    assert!(out.contains("* SEARCH 2\r\nj OK"), "{out}");
    assert!(out.contains("* ESEARCH (TAG \"k\") UID MIN 1 MAX 2 COUNT 2 ALL 1:2\r\nk OK"), "{out}");
    assert!(out.contains("* ESEARCH (TAG \"l\")\r\nl OK"), "{out}");
    assert!(out.contains("* ESEARCH (TAG \"m\") COUNT 1\r\nm OK"), "{out}");
    // SAVE (RFC 5182) alone answers no ESEARCH.
    assert!(out.contains("m OK SEARCH completed\r\nn OK") && out.contains("* SEARCH\r\no OK"), "{out}");
}

#[tokio::test]
async fn fetch_sections_partials_and_structure() {
    let out = transcript(
        b"a LOGIN alice secret\r\nb EXAMINE INBOX\r\nc FETCH 1 (BODY.PEEK[HEADER.FIELDS (Subject)] BODY.PEEK[TEXT]<3.4>)\r\n\
          d FETCH 1 (BODYSTRUCTURE BODY RFC822.HEADER)\r\ne FETCH 1 (BODY.PEEK[1] BODY.PEEK[2] BODY.PEEK[]<100.5>)\r\n\
          f SELECT INBOX\r\ng FETCH 1 (BODY[1.MIME])\r\nh FETCH 1 FULL\r\n",
    )
    .await;
    assert!(out.contains("BODY[HEADER.FIELDS (Subject)] {18}\r\nSubject: hello\r\n\r\n"), "{out}");
    assert!(out.contains("BODY[TEXT]<3> {4}\r\nther)"), "{out}");
    assert!(
        out.contains(
            "BODYSTRUCTURE (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 10 1 NIL NIL NIL NIL)"
        ),
        "{out}"
    );
    assert!(
        out.contains(" BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 10 1) RFC822.HEADER {43}"),
        "{out}"
    );
    assert!(out.contains("BODY[1] {10}\r\nHi there\r\n BODY[2] NIL BODY[]<100> {0}\r\n)"), "{out}");
    assert!(
        !out.contains("\\Seen") || out.find("\\Seen") > out.find("g FETCH"),
        "EXAMINE and PEEK leave \\Seen: {out}"
    );
    assert!(out.contains("* 1 FETCH (FLAGS (\\Seen) BODY[1.MIME]"), "{out}");
    assert!(out.contains("h OK") && out.contains("ENVELOPE (") && out.contains(" BODY (\"TEXT\""), "{out}");
}

#[tokio::test]
async fn create_delete_rename_and_subscriptions_reach_the_backend() {
    let out = transcript(
        b"a LOGIN alice secret\r\nb CREATE Projects/\r\nc CREATE Projects\r\nd CREATE inbox\r\n\
          e RENAME Projects Archive\r\nf SELECT Archive\r\ng DELETE Archive\r\nh SELECT Archive\r\n\
          i CREATE \"Other Users/bob/x\"\r\nj DELETE INBOX\r\nk CREATE \"&AGE-\"\r\nl SUBSCRIBE Sent\r\n\
          m UNSUBSCRIBE Sent\r\nn LSUB \"\" \"*\"\r\no LIST (SUBSCRIBED) \"\" \"*\"\r\np LIST (BOGUS) \"\" \"*\"\r\n\
          q LIST (REMOTE) \"\" \"*\"\r\n",
    )
    .await;
    assert!(out.contains("b OK CREATE completed") && out.contains("c NO [ALREADYEXISTS]"), "{out}");
    assert!(out.contains("d NO [ALREADYEXISTS]") && out.contains("e OK RENAME completed"), "{out}");
    assert!(out.contains("f OK [READ-WRITE]") && out.contains("g OK DELETE completed"), "{out}");
    assert!(out.contains("h NO [NONEXISTENT]") && out.contains("i NO [NOPERM]"), "{out}");
    assert!(out.contains("j NO [CANNOT]") && out.contains("k BAD"), "{out}");
    assert!(out.contains("l OK SUBSCRIBE") && out.contains("m OK UNSUBSCRIBE"), "{out}");
    assert!(out.contains("* LSUB () \"/\" \"INBOX\"") && out.contains("n OK LSUB completed"), "{out}");
    assert!(
        out.contains("* LIST (\\Subscribed \\HasNoChildren) \"/\" \"INBOX\"") && out.contains("o OK LIST"),
        "{out}"
    );
    // LIST-EXTENDED: an unknown selection option is BAD; REMOTE means nothing here (RFC 5258 §3.1).
    assert!(out.contains("p BAD") && out.contains("q OK LIST"), "{out}");
}
