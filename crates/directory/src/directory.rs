//! The recipient table and its lookup indexes.

use deputy_types::{AcceptedDomain, Organization, Recipient, RecipientId};
use rustc_hash::{FxHashMap, FxHashSet};

/// Lower-cases a lookup key (names, aliases, addresses, UPNs, DNs all compare ignoring case).
pub(crate) fn fold(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Lower-cased key → the recipients that carry it. Usually one; more when data is
/// inconsistent, which resolution then reports as ambiguous instead of guessing.
#[derive(Debug, Clone, Default)]
pub(crate) struct Index(FxHashMap<String, Vec<RecipientId>>);

impl Index {
    fn insert(&mut self, key: String, id: RecipientId) {
        if key.is_empty() {
            return;
        }
        let ids = self.0.entry(key).or_default();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }

    fn remove(&mut self, key: &str, id: RecipientId) {
        if let Some(ids) = self.0.get_mut(key) {
            ids.retain(|x| *x != id);
            if ids.is_empty() {
                self.0.remove(key);
            }
        }
    }

    /// The recipients with this already-folded key.
    pub(crate) fn get(&self, key: &str) -> &[RecipientId] {
        self.0.get(key).map_or(&[], Vec::as_slice)
    }
}

/// Picks one of the directory's indexes.
type IndexOf = fn(&mut Directory) -> &mut Index;

/// Recipients, accepted domains and direct group memberships, with hash indexes
/// for identity resolution (spec §1) and address lookup.
#[derive(Debug, Clone)]
pub struct Directory {
    pub(crate) org: Organization,
    domains: Vec<AcceptedDomain>,
    pub(crate) recipients: FxHashMap<RecipientId, Recipient>,
    pub(crate) by_name: Index,
    pub(crate) by_alias: Index,
    pub(crate) by_address: Index,
    pub(crate) by_upn: Index,
    pub(crate) by_dn: Index,
    pub(crate) members: FxHashMap<RecipientId, Vec<RecipientId>>,
    pub(crate) member_of: FxHashMap<RecipientId, Vec<RecipientId>>,
    pub(crate) edges: FxHashSet<(RecipientId, RecipientId)>,
}

impl Directory {
    /// An empty directory for `org`.
    pub fn new(org: Organization) -> Self {
        Self {
            org,
            domains: Vec::new(),
            recipients: FxHashMap::default(),
            by_name: Index::default(),
            by_alias: Index::default(),
            by_address: Index::default(),
            by_upn: Index::default(),
            by_dn: Index::default(),
            members: FxHashMap::default(),
            member_of: FxHashMap::default(),
            edges: FxHashSet::default(),
        }
    }

    /// The organization.
    pub fn organization(&self) -> &Organization {
        &self.org
    }

    /// Replaces the organization; distinguished names follow its primary domain.
    pub fn set_organization(&mut self, org: Organization) {
        self.org = org;
        self.by_dn = Index::default();
        for r in self.recipients.values() {
            self.by_dn.insert(fold(&self.org.distinguished_name(&r.name)), r.id);
        }
    }

    /// Every accepted domain.
    pub fn accepted_domains(&self) -> &[AcceptedDomain] {
        &self.domains
    }

    /// Adds an accepted domain, replacing one with the same domain name (any case).
    pub fn put_accepted_domain(&mut self, d: AcceptedDomain) {
        self.domains.retain(|x| !x.domain.eq_ignore_ascii_case(&d.domain));
        self.domains.push(d);
    }

    /// Removes the accepted domain `domain` (any case), if present.
    pub fn remove_accepted_domain(&mut self, domain: &str) {
        self.domains.retain(|x| !x.domain.eq_ignore_ascii_case(domain.trim()));
    }

    /// True when `domain` (any case) is an accepted domain.
    pub fn is_accepted_domain(&self, domain: &str) -> bool {
        let domain = domain.trim().trim_end_matches('.');
        self.domains.iter().any(|d| d.domain.eq_ignore_ascii_case(domain))
    }

    /// Inserts `r`, or replaces the recipient with its id; every lookup key is
    /// re-indexed, so a rename or address change is visible at once.
    pub fn put(&mut self, r: Recipient) {
        if let Some(old) = self.recipients.remove(&r.id) {
            self.unindex(&old);
        }
        self.index(&r);
        self.recipients.insert(r.id, r);
    }

    /// Removes the recipient and every membership it has, as group and as member.
    pub fn remove(&mut self, id: RecipientId) {
        if let Some(old) = self.recipients.remove(&id) {
            self.unindex(&old);
        }
        for group in self.member_of.remove(&id).unwrap_or_default() {
            self.edges.remove(&(group, id));
            if let Some(list) = self.members.get_mut(&group) {
                list.retain(|m| *m != id);
            }
        }
        for member in self.members.remove(&id).unwrap_or_default() {
            self.edges.remove(&(id, member));
            if let Some(list) = self.member_of.get_mut(&member) {
                list.retain(|g| *g != id);
            }
        }
    }

    /// The recipient with this id.
    pub fn get(&self, id: RecipientId) -> Option<&Recipient> {
        self.recipients.get(&id)
    }

    /// Every recipient, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Recipient> {
        self.recipients.values()
    }

    /// How many recipients there are.
    pub fn len(&self) -> usize {
        self.recipients.len()
    }

    /// Whether there are no recipients.
    pub fn is_empty(&self) -> bool {
        self.recipients.is_empty()
    }

    /// `CN=<Name>,CN=Users,DC=…` (spec §1).
    pub fn distinguished_name(&self, r: &Recipient) -> String {
        self.org.distinguished_name(&r.name)
    }

    /// A recipient's lookup keys, each with the index it belongs in.
    fn keys(&self, r: &Recipient) -> [(Vec<String>, IndexOf); 5] {
        [
            (vec![fold(&r.name)], |d| &mut d.by_name),
            (vec![fold(&r.alias)], |d| &mut d.by_alias),
            (r.smtp_addresses().map(|a| a.key()).collect(), |d| &mut d.by_address),
            (r.upn.iter().map(|u| fold(u)).collect(), |d| &mut d.by_upn),
            (vec![fold(&self.org.distinguished_name(&r.name))], |d| &mut d.by_dn),
        ]
    }

    fn index(&mut self, r: &Recipient) {
        for (keys, index) in self.keys(r) {
            for key in keys {
                index(self).insert(key, r.id);
            }
        }
    }

    fn unindex(&mut self, r: &Recipient) {
        for (keys, index) in self.keys(r) {
            for key in keys {
                index(self).remove(&key, r.id);
            }
        }
    }
}
