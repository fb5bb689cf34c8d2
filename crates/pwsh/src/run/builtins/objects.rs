//! `Where-Object`, `ForEach-Object`, `Select-Object`, `Sort-Object`, `Measure-Object`.

use super::WHERE_OPERATORS;
use crate::bind::Common;
use crate::format::{expand_columns, property_names};
use crate::params::Invocation;
use crate::run::compare::{compare, sort_order};
use crate::run::exec::{Exec, Flow};
use crate::syntax::{CompareOp, ScriptBlock};
use crate::value::{Object, Value, hashtable_get, len_i64};

/// Runs a block for one item; an evaluation error is reported for that item only (non-terminating).
async fn block_for_item(
    exec: &mut Exec<'_>,
    command: &str,
    block: &ScriptBlock,
    item: Option<Value>,
    common: Common,
) -> Result<Option<Vec<Value>>, Flow> {
    match exec.run_block(block, item).await {
        Ok(out) => Ok(Some(out)),
        Err(Flow::Statement(e)) => {
            exec.report(format!("{command} : {e}"), common.error_action)?;
            Ok(None)
        }
        Err(stop) => Err(stop),
    }
}

fn script_block(call: &Invocation, name: &str) -> Option<ScriptBlock> {
    match call.value(name) {
        Some(Value::ScriptBlock(b)) => Some(b.clone()),
        _ => None,
    }
}

pub(super) async fn where_object(
    exec: &mut Exec<'_>,
    call: &Invocation,
    common: Common,
    items: Vec<Value>,
) -> Result<Vec<Value>, Flow> {
    let mut kept = Vec::new();
    if let Some(block) = script_block(call, "FilterScript") {
        for item in items {
            if let Some(out) = block_for_item(exec, call.command, &block, Some(item.clone()), common).await?
                && Value::collapse(out).is_truthy()
            {
                kept.push(item);
            }
        }
        return Ok(kept);
    }
    let property = call.string("Property").unwrap_or_default();
    let operators: Vec<&str> = WHERE_OPERATORS.iter().copied().filter(|op| call.switch(op)).collect();
    let operator = match operators.as_slice() {
        [] => None,
        [one] => {
            let lower = one.to_ascii_lowercase();
            let (case_sensitive, word) = match CompareOp::from_word(&lower) {
                Some(_) => (false, lower.as_str()),
                None => (true, &lower[1..]),
            };
            CompareOp::from_word(word).map(|op| (op, case_sensitive))
        }
        many => {
            let message = format!(
                "{} : Give only one comparison operator; got {}.",
                call.command,
                many.iter().map(|o| format!("-{o}")).collect::<Vec<_>>().join(" ")
            );
            exec.report(message, common.error_action)?;
            return Ok(Vec::new());
        }
    };
    let value = call.value("Value").cloned().unwrap_or(Value::Bool(true));
    for item in items {
        let left = item.member(property);
        let keep = match operator {
            None => left.is_truthy(),
            Some((op, cs)) => match compare(op, cs, &left, &value) {
                Ok(v) => v.is_truthy(),
                Err(e) => {
                    exec.report(format!("{} : {e}", call.command), common.error_action)?;
                    false
                }
            },
        };
        if keep {
            kept.push(item);
        }
    }
    Ok(kept)
}

pub(super) async fn foreach_object(
    exec: &mut Exec<'_>,
    call: &Invocation,
    common: Common,
    items: Vec<Value>,
) -> Result<Vec<Value>, Flow> {
    let mut out = Vec::new();
    if let Some(member) = call.string("MemberName") {
        for item in items {
            out.extend(item.member(member).unroll());
        }
        return Ok(out);
    }
    if let Some(begin) = script_block(call, "Begin") {
        out.extend(block_for_item(exec, call.command, &begin, None, common).await?.unwrap_or_default());
    }
    if let Some(process) = script_block(call, "Process") {
        for item in items {
            out.extend(block_for_item(exec, call.command, &process, Some(item), common).await?.unwrap_or_default());
        }
    }
    if let Some(end) = script_block(call, "End") {
        out.extend(block_for_item(exec, call.command, &end, None, common).await?.unwrap_or_default());
    }
    Ok(out)
}

/// One entry of `Select-Object -Property`: a name (wildcards allowed) or a calculated property.
enum Selector {
    Name(String),
    Calculated { name: String, expression: Value },
}

fn selectors(v: Option<&Value>) -> Result<Vec<Selector>, String> {
    let mut out = Vec::new();
    for item in v.cloned().map(Value::unroll).unwrap_or_default() {
        match item {
            Value::Hashtable(h) => {
                let find = |keys: &[&str]| keys.iter().find_map(|k| hashtable_get(&h, k).cloned());
                let expression = find(&["Expression", "e"])
                    .ok_or("A calculated property needs an Expression key: @{Name='X'; Expression={ $_.Y }}.")?;
                let name = find(&["Name", "n", "Label", "l"])
                    .map(|n| n.to_pwsh_string())
                    .unwrap_or_else(|| expression.to_pwsh_string());
                out.push(Selector::Calculated { name, expression });
            }
            other => out.push(Selector::Name(other.to_pwsh_string())),
        }
    }
    Ok(out)
}

pub(super) async fn select_object(
    exec: &mut Exec<'_>,
    call: &Invocation,
    common: Common,
    mut items: Vec<Value>,
) -> Result<Vec<Value>, Flow> {
    let count = |name: &str| call.int(name).map(|n| usize::try_from(n.max(0)).unwrap_or(usize::MAX));
    if let Some(skip) = count("Skip") {
        items.drain(..skip.min(items.len()));
    }
    if let Some(first) = count("First") {
        items.truncate(first);
    }
    if let Some(last) = count("Last") {
        items.drain(..items.len().saturating_sub(last));
    }
    let selectors = match selectors(call.value("Property")) {
        Ok(s) => s,
        Err(e) => {
            exec.report(format!("{} : {e}", call.command), common.error_action)?;
            return Ok(Vec::new());
        }
    };
    let exclude: Vec<String> = call.strings("ExcludeProperty").map(<[String]>::to_vec).unwrap_or_default();
    let mut out = Vec::new();
    for item in items {
        let mut selected = if selectors.is_empty() {
            item.clone()
        } else {
            let mut o = Object::new(&format!("Selected.{}", item.type_name()));
            let available = property_names(&item);
            for s in &selectors {
                match s {
                    Selector::Name(pattern) => {
                        for name in expand_columns(&available, std::slice::from_ref(pattern)) {
                            o.set(&name, item.member(&name));
                        }
                    }
                    Selector::Calculated { name, expression: Value::ScriptBlock(b) } => {
                        let v = block_for_item(exec, call.command, b, Some(item.clone()), common).await?;
                        o.set(name, Value::collapse(v.unwrap_or_default()));
                    }
                    Selector::Calculated { name, expression } => {
                        o.set(name, item.member(&expression.to_pwsh_string()));
                    }
                }
            }
            Value::Object(o)
        };
        if let Value::Object(o) = &mut selected
            && !exclude.is_empty()
        {
            o.properties.retain(|(n, _)| !exclude.iter().any(|e| crate::run::wildcard_match(e, n, false)));
        }
        match call.string("ExpandProperty") {
            Some(name) => match item_property(&selected, &item, name) {
                Some(v) => out.extend(v.unroll()),
                None => exec
                    .report(format!("{} : Property \"{name}\" cannot be found.", call.command), common.error_action)?,
            },
            None => out.push(selected),
        }
    }
    if call.switch("Unique") {
        let mut unique: Vec<Value> = Vec::new();
        for v in out {
            if !unique.contains(&v) {
                unique.push(v);
            }
        }
        out = unique;
    }
    Ok(out)
}

/// `-ExpandProperty`'s value: from the original object (PowerShell expands from the input, not the selection).
fn item_property(_selected: &Value, item: &Value, name: &str) -> Option<Value> {
    match item {
        Value::Object(o) => o.get(name).cloned(),
        Value::Hashtable(h) => hashtable_get(h, name).cloned(),
        other => match other.member(name) {
            Value::Null => None,
            v => Some(v),
        },
    }
}

pub(super) async fn sort_object(
    exec: &mut Exec<'_>,
    call: &Invocation,
    common: Common,
    items: Vec<Value>,
) -> Result<Vec<Value>, Flow> {
    let keys_spec: Vec<Value> = call.value("Property").cloned().map(Value::unroll).unwrap_or_default();
    let mut keyed: Vec<(Vec<Value>, Value)> = Vec::with_capacity(items.len());
    for item in items {
        let mut keys = Vec::new();
        if keys_spec.is_empty() {
            keys.push(item.clone());
        }
        for spec in &keys_spec {
            keys.push(match spec {
                Value::ScriptBlock(b) => {
                    let v = block_for_item(exec, call.command, b, Some(item.clone()), common).await?;
                    Value::collapse(v.unwrap_or_default())
                }
                other => item.member(&other.to_pwsh_string()),
            });
        }
        keyed.push((keys, item));
    }
    let cmp = |a: &Vec<Value>, b: &Vec<Value>| {
        a.iter().zip(b).map(|(x, y)| sort_order(x, y)).find(|o| o.is_ne()).unwrap_or(std::cmp::Ordering::Equal)
    };
    if call.switch("Descending") {
        keyed.sort_by(|a, b| cmp(&b.0, &a.0));
    } else {
        keyed.sort_by(|a, b| cmp(&a.0, &b.0));
    }
    if call.switch("Unique") {
        keyed.dedup_by(|b, a| cmp(&a.0, &b.0).is_eq());
    }
    Ok(keyed.into_iter().map(|(_, v)| v).collect())
}

pub(super) fn measure_object(call: &Invocation, items: &[Value]) -> Value {
    let property = call.strings("Property").and_then(|p| p.first().cloned());
    let values: Vec<Value> = match &property {
        Some(p) => items.iter().map(|i| i.member(p)).filter(|v| !matches!(v, Value::Null)).collect(),
        None => items.to_vec(),
    };
    let numbers: Vec<i64> = values.iter().filter_map(crate::bind::to_int).collect();
    let when = |name: &str, v: Value| if call.switch(name) { v } else { Value::Null };
    let sum: i64 = numbers.iter().fold(0i64, |acc, n| acc.saturating_add(*n));
    let average = if numbers.is_empty() {
        Value::Null
    } else {
        #[expect(clippy::cast_precision_loss, reason = "an average is shown, not computed with")]
        let avg = sum as f64 / numbers.len() as f64;
        Value::String(avg.to_string())
    };
    let max = values.iter().max_by(|a, b| sort_order(a, b)).cloned().unwrap_or_default();
    let min = values.iter().min_by(|a, b| sort_order(a, b)).cloned().unwrap_or_default();
    Value::Object(
        Object::new("Microsoft.PowerShell.Commands.GenericMeasureInfo")
            .with("Count", len_i64(values.len()))
            .with("Average", when("Average", average))
            .with("Sum", when("Sum", Value::Int(sum)))
            .with("Maximum", when("Maximum", max))
            .with("Minimum", when("Minimum", min))
            .with("Property", property),
    )
}
