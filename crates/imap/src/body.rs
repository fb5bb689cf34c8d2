//! The MIME side of FETCH (RFC 3501 §6.4.5, §7.4.2): `BODY[section]<partial>`
//! octets and the `BODY`/`BODYSTRUCTURE` descriptions, from the part offsets
//! `mail-parser` records. Octets are returned as stored (content transfer
//! encodings are not undone), as the RFC asks.

use imap_codec::imap_types::core::AString;
use imap_codec::imap_types::fetch::{Part, Section};
use mail_parser::{HeaderValue, Message, MessageParser, MessagePart, MimeHeaders, PartType};

use crate::wire;

/// A part of a (possibly nested) message: the message that holds it, its raw
/// octets (offsets are relative to them) and the part's index.
#[derive(Clone, Copy)]
struct Node<'m> {
    msg: &'m Message<'m>,
    raw: &'m [u8],
    index: usize,
}

impl<'m> Node<'m> {
    fn part(&self) -> Option<&'m MessagePart<'m>> {
        self.msg.parts.get(self.index)
    }

    fn slice(&self, from: u32, to: u32) -> &'m [u8] {
        self.raw.get(from as usize..to as usize).unwrap_or_default()
    }

    /// The encapsulated message of a `message/rfc822` part.
    fn inner(&self) -> Option<Node<'m>> {
        let msg = self.part()?.message()?;
        Some(Node { msg, raw: &msg.raw_message, index: 0 })
    }

    /// The `n`th child (1-based) for part numbering: a multipart's children, an
    /// encapsulated message's own numbering, or part 1 of a single-part body.
    fn child(&self, n: u32) -> Option<Node<'m>> {
        let part = self.part()?;
        if let Some(ids) = part.sub_parts() {
            let id = *ids.get(usize::try_from(n).ok()?.checked_sub(1)?)?;
            return Some(Node { index: id as usize, ..*self });
        }
        if let Some(inner) = self.inner() {
            return inner.child(n);
        }
        (n == 1).then_some(*self)
    }

    fn header_section(&self) -> &'m [u8] {
        self.part().map_or(&[][..], |p| self.slice(p.offset_header, p.offset_body))
    }

    fn body(&self) -> &'m [u8] {
        self.part().map_or(&[][..], |p| self.slice(p.offset_body, p.offset_end))
    }
}

/// The message a HEADER/TEXT section addresses: the top, or a `message/rfc822` part.
fn message_of<'m>(root: Node<'m>, part: Option<&Part>) -> Option<Node<'m>> {
    match part {
        None => Some(root),
        Some(p) => resolve(root, p)?.inner(),
    }
}

fn resolve<'m>(root: Node<'m>, part: &Part) -> Option<Node<'m>> {
    part.0.as_ref().iter().try_fold(root, |node, n| node.child(n.get()))
}

/// Splits a header section into fields (each with its continuation lines).
fn fields(header: &[u8]) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < header.len() {
        let end = header[i..].iter().position(|&b| b == b'\n').map_or(header.len(), |p| i + p + 1);
        let continuation = matches!(header.get(end), Some(b' ' | b'\t'));
        if !continuation {
            let field = &header[start..end];
            if !field.iter().all(u8::is_ascii_whitespace) {
                out.push(field);
            }
            start = end;
        }
        i = end;
    }
    out
}

fn field_named(field: &[u8], names: &[AString<'_>]) -> bool {
    let name = field.split(|&b| b == b':').next().unwrap_or_default().trim_ascii();
    names.iter().any(|n| n.as_ref().eq_ignore_ascii_case(name))
}

/// The octets of `section` of `raw`; `None` when the message has no such part.
pub(crate) fn section(raw: &[u8], section: &Section<'_>) -> Option<Vec<u8>> {
    let msg = MessageParser::default().parse(raw)?;
    let root = Node { msg: &msg, raw, index: 0 };
    let picked = |header: &[u8], names: &[AString<'_>], keep: bool| {
        let mut out: Vec<u8> =
            fields(header).into_iter().filter(|f| field_named(f, names) == keep).flatten().copied().collect();
        out.extend_from_slice(b"\r\n");
        out
    };
    Some(match section {
        Section::Part(p) => resolve(root, p)?.body().to_vec(),
        Section::Mime(p) => resolve(root, p)?.header_section().to_vec(),
        Section::Header(p) => message_of(root, p.as_ref())?.header_section().to_vec(),
        Section::Text(p) => message_of(root, p.as_ref())?.body().to_vec(),
        Section::HeaderFields(p, names) => picked(message_of(root, p.as_ref())?.header_section(), names.as_ref(), true),
        Section::HeaderFieldsNot(p, names) => {
            picked(message_of(root, p.as_ref())?.header_section(), names.as_ref(), false)
        }
    })
}

/// A content transfer encoding BINARY can't undo (RFC 3516 §4.3: `[UNKNOWN-CTE]`).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct UnknownCte;

/// `BINARY[section]` octets (RFC 9051 §6.4.5): the part's body with its
/// content transfer encoding undone; the whole message as stored for an empty
/// section; `Ok(None)` when the message has no such part.
pub(crate) fn binary(raw: &[u8], part: &[std::num::NonZeroU32]) -> Result<Option<Vec<u8>>, UnknownCte> {
    let Ok(part) = imap_codec::imap_types::core::Vec1::try_from(part.to_vec()) else { return Ok(Some(raw.to_vec())) };
    let part = Part(part);
    let Some(body) = section(raw, &Section::Part(part.clone())) else { return Ok(None) };
    let header = section(raw, &Section::Mime(part)).unwrap_or_default();
    let cte = fields(&header)
        .into_iter()
        .find_map(|f| {
            let (name, value) = f.split_at(f.iter().position(|&b| b == b':')?);
            name.trim_ascii().eq_ignore_ascii_case(b"Content-Transfer-Encoding").then(|| value[1..].trim_ascii())
        })
        .unwrap_or(b"7bit")
        .to_ascii_lowercase();
    match cte.as_slice() {
        b"7bit" | b"8bit" | b"binary" => Ok(Some(body)),
        b"base64" => {
            let text: Vec<u8> = body.into_iter().filter(|b| !b.is_ascii_whitespace()).collect();
            mail_parser::decoders::base64::base64_decode(&text).map(Some).ok_or(UnknownCte)
        }
        b"quoted-printable" => {
            mail_parser::decoders::quoted_printable::quoted_printable_decode(&body).map(Some).ok_or(UnknownCte)
        }
        _ => Err(UnknownCte),
    }
}

/// The section as echoed in the response: `1.2.HEADER.FIELDS ("Subject")`.
pub(crate) fn section_name(section: Option<&Section<'_>>) -> String {
    let part = |p: &Part| p.0.as_ref().iter().map(|n| n.to_string()).collect::<Vec<_>>().join(".");
    let prefixed = |p: &Option<Part>, what: &str| match p {
        Some(p) => format!("{}.{what}", part(p)),
        None => what.to_owned(),
    };
    let list = |names: &[AString<'_>]| {
        let mut out = Vec::new();
        for (i, n) in names.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            // Echoed as an atom when it is one, as clients sent it (`Subject`, not `"Subject"`).
            if !n.as_ref().is_empty()
                && n.as_ref().iter().all(|&b| b > 0x20 && b < 0x7f && !b"(){ %*\"\\]".contains(&b))
            {
                out.extend_from_slice(n.as_ref());
            } else {
                wire::string(&mut out, n.as_ref());
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    match section {
        None => String::new(),
        Some(Section::Part(p)) => part(p),
        Some(Section::Mime(p)) => format!("{}.MIME", part(p)),
        Some(Section::Header(p)) => prefixed(p, "HEADER"),
        Some(Section::Text(p)) => prefixed(p, "TEXT"),
        Some(Section::HeaderFields(p, n)) => format!("{} ({})", prefixed(p, "HEADER.FIELDS"), list(n.as_ref())),
        Some(Section::HeaderFieldsNot(p, n)) => format!("{} ({})", prefixed(p, "HEADER.FIELDS.NOT"), list(n.as_ref())),
    }
}

fn nstring(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => wire::string(out, s.trim().as_bytes()),
        None => out.extend_from_slice(b"NIL"),
    }
}

/// `("NAME" "value" ...)` or `NIL`; names upper-cased as servers customarily send them.
fn params(out: &mut Vec<u8>, attrs: Option<&[mail_parser::Attribute<'_>]>, default: &[(&str, &str)]) {
    let list: Vec<(String, &str)> = match attrs {
        Some(a) if !a.is_empty() => a.iter().map(|a| (a.name.to_ascii_uppercase(), a.value.as_ref())).collect(),
        _ => default.iter().map(|(n, v)| ((*n).to_owned(), *v)).collect(),
    };
    if list.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for (i, (name, value)) in list.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        wire::string(out, name.as_bytes());
        out.push(b' ');
        wire::string(out, value.as_bytes());
    }
    out.push(b')');
}

fn lines(body: &[u8]) -> usize {
    let n = body.iter().filter(|&&b| b == b'\n').count();
    n + usize::from(body.last().is_some_and(|&b| b != b'\n'))
}

/// Disposition, language and location: the extension data both part kinds end with.
fn extension_tail(out: &mut Vec<u8>, part: &MessagePart<'_>) {
    out.push(b' ');
    match part.content_disposition() {
        Some(d) => {
            out.push(b'(');
            wire::string(out, d.ctype().to_ascii_uppercase().as_bytes());
            out.push(b' ');
            params(out, d.attributes(), &[]);
            out.push(b')');
        }
        None => out.extend_from_slice(b"NIL"),
    }
    out.push(b' ');
    match part.content_language() {
        HeaderValue::Text(t) => nstring(out, Some(t)),
        HeaderValue::TextList(l) if !l.is_empty() => {
            out.push(b'(');
            for (i, t) in l.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                nstring(out, Some(t));
            }
            out.push(b')');
        }
        _ => out.extend_from_slice(b"NIL"),
    }
    out.push(b' ');
    nstring(out, part.content_location());
}

fn structure(out: &mut Vec<u8>, node: Node<'_>, extended: bool, depth: usize) {
    let Some(part) = node.part() else {
        out.extend_from_slice(b"NIL");
        return;
    };
    let ct = part.content_type();
    out.push(b'(');
    if let (Some(children), true) = (part.sub_parts(), depth < 16) {
        for id in children {
            structure(out, Node { index: *id as usize, ..node }, extended, depth + 1);
        }
        out.push(b' ');
        nstring(out, Some(&ct.and_then(|c| c.subtype()).unwrap_or("mixed").to_ascii_uppercase()));
        if extended {
            out.push(b' ');
            params(out, ct.and_then(|c| c.attributes()), &[]);
            extension_tail(out, part);
        }
        out.push(b')');
        return;
    }
    let (ctype, subtype) = match ct {
        Some(c) => (c.ctype().to_ascii_uppercase(), c.subtype().unwrap_or("").to_ascii_uppercase()),
        None => ("TEXT".to_owned(), "PLAIN".to_owned()),
    };
    let default_params: &[(&str, &str)] = if ctype == "TEXT" { &[("CHARSET", "US-ASCII")] } else { &[] };
    nstring(out, Some(&ctype));
    out.push(b' ');
    nstring(out, Some(&subtype));
    out.push(b' ');
    params(out, ct.and_then(|c| c.attributes()), default_params);
    out.push(b' ');
    nstring(out, part.content_id().map(|id| format!("<{id}>")).as_deref());
    out.push(b' ');
    nstring(out, part.content_description());
    out.push(b' ');
    let encoding = part.content_transfer_encoding().unwrap_or("7BIT").to_ascii_uppercase();
    nstring(out, Some(&encoding));
    let body = node.body();
    out.extend_from_slice(format!(" {}", body.len()).as_bytes());
    if let (PartType::Message(_), Some(inner), true) = (&part.body, node.inner(), depth < 16) {
        out.push(b' ');
        crate::envelope::envelope_only(out, inner.raw);
        out.push(b' ');
        structure(out, inner, extended, depth + 1);
        out.extend_from_slice(format!(" {}", lines(body)).as_bytes());
    } else if ctype == "TEXT" {
        out.extend_from_slice(format!(" {}", lines(body)).as_bytes());
    }
    if extended {
        out.extend_from_slice(b" NIL");
        extension_tail(out, part);
    }
    out.push(b')');
}

/// `BODYSTRUCTURE (...)` (`extended`) or `BODY (...)` for `raw`.
pub(crate) fn body_structure(out: &mut Vec<u8>, raw: &[u8], extended: bool) {
    out.extend_from_slice(if extended { b"BODYSTRUCTURE " } else { b"BODY " });
    match MessageParser::default().parse(raw) {
        Some(msg) => structure(out, Node { msg: &msg, raw, index: 0 }, extended, 0),
        None => {
            let size = raw.len();
            let l = lines(raw);
            out.extend_from_slice(
                format!("(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" {size} {l})").as_bytes(),
            );
        }
    }
}

#[cfg(test)]
#[path = "body_tests.rs"]
mod tests;
