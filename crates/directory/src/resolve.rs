//! Identity resolution (spec §1) and the other lookups by name.

use crate::directory::fold;
use crate::{Directory, ResolveError};
use deputy_types::{Recipient, RecipientId};

/// Strips an `smtp:` / `SMTP:` proxy prefix.
fn strip_smtp(s: &str) -> &str {
    match s.get(..5) {
        Some(p) if p.eq_ignore_ascii_case("smtp:") => &s[5..],
        _ => s,
    }
}

impl Directory {
    /// Identity resolution (spec §1): Name, Alias, any SMTP address (also with an
    /// `smtp:`/`SMTP:` prefix), DistinguishedName, Guid, UPN and `DOMAIN\alias`
    /// (the first label of the primary domain, any case), all case-insensitive.
    /// Exactly one match → Ok; several → an error listing them all; none → not found.
    pub fn resolve(&self, identity: &str) -> Result<&Recipient, ResolveError> {
        self.resolve_where(identity, &|_| true)
    }

    /// The same, considering only recipients for which `accept` is true (e.g. only mailboxes for Get-Mailbox).
    pub fn resolve_where(
        &self,
        identity: &str,
        accept: &dyn Fn(&Recipient) -> bool,
    ) -> Result<&Recipient, ResolveError> {
        let mut found: Vec<&Recipient> = Vec::new();
        for id in self.candidates(identity) {
            if let Some(r) = self.recipients.get(&id)
                && accept(r)
                && !found.iter().any(|f| f.id == id)
            {
                found.push(r);
            }
        }
        match found.as_slice() {
            [one] => Ok(one),
            [] => Err(ResolveError::NotFound(identity.to_owned())),
            many => {
                let mut matches: Vec<String> = many.iter().map(|r| r.name.clone()).collect();
                matches.sort_by_key(|n| n.to_lowercase());
                Err(ResolveError::Ambiguous { value: identity.to_owned(), matches })
            }
        }
    }

    /// Every id that `identity` names by any form, possibly repeated.
    fn candidates(&self, identity: &str) -> Vec<RecipientId> {
        let key = fold(identity);
        if key.is_empty() {
            return Vec::new();
        }
        let mut ids: Vec<RecipientId> = Vec::new();
        for index in [&self.by_name, &self.by_alias, &self.by_upn, &self.by_dn] {
            ids.extend_from_slice(index.get(&key));
        }
        ids.extend_from_slice(self.by_address.get(strip_smtp(&key)));
        if let Ok(id) = key.parse::<RecipientId>()
            && self.recipients.contains_key(&id)
        {
            ids.push(id);
        }
        // `CONTOSO\mary`: the NetBIOS-style domain is the first label of the primary domain.
        if let Some((domain, alias)) = key.split_once('\\') {
            let netbios = self.org.primary_domain.split('.').next().unwrap_or_default();
            if domain.eq_ignore_ascii_case(netbios) {
                ids.extend_from_slice(self.by_alias.get(alias));
            }
        }
        ids
    }

    /// Exact SMTP address lookup (primary or proxy), case-insensitive; for mail routing.
    /// An address carried by two recipients (inconsistent data) routes to neither.
    pub fn by_address(&self, address: &str) -> Option<&Recipient> {
        match self.by_address.get(&fold(address)) {
            [one] => self.recipients.get(one),
            _ => None,
        }
    }

    /// Whether `name` is already the `Name` of a recipient other than `except`.
    pub fn name_taken(&self, name: &str, except: Option<RecipientId>) -> bool {
        self.by_name.get(&fold(name)).iter().any(|id| Some(*id) != except)
    }

    /// Whether `alias` is already the `Alias` of a recipient other than `except`.
    pub fn alias_taken(&self, alias: &str, except: Option<RecipientId>) -> bool {
        self.by_alias.get(&fold(alias)).iter().any(|id| Some(*id) != except)
    }

    /// The recipient other than `except` that already has the SMTP address `address`
    /// (with or without an `smtp:` prefix), if any.
    pub fn address_taken(&self, address: &str, except: Option<RecipientId>) -> Option<&Recipient> {
        let key = fold(address);
        self.by_address.get(strip_smtp(&key)).iter().find(|id| Some(**id) != except).and_then(|id| self.get(*id))
    }

    /// Ambiguous name resolution (`-Anr`): recipients whose Name, DisplayName,
    /// Alias, FirstName, LastName or any address contains `text`, ignoring case. Those where a field
    /// starts with `text` come first; within each part, ordered by Name.
    pub fn search(&self, text: &str) -> Vec<&Recipient> {
        let needle = fold(text);
        let mut hits: Vec<(bool, String, &Recipient)> = Vec::new();
        for r in self.recipients.values() {
            let fields = [r.name.as_str(), r.display_name.as_str(), r.alias.as_str()]
                .into_iter()
                .chain(["FirstName", "LastName"].into_iter().filter_map(|a| r.attribute(a)))
                .chain(r.smtp_addresses().map(|a| a.as_str()))
                .map(str::to_lowercase);
            let mut best: Option<bool> = None;
            for field in fields {
                if field.starts_with(&needle) {
                    best = Some(true);
                    break;
                }
                if field.contains(&needle) {
                    best = Some(false);
                }
            }
            if let Some(prefix) = best {
                hits.push((!prefix, r.name.to_lowercase(), r));
            }
        }
        hits.sort_by(|a, b| (a.0, &a.1, a.2.id).cmp(&(b.0, &b.1, b.2.id)));
        hits.into_iter().map(|(_, _, r)| r).collect()
    }
}
