//! The PowerShell subset administrators type into Deputy's shell.
//!
//! This crate knows PowerShell, not Exchange. It parses what administrators type
//! ([`syntax`]), holds values ([`Value`], [`Object`]), binds arguments to the
//! parameters a [`Host`] describes ([`CommandInfo`]), runs pipelines with the
//! common built-in cmdlets (`Where-Object`, `Select-Object`, `ConvertTo-Json`, …)
//! and formats output the way PowerShell's `Out-Default` does.
//!
//! Invariants: parsing is synchronous and never panics; nothing here does I/O
//! except through the [`Host`] the caller passes in; every error names what is
//! at fault in PowerShell's wording (spec §7.4).

mod bind;
mod error;
mod format;
mod host;
mod limits;
mod params;
mod run;
pub mod syntax;
mod value;

pub use bind::to_date;
pub use error::{Error, ParseError};
pub use host::{CommandError, Host, Output};
pub use limits::{MAX_NESTING, MAX_SCRIPT_BYTES, MAX_STATEMENT_BYTES};
pub use params::{Arg, CommandInfo, Invocation, MultiValued, ParamInfo, ParamKind};
pub use run::{RunResult, Session};
pub use value::{Object, Value};

/// Splits a script into top-level statements (source texts), so a client can send them one at a time.
pub fn split_statements(script: &str) -> Result<Vec<String>, ParseError> {
    Ok(syntax::parse(script)?.statements.into_iter().map(|s| s.text).collect())
}

/// True when `text` is an incomplete statement (open quote/brace/paren, trailing backtick or pipe) — for the
/// interactive prompt's continuation.
pub fn is_incomplete(text: &str) -> bool {
    matches!(syntax::parse(text), Err(e) if e.incomplete)
}
