//! Registered applications for Graph's client-credentials tokens: Exchange
//! Online's RBAC for Applications (`New-ServicePrincipal`,
//! `New-ManagementRoleAssignment -App`) and Microsoft Graph PowerShell's
//! `Add-MgApplicationPassword` for their client secrets.
//!
//! Deputy is its own identity provider, so `-AppId` and `-ObjectId` of
//! `New-ServicePrincipal` (which in EXO point to an Entra application) are
//! optional and generated when absent. `-CustomResourceScope` (limiting an
//! application to some mailboxes) is not implemented and is refused; the role
//! assignments listed are the applications' only (Deputy has no built-in
//! administrator role assignments to show).

use crate::ExchangeHost;
use crate::catalog::{IDENTITY, IDENTITY_OPT, Spec, p};
use crate::recipients::done;
use crate::resolve::{core_error, param_error, required};
use deputy_core::{CoreError, NewAppSecret, NewServicePrincipal, State};
use deputy_pwsh::{CommandError, Invocation, Object, Output, ParamKind as K, Value};
use deputy_types::{AppRole, AppSecret, RoleAssignment, ServicePrincipal};
use uuid::Uuid;

type Res = Result<Output, CommandError>;

const APPLICATION_ID: deputy_pwsh::ParamInfo = p("ApplicationId", K::String).at(0).mandatory();

/// The application cmdlets' parameters (the catalog lists them after its own).
pub(crate) const SPECS: &[Spec] = &[
    Spec {
        name: "New-ServicePrincipal",
        params: &[
            p("DisplayName", K::String).mandatory(),
            p("AppId", K::String),
            p("ObjectId", K::String),
            p("Organization", K::String),
        ],
    },
    Spec { name: "Get-ServicePrincipal", params: &[IDENTITY_OPT, p("Organization", K::String)] },
    Spec { name: "Set-ServicePrincipal", params: &[IDENTITY, p("DisplayName", K::String).mandatory()] },
    Spec { name: "Remove-ServicePrincipal", params: &[IDENTITY] },
    Spec { name: "Add-MgApplicationPassword", params: &[APPLICATION_ID, p("PasswordCredential", K::Any)] },
    Spec { name: "Remove-MgApplicationPassword", params: &[APPLICATION_ID, p("KeyId", K::String).mandatory()] },
    Spec {
        name: "New-ManagementRoleAssignment",
        params: &[
            p("App", K::String).mandatory(),
            p("Role", K::String).mandatory(),
            p("Name", K::String),
            p("CustomResourceScope", K::String),
        ],
    },
    Spec {
        name: "Get-ManagementRoleAssignment",
        params: &[IDENTITY_OPT, p("RoleAssignee", K::String), p("Role", K::String)],
    },
    Spec { name: "Remove-ManagementRoleAssignment", params: &[IDENTITY] },
];

pub(crate) async fn invoke(host: &ExchangeHost, call: &Invocation) -> Option<Res> {
    let out = match call.command {
        "New-ServicePrincipal" => new_service_principal(host, call).await,
        "Get-ServicePrincipal" => get_service_principal(host, call),
        "Set-ServicePrincipal" => set_service_principal(host, call).await,
        "Remove-ServicePrincipal" => remove_service_principal(host, call).await,
        "Add-MgApplicationPassword" => add_password(host, call).await,
        "Remove-MgApplicationPassword" => remove_password(host, call).await,
        "New-ManagementRoleAssignment" => new_assignment(host, call).await,
        "Get-ManagementRoleAssignment" => get_assignments(host, call),
        "Remove-ManagementRoleAssignment" => remove_assignment(host, call).await,
        _ => return None,
    };
    Some(out)
}

/// The GUID given to `param`, if any.
fn guid(param: &str, value: Option<&str>) -> Result<Option<Uuid>, CommandError> {
    value
        .map(|v| Uuid::parse_str(v.trim()).map_err(|_| param_error(param, format!("\"{v}\" is not a valid GUID."))))
        .transpose()
}

/// Resolves an application given to `param` by AppId, ObjectId or DisplayName.
fn app(s: &State, param: &str, value: &str) -> Result<Uuid, CommandError> {
    s.resolve_service_principal(value).map(|sp| sp.id).map_err(|e| param_error(param, e))
}

fn role(param: &str, value: &str) -> Result<AppRole, CommandError> {
    AppRole::parse(value).map_err(|e| param_error(param, e))
}

/// A service principal as `Get-ServicePrincipal` shows it.
fn service_principal(sp: &ServicePrincipal) -> Value {
    Value::Object(
        Object::new("ServicePrincipal")
            .with("DisplayName", sp.display_name.as_str())
            .with("AppId", sp.app_id.to_string())
            .with("ObjectId", sp.id.to_string())
            .with("Identity", sp.id.to_string())
            .display(&["DisplayName", "ObjectId", "AppId"]),
    )
}

/// A client secret as Graph's `passwordCredential` resource shows it; `text` only when just made.
fn password_credential(secret: &AppSecret, text: Option<&str>) -> Value {
    Value::Object(
        Object::new("MicrosoftGraphPasswordCredential")
            .with("KeyId", secret.key_id.to_string())
            .with("DisplayName", secret.display_name.as_str())
            .with("Hint", secret.hint.as_str())
            .with("SecretText", text.map(str::to_owned))
            .with("StartDateTime", secret.start)
            .with("EndDateTime", secret.end)
            .display(&["DisplayName", "EndDateTime", "Hint", "KeyId", "SecretText", "StartDateTime"]),
    )
}

/// An application role assignment as `Get-ManagementRoleAssignment` shows it.
fn role_assignment(sp: &ServicePrincipal, a: &RoleAssignment) -> Value {
    Value::Object(
        Object::new("ExchangeRoleAssignment")
            .with("Name", a.name.as_str())
            .with("Role", a.role.role_name())
            .with("RoleAssigneeName", sp.display_name.as_str())
            .with("RoleAssignee", sp.id.to_string())
            .with("RoleAssigneeType", "ServicePrincipal")
            .with("AssignmentMethod", "Direct")
            .with("RoleAssignmentDelegationType", "Regular")
            .with("CustomResourceScope", Value::Null)
            .with("Enabled", true)
            .with("Identity", a.name.as_str())
            .display(&["Name", "Role", "RoleAssigneeName", "RoleAssigneeType", "AssignmentMethod"]),
    )
}

async fn new_service_principal(host: &ExchangeHost, call: &Invocation) -> Res {
    let spec = NewServicePrincipal {
        display_name: required(call, "DisplayName")?.to_owned(),
        app_id: guid("AppId", call.string("AppId"))?,
        object_id: guid("ObjectId", call.string("ObjectId"))?,
    };
    let applied = host.deputy().new_service_principal(&host.ctx(call), spec).await.map_err(core_error)?;
    let obj = service_principal(&applied.value);
    Ok(done(applied, vec![obj]))
}

fn get_service_principal(host: &ExchangeHost, call: &Invocation) -> Res {
    host.deputy().read(|s| {
        let objects = match call.string("Identity") {
            Some(identity) => {
                let id = app(s, "Identity", identity)?;
                s.service_principal_by_guid(id).map(service_principal).into_iter().collect()
            }
            None => s.service_principals().into_iter().map(service_principal).collect(),
        };
        Ok(Output { objects, warnings: Vec::new() })
    })
}

async fn set_service_principal(host: &ExchangeHost, call: &Invocation) -> Res {
    let identity = required(call, "Identity")?;
    let display_name = required(call, "DisplayName")?;
    let id = host.deputy().read(|s| app(s, "Identity", identity))?;
    let applied = host.deputy().set_service_principal(&host.ctx(call), id, display_name).await.map_err(core_error)?;
    Ok(done(applied, Vec::new()))
}

async fn remove_service_principal(host: &ExchangeHost, call: &Invocation) -> Res {
    let identity = required(call, "Identity")?;
    let id = host.deputy().read(|s| app(s, "Identity", identity))?;
    let applied = host.deputy().remove_service_principal(&host.ctx(call), id).await.map_err(core_error)?;
    Ok(done(applied, Vec::new()))
}

/// `-PasswordCredential @{DisplayName='…'; StartDateTime='…'; EndDateTime='…'}`.
fn new_secret(call: &Invocation) -> Result<NewAppSecret, CommandError> {
    const PARAM: &str = "PasswordCredential";
    let mut spec = NewAppSecret::default();
    let entries = match call.value(PARAM) {
        None | Some(Value::Null) => return Ok(spec),
        Some(Value::Hashtable(entries)) => entries,
        Some(other) => {
            return Err(param_error(
                PARAM,
                format!(
                    "Cannot convert a {} to a password credential; give a hashtable such as @{{DisplayName='Mailer'; EndDateTime='2030-01-01'}}.",
                    other.type_name()
                ),
            ));
        }
    };
    let date = |key: &str, v: &Value| {
        deputy_pwsh::to_date(v).ok_or_else(|| {
            param_error(
                PARAM,
                format!("Cannot convert value \"{}\" of {key} to type \"System.DateTime\".", v.to_display_string()),
            )
        })
    };
    for (key, value) in entries {
        match key.to_ascii_lowercase().as_str() {
            "displayname" => spec.display_name = Some(value.to_display_string()),
            "startdatetime" => spec.start = Some(date(key, value)?),
            "enddatetime" => spec.end = Some(date(key, value)?),
            _ => {
                return Err(param_error(
                    PARAM,
                    format!("\"{key}\" isn't a property Deputy sets; use DisplayName, StartDateTime or EndDateTime."),
                ));
            }
        }
    }
    Ok(spec)
}

async fn add_password(host: &ExchangeHost, call: &Invocation) -> Res {
    let application = required(call, "ApplicationId")?;
    let spec = new_secret(call)?;
    let id = host.deputy().read(|s| app(s, "ApplicationId", application))?;
    let applied = host.deputy().add_app_secret(&host.ctx(call), id, spec).await.map_err(core_error)?;
    let obj = password_credential(&applied.value.secret, Some(&applied.value.text));
    Ok(done(applied, vec![obj]))
}

async fn remove_password(host: &ExchangeHost, call: &Invocation) -> Res {
    let application = required(call, "ApplicationId")?;
    let key_id = guid("KeyId", Some(required(call, "KeyId")?))?.unwrap_or_default();
    let id = host.deputy().read(|s| {
        let id = app(s, "ApplicationId", application)?;
        if !s.service_principal_by_guid(id).is_some_and(|sp| sp.secrets.iter().any(|k| k.key_id == key_id)) {
            return Err(param_error(
                "KeyId",
                format!("The application \"{application}\" has no password credential {key_id}."),
            ));
        }
        Ok(id)
    })?;
    let applied = host.deputy().remove_app_secret(&host.ctx(call), id, key_id).await.map_err(core_error)?;
    Ok(done(applied, Vec::new()))
}

async fn new_assignment(host: &ExchangeHost, call: &Invocation) -> Res {
    if let Some(scope) = call.string("CustomResourceScope") {
        return Err(param_error(
            "CustomResourceScope",
            format!(
                "\"{scope}\": Deputy doesn't limit applications to some mailboxes yet; an application role applies to every mailbox."
            ),
        ));
    }
    let role = role("Role", required(call, "Role")?)?;
    let assignee = required(call, "App")?;
    let id = host.deputy().read(|s| app(s, "App", assignee))?;
    let applied =
        host.deputy().add_app_role(&host.ctx(call), id, role, call.string("Name")).await.map_err(core_error)?;
    let obj = host.deputy().read(|s| s.service_principal_by_guid(id).map(|sp| role_assignment(sp, &applied.value)));
    Ok(done(applied, obj.into_iter().collect()))
}

fn get_assignments(host: &ExchangeHost, call: &Invocation) -> Res {
    let role = call.string("Role").map(|r| role("Role", r)).transpose()?;
    host.deputy().read(|s| {
        let assignee = call.string("RoleAssignee").map(|v| app(s, "RoleAssignee", v)).transpose()?;
        let name = call.string("Identity");
        if let Some(n) = name
            && s.role_assignment(n).is_none()
        {
            return Err(param_error("Identity", CoreError::NotFound(n.to_owned())));
        }
        let objects = s
            .role_assignments()
            .into_iter()
            .filter(|(sp, a)| {
                assignee.is_none_or(|id| sp.id == id)
                    && role.is_none_or(|r| a.role == r)
                    && name.is_none_or(|n| a.name.eq_ignore_ascii_case(n.trim()))
            })
            .map(|(sp, a)| role_assignment(sp, a))
            .collect();
        Ok(Output { objects, warnings: Vec::new() })
    })
}

async fn remove_assignment(host: &ExchangeHost, call: &Invocation) -> Res {
    let name = required(call, "Identity")?;
    host.deputy().read(|s| match s.role_assignment(name) {
        Some(_) => Ok(()),
        None => Err(param_error("Identity", CoreError::NotFound(name.to_owned()))),
    })?;
    let applied = host.deputy().remove_app_role(&host.ctx(call), name).await.map_err(core_error)?;
    Ok(done(applied, Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use deputy_pwsh::Arg;

    fn with_credential(v: Value) -> Invocation {
        let mut call = Invocation::new("Add-MgApplicationPassword");
        call.args.insert("PasswordCredential", Arg::Any(v));
        call
    }

    #[test]
    fn every_application_cmdlet_is_in_the_catalog() {
        for spec in SPECS {
            assert!(crate::catalog::find(spec.name).is_some(), "{} missing", spec.name);
        }
        assert!(crate::cmdlet_names().contains(&"New-ManagementRoleAssignment"));
    }

    #[test]
    fn password_credential_reads_its_hashtable_ignoring_key_case() {
        let call = with_credential(Value::Hashtable(vec![
            ("displayName".into(), Value::String("Mailer".into())),
            ("EndDateTime".into(), Value::String("2030-01-02".into())),
        ]));
        let spec = new_secret(&call).unwrap();
        assert_eq!(spec.display_name.as_deref(), Some("Mailer"));
        assert_eq!(spec.end.map(|d| d.to_rfc3339()), Some("2030-01-02T00:00:00+00:00".to_owned()));
        assert!(spec.start.is_none());
        assert!(new_secret(&Invocation::new("Add-MgApplicationPassword")).unwrap().end.is_none());
    }

    #[test]
    fn password_credential_errors_name_the_parameter() {
        let bad_date = with_credential(Value::Hashtable(vec![("EndDateTime".into(), Value::String("someday".into()))]));
        let e = new_secret(&bad_date).unwrap_err().message;
        assert!(e.contains("'PasswordCredential'") && e.contains("someday"), "{e}");
        let unknown = with_credential(Value::Hashtable(vec![("Secret".into(), Value::String("x".into()))]));
        assert!(new_secret(&unknown).unwrap_err().message.contains("\"Secret\""));
        let not_a_table = with_credential(Value::String("x".into()));
        assert!(new_secret(&not_a_table).unwrap_err().message.contains("hashtable"));
    }

    #[test]
    fn an_unknown_role_names_the_parameter_and_lists_the_valid_roles() {
        let e = role("Role", "Application Mail.Delete").unwrap_err().message;
        assert!(e.contains("'Role'") && e.contains("Application Mail.Delete"), "{e}");
        assert!(e.contains("Application Mail.Send") && e.contains("Application Calendars.ReadWrite"), "{e}");
    }
}
