//! `GET /v1.0/me/delegatedMailboxes` (spec §8): every mailbox and group the
//! signed-in user can open or send from, with the right and the path that
//! gives it. Graph has no such call; the answer is the engine's, the same
//! rows `Get-DelegatedMailbox` shows.

use axum::response::{IntoResponse, Response};
use deputy_access::Permission;
use deputy_types::RecipientId;
use serde_json::{Value, json};

use crate::Call;
use crate::error::GraphError;
use crate::ids;

fn permission_name(p: Permission) -> &'static str {
    match p {
        Permission::FullAccess => "FullAccess",
        Permission::SendAs => "SendAs",
        Permission::SendOnBehalf => "SendOnBehalf",
        Permission::Folder => "FolderPermission",
    }
}

/// Lists the user's delegations; only for the user itself.
pub(crate) fn list(call: &Call, mailbox: RecipientId) -> Result<Response, GraphError> {
    let user = call.caller.user()?;
    if user != mailbox {
        return Err(GraphError::access_denied());
    }
    let rows: Vec<Value> = call.state.deputy.read(|s| {
        s.delegated(user)
            .iter()
            .map(|d| {
                let target = s.dir.get(d.target);
                let folder = d.folder.map(|(f, rights, _)| {
                    json!({
                        "id": ids::folder(f),
                        "identity": s.folder_identity(f),
                        "rights": rights.display_names(),
                    })
                });
                json!({
                    "id": d.target.0.to_string(),
                    "displayName": target.map(|r| r.display_name.clone()),
                    "mail": target.and_then(|r| r.primary_smtp.as_ref()).map(ToString::to_string),
                    "recipientTypeDetails": target.map(|r| r.kind.as_str()),
                    "permission": if d.folder.is_some() { "FolderPermission" } else { permission_name(d.grant.permission) },
                    "folder": folder,
                    "autoMapped": d.automapped,
                    "via": d.grant.chain.iter().map(|g| s.name_of(*g)).collect::<Vec<_>>(),
                })
            })
            .collect()
    });
    let context = format!("{}/v1.0/$metadata#delegatedMailboxes", call.state.authority(&call.headers));
    Ok(axum::Json(json!({"@odata.context": context, "value": rows})).into_response())
}
