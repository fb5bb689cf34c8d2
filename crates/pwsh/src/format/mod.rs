//! Output formatting: `Out-Default` (what a statement shows), tables, lists and JSON, shaped like
//! PowerShell's.

mod json;
mod list;
mod table;

pub(crate) use json::to_json;
pub(crate) use list::list;
pub(crate) use table::table;

use crate::value::{Object, Value};

/// The property names of a value, in order (objects and hashtables; nothing for scalars).
pub(crate) fn property_names(v: &Value) -> Vec<String> {
    match v {
        Value::Object(o) => o.properties.iter().map(|(n, _)| n.clone()).collect(),
        Value::Hashtable(h) => h.iter().map(|(n, _)| n.clone()).collect(),
        _ => Vec::new(),
    }
}

/// Expands a property list (names or wildcards such as `*` and `Access*`) against the names a value has.
pub(crate) fn expand_columns(available: &[String], patterns: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for pattern in patterns {
        if pattern.contains(['*', '?', '[']) {
            for name in available {
                if crate::run::wildcard_match(pattern, name, false) && !out.contains(name) {
                    out.push(name.clone());
                }
            }
        } else if !out.iter().any(|n| n.eq_ignore_ascii_case(pattern)) {
            let name = available.iter().find(|n| n.eq_ignore_ascii_case(pattern)).unwrap_or(pattern);
            out.push(name.clone());
        }
    }
    out
}

/// How `Out-Default` shows objects when no format is asked for: the type's default columns as a table;
/// otherwise more than four properties as a list, else a table.
fn default_view(o: &Object) -> (bool, Vec<String>) {
    if !o.default_display.is_empty() {
        return (true, o.default_display.clone());
    }
    let names: Vec<String> = o.properties.iter().map(|(n, _)| n.clone()).collect();
    (names.len() <= 4, names)
}

enum Block<'a> {
    Lines(Vec<String>),
    Objects(Vec<&'a Value>),
}

/// Renders a statement's output as PowerShell's `Out-Default` would: scalars one per line, runs of objects of
/// one type as one table or list, hashtables as Name/Value tables; blocks separated by blank lines.
pub(crate) fn out_default(values: &[Value]) -> String {
    let mut blocks: Vec<Block<'_>> = Vec::new();
    let mut flat: Vec<&Value> = Vec::new();
    flatten(values, &mut flat);
    for v in flat {
        match v {
            Value::Null => {}
            Value::Object(o) => {
                if let Some(Block::Objects(list)) = blocks.last_mut()
                    && let Some(Value::Object(first)) = list.first()
                    && first.type_name == o.type_name
                    && first.default_display == o.default_display
                {
                    list.push(v);
                    continue;
                }
                blocks.push(Block::Objects(vec![v]));
            }
            Value::Hashtable(_) => blocks.push(Block::Objects(vec![v])),
            other => {
                let text = other.to_pwsh_string();
                if let Some(Block::Lines(lines)) = blocks.last_mut() {
                    lines.push(text);
                } else {
                    blocks.push(Block::Lines(vec![text]));
                }
            }
        }
    }
    let mut out = String::new();
    let mut previous_was_lines = None;
    for block in &blocks {
        let (text, is_lines) = match block {
            Block::Lines(lines) => (lines.join("\n"), true),
            Block::Objects(list) => (render_objects(list), false),
        };
        match previous_was_lines {
            None => {}
            Some(true) if is_lines => out.push('\n'),
            Some(_) => out.push_str("\n\n"),
        }
        out.push_str(&text);
        previous_was_lines = Some(is_lines);
    }
    out
}

fn flatten<'a>(values: &'a [Value], out: &mut Vec<&'a Value>) {
    for v in values {
        match v {
            Value::Array(items) => flatten(items, out),
            other => out.push(other),
        }
    }
}

fn render_objects(list: &[&Value]) -> String {
    match list.first() {
        Some(Value::Hashtable(h)) => {
            let rows: Vec<Value> = h
                .iter()
                .map(|(k, v)| {
                    Value::Object(Object::new("DictionaryEntry").with("Name", k.as_str()).with("Value", v.clone()))
                })
                .collect();
            table(&rows, &["Name".to_string(), "Value".to_string()], false)
        }
        Some(Value::Object(o)) => {
            let (as_table, columns) = default_view(o);
            let owned: Vec<Value> = list.iter().map(|v| (*v).clone()).collect();
            if as_table { table(&owned, &columns, false) } else { list::list(&owned, &columns) }
        }
        _ => String::new(),
    }
}

/// The text of one table or list cell.
pub(crate) fn cell(v: &Value) -> String {
    v.to_display_string().replace(['\r', '\n'], " ")
}
