//! PowerShell values and the output objects hosts return.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::syntax::ScriptBlock;

/// A PowerShell value.
#[derive(Clone, PartialEq, Default)]
pub enum Value {
    /// `$null`.
    #[default]
    Null,
    /// `$true` / `$false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A string.
    String(String),
    /// A point in time (UTC).
    DateTime(DateTime<Utc>),
    /// An array (`a,b`, `@(…)`).
    Array(Vec<Value>),
    /// A hashtable literal `@{Key=…}`, keys in the order written (looked up case-insensitively).
    Hashtable(Vec<(String, Value)>),
    /// A password from `ConvertTo-SecureString`; never displayed.
    SecureString(String),
    /// An object with named properties (what cmdlets output).
    Object(Object),
    /// A script block `{ … }`.
    ScriptBlock(ScriptBlock),
}

impl fmt::Debug for Value {
    // Hand-written so that a SecureString's text never reaches logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("Null"),
            Value::Bool(b) => f.debug_tuple("Bool").field(b).finish(),
            Value::Int(i) => f.debug_tuple("Int").field(i).finish(),
            Value::String(s) => f.debug_tuple("String").field(s).finish(),
            Value::DateTime(d) => f.debug_tuple("DateTime").field(d).finish(),
            Value::Array(a) => f.debug_tuple("Array").field(a).finish(),
            Value::Hashtable(h) => f.debug_tuple("Hashtable").field(h).finish(),
            Value::SecureString(_) => f.write_str("SecureString(<hidden>)"),
            Value::Object(o) => f.debug_tuple("Object").field(o).finish(),
            Value::ScriptBlock(b) => f.debug_tuple("ScriptBlock").field(&b.text).finish(),
        }
    }
}

/// An output object: a type name, ordered properties, and the properties a table shows by default.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Object {
    /// The .NET-style type name, e.g. `Microsoft.Exchange.Management.RecipientTasks.MailboxAcePresentationObject`.
    pub type_name: String,
    /// Properties in display order.
    pub properties: Vec<(String, Value)>,
    /// The columns a default table shows; empty means "decide from the property count".
    pub default_display: Vec<String>,
}

impl Object {
    /// An object of this type with no properties.
    pub fn new(type_name: &str) -> Self {
        Object { type_name: type_name.to_string(), properties: Vec::new(), default_display: Vec::new() }
    }

    /// Adds (or replaces, case-insensitively) a property.
    pub fn with(mut self, name: &str, v: impl Into<Value>) -> Self {
        self.set(name, v);
        self
    }

    /// Sets (or adds) a property in place; the name match is case-insensitive.
    pub fn set(&mut self, name: &str, v: impl Into<Value>) {
        let v = v.into();
        match self.properties.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            Some(slot) => slot.1 = v,
            None => self.properties.push((name.to_string(), v)),
        }
    }

    /// The property of this name (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.properties.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    /// Sets the columns a default table shows.
    pub fn display(mut self, cols: &[&str]) -> Self {
        self.default_display = cols.iter().map(|c| c.to_string()).collect();
        self
    }

    /// What PowerShell's `ToString()` shows for the object: its `Identity`, else `Name`, else the type name.
    fn to_display_string(&self) -> String {
        for key in ["Identity", "Name"] {
            if let Some(v) = self.get(key).filter(|v| !matches!(v, Value::Null)) {
                return v.to_pwsh_string();
            }
        }
        self.type_name.clone()
    }
}

/// Looks a key up in hashtable entries, case-insensitively.
pub(crate) fn hashtable_get<'a>(entries: &'a [(String, Value)], key: &str) -> Option<&'a Value> {
    entries.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
}

impl Value {
    /// PowerShell's ToString-ish rendering used in tables and lists: arrays `{a, b}`, bools `True`/`False`,
    /// dates `1/5/2024 3:04:05 PM`, `$null` as nothing, secure strings as their type name.
    pub fn to_display_string(&self) -> String {
        match self {
            Value::Array(items) => {
                let inner: Vec<String> = items.iter().map(Value::to_display_string).collect();
                format!("{{{}}}", inner.join(", "))
            }
            other => other.to_pwsh_string(),
        }
    }

    /// The conversion PowerShell applies for `"$x"` and `[string]$x`: like [`Value::to_display_string`] but
    /// arrays are joined by single spaces.
    pub fn to_pwsh_string(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Bool(true) => "True".into(),
            Value::Bool(false) => "False".into(),
            Value::Int(i) => i.to_string(),
            Value::String(s) => s.clone(),
            Value::DateTime(d) => d.format("%-m/%-d/%Y %-I:%M:%S %p").to_string(),
            Value::Array(items) => items.iter().map(Value::to_pwsh_string).collect::<Vec<_>>().join(" "),
            Value::Hashtable(entries) => {
                let inner: Vec<String> =
                    entries.iter().map(|(k, v)| format!("{k}={}", v.to_display_string())).collect();
                format!("@{{{}}}", inner.join("; "))
            }
            Value::SecureString(_) => "System.Security.SecureString".into(),
            Value::Object(o) => o.to_display_string(),
            Value::ScriptBlock(b) => b.text.clone(),
        }
    }

    /// PowerShell's truthiness: `$null`, `$false`, `0`, `''` and empty arrays are false; a one-element array
    /// is as true as its element.
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::String(s) => !s.is_empty(),
            Value::Array(items) => match items.as_slice() {
                [] => false,
                [one] => one.is_truthy(),
                _ => true,
            },
            _ => true,
        }
    }

    /// The .NET type name PowerShell would show in a conversion error.
    pub fn type_name(&self) -> &str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "System.Boolean",
            Value::Int(_) => "System.Int64",
            Value::String(_) => "System.String",
            Value::DateTime(_) => "System.DateTime",
            Value::Array(_) => "System.Object[]",
            Value::Hashtable(_) => "System.Collections.Hashtable",
            Value::SecureString(_) => "System.Security.SecureString",
            Value::Object(o) => &o.type_name,
            Value::ScriptBlock(_) => "System.Management.Automation.ScriptBlock",
        }
    }

    /// Member access `$x.Name`: an object's property or hashtable key (case-insensitive), `Count`/`Length` of
    /// arrays and strings, and member enumeration over arrays (the property of every element, flattened).
    pub fn member(&self, name: &str) -> Value {
        match self {
            Value::Object(o) => match o.get(name) {
                Some(v) => v.clone(),
                None if name.eq_ignore_ascii_case("Count") || name.eq_ignore_ascii_case("Length") => Value::Int(1),
                None => Value::Null,
            },
            Value::Hashtable(entries) => match hashtable_get(entries, name) {
                Some(v) => v.clone(),
                None if name.eq_ignore_ascii_case("Count") => Value::Int(len_i64(entries.len())),
                None if name.eq_ignore_ascii_case("Keys") => {
                    Value::Array(entries.iter().map(|(k, _)| Value::String(k.clone())).collect())
                }
                None if name.eq_ignore_ascii_case("Values") => {
                    Value::Array(entries.iter().map(|(_, v)| v.clone()).collect())
                }
                None => Value::Null,
            },
            Value::Array(items) => {
                if name.eq_ignore_ascii_case("Count") || name.eq_ignore_ascii_case("Length") {
                    return Value::Int(len_i64(items.len()));
                }
                let mut out = Vec::new();
                for item in items {
                    match item.member(name) {
                        Value::Null => {}
                        Value::Array(inner) => out.extend(inner),
                        v => out.push(v),
                    }
                }
                match out.len() {
                    0 => Value::Null,
                    1 => out.pop().unwrap_or_default(),
                    _ => Value::Array(out),
                }
            }
            Value::String(s) if name.eq_ignore_ascii_case("Length") => Value::Int(len_i64(s.chars().count())),
            Value::Null => Value::Null,
            _ if name.eq_ignore_ascii_case("Count") => Value::Int(1),
            _ => Value::Null,
        }
    }

    /// The items this value sends down a pipeline: an array's elements, nothing for `$null`, else itself.
    pub fn unroll(self) -> Vec<Value> {
        match self {
            Value::Array(items) => items,
            Value::Null => Vec::new(),
            v => vec![v],
        }
    }

    /// What a pipeline's output becomes when assigned or used as a value: nothing → `$null`, one item → that
    /// item, several → an array.
    pub fn collapse(mut items: Vec<Value>) -> Value {
        match items.len() {
            0 => Value::Null,
            1 => items.pop().unwrap_or_default(),
            _ => Value::Array(items),
        }
    }
}

/// Converts a length to `i64`, saturating (lengths never get near the limit in practice).
pub(crate) fn len_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Value::String(s.clone())
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Value::Int(i64::from(i))
    }
}
impl From<u32> for Value {
    fn from(i: u32) -> Self {
        Value::Int(i64::from(i))
    }
}
impl From<usize> for Value {
    fn from(i: usize) -> Self {
        Value::Int(len_i64(i))
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::Array(v)
    }
}
impl From<Vec<String>> for Value {
    fn from(v: Vec<String>) -> Self {
        Value::Array(v.into_iter().map(Value::String).collect())
    }
}
impl From<Vec<&str>> for Value {
    fn from(v: Vec<&str>) -> Self {
        Value::Array(v.into_iter().map(Value::from).collect())
    }
}
impl From<&[&str]> for Value {
    fn from(v: &[&str]) -> Self {
        Value::Array(v.iter().map(|s| Value::from(*s)).collect())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}
impl From<DateTime<Utc>> for Value {
    fn from(d: DateTime<Utc>) -> Self {
        Value::DateTime(d)
    }
}
impl From<Object> for Value {
    fn from(o: Object) -> Self {
        Value::Object(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_renders_arrays_in_braces_and_bools_capitalised() {
        let v = Value::from(vec!["a", "b"]);
        assert_eq!(v.to_display_string(), "{a, b}");
        assert_eq!(v.to_pwsh_string(), "a b");
        assert_eq!(Value::Bool(true).to_display_string(), "True");
        assert_eq!(Value::Null.to_display_string(), "");
    }

    #[test]
    fn secure_strings_never_show_their_text() {
        let v = Value::SecureString("P@ss".into());
        assert!(!format!("{v:?}").contains("P@ss"));
        assert!(!v.to_display_string().contains("P@ss"));
    }

    #[test]
    fn object_get_is_case_insensitive_and_with_replaces() {
        let o = Object::new("T").with("Name", "a").with("name", "b");
        assert_eq!(o.properties.len(), 1);
        assert_eq!(o.get("NAME"), Some(&Value::from("b")));
    }

    #[test]
    fn member_enumeration_flattens_array_properties() {
        let a = Object::new("T").with("R", vec!["x", "y"]);
        let b = Object::new("T").with("R", "z");
        let v = Value::Array(vec![a.into(), b.into()]);
        assert_eq!(v.member("r"), Value::from(vec!["x", "y", "z"]));
        assert_eq!(v.member("Count"), Value::Int(2));
    }
}
