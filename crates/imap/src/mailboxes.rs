//! The mailbox list: LIST and LSUB, LIST-EXTENDED's selection and return
//! options and pattern lists (RFC 5258, with RFC 5819's `STATUS` and RFC
//! 6154's `SPECIAL-USE`; the codec parses none of them), CHILDREN's
//! `\HasChildren`/`\HasNoChildren` on every LIST line (RFC 3348), and CREATE, DELETE, RENAME, SUBSCRIBE and
//! UNSUBSCRIBE (RFC 3501 §6.3.3–6.3.9): names decoded from modified UTF-7 (or
//! UTF-8 under IMAP4rev2), a trailing delimiter dropped, the rest left to the
//! backend.

use std::collections::HashSet;

use imap_codec::CommandCodec;
use imap_codec::decode::Decoder;
use imap_codec::imap_types::IntoStatic;
use imap_codec::imap_types::command::{Command, CommandBody};
use imap_codec::imap_types::mailbox::{ListMailbox, Mailbox};
use imap_codec::imap_types::status::StatusDataItemName;

use crate::commands::{list_pattern, mailbox_name};
use crate::{Backend, MailboxInfo, wire};

/// LIST-EXTENDED options (RFC 5258 §3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ListOptions {
    /// Selection `SUBSCRIBED`: the subscribed names, existing or not.
    pub(crate) subscribed: bool,
    /// Selection `SPECIAL-USE` (RFC 6154 §3): only mailboxes with a special use.
    pub(crate) special_use: bool,
    /// Selection `RECURSIVEMATCH` (with `SUBSCRIBED`): also a mailbox that
    /// has a subscribed descendant, with `CHILDINFO`.
    pub(crate) recursive: bool,
    /// Return `SUBSCRIBED`: mark subscribed mailboxes `\Subscribed`.
    pub(crate) return_subscribed: bool,
    /// Return `STATUS (items)` (RFC 5819): a STATUS line after each selectable mailbox.
    pub(crate) status: Option<Vec<StatusDataItemName>>,
    /// The patterns after the first of a pattern list `("a" "b*")`.
    pub(crate) more_patterns: Vec<ListMailbox<'static>>,
}

/// Which mailboxes a listing shows, and how it answers.
#[derive(Debug, Clone, Default)]
pub(crate) struct Listing {
    /// LSUB: the subscribed ones, as `* LSUB`.
    pub(crate) lsub: bool,
    pub(crate) options: ListOptions,
    /// Names in UTF-8 (IMAP4rev2) rather than modified UTF-7.
    pub(crate) utf8: bool,
}

/// Uppercased atoms and one level of parenthesized groups, e.g. `STATUS (MESSAGES)`.
fn option_words(text: &[u8]) -> Option<Vec<(String, Vec<String>)>> {
    let text = std::str::from_utf8(text).ok()?;
    let mut words: Vec<(String, Vec<String>)> = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix('(') {
            let close = inner.find(')')?;
            let group = inner[..close].split_ascii_whitespace().map(str::to_ascii_uppercase).collect();
            words.last_mut()?.1 = group;
            rest = inner[close + 1..].trim_start();
        } else {
            let end = rest.find([' ', '(']).unwrap_or(rest.len());
            words.push((rest[..end].to_ascii_uppercase(), Vec::new()));
            rest = rest[end..].trim_start();
        }
    }
    Some(words)
}

/// `tag LIST (selection) reference pattern RETURN (options)` (either part
/// optional) rewritten as a plain LIST for the codec, with its options;
/// `None` for anything else, unknown options included (answered `BAD`).
pub(crate) fn parse_list_extended(message: &[u8]) -> Option<(Command<'static>, ListOptions)> {
    let tag_end = message.iter().position(|&b| b == b' ')?;
    let (tag, rest) = message.split_at(tag_end + 1);
    if !rest.get(..5)?.eq_ignore_ascii_case(b"LIST ") {
        return None;
    }
    let mut args = rest[5..].strip_suffix(b"\r\n")?;
    let mut options = ListOptions::default();
    let mut extended = false;
    if let Some(inner) = args.strip_prefix(b"(") {
        let close = inner.iter().position(|&b| b == b')')?;
        for (word, group) in option_words(&inner[..close])? {
            match word.as_str() {
                "SUBSCRIBED" if group.is_empty() => options.subscribed = true,
                "SPECIAL-USE" if group.is_empty() => options.special_use = true,
                // Every mailbox here is local.
                "REMOTE" if group.is_empty() => {}
                // It only adds CHILDINFO, which is optional data, but alone it is BAD (RFC 5258 §3.1).
                "RECURSIVEMATCH" if group.is_empty() => options.recursive = true,
                _ => return None,
            }
        }
        if options.recursive && !options.subscribed {
            return None;
        }
        args = inner[close + 1..].strip_prefix(b" ")?;
        extended = true;
    }
    // The return options close the command; patterns before them are the codec's to parse.
    let upper = args.to_ascii_uppercase();
    if let Some(at) = upper.windows(9).rposition(|w| w == b" RETURN (")
        && let Some(inner) = args[at + 9..].strip_suffix(b")")
    {
        for (word, group) in option_words(inner)? {
            match word.as_str() {
                "SUBSCRIBED" if group.is_empty() => options.return_subscribed = true,
                // Every LIST line carries them (CHILDREN, RFC 3348).
                "CHILDREN" if group.is_empty() => {}
                // Special-use attributes are always shown.
                "SPECIAL-USE" if group.is_empty() => {}
                "STATUS" if !group.is_empty() => {
                    options.status = Some(group.iter().map(|g| crate::status::item_name(g)).collect::<Option<_>>()?);
                }
                _ => return None,
            }
        }
        args = &args[..at];
        extended = true;
    }
    let (reference, patterns, listed) = split_patterns(args)?;
    if !extended && !listed {
        return None;
    }
    let decode = |pattern: &[u8]| {
        let mut line = tag.to_vec();
        line.extend_from_slice(b"LIST ");
        line.extend_from_slice(reference);
        line.push(b' ');
        line.extend_from_slice(pattern);
        line.extend_from_slice(b"\r\n");
        CommandCodec::default().decode(&line).ok().map(|(_, command)| command.into_static())
    };
    let command = decode(patterns.first()?)?;
    for pattern in &patterns[1..] {
        let CommandBody::List { mailbox_wildcard, .. } = decode(pattern)?.body else { return None };
        options.more_patterns.push(mailbox_wildcard);
    }
    Some((command, options))
}

/// The length of the string, literal or atom at the start of `s`.
fn token(s: &[u8]) -> Option<usize> {
    match s.first()? {
        b'"' => {
            let mut i = 1;
            loop {
                match s.get(i)? {
                    b'\\' => i += 2,
                    b'"' => return Some(i + 1),
                    _ => i += 1,
                }
            }
        }
        b'{' => {
            let close = s.iter().position(|&b| b == b'}')?;
            let digits = s.get(1..close)?;
            let length: usize = std::str::from_utf8(digits.strip_suffix(b"+").unwrap_or(digits)).ok()?.parse().ok()?;
            s.get(close + 1..close + 3).filter(|crlf| *crlf == b"\r\n")?;
            let end = close.checked_add(3)?.checked_add(length)?;
            (end <= s.len()).then_some(end)
        }
        _ => {
            let end = s.iter().position(|b| b" ()".contains(b)).unwrap_or(s.len());
            (end > 0).then_some(end)
        }
    }
}

/// The reference and the patterns of a LIST, as sent, and whether the patterns came as a list.
type Patterns<'a> = (&'a [u8], Vec<&'a [u8]>, bool);

/// `reference pattern` or `reference (pattern …)`.
fn split_patterns(args: &[u8]) -> Option<Patterns<'_>> {
    let (reference, rest) = args.split_at(token(args)?);
    let rest = rest.strip_prefix(b" ")?;
    let Some(mut inner) = rest.strip_prefix(b"(").and_then(|r| r.strip_suffix(b")")) else {
        return (token(rest)? == rest.len()).then(|| (reference, vec![rest], false));
    };
    let mut patterns = Vec::new();
    loop {
        let (pattern, after) = inner.split_at(token(inner)?);
        patterns.push(pattern);
        if after.is_empty() {
            return Some((reference, patterns, true));
        }
        inner = after.strip_prefix(b" ")?;
    }
}

/// Attributes that name a special use (RFC 6154 §2, RFC 8457).
fn is_special_use(attribute: &str) -> bool {
    ["\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash", "\\Important"]
        .iter()
        .any(|a| a.eq_ignore_ascii_case(attribute))
}

/// The names of `found`, to test membership.
fn names(found: Vec<MailboxInfo>) -> HashSet<String> {
    found.into_iter().map(|m| m.name).collect()
}

/// Adds `\HasChildren` or `\HasNoChildren` (RFC 3348) unless the backend gave one.
fn mark_children(mb: &mut MailboxInfo, everything: &[MailboxInfo]) {
    let has = |a: &str| mb.attributes.iter().any(|m| m.eq_ignore_ascii_case(a));
    if has("\\HasChildren") || has("\\HasNoChildren") {
        return;
    }
    let prefix = format!("{}{}", mb.name, mb.delimiter);
    let any = everything.iter().any(|e| e.name.starts_with(&prefix));
    mb.attributes.push(if any { "\\HasChildren" } else { "\\HasNoChildren" }.to_owned());
}

/// LIST and LSUB: one line per mailbox the backend reports for any of the
/// patterns (each once), with the attributes, `CHILDINFO` and STATUS lines
/// the options ask for.
pub(crate) async fn list<B: Backend>(
    backend: &B,
    user: &B::User,
    t: &str,
    listing: &Listing,
    reference: &Mailbox<'_>,
    wildcards: &[ListMailbox<'_>],
    out: &mut Vec<u8>,
) {
    let verb = if listing.lsub { "LSUB" } else { "LIST" };
    let utf8 = listing.utf8;
    let patterns: Result<Vec<String>, _> = wildcards.iter().map(|w| list_pattern(w, utf8)).collect();
    let (Ok(reference), Ok(patterns)) = (mailbox_name(reference, utf8), patterns) else {
        wire::status(out, t, "BAD", None, "Invalid mailbox name");
        return;
    };
    if let [only] = patterns.as_slice()
        && only.is_empty()
    {
        // An empty pattern asks for the delimiter (RFC 3501 §6.3.8).
        out.extend_from_slice(format!("* {verb} (\\Noselect) \"/\" \"\"\r\n").as_bytes());
        return wire::status(out, t, "OK", None, &format!("{verb} completed"));
    }
    let o = &listing.options;
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    for pattern in patterns.iter().filter(|p| !p.is_empty()) {
        let mut batch = if listing.lsub || o.subscribed {
            backend.lsub(user, &reference, pattern).await
        } else {
            backend.list(user, &reference, pattern).await
        };
        // RECURSIVEMATCH: an existing mailbox may have subscribed descendants.
        if o.recursive {
            batch.extend(backend.list(user, &reference, pattern).await);
        }
        found.extend(batch.into_iter().filter(|m| seen.insert(m.name.clone())));
    }
    // Every mailbox, for children and to tell a subscribed name that no longer exists (RFC 5258 §3.1).
    let everything = if listing.lsub { Vec::new() } else { backend.list(user, "", "*").await };
    let existing: HashSet<&str> = everything.iter().map(|m| m.name.as_str()).collect();
    let subscribed = if !listing.lsub && (o.subscribed || o.return_subscribed) {
        names(backend.lsub(user, "", "*").await)
    } else {
        HashSet::new()
    };
    for mut mb in found {
        if o.special_use && !mb.attributes.iter().any(|a| is_special_use(a)) {
            continue;
        }
        let is_subscribed = subscribed.contains(&mb.name);
        let prefix = format!("{}{}", mb.name, mb.delimiter);
        let child_subscribed = o.recursive && subscribed.iter().any(|s| s.starts_with(&prefix));
        if o.recursive && !is_subscribed && !child_subscribed {
            continue;
        }
        let missing = o.subscribed && !existing.contains(mb.name.as_str());
        if is_subscribed {
            mb.attributes.push("\\Subscribed".to_owned());
        }
        if missing {
            mb.attributes.push("\\NonExistent".to_owned());
        } else if !listing.lsub {
            mark_children(&mut mb, &everything);
        }
        out.extend_from_slice(format!("* {verb} ({}) \"{}\" ", mb.attributes.join(" "), mb.delimiter).as_bytes());
        wire::mailbox(out, &mb.name, utf8);
        if child_subscribed {
            out.extend_from_slice(b" (\"CHILDINFO\" (\"SUBSCRIBED\"))");
        }
        out.extend_from_slice(b"\r\n");
        let selectable = !missing && !mb.attributes.iter().any(|a| a.eq_ignore_ascii_case("\\Noselect"));
        if let (Some(items), true) = (&o.status, selectable) {
            // A mailbox whose status can't be had is listed without it (RFC 5819 §2).
            if let Ok(values) = crate::status::items(backend, user, &mb.name, items).await {
                crate::status::line(out, &mb.name, utf8, &values);
            }
        }
    }
    wire::status(out, t, "OK", None, &format!("{verb} completed"));
}

/// SELECT's `* LIST` line under IMAP4rev2 (RFC 9051 §6.3.2), with the attributes LIST shows.
pub(crate) async fn selected_list<B: Backend>(backend: &B, user: &B::User, mailbox: &str, out: &mut Vec<u8>) {
    let everything = backend.list(user, "", "*").await;
    let found = everything.iter().find(|m| m.name == mailbox).cloned();
    let known = found.is_some();
    let mut mb =
        found.unwrap_or_else(|| MailboxInfo { name: mailbox.to_owned(), delimiter: '/', attributes: Vec::new() });
    if known {
        mark_children(&mut mb, &everything);
    }
    out.extend_from_slice(format!("* LIST ({}) \"{}\" ", mb.attributes.join(" "), mb.delimiter).as_bytes());
    wire::mailbox(out, mailbox, true);
    out.extend_from_slice(b"\r\n");
}

/// A change to the mailbox list.
pub(crate) enum Change<'a> {
    Create(&'a Mailbox<'a>),
    Delete(&'a Mailbox<'a>),
    Rename(&'a Mailbox<'a>, &'a Mailbox<'a>),
    Subscribe(&'a Mailbox<'a>, bool),
}

/// A name with a trailing delimiter dropped (RFC 3501 §6.3.3: `CREATE a/` creates `a`).
fn name(mailbox: &Mailbox<'_>, utf8: bool) -> Option<String> {
    let n = mailbox_name(mailbox, utf8).ok()?;
    let n = n.strip_suffix('/').unwrap_or(&n).to_owned();
    (!n.is_empty()).then_some(n)
}

/// Runs the change and writes its tagged answer.
pub(crate) async fn change<B: Backend>(
    backend: &B,
    user: &B::User,
    tag: &str,
    change: Change<'_>,
    utf8: bool,
    out: &mut Vec<u8>,
) {
    let name = |m: &Mailbox<'_>| name(m, utf8);
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
            // Renaming INBOX moves its messages and leaves it empty (RFC 9051 §6.3.6).
            (Some(f), Some(t)) if f.eq_ignore_ascii_case("INBOX") => ("RENAME", backend.rename_inbox(user, &t).await),
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
    fn list_extended_options_are_lifted_off_the_command() {
        let (cmd, o) = parse_list_extended(b"a list (subscribed) \"\" \"*\"\r\n").expect("parses");
        assert_eq!(cmd.tag.as_ref(), "a");
        assert!(matches!(cmd.body, CommandBody::List { .. }));
        assert!(o.subscribed && o.status.is_none());
        let (_, o) = parse_list_extended(b"b LIST \"\" % RETURN (SUBSCRIBED CHILDREN STATUS (MESSAGES SIZE))\r\n")
            .expect("parses");
        assert!(o.return_subscribed && !o.subscribed);
        assert_eq!(o.status, Some(vec![StatusDataItemName::Messages, StatusDataItemName::Size]));
        assert!(parse_list_extended(b"c LIST (SPECIAL-USE) \"\" *\r\n").is_some_and(|(_, o)| o.special_use));
        assert!(parse_list_extended(b"d LIST (BOGUS) \"\" \"*\"\r\n").is_none());
        assert!(parse_list_extended(b"d LIST (RECURSIVEMATCH) \"\" \"*\"\r\n").is_none());
        assert!(parse_list_extended(b"d LIST (RECURSIVEMATCH SUBSCRIBED) \"\" \"*\"\r\n").is_some());
        assert!(parse_list_extended(b"e LIST \"\" \"*\"\r\n").is_none());
        assert!(parse_list_extended(b"f LIST \"\" * RETURN (STATUS (NOPE))\r\n").is_none());
    }

    #[test]
    fn pattern_lists_make_an_extended_list() {
        let (cmd, o) = parse_list_extended(b"a LIST \"\" (\"INBOX\" Sent* {3+}\r\na b)\r\n").expect("parses");
        let CommandBody::List { mailbox_wildcard, .. } = cmd.body else { panic!("not a LIST") };
        let text = |p: &ListMailbox<'_>| list_pattern(p, false).expect("pattern");
        assert_eq!(text(&mailbox_wildcard), "INBOX");
        assert_eq!(o.more_patterns.iter().map(text).collect::<Vec<_>>(), ["Sent*", "a b"]);
        let (_, o) =
            parse_list_extended(b"b LIST (SUBSCRIBED RECURSIVEMATCH) x (%) RETURN (CHILDREN)\r\n").expect("parses");
        assert!(o.recursive && o.more_patterns.is_empty());
        assert!(parse_list_extended(b"c LIST \"\" ()\r\n").is_none());
        assert!(parse_list_extended(b"c LIST \"\" (a\r\n").is_none());
        assert!(parse_list_extended(b"c LIST \"\" (\"a\"b)\r\n").is_none());
        assert!(parse_list_extended(b"c LIST \"\" ({9}\r\nab)\r\n").is_none());
    }

    proptest::proptest! {
        /// Whatever follows `LIST (`, the pre-parser answers without panicking.
        #[test]
        fn list_extended_parser_never_panics(rest in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            let mut line = b"t LIST (".to_vec();
            line.extend_from_slice(&rest);
            let _ = parse_list_extended(&line);
            let mut line = b"t LIST \"\" * RETURN (".to_vec();
            line.extend_from_slice(&rest);
            line.extend_from_slice(b")\r\n");
            let _ = parse_list_extended(&line);
            let mut line = b"t LIST \"\" (".to_vec();
            line.extend_from_slice(&rest);
            let _ = parse_list_extended(&line);
        }
    }
}
