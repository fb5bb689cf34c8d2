//! Converting argument values to the types parameters declare, with PowerShell's error wording.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::error::Error;
use crate::params::{Arg, MultiValued, ParamInfo, ParamKind};
use crate::value::Value;

/// Converts `value` for parameter `p`.
pub(crate) fn convert(p: &ParamInfo, value: Value) -> Result<Arg, Error> {
    let fail = |reason: String| Error::Conversion { name: p.name.to_string(), reason };
    let cannot =
        |v: &Value, ty: &str| fail(format!("Cannot convert value \"{}\" to type \"{ty}\".", v.to_pwsh_string()));
    match p.kind {
        ParamKind::Switch | ParamKind::Bool => {
            let b = to_bool(&value).ok_or_else(|| cannot(&value, "System.Boolean"))?;
            Ok(if p.kind == ParamKind::Switch { Arg::Switch(b) } else { Arg::Bool(b) })
        }
        ParamKind::Int => to_int(&value).map(Arg::Int).ok_or_else(|| cannot(&value, "System.Int32")),
        ParamKind::String => match value {
            Value::Null if p.mandatory => Err(Error::NullArgument(p.name.to_string())),
            Value::Null => Ok(Arg::String(String::new())),
            v => to_string(p, v).map(Arg::String),
        },
        ParamKind::DateTime => to_date(&value).map(Arg::DateTime).ok_or_else(|| cannot(&value, "System.DateTime")),
        ParamKind::SecureString => match value {
            Value::SecureString(s) => Ok(Arg::SecureString(s)),
            Value::Null if !p.mandatory => Ok(Arg::SecureString(String::new())),
            v => Err(fail(format!(
                "Cannot convert the value of type \"{}\" to type \"System.Security.SecureString\". Pass \
                 (ConvertTo-SecureString -String '...' -AsPlainText -Force).",
                v.type_name()
            ))),
        },
        ParamKind::Strings => strings(p, value).map(Arg::Strings),
        ParamKind::Enum(names) => {
            let items = value.unroll();
            match items.as_slice() {
                [one] => enum_name(p, names, &one.to_pwsh_string()).map(|n| Arg::String(n.to_string())),
                _ => Err(fail(format!(
                    "Cannot convert value \"{}\" to type \"{}\": give exactly one of {}.",
                    Value::Array(items.clone()).to_pwsh_string(),
                    p.name,
                    names.join(", ")
                ))),
            }
        }
        ParamKind::Enums(names) => {
            let mut out: Vec<String> = Vec::new();
            for item in value.unroll() {
                for part in item.to_pwsh_string().split(',') {
                    let name = enum_name(p, names, part.trim())?.to_string();
                    if !out.contains(&name) {
                        out.push(name);
                    }
                }
            }
            Ok(Arg::Strings(out))
        }
        ParamKind::MultiValued => multi(p, value).map(Arg::Multi),
        ParamKind::ScriptBlock => match value {
            v @ Value::ScriptBlock(_) => Ok(Arg::Any(v)),
            v => Err(cannot(&v, "System.Management.Automation.ScriptBlock")),
        },
        ParamKind::Any => Ok(Arg::Any(value)),
    }
}

/// The listed spelling of `given` among `names` (case-insensitive).
fn enum_name(p: &ParamInfo, names: &'static [&'static str], given: &str) -> Result<&'static str, Error> {
    names.iter().copied().find(|n| n.eq_ignore_ascii_case(given)).ok_or_else(|| Error::Conversion {
        name: p.name.to_string(),
        reason: format!(
            "Cannot convert value \"{given}\" to type \"{}\". Error: \"Unable to match the identifier name {given} \
             to a valid enumerator name. Specify one of the following enumerator names and try again: {}\"",
            p.name,
            names.join(", ")
        ),
    })
}

fn to_string(p: &ParamInfo, value: Value) -> Result<String, Error> {
    let unsupported = |v: &Value| Error::Conversion {
        name: p.name.to_string(),
        reason: format!(
            "Cannot convert '{}' to the type 'System.String' required by parameter '{}'. Specified method is not \
             supported.",
            v.type_name(),
            p.name
        ),
    };
    match value {
        Value::String(s) => Ok(s),
        Value::Array(mut items) if items.len() == 1 => to_string(p, items.remove(0)),
        Value::Object(ref o) if o.get("Identity").is_none() && o.get("Name").is_none() => Err(unsupported(&value)),
        v @ (Value::Array(_) | Value::Hashtable(_) | Value::SecureString(_) | Value::ScriptBlock(_)) => {
            Err(unsupported(&v))
        }
        v => Ok(v.to_pwsh_string()),
    }
}

fn strings(p: &ParamInfo, value: Value) -> Result<Vec<String>, Error> {
    value.unroll().into_iter().map(|v| to_string(p, v)).collect()
}

fn multi(p: &ParamInfo, value: Value) -> Result<MultiValued, Error> {
    match value {
        Value::Null => Ok(MultiValued::Clear),
        Value::Hashtable(entries) => {
            let mut add = Vec::new();
            let mut remove = Vec::new();
            for (key, v) in entries {
                let list = strings(p, v)?;
                if key.eq_ignore_ascii_case("Add") || key == "+" {
                    add.extend(list);
                } else if key.eq_ignore_ascii_case("Remove") || key == "-" {
                    remove.extend(list);
                } else {
                    return Err(Error::Conversion {
                        name: p.name.to_string(),
                        reason: format!(
                            "The hashtable key '{key}' is not valid here: use @{{Add=\"value\"}} or \
                             @{{Remove=\"value\"}}."
                        ),
                    });
                }
            }
            Ok(MultiValued::Modify { add, remove })
        }
        v => strings(p, v).map(MultiValued::Replace),
    }
}

/// `$true`/`$false`, numbers (non-zero is true), and the words `true`/`false`.
pub(crate) fn to_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Int(i) => Some(*i != 0),
        Value::String(s) if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("$true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") || s.eq_ignore_ascii_case("$false") => Some(false),
        Value::Array(items) if items.len() == 1 => items.first().and_then(to_bool),
        _ => None,
    }
}

/// Integers and strings holding integers.
pub(crate) fn to_int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Bool(b) => Some(i64::from(*b)),
        Value::String(s) => s.trim().parse().ok(),
        Value::Array(items) if items.len() == 1 => items.first().and_then(to_int),
        _ => None,
    }
}

/// Dates, and strings in ISO 8601 or US (`M/d/yyyy [h:mm:ss [AM|PM]]`) form, taken as UTC:
/// what a `DateTime` parameter accepts, for hosts reading dates inside hashtables.
pub fn to_date(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::DateTime(d) => Some(*d),
        Value::String(s) => parse_date(s.trim()),
        Value::Array(items) if items.len() == 1 => items.first().and_then(to_date),
        _ => None,
    }
}

fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    const DATE_TIMES: [&str; 6] = [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%m/%d/%Y %H:%M:%S",
        "%m/%d/%Y %I:%M:%S %p",
        "%m/%d/%Y %H:%M",
    ];
    for f in DATE_TIMES {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, f) {
            return Some(d.and_utc());
        }
    }
    for f in ["%Y-%m-%d", "%m/%d/%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return d.and_hms_opt(0, 0, 0).map(|d| d.and_utc());
        }
    }
    None
}
