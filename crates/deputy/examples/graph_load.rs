//! The load generator of `bench/graph-load.sh`: THREADS clients, each on
//! one kept-alive connection, repeating one request for SECONDS (and at most
//! MAX requests in all), then one line with the rate:
//!
//! ```text
//! graph_load get  URL TOKEN THREADS SECONDS
//! graph_load post URL TOKEN THREADS SECONDS MAX BODY_JSON
//! graph_load smtp HOST:PORT USER PASSWORD RCPT THREADS SECONDS MAX
//! ```
//!
//! `smtp` submits as USER (AUTH PLAIN, then MAIL/RCPT/DATA on one session per
//! client, like a mail client that keeps its connection), so Graph's
//! `sendMail` can be compared with the same pipeline reached over SMTP.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Counts shared by the client threads.
#[derive(Default)]
struct Tally {
    started: AtomicU64,
    ok: AtomicU64,
    failed: AtomicU64,
}

impl Tally {
    /// Claims the next request, unless MAX are already under way.
    fn claim(&self, max: u64) -> bool {
        self.started.fetch_add(1, Ordering::Relaxed) < max
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).cloned().context("missing argument; see the example's doc comment");
    let num = |i: usize| -> Result<u64> { arg(i)?.parse().context("not a number") };
    let mode = arg(0)?;
    let (threads, secs, max) = match mode.as_str() {
        "get" => (num(3)?, num(4)?, u64::MAX),
        "post" => (num(3)?, num(4)?, num(5)?),
        "smtp" => (num(5)?, num(6)?, num(7)?),
        other => bail!("unknown mode {other}"),
    };
    let tally = Arc::new(Tally::default());
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let mut handles = Vec::new();
    for t in 0..threads {
        let tally = Arc::clone(&tally);
        let args = args.clone();
        let mode = mode.clone();
        handles.push(std::thread::spawn(move || {
            let run = match mode.as_str() {
                "smtp" => smtp_client(&args, t, &tally, deadline, max),
                _ => http_client(&args, &tally, deadline, max),
            };
            if let Err(e) = run {
                eprintln!("client {t}: {e:#}");
            }
        }));
    }
    for h in handles {
        let _ = h.join();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let ok = tally.ok.load(Ordering::Relaxed);
    let failed = tally.failed.load(Ordering::Relaxed);
    println!("RESULT mode={mode} ok={ok} failed={failed} secs={elapsed:.2} rate={:.0}", ok as f64 / elapsed);
    Ok(())
}

/// One HTTP client: its own agent, so its own kept-alive connection.
fn http_client(args: &[String], tally: &Tally, deadline: Instant, max: u64) -> Result<()> {
    let (url, token) = (&args[1], format!("Bearer {}", args[2]));
    let body = args.get(6).cloned().unwrap_or_default();
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    while Instant::now() < deadline && tally.claim(max) {
        let response = if args[0] == "post" {
            agent
                .post(url)
                .header("Authorization", &token)
                .header("Content-Type", "application/json")
                .send(body.as_bytes())
        } else {
            agent.get(url).header("Authorization", &token).call()
        };
        match response {
            Ok(mut r) => {
                let status = r.status().as_u16();
                // Reading the body to its end returns the connection to the pool.
                let text = r.body_mut().read_to_string().unwrap_or_default();
                if (200..300).contains(&status) {
                    tally.ok.fetch_add(1, Ordering::Relaxed);
                } else {
                    if tally.failed.fetch_add(1, Ordering::Relaxed) == 0 {
                        eprintln!("first failure: {status} {text}");
                    }
                }
            }
            Err(e) => {
                tally.failed.fetch_add(1, Ordering::Relaxed);
                eprintln!("request failed: {e}");
            }
        }
    }
    Ok(())
}

/// An SMTP session: the reply's code after reading every line of it.
fn reply(reader: &mut BufReader<TcpStream>) -> Result<u16> {
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            bail!("the server closed the connection");
        }
        let code = line.get(..3).and_then(|c| c.parse().ok()).context("not an SMTP reply")?;
        if line.as_bytes().get(3) != Some(&b'-') {
            return Ok(code);
        }
    }
}

fn command(reader: &mut BufReader<TcpStream>, line: &str, want: u16) -> Result<()> {
    reader.get_mut().write_all(line.as_bytes())?;
    let code = reply(reader)?;
    if code != want {
        bail!("{} answered {code}", line.trim_end());
    }
    Ok(())
}

fn plain(user: &str, password: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"))
}

/// One submission client on one SMTP session.
fn smtp_client(args: &[String], t: u64, tally: &Tally, deadline: Instant, max: u64) -> Result<()> {
    let (addr, user, password, rcpt) = (&args[1], &args[2], &args[3], &args[4]);
    let stream = TcpStream::connect(addr.as_str())?;
    stream.set_nodelay(true)?;
    let mut r = BufReader::new(stream);
    if reply(&mut r)? != 220 {
        bail!("no greeting");
    }
    command(&mut r, "EHLO load.test\r\n", 250)?;
    command(&mut r, &format!("AUTH PLAIN {}\r\n", plain(user, password)), 235)?;
    let mut n = 0;
    while Instant::now() < deadline && tally.claim(max) {
        n += 1;
        let message = format!(
            "From: {user}\r\nTo: {rcpt}\r\nSubject: load {t}-{n}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
             Load test message {t}-{n}, a short body like a Graph sendMail one.\r\n.\r\n"
        );
        let sent = command(&mut r, &format!("MAIL FROM:<{user}>\r\n"), 250)
            .and_then(|()| command(&mut r, &format!("RCPT TO:<{rcpt}>\r\n"), 250))
            .and_then(|()| command(&mut r, "DATA\r\n", 354))
            .and_then(|()| command(&mut r, &message, 250));
        match sent {
            Ok(()) => tally.ok.fetch_add(1, Ordering::Relaxed),
            Err(e) => {
                eprintln!("submission failed: {e:#}");
                tally.failed.fetch_add(1, Ordering::Relaxed);
                return Err(e);
            }
        };
    }
    let _ = command(&mut r, "QUIT\r\n", 221);
    Ok(())
}
