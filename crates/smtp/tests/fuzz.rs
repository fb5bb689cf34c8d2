//! Bounded fuzzing of the session engine over `tokio::io::duplex`: random
//! and mutated inputs (valid command sequences, random bytes, huge lines,
//! DATA and BDAT bodies with random CR/LF/dot placement), fed in random
//! pieces. Checked: no panic; every reply line well-formed with an enhanced
//! status code; the handler's `data` runs at most once per possible message
//! end; no message handed over contains a bare CR or LF; and any content
//! without bare CR/LF, dot-stuffed and terminated, arrives byte-identical.

#![allow(clippy::unwrap_used, reason = "test scaffolding: a failed unwrap is a failed test")]

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use deputy_smtp::{Config, Mode};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};
use support::FakeHandler;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What one run of the engine produced.
struct Outcome {
    output: Vec<u8>,
    messages: Vec<Vec<u8>>,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn fuzz_config(mode: Mode, tls: Option<Arc<deputy_smtp::rustls::ServerConfig>>) -> Arc<Config> {
    let mut config = Config::new("mx.test", mode);
    config.max_message_size = 8 * 1024;
    config.max_recipients = 3;
    config.idle_timeout = Duration::from_secs(20);
    config.tls = tls;
    Arc::new(config)
}

/// Runs one session over a duplex pipe, writing `input` in `piece`-sized writes.
fn drive(rt: &tokio::runtime::Runtime, config: Arc<Config>, peer: SocketAddr, input: &[u8], piece: usize) -> Outcome {
    let handler = Arc::new(FakeHandler::default());
    let (client, server) = tokio::io::duplex(16 * 1024);
    let output = rt.block_on(async {
        let (mut read, mut write) = tokio::io::split(client);
        let session = deputy_smtp::run_session(server, peer, config, handler.clone());
        let writer = async {
            for chunk in input.chunks(piece.max(1)) {
                if write.write_all(chunk).await.is_err() {
                    return;
                }
            }
            let _ = write.shutdown().await;
        };
        let reader = async {
            let mut output = Vec::new();
            let _ = read.read_to_end(&mut output).await;
            output
        };
        let (_, (), output) = tokio::join!(session, writer, reader);
        output
    });
    Outcome { output, messages: handler.bodies() }
}

/// The part of the output that is SMTP (after STARTTLS's 220 comes TLS).
fn smtp_part(output: &[u8]) -> &[u8] {
    const READY: &[u8] = b"220 2.0.0 Ready to start TLS\r\n";
    match output.windows(READY.len()).position(|w| w == READY) {
        Some(at) => &output[..at + READY.len()],
        None => output,
    }
}

fn is_status(text: &str, class: u8) -> bool {
    let Some((status, _)) = text.split_once(' ') else { return false };
    let parts: Vec<&str> = status.split('.').collect();
    parts.len() == 3
        && parts[0].as_bytes() == [class]
        && parts[1..].iter().all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Asserts every reply is well-formed; returns the number of "Queued" replies.
fn check_replies(output: &[u8]) -> Result<usize, TestCaseError> {
    let output = smtp_part(output);
    let text = std::str::from_utf8(output).map_err(|e| TestCaseError::fail(format!("non-UTF-8 reply: {e}")))?;
    prop_assert!(text.is_empty() || text.ends_with("\r\n"), "output does not end with CRLF: {text:?}");
    let mut queued = 0;
    let mut first_reply = true;
    let mut exempt_group = false;
    let mut in_group = false;
    for line in text.split_terminator("\r\n") {
        prop_assert!(!line.contains(['\r', '\n']), "bare CR/LF inside a reply line: {line:?}");
        let bytes = line.as_bytes();
        prop_assert!(
            bytes.len() >= 4 && bytes[..3].iter().all(u8::is_ascii_digit) && matches!(bytes[3], b' ' | b'-'),
            "malformed reply line: {line:?}"
        );
        let code = &line[..3];
        let rest = &line[4..];
        if !in_group {
            // EHLO/HELO replies, the greeting and the 334/354 intermediates carry no status code.
            exempt_group = rest.starts_with("mx.test") || code == "334" || code == "354";
            exempt_group |= first_reply && line == "220 mx.test ESMTP Deputy";
        }
        if !exempt_group {
            prop_assert!(is_status(rest, bytes[0]), "reply without a matching enhanced status code: {line:?}");
        }
        in_group = bytes[3] == b'-';
        if !in_group {
            first_reply = false;
        }
        if line == "250 2.0.0 Queued" {
            queued += 1;
        }
    }
    Ok(queued)
}

fn count(haystack: &[u8], needle: &[u8], ignore_case: bool) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| if ignore_case { w.eq_ignore_ascii_case(needle) } else { *w == needle })
        .count()
}

fn has_bare_cr_or_lf(message: &[u8]) -> bool {
    message.iter().enumerate().any(|(i, &b)| match b {
        b'\r' => message.get(i + 1) != Some(&b'\n'),
        b'\n' => i == 0 || message[i - 1] != b'\r',
        _ => false,
    })
}

const COMMANDS: &[&str] = &[
    "EHLO client.test",
    "HELO client.test",
    "MAIL FROM:<a@remote.test>",
    "MAIL FROM:<> BODY=8BITMIME SMTPUTF8",
    "MAIL FROM:<a@remote.test> SIZE=99999999999",
    "MAIL FROM:<a@remote.test> FOO=BAR",
    "RCPT TO:<u@local.test>",
    "RCPT TO:<v@local.test>",
    "RCPT TO:<u@other.test>",
    "RCPT TO:<\"a\u{1}\"@local.test>",
    "DATA",
    "BDAT 7",
    "BDAT 3 LAST",
    "BDAT 0 LAST",
    "BDAT x",
    "RSET",
    "NOOP",
    "VRFY u",
    "EXPN list",
    "HELP",
    "STARTTLS",
    "AUTH PLAIN",
    "AUTH PLAIN AHJvYgBwdw==",
    "AUTH PLAIN AHJvYgB4eA==",
    "AUTH LOGIN",
    "AUTH CRAM-MD5",
    "cm9i",
    "cHc=",
    "*",
    "ETRN x",
    "QUIT",
];

const PIECES: &[&[u8]] = &[
    b"\r",
    b"\n",
    b".",
    b"\r\n",
    b"..",
    b"a",
    b"Subject: x",
    b"hello world ",
    b"\r\n.\r\n",
    b"\r\n.",
    b"\n.\n",
    b"\r.\r",
    b"\n.\r\n",
    b"\r\n.\n",
    b"\xff\xfe",
    b"\0",
    b"\r\n\r\n",
    b"MAIL FROM:<e@x.test>\r\n",
];

fn line_end() -> impl Strategy<Value = &'static [u8]> {
    prop_oneof![8 => Just(&b"\r\n"[..]), 1 => Just(&b"\n"[..]), 1 => Just(&b"\r"[..]), 1 => Just(&b""[..])]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    vec(prop::sample::select(PIECES), 0..40).prop_map(|pieces| pieces.concat())
}

fn segment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => (prop::sample::select(COMMANDS), line_end()).prop_map(|(c, end)| [c.as_bytes(), end].concat()),
        2 => (prop::sample::select(COMMANDS), vec(any::<u8>(), 0..20), line_end())
            .prop_map(|(c, noise, end)| [c.as_bytes(), &noise, end].concat()),
        1 => vec(any::<u8>(), 0..300),
        1 => (1000usize..6000, any::<bool>()).prop_map(|(n, crlf)| {
            let mut line = vec![b'A'; n];
            if crlf { line.extend_from_slice(b"\r\n") }
            line
        }),
        3 => body().prop_map(|body| {
            [&b"MAIL FROM:<a@remote.test>\r\nRCPT TO:<u@local.test>\r\nDATA\r\n"[..], &body, b"\r\n.\r\n"].concat()
        }),
        3 => (body(), any::<bool>()).prop_map(|(body, end)| {
            [&b"DATA\r\n"[..], &body, if end { b"\r\n.\r\n" } else { b"" }].concat()
        }),
        2 => (0usize..40, any::<bool>(), body()).prop_map(|(n, last, body)| {
            let head = format!("BDAT {n}{}\r\n", if last { " LAST" } else { "" });
            [head.as_bytes(), &body].concat()
        }),
    ]
}

fn session_input() -> impl Strategy<Value = Vec<u8>> {
    let prefix = prop_oneof![
        Just(Vec::new()),
        Just(b"EHLO c.test\r\n".to_vec()),
        Just(b"EHLO c.test\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<u@local.test>\r\n".to_vec()),
        Just(
            b"EHLO c.test\r\nAUTH PLAIN AHJvYgBwdw==\r\nMAIL FROM:<rob@local.test>\r\nRCPT TO:<u@local.test>\r\n"
                .to_vec()
        ),
    ];
    let generated = (prefix, vec(segment(), 0..12)).prop_map(|(prefix, segments)| [prefix, segments.concat()].concat());
    prop_oneof![3 => generated, 1 => mutated()]
}

/// A valid pipelined session with a few octets flipped, inserted or removed.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    const VALID: &[u8] = b"EHLO c.test\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<u@local.test>\r\nDATA\r\n\
        Subject: x\r\n\r\n..dot\r\nbody\r\n.\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<v@local.test>\r\n\
        BDAT 12\r\nSubject: y\r\nBDAT 6 LAST\r\n\r\nhi\r\nNOOP\r\n";
    vec((any::<prop::sample::Index>(), 0u8..3, any::<u8>()), 1..6).prop_map(|edits| {
        let mut input = VALID.to_vec();
        for (at, op, byte) in edits {
            let i = at.index(input.len());
            match op {
                0 => input[i] = byte,
                1 => input.insert(i, byte),
                _ => {
                    input.remove(i);
                }
            }
        }
        input
    })
}

#[test]
fn random_sessions_never_misbehave() {
    let rt = runtime();
    let tls = support::tls();
    let mut runner =
        TestRunner::new(RunnerConfig { cases: 2000, failure_persistence: None, ..RunnerConfig::default() });
    let strategy = (session_input(), 1usize..2048, any::<bool>(), any::<bool>(), any::<bool>());
    runner
        .run(&strategy, |(input, piece, submission, loopback, with_tls)| {
            let mode = if submission { Mode::Submission } else { Mode::Inbound };
            let peer: SocketAddr = if loopback { "127.0.0.1:5000" } else { "198.51.100.9:5000" }.parse().unwrap();
            let config = fuzz_config(mode, with_tls.then(|| tls.server.clone()));
            let outcome = drive(&rt, config, peer, &input, piece);
            let queued = check_replies(&outcome.output)?;
            prop_assert_eq!(queued, outcome.messages.len());
            let ends = count(&input, b"\r\n.\r\n", false) + count(&input, b"BDAT", true);
            prop_assert!(
                outcome.messages.len() <= ends,
                "{} messages from {ends} possible ends",
                outcome.messages.len()
            );
            for message in &outcome.messages {
                prop_assert!(
                    !has_bare_cr_or_lf(message),
                    "message with bare CR/LF: {:?}",
                    String::from_utf8_lossy(message)
                );
            }
            Ok(())
        })
        .unwrap();
}

/// Lines of any octets but CR and LF, often starting with dots.
fn content() -> impl Strategy<Value = Vec<u8>> {
    let octet = any::<u8>().prop_filter("no CR or LF", |b| *b != b'\r' && *b != b'\n');
    let line = (prop_oneof![Just(""), Just("."), Just("..")], vec(octet, 0..120))
        .prop_map(|(dots, rest)| [dots.as_bytes(), &rest].concat());
    vec(line, 0..30).prop_map(|lines| lines.iter().flat_map(|l| [&l[..], b"\r\n"].concat()).collect())
}

/// Dot-stuffs and terminates, as RFC 5321 §4.5.2 tells a client to.
fn stuff(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in content.split_inclusive(|&b| b == b'\n') {
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[test]
fn clean_content_round_trips_through_data_and_bdat() {
    let rt = runtime();
    let mut runner = TestRunner::new(RunnerConfig { cases: 500, failure_persistence: None, ..RunnerConfig::default() });
    let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
    runner
        .run(&(content(), 1usize..700, 1usize..300), |(content, piece, chunk)| {
            let envelope = b"EHLO c.test\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<u@local.test>\r\n";
            let data = [&envelope[..], b"DATA\r\n", &stuff(&content), b"QUIT\r\n"].concat();
            let mut bdat = envelope.to_vec();
            let chunks: Vec<&[u8]> = content.chunks(chunk).collect();
            for (i, part) in chunks.iter().enumerate() {
                let last = if i + 1 == chunks.len() { " LAST" } else { "" };
                bdat.extend_from_slice(format!("BDAT {}{last}\r\n", part.len()).as_bytes());
                bdat.extend_from_slice(part);
            }
            if chunks.is_empty() {
                bdat.extend_from_slice(b"BDAT 0 LAST\r\n");
            }
            bdat.extend_from_slice(b"QUIT\r\n");
            for input in [data, bdat] {
                let outcome = drive(&rt, fuzz_config(Mode::Inbound, None), peer, &input, piece);
                check_replies(&outcome.output)?;
                prop_assert_eq!(&outcome.messages, &vec![content.clone()]);
            }
            Ok(())
        })
        .unwrap();
}
