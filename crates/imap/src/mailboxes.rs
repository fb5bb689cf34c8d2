//! The mailbox list: LIST, LSUB and LIST's `(SUBSCRIBED)` selection (RFC
//! 5258 §3.1, which the codec does not parse), and CREATE, DELETE, RENAME,
//! SUBSCRIBE and UNSUBSCRIBE (RFC 3501 §6.3.3–6.3.9): names decoded from
//! modified UTF-7, a trailing delimiter dropped, the rest left to the backend.

use imap_codec::CommandCodec;
use imap_codec::decode::Decoder;
use imap_codec::imap_types::IntoStatic;
use imap_codec::imap_types::command::Command;
use imap_codec::imap_types::mailbox::{ListMailbox, Mailbox};

use crate::commands::{list_pattern, mailbox_name};
use crate::{Backend, wire};

/// Which mailboxes a listing shows, and how it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Listing {
    /// LIST: every mailbox.
    All,
    /// LSUB: the subscribed ones, as `* LSUB`.
    Lsub,
    /// `LIST (SUBSCRIBED)`: the subscribed ones, as `* LIST` with `\Subscribed`.
    Subscribed,
}

/// `tag LIST (SUBSCRIBED) reference pattern` rewritten as a plain LIST for
/// the codec; `None` for anything else (other selection options included).
pub(crate) fn parse_list_subscribed(message: &[u8]) -> Option<Command<'static>> {
    let tag_end = message.iter().position(|&b| b == b' ')?;
    let (tag, rest) = message.split_at(tag_end + 1);
    const SELECTION: &[u8] = b"LIST (SUBSCRIBED) ";
    if rest.get(..SELECTION.len())?.to_ascii_uppercase() != SELECTION {
        return None;
    }
    let mut line = tag.to_vec();
    line.extend_from_slice(b"LIST ");
    line.extend_from_slice(&rest[SELECTION.len()..]);
    let (_, command) = CommandCodec::default().decode(&line).ok()?;
    Some(command.into_static())
}

/// LIST and LSUB: one line per mailbox the backend reports.
pub(crate) async fn list<B: Backend>(
    backend: &B,
    user: &B::User,
    t: &str,
    listing: Listing,
    reference: &Mailbox<'_>,
    wildcard: &ListMailbox<'_>,
    out: &mut Vec<u8>,
) {
    let verb = if listing == Listing::Lsub { "LSUB" } else { "LIST" };
    let (Ok(reference), Ok(pattern)) = (mailbox_name(reference), list_pattern(wildcard)) else {
        wire::status(out, t, "BAD", None, "Invalid mailbox name");
        return;
    };
    if pattern.is_empty() {
        // An empty pattern asks for the delimiter (RFC 3501 §6.3.8).
        out.extend_from_slice(format!("* {verb} (\\Noselect) \"/\" \"\"\r\n").as_bytes());
    } else {
        let found = match listing {
            Listing::All => backend.list(user, &reference, &pattern).await,
            Listing::Lsub | Listing::Subscribed => backend.lsub(user, &reference, &pattern).await,
        };
        for mut mb in found {
            if listing == Listing::Subscribed {
                mb.attributes.push("\\Subscribed".to_owned());
            }
            out.extend_from_slice(format!("* {verb} ({}) \"{}\" ", mb.attributes.join(" "), mb.delimiter).as_bytes());
            wire::mailbox(out, &mb.name);
            out.extend_from_slice(b"\r\n");
        }
    }
    wire::status(out, t, "OK", None, &format!("{verb} completed"));
}

/// A change to the mailbox list.
pub(crate) enum Change<'a> {
    Create(&'a Mailbox<'a>),
    Delete(&'a Mailbox<'a>),
    Rename(&'a Mailbox<'a>, &'a Mailbox<'a>),
    Subscribe(&'a Mailbox<'a>, bool),
}

/// A name with a trailing delimiter dropped (RFC 3501 §6.3.3: `CREATE a/` creates `a`).
fn name(mailbox: &Mailbox<'_>) -> Option<String> {
    let n = mailbox_name(mailbox).ok()?;
    let n = n.strip_suffix('/').unwrap_or(&n).to_owned();
    (!n.is_empty()).then_some(n)
}

/// Runs the change and writes its tagged answer.
pub(crate) async fn change<B: Backend>(backend: &B, user: &B::User, tag: &str, change: Change<'_>, out: &mut Vec<u8>) {
    let (verb, result) = match change {
        Change::Create(m) => match name(m) {
            Some(n) if n.eq_ignore_ascii_case("INBOX") => {
                ("CREATE", Err(crate::No::new(crate::Code::AlreadyExists, "INBOX always exists")))
            }
            Some(n) => ("CREATE", backend.create(user, &n).await),
            None => return wire::status(out, tag, "BAD", None, "Invalid mailbox name"),
        },
        Change::Delete(m) => match name(m) {
            Some(n) => ("DELETE", backend.delete(user, &n).await),
            None => return wire::status(out, tag, "BAD", None, "Invalid mailbox name"),
        },
        Change::Rename(from, to) => match (name(from), name(to)) {
            (Some(f), Some(t)) => ("RENAME", backend.rename(user, &f, &t).await),
            _ => return wire::status(out, tag, "BAD", None, "Invalid mailbox name"),
        },
        Change::Subscribe(m, on) => match name(m) {
            Some(n) => (if on { "SUBSCRIBE" } else { "UNSUBSCRIBE" }, backend.subscribe(user, &n, on).await),
            None => return wire::status(out, tag, "BAD", None, "Invalid mailbox name"),
        },
    };
    match result {
        Ok(()) => wire::status(out, tag, "OK", None, &format!("{verb} completed")),
        Err(no) => wire::no(out, tag, &no),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_codec::imap_types::command::CommandBody;

    #[test]
    fn list_subscribed_is_rewritten_for_the_codec() {
        let cmd = parse_list_subscribed(b"a list (subscribed) \"\" \"*\"\r\n").expect("parses");
        assert_eq!(cmd.tag.as_ref(), "a");
        assert!(matches!(cmd.body, CommandBody::List { .. }));
        assert!(parse_list_subscribed(b"a LIST (REMOTE) \"\" \"*\"\r\n").is_none());
        assert!(parse_list_subscribed(b"a LIST \"\" \"*\"\r\n").is_none());
    }
}
