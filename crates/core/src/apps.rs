//! Registered applications (service principals), their client secrets and
//! their application role assignments (Exchange Online's "RBAC for
//! Applications"), and the client-credentials check Graph's token endpoint
//! calls.
//!
//! EXO's `-CustomResourceScope` (limiting an application to some mailboxes
//! through a management scope) is not implemented: an application role
//! applies to every mailbox of the organization.

use crate::{Applied, CoreError, Ctx, Deputy, Plan, Result, State, now};
use chrono::{DateTime, Months, Utc};
use deputy_directory::password;
use deputy_store::Change;
use deputy_types::{AppRole, AppSecret, RoleAssignment, ServicePrincipal};
use uuid::Uuid;

/// How long a client secret is valid when no end is given (Graph's default: two years).
pub const APP_SECRET_LIFETIME_MONTHS: u32 = 24;

/// The characters of a generated client secret, as in Entra's secrets.
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-";
/// 40 characters of 66: about 241 bits.
const SECRET_LEN: usize = 40;
/// How many leading characters of a secret its `Hint` shows.
const HINT_LEN: usize = 3;
/// Longer presented secrets are refused without hashing them.
const MAX_PRESENTED_SECRET: usize = 256;

/// What `New-ServicePrincipal` creates.
#[derive(Debug, Clone, Default)]
pub struct NewServicePrincipal {
    /// `DisplayName` (required).
    pub display_name: String,
    /// `AppId` (the OAuth `client_id`); generated when absent.
    pub app_id: Option<Uuid>,
    /// `ObjectId`; generated when absent.
    pub object_id: Option<Uuid>,
}

/// What `Add-MgApplicationPassword -PasswordCredential` asks for.
#[derive(Debug, Clone, Default)]
pub struct NewAppSecret {
    /// `DisplayName` (the secret's description).
    pub display_name: Option<String>,
    /// `StartDateTime`; now when absent.
    pub start: Option<DateTime<Utc>>,
    /// `EndDateTime`; [`APP_SECRET_LIFETIME_MONTHS`] after the start when absent.
    pub end: Option<DateTime<Utc>>,
}

/// A client secret just made: what is stored, and its text, shown this once.
#[derive(Clone)]
pub struct CreatedSecret {
    /// The stored secret (its hash, never its text).
    pub secret: AppSecret,
    /// `SecretText`: the secret itself; Deputy keeps no copy.
    pub text: String,
}

impl std::fmt::Debug for CreatedSecret {
    // Hand-written so that the secret's text never reaches logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedSecret").field("secret", &self.secret).field("text", &"<hidden>").finish()
    }
}

fn invalid(parameter: &'static str, value: &str, reason: impl Into<String>) -> CoreError {
    CoreError::InvalidValue { parameter, value: value.to_owned(), reason: reason.into() }
}

fn check_text(parameter: &'static str, value: &str) -> Result<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > 256 {
        return Err(invalid(parameter, value, "a name must have 1 to 256 characters"));
    }
    Ok(trimmed.to_owned())
}

/// JSON for the audit log, without the secrets' hashes.
fn audit_json(sp: &ServicePrincipal) -> serde_json::Value {
    let mut v = serde_json::to_value(sp).unwrap_or_default();
    if let Some(secrets) = v.get_mut("secrets").and_then(serde_json::Value::as_array_mut) {
        for secret in secrets.iter_mut().filter_map(serde_json::Value::as_object_mut) {
            secret.remove("hash");
        }
    }
    v
}

fn get(s: &State, id: Uuid) -> Result<&ServicePrincipal> {
    s.service_principals.get(&id).ok_or_else(|| CoreError::Gone(id.to_string()))
}

/// A fresh client secret from the thread's CSPRNG.
fn generate_secret() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..SECRET_LEN).map(|_| char::from(SECRET_ALPHABET[rng.random_range(0..SECRET_ALPHABET.len())])).collect()
}

impl State {
    /// Every registered application, by display name (then `ObjectId`).
    pub fn service_principals(&self) -> Vec<&ServicePrincipal> {
        let mut all: Vec<&ServicePrincipal> = self.service_principals.values().collect();
        all.sort_by_cached_key(|sp| (sp.display_name.to_lowercase(), sp.id));
        all
    }

    /// The application whose `ObjectId` or `AppId` is `guid`.
    pub fn service_principal_by_guid(&self, guid: Uuid) -> Option<&ServicePrincipal> {
        self.service_principals.get(&guid).or_else(|| self.service_principal_by_app_id(guid))
    }

    /// The application whose `AppId` (`client_id`) is `app_id`.
    pub fn service_principal_by_app_id(&self, app_id: Uuid) -> Option<&ServicePrincipal> {
        self.service_principals.values().find(|sp| sp.app_id == app_id)
    }

    /// Resolves an application's identity: its `AppId`, `ObjectId` or
    /// `DisplayName` (ignoring case). Several display-name matches are an
    /// error listing them, never a guess.
    pub fn resolve_service_principal(&self, identity: &str) -> Result<&ServicePrincipal> {
        let wanted = identity.trim();
        if let Some(sp) = Uuid::parse_str(wanted).ok().and_then(|g| self.service_principal_by_guid(g)) {
            return Ok(sp);
        }
        let matches: Vec<&ServicePrincipal> =
            self.service_principals().into_iter().filter(|sp| sp.display_name.eq_ignore_ascii_case(wanted)).collect();
        match matches.as_slice() {
            [one] => Ok(one),
            [] => Err(CoreError::NotFound(identity.to_owned())),
            many => Err(CoreError::Ambiguous {
                identity: identity.to_owned(),
                matches: many
                    .iter()
                    .map(|sp| format!("{} (AppId {})", sp.display_name, sp.app_id))
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// Every application role assignment with its application, by name.
    pub fn role_assignments(&self) -> Vec<(&ServicePrincipal, &RoleAssignment)> {
        let mut all: Vec<_> =
            self.service_principals.values().flat_map(|sp| sp.roles.iter().map(move |r| (sp, r))).collect();
        all.sort_by_cached_key(|(_, r)| r.name.to_lowercase());
        all
    }

    /// The role assignment named `name` (ignoring case): names are unique in the organization.
    pub fn role_assignment(&self, name: &str) -> Option<(&ServicePrincipal, &RoleAssignment)> {
        let name = name.trim();
        self.service_principals
            .values()
            .find_map(|sp| sp.roles.iter().find(|r| r.name.eq_ignore_ascii_case(name)).map(|r| (sp, r)))
    }

    /// `base`, or `base-2`, `base-3`, … : the first role assignment name not in use.
    fn free_assignment_name(&self, base: &str) -> String {
        let mut name = base.to_owned();
        let mut n = 2;
        while self.role_assignment(&name).is_some() {
            name = format!("{base}-{n}");
            n += 1;
        }
        name
    }
}

impl Deputy {
    /// `New-ServicePrincipal`: registers an application. `AppId` and `ObjectId`
    /// are generated when absent; neither may be in use by another application
    /// (as either of its GUIDs, so a GUID always names one application).
    pub async fn new_service_principal(
        &self,
        ctx: &Ctx,
        spec: NewServicePrincipal,
    ) -> Result<Applied<ServicePrincipal>> {
        let display_name = check_text("DisplayName", &spec.display_name)?;
        let id = spec.object_id.unwrap_or_else(Uuid::new_v4);
        let app_id = spec.app_id.unwrap_or_else(Uuid::new_v4);
        self.mutate(ctx, |s| {
            for (what, guid) in [("AppId", app_id), ("ObjectId", id)] {
                if let Some(other) = s.service_principal_by_guid(guid) {
                    return Err(CoreError::Taken { what, value: guid.to_string(), owner: other.display_name.clone() });
                }
            }
            let sp = ServicePrincipal {
                id,
                app_id,
                display_name: display_name.clone(),
                secrets: Vec::new(),
                roles: Vec::new(),
            };
            let mut plan = Plan::new(
                sp.clone(),
                sp.display_name.clone(),
                format!("Creating service principal \"{}\" with AppId {app_id}.", sp.display_name),
            );
            plan.after = Some(audit_json(&sp));
            plan.changes.push(Change::PutServicePrincipal(sp));
            Ok(plan)
        })
        .await
    }

    /// `Set-ServicePrincipal -DisplayName`.
    pub async fn set_service_principal(
        &self,
        ctx: &Ctx,
        id: Uuid,
        display_name: &str,
    ) -> Result<Applied<ServicePrincipal>> {
        let display_name = check_text("DisplayName", display_name)?;
        self.mutate(ctx, |s| {
            let sp = get(s, id)?;
            if sp.display_name == display_name {
                let warning = format!(
                    "The command completed successfully but no settings of '{}' have been modified.",
                    sp.display_name
                );
                return Ok(Plan::warn(sp.clone(), sp.display_name.clone(), warning));
            }
            let next = ServicePrincipal { display_name: display_name.clone(), ..sp.clone() };
            let mut plan = Plan::new(
                next.clone(),
                sp.display_name.clone(),
                format!("Renaming service principal \"{}\" to \"{display_name}\".", sp.display_name),
            );
            plan.before = Some(audit_json(sp));
            plan.after = Some(audit_json(&next));
            plan.changes.push(Change::PutServicePrincipal(next));
            Ok(plan)
        })
        .await
    }

    /// `Remove-ServicePrincipal`: the application goes with its secrets and
    /// role assignments; a token request with its secrets fails at once.
    pub async fn remove_service_principal(&self, ctx: &Ctx, id: Uuid) -> Result<Applied<ServicePrincipal>> {
        self.mutate(ctx, |s| {
            let sp = get(s, id)?;
            let mut plan = Plan::new(
                sp.clone(),
                sp.display_name.clone(),
                format!("Removing service principal \"{}\".", sp.display_name),
            );
            plan.before = Some(audit_json(sp));
            plan.changes.push(Change::DeleteServicePrincipal(id));
            Ok(plan)
        })
        .await
    }

    /// `Add-MgApplicationPassword`: makes a strong random client secret, stores
    /// only its Argon2 hash and returns its text, this once.
    pub async fn add_app_secret(&self, ctx: &Ctx, id: Uuid, spec: NewAppSecret) -> Result<Applied<CreatedSecret>> {
        let start = spec.start.unwrap_or_else(now);
        let end = match spec.end {
            Some(end) => end,
            None => start
                .checked_add_months(Months::new(APP_SECRET_LIFETIME_MONTHS))
                .ok_or_else(|| invalid("StartDateTime", &start.to_rfc3339(), "the date is out of range"))?,
        };
        if end <= start {
            return Err(invalid("EndDateTime", &end.to_rfc3339(), "the end must be after the start"));
        }
        if end <= now() {
            return Err(invalid("EndDateTime", &end.to_rfc3339(), "the secret would have expired already"));
        }
        let display_name = spec.display_name.map(|d| d.trim().to_owned()).unwrap_or_default();
        let text = generate_secret();
        let to_hash = text.clone();
        // Argon2 is deliberately slow: keep it off the async workers (and outside the writer lock).
        let hash = tokio::task::spawn_blocking(move || password::hash(&to_hash))
            .await
            .map_err(|e| invalid("PasswordCredential", "********", e.to_string()))?
            .map_err(|e| invalid("PasswordCredential", "********", e.to_string()))?;
        let secret = AppSecret {
            key_id: Uuid::new_v4(),
            display_name,
            hint: text.chars().take(HINT_LEN).collect(),
            hash,
            start,
            end,
        };
        self.mutate(ctx, |s| {
            let sp = get(s, id)?;
            let mut next = sp.clone();
            next.secrets.push(secret.clone());
            let mut plan = Plan::new(
                CreatedSecret { secret: secret.clone(), text: text.clone() },
                sp.display_name.clone(),
                format!("Adding client secret {} to \"{}\".", secret.key_id, sp.display_name),
            );
            plan.before = Some(audit_json(sp));
            plan.after = Some(audit_json(&next));
            plan.changes.push(Change::PutServicePrincipal(next));
            Ok(plan)
        })
        .await
    }

    /// `Remove-MgApplicationPassword`: a token request with the secret fails at once.
    pub async fn remove_app_secret(&self, ctx: &Ctx, id: Uuid, key_id: Uuid) -> Result<Applied<()>> {
        self.mutate(ctx, |s| {
            let sp = get(s, id)?;
            if !sp.secrets.iter().any(|k| k.key_id == key_id) {
                return Err(CoreError::NotFound(key_id.to_string()));
            }
            let mut next = sp.clone();
            next.secrets.retain(|k| k.key_id != key_id);
            let mut plan = Plan::new(
                (),
                sp.display_name.clone(),
                format!("Removing client secret {key_id} from \"{}\".", sp.display_name),
            );
            plan.before = Some(audit_json(sp));
            plan.after = Some(audit_json(&next));
            plan.changes.push(Change::PutServicePrincipal(next));
            Ok(plan)
        })
        .await
    }

    /// `New-ManagementRoleAssignment -App -Role [-Name]`. The name defaults to
    /// `<Role>-<DisplayName>` (with `-2`, `-3`, … if taken); an explicit name
    /// must be free. A role the application already holds is a warning.
    pub async fn add_app_role(
        &self,
        ctx: &Ctx,
        id: Uuid,
        role: AppRole,
        name: Option<&str>,
    ) -> Result<Applied<RoleAssignment>> {
        let name = name.map(|n| check_text("Name", n)).transpose()?;
        self.mutate(ctx, |s| {
            let sp = get(s, id)?;
            if let Some(existing) = sp.roles.iter().find(|r| r.role == role) {
                let warning = format!(
                    "The role \"{role}\" is already assigned to \"{}\" by the role assignment \"{}\"; nothing was changed.",
                    sp.display_name, existing.name
                );
                return Ok(Plan::warn(existing.clone(), sp.display_name.clone(), warning));
            }
            let name = match name.clone() {
                Some(name) => {
                    if let Some((owner, _)) = s.role_assignment(&name) {
                        return Err(CoreError::Taken { what: "Name", value: name, owner: owner.display_name.clone() });
                    }
                    name
                }
                None => s.free_assignment_name(&format!("{}-{}", role.role_name(), sp.display_name)),
            };
            let assignment = RoleAssignment { name, role };
            let mut next = sp.clone();
            next.roles.push(assignment.clone());
            let mut plan = Plan::new(
                assignment.clone(),
                sp.display_name.clone(),
                format!("Assigning the role \"{role}\" to \"{}\" as \"{}\".", sp.display_name, assignment.name),
            );
            plan.before = Some(audit_json(sp));
            plan.after = Some(audit_json(&next));
            plan.changes.push(Change::PutServicePrincipal(next));
            Ok(plan)
        })
        .await
    }

    /// `Remove-ManagementRoleAssignment`: removes the assignment named `name`.
    pub async fn remove_app_role(&self, ctx: &Ctx, name: &str) -> Result<Applied<RoleAssignment>> {
        self.mutate(ctx, |s| {
            let (sp, assignment) = s.role_assignment(name).ok_or_else(|| CoreError::NotFound(name.to_owned()))?;
            let mut next = sp.clone();
            next.roles.retain(|r| r.name != assignment.name);
            let mut plan = Plan::new(
                assignment.clone(),
                sp.display_name.clone(),
                format!("Removing the role assignment \"{}\" from \"{}\".", assignment.name, sp.display_name),
            );
            plan.before = Some(audit_json(sp));
            plan.after = Some(audit_json(&next));
            plan.changes.push(Change::PutServicePrincipal(next));
            Ok(plan)
        })
        .await
    }

    /// The registered application whose `AppId` or `ObjectId` is
    /// `app_id_or_object_id` (a GUID in any of its usual spellings).
    pub fn service_principal(&self, app_id_or_object_id: &str) -> Option<ServicePrincipal> {
        let guid = Uuid::parse_str(app_id_or_object_id.trim()).ok()?;
        self.read(|s| s.service_principal_by_guid(guid).cloned())
    }

    /// Checks client credentials: `client_id` is an application's `AppId` and
    /// `secret` one of its client secrets, valid now. Returns the application
    /// (its `roles` give the token's permissions).
    ///
    /// As [`Deputy::authenticate`] does, a success is remembered for
    /// [`crate::SIGN_IN_CACHE_TTL`] as a keyed fingerprint of the secret and its
    /// stored hash, so a burst of token requests pays Argon2 once. The
    /// application and the secret are looked up afresh every time (and again
    /// after Argon2), so a removed secret or application fails at once;
    /// failures are never remembered. Only secrets whose `Hint` starts the
    /// presented secret are tried.
    pub async fn authenticate_app(&self, client_id: &str, secret: &str) -> Option<ServicePrincipal> {
        if secret.is_empty() || secret.len() > MAX_PRESENTED_SECRET {
            return None;
        }
        let app_id = Uuid::parse_str(client_id.trim()).ok()?;
        let at = Utc::now();
        let candidates: Vec<(Uuid, String)> = self.read(|s| {
            let sp = s.service_principal_by_app_id(app_id)?;
            Some(
                sp.secrets
                    .iter()
                    .filter(|k| k.is_valid_at(at) && secret.starts_with(k.hint.as_str()))
                    .map(|k| (k.key_id, k.hash.clone()))
                    .collect(),
            )
        })?;
        let mut unverified = Vec::new();
        for (key_id, hash) in candidates {
            let fingerprint = password::fingerprint(&self.app_sign_ins.key, &hash, secret);
            if self.app_sign_ins.remembers(key_id, &fingerprint) {
                return self.current_app_secret(app_id, key_id);
            }
            unverified.push((key_id, hash, fingerprint));
        }
        if unverified.is_empty() {
            return None;
        }
        let presented = secret.to_owned();
        let verified = tokio::task::spawn_blocking(move || {
            unverified.into_iter().find(|(_, hash, _)| password::verify(&presented, hash))
        })
        .await
        .ok()
        .flatten();
        let (key_id, _, fingerprint) = verified?;
        let sp = self.current_app_secret(app_id, key_id)?;
        self.app_sign_ins.remember(key_id, fingerprint);
        Some(sp)
    }

    /// The application `app_id` if it still has the secret `key_id`, valid now.
    fn current_app_secret(&self, app_id: Uuid, key_id: Uuid) -> Option<ServicePrincipal> {
        let at = Utc::now();
        self.read(|s| {
            let sp = s.service_principal_by_app_id(app_id)?;
            sp.secrets.iter().any(|k| k.key_id == key_id && k.is_valid_at(at)).then(|| sp.clone())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_40_characters_of_the_entra_alphabet_and_differ() {
        let (a, b) = (generate_secret(), generate_secret());
        assert_eq!(a.len(), SECRET_LEN);
        assert!(a.bytes().all(|c| SECRET_ALPHABET.contains(&c)), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn audit_json_leaves_out_secret_hashes() {
        let sp = ServicePrincipal {
            id: Uuid::from_u128(1),
            app_id: Uuid::from_u128(2),
            display_name: "App".into(),
            secrets: vec![AppSecret {
                key_id: Uuid::from_u128(3),
                display_name: "k".into(),
                hint: "abc".into(),
                hash: "$argon2id$secret-hash".into(),
                start: Utc::now(),
                end: Utc::now(),
            }],
            roles: Vec::new(),
        };
        let text = audit_json(&sp).to_string();
        assert!(!text.contains("argon2id") && !text.contains("\"hash\""), "{text}");
        assert!(text.contains("\"hint\":\"abc\""), "{text}");
    }

    #[test]
    fn debug_of_a_created_secret_hides_its_text() {
        let created = CreatedSecret {
            secret: AppSecret {
                key_id: Uuid::nil(),
                display_name: String::new(),
                hint: "abc".into(),
                hash: String::new(),
                start: Utc::now(),
                end: Utc::now(),
            },
            text: "abcTOPSECRET".into(),
        };
        assert!(!format!("{created:?}").contains("TOPSECRET"));
    }
}
