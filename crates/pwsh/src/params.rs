//! How a host describes its commands' parameters, and the bound arguments it receives.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::value::Value;

/// One parameter of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamInfo {
    /// The canonical name, e.g. `Identity`.
    pub name: &'static str,
    /// Other names accepted exactly (not by prefix), e.g. `["cf"]`.
    pub aliases: &'static [&'static str],
    /// How the value is converted.
    pub kind: ParamKind,
    /// Position for positional binding (0 = first positional argument).
    pub position: Option<u8>,
    /// Must be given (in every parameter set that lists it).
    pub mandatory: bool,
    /// A piped object's property of this name (or an alias) binds here.
    pub from_pipeline_by_property_name: bool,
    /// A piped object itself binds here (an Object becomes its `Identity` unless the kind is `Any`).
    pub from_pipeline_by_value: bool,
}

impl ParamInfo {
    /// An optional, named-only parameter.
    pub const fn new(name: &'static str, kind: ParamKind) -> Self {
        ParamInfo {
            name,
            aliases: &[],
            kind,
            position: None,
            mandatory: false,
            from_pipeline_by_property_name: false,
            from_pipeline_by_value: false,
        }
    }

    /// Binds the `position`-th positional argument.
    pub const fn at(mut self, position: u8) -> Self {
        self.position = Some(position);
        self
    }

    /// Must be given.
    pub const fn mandatory(mut self) -> Self {
        self.mandatory = true;
        self
    }

    /// Takes a piped object's property of the same name (or alias).
    pub const fn by_property_name(mut self) -> Self {
        self.from_pipeline_by_property_name = true;
        self
    }

    /// Takes the piped object itself.
    pub const fn by_value(mut self) -> Self {
        self.from_pipeline_by_value = true;
        self
    }

    /// Other accepted names.
    pub const fn aliases(mut self, a: &'static [&'static str]) -> Self {
        self.aliases = a;
        self
    }
}

/// How a parameter's value is converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// Present or not; `-Name:$false` turns it off. Takes no separate value.
    Switch,
    /// `$true`/`$false` (or 1/0).
    Bool,
    /// An integer.
    Int,
    /// One string; an Object becomes its `Identity`.
    String,
    /// A date and time (ISO 8601 or `M/d/yyyy [h:mm:ss]`).
    DateTime,
    /// A password from `ConvertTo-SecureString`.
    SecureString,
    /// One or more strings (comma list); a single string becomes a one-element list.
    Strings,
    /// One of these names (case-insensitive, normalized to the listed spelling).
    Enum(&'static [&'static str]),
    /// A list of these names (comma list, or one string with commas).
    Enums(&'static [&'static str]),
    /// A multi-valued property: a plain value or list (replace), `$null` (clear), or `@{Add=…; Remove=…}`.
    MultiValued,
    /// A script block (`Where-Object`, `ForEach-Object`); bound as `Arg::Any(Value::ScriptBlock)`.
    ScriptBlock,
    /// Anything, unconverted.
    Any,
}

impl ParamKind {
    /// The .NET type PowerShell would name in messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            ParamKind::Switch => "System.Management.Automation.SwitchParameter",
            ParamKind::Bool => "System.Boolean",
            ParamKind::Int => "System.Int32",
            ParamKind::String | ParamKind::Enum(_) => "System.String",
            ParamKind::DateTime => "System.DateTime",
            ParamKind::SecureString => "System.Security.SecureString",
            ParamKind::Strings | ParamKind::Enums(_) | ParamKind::MultiValued => "System.String[]",
            ParamKind::ScriptBlock => "System.Management.Automation.ScriptBlock",
            ParamKind::Any => "System.Object",
        }
    }
}

/// A command a host offers: its name, parameters and parameter sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandInfo {
    /// The canonical name, e.g. `Add-MailboxPermission`.
    pub name: &'static str,
    /// Its parameters (common parameters such as `-Confirm` are handled by the runner and need not be listed).
    pub params: Vec<ParamInfo>,
    /// Parameter sets: each a list of param names that belong to it; binding picks the first set that contains
    /// every parameter given and satisfies its mandatory parameters (error if none). A parameter's `mandatory`
    /// flag applies only in the sets that list it. Empty = one set with all params.
    pub parameter_sets: Vec<&'static [&'static str]>,
}

impl CommandInfo {
    /// A command with one parameter set holding all its parameters.
    pub fn new(name: &'static str, params: Vec<ParamInfo>) -> Self {
        CommandInfo { name, params, parameter_sets: Vec::new() }
    }

    /// Replaces the parameter sets.
    pub fn sets(mut self, sets: Vec<&'static [&'static str]>) -> Self {
        self.parameter_sets = sets;
        self
    }

    /// The parameter with this canonical name (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&ParamInfo> {
        self.params.iter().find(|p| p.name.eq_ignore_ascii_case(name))
    }
}

/// A bound, converted argument value.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A switch: present (`true`) or `-Name:$false`.
    Switch(bool),
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A string.
    String(String),
    /// A date and time.
    DateTime(DateTime<Utc>),
    /// A password's plain text.
    SecureString(String),
    /// A list of strings (also what `Enums` bind to).
    Strings(Vec<String>),
    /// A multi-valued property change.
    Multi(MultiValued),
    /// An unconverted value (`Any`, `ScriptBlock`).
    Any(Value),
}

/// What to do to a multi-valued property such as `GrantSendOnBehalfTo` (spec §3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiValued {
    /// A plain value or list: replace the whole set.
    Replace(Vec<String>),
    /// `$null`: clear it.
    Clear,
    /// `@{Add=…; Remove=…}`.
    Modify {
        /// Values to add.
        add: Vec<String>,
        /// Values to remove.
        remove: Vec<String>,
    },
}

/// One call of a host command.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    /// The command's canonical name.
    pub command: &'static str,
    /// Bound arguments by canonical parameter name.
    pub args: BTreeMap<&'static str, Arg>,
    /// The statement's source text, for audit.
    pub line: String,
    /// `-WhatIf` was given: describe, change nothing.
    pub what_if: bool,
    /// The piped object this call processes, if any.
    pub input: Option<Value>,
}

impl Invocation {
    /// A call with no arguments (handy for tests and built-ins).
    pub fn new(command: &'static str) -> Self {
        Invocation { command, args: BTreeMap::new(), line: String::new(), what_if: false, input: None }
    }

    fn arg(&self, name: &str) -> Option<&Arg> {
        self.args.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    /// A `String` (or one-element `Strings`) argument.
    pub fn string(&self, name: &str) -> Option<&str> {
        match self.arg(name)? {
            Arg::String(s) => Some(s),
            Arg::Strings(v) if v.len() == 1 => v.first().map(String::as_str),
            _ => None,
        }
    }

    /// A `Strings` argument.
    pub fn strings(&self, name: &str) -> Option<&[String]> {
        match self.arg(name)? {
            Arg::Strings(v) => Some(v),
            Arg::String(s) => Some(std::slice::from_ref(s)),
            _ => None,
        }
    }

    /// A `Bool` or `Switch` argument.
    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.arg(name)? {
            Arg::Bool(b) | Arg::Switch(b) => Some(*b),
            _ => None,
        }
    }

    /// Whether a switch was given and not turned off with `:$false`.
    pub fn switch(&self, name: &str) -> bool {
        self.bool(name).unwrap_or(false)
    }

    /// An `Int` argument.
    pub fn int(&self, name: &str) -> Option<i64> {
        match self.arg(name)? {
            Arg::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// A `DateTime` argument.
    pub fn date(&self, name: &str) -> Option<DateTime<Utc>> {
        match self.arg(name)? {
            Arg::DateTime(d) => Some(*d),
            _ => None,
        }
    }

    /// A `SecureString` argument's plain text.
    pub fn secure(&self, name: &str) -> Option<&str> {
        match self.arg(name)? {
            Arg::SecureString(s) => Some(s),
            _ => None,
        }
    }

    /// A `MultiValued` argument.
    pub fn multi(&self, name: &str) -> Option<&MultiValued> {
        match self.arg(name)? {
            Arg::Multi(m) => Some(m),
            _ => None,
        }
    }

    /// An `Any` argument's value.
    pub fn value(&self, name: &str) -> Option<&Value> {
        match self.arg(name)? {
            Arg::Any(v) => Some(v),
            _ => None,
        }
    }

    /// Whether the parameter was bound at all.
    pub fn has(&self, name: &str) -> bool {
        self.arg(name).is_some()
    }
}
