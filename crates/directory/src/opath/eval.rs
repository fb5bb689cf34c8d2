//! Evaluating a filter against one recipient.

use super::{CompareOp, Comparison, Filter, Property, Value};
use deputy_types::Recipient;
use std::borrow::Cow;

/// What a filter needs to know beyond the recipient itself: its group
/// memberships, for `MemberOfGroup`. The directory implements it.
pub trait FilterContext {
    /// The distinguished names of the groups `r` is directly a member of
    /// (Exchange's `memberOf`; nested groups are not followed).
    fn member_of_dns(&self, r: &Recipient) -> Vec<String>;
}

/// A context in which nobody is a member of any group.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoMemberships;

impl FilterContext for NoMemberships {
    fn member_of_dns(&self, _: &Recipient) -> Vec<String> {
        Vec::new()
    }
}

impl Filter {
    /// Whether `r` satisfies the filter (spec §6).
    pub fn matches(&self, r: &Recipient, ctx: &dyn FilterContext) -> bool {
        match self {
            Self::Compare(c) => c.matches(r, ctx),
            Self::Not(inner) => !inner.matches(r, ctx),
            Self::And(items) => items.iter().all(|f| f.matches(r, ctx)),
            Self::Or(items) => items.iter().any(|f| f.matches(r, ctx)),
        }
    }

    /// Whether any comparison in the filter reads `property`.
    pub fn mentions(&self, property: Property) -> bool {
        match self {
            Self::Compare(c) => c.property == property,
            Self::Not(inner) => inner.mentions(property),
            Self::And(items) | Self::Or(items) => items.iter().any(|f| f.mentions(property)),
        }
    }
}

impl Comparison {
    /// Whether `r` satisfies this one comparison.
    pub fn matches(&self, r: &Recipient, ctx: &dyn FilterContext) -> bool {
        let mut value: Cow<'_, str> = match &self.value {
            Value::Text(t) => Cow::Borrowed(t),
            Value::Bool(b) => Cow::Borrowed(bool_text(*b)),
            Value::Null => Cow::Borrowed(""),
        };
        if matches!(self.property, Property::EmailAddresses | Property::PrimarySmtpAddress) {
            // Exchange writes proxy addresses as `SMTP:a@b` / `smtp:a@b`; compare the address part.
            if let Some(rest) = strip_prefix_ci(&value, "smtp:") {
                value = Cow::Owned(rest.to_owned());
            }
        }
        let values = property_values(self.property, r, ctx);
        let value = fold(&value);
        let hit = if value.is_empty() {
            // `-eq $null` (or `''`) means the property is empty.
            values.is_empty()
        } else {
            match self.op {
                CompareOp::Eq | CompareOp::Ne => values.iter().any(|v| fold(v) == value),
                CompareOp::Like | CompareOp::NotLike => {
                    let pattern: Vec<char> = value.chars().collect();
                    values.iter().any(|v| wildcard(&pattern, &fold(v)))
                }
            }
        };
        match self.op {
            CompareOp::Eq | CompareOp::Like => hit,
            CompareOp::Ne | CompareOp::NotLike => !hit,
        }
    }
}

const fn bool_text(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

/// Lower-cases for comparison, copying only when needed.
fn fold(s: &str) -> Cow<'_, str> {
    if s.chars().any(char::is_uppercase) { Cow::Owned(s.to_lowercase()) } else { Cow::Borrowed(s) }
}

/// The property's non-empty values on `r`.
fn property_values<'a>(property: Property, r: &'a Recipient, ctx: &dyn FilterContext) -> Vec<Cow<'a, str>> {
    let one = |v: Option<&'a str>| v.filter(|s| !s.is_empty()).map(Cow::Borrowed).into_iter().collect();
    match property {
        Property::RecipientType => one(Some(r.kind.recipient_type())),
        Property::RecipientTypeDetails => one(Some(r.kind.as_str())),
        Property::Name => one(Some(&r.name)),
        Property::Alias => one(Some(&r.alias)),
        Property::DisplayName => one(Some(&r.display_name)),
        Property::PrimarySmtpAddress => one(r.primary_smtp.as_ref().map(|a| a.as_str())),
        Property::EmailAddresses => r.smtp_addresses().map(|a| Cow::Borrowed(a.as_str())).collect(),
        Property::UserPrincipalName => one(r.upn.as_deref()),
        Property::HiddenFromAddressListsEnabled => one(Some(bool_text(r.hidden))),
        Property::MemberOfGroup => ctx.member_of_dns(r).into_iter().map(Cow::Owned).collect(),
        Property::Attribute(name) => one(r.attribute(name)),
    }
}

/// `*` matches any run of characters; everything else matches itself. Linear
/// backtracking on the last `*`, so hostile patterns stay cheap.
fn wildcard(pattern: &[char], text: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(c) if *c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod wildcard_tests {
    use super::wildcard;

    fn w(p: &str, t: &str) -> bool {
        wildcard(&p.chars().collect::<Vec<_>>(), t)
    }

    #[test]
    fn star_matches_any_run_and_nothing_else_is_special() {
        assert!(w("*", ""));
        assert!(w("sales*", "sales-east"));
        assert!(w("*@contoso.test", "mary@contoso.test"));
        assert!(w("m*y*t", "mary@contoso.test"));
        assert!(w("a*b*c", "aXbYbZc"));
        assert!(!w("sales*", "presales"));
        assert!(!w("a?c", "abc"));
        assert!(w("a?c", "a?c"));
        assert!(!w("", "x"));
        assert!(!w("*x", "abc"));
    }
}
