//! Mailbox folders and their well-known kinds (spec §5, Graph well-known names).

use crate::{FolderId, RecipientId};
use serde::{Deserialize, Serialize};

/// A folder every mailbox has, whatever its display name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WellKnownFolder {
    /// "Top of Information Store": the parent of every other folder.
    Root,
    /// Inbox.
    Inbox,
    /// Sent Items.
    SentItems,
    /// Drafts.
    Drafts,
    /// Deleted Items.
    DeletedItems,
    /// Junk Email.
    JunkEmail,
    /// Outbox.
    Outbox,
    /// Archive.
    Archive,
    /// Calendar.
    Calendar,
    /// Contacts.
    Contacts,
    /// Tasks.
    Tasks,
    /// Notes.
    Notes,
}

impl WellKnownFolder {
    /// The folders created with every mailbox, the root first.
    pub const ALL: [Self; 12] = [
        Self::Root,
        Self::Inbox,
        Self::SentItems,
        Self::Drafts,
        Self::DeletedItems,
        Self::JunkEmail,
        Self::Outbox,
        Self::Archive,
        Self::Calendar,
        Self::Contacts,
        Self::Tasks,
        Self::Notes,
    ];

    /// The English display name Exchange gives the folder.
    pub const fn display_name(self) -> &'static str {
        match self {
            Self::Root => "Top of Information Store",
            Self::Inbox => "Inbox",
            Self::SentItems => "Sent Items",
            Self::Drafts => "Drafts",
            Self::DeletedItems => "Deleted Items",
            Self::JunkEmail => "Junk Email",
            Self::Outbox => "Outbox",
            Self::Archive => "Archive",
            Self::Calendar => "Calendar",
            Self::Contacts => "Contacts",
            Self::Tasks => "Tasks",
            Self::Notes => "Notes",
        }
    }

    /// `FolderType` in `Get-MailboxFolderStatistics`.
    pub const fn folder_type(self) -> &'static str {
        match self {
            Self::Root => "Root",
            Self::Inbox => "Inbox",
            Self::SentItems => "SentItems",
            Self::Drafts => "Drafts",
            Self::DeletedItems => "DeletedItems",
            Self::JunkEmail => "JunkEmail",
            Self::Outbox => "Outbox",
            Self::Archive => "Archive",
            Self::Calendar => "Calendar",
            Self::Contacts => "Contacts",
            Self::Tasks => "Tasks",
            Self::Notes => "Notes",
        }
    }

    /// Graph's locale-independent well-known name (`inbox`, `sentitems`, …).
    pub const fn graph_name(self) -> &'static str {
        match self {
            Self::Root => "msgfolderroot",
            Self::Inbox => "inbox",
            Self::SentItems => "sentitems",
            Self::Drafts => "drafts",
            Self::DeletedItems => "deleteditems",
            Self::JunkEmail => "junkemail",
            Self::Outbox => "outbox",
            Self::Archive => "archive",
            Self::Calendar => "calendar",
            Self::Contacts => "contacts",
            Self::Tasks => "tasks",
            Self::Notes => "notes",
        }
    }

    /// Recognizes a display name or a Graph well-known name, ignoring case and spaces.
    pub fn parse(s: &str) -> Option<Self> {
        let folded: String = s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase();
        Self::ALL
            .into_iter()
            .find(|w| w.graph_name() == folded || w.display_name().replace(' ', "").eq_ignore_ascii_case(&folded))
    }

    /// Whether the folder holds calendar items (`AvailabilityOnly` and delegates apply).
    pub const fn is_calendar(self) -> bool {
        matches!(self, Self::Calendar)
    }
}

/// A folder of a mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Folder {
    /// Its identifier.
    pub id: FolderId,
    /// The mailbox it belongs to.
    pub mailbox: RecipientId,
    /// Its parent; `None` only for the root.
    pub parent: Option<FolderId>,
    /// Its display name.
    pub name: String,
    /// What it is, when it is one of the folders every mailbox has.
    pub well_known: Option<WellKnownFolder>,
}
