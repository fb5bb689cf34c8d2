//! The organization and its accepted domains.

use serde::{Deserialize, Serialize};

/// `DomainType` of an accepted domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AcceptedDomainType {
    /// Every recipient of the domain is in this organization.
    Authoritative,
    /// Unknown recipients are relayed elsewhere.
    InternalRelay,
    /// Mail is relayed to another organization.
    ExternalRelay,
}

/// An SMTP domain the organization receives mail for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptedDomain {
    /// `Name`.
    pub name: String,
    /// `DomainName`, lower-case.
    pub domain: String,
    /// `DomainType`.
    pub kind: AcceptedDomainType,
    /// `Default`: the domain new recipients get their addresses in.
    pub default: bool,
}

/// Organization-wide settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    /// The organization's name.
    pub name: String,
    /// The domain used for `DistinguishedName` (`DC=` parts) and UPNs.
    pub primary_domain: String,
}

impl Organization {
    /// `CN=<name>,CN=Users,DC=<domain parts>` (spec §1), with RFC 4514 escaping.
    pub fn distinguished_name(&self, name: &str) -> String {
        let mut cn = String::with_capacity(name.len());
        for (i, c) in name.chars().enumerate() {
            let lead_or_trail = (i == 0 && (c == ' ' || c == '#')) || (i + 1 == name.chars().count() && c == ' ');
            if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=') || lead_or_trail {
                cn.push('\\');
            }
            cn.push(c);
        }
        let dc: Vec<String> = self.primary_domain.split('.').map(|p| format!("DC={p}")).collect();
        format!("CN={cn},CN=Users,{}", dc.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinguished_name_follows_spec_shape() {
        let org = Organization { name: "Contoso".into(), primary_domain: "contoso.test".into() };
        assert_eq!(org.distinguished_name("Mary Smith"), "CN=Mary Smith,CN=Users,DC=contoso,DC=test");
        assert_eq!(org.distinguished_name("Smith, Mary"), "CN=Smith\\, Mary,CN=Users,DC=contoso,DC=test");
    }
}
