//! Load check for the SMTP engine over loopback: 20 concurrent clients send
//! 4 KiB messages to an in-process server whose handler only counts them.
//! Goal: many thousands of messages per second on 2 cores (release build).
//!
//! `cargo run --release -p deputy-smtp --example load [SECONDS] [CLIENTS]`
//! prints messages per second for pipelined sessions (many messages per
//! connection) and for one connection per message.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a load script: failing loudly is the point")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use deputy_smtp::{Config, Envelope, Handler, Mode, Reply, SessionInfo, SignIn};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[derive(Default)]
struct Counter(AtomicUsize);

#[async_trait]
impl Handler for Counter {
    type Principal = ();

    async fn authenticate(&self, _: &str, _: &str) -> SignIn<()> {
        SignIn::Refused
    }

    async fn mail_from(&self, _: &SessionInfo<()>, _: &str) -> Result<(), Reply> {
        Ok(())
    }

    async fn rcpt_to(&self, _: &SessionInfo<()>, _: &Envelope, _: &str) -> Result<(), Reply> {
        Ok(())
    }

    async fn data(&self, _: &SessionInfo<()>, _: &Envelope, message: Vec<u8>) -> Reply {
        assert!(message.len() >= 4096);
        self.0.fetch_add(1, Ordering::Relaxed);
        Reply::new(250, "2.0.0", "Queued")
    }
}

/// A 4 KiB message of 64-octet lines.
fn message() -> Vec<u8> {
    let mut body = b"Subject: load\r\n\r\n".to_vec();
    while body.len() < 4096 {
        body.extend_from_slice(b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n");
    }
    body.extend_from_slice(b".\r\n");
    body
}

/// Reads replies until one that does not continue; returns its code.
async fn reply(io: &mut BufReader<TcpStream>, line: &mut String) -> u16 {
    loop {
        line.clear();
        assert!(io.read_line(line).await.unwrap() > 0, "server closed");
        if line.as_bytes().get(3) != Some(&b'-') {
            return line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
        }
    }
}

async fn session(addr: std::net::SocketAddr, deadline: Instant, per_connection: bool) {
    let transaction =
        [&b"MAIL FROM:<load@remote.test>\r\nRCPT TO:<sink@local.test>\r\nDATA\r\n"[..], &message()].concat();
    let mut line = String::new();
    while Instant::now() < deadline {
        let mut io = BufReader::new(TcpStream::connect(addr).await.unwrap());
        io.get_mut().set_nodelay(true).unwrap();
        assert_eq!(reply(&mut io, &mut line).await, 220);
        io.get_mut().write_all(b"EHLO load.test\r\n").await.unwrap();
        assert_eq!(reply(&mut io, &mut line).await, 250);
        loop {
            // PIPELINING: the whole transaction in one write.
            io.get_mut().write_all(&transaction).await.unwrap();
            for expected in [250, 250, 354, 250] {
                assert_eq!(reply(&mut io, &mut line).await, expected, "{line}");
            }
            if per_connection || Instant::now() >= deadline {
                break;
            }
        }
        io.get_mut().write_all(b"QUIT\r\n").await.unwrap();
        assert_eq!(reply(&mut io, &mut line).await, 221);
    }
}

async fn run(seconds: u64, clients: usize, per_connection: bool) -> f64 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handler = Arc::new(Counter::default());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(deputy_smtp::serve(
        listener,
        Arc::new(Config::new("mx.test", Mode::Inbound)),
        handler.clone(),
        async {
            let _ = stopped.await;
        },
    ));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..clients).map(|_| tokio::spawn(session(addr, deadline, per_connection))).collect();
    for task in tasks {
        task.await.unwrap();
    }
    let rate = handler.0.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
    let _ = stop.send(());
    let _ = server.await;
    rate
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let clients = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let pipelined = runtime.block_on(run(seconds, clients, false));
    println!("pipelined sessions: {pipelined:.0} messages/s ({clients} clients, 4 KiB each)");
    let per_connection = runtime.block_on(run(seconds, clients, true));
    println!("connection per message: {per_connection:.0} messages/s ({clients} clients, 4 KiB each)");
}
