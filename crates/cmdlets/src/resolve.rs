//! Resolving identities named in parameters, with errors that name the
//! parameter and the value (interface.md: errors name cmdlet, parameter, value).

use deputy_core::{CoreError, State};
use deputy_pwsh::{CommandError, Invocation};
use deputy_types::{FolderId, FolderUser, Recipient, RecipientId};

/// Which recipients a parameter accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Accept {
    /// Any recipient.
    Any,
    /// Recipients with a mailbox (`MailboxIdParameter`).
    Mailbox,
    /// Mail users.
    MailUser,
    /// Distribution groups and mail-enabled security groups.
    DistributionGroup,
    /// Dynamic distribution groups.
    Dynamic,
    /// Microsoft 365 groups.
    Unified,
    /// Any static group (AD cmdlets).
    AnyGroup,
}

impl Accept {
    pub(crate) fn accepts(self, r: &Recipient) -> bool {
        use deputy_types::RecipientType as T;
        match self {
            Self::Any => true,
            Self::Mailbox => r.kind.has_mailbox() && r.kind != T::GroupMailbox,
            Self::MailUser => r.kind == T::MailUser,
            Self::DistributionGroup => {
                matches!(r.kind, T::MailUniversalDistributionGroup | T::MailUniversalSecurityGroup)
            }
            Self::Dynamic => r.kind == T::DynamicDistributionGroup,
            Self::Unified => r.kind == T::GroupMailbox,
            Self::AnyGroup => r.kind.has_static_members(),
        }
    }
}

/// An error naming the parameter: PowerShell's wording for a value it can't use.
pub(crate) fn param_error(param: &str, message: impl std::fmt::Display) -> CommandError {
    CommandError { message: format!("Cannot process argument transformation on parameter '{param}'. {message}") }
}

/// A core error in the cmdlet's words.
pub(crate) fn core_error(e: CoreError) -> CommandError {
    CommandError { message: e.to_string() }
}

/// The required string parameter `name` (the binder enforces mandatory ones).
pub(crate) fn required<'a>(call: &'a Invocation, name: &str) -> Result<&'a str, CommandError> {
    call.string(name).ok_or_else(|| CommandError {
        message: format!("Cannot process command because of one or more missing mandatory parameters: {name}."),
    })
}

/// Resolves one identity given to parameter `param`.
pub(crate) fn recipient(s: &State, param: &str, value: &str, accept: Accept) -> Result<RecipientId, CommandError> {
    s.dir.resolve_where(value, &|r| accept.accepts(r)).map(|r| r.id).map_err(|e| param_error(param, e))
}

/// Resolves a list of identities given to parameter `param`, all or nothing.
pub(crate) fn recipients(
    s: &State,
    param: &str,
    values: &[String],
    accept: Accept,
) -> Result<Vec<RecipientId>, CommandError> {
    values.iter().map(|v| recipient(s, param, v, accept)).collect()
}

/// Splits `mary:\Inbox\Reports` into the mailbox identity and the folder path.
pub(crate) fn split_folder_identity(value: &str) -> (&str, &str) {
    match value.find(":\\") {
        Some(i) => (&value[..i], &value[i + 2..]),
        None => (value.trim_end_matches(':'), ""),
    }
}

/// Resolves a `MailboxFolderIdParameter` such as `mary:\Calendar`.
pub(crate) fn folder(s: &State, param: &str, value: &str) -> Result<FolderId, CommandError> {
    let (mailbox, path) = split_folder_identity(value);
    let id = recipient(s, param, mailbox, Accept::Mailbox)?;
    s.resolve_folder(id, path).map_err(|e| param_error(param, e))
}

/// Resolves a folder permission user: `Default`, `Anonymous` or a recipient.
pub(crate) fn folder_user(s: &State, param: &str, value: &str) -> Result<FolderUser, CommandError> {
    if value.eq_ignore_ascii_case("Default") {
        Ok(FolderUser::Default)
    } else if value.eq_ignore_ascii_case("Anonymous") {
        Ok(FolderUser::Anonymous)
    } else {
        recipient(s, param, value, Accept::Any).map(FolderUser::Recipient)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_identities_split_at_colon_backslash() {
        assert_eq!(split_folder_identity("mary:\\Inbox\\Reports"), ("mary", "Inbox\\Reports"));
        assert_eq!(split_folder_identity("john@contoso.com:\\Calendar"), ("john@contoso.com", "Calendar"));
        assert_eq!(split_folder_identity("LasseP"), ("LasseP", ""));
        assert_eq!(split_folder_identity("mary:\\"), ("mary", ""));
    }
}
