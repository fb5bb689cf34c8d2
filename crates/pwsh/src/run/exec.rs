//! Statement and pipeline execution.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use super::builtins::{self, Builtin};
use crate::bind::{self, Action, Bound, OutputFormat, RawArg};
use crate::error::Error;
use crate::host::Host;
use crate::limits::MAX_NESTING;
use crate::params::{CommandInfo, Invocation};
use crate::syntax::{
    AssignOp, Command, CommandElement, Pipeline, PipelineElement, ScriptBlock, Statement, StatementKind,
};
use crate::value::Value;

/// A boxed future, needed because evaluation recurses (script blocks run pipelines that evaluate expressions).
pub(crate) type Fut<'f, T> = Pin<Box<dyn Future<Output = T> + Send + 'f>>;

/// Why execution stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Flow {
    /// The statement stops; the script goes on (unknown command, parameter error, evaluation error).
    Statement(String),
    /// The whole script stops (`-ErrorAction Stop`).
    Script(String),
}

impl From<Error> for Flow {
    fn from(e: Error) -> Self {
        Flow::Statement(e.to_string())
    }
}

/// The state of one top-level statement's execution.
pub(crate) struct Exec<'a> {
    pub host: &'a dyn Host,
    vars: &'a mut BTreeMap<String, Value>,
    pub line: &'a str,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    /// Text written by `Write-Host`, shown before the statement's output.
    pub console: Vec<String>,
    pub output_format: Option<OutputFormat>,
    /// `$_` while a script block runs for a piped object.
    underscore: Option<Value>,
    /// How deep evaluation has recursed (expressions, pipelines, script blocks); see [`MAX_CALL_DEPTH`].
    depth: usize,
}

/// The deepest evaluation recursion allowed, counting expressions, command pipelines and script blocks. The
/// parser bounds how deep a script nests, but a script block can call itself (`$f = { 1 | ForEach-Object $f }`)
/// and each call may nest again: without this bound the stack overflows and takes the whole server down. A
/// level of the parser's nesting costs at most two here (`Get-Mailbox (…)`: the parenthesis and the command
/// in it), plus a few for the statement itself and its innermost values, so every script the parser accepts
/// stays within it; at the limit a debug build uses about 1.5 MiB of a 2 MiB tokio worker stack.
pub(crate) const MAX_CALL_DEPTH: usize = 2 * MAX_NESTING + 8;

/// A pipeline stage, resolved and with its named arguments bound.
enum Stage<'p> {
    Expression(&'p crate::syntax::Expr),
    Host(CommandInfo, Bound),
    Builtin(Builtin, CommandInfo, Bound),
}

impl<'a> Exec<'a> {
    pub(crate) fn new(host: &'a dyn Host, vars: &'a mut BTreeMap<String, Value>, line: &'a str) -> Self {
        Exec {
            host,
            vars,
            line,
            errors: Vec::new(),
            warnings: Vec::new(),
            console: Vec::new(),
            output_format: None,
            underscore: None,
            depth: 0,
        }
    }

    /// Reads a variable; `$true`, `$false`, `$null` and `$_`/`$PSItem` are built in; unknown ones are `$null`.
    pub(crate) fn variable(&self, name: &str) -> Value {
        let lower = name.to_lowercase();
        match lower.as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Null,
            "_" | "psitem" => self.underscore.clone().unwrap_or_default(),
            _ => self.vars.get(&lower).cloned().unwrap_or_default(),
        }
    }

    /// Enters one level of evaluation, or stops the script when recursion went too deep.
    pub(crate) fn descend(&mut self) -> Result<(), Flow> {
        if self.depth >= MAX_CALL_DEPTH {
            // A terminating error, as in PowerShell: reporting it and going on would let a block that calls
            // itself twice run 2^depth times.
            return Err(Flow::Script("The script failed due to call depth overflow.".into()));
        }
        self.depth += 1;
        Ok(())
    }

    /// Leaves a level entered with [`Exec::descend`].
    pub(crate) fn ascend(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Records an error according to `-ErrorAction`.
    pub(crate) fn report(&mut self, message: String, action: Action) -> Result<(), Flow> {
        match action {
            Action::SilentlyContinue => Ok(()),
            Action::Stop => Err(Flow::Script(message)),
            Action::Continue => {
                self.errors.push(message);
                Ok(())
            }
        }
    }

    /// Records a warning according to `-WarningAction`.
    pub(crate) fn warn(&mut self, text: String, action: Action) -> Result<(), Flow> {
        match action {
            Action::SilentlyContinue => Ok(()),
            Action::Stop => Err(Flow::Script(format!(
                "The running command stopped because the preference variable \"WarningPreference\" or common \
                 parameter is set to Stop: {text}"
            ))),
            Action::Continue => {
                self.warnings.push(format!("WARNING: {text}"));
                Ok(())
            }
        }
    }

    pub(crate) fn run_statements<'f>(&'f mut self, statements: &'f [Statement]) -> Fut<'f, Result<Vec<Value>, Flow>> {
        Box::pin(async move {
            let mut out = Vec::new();
            for s in statements {
                out.extend(self.run_statement(s).await?);
            }
            Ok(out)
        })
    }

    pub(crate) fn run_statement<'f>(&'f mut self, statement: &'f Statement) -> Fut<'f, Result<Vec<Value>, Flow>> {
        Box::pin(async move {
            match &statement.kind {
                StatementKind::Pipeline(p) => self.run_pipeline(p).await,
                StatementKind::Assignment { variable, op, value } => {
                    let new = Value::collapse(self.run_pipeline(value).await?);
                    let new = match op {
                        AssignOp::Set => new,
                        AssignOp::Add => super::eval::add(self.variable(variable), new)?,
                    };
                    self.vars.insert(variable.to_lowercase(), new);
                    Ok(Vec::new())
                }
            }
        })
    }

    /// Runs a script block with `$_` set to `item`.
    pub(crate) async fn run_block(&mut self, block: &ScriptBlock, item: Option<Value>) -> Result<Vec<Value>, Flow> {
        self.descend()?;
        let saved = std::mem::replace(&mut self.underscore, item);
        let result = self.run_statements(&block.statements).await;
        self.underscore = saved;
        self.ascend();
        result
    }

    /// Resolves every command first (nothing runs if one is unknown), binds named arguments for every stage,
    /// then runs the stages in order, each consuming the previous stage's output.
    pub(crate) fn run_pipeline<'f>(&'f mut self, pipeline: &'f Pipeline) -> Fut<'f, Result<Vec<Value>, Flow>> {
        // A lone expression (`(…)`, hashtable values, `$x = …`) is just evaluated: the same result, without the
        // large stack frame of the general case at every level of nesting.
        if let [PipelineElement::Expression(e)] = pipeline.elements.as_slice() {
            return Box::pin(async move { Ok(self.eval(e).await?.unroll()) });
        }
        Box::pin(async move {
            self.descend()?;
            let out = self.run_commands(pipeline).await;
            self.ascend();
            out
        })
    }

    async fn run_commands(&mut self, pipeline: &Pipeline) -> Result<Vec<Value>, Flow> {
        let mut commands = Vec::new();
        for element in &pipeline.elements {
            if let PipelineElement::Command(c) = element {
                let resolved = match builtins::lookup(&c.name) {
                    Some(b) => (Some(b), b.info()),
                    None => match self.host.command(&c.name) {
                        Some(info) => (None, info),
                        None => return Err(Error::CommandNotFound(c.name.clone()).into()),
                    },
                };
                commands.push(resolved);
            }
        }
        let mut stages = Vec::new();
        let mut commands = commands.into_iter();
        for element in &pipeline.elements {
            match element {
                PipelineElement::Expression(e) => stages.push(Stage::Expression(e)),
                PipelineElement::Command(c) => {
                    let Some((builtin, info)) = commands.next() else { break };
                    let bound = self.bind_command(c, &info, builtin).await?;
                    if let Some(f) = bound.common.output_format {
                        self.output_format = Some(f);
                    }
                    stages.push(match builtin {
                        Some(b) => Stage::Builtin(b, info, bound),
                        None => Stage::Host(info, bound),
                    });
                }
            }
        }
        let mut data: Option<Vec<Value>> = None;
        for stage in stages {
            let out = match stage {
                Stage::Expression(e) => self.eval(e).await?.unroll(),
                Stage::Host(info, bound) => match data.take() {
                    None => self.invoke_host(&info, &bound, None).await?,
                    Some(inputs) => {
                        let mut out = Vec::new();
                        for item in inputs {
                            out.extend(self.invoke_host(&info, &bound, Some(item)).await?);
                        }
                        out
                    }
                },
                Stage::Builtin(b, info, bound) => {
                    let args = match bind::complete(&info, &bound, None) {
                        Ok(args) => args,
                        Err(e) => {
                            self.report(format!("{} : {e}", info.name), bound.common.error_action)?;
                            data = Some(Vec::new());
                            continue;
                        }
                    };
                    let call = Invocation {
                        command: info.name,
                        args,
                        line: self.line.to_string(),
                        what_if: bound.common.what_if,
                        input: None,
                    };
                    builtins::run(self, b, call, bound.common, data.take()).await?
                }
            };
            data = Some(out);
        }
        Ok(data.unwrap_or_default())
    }

    /// Evaluates a command's arguments and binds its named parameters.
    async fn bind_command(&mut self, c: &Command, info: &CommandInfo, builtin: Option<Builtin>) -> Result<Bound, Flow> {
        let mut raw = Vec::with_capacity(c.elements.len());
        for element in &c.elements {
            raw.push(match element {
                CommandElement::Parameter { name, value: Some(e) } => {
                    RawArg::Named { typed: name.clone(), value: Some(self.eval(e).await?) }
                }
                CommandElement::Parameter { name, value: None } => RawArg::Named { typed: name.clone(), value: None },
                CommandElement::Argument(e) => RawArg::Positional(self.eval(e).await?),
            });
        }
        let mut bound = bind::bind_named(info, raw).map_err(|e| Flow::Statement(format!("{} : {e}", info.name)))?;
        if builtin.is_some_and(Builtin::takes_remaining_arguments) && bound.positional.len() > 1 {
            bound.positional = vec![Value::Array(std::mem::take(&mut bound.positional))];
        }
        Ok(bound)
    }

    /// Binds and runs one host call; binding and host errors are non-terminating (reported, no output).
    async fn invoke_host(
        &mut self,
        info: &CommandInfo,
        bound: &Bound,
        input: Option<Value>,
    ) -> Result<Vec<Value>, Flow> {
        let args = match bind::complete(info, bound, input.as_ref()) {
            Ok(args) => args,
            Err(e) => {
                self.report(format!("{} : {e}", info.name), bound.common.error_action)?;
                return Ok(Vec::new());
            }
        };
        let call =
            Invocation { command: info.name, args, line: self.line.to_string(), what_if: bound.common.what_if, input };
        match self.host.invoke(call).await {
            Ok(output) => {
                for w in output.warnings {
                    self.warn(w, bound.common.warning_action)?;
                }
                Ok(output.objects)
            }
            Err(e) => {
                self.report(format!("{} : {}", info.name, e.message), bound.common.error_action)?;
                Ok(Vec::new())
            }
        }
    }
}
