//! Running statements: a per-session variable table, pipelines executed stage by stage, built-in commands,
//! and host commands invoked once per piped object.

mod builtins;
mod compare;
mod eval;
mod exec;
mod regex;

use std::collections::BTreeMap;

pub(crate) use compare::wildcard_match;
use exec::{Exec, Flow};

use crate::bind::OutputFormat;
use crate::format;
use crate::host::Host;
use crate::value::Value;

/// The result of running a script.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunResult {
    /// Formatted output text (tables, lists, JSON, lines), ending with a newline when not empty.
    pub output: String,
    /// Error messages, in order.
    pub errors: Vec<String>,
    /// Warnings, each `WARNING: <text>`.
    pub warnings: Vec<String>,
    /// False when any error was reported (errors hidden by `-ErrorAction SilentlyContinue` do not count).
    pub success: bool,
}

/// One shell session: the variables that persist between statements and requests.
#[derive(Debug, Clone, Default)]
pub struct Session {
    vars: BTreeMap<String, Value>,
}

impl Session {
    /// A session with no variables.
    pub fn new() -> Self {
        Session::default()
    }

    /// A variable's value (name without `$`, case-insensitive).
    pub fn variable(&self, name: &str) -> Option<&Value> {
        self.vars.get(&name.to_lowercase())
    }

    /// Sets a variable (name without `$`).
    pub fn set_variable(&mut self, name: &str, value: Value) {
        self.vars.insert(name.to_lowercase(), value);
    }

    /// Parses and runs `script`. A parse error runs nothing; otherwise each statement runs in turn, and a
    /// statement's failure does not stop the next one unless `-ErrorAction Stop` was given.
    pub async fn run(&mut self, host: &dyn Host, script: &str) -> RunResult {
        let mut result = RunResult { success: true, ..RunResult::default() };
        let parsed = match crate::syntax::parse(script) {
            Ok(p) => p,
            Err(e) => {
                result.errors.push(e.to_string());
                result.success = false;
                return result;
            }
        };
        for statement in &parsed.statements {
            let mut exec = Exec::new(host, &mut self.vars, &statement.text);
            let outcome = exec.run_statement(statement).await;
            let stop = matches!(outcome, Err(Flow::Script(_)));
            let values = match outcome {
                Ok(values) => values,
                Err(Flow::Statement(e) | Flow::Script(e)) => {
                    exec.errors.push(e);
                    Vec::new()
                }
            };
            // `Write-Host -NoNewline` ends its line with a NUL so that the next Write-Host continues it; once the
            // statement is over the marker has done its job and must not reach the client.
            let console: Vec<&str> = exec.console.iter().map(|l| l.strip_suffix('\0').unwrap_or(l)).collect();
            let mut text = console.join("\n");
            let formatted = render(&values, exec.output_format, &mut exec.warnings);
            if !text.is_empty() && !formatted.is_empty() {
                text.push('\n');
            }
            text.push_str(&formatted);
            if !text.is_empty() {
                result.output.push_str(&text);
                result.output.push('\n');
            }
            result.errors.append(&mut exec.errors);
            result.warnings.append(&mut exec.warnings);
            if stop {
                break;
            }
        }
        result.success = result.errors.is_empty();
        result
    }
}

/// Formats a statement's output: `-OutputFormat` if given, else `Out-Default`.
fn render(values: &[Value], output_format: Option<OutputFormat>, warnings: &mut Vec<String>) -> String {
    match output_format {
        None => format::out_default(values),
        Some(OutputFormat::Json) => {
            if values.is_empty() {
                return String::new();
            }
            let value = Value::collapse(values.to_vec());
            let (text, truncated) = format::to_json(&value, builtins::DEFAULT_JSON_DEPTH, false);
            if truncated {
                warnings.push(builtins::json_truncated_warning(builtins::DEFAULT_JSON_DEPTH));
            }
            text
        }
        Some(OutputFormat::List) => format::list(values, &[]),
        Some(OutputFormat::Table) => {
            let columns = match values.first() {
                Some(Value::Object(o)) if !o.default_display.is_empty() => o.default_display.clone(),
                Some(first) => format::property_names(first),
                None => Vec::new(),
            };
            format::table(values, &columns, false)
        }
    }
}
