//! The built-in cmdlets: object utilities (`Where-Object`, `Select-Object`, …) and output (`Format-Table`,
//! `ConvertTo-Json`, `Write-Host`, …). They are described with the same [`CommandInfo`] hosts use, so binding
//! (prefixes, positions, parameter sets) works identically; unlike host commands they receive all piped
//! objects at once.

mod objects;
mod output;

use super::exec::{Exec, Flow, Fut};
use crate::bind::Common;
use crate::params::{CommandInfo, Invocation, ParamInfo, ParamKind};
use crate::value::Value;

pub(crate) use output::{DEFAULT_JSON_DEPTH, json_truncated_warning};

/// A built-in command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    WhereObject,
    ForEachObject,
    SelectObject,
    SortObject,
    MeasureObject,
    FormatList,
    FormatTable,
    ConvertToJson,
    ConvertToSecureString,
    WriteOutput,
    WriteHost,
    WriteWarning,
    WriteError,
    OutString,
    OutNull,
}

/// Names and aliases, matched case-insensitively.
const NAMES: &[(&str, Builtin)] = &[
    ("Where-Object", Builtin::WhereObject),
    ("where", Builtin::WhereObject),
    ("?", Builtin::WhereObject),
    ("ForEach-Object", Builtin::ForEachObject),
    ("foreach", Builtin::ForEachObject),
    ("%", Builtin::ForEachObject),
    ("Select-Object", Builtin::SelectObject),
    ("select", Builtin::SelectObject),
    ("Sort-Object", Builtin::SortObject),
    ("sort", Builtin::SortObject),
    ("Measure-Object", Builtin::MeasureObject),
    ("measure", Builtin::MeasureObject),
    ("Format-List", Builtin::FormatList),
    ("fl", Builtin::FormatList),
    ("Format-Table", Builtin::FormatTable),
    ("ft", Builtin::FormatTable),
    ("ConvertTo-Json", Builtin::ConvertToJson),
    ("ConvertTo-SecureString", Builtin::ConvertToSecureString),
    ("Write-Output", Builtin::WriteOutput),
    ("echo", Builtin::WriteOutput),
    ("write", Builtin::WriteOutput),
    ("Write-Host", Builtin::WriteHost),
    ("Write-Warning", Builtin::WriteWarning),
    ("Write-Error", Builtin::WriteError),
    ("Out-String", Builtin::OutString),
    ("Out-Null", Builtin::OutNull),
];

/// The built-in command of this name or alias.
pub(crate) fn lookup(name: &str) -> Option<Builtin> {
    NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, b)| *b)
}

/// Where-Object's operator switches (the simplified `Where-Object Prop -like 'x'` form).
pub(super) const WHERE_OPERATORS: [&str; 20] = [
    "EQ",
    "NE",
    "GT",
    "GE",
    "LT",
    "LE",
    "Like",
    "NotLike",
    "Match",
    "NotMatch",
    "Contains",
    "NotContains",
    "In",
    "NotIn",
    "CEQ",
    "CNE",
    "CLike",
    "CNotLike",
    "CMatch",
    "CNotMatch",
];
const WHERE_SCRIPT_SET: &[&str] = &["FilterScript", "InputObject"];
/// `-Property`, `-Value`, `-InputObject` and every operator switch: built from
/// [`WHERE_OPERATORS`] so the binder's set and the runner's list never drift apart.
const WHERE_PROPERTY_SET: &[&str] = &{
    const HEAD: [&str; 3] = ["Property", "Value", "InputObject"];
    let mut out = [""; HEAD.len() + WHERE_OPERATORS.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = if i < HEAD.len() { HEAD[i] } else { WHERE_OPERATORS[i - HEAD.len()] };
        i += 1;
    }
    out
};
const FOREACH_SCRIPT_SET: &[&str] = &["Process", "Begin", "End", "InputObject"];
const FOREACH_MEMBER_SET: &[&str] = &["MemberName", "InputObject"];

use ParamKind as K;

impl Builtin {
    /// Its parameters, as a host would describe them.
    pub(crate) fn info(self) -> CommandInfo {
        let p = ParamInfo::new;
        let input = p("InputObject", K::Any);
        match self {
            Builtin::WhereObject => {
                let mut params = vec![
                    p("FilterScript", K::ScriptBlock).at(0).mandatory(),
                    p("Property", K::String).at(0).mandatory(),
                    p("Value", K::Any).at(1),
                    input,
                ];
                params.extend(WHERE_OPERATORS.iter().map(|op| p(op, K::Switch)));
                CommandInfo::new("Where-Object", params).sets(vec![WHERE_SCRIPT_SET, WHERE_PROPERTY_SET])
            }
            Builtin::ForEachObject => CommandInfo::new(
                "ForEach-Object",
                vec![
                    p("Process", K::ScriptBlock).at(0).mandatory(),
                    p("Begin", K::ScriptBlock),
                    p("End", K::ScriptBlock),
                    p("MemberName", K::String).at(0).mandatory(),
                    input,
                ],
            )
            .sets(vec![FOREACH_SCRIPT_SET, FOREACH_MEMBER_SET]),
            Builtin::SelectObject => CommandInfo::new(
                "Select-Object",
                vec![
                    p("Property", K::Any).at(0),
                    p("ExcludeProperty", K::Strings),
                    p("ExpandProperty", K::String),
                    p("First", K::Int),
                    p("Last", K::Int),
                    p("Skip", K::Int),
                    p("Unique", K::Switch),
                    input,
                ],
            ),
            Builtin::SortObject => CommandInfo::new(
                "Sort-Object",
                vec![p("Property", K::Any).at(0), p("Descending", K::Switch), p("Unique", K::Switch), input],
            ),
            Builtin::MeasureObject => CommandInfo::new(
                "Measure-Object",
                vec![
                    p("Property", K::Strings).at(0),
                    p("Sum", K::Switch),
                    p("Average", K::Switch),
                    p("Maximum", K::Switch),
                    p("Minimum", K::Switch),
                    input,
                ],
            ),
            Builtin::FormatList => CommandInfo::new("Format-List", vec![p("Property", K::Strings).at(0), input]),
            Builtin::FormatTable => CommandInfo::new(
                "Format-Table",
                vec![
                    p("Property", K::Strings).at(0),
                    p("AutoSize", K::Switch),
                    p("HideTableHeaders", K::Switch),
                    p("Wrap", K::Switch),
                    input,
                ],
            ),
            Builtin::ConvertToJson => CommandInfo::new(
                "ConvertTo-Json",
                vec![
                    p("InputObject", K::Any).at(0),
                    p("Depth", K::Int),
                    p("Compress", K::Switch),
                    p("AsArray", K::Switch),
                    p("EnumsAsStrings", K::Switch),
                ],
            ),
            Builtin::ConvertToSecureString => CommandInfo::new(
                "ConvertTo-SecureString",
                vec![p("String", K::String).at(0), p("AsPlainText", K::Switch), p("Force", K::Switch)],
            ),
            Builtin::WriteOutput => {
                CommandInfo::new("Write-Output", vec![p("InputObject", K::Any).at(0), p("NoEnumerate", K::Switch)])
            }
            Builtin::WriteHost => CommandInfo::new(
                "Write-Host",
                vec![
                    p("Object", K::Any).at(0),
                    p("NoNewline", K::Switch),
                    p("Separator", K::String),
                    p("ForegroundColor", K::String),
                    p("BackgroundColor", K::String),
                ],
            ),
            Builtin::WriteWarning => CommandInfo::new("Write-Warning", vec![p("Message", K::String).at(0).mandatory()]),
            Builtin::WriteError => CommandInfo::new("Write-Error", vec![p("Message", K::String).at(0).mandatory()]),
            Builtin::OutString => {
                CommandInfo::new("Out-String", vec![input, p("Width", K::Int), p("Stream", K::Switch)])
            }
            Builtin::OutNull => CommandInfo::new("Out-Null", vec![input]),
        }
    }

    /// `Write-Output a b c` and `Write-Host a b c` take all positional arguments as one list.
    pub(crate) fn takes_remaining_arguments(self) -> bool {
        matches!(self, Builtin::WriteOutput | Builtin::WriteHost)
    }
}

/// The piped objects, or `-InputObject`'s value when nothing was piped.
fn items(call: &Invocation, input: Option<Vec<Value>>) -> Vec<Value> {
    input.unwrap_or_else(|| call.value("InputObject").cloned().map(Value::unroll).unwrap_or_default())
}

/// Runs a built-in over all of its input.
pub(crate) fn run<'f, 'a: 'f>(
    exec: &'f mut Exec<'a>,
    b: Builtin,
    call: Invocation,
    common: Common,
    input: Option<Vec<Value>>,
) -> Fut<'f, Result<Vec<Value>, Flow>> {
    let items = items(&call, input);
    // The built-ins that run script blocks each get a future of their own: they are on the stack at every level
    // of a block calling a block, where one state machine for all arms would cost several KiB more per level.
    match b {
        Builtin::WhereObject => Box::pin(async move { objects::where_object(exec, &call, common, items).await }),
        Builtin::ForEachObject => Box::pin(async move { objects::foreach_object(exec, &call, common, items).await }),
        Builtin::SelectObject => Box::pin(async move { objects::select_object(exec, &call, common, items).await }),
        Builtin::SortObject => Box::pin(async move { objects::sort_object(exec, &call, common, items).await }),
        _ => Box::pin(std::future::ready(run_sync(exec, b, &call, common, items))),
    }
}

/// The built-ins that run no script block.
fn run_sync(
    exec: &mut Exec<'_>,
    b: Builtin,
    call: &Invocation,
    common: Common,
    items: Vec<Value>,
) -> Result<Vec<Value>, Flow> {
    match b {
        Builtin::MeasureObject => Ok(vec![objects::measure_object(call, &items)]),
        Builtin::FormatList => Ok(output::format_list(call, &items)),
        Builtin::FormatTable => Ok(output::format_table(call, &items)),
        Builtin::ConvertToJson => output::convert_to_json(exec, call, common, items),
        Builtin::ConvertToSecureString => output::convert_to_secure_string(exec, call, common, items),
        Builtin::WriteOutput => Ok(output::write_output(call, items)),
        Builtin::WriteHost => {
            output::write_host(exec, call, &items);
            Ok(Vec::new())
        }
        Builtin::WriteWarning => {
            exec.warn(call.string("Message").unwrap_or_default().to_string(), common.warning_action)?;
            Ok(Vec::new())
        }
        Builtin::WriteError => {
            exec.report(call.string("Message").unwrap_or_default().to_string(), common.error_action)?;
            Ok(Vec::new())
        }
        Builtin::OutString => {
            let text = crate::format::out_default(&items);
            Ok(if items.is_empty() { Vec::new() } else { vec![Value::String(text)] })
        }
        Builtin::OutNull => Ok(Vec::new()),
        // Not reached: `run` gives these their own futures.
        Builtin::WhereObject | Builtin::ForEachObject | Builtin::SelectObject | Builtin::SortObject => {
            Err(Flow::Statement(format!("{} : internal error: dispatched as a plain built-in.", call.command)))
        }
    }
}
