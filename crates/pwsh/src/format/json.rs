//! `ConvertTo-Json` as PowerShell 7 writes it: two-space indentation, properties in order, dates in ISO 8601,
//! and containers nested deeper than `-Depth` replaced by their string form.

use chrono::SecondsFormat;

use crate::value::Value;

/// Serializes `value`; the flag is true when something deeper than `max_depth` was cut to a string.
pub(crate) fn to_json(value: &Value, max_depth: usize, compress: bool) -> (String, bool) {
    let mut w = Writer { out: String::new(), compress, max_depth, truncated: false };
    w.value(value, 0, 0);
    (w.out, w.truncated)
}

struct Writer {
    out: String,
    compress: bool,
    max_depth: usize,
    truncated: bool,
}

impl Writer {
    fn string(&mut self, s: &str) {
        // serde_json's escaping matches JSON's rules exactly; it cannot fail for a &str.
        self.out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()));
    }

    fn newline(&mut self, indent: usize) {
        if !self.compress {
            self.out.push('\n');
            self.out.push_str(&"  ".repeat(indent));
        }
    }

    fn value(&mut self, v: &Value, depth: usize, indent: usize) {
        let container = matches!(v, Value::Array(_) | Value::Hashtable(_) | Value::Object(_));
        if container && depth > self.max_depth {
            self.truncated = true;
            return self.string(&v.to_pwsh_string());
        }
        match v {
            Value::Null => self.out.push_str("null"),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => self.out.push_str(&i.to_string()),
            Value::String(s) => self.string(s),
            Value::DateTime(d) => self.string(&d.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            Value::SecureString(_) => self.string("System.Security.SecureString"),
            Value::ScriptBlock(b) => self.string(&b.text),
            Value::Array(items) => {
                if items.is_empty() {
                    return self.out.push_str("[]");
                }
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.newline(indent + 1);
                    self.value(item, depth + 1, indent + 1);
                }
                self.newline(indent);
                self.out.push(']');
            }
            Value::Hashtable(entries) => self.object(entries, depth, indent),
            Value::Object(o) => self.object(&o.properties, depth, indent),
        }
    }

    fn object(&mut self, entries: &[(String, Value)], depth: usize, indent: usize) {
        if entries.is_empty() {
            return self.out.push_str("{}");
        }
        self.out.push('{');
        for (i, (k, v)) in entries.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.newline(indent + 1);
            self.string(k);
            self.out.push_str(if self.compress { ":" } else { ": " });
            self.value(v, depth + 1, indent + 1);
        }
        self.newline(indent);
        self.out.push('}');
    }
}
