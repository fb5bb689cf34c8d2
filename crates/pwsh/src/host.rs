//! The boundary to whoever implements the non-built-in commands (the Exchange cmdlets).

use crate::params::{CommandInfo, Invocation};
use crate::value::Value;

/// What a host command returns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Output {
    /// Objects written to the pipeline.
    pub objects: Vec<Value>,
    /// Warnings (shown as `WARNING: <text>`).
    pub warnings: Vec<String>,
}

impl Output {
    /// Output of these objects and no warnings.
    pub fn objects(objects: Vec<Value>) -> Self {
        Output { objects, warnings: Vec::new() }
    }

    /// No objects, one warning.
    pub fn warning(text: impl Into<String>) -> Self {
        Output { objects: Vec::new(), warnings: vec![text.into()] }
    }
}

/// A host command's failure; the runner shows it as `<Cmdlet> : <message>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandError {
    /// The error text, without the cmdlet prefix.
    pub message: String,
}

impl CommandError {
    /// An error with this text.
    pub fn new(message: impl Into<String>) -> Self {
        CommandError { message: message.into() }
    }
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CommandError {}

impl From<String> for CommandError {
    fn from(message: String) -> Self {
        CommandError { message }
    }
}

impl From<&str> for CommandError {
    fn from(message: &str) -> Self {
        CommandError { message: message.to_string() }
    }
}

/// Provides the commands this crate does not build in.
#[async_trait::async_trait]
pub trait Host: Send + Sync {
    /// The command of this name (case-insensitive); `None` = not a host command.
    fn command(&self, name: &str) -> Option<CommandInfo>;
    /// Runs one call. Errors are non-terminating: later piped objects still run.
    async fn invoke(&self, call: Invocation) -> Result<Output, CommandError>;
}
