//! Apple's calendar-proxy groups as folder permissions on the owner's
//! Calendar (spec §5): who is in them, whose proxy the caller is, and
//! PROPPATCH of `DAV:group-member-set`, which adds, changes or removes
//! Calendar entries through the same core services as
//! `Add-`/`Set-`/`Remove-MailboxFolderPermission`.

use axum::http::StatusCode;
use axum::response::Response;
use deputy_access::FolderOp;
use deputy_core::{Ctx, Deputy, FolderPermissionEdit};
use deputy_types::{FolderRights, FolderRole, FolderUser, RecipientId};

use crate::paths::{self, Proxy, Target, Who};
use crate::xml::{self, DAV, QName};
use crate::{Req, bad_xml, multistatus, need_privileges, plain};

/// Which group a set of rights on a Calendar puts its holder in: write for
/// Create and EditAll (Editor and up, delegates), read for Read without
/// them (Reviewer, Author's own-item rights stay "read").
pub(crate) fn classify(rights: FolderRights) -> Option<Proxy> {
    if rights.contains(FolderRights::CREATE_ITEMS | FolderRights::EDIT_ALL) {
        Some(Proxy::Write)
    } else if rights.contains(FolderRights::READ_ITEMS) {
        Some(Proxy::Read)
    } else {
        None
    }
}

/// The mailboxes whose calendar `principal` is a `kind` proxy for, by its
/// effective rights (own entry, groups, Full Access), by alias.
pub(crate) fn proxy_for(deputy: &Deputy, principal: RecipientId, kind: Proxy) -> Vec<Who> {
    deputy.read(|s| {
        let mut out: Vec<Who> = s
            .dir
            .iter()
            .filter(|r| r.id != principal && r.kind.has_mailbox() && !r.hidden)
            .filter_map(|r| {
                let folder = s.calendar_folder(r.id)?;
                let access = s.calendar_access(principal, folder)?;
                (classify(access.rights) == Some(kind)).then(|| Who { id: r.id, alias: r.alias.clone() })
            })
            .collect();
        out.sort_by(|a, b| a.alias.cmp(&b.alias));
        out
    })
}

/// The explicit entries on `owner`'s Calendar that make up a proxy group,
/// in entry order (a group entry stays a group).
pub(crate) fn members(deputy: &Deputy, owner: RecipientId, kind: Proxy) -> Vec<Who> {
    deputy.read(|s| {
        let Some(folder) = s.calendar_folder(owner) else { return Vec::new() };
        s.folder_aces(folder)
            .iter()
            .filter(|a| classify(a.rights) == Some(kind))
            .filter_map(|a| match a.user {
                FolderUser::Recipient(id) => s.dir.get(id).map(|r| Who { id, alias: r.alias.clone() }),
                _ => None,
            })
            .collect()
    })
}

/// A principal named by an href (`/dav/principals/{alias}/`, an absolute
/// URL of one, or `mailto:`).
fn principal_of(req: &Req, href: &str) -> Option<RecipientId> {
    if let Some(address) = href.strip_prefix("mailto:") {
        // A hidden mailbox is unknown here exactly as its principal path is.
        let caller = req.principal;
        return req.deputy.read(|s| s.dir.resolve(address).ok().filter(|r| !r.hidden || r.id == caller).map(|r| r.id));
    }
    match paths::resolve(&req.deputy, req.principal, paths::href_path(href))? {
        Target::Principal(w) => Some(w.id),
        _ => None,
    }
}

pub(crate) async fn proppatch(req: &Req, target: Target) -> Response {
    let root = match xml::parse(&req.body) {
        Ok(r) if r.is(DAV, "propertyupdate") => r,
        Ok(_) => return plain(StatusCode::BAD_REQUEST, "The body is not a DAV:propertyupdate."),
        Err(e) => return bad_xml(&e),
    };
    // (name, new member hrefs: Some for set, None for remove)
    let ops: Vec<(QName, Option<Vec<String>>)> = xml::updates(&root)
        .into_iter()
        .map(|(p, set)| (QName::new(&p.ns, &p.name), set.then(|| xml::hrefs(p))))
        .collect();
    let path = match &target {
        Target::Proxy(w, kind) => paths::proxy(&w.alias, *kind),
        _ => String::new(),
    };
    let Target::Proxy(owner, kind) = target else {
        // Collections and principals keep Deputy's names: nothing to set.
        let refused: Vec<(QName, u16)> = ops.into_iter().map(|(n, _)| (n, 403)).collect();
        return multistatus(xml::multistatus(&[xml::response("", &[], &refused)], ""));
    };
    let members_op = ops.iter().position(|(n, _)| n.is(DAV, "group-member-set"));
    let (Some(i), 1) = (members_op, ops.len()) else {
        // All or nothing (RFC 4918 §9.2): any other property fails the lot.
        let refused: Vec<(QName, u16)> = ops
            .into_iter()
            .map(|(n, _)| {
                let status = if n.is(DAV, "group-member-set") { 424 } else { 403 };
                (n, status)
            })
            .collect();
        return multistatus(xml::multistatus(&[xml::response(&path, &[], &refused)], ""));
    };
    let hrefs = ops[i].1.clone().unwrap_or_default();
    let Some(folder) = req.deputy.read(|s| s.calendar_folder(owner.id)) else { return crate::not_found() };
    if req.deputy.require(req.principal, folder, FolderOp::ManagePermissions).is_err() {
        return need_privileges(&path, "<D:write-acl/>", "Only the calendar's owner can change its proxies.");
    }
    let mut wanted: Vec<RecipientId> = Vec::new();
    for h in &hrefs {
        match principal_of(req, h) {
            Some(id) if id == owner.id => {
                return plain(StatusCode::CONFLICT, "The calendar's owner can't be her own proxy.");
            }
            Some(id) if !wanted.contains(&id) => wanted.push(id),
            Some(_) => {}
            None => return plain(StatusCode::CONFLICT, &format!("{h} is not a known principal.")),
        }
    }
    if let Err(r) = apply(req, &owner, folder, kind, &wanted).await {
        return r;
    }
    let ok = [(QName::new(DAV, "group-member-set"), String::new())];
    multistatus(xml::multistatus(&[xml::response(&path, &ok, &[])], ""))
}

/// Makes the group's members exactly `wanted`: a member left out loses its
/// entry; a new one gets Reviewer (read) or Editor (write), replacing any
/// entry it had (moving between groups).
async fn apply(
    req: &Req,
    owner: &Who,
    folder: deputy_types::FolderId,
    kind: Proxy,
    wanted: &[RecipientId],
) -> Result<(), Response> {
    let role = match kind {
        Proxy::Read => FolderRole::Reviewer,
        Proxy::Write => FolderRole::Editor,
    };
    let alias = |id: RecipientId| req.deputy.read(|s| s.dir.get(id).map(|r| r.alias.clone())).unwrap_or_default();
    let refused = |e: &dyn std::fmt::Display| plain(StatusCode::CONFLICT, &e.to_string());
    for m in members(&req.deputy, owner.id, kind) {
        if !wanted.contains(&m.id) {
            let line = format!("Remove-MailboxFolderPermission {}:\\Calendar -User {}", owner.alias, m.alias);
            let ctx = Ctx::new(&req.login, "Remove-MailboxFolderPermission", &line);
            req.deputy
                .remove_folder_permission(&ctx, folder, FolderUser::Recipient(m.id))
                .await
                .map_err(|e| refused(&e))?;
        }
    }
    for &id in wanted {
        let user = FolderUser::Recipient(id);
        let existing = req.deputy.read(|s| s.folder_entry(folder, user)).map(|row| row.rights);
        if existing.is_some_and(|r| classify(r) == Some(kind)) {
            continue;
        }
        let edit = FolderPermissionEdit { rights: role.rights(), flags: None, send_notification: false };
        let verb = if existing.is_some() { "Set" } else { "Add" };
        let cmdlet = format!("{verb}-MailboxFolderPermission");
        let line = format!("{cmdlet} {}:\\Calendar -User {} -AccessRights {}", owner.alias, alias(id), role.as_str());
        let ctx = Ctx::new(&req.login, &cmdlet, &line);
        let done = if existing.is_some() {
            req.deputy.set_folder_permission(&ctx, folder, user, edit).await.map(|_| ())
        } else {
            req.deputy.add_folder_permission(&ctx, folder, user, edit).await.map(|_| ())
        };
        done.map_err(|e| refused(&e))?;
    }
    Ok(())
}
