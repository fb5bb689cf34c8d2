//! Creating, changing and removing recipients (spec §1, §2, §3.3, §6).

use crate::{Applied, CoreError, Ctx, Deputy, Plan, Result, State, now};
use deputy_access::{Permission, Surface, check_grant};
use deputy_directory::{opath, password};
use deputy_store::Change;
use deputy_types::{
    AcceptedDomain, AcceptedDomainType, EmailAddress, Folder, FolderId, MeetingDelivery, Organization, Recipient,
    RecipientId, RecipientType, WellKnownFolder,
};

/// What `New-Mailbox`, `New-MailUser`, `New-DistributionGroup`, … create.
#[derive(Debug, Clone, Default)]
pub struct NewRecipient {
    /// The kind; `None` is refused.
    pub kind: Option<RecipientType>,
    /// `Name`.
    pub name: String,
    /// `Alias`; derived from the UPN or the name when absent.
    pub alias: Option<String>,
    /// `DisplayName`; the name when absent.
    pub display_name: Option<String>,
    /// `PrimarySmtpAddress`; `alias@<default domain>` when absent.
    pub primary_smtp: Option<String>,
    /// `UserPrincipalName`; `alias@<primary domain>` when absent.
    pub upn: Option<String>,
    /// The password, in clear; hashed with Argon2 before anything is stored.
    pub password: Option<String>,
    /// `ExternalEmailAddress` of a mail user.
    pub external_address: Option<String>,
    /// `RecipientFilter` of a dynamic group.
    pub recipient_filter: Option<String>,
    /// Initial members of a group.
    pub members: Vec<RecipientId>,
    /// Free-form attributes (`Department`, …).
    pub attributes: Vec<(String, String)>,
    /// Whether the account administers the organization.
    pub is_admin: bool,
    /// Create the account disabled (`New-ADUser` without `-Enabled $true`).
    pub account_disabled: bool,
}

/// A change to a multivalued property: replace, clear, or add and remove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiEdit<T> {
    /// The new whole set.
    Replace(Vec<T>),
    /// Add these and remove those, leaving the rest.
    Modify {
        /// To add.
        add: Vec<T>,
        /// To remove.
        remove: Vec<T>,
    },
}

impl<T: PartialEq + Clone> MultiEdit<T> {
    /// The set after the edit.
    pub fn apply_to(&self, current: &[T]) -> Vec<T> {
        match self {
            Self::Replace(all) => {
                let mut out: Vec<T> = Vec::with_capacity(all.len());
                for v in all {
                    if !out.contains(v) {
                        out.push(v.clone());
                    }
                }
                out
            }
            Self::Modify { add, remove } => {
                let mut out: Vec<T> = current.iter().filter(|v| !remove.contains(v)).cloned().collect();
                for v in add {
                    if !out.contains(v) && !remove.contains(v) {
                        out.push(v.clone());
                    }
                }
                out
            }
        }
    }
}

/// What `Set-Mailbox`, `Set-DistributionGroup`, … change; `None` leaves a property alone.
#[derive(Debug, Clone, Default)]
pub struct RecipientEdit {
    /// `Name`.
    pub name: Option<String>,
    /// `Alias`.
    pub alias: Option<String>,
    /// `DisplayName`.
    pub display_name: Option<String>,
    /// `PrimarySmtpAddress`.
    pub primary_smtp: Option<String>,
    /// `EmailAddresses` (secondary SMTP addresses).
    pub email_addresses: Option<MultiEdit<String>>,
    /// `HiddenFromAddressListsEnabled`.
    pub hidden: Option<bool>,
    /// `GrantSendOnBehalfTo` (spec §3.3).
    pub send_on_behalf: Option<MultiEdit<RecipientId>>,
    /// `MessageCopyForSentAsEnabled` (spec §4.2).
    pub copy_sent_as: Option<bool>,
    /// `MessageCopyForSendOnBehalfEnabled` (spec §4.2).
    pub copy_send_on_behalf: Option<bool>,
    /// Where meeting messages go when the mailbox has calendar delegates (spec §10).
    pub meeting_delivery: Option<MeetingDelivery>,
    /// `RecipientFilter` of a dynamic group (spec §6).
    pub recipient_filter: Option<String>,
    /// `-Type`: convert between user, shared, room and equipment mailboxes.
    pub kind: Option<RecipientType>,
    /// A new password, in clear.
    pub password: Option<String>,
    /// `ExternalEmailAddress` of a mail user.
    pub external_address: Option<String>,
    /// Free-form attributes to set (empty value clears).
    pub attributes: Vec<(String, String)>,
}

/// Characters Exchange allows in an alias (RFC 5322 atext and the dot).
fn alias_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c)
}

fn derive_alias(source: &str) -> String {
    source.chars().filter(|c| alias_char(*c)).collect::<String>().trim_matches('.').to_owned()
}

fn invalid(parameter: &'static str, value: &str, reason: impl Into<String>) -> CoreError {
    CoreError::InvalidValue { parameter, value: value.to_owned(), reason: reason.into() }
}

fn parse_address(parameter: &'static str, value: &str) -> Result<EmailAddress> {
    EmailAddress::parse(value).map_err(|e| invalid(parameter, value, e.to_string()))
}

/// JSON for the audit log, without the password hash.
pub(crate) fn audit_json(r: &Recipient) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.remove("password_hash");
    }
    v
}

/// The well-known folders every mailbox gets, the root first.
fn mailbox_folders(mailbox: RecipientId) -> Vec<Folder> {
    let root = FolderId::new_random();
    WellKnownFolder::ALL
        .into_iter()
        .map(|w| Folder {
            id: if w == WellKnownFolder::Root { root } else { FolderId::new_random() },
            mailbox,
            parent: (w != WellKnownFolder::Root).then_some(root),
            name: w.display_name().to_owned(),
            well_known: Some(w),
        })
        .collect()
}

async fn hash_password(password: Option<String>) -> Result<Option<String>> {
    let Some(pw) = password else { return Ok(None) };
    if pw.is_empty() {
        return Err(invalid("Password", "", "the password can't be empty"));
    }
    tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(|e| invalid("Password", "********", e.to_string()))?
        .map(Some)
        .map_err(|e| invalid("Password", "********", e.to_string()))
}

/// Checks that a name, alias and addresses are free and well-formed.
pub(crate) fn check_unique(s: &State, r: &Recipient) -> Result<()> {
    let except = Some(r.id);
    if r.name.trim().is_empty() || r.name.chars().count() > 64 {
        return Err(invalid("Name", &r.name, "a name must have 1 to 64 characters"));
    }
    if s.dir.name_taken(&r.name, except) {
        let owner = s.dir.resolve(&r.name).map(|o| o.name.clone()).unwrap_or_else(|_| r.name.clone());
        return Err(CoreError::Taken { what: "name", value: r.name.clone(), owner });
    }
    if r.alias.is_empty() || !r.alias.chars().all(alias_char) || r.alias.starts_with('.') || r.alias.ends_with('.') {
        return Err(invalid("Alias", &r.alias, "an alias may hold letters, digits and !#$%&'*+-/=?^_`{|}~. only"));
    }
    if s.dir.alias_taken(&r.alias, except) {
        return Err(CoreError::Taken { what: "alias", value: r.alias.clone(), owner: r.alias.clone() });
    }
    for a in r.smtp_addresses() {
        if !s.dir.is_accepted_domain(a.domain()) {
            return Err(invalid(
                "PrimarySmtpAddress",
                a.as_str(),
                format!("the domain {} isn't an accepted domain of this organization", a.domain()),
            ));
        }
        if let Some(owner) = s.dir.address_taken(a.as_str(), except) {
            return Err(CoreError::Taken { what: "proxy address", value: a.to_string(), owner: owner.name.clone() });
        }
    }
    if let Some(upn) = &r.upn {
        let bad = upn.rsplit_once('@').is_none_or(|(l, d)| l.is_empty() || d.is_empty());
        if bad {
            return Err(invalid("UserPrincipalName", upn, "a UPN has the form user@domain"));
        }
        if let Ok(owner) = s.dir.resolve(upn)
            && owner.id != r.id
        {
            return Err(CoreError::Taken {
                what: "user principal name",
                value: upn.clone(),
                owner: owner.name.clone(),
            });
        }
    }
    Ok(())
}

fn check_members(s: &State, group: &Recipient, members: &[RecipientId]) -> Result<()> {
    for m in members {
        let Some(member) = s.dir.get(*m) else { return Err(CoreError::Gone(m.to_string())) };
        if member.id == group.id {
            return Err(invalid("Members", &member.name, "a group can't be a member of itself"));
        }
    }
    Ok(())
}

/// spec §3.3: whether each of `ids` may be granted Send on Behalf on `target`.
pub(crate) fn check_send_on_behalf(s: &State, target: &Recipient, ids: &[RecipientId]) -> Result<()> {
    for id in ids {
        let Some(t) = s.dir.get(*id) else { return Err(CoreError::Gone(id.to_string())) };
        // A mail user standing for a mailbox of the other forest takes that mailbox's rules (spec §9).
        check_grant(Permission::SendOnBehalf, crate::hybrid::effective_kind(target), t.kind, Surface::Shell)?;
    }
    Ok(())
}

impl Deputy {
    /// Creates the organization: its accepted domain and the `Administrator`
    /// mailbox `admin@<domain>` (interface.md `init`).
    pub async fn initialize(&self, domain: &str, admin_password: &str) -> Result<RecipientId> {
        let domain = domain.trim().to_ascii_lowercase();
        if EmailAddress::parse(&format!("admin@{domain}")).is_err() || !domain.contains('.') {
            return Err(invalid("Domain", &domain, "give a DNS domain such as contoso.test"));
        }
        if self.is_initialized() {
            return Err(CoreError::NotApplicable("The organization is already initialized.".into()));
        }
        let hash = hash_password(Some(admin_password.to_owned())).await?;
        let org = Organization { name: domain.split('.').next().unwrap_or(&domain).to_owned(), primary_domain: domain };
        let ctx = Ctx::new("NT AUTHORITY\\SYSTEM", "Initialize-Organization", "deputy init");
        let admin_id = RecipientId::new_random();
        self.mutate(&ctx, |_| {
            let mut admin = Recipient::new(admin_id, RecipientType::UserMailbox, "Administrator", "admin", now());
            let address = parse_address("Domain", &format!("admin@{}", org.primary_domain))?;
            admin.upn = Some(address.to_string());
            admin.primary_smtp = Some(address);
            admin.password_hash = hash.clone();
            admin.is_admin = true;
            let mut plan = Plan::new(admin_id, org.primary_domain.clone(), "");
            plan.changes.push(Change::SetOrganization(org.clone()));
            plan.changes.push(Change::PutAcceptedDomain(AcceptedDomain {
                name: org.primary_domain.clone(),
                domain: org.primary_domain.clone(),
                kind: AcceptedDomainType::Authoritative,
                default: true,
            }));
            plan.changes.push(Change::PutRecipient(admin));
            plan.changes.extend(mailbox_folders(admin_id).into_iter().map(Change::PutFolder));
            Ok(plan)
        })
        .await
        .map(|a| a.value)
    }

    /// `New-AcceptedDomain`.
    pub async fn new_accepted_domain(
        &self,
        ctx: &Ctx,
        name: &str,
        domain: &str,
        kind: AcceptedDomainType,
    ) -> Result<Applied<AcceptedDomain>> {
        let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        if EmailAddress::parse(&format!("x@{domain}")).is_err() {
            return Err(invalid("DomainName", &domain, "give a DNS domain such as fabrikam.test"));
        }
        self.mutate(ctx, |s| {
            if s.dir.is_accepted_domain(&domain) {
                return Err(CoreError::Taken { what: "accepted domain", value: domain.clone(), owner: domain.clone() });
            }
            let d = AcceptedDomain { name: name.to_owned(), domain: domain.clone(), kind, default: false };
            let mut plan = Plan::new(d.clone(), name, format!("Creating accepted domain \"{domain}\"."));
            plan.after = serde_json::to_value(&d).ok();
            plan.changes.push(Change::PutAcceptedDomain(d));
            Ok(plan)
        })
        .await
    }

    /// Creates a recipient of any kind (`New-Mailbox`, `New-MailUser`,
    /// `New-DistributionGroup`, `New-DynamicDistributionGroup`, …).
    pub async fn new_recipient(&self, ctx: &Ctx, spec: NewRecipient) -> Result<Applied<Recipient>> {
        let kind = spec.kind.ok_or_else(|| invalid("RecipientTypeDetails", "", "a recipient kind is required"))?;
        if kind == RecipientType::UserMailbox && spec.password.is_none() && !spec.is_admin {
            return Err(invalid("Password", "", "a user mailbox needs a password (-Password)"));
        }
        if let Some(f) = &spec.recipient_filter {
            opath::parse(f).map_err(|e| invalid("RecipientFilter", f, e.to_string()))?;
        }
        let hash = if kind.can_sign_in() { hash_password(spec.password.clone()).await? } else { None };
        let id = RecipientId::new_random();
        self.mutate(ctx, |s| {
            let org = s.organization().clone();
            let default_domain = s
                .dir
                .accepted_domains()
                .iter()
                .find(|d| d.default)
                .map_or_else(|| org.primary_domain.clone(), |d| d.domain.clone());
            let alias = match &spec.alias {
                Some(a) => a.trim().to_owned(),
                None => derive_alias(spec.upn.as_deref().and_then(|u| u.split('@').next()).unwrap_or(&spec.name)),
            };
            let mut r = Recipient::new(id, kind, spec.name.trim(), &alias, now());
            r.display_name = spec.display_name.clone().unwrap_or_else(|| r.name.clone());
            if kind.is_mail_enabled() {
                let primary = spec.primary_smtp.clone().unwrap_or_else(|| format!("{alias}@{default_domain}"));
                r.primary_smtp = Some(parse_address("PrimarySmtpAddress", &primary)?);
            }
            if kind.can_sign_in() {
                r.upn = Some(spec.upn.clone().unwrap_or_else(|| format!("{alias}@{}", org.primary_domain)));
                r.password_hash = hash.clone();
            }
            if let Some(ext) = &spec.external_address {
                let ext = ext.strip_prefix("SMTP:").or_else(|| ext.strip_prefix("smtp:")).unwrap_or(ext);
                r.external_address = Some(parse_address("ExternalEmailAddress", ext)?);
            } else if kind == RecipientType::MailUser {
                return Err(invalid("ExternalEmailAddress", "", "a mail user needs an external e-mail address"));
            }
            if kind == RecipientType::DynamicDistributionGroup {
                r.recipient_filter =
                    Some(spec.recipient_filter.clone().ok_or_else(|| invalid("RecipientFilter", "", "required"))?);
            }
            r.is_admin = spec.is_admin;
            r.account_disabled |= spec.account_disabled;
            for (k, v) in &spec.attributes {
                r.set_attribute(k, v);
            }
            check_unique(s, &r)?;
            if !spec.members.is_empty() {
                if !kind.has_static_members() {
                    return Err(invalid("Members", "", format!("a {kind} has no member list")));
                }
                check_members(s, &r, &spec.members)?;
            }
            let mut plan = Plan::new(r.clone(), r.name.clone(), format!("Creating {kind} \"{}\".", r.name));
            plan.after = Some(audit_json(&r));
            plan.changes.push(Change::PutRecipient(r));
            if kind.has_mailbox() {
                plan.changes.extend(mailbox_folders(id).into_iter().map(Change::PutFolder));
            }
            plan.changes.extend(spec.members.iter().map(|m| Change::AddMember { group: id, member: *m }));
            Ok(plan)
        })
        .await
    }

    /// Changes a recipient (`Set-Mailbox`, `Set-DistributionGroup`, …).
    pub async fn set_recipient(&self, ctx: &Ctx, id: RecipientId, edit: RecipientEdit) -> Result<Applied<Recipient>> {
        if let Some(f) = &edit.recipient_filter {
            opath::parse(f).map_err(|e| invalid("RecipientFilter", f, e.to_string()))?;
        }
        let hash = hash_password(edit.password.clone()).await?;
        self.mutate(ctx, |s| {
            let old = s.dir.get(id).ok_or_else(|| CoreError::Gone(id.to_string()))?;
            let mut r = old.clone();
            if let Some(n) = &edit.name {
                r.name = n.trim().to_owned();
            }
            if let Some(a) = &edit.alias {
                r.alias = a.trim().to_owned();
            }
            if let Some(d) = &edit.display_name {
                r.display_name = d.clone();
            }
            if let Some(kind) = edit.kind {
                r.kind = convert_kind(old.kind, kind)?;
                r.account_disabled = !kind.can_sign_in();
            }
            if let Some(p) = &edit.primary_smtp {
                let new = parse_address("PrimarySmtpAddress", p)?;
                // The old primary stays as a secondary address, as Exchange keeps it.
                if let Some(old_primary) = r.primary_smtp.replace(new.clone())
                    && old_primary.key() != new.key()
                {
                    r.proxy_addresses.push(old_primary);
                }
                r.proxy_addresses.retain(|a| a.key() != new.key());
            }
            if let Some(e) = &edit.email_addresses {
                let parsed = |v: &Vec<String>| -> Result<Vec<EmailAddress>> {
                    v.iter()
                        .map(|a| {
                            let bare = a.split_once(':').filter(|(p, _)| p.eq_ignore_ascii_case("smtp"));
                            parse_address("EmailAddresses", bare.map_or(a.as_str(), |(_, rest)| rest))
                        })
                        .collect()
                };
                let edit = match e {
                    MultiEdit::Replace(v) => MultiEdit::Replace(parsed(v)?),
                    MultiEdit::Modify { add, remove } => MultiEdit::Modify { add: parsed(add)?, remove: parsed(remove)? },
                };
                let primary = r.primary_smtp.as_ref().map(EmailAddress::key);
                r.proxy_addresses = edit.apply_to(&r.proxy_addresses);
                r.proxy_addresses.retain(|a| Some(a.key()) != primary);
            }
            if let Some(h) = edit.hidden {
                r.hidden = h;
            }
            if edit.copy_sent_as.is_some() || edit.copy_send_on_behalf.is_some() {
                // spec §4.2: user and shared mailboxes have Sent Items copies; not linked ones, not groups.
                if !matches!(r.kind, RecipientType::UserMailbox | RecipientType::SharedMailbox) {
                    return Err(CoreError::NotApplicable(format!(
                        "MessageCopyForSentAsEnabled and MessageCopyForSendOnBehalfEnabled apply to user and shared mailboxes only, not to a {}.",
                        r.kind
                    )));
                }
                r.message_copy_for_sent_as = edit.copy_sent_as.unwrap_or(r.message_copy_for_sent_as);
                r.message_copy_for_send_on_behalf =
                    edit.copy_send_on_behalf.unwrap_or(r.message_copy_for_send_on_behalf);
            }
            if let Some(m) = edit.meeting_delivery {
                if !r.kind.has_mailbox() {
                    return Err(CoreError::NotApplicable(format!("A {} has no calendar.", r.kind)));
                }
                r.meeting_delivery = m;
            }
            if let Some(sob) = &edit.send_on_behalf {
                let new = sob.apply_to(&r.grant_send_on_behalf_to);
                let added: Vec<_> = new.iter().filter(|x| !r.grant_send_on_behalf_to.contains(x)).copied().collect();
                check_send_on_behalf(s, &r, &added)?;
                r.grant_send_on_behalf_to = new;
            }
            if let Some(f) = &edit.recipient_filter {
                if r.kind != RecipientType::DynamicDistributionGroup {
                    return Err(CoreError::NotApplicable("Only dynamic distribution groups have a RecipientFilter.".into()));
                }
                r.recipient_filter = Some(f.clone());
            }
            if let Some(ext) = &edit.external_address {
                r.external_address = Some(parse_address("ExternalEmailAddress", ext)?);
            }
            if hash.is_some() {
                if !r.kind.can_sign_in() {
                    return Err(CoreError::NotApplicable(format!("A {} has no account to set a password on.", r.kind)));
                }
                r.password_hash = hash.clone();
            }
            for (k, v) in &edit.attributes {
                r.set_attribute(k, v);
            }
            check_unique(s, &r)?;
            let mut plan = Plan::new(r.clone(), r.name.clone(), format!("Setting {} \"{}\".", r.kind, old.name));
            if &r == old {
                plan.warnings.push(format!(
                    "The command completed successfully but no settings of '{}' have been modified.",
                    old.name
                ));
                return Ok(plan);
            }
            plan.before = Some(audit_json(old));
            plan.after = Some(audit_json(&r));
            plan.changes.push(Change::PutRecipient(r));
            Ok(plan)
        })
        .await
    }

    /// Removes a recipient and everything that refers to it: memberships,
    /// grants on it and by it, its folders (`Remove-Mailbox`, …).
    pub async fn remove_recipient(&self, ctx: &Ctx, id: RecipientId) -> Result<Applied<Recipient>> {
        self.mutate(ctx, |s| {
            let r = s.dir.get(id).ok_or_else(|| CoreError::Gone(id.to_string()))?.clone();
            let mut plan = Plan::new(r.clone(), r.name.clone(), format!("Removing {} \"{}\".", r.kind, r.name));
            plan.before = Some(audit_json(&r));
            let c = &mut plan.changes;
            c.extend(s.dir.members(id).iter().map(|m| Change::RemoveMember { group: id, member: *m }));
            c.extend(s.dir.member_of(id).iter().map(|g| Change::RemoveMember { group: *g, member: id }));
            for a in s.all_mailbox_aces().filter(|a| a.target == id || a.trustee == id) {
                c.push(Change::DeleteMailboxAce { target: a.target, trustee: a.trustee, deny: a.deny });
            }
            c.extend(
                s.all_send_as_aces()
                    .filter(|a| a.target == id || a.trustee == id)
                    .cloned()
                    .map(Change::DeleteSendAsAce),
            );
            for other in s.dir.iter().filter(|o| o.id != id && o.grant_send_on_behalf_to.contains(&id)) {
                let mut o = other.clone();
                o.grant_send_on_behalf_to.retain(|x| *x != id);
                c.push(Change::PutRecipient(o));
            }
            let user = deputy_types::FolderUser::Recipient(id);
            for a in s.all_folder_aces().filter(|a| a.user == user && a.mailbox != id) {
                c.push(Change::DeleteFolderAce { folder: a.folder, user });
            }
            for f in s.folders_of(id) {
                c.extend(s.folder_aces(f.id).iter().map(|a| Change::DeleteFolderAce { folder: f.id, user: a.user }));
                c.push(Change::DeleteFolder(f.id));
            }
            c.push(Change::DeleteRecipient(id));
            Ok(plan)
        })
        .await
    }

    /// `Add-DistributionGroupMember`; adding a member twice is a warning-free no-op error as in Exchange.
    pub async fn add_member(&self, ctx: &Ctx, group: RecipientId, member: RecipientId) -> Result<Applied<()>> {
        self.mutate(ctx, |s| {
            let g = s.dir.get(group).ok_or_else(|| CoreError::Gone(group.to_string()))?;
            let m = s.dir.get(member).ok_or_else(|| CoreError::Gone(member.to_string()))?;
            if !g.kind.has_static_members() {
                return Err(CoreError::NotApplicable(format!(
                    "\"{}\" is a {}, which has no member list.",
                    g.name, g.kind
                )));
            }
            check_members(s, g, &[member])?;
            if s.dir.members(group).contains(&member) {
                return Err(CoreError::NotApplicable(format!(
                    "The recipient \"{}\" is already a member of the group \"{}\".",
                    m.name, g.name
                )));
            }
            let mut plan =
                Plan::new((), g.name.clone(), format!("Adding member \"{}\" to group \"{}\".", m.name, g.name));
            plan.after = Some(serde_json::json!({ "Member": m.name }));
            plan.changes.push(Change::AddMember { group, member });
            Ok(plan)
        })
        .await
    }

    /// `Remove-DistributionGroupMember`.
    pub async fn remove_member(&self, ctx: &Ctx, group: RecipientId, member: RecipientId) -> Result<Applied<()>> {
        self.mutate(ctx, |s| {
            let g = s.dir.get(group).ok_or_else(|| CoreError::Gone(group.to_string()))?;
            let m = s.dir.get(member).ok_or_else(|| CoreError::Gone(member.to_string()))?;
            if !s.dir.members(group).contains(&member) {
                return Err(CoreError::NotApplicable(format!(
                    "The recipient \"{}\" isn't a member of the group \"{}\".",
                    m.name, g.name
                )));
            }
            let mut plan =
                Plan::new((), g.name.clone(), format!("Removing member \"{}\" from group \"{}\".", m.name, g.name));
            plan.before = Some(serde_json::json!({ "Member": m.name }));
            plan.changes.push(Change::RemoveMember { group, member });
            Ok(plan)
        })
        .await
    }
}

/// `Set-Mailbox -Type`: only mailbox kinds convert, and only among
/// Regular, Shared, Room and Equipment (exchange-reference.md §1.5).
fn convert_kind(from: RecipientType, to: RecipientType) -> Result<RecipientType> {
    use RecipientType::*;
    let convertible = |k| matches!(k, UserMailbox | SharedMailbox | RoomMailbox | EquipmentMailbox);
    if convertible(from) && convertible(to) {
        Ok(to)
    } else {
        Err(CoreError::NotApplicable(format!("A {from} can't be converted to a {to}.")))
    }
}
