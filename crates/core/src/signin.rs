//! What a token door needs to know about an account between sign-ins.

use crate::Deputy;
use deputy_types::RecipientId;

/// A signed-in account as a token door sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The recipient.
    pub id: RecipientId,
    /// Its user principal name (or primary address when it has none).
    pub upn: String,
    /// Its display name.
    pub display_name: String,
    /// A digest of the current password hash: it changes whenever the
    /// password does, so a refresh token bound to it dies with the old
    /// password. Not secret, and reveals nothing about the password.
    pub credential_stamp: String,
}

impl Deputy {
    /// The account `id`, if it still exists and may sign in (not disabled).
    /// Token doors ask this on every request, so a disabled or removed
    /// account stops at once.
    pub fn account(&self, id: RecipientId) -> Option<Account> {
        self.read(|s| {
            let r = s.dir.get(id).filter(|r| r.kind.can_sign_in() && !r.account_disabled)?;
            let hash = r.password_hash.as_deref()?;
            let digest = deputy_directory::password::fingerprint(&[0; 32], hash, "credential-stamp");
            let upn = r.upn.clone().or_else(|| r.primary_smtp.as_ref().map(|a| a.as_str().to_owned()))?;
            Some(Account {
                id,
                upn,
                display_name: r.display_name.clone(),
                credential_stamp: digest[..12].iter().map(|b| format!("{b:02x}")).collect(),
            })
        })
    }
}

/// `user` and `password` from an `Authorization: Basic …` header value
/// (RFC 7617), for the doors that take HTTP Basic (Autodiscover, CalDAV).
pub fn basic_credentials(authorization: &str) -> Option<(String, String)> {
    use base64::Engine as _;
    let (scheme, token) = authorization.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("Basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(token.trim()).ok()?;
    let (user, password) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::basic_credentials;

    #[test]
    fn basic_credentials_are_read_and_anything_else_is_not() {
        // "rob@contoso.test:p:w" — the password may contain colons.
        let header = "Basic cm9iQGNvbnRvc28udGVzdDpwOnc=";
        assert_eq!(basic_credentials(header), Some(("rob@contoso.test".into(), "p:w".into())));
        assert_eq!(basic_credentials("basic cm9iQGNvbnRvc28udGVzdDpwOnc="), basic_credentials(header));
        assert_eq!(basic_credentials("Bearer abc"), None);
        assert_eq!(basic_credentials("Basic !!!"), None);
        assert_eq!(basic_credentials("Basic"), None);
    }
}
