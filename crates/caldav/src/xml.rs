//! WebDAV request bodies as a small namespace-resolved tree, and the
//! writing helpers for `207 Multi-Status` answers.
//!
//! Hostile XML costs bounded work: the body size is capped by the caller,
//! the tree by [`MAX_DEPTH`] and [`MAX_NODES`]; a DOCTYPE is refused (no
//! entity games), and every error is a value, never a panic.

use quick_xml::escape::{partial_escape, resolve_predefined_entity};
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

/// `DAV:`.
pub const DAV: &str = "DAV:";
/// RFC 4791's namespace.
pub const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
/// Apple's calendar server namespace (calendar-proxy, getctag).
pub const CS: &str = "http://calendarserver.org/ns/";

/// Deepest element nesting accepted (a calendar-query filter needs about 8).
pub const MAX_DEPTH: usize = 32;
/// Most elements accepted in one body (a multiget of many hrefs fits).
pub const MAX_NODES: usize = 20_000;

/// Why a request body is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    /// Not well-formed, or not UTF-8.
    #[error("the request body is not well-formed XML: {0}")]
    Malformed(String),
    /// Deeper or larger than the limits.
    #[error("the request body is too deeply nested or has too many elements")]
    TooComplex,
    /// A DOCTYPE (entity declarations are not accepted).
    #[error("DOCTYPE declarations are not accepted")]
    Doctype,
    /// No root element.
    #[error("the request body is empty")]
    Empty,
}

/// An element: namespace, local name, attributes, children and text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Node {
    /// Resolved namespace URI ("" when unbound).
    pub ns: String,
    /// Local name.
    pub name: String,
    /// Attributes by local name (namespaces dropped: CalDAV's are unqualified).
    pub attrs: Vec<(String, String)>,
    /// Child elements in order.
    pub children: Vec<Node>,
    /// Concatenated character data directly inside the element.
    pub text: String,
}

impl Node {
    /// Whether this is `{ns}name`.
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    /// The first child `{ns}name`.
    pub fn child(&self, ns: &str, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    /// Every child `{ns}name`.
    pub fn children_named<'a>(&'a self, ns: &'a str, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.is(ns, name))
    }

    /// An attribute's value.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

fn ns_of(r: &ResolveResult<'_>) -> String {
    match r {
        ResolveResult::Bound(ns) => String::from_utf8_lossy(ns.as_ref()).into_owned(),
        _ => String::new(),
    }
}

/// Parses a body into its root element.
pub fn parse(body: &[u8]) -> Result<Node, XmlError> {
    let text = std::str::from_utf8(body).map_err(|e| XmlError::Malformed(e.to_string()))?;
    let mut reader = quick_xml::NsReader::from_str(text);
    let mut stack: Vec<Node> = Vec::new();
    let mut nodes = 0usize;
    let malformed = |e: &dyn std::fmt::Display| XmlError::Malformed(e.to_string());
    loop {
        let (resolved, event) = reader.read_resolved_event().map_err(|e| malformed(&e))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                nodes += 1;
                if nodes > MAX_NODES || stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooComplex);
                }
                let mut node = Node {
                    ns: ns_of(&resolved),
                    name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    ..Node::default()
                };
                for attr in e.attributes().flatten() {
                    let key = String::from_utf8_lossy(attr.key.local_name().as_ref()).into_owned();
                    let value = attr.unescape_value().map_err(|e| malformed(&e))?.into_owned();
                    node.attrs.push((key, value));
                }
                if matches!(event, Event::Empty(_)) {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(node),
                        None => return Ok(node),
                    }
                } else {
                    stack.push(node);
                }
            }
            Event::End(_) => {
                let Some(node) = stack.pop() else { return Err(XmlError::Malformed("unbalanced end tag".into())) };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return Ok(node),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.decode().map_err(|e| malformed(&e))?);
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.decode().map_err(|e| malformed(&e))?);
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().map_err(|e| malformed(&e))? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().map_err(|e| malformed(&e))?;
                        resolve_predefined_entity(&name)
                            .ok_or_else(|| XmlError::Malformed(format!("unknown entity &{name};")))?
                            .to_owned()
                    }
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&resolved);
                }
            }
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Eof => return Err(if stack.is_empty() { XmlError::Empty } else { malformed(&"unexpected end") }),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
}

/// A property name: namespace and local name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QName {
    /// Namespace URI.
    pub ns: String,
    /// Local name.
    pub name: String,
}

impl QName {
    /// `{ns}name`.
    pub fn new(ns: &str, name: &str) -> Self {
        Self { ns: ns.to_owned(), name: name.to_owned() }
    }

    /// Whether this is `{ns}name`.
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    /// The opening of the element as written in answers (prefix for the
    /// known namespaces, a local declaration otherwise).
    fn open(&self) -> String {
        match prefix(&self.ns) {
            Some(p) => format!("{p}:{}", self.name),
            None => format!("X:{} xmlns:X=\"{}\"", self.name, partial_escape(&self.ns)),
        }
    }

    fn close(&self) -> String {
        match prefix(&self.ns) {
            Some(p) => format!("{p}:{}", self.name),
            None => format!("X:{}", self.name),
        }
    }

    /// The element with `inner` (already XML) as its content.
    pub fn element(&self, inner: &str) -> String {
        if inner.is_empty() {
            format!("<{}/>", self.open())
        } else {
            format!("<{}>{inner}</{}>", self.open(), self.close())
        }
    }
}

fn prefix(ns: &str) -> Option<&'static str> {
    match ns {
        DAV => Some("D"),
        CALDAV => Some("C"),
        CS => Some("CS"),
        _ => None,
    }
}

/// What a PROPFIND asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Propfind {
    /// `allprop` (or an empty body).
    AllProp,
    /// `propname`.
    PropName,
    /// These properties.
    Props(Vec<QName>),
}

/// Reads a PROPFIND body (RFC 4918 §9.1: empty means allprop).
pub fn propfind(body: &[u8]) -> Result<Propfind, XmlError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Propfind::AllProp);
    }
    let root = parse(body)?;
    if !root.is(DAV, "propfind") {
        return Err(XmlError::Malformed("the root element is not DAV:propfind".into()));
    }
    if root.child(DAV, "propname").is_some() {
        return Ok(Propfind::PropName);
    }
    match root.child(DAV, "prop") {
        Some(prop) => Ok(Propfind::Props(prop_names(prop))),
        None => Ok(Propfind::AllProp),
    }
}

/// The names inside a `DAV:prop`.
pub fn prop_names(prop: &Node) -> Vec<QName> {
    prop.children.iter().map(|c| QName::new(&c.ns, &c.name)).collect()
}

/// The instructions of a `DAV:propertyupdate` (or of the `DAV:set` in a
/// `CALDAV:mkcalendar`), in order: each property element with `true` for
/// `set`, `false` for `remove`.
pub fn updates(root: &Node) -> Vec<(&Node, bool)> {
    let mut out = Vec::new();
    for op in &root.children {
        let set = op.is(DAV, "set");
        if !set && !op.is(DAV, "remove") {
            continue;
        }
        for prop in op.children_named(DAV, "prop") {
            out.extend(prop.children.iter().map(|p| (p, set)));
        }
    }
    out
}

/// `DAV:href` texts inside `node` (direct children), trimmed.
pub fn hrefs(node: &Node) -> Vec<String> {
    node.children_named(DAV, "href").map(|h| h.text.trim().to_owned()).collect()
}

/// Text for XML content.
pub fn esc(text: &str) -> String {
    partial_escape(text).into_owned()
}

/// `<D:href>…</D:href>`.
pub fn href(path: &str) -> String {
    format!("<D:href>{}</D:href>", esc(path))
}

/// One `DAV:response` with propstats: found properties (`200`) and the
/// rest grouped by status.
pub fn response(path: &str, found: &[(QName, String)], missing: &[(QName, u16)]) -> String {
    let mut out = format!("<D:response>{}", href(path));
    if !found.is_empty() {
        out.push_str("<D:propstat><D:prop>");
        for (name, inner) in found {
            out.push_str(&name.element(inner));
        }
        out.push_str("</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>");
    }
    for status in [403u16, 404, 409, 424] {
        let names: Vec<&QName> = missing.iter().filter(|(_, s)| *s == status).map(|(n, _)| n).collect();
        if names.is_empty() {
            continue;
        }
        out.push_str("<D:propstat><D:prop>");
        for name in names {
            out.push_str(&name.element(""));
        }
        out.push_str(&format!("</D:prop><D:status>HTTP/1.1 {status} {}</D:status></D:propstat>", reason(status)));
    }
    out.push_str("</D:response>");
    out
}

/// A `DAV:response` with a bare status (a multiget href not found).
pub fn status_response(path: &str, status: u16) -> String {
    format!("<D:response>{}<D:status>HTTP/1.1 {status} {}</D:status></D:response>", href(path), reason(status))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        424 => "Failed Dependency",
        _ => "",
    }
}

const NAMESPACES: &str =
    "xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\" xmlns:CS=\"http://calendarserver.org/ns/\"";

/// A complete `207` body from responses (and an optional trailing element,
/// e.g. `DAV:sync-token`).
pub fn multistatus(responses: &[String], trailer: &str) -> String {
    let mut out = format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:multistatus {NAMESPACES}>");
    for r in responses {
        out.push_str(r);
    }
    out.push_str(trailer);
    out.push_str("</D:multistatus>");
    out
}

/// A `DAV:error` body naming a precondition (`inner` is its XML) and a
/// human-readable explanation.
pub fn error_body(inner: &str, message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error {NAMESPACES}>{inner}<D:responsedescription>{}</D:responsedescription></D:error>",
        esc(message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_a_propfind_with_namespaces_and_entities() {
        let body = br#"<?xml version="1.0"?><propfind xmlns="DAV:" xmlns:cs="http://calendarserver.org/ns/">
            <prop><resourcetype/><cs:getctag/><displayname>a &amp; b&#33;</displayname></prop></propfind>"#;
        let Propfind::Props(names) = propfind(body).expect("propfind") else { panic!("props expected") };
        assert_eq!(names, [QName::new(DAV, "resourcetype"), QName::new(CS, "getctag"), QName::new(DAV, "displayname")]);
        let root = parse(body).expect("xml");
        let text = &root.children[0].children[2].text;
        assert_eq!(text, "a & b!");
    }

    #[test]
    fn empty_body_is_allprop_and_bad_bodies_are_errors() {
        assert_eq!(propfind(b"  \n"), Ok(Propfind::AllProp));
        assert_eq!(propfind(br#"<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>"#), Ok(Propfind::PropName));
        assert!(matches!(propfind(b"<D:propfind xmlns:D=\"DAV:\">"), Err(XmlError::Malformed(_))));
        assert!(matches!(propfind(b"<x/>"), Err(XmlError::Malformed(_))));
        assert_eq!(parse(b"<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>"), Err(XmlError::Doctype));
        assert!(parse(b"<x>&unknown;</x>").is_err());
        assert!(parse(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn depth_and_size_are_bounded() {
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert_eq!(parse(deep.as_bytes()), Err(XmlError::TooComplex));
        let wide = format!("<a>{}</a>", "<b/>".repeat(MAX_NODES + 1));
        assert_eq!(parse(wide.as_bytes()), Err(XmlError::TooComplex));
    }

    #[test]
    fn renders_responses_with_known_and_foreign_namespaces() {
        let found = [(QName::new(DAV, "getetag"), esc("\"1-2\""))];
        let missing = [(QName::new("urn:x", "color"), 404)];
        let r = response("/dav/a b/", &found, &missing);
        assert!(r.contains("<D:href>/dav/a b/</D:href>"), "{r}");
        assert!(r.contains("<D:getetag>\"1-2\"</D:getetag>"), "{r}");
        assert!(r.contains("<X:color xmlns:X=\"urn:x\"/>"), "{r}");
        assert!(r.contains("HTTP/1.1 404 Not Found"), "{r}");
        let whole = multistatus(&[r], "");
        assert!(parse(whole.as_bytes()).is_ok(), "our own answers parse: {whole}");
        let err = error_body("<C:valid-calendar-data/>", "bad <data>");
        assert!(parse(err.as_bytes()).is_ok(), "{err}");
    }

    proptest! {
        #[test]
        fn hostile_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = propfind(&body);
            let _ = parse(&body);
        }

        #[test]
        fn xmlish_bodies_never_panic(parts in proptest::collection::vec(prop_oneof![
            Just("<D:propfind xmlns:D=\"DAV:\">".to_owned()), Just("<D:prop>".to_owned()), Just("</D:prop>".to_owned()),
            Just("<C:calendar-query xmlns:C=\"urn:ietf:params:xml:ns:caldav\">".to_owned()),
            Just("<C:filter><C:comp-filter name=\"VCALENDAR\">".to_owned()), Just("<C:time-range start=\"x\"/>".to_owned()),
            Just("&amp;".to_owned()), Just("&#x0;".to_owned()), Just("<![CDATA[x]]>".to_owned()), Just("<!--c-->".to_owned()),
            Just("</D:propfind>".to_owned()), Just("<a b='&lt;'/>".to_owned()), "[a-z<>/&;\"=:]{0,12}",
        ], 0..64)) {
            let body = parts.concat();
            if let Ok(p) = propfind(body.as_bytes()) {
                let _ = p;
            }
            if let Ok(root) = parse(body.as_bytes())
                && let Some(f) = root.child(CALDAV, "filter")
            {
                let _ = hrefs(f);
            }
        }
    }
}
