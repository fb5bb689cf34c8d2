//! Recipient cmdlets: New-/Set-/Get-/Remove- for mailboxes, mail users,
//! groups, dynamic groups, Microsoft 365 groups, AD users and groups; group
//! membership; accepted domains (interface.md "Recipients").

use crate::ExchangeHost;
use crate::catalog::ATTRIBUTES;
use crate::objects;
use crate::resolve::{Accept, core_error, param_error, recipient, recipients, required};
use deputy_core::{Applied, MultiEdit, NewRecipient, RecipientEdit};
use deputy_pwsh::{CommandError, Invocation, MultiValued, Output, Value};
use deputy_types::{AcceptedDomainType, RecipientId, RecipientType as T};

type Res = Result<Output, CommandError>;

/// Turns a core result into cmdlet output: warnings, `-WhatIf` text, objects.
pub(crate) fn done<X>(applied: Applied<X>, objects: Vec<Value>) -> Output {
    match applied.what_if {
        Some(what) => Output { objects: vec![Value::String(format!("What if: {what}"))], warnings: applied.warnings },
        // Exchange answers a grant that already exists with its warning alone.
        None if !applied.changed && !applied.warnings.is_empty() => {
            Output { objects: Vec::new(), warnings: applied.warnings }
        }
        None => Output { objects, warnings: applied.warnings },
    }
}

fn attributes(call: &Invocation) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        ATTRIBUTES.iter().filter_map(|a| call.string(a).map(|v| ((*a).to_owned(), v.to_owned()))).collect();
    for (param, attr) in
        [("FirstName", "FirstName"), ("GivenName", "FirstName"), ("LastName", "LastName"), ("Surname", "LastName")]
    {
        if let Some(v) = call.string(param) {
            out.push((attr.to_owned(), v.to_owned()));
        }
    }
    out
}

/// The `Accept` filter and kind list each recipient noun works on.
fn noun(command: &str) -> Option<Accept> {
    let noun = command.split_once('-').map(|(_, n)| n)?;
    Some(match noun {
        "Mailbox" => Accept::Mailbox,
        "MailUser" => Accept::MailUser,
        "DistributionGroup" => Accept::DistributionGroup,
        "DynamicDistributionGroup" => Accept::Dynamic,
        "UnifiedGroup" => Accept::Unified,
        "Recipient" | "User" => Accept::Any,
        _ => return None,
    })
}

pub(crate) async fn invoke(host: &ExchangeHost, call: &Invocation) -> Option<Res> {
    let out = match call.command {
        "New-Mailbox"
        | "New-MailUser"
        | "New-DistributionGroup"
        | "New-DynamicDistributionGroup"
        | "New-UnifiedGroup"
        | "New-ADUser"
        | "New-ADGroup" => new_recipient(host, call).await,
        "Set-Mailbox"
        | "Set-MailUser"
        | "Set-DistributionGroup"
        | "Set-DynamicDistributionGroup"
        | "Set-UnifiedGroup" => set_recipient(host, call).await,
        "Get-Mailbox"
        | "Get-MailUser"
        | "Get-DistributionGroup"
        | "Get-DynamicDistributionGroup"
        | "Get-UnifiedGroup"
        | "Get-Recipient"
        | "Get-User" => get_recipients(host, call),
        "Remove-Mailbox"
        | "Remove-MailUser"
        | "Remove-DistributionGroup"
        | "Remove-DynamicDistributionGroup"
        | "Remove-UnifiedGroup" => remove_recipient(host, call).await,
        "Add-DistributionGroupMember"
        | "Remove-DistributionGroupMember"
        | "Add-ADGroupMember"
        | "Remove-ADGroupMember"
        | "Add-UnifiedGroupLinks"
        | "Remove-UnifiedGroupLinks" => change_members(host, call).await,
        "Get-DistributionGroupMember" | "Get-DynamicDistributionGroupMember" | "Get-UnifiedGroupLinks" => {
            get_members(host, call)
        }
        "Get-AcceptedDomain" => get_accepted_domains(host, call),
        "New-AcceptedDomain" => new_accepted_domain(host, call).await,
        _ => return None,
    };
    Some(out)
}

/// Which kind a `New-*` call creates, from the cmdlet and its switches.
fn new_kind(call: &Invocation) -> Result<T, CommandError> {
    Ok(match call.command {
        "New-Mailbox" => {
            let switches = [
                ("Shared", T::SharedMailbox),
                ("Room", T::RoomMailbox),
                ("Equipment", T::EquipmentMailbox),
                ("Arbitration", T::ArbitrationMailbox),
                ("Discovery", T::DiscoveryMailbox),
            ];
            let mut chosen: Vec<(&str, T)> = switches.into_iter().filter(|(s, _)| call.switch(s)).collect();
            if call.has("LinkedMasterAccount") {
                chosen.push(("LinkedMasterAccount", T::LinkedMailbox));
            }
            match chosen.as_slice() {
                [] => T::UserMailbox,
                [(_, kind)] => *kind,
                many => {
                    let names: Vec<String> = many.iter().map(|(s, _)| format!("-{s}")).collect();
                    return Err(CommandError {
                        message: format!(
                            "Parameter set cannot be resolved using the specified named parameters: {} can't be used together.",
                            names.join(", ")
                        ),
                    });
                }
            }
        }
        "New-MailUser" => T::MailUser,
        "New-DistributionGroup" => match call.string("Type") {
            Some("Security") => T::MailUniversalSecurityGroup,
            _ => T::MailUniversalDistributionGroup,
        },
        "New-DynamicDistributionGroup" => T::DynamicDistributionGroup,
        "New-UnifiedGroup" => T::GroupMailbox,
        "New-ADUser" => T::User,
        "New-ADGroup" => {
            if call.string("GroupCategory") == Some("Distribution") {
                return Err(param_error(
                    "GroupCategory",
                    "Deputy keeps distribution groups as Exchange recipients: use New-DistributionGroup.",
                ));
            }
            T::SecurityGroup
        }
        other => return Err(CommandError { message: format!("{other} creates no recipient.") }),
    })
}

async fn new_recipient(host: &ExchangeHost, call: &Invocation) -> Res {
    let kind = new_kind(call)?;
    let name = match call.command {
        "New-UnifiedGroup" => call.string("Name").or(call.string("DisplayName")),
        _ => call.string("Name"),
    }
    .ok_or_else(|| param_error("Name", "A name is required."))?;
    let members = call.strings("Members").unwrap_or_default();
    let member_ids = host.deputy().read(|s| recipients(s, "Members", members, Accept::Any))?;
    let spec = NewRecipient {
        kind: Some(kind),
        name: name.to_owned(),
        alias: call.string("Alias").or(call.string("SamAccountName")).map(str::to_owned),
        display_name: call.string("DisplayName").map(str::to_owned),
        primary_smtp: call.string("PrimarySmtpAddress").map(str::to_owned),
        upn: call.string("UserPrincipalName").map(str::to_owned),
        password: call.secure("Password").or(call.secure("AccountPassword")).map(str::to_owned),
        external_address: call.string("ExternalEmailAddress").map(str::to_owned),
        recipient_filter: call.string("RecipientFilter").map(str::to_owned),
        members: member_ids,
        attributes: attributes(call),
        is_admin: false,
        account_disabled: call.command == "New-ADUser" && !call.bool("Enabled").unwrap_or(false),
    };
    let applied = host.deputy().new_recipient(&host.ctx(call), spec).await.map_err(core_error)?;
    let obj = host.deputy().read(|s| objects::recipient(s, &applied.value));
    Ok(done(applied, vec![obj]))
}

fn multi_ids(host: &ExchangeHost, param: &str, m: &MultiValued) -> Result<MultiEdit<RecipientId>, CommandError> {
    host.deputy().read(|s| {
        Ok(match m {
            MultiValued::Clear => MultiEdit::Replace(Vec::new()),
            MultiValued::Replace(v) => MultiEdit::Replace(recipients(s, param, v, Accept::Any)?),
            MultiValued::Modify { add, remove } => MultiEdit::Modify {
                add: recipients(s, param, add, Accept::Any)?,
                remove: recipients(s, param, remove, Accept::Any)?,
            },
        })
    })
}

fn multi_strings(m: &MultiValued) -> MultiEdit<String> {
    match m {
        MultiValued::Clear => MultiEdit::Replace(Vec::new()),
        MultiValued::Replace(v) => MultiEdit::Replace(v.clone()),
        MultiValued::Modify { add, remove } => MultiEdit::Modify { add: add.clone(), remove: remove.clone() },
    }
}

async fn set_recipient(host: &ExchangeHost, call: &Invocation) -> Res {
    let accept = noun(call.command).unwrap_or(Accept::Any);
    let identity = required(call, "Identity")?;
    let id = host.deputy().read(|s| recipient(s, "Identity", identity, accept))?;
    let send_on_behalf =
        call.multi("GrantSendOnBehalfTo").map(|m| multi_ids(host, "GrantSendOnBehalfTo", m)).transpose()?;
    let kind = call.string("Type").map(|t| match t {
        "Shared" => T::SharedMailbox,
        "Room" => T::RoomMailbox,
        "Equipment" => T::EquipmentMailbox,
        _ => T::UserMailbox,
    });
    let edit = RecipientEdit {
        name: call.string("Name").map(str::to_owned),
        alias: call.string("Alias").map(str::to_owned),
        display_name: call.string("DisplayName").map(str::to_owned),
        primary_smtp: call.string("PrimarySmtpAddress").map(str::to_owned),
        email_addresses: call.multi("EmailAddresses").map(multi_strings),
        hidden: call.bool("HiddenFromAddressListsEnabled"),
        send_on_behalf,
        copy_sent_as: call.bool("MessageCopyForSentAsEnabled"),
        copy_send_on_behalf: call.bool("MessageCopyForSendOnBehalfEnabled"),
        meeting_delivery: None,
        recipient_filter: call.string("RecipientFilter").map(str::to_owned),
        kind,
        password: call.secure("Password").map(str::to_owned),
        external_address: call.string("ExternalEmailAddress").map(str::to_owned),
        attributes: attributes(call),
    };
    let applied = host.deputy().set_recipient(&host.ctx(call), id, edit).await.map_err(core_error)?;
    Ok(done(applied, Vec::new()))
}

/// `-ResultSize`: a number or `Unlimited`; Exchange's default is 1000.
fn result_size(call: &Invocation) -> Result<Option<usize>, CommandError> {
    match call.string("ResultSize") {
        None => Ok(Some(1000)),
        Some(v) if v.eq_ignore_ascii_case("Unlimited") => Ok(None),
        Some(v) => {
            v.parse().map(Some).map_err(|_| param_error("ResultSize", format!("\"{v}\" is not a number or Unlimited.")))
        }
    }
}

fn truncate(mut objects: Vec<Value>, limit: Option<usize>, explicit: bool) -> Output {
    let mut warnings = Vec::new();
    if let Some(n) = limit
        && objects.len() > n
    {
        objects.truncate(n);
        if !explicit {
            warnings.push(format!(
                "By default, only the first {n} items are returned. Use the ResultSize parameter to specify the number of items returned. To return all items, specify \"-ResultSize Unlimited\"."
            ));
        }
    }
    Output { objects, warnings }
}

fn get_recipients(host: &ExchangeHost, call: &Invocation) -> Res {
    let accept = noun(call.command).unwrap_or(Accept::Any);
    let limit = result_size(call)?;
    let types: Option<Vec<T>> =
        call.strings("RecipientTypeDetails").map(|v| v.iter().filter_map(|t| T::parse(t).ok()).collect());
    host.deputy().read(|s| {
        if let Some(identity) = call.string("Identity") {
            let id = recipient(s, "Identity", identity, accept)?;
            let r = s.dir.get(id).ok_or_else(|| param_error("Identity", "The object no longer exists."))?;
            return Ok(Output { objects: vec![objects::recipient(s, r)], warnings: Vec::new() });
        }
        let user_noun = call.command == "Get-User";
        let mut found: Vec<_> = match call.string("Anr") {
            Some(text) => s.dir.search(text),
            None => s.dir.iter().collect(),
        };
        found.retain(|r| accept.accepts(r) && (!user_noun || r.kind.can_sign_in() || r.kind.has_mailbox()));
        if let Some(types) = &types {
            found.retain(|r| types.contains(&r.kind));
        }
        found.sort_by_cached_key(|r| r.name.to_lowercase());
        let objects = found.into_iter().map(|r| objects::recipient(s, r)).collect();
        Ok(truncate(objects, limit, call.has("ResultSize")))
    })
}

async fn remove_recipient(host: &ExchangeHost, call: &Invocation) -> Res {
    let accept = noun(call.command).unwrap_or(Accept::Any);
    let identity = required(call, "Identity")?;
    let id = host.deputy().read(|s| recipient(s, "Identity", identity, accept))?;
    let applied = host.deputy().remove_recipient(&host.ctx(call), id).await.map_err(core_error)?;
    Ok(done(applied, Vec::new()))
}

async fn change_members(host: &ExchangeHost, call: &Invocation) -> Res {
    let (accept, param) = match call.command {
        "Add-ADGroupMember" | "Remove-ADGroupMember" => (Accept::AnyGroup, "Members"),
        "Add-UnifiedGroupLinks" | "Remove-UnifiedGroupLinks" => {
            if call.string("LinkType") != Some("Members") {
                return Err(param_error("LinkType", "Deputy keeps the Members link of Microsoft 365 groups only."));
            }
            (Accept::Unified, "Links")
        }
        _ => (Accept::DistributionGroup, "Member"),
    };
    let identity = required(call, "Identity")?;
    let values: Vec<String> = match call.strings(param) {
        Some(v) => v.to_vec(),
        None => vec![required(call, param)?.to_owned()],
    };
    let (group, members) = host.deputy().read(|s| {
        Ok::<_, CommandError>((
            recipient(s, "Identity", identity, accept)?,
            recipients(s, param, &values, Accept::Any)?,
        ))
    })?;
    let adding = call.command.starts_with("Add-");
    let mut out = Output { objects: Vec::new(), warnings: Vec::new() };
    for member in members {
        let ctx = host.ctx(call);
        let applied = if adding {
            host.deputy().add_member(&ctx, group, member).await
        } else {
            host.deputy().remove_member(&ctx, group, member).await
        }
        .map_err(core_error)?;
        let o = done(applied, Vec::new());
        out.objects.extend(o.objects);
        out.warnings.extend(o.warnings);
    }
    Ok(out)
}

fn get_members(host: &ExchangeHost, call: &Invocation) -> Res {
    let accept = match call.command {
        "Get-DynamicDistributionGroupMember" => Accept::Dynamic,
        "Get-UnifiedGroupLinks" => Accept::Unified,
        _ => Accept::DistributionGroup,
    };
    let limit = result_size(call)?;
    let identity = required(call, "Identity")?;
    host.deputy().read(|s| {
        let group = recipient(s, "Identity", identity, accept)?;
        let ids: Vec<RecipientId> = if accept == Accept::Dynamic {
            s.dir.dynamic_members(group).map_err(|e| param_error("Identity", e))?
        } else {
            s.dir.members(group).to_vec()
        };
        let objects = ids.iter().filter_map(|id| s.dir.get(*id)).map(|r| objects::recipient(s, r)).collect();
        Ok(truncate(objects, limit, call.has("ResultSize")))
    })
}

fn get_accepted_domains(host: &ExchangeHost, call: &Invocation) -> Res {
    host.deputy().read(|s| {
        let mut domains: Vec<_> = s.dir.accepted_domains().iter().collect();
        if let Some(id) = call.string("Identity") {
            domains.retain(|d| d.name.eq_ignore_ascii_case(id) || d.domain.eq_ignore_ascii_case(id));
            if domains.is_empty() {
                return Err(param_error("Identity", format!("Couldn't find object \"{id}\". Please make sure that it was spelled correctly or specify a different object.")));
            }
        }
        Ok(Output { objects: domains.into_iter().map(objects::accepted_domain).collect(), warnings: Vec::new() })
    })
}

async fn new_accepted_domain(host: &ExchangeHost, call: &Invocation) -> Res {
    let name = required(call, "Name")?;
    let domain = required(call, "DomainName")?;
    let kind = match call.string("DomainType") {
        Some("InternalRelay") => AcceptedDomainType::InternalRelay,
        Some("ExternalRelay") => AcceptedDomainType::ExternalRelay,
        _ => AcceptedDomainType::Authoritative,
    };
    let applied = host.deputy().new_accepted_domain(&host.ctx(call), name, domain, kind).await.map_err(core_error)?;
    let obj = objects::accepted_domain(&applied.value);
    Ok(done(applied, vec![obj]))
}
