//! Reading: the whole snapshot, and audit searches.

use crate::codec::{
    Columns, join_time, parse_domain_type, parse_folder_user, parse_inheritance, parse_well_known, split_time,
};
use crate::error::sql;
use deputy_store::{AuditQuery, Snapshot, StoreError};
use deputy_types::{
    AcceptedDomain, AuditRecord, Folder, FolderAce, FolderRights, MailboxAce, MailboxRights, Organization, Recipient,
    SendAsAce, ServicePrincipal, SharingFlags,
};
use rusqlite::{Connection, ToSql};

/// Runs `query` and decodes every row with `decode`, in one pass over one prepared statement.
pub(crate) fn each<T>(
    conn: &Connection,
    table: &'static str,
    query: &str,
    params: &[&dyn ToSql],
    mut decode: impl FnMut(&Columns<'_, '_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let doing = format!("reading {table}");
    let mut statement = conn.prepare_cached(query).map_err(sql(&doing))?;
    let mut rows = statement.query(params).map_err(sql(&doing))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(sql(&doing))? {
        out.push(decode(&Columns { row, table })?);
    }
    Ok(out)
}

/// Reads everything in one read transaction, so the tables agree with each other
/// even while another process commits.
pub(crate) fn load(conn: &mut Connection) -> Result<Snapshot, StoreError> {
    let tx = conn.transaction().map_err(sql("starting to load"))?;
    let organization = each(&tx, "organization", "SELECT name, primary_domain FROM organization", &[], |c| {
        Ok(Organization { name: c.text(0)?.to_owned(), primary_domain: c.text(1)?.to_owned() })
    })?
    .pop();
    let accepted_domains =
        each(&tx, "accepted_domains", "SELECT domain, name, kind, is_default FROM accepted_domains", &[], |c| {
            Ok(AcceptedDomain {
                domain: c.text(0)?.to_owned(),
                name: c.text(1)?.to_owned(),
                kind: parse_domain_type(c.text(2)?)?,
                default: c.flag(3)?,
            })
        })?;
    let recipients = each(&tx, "recipients", "SELECT id, record FROM recipients", &[], |c| {
        let id = c.recipient_id(0)?;
        let r: Recipient = serde_json::from_str(c.text(1)?)
            .map_err(|e| StoreError::Corrupt(format!("recipients.record of {id} is not a recipient: {e}")))?;
        if r.id != id {
            return Err(StoreError::Corrupt(format!("recipients row {id} holds the record of {}", r.id)));
        }
        Ok(r)
    })?;
    let members = each(&tx, "members", "SELECT group_id, member_id FROM members", &[], |c| {
        Ok((c.recipient_id(0)?, c.recipient_id(1)?))
    })?;
    let mailbox_aces = each(
        &tx,
        "mailbox_aces",
        "SELECT target, trustee, deny, rights, inheritance, automapping FROM mailbox_aces",
        &[],
        |c| {
            let rights = c.bits::<u16>(3)?;
            Ok(MailboxAce {
                target: c.recipient_id(0)?,
                trustee: c.recipient_id(1)?,
                deny: c.flag(2)?,
                rights: MailboxRights::from_bits(rights)
                    .ok_or_else(|| StoreError::Corrupt(format!("mailbox_aces.rights has unknown bits: {rights:#x}")))?,
                inheritance: parse_inheritance(c.text(4)?)?,
                automapping: c.flag(5)?,
            })
        },
    )?;
    let send_as_aces = each(&tx, "send_as_aces", "SELECT target, trustee, deny FROM send_as_aces", &[], |c| {
        Ok(SendAsAce { target: c.recipient_id(0)?, trustee: c.recipient_id(1)?, deny: c.flag(2)? })
    })?;
    let folders = each(&tx, "folders", "SELECT id, mailbox, parent, name, well_known FROM folders", &[], |c| {
        Ok(Folder {
            id: c.folder_id(0)?,
            mailbox: c.recipient_id(1)?,
            parent: c.opt_folder_id(2)?,
            name: c.text(3)?.to_owned(),
            well_known: c.opt_text(4)?.map(parse_well_known).transpose()?,
        })
    })?;
    let folder_aces =
        each(&tx, "folder_aces", "SELECT folder, user, mailbox, rights, flags FROM folder_aces", &[], |c| {
            let rights = c.bits::<u32>(3)?;
            let flags = c.bits::<u8>(4)?;
            Ok(FolderAce {
                folder: c.folder_id(0)?,
                user: parse_folder_user(c.text(1)?)?,
                mailbox: c.recipient_id(2)?,
                rights: FolderRights::from_bits(rights)
                    .ok_or_else(|| StoreError::Corrupt(format!("folder_aces.rights has unknown bits: {rights:#x}")))?,
                flags: SharingFlags::from_bits(flags)
                    .ok_or_else(|| StoreError::Corrupt(format!("folder_aces.flags has unknown bits: {flags:#x}")))?,
            })
        })?;
    let service_principals = each(&tx, "service_principals", "SELECT id, record FROM service_principals", &[], |c| {
        let id = c.text(0)?.to_owned();
        let sp: ServicePrincipal = serde_json::from_str(c.text(1)?).map_err(|e| {
            StoreError::Corrupt(format!("service_principals.record of {id} is not a service principal: {e}"))
        })?;
        if sp.id.hyphenated().to_string() != id {
            return Err(StoreError::Corrupt(format!("service_principals row {id} holds the record of {}", sp.id)));
        }
        Ok(sp)
    })?;
    // Dropping the read transaction ends it; there is nothing to commit.
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
/// Times compare as (millisecond, nanosecond) pairs, so bounds are exact and
/// the `time` index serves the range.
pub(crate) fn search_audit(conn: &mut Connection, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
    let mut text = String::from(
        "SELECT time, time_ns, caller, cmdlet, command, object, succeeded, error, before, after FROM audit WHERE 1",
    );
    let mut params: Vec<Box<dyn ToSql>> = Vec::new();
    if let Some(start) = query.start {
        let (ms, ns) = split_time(start);
        params.extend([Box::new(ms) as Box<dyn ToSql>, Box::new(ns)]);
        let (m, n) = (params.len() - 1, params.len());
        text.push_str(&format!(" AND time >= ?{m} AND (time > ?{m} OR time_ns >= ?{n})"));
    }
    if let Some(end) = query.end {
        let (ms, ns) = split_time(end);
        params.extend([Box::new(ms) as Box<dyn ToSql>, Box::new(ns)]);
        let (m, n) = (params.len() - 1, params.len());
        text.push_str(&format!(" AND time <= ?{m} AND (time < ?{m} OR time_ns <= ?{n})"));
    }
    if !query.cmdlets.is_empty() {
        // The column's NOCASE collation makes IN ignore ASCII case.
        let first = params.len() + 1;
        let slots: Vec<String> = (first..first + query.cmdlets.len()).map(|i| format!("?{i}")).collect();
        params.extend(query.cmdlets.iter().map(|c| Box::new(c.clone()) as Box<dyn ToSql>));
        text.push_str(&format!(" AND cmdlet IN ({})", slots.join(", ")));
    }
    text.push_str(" ORDER BY time DESC, time_ns DESC, id DESC");
    if query.limit > 0 {
        params.push(Box::new(i64::try_from(query.limit).unwrap_or(i64::MAX)));
        text.push_str(&format!(" LIMIT ?{}", params.len()));
    }
    let refs: Vec<&dyn ToSql> = params.iter().map(|p| p.as_ref()).collect();
    let tx = conn.transaction().map_err(sql("starting an audit search"))?;
    each(&tx, "audit", &text, &refs, |c| {
        Ok(AuditRecord {
            time: join_time(c.int(0)?, c.int(1)?)?,
            caller: c.text(2)?.to_owned(),
            cmdlet: c.text(3)?.to_owned(),
            command: c.text(4)?.to_owned(),
            object: c.text(5)?.to_owned(),
            succeeded: c.flag(6)?,
            error: c.opt_text(7)?.map(str::to_owned),
            before: c.opt_text(8)?.map(str::to_owned),
            after: c.opt_text(9)?.map(str::to_owned),
        })
    })
}
