//! The sending rules of spec §4, as pure functions of the state: who may put
//! which address in `From:`, `Sender:` and `MAIL FROM`, and where the sent
//! copies go. Every door that submits mail asks these, through
//! [`crate::Deputy::submit`].

use deputy_access::{Action, Decision, SendMode};
use deputy_types::{FolderId, Recipient, RecipientId, RecipientType, WellKnownFolder};

use crate::state::State;

/// Why a send was refused (spec §4.1 step 4). Each door words it its own way:
/// SMTP `550 5.7.60`, Graph `ErrorSendAsDenied`, the shell an error naming both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendDenied {
    /// The principal's name.
    pub principal: String,
    /// The address it may not use.
    pub address: String,
    /// The engine's explanation (the rule that denied).
    pub reason: String,
}

/// How the author address of a message is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authoring {
    /// The recipient whose address is in `From:` (the principal itself for [`SendMode::Own`]).
    pub author: RecipientId,
    /// Own address, Send As or Send on Behalf.
    pub mode: SendMode,
}

/// The recipient an address belongs to, when it is one of ours.
pub(crate) fn owner<'s>(s: &'s State, address: &str) -> Option<&'s Recipient> {
    s.dir.by_address(address.trim())
}

fn is_own(s: &State, principal: RecipientId, address: &str) -> bool {
    owner(s, address).is_some_and(|r| r.id == principal)
}

fn denied(s: &State, principal: RecipientId, address: &str, decision: Option<&Decision>) -> SendDenied {
    let name = |id| s.name_of(id);
    SendDenied {
        principal: s.name_of(principal),
        address: address.to_owned(),
        reason: decision.map_or_else(
            || format!("denied: {address} is not an address of this organization"),
            |d| d.explain_for(principal, &name),
        ),
    }
}

/// Spec §4.1 for one address: own, then Send As, then Send on Behalf (Send As wins, §3.4).
pub fn authoring(s: &State, principal: RecipientId, address: &str) -> Result<Authoring, SendDenied> {
    let Some(r) = owner(s, address) else {
        return Err(denied(s, principal, address, None));
    };
    if r.id == principal {
        return Ok(Authoring { author: principal, mode: SendMode::Own });
    }
    let decision = s.access.decide(principal, Action::Send, r.id);
    match (decision.allowed, decision.mode) {
        (true, Some(mode)) => Ok(Authoring { author: r.id, mode }),
        _ => Err(denied(s, principal, address, Some(&decision))),
    }
}

/// Spec §4.1 for a whole header: every `From:` address must be usable; the
/// first names the author. A `Sender:` may only name the principal itself.
pub fn header_authoring(
    s: &State,
    principal: RecipientId,
    from: &[String],
    sender: Option<&str>,
) -> Result<Authoring, SendDenied> {
    if let Some(sender) = sender.filter(|a| !is_own(s, principal, a)) {
        let decision = owner(s, sender).map(|r| s.access.decide(principal, Action::Send, r.id));
        return Err(denied(s, principal, sender, decision.as_ref()));
    }
    let mut result: Option<Authoring> = None;
    for address in from {
        let a = authoring(s, principal, address)?;
        result = Some(match result {
            None => a,
            // Several authors (RFC 5322 §3.6.2): the principal must be named
            // in Sender: if any of them needed Send on Behalf.
            Some(first) if a.mode == SendMode::SendOnBehalf => Authoring { mode: SendMode::SendOnBehalf, ..first },
            Some(first) => first,
        });
    }
    Ok(result.unwrap_or(Authoring { author: principal, mode: SendMode::Own }))
}

/// Spec §4.1, last paragraph: the envelope sender must be the principal's own
/// address or one it may send as or on behalf of. The null path (`<>`) is allowed.
pub fn check_envelope_sender(s: &State, principal: RecipientId, mail_from: &str) -> Result<(), SendDenied> {
    if mail_from.is_empty() {
        return Ok(());
    }
    authoring(s, principal, mail_from).map(|_| ())
}

/// What Deputy puts in `MAIL FROM` when the message leaves (ARCHITECTURE.md
/// "MAIL FROM for delegated sends"): Send As carries the mailbox's address, so
/// nothing traces the delegate; Send on Behalf carries the delegate's, the agent
/// responsible for the transmission (RFC 5322 §3.6.2), so bounces reach the
/// person who sent; an own send keeps the client's choice.
pub fn outbound_mail_from(s: &State, principal: RecipientId, authoring: Authoring, client: &str) -> String {
    let primary = |id| s.dir.get(id).and_then(|r: &Recipient| r.primary_smtp.as_ref()).map(|a| a.as_str().to_owned());
    match authoring.mode {
        SendMode::SendAs => primary(authoring.author).unwrap_or_else(|| client.to_owned()),
        SendMode::SendOnBehalf => primary(principal).unwrap_or_else(|| client.to_owned()),
        SendMode::Own => client.to_owned(),
    }
}

/// The well-known folder of a mailbox.
pub(crate) fn well_known(s: &State, mailbox: RecipientId, which: WellKnownFolder) -> Option<FolderId> {
    s.folders_of(mailbox).find(|f| f.well_known == Some(which)).map(|f| f.id)
}

/// Spec §4.2: the Sent Items copies a send makes. `saver` is whose Sent Items
/// the request itself saves to (the principal for SMTP; Graph may act in the
/// author's mailbox), and `save` is false when the client asked for no copy
/// (Graph `saveToSentItems: false`), which never suppresses the copy the
/// author's `MessageCopyFor…` flag demands.
pub fn sent_copies(s: &State, saver: RecipientId, authoring: Authoring, save: bool) -> Vec<(RecipientId, FolderId)> {
    let mut out = Vec::with_capacity(2);
    let mut add = |who: RecipientId| {
        if let Some(folder) = keeps_sent_items(s, who).then(|| well_known(s, who, WellKnownFolder::SentItems)).flatten()
            && !out.iter().any(|&(w, _)| w == who)
        {
            out.push((who, folder));
        }
    };
    if save {
        add(saver);
    }
    if let Some(a) = s.dir.get(authoring.author) {
        let flag = match authoring.mode {
            SendMode::SendAs => a.message_copy_for_sent_as,
            SendMode::SendOnBehalf => a.message_copy_for_send_on_behalf,
            SendMode::Own => false,
        };
        if flag && matches!(a.kind, RecipientType::UserMailbox | RecipientType::SharedMailbox) {
            add(a.id);
        }
    }
    out
}

/// Whether sent mail is kept for `id`: mailboxes, never groups (spec §4.3).
fn keeps_sent_items(s: &State, id: RecipientId) -> bool {
    s.dir.get(id).is_some_and(|r| r.kind.has_mailbox() && !r.kind.is_group())
}
