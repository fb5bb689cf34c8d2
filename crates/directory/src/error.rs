//! The directory's errors.

use crate::opath::FilterError;
use deputy_types::RecipientId;

/// An identity that names no recipient, or more than one (spec §1;
/// texts from exchange-reference.md §1.1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// Nothing matches the value.
    #[error(
        "Couldn't find object \"{0}\". Please make sure that it was spelled correctly or specify a different object."
    )]
    NotFound(String),
    /// Several recipients match the value; never guess (spec §1).
    #[error("The operation couldn't be performed because '{value}' matches multiple entries. Matches: {}.", .matches.join(", "))]
    Ambiguous {
        /// The value as given.
        value: String,
        /// The `Name` of every match, sorted.
        matches: Vec<String>,
    },
}

/// A directory operation that could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// An id that is not in the directory.
    #[error("no recipient with Guid {0} is in the directory; it may have been removed")]
    UnknownRecipient(RecipientId),
    /// Dynamic membership asked of something that is not a dynamic group.
    #[error("\"{name}\" is a {kind}, not a dynamic distribution group, so it has no RecipientFilter")]
    NotADynamicGroup {
        /// The recipient's `Name`.
        name: String,
        /// Its `RecipientTypeDetails`.
        kind: &'static str,
    },
    /// A dynamic group without a filter.
    #[error(
        "the dynamic distribution group \"{group}\" has no RecipientFilter; set one with Set-DynamicDistributionGroup -RecipientFilter"
    )]
    MissingFilter {
        /// The group's `Name`.
        group: String,
    },
    /// A dynamic group whose filter does not parse.
    #[error("the RecipientFilter of dynamic distribution group \"{group}\" is not valid: {source}")]
    Filter {
        /// The group's `Name`.
        group: String,
        /// What is wrong with the filter.
        source: FilterError,
    },
}
