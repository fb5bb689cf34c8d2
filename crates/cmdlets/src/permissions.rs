//! Permission cmdlets (spec §3.1, §3.2, §8) and the audit log.

use crate::ExchangeHost;
use crate::objects;
use crate::recipients::done;
use crate::resolve::{Accept, core_error, param_error, recipient, required};
use deputy_core::MailboxGrant;
use deputy_pwsh::{CommandError, Invocation, Output};
use deputy_store::AuditQuery;
use deputy_types::{InheritanceType, MailboxRights, RecipientId};

type Res = Result<Output, CommandError>;

pub(crate) async fn invoke(host: &ExchangeHost, call: &Invocation) -> Option<Res> {
    let out = match call.command {
        "Add-MailboxPermission" => add_mailbox_permission(host, call).await,
        "Remove-MailboxPermission" => remove_mailbox_permission(host, call).await,
        "Get-MailboxPermission" => get_mailbox_permission(host, call),
        "Add-RecipientPermission" | "Add-ADPermission" => add_send_as(host, call).await,
        "Remove-RecipientPermission" | "Remove-ADPermission" => remove_send_as(host, call).await,
        "Get-RecipientPermission" | "Get-ADPermission" => get_send_as(host, call),
        "Test-DelegateAccess" => test_delegate_access(host, call),
        "Get-DelegatedMailbox" => get_delegated(host, call),
        "Search-AdminAuditLog" => search_audit(host, call).await,
        _ => return None,
    };
    Some(out)
}

fn rights(call: &Invocation) -> Result<MailboxRights, CommandError> {
    let mut rights = MailboxRights::empty();
    for r in call.strings("AccessRights").unwrap_or_default() {
        rights |= MailboxRights::parse_one(r).map_err(|e| param_error("AccessRights", e))?;
    }
    Ok(rights)
}

fn inheritance(call: &Invocation) -> Result<InheritanceType, CommandError> {
    call.string("InheritanceType")
        .map_or(Ok(InheritanceType::All), InheritanceType::parse)
        .map_err(|e| param_error("InheritanceType", e))
}

/// The target and the trustee of a permission cmdlet, resolved with errors
/// naming their parameters.
fn pair(
    host: &ExchangeHost,
    call: &Invocation,
    target: Accept,
    trustee_param: &str,
) -> Result<(RecipientId, RecipientId), CommandError> {
    let identity = required(call, "Identity")?;
    let user = required(call, trustee_param)?;
    host.deputy()
        .read(|s| Ok((recipient(s, "Identity", identity, target)?, recipient(s, trustee_param, user, Accept::Any)?)))
}

async fn add_mailbox_permission(host: &ExchangeHost, call: &Invocation) -> Res {
    let (target, trustee) = pair(host, call, Accept::Mailbox, "User")?;
    let grant = MailboxGrant {
        rights: rights(call)?,
        deny: call.switch("Deny"),
        inheritance: inheritance(call)?,
        automapping: call.bool("AutoMapping").unwrap_or(true),
    };
    let applied =
        host.deputy().add_mailbox_permission(&host.ctx(call), target, trustee, grant).await.map_err(core_error)?;
    let obj = host.deputy().read(|s| objects::mailbox_permission(s, &applied.value));
    Ok(done(applied, vec![obj]))
}

async fn remove_mailbox_permission(host: &ExchangeHost, call: &Invocation) -> Res {
    let (clear, reset) = (call.switch("ClearAutoMapping"), call.switch("ResetDefault"));
    if clear || reset {
        // Exchange Online's other parameter sets: one switch, no -User/-AccessRights.
        if (clear && reset) || call.string("User").is_some() || call.string("AccessRights").is_some() {
            return Err(CommandError {
                message: "Parameter set cannot be resolved using the specified named parameters.".into(),
            });
        }
        let identity = required(call, "Identity")?;
        let target = host.deputy().read(|s| recipient(s, "Identity", identity, Accept::Mailbox))?;
        let ctx = host.ctx(call);
        let applied = if clear {
            host.deputy().clear_automapping(&ctx, target).await
        } else {
            host.deputy().reset_default_permissions(&ctx, target).await
        }
        .map_err(core_error)?;
        return Ok(done(applied, Vec::new()));
    }
    let (target, trustee) = pair(host, call, Accept::Mailbox, "User")?;
    if call.strings("AccessRights").is_none_or(|r| r.is_empty()) {
        required(call, "AccessRights")?;
    }
    let rights = rights(call)?;
    inheritance(call)?;
    let applied = host
        .deputy()
        .remove_mailbox_permission(&host.ctx(call), target, trustee, rights, call.switch("Deny"))
        .await
        .map_err(core_error)?;
    let mut out = done(applied, Vec::new());
    if call.switch("BypassMasterAccountSid") {
        // Exchange's switch exists to silence exactly this warning.
        out.warnings.retain(|w| !w.starts_with("Can't remove the access control entry"));
    }
    Ok(out)
}

fn get_mailbox_permission(host: &ExchangeHost, call: &Invocation) -> Res {
    let identity = required(call, "Identity")?;
    host.deputy().read(|s| {
        let target = recipient(s, "Identity", identity, Accept::Mailbox)?;
        let user = call.string("User").map(|u| recipient(s, "User", u, Accept::Any)).transpose()?;
        let rows = s.mailbox_permission_rows(target);
        let objects = rows
            .iter()
            .filter(|r| if call.switch("Owner") { r.trustee.is_none() } else { user.is_none() || r.trustee == user })
            .map(|r| objects::mailbox_permission(s, r))
            .collect();
        Ok(Output { objects, warnings: Vec::new() })
    })
}

/// `Add-ADPermission` grants only the Send As extended right (spec §3.2).
fn check_extended_rights(call: &Invocation) -> Result<(), CommandError> {
    if !call.command.ends_with("ADPermission") {
        return Ok(());
    }
    let rights = call.strings("ExtendedRights").unwrap_or_default();
    if rights.is_empty() {
        return Err(param_error(
            "ExtendedRights",
            "Deputy manages the \"Send As\" extended right only; give -ExtendedRights \"Send As\".",
        ));
    }
    for r in rights {
        let folded: String = r.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
        if folded != "sendas" {
            return Err(param_error(
                "ExtendedRights",
                format!("\"{r}\" isn't supported; Deputy manages the \"Send As\" extended right only."),
            ));
        }
    }
    for r in call.strings("AccessRights").unwrap_or_default() {
        if !r.eq_ignore_ascii_case("ExtendedRight") {
            return Err(param_error(
                "AccessRights",
                format!("\"{r}\" isn't supported with -ExtendedRights; use ExtendedRight."),
            ));
        }
    }
    Ok(())
}

fn trustee_param(call: &Invocation) -> &'static str {
    if call.command.ends_with("ADPermission") { "User" } else { "Trustee" }
}

async fn add_send_as(host: &ExchangeHost, call: &Invocation) -> Res {
    check_extended_rights(call)?;
    let (target, trustee) = pair(host, call, Accept::Any, trustee_param(call))?;
    let applied =
        host.deputy().add_send_as(&host.ctx(call), target, trustee, call.switch("Deny")).await.map_err(core_error)?;
    let obj = host.deputy().read(|s| {
        if call.command == "Add-ADPermission" {
            objects::ad_permission(s, &applied.value)
        } else {
            objects::recipient_permission(s, &applied.value)
        }
    });
    Ok(done(applied, vec![obj]))
}

async fn remove_send_as(host: &ExchangeHost, call: &Invocation) -> Res {
    check_extended_rights(call)?;
    let (target, trustee) = pair(host, call, Accept::Any, trustee_param(call))?;
    let applied = host
        .deputy()
        .remove_send_as(&host.ctx(call), target, trustee, call.switch("Deny"))
        .await
        .map_err(core_error)?;
    Ok(done(applied, Vec::new()))
}

fn get_send_as(host: &ExchangeHost, call: &Invocation) -> Res {
    let ad = call.command == "Get-ADPermission";
    let param = trustee_param(call);
    host.deputy().read(|s| {
        let target = call.string("Identity").map(|i| recipient(s, "Identity", i, Accept::Any)).transpose()?;
        let trustee = call.string(param).map(|u| recipient(s, param, u, Accept::Any)).transpose()?;
        let mut aces: Vec<_> = match target {
            Some(t) => s.send_as_aces(t).iter().collect(),
            // `Get-RecipientPermission -Trustee x` with no identity: the reverse lookup (exchange-reference.md §1.3).
            None => s.all_send_as_aces().collect(),
        };
        aces.retain(|a| trustee.is_none_or(|t| a.trustee == t));
        aces.sort_by_key(|a| (s.name_of(a.target).to_lowercase(), s.name_of(a.trustee).to_lowercase()));
        let objects = aces
            .into_iter()
            .map(|a| if ad { objects::ad_permission(s, a) } else { objects::recipient_permission(s, a) })
            .collect();
        Ok(Output { objects, warnings: Vec::new() })
    })
}

fn test_delegate_access(host: &ExchangeHost, call: &Invocation) -> Res {
    let (target, user) = pair(host, call, Accept::Any, "User")?;
    host.deputy().read(|s| {
        let checks = crate::hybrid::explain(s, target, user, s.test_delegate_access(target, user));
        let objects = checks.iter().map(|c| objects::access_check(s, target, user, c)).collect();
        Ok(Output { objects, warnings: Vec::new() })
    })
}

fn get_delegated(host: &ExchangeHost, call: &Invocation) -> Res {
    let user = required(call, "User")?;
    host.deputy().read(|s| {
        let id = recipient(s, "User", user, Accept::Any)?;
        let mut rows = s.delegated(id);
        rows.sort_by_key(|d| s.name_of(d.target).to_lowercase());
        Ok(Output { objects: rows.iter().map(|d| objects::delegation(s, d)).collect(), warnings: Vec::new() })
    })
}

async fn search_audit(host: &ExchangeHost, call: &Invocation) -> Res {
    let query = AuditQuery {
        start: call.date("StartDate"),
        end: call.date("EndDate"),
        cmdlets: call.strings("Cmdlets").map(<[String]>::to_vec).unwrap_or_default(),
        limit: 0,
    };
    let limit = match call.int("ResultSize") {
        Some(n) if n < 1 => return Err(param_error("ResultSize", format!("{n} is not a positive number."))),
        Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
        None => 1000,
    };
    let mut records = host.deputy().search_audit(&query).await.map_err(core_error)?;
    let objects = call.strings("ObjectIds").unwrap_or_default().to_vec();
    let users = call.strings("UserIds").unwrap_or_default().to_vec();
    records.retain(|r| {
        (objects.is_empty() || objects.iter().any(|o| o.eq_ignore_ascii_case(&r.object)))
            && (users.is_empty() || users.iter().any(|u| u.eq_ignore_ascii_case(&r.caller)))
            && call.bool("IsSuccess").is_none_or(|ok| ok == r.succeeded)
    });
    records.truncate(limit);
    Ok(Output { objects: records.iter().map(objects::audit_event).collect(), warnings: Vec::new() })
}
