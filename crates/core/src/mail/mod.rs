//! Mail flow: the one submission pipeline every door shares (spec §4), and
//! local delivery with group expansion (spec §6).
//!
//! A door parses its protocol and hands the core a principal, an envelope and
//! the raw message. The core decides under one consistent read of the state,
//! edits only the header fields the rules require, and stores the body once
//! with every local copy and the queue entry in one durable commit.

mod headers;
pub mod rules;

use chrono::Utc;
use deputy_access::SendMode;
use deputy_store::{Delivery, NewEntry, NewOutbound, StoreError, Stored};
use deputy_types::{FolderCounts, FolderId, MessageFlags, RecipientId, WellKnownFolder};
use rustc_hash::FxHashSet;

pub use headers::{HeaderFacts, address_field, inspect};
pub use rules::{Authoring, SendDenied};

use crate::Deputy;
use crate::calendar::meetings::{self, Meeting};
use crate::state::State;

/// How long a folder remembers a delivered message's `Message-ID` for
/// duplicate detection (see `Deputy::store_one`).
pub const DUPLICATE_WINDOW_MINUTES: i64 = 10;

/// Where mail for an address goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// A recipient of this organization.
    Local,
    /// An accepted domain, but nobody has this address (`550 5.1.1`).
    Unknown,
    /// Another organization's domain.
    Remote,
}

/// A message a signed-in principal sends.
#[derive(Debug, Clone)]
pub struct Submission {
    /// Who is sending.
    pub principal: RecipientId,
    /// The envelope sender the client gave (`MAIL FROM`), possibly empty.
    pub mail_from: String,
    /// The envelope recipients.
    pub recipients: Vec<String>,
    /// The message as the client sent it.
    pub raw: Vec<u8>,
    /// Trace fields the door prepends (e.g. `Received:`), each ending CRLF.
    pub trace: Vec<u8>,
    /// Whose Sent Items the request saves to: the principal, or (Graph
    /// `/users/{A}/sendMail`) the mailbox it acts in.
    pub saver: RecipientId,
    /// False for Graph `saveToSentItems: false`.
    pub save_to_sent_items: bool,
}

/// What a submission did.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// How the author address was used.
    pub authoring: Authoring,
    /// Where the body and its copies went.
    pub stored: Stored,
    /// Local mailboxes that received it.
    pub delivered: usize,
    /// Remote recipients queued.
    pub queued: usize,
}

/// A message arriving from another server (or a door acting as one).
#[derive(Debug, Clone)]
pub struct Inbound {
    /// `MAIL FROM`.
    pub mail_from: String,
    /// The accepted local recipients.
    pub recipients: Vec<String>,
    /// The message as received.
    pub raw: Vec<u8>,
    /// Trace fields to prepend (`Return-Path`, `Received`, `Authentication-Results`), each ending CRLF.
    pub trace: Vec<u8>,
}

/// Why mail was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// Spec §4.1 step 4.
    #[error("{} does not have permission to send as {}", .0.principal, .0.address)]
    Denied(SendDenied),
    /// No recipient is left to deliver to.
    #[error("no valid recipients")]
    NoRecipients,
    /// The store failed; nothing was acknowledged.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Local copies and remote recipients for a set of envelope recipients.
#[derive(Debug, Default)]
struct Targets {
    inboxes: Vec<(RecipientId, FolderId)>,
    remote: Vec<String>,
}

impl Targets {
    fn is_empty(&self) -> bool {
        self.inboxes.is_empty() && self.remote.is_empty()
    }

    /// Mail from outside (or from the system): unread in each Inbox, the rest
    /// queued with `mail_from` as envelope sender.
    fn into_delivery(self, raw: Vec<u8>, message_id: Option<String>, mail_from: String) -> Delivery {
        let entries = self
            .inboxes
            .iter()
            .map(|&(_, folder)| NewEntry { folder, flags: MessageFlags::empty(), creator: None })
            .collect();
        let outbound = (!self.remote.is_empty()).then_some(NewOutbound { mail_from, recipients: self.remote });
        Delivery { raw, received: crate::now(), message_id, entries, outbound }
    }
}

/// A meeting message's routing (spec §10): whose calendars it addresses,
/// and the informational copy some of them get instead of the message.
#[derive(Debug)]
struct Routed {
    principals: Vec<RecipientId>,
    info_targets: Vec<(RecipientId, FolderId)>,
    info: Option<Delivery>,
}

impl Routed {
    /// Builds the informational copy's delivery from the message as stored.
    fn with_copy(mut self, raw: &[u8], message_id: Option<String>) -> Self {
        if !self.info_targets.is_empty() {
            let entries = self
                .info_targets
                .iter()
                .map(|&(_, folder)| NewEntry { folder, flags: MessageFlags::empty(), creator: None })
                .collect();
            let raw = meetings::informational_copy(raw);
            self.info = Some(Delivery { raw, received: crate::now(), message_id, entries, outbound: None });
        }
        self
    }
}

impl Targets {
    /// Applies §10 to the local copies of a meeting message.
    fn route_meeting(&mut self, s: &State) -> Routed {
        let principals = self.inboxes.iter().map(|&(m, _)| m).collect();
        let info_targets = meetings::route(s, &mut self.inboxes);
        Routed { principals, info_targets, info: None }
    }
}

/// Expands the envelope recipients (spec §6): groups to their members, each
/// mailbox once however many recipients lead to it; mail users and contacts
/// to their external addresses; other domains stay remote.
fn targets(s: &State, recipients: &[String]) -> Targets {
    let mut t = Targets::default();
    let mut seen_box = FxHashSet::default();
    let mut seen_remote = FxHashSet::default();
    for rcpt in recipients {
        let Some(r) = rules::owner(s, rcpt) else {
            if route(s, rcpt) == Route::Remote && seen_remote.insert(rcpt.to_ascii_lowercase()) {
                t.remote.push(rcpt.clone());
            }
            continue;
        };
        for id in s.dir.expand(r.id).unwrap_or_default() {
            let Some(m) = s.dir.get(id) else { continue };
            if m.kind.has_mailbox() {
                if let Some(inbox) = rules::well_known(s, id, WellKnownFolder::Inbox)
                    && seen_box.insert(id)
                {
                    t.inboxes.push((id, inbox));
                }
            } else if let Some(ext) = &m.external_address
                && seen_remote.insert(ext.as_str().to_ascii_lowercase())
            {
                t.remote.push(ext.as_str().to_owned());
            }
        }
    }
    t
}

fn route(s: &State, address: &str) -> Route {
    if rules::owner(s, address).is_some() {
        return Route::Local;
    }
    let domain = address.rsplit_once('@').map_or("", |(_, d)| d);
    if s.dir.is_accepted_domain(domain) { Route::Unknown } else { Route::Remote }
}

impl Deputy {
    /// Where mail for `address` goes (`RCPT TO`).
    pub fn route(&self, address: &str) -> Route {
        self.read(|s| route(s, address))
    }

    /// Spec §4.1: may `principal` use `mail_from` as its envelope sender?
    pub fn check_envelope_sender(&self, principal: RecipientId, mail_from: &str) -> Result<(), SendDenied> {
        self.read(|s| rules::check_envelope_sender(s, principal, mail_from))
    }

    /// The submission pipeline (spec §4): decide, rewrite `Sender:`, store the
    /// Sent Items copies, deliver locally and queue the rest, all in one
    /// durable commit. Nothing is stored when the send is denied.
    pub async fn submit(&self, sub: Submission) -> Result<Submitted, MailError> {
        self.submit_with(sub, |s, sub, facts| {
            rules::header_authoring(s, sub.principal, &facts.from, facts.sender.as_deref())
        })
        .await
    }

    /// The pipeline with the author check given: [`Deputy::submit`] applies
    /// spec §4.1; a calendar delegate's meeting response adds §10's right to
    /// answer for the manager. Everything else is the one pipeline.
    pub(crate) async fn submit_with(
        &self,
        sub: Submission,
        authorize: impl FnOnce(&State, &Submission, &HeaderFacts) -> Result<Authoring, SendDenied>,
    ) -> Result<Submitted, MailError> {
        let facts = inspect(&sub.raw);
        let meeting = Meeting::of(&sub.raw, facts.from.first().map(String::as_str));
        let (delivery, authoring, delivered, queued, routed) = self.read(|s| {
            rules::check_envelope_sender(s, sub.principal, &sub.mail_from).map_err(MailError::Denied)?;
            let authoring = authorize(s, &sub, &facts).map_err(MailError::Denied)?;
            let mut targets = targets(s, &sub.recipients);
            let copies = rules::sent_copies(s, sub.saver, authoring, sub.save_to_sent_items);
            if targets.is_empty() {
                return Err(MailError::NoRecipients);
            }
            let routed = meeting.as_ref().map(|_| targets.route_meeting(s));
            let (raw, message_id) = submitted_message(s, &sub, &facts, authoring);
            let mut entries: Vec<NewEntry> = copies
                .iter()
                .map(|&(_, folder)| NewEntry { folder, flags: MessageFlags::SEEN, creator: Some(sub.principal) })
                .collect();
            entries.extend(targets.inboxes.iter().map(|&(_, folder)| NewEntry {
                folder,
                flags: MessageFlags::empty(),
                creator: None,
            }));
            let (delivered, queued) = (targets.inboxes.len(), targets.remote.len());
            let outbound = (!targets.remote.is_empty()).then(|| NewOutbound {
                mail_from: rules::outbound_mail_from(s, sub.principal, authoring, &sub.mail_from),
                recipients: targets.remote,
            });
            let routed = routed.map(|r| r.with_copy(&raw, message_id.clone()));
            let delivery = Delivery { raw, received: crate::now(), message_id, entries, outbound };
            Ok((delivery, authoring, delivered, queued, routed))
        })?;
        let stored = self.deliver_meeting(meeting.as_ref(), routed, delivery).await?;
        Ok(Submitted { authoring, stored, delivered, queued })
    }

    /// Stores a delivery; for a meeting message, first applies it to the
    /// addressed calendars, then stores the informational copies (spec §10).
    async fn deliver_meeting(
        &self,
        meeting: Option<&Meeting>,
        routed: Option<Routed>,
        delivery: Delivery,
    ) -> Result<Stored, MailError> {
        let (Some(meeting), Some(routed)) = (meeting, routed) else { return self.store_one(delivery).await };
        self.apply_meeting(meeting, &routed.principals).await?;
        let info = routed.info;
        if delivery.entries.is_empty() && delivery.outbound.is_none() {
            // Every copy was the principals' informational one.
            return match info {
                Some(info) => self.store_one(info).await,
                None => Err(MailError::NoRecipients),
            };
        }
        let stored = self.store_one(delivery).await?;
        if let Some(info) = info {
            self.store_one(info).await?;
        }
        Ok(stored)
    }

    /// Delivers mail from outside to local recipients (expanding groups, spec §6).
    pub async fn deliver(&self, inbound: Inbound) -> Result<Stored, MailError> {
        let facts = inspect(&inbound.raw);
        let meeting = Meeting::of(&inbound.raw, facts.from.first().map(String::as_str));
        let (delivery, routed) = self.read(|s| {
            let mut targets = targets(s, &inbound.recipients);
            if targets.is_empty() {
                return Err(MailError::NoRecipients);
            }
            let routed = meeting.as_ref().map(|_| targets.route_meeting(s));
            let mut raw = Vec::with_capacity(inbound.trace.len() + inbound.raw.len());
            raw.extend_from_slice(&inbound.trace);
            raw.extend_from_slice(&inbound.raw);
            let routed = routed.map(|r| r.with_copy(&raw, facts.message_id.clone()));
            Ok((targets.into_delivery(raw, facts.message_id.clone(), inbound.mail_from.clone()), routed))
        })?;
        self.deliver_meeting(meeting.as_ref(), routed, delivery).await
    }

    /// A delivery status notification (or any message from the system) for
    /// `to`: into the local recipient's Inbox, or queued with the null reverse
    /// path when `to` is elsewhere. `None` when `to` is empty (a bounce is
    /// never answered by a bounce, RFC 5321 §4.5.5) or nobody here has it.
    pub fn notice_delivery(&self, to: &str, raw: Vec<u8>) -> Option<Delivery> {
        if to.is_empty() {
            return None;
        }
        let facts = inspect(&raw);
        self.read(|s| {
            let targets = targets(s, &[to.to_owned()]);
            // The null reverse path: a notice is never answered by another (RFC 5321 §4.5.5).
            (!targets.is_empty()).then(|| targets.into_delivery(raw, facts.message_id, String::new()))
        })
    }

    /// Whether `domain` is one of the organization's accepted domains (mail
    /// from it is DKIM-signed on the way out).
    pub fn is_accepted_domain(&self, domain: &str) -> bool {
        self.read(|s| s.dir.is_accepted_domain(domain))
    }

    /// The accepted domains.
    pub fn accepted_domains(&self) -> Vec<String> {
        self.read(|s| s.dir.accepted_domains().iter().map(|d| d.domain.clone()).collect())
    }

    /// Stores one delivery, leaving out the folders that already received
    /// the same message (by `Message-ID`) within [`DUPLICATE_WINDOW_MINUTES`]:
    /// a client that retries after a failure whose commit nevertheless landed
    /// (a cluster's database connection lost during `COMMIT`) is acknowledged
    /// without a second copy, as Exchange's duplicate delivery detection
    /// drops a message a mailbox already has. Remote recipients are not
    /// checked: the queue has no such index.
    async fn store_one(&self, mut delivery: Delivery) -> Result<Stored, MailError> {
        let mut known = Vec::new();
        if let Some(id) = delivery.message_id.clone() {
            let since = crate::now() - chrono::Duration::minutes(DUPLICATE_WINDOW_MINUTES);
            let mut kept = Vec::with_capacity(delivery.entries.len());
            for entry in std::mem::take(&mut delivery.entries) {
                match self.mail.find_by_message_id(entry.folder, &id, since).await {
                    Ok(Some(existing)) => known.push(existing),
                    // Not there, or a store without the index (tests): store it.
                    _ => kept.push(entry),
                }
            }
            delivery.entries = kept;
        }
        if delivery.entries.is_empty()
            && delivery.outbound.is_none()
            && let Some(first) = known.first()
        {
            let uids = known.iter().map(|e| (e.folder, e.uid)).collect();
            return Ok(Stored { blob: first.blob, uids, queued: None });
        }
        let mut stored = self.mail.store(vec![delivery]).await?;
        let mut stored =
            stored.pop().ok_or_else(|| MailError::Store(StoreError::Backend("the store returned no result".into())))?;
        stored.uids.extend(known.iter().map(|e| (e.folder, e.uid)));
        Ok(stored)
    }

    /// Message counts of folders (`Get-MailboxFolderStatistics`).
    pub async fn folder_counts(&self, folders: &[FolderId]) -> Result<Vec<FolderCounts>, StoreError> {
        self.mail.folder_counts(folders).await
    }

    /// The message store, for doors that read mail (IMAP, Graph).
    pub fn mail_store(&self) -> &dyn deputy_store::MailStore {
        self.mail.as_ref()
    }
}

/// The message as it leaves: trace fields first; for Send on Behalf a
/// `Sender:` naming the principal replaces any the client wrote, for Send As
/// every `Sender:` is removed (spec §4.1 steps 2–3); `From:`, `Date:` and
/// `Message-ID:` are added only when missing (RFC 6409 §8).
fn submitted_message(
    s: &State,
    sub: &Submission,
    facts: &HeaderFacts,
    authoring: Authoring,
) -> (Vec<u8>, Option<String>) {
    let mut prepend = Vec::with_capacity(4);
    if !sub.trace.is_empty() {
        prepend.push(sub.trace.clone());
    }
    let principal = s.dir.get(sub.principal);
    let primary = principal.and_then(|p| p.primary_smtp.as_ref()).map(|a| a.as_str().to_owned()).unwrap_or_default();
    let display = principal.map(|p| p.display_name.clone()).unwrap_or_default();
    if authoring.mode == SendMode::SendOnBehalf {
        prepend.push(address_field("Sender", &display, &primary));
    }
    if facts.from.is_empty() {
        prepend.push(address_field("From", &display, &primary));
    }
    if !facts.has_date {
        prepend.push(format!("Date: {}\r\n", Utc::now().to_rfc2822()).into_bytes());
    }
    let message_id = facts.message_id.clone().or_else(|| {
        let id = format!("{}@{}", uuid::Uuid::new_v4().simple(), s.organization().primary_domain);
        prepend.push(format!("Message-ID: <{id}>\r\n").into_bytes());
        Some(id)
    });
    let remove: &[std::ops::Range<usize>] = if authoring.mode == SendMode::Own { &[] } else { &facts.sender_fields };
    (headers::splice(&sub.raw, &prepend, remove), message_id)
}
