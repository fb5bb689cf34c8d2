//! iTIP (RFC 5546), pure: what an incoming scheduling message does to the
//! stored copy, and the messages an organizer or attendee (or a delegate
//! acting for one) sends.

use chrono::{DateTime, Utc};

use crate::model::{Calendar, Event, Method, PartStat, RecurrenceId, Status, same_address};
use crate::read::event_length;
use crate::value::DateTimeValue;
use crate::{Error, Result};

/// What an incoming iTIP message means for the recipient's calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItipOutcome {
    /// Store `calendar` as the recipient's copy of the UID, replacing every
    /// stored component of that UID.
    Store {
        /// The new stored object (no METHOD).
        calendar: Calendar,
        /// What changed.
        change: StoreChange,
        /// The `SENT-BY` of the message, when a delegate acted for the
        /// organizer or the attendee: the core checks that right (spec §10).
        acted_by: Option<String>,
    },
    /// Nothing to store, and why.
    Ignored(IgnoreReason),
    /// COUNTER: an attendee proposes a change; the organizer decides.
    Counter {
        /// The proposing attendee.
        from: String,
        /// The proposal as received.
        proposal: Calendar,
    },
    /// REFRESH: an attendee asks for the latest version.
    Refresh {
        /// The asking attendee.
        from: String,
        /// The event's UID.
        uid: String,
    },
    /// DECLINECOUNTER: the organizer refused the recipient's proposal.
    DeclineCounter {
        /// The event's UID.
        uid: String,
    },
}

/// What a stored change was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChange {
    /// A REQUEST or PUBLISH for an event not stored yet.
    Created,
    /// A newer REQUEST, PUBLISH or ADD for a stored event.
    Updated,
    /// A REPLY recorded on the organizer's copy.
    ReplyRecorded {
        /// The attendee who answered.
        attendee: String,
        /// The answer.
        partstat: PartStat,
        /// The instance answered, or `None` for the series.
        instance: Option<DateTimeValue>,
    },
    /// A CANCEL: the series (`instances` empty) or these instances.
    Cancelled {
        /// RECURRENCE-IDs cancelled; empty for the whole series.
        instances: Vec<DateTimeValue>,
    },
}

/// Why an incoming message changes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IgnoreReason {
    /// Older than the stored copy (RFC 5546 §2.1.5: SEQUENCE, then DTSTAMP).
    Stale {
        /// Stored SEQUENCE.
        stored: u32,
        /// Incoming SEQUENCE.
        incoming: u32,
    },
    /// The event is not stored (REPLY, CANCEL, ADD need it).
    UnknownEvent,
    /// An update or CANCEL whose ORGANIZER is not the stored one, or a
    /// REPLY reaching someone who is not the organizer.
    NotOrganizer,
    /// A REPLY from someone who is not an attendee.
    NotAnAttendee(String),
    /// The message's sender is not the party it speaks for (a `SENT-BY` in
    /// the message is the sender's own claim and does not count).
    SenderMismatch {
        /// Who sent the message.
        sender: String,
    },
}

/// What `incoming` does to `stored` (all stored components of the same UID,
/// or `None`). `recipient` is the mailbox it is delivered to; `sender` the
/// message's sender (envelope or `Sender:`/`From:`) when known, checked
/// against the ORGANIZER / ATTENDEE address.
pub fn process(
    stored: Option<&Calendar>,
    incoming: &Calendar,
    recipient: &str,
    sender: Option<&str>,
) -> Result<ItipOutcome> {
    let method = incoming.method.ok_or_else(|| Error::Itip("the message has no METHOD".into()))?;
    let first = incoming.events.first().ok_or_else(|| Error::Itip(format!("{} without VEVENT", method.as_str())))?;
    let uid = first.uid.clone();
    if incoming.events.iter().any(|e| e.uid != uid) {
        return Err(Error::Itip("a message may carry only one UID".into()));
    }
    let stored = stored.map(|c| series_of(c, &uid)).filter(|c| !c.events.is_empty());
    let ignored = |reason| Ok(ItipOutcome::Ignored(reason));
    let from_attendee = || first.attendees.first().map(|a| a.address.clone()).unwrap_or_default();
    match method {
        Method::Counter => Ok(ItipOutcome::Counter { from: from_attendee(), proposal: incoming.clone() }),
        Method::Refresh => Ok(ItipOutcome::Refresh { from: from_attendee(), uid }),
        Method::DeclineCounter => Ok(ItipOutcome::DeclineCounter { uid }),
        Method::Request | Method::Publish | Method::Add => {
            if method != Method::Publish && first.organizer.is_none() {
                return Err(Error::Itip(format!("{} without ORGANIZER", method.as_str())));
            }
            let Some(stored) = stored else {
                if method == Method::Add {
                    return ignored(IgnoreReason::UnknownEvent);
                }
                let mut calendar = stored_form(incoming, incoming.events.clone());
                for event in &mut calendar.events {
                    if let Some(me) = event.attendee_mut(recipient) {
                        me.partstat.get_or_insert(PartStat::NeedsAction);
                    }
                }
                return Ok(ItipOutcome::Store {
                    calendar,
                    change: StoreChange::Created,
                    acted_by: organizer_sent_by(first),
                });
            };
            if let Some(reason) = organizer_check(&stored, first, sender) {
                return ignored(reason);
            }
            if let Some(reason) = staleness(&stored, incoming, true) {
                return ignored(reason);
            }
            let mut events = if incoming.events.iter().any(|e| e.recurrence_id.is_none()) {
                incoming.events.clone()
            } else {
                merge_instances(&stored.events, &incoming.events)
            };
            for event in &mut events {
                keep_own_answer(event, &stored, recipient);
            }
            let mut calendar = stored_form(incoming, events);
            merge_timezones(&mut calendar, &stored);
            Ok(ItipOutcome::Store { calendar, change: StoreChange::Updated, acted_by: organizer_sent_by(first) })
        }
        Method::Reply => {
            let Some(mut stored) = stored else { return ignored(IgnoreReason::UnknownEvent) };
            if !stored.events.iter().any(|e| e.is_organizer(recipient)) {
                return ignored(IgnoreReason::NotOrganizer);
            }
            let replier = first.attendees.first().ok_or_else(|| Error::Itip("REPLY without ATTENDEE".into()))?;
            // A `SENT-BY` is the sender's own claim, so it vouches for
            // nothing: only mail from the attendee's address answers for her.
            if let Some(sender) = sender
                && !same_address(sender, &replier.address)
            {
                return ignored(IgnoreReason::SenderMismatch { sender: sender.to_owned() });
            }
            // A reply's DTSTAMP is the attendee's clock: only SEQUENCE says
            // whether it answers the current version.
            if let Some(reason) = staleness(&stored, incoming, false) {
                return ignored(reason);
            }
            let partstat = replier.partstat.clone().unwrap_or(PartStat::NeedsAction);
            let instance = first.recurrence_id.as_ref().map(|r| r.value.clone());
            let Some(target) = component_for(&mut stored.events, instance.as_ref()) else {
                return ignored(IgnoreReason::UnknownEvent);
            };
            let Some(attendee) = target.attendee_mut(&replier.address) else {
                return ignored(IgnoreReason::NotAnAttendee(replier.address.clone()));
            };
            attendee.partstat = Some(partstat.clone());
            attendee.sent_by.clone_from(&replier.sent_by);
            attendee.rsvp = false;
            Ok(ItipOutcome::Store {
                calendar: stored,
                change: StoreChange::ReplyRecorded { attendee: replier.address.clone(), partstat, instance },
                acted_by: replier.sent_by.clone(),
            })
        }
        Method::Cancel => {
            let Some(mut stored) = stored else { return ignored(IgnoreReason::UnknownEvent) };
            if let Some(reason) = organizer_check(&stored, first, sender) {
                return ignored(reason);
            }
            if let Some(reason) = staleness(&stored, incoming, true) {
                return ignored(reason);
            }
            let mut instances = Vec::new();
            if incoming.events.iter().any(|e| e.recurrence_id.is_none()) {
                for event in &mut stored.events {
                    event.status = Some(Status::Cancelled);
                    event.sequence = event.sequence.max(first.sequence);
                }
            } else {
                for cancelled in &incoming.events {
                    let rid = cancelled.recurrence_id.as_ref().map(|r| r.value.clone());
                    if let Some(target) = component_for(&mut stored.events, rid.as_ref()) {
                        target.status = Some(Status::Cancelled);
                        target.sequence = target.sequence.max(cancelled.sequence);
                    }
                    instances.extend(rid);
                }
            }
            Ok(ItipOutcome::Store {
                calendar: stored,
                change: StoreChange::Cancelled { instances },
                acted_by: organizer_sent_by(first),
            })
        }
    }
}

impl Event {
    /// One instance of this series as an overriding component: the master's
    /// content, RECURRENCE-ID and DTSTART set to `rid`, no recurrence.
    pub fn instance_at(&self, rid: &DateTimeValue) -> Event {
        let length = event_length(self);
        Event {
            recurrence_id: Some(RecurrenceId { value: rid.clone(), this_and_future: false }),
            start: Some(rid.clone()),
            end: match (&self.end, length) {
                (Some(_), Some(length)) => rid.shifted(length),
                _ => None,
            },
            rrule: None,
            rdates: Vec::new(),
            exdates: Vec::new(),
            extra: self.extra.iter().filter(|p| p.name != "RDATE").cloned().collect(),
            ..self.clone()
        }
    }
}

/// A REPLY (RFC 5546 §3.2.3) from `attendee` with `partstat`; `sent_by` is
/// the delegate answering for the attendee (spec §10), written as
/// `ATTENDEE;SENT-BY=`. Pass an instance (`Event::instance_at`) to answer
/// for one occurrence.
pub fn reply(
    event: &Event,
    attendee: &str,
    partstat: PartStat,
    sent_by: Option<&str>,
    dtstamp: DateTime<Utc>,
) -> Result<Calendar> {
    let organizer =
        event.organizer.clone().ok_or_else(|| Error::Itip("cannot reply to an event without ORGANIZER".into()))?;
    let mut me = event
        .attendee(attendee)
        .cloned()
        .ok_or_else(|| Error::Itip(format!("{attendee} is not an attendee of {:?}", event.uid)))?;
    me.partstat = Some(partstat);
    me.sent_by = sent_by.map(|s| crate::model::strip_mailto(s).to_owned());
    me.rsvp = false;
    let answer = Event {
        uid: event.uid.clone(),
        recurrence_id: event.recurrence_id.clone(),
        sequence: event.sequence,
        dtstamp: Some(dtstamp),
        summary: event.summary.clone(),
        organizer: Some(organizer),
        attendees: vec![me],
        ..Event::default()
    };
    let mut calendar = Calendar::new(Some(Method::Reply));
    calendar.events.push(answer);
    Ok(calendar)
}

/// A REQUEST (RFC 5546 §3.2.2) for the series `uid` of `calendar` (with its
/// time zones); `sent_by` is the delegate organizing for the owner.
pub fn request(calendar: &Calendar, uid: &str, sent_by: Option<&str>, dtstamp: DateTime<Utc>) -> Result<Calendar> {
    let mut out = organizer_message(calendar, uid, Method::Request, sent_by, dtstamp)?;
    if out.events.iter().all(|e| e.attendees.is_empty()) {
        return Err(Error::Itip(format!("REQUEST for {uid:?} has no ATTENDEE")));
    }
    for event in &mut out.events {
        for attendee in &mut event.attendees {
            attendee.sent_by = None;
        }
    }
    Ok(out)
}

/// A CANCEL (RFC 5546 §3.2.5) of the series `uid`, or of one `instance`:
/// STATUS:CANCELLED and SEQUENCE one higher than stored.
pub fn cancel(
    calendar: &Calendar,
    uid: &str,
    instance: Option<&DateTimeValue>,
    sent_by: Option<&str>,
    dtstamp: DateTime<Utc>,
) -> Result<Calendar> {
    let mut out = organizer_message(calendar, uid, Method::Cancel, sent_by, dtstamp)?;
    let master = out.events.iter().find(|e| e.recurrence_id.is_none()).cloned();
    let mut event = match (instance, master) {
        (None, Some(master)) => master,
        (Some(rid), _) => match out.events.iter().find(|e| e.recurrence_id.as_ref().is_some_and(|r| &r.value == rid)) {
            Some(existing) => existing.clone(),
            None => out.events.first().map(|m| m.instance_at(rid)).unwrap_or_default(),
        },
        (None, None) => return Err(Error::Itip(format!("no master component for {uid:?} to cancel"))),
    };
    event.sequence = out.events.iter().map(|e| e.sequence).max().unwrap_or(0).saturating_add(1);
    event.status = Some(Status::Cancelled);
    event.components.clear();
    out.events = vec![event];
    Ok(out)
}

fn organizer_message(
    calendar: &Calendar,
    uid: &str,
    method: Method,
    sent_by: Option<&str>,
    dtstamp: DateTime<Utc>,
) -> Result<Calendar> {
    let mut out = series_of(calendar, uid);
    if out.events.is_empty() {
        return Err(Error::UnknownUid(uid.to_owned()));
    }
    out.method = Some(method);
    out.prodid = Some(crate::PRODID.to_owned());
    for event in &mut out.events {
        let organizer = event
            .organizer
            .as_mut()
            .ok_or_else(|| Error::Itip(format!("{} for {uid:?} without ORGANIZER", method.as_str())))?;
        organizer.sent_by = sent_by.map(|s| crate::model::strip_mailto(s).to_owned());
        event.dtstamp = Some(dtstamp);
    }
    Ok(out)
}

/// The components of one UID with the calendar's time zones.
fn series_of(calendar: &Calendar, uid: &str) -> Calendar {
    Calendar {
        method: None,
        prodid: calendar.prodid.clone(),
        events: calendar.events.iter().filter(|e| e.uid == uid).cloned().collect(),
        timezones: calendar.timezones.clone(),
        components: Vec::new(),
        extra: Vec::new(),
        raw: None,
    }
}

/// The stored form of an incoming object: no METHOD, Deputy's PRODID.
fn stored_form(incoming: &Calendar, events: Vec<Event>) -> Calendar {
    Calendar {
        method: None,
        prodid: Some(crate::PRODID.to_owned()),
        events,
        timezones: incoming.timezones.clone(),
        components: Vec::new(),
        extra: Vec::new(),
        raw: None,
    }
}

fn merge_timezones(calendar: &mut Calendar, stored: &Calendar) {
    let tzid = |c: &crate::Component| c.property("TZID").map(|p| p.value.clone());
    for zone in &stored.timezones {
        if !calendar.timezones.iter().any(|z| tzid(z) == tzid(zone)) {
            calendar.timezones.push(zone.clone());
        }
    }
}

/// Stored components, with those of `incoming` replacing the ones with the
/// same RECURRENCE-ID and the others added.
fn merge_instances(stored: &[Event], incoming: &[Event]) -> Vec<Event> {
    let mut events = stored.to_vec();
    for new in incoming {
        match events.iter_mut().find(|e| e.recurrence_id == new.recurrence_id) {
            Some(old) => *old = new.clone(),
            None => events.push(new.clone()),
        }
    }
    events
}

/// On an update that is not a reschedule (same SEQUENCE), the recipient's
/// own answer survives; a higher SEQUENCE takes the organizer's (RFC 5546
/// §2.1.4: a major change asks again).
fn keep_own_answer(event: &mut Event, stored: &Calendar, recipient: &str) {
    let previous = stored.events.iter().find(|e| e.recurrence_id == event.recurrence_id);
    let kept = previous
        .filter(|p| p.sequence == event.sequence)
        .and_then(|p| p.attendee(recipient))
        .and_then(|a| a.partstat.clone());
    if let Some(me) = event.attendee_mut(recipient) {
        match kept {
            Some(answer) => me.partstat = Some(answer),
            None => {
                me.partstat.get_or_insert(PartStat::NeedsAction);
            }
        }
    }
}

/// The stored component for an instance (an override, created from the
/// master when missing) or the master for `None`.
fn component_for<'a>(events: &'a mut Vec<Event>, instance: Option<&DateTimeValue>) -> Option<&'a mut Event> {
    let position = events.iter().position(|e| e.recurrence_id.as_ref().map(|r| &r.value) == instance);
    if let Some(position) = position {
        return events.get_mut(position);
    }
    let rid = instance?;
    let created = events.iter().find(|e| e.recurrence_id.is_none())?.instance_at(rid);
    events.push(created);
    events.last_mut()
}

fn organizer_sent_by(event: &Event) -> Option<String> {
    event.organizer.as_ref().and_then(|o| o.sent_by.clone())
}

/// An update or cancellation must come from the stored organizer, sent by
/// her or by her `SENT-BY`.
fn organizer_check(stored: &Calendar, incoming: &Event, sender: Option<&str>) -> Option<IgnoreReason> {
    // A stored event without ORGANIZER is nobody's meeting (the owner's own
    // appointment), and a message without one names no organizer: neither
    // lets a message change what is stored.
    let Some(stored_organizer) = stored.events.iter().find_map(|e| e.organizer.as_ref()) else {
        return Some(IgnoreReason::NotOrganizer);
    };
    let Some(organizer) = incoming.organizer.as_ref() else { return Some(IgnoreReason::NotOrganizer) };
    if !same_address(&stored_organizer.address, &organizer.address) {
        return Some(IgnoreReason::NotOrganizer);
    }
    // The message's own `SENT-BY` is the sender's claim and proves nothing.
    let sender = sender?;
    (!same_address(sender, &organizer.address)).then(|| IgnoreReason::SenderMismatch { sender: sender.to_owned() })
}

/// RFC 5546 §2.1.5: a lower SEQUENCE, or the same one with an older
/// DTSTAMP, is out of date. Compared per RECURRENCE-ID, else to the master.
fn staleness(stored: &Calendar, incoming: &Calendar, check_stamp: bool) -> Option<IgnoreReason> {
    for new in &incoming.events {
        let old = stored
            .events
            .iter()
            .find(|e| e.recurrence_id == new.recurrence_id)
            .or_else(|| stored.events.iter().find(|e| e.recurrence_id.is_none()))?;
        let older_stamp = check_stamp && matches!((old.dtstamp, new.dtstamp), (Some(o), Some(n)) if n < o);
        if new.sequence < old.sequence || (new.sequence == old.sequence && older_stamp) {
            return Some(IgnoreReason::Stale { stored: old.sequence, incoming: new.sequence });
        }
    }
    None
}
