//! Shared per-client bookkeeping: open connections per IP and recent AUTH
//! failures per IP. Small in-memory maps behind short-held locks.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Entries kept before stale ones are swept out.
const SWEEP_AT: usize = 4096;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The maps hold plain counters, valid even if a holder panicked.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Counts open connections, in total and per client IP.
#[derive(Debug)]
pub struct Connections {
    max_total: usize,
    max_per_ip: usize,
    state: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// One admitted connection; dropping it frees the slot.
#[derive(Debug)]
pub struct Slot {
    owner: Arc<Connections>,
    ip: IpAddr,
}

impl Connections {
    /// Limits of `max_total` connections and `max_per_ip` from one address.
    pub fn new(max_total: usize, max_per_ip: usize) -> Arc<Self> {
        Arc::new(Connections { max_total, max_per_ip, state: Mutex::new((0, HashMap::new())) })
    }

    /// Admits a connection from `ip`, or `None` when a limit is reached.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let mut state = lock(&self.state);
        let (total, per_ip) = &mut *state;
        let count = per_ip.entry(ip).or_insert(0);
        if *total >= self.max_total || *count >= self.max_per_ip {
            if *count == 0 {
                per_ip.remove(&ip);
            }
            return None;
        }
        *count += 1;
        *total += 1;
        Some(Slot { owner: Arc::clone(self), ip })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut state = lock(&self.owner.state);
        let (total, per_ip) = &mut *state;
        *total = total.saturating_sub(1);
        if let Some(count) = per_ip.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                per_ip.remove(&self.ip);
            }
        }
    }
}

/// Remembers AUTH failures per client IP within a time window.
#[derive(Debug)]
pub struct AuthFailures {
    limit: u32,
    window: Duration,
    state: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl AuthFailures {
    /// Locks an IP out after `limit` failures within `window` of its first one.
    pub fn new(limit: u32, window: Duration) -> Self {
        AuthFailures { limit, window, state: Mutex::new(HashMap::new()) }
    }

    /// True when `ip` has used up its failures in the current window.
    pub fn is_locked(&self, ip: IpAddr) -> bool {
        let state = lock(&self.state);
        state.get(&ip).is_some_and(|&(count, since)| since.elapsed() < self.window && count >= self.limit)
    }

    /// Records one failed AUTH from `ip`.
    pub fn record(&self, ip: IpAddr) {
        let mut state = lock(&self.state);
        if state.len() >= SWEEP_AT {
            state.retain(|_, (_, since)| since.elapsed() < self.window);
        }
        let entry = state.entry(ip).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= self.window {
            *entry = (0, Instant::now());
        }
        entry.0 = entry.0.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_slots_are_freed_on_drop() {
        let limits = Connections::new(2, 1);
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        let first = limits.admit(a);
        assert!(first.is_some());
        assert!(limits.admit(a).is_none(), "per-IP limit");
        let second = limits.admit(b);
        assert!(second.is_some());
        assert!(limits.admit([127, 0, 0, 3].into()).is_none(), "total limit");
        drop(first);
        assert!(limits.admit(a).is_some());
    }

    #[test]
    fn auth_failures_lock_after_the_limit_and_expire() {
        let ip: IpAddr = [10, 0, 0, 1].into();
        let failures = AuthFailures::new(2, Duration::from_secs(60));
        failures.record(ip);
        assert!(!failures.is_locked(ip));
        failures.record(ip);
        assert!(failures.is_locked(ip));
        let expired = AuthFailures::new(1, Duration::ZERO);
        expired.record(ip);
        assert!(!expired.is_locked(ip));
    }
}
