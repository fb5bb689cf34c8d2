//! Graph request paths below `/v1.0/`, parsed by hand because Graph matches
//! segments case-insensitively (`/me/sendmail` works, as Microsoft's own
//! examples show) and accepts OData key syntax (`mailFolders('Inbox')`),
//! neither of which a router's literal segments express.

/// Whose mailbox the path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// `/me`: the signed-in user.
    Me,
    /// `/users/{id | userPrincipalName}`.
    User(String),
}

/// An action on one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageAction {
    /// `send` (a draft).
    Send,
    /// `move`.
    Move,
    /// `copy`.
    Copy,
    /// `permanentDelete`.
    PermanentDelete,
}

/// What the path names in that mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// The user itself.
    User,
    /// `sendMail`.
    SendMail,
    /// `messages`, or `mailFolders/{folder}/messages`.
    Messages {
        /// The folder, when the path names one.
        folder: Option<String>,
    },
    /// `messages/{id}` (also under a folder).
    Message {
        /// The message id.
        id: String,
    },
    /// `messages/{id}/$value`: the MIME content.
    MessageValue {
        /// The message id.
        id: String,
    },
    /// `messages/{id}/{action}`.
    MessageAction {
        /// The message id.
        id: String,
        /// What to do.
        action: MessageAction,
    },
    /// `mailFolders`.
    Folders,
    /// `mailFolders/{id}`.
    Folder {
        /// Its id or well-known name.
        id: String,
    },
    /// `mailFolders/{id}/childFolders`.
    ChildFolders {
        /// The parent's id or well-known name.
        id: String,
    },
    /// `delegatedMailboxes` (Deputy's extension, spec §8).
    DelegatedMailboxes,
}

/// Splits `name('key')` or `name(key)` into the name and the key.
fn keyed(segment: &str) -> (&str, Option<String>) {
    let Some(open) = segment.find('(') else { return (segment, None) };
    let Some(inner) = segment[open + 1..].strip_suffix(')') else { return (segment, None) };
    let key = inner.strip_prefix('\'').and_then(|k| k.strip_suffix('\'')).unwrap_or(inner);
    (&segment[..open], Some(key.replace("''", "'")))
}

fn is(segment: &str, name: &str) -> bool {
    segment.eq_ignore_ascii_case(name)
}

/// Expands key syntax into plain segments: `mailFolders('Inbox')` becomes
/// `mailFolders`, `Inbox`.
fn segments(path: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for raw in path.split('/').filter(|s| !s.is_empty()) {
        let (name, key) = keyed(raw);
        if name.is_empty() {
            return None;
        }
        out.push(name.to_owned());
        out.extend(key);
    }
    Some(out)
}

/// Parses the path after `/v1.0/`; `None` when Graph has no such resource here.
pub fn parse(path: &str) -> Option<(Subject, Resource)> {
    let segs = segments(path)?;
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let (subject, rest) = match s.as_slice() {
        [me, rest @ ..] if is(me, "me") => (Subject::Me, rest),
        [users, id, rest @ ..] if is(users, "users") => (Subject::User((*id).to_owned()), rest),
        _ => return None,
    };
    Some((subject, resource(rest)?))
}

fn message(id: &str, rest: &[&str]) -> Option<Resource> {
    let id = id.to_owned();
    Some(match rest {
        [] => Resource::Message { id },
        [v] if is(v, "$value") => Resource::MessageValue { id },
        [a] => {
            let action = [
                ("send", MessageAction::Send),
                ("move", MessageAction::Move),
                ("copy", MessageAction::Copy),
                ("permanentDelete", MessageAction::PermanentDelete),
            ]
            .into_iter()
            .find(|(n, _)| is(a, n))?
            .1;
            Resource::MessageAction { id, action }
        }
        _ => return None,
    })
}

fn resource(rest: &[&str]) -> Option<Resource> {
    Some(match rest {
        [] => Resource::User,
        [s] if is(s, "sendMail") => Resource::SendMail,
        [s] if is(s, "delegatedMailboxes") => Resource::DelegatedMailboxes,
        [m] if is(m, "messages") => Resource::Messages { folder: None },
        [m, id, more @ ..] if is(m, "messages") => message(id, more)?,
        [f] if is(f, "mailFolders") => Resource::Folders,
        [f, id] if is(f, "mailFolders") => Resource::Folder { id: (*id).to_owned() },
        [f, id, c] if is(f, "mailFolders") && is(c, "childFolders") => Resource::ChildFolders { id: (*id).to_owned() },
        [f, id, m] if is(f, "mailFolders") && is(m, "messages") => {
            Resource::Messages { folder: Some((*id).to_owned()) }
        }
        [f, _, m, id, more @ ..] if is(f, "mailFolders") && is(m, "messages") => message(id, more)?,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn paths_parse_case_insensitively_with_key_syntax() {
        assert_eq!(parse("me/sendmail"), Some((Subject::Me, Resource::SendMail)));
        assert_eq!(parse("me/sendMail"), Some((Subject::Me, Resource::SendMail)));
        assert_eq!(
            parse("users/mary@contoso.test/mailFolders('Inbox')/messages"),
            Some((Subject::User("mary@contoso.test".into()), Resource::Messages { folder: Some("Inbox".into()) }))
        );
        assert_eq!(
            parse("users('it''s')/messages/AB/$value"),
            Some((Subject::User("it's".into()), Resource::MessageValue { id: "AB".into() }))
        );
        assert_eq!(
            parse("me/mailfolders/inbox/messages/X/move"),
            Some((Subject::Me, Resource::MessageAction { id: "X".into(), action: MessageAction::Move }))
        );
        assert_eq!(parse("me/messages/X/explode"), None);
        assert_eq!(parse("groups/x"), None);
        assert_eq!(parse("(x)/me"), None);
    }

    proptest! {
        #[test]
        fn parse_never_panics(path in ".{0,200}") {
            let _ = parse(&path);
        }
    }
}
