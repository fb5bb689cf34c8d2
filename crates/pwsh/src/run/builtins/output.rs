//! `Format-Table`, `Format-List`, `ConvertTo-Json`, `ConvertTo-SecureString`, `Write-Output`, `Write-Host`.

use crate::bind::Common;
use crate::format::{self, expand_columns, property_names};
use crate::params::Invocation;
use crate::run::exec::{Exec, Flow};
use crate::value::Value;

/// `ConvertTo-Json`'s default `-Depth`, as in PowerShell.
pub(crate) const DEFAULT_JSON_DEPTH: usize = 2;
/// PowerShell's maximum `-Depth`.
const MAX_JSON_DEPTH: i64 = 100;

/// PowerShell's warning when `-Depth` cut the output.
pub(crate) fn json_truncated_warning(depth: usize) -> String {
    format!("WARNING: Resulting JSON is truncated as serialization has exceeded the set depth of {depth}.")
}

fn requested_columns(call: &Invocation) -> Vec<String> {
    call.strings("Property").map(<[String]>::to_vec).unwrap_or_default()
}

pub(super) fn format_table(call: &Invocation, items: &[Value]) -> Vec<Value> {
    let Some(first) = items.first() else { return Vec::new() };
    let requested = requested_columns(call);
    let columns = if !requested.is_empty() {
        expand_columns(&property_names(first), &requested)
    } else {
        match first {
            Value::Object(o) if !o.default_display.is_empty() => o.default_display.clone(),
            other => property_names(other),
        }
    };
    vec![Value::String(format::table(items, &columns, call.switch("HideTableHeaders")))]
}

pub(super) fn format_list(call: &Invocation, items: &[Value]) -> Vec<Value> {
    if items.is_empty() {
        return Vec::new();
    }
    vec![Value::String(format::list(items, &requested_columns(call)))]
}

pub(super) fn convert_to_json(
    exec: &mut Exec<'_>,
    call: &Invocation,
    common: Common,
    items: Vec<Value>,
) -> Result<Vec<Value>, Flow> {
    let depth = call.int("Depth").unwrap_or(2);
    if !(0..=MAX_JSON_DEPTH).contains(&depth) {
        let message = format!(
            "{} : Cannot validate argument on parameter 'Depth'. The {depth} argument is not in the range 0 to \
             {MAX_JSON_DEPTH}.",
            call.command
        );
        exec.report(message, common.error_action)?;
        return Ok(Vec::new());
    }
    let depth = usize::try_from(depth).unwrap_or(DEFAULT_JSON_DEPTH);
    let value = match call.value("InputObject") {
        Some(v) if items.is_empty() => v.clone(),
        _ if items.is_empty() => return Ok(Vec::new()),
        _ if items.len() == 1 && !call.switch("AsArray") => items.into_iter().next().unwrap_or_default(),
        _ => Value::Array(items),
    };
    let value = match value {
        Value::Array(_) => value,
        v if call.switch("AsArray") => Value::Array(vec![v]),
        v => v,
    };
    let (text, truncated) = format::to_json(&value, depth, call.switch("Compress"));
    if truncated {
        let w = json_truncated_warning(depth);
        exec.warn(w.trim_start_matches("WARNING: ").to_string(), common.warning_action)?;
    }
    Ok(vec![Value::String(text)])
}

pub(super) fn convert_to_secure_string(
    exec: &mut Exec<'_>,
    call: &Invocation,
    common: Common,
    items: Vec<Value>,
) -> Result<Vec<Value>, Flow> {
    if !call.switch("AsPlainText") {
        let message = format!(
            "{} : This shell converts only plain text: add -AsPlainText -Force, e.g. (ConvertTo-SecureString \
             -String 'P@ssw0rd1' -AsPlainText -Force).",
            call.command
        );
        exec.report(message, common.error_action)?;
        return Ok(Vec::new());
    }
    let mut texts: Vec<String> = call.string("String").map(str::to_string).into_iter().collect();
    texts.extend(items.iter().map(Value::to_pwsh_string));
    if texts.is_empty() {
        let message = format!(
            "{} : Cannot process command because of one or more missing mandatory parameters: String.",
            call.command
        );
        exec.report(message, common.error_action)?;
    }
    Ok(texts.into_iter().map(Value::SecureString).collect())
}

pub(super) fn write_output(call: &Invocation, items: Vec<Value>) -> Vec<Value> {
    let mut out = items;
    if let Some(v) = call.value("InputObject") {
        if call.switch("NoEnumerate") {
            out.push(v.clone());
        } else {
            out.extend(v.clone().unroll());
        }
    }
    out
}

pub(super) fn write_host(exec: &mut Exec<'_>, call: &Invocation, items: &[Value]) {
    let separator = call.string("Separator").unwrap_or(" ");
    let join = |v: &Value| match v {
        Value::Array(a) => a.iter().map(Value::to_pwsh_string).collect::<Vec<_>>().join(separator),
        other => other.to_pwsh_string(),
    };
    let mut text: Vec<String> = call.value("Object").map(join).into_iter().collect();
    text.extend(items.iter().map(join));
    let line = text.join(separator);
    match exec.console.last_mut() {
        Some(last) if last.ends_with('\u{0}') => {
            last.pop();
            last.push_str(&line);
        }
        _ => exec.console.push(line),
    }
    if call.switch("NoNewline")
        && let Some(last) = exec.console.last_mut()
    {
        // A marker so the next Write-Host continues this line; removed when it does.
        last.push('\u{0}');
    }
}
