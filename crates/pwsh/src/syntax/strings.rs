//! Quoted strings: single-quoted literals (`''` is a quote) and double-quoted strings with backtick escapes
//! and `$var` / `$(…)` expansion.

use super::ast::{Expr, StringPart};
use super::cursor::{PResult, Parser, is_double_quote, is_ident, is_single_quote};

/// The character a backtick escape stands for (`` `n `` is a newline; others are the character itself).
pub(super) fn escape(c: char) -> char {
    match c {
        '0' => '\0',
        'a' => '\u{7}',
        'b' => '\u{8}',
        'e' => '\u{1b}',
        'f' => '\u{c}',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\u{b}',
        other => other,
    }
}

impl Parser {
    /// A quoted string at the cursor.
    pub(super) fn parse_string(&mut self) -> PResult<Expr> {
        match self.peek() {
            Some(c) if is_single_quote(c) => self.parse_single_quoted(),
            _ => self.parse_double_quoted(),
        }
    }

    fn parse_single_quoted(&mut self) -> PResult<Expr> {
        let start = self.pos;
        self.pos += 1;
        let mut s = String::new();
        loop {
            match self.peek() {
                None => return Err(self.error_at(start, "The string is missing the terminator: '.", true)),
                Some(c) if is_single_quote(c) => {
                    self.pos += 1;
                    match self.peek() {
                        Some(n) if is_single_quote(n) => {
                            s.push(n);
                            self.pos += 1;
                        }
                        _ => return Ok(Expr::String(s)),
                    }
                }
                Some(c) => {
                    s.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn parse_double_quoted(&mut self) -> PResult<Expr> {
        let start = self.pos;
        self.pos += 1;
        let mut parts = Vec::new();
        let mut lit = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error_at(start, "The string is missing the terminator: \".", true));
            };
            match c {
                c if is_double_quote(c) => {
                    self.pos += 1;
                    match self.peek() {
                        Some(n) if is_double_quote(n) => {
                            lit.push(n);
                            self.pos += 1;
                        }
                        _ => break,
                    }
                }
                '`' => match self.peek_at(1) {
                    None => return Err(self.error_at(start, "The string is missing the terminator: \".", true)),
                    Some(n) => {
                        lit.push(escape(n));
                        self.pos += 2;
                    }
                },
                '$' if self.peek_at(1) == Some('(') => {
                    if !lit.is_empty() {
                        parts.push(StringPart::Literal(std::mem::take(&mut lit)));
                    }
                    let open = self.pos;
                    self.pos += 2;
                    self.enter()?;
                    let statements = self.parse_statements(Some(')'));
                    self.leave();
                    let statements = statements?;
                    if self.peek() != Some(')') {
                        return Err(self.error_at(open, "Missing closing ')' in subexpression.", true));
                    }
                    self.pos += 1;
                    parts.push(StringPart::Subexpression(statements));
                }
                '$' if self.peek_at(1).is_some_and(|n| is_ident(n) || n == '{') => {
                    self.pos += 1;
                    let save = self.pos;
                    match self.read_variable_name() {
                        Some(name) => {
                            if !lit.is_empty() {
                                parts.push(StringPart::Literal(std::mem::take(&mut lit)));
                            }
                            parts.push(StringPart::Variable(name));
                        }
                        None => {
                            self.pos = save;
                            lit.push('$');
                        }
                    }
                }
                c => {
                    lit.push(c);
                    self.pos += 1;
                }
            }
        }
        if parts.is_empty() {
            return Ok(Expr::String(lit));
        }
        if !lit.is_empty() {
            parts.push(StringPart::Literal(lit));
        }
        Ok(Expr::Expandable(parts))
    }
}
