//! Every cmdlet's parameters, as Microsoft documents them (interface.md).
//! Parameters Exchange has but Deputy does not need are accepted where
//! scripts commonly pass them (`-DomainController`, `-Force`, …) and ignored.

use deputy_pwsh::{CommandInfo, ParamInfo, ParamKind as K};

/// One cmdlet's definition.
pub(crate) struct Spec {
    pub name: &'static str,
    pub params: &'static [ParamInfo],
}

pub(crate) const fn p(name: &'static str, kind: K) -> ParamInfo {
    ParamInfo::new(name, kind)
}

const MAILBOX_RIGHTS: &[&str] =
    &["FullAccess", "SendAs", "ExternalAccount", "DeleteItem", "ReadPermission", "ChangePermission", "ChangeOwner"];
const ADD_MAILBOX_RIGHTS: &[&str] =
    &["FullAccess", "ExternalAccount", "DeleteItem", "ReadPermission", "ChangePermission", "ChangeOwner"];
const INHERITANCE: &[&str] = &["None", "All", "Children", "Descendents", "SelfAndChildren"];
pub(crate) const RECIPIENT_TYPES: &[&str] = &[
    "UserMailbox",
    "LinkedMailbox",
    "SharedMailbox",
    "RoomMailbox",
    "EquipmentMailbox",
    "ArbitrationMailbox",
    "DiscoveryMailbox",
    "MailUser",
    "User",
    "MailUniversalDistributionGroup",
    "MailUniversalSecurityGroup",
    "SecurityGroup",
    "DynamicDistributionGroup",
    "GroupMailbox",
];

pub(crate) const IDENTITY: ParamInfo = p("Identity", K::String).at(0).mandatory().by_property_name();
pub(crate) const IDENTITY_OPT: ParamInfo = p("Identity", K::String).at(0).by_property_name();
const DOMAIN_CONTROLLER: ParamInfo = p("DomainController", K::String);
const RESULT_SIZE: ParamInfo = p("ResultSize", K::String);
const NAME_POS: ParamInfo = p("Name", K::String).at(0).mandatory();
const ALIAS: ParamInfo = p("Alias", K::String);
const DISPLAY_NAME: ParamInfo = p("DisplayName", K::String);
const PRIMARY_SMTP: ParamInfo = p("PrimarySmtpAddress", K::String);
const UPN: ParamInfo = p("UserPrincipalName", K::String).aliases(&["MicrosoftOnlineServicesID"]);
const PASSWORD: ParamInfo = p("Password", K::SecureString);
const FIRST_NAME: ParamInfo = p("FirstName", K::String);
const LAST_NAME: ParamInfo = p("LastName", K::String);
const SOB: ParamInfo = p("GrantSendOnBehalfTo", K::MultiValued);
const HIDDEN: ParamInfo = p("HiddenFromAddressListsEnabled", K::Bool);
const EMAIL_ADDRESSES: ParamInfo = p("EmailAddresses", K::MultiValued);
const NEW_NAME: ParamInfo = p("Name", K::String);
const ANR: ParamInfo = p("Anr", K::String);
const TYPE_DETAILS: ParamInfo = p("RecipientTypeDetails", K::Enums(RECIPIENT_TYPES));

/// Free-form attributes (spec §6 filters read them).
pub(crate) const ATTRIBUTES: &[&str] = &[
    "Department",
    "Company",
    "Title",
    "Office",
    "City",
    "StateOrProvince",
    "CountryOrRegion",
    "CustomAttribute1",
    "CustomAttribute2",
    "CustomAttribute3",
    "CustomAttribute4",
    "CustomAttribute5",
    "CustomAttribute6",
    "CustomAttribute7",
    "CustomAttribute8",
    "CustomAttribute9",
    "CustomAttribute10",
    "CustomAttribute11",
    "CustomAttribute12",
    "CustomAttribute13",
    "CustomAttribute14",
    "CustomAttribute15",
];

macro_rules! attrs {
    () => {
        [
            p("Department", K::String),
            p("Company", K::String),
            p("Title", K::String),
            p("Office", K::String),
            p("City", K::String),
            p("StateOrProvince", K::String),
            p("CountryOrRegion", K::String),
            p("CustomAttribute1", K::String),
            p("CustomAttribute2", K::String),
            p("CustomAttribute3", K::String),
            p("CustomAttribute4", K::String),
            p("CustomAttribute5", K::String),
            p("CustomAttribute6", K::String),
            p("CustomAttribute7", K::String),
            p("CustomAttribute8", K::String),
            p("CustomAttribute9", K::String),
            p("CustomAttribute10", K::String),
            p("CustomAttribute11", K::String),
            p("CustomAttribute12", K::String),
            p("CustomAttribute13", K::String),
            p("CustomAttribute14", K::String),
            p("CustomAttribute15", K::String),
        ]
    };
}

/// Concatenates parameter lists at compile time.
macro_rules! params {
    ($($list:expr),* $(,)?) => {{
        const LEN: usize = 0 $(+ $list.len())*;
        const OUT: [ParamInfo; LEN] = {
            let mut out = [p("", K::Any); LEN];
            let mut i = 0;
            $(
                let list = $list;
                let mut j = 0;
                while j < list.len() {
                    out[i] = list[j];
                    i += 1;
                    j += 1;
                }
            )*
            let _ = i;
            out
        };
        &OUT
    }};
}

const GET_RECIPIENTS: &[ParamInfo] = &[IDENTITY_OPT, ANR, TYPE_DETAILS, RESULT_SIZE, DOMAIN_CONTROLLER];

/// Every cmdlet Deputy runs.
pub(crate) const ALL: &[Spec] = &[
    // --- Recipients ---
    Spec {
        name: "New-Mailbox",
        params: params![
            [NAME_POS, ALIAS, DISPLAY_NAME, PRIMARY_SMTP, UPN, PASSWORD, FIRST_NAME, LAST_NAME],
            [
                p("Shared", K::Switch),
                p("Room", K::Switch),
                p("Equipment", K::Switch),
                p("Arbitration", K::Switch),
                p("Discovery", K::Switch),
                p("LinkedMasterAccount", K::String),
                p("LinkedDomainController", K::String),
                p("ResetPasswordOnNextLogon", K::Bool),
                p("Database", K::String),
                p("OrganizationalUnit", K::String),
                DOMAIN_CONTROLLER,
            ],
            attrs!()
        ],
    },
    Spec {
        name: "Set-Mailbox",
        params: params![
            [IDENTITY, NEW_NAME, ALIAS, DISPLAY_NAME, PRIMARY_SMTP, EMAIL_ADDRESSES, SOB, HIDDEN, PASSWORD],
            [
                p("MessageCopyForSentAsEnabled", K::Bool),
                p("MessageCopyForSendOnBehalfEnabled", K::Bool),
                p("Type", K::Enum(&["Regular", "Room", "Equipment", "Shared"])),
                p("Force", K::Switch),
                DOMAIN_CONTROLLER,
            ],
            attrs!()
        ],
    },
    Spec { name: "Get-Mailbox", params: GET_RECIPIENTS },
    Spec {
        name: "Remove-Mailbox",
        params: &[IDENTITY, p("Permanent", K::Bool), p("Force", K::Switch), DOMAIN_CONTROLLER],
    },
    Spec {
        name: "New-MailUser",
        params: params![
            [NAME_POS, ALIAS, DISPLAY_NAME, PRIMARY_SMTP, UPN, PASSWORD, FIRST_NAME, LAST_NAME],
            [p("ExternalEmailAddress", K::String).mandatory(), DOMAIN_CONTROLLER],
            attrs!()
        ],
    },
    Spec {
        name: "Set-MailUser",
        params: params![
            [IDENTITY, NEW_NAME, ALIAS, DISPLAY_NAME, PRIMARY_SMTP, EMAIL_ADDRESSES, SOB, HIDDEN, PASSWORD],
            [p("ExternalEmailAddress", K::String), DOMAIN_CONTROLLER],
            attrs!()
        ],
    },
    Spec { name: "Get-MailUser", params: GET_RECIPIENTS },
    Spec { name: "Remove-MailUser", params: &[IDENTITY, DOMAIN_CONTROLLER] },
    Spec {
        name: "New-DistributionGroup",
        params: &[
            NAME_POS,
            ALIAS,
            DISPLAY_NAME,
            PRIMARY_SMTP,
            p("Type", K::Enum(&["Distribution", "Security"])),
            p("Members", K::Strings),
            p("ManagedBy", K::Strings),
            DOMAIN_CONTROLLER,
        ],
    },
    Spec {
        name: "Set-DistributionGroup",
        params: &[
            IDENTITY,
            NEW_NAME,
            ALIAS,
            DISPLAY_NAME,
            PRIMARY_SMTP,
            EMAIL_ADDRESSES,
            SOB,
            HIDDEN,
            p("BypassSecurityGroupManagerCheck", K::Switch),
            DOMAIN_CONTROLLER,
        ],
    },
    Spec { name: "Get-DistributionGroup", params: GET_RECIPIENTS },
    Spec {
        name: "Remove-DistributionGroup",
        params: &[IDENTITY, p("BypassSecurityGroupManagerCheck", K::Switch), DOMAIN_CONTROLLER],
    },
    Spec {
        name: "Add-DistributionGroupMember",
        params: &[
            IDENTITY,
            p("Member", K::String).mandatory().by_value(),
            p("BypassSecurityGroupManagerCheck", K::Switch),
            DOMAIN_CONTROLLER,
        ],
    },
    Spec {
        name: "Remove-DistributionGroupMember",
        params: &[
            IDENTITY,
            p("Member", K::String).mandatory().by_value(),
            p("BypassSecurityGroupManagerCheck", K::Switch),
            DOMAIN_CONTROLLER,
        ],
    },
    Spec { name: "Get-DistributionGroupMember", params: &[IDENTITY, RESULT_SIZE, DOMAIN_CONTROLLER] },
    Spec {
        name: "New-DynamicDistributionGroup",
        params: &[
            NAME_POS,
            ALIAS,
            DISPLAY_NAME,
            PRIMARY_SMTP,
            p("RecipientFilter", K::String).mandatory(),
            DOMAIN_CONTROLLER,
        ],
    },
    Spec {
        name: "Set-DynamicDistributionGroup",
        params: &[
            IDENTITY,
            NEW_NAME,
            ALIAS,
            DISPLAY_NAME,
            PRIMARY_SMTP,
            EMAIL_ADDRESSES,
            SOB,
            HIDDEN,
            p("RecipientFilter", K::String),
            DOMAIN_CONTROLLER,
        ],
    },
    Spec { name: "Get-DynamicDistributionGroup", params: GET_RECIPIENTS },
    Spec { name: "Remove-DynamicDistributionGroup", params: &[IDENTITY, DOMAIN_CONTROLLER] },
    Spec { name: "Get-DynamicDistributionGroupMember", params: &[IDENTITY, RESULT_SIZE] },
    Spec {
        name: "New-UnifiedGroup",
        params: &[
            p("DisplayName", K::String).at(0).mandatory(),
            NEW_NAME,
            ALIAS,
            PRIMARY_SMTP,
            p("Members", K::Strings),
            p("Owner", K::String),
            p("AccessType", K::Enum(&["Public", "Private"])),
        ],
    },
    Spec {
        name: "Set-UnifiedGroup",
        params: &[IDENTITY, DISPLAY_NAME, ALIAS, PRIMARY_SMTP, EMAIL_ADDRESSES, SOB, HIDDEN],
    },
    Spec { name: "Get-UnifiedGroup", params: &[IDENTITY_OPT, ANR, RESULT_SIZE] },
    Spec { name: "Remove-UnifiedGroup", params: &[IDENTITY] },
    Spec {
        name: "Add-UnifiedGroupLinks",
        params: &[
            IDENTITY,
            p("LinkType", K::Enum(&["Members", "Owners", "Subscribers"])).mandatory(),
            p("Links", K::Strings).mandatory(),
        ],
    },
    Spec {
        name: "Remove-UnifiedGroupLinks",
        params: &[
            IDENTITY,
            p("LinkType", K::Enum(&["Members", "Owners", "Subscribers"])).mandatory(),
            p("Links", K::Strings).mandatory(),
        ],
    },
    Spec {
        name: "Get-UnifiedGroupLinks",
        params: &[IDENTITY, p("LinkType", K::Enum(&["Members", "Owners", "Subscribers"])).mandatory(), RESULT_SIZE],
    },
    Spec {
        name: "New-ADUser",
        params: params![
            [NAME_POS, DISPLAY_NAME, UPN, p("SamAccountName", K::String), p("AccountPassword", K::SecureString)],
            [p("Enabled", K::Bool), p("GivenName", K::String), p("Surname", K::String), p("Path", K::String)],
            attrs!()
        ],
    },
    Spec {
        name: "New-ADGroup",
        params: &[
            NAME_POS,
            DISPLAY_NAME,
            p("SamAccountName", K::String),
            p("GroupScope", K::Enum(&["DomainLocal", "Global", "Universal"])).at(1),
            p("GroupCategory", K::Enum(&["Security", "Distribution"])),
            p("Path", K::String),
        ],
    },
    Spec { name: "Add-ADGroupMember", params: &[IDENTITY, p("Members", K::Strings).at(1).mandatory()] },
    Spec { name: "Remove-ADGroupMember", params: &[IDENTITY, p("Members", K::Strings).at(1).mandatory()] },
    Spec { name: "Get-Recipient", params: GET_RECIPIENTS },
    Spec { name: "Get-User", params: GET_RECIPIENTS },
    Spec { name: "Get-AcceptedDomain", params: &[IDENTITY_OPT, DOMAIN_CONTROLLER] },
    Spec {
        name: "New-AcceptedDomain",
        params: &[
            p("Name", K::String).mandatory(),
            p("DomainName", K::String).mandatory(),
            p("DomainType", K::Enum(&["Authoritative", "InternalRelay", "ExternalRelay"])),
            DOMAIN_CONTROLLER,
        ],
    },
    // --- Permissions ---
    Spec {
        name: "Add-MailboxPermission",
        params: &[
            IDENTITY,
            p("User", K::String).mandatory(),
            p("AccessRights", K::Enums(ADD_MAILBOX_RIGHTS)).mandatory(),
            p("AutoMapping", K::Bool),
            p("Deny", K::Switch),
            p("InheritanceType", K::Enum(INHERITANCE)),
            p("GroupMailbox", K::Switch),
            p("IgnoreDefaultScope", K::Switch),
            DOMAIN_CONTROLLER,
        ],
    },
    Spec {
        name: "Remove-MailboxPermission",
        params: &[
            IDENTITY,
            // Mandatory unless -ClearAutoMapping or -ResetDefault (EXO's other
            // parameter sets); the cmdlet checks which set was used.
            p("User", K::String),
            p("AccessRights", K::Enums(MAILBOX_RIGHTS)),
            p("ClearAutoMapping", K::Switch),
            p("ResetDefault", K::Switch),
            p("Deny", K::Switch),
            p("InheritanceType", K::Enum(INHERITANCE)),
            p("BypassMasterAccountSid", K::Switch),
            p("GroupMailbox", K::Switch),
            p("IgnoreDefaultScope", K::Switch),
            DOMAIN_CONTROLLER,
        ],
    },
    Spec {
        name: "Get-MailboxPermission",
        params: &[
            IDENTITY,
            p("User", K::String),
            p("Owner", K::Switch),
            p("GroupMailbox", K::Switch),
            RESULT_SIZE,
            DOMAIN_CONTROLLER,
        ],
    },
    Spec {
        name: "Add-RecipientPermission",
        params: &[IDENTITY, p("Trustee", K::String).mandatory(), p("AccessRights", K::Enums(&["SendAs"])).mandatory()],
    },
    Spec {
        name: "Remove-RecipientPermission",
        params: &[
            IDENTITY,
            p("Trustee", K::String).mandatory(),
            p("AccessRights", K::Enums(&["SendAs"])).mandatory(),
            p("Deny", K::Switch),
        ],
    },
    Spec {
        name: "Get-RecipientPermission",
        params: &[IDENTITY_OPT, p("Trustee", K::String), p("AccessRights", K::Enums(&["SendAs"])), RESULT_SIZE],
    },
    Spec {
        name: "Add-ADPermission",
        params: &[
            IDENTITY,
            p("User", K::String).mandatory(),
            p("ExtendedRights", K::Strings),
            p("AccessRights", K::Strings),
            p("Deny", K::Switch),
            p("InheritanceType", K::Enum(INHERITANCE)),
            DOMAIN_CONTROLLER,
        ],
    },
    Spec {
        name: "Remove-ADPermission",
        params: &[
            IDENTITY,
            p("User", K::String).mandatory(),
            p("ExtendedRights", K::Strings),
            p("AccessRights", K::Strings),
            p("Deny", K::Switch),
            p("InheritanceType", K::Enum(INHERITANCE)),
            DOMAIN_CONTROLLER,
        ],
    },
    Spec { name: "Get-ADPermission", params: &[IDENTITY, p("User", K::String), DOMAIN_CONTROLLER] },
    Spec {
        name: "Add-MailboxFolderPermission",
        params: &[
            IDENTITY,
            p("User", K::String).mandatory(),
            p("AccessRights", K::Strings).mandatory(),
            p("SharingPermissionFlags", K::Strings),
            p("SendNotificationToUser", K::Bool),
            DOMAIN_CONTROLLER,
        ],
    },
    Spec {
        name: "Set-MailboxFolderPermission",
        params: &[
            IDENTITY,
            p("User", K::String).mandatory(),
            p("AccessRights", K::Strings).mandatory(),
            p("SharingPermissionFlags", K::Strings),
            p("SendNotificationToUser", K::Bool),
            DOMAIN_CONTROLLER,
        ],
    },
    Spec {
        name: "Remove-MailboxFolderPermission",
        params: &[
            IDENTITY,
            p("User", K::String).mandatory(),
            p("SendNotificationToUser", K::Bool),
            p("Force", K::Switch),
            DOMAIN_CONTROLLER,
        ],
    },
    Spec {
        name: "Get-MailboxFolderPermission",
        params: &[IDENTITY, p("User", K::String), p("GroupMailbox", K::Switch), RESULT_SIZE, DOMAIN_CONTROLLER],
    },
    Spec { name: "New-MailboxFolder", params: &[p("Parent", K::String).mandatory(), p("Name", K::String).mandatory()] },
    // --- Mail ---
    Spec {
        name: "Get-MailboxFolderStatistics",
        params: &[IDENTITY, p("FolderScope", K::String), p("IncludeOldestAndNewestItems", K::Switch), RESULT_SIZE],
    },
    Spec { name: "Get-DkimSigningConfig", params: &[IDENTITY_OPT] },
    // --- Beyond Exchange (spec §8) ---
    Spec { name: "Test-DelegateAccess", params: &[IDENTITY, p("User", K::String).mandatory()] },
    Spec { name: "Get-DelegatedMailbox", params: &[p("User", K::String).at(0).mandatory().by_property_name()] },
    Spec {
        name: "Search-AdminAuditLog",
        params: &[
            p("StartDate", K::DateTime),
            p("EndDate", K::DateTime),
            p("Cmdlets", K::Strings),
            p("ObjectIds", K::Strings),
            p("UserIds", K::Strings),
            p("IsSuccess", K::Bool),
            p("ResultSize", K::Int),
        ],
    },
];

/// Every cmdlet Deputy runs: [`ALL`], then the application cmdlets (`apps.rs`)
/// and the calendar ones (`calendar.rs`).
pub(crate) fn all() -> impl Iterator<Item = &'static Spec> {
    ALL.iter().chain(crate::apps::SPECS).chain(crate::calendar::SPECS).chain(crate::hybrid::SPECS)
}

/// The definition of `name` (case-insensitive), for the binder.
pub(crate) fn find(name: &str) -> Option<CommandInfo> {
    all().find(|c| c.name.eq_ignore_ascii_case(name)).map(|c| CommandInfo {
        name: c.name,
        params: c.params.to_vec(),
        parameter_sets: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_interface_cmdlet_is_in_the_catalog() {
        // interface.md, "Recipients" and "Permissions", plus spec §8.
        let required = [
            "New-Mailbox",
            "Set-Mailbox",
            "Get-Mailbox",
            "Remove-Mailbox",
            "New-MailUser",
            "New-DistributionGroup",
            "Add-DistributionGroupMember",
            "Remove-DistributionGroupMember",
            "Get-DistributionGroupMember",
            "Set-DistributionGroup",
            "New-DynamicDistributionGroup",
            "Set-DynamicDistributionGroup",
            "Get-Recipient",
            "Get-AcceptedDomain",
            "New-AcceptedDomain",
            "Add-MailboxPermission",
            "Remove-MailboxPermission",
            "Get-MailboxPermission",
            "Add-RecipientPermission",
            "Remove-RecipientPermission",
            "Get-RecipientPermission",
            "Add-ADPermission",
            "Remove-ADPermission",
            "Get-ADPermission",
            "Add-MailboxFolderPermission",
            "Set-MailboxFolderPermission",
            "Remove-MailboxFolderPermission",
            "Get-MailboxFolderPermission",
            "Test-DelegateAccess",
            "Get-DelegatedMailbox",
            "Search-AdminAuditLog",
            "Get-MailboxFolderStatistics",
        ];
        for name in required {
            assert!(find(name).is_some(), "{name} missing");
        }
    }

    #[test]
    fn parameter_names_are_unique_per_cmdlet() {
        for spec in all() {
            let mut names: Vec<String> = spec.params.iter().map(|p| p.name.to_ascii_lowercase()).collect();
            names.sort();
            let before = names.len();
            names.dedup();
            assert_eq!(before, names.len(), "{} repeats a parameter", spec.name);
            assert!(spec.params.iter().all(|p| !p.name.is_empty()), "{} has an empty parameter", spec.name);
        }
    }
}
