//! The DNS resolver that SPF, DKIM, DMARC and outbound delivery share.
//!
//! mail-auth consults a cache before every query, so the same cache type
//! serves two purposes: in [`MailResolver::system`] it remembers answers
//! until their TTL runs out; in [`MailResolver::in_memory`] it holds the only
//! records there are and answers "no such record" for everything else, so a
//! test never touches the network.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::resolver::ToFqdn;
use mail_auth::dkim::DomainKeyReport;
use mail_auth::dmarc::Dmarc;
use mail_auth::hickory_resolver::config::{ResolverConfig, ResolverOpts};
use mail_auth::hickory_resolver::proto::op::ResponseCode;
use mail_auth::hickory_resolver::system_conf::read_system_conf;
use mail_auth::spf::Spf;
use mail_auth::{DnsError, DnssecStatus, Error, MX, MessageAuthenticator, Parameters, RecordSet, ResolverCache, Txt};

use crate::MailAuthError;

/// Entries a system cache keeps before it starts over (a crude bound: a
/// busy server re-asks at most this many names once more).
const MAX_CACHED: usize = 10_000;

/// A DNS answer cache that mail-auth fills and reads.
pub(crate) struct Cache<K, V> {
    entries: Mutex<HashMap<K, (V, Option<Instant>)>>,
    /// What a lookup that is not cached returns: `Some` in memory mode (an
    /// empty or "not found" answer, so nothing reaches the network).
    miss: Option<V>,
}

impl<K: Hash + Eq, V: Clone> Cache<K, V> {
    fn new(miss: Option<V>) -> Self {
        Self { entries: Mutex::new(HashMap::new()), miss }
    }

    /// The map even when a panicking thread poisoned the lock: entries are
    /// whole values, never half-written.
    fn lock(&self) -> MutexGuard<'_, HashMap<K, (V, Option<Instant>)>> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a record that never expires (memory mode).
    fn put(&self, key: K, value: V) {
        self.lock().insert(key, (value, None));
    }

    fn peek<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.lock().get(key).map(|(v, _)| v.clone())
    }
}

impl<K: Hash + Eq, V: Clone> ResolverCache<K, V> for Cache<K, V> {
    fn get<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut entries = self.lock();
        match entries.get(name) {
            Some((_, Some(until))) if *until <= Instant::now() => {
                entries.remove(name);
                self.miss.clone()
            }
            Some((value, _)) => Some(value.clone()),
            None => self.miss.clone(),
        }
    }

    fn remove<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.lock().remove(name).map(|(v, _)| v)
    }

    fn insert(&self, key: K, value: V, valid_until: Instant) {
        let mut entries = self.lock();
        if entries.len() >= MAX_CACHED {
            entries.clear();
        }
        entries.insert(key, (value, Some(valid_until)));
    }
}

/// The five caches mail-auth takes.
pub(crate) struct Caches {
    pub(crate) txt: Cache<Box<str>, Txt>,
    pub(crate) mx: Cache<Box<str>, RecordSet<MX>>,
    pub(crate) ipv4: Cache<Box<str>, RecordSet<Ipv4Addr>>,
    pub(crate) ipv6: Cache<Box<str>, RecordSet<Ipv6Addr>>,
    pub(crate) ptr: Cache<IpAddr, RecordSet<Box<str>>>,
}

fn empty<T>() -> RecordSet<T> {
    RecordSet { rrset: Arc::from(Vec::new()), dnssec_status: DnssecStatus::Indeterminate }
}

impl Caches {
    fn system() -> Self {
        Self {
            txt: Cache::new(None),
            mx: Cache::new(None),
            ipv4: Cache::new(None),
            ipv6: Cache::new(None),
            ptr: Cache::new(None),
        }
    }

    /// Misses answer NXDOMAIN (TXT) or an empty record set. One consequence:
    /// SPF's rare `exists:` mechanism matches every name in memory mode.
    fn memory() -> Self {
        let not_found = Txt::Error(Error::Dns(DnsError::RecordNotFound(ResponseCode::NXDomain)));
        Self {
            txt: Cache::new(Some(not_found)),
            mx: Cache::new(Some(empty())),
            ipv4: Cache::new(Some(empty())),
            ipv6: Cache::new(Some(empty())),
            ptr: Cache::new(Some(empty())),
        }
    }
}

/// mail-auth's parameter bundle with all five caches attached.
pub(crate) type CachedParameters<'x, P> = Parameters<
    'x,
    P,
    Cache<Box<str>, Txt>,
    Cache<Box<str>, RecordSet<MX>>,
    Cache<Box<str>, RecordSet<Ipv4Addr>>,
    Cache<Box<str>, RecordSet<Ipv6Addr>>,
    Cache<IpAddr, RecordSet<Box<str>>>,
>;

struct Inner {
    authenticator: MessageAuthenticator,
    caches: Caches,
}

/// A DNS resolver for mail: TXT records for SPF/DKIM/DMARC, MX and address
/// records for delivery. Cheap to clone; clones share one cache.
#[derive(Clone)]
pub struct MailResolver {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for MailResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailResolver").finish_non_exhaustive()
    }
}

/// A resolver that knows no name server: every query that misses the cache
/// fails as a temporary error.
fn unconfigured() -> Result<MessageAuthenticator, MailAuthError> {
    MessageAuthenticator::new(ResolverConfig::from_parts(None, Vec::new(), Vec::new()), quick_options())
        .map_err(|e| MailAuthError::Resolver(e.to_string()))
}

fn quick_options() -> ResolverOpts {
    let mut opts = ResolverOpts::default();
    // mail-auth keeps its own cache; a second one in hickory would only hide TTLs.
    opts.cache_size = 0;
    opts.timeout = Duration::from_secs(5);
    opts.attempts = 2;
    opts
}

impl MailResolver {
    /// The name servers of `/etc/resolv.conf`. Without a usable one the
    /// resolver still works but every lookup is a temporary error (SPF and
    /// DMARC say `temperror`, deliveries wait and retry) and a warning is
    /// logged; it fails only when the DNS library cannot start at all.
    pub fn system() -> Result<Self, MailAuthError> {
        let authenticator = match read_system_conf() {
            Ok((config, mut opts)) if !config.name_servers().is_empty() => {
                opts.cache_size = 0;
                MessageAuthenticator::new(config, opts).map_err(|e| MailAuthError::Resolver(e.to_string()))?
            }
            Ok(_) => {
                tracing::warn!("resolv.conf names no name server; DNS lookups will fail until one is configured");
                unconfigured()?
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot read the system DNS configuration; DNS lookups will fail");
                unconfigured()?
            }
        };
        Ok(Self { inner: Arc::new(Inner { authenticator, caches: Caches::system() }) })
    }

    /// A resolver that serves only the records given to it with the `add_*`
    /// methods and answers "no such record" for any other name; it never
    /// sends a query (tests, and servers that must not use DNS).
    pub fn in_memory() -> Result<Self, MailAuthError> {
        Ok(Self { inner: Arc::new(Inner { authenticator: unconfigured()?, caches: Caches::memory() }) })
    }

    /// Publishes a TXT record (SPF `v=spf1`, DKIM key `v=DKIM1` or a name
    /// under `_domainkey`, DMARC `v=DMARC1`). One record per name: a second
    /// replaces the first.
    pub fn add_txt(&self, name: &str, value: &str) -> Result<(), MailAuthError> {
        let bytes = value.as_bytes();
        let lower = value.trim_start().to_ascii_lowercase();
        let parsed = |e: Error| MailAuthError::Record { name: name.to_owned(), reason: e.to_string() };
        let txt: Txt = if lower.starts_with("v=spf1") {
            Spf::parse(bytes).map_err(parsed)?.into()
        } else if lower.starts_with("v=dmarc1") {
            Dmarc::parse(bytes).map_err(parsed)?.into()
        } else if lower.starts_with("v=dkim1") || name.contains("._domainkey.") || name.ends_with("._domainkey") {
            if name.contains("._report._domainkey") {
                DomainKeyReport::parse(bytes).map_err(parsed)?.into()
            } else {
                mail_auth::common::verify::DomainKey::parse(bytes).map_err(parsed)?.into()
            }
        } else {
            return Err(MailAuthError::Record {
                name: name.to_owned(),
                reason: "not an SPF, DKIM or DMARC record".into(),
            });
        };
        self.inner.caches.txt.put(fqdn(name), txt);
        Ok(())
    }

    /// Publishes an MX record for `domain`; `host` `.` with preference 0 is a
    /// null MX (RFC 7505).
    pub fn add_mx(&self, domain: &str, preference: u16, host: &str) {
        let mx = &self.inner.caches.mx;
        let key = fqdn(domain);
        let mut records: Vec<MX> = mx.peek(&key).map(|r| r.rrset.to_vec()).unwrap_or_default();
        let host: Box<str> = fqdn(host);
        match records.iter_mut().find(|r| r.preference == preference) {
            Some(r) => {
                let mut hosts = r.exchanges.to_vec();
                hosts.push(host);
                r.exchanges = hosts.into_boxed_slice();
            }
            None => records.push(MX { exchanges: vec![host].into_boxed_slice(), preference }),
        }
        records.sort_by_key(|r| r.preference);
        mx.put(key, RecordSet { rrset: Arc::from(records), dnssec_status: DnssecStatus::Indeterminate });
    }

    /// Publishes an A or AAAA record for `name`.
    pub fn add_ip(&self, name: &str, ip: IpAddr) {
        fn push<T: Clone>(cache: &Cache<Box<str>, RecordSet<T>>, key: Box<str>, value: T) {
            let mut records = cache.peek(&key).map(|r| r.rrset.to_vec()).unwrap_or_default();
            records.push(value);
            cache.put(key, RecordSet { rrset: Arc::from(records), dnssec_status: DnssecStatus::Indeterminate });
        }
        match ip {
            IpAddr::V4(v4) => push(&self.inner.caches.ipv4, fqdn(name), v4),
            IpAddr::V6(v6) => push(&self.inner.caches.ipv6, fqdn(name), v6),
        }
    }

    /// `domain`'s mail exchangers by preference, each host without its
    /// trailing dot (`.` alone for a null MX). Empty when the domain has no
    /// MX record or does not exist; an error only when the answer is unknown
    /// (no server answered, SERVFAIL), which is worth retrying.
    pub async fn mx(&self, domain: &str) -> Result<Vec<(u16, String)>, MailAuthError> {
        match self.inner.authenticator.mx_lookup(domain, Some(&self.inner.caches.mx)).await {
            Ok(set) => Ok(set
                .rrset
                .iter()
                .flat_map(|mx| mx.exchanges.iter().map(move |h| (mx.preference, host_name(h))))
                .collect()),
            Err(err) => not_found_is_empty(domain, err),
        }
    }

    /// `host`'s IPv4 then IPv6 addresses; empty when it has none.
    pub async fn addresses(&self, host: &str) -> Result<Vec<IpAddr>, MailAuthError> {
        let caches = &self.inner.caches;
        let v4 = match self.inner.authenticator.ipv4_lookup(host, Some(&caches.ipv4)).await {
            Ok(set) => set.rrset.iter().map(|a| IpAddr::V4(*a)).collect(),
            Err(err) => not_found_is_empty(host, err)?,
        };
        let v6 = match self.inner.authenticator.ipv6_lookup(host, Some(&caches.ipv6)).await {
            Ok(set) => set.rrset.iter().map(|a| IpAddr::V6(*a)).collect(),
            // An IPv4-only host is the common case: only fail when IPv4 gave nothing either.
            Err(err) if v4.is_empty() => not_found_is_empty(host, err)?,
            Err(_) => Vec::new(),
        };
        Ok([v4, v6].concat())
    }

    pub(crate) fn authenticator(&self) -> &MessageAuthenticator {
        &self.inner.authenticator
    }

    /// mail-auth's parameters for `params`, wired to this resolver's caches.
    pub(crate) fn parameters<P>(&self, params: P) -> CachedParameters<'_, P> {
        let c = &self.inner.caches;
        Parameters::new(params)
            .with_txt_cache(&c.txt)
            .with_mx_cache(&c.mx)
            .with_ipv4_cache(&c.ipv4)
            .with_ipv6_cache(&c.ipv6)
            .with_ptr_cache(&c.ptr)
    }
}

fn fqdn(name: &str) -> Box<str> {
    name.to_fqdn().into_owned().into_boxed_str()
}

/// A host name as DNS gave it, without the root's dot (`.` stays `.`).
fn host_name(h: &str) -> String {
    match h.strip_suffix('.') {
        Some("") | None => h.to_owned(),
        Some(stripped) => stripped.to_owned(),
    }
}

fn not_found_is_empty<T>(name: &str, err: Error) -> Result<Vec<T>, MailAuthError> {
    match err {
        Error::Dns(DnsError::RecordNotFound(_)) => Ok(Vec::new()),
        other => Err(MailAuthError::Dns { name: name.to_owned(), reason: other.to_string() }),
    }
}
