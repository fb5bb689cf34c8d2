//! The core's one error type; doors map it to their protocol's terms.

use deputy_access::InvalidCombination;
use deputy_directory::ResolveError;
use deputy_store::StoreError;

/// Why a core operation failed. Texts follow Exchange's where Exchange has one
/// (exchange-reference.md §1.1, §2.4).
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// An identity matched nothing or several recipients.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// A recipient was removed while the operation was being prepared.
    #[error("The object {0} no longer exists.")]
    Gone(String),
    /// The trustee's kind may not hold the permission on the target's kind (spec §2, §3).
    #[error(transparent)]
    InvalidCombination(#[from] InvalidCombination),
    /// A value is not acceptable for a parameter.
    #[error("Cannot use the value \"{value}\" for {parameter}: {reason}")]
    InvalidValue {
        /// The parameter (Exchange property) name.
        parameter: &'static str,
        /// The value given.
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// A name, alias or address is already used by another recipient.
    #[error("The {what} \"{value}\" is already being used by \"{owner}\". Please choose another {what}.")]
    Taken {
        /// `name`, `alias`, `proxy address`, …
        what: &'static str,
        /// The value.
        value: String,
        /// Who has it.
        owner: String,
    },
    /// `Add-MailboxFolderPermission` for a user who already has an entry (exchange-reference.md §2.4).
    #[error("An existing permission entry was found for user: {0}.")]
    FolderEntryExists(String),
    /// `Set-`/`Remove-MailboxFolderPermission` for a user who has none.
    #[error("There is no existing permission entry found for user: {0}.")]
    NoFolderEntry(String),
    /// A folder path names no folder of the mailbox.
    #[error("The specified mailbox folder \"{0}\" doesn't exist.")]
    FolderNotFound(String),
    /// An identity that is not a recipient (an application, a role assignment,
    /// a client secret) matched nothing.
    #[error("The operation couldn't be performed because object '{0}' couldn't be found.")]
    NotFound(String),
    /// An identity that is not a recipient matched several objects.
    #[error("The operation couldn't be performed because '{identity}' matches multiple entries: {matches}.")]
    Ambiguous {
        /// The identity given.
        identity: String,
        /// Every match, comma-separated.
        matches: String,
    },
    /// The operation does not apply to this kind of recipient.
    #[error("{0}")]
    NotApplicable(String),
    /// A folder every mailbox has (Inbox, Sent Items, …) can't be removed or renamed.
    #[error("The folder \"{0}\" is a default folder and can't be removed or renamed.")]
    DefaultFolder(String),
    /// A folder with subfolders can't be removed.
    #[error("The folder \"{0}\" has subfolders; remove them first.")]
    FolderHasSubfolders(String),
    /// The store failed; nothing was changed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Shorthand for core results.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;
