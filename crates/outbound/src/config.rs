//! How the worker behaves: next hop, retry schedule, limits and timeouts.

use std::time::Duration;

use rand::Rng;

/// The outbound worker's settings. [`Config::new`] gives Postfix-like
/// defaults; tests shrink the durations to milliseconds.
#[derive(Debug, Clone)]
pub struct Config {
    /// The name Deputy gives in `EHLO` and `Reporting-MTA:`.
    pub hostname: String,
    /// A smarthost that takes all remote mail (`--relay-host`); `None` to
    /// look up each domain's MX records.
    pub relay_host: Option<(String, u16)>,
    /// The port of mail exchangers found through MX records (25; tests
    /// point MX records at loopback sinks on other ports).
    pub mx_port: u16,
    /// How long a recipient may stay pending before it fails with 4.4.7
    /// (Postfix's `maximal_queue_lifetime`, 5 days).
    pub give_up_after: Duration,
    /// The retry schedule after a temporary failure.
    pub backoff: Backoff,
    /// Messages delivered at the same time.
    pub concurrency: usize,
    /// How often the queue is read when nobody wakes the worker.
    pub poll_interval: Duration,
    /// Limit on opening a TCP connection.
    pub connect_timeout: Duration,
    /// Limit on each reply: greeting, EHLO, STARTTLS, MAIL, RCPT, DATA
    /// (RFC 5321 §4.5.3.2 suggests 5 minutes).
    pub command_timeout: Duration,
    /// Limit on sending the message and reading the reply to its final dot
    /// (RFC 5321 §4.5.3.2: 10 minutes for the reply).
    pub data_timeout: Duration,
    /// Whether to use STARTTLS when the server offers it.
    pub starttls: bool,
    /// Mail exchangers tried per domain and attempt.
    pub max_mx_hosts: usize,
    /// How long shutdown waits for deliveries under way before abandoning
    /// them (they are retried later; the next hop may then see a duplicate).
    pub shutdown_grace: Duration,
}

impl Config {
    /// Defaults for a server named `hostname` delivering through MX records.
    pub fn new(hostname: impl Into<String>) -> Self {
        Self {
            hostname: hostname.into(),
            relay_host: None,
            mx_port: 25,
            give_up_after: Duration::from_secs(5 * 24 * 3600),
            backoff: Backoff::default(),
            concurrency: 20,
            poll_interval: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(30),
            command_timeout: Duration::from_secs(300),
            data_timeout: Duration::from_secs(600),
            starttls: true,
            max_mx_hosts: 5,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Exponential backoff with jitter: `initial`, doubling after each failed
/// attempt up to `max`, each delay spread by ±`jitter` (a fraction) so that
/// messages deferred together do not all come back at once.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// The delay after the first failed attempt.
    pub initial: Duration,
    /// The longest delay.
    pub max: Duration,
    /// The spread, between 0 and 1 (0.2 = ±20 %).
    pub jitter: f64,
}

impl Default for Backoff {
    /// 1 minute, doubling to 1 hour, ±20 %.
    fn default() -> Self {
        Self { initial: Duration::from_secs(60), max: Duration::from_secs(3600), jitter: 0.2 }
    }
}

impl Backoff {
    /// The delay before the next attempt once `attempts` attempts have failed.
    pub fn delay(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        let base = self.initial.saturating_mul(1u32 << doublings).min(self.max);
        let jitter = self.jitter.clamp(0.0, 1.0);
        if jitter == 0.0 {
            return base;
        }
        let factor = rand::rng().random_range((1.0 - jitter)..=(1.0 + jitter));
        base.mul_f64(factor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let b = Backoff { initial: Duration::from_secs(60), max: Duration::from_secs(3600), jitter: 0.0 };
        let delays: Vec<u64> = (1..=8).map(|n| b.delay(n).as_secs()).collect();
        assert_eq!(delays, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(b.delay(u32::MAX).as_secs(), 3600, "no overflow however many attempts");
    }

    #[test]
    fn jitter_stays_within_its_spread() {
        let b = Backoff::default();
        for _ in 0..100 {
            let d = b.delay(1).as_secs_f64();
            assert!((48.0..=72.0).contains(&d), "{d}");
        }
    }

    #[test]
    fn defaults_follow_postfix() {
        let c = Config::new("mx.example");
        assert_eq!(c.give_up_after, Duration::from_secs(5 * 86_400));
        assert_eq!(c.concurrency, 20);
        assert_eq!(c.mx_port, 25);
        assert!(c.relay_host.is_none() && c.starttls);
    }
}
