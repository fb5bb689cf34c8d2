//! One-line explanations of decisions (spec §8: allow or deny with the path).

use crate::{Decision, Grant, Reason, SendMode};
use deputy_types::{FolderUser, RecipientId};

impl Decision {
    /// One line explaining the path, e.g. "allowed: FullAccess granted to group Helpdesk (via Tier1 → Helpdesk)".
    ///
    /// The decision does not record who asked; [`Decision::explain_for`]
    /// starts group paths at the principal instead.
    pub fn explain(&self, name: &dyn Fn(RecipientId) -> String) -> String {
        self.render(None, name)
    }

    /// Like [`Decision::explain`], with group paths starting at `principal`:
    /// "allowed: FullAccess granted to group Helpdesk (rob → Tier1 → Helpdesk)".
    pub fn explain_for(&self, principal: RecipientId, name: &dyn Fn(RecipientId) -> String) -> String {
        self.render(Some(principal), name)
    }

    fn render(&self, principal: Option<RecipientId>, name: &dyn Fn(RecipientId) -> String) -> String {
        let verdict = match (self.allowed, self.mode) {
            (false, _) => "denied",
            (true, None) => "allowed",
            (true, Some(SendMode::Own)) => "allowed (own address)",
            (true, Some(SendMode::SendAs)) => "allowed (Send As)",
            (true, Some(SendMode::SendOnBehalf)) => "allowed (Send on Behalf)",
        };
        format!("{verdict}: {}", reason_text(&self.reason, principal, name))
    }
}

/// "(via A → B)" or, knowing the principal, "(rob → A → B)".
fn path(chain: &[RecipientId], principal: Option<RecipientId>, name: &dyn Fn(RecipientId) -> String) -> String {
    let steps: Vec<String> = principal.into_iter().chain(chain.iter().copied()).map(name).collect();
    match principal {
        Some(_) => format!("({})", steps.join(" → ")),
        None => format!("(via {})", steps.join(" → ")),
    }
}

/// "granted directly to rob" or "granted to group Helpdesk (…)".
fn holder(grant: &Grant, principal: Option<RecipientId>, name: &dyn Fn(RecipientId) -> String) -> String {
    if grant.chain.is_empty() {
        format!("directly to {}", name(grant.trustee))
    } else {
        format!("to group {} {}", name(grant.trustee), path(&grant.chain, principal, name))
    }
}

fn reason_text(reason: &Reason, principal: Option<RecipientId>, name: &dyn Fn(RecipientId) -> String) -> String {
    match reason {
        Reason::Owner => "the principal is the owner".to_owned(),
        Reason::Granted(g) => format!("{} granted {}", g.permission.as_str(), holder(g, principal, name)),
        Reason::ExplicitDeny(g) => {
            format!(
                "{} explicitly denied {}; a deny beats any allow",
                g.permission.as_str(),
                holder(g, principal, name)
            )
        }
        Reason::FolderEntry { user, chain, rights } => {
            let who = match user {
                FolderUser::Default => "Default".to_owned(),
                FolderUser::Anonymous => "Anonymous".to_owned(),
                FolderUser::Recipient(id) if chain.is_empty() => name(*id),
                FolderUser::Recipient(id) => format!("group {} {}", name(*id), path(chain, principal, name)),
            };
            format!("folder permission {} for {who}", rights.display_names().join(", "))
        }
        Reason::NoGrant => "no grant applies".to_owned(),
        Reason::Hidden => "the target is hidden from address lists".to_owned(),
        Reason::PrincipalCannotAct(kind) => format!("a {kind} cannot sign in or act as a delegate"),
        Reason::PrincipalDisabled => "the principal's account is disabled".to_owned(),
        Reason::UnknownPrincipal => "the principal is not in the directory".to_owned(),
        Reason::UnknownTarget => "the target is not in the directory, or the folder is not in its mailbox".to_owned(),
        Reason::NotAMailbox(kind) => format!("a {kind} has no mailbox to open"),
        Reason::InsufficientFolderRights { have, source } => format!(
            "the folder rights held ({}) do not include what this needs; they come from {}",
            have.display_names().join(", "),
            reason_text(source, principal, name)
        ),
    }
}
