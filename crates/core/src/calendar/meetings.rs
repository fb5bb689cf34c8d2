//! Meeting messages (iTIP over iMIP, RFC 5546/6047) delivered to local
//! mailboxes, the §10 routing to calendar delegates, and a delegate
//! answering a meeting on the manager's behalf.

use deputy_access::SendMode;
use deputy_calendar::{Calendar, ImipHeaders, ItipOutcome, MailAddress, Method, PartStat};
use deputy_types::{FolderId, MeetingDelivery, RecipientId, WellKnownFolder};
use tracing::warn;

use super::{CalendarError, StoredEvent};
use crate::mail::rules::{self, Authoring};
use crate::mail::{MailError, Submission, Submitted};
use crate::{Deputy, State, now};

/// A meeting message on its way in.
#[derive(Debug, Clone)]
pub(crate) struct Meeting {
    /// The iTIP object of its `text/calendar` part.
    pub calendar: Calendar,
    /// Who sent it (the first `From:` address), for iTIP's checks.
    pub sender: String,
}

impl Meeting {
    /// The meeting in `raw`, when it carries an iTIP method that schedules
    /// (`PUBLISH` and anything malformed are ordinary mail).
    pub(crate) fn of(raw: &[u8], sender: Option<&str>) -> Option<Self> {
        let calendar = match deputy_calendar::extract(raw) {
            Ok(part) => part?.calendar,
            Err(e) => {
                warn!(error = %e, "a text/calendar part that does not parse is delivered as ordinary mail");
                return None;
            }
        };
        let scheduling = matches!(
            calendar.method,
            Some(Method::Request | Method::Reply | Method::Cancel | Method::Add | Method::Counter)
        );
        scheduling.then(|| Self { calendar, sender: sender.unwrap_or_default().to_owned() })
    }
}

/// Spec §10: where one mailbox's copy of a meeting message goes when it has
/// calendar delegates. `inboxes` are the delivery targets; returns the
/// targets of the informational copy (no `text/calendar` part).
pub(crate) fn route(s: &State, inboxes: &mut Vec<(RecipientId, FolderId)>) -> Vec<(RecipientId, FolderId)> {
    let mut info = Vec::new();
    let principals: Vec<RecipientId> = inboxes.iter().map(|&(m, _)| m).collect();
    for principal in principals {
        let delegates = s.meeting_delegates(principal);
        let Some(r) = s.dir.get(principal) else { continue };
        if delegates.is_empty() {
            continue;
        }
        let Some(at) = inboxes.iter().position(|&(m, _)| m == principal) else { continue };
        match r.meeting_delivery {
            // EWS DelegatesOnly: the principal's copy is moved to Deleted Items.
            MeetingDelivery::SendToDelegateOnly => {
                match rules::well_known(s, principal, WellKnownFolder::DeletedItems) {
                    Some(deleted) => inboxes[at].1 = deleted,
                    None => {
                        inboxes.remove(at);
                    }
                }
            }
            MeetingDelivery::SendToDelegateAndInformationToPrincipal => {
                info.push(inboxes.remove(at));
            }
            MeetingDelivery::SendToDelegateAndPrincipal => {}
        }
        for d in delegates {
            if !inboxes.iter().any(|&(m, _)| m == d)
                && let Some(inbox) = rules::well_known(s, d, WellKnownFolder::Inbox)
            {
                inboxes.push((d, inbox));
            }
        }
    }
    info
}

/// The informational copy for a principal whose delegates handle meetings:
/// the message's header fields with its plain-text body, no calendar part,
/// so it reads as ordinary mail without Accept/Decline.
pub(crate) fn informational_copy(raw: &[u8]) -> Vec<u8> {
    let message = mail_parser::MessageParser::new().parse(raw);
    let text = message.as_ref().and_then(|m| m.body_text(0)).map(|t| t.into_owned()).unwrap_or_default();
    let header_end = raw.windows(4).position(|w| w == b"\r\n\r\n").map_or(raw.len(), |p| p + 2);
    let mut out = Vec::with_capacity(header_end + text.len() + 128);
    let mut skip = false;
    for line in raw[..header_end].split_inclusive(|&b| b == b'\n') {
        let continuation = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        if !continuation {
            let name = line.split(|&b| b == b':').next().unwrap_or_default();
            skip = [&b"content-type"[..], b"content-transfer-encoding", b"mime-version"]
                .iter()
                .any(|h| name.eq_ignore_ascii_case(h));
        }
        if !skip {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
    );
    for line in text.lines() {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

impl Deputy {
    /// Applies a delivered meeting message to each principal's calendar
    /// (RFC 5546 §3.2: a request creates or updates a tentative event, a
    /// reply updates the organizer's copy, a cancellation cancels). A
    /// message iTIP ignores changes nothing; a store failure fails delivery.
    pub(crate) async fn apply_meeting(&self, meeting: &Meeting, principals: &[RecipientId]) -> Result<(), MailError> {
        let uid = match meeting.calendar.uids().first() {
            Some(u) => (*u).to_owned(),
            None => return Ok(()),
        };
        for &principal in principals {
            let (folder, address) = self
                .read(|s| (s.calendar_folder(principal), s.dir.get(principal).and_then(|r| r.primary_smtp.clone())));
            let (Some(folder), Some(address)) = (folder, address) else { continue };
            let stored = self.find_event(folder, &uid).await?;
            // Always checked: a message without `From:` is from nobody the
            // stored meeting knows, not from someone we need not ask about.
            let outcome = deputy_calendar::process(
                stored.as_ref().map(|e| &e.calendar),
                &meeting.calendar,
                address.as_str(),
                Some(meeting.sender.as_str()),
            );
            let calendar = match outcome {
                Ok(ItipOutcome::Store { calendar, .. }) => calendar,
                Ok(other) => {
                    tracing::debug!(?other, "meeting message changes no calendar");
                    continue;
                }
                Err(e) => {
                    warn!(error = %e, "meeting message refused by iTIP; delivered as ordinary mail");
                    continue;
                }
            };
            {
                let old = stored.map(|e| e.entry);
                let creator = old.as_ref().and_then(|o| o.creator);
                self.store_event(folder, calendar, &uid, old, creator).await.map_err(|e| match e {
                    CalendarError::Store(e) => MailError::Store(e),
                    other => MailError::Store(deputy_store::StoreError::Backend(other.to_string())),
                })?;
            }
        }
        Ok(())
    }

    /// A meeting in `mailbox`'s calendar answered by `principal` (the owner,
    /// or a delegate acting for her, spec §10): the stored event records the
    /// answer and, when `send_response`, an iTIP reply goes to the organizer
    /// through the one submission pipeline — `From:` the mailbox, `Sender:`
    /// the delegate (spec §3.3), with the Sent Items copies of §4.2. A
    /// calendar delegate may answer meetings for the manager without a
    /// separate Send on Behalf grant (Exchange adds delegates with it).
    pub async fn respond_to_event(
        &self,
        principal: RecipientId,
        mailbox: RecipientId,
        uid: &str,
        answer: PartStat,
        comment: Option<String>,
        send_response: bool,
    ) -> Result<(StoredEvent, Option<Submitted>), CalendarError> {
        let folder = self.read(|s| s.calendar_folder(mailbox)).ok_or(CalendarError::NotFound)?;
        let access = self.require_calendar(principal, folder)?;
        let mut stored = self.find_event(folder, uid).await?.ok_or(CalendarError::NotFound)?;
        if stored.calendar.events.iter().any(deputy_calendar::Event::is_private) && !access.viewer.can_view_private {
            return Err(CalendarError::Denied("answer private meetings"));
        }
        self.require(principal, folder, deputy_access::FolderOp::EditItem { creator: stored.entry.creator })?;
        let (me, sender) = self.identities(principal, mailbox)?;
        let sent_by = sender.as_ref().map(|a| a.address.clone());
        if send_response && !access.delegate && sender.is_some() {
            // Decided before anything is stored: someone who may edit the
            // calendar but not send for its owner (an Editor without the §10
            // Delegate flag nor Send on Behalf) must not leave an answer
            // recorded that the organizer never gets.
            let from = [me.address.clone()];
            self.read(|s| rules::header_authoring(s, principal, &from, sent_by.as_deref()))
                .map_err(|_| CalendarError::Denied("answer meetings on this mailbox's behalf"))?;
        }
        for event in stored.calendar.events.iter_mut() {
            if let Some(a) = event.attendee_mut(&me.address) {
                a.partstat = Some(answer.clone());
                a.rsvp = false;
                a.sent_by.clone_from(&sent_by);
            }
        }
        let master = stored.calendar.master(uid).or_else(|| stored.calendar.events.first()).cloned();
        let stored =
            self.store_event(folder, stored.calendar, uid, Some(stored.entry.clone()), stored.entry.creator).await?;
        let Some(master) = master.filter(|_| send_response) else { return Ok((stored, None)) };
        let Some(organizer) = master.organizer.as_ref().filter(|o| !o.address.eq_ignore_ascii_case(&me.address)) else {
            return Ok((stored, None));
        };
        let organizer = MailAddress { name: organizer.cn.clone(), address: organizer.address.clone() };
        let reply = deputy_calendar::reply(&master, &me.address, answer.clone(), sent_by.as_deref(), now())?;
        let verb = match answer {
            PartStat::Accepted => "Accepted",
            PartStat::Declined => "Declined",
            PartStat::Tentative => "Tentative",
            _ => "Response",
        };
        let headers = self.imip_headers(
            me,
            sender,
            vec![organizer],
            format!("{verb}: {}", master.summary.clone().unwrap_or_default()),
        );
        let text = comment.unwrap_or_default();
        let submitted = self.submit_meeting(principal, mailbox, folder, &headers, &reply, &text).await?;
        Ok((stored, Some(submitted)))
    }

    /// Sends the stored meeting `uid` of `mailbox`'s calendar to its
    /// attendees as its organizer (`REQUEST`, or `CANCEL` when `cancel`):
    /// `From:` the mailbox, `Sender:` the delegate when one acts (spec §10).
    /// `None` when nobody but the mailbox is invited.
    pub async fn send_meeting(
        &self,
        principal: RecipientId,
        mailbox: RecipientId,
        uid: &str,
        cancel: bool,
    ) -> Result<Option<Submitted>, CalendarError> {
        let folder = self.read(|s| s.calendar_folder(mailbox)).ok_or(CalendarError::NotFound)?;
        let access = self.require_calendar(principal, folder)?;
        let stored = self.find_event(folder, uid).await?.ok_or(CalendarError::NotFound)?;
        if stored.calendar.events.iter().any(deputy_calendar::Event::is_private) && !access.viewer.can_view_private {
            return Err(CalendarError::Denied("send private meetings"));
        }
        self.require(principal, folder, deputy_access::FolderOp::EditItem { creator: stored.entry.creator })?;
        let (me, sender) = self.identities(principal, mailbox)?;
        let sent_by = sender.as_ref().map(|a| a.address.clone());
        let message = if cancel {
            deputy_calendar::cancel(&stored.calendar, uid, None, sent_by.as_deref(), now())?
        } else {
            deputy_calendar::request(&stored.calendar, uid, sent_by.as_deref(), now())?
        };
        let mut to: Vec<MailAddress> = Vec::new();
        for a in message.events.iter().flat_map(|e| &e.attendees) {
            let known = to.iter().any(|t| t.address.eq_ignore_ascii_case(&a.address));
            if !a.address.eq_ignore_ascii_case(&me.address) && a.address.contains('@') && !known {
                to.push(MailAddress { name: a.cn.clone(), address: a.address.clone() });
            }
        }
        if to.is_empty() {
            return Ok(None);
        }
        let summary = message.events.first().and_then(|e| e.summary.clone()).unwrap_or_default();
        let subject = if cancel { format!("Canceled: {summary}") } else { summary };
        let headers = self.imip_headers(me, sender, to, subject);
        Ok(Some(self.submit_meeting(principal, mailbox, folder, &headers, &message, "").await?))
    }

    /// The mailbox's address, and the delegate's when it is not the mailbox itself.
    fn identities(
        &self,
        principal: RecipientId,
        mailbox: RecipientId,
    ) -> Result<(MailAddress, Option<MailAddress>), CalendarError> {
        self.read(|s| {
            let address = |id| {
                let r = s.dir.get(id)?;
                Some(MailAddress { name: Some(r.display_name.clone()), address: r.primary_smtp.as_ref()?.to_string() })
            };
            let me = address(mailbox).ok_or(CalendarError::NotFound)?;
            Ok((me, (principal != mailbox).then(|| address(principal)).flatten()))
        })
    }

    /// Headers of an outgoing iMIP message, with a fresh `Message-ID`.
    fn imip_headers(
        &self,
        from: MailAddress,
        sender: Option<MailAddress>,
        to: Vec<MailAddress>,
        subject: String,
    ) -> ImipHeaders {
        let domain = self.read(|s| s.organization().primary_domain.clone());
        ImipHeaders {
            from,
            sender,
            to,
            subject,
            message_id: format!("{}@{domain}", uuid::Uuid::new_v4().simple()),
            date: now(),
        }
    }

    /// An iMIP message through the one submission pipeline, as `principal`
    /// acting for `mailbox`: spec §4.1 first (Send As wins), and a calendar
    /// delegate of the mailbox may send its meeting messages on its behalf.
    async fn submit_meeting(
        &self,
        principal: RecipientId,
        mailbox: RecipientId,
        folder: FolderId,
        headers: &ImipHeaders,
        calendar: &Calendar,
        text: &str,
    ) -> Result<Submitted, CalendarError> {
        let raw = deputy_calendar::build_imip(calendar, headers, text)?;
        let sub = Submission {
            principal,
            mail_from: String::new(),
            recipients: headers.to.iter().map(|a| a.address.clone()).collect(),
            raw,
            trace: Vec::new(),
            saver: principal,
            save_to_sent_items: true,
        };
        Ok(self
            .submit_with(sub, |s, sub, facts| {
                rules::header_authoring(s, sub.principal, &facts.from, facts.sender.as_deref()).or_else(|denied| {
                    let delegate = s.calendar_access(sub.principal, folder).is_some_and(|a| a.delegate);
                    if delegate { Ok(Authoring { author: mailbox, mode: SendMode::SendOnBehalf }) } else { Err(denied) }
                })
            })
            .await?)
    }
}
