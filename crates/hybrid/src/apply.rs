//! Applying one sync operation to this forest, through the core's services —
//! the calls the cmdlets make, so every change has its audit record. Each
//! operation looks at the current state first, so applying it again, after a
//! crash or a re-run, changes nothing.

use crate::protocol::{Applied, ExportedObject, Op, join_ids, sorted};
use deputy_core::hybrid::{PEER_SEND_AS, PUBLIC_DELEGATES_BASE, SyncedRecipient, is_synced};
use deputy_core::{CoreError, Ctx, Deputy, MultiEdit, RecipientEdit};
use deputy_types::{AcceptedDomainType, EmailAddress, RecipientId, RecipientType};

fn address(value: &str) -> Result<EmailAddress, CoreError> {
    EmailAddress::parse(value).map_err(|e| CoreError::InvalidValue {
        parameter: "EmailAddresses",
        value: value.to_owned(),
        reason: e.to_string(),
    })
}

fn exists(deputy: &Deputy, id: RecipientId) -> bool {
    deputy.read(|s| s.dir.get(id).is_some())
}

/// What an object of the other forest is here: `kind`, standing for
/// `remote_kind`, its mail going to `target` (or its own external address),
/// with the addresses this forest accepts.
fn synced_spec(
    deputy: &Deputy,
    object: &ExportedObject,
    kind: RecipientType,
    remote_kind: Option<RecipientType>,
    target: Option<&String>,
    source_forest: &str,
) -> Result<SyncedRecipient, CoreError> {
    let accepted =
        |a: &String| EmailAddress::parse(a).ok().filter(|e| deputy.read(|s| s.dir.is_accepted_domain(e.domain())));
    let mut addresses: Vec<EmailAddress> =
        object.primary_smtp.iter().chain(object.proxy_addresses.iter()).filter_map(accepted).collect();
    let primary = if kind.is_mail_enabled() && !addresses.is_empty() { Some(addresses.remove(0)) } else { None };
    let external = match target.or(object.external_address.as_ref()) {
        Some(t) if !kind.has_mailbox() => Some(address(t)?),
        _ => None,
    };
    Ok(SyncedRecipient {
        id: object.id,
        source_forest: source_forest.to_owned(),
        kind,
        remote_kind,
        name: object.name.clone(),
        alias: object.alias.clone(),
        display_name: object.display_name.clone(),
        primary_smtp: primary,
        proxy_addresses: if kind.is_mail_enabled() { addresses } else { Vec::new() },
        upn: object.upn.clone(),
        external_address: external,
        password_hash: object.password_hash.clone(),
        hidden: object.hidden,
        account_disabled: object.account_disabled,
    })
}

/// Applies `op` as the sync of forest `forest`; a refusal is reported, not raised.
pub async fn apply(deputy: &Deputy, forest: &str, op: &Op) -> Applied {
    let ctx = Ctx::new(&format!("HybridSync@{forest}"), "Start-ADSyncSyncCycle", &op.summary());
    match apply_op(deputy, &ctx, op).await {
        Ok(changed) => Applied { changed, error: None },
        Err(e) => Applied { changed: false, error: Some(e.to_string()) },
    }
}

async fn apply_op(deputy: &Deputy, ctx: &Ctx, op: &Op) -> Result<bool, CoreError> {
    match op {
        Op::AcceptDomain { domain } => {
            if deputy.read(|s| s.dir.is_accepted_domain(domain)) {
                return Ok(false);
            }
            let done = deputy.new_accepted_domain(ctx, domain, domain, AcceptedDomainType::Authoritative).await?;
            Ok(done.changed)
        }
        Op::RoutingAddress { id, address: a } => {
            let add = address(a)?;
            let has = deputy.read(|s| s.dir.get(*id).is_some_and(|r| r.smtp_addresses().any(|x| x.key() == add.key())));
            if has {
                return Ok(false);
            }
            let edit = RecipientEdit {
                email_addresses: Some(MultiEdit::Modify { add: vec![a.clone()], remove: Vec::new() }),
                ..RecipientEdit::default()
            };
            Ok(deputy.set_recipient(ctx, *id, edit).await?.changed)
        }
        Op::Upsert { object, target_address, kind, remote_kind, source_forest } => {
            let spec = synced_spec(deputy, object, *kind, *remote_kind, target_address.as_ref(), source_forest)?;
            Ok(deputy.sync_recipient(ctx, spec).await?.changed)
        }
        Op::MoveIn { object, routing_address, content } => {
            let Some(content) = content else {
                return Err(CoreError::NotApplicable("A move needs the mailbox's content.".into()));
            };
            let spec = synced_spec(deputy, object, object.kind, None, None, "")?;
            let routing = address(routing_address)?;
            Ok(deputy.take_mailbox(ctx, spec, Some(routing), content).await?.changed)
        }
        Op::MoveOut { object, target_address, source_forest } => {
            let spec = synced_spec(
                deputy,
                object,
                RecipientType::MailUser,
                Some(object.kind),
                Some(target_address),
                source_forest,
            )?;
            Ok(deputy.release_mailbox(ctx, spec).await?.changed)
        }
        Op::Members { group, members } => {
            let current = deputy.read(|s| s.dir.members(*group).to_vec());
            let mut changed = false;
            for m in members.iter().filter(|m| !current.contains(m) && exists(deputy, **m)) {
                changed |= deputy.add_member(ctx, *group, *m).await?.changed;
            }
            for m in current.iter().filter(|m| !members.contains(m)) {
                changed |= deputy.remove_member(ctx, *group, *m).await?.changed;
            }
            Ok(changed)
        }
        Op::PublicDelegates { id, delegates, base } => {
            let delegates: Vec<RecipientId> = delegates.iter().copied().filter(|d| exists(deputy, *d)).collect();
            let edit = RecipientEdit {
                send_on_behalf: Some(MultiEdit::Replace(delegates)),
                attributes: vec![(PUBLIC_DELEGATES_BASE.to_owned(), join_ids(&sorted(base.clone())))],
                ..RecipientEdit::default()
            };
            Ok(deputy.set_recipient(ctx, *id, edit).await?.changed)
        }
        Op::PeerSendAs { target, forest, trustees, apply } => {
            let trustees = sorted(trustees.clone());
            let (before, aces) = deputy.read(|s| {
                let before = s
                    .dir
                    .get(*target)
                    .and_then(|r| r.attribute(PEER_SEND_AS))
                    .map(|v| v.rsplit('|').next().map(crate::protocol::split_ids).unwrap_or_default())
                    .unwrap_or_default();
                let aces: Vec<RecipientId> =
                    s.send_as_aces(*target).iter().filter(|a| !a.deny).map(|a| a.trustee).collect();
                (before, aces)
            });
            let mut changed = false;
            if *apply {
                for t in trustees.iter().filter(|t| !aces.contains(t) && exists(deputy, **t)) {
                    changed |= deputy.add_send_as(ctx, *target, *t, false).await?.changed;
                }
                // Entries the sync applied earlier and the source no longer has.
                for t in before.iter().filter(|t| !trustees.contains(t) && aces.contains(t)) {
                    changed |= deputy.remove_send_as(ctx, *target, *t, false).await?.changed;
                }
            }
            let value = if trustees.is_empty() {
                String::new()
            } else {
                format!("{forest}|{}|{}", if *apply { "on" } else { "off" }, join_ids(&trustees))
            };
            let edit = RecipientEdit { attributes: vec![(PEER_SEND_AS.to_owned(), value)], ..RecipientEdit::default() };
            changed |= deputy.set_recipient(ctx, *target, edit).await?.changed;
            Ok(changed)
        }
        Op::Remove { id, .. } => {
            // Never a local object: only what sync created, and only when the peer said it is gone.
            match deputy.read(|s| s.dir.get(*id).map(is_synced)) {
                None => Ok(false),
                Some(false) => Err(CoreError::NotApplicable(format!(
                    "{id} is homed in this forest; directory sync never removes it."
                ))),
                Some(true) => Ok(deputy.remove_recipient(ctx, *id).await?.changed),
            }
        }
    }
}
