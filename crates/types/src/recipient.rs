//! Recipient kinds (spec §2) and the recipient record (spec §1).

use crate::{EmailAddress, RecipientId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A name that is not one of an enumeration's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{value}\" is not a valid {what}; valid values are: {valid}")]
pub struct UnknownName {
    /// The value given.
    pub value: String,
    /// What kind of value was expected.
    pub what: &'static str,
    /// The accepted values, comma-separated.
    pub valid: String,
}

/// `RecipientTypeDetails`: what kind of object a recipient is (spec §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RecipientType {
    /// A person's mailbox.
    UserMailbox,
    /// A mailbox whose account lives in another forest (spec §9).
    LinkedMailbox,
    /// A mailbox reached only through delegation; its account is disabled.
    SharedMailbox,
    /// A room resource mailbox.
    RoomMailbox,
    /// An equipment resource mailbox.
    EquipmentMailbox,
    /// A system mailbox for moderation and approval.
    ArbitrationMailbox,
    /// A system mailbox for eDiscovery results.
    DiscoveryMailbox,
    /// An account whose mail goes to an external address.
    MailUser,
    /// An account that is not mail-enabled.
    User,
    /// A distribution group.
    MailUniversalDistributionGroup,
    /// A mail-enabled security group.
    MailUniversalSecurityGroup,
    /// A security group that is not mail-enabled.
    SecurityGroup,
    /// A group whose members are computed from a filter (spec §6).
    DynamicDistributionGroup,
    /// A Microsoft 365 group.
    GroupMailbox,
}

impl RecipientType {
    /// Every kind, in the order of the spec §2 table.
    pub const ALL: [RecipientType; 14] = [
        Self::UserMailbox,
        Self::LinkedMailbox,
        Self::SharedMailbox,
        Self::RoomMailbox,
        Self::EquipmentMailbox,
        Self::ArbitrationMailbox,
        Self::DiscoveryMailbox,
        Self::MailUser,
        Self::User,
        Self::MailUniversalDistributionGroup,
        Self::MailUniversalSecurityGroup,
        Self::SecurityGroup,
        Self::DynamicDistributionGroup,
        Self::GroupMailbox,
    ];

    /// The Exchange name, as `RecipientTypeDetails` prints it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::UserMailbox => "UserMailbox",
            Self::LinkedMailbox => "LinkedMailbox",
            Self::SharedMailbox => "SharedMailbox",
            Self::RoomMailbox => "RoomMailbox",
            Self::EquipmentMailbox => "EquipmentMailbox",
            Self::ArbitrationMailbox => "ArbitrationMailbox",
            Self::DiscoveryMailbox => "DiscoveryMailbox",
            Self::MailUser => "MailUser",
            Self::User => "User",
            Self::MailUniversalDistributionGroup => "MailUniversalDistributionGroup",
            Self::MailUniversalSecurityGroup => "MailUniversalSecurityGroup",
            Self::SecurityGroup => "SecurityGroup",
            Self::DynamicDistributionGroup => "DynamicDistributionGroup",
            Self::GroupMailbox => "GroupMailbox",
        }
    }

    /// The coarser `RecipientType` Exchange reports beside the details
    /// (`UserMailbox`, `MailUser`, `User`, `MailUniversalDistributionGroup`, …).
    pub const fn recipient_type(self) -> &'static str {
        match self {
            Self::UserMailbox
            | Self::LinkedMailbox
            | Self::SharedMailbox
            | Self::RoomMailbox
            | Self::EquipmentMailbox
            | Self::ArbitrationMailbox
            | Self::DiscoveryMailbox => "UserMailbox",
            Self::MailUser => "MailUser",
            Self::User => "User",
            Self::MailUniversalDistributionGroup => "MailUniversalDistributionGroup",
            Self::MailUniversalSecurityGroup => "MailUniversalSecurityGroup",
            Self::SecurityGroup => "Group",
            Self::DynamicDistributionGroup => "DynamicDistributionGroup",
            Self::GroupMailbox => "MailUniversalDistributionGroup",
        }
    }

    /// Whether the recipient has a mailbox of its own (spec §2).
    pub const fn has_mailbox(self) -> bool {
        matches!(
            self,
            Self::UserMailbox
                | Self::LinkedMailbox
                | Self::SharedMailbox
                | Self::RoomMailbox
                | Self::EquipmentMailbox
                | Self::ArbitrationMailbox
                | Self::DiscoveryMailbox
                | Self::GroupMailbox
        )
    }

    /// Whether the account may sign in (spec §2). Linked mailboxes sign in
    /// through their linked account; Deputy treats that as signing in.
    pub const fn can_sign_in(self) -> bool {
        matches!(self, Self::UserMailbox | Self::LinkedMailbox | Self::MailUser | Self::User)
    }

    /// Whether the recipient is a group of any kind.
    pub const fn is_group(self) -> bool {
        matches!(
            self,
            Self::MailUniversalDistributionGroup
                | Self::MailUniversalSecurityGroup
                | Self::SecurityGroup
                | Self::DynamicDistributionGroup
                | Self::GroupMailbox
        )
    }

    /// Whether the group has a stored member list (every group but dynamic ones).
    pub const fn has_static_members(self) -> bool {
        self.is_group() && !matches!(self, Self::DynamicDistributionGroup)
    }

    /// Whether the recipient has an e-mail address (everything but plain users
    /// and plain security groups).
    pub const fn is_mail_enabled(self) -> bool {
        !matches!(self, Self::User | Self::SecurityGroup)
    }

    /// Whether Exchange hides the recipient from address lists by default.
    pub const fn hidden_by_default(self) -> bool {
        matches!(self, Self::ArbitrationMailbox | Self::DiscoveryMailbox)
    }

    /// Parses the Exchange name, ignoring case.
    pub fn parse(s: &str) -> Result<Self, UnknownName> {
        Self::ALL.into_iter().find(|k| k.as_str().eq_ignore_ascii_case(s)).ok_or_else(|| UnknownName {
            value: s.to_owned(),
            what: "RecipientTypeDetails",
            valid: Self::ALL.map(|k| k.as_str()).join(", "),
        })
    }
}

impl fmt::Display for RecipientType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who receives the meeting requests and responses addressed to a mailbox
/// that has calendar delegates (spec §10): one setting for all its delegates.
/// Spelled as Graph's `delegateMeetingMessageDeliveryOptions` values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MeetingDelivery {
    /// The delegates only; the mailbox's own copy goes to Deleted Items
    /// (Graph's documented default; EWS `DelegatesOnly`).
    #[default]
    SendToDelegateOnly,
    /// The delegates get the actionable request; the mailbox an informational
    /// copy without Accept/Decline (EWS `DelegatesAndSendInformationToMe`).
    SendToDelegateAndInformationToPrincipal,
    /// The delegates and the mailbox both get the request (EWS `DelegatesAndMe`).
    SendToDelegateAndPrincipal,
}

impl MeetingDelivery {
    /// Every value, in Graph's order.
    pub const ALL: [Self; 3] =
        [Self::SendToDelegateOnly, Self::SendToDelegateAndInformationToPrincipal, Self::SendToDelegateAndPrincipal];

    /// Graph's spelling (`sendToDelegateOnly`, …).
    pub fn graph_name(self) -> &'static str {
        match self {
            Self::SendToDelegateOnly => "sendToDelegateOnly",
            Self::SendToDelegateAndInformationToPrincipal => "sendToDelegateAndInformationToPrincipal",
            Self::SendToDelegateAndPrincipal => "sendToDelegateAndPrincipal",
        }
    }

    /// Parses Graph's spelling, ignoring case (as PowerShell enums do).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.graph_name().eq_ignore_ascii_case(text.trim()))
    }
}

impl std::fmt::Display for MeetingDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.graph_name())
    }
}

/// A directory object: mailbox, user, group or contact (spec §1, §2).
///
/// `DistinguishedName` is not stored: it is derived from `name` and the
/// organization's domain, so a rename can never leave it stale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    /// `Guid`.
    pub id: RecipientId,
    /// `RecipientTypeDetails`.
    pub kind: RecipientType,
    /// `Name`, unique in the organization.
    pub name: String,
    /// `Alias` (mailNickname).
    pub alias: String,
    /// `DisplayName`.
    pub display_name: String,
    /// `PrimarySmtpAddress`; `None` for objects that are not mail-enabled.
    pub primary_smtp: Option<EmailAddress>,
    /// Secondary SMTP proxy addresses (`smtp:` entries of `EmailAddresses`);
    /// the primary is not repeated here.
    pub proxy_addresses: Vec<EmailAddress>,
    /// `UserPrincipalName`, for recipients with an account.
    pub upn: Option<String>,
    /// `ExternalEmailAddress` of a mail user: where its mail goes.
    pub external_address: Option<EmailAddress>,
    /// `HiddenFromAddressListsEnabled`.
    pub hidden: bool,
    /// Whether the account is disabled (always for shared and resource mailboxes).
    pub account_disabled: bool,
    /// Whether the account may administer the organization (Organization Management).
    pub is_admin: bool,
    /// Argon2 PHC string of the password, for recipients with an account.
    pub password_hash: Option<String>,
    /// `GrantSendOnBehalfTo` (spec §3.3).
    pub grant_send_on_behalf_to: Vec<RecipientId>,
    /// `MessageCopyForSentAsEnabled` (spec §4.2).
    pub message_copy_for_sent_as: bool,
    /// `MessageCopyForSendOnBehalfEnabled` (spec §4.2).
    pub message_copy_for_send_on_behalf: bool,
    /// Where meeting messages for a mailbox with calendar delegates go
    /// (Graph `mailboxSettings.delegateMeetingMessageDeliveryOptions`, spec §10).
    #[serde(default)]
    pub meeting_delivery: MeetingDelivery,
    /// `RecipientFilter` of a dynamic distribution group, in OPATH (spec §6).
    pub recipient_filter: Option<String>,
    /// Free-form attributes that filters and address lists read
    /// (`Department`, `Company`, `Title`, `Office`, `City`, `CustomAttribute1`, …),
    /// keyed by their Exchange property name.
    pub attributes: Vec<(String, String)>,
    /// `WhenCreated`.
    pub created: DateTime<Utc>,
}

impl Recipient {
    /// A recipient of `kind` with the given names and everything else empty or default.
    pub fn new(id: RecipientId, kind: RecipientType, name: &str, alias: &str, created: DateTime<Utc>) -> Self {
        Self {
            id,
            kind,
            name: name.to_owned(),
            alias: alias.to_owned(),
            display_name: name.to_owned(),
            primary_smtp: None,
            proxy_addresses: Vec::new(),
            upn: None,
            external_address: None,
            hidden: kind.hidden_by_default(),
            account_disabled: !kind.can_sign_in(),
            is_admin: false,
            password_hash: None,
            grant_send_on_behalf_to: Vec::new(),
            message_copy_for_sent_as: false,
            message_copy_for_send_on_behalf: false,
            meeting_delivery: MeetingDelivery::default(),
            recipient_filter: None,
            attributes: Vec::new(),
            created,
        }
    }

    /// Every SMTP address, primary first.
    pub fn smtp_addresses(&self) -> impl Iterator<Item = &EmailAddress> {
        self.primary_smtp.iter().chain(self.proxy_addresses.iter())
    }

    /// A free-form attribute by its property name, ignoring case.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Sets (or with an empty value, clears) a free-form attribute.
    pub fn set_attribute(&mut self, name: &str, value: &str) {
        self.attributes.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        if !value.is_empty() {
            self.attributes.push((name.to_owned(), value.to_owned()));
        }
    }
}
