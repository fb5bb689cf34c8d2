//! Folder permission cmdlets (spec §5) and `New-MailboxFolder`.

use crate::ExchangeHost;
use crate::objects;
use crate::recipients::done;
use crate::resolve::{core_error, folder, folder_user, param_error, required};
use deputy_core::FolderPermissionEdit;
use deputy_pwsh::{CommandError, Invocation, Output};
use deputy_types::{FolderRights, SharingFlags};

type Res = Result<Output, CommandError>;

pub(crate) async fn invoke(host: &ExchangeHost, call: &Invocation) -> Option<Res> {
    let out = match call.command {
        "Add-MailboxFolderPermission" | "Set-MailboxFolderPermission" => add_or_set(host, call).await,
        "Remove-MailboxFolderPermission" => remove(host, call).await,
        "Get-MailboxFolderPermission" => get(host, call),
        "New-MailboxFolder" => new_folder(host, call).await,
        _ => return None,
    };
    Some(out)
}

fn edit(call: &Invocation) -> Result<FolderPermissionEdit, CommandError> {
    let rights = FolderRights::parse_access_rights(call.strings("AccessRights").unwrap_or_default())
        .map_err(|e| param_error("AccessRights", e))?;
    let flags = call
        .strings("SharingPermissionFlags")
        .map(SharingFlags::parse_list)
        .transpose()
        .map_err(|e| param_error("SharingPermissionFlags", e))?;
    Ok(FolderPermissionEdit { rights, flags, send_notification: call.has("SendNotificationToUser") })
}

async fn add_or_set(host: &ExchangeHost, call: &Invocation) -> Res {
    let edit = edit(call)?;
    let (identity, user) = (required(call, "Identity")?, required(call, "User")?);
    let (f, u) = host
        .deputy()
        .read(|s| Ok::<_, CommandError>((folder(s, "Identity", identity)?, folder_user(s, "User", user)?)))?;
    let ctx = host.ctx(call);
    let applied = if call.command.starts_with("Add-") {
        host.deputy().add_folder_permission(&ctx, f, u, edit).await
    } else {
        host.deputy().set_folder_permission(&ctx, f, u, edit).await
    }
    .map_err(core_error)?;
    let objects = if call.command.starts_with("Add-") {
        vec![host.deputy().read(|s| objects::folder_permission(s, &applied.value))]
    } else {
        Vec::new()
    };
    Ok(done(applied, objects))
}

async fn remove(host: &ExchangeHost, call: &Invocation) -> Res {
    let (identity, user) = (required(call, "Identity")?, required(call, "User")?);
    let (f, u) = host
        .deputy()
        .read(|s| Ok::<_, CommandError>((folder(s, "Identity", identity)?, folder_user(s, "User", user)?)))?;
    let applied = host.deputy().remove_folder_permission(&host.ctx(call), f, u).await.map_err(core_error)?;
    Ok(done(applied, Vec::new()))
}

fn get(host: &ExchangeHost, call: &Invocation) -> Res {
    let identity = required(call, "Identity")?;
    host.deputy().read(|s| {
        let f = folder(s, "Identity", identity)?;
        let rows = match call.string("User") {
            Some(user) => {
                let u = folder_user(s, "User", user)?;
                let row = s
                    .folder_entry(f, u)
                    .ok_or_else(|| core_error(deputy_core::CoreError::NoFolderEntry(s.folder_user_name(u))))?;
                vec![row]
            }
            None => s.folder_permission_rows(f),
        };
        Ok(Output { objects: rows.iter().map(|r| objects::folder_permission(s, r)).collect(), warnings: Vec::new() })
    })
}

async fn new_folder(host: &ExchangeHost, call: &Invocation) -> Res {
    let parent = required(call, "Parent")?;
    let name = required(call, "Name")?;
    let p = host.deputy().read(|s| folder(s, "Parent", parent))?;
    let applied = host.deputy().new_folder(&host.ctx(call), p, name).await.map_err(core_error)?;
    let obj = host.deputy().read(|s| {
        deputy_pwsh::Value::Object(
            deputy_pwsh::Object::new("MailboxFolder")
                .with("Name", applied.value.name.as_str())
                .with("Identity", s.folder_identity(applied.value.id))
                .with("FolderPath", s.folder_identity(applied.value.id))
                .display(&["Name", "Identity"]),
        )
    });
    Ok(done(applied, vec![obj]))
}
