//! Graph permissions: delegated scopes (`scp`) and application roles (`roles`).

bitflags::bitflags! {
    /// A set of Graph permissions, by name as Microsoft spells them.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Scopes: u32 {
        /// `Mail.ReadBasic`: own mail without bodies.
        const MAIL_READ_BASIC = 1 << 0;
        /// `Mail.Read`.
        const MAIL_READ = 1 << 1;
        /// `Mail.ReadWrite`.
        const MAIL_READWRITE = 1 << 2;
        /// `Mail.Send`.
        const MAIL_SEND = 1 << 3;
        /// `Mail.Read.Shared`: own mail and mail the user may open elsewhere.
        const MAIL_READ_SHARED = 1 << 4;
        /// `Mail.ReadWrite.Shared`.
        const MAIL_READWRITE_SHARED = 1 << 5;
        /// `Mail.Send.Shared`: send from another mailbox.
        const MAIL_SEND_SHARED = 1 << 6;
        /// `MailboxSettings.Read`.
        const MAILBOX_SETTINGS_READ = 1 << 7;
        /// `MailboxSettings.ReadWrite`.
        const MAILBOX_SETTINGS_READWRITE = 1 << 8;
        /// `Calendars.Read`.
        const CALENDARS_READ = 1 << 9;
        /// `Calendars.ReadWrite`.
        const CALENDARS_READWRITE = 1 << 10;
        /// `Calendars.Read.Shared`.
        const CALENDARS_READ_SHARED = 1 << 11;
        /// `Calendars.ReadWrite.Shared`.
        const CALENDARS_READWRITE_SHARED = 1 << 12;
        /// `User.Read`: the signed-in user's profile.
        const USER_READ = 1 << 13;
        /// `Mail.ReadBasic.All` (application only).
        const MAIL_READ_BASIC_ALL = 1 << 14;
    }
}

/// Every permission name, as Graph spells it.
const NAMES: &[(&str, Scopes)] = &[
    ("Mail.ReadBasic", Scopes::MAIL_READ_BASIC),
    ("Mail.Read", Scopes::MAIL_READ),
    ("Mail.ReadWrite", Scopes::MAIL_READWRITE),
    ("Mail.Send", Scopes::MAIL_SEND),
    ("Mail.Read.Shared", Scopes::MAIL_READ_SHARED),
    ("Mail.ReadWrite.Shared", Scopes::MAIL_READWRITE_SHARED),
    ("Mail.Send.Shared", Scopes::MAIL_SEND_SHARED),
    ("MailboxSettings.Read", Scopes::MAILBOX_SETTINGS_READ),
    ("MailboxSettings.ReadWrite", Scopes::MAILBOX_SETTINGS_READWRITE),
    ("Calendars.Read", Scopes::CALENDARS_READ),
    ("Calendars.ReadWrite", Scopes::CALENDARS_READWRITE),
    ("Calendars.Read.Shared", Scopes::CALENDARS_READ_SHARED),
    ("Calendars.ReadWrite.Shared", Scopes::CALENDARS_READWRITE_SHARED),
    ("User.Read", Scopes::USER_READ),
    ("Mail.ReadBasic.All", Scopes::MAIL_READ_BASIC_ALL),
];

/// The Graph resource, as `aud` and as the scope prefix.
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";

/// Graph's well-known application id, the other accepted `aud`.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// What a delegated token may carry: everything but the application-only ones.
pub const DELEGATED: Scopes = Scopes::all().difference(Scopes::MAIL_READ_BASIC_ALL);

/// OpenID Connect scopes a client may ask for beside Graph's.
pub const OIDC: &[&str] = &["openid", "profile", "email", "offline_access"];

/// What a requested scope token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    /// One Graph permission.
    Graph(Scopes),
    /// `…/.default`: every permission the client is configured with.
    Default,
    /// `openid`, `profile`, `email` or `offline_access`.
    Oidc(&'static str),
}

impl Scopes {
    /// One permission by name (case-insensitive, as Entra compares them).
    pub fn parse_one(name: &str) -> Option<Self> {
        NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|&(_, s)| s)
    }

    /// The names, space-separated, in Graph's order (the `scp` claim).
    pub fn names(self) -> Vec<&'static str> {
        NAMES.iter().filter(|(_, s)| self.contains(*s)).map(|&(n, _)| n).collect()
    }

    /// Parses a space-separated `scp` claim or a list of `roles`; unknown
    /// names are ignored (a token never grants more than it names).
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        names.into_iter().filter_map(Self::parse_one).fold(Self::empty(), |a, b| a | b)
    }
}

/// Parses one token of a `scope` form field: bare (`Mail.Send`), with the
/// Graph resource prefix, `.default`, or an OpenID Connect scope.
pub fn parse_requested(token: &str) -> Option<Requested> {
    if let Some(&oidc) = OIDC.iter().find(|o| o.eq_ignore_ascii_case(token)) {
        return Some(Requested::Oidc(oidc));
    }
    let bare = token
        .strip_prefix(GRAPH_RESOURCE)
        .map(|rest| rest.trim_start_matches('/'))
        .or_else(|| token.strip_prefix(GRAPH_APP_ID).map(|rest| rest.trim_start_matches('/')))
        .unwrap_or(token);
    if bare.eq_ignore_ascii_case(".default") {
        return Some(Requested::Default);
    }
    Scopes::parse_one(bare).map(Requested::Graph)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_bare_prefixed_and_default() {
        assert_eq!(parse_requested("Mail.Send"), Some(Requested::Graph(Scopes::MAIL_SEND)));
        assert_eq!(
            parse_requested("https://graph.microsoft.com/Mail.Send.Shared"),
            Some(Requested::Graph(Scopes::MAIL_SEND_SHARED))
        );
        assert_eq!(parse_requested("https://graph.microsoft.com/.default"), Some(Requested::Default));
        assert_eq!(parse_requested("offline_access"), Some(Requested::Oidc("offline_access")));
        assert_eq!(parse_requested("Mail.Everything"), None);
        assert_eq!(Scopes::from_names("Mail.Read Mail.Send bogus".split(' ')), Scopes::MAIL_READ | Scopes::MAIL_SEND);
        assert_eq!((Scopes::MAIL_READ | Scopes::MAIL_SEND).names(), vec!["Mail.Read", "Mail.Send"]);
    }
}
