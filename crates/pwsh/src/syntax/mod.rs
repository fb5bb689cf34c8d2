//! Parsing what administrators type: a small synchronous recursive-descent parser from source text to a
//! syntax tree. PowerShell lexes differently in *command mode* (`Set-Mailbox mary -X 1`, where `mary` is a
//! string) and *expression mode* (`$_.Name -eq 'mary'`), so the parser reads characters directly and picks
//! the mode at each pipeline element, as PowerShell's own parser does.

mod ast;
mod command;
mod cursor;
mod expr;
mod strings;

pub use ast::{
    AssignOp, BinaryOp, Command, CommandElement, CompareOp, Expr, Pipeline, PipelineElement, Script, ScriptBlock,
    Statement, StatementKind, StringPart, UnaryOp,
};

use crate::error::ParseError;
use crate::limits::{MAX_SCRIPT_BYTES, MAX_STATEMENT_BYTES};
use cursor::Parser;

/// Parses a whole script. Nothing runs if this fails.
pub fn parse(script: &str) -> Result<Script, ParseError> {
    if script.len() > MAX_SCRIPT_BYTES {
        return Err(ParseError {
            line: 1,
            column: 1,
            message: format!(
                "The script is {} bytes long; Deputy accepts scripts up to {MAX_SCRIPT_BYTES} bytes (4 MiB). \
                 Split it into several scripts.",
                script.len()
            ),
            incomplete: false,
        });
    }
    let mut p = Parser::new(script);
    let statements = p.parse_statements(None)?;
    for (s, start) in statements.iter().zip(p.top_level_starts.iter()) {
        if s.text.len() > MAX_STATEMENT_BYTES {
            return Err(p.error_at(
                *start,
                format!(
                    "The statement is {} bytes long; Deputy accepts statements up to {MAX_STATEMENT_BYTES} bytes \
                     (256 KiB).",
                    s.text.len()
                ),
                false,
            ));
        }
    }
    Ok(Script { statements })
}
