//! RFC 5545 §3.1 content lines: unfolding, names, parameters, values, and
//! the BEGIN/END component tree; and the writer that folds them back.
//!
//! Values stay in their escaped wire form here; `value.rs` and `model.rs`
//! give them types. Every limit is checked while reading, so a hostile input
//! costs at most one pass over at most `Limits::max_bytes`.

use crate::{Error, Limits, Result};

/// One property parameter, e.g. `PARTSTAT=ACCEPTED` or `MEMBER="a","b"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// Upper-case parameter name.
    pub name: String,
    /// Values with quotes removed (RFC 5545 §3.2: no escapes inside).
    pub values: Vec<String>,
}

/// One content line: name, parameters and the value in its escaped form.
/// Equality ignores `line`.
#[derive(Debug, Clone, Eq)]
pub struct Property {
    /// Upper-case property name.
    pub name: String,
    /// Parameters in input order.
    pub params: Vec<Param>,
    /// The value as written on the wire (text escapes not undone).
    pub value: String,
    /// 1-based physical line where it started in the input (0 when built).
    pub line: usize,
}

/// A component (`VCALENDAR`, `VEVENT`, `VTIMEZONE`, `VALARM`, …) as read.
/// Equality ignores `line`.
#[derive(Debug, Clone, Eq)]
pub struct Component {
    /// Upper-case component name.
    pub name: String,
    /// Properties in input order.
    pub properties: Vec<Property>,
    /// Nested components in input order.
    pub children: Vec<Component>,
    /// 1-based line of its `BEGIN:` (0 when built).
    pub line: usize,
}

impl PartialEq for Property {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.params == other.params && self.value == other.value
    }
}

impl PartialEq for Component {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.properties == other.properties && self.children == other.children
    }
}

impl Param {
    /// A one-valued parameter.
    pub fn new(name: &str, value: impl Into<String>) -> Self {
        Self { name: name.to_ascii_uppercase(), values: vec![value.into()] }
    }

    /// The first value, if any.
    pub fn first(&self) -> Option<&str> {
        self.values.first().map(String::as_str)
    }
}

impl Property {
    /// A property with a value already in wire form and no parameters.
    pub fn new(name: &str, value: impl Into<String>) -> Self {
        Self { name: name.to_ascii_uppercase(), params: Vec::new(), value: value.into(), line: 0 }
    }

    /// A `TEXT` property: the value is escaped (RFC 5545 §3.3.11).
    pub fn text(name: &str, value: &str) -> Self {
        Self::new(name, escape_text(value))
    }

    /// Adds a parameter (builder style).
    pub fn with_param(mut self, name: &str, value: impl Into<String>) -> Self {
        self.params.push(Param::new(name, value));
        self
    }

    /// The first value of the named parameter (case-insensitive name).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|p| p.name.eq_ignore_ascii_case(name)).and_then(Param::first)
    }

    /// The value with text escapes undone.
    pub fn text_value(&self) -> String {
        unescape_text(&self.value)
    }

    pub(crate) fn error(&self, reason: impl Into<String>) -> Error {
        Error::Property { line: self.line, property: self.name.clone(), reason: reason.into() }
    }
}

impl Component {
    /// An empty component.
    pub fn new(name: &str) -> Self {
        Self { name: name.to_ascii_uppercase(), properties: Vec::new(), children: Vec::new(), line: 0 }
    }

    /// The first property with this name.
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// Writes the component as RFC 5545 text (CRLF, folded at 75 octets).
    pub fn write(&self, out: &mut String) {
        write_line(out, &format!("BEGIN:{}", self.name));
        for property in &self.properties {
            write_property(out, property);
        }
        for child in &self.children {
            child.write(out);
        }
        write_line(out, &format!("END:{}", self.name));
    }
}

/// Undoes RFC 5545 §3.3.11 escapes (`\\`, `\;`, `\,`, `\n`, `\N`); a lone
/// backslash before anything else is kept, as liberal readers do.
pub fn unescape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(c @ ('\\' | ';' | ',' | ':' | '"')) => out.push(c),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Applies RFC 5545 §3.3.11 escapes; CR is dropped, LF becomes `\n`.
pub fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

fn write_property(out: &mut String, property: &Property) {
    let mut line = property.name.clone();
    for param in &property.params {
        line.push(';');
        line.push_str(&param.name);
        line.push('=');
        for (i, value) in param.values.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            // A DQUOTE cannot be written at all (RFC 5545 §3.1: no escape),
            // and line breaks would start a new content line.
            let clean: String = value.chars().filter(|c| !matches!(c, '"' | '\r' | '\n')).collect();
            if clean.contains([':', ';', ',']) || clean.is_empty() {
                line.push('"');
                line.push_str(&clean);
                line.push('"');
            } else {
                line.push_str(&clean);
            }
        }
    }
    line.push(':');
    // Values never carry raw line breaks: they would start a new content line.
    line.extend(property.value.chars().filter(|c| *c != '\r' && *c != '\n'));
    write_line(out, &line);
}

/// Writes one content line folded at 75 octets without splitting a UTF-8
/// character (RFC 5545 §3.1).
fn write_line(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

/// Parses calendar text into its top-level components, enforcing `limits`.
pub(crate) fn parse_components(text: &str, limits: &Limits) -> Result<Vec<Component>> {
    let mut stack: Vec<Component> = Vec::new();
    let mut top: Vec<Component> = Vec::new();
    let mut components = 0usize;
    let mut properties = 0usize;
    for (line_no, line) in unfold(text) {
        if line.is_empty() {
            continue;
        }
        let property = parse_line(&line, line_no)?;
        properties += 1;
        if properties > limits.max_properties {
            return Err(Error::Limit { what: "properties".into(), limit: limits.max_properties });
        }
        match property.name.as_str() {
            "BEGIN" => {
                let name = property.value.trim().to_ascii_uppercase();
                if !is_name(&name) {
                    return Err(Error::Syntax { line: line_no, reason: format!("bad component name {name:?}") });
                }
                components += 1;
                if components > limits.max_components {
                    return Err(Error::Limit { what: "components".into(), limit: limits.max_components });
                }
                if stack.len() >= limits.max_depth {
                    return Err(Error::Limit {
                        what: format!("nesting depth at line {line_no}"),
                        limit: limits.max_depth,
                    });
                }
                stack.push(Component { name, properties: Vec::new(), children: Vec::new(), line: line_no });
            }
            "END" => {
                let name = property.value.trim().to_ascii_uppercase();
                let Some(open) = stack.pop() else {
                    return Err(Error::Syntax { line: line_no, reason: format!("END:{name} without BEGIN") });
                };
                if open.name != name {
                    return Err(Error::Syntax {
                        line: line_no,
                        reason: format!("END:{name} closes BEGIN:{} of line {}", open.name, open.line),
                    });
                }
                match stack.last_mut() {
                    Some(parent) => parent.children.push(open),
                    None => top.push(open),
                }
            }
            _ => match stack.last_mut() {
                Some(open) => open.properties.push(property),
                None => {
                    return Err(Error::Syntax {
                        line: line_no,
                        reason: format!("property {} outside any component", property.name),
                    });
                }
            },
        }
    }
    if let Some(open) = stack.pop() {
        return Err(Error::Syntax { line: open.line, reason: format!("BEGIN:{} is never closed", open.name) });
    }
    Ok(top)
}

/// Logical lines with the physical line number where each starts; CRLF or
/// bare LF, continuation lines start with a space or a tab. A CR is never
/// content (RFC 5545 §3.1 excludes controls), so every CR is dropped.
fn unfold(text: &str) -> Vec<(usize, String)> {
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (i, physical) in text.split('\n').enumerate() {
        let stripped;
        let physical = if physical.contains('\r') {
            stripped = physical.replace('\r', "");
            stripped.as_str()
        } else {
            physical
        };
        match (physical.strip_prefix([' ', '\t']), lines.last_mut()) {
            (Some(rest), Some((_, current))) => current.push_str(rest),
            _ => lines.push((i + 1, physical.to_owned())),
        }
    }
    lines
}

fn is_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// `name *(";" param) ":" value` (RFC 5545 §3.1).
fn parse_line(line: &str, line_no: usize) -> Result<Property> {
    let syntax = |reason: String| Error::Syntax { line: line_no, reason };
    let name_end = line.find([';', ':']).ok_or_else(|| syntax("content line without ':'".into()))?;
    let name = line[..name_end].to_ascii_uppercase();
    if !is_name(&name) {
        return Err(syntax(format!("bad property name {:?}", &line[..name_end])));
    }
    let mut rest = &line[name_end..];
    let mut params = Vec::new();
    while let Some(after) = rest.strip_prefix(';') {
        let eq = after.find('=').ok_or_else(|| syntax(format!("{name}: parameter without '='")))?;
        let param_name = after[..eq].to_ascii_uppercase();
        if !is_name(&param_name) {
            return Err(syntax(format!("{name}: bad parameter name {:?}", &after[..eq])));
        }
        let mut values = Vec::new();
        let mut cursor = &after[eq + 1..];
        loop {
            let (value, remaining) = if let Some(quoted) = cursor.strip_prefix('"') {
                let close =
                    quoted.find('"').ok_or_else(|| syntax(format!("{name}: unterminated quoted {param_name}")))?;
                (&quoted[..close], &quoted[close + 1..])
            } else {
                let end = cursor.find([',', ';', ':']).unwrap_or(cursor.len());
                if cursor[..end].contains('"') {
                    return Err(syntax(format!("{name}: '\"' inside the unquoted value of {param_name}")));
                }
                (&cursor[..end], &cursor[end..])
            };
            values.push(value.to_owned());
            cursor = remaining;
            match cursor.strip_prefix(',') {
                Some(next) => cursor = next,
                None => break,
            }
        }
        params.push(Param { name: param_name, values });
        rest = cursor;
    }
    let value = rest.strip_prefix(':').ok_or_else(|| syntax(format!("{name}: expected ':' after parameters")))?;
    Ok(Property { name, params, value: value.to_owned(), line: line_no })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfolds_continuation_lines_and_keeps_start_line() {
        let text = "BEGIN:VCALENDAR\r\nX-A:one\r\n  two\r\n\tthree\r\nEND:VCALENDAR\r\n";
        let top = parse_components(text, &Limits::default()).unwrap();
        let p = &top[0].properties[0];
        assert_eq!(p.value, "one twothree");
        assert_eq!(p.line, 2);
    }

    #[test]
    fn parameters_with_quotes_and_lists() {
        let p = parse_line(r#"ATTENDEE;DELEGATED-TO="mailto:a@x","mailto:b@x";CN="Doe, J":mailto:j@x"#, 1).unwrap();
        assert_eq!(p.params[0].values, vec!["mailto:a@x", "mailto:b@x"]);
        assert_eq!(p.param("cn"), Some("Doe, J"));
        assert_eq!(p.value, "mailto:j@x");
    }

    #[test]
    fn mismatched_end_names_the_lines() {
        let err = parse_components("BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VCALENDAR\n", &Limits::default()).unwrap_err();
        assert_eq!(err.to_string(), "line 3: END:VCALENDAR closes BEGIN:VEVENT of line 2");
    }

    #[test]
    fn folding_keeps_utf8_characters_whole() {
        let mut out = String::new();
        write_line(&mut out, &format!("SUMMARY:{}", "é".repeat(100)));
        for line in out.split("\r\n") {
            assert!(line.len() <= 75, "{line}");
        }
        let back = unfold(&out);
        assert_eq!(back[0].1, format!("SUMMARY:{}", "é".repeat(100)));
    }

    #[test]
    fn text_escapes_round_trip() {
        let s = "a;b,c\\d\ne";
        assert_eq!(unescape_text(&escape_text(s)), s);
    }

    #[test]
    fn nesting_is_bounded() {
        let limits = Limits { max_depth: 3, ..Limits::default() };
        let text = "BEGIN:A\nBEGIN:B\nBEGIN:C\nBEGIN:D\nEND:D\nEND:C\nEND:B\nEND:A\n";
        assert!(matches!(parse_components(text, &limits), Err(Error::Limit { .. })));
    }
}
