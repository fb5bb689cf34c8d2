//! Where mail for a domain goes: the smarthost, or the domain's mail
//! exchangers by preference (RFC 5321 §5.1), or the domain itself when it
//! has no MX record; a null MX (RFC 7505) refuses mail for good.

use std::net::{IpAddr, SocketAddr};

use deputy_mailauth::MailResolver;
use rand::seq::SliceRandom;

use crate::Config;
use crate::client::Reply;

/// A host to try, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hop {
    pub(crate) host: String,
    pub(crate) port: u16,
    /// Found through the domain's MX records or its own name (DNS), rather
    /// than configured (the system resolver, which also reads /etc/hosts).
    pub(crate) via_dns: bool,
    /// The domain's own name used as an implicit MX: no address means the
    /// domain cannot receive mail at all.
    pub(crate) implicit: bool,
}

/// The next hops for a domain, or why there are none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Hops(Vec<Hop>),
    /// No server will ever take this mail.
    Failed(Reply),
    /// The answer is unknown for now (DNS failure).
    Deferred(Reply),
}

pub(crate) async fn route(config: &Config, resolver: &MailResolver, domain: &str) -> Route {
    if let Some((host, port)) = &config.relay_host {
        return Route::Hops(vec![Hop { host: host.clone(), port: *port, via_dns: false, implicit: false }]);
    }
    let mx = match resolver.mx(domain).await {
        Ok(mx) => mx,
        Err(e) => return Route::Deferred(Reply::local(451, format!("4.4.3 {e}"))),
    };
    if mx.iter().any(|(_, host)| host == ".") {
        return Route::Failed(Reply::local(556, format!("5.1.10 {domain} does not accept mail (null MX)")));
    }
    if mx.is_empty() {
        return Route::Hops(vec![Hop { host: domain.to_owned(), port: config.mx_port, via_dns: true, implicit: true }]);
    }
    Route::Hops(
        by_preference(mx)
            .into_iter()
            .take(config.max_mx_hosts.max(1))
            .map(|host| Hop { host, port: config.mx_port, via_dns: true, implicit: false })
            .collect(),
    )
}

/// Hosts in preference order, shuffled among equal preferences to spread
/// the load (RFC 5321 §5.1).
fn by_preference(mut mx: Vec<(u16, String)>) -> Vec<String> {
    mx.sort_by_key(|(p, _)| *p);
    let mut out = Vec::with_capacity(mx.len());
    let mut rng = rand::rng();
    for group in mx.chunk_by(|a, b| a.0 == b.0) {
        let mut hosts: Vec<String> = group.iter().map(|(_, h)| h.clone()).collect();
        hosts.shuffle(&mut rng);
        for h in hosts {
            if !out.contains(&h) {
                out.push(h);
            }
        }
    }
    out
}

/// A hop's socket addresses (an address literal, `[…]` or bare, is used as is).
pub(crate) async fn addresses(resolver: &MailResolver, hop: &Hop) -> Result<Vec<SocketAddr>, String> {
    let literal = hop.host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = literal.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, hop.port)]);
    }
    if hop.via_dns {
        let ips = resolver.addresses(&hop.host).await.map_err(|e| e.to_string())?;
        return Ok(ips.into_iter().map(|ip| SocketAddr::new(ip, hop.port)).collect());
    }
    match tokio::net::lookup_host((hop.host.as_str(), hop.port)).await {
        Ok(addrs) => Ok(addrs.collect()),
        Err(e) => Err(format!("cannot resolve {}: {e}", hop.host)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_preference_comes_first_and_duplicates_go() {
        let hosts = by_preference(vec![(20, "b".into()), (10, "a".into()), (20, "a".into())]);
        assert_eq!(hosts, ["a", "b"]);
    }
}
