//! What `Test-DelegateAccess` adds in a hybrid pair (spec §9): Send As lives
//! in the sending user's forest and directory sync does not carry it, so a
//! denial says when the other forest has the entry the sync left out.

use deputy_access::Permission;
use deputy_core::hybrid::PEER_SEND_AS;
use deputy_core::{AccessCheck, State};
use deputy_types::RecipientId;

/// `checks` with the Send As reason completed when the other forest holds
/// that Send As entry but it isn't applied here.
pub(crate) fn explain(
    s: &State,
    target: RecipientId,
    user: RecipientId,
    mut checks: Vec<AccessCheck>,
) -> Vec<AccessCheck> {
    let Some(recorded) = s.dir.get(target).and_then(|r| r.attribute(PEER_SEND_AS)) else { return checks };
    let mut parts = recorded.splitn(3, '|');
    let (Some(forest), Some(applied), Some(ids)) = (parts.next(), parts.next(), parts.next()) else { return checks };
    let listed = ids.split(',').any(|i| i.trim().eq_ignore_ascii_case(&user.to_string()));
    if !listed {
        return checks;
    }
    let why = if applied == "on" {
        "SyncSendAs is on, but the entry hasn't been applied here yet".to_owned()
    } else {
        "SyncSendAs is off".to_owned()
    };
    for c in checks.iter_mut().filter(|c| c.permission == Permission::SendAs && !c.decision.allowed) {
        c.reason = format!(
            "{}; Send As for {} on {} exists in forest {forest} but is not synced ({why})",
            c.reason,
            s.name_of(user),
            s.name_of(target)
        );
    }
    checks
}

use crate::ExchangeHost;
use crate::catalog::{IDENTITY, IDENTITY_OPT, Spec, p};
use crate::recipients::done;
use crate::resolve::{Accept, core_error, param_error, recipient, required};
use deputy_core::RecipientEdit;
use deputy_core::hybrid::{MOVE_REQUEST, is_synced};
use deputy_pwsh::{CommandError, Invocation, Object, Output, ParamKind as K, Value};

type Res = Result<Output, CommandError>;

/// The move cmdlets' parameters: Exchange's, of which Deputy uses
/// `-Identity`, `-RemoteHostName` and `-TargetDeliveryDomain`; the rest
/// (credentials, databases, item limits) are accepted and have no effect,
/// since the forests authenticate each other with their shared secret.
pub(crate) const SPECS: &[Spec] = &[
    Spec {
        name: "New-MoveRequest",
        params: &[
            IDENTITY,
            p("Remote", K::Switch),
            p("Outbound", K::Switch),
            p("RemoteHostName", K::String).mandatory(),
            p("TargetDeliveryDomain", K::String),
            p("RemoteCredential", K::Any),
            p("RemoteTargetDatabase", K::String),
            p("RemoteArchiveTargetDatabase", K::String),
            p("BadItemLimit", K::String),
            p("LargeItemLimit", K::String),
            p("AcceptLargeDataLoss", K::Switch),
            p("BatchName", K::String),
        ],
    },
    Spec { name: "Get-MoveRequest", params: &[IDENTITY_OPT] },
];

pub(crate) async fn invoke(host: &ExchangeHost, call: &Invocation) -> Option<Res> {
    let out = match call.command {
        "New-MoveRequest" => new_move_request(host, call).await,
        "Get-MoveRequest" => get_move_requests(host, call),
        _ => return None,
    };
    Some(out)
}

/// `New-MoveRequest`: records the request on the mailbox; the directory sync
/// into the other forest carries it out (docs/hybrid.md).
async fn new_move_request(host: &ExchangeHost, call: &Invocation) -> Res {
    let identity = required(call, "Identity")?;
    let remote = required(call, "RemoteHostName")?;
    if remote.contains('|') {
        return Err(param_error("RemoteHostName", format!("\"{remote}\" isn't a host name.")));
    }
    let id = host.deputy().read(|s| {
        let id = recipient(s, "Identity", identity, Accept::Mailbox)?;
        let r = s.dir.get(id).ok_or_else(|| param_error("Identity", "The mailbox no longer exists."))?;
        if is_synced(r) {
            return Err(param_error("Identity", format!("\"{}\" isn't homed in this forest.", r.name)));
        }
        if r.attribute(MOVE_REQUEST).is_some_and(|v| v.starts_with("Queued")) {
            return Err(CommandError { message: format!("The mailbox \"{}\" already has a move request.", r.name) });
        }
        Ok(id)
    })?;
    let value = format!("Queued|{remote}");
    let edit = RecipientEdit { attributes: vec![(MOVE_REQUEST.to_owned(), value)], ..RecipientEdit::default() };
    let applied = host.deputy().set_recipient(&host.ctx(call), id, edit).await.map_err(core_error)?;
    let obj = host.deputy().read(|s| s.dir.get(id).map(move_row));
    Ok(done(applied, obj.into_iter().collect()))
}

fn move_row(r: &deputy_types::Recipient) -> Value {
    let value = r.attribute(MOVE_REQUEST).unwrap_or_default();
    let (status, remote) = value.split_once('|').unwrap_or((value, ""));
    Value::Object(
        Object::new("MoveRequest")
            .with("DisplayName", r.display_name.as_str())
            .with("Alias", r.alias.as_str())
            .with("Identity", r.name.as_str())
            .with("Status", status)
            .with("RemoteHostName", remote)
            .with("RecipientTypeDetails", r.kind.as_str())
            .display(&["DisplayName", "Status", "RemoteHostName"]),
    )
}

fn get_move_requests(host: &ExchangeHost, call: &Invocation) -> Res {
    host.deputy().read(|s| {
        let only = match call.string("Identity") {
            Some(v) => Some(recipient(s, "Identity", v, Accept::Any)?),
            None => None,
        };
        let mut rows: Vec<&deputy_types::Recipient> =
            s.dir.iter().filter(|r| r.attribute(MOVE_REQUEST).is_some() && only.is_none_or(|o| o == r.id)).collect();
        rows.sort_by_key(|r| r.name.to_lowercase());
        Ok(Output { objects: rows.into_iter().map(move_row).collect(), warnings: Vec::new() })
    })
}
