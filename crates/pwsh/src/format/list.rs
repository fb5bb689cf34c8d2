//! `Format-List`: `Name : Value` lines with the colons aligned, objects separated by blank lines.

use super::{cell, expand_columns, property_names};
use crate::value::Value;

/// Renders each value as a list of these properties (wildcards allowed; empty = all properties).
pub(crate) fn list(values: &[Value], properties: &[String]) -> String {
    let mut blocks = Vec::new();
    for v in values {
        if !matches!(v, Value::Object(_) | Value::Hashtable(_)) {
            blocks.push(v.to_pwsh_string());
            continue;
        }
        let available = property_names(v);
        let names = if properties.is_empty() { available } else { expand_columns(&available, properties) };
        let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
        let lines: Vec<String> =
            names.iter().map(|n| format!("{n:<width$} : {}", cell(&v.member(n))).trim_end().to_string()).collect();
        blocks.push(lines.join("\n"));
    }
    blocks.join("\n\n")
}
