//! Test scaffolding: an in-memory store, an SMTP sink, notices for a
//! pretend organization, and a worker started with millisecond timings.

#![allow(dead_code, reason = "each test file uses its own part of the scaffolding")]

pub mod mem_store;
pub mod sink;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use deputy_mailauth::{DkimSigner, MailResolver};
use deputy_outbound::{Backoff, Config, Notices, Waker};
use deputy_store::{Delivery, MailStore, NewEntry, NewOutbound};
use deputy_types::{FolderId, MessageFlags};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The organization's domain in these tests.
pub const LOCAL: &str = "contoso.test";

/// The folder a local notice is filed in.
pub const INBOX: FolderId = FolderId::from_u128(1);

/// Notices for an organization owning [`LOCAL`]: a bounce to a local
/// sender goes to [`INBOX`], to anyone else it is queued with the null sender.
pub struct TestNotices;

impl Notices for TestNotices {
    fn notice_delivery(&self, to: &str, raw: Vec<u8>) -> Option<Delivery> {
        if to.is_empty() {
            return None;
        }
        let local = self.is_local_domain(to.rsplit_once('@').map_or("", |(_, d)| d));
        Some(Delivery {
            raw,
            received: Utc::now(),
            message_id: None,
            entries: if local {
                vec![NewEntry { folder: INBOX, flags: MessageFlags::empty(), creator: None }]
            } else {
                Vec::new()
            },
            outbound: (!local).then(|| NewOutbound { mail_from: String::new(), recipients: vec![to.to_owned()] }),
        })
    }

    fn is_local_domain(&self, domain: &str) -> bool {
        domain.eq_ignore_ascii_case(LOCAL)
    }

    fn primary_domain(&self) -> Option<String> {
        Some(LOCAL.to_owned())
    }
}

/// Timings for tests: retries after 50 ms, doubling to 400 ms, no jitter.
pub fn fast_config(relay_port: Option<u16>) -> Config {
    let mut config = Config::new("mx.deputy.test");
    config.relay_host = relay_port.map(|p| ("127.0.0.1".to_owned(), p));
    config.backoff = Backoff { initial: Duration::from_millis(50), max: Duration::from_millis(400), jitter: 0.0 };
    config.poll_interval = Duration::from_millis(20);
    config.connect_timeout = Duration::from_secs(2);
    config.command_timeout = Duration::from_secs(3);
    config.data_timeout = Duration::from_secs(3);
    config.shutdown_grace = Duration::from_secs(2);
    config
}

/// A worker running in the background.
pub struct Running {
    pub waker: Waker,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Running {
    /// Stops the worker and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), &mut self.task).await.unwrap().unwrap();
    }
}

/// Starts the worker.
pub fn start(
    config: Config,
    store: Arc<dyn MailStore>,
    signer: Option<Arc<DkimSigner>>,
    resolver: Option<MailResolver>,
) -> Running {
    let waker = Waker::new();
    let (stop, stopped) = oneshot::channel::<()>();
    let resolver = resolver.unwrap_or_else(|| MailResolver::in_memory().unwrap());
    let w = waker.clone();
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        deputy_outbound::run(config, store, Arc::new(TestNotices), signer, resolver, w, shutdown).await;
    });
    Running { waker, stop: Some(stop), task }
}

/// Waits up to 10 s for `check` to hold.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < Duration::from_secs(10), "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A plain message from `from`.
pub fn message(from: &str, subject: &str) -> Vec<u8> {
    format!(
        "From: Alice <{from}>\r\nTo: bob@example.org\r\nSubject: {subject}\r\nDate: Tue, 1 Jul 2025 10:00:00 +0000\r\n\
         Message-ID: <{}@contoso.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nHello Bob.\r\n.Leading dot line\r\n",
        uuid::Uuid::new_v4().simple()
    )
    .into_bytes()
}
