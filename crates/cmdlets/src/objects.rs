//! Exchange-shaped output objects (interface.md: property names are Exchange's).

use crate::catalog::ATTRIBUTES;
use deputy_access::{Delegation, Permission};
use deputy_core::{AccessCheck, FolderPermissionRow, MailboxPermissionRow, State};
use deputy_pwsh::{Object, Value};
use deputy_types::{AcceptedDomain, AcceptedDomainType, AuditRecord, Recipient, RecipientId, RecipientType, SendAsAce};

/// How a trustee is shown in permission lists: its UPN (Exchange Online's
/// form), or its Name for objects without an account.
pub(crate) fn trustee_name(s: &State, id: RecipientId) -> String {
    s.dir.get(id).map_or_else(|| id.to_string(), |r| r.upn.clone().unwrap_or_else(|| r.name.clone()))
}

/// The NetBIOS-style domain, as on-premises `DOMAIN\user` names use it.
fn netbios(s: &State) -> String {
    s.organization().primary_domain.split('.').next().unwrap_or_default().to_ascii_uppercase()
}

fn names(s: &State, ids: &[RecipientId]) -> Vec<String> {
    ids.iter().map(|id| s.name_of(*id)).collect()
}

fn type_name(kind: RecipientType) -> &'static str {
    use RecipientType::*;
    match kind {
        UserMailbox | LinkedMailbox | SharedMailbox | RoomMailbox | EquipmentMailbox | ArbitrationMailbox
        | DiscoveryMailbox => "Mailbox",
        MailUser => "MailUser",
        User => "User",
        MailUniversalDistributionGroup | MailUniversalSecurityGroup => "DistributionGroup",
        SecurityGroup => "Group",
        DynamicDistributionGroup => "DynamicDistributionGroup",
        GroupMailbox => "UnifiedGroup",
    }
}

/// A recipient as `Get-Mailbox`, `Get-DistributionGroup`, … show it.
pub(crate) fn recipient(s: &State, r: &Recipient) -> Value {
    let mut addresses: Vec<String> = r.primary_smtp.iter().map(|a| format!("SMTP:{a}")).collect();
    addresses.extend(r.proxy_addresses.iter().map(|a| format!("smtp:{a}")));
    let mut o = Object::new(type_name(r.kind))
        .with("Name", r.name.as_str())
        .with("Alias", r.alias.as_str())
        .with("DisplayName", r.display_name.as_str())
        .with("PrimarySmtpAddress", r.primary_smtp.as_ref().map(ToString::to_string))
        .with("EmailAddresses", addresses)
        .with("RecipientType", r.kind.recipient_type())
        .with("RecipientTypeDetails", r.kind.as_str())
        .with("UserPrincipalName", r.upn.clone())
        .with("DistinguishedName", s.dir.distinguished_name(r))
        .with("Guid", r.id.to_string())
        .with("Identity", r.name.as_str())
        .with("HiddenFromAddressListsEnabled", r.hidden)
        .with("AccountDisabled", r.account_disabled)
        .with("GrantSendOnBehalfTo", names(s, &r.grant_send_on_behalf_to));
    if r.kind.has_mailbox() {
        o = o
            .with("MessageCopyForSentAsEnabled", r.message_copy_for_sent_as)
            .with("MessageCopyForSendOnBehalfEnabled", r.message_copy_for_send_on_behalf);
    }
    if r.kind == RecipientType::MailUser {
        o = o.with("ExternalEmailAddress", r.external_address.as_ref().map(|a| format!("SMTP:{a}")));
    }
    if r.kind.is_group() {
        let group_type = match r.kind {
            RecipientType::MailUniversalSecurityGroup | RecipientType::SecurityGroup => "Universal, SecurityEnabled",
            _ => "Universal",
        };
        o = o.with("GroupType", group_type);
    }
    if r.kind == RecipientType::DynamicDistributionGroup {
        o = o.with("RecipientFilter", r.recipient_filter.clone());
    }
    for attr in ATTRIBUTES {
        o = o.with(attr, r.attribute(attr).unwrap_or_default());
    }
    let display: &[&str] = if r.kind.is_group() {
        &["Name", "DisplayName", "GroupType", "PrimarySmtpAddress"]
    } else {
        &["Name", "Alias", "RecipientTypeDetails", "PrimarySmtpAddress"]
    };
    Value::Object(o.with("WhenCreated", r.created).display(display))
}

/// A `Get-MailboxPermission` row.
pub(crate) fn mailbox_permission(s: &State, row: &MailboxPermissionRow) -> Value {
    let user = row.trustee.map_or_else(|| "NT AUTHORITY\\SELF".to_owned(), |t| trustee_name(s, t));
    Value::Object(
        Object::new("MailboxPermission")
            .with("Identity", s.name_of(row.target))
            .with("User", user)
            .with("AccessRights", row.rights.names())
            .with("IsInherited", false)
            .with("Deny", row.deny)
            .with("InheritanceType", row.inheritance.as_str())
            .with("AutoMapping", row.trustee.is_some() && row.automapping)
            .display(&["Identity", "User", "AccessRights", "IsInherited", "Deny"]),
    )
}

/// A `Get-RecipientPermission` row.
pub(crate) fn recipient_permission(s: &State, ace: &SendAsAce) -> Value {
    Value::Object(
        Object::new("RecipientPermission")
            .with("Identity", s.name_of(ace.target))
            .with("Trustee", trustee_name(s, ace.trustee))
            .with("AccessControlType", if ace.deny { "Deny" } else { "Allow" })
            .with("AccessRights", vec!["SendAs"])
            .with("IsInherited", false)
            .with("InheritanceType", "None")
            .display(&["Identity", "Trustee", "AccessControlType", "AccessRights", "IsInherited"]),
    )
}

/// A `Get-ADPermission` row for a Send As entry (on-premises shape).
pub(crate) fn ad_permission(s: &State, ace: &SendAsAce) -> Value {
    let identity = s.dir.get(ace.target).map_or_else(|| ace.target.to_string(), |r| s.dir.distinguished_name(r));
    let user =
        s.dir.get(ace.trustee).map_or_else(|| ace.trustee.to_string(), |r| format!("{}\\{}", netbios(s), r.alias));
    Value::Object(
        Object::new("ADPermission")
            .with("Identity", identity)
            .with("User", user)
            .with("Deny", ace.deny)
            .with("IsInherited", false)
            .with("ExtendedRights", vec!["Send-As"])
            .with("AccessRights", vec!["ExtendedRight"])
            .with("InheritanceType", "All")
            .display(&["Identity", "User", "Deny", "IsInherited"]),
    )
}

/// A `Get-MailboxFolderPermission` row.
pub(crate) fn folder_permission(s: &State, row: &FolderPermissionRow) -> Value {
    let folder_name = s.folder(row.folder).map_or_else(String::new, |f| f.name.clone());
    Value::Object(
        Object::new("MailboxFolderPermission")
            .with("FolderName", folder_name)
            .with("User", s.folder_user_name(row.user))
            .with("AccessRights", row.rights.display_names())
            .with("SharingPermissionFlags", row.flags.display())
            .with("Identity", s.folder_identity(row.folder))
            .with("IsValid", true)
            .display(&["FolderName", "User", "AccessRights", "SharingPermissionFlags"]),
    )
}

fn permission_name(p: Permission) -> &'static str {
    match p {
        Permission::FullAccess => "FullAccess",
        Permission::SendAs => "SendAs",
        Permission::SendOnBehalf => "SendOnBehalf",
        Permission::Folder => "Folder",
    }
}

/// A `Test-DelegateAccess` row (spec §8).
pub(crate) fn access_check(s: &State, target: RecipientId, user: RecipientId, check: &AccessCheck) -> Value {
    Value::Object(
        Object::new("DelegateAccess")
            .with("Identity", s.name_of(target))
            .with("User", trustee_name(s, user))
            .with("Permission", permission_name(check.permission))
            .with("Allowed", check.decision.allowed)
            .with("Reason", check.reason.as_str())
            .display(&["Identity", "User", "Permission", "Allowed", "Reason"]),
    )
}

/// A `Get-DelegatedMailbox` row (spec §8).
pub(crate) fn delegation(s: &State, d: &Delegation) -> Value {
    let target = s.dir.get(d.target);
    let via = if d.grant.chain.is_empty() {
        "Direct".to_owned()
    } else {
        d.grant.chain.iter().map(|g| s.name_of(*g)).collect::<Vec<_>>().join(" > ")
    };
    let (rights, folder) = match d.folder {
        Some((f, rights, _)) => (rights.display_names().join(", "), Some(s.folder_identity(f))),
        None => (permission_name(d.grant.permission).to_owned(), None),
    };
    Value::Object(
        Object::new("DelegatedMailbox")
            .with("Identity", s.name_of(d.target))
            .with("PrimarySmtpAddress", target.and_then(|r| r.primary_smtp.as_ref()).map(ToString::to_string))
            .with("RecipientTypeDetails", target.map(|r| r.kind.as_str()))
            .with("AccessRights", rights)
            .with("Folder", folder)
            .with("Via", via)
            .with("AutoMapping", d.automapped)
            .display(&["Identity", "AccessRights", "Folder", "Via", "AutoMapping"]),
    )
}

/// A `Get-AcceptedDomain` row.
pub(crate) fn accepted_domain(d: &AcceptedDomain) -> Value {
    let kind = match d.kind {
        AcceptedDomainType::Authoritative => "Authoritative",
        AcceptedDomainType::InternalRelay => "InternalRelay",
        AcceptedDomainType::ExternalRelay => "ExternalRelay",
    };
    Value::Object(
        Object::new("AcceptedDomain")
            .with("Name", d.name.as_str())
            .with("DomainName", d.domain.as_str())
            .with("DomainType", kind)
            .with("Default", d.default)
            .display(&["Name", "DomainName", "DomainType", "Default"]),
    )
}

/// A `Search-AdminAuditLog` event.
pub(crate) fn audit_event(r: &AuditRecord) -> Value {
    Value::Object(
        Object::new("AdminAuditLogEvent")
            .with("RunDate", r.time)
            .with("Caller", r.caller.as_str())
            .with("CmdletName", r.cmdlet.as_str())
            .with("CmdletParameters", r.command.as_str())
            .with("ObjectModified", r.object.as_str())
            .with("Succeeded", r.succeeded)
            .with("Error", r.error.clone())
            .with("OldValue", r.before.clone())
            .with("NewValue", r.after.clone())
            .display(&["RunDate", "Caller", "CmdletName", "ObjectModified"]),
    )
}
