//! E-mail addresses, parsed once at the edge (RFC 5321 §4.1.2 `Mailbox`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a string is not an e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// No `@`, or nothing on one side of it.
    #[error("\"{0}\" is not a valid SMTP address: it needs a local part, '@' and a domain")]
    Shape(String),
    /// A character that an address cannot hold unquoted.
    #[error("\"{0}\" is not a valid SMTP address: it contains a space, a control character or one of ()<>,;:\\\"[]")]
    Character(String),
    /// Longer than SMTP allows (RFC 5321 §4.5.3.1).
    #[error("\"{0}\" is not a valid SMTP address: it is longer than 254 characters")]
    TooLong(String),
}

/// A mailbox address `local@domain`. The domain is kept lower-case; the local
/// part keeps its case (RFC 5321 §2.4) but comparisons in Deputy ignore case,
/// as Exchange does.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Parses `local@domain`, accepting UTF-8 (RFC 6531) but not quoted local parts.
    pub fn parse(s: &str) -> Result<Self, AddressError> {
        let s = s.trim();
        if s.len() > 254 {
            return Err(AddressError::TooLong(s.chars().take(64).collect()));
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err(AddressError::Shape(s.to_owned()));
        };
        if local.is_empty() || domain.is_empty() || local.len() > 64 {
            return Err(AddressError::Shape(s.to_owned()));
        }
        let bad = |c: char| c.is_control() || c.is_whitespace() || "()<>,;:\\\"[]@".contains(c);
        if local.chars().any(bad) || domain.chars().any(bad) {
            return Err(AddressError::Character(s.to_owned()));
        }
        if domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") {
            return Err(AddressError::Shape(s.to_owned()));
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    /// The whole address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the last `@`.
    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(l, _)| l)
    }

    /// The domain, lower-case.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }

    /// The address folded to lower case, the form every lookup uses.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}>", self.0)
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = AddressError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<EmailAddress> for String {
    fn from(a: EmailAddress) -> Self {
        a.0
    }
}

impl std::str::FromStr for EmailAddress {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn domain_is_lowercased_local_part_kept() {
        let a = EmailAddress::parse("Mary.Smith@Contoso.TEST").unwrap();
        assert_eq!(a.as_str(), "Mary.Smith@contoso.test");
        assert_eq!(a.local_part(), "Mary.Smith");
        assert_eq!(a.key(), "mary.smith@contoso.test");
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in ["", "mary", "@contoso.test", "mary@", "ma ry@x.test", "a<b@x.test", "a@x..test"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad} accepted");
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_round_trips(s in "\\PC{0,80}") {
            if let Ok(a) = EmailAddress::parse(&s) {
                prop_assert_eq!(EmailAddress::parse(a.as_str()).unwrap(), a);
            }
        }
    }
}
