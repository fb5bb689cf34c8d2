//! Exchange OPATH filters, as `-RecipientFilter` of a dynamic distribution
//! group uses them (spec §6).
//!
//! [`parse`] turns the text into a [`Filter`] once; [`Filter::matches`]
//! evaluates it against a recipient. `Display` prints a filter that parses back
//! to the same value. Precedence follows Exchange: `-not` binds tighter than
//! `-and`, which binds tighter than `-or`. Names of properties and operators and
//! every comparison ignore case.
//!
//! Invariant: parsing never panics and never recurses deeper than
//! [`MAX_DEPTH`] levels of parentheses and `-not`, whatever the input.

mod eval;
mod lexer;
mod parser;
#[cfg(test)]
mod tests;

pub use eval::{FilterContext, NoMemberships};
pub use parser::parse;

use std::fmt;

/// How deeply parentheses and `-not` may nest; deeper input is an error.
pub const MAX_DEPTH: usize = 100;

/// A parsed OPATH filter. The tree mirrors the text: `a -and b -and c` is one
/// [`Filter::And`] of three, `(a -and b) -and c` an `And` holding an `And`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `Property -op value`.
    Compare(Comparison),
    /// `-not filter`.
    Not(Box<Filter>),
    /// `a -and b -and …`, two or more.
    And(Vec<Filter>),
    /// `a -or b -or …`, two or more.
    Or(Vec<Filter>),
}

/// One comparison `Property -op value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// The property compared.
    pub property: Property,
    /// The operator.
    pub op: CompareOp,
    /// The value compared with.
    pub value: Value,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `-eq`: equal, ignoring case; with `$null`, empty.
    Eq,
    /// `-ne`: not `-eq`.
    Ne,
    /// `-like`: matches a pattern where `*` stands for any text.
    Like,
    /// `-notlike`: not `-like`.
    NotLike,
}

impl CompareOp {
    /// The operator as written, with its dash.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "-eq",
            Self::Ne => "-ne",
            Self::Like => "-like",
            Self::NotLike => "-notlike",
        }
    }
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A quoted or bare text.
    Text(String),
    /// `$true` or `$false`.
    Bool(bool),
    /// `$null`: no value.
    Null,
}

/// A filterable recipient property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Property {
    /// `RecipientType`, the coarse kind (`RecipientType::recipient_type`).
    RecipientType,
    /// `RecipientTypeDetails`.
    RecipientTypeDetails,
    /// `Name`.
    Name,
    /// `Alias`.
    Alias,
    /// `DisplayName`.
    DisplayName,
    /// `PrimarySmtpAddress`.
    PrimarySmtpAddress,
    /// `EmailAddresses`: matches when any SMTP address does.
    EmailAddresses,
    /// `UserPrincipalName`.
    UserPrincipalName,
    /// `HiddenFromAddressListsEnabled`.
    HiddenFromAddressListsEnabled,
    /// `MemberOfGroup`: the distinguished names of the groups the recipient is
    /// directly a member of.
    MemberOfGroup,
    /// A free-form attribute read with `Recipient::attribute`, by its canonical name.
    Attribute(&'static str),
}

/// Free-form attributes a filter may name, in their canonical spelling.
const ATTRIBUTES: [&str; 27] = [
    "Department",
    "Company",
    "Title",
    "Office",
    "City",
    "StateOrProvince",
    "CountryOrRegion",
    "PostalCode",
    "StreetAddress",
    "FirstName",
    "LastName",
    "Phone",
    "CustomAttribute1",
    "CustomAttribute2",
    "CustomAttribute3",
    "CustomAttribute4",
    "CustomAttribute5",
    "CustomAttribute6",
    "CustomAttribute7",
    "CustomAttribute8",
    "CustomAttribute9",
    "CustomAttribute10",
    "CustomAttribute11",
    "CustomAttribute12",
    "CustomAttribute13",
    "CustomAttribute14",
    "CustomAttribute15",
];

/// Properties with a fixed meaning, in their canonical spelling.
const FIXED: [Property; 10] = [
    Property::RecipientType,
    Property::RecipientTypeDetails,
    Property::Name,
    Property::Alias,
    Property::DisplayName,
    Property::PrimarySmtpAddress,
    Property::EmailAddresses,
    Property::UserPrincipalName,
    Property::HiddenFromAddressListsEnabled,
    Property::MemberOfGroup,
];

impl Property {
    /// The canonical name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RecipientType => "RecipientType",
            Self::RecipientTypeDetails => "RecipientTypeDetails",
            Self::Name => "Name",
            Self::Alias => "Alias",
            Self::DisplayName => "DisplayName",
            Self::PrimarySmtpAddress => "PrimarySmtpAddress",
            Self::EmailAddresses => "EmailAddresses",
            Self::UserPrincipalName => "UserPrincipalName",
            Self::HiddenFromAddressListsEnabled => "HiddenFromAddressListsEnabled",
            Self::MemberOfGroup => "MemberOfGroup",
            Self::Attribute(name) => name,
        }
    }

    /// Looks a property up by name, ignoring case.
    pub fn from_name(name: &str) -> Option<Self> {
        FIXED
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(name))
            .or_else(|| ATTRIBUTES.into_iter().find(|a| a.eq_ignore_ascii_case(name)).map(Self::Attribute))
    }

    /// Every property a filter may name.
    pub fn all() -> impl Iterator<Item = Property> {
        FIXED.into_iter().chain(ATTRIBUTES.into_iter().map(Self::Attribute))
    }

    /// Whether the property holds `$true` or `$false`.
    pub const fn is_bool(self) -> bool {
        matches!(self, Self::HiddenFromAddressListsEnabled)
    }
}

/// Why a filter text is not a valid OPATH filter. Positions count characters from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// Nothing but whitespace.
    #[error("the filter is empty; write a comparison such as Department -eq 'Sales'")]
    Empty,
    /// A property name that is not filterable.
    #[error("'{name}' at position {position} is not a filterable property; use one of: {}", valid_properties())]
    UnknownProperty {
        /// The name as written.
        name: String,
        /// Where it starts.
        position: usize,
    },
    /// An operator that OPATH filters here do not support.
    #[error(
        "'-{op}' at position {position} is not a supported operator; use -eq, -ne, -like, -notlike, -and, -or or -not"
    )]
    UnknownOperator {
        /// The operator as written, without its dash.
        op: String,
        /// Where it starts.
        position: usize,
    },
    /// A `(` never closed.
    #[error("the '(' at position {position} is never closed; add a ')'")]
    UnclosedParenthesis {
        /// Where the `(` is.
        position: usize,
    },
    /// A `)` with no `(` before it.
    #[error("the ')' at position {position} has no matching '('")]
    UnmatchedParenthesis {
        /// Where the `)` is.
        position: usize,
    },
    /// A quote never closed.
    #[error("the quote at position {position} is never closed; end the value with the same quote")]
    UnterminatedQuote {
        /// Where the opening quote is.
        position: usize,
    },
    /// A `$name` other than `$true`, `$false` and `$null`.
    #[error(
        "'${name}' at position {position} is not a value a filter can use; use $true, $false, $null or a quoted text"
    )]
    UnknownVariable {
        /// The variable name, without `$`.
        name: String,
        /// Where it starts.
        position: usize,
    },
    /// A token where another was needed.
    #[error("expected {expected} at position {position}, found {found}")]
    Expected {
        /// What would have been valid.
        expected: &'static str,
        /// What was there (`the end of the filter` at the end).
        found: String,
        /// Where.
        position: usize,
    },
    /// A value the property cannot hold.
    #[error("{property} holds $true or $false, not '{value}' (position {position})")]
    NotABoolean {
        /// The property's name.
        property: &'static str,
        /// The value given.
        value: String,
        /// Where the value is.
        position: usize,
    },
    /// More nesting than [`MAX_DEPTH`].
    #[error("parentheses and -not nest more than {MAX_DEPTH} levels deep at position {position}; simplify the filter")]
    TooDeep {
        /// Where the limit was passed.
        position: usize,
    },
}

fn valid_properties() -> String {
    Property::all().map(Property::as_str).collect::<Vec<_>>().join(", ")
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(t) => write!(f, "'{}'", t.replace('\'', "''")),
            Self::Bool(true) => f.write_str("$true"),
            Self::Bool(false) => f.write_str("$false"),
            Self::Null => f.write_str("$null"),
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.property, self.op.as_str(), self.value)
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Parenthesize every nested -and/-or so that the text parses back to
        // exactly this tree (the parser keeps parenthesized groups as nodes).
        fn child(f: &mut fmt::Formatter<'_>, c: &Filter) -> fmt::Result {
            match c {
                Filter::And(_) | Filter::Or(_) => write!(f, "({c})"),
                Filter::Compare(_) | Filter::Not(_) => write!(f, "{c}"),
            }
        }
        fn list(f: &mut fmt::Formatter<'_>, items: &[Filter], op: &str) -> fmt::Result {
            for (i, c) in items.iter().enumerate() {
                if i > 0 {
                    write!(f, " {op} ")?;
                }
                child(f, c)?;
            }
            Ok(())
        }
        match self {
            Self::Compare(c) => write!(f, "{c}"),
            Self::Not(inner) => write!(f, "-not ({inner})"),
            Self::And(items) => list(f, items, "-and"),
            Self::Or(items) => list(f, items, "-or"),
        }
    }
}
