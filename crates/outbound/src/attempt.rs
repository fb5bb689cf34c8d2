//! One delivery attempt of one queued message: sign, split by destination,
//! deliver, then decide what the queue entry becomes (retry time, expiry)
//! and whether the sender gets a bounce.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use deputy_store::Delivery;
use deputy_types::{QueuedMessage, RecipientStatus};
use mail_parser::MessageParser;
use tokio::task::JoinSet;

use crate::Shared;
use crate::deliver::{self, Decided, Envelope, Outcome};
use crate::dsn::{self, FailedRecipient, Original};

/// Makes one attempt at every pending recipient of `msg` and returns the
/// entry as it should be stored, with the bounce to store alongside.
pub(crate) async fn attempt(shared: &Arc<Shared>, mut msg: QueuedMessage) -> (QueuedMessage, Option<Delivery>) {
    let body = match shared.store.body(msg.blob).await {
        Ok(Some(body)) => body,
        Ok(None) => {
            // Nothing can ever be sent: say so rather than retry forever.
            let reply = "554 5.3.0 The message's content is missing from the queue".to_owned();
            let decided = pending(&msg)
                .map(|(index, _)| Decided { index, outcome: Outcome::Failed(reply.clone()), remote: None })
                .collect();
            return settle(shared, msg, decided, &[]);
        }
        Err(e) => {
            let reply = format!("451 4.3.0 The message store is unavailable: {e}");
            let decided = pending(&msg)
                .map(|(index, _)| Decided { index, outcome: Outcome::Deferred(reply.clone()), remote: None })
                .collect();
            return settle(shared, msg, decided, &[]);
        }
    };
    let message = Arc::new(signed(shared, body));

    let mut decided = Vec::new();
    let mut groups: BTreeMap<String, Vec<(usize, String)>> = BTreeMap::new();
    for (index, address) in pending(&msg) {
        match destination(shared, address) {
            Ok(key) => groups.entry(key).or_default().push((index, address.to_owned())),
            Err(reply) => decided.push(Decided { index, outcome: Outcome::Failed(reply), remote: None }),
        }
    }

    // Destinations are independent: a slow one must not hold up the others.
    let mut tasks = JoinSet::new();
    for (domain, recipients) in groups {
        let (shared, message, mail_from) = (shared.clone(), message.clone(), msg.mail_from.clone());
        tasks.spawn(async move {
            let env = Envelope { mail_from: &mail_from, recipients, message: &message };
            deliver::deliver(&shared, &domain, &env).await
        });
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(outcomes) => decided.extend(outcomes),
            // Its recipients stay pending and are tried again.
            Err(e) => tracing::error!(queue_id = msg.id.0, error = %e, "a delivery task failed"),
        }
    }
    msg.attempts = msg.attempts.saturating_add(1);
    let original = message.as_slice().to_vec();
    settle(shared, msg, decided, &original)
}

fn pending(msg: &QueuedMessage) -> impl Iterator<Item = (usize, &str)> {
    msg.recipients
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r.status, RecipientStatus::Pending { .. }))
        .map(|(i, r)| (i, r.address.as_str()))
}

/// The group a recipient is delivered with: everything goes together to a
/// smarthost; otherwise one transaction per domain.
fn destination(shared: &Shared, address: &str) -> Result<String, String> {
    let domain = address.rsplit_once('@').map(|(_, d)| d).filter(|d| !d.is_empty());
    let clean = !address.bytes().any(|b| b.is_ascii_control() || matches!(b, b'<' | b'>' | b' '));
    let (Some(domain), true) = (domain, clean) else {
        return Err(format!("553 5.1.3 {address:?} is not a valid address"));
    };
    if shared.config.relay_host.is_some() { Ok(String::new()) } else { Ok(domain.to_ascii_lowercase()) }
}

/// The message as it leaves: DKIM-signed when its author domain is ours
/// and a key is configured. A signing failure sends it unsigned (better
/// than not at all) and is logged.
fn signed(shared: &Shared, body: Vec<u8>) -> Vec<u8> {
    let Some(signer) = &shared.signer else { return body };
    let domain = MessageParser::new()
        .parse_headers(&body)
        .and_then(|m| m.from().and_then(|a| a.first()).and_then(|a| a.address()).map(str::to_owned))
        .and_then(|from| from.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()));
    let Some(domain) = domain.filter(|d| shared.notices.is_local_domain(d)) else { return body };
    match signer.sign(&domain, &body) {
        Ok(mut signature) => {
            signature.extend_from_slice(&body);
            signature
        }
        Err(e) => {
            tracing::warn!(%domain, error = %e, "DKIM signing failed; sending unsigned");
            body
        }
    }
}

/// Applies the outcomes to `msg`, expires what waited too long, schedules
/// the next attempt and builds the bounce for recipients that failed now.
fn settle(
    shared: &Shared,
    mut msg: QueuedMessage,
    decided: Vec<Decided>,
    original: &[u8],
) -> (QueuedMessage, Option<Delivery>) {
    let config = &shared.config;
    let now = Utc::now();
    let mut failed = Vec::new();
    for d in decided {
        let Some(rcpt) = msg.recipients.get_mut(d.index) else { continue };
        rcpt.status = match d.outcome {
            Outcome::Delivered(reply) => {
                tracing::info!(queue_id = msg.id.0, to = %rcpt.address, remote = ?d.remote, %reply, "delivered");
                RecipientStatus::Delivered { reply }
            }
            Outcome::Failed(reply) => {
                tracing::info!(queue_id = msg.id.0, to = %rcpt.address, remote = ?d.remote, %reply, "failed");
                failed.push(FailedRecipient { address: rcpt.address.clone(), reply: reply.clone(), remote: d.remote });
                RecipientStatus::Failed { reply }
            }
            Outcome::Deferred(reply) => {
                tracing::info!(queue_id = msg.id.0, to = %rcpt.address, %reply, "deferred");
                RecipientStatus::Pending { last_error: Some(reply) }
            }
        };
    }

    let age = (now - msg.queued_at).to_std().unwrap_or_default();
    if age >= config.give_up_after {
        for rcpt in &mut msg.recipients {
            if let RecipientStatus::Pending { last_error } = &rcpt.status {
                let reply = format!(
                    "550 4.4.7 Message expired: not delivered within {}; last error: {}",
                    human(config.give_up_after),
                    last_error.as_deref().unwrap_or("none")
                );
                failed.push(FailedRecipient { address: rcpt.address.clone(), reply: reply.clone(), remote: None });
                rcpt.status = RecipientStatus::Failed { reply };
            }
        }
    }
    let delay = config.backoff.delay(msg.attempts.max(1));
    msg.next_attempt = now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);

    let notice = bounce(shared, &msg, &failed, original);
    (msg, notice)
}

/// RFC 5321 §4.5.5 / §6.1: a sender hears of every failure, except the
/// null sender (a bounce is never bounced).
fn bounce(shared: &Shared, msg: &QueuedMessage, failed: &[FailedRecipient], original: &[u8]) -> Option<Delivery> {
    if failed.is_empty() || msg.mail_from.is_empty() {
        return None;
    }
    let config = &shared.config;
    let from_domain = if config.hostname.contains('.') {
        config.hostname.clone()
    } else {
        shared.notices.primary_domain().unwrap_or_else(|| config.hostname.clone())
    };
    let original = Original { raw: original, arrival: msg.queued_at };
    match dsn::build(&config.hostname, &from_domain, &msg.mail_from, &original, failed) {
        Ok(raw) => {
            let notice = shared.notices.notice_delivery(&msg.mail_from, raw);
            if notice.is_none() {
                tracing::info!(queue_id = msg.id.0, to = %msg.mail_from, "no one to send the bounce to");
            }
            notice
        }
        Err(e) => {
            tracing::error!(queue_id = msg.id.0, error = %e, "could not build the bounce");
            None
        }
    }
}

/// `5 days`, `2 hours`, `90 seconds`: how long, for a person.
fn human(d: Duration) -> String {
    let s = d.as_secs();
    let (n, unit) = match s {
        _ if s >= 86_400 && s.is_multiple_of(86_400) => (s / 86_400, "day"),
        _ if s >= 3_600 && s.is_multiple_of(3_600) => (s / 3_600, "hour"),
        _ if s >= 60 && s.is_multiple_of(60) => (s / 60, "minute"),
        _ => (s, "second"),
    };
    if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") }
}

#[cfg(test)]
mod tests {
    use super::human;
    use std::time::Duration;

    #[test]
    fn durations_read_as_a_person_says_them() {
        assert_eq!(human(Duration::from_secs(5 * 86_400)), "5 days");
        assert_eq!(human(Duration::from_secs(3_600)), "1 hour");
        assert_eq!(human(Duration::from_secs(90)), "90 seconds");
        assert_eq!(human(Duration::from_millis(500)), "0 seconds");
    }
}
