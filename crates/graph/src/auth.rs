//! Who is calling, and in which mailbox it acts (spec §7.3, §4.2).
//!
//! A delegated token acts as its user: in its own mailbox with the plain
//! scopes, in another's only with the `.Shared` ones, and there the core's
//! permission engine decides every folder and item, afresh on each request.
//! An application token with a role acts in any mailbox of the organization
//! as that mailbox's owner would (Graph's rule for application permissions),
//! and never on `/me`. The account, the application and its roles are looked
//! up live, so a disabled user or a removed role stops the very next request.

use axum::http::{HeaderMap, header};
use deputy_core::Deputy;
use deputy_types::RecipientId;
use uuid::Uuid;

use crate::error::GraphError;
use crate::scopes::Scopes;
use crate::token::{TokenError, TokenKeys};

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A user, with its delegated scopes.
    User {
        /// The user.
        id: RecipientId,
        /// Its scopes.
        scopes: Scopes,
    },
    /// A registered application, with the roles it holds now.
    App {
        /// Its ObjectId.
        id: Uuid,
        /// Its roles, as currently assigned and named in the token.
        roles: Scopes,
    },
}

/// What a request wants to do in a mailbox; decides the scope it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Read mail.
    Read,
    /// Create, change, move or delete mail.
    Write,
    /// Send mail.
    Send,
    /// Read calendars (`Calendars.Read`, `.Shared` elsewhere).
    CalendarRead,
    /// Change calendars and answer meetings (`Calendars.ReadWrite`).
    CalendarWrite,
    /// Read mailbox settings: the owner's own only (`MailboxSettings.Read`).
    SettingsRead,
    /// Change mailbox settings (`MailboxSettings.ReadWrite`).
    SettingsWrite,
}

impl Need {
    /// The scopes that allow it in the user's own mailbox.
    fn own(self) -> Scopes {
        match self {
            Self::Read => {
                Scopes::MAIL_READ_BASIC
                    | Scopes::MAIL_READ
                    | Scopes::MAIL_READWRITE
                    | Scopes::MAIL_READ_SHARED
                    | Scopes::MAIL_READWRITE_SHARED
            }
            Self::Write => Scopes::MAIL_READWRITE | Scopes::MAIL_READWRITE_SHARED,
            Self::Send => Scopes::MAIL_SEND | Scopes::MAIL_SEND_SHARED,
            Self::CalendarRead => {
                Scopes::CALENDARS_READ
                    | Scopes::CALENDARS_READWRITE
                    | Scopes::CALENDARS_READ_SHARED
                    | Scopes::CALENDARS_READWRITE_SHARED
            }
            Self::CalendarWrite => Scopes::CALENDARS_READWRITE | Scopes::CALENDARS_READWRITE_SHARED,
            Self::SettingsRead => Scopes::MAILBOX_SETTINGS_READ | Scopes::MAILBOX_SETTINGS_READWRITE,
            Self::SettingsWrite => Scopes::MAILBOX_SETTINGS_READWRITE,
        }
    }

    /// The scopes that allow it in someone else's mailbox.
    fn shared(self) -> Scopes {
        match self {
            Self::Read => Scopes::MAIL_READ_SHARED | Scopes::MAIL_READWRITE_SHARED,
            Self::Write => Scopes::MAIL_READWRITE_SHARED,
            Self::Send => Scopes::MAIL_SEND_SHARED,
            Self::CalendarRead => Scopes::CALENDARS_READ_SHARED | Scopes::CALENDARS_READWRITE_SHARED,
            Self::CalendarWrite => Scopes::CALENDARS_READWRITE_SHARED,
            // Graph has no shared mailbox-settings scope: only the owner
            // (or an application) reads or changes them, even with Full Access.
            Self::SettingsRead | Self::SettingsWrite => Scopes::empty(),
        }
    }

    /// The application roles that allow it in any mailbox.
    fn app(self) -> Scopes {
        match self {
            Self::Read => Scopes::MAIL_READ | Scopes::MAIL_READWRITE | Scopes::MAIL_READ_BASIC_ALL,
            Self::Write => Scopes::MAIL_READWRITE,
            Self::Send => Scopes::MAIL_SEND,
            Self::CalendarRead => Scopes::CALENDARS_READ | Scopes::CALENDARS_READWRITE,
            Self::CalendarWrite => Scopes::CALENDARS_READWRITE,
            Self::SettingsRead => Scopes::MAILBOX_SETTINGS_READ | Scopes::MAILBOX_SETTINGS_READWRITE,
            Self::SettingsWrite => Scopes::MAILBOX_SETTINGS_READWRITE,
        }
    }
}

/// A request's standing in one mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acting {
    /// Whose rights the core checks: the user, or for an application the
    /// mailbox's owner.
    pub principal: RecipientId,
    /// The mailbox the path names.
    pub mailbox: RecipientId,
    /// Whether an application token is acting.
    pub app: bool,
}

impl Caller {
    /// Reads and checks the bearer token, then the account or application behind it.
    pub fn from_headers(headers: &HeaderMap, keys: &TokenKeys, deputy: &Deputy) -> Result<Self, GraphError> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .unwrap_or_default();
        let claims = keys.verify_access(token).map_err(|e| GraphError::token(e.to_string()))?;
        let invalid = || GraphError::token(TokenError::Invalid.to_string());
        let oid = Uuid::parse_str(&claims.oid).map_err(|_| invalid())?;
        if claims.idtyp == "app" {
            let sp = deputy.service_principal(&oid.to_string()).ok_or_else(invalid)?;
            let named = Scopes::from_names(claims.roles.iter().flatten().map(String::as_str));
            let held = Scopes::from_names(sp.roles.iter().map(|r| r.role.permission()));
            let roles = named & held;
            if roles.is_empty() {
                return Err(GraphError::token(
                    "The token contains no permissions, or permissions can not be understood.",
                ));
            }
            return Ok(Self::App { id: sp.id, roles });
        }
        let id = RecipientId(oid);
        deputy.account(id).ok_or_else(invalid)?;
        let scopes = Scopes::from_names(claims.scp.as_deref().unwrap_or_default().split(' '));
        Ok(Self::User { id, scopes })
    }

    /// The user behind a delegated token (`/me`); application tokens get
    /// Graph's `400`.
    pub fn user(&self) -> Result<RecipientId, GraphError> {
        match self {
            Self::User { id, .. } => Ok(*id),
            Self::App { .. } => {
                Err(GraphError::bad_request("/me request is only valid with delegated authentication flow."))
            }
        }
    }

    /// Acting in `mailbox` (resolved from `/me` or `/users/{id}`) for `need`.
    pub fn acting(&self, mailbox: RecipientId, need: Need) -> Result<Acting, GraphError> {
        match *self {
            Self::User { id, scopes } => {
                let allowed = if id == mailbox { need.own() } else { need.shared() };
                if !scopes.intersects(allowed) {
                    return Err(GraphError::access_denied());
                }
                Ok(Acting { principal: id, mailbox, app: false })
            }
            Self::App { roles, .. } => {
                if !roles.intersects(need.app()) {
                    return Err(GraphError::access_denied());
                }
                Ok(Acting { principal: mailbox, mailbox, app: true })
            }
        }
    }

    /// Whether the caller may read only basic properties (`Mail.ReadBasic`,
    /// `Mail.ReadBasic.All`): no body, no preview, no MIME content.
    pub fn reads_basic_only(&self) -> bool {
        match self {
            Self::User { scopes, .. } => !scopes.intersects(
                Scopes::MAIL_READ | Scopes::MAIL_READWRITE | Scopes::MAIL_READ_SHARED | Scopes::MAIL_READWRITE_SHARED,
            ),
            Self::App { roles, .. } => !roles.intersects(Scopes::MAIL_READ | Scopes::MAIL_READWRITE),
        }
    }

    /// Whether a delegated caller may send from an address other than its
    /// own (`Mail.Send.Shared`); applications with `Mail.Send` may (§4.1).
    pub fn may_send_shared(&self) -> bool {
        match self {
            Self::User { scopes, .. } => scopes.contains(Scopes::MAIL_SEND_SHARED),
            Self::App { roles, .. } => roles.contains(Scopes::MAIL_SEND),
        }
    }
}
