//! The connection's byte layer: one read buffer the session parses in place,
//! one write buffer of pending replies flushed with a single write before the
//! engine blocks for input (RFC 2920), idle timeouts, the shutdown signal, and
//! the switch to TLS.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use memchr::memchr;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::command::MAX_COMMAND_LINE;
use crate::reply::{Canned, render};

/// Read buffer size: several pipelined 4 KiB messages per read.
const READ_BUFFER: usize = 64 * 1024;

/// Why the engine stopped reading.
#[derive(Debug)]
pub enum Stop {
    /// The client closed the connection.
    Eof,
    /// Nothing arrived within the idle timeout.
    Timeout,
    /// The server is shutting down.
    Shutdown,
    /// The socket failed.
    Io(io::Error),
}

impl From<io::Error> for Stop {
    fn from(error: io::Error) -> Self {
        Stop::Io(error)
    }
}

/// The plain stream, or the same stream inside TLS after STARTTLS.
pub enum Stream<S> {
    /// Before STARTTLS.
    Plain(S),
    /// After STARTTLS.
    Tls(Box<TlsStream<S>>),
    /// Only while the handshake owns the stream.
    Gone,
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "stream taken by TLS handshake")
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Stream<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Stream::Gone => Poll::Ready(Err(gone())),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Stream<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Stream::Gone => Poll::Ready(Err(gone())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Stream::Gone => Poll::Ready(Err(gone())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Stream::Gone => Poll::Ready(Ok(())),
        }
    }
}

/// A framed command line, or the notice that one was too long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    /// A line of this many octets (LF included) is at the front of the buffer.
    Ready(usize),
    /// A line went over the limit; it has been (or is being) discarded.
    TooLong,
}

/// The buffered connection.
pub struct Conn<S> {
    stream: Stream<S>,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    out: Vec<u8>,
    timeout: Duration,
    shutdown: watch::Receiver<bool>,
    /// Discarding the rest of an over-long command line.
    discarding: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    /// Wraps a plain stream.
    pub fn new(stream: S, timeout: Duration, shutdown: watch::Receiver<bool>) -> Self {
        Conn {
            stream: Stream::Plain(stream),
            buf: vec![0; READ_BUFFER].into_boxed_slice(),
            start: 0,
            end: 0,
            out: Vec::with_capacity(1024),
            timeout,
            shutdown,
            discarding: false,
        }
    }

    /// True after STARTTLS.
    pub fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }

    /// Octets received and not yet consumed.
    pub fn buffered(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Marks `n` buffered octets as consumed.
    pub fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Queues one of the engine's own replies.
    pub fn canned(&mut self, reply: Canned) {
        let (code, status, text) = reply.parts();
        render(&mut self.out, code, status, text);
    }

    /// Queues a reply.
    pub fn reply(&mut self, code: u16, status: &str, text: &str) {
        render(&mut self.out, code, status, text);
    }

    /// The output buffer, for multi-line replies.
    pub fn out(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }

    /// Writes the queued replies in one write.
    pub async fn flush(&mut self) -> Result<(), Stop> {
        if self.out.is_empty() {
            return Ok(());
        }
        let write = async {
            self.stream.write_all(&self.out).await?;
            self.stream.flush().await
        };
        match tokio::time::timeout(self.timeout, write).await {
            Ok(result) => result?,
            Err(_) => return Err(Stop::Timeout),
        }
        self.out.clear();
        Ok(())
    }

    /// Flushes replies, then reads more input. `interruptible` lets the
    /// shutdown signal end the wait (not while a message is being received).
    pub async fn fill(&mut self, interruptible: bool) -> Result<(), Stop> {
        self.flush().await?;
        if self.start > 0 && self.end == self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            // Callers consume before they fill, so this is unreachable; refuse rather than spin.
            return Err(Stop::Io(io::Error::other("read buffer full")));
        }
        let mut shutdown = self.shutdown.clone();
        let stopping = async move {
            if !interruptible || shutdown.wait_for(|stop| *stop).await.is_err() {
                // Not interruptible, or the server is gone and cannot signal: never fires.
                std::future::pending::<()>().await;
            }
        };
        let read = tokio::time::timeout(self.timeout, self.stream.read(&mut self.buf[self.end..]));
        tokio::select! {
            biased;
            () = stopping => Err(Stop::Shutdown),
            result = read => match result {
                Err(_) => Err(Stop::Timeout),
                Ok(Ok(0)) => Err(Stop::Eof),
                Ok(Ok(n)) => {
                    self.end += n;
                    Ok(())
                }
                Ok(Err(error)) => Err(Stop::Io(error)),
            },
        }
    }

    /// Frames the next command line, reading as needed; `interruptible` as for `fill`.
    pub async fn next_line(&mut self, interruptible: bool) -> Result<Line, Stop> {
        loop {
            let buffered = self.buffered();
            match memchr(b'\n', buffered) {
                Some(p) if self.discarding => {
                    self.consume(p + 1);
                    self.discarding = false;
                }
                Some(p) if p + 1 > MAX_COMMAND_LINE => {
                    self.consume(p + 1);
                    return Ok(Line::TooLong);
                }
                Some(p) => return Ok(Line::Ready(p + 1)),
                None if self.discarding => {
                    let n = buffered.len();
                    self.consume(n);
                }
                None if buffered.len() >= MAX_COMMAND_LINE => {
                    let n = buffered.len();
                    self.consume(n);
                    self.discarding = true;
                    return Ok(Line::TooLong);
                }
                None => {}
            }
            self.fill(interruptible).await?;
        }
    }

    /// Reads the next input for a message body (not interrupted by shutdown).
    pub async fn fill_body(&mut self) -> Result<(), Stop> {
        self.fill(false).await
    }

    /// Replaces the plain stream with TLS. Input buffered before the
    /// handshake is dropped: plaintext pipelined after STARTTLS must never be
    /// read as if it came over TLS (CVE-2011-0411).
    pub async fn start_tls(&mut self, acceptor: &TlsAcceptor) -> Result<(), Stop> {
        self.flush().await?;
        self.start = 0;
        self.end = 0;
        self.discarding = false;
        let Stream::Plain(plain) = std::mem::replace(&mut self.stream, Stream::Gone) else {
            return Err(Stop::Io(gone()));
        };
        match tokio::time::timeout(self.timeout, acceptor.accept(plain)).await {
            Ok(Ok(tls)) => {
                self.stream = Stream::Tls(Box::new(tls));
                Ok(())
            }
            Ok(Err(error)) => Err(Stop::Io(error)),
            Err(_) => Err(Stop::Timeout),
        }
    }

    /// Sends what is queued and closes the connection.
    pub async fn close(&mut self) {
        if self.flush().await.is_ok() {
            let _ = tokio::time::timeout(self.timeout, self.stream.shutdown()).await;
        }
    }
}
