//! Registered applications (service principals) and the application roles
//! they hold: what Graph's client-credentials tokens are issued for.
//!
//! Exchange Online calls this "RBAC for Applications": `New-ServicePrincipal`
//! registers an application and `New-ManagementRoleAssignment -App … -Role
//! "Application Mail.Send"` grants it a role. Deputy is its own identity
//! provider, so an application's client secrets live here too (Entra keeps
//! them elsewhere). EXO's `-CustomResourceScope` (limiting an application to
//! some mailboxes) is not implemented: a role applies to every mailbox.

use crate::UnknownName;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A registered application: `Get-ServicePrincipal`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicePrincipal {
    /// `ObjectId`: the key everything else refers to.
    pub id: Uuid,
    /// `AppId`: the OAuth `client_id`; unique in the organization.
    pub app_id: Uuid,
    /// `DisplayName`.
    pub display_name: String,
    /// Client secrets (`passwordCredentials`), hashed.
    pub secrets: Vec<AppSecret>,
    /// Application role assignments, in the order they were made.
    pub roles: Vec<RoleAssignment>,
}

impl ServicePrincipal {
    /// Whether the application holds `role`.
    pub fn has_role(&self, role: AppRole) -> bool {
        self.roles.iter().any(|r| r.role == role)
    }

    /// The permissions for a token's `roles` claim (`Mail.Send`, …), each once, in assignment order.
    pub fn permissions(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::with_capacity(self.roles.len());
        for r in &self.roles {
            if !out.contains(&r.role.permission()) {
                out.push(r.role.permission());
            }
        }
        out
    }
}

/// One client secret. Only its Argon2 hash is kept; the text is shown once, when made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSecret {
    /// `KeyId`.
    pub key_id: Uuid,
    /// `DisplayName` (the secret's description).
    pub display_name: String,
    /// `Hint`: the secret's first three characters, as Entra shows them.
    pub hint: String,
    /// The secret's Argon2id PHC string.
    pub hash: String,
    /// `StartDateTime`: valid from.
    pub start: DateTime<Utc>,
    /// `EndDateTime`: valid until (exclusive).
    pub end: DateTime<Utc>,
}

impl AppSecret {
    /// Whether the secret may be used at `now`.
    pub fn is_valid_at(&self, now: DateTime<Utc>) -> bool {
        self.start <= now && now < self.end
    }
}

/// One `New-ManagementRoleAssignment -App`: a named grant of one role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleAssignment {
    /// `Name`: unique in the organization.
    pub name: String,
    /// `Role`.
    pub role: AppRole,
}

/// An Exchange Online application role ("Application Mail.Send") and the Graph
/// application permission it stands for ("Mail.Send").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AppRole {
    /// Read mail in every mailbox.
    MailRead,
    /// Read mail without bodies and attachments.
    MailReadBasic,
    /// Read and write mail.
    MailReadWrite,
    /// Send mail as any user.
    MailSend,
    /// Read mailbox settings.
    MailboxSettingsRead,
    /// Read and write mailbox settings.
    MailboxSettingsReadWrite,
    /// Read calendars.
    CalendarsRead,
    /// Read and write calendars.
    CalendarsReadWrite,
}

impl AppRole {
    /// Every role, in Exchange's order.
    pub const ALL: [AppRole; 8] = [
        Self::MailRead,
        Self::MailReadBasic,
        Self::MailReadWrite,
        Self::MailSend,
        Self::MailboxSettingsRead,
        Self::MailboxSettingsReadWrite,
        Self::CalendarsRead,
        Self::CalendarsReadWrite,
    ];

    /// The Exchange role name, e.g. `Application Mail.Send`.
    pub const fn role_name(self) -> &'static str {
        match self {
            Self::MailRead => "Application Mail.Read",
            Self::MailReadBasic => "Application Mail.ReadBasic",
            Self::MailReadWrite => "Application Mail.ReadWrite",
            Self::MailSend => "Application Mail.Send",
            Self::MailboxSettingsRead => "Application MailboxSettings.Read",
            Self::MailboxSettingsReadWrite => "Application MailboxSettings.ReadWrite",
            Self::CalendarsRead => "Application Calendars.Read",
            Self::CalendarsReadWrite => "Application Calendars.ReadWrite",
        }
    }

    /// The Graph permission for a token's `roles` claim, e.g. `Mail.Send`.
    pub const fn permission(self) -> &'static str {
        match self {
            Self::MailRead => "Mail.Read",
            Self::MailReadBasic => "Mail.ReadBasic",
            Self::MailReadWrite => "Mail.ReadWrite",
            Self::MailSend => "Mail.Send",
            Self::MailboxSettingsRead => "MailboxSettings.Read",
            Self::MailboxSettingsReadWrite => "MailboxSettings.ReadWrite",
            Self::CalendarsRead => "Calendars.Read",
            Self::CalendarsReadWrite => "Calendars.ReadWrite",
        }
    }

    /// Parses a role name (`Application Mail.Send`), ignoring ASCII case and
    /// surrounding blanks; the bare permission (`Mail.Send`) is accepted too.
    pub fn parse(s: &str) -> Result<Self, UnknownName> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|r| r.role_name().eq_ignore_ascii_case(s) || r.permission().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownName {
                value: s.to_owned(),
                what: "application role",
                valid: Self::ALL.map(Self::role_name).join(", "),
            })
    }
}

impl std::fmt::Display for AppRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.role_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_by_role_name_or_permission_ignoring_case() {
        for role in AppRole::ALL {
            assert_eq!(AppRole::parse(role.role_name()), Ok(role));
            assert_eq!(AppRole::parse(&role.role_name().to_ascii_uppercase()), Ok(role));
            assert_eq!(AppRole::parse(role.permission()), Ok(role));
            assert_eq!(format!("Application {}", role.permission()), role.role_name());
        }
        assert_eq!(AppRole::parse("  application mail.send "), Ok(AppRole::MailSend));
    }

    #[test]
    fn an_unknown_role_lists_the_valid_ones() {
        let e = AppRole::parse("Application Mail.Delete").unwrap_err();
        assert_eq!(e.value, "Application Mail.Delete");
        assert!(e.to_string().contains("Application Mail.Send, Application MailboxSettings.Read"), "{e}");
        assert!(AppRole::parse("").is_err());
        assert!(AppRole::parse("Mail").is_err());
    }

    #[test]
    fn permissions_are_listed_once_in_assignment_order() {
        let role = |name: &str, role| RoleAssignment { name: name.to_owned(), role };
        let sp = ServicePrincipal {
            id: Uuid::from_u128(1),
            app_id: Uuid::from_u128(2),
            display_name: "App".to_owned(),
            secrets: Vec::new(),
            roles: vec![role("a", AppRole::MailSend), role("b", AppRole::MailRead), role("c", AppRole::MailSend)],
        };
        assert_eq!(sp.permissions(), ["Mail.Send", "Mail.Read"]);
        assert!(sp.has_role(AppRole::MailRead) && !sp.has_role(AppRole::CalendarsRead));
    }
}
