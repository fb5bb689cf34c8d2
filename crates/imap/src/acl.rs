//! The ACL commands of RFC 4314, which `imap-codec` does not parse: a small
//! parser for `tag COMMAND astring...` tried when the codec refuses a command,
//! and the responses.

use crate::{Backend, utf7, wire};

/// A parsed ACL command.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AclCommand {
    MyRights { mailbox: String },
    GetAcl { mailbox: String },
    ListRights { mailbox: String, identifier: String },
    SetAcl { mailbox: String, identifier: String, rights: String },
    DeleteAcl { mailbox: String, identifier: String },
}

/// Why a command that names an ACL verb is still malformed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Malformed;

fn is_atom_char(b: u8) -> bool {
    b > 0x20 && b < 0x7f && !b"(){ %*\"\\".contains(&b)
}

/// One astring at the start of `input`; returns it and the rest.
fn astring(input: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    match input.first()? {
        b'"' => {
            let mut out = Vec::new();
            let mut i = 1;
            loop {
                match *input.get(i)? {
                    b'"' => return Some((out, &input[i + 1..])),
                    b'\\' => {
                        out.push(*input.get(i + 1).filter(|c| matches!(c, b'"' | b'\\'))?);
                        i += 2;
                    }
                    b'\r' | b'\n' => return None,
                    c => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
        }
        b'{' => {
            let close = input.iter().position(|&b| b == b'}')?;
            let digits = input[1..close].strip_suffix(b"+").unwrap_or(&input[1..close]);
            let n: usize = std::str::from_utf8(digits).ok()?.parse().ok()?;
            let rest = input[close + 1..].strip_prefix(b"\r\n")?;
            (rest.len() >= n).then(|| (rest[..n].to_vec(), &rest[n..]))
        }
        _ => {
            // `]` is an ASTRING-CHAR although not an ATOM-CHAR.
            let end = input.iter().position(|&b| !(is_atom_char(b) || b == b']')).unwrap_or(input.len());
            (end > 0).then(|| (input[..end].to_vec(), &input[end..]))
        }
    }
}

fn mailbox(raw: &[u8], utf8: bool) -> Result<String, Malformed> {
    if raw.eq_ignore_ascii_case(b"INBOX") {
        return Ok("INBOX".to_owned());
    }
    utf7::decode_name(raw, utf8).map_err(|_| Malformed)
}

fn text(raw: Vec<u8>) -> Result<String, Malformed> {
    String::from_utf8(raw).map_err(|_| Malformed)
}

/// `Some((tag, Ok(command)))` for an ACL command, `Some((tag, Err))` for a
/// malformed one, `None` when the message is no ACL command at all.
pub(crate) fn parse(message: &[u8], utf8: bool) -> Option<(String, Result<AclCommand, Malformed>)> {
    let tag_end = message.iter().position(|&b| b == b' ')?;
    let tag = std::str::from_utf8(&message[..tag_end]).ok()?;
    if tag.is_empty() || !tag.bytes().all(|b| is_atom_char(b) && b != b'+') {
        return None;
    }
    let rest = &message[tag_end + 1..];
    let verb_end = rest.iter().position(|&b| !b.is_ascii_alphabetic()).unwrap_or(rest.len());
    let verb = std::str::from_utf8(&rest[..verb_end]).ok()?.to_ascii_uppercase();
    let arity = match verb.as_str() {
        "MYRIGHTS" | "GETACL" => 1,
        "LISTRIGHTS" | "DELETEACL" => 2,
        "SETACL" => 3,
        _ => return None,
    };
    let mut rest = &rest[verb_end..];
    let mut args = Vec::new();
    for _ in 0..arity {
        let Some(after) = rest.strip_prefix(b" ") else { return Some((tag.to_owned(), Err(Malformed))) };
        let Some((arg, after)) = astring(after) else { return Some((tag.to_owned(), Err(Malformed))) };
        args.push(arg);
        rest = after;
    }
    if rest != b"\r\n" && rest != b"\n" {
        return Some((tag.to_owned(), Err(Malformed)));
    }
    let mut args = args.into_iter();
    let mut next = || args.next().ok_or(Malformed);
    let command = (|| {
        let mb = mailbox(&next()?, utf8)?;
        Ok(match verb.as_str() {
            "MYRIGHTS" => AclCommand::MyRights { mailbox: mb },
            "GETACL" => AclCommand::GetAcl { mailbox: mb },
            "LISTRIGHTS" => AclCommand::ListRights { mailbox: mb, identifier: text(next()?)? },
            "DELETEACL" => AclCommand::DeleteAcl { mailbox: mb, identifier: text(next()?)? },
            _ => AclCommand::SetAcl { mailbox: mb, identifier: text(next()?)?, rights: text(next()?)? },
        })
    })();
    Some((tag.to_owned(), command))
}

/// Runs an ACL command for a signed-in user and writes its responses.
pub(crate) async fn run<B: Backend>(
    backend: &B,
    user: &B::User,
    tag: &str,
    command: AclCommand,
    utf8: bool,
    out: &mut Vec<u8>,
) {
    let result = match command {
        AclCommand::MyRights { mailbox } => backend.myrights(user, &mailbox).await.map(|rights| {
            out.extend_from_slice(b"* MYRIGHTS ");
            wire::mailbox(out, &mailbox, utf8);
            out.push(b' ');
            wire::string(out, rights.as_bytes());
            out.extend_from_slice(b"\r\n");
        }),
        AclCommand::GetAcl { mailbox } => backend.getacl(user, &mailbox).await.map(|entries| {
            out.extend_from_slice(b"* ACL ");
            wire::mailbox(out, &mailbox, utf8);
            for (identifier, rights) in entries {
                out.push(b' ');
                wire::string(out, identifier.as_bytes());
                out.push(b' ');
                wire::string(out, rights.as_bytes());
            }
            out.extend_from_slice(b"\r\n");
        }),
        AclCommand::ListRights { mailbox, identifier } => {
            backend.listrights(user, &mailbox, &identifier).await.map(|rights| {
                out.extend_from_slice(b"* LISTRIGHTS ");
                wire::mailbox(out, &mailbox, utf8);
                out.push(b' ');
                wire::string(out, identifier.as_bytes());
                out.push(b' ');
                wire::string(out, rights.required.as_bytes());
                for optional in rights.optional {
                    out.push(b' ');
                    wire::string(out, optional.as_bytes());
                }
                out.extend_from_slice(b"\r\n");
            })
        }
        AclCommand::SetAcl { mailbox, identifier, rights } => {
            backend.setacl(user, &mailbox, &identifier, &rights).await
        }
        AclCommand::DeleteAcl { mailbox, identifier } => backend.deleteacl(user, &mailbox, &identifier).await,
    };
    match result {
        Ok(()) => wire::status(out, tag, "OK", None, "ACL command completed"),
        Err(no) => wire::no(out, tag, &no),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_acl_commands() {
        assert_eq!(
            parse(b"a SETACL \"Other Users/mary/INBOX\" bob +lr\r\n", false),
            Some((
                "a".into(),
                Ok(AclCommand::SetAcl {
                    mailbox: "Other Users/mary/INBOX".into(),
                    identifier: "bob".into(),
                    rights: "+lr".into()
                })
            ))
        );
        assert_eq!(
            parse(b"b myrights {5+}\r\nINBOX\r\n", false),
            Some(("b".into(), Ok(AclCommand::MyRights { mailbox: "INBOX".into() })))
        );
        assert_eq!(parse(b"c GETACL\r\n", false), Some(("c".into(), Err(Malformed))));
        assert_eq!(parse(b"d GETACL \"&AGE-\"\r\n", false), Some(("d".into(), Err(Malformed))));
        assert_eq!(parse(b"e FROB x\r\n", false), None);
    }
}
