//! Session-level behaviour over raw connections: AUTH (RFC 4954) and its
//! failure limits, STARTTLS (RFC 3207) and command injection, idle timeout,
//! connection limits and graceful shutdown.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use deputy_smtp::{Mode, Server};
use support::{Client, FakeHandler, TestServer, b64, config, connector, plain, tls};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::ServerName;

#[tokio::test]
async fn submission_requires_auth_and_accepts_plain_and_login() {
    let server = TestServer::start(config(Mode::Submission)).await;
    let mut client = server.connect().await;
    client.expect("220").await;
    let ehlo = client.cmd("EHLO client.test", "250").await;
    assert!(ehlo.contains("250-AUTH PLAIN LOGIN"), "{ehlo}");
    assert!(!ehlo.contains("STARTTLS"), "no TLS configured: {ehlo}");
    client.cmd("MAIL FROM:<rob@local.test>", "530 5.7.0 Authentication required").await;
    client.cmd("AUTH CRAM-MD5", "504 5.5.4").await;
    client.cmd(&format!("AUTH PLAIN {}", plain("rob", "pw")), "235 2.7.0 Authentication successful").await;
    client.cmd(&format!("AUTH PLAIN {}", plain("rob", "pw")), "503 5.5.1 Already authenticated").await;
    client.cmd("MAIL FROM:<rob@local.test>", "250").await;

    let mut client = server.ready().await;
    client.cmd("AUTH PLAIN", "334 ").await;
    client.cmd(&plain("rob", "pw"), "235 2.7.0").await;

    let mut client = server.ready().await;
    client.cmd("AUTH LOGIN", "334 VXNlcm5hbWU6").await;
    client.cmd(&b64("rob"), "334 UGFzc3dvcmQ6").await;
    client.cmd(&b64("pw"), "235 2.7.0").await;

    let mut client = server.ready().await;
    client.cmd(&format!("AUTH LOGIN {}", b64("rob")), "334 UGFzc3dvcmQ6").await;
    client.cmd(&b64("pw"), "235 2.7.0").await;

    let mut client = server.ready().await;
    client.cmd("AUTH PLAIN", "334").await;
    client.cmd("*", "501 5.7.0 Authentication cancelled").await;
    client.cmd("AUTH LOGIN", "334").await;
    client.cmd("not base64!", "501 5.5.2").await;
    client.cmd("MAIL FROM:<rob@local.test>", "530 5.7.0").await;
    assert_eq!(server.handler.auth_calls(), 4, "cancelled exchanges never reach the handler");
}

#[tokio::test]
async fn repeated_auth_failures_close_the_connection() {
    let server = TestServer::start(config(Mode::Submission)).await;
    let mut client = server.ready().await;
    let wrong = format!("AUTH PLAIN {}", plain("rob", "wrong"));
    client.cmd(&wrong, "535 5.7.8 Authentication credentials invalid").await;
    client.cmd(&wrong, "535 5.7.8").await;
    client.cmd(&wrong, "421 4.7.0 Too many authentication failures").await;
    assert!(client.closed().await);
}

#[tokio::test]
async fn a_sign_in_that_cannot_be_checked_now_is_temporary_and_not_a_failure() {
    let server = TestServer::start(config(Mode::Submission)).await;
    let mut client = server.ready().await;
    let unavailable = format!("AUTH PLAIN {}", plain("unavailable", "pw"));
    for _ in 0..3 {
        client.cmd(&unavailable, "454 4.7.0 Temporary authentication failure, try again later").await;
    }
    client.cmd(&format!("AUTH PLAIN {}", plain("rob", "pw")), "235 2.7.0").await;
}

#[tokio::test]
async fn an_ip_with_many_failures_is_locked_out_without_asking_the_handler() {
    let mut cfg = config(Mode::Submission);
    cfg.auth_failures_per_ip = 4;
    let server = TestServer::start(cfg).await;
    let wrong = format!("AUTH PLAIN {}", plain("rob", "wrong"));
    let mut first = server.ready().await;
    for expected in ["535", "535", "421"] {
        first.cmd(&wrong, expected).await;
    }
    let mut second = server.ready().await;
    second.cmd(&wrong, "535").await;
    second.cmd(&wrong, "454 4.7.0 Temporary authentication failure").await;
    second.cmd(&format!("AUTH PLAIN {}", plain("rob", "pw")), "454 4.7.0").await;
    assert_eq!(server.handler.auth_calls(), 4);
}

#[tokio::test]
async fn plaintext_auth_from_a_remote_peer_needs_tls() {
    let server = Server::new(Arc::new(config(Mode::Submission)), Arc::new(FakeHandler::default()));
    let (near, far) = tokio::io::duplex(4096);
    let peer: SocketAddr = "192.0.2.7:40000".parse().unwrap();
    let session = tokio::spawn(async move { server.run_session(far, peer).await });
    let mut client = Client::new(near);
    client.expect("220").await;
    let ehlo = client.cmd("EHLO client.test", "250").await;
    assert!(!ehlo.contains("AUTH"), "{ehlo}");
    client
        .cmd(
            &format!("AUTH PLAIN {}", plain("rob", "pw")),
            "538 5.7.11 Encryption required for requested authentication mechanism",
        )
        .await;
    client.cmd("MAIL FROM:<rob@local.test>", "530 5.7.0").await;
    client.cmd("QUIT", "221").await;
    session.await.unwrap().unwrap();
}

#[tokio::test]
async fn inbound_never_offers_auth() {
    let server = TestServer::start(config(Mode::Inbound)).await;
    let mut client = server.ready().await;
    client.cmd(&format!("AUTH PLAIN {}", plain("rob", "pw")), "502 5.5.1").await;
    assert_eq!(server.handler.auth_calls(), 0);
}

#[tokio::test]
async fn starttls_resets_the_session_and_drops_injected_plaintext() {
    let tls = tls();
    let mut cfg = config(Mode::Submission);
    cfg.tls = Some(tls.server.clone());
    cfg.plaintext_auth_on_loopback = false;
    let server = TestServer::start(cfg).await;
    let mut client = server.connect().await;
    client.expect("220").await;
    let ehlo = client.cmd("EHLO client.test", "250").await;
    assert!(ehlo.contains("250-STARTTLS") && !ehlo.contains("AUTH"), "{ehlo}");
    // CVE-2011-0411: commands pipelined after STARTTLS in plaintext must not
    // run inside the TLS session.
    client.send(format!("STARTTLS\r\nAUTH PLAIN {}\r\nMAIL FROM:<evil@remote.test>\r\n", plain("rob", "pw"))).await;
    client.expect("220 2.0.0 Ready to start TLS").await;
    let tcp = client.io.into_inner();
    let stream = connector(&tls).connect(ServerName::try_from("localhost").unwrap(), tcp).await.unwrap();
    let mut client = Client::new(stream);
    client.cmd("MAIL FROM:<rob@local.test>", "503 5.5.1").await;
    let ehlo = client.cmd("EHLO client.test", "250").await;
    assert!(ehlo.contains("250-AUTH PLAIN LOGIN") && !ehlo.contains("STARTTLS"), "{ehlo}");
    client.cmd("RCPT TO:<bob@local.test>", "503 5.5.1").await;
    client.cmd("MAIL FROM:<rob@local.test>", "530 5.7.0").await;
    client.cmd("STARTTLS", "503 5.5.1 Already using TLS").await;
    client.cmd(&format!("AUTH PLAIN {}", plain("rob", "pw")), "235").await;
    client.cmd("MAIL FROM:<rob@local.test>", "250").await;
    client.cmd("RCPT TO:<bob@local.test>", "250").await;
    client.cmd("DATA", "354").await;
    client.send("Subject: over tls\r\n\r\nhi\r\n.\r\n").await;
    client.expect("250 2.0.0 Queued").await;
    client.cmd("QUIT", "221").await;
    assert_eq!(server.handler.auth_calls(), 1);
}

#[tokio::test]
async fn a_failed_handshake_ends_the_session() {
    let tls = tls();
    let mut cfg = config(Mode::Inbound);
    cfg.tls = Some(tls.server.clone());
    let server = TestServer::start(cfg).await;
    let mut client = server.ready().await;
    client.cmd("STARTTLS", "220 2.0.0").await;
    client.send("EHLO not a handshake\r\n").await;
    // rustls may answer with an alert record; what matters is that the
    // connection ends and no SMTP reply comes back.
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), client.io.read_to_end(&mut rest)).await.unwrap().unwrap();
    assert!(!rest.starts_with(b"250") && !rest.starts_with(b"5"), "{rest:?}");
}

#[tokio::test]
async fn idle_sessions_time_out() {
    let mut cfg = config(Mode::Inbound);
    cfg.idle_timeout = Duration::from_millis(300);
    let server = TestServer::start(cfg).await;
    let mut client = server.ready().await;
    client.expect("421 4.4.2 mx.test Error: timeout exceeded").await;
    assert!(client.closed().await);

    // A client that stalls inside DATA times out too.
    let mut client = server.ready().await;
    client.cmd("MAIL FROM:<alice@remote.test>", "250").await;
    client.cmd("RCPT TO:<bob@local.test>", "250").await;
    client.cmd("DATA", "354").await;
    client.send("partial").await;
    client.expect("421 4.4.2").await;
    assert!(server.handler.messages().is_empty());
}

#[tokio::test]
async fn connections_over_the_limit_are_turned_away() {
    let mut cfg = config(Mode::Inbound);
    cfg.max_connections_per_ip = 2;
    let server = TestServer::start(cfg).await;
    let mut first = server.connect().await;
    first.expect("220").await;
    let mut second = server.connect().await;
    second.expect("220").await;
    let mut third = server.connect().await;
    third.expect("421 4.7.0 Too many connections, try again later").await;
    assert!(third.closed().await);
    first.cmd("QUIT", "221").await;
    assert!(first.closed().await);
    // The slot is freed when the session task ends; allow it a moment.
    for attempt in 0.. {
        let mut again = server.connect().await;
        if again.reply().await.starts_with("220") {
            break;
        }
        assert!(attempt < 50, "slot never freed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn total_connection_limit() {
    let mut cfg = config(Mode::Inbound);
    cfg.max_connections = 1;
    let server = TestServer::start(cfg).await;
    let mut first = server.connect().await;
    first.expect("220").await;
    let mut second = server.connect().await;
    second.expect("421 4.7.0").await;
}

#[tokio::test]
async fn shutdown_closes_idle_sessions_and_lets_a_message_finish() {
    let mut server = TestServer::start(config(Mode::Inbound)).await;
    let mut idle = server.ready().await;
    let mut sending = server.ready().await;
    sending.cmd("MAIL FROM:<alice@remote.test>", "250").await;
    sending.cmd("RCPT TO:<bob@local.test>", "250").await;
    sending.cmd("DATA", "354").await;
    sending.send("Subject: in flight\r\n\r\n").await;

    server.stop();
    idle.expect("421 4.3.2 Service shutting down").await;
    assert!(idle.closed().await);
    // New connections are no longer accepted.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let refused = match TcpStream::connect(server.addr).await {
        Err(_) => true,
        Ok(stream) => Client::new(stream).closed().await,
    };
    assert!(refused);

    sending.send("body\r\n.\r\n").await;
    sending.expect("250 2.0.0 Queued").await;
    sending.expect("421 4.3.2").await;
    tokio::time::timeout(Duration::from_secs(5), &mut server.task).await.unwrap().unwrap();
    assert_eq!(server.handler.bodies(), [b"Subject: in flight\r\n\r\nbody\r\n".to_vec()]);
}

#[tokio::test]
async fn shutdown_grace_bounds_the_wait() {
    let mut cfg = config(Mode::Inbound);
    cfg.shutdown_grace = Duration::from_millis(200);
    let mut server = TestServer::start(cfg).await;
    let mut stuck = server.ready().await;
    stuck.cmd("MAIL FROM:<alice@remote.test>", "250").await;
    stuck.cmd("RCPT TO:<bob@local.test>", "250").await;
    stuck.cmd("DATA", "354").await;
    server.stop();
    tokio::time::timeout(Duration::from_secs(5), &mut server.task).await.unwrap().unwrap();
    assert!(stuck.closed().await);
}

#[test]
fn serve_is_a_send_static_future() {
    fn spawnable<F: std::future::Future + Send + 'static>(_: F) {}
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let handler = Arc::new(FakeHandler::default());
        spawnable(deputy_smtp::serve(listener, Arc::new(config(Mode::Inbound)), handler, async {}));
    });
}
