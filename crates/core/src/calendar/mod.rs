//! Calendars (spec §5, §10): who a mailbox's calendar delegates are, what a
//! viewer may see of an event, meeting messages delivered to a mailbox with
//! delegates, and a delegate acting on the manager's behalf.
//!
//! Events live as items in the mailbox's Calendar folder (as Kolab keeps
//! them in IMAP folders): each item is a small MIME message whose body is the
//! iCalendar object, so the folder's UIDs, mod-sequences, creators and the
//! folder permission engine serve calendars exactly as they serve mail.

mod freebusy;
mod items;
pub(crate) mod meetings;

pub use freebusy::{FreeBusyItem, FreeBusyView, MAX_ITEMS, MAX_PER_SERIES, MAX_WINDOW_DAYS};
pub use items::StoredEvent;

use crate::State;
use crate::mailbox::MailboxError;
use deputy_access::{Permission, Reason};
use deputy_calendar::{Viewer, Visibility};
use deputy_store::StoreError;
use deputy_types::{Folder, FolderId, FolderRights, FolderUser, RecipientId, SharingFlags, WellKnownFolder};

/// Why a calendar operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// No such calendar or event, or the caller may not see it (alike).
    #[error("The specified object was not found in the store.")]
    NotFound,
    /// Visible, but the caller lacks the right.
    #[error("You don't have the right to {0} in this calendar.")]
    Denied(&'static str),
    /// The iCalendar data or the request is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// The reply could not be sent (the submission pipeline refused it).
    #[error(transparent)]
    Send(#[from] crate::mail::MailError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<MailboxError> for CalendarError {
    fn from(e: MailboxError) -> Self {
        match e {
            MailboxError::NotFound => Self::NotFound,
            MailboxError::Denied(what) => Self::Denied(what),
            MailboxError::Store(e) => Self::Store(e),
        }
    }
}

impl From<deputy_calendar::Error> for CalendarError {
    fn from(e: deputy_calendar::Error) -> Self {
        Self::Invalid(e.to_string())
    }
}

impl State {
    /// Whether `folder` holds events: a Calendar folder or one below it.
    pub fn is_calendar_folder(&self, folder: FolderId) -> bool {
        let mut cur = self.folder(folder);
        while let Some(f) = cur {
            if f.well_known.is_some_and(WellKnownFolder::is_calendar) {
                return true;
            }
            cur = f.parent.and_then(|p| self.folder(p));
        }
        false
    }

    /// The mailbox's primary Calendar folder.
    pub fn calendar_folder(&self, mailbox: RecipientId) -> Option<FolderId> {
        crate::mail::rules::well_known(self, mailbox, WellKnownFolder::Calendar)
    }

    /// The calendars of `mailbox` that `principal` may see, with its access
    /// to each: the primary Calendar first, then the calendars below it
    /// (Graph's `/calendars`, CalDAV's calendar home), by name. A calendar
    /// the principal may not even see free/busy in is left out.
    pub fn calendars_of(&self, principal: RecipientId, mailbox: RecipientId) -> Vec<(&Folder, CalendarAccess)> {
        let Some(primary) = self.calendar_folder(mailbox) else { return Vec::new() };
        let mut out: Vec<(&Folder, CalendarAccess)> = self
            .folders_of(mailbox)
            .filter(|f| f.id == primary || self.is_calendar_folder(f.id))
            .filter_map(|f| Some((f, self.calendar_access(principal, f.id)?)))
            .collect();
        out.sort_by(|(a, _), (b, _)| (a.id != primary).cmp(&(b.id != primary)).then_with(|| a.name.cmp(&b.name)));
        out
    }

    /// The calendar delegates of a mailbox: the entries on its primary
    /// Calendar with the `Delegate` flag (spec §10), as entered (a group
    /// stays a group), in entry order.
    pub fn calendar_delegates(&self, mailbox: RecipientId) -> Vec<(RecipientId, SharingFlags)> {
        let Some(calendar) = self.calendar_folder(mailbox) else { return Vec::new() };
        self.folder_aces(calendar)
            .iter()
            .filter(|a| a.flags.contains(SharingFlags::DELEGATE))
            .filter_map(|a| match a.user {
                FolderUser::Recipient(id) => Some((id, a.flags)),
                _ => None,
            })
            .collect()
    }
}

/// A viewer's standing on one calendar folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalendarAccess {
    /// What the viewer sees (pass each event through
    /// [`deputy_calendar::project`]): the role's detail, and private events
    /// in full only for the owner, Full Access (as in Exchange Online) or
    /// `CanViewPrivateItems`; everyone else sees them as busy time.
    pub viewer: Viewer,
    /// The folder rights behind it (create, edit, delete own or all).
    pub rights: FolderRights,
    /// Whether the viewer is one of the mailbox's calendar delegates.
    pub delegate: bool,
}

impl State {
    /// What `principal` may see and do in the calendar `folder`; `None` when
    /// it may not even see free/busy there (answer as if it did not exist).
    pub fn calendar_access(&self, principal: RecipientId, folder: FolderId) -> Option<CalendarAccess> {
        let (rights, flags, reason) = self.access.folder_rights(principal, folder);
        let full = matches!(reason, Reason::Owner)
            || matches!(&reason, Reason::Granted(g) if g.permission == Permission::FullAccess);
        let visibility = if rights.contains(FolderRights::READ_ITEMS) {
            Visibility::Full
        } else if rights.contains(FolderRights::FREE_BUSY_DETAILED) {
            Visibility::Limited
        } else if rights.contains(FolderRights::FREE_BUSY_SIMPLE) {
            Visibility::FreeBusy
        } else {
            return None;
        };
        let can_view_private = full || flags.contains(SharingFlags::CAN_VIEW_PRIVATE_ITEMS);
        Some(CalendarAccess {
            viewer: Viewer { visibility, can_view_private },
            rights,
            delegate: flags.contains(SharingFlags::DELEGATE),
        })
    }

    /// The mailboxes that receive a mailbox's meeting messages as its
    /// delegates: every delegate entry, groups expanded, each mailbox once,
    /// never the mailbox itself nor one that may not act (disabled, hidden
    /// target: the engine decides).
    pub fn meeting_delegates(&self, mailbox: RecipientId) -> Vec<RecipientId> {
        let mut out = Vec::new();
        for (holder, _) in self.calendar_delegates(mailbox) {
            for id in self.dir.expand(holder).unwrap_or_default() {
                let Some(calendar) = self.calendar_folder(mailbox) else { continue };
                let may = self.calendar_access(id, calendar).is_some_and(|a| a.delegate);
                if id != mailbox && may && !out.contains(&id) && self.dir.get(id).is_some_and(|r| r.kind.has_mailbox())
                {
                    out.push(id);
                }
            }
        }
        out
    }
}
