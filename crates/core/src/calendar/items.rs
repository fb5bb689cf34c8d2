//! Events as items of a calendar folder: each item is a small MIME message
//! (`Content-Type: text/calendar`) holding one iCalendar object — one event
//! series, its master and overridden instances under one `UID`. Its
//! `Message-ID` is derived from the iCalendar `UID`, so the store's
//! Message-ID index finds an event by UID without reading every body.

use chrono::{DateTime, Utc};
use deputy_access::FolderOp;
use deputy_calendar::Calendar;
use deputy_store::{Delivery, NewEntry, StoreError};
use deputy_types::{FolderEntry, FolderId, MessageFlags, RecipientId};

use super::{CalendarAccess, CalendarError};
use crate::{Deputy, now};

/// One stored event series.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// The folder entry (IMAP UID, creator, mod-sequence for ETags).
    pub entry: FolderEntry,
    /// The iCalendar object.
    pub calendar: Calendar,
}

impl StoredEvent {
    /// The iCalendar `UID` of the series.
    pub fn uid(&self) -> &str {
        self.calendar.events.first().map_or("", |e| e.uid.as_str())
    }
}

/// The `Message-ID` (without brackets) of the item holding the series `uid`:
/// hex, so any UID a client invents makes a valid, unique message id.
pub(crate) fn item_message_id(uid: &str) -> String {
    let mut hex = String::with_capacity(uid.len() * 2 + 24);
    for b in uid.bytes() {
        hex.push_str(&format!("{b:02x}"));
    }
    hex.push_str("@calendar.deputy.invalid");
    hex
}

/// The MIME item for a calendar object.
pub(crate) fn wrap(calendar: &Calendar, uid: &str) -> Vec<u8> {
    let ics = calendar.to_ics();
    let summary = calendar.events.first().and_then(|e| e.summary.clone()).unwrap_or_default();
    // A header field never carries CR or LF from a client's SUMMARY.
    let summary: String = summary.chars().map(|c| if c.is_control() { ' ' } else { c }).take(250).collect();
    let mut out = format!(
        "Message-ID: <{}>\r\nDate: {}\r\nSubject: {}\r\nMIME-Version: 1.0\r\nContent-Type: text/calendar; charset=utf-8; component=VEVENT\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
        item_message_id(uid),
        now().to_rfc2822(),
        encoded_word(&summary),
    )
    .into_bytes();
    out.extend_from_slice(ics.as_bytes());
    out
}

/// An RFC 2047 encoded word for non-ASCII text, the text itself otherwise.
fn encoded_word(text: &str) -> String {
    use base64::Engine as _;
    if text.is_ascii() {
        return text.to_owned();
    }
    format!("=?utf-8?b?{}?=", base64::engine::general_purpose::STANDARD.encode(text))
}

/// The iCalendar text of an item: the body after the header section.
pub(crate) fn unwrap(raw: &[u8]) -> Option<Calendar> {
    let at = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    deputy_calendar::parse(std::str::from_utf8(&raw[at + 4..]).ok()?).ok()
}

impl Deputy {
    /// The viewer's standing on a calendar folder, or `NotFound`.
    pub fn require_calendar(&self, principal: RecipientId, folder: FolderId) -> Result<CalendarAccess, CalendarError> {
        self.read(|s| {
            if !s.is_calendar_folder(folder) {
                return None;
            }
            s.calendar_access(principal, folder)
        })
        .ok_or(CalendarError::NotFound)
    }

    /// Every event series in a calendar folder the viewer may see at least
    /// free/busy of, unprojected: the door shows each through
    /// [`deputy_calendar::project`] with [`CalendarAccess::viewer`]. Items that no longer parse are skipped.
    pub async fn calendar_events(
        &self,
        principal: RecipientId,
        folder: FolderId,
    ) -> Result<(CalendarAccess, Vec<StoredEvent>), CalendarError> {
        let access = self.require_calendar(principal, folder)?;
        let mut out = Vec::new();
        for entry in self.mail.entries(folder).await? {
            if let Some(body) = self.mail.body(entry.blob).await?
                && let Some(calendar) = unwrap(&body)
            {
                out.push(StoredEvent { entry, calendar });
            }
        }
        Ok((access, out))
    }

    /// One event series by its iCalendar UID.
    pub async fn calendar_event(
        &self,
        principal: RecipientId,
        folder: FolderId,
        uid: &str,
    ) -> Result<(CalendarAccess, Option<StoredEvent>), CalendarError> {
        let access = self.require_calendar(principal, folder)?;
        Ok((access, self.find_event(folder, uid).await?))
    }

    /// The stored series `uid` in `folder`, without a rights check.
    pub(crate) async fn find_event(&self, folder: FolderId, uid: &str) -> Result<Option<StoredEvent>, StoreError> {
        let Some(entry) = self.mail.find_by_message_id(folder, &item_message_id(uid), DateTime::<Utc>::MIN_UTC).await?
        else {
            return Ok(None);
        };
        let Some(body) = self.mail.body(entry.blob).await? else { return Ok(None) };
        Ok(unwrap(&body).map(|calendar| StoredEvent { entry, calendar }))
    }

    /// Creates or replaces the series `calendar` holds (one UID) in a
    /// calendar folder as `principal`: a new series needs Create; replacing
    /// one needs EditAll, or EditOwn on a series the principal created; a
    /// private series may be changed only by a viewer who sees private items.
    /// Returns the item's new UID.
    pub async fn save_event(
        &self,
        principal: RecipientId,
        folder: FolderId,
        calendar: Calendar,
    ) -> Result<StoredEvent, CalendarError> {
        let access = self.require_calendar(principal, folder)?;
        let uid = single_uid(&calendar)?;
        let existing = self.find_event(folder, &uid).await?;
        let op = match &existing {
            None => FolderOp::CreateItem,
            Some(old) => {
                if old.calendar.events.iter().any(deputy_calendar::Event::is_private) && !access.viewer.can_view_private
                {
                    return Err(CalendarError::Denied("change private events"));
                }
                FolderOp::EditItem { creator: old.entry.creator }
            }
        };
        self.require(principal, folder, op).map_err(CalendarError::from)?;
        let creator = existing.as_ref().map_or(Some(principal), |old| old.entry.creator);
        self.store_event(folder, calendar, &uid, existing.map(|old| old.entry), creator).await
    }

    /// Removes a series: EditAll/DeleteAll, or DeleteOwn on the principal's own.
    pub async fn remove_event(&self, principal: RecipientId, folder: FolderId, uid: &str) -> Result<(), CalendarError> {
        let access = self.require_calendar(principal, folder)?;
        let old = self.find_event(folder, uid).await?.ok_or(CalendarError::NotFound)?;
        if old.calendar.events.iter().any(deputy_calendar::Event::is_private) && !access.viewer.can_view_private {
            return Err(CalendarError::Denied("delete private events"));
        }
        self.require(principal, folder, FolderOp::DeleteItem { creator: old.entry.creator })?;
        self.mail.expunge(folder, &[old.entry.uid]).await?;
        Ok(())
    }

    /// Writes a series without a rights check (delivery of meeting messages,
    /// or after the caller checked): the new item first, then the old one
    /// removed, so a crash between leaves two versions, never none.
    pub(crate) async fn store_event(
        &self,
        folder: FolderId,
        calendar: Calendar,
        uid: &str,
        old: Option<FolderEntry>,
        creator: Option<RecipientId>,
    ) -> Result<StoredEvent, CalendarError> {
        let raw = wrap(&calendar, uid);
        let flags = old.as_ref().map_or(MessageFlags::SEEN, |o| o.flags);
        let delivery = Delivery {
            raw,
            received: old.as_ref().map_or_else(now, |o| o.internal_date),
            message_id: Some(item_message_id(uid)),
            entries: vec![NewEntry { folder, flags, creator }],
            outbound: None,
        };
        let stored = self.mail.store(vec![delivery]).await?;
        let new_uid = stored
            .iter()
            .flat_map(|s| &s.uids)
            .find(|(f, _)| *f == folder)
            .map(|&(_, u)| u)
            .ok_or_else(|| StoreError::Backend("the store returned no UID".into()))?;
        if let Some(old) = &old {
            self.mail.expunge(folder, &[old.uid]).await?;
        }
        let entry = self.mail.entry(folder, new_uid).await?.ok_or(CalendarError::NotFound)?;
        Ok(StoredEvent { entry, calendar })
    }
}

/// The one UID a stored item holds; several series in one object are refused
/// (CalDAV's rule too, RFC 4791 §4.1).
fn single_uid(calendar: &Calendar) -> Result<String, CalendarError> {
    match calendar.uids().as_slice() {
        [uid] if !uid.is_empty() => Ok((*uid).to_owned()),
        [] | [_] => Err(CalendarError::Invalid("the calendar object has no event UID".into())),
        _ => Err(CalendarError::Invalid("a calendar object may hold one event series (one UID) only".into())),
    }
}
