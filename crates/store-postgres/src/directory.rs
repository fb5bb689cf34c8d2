//! The directory: applying a batch of changes with its audit records, loading
//! the whole snapshot, and audit searches.

use crate::codec::{
    domain_type_name, folder_user_key, get, int, parse_domain_type, parse_folder_user, parse_inheritance,
    parse_well_known, split_time,
};
use crate::error::Error;
use crate::sql::{Params, exec, rows};
use deadpool_postgres::GenericClient;
use deputy_store::{AuditQuery, Change, Snapshot, StoreError};
use deputy_types::{
    AcceptedDomain, AuditRecord, Folder, FolderAce, FolderRights, MailboxAce, MailboxRights, Organization, Recipient,
    SendAsAce, ServicePrincipal, SharingFlags,
};
use uuid::Uuid;

/// Applies `changes` in order and appends `audit`, inside the caller's transaction.
pub(crate) async fn apply_batch<C: GenericClient>(
    tx: &C,
    changes: &[Change],
    audit: &[AuditRecord],
) -> Result<(), Error> {
    for change in changes {
        apply(tx, change).await?;
    }
    for record in audit {
        insert_audit(tx, record).await?;
    }
    Ok(())
}

async fn run<C: GenericClient>(tx: &C, doing: &str, query: &str, params: &Params<'_>) -> Result<(), Error> {
    exec(tx, doing, query, params).await.map(|_| ())
}

fn json<T: serde::Serialize>(value: &T, what: &str) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| StoreError::Backend(format!("encoding {what} as JSON: {e}")).into())
}

async fn apply<C: GenericClient>(tx: &C, change: &Change) -> Result<(), Error> {
    match change {
        Change::SetOrganization(o) => {
            run(
                tx,
                "setting the organization",
                "INSERT INTO organization (id, name, primary_domain) VALUES (1, $1, $2)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, primary_domain = excluded.primary_domain",
                &[&o.name, &o.primary_domain],
            )
            .await
        }
        Change::PutAcceptedDomain(d) => {
            run(
                tx,
                "storing an accepted domain",
                "INSERT INTO accepted_domains (domain, name, kind, is_default) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (domain) DO UPDATE SET
                    name = excluded.name, kind = excluded.kind, is_default = excluded.is_default",
                &[&d.domain, &d.name, &domain_type_name(d.kind), &d.default],
            )
            .await
        }
        Change::DeleteAcceptedDomain { domain } => {
            run(tx, "deleting an accepted domain", "DELETE FROM accepted_domains WHERE domain = $1", &[domain]).await
        }
        Change::PutRecipient(r) => put_recipient(tx, r).await,
        Change::DeleteRecipient(id) => {
            run(tx, "deleting a recipient", "DELETE FROM recipients WHERE id = $1", &[&id.0]).await
        }
        Change::AddMember { group, member } => {
            run(
                tx,
                "adding a member",
                "INSERT INTO members (group_id, member_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&group.0, &member.0],
            )
            .await
        }
        Change::RemoveMember { group, member } => {
            run(
                tx,
                "removing a member",
                "DELETE FROM members WHERE group_id = $1 AND member_id = $2",
                &[&group.0, &member.0],
            )
            .await
        }
        Change::PutMailboxAce(a) => {
            run(
                tx,
                "storing a mailbox permission",
                "INSERT INTO mailbox_aces (target, trustee, deny, rights, inheritance, automapping)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (target, trustee, deny) DO UPDATE SET
                    rights = excluded.rights, inheritance = excluded.inheritance, automapping = excluded.automapping",
                &[
                    &a.target.0,
                    &a.trustee.0,
                    &a.deny,
                    &i64::from(a.rights.bits()),
                    &a.inheritance.as_str(),
                    &a.automapping,
                ],
            )
            .await
        }
        Change::DeleteMailboxAce { target, trustee, deny } => {
            run(
                tx,
                "deleting a mailbox permission",
                "DELETE FROM mailbox_aces WHERE target = $1 AND trustee = $2 AND deny = $3",
                &[&target.0, &trustee.0, deny],
            )
            .await
        }
        Change::PutSendAsAce(a) => {
            run(
                tx,
                "storing a Send As permission",
                "INSERT INTO send_as_aces (target, trustee, deny) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&a.target.0, &a.trustee.0, &a.deny],
            )
            .await
        }
        Change::DeleteSendAsAce(a) => {
            run(
                tx,
                "deleting a Send As permission",
                "DELETE FROM send_as_aces WHERE target = $1 AND trustee = $2 AND deny = $3",
                &[&a.target.0, &a.trustee.0, &a.deny],
            )
            .await
        }
        Change::PutFolder(f) => {
            run(
                tx,
                "storing a folder",
                "INSERT INTO folders (id, mailbox, parent, name, well_known) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO UPDATE SET
                    mailbox = excluded.mailbox, parent = excluded.parent, name = excluded.name,
                    well_known = excluded.well_known",
                &[&f.id.0, &f.mailbox.0, &f.parent.map(|p| p.0), &f.name, &f.well_known.map(|w| w.graph_name())],
            )
            .await
        }
        Change::DeleteFolder(id) => run(tx, "deleting a folder", "DELETE FROM folders WHERE id = $1", &[&id.0]).await,
        Change::PutFolderAce(a) => {
            run(
                tx,
                "storing a folder permission",
                "INSERT INTO folder_aces (folder, grantee, mailbox, rights, flags) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (folder, grantee) DO UPDATE SET
                    mailbox = excluded.mailbox, rights = excluded.rights, flags = excluded.flags",
                &[
                    &a.folder.0,
                    &folder_user_key(a.user),
                    &a.mailbox.0,
                    &i64::from(a.rights.bits()),
                    &i64::from(a.flags.bits()),
                ],
            )
            .await
        }
        Change::DeleteFolderAce { folder, user } => {
            run(
                tx,
                "deleting a folder permission",
                "DELETE FROM folder_aces WHERE folder = $1 AND grantee = $2",
                &[&folder.0, &folder_user_key(*user)],
            )
            .await
        }
        Change::PutServicePrincipal(sp) => {
            let record = json(sp, &format!("service principal {}", sp.id))?;
            run(
                tx,
                "storing a service principal",
                "INSERT INTO service_principals (id, app_id, record) VALUES ($1, $2, $3::text::jsonb)
                 ON CONFLICT (id) DO UPDATE SET app_id = excluded.app_id, record = excluded.record",
                &[&sp.id, &sp.app_id, &record],
            )
            .await
        }
        Change::DeleteServicePrincipal(id) => {
            run(tx, "deleting a service principal", "DELETE FROM service_principals WHERE id = $1", &[id]).await
        }
    }
}

async fn put_recipient<C: GenericClient>(tx: &C, r: &Recipient) -> Result<(), Error> {
    let record = json(r, &format!("recipient {}", r.id))?;
    run(
        tx,
        "storing a recipient",
        "INSERT INTO recipients (id, kind, name, primary_smtp, upn, record) VALUES ($1, $2, $3, $4, $5, $6::text::jsonb)
         ON CONFLICT (id) DO UPDATE SET
            kind = excluded.kind, name = excluded.name, primary_smtp = excluded.primary_smtp,
            upn = excluded.upn, record = excluded.record",
        &[
            &r.id.0,
            &r.kind.as_str(),
            &r.name,
            &r.primary_smtp.as_ref().map(|a| a.key()),
            &r.upn.as_ref().map(|u| u.to_lowercase()),
            &record,
        ],
    )
    .await
}

async fn insert_audit<C: GenericClient>(tx: &C, r: &AuditRecord) -> Result<(), Error> {
    let (ms, ns) = split_time(r.time);
    run(
        tx,
        "appending to the audit log",
        "INSERT INTO audit (time_ms, time_ns, caller, cmdlet, command, object, succeeded, error, before, after)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[&ms, &ns, &r.caller, &r.cmdlet, &r.command, &r.object, &r.succeeded, &r.error, &r.before, &r.after],
    )
    .await
}

fn record<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what} is not what Deputy wrote: {e}")))
}

/// Reads every table; the caller runs it in one repeatable-read transaction,
/// so the tables agree with each other while other nodes commit.
pub(crate) async fn load<C: GenericClient>(tx: &C) -> Result<Snapshot, Error> {
    let organization = rows(tx, "reading organization", "SELECT name, primary_domain FROM organization", &[])
        .await?
        .iter()
        .map(|r| {
            Ok(Organization {
                name: get(r, 0, "organization.name")?,
                primary_domain: get(r, 1, "organization.primary_domain")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?
        .pop();
    let accepted_domains =
        rows(tx, "reading accepted_domains", "SELECT domain, name, kind, is_default FROM accepted_domains", &[])
            .await?
            .iter()
            .map(|r| {
                Ok(AcceptedDomain {
                    domain: get(r, 0, "accepted_domains.domain")?,
                    name: get(r, 1, "accepted_domains.name")?,
                    kind: parse_domain_type(get(r, 2, "accepted_domains.kind")?)?,
                    default: get(r, 3, "accepted_domains.is_default")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
    let recipients = rows(tx, "reading recipients", "SELECT id, record::text FROM recipients", &[])
        .await?
        .iter()
        .map(|r| {
            let id: Uuid = get(r, 0, "recipients.id")?;
            let rec: Recipient = record(get(r, 1, "recipients.record")?, &format!("recipients.record of {id}"))?;
            if rec.id.0 != id {
                return Err(StoreError::Corrupt(format!("recipients row {id} holds the record of {}", rec.id)));
            }
            Ok(rec)
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let members = rows(tx, "reading members", "SELECT group_id, member_id FROM members", &[])
        .await?
        .iter()
        .map(|r| {
            let (g, m): (Uuid, Uuid) = (get(r, 0, "members.group_id")?, get(r, 1, "members.member_id")?);
            Ok((deputy_types::RecipientId(g), deputy_types::RecipientId(m)))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let mailbox_aces = rows(
        tx,
        "reading mailbox_aces",
        "SELECT target, trustee, deny, rights, inheritance, automapping FROM mailbox_aces",
        &[],
    )
    .await?
    .iter()
    .map(|r| {
        let rights: u16 = int(r, 3, "mailbox_aces.rights")?;
        Ok(MailboxAce {
            target: deputy_types::RecipientId(get(r, 0, "mailbox_aces.target")?),
            trustee: deputy_types::RecipientId(get(r, 1, "mailbox_aces.trustee")?),
            deny: get(r, 2, "mailbox_aces.deny")?,
            rights: MailboxRights::from_bits(rights)
                .ok_or_else(|| StoreError::Corrupt(format!("mailbox_aces.rights has unknown bits: {rights:#x}")))?,
            inheritance: parse_inheritance(get(r, 4, "mailbox_aces.inheritance")?)?,
            automapping: get(r, 5, "mailbox_aces.automapping")?,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    let send_as_aces = rows(tx, "reading send_as_aces", "SELECT target, trustee, deny FROM send_as_aces", &[])
        .await?
        .iter()
        .map(|r| {
            Ok(SendAsAce {
                target: deputy_types::RecipientId(get(r, 0, "send_as_aces.target")?),
                trustee: deputy_types::RecipientId(get(r, 1, "send_as_aces.trustee")?),
                deny: get(r, 2, "send_as_aces.deny")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let folders = rows(tx, "reading folders", "SELECT id, mailbox, parent, name, well_known FROM folders", &[])
        .await?
        .iter()
        .map(|r| {
            let parent: Option<Uuid> = get(r, 2, "folders.parent")?;
            let well_known: Option<&str> = get(r, 4, "folders.well_known")?;
            Ok(Folder {
                id: deputy_types::FolderId(get(r, 0, "folders.id")?),
                mailbox: deputy_types::RecipientId(get(r, 1, "folders.mailbox")?),
                parent: parent.map(deputy_types::FolderId),
                name: get(r, 3, "folders.name")?,
                well_known: well_known.map(parse_well_known).transpose()?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let folder_aces =
        rows(tx, "reading folder_aces", "SELECT folder, grantee, mailbox, rights, flags FROM folder_aces", &[])
            .await?
            .iter()
            .map(|r| {
                let rights: u32 = int(r, 3, "folder_aces.rights")?;
                let flags: u8 = int(r, 4, "folder_aces.flags")?;
                Ok(FolderAce {
                    folder: deputy_types::FolderId(get(r, 0, "folder_aces.folder")?),
                    user: parse_folder_user(get(r, 1, "folder_aces.grantee")?)?,
                    mailbox: deputy_types::RecipientId(get(r, 2, "folder_aces.mailbox")?),
                    rights: FolderRights::from_bits(rights).ok_or_else(|| {
                        StoreError::Corrupt(format!("folder_aces.rights has unknown bits: {rights:#x}"))
                    })?,
                    flags: SharingFlags::from_bits(flags).ok_or_else(|| {
                        StoreError::Corrupt(format!("folder_aces.flags has unknown bits: {flags:#x}"))
                    })?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
    let service_principals =
        rows(tx, "reading service_principals", "SELECT id, record::text FROM service_principals", &[])
            .await?
            .iter()
            .map(|r| {
                let id: Uuid = get(r, 0, "service_principals.id")?;
                let sp: ServicePrincipal =
                    record(get(r, 1, "service_principals.record")?, &format!("service_principals.record of {id}"))?;
                if sp.id != id {
                    return Err(StoreError::Corrupt(format!(
                        "service_principals row {id} holds the record of {}",
                        sp.id
                    )));
                }
                Ok(sp)
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Snapshot {
        organization,
        accepted_domains,
        recipients,
        members,
        mailbox_aces,
        send_as_aces,
        folders,
        folder_aces,
        service_principals,
    })
}

/// Audit records matching `query`, newest first, ties newest-inserted first.
/// Times compare as (millisecond, nanosecond) rows, so bounds are exact and the
/// time index serves the range; every filter is a parameter, so there is one
/// prepared statement.
pub(crate) async fn search_audit<C: GenericClient>(c: &C, query: &AuditQuery) -> Result<Vec<AuditRecord>, Error> {
    let start = query.start.map(split_time);
    let end = query.end.map(split_time);
    let cmdlets: Vec<String> = query.cmdlets.iter().map(|c| c.to_ascii_lowercase()).collect();
    let limit = (query.limit > 0).then(|| i64::try_from(query.limit).unwrap_or(i64::MAX));
    let found = rows(
        c,
        "searching the audit log",
        "SELECT time_ms, time_ns, caller, cmdlet, command, object, succeeded, error, before, after FROM audit
         WHERE ($1::bigint IS NULL OR (time_ms, time_ns) >= ($1, $2::bigint))
           AND ($3::bigint IS NULL OR (time_ms, time_ns) <= ($3, $4::bigint))
           AND (cardinality($5::text[]) = 0 OR lower(cmdlet COLLATE \"C\") = ANY($5))
         ORDER BY time_ms DESC, time_ns DESC, id DESC
         LIMIT $6",
        &[&start.map(|s| s.0), &start.map(|s| s.1), &end.map(|e| e.0), &end.map(|e| e.1), &cmdlets, &limit],
    )
    .await?;
    found
        .iter()
        .map(|r| {
            Ok(AuditRecord {
                time: crate::codec::join_time(get(r, 0, "audit.time_ms")?, get(r, 1, "audit.time_ns")?)?,
                caller: get(r, 2, "audit.caller")?,
                cmdlet: get(r, 3, "audit.cmdlet")?,
                command: get(r, 4, "audit.command")?,
                object: get(r, 5, "audit.object")?,
                succeeded: get(r, 6, "audit.succeeded")?,
                error: get(r, 7, "audit.error")?,
                before: get(r, 8, "audit.before")?,
                after: get(r, 9, "audit.after")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()
        .map_err(Error::from)
}
