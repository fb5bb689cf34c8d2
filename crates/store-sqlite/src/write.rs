//! Applying a directory batch: every change and audit record, inside the
//! transaction (and savepoint) the writer thread opened for it.

use crate::codec::{domain_type_name, folder_user_key, split_time};
use crate::error::sql;
use deputy_store::{Change, StoreError};
use deputy_types::{AuditRecord, Recipient, ServicePrincipal};
use rusqlite::{Connection, params};

/// Applies `changes` in order and appends `audit`. The caller's savepoint makes
/// the batch all or nothing: on an error it rolls back what was applied.
pub(crate) fn apply_batch(conn: &Connection, changes: &[Change], audit: &[AuditRecord]) -> Result<(), StoreError> {
    for change in changes {
        apply(conn, change)?;
    }
    for record in audit {
        insert_audit(conn, record)?;
    }
    Ok(())
}

fn run(tx: &Connection, doing: &str, query: &str, params: impl rusqlite::Params) -> Result<(), StoreError> {
    tx.prepare_cached(query).and_then(|mut s| s.execute(params)).map(|_| ()).map_err(sql(doing))
}

fn apply(tx: &Connection, change: &Change) -> Result<(), StoreError> {
    match change {
        Change::SetOrganization(o) => run(
            tx,
            "setting the organization",
            "INSERT INTO organization (id, name, primary_domain) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, primary_domain = excluded.primary_domain",
            params![o.name, o.primary_domain],
        ),
        Change::PutAcceptedDomain(d) => run(
            tx,
            "storing an accepted domain",
            "INSERT INTO accepted_domains (domain, name, kind, is_default) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (domain) DO UPDATE SET name = excluded.name, kind = excluded.kind, is_default = excluded.is_default",
            params![d.domain, d.name, domain_type_name(d.kind), d.default],
        ),
        Change::DeleteAcceptedDomain { domain } => run(
            tx,
            "deleting an accepted domain",
            "DELETE FROM accepted_domains WHERE domain = ?1",
            params![domain],
        ),
        Change::PutRecipient(r) => put_recipient(tx, r),
        Change::DeleteRecipient(id) => {
            run(tx, "deleting a recipient", "DELETE FROM recipients WHERE id = ?1", params![id.to_string()])
        }
        Change::AddMember { group, member } => run(
            tx,
            "adding a member",
            "INSERT OR IGNORE INTO members (group_id, member_id) VALUES (?1, ?2)",
            params![group.to_string(), member.to_string()],
        ),
        Change::RemoveMember { group, member } => run(
            tx,
            "removing a member",
            "DELETE FROM members WHERE group_id = ?1 AND member_id = ?2",
            params![group.to_string(), member.to_string()],
        ),
        Change::PutMailboxAce(a) => run(
            tx,
            "storing a mailbox permission",
            "INSERT INTO mailbox_aces (target, trustee, deny, rights, inheritance, automapping)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (target, trustee, deny) DO UPDATE SET
                rights = excluded.rights, inheritance = excluded.inheritance, automapping = excluded.automapping",
            params![
                a.target.to_string(),
                a.trustee.to_string(),
                a.deny,
                a.rights.bits(),
                a.inheritance.as_str(),
                a.automapping
            ],
        ),
        Change::DeleteMailboxAce { target, trustee, deny } => run(
            tx,
            "deleting a mailbox permission",
            "DELETE FROM mailbox_aces WHERE target = ?1 AND trustee = ?2 AND deny = ?3",
            params![target.to_string(), trustee.to_string(), deny],
        ),
        Change::PutSendAsAce(a) => run(
            tx,
            "storing a Send As permission",
            "INSERT OR IGNORE INTO send_as_aces (target, trustee, deny) VALUES (?1, ?2, ?3)",
            params![a.target.to_string(), a.trustee.to_string(), a.deny],
        ),
        Change::DeleteSendAsAce(a) => run(
            tx,
            "deleting a Send As permission",
            "DELETE FROM send_as_aces WHERE target = ?1 AND trustee = ?2 AND deny = ?3",
            params![a.target.to_string(), a.trustee.to_string(), a.deny],
        ),
        Change::PutFolder(f) => run(
            tx,
            "storing a folder",
            "INSERT INTO folders (id, mailbox, parent, name, well_known) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET
                mailbox = excluded.mailbox, parent = excluded.parent, name = excluded.name,
                well_known = excluded.well_known",
            params![
                f.id.to_string(),
                f.mailbox.to_string(),
                f.parent.map(|p| p.to_string()),
                f.name,
                f.well_known.map(|w| w.graph_name())
            ],
        ),
        Change::DeleteFolder(id) => {
            run(tx, "deleting a folder", "DELETE FROM folders WHERE id = ?1", params![id.to_string()])
        }
        Change::PutFolderAce(a) => run(
            tx,
            "storing a folder permission",
            "INSERT INTO folder_aces (folder, user, mailbox, rights, flags) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (folder, user) DO UPDATE SET
                mailbox = excluded.mailbox, rights = excluded.rights, flags = excluded.flags",
            params![a.folder.to_string(), folder_user_key(a.user), a.mailbox.to_string(), a.rights.bits(), a.flags.bits()],
        ),
        Change::DeleteFolderAce { folder, user } => run(
            tx,
            "deleting a folder permission",
            "DELETE FROM folder_aces WHERE folder = ?1 AND user = ?2",
            params![folder.to_string(), folder_user_key(*user)],
        ),
        Change::PutServicePrincipal(sp) => put_service_principal(tx, sp),
        Change::DeleteServicePrincipal(id) => run(
            tx,
            "deleting a service principal",
            "DELETE FROM service_principals WHERE id = ?1",
            params![id.hyphenated().to_string()],
        ),
    }
}

fn put_service_principal(tx: &Connection, sp: &ServicePrincipal) -> Result<(), StoreError> {
    let record = serde_json::to_string(sp)
        .map_err(|e| StoreError::Backend(format!("encoding service principal {} as JSON: {e}", sp.id)))?;
    run(
        tx,
        "storing a service principal",
        "INSERT INTO service_principals (id, app_id, record) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET app_id = excluded.app_id, record = excluded.record",
        params![sp.id.hyphenated().to_string(), sp.app_id.hyphenated().to_string(), record],
    )
}

fn put_recipient(tx: &Connection, r: &Recipient) -> Result<(), StoreError> {
    let record = serde_json::to_string(r)
        .map_err(|e| StoreError::Backend(format!("encoding recipient {} as JSON: {e}", r.id)))?;
    run(
        tx,
        "storing a recipient",
        "INSERT INTO recipients (id, kind, name, primary_smtp, upn, record) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET
            kind = excluded.kind, name = excluded.name, primary_smtp = excluded.primary_smtp,
            upn = excluded.upn, record = excluded.record",
        params![
            r.id.to_string(),
            r.kind.as_str(),
            r.name,
            r.primary_smtp.as_ref().map(|a| a.key()),
            r.upn.as_ref().map(|u| u.to_lowercase()),
            record
        ],
    )
}

fn insert_audit(tx: &Connection, r: &AuditRecord) -> Result<(), StoreError> {
    let (ms, ns) = split_time(r.time);
    run(
        tx,
        "appending to the audit log",
        "INSERT INTO audit (time, time_ns, caller, cmdlet, command, object, succeeded, error, before, after)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![ms, ns, r.caller, r.cmdlet, r.command, r.object, r.succeeded, r.error, r.before, r.after],
    )
}
