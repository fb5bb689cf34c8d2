//! Raw SMTP conversations over TCP asserting exact replies: pipelining,
//! DATA and BDAT, dot-stuffing, the SMTP smuggling defence, limits and
//! command sequencing (RFC 5321, 2920, 3030, 1870).

mod support;

use deputy_smtp::Mode;
use support::{TestServer, config};

#[tokio::test]
async fn ehlo_advertises_the_extensions() {
    let server = TestServer::start(config(Mode::Inbound)).await;
    let mut client = server.connect().await;
    assert_eq!(client.reply().await, "220 mx.test ESMTP Deputy");
    let ehlo = client.cmd("EHLO client.test", "250").await;
    assert_eq!(
        ehlo,
        "250-mx.test\n250-PIPELINING\n250-SIZE 36700160\n250-8BITMIME\n250-SMTPUTF8\n250-CHUNKING\n250 ENHANCEDSTATUSCODES"
    );
    client.cmd("HELO client.test", "250 mx.test").await;
    client.cmd("QUIT", "221 2.0.0").await;
    assert!(client.closed().await);
}

#[tokio::test]
async fn a_pipelined_transaction_in_one_write_gets_replies_in_order() {
    let server = TestServer::start(config(Mode::Inbound)).await;
    let mut client = server.connect().await;
    client.expect("220").await;
    client
        .send(concat!(
            "EHLO client.test\r\n",
            "MAIL FROM:<alice@remote.test>\r\n",
            "RCPT TO:<bob@local.test>\r\n",
            "RCPT TO:<carol@elsewhere.test>\r\n",
            "RCPT TO:<dave@local.test>\r\n",
            "DATA\r\n",
            "Subject: hi\r\n\r\n..leading dot\r\n...two\r\nend\r\n.\r\n",
            "QUIT\r\n",
        ))
        .await;
    client.expect("250-mx.test").await;
    assert_eq!(client.reply().await, "250 2.1.0 Sender OK");
    assert_eq!(client.reply().await, "250 2.1.5 Recipient OK");
    assert_eq!(client.reply().await, "550 5.7.1 Relaying denied");
    assert_eq!(client.reply().await, "250 2.1.5 Recipient OK");
    assert_eq!(client.reply().await, "354 End data with <CR><LF>.<CR><LF>");
    assert_eq!(client.reply().await, "250 2.0.0 Queued");
    assert_eq!(client.reply().await, "221 2.0.0 Bye");
    let messages = server.handler.messages();
    assert_eq!(messages.len(), 1);
    let (envelope, body) = &messages[0];
    assert_eq!(envelope.mail_from, "alice@remote.test");
    assert_eq!(envelope.rcpt_to, ["bob@local.test", "dave@local.test"]);
    assert_eq!(body, b"Subject: hi\r\n\r\n.leading dot\r\n..two\r\nend\r\n");
}

#[tokio::test]
async fn fake_terminators_never_end_a_message_or_start_another() {
    let server = TestServer::start(config(Mode::Inbound)).await;
    let mut client = server.ready().await;
    // The classic SMTP smuggling payloads: a terminator other servers might
    // honour, followed by a whole second transaction.
    for fake in ["\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n", "\r.\r\n", "\r\n.\r\r\n"] {
        client.cmd("MAIL FROM:<alice@remote.test>", "250 2.1.0").await;
        client.cmd("RCPT TO:<bob@local.test>", "250 2.1.5").await;
        client.cmd("DATA", "354").await;
        client
            .send(format!(
                "Subject: real\r\n\r\nhello{fake}MAIL FROM:<admin@local.test>\r\nRCPT TO:<victim@local.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nbad\r\n.\r\n"
            ))
            .await;
        assert_eq!(client.reply().await, "550 5.5.2 Message contains bare CR or LF", "fake terminator {fake:?}");
        // Nothing of the payload ran as commands: the next reply is NOOP's, and
        // the transaction is over.
        client.cmd("NOOP", "250 2.0.0").await;
        client.cmd("RCPT TO:<bob@local.test>", "503 5.5.1").await;
    }
    assert!(server.handler.messages().is_empty());
}

#[tokio::test]
async fn bare_lf_and_bare_cr_are_refused_and_the_session_goes_on() {
    let server = TestServer::start(config(Mode::Inbound)).await;
    let mut client = server.ready().await;
    for body in ["a\nb\r\n.\r\n", "a\rb\r\n.\r\n", "a\r\n\r\n.\r\r\n.\r\n"] {
        client.cmd("MAIL FROM:<alice@remote.test>", "250").await;
        client.cmd("RCPT TO:<bob@local.test>", "250").await;
        client.cmd("DATA", "354").await;
        client.send(body).await;
        client.expect("550 5.5.2 Message contains bare CR or LF").await;
    }
    client.cmd("MAIL FROM:<alice@remote.test>", "250").await;
    client.cmd("RCPT TO:<bob@local.test>", "250").await;
    client.cmd("DATA", "354").await;
    client.send("clean\r\n.\r\n").await;
    client.expect("250 2.0.0 Queued").await;
    assert_eq!(server.handler.bodies(), [b"clean\r\n".to_vec()]);
}

#[tokio::test]
async fn an_empty_message_ends_right_after_354() {
    let server = TestServer::start(config(Mode::Inbound)).await;
    let mut client = server.ready().await;
    client.send("MAIL FROM:<>\r\nRCPT TO:<Postmaster>\r\nDATA\r\n.\r\n").await;
    client.expect("250 2.1.0").await;
    client.expect("250 2.1.5").await;
    client.expect("354").await;
    client.expect("250 2.0.0 Queued").await;
    let messages = server.handler.messages();
    assert_eq!(messages[0].0.mail_from, "");
    assert_eq!(messages[0].0.rcpt_to, ["postmaster"]);
    assert!(messages[0].1.is_empty());
}

#[tokio::test]
async fn declared_and_actual_size_limits() {
    let mut cfg = config(Mode::Inbound);
    cfg.max_message_size = 1000;
    let server = TestServer::start(cfg).await;
    let mut client = server.ready().await;
    client.cmd("MAIL FROM:<alice@remote.test> SIZE=1001", "552 5.3.4 Message size exceeds fixed maximum").await;
    client.cmd("MAIL FROM:<alice@remote.test> SIZE=1000", "250").await;
    client.cmd("RCPT TO:<bob@local.test>", "250").await;
    client.cmd("DATA", "354").await;
    let line = format!("{}\r\n", "x".repeat(98));
    client.send(line.repeat(20) + ".\r\n").await;
    client.expect("552 5.3.4 Message size exceeds fixed maximum message size").await;
    // The whole body was read and discarded: the session is still in step.
    client.cmd("NOOP", "250 2.0.0").await;
    assert!(server.handler.messages().is_empty());
}

#[tokio::test]
async fn long_lines_are_refused() {
    let server = TestServer::start(config(Mode::Inbound)).await;
    let mut client = server.ready().await;
    client.send(format!("NOOP {}\r\n", "x".repeat(5000))).await;
    client.expect("500 5.5.2 Line too long").await;
    client.cmd("NOOP", "250 2.0.0").await;

    client.cmd("MAIL FROM:<alice@remote.test>", "250").await;
    client.cmd("RCPT TO:<bob@local.test>", "250").await;
    client.cmd("DATA", "354").await;
    client.send(format!("{}\r\n.\r\n", "y".repeat(999))).await;
    client.expect("500 5.5.2 Message line too long").await;
    client.cmd("MAIL FROM:<alice@remote.test>", "250").await;
    client.cmd("RCPT TO:<bob@local.test>", "250").await;
    client.cmd("DATA", "354").await;
    client.send(format!("{}\r\n.\r\n", "y".repeat(998))).await;
    client.expect("250 2.0.0 Queued").await;
}

#[tokio::test]
async fn recipient_limit() {
    let mut cfg = config(Mode::Inbound);
    cfg.max_recipients = 2;
    let server = TestServer::start(cfg).await;
    let mut client = server.ready().await;
    client.cmd("MAIL FROM:<alice@remote.test>", "250").await;
    client.cmd("RCPT TO:<a@local.test>", "250").await;
    client.cmd("RCPT TO:<b@local.test>", "250").await;
    client.cmd("RCPT TO:<c@local.test>", "452 4.5.3 Too many recipients").await;
}

#[tokio::test]
async fn commands_out_of_sequence_get_503() {
    let server = TestServer::start(config(Mode::Inbound)).await;
    let mut client = server.connect().await;
    client.expect("220").await;
    client.cmd("MAIL FROM:<alice@remote.test>", "503 5.5.1").await;
    client.cmd("EHLO client.test", "250").await;
    client.cmd("RCPT TO:<bob@local.test>", "503 5.5.1").await;
    client.cmd("DATA", "503 5.5.1").await;
    client.cmd("MAIL FROM:<alice@remote.test>", "250").await;
    client.cmd("MAIL FROM:<alice@remote.test>", "503 5.5.1").await;
    client.cmd("DATA", "554 5.5.1 No valid recipients").await;
    client.cmd("RSET", "250 2.0.0").await;
    client.cmd("RCPT TO:<bob@local.test>", "503 5.5.1").await;
    client.cmd("AUTH PLAIN", "502 5.5.1").await;
    client.cmd("STARTTLS", "502 5.5.1").await;
}

#[tokio::test]
async fn unknown_and_malformed_commands() {
    let server = TestServer::start(config(Mode::Inbound)).await;
    let mut client = server.ready().await;
    client.cmd("FROB", "500 5.5.1 Unknown command").await;
    client.cmd("VRFY bob", "252 2.5.0").await;
    client.cmd("EXPN staff", "502 5.5.1").await;
    client.cmd("HELP", "214 2.0.0").await;
    client.cmd("MAIL FROM:alice@remote.test", "501 5.5.2").await;
    client.cmd("MAIL FROM:<alice@remote.test> FOO=BAR", "555 5.5.4").await;
    client.cmd("MAIL FROM:<alice@remote.test> RET=HDRS", "555 5.5.4").await;
    client.cmd("MAIL FROM:<alice@remote.test> BODY=9BIT", "501 5.5.4").await;
    client.send("NOOP\n").await;
    client.expect("500 5.5.2").await;
    client.send(b"NOOP \xff\r\n").await;
    client.expect("501 5.5.2").await;
    client.cmd("MAIL FROM:<alice@remote.test> BODY=8BITMIME SMTPUTF8 AUTH=<>", "250").await;
}

#[tokio::test]
async fn addresses_that_could_inject_headers_are_refused() {
    let server = TestServer::start(config(Mode::Inbound)).await;
    let mut client = server.ready().await;
    client.send(b"MAIL FROM:<\"a\x01b\"@remote.test>\r\n").await;
    client.expect("501 5.1.7").await;
    client.send(b"MAIL FROM:<a\x00b@remote.test>\r\n").await;
    client.expect("501 5.5.2").await;
    client.send(b"MAIL FROM:<a\rb@remote.test>\r\n").await;
    client.expect("501 5.5.2").await;
    client.cmd(&format!("MAIL FROM:<{}@remote.test>", "a".repeat(65)), "501 5.1.7").await;
    client.cmd(&format!("MAIL FROM:<a@{}.test>", "b".repeat(250)), "501 5.1.7").await;
    client.cmd("MAIL FROM:<jörg@remote.test>", "553 5.6.7").await;
    client.cmd("MAIL FROM:<alice@remote.test>", "250").await;
    client.send(b"RCPT TO:<\"x\x7f\"@local.test>\r\n").await;
    client.expect("501 5.1.3").await;
    client.cmd("RCPT TO:<jörg@local.test>", "553 5.6.7").await;
    client.cmd("RCPT TO:<>", "501 5.1.3").await;
}

#[tokio::test]
async fn bdat_single_and_multi_chunk() {
    let server = TestServer::start(config(Mode::Inbound)).await;
    let mut client = server.ready().await;
    client.send("MAIL FROM:<alice@remote.test>\r\nRCPT TO:<bob@local.test>\r\nBDAT 14 LAST\r\nSubject: one\r\n").await;
    client.expect("250 2.1.0").await;
    client.expect("250 2.1.5").await;
    client.expect("250 2.0.0 Queued").await;

    // Chunks split anywhere, including between CR and LF, with dots left alone.
    client.send("MAIL FROM:<alice@remote.test>\r\nRCPT TO:<bob@local.test>\r\n").await;
    client.send("BDAT 6\r\n.a\r\nb\r").await;
    client.send("BDAT 3\r\n\n.\r").await;
    client.send("BDAT 1 LAST\r\n\n").await;
    client.expect("250 2.1.0").await;
    client.expect("250 2.1.5").await;
    client.expect("250 2.0.0 6 octets received").await;
    client.expect("250 2.0.0 3 octets received").await;
    client.expect("250 2.0.0 Queued").await;

    client.send("MAIL FROM:<alice@remote.test>\r\nRCPT TO:<bob@local.test>\r\nBDAT 4\r\nab\r\nBDAT 0 LAST\r\n").await;
    client.expect("250").await;
    client.expect("250").await;
    client.expect("250 2.0.0 4 octets received").await;
    client.expect("250 2.0.0 Queued").await;
    assert_eq!(
        server.handler.bodies(),
        [b"Subject: one\r\n".to_vec(), b".a\r\nb\r\n.\r\n".to_vec(), b"ab\r\n".to_vec()]
    );
}

#[tokio::test]
async fn refused_bdat_chunks_are_still_consumed() {
    let mut cfg = config(Mode::Inbound);
    cfg.max_message_size = 100;
    let server = TestServer::start(cfg).await;
    let mut client = server.ready().await;
    // No MAIL: 503, and the chunk's bytes (which look like commands) are skipped.
    client.send("BDAT 6\r\nQUIT\r\nNOOP\r\n").await;
    client.expect("503 5.5.1").await;
    client.expect("250 2.0.0 OK").await;
    client.send("MAIL FROM:<alice@remote.test>\r\nBDAT 6\r\nQUIT\r\nNOOP\r\n").await;
    client.expect("250 2.1.0").await;
    client.expect("503 5.5.1 No valid recipients").await;
    client.expect("250 2.0.0 OK").await;
    client.cmd("RCPT TO:<bob@local.test>", "250").await;
    client.cmd("DATA", "354").await;
    client.send("x\r\n.\r\n").await;
    client.expect("250 2.0.0 Queued").await;

    client.send("MAIL FROM:<alice@remote.test>\r\nRCPT TO:<bob@local.test>\r\nBDAT 3\r\nab\n").await;
    client.expect("250").await;
    client.expect("250").await;
    client.expect("250 2.0.0 3 octets received").await;
    client.cmd("DATA", "503 5.5.1 DATA not allowed after BDAT").await;
    client.send("BDAT 2 LAST\r\nc\n").await;
    client.expect("550 5.5.2 Message contains bare CR or LF").await;

    let big = "z".repeat(150);
    client
        .send(format!("MAIL FROM:<alice@remote.test>\r\nRCPT TO:<bob@local.test>\r\nBDAT 150\r\n{big}NOOP\r\n"))
        .await;
    client.expect("250").await;
    client.expect("250").await;
    client.expect("552 5.3.4").await;
    client.expect("250 2.0.0 OK").await;
    client.cmd("BDAT x", "501 5.5.4").await;
    assert!(client.closed().await, "an unparseable BDAT loses framing, so the session ends");
    assert_eq!(server.handler.bodies(), [b"x\r\n".to_vec()]);
}
