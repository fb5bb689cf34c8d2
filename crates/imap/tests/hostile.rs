//! Hostile input against the engine (issue 6, "Bad input"): literals over the
//! limit, unterminated literals, 10,000-deep parentheses, invalid mailbox
//! names, 10,000 pipelined commands, a deterministic mutation fuzzer over a
//! corpus of valid commands (AUTHENTICATE PLAIN exchanges and IDLE/DONE
//! included), and a proptest of arbitrary bytes through the command parser.
//! Each is answered `BAD`/`NO` or ends the session cleanly; none panics, and
//! every tagged command is answered.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use std::sync::Arc;
use std::time::Duration;

use deputy_imap::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Runs a whole session over an in-memory pipe of `pipe` bytes: `input`, then
/// EOF; returns everything written. Panics (fails) if the session task panics
/// or takes longer than 20 s.
async fn session(input: &[u8], pipe: usize, config: Config) -> String {
    let (client, server) = tokio::io::duplex(pipe);
    let peer = "127.0.0.1:40000".parse().unwrap();
    let task = tokio::spawn(deputy_imap::run_session(server, peer, Arc::new(config), Arc::new(support::Memory::new())));
    let (mut r, mut w) = tokio::io::split(client);
    let input = input.to_vec();
    let write = async move {
        let _ = w.write_all(&input).await;
        let _ = w.shutdown().await;
    };
    let mut out = Vec::new();
    let read = r.read_to_end(&mut out);
    let (_, read) =
        tokio::time::timeout(Duration::from_secs(20), async { tokio::join!(write, read) }).await.expect("session ends");
    let _ = read;
    let ended = tokio::time::timeout(Duration::from_secs(20), task).await.expect("session task ends");
    assert!(ended.is_ok(), "the session task panicked: {ended:?}");
    String::from_utf8_lossy(&out).into_owned()
}

async fn transcript(input: &[u8]) -> String {
    session(input, 1 << 16, Config::new("imap.test")).await
}

/// The tags of tagged responses, in order.
fn tagged(out: &str) -> Vec<&str> {
    out.split("\r\n")
        .filter_map(|l| {
            let mut p = l.splitn(3, ' ');
            let (tag, kind) = (p.next()?, p.next()?);
            (tag != "*" && tag != "+" && matches!(kind, "OK" | "NO" | "BAD")).then_some(tag)
        })
        .collect()
}

#[tokio::test]
async fn literal_over_the_limit_is_refused_and_the_session_goes_on() {
    let mut config = Config::new("imap.test");
    config.max_literal_size = 1000;
    let out = session(b"a LOGIN alice secret\r\nb APPEND INBOX {1001}\r\nc NOOP\r\n", 1 << 16, config).await;
    assert!(out.contains("\r\nb NO [TOOBIG] "), "{out}");
    assert!(!out.contains("+ Ready"), "no continuation for a refused literal: {out}");
    assert!(out.contains("\r\nc OK NOOP completed\r\n"), "{out}");
    // A non-synchronizing literal's bytes follow regardless: the session ends cleanly.
    let mut config = Config::new("imap.test");
    config.max_literal_size = 1000;
    let mut input = b"a LOGIN alice secret\r\nb APPEND INBOX {2000+}\r\n".to_vec();
    input.extend(std::iter::repeat_n(b'x', 2000));
    input.extend_from_slice(b"\r\nc NOOP\r\n");
    let out = session(&input, 1 << 16, config).await;
    assert!(out.contains("\r\nb BAD [TOOBIG] ") && out.ends_with("* BYE Literal too big\r\n"), "{out}");
    // A literal size that overflows any integer is a syntax error, not a crash.
    let out = transcript(b"a LOGIN alice secret\r\nb APPEND INBOX {999999999999999999999999}\r\nc NOOP\r\n").await;
    assert!(out.contains("\r\nb ") && out.contains("\r\nc OK"), "{out}");
}

#[tokio::test]
async fn unterminated_literal_then_disconnect_ends_without_an_answer() {
    let out = transcript(b"a LOGIN alice secret\r\nb APPEND INBOX {100}\r\nonly a little").await;
    assert!(out.contains("+ Ready") && !out.contains("\r\nb "), "{out}");
    let out = transcript(b"a LOGIN alice secret\r\nb LOGIN {5}\r\nal").await;
    assert!(out.contains("+ Ready") && !out.contains("\r\nb "), "{out}");
}

fn nested(prefix: &str, depth: usize) -> Vec<u8> {
    let mut cmd = prefix.as_bytes().to_vec();
    cmd.extend(std::iter::repeat_n(b'(', depth));
    cmd.extend_from_slice(b"ALL");
    cmd.extend(std::iter::repeat_n(b')', depth));
    cmd.extend_from_slice(b"\r\n");
    cmd
}

#[tokio::test]
async fn ten_thousand_nested_parentheses_get_bad() {
    let mut input = b"a LOGIN alice secret\r\nb SELECT INBOX\r\n".to_vec();
    input.extend(nested("c SEARCH ", 10_000));
    input.extend(nested("d FETCH 1 ", 10_000));
    input.extend(nested("e UID SEARCH RETURN (COUNT) ", 10_000));
    input.extend(nested("f SEARCH OR ", 10_000));
    input.extend_from_slice(b"g NOOP\r\n");
    let out = transcript(&input).await;
    for tag in ["c", "d", "e", "f"] {
        assert!(out.contains(&format!("\r\n{tag} BAD ")), "{tag}: {out}");
    }
    assert!(out.contains("\r\ng OK"), "{out}");
    // Nesting the parser accepts is evaluated without trouble.
    let out =
        transcript(&[b"a LOGIN alice secret\r\nb SELECT INBOX\r\n".to_vec(), nested("c SEARCH ", 5)].concat()).await;
    assert!(out.contains("* SEARCH 1\r\nc OK"), "{out}");
}

#[tokio::test]
async fn invalid_mailbox_names_get_bad_or_no_cannot() {
    let names: [&[u8]; 7] = [
        b"\"&AGE-\"",        // base64 of printable ASCII
        b"\"&U,BTFw\"",      // unterminated shift
        b"\"&2D0-\"",        // lone surrogate
        b"\"&Jjo!\"",        // not base64
        b"{2+}\r\n\xc3\x28", // invalid UTF-8
        b"{3+}\r\n\xff\xfe\xfd",
        b"\"a\\\xe9b\"",
    ];
    for verb in ["SELECT", "CREATE", "DELETE", "STATUS", "APPEND"] {
        for name in names {
            let mut input = format!("a LOGIN alice secret\r\nb {verb} ").into_bytes();
            input.extend_from_slice(name);
            match verb {
                "STATUS" => input.extend_from_slice(b" (MESSAGES)"),
                "APPEND" => input.extend_from_slice(b" {3+}\r\nabc"),
                _ => {}
            }
            input.extend_from_slice(b"\r\nc NOOP\r\n");
            let out = transcript(&input).await;
            let answered = out.contains("\r\nb BAD ") || out.contains("\r\nb NO [CANNOT]");
            assert!(answered && out.contains("\r\nc OK"), "{verb} {:?}: {out}", String::from_utf8_lossy(name));
        }
    }
}

#[tokio::test]
async fn ten_thousand_pipelined_noops_in_one_write_are_answered_in_order() {
    let mut input = b"a LOGIN alice secret\r\nb SELECT INBOX\r\n".to_vec();
    for i in 0..10_000 {
        input.extend_from_slice(format!("n{i} NOOP\r\n").as_bytes());
    }
    // A small pipe: the server must apply back-pressure rather than buffer everything.
    let out = session(&input, 4096, Config::new("imap.test")).await;
    let tags = tagged(&out);
    let want: Vec<String> =
        ["a", "b"].into_iter().map(str::to_owned).chain((0..10_000).map(|i| format!("n{i}"))).collect();
    assert_eq!(tags, want);
    assert_eq!(out.matches(" OK NOOP completed\r\n").count(), 10_000);
}

/// Valid commands the mutator starts from; each ends with CRLF.
const CORPUS: &[&[u8]] = &[
    b"t CAPABILITY\r\n",
    b"t SELECT INBOX\r\n",
    b"t EXAMINE \"Other Users/alice/INBOX\"\r\n",
    b"t FETCH 1:* (FLAGS UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)]<0.10>)\r\n",
    b"t UID FETCH 1 (BODYSTRUCTURE ENVELOPE BODY[1.MIME])\r\n",
    b"t SEARCH OR (FROM \"alice\" SUBJECT hello) NOT (SEEN 1:*) LARGER 10\r\n",
    b"t UID SEARCH RETURN (MIN MAX COUNT) UNSEEN\r\n",
    b"t STORE 1 +FLAGS.SILENT (\\Seen \\Flagged)\r\n",
    b"t UID STORE 1 FLAGS (\\Deleted)\r\n",
    b"t COPY 1 Sent\r\n",
    b"t UID MOVE 1:* Sent\r\n",
    b"t APPEND Sent (\\Seen) \"17-Jul-1996 02:44:25 -0700\" {5+}\r\nhello\r\n",
    b"t LIST \"\" \"*\"\r\n",
    b"t LIST (SUBSCRIBED) \"\" %\r\n",
    b"t STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)\r\n",
    b"t CREATE \"a/&ZeVnLIqe-\"\r\n",
    b"t RENAME a b\r\n",
    b"t GETACL INBOX\r\n",
    b"t SETACL INBOX bob +lr\r\n",
    b"t MYRIGHTS INBOX\r\n",
    b"t NAMESPACE\r\n",
    b"t ENABLE CONDSTORE\r\n",
    b"t ID (\"name\" \"fuzz\")\r\n",
    b"t EXPUNGE\r\n",
    b"t UID EXPUNGE 1\r\n",
    b"t CHECK\r\n",
    b"t UNSELECT\r\n",
    b"t IDLE\r\nDONE\r\n",
    b"t IDLE\r\ndone\r\nu NOOP\r\n",
    b"t ENABLE IMAP4rev2\r\nu SEARCH ALL\r\n",
    b"t LIST \"\" \"*\" RETURN (SUBSCRIBED CHILDREN STATUS (MESSAGES SIZE))\r\n",
    b"t FETCH 1 (BINARY.PEEK[1]<0.5> BINARY.SIZE[1] BINARY[])\r\n",
    b"t STATUS INBOX (SIZE DELETED)\r\n",
    b"t RENAME INBOX Old\r\n",
];

/// What a session that has not signed in starts from: SASL PLAIN with and
/// without an initial response, cancelled, wrong, or not base64 at all.
const AUTH_CORPUS: &[&[u8]] = &[
    b"t AUTHENTICATE PLAIN\r\nAGFsaWNlAHNlY3JldA==\r\nu SELECT INBOX\r\n",
    b"t AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\nu IDLE\r\nDONE\r\n",
    b"t AUTHENTICATE PLAIN\r\n*\r\n",
    b"t AUTHENTICATE PLAIN\r\nAGJvYgB3cm9uZw==\r\n",
    b"t AUTHENTICATE PLAIN\r\n!!not*base64==\r\n",
    b"t AUTHENTICATE PLAIN\r\nYWxpY2U=\r\n",
    b"t AUTHENTICATE PLAIN =\r\n",
    b"t authenticate plain\r\n\r\n",
    b"t AUTHENTICATE LOGIN\r\n",
];

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap()).unwrap()
    }
}

/// Bytes that matter to the grammar, tried more often than others.
const INTERESTING: &[u8] = b"(){}[]<>\"\\ *%+-.:,&\r\n0123456789~\x00\xff";

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut input = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(input.len() + 1);
        let byte = if rng.below(2) == 0 {
            INTERESTING[rng.below(INTERESTING.len())]
        } else {
            u8::try_from(rng.next() & 0xff).unwrap()
        };
        match rng.below(5) {
            0 => input.insert(at, byte),
            1 if at < input.len() => {
                input.remove(at);
            }
            2 if at < input.len() => input[at] = byte,
            3 => {
                // Splice a piece of another corpus entry.
                let other = if rng.below(4) == 0 {
                    AUTH_CORPUS[rng.below(AUTH_CORPUS.len())]
                } else {
                    CORPUS[rng.below(CORPUS.len())]
                };
                let from = rng.below(other.len());
                let to = from + rng.below(other.len() - from + 1);
                input.splice(at..at, other[from..to].iter().copied());
            }
            _ => {
                // Repeat a slice (long lines, deep nesting, many literals).
                let from = rng.below(input.len());
                let to = (from + 1 + rng.below(8)).min(input.len());
                let piece = input[from..to].to_vec();
                for _ in 0..rng.below(200) {
                    input.splice(at..at, piece.iter().copied());
                }
            }
        }
    }
    input
}

/// Sessions of a signed-in user running a few corpus commands, one of them
/// mutated, then `zz NOOP`. The `zz` command must be answered unless the
/// session said `BYE` (or waits for the rest of a literal the mutation
/// announced), and everything written must be well-formed. Runs at most 5 s.
#[tokio::test]
async fn mutated_commands_never_panic_and_every_command_is_answered() {
    let rt_budget = std::time::Instant::now();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut cases = 0;
    // Whether AUTHENTICATE and IDLE were among the inputs at all.
    let mut reached = (false, false);
    while cases < 20_000 && rt_budget.elapsed() < Duration::from_secs(5) {
        cases += 1;
        // One session in four has not signed in and runs an AUTHENTICATE exchange.
        let signed_in = rng.below(4) != 0;
        let mut input = if signed_in { b"a LOGIN alice secret\r\nb SELECT INBOX\r\n".to_vec() } else { Vec::new() };
        let corpus = if signed_in { CORPUS } else { AUTH_CORPUS };
        for _ in 0..rng.below(3) {
            input.extend_from_slice(corpus[rng.below(corpus.len())]);
        }
        let seed = corpus[rng.below(corpus.len())];
        let mutated = if rng.below(8) == 0 {
            // Arbitrary bytes, not derived from a command.
            (0..rng.below(300)).map(|_| u8::try_from(rng.next() & 0xff).unwrap()).collect()
        } else {
            mutate(&mut rng, seed)
        };
        input.extend_from_slice(&mutated);
        input.extend_from_slice(b"\r\nzz NOOP\r\n");
        reached.0 |= upper_contains(&input, b"AUTHENTICATE");
        reached.1 |= upper_contains(&input, b"IDLE");
        let out = session(&input, 1 << 16, Config::new("imap.test")).await;
        let case = String::from_utf8_lossy(&mutated);
        assert!(out.starts_with("* OK"), "case {case:?}: {out}");
        if let Err(e) = well_formed(out.as_bytes()) {
            panic!("case {case:?}: {e}\n{out}");
        }
        // A literal the mutation announced may swallow `zz NOOP` into its
        // command, and so may an AUTHENTICATE or IDLE waiting for its next
        // line; then the last response must answer that command (or ask for
        // the rest of the literal).
        let last = out.trim_end_matches("\r\n").rsplit("\r\n").next().unwrap_or_default();
        let last_answers = last.starts_with('+') || tagged(last).len() == 1 || last.starts_with("* BAD ");
        let upper = String::from_utf8_lossy(&mutated).to_ascii_uppercase();
        let waits = mutated.contains(&b'{') || upper.contains("AUTHENTICATE") || upper.contains("IDLE");
        let swallowed = waits && last_answers;
        assert!(out.contains("\r\nzz OK") || out.contains("* BYE") || swallowed, "case {case:?}: {out}");
    }
    assert!(cases >= 100, "only {cases} cases ran in the budget");
    assert!(reached.0 && reached.1, "AUTHENTICATE and IDLE reached: {reached:?}");
}

fn upper_contains(input: &[u8], word: &[u8]) -> bool {
    input.to_ascii_uppercase().windows(word.len()).any(|w| w == word)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 128, ..proptest::prelude::ProptestConfig::default() })]

    /// Arbitrary bytes through the command parser path (the codec, then the
    /// ESEARCH, LIST-EXTENDED and ACL pre-parsers), and as the line after
    /// `AUTHENTICATE PLAIN` and `IDLE`: well-formed answers, no panic.
    #[test]
    fn arbitrary_bytes_through_the_parsers_never_panic(
        bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
        start in 0usize..4,
    ) {
        let prefix: &[u8] = match start {
            0 => b"",
            1 => b"a LOGIN alice secret\r\nb SELECT INBOX\r\n",
            2 => b"t AUTHENTICATE PLAIN\r\n",
            _ => b"a LOGIN alice secret\r\nb ENABLE IMAP4rev2\r\nc SELECT INBOX\r\nt IDLE\r\n",
        };
        let input = [prefix, &bytes, b"\r\nzz NOOP\r\n"].concat();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let out = rt.block_on(transcript(&input));
        proptest::prop_assert!(out.starts_with("* OK"));
        let checked = well_formed(out.as_bytes());
        proptest::prop_assert!(checked.is_ok(), "{:?}\n{}", checked, out);
    }
}

/// Every response is `* …`, `+ …` or `tag SP (OK|NO|BAD) SP text`, and
/// literals announced as `{n}` at a line end are followed by n bytes.
fn well_formed(out: &[u8]) -> Result<(), String> {
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
            rest = rest.get(n..).ok_or("truncated literal")?;
        }
        let text = String::from_utf8_lossy(&response);
        if text.starts_with("* ") || text.starts_with("+ ") || text == "+" {
            continue;
        }
        let mut parts = text.splitn(3, ' ');
        let (tag, kind, msg) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default(), parts.next());
        let tag_ok = !tag.is_empty() && tag.bytes().all(|b| b > 0x20 && b < 0x7f && !b"(){%*\"\\+".contains(&b));
        if !tag_ok
            || !matches!(kind, "OK" | "NO" | "BAD")
            || msg.is_none_or(|m| m.is_empty() || m.chars().any(char::is_control))
        {
            return Err(format!("malformed tagged response: {text:?}"));
        }
    }
    Ok(())
}
