//! A minimal SMTP server that accepts everything and remembers it: the
//! "external" world behind `--relay-host`.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One message the sink accepted.
#[derive(Debug, Clone)]
pub struct Received {
    /// The client's `EHLO`/`HELO` name (which node delivered it).
    pub helo: String,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub data: String,
}

impl Received {
    /// The first header field named `name` (unfolded), if any.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or_default();
        let mut found: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(value) = found.as_mut() {
                if line.starts_with([' ', '\t']) {
                    value.push_str(line);
                    continue;
                }
                break;
            }
            if let Some((n, v)) = line.split_once(':')
                && n.eq_ignore_ascii_case(name)
            {
                found = Some(v.trim().to_owned());
            }
        }
        found
    }
}

/// The sink, listening on a loopback port until dropped with the test.
pub struct Sink {
    pub addr: SocketAddr,
    messages: Arc<Mutex<Vec<Received>>>,
}

impl Sink {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the sink");
        let addr = listener.local_addr().expect("sink address");
        let messages = Arc::new(Mutex::new(Vec::new()));
        let store = messages.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let store = store.clone();
                std::thread::spawn(move || {
                    let _ = session(stream, &store);
                });
            }
        });
        Self { addr, messages }
    }

    /// `--relay-host` value.
    pub fn relay_flag(&self) -> String {
        self.addr.to_string()
    }

    pub fn messages(&self) -> Vec<Received> {
        self.messages.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// Waits until at least `n` messages arrived (the outbound queue is asynchronous).
    #[track_caller]
    pub fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            assert!(Instant::now() < deadline, "the sink got {} of {n} messages", got.len());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn session(stream: TcpStream, store: &Mutex<Vec<Received>>) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut input = BufReader::new(stream);
    out.write_all(b"220 sink.test ESMTP\r\n")?;
    let (mut helo, mut from, mut rcpts) = (String::new(), String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let upper = line.to_ascii_uppercase();
        let addr = |l: &str| l.split_once('<').and_then(|(_, r)| r.split_once('>')).map(|(a, _)| a.to_owned());
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            helo = line.get(5..).unwrap_or_default().trim().to_owned();
            out.write_all(b"250-sink.test\r\n250-8BITMIME\r\n250 PIPELINING\r\n")?;
        } else if upper.starts_with("MAIL FROM") {
            from = addr(&line).unwrap_or_default();
            rcpts.clear();
            out.write_all(b"250 2.1.0 Ok\r\n")?;
        } else if upper.starts_with("RCPT TO") {
            rcpts.push(addr(&line).unwrap_or_default());
            out.write_all(b"250 2.1.5 Ok\r\n")?;
        } else if upper.starts_with("DATA") {
            out.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")?;
            let mut data = String::new();
            loop {
                line.clear();
                if input.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            if let Ok(mut m) = store.lock() {
                m.push(Received { helo: helo.clone(), mail_from: from.clone(), rcpt_to: rcpts.clone(), data });
            }
            out.write_all(b"250 2.0.0 Ok: queued\r\n")?;
        } else if upper.starts_with("QUIT") {
            out.write_all(b"221 2.0.0 Bye\r\n")?;
            return Ok(());
        } else {
            out.write_all(b"250 2.0.0 Ok\r\n")?;
        }
    }
}
