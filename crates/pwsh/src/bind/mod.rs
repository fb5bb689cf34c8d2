//! Parameter binding: names (exact, alias or unique prefix), positions, parameter sets and pipeline input.
//!
//! Binding happens in two steps, as in PowerShell: [`bind_named`] once per pipeline stage (unknown or
//! duplicate names are errors for the whole statement), then [`complete`] once per invocation (positional
//! arguments and the piped object, which depend on the chosen parameter set).

mod convert;

use std::collections::BTreeMap;

pub use convert::to_date;
pub(crate) use convert::{to_bool, to_int};

use crate::error::Error;
use crate::params::{Arg, CommandInfo, ParamInfo, ParamKind};
use crate::value::Value;

/// An argument as evaluated, before binding.
#[derive(Debug, Clone)]
pub(crate) enum RawArg {
    /// `-Name` or `-Name:value`.
    Named { typed: String, value: Option<Value> },
    /// A value not attached to a name.
    Positional(Value),
}

/// What to do with errors or warnings (`-ErrorAction`, `-WarningAction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Action {
    #[default]
    Continue,
    SilentlyContinue,
    Stop,
}

/// How a statement's output is shown (`-OutputFormat`, spec §7.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputFormat {
    Json,
    Table,
    List,
}

/// The common parameters every command accepts.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Common {
    pub what_if: bool,
    pub error_action: Action,
    pub warning_action: Action,
    pub output_format: Option<OutputFormat>,
}

const ACTIONS: &[&str] = &["Continue", "SilentlyContinue", "Stop", "Ignore", "Inquire", "Suspend", "Break"];

const COMMON: [ParamInfo; 7] = [
    ParamInfo::new("Confirm", ParamKind::Switch).aliases(&["cf"]),
    ParamInfo::new("WhatIf", ParamKind::Switch).aliases(&["wi"]),
    ParamInfo::new("Verbose", ParamKind::Switch).aliases(&["vb"]),
    ParamInfo::new("Debug", ParamKind::Switch).aliases(&["db"]),
    ParamInfo::new("ErrorAction", ParamKind::Enum(ACTIONS)).aliases(&["ea"]),
    ParamInfo::new("WarningAction", ParamKind::Enum(ACTIONS)).aliases(&["wa"]),
    ParamInfo::new("OutputFormat", ParamKind::Enum(&["Json", "Table", "List"])),
];

/// The result of binding names: converted named arguments, the rest in order, and the common parameters.
#[derive(Debug, Clone, Default)]
pub(crate) struct Bound {
    pub named: BTreeMap<&'static str, Arg>,
    pub positional: Vec<Value>,
    pub common: Common,
}

/// Finds the parameter `typed` names: exact name or alias first, then a unique prefix of a name.
fn resolve<'a>(info: &'a CommandInfo, typed: &str) -> Result<(&'a ParamInfo, bool), Error> {
    let all = || info.params.iter().map(|p| (p, false)).chain(COMMON.iter().map(|p| (p, true)));
    let exact = |(p, _): &(&ParamInfo, bool)| {
        p.name.eq_ignore_ascii_case(typed) || p.aliases.iter().any(|a| a.eq_ignore_ascii_case(typed))
    };
    if let Some(found) = all().find(exact) {
        return Ok(found);
    }
    let lower = typed.to_lowercase();
    let mut matches: Vec<(&ParamInfo, bool)> = Vec::new();
    for (p, common) in all() {
        if p.name.to_lowercase().starts_with(&lower) && !matches.iter().any(|(m, _)| m.name == p.name) {
            matches.push((p, common));
        }
    }
    match matches.as_slice() {
        [] => Err(Error::ParameterNotFound(typed.to_string())),
        [one] => Ok(*one),
        many => Err(Error::AmbiguousParameter {
            name: typed.to_string(),
            candidates: many.iter().map(|(p, _)| format!("-{}", p.name)).collect::<Vec<_>>().join(" "),
        }),
    }
}

/// Resolves and converts named arguments; a non-switch parameter takes the next argument as its value.
pub(crate) fn bind_named(info: &CommandInfo, raw: Vec<RawArg>) -> Result<Bound, Error> {
    let mut bound = Bound::default();
    let mut seen: Vec<&'static str> = Vec::new();
    let mut iter = raw.into_iter().peekable();
    while let Some(arg) = iter.next() {
        let (typed, value) = match arg {
            RawArg::Positional(v) => {
                bound.positional.push(v);
                continue;
            }
            RawArg::Named { typed, value } => (typed, value),
        };
        let (p, common) = resolve(info, &typed)?;
        if seen.contains(&p.name) {
            return Err(Error::DuplicateParameter(p.name.to_string()));
        }
        seen.push(p.name);
        let arg = match (p.kind, value) {
            (ParamKind::Switch, None) => Arg::Switch(true),
            (_, Some(v)) => convert::convert(p, v)?,
            (_, None) => match iter.next_if(|a| matches!(a, RawArg::Positional(_))) {
                Some(RawArg::Positional(v)) => convert::convert(p, v)?,
                _ => {
                    return Err(Error::MissingArgument {
                        name: p.name.to_string(),
                        type_name: p.kind.type_name().to_string(),
                    });
                }
            },
        };
        if common {
            apply_common(&mut bound.common, p.name, &arg);
        } else {
            bound.named.insert(p.name, arg);
        }
    }
    Ok(bound)
}

fn apply_common(common: &mut Common, name: &str, arg: &Arg) {
    let action = |s: &str| match s {
        "SilentlyContinue" | "Ignore" => Action::SilentlyContinue,
        "Stop" => Action::Stop,
        _ => Action::Continue,
    };
    match (name, arg) {
        ("WhatIf", Arg::Switch(b)) => common.what_if = *b,
        ("ErrorAction", Arg::String(s)) => common.error_action = action(s),
        ("WarningAction", Arg::String(s)) => common.warning_action = action(s),
        ("OutputFormat", Arg::String(s)) => {
            common.output_format = Some(match s.as_str() {
                "Json" => OutputFormat::Json,
                "List" => OutputFormat::List,
                _ => OutputFormat::Table,
            })
        }
        // -Confirm is accepted and ignored: this shell never prompts. -Verbose and -Debug add nothing.
        _ => {}
    }
}

/// Completes binding for one invocation: picks the first parameter set that contains every named parameter
/// and accepts the positional arguments and piped object, then checks that set's mandatory parameters.
pub(crate) fn complete(
    info: &CommandInfo,
    bound: &Bound,
    input: Option<&Value>,
) -> Result<BTreeMap<&'static str, Arg>, Error> {
    let sets: Vec<Vec<&ParamInfo>> = if info.parameter_sets.is_empty() {
        vec![info.params.iter().collect()]
    } else {
        info.parameter_sets
            .iter()
            .map(|names| info.params.iter().filter(|p| names.iter().any(|n| n.eq_ignore_ascii_case(p.name))).collect())
            .collect()
    };
    let candidates: Vec<&Vec<&ParamInfo>> =
        sets.iter().filter(|set| bound.named.keys().all(|k| set.iter().any(|p| p.name == *k))).collect();
    if candidates.is_empty() {
        return Err(Error::ParameterSetNotResolved);
    }
    // A set missing a mandatory parameter is passed over, not an error, while a later set may still fit
    // (Exchange lists `Get-MailboxPermission`'s Owner set, which needs -Owner, before the usual one).
    let mut first_error = None;
    for set in candidates {
        match bind_set(set, bound, input) {
            Ok(args) => {
                let missing: Vec<&str> =
                    set.iter().filter(|p| p.mandatory && !args.contains_key(p.name)).map(|p| p.name).collect();
                if missing.is_empty() {
                    return Ok(args);
                }
                first_error.get_or_insert(Error::MissingMandatory(missing.join(", ")));
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or(Error::ParameterSetNotResolved))
}

fn bind_set(set: &[&ParamInfo], bound: &Bound, input: Option<&Value>) -> Result<BTreeMap<&'static str, Arg>, Error> {
    let mut args = bound.named.clone();
    let mut positional: Vec<&ParamInfo> =
        set.iter().copied().filter(|p| p.position.is_some() && !args.contains_key(p.name)).collect();
    positional.sort_by_key(|p| p.position);
    let mut slots = positional.into_iter();
    for v in &bound.positional {
        let Some(p) = slots.next() else {
            return Err(Error::PositionalNotFound(v.to_pwsh_string()));
        };
        args.insert(p.name, convert::convert(p, v.clone())?);
    }
    if let Some(input) = input {
        bind_input(set, &mut args, input)?;
    }
    Ok(args)
}

/// Binds a piped object: whole (by value) to the first parameter that accepts it, else its properties to
/// parameters of the same name or alias (by property name).
fn bind_input(set: &[&ParamInfo], args: &mut BTreeMap<&'static str, Arg>, input: &Value) -> Result<(), Error> {
    for p in set.iter().filter(|p| p.from_pipeline_by_value && !args.contains_key(p.name)) {
        if let Ok(arg) = convert::convert(p, input.clone()) {
            args.insert(p.name, arg);
            return Ok(());
        }
    }
    let mut any = false;
    if matches!(input, Value::Object(_) | Value::Hashtable(_)) {
        let unbound: Vec<&ParamInfo> =
            set.iter().copied().filter(|p| p.from_pipeline_by_property_name && !args.contains_key(p.name)).collect();
        for p in unbound {
            let found = std::iter::once(p.name).chain(p.aliases.iter().copied()).find_map(|n| match input {
                Value::Object(o) => o.get(n).cloned(),
                Value::Hashtable(h) => crate::value::hashtable_get(h, n).cloned(),
                _ => None,
            });
            if let Some(v) = found {
                args.insert(p.name, convert::convert(p, v)?);
                any = true;
            }
        }
    }
    if any { Ok(()) } else { Err(Error::InputNotBound) }
}
