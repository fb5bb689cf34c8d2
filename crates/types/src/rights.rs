//! Mailbox rights (spec §3.1), folder rights and roles (spec §5).

use crate::UnknownName;
use serde::{Deserialize, Serialize};

bitflags::bitflags! {
    /// `MailboxRights` of an `Add-MailboxPermission` entry (spec §3.1).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(transparent)]
    pub struct MailboxRights: u16 {
        /// Open the mailbox and everything in it.
        const FULL_ACCESS = 1;
        /// Only listed: kept as Exchange keeps it.
        const READ_PERMISSION = 1 << 1;
        /// Only listed.
        const CHANGE_PERMISSION = 1 << 2;
        /// Only listed.
        const CHANGE_OWNER = 1 << 3;
        /// Only listed.
        const DELETE_ITEM = 1 << 4;
        /// Only listed.
        const EXTERNAL_ACCOUNT = 1 << 5;
        /// Accepted by `Remove-MailboxPermission` only (spec §3.1).
        const SEND_AS = 1 << 6;
    }
}

const MAILBOX_RIGHT_NAMES: [(MailboxRights, &str); 7] = [
    (MailboxRights::FULL_ACCESS, "FullAccess"),
    (MailboxRights::SEND_AS, "SendAs"),
    (MailboxRights::EXTERNAL_ACCOUNT, "ExternalAccount"),
    (MailboxRights::DELETE_ITEM, "DeleteItem"),
    (MailboxRights::READ_PERMISSION, "ReadPermission"),
    (MailboxRights::CHANGE_PERMISSION, "ChangePermission"),
    (MailboxRights::CHANGE_OWNER, "ChangeOwner"),
];

impl MailboxRights {
    /// Parses one right's Exchange name, ignoring case.
    pub fn parse_one(s: &str) -> Result<Self, UnknownName> {
        MAILBOX_RIGHT_NAMES.iter().find(|(_, n)| n.eq_ignore_ascii_case(s.trim())).map(|(r, _)| *r).ok_or_else(|| {
            UnknownName {
                value: s.to_owned(),
                what: "MailboxRights value",
                valid: MAILBOX_RIGHT_NAMES.map(|(_, n)| n).join(", "),
            }
        })
    }

    /// The Exchange names of the rights set, in Exchange's order.
    pub fn names(self) -> Vec<&'static str> {
        MAILBOX_RIGHT_NAMES.iter().filter(|(r, _)| self.contains(*r)).map(|(_, n)| *n).collect()
    }
}

/// `-InheritanceType` of a mailbox permission entry; `All` by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum InheritanceType {
    /// Only the mailbox object.
    None,
    /// The mailbox and everything below it.
    #[default]
    All,
    /// The children only.
    Children,
    /// All descendants (Exchange's spelling).
    Descendents,
    /// The object and its children.
    SelfAndChildren,
}

impl InheritanceType {
    const ALL: [Self; 5] = [Self::None, Self::All, Self::Children, Self::Descendents, Self::SelfAndChildren];

    /// The Exchange name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::None => "None",
            Self::All => "All",
            Self::Children => "Children",
            Self::Descendents => "Descendents",
            Self::SelfAndChildren => "SelfAndChildren",
        }
    }

    /// Parses the Exchange name, ignoring case.
    pub fn parse(s: &str) -> Result<Self, UnknownName> {
        Self::ALL.into_iter().find(|k| k.as_str().eq_ignore_ascii_case(s.trim())).ok_or_else(|| UnknownName {
            value: s.to_owned(),
            what: "InheritanceType",
            valid: Self::ALL.map(|k| k.as_str()).join(", "),
        })
    }
}

bitflags::bitflags! {
    /// Folder rights, with MAPI's `PidTagMemberRights` bit values (MS-OXCPERM 2.2.7).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(transparent)]
    pub struct FolderRights: u32 {
        /// `ReadItems`.
        const READ_ITEMS = 0x1;
        /// `CreateItems`.
        const CREATE_ITEMS = 0x2;
        /// `EditOwnedItems`.
        const EDIT_OWNED = 0x8;
        /// `DeleteOwnedItems`.
        const DELETE_OWNED = 0x10;
        /// `EditAllItems`.
        const EDIT_ALL = 0x20;
        /// `DeleteAllItems`.
        const DELETE_ALL = 0x40;
        /// `CreateSubfolders`.
        const CREATE_SUBFOLDERS = 0x80;
        /// `FolderOwner`.
        const FOLDER_OWNER = 0x100;
        /// `FolderContact`.
        const FOLDER_CONTACT = 0x200;
        /// `FolderVisible`.
        const FOLDER_VISIBLE = 0x400;
        /// Calendar free/busy time only.
        const FREE_BUSY_SIMPLE = 0x800;
        /// Calendar free/busy with subject and location.
        const FREE_BUSY_DETAILED = 0x1000;
    }
}

const FOLDER_RIGHT_NAMES: [(FolderRights, &str); 12] = [
    (FolderRights::READ_ITEMS, "ReadItems"),
    (FolderRights::CREATE_ITEMS, "CreateItems"),
    (FolderRights::EDIT_OWNED, "EditOwnedItems"),
    (FolderRights::DELETE_OWNED, "DeleteOwnedItems"),
    (FolderRights::EDIT_ALL, "EditAllItems"),
    (FolderRights::DELETE_ALL, "DeleteAllItems"),
    (FolderRights::CREATE_SUBFOLDERS, "CreateSubfolders"),
    (FolderRights::FOLDER_OWNER, "FolderOwner"),
    (FolderRights::FOLDER_CONTACT, "FolderContact"),
    (FolderRights::FOLDER_VISIBLE, "FolderVisible"),
    (FolderRights::FREE_BUSY_SIMPLE, "FreeBusySimple"),
    (FolderRights::FREE_BUSY_DETAILED, "FreeBusyDetailed"),
];

/// A named set of folder rights (spec §5 table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FolderRole {
    /// Everything.
    Owner,
    /// Editor plus subfolders.
    PublishingEditor,
    /// Read, create, edit and delete any item.
    Editor,
    /// Author plus subfolders.
    PublishingAuthor,
    /// Read, create, edit and delete own items.
    Author,
    /// Read, create, delete own items.
    NonEditingAuthor,
    /// Read.
    Reviewer,
    /// Create only.
    Contributor,
    /// Calendar: free/busy only.
    AvailabilityOnly,
    /// Calendar: free/busy, subject and location.
    LimitedDetails,
    /// Folder visible, nothing else (spec §5).
    None,
}

impl FolderRole {
    /// Every role, most powerful first.
    pub const ALL: [Self; 11] = [
        Self::Owner,
        Self::PublishingEditor,
        Self::Editor,
        Self::PublishingAuthor,
        Self::Author,
        Self::NonEditingAuthor,
        Self::Reviewer,
        Self::Contributor,
        Self::AvailabilityOnly,
        Self::LimitedDetails,
        Self::None,
    ];

    /// The rights the role stands for (spec §5 table).
    pub const fn rights(self) -> FolderRights {
        const R: u32 = FolderRights::READ_ITEMS.bits();
        const C: u32 = FolderRights::CREATE_ITEMS.bits();
        const EO: u32 = FolderRights::EDIT_OWNED.bits();
        const DO: u32 = FolderRights::DELETE_OWNED.bits();
        const EA: u32 = FolderRights::EDIT_ALL.bits();
        const DA: u32 = FolderRights::DELETE_ALL.bits();
        const SF: u32 = FolderRights::CREATE_SUBFOLDERS.bits();
        const FO: u32 = FolderRights::FOLDER_OWNER.bits();
        const FC: u32 = FolderRights::FOLDER_CONTACT.bits();
        const FV: u32 = FolderRights::FOLDER_VISIBLE.bits();
        const FBS: u32 = FolderRights::FREE_BUSY_SIMPLE.bits();
        const FBD: u32 = FolderRights::FREE_BUSY_DETAILED.bits();
        FolderRights::from_bits_truncate(match self {
            Self::Owner => R | C | EO | DO | EA | DA | SF | FO | FC | FV,
            Self::PublishingEditor => R | C | EO | DO | EA | DA | SF | FV,
            Self::Editor => R | C | EO | DO | EA | DA | FV,
            Self::PublishingAuthor => R | C | EO | DO | SF | FV,
            Self::Author => R | C | EO | DO | FV,
            Self::NonEditingAuthor => R | C | DO | FV,
            Self::Reviewer => R | FV,
            Self::Contributor => C | FV,
            Self::AvailabilityOnly => FBS,
            Self::LimitedDetails => FBS | FBD,
            Self::None => FV,
        })
    }

    /// The Exchange name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "Owner",
            Self::PublishingEditor => "PublishingEditor",
            Self::Editor => "Editor",
            Self::PublishingAuthor => "PublishingAuthor",
            Self::Author => "Author",
            Self::NonEditingAuthor => "NonEditingAuthor",
            Self::Reviewer => "Reviewer",
            Self::Contributor => "Contributor",
            Self::AvailabilityOnly => "AvailabilityOnly",
            Self::LimitedDetails => "LimitedDetails",
            Self::None => "None",
        }
    }

    /// The role whose rights are exactly `rights`, if any.
    pub fn of(rights: FolderRights) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.rights() == rights)
    }
}

impl FolderRights {
    /// Parses a list of role or right names as `-AccessRights` takes them: one
    /// role, or individual rights (`None` alone means no rights at all; as a
    /// role, spec §5 gives it FolderVisible, so a lone `None` is the role).
    pub fn parse_access_rights<S: AsRef<str>>(values: &[S]) -> Result<Self, UnknownName> {
        let unknown = |v: &str| UnknownName {
            value: v.to_owned(),
            what: "MailboxFolderAccessRight value",
            valid: FolderRole::ALL
                .iter()
                .map(|r| r.as_str())
                .chain(FOLDER_RIGHT_NAMES.iter().map(|(_, n)| *n))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let mut rights = FolderRights::empty();
        for v in values {
            let v = v.as_ref().trim();
            if let Some(role) = FolderRole::ALL.into_iter().find(|r| r.as_str().eq_ignore_ascii_case(v)) {
                rights |= role.rights();
            } else if let Some((r, _)) = FOLDER_RIGHT_NAMES.iter().find(|(_, n)| n.eq_ignore_ascii_case(v)) {
                rights |= *r;
            } else {
                return Err(unknown(v));
            }
        }
        Ok(rights)
    }

    /// How Exchange prints the rights: the role name when they form a role,
    /// otherwise the individual rights (`None` when empty).
    pub fn display_names(self) -> Vec<&'static str> {
        if let Some(role) = FolderRole::of(self) {
            return vec![role.as_str()];
        }
        if self.is_empty() {
            return vec!["None"];
        }
        FOLDER_RIGHT_NAMES.iter().filter(|(r, _)| self.contains(*r)).map(|(_, n)| *n).collect()
    }
}

bitflags::bitflags! {
    /// `-SharingPermissionFlags` of a calendar folder entry (spec §5, §10).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
    #[serde(transparent)]
    pub struct SharingFlags: u8 {
        /// The trustee is a calendar delegate.
        const DELEGATE = 1;
        /// The delegate sees private items (requires `DELEGATE`).
        const CAN_VIEW_PRIVATE_ITEMS = 2;
    }
}

impl SharingFlags {
    /// Parses `None`, `Delegate`, `CanViewPrivateItems`, comma-separated or as a list.
    pub fn parse_list<S: AsRef<str>>(values: &[S]) -> Result<Self, UnknownName> {
        let mut flags = Self::empty();
        for v in values {
            for part in v.as_ref().split(',') {
                match part.trim().to_ascii_lowercase().as_str() {
                    "none" => {}
                    "delegate" => flags |= Self::DELEGATE,
                    "canviewprivateitems" => flags |= Self::CAN_VIEW_PRIVATE_ITEMS,
                    _ => {
                        return Err(UnknownName {
                            value: part.trim().to_owned(),
                            what: "SharingPermissionFlags value",
                            valid: "None, Delegate, CanViewPrivateItems".to_owned(),
                        });
                    }
                }
            }
        }
        Ok(flags)
    }

    /// Exchange's rendering: `None`, `Delegate` or `Delegate, CanViewPrivateItems`.
    pub fn display(self) -> String {
        let mut parts = Vec::new();
        if self.contains(Self::DELEGATE) {
            parts.push("Delegate");
        }
        if self.contains(Self::CAN_VIEW_PRIVATE_ITEMS) {
            parts.push("CanViewPrivateItems");
        }
        if parts.is_empty() { "None".to_owned() } else { parts.join(", ") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_masks_match_mapi_values() {
        // MS-OXCPERM: Reviewer 0x401, Editor 0x47B, Owner 0x7FB.
        assert_eq!(FolderRole::Reviewer.rights().bits(), 0x401);
        assert_eq!(FolderRole::Editor.rights().bits(), 0x47B);
        assert_eq!(FolderRole::Owner.rights().bits(), 0x7FB);
    }

    #[test]
    fn rights_print_as_role_when_they_form_one() {
        let r = FolderRights::parse_access_rights(&["ReadItems", "FolderVisible"]).unwrap();
        assert_eq!(r.display_names(), vec!["Reviewer"]);
        let r = FolderRights::parse_access_rights(&["ReadItems"]).unwrap();
        assert_eq!(r.display_names(), vec!["ReadItems"]);
        assert_eq!(FolderRights::empty().display_names(), vec!["None"]);
    }

    #[test]
    fn unknown_rights_are_named() {
        let e = FolderRights::parse_access_rights(&["Editor", "Boss"]).unwrap_err();
        assert_eq!(e.value, "Boss");
        assert!(MailboxRights::parse_one("fullaccess").is_ok());
        assert!(MailboxRights::parse_one("Full").is_err());
    }
}
