//! Command mode: `Verb-Noun -Param value positional -Switch -Param:value`, where bare words are strings.

use super::ast::{Command, CommandElement, Expr};
use super::cursor::{PResult, Parser, is_dash, is_double_quote, is_hspace, is_ident, is_newline, is_single_quote};

/// Characters that end a bare word in command mode.
fn ends_bareword(c: char) -> bool {
    is_hspace(c) || is_newline(c) || matches!(c, '|' | ';' | ',' | '(' | ')' | '{' | '}' | '&')
}

impl Parser {
    pub(super) fn parse_command(&mut self) -> PResult<Command> {
        let name = self.read_bareword()?;
        let mut elements = Vec::new();
        loop {
            self.skip_trivia(false)?;
            match self.peek() {
                None | Some('\n' | '\r' | ';' | '|' | ')' | '}') => break,
                Some('&') => return Err(self.unexpected()),
                Some(_) => {}
            }
            match self.try_parameter()? {
                Some(element) => elements.push(element),
                None => elements.push(CommandElement::Argument(self.parse_command_argument()?)),
            }
        }
        Ok(Command { name, elements })
    }

    /// `-Name` or `-Name:value` at the cursor; `None` (cursor unmoved) when the token is an argument.
    fn try_parameter(&mut self) -> PResult<Option<CommandElement>> {
        if !self.peek().is_some_and(is_dash) || !self.peek_at(1).is_some_and(|c| c.is_alphabetic() || c == '_') {
            return Ok(None);
        }
        let save = self.pos;
        self.pos += 1;
        let start = self.pos;
        while self.peek().is_some_and(|c| is_ident(c) || c == '?') {
            self.pos += 1;
        }
        let name = self.text(start, self.pos);
        match self.peek() {
            Some(':') => {
                self.pos += 1;
                self.skip_trivia(false)?;
                if self.peek().is_none_or(|c| is_newline(c) || matches!(c, ';' | '|' | ')' | '}')) {
                    let incomplete = self.peek().is_none();
                    return Err(self.error_at(
                        self.pos,
                        format!("Missing an argument for parameter '{name}' after the colon."),
                        incomplete,
                    ));
                }
                let value = self.parse_command_argument()?;
                Ok(Some(CommandElement::Parameter { name, value: Some(value) }))
            }
            None => Ok(Some(CommandElement::Parameter { name, value: None })),
            Some(c) if ends_bareword(c) => Ok(Some(CommandElement::Parameter { name, value: None })),
            Some(_) => {
                // `-foo.bar` and the like are plain arguments, as in PowerShell.
                self.pos = save;
                Ok(None)
            }
        }
    }

    /// One argument: a value or a comma list of values (`a,b,"c d"`).
    pub(super) fn parse_command_argument(&mut self) -> PResult<Expr> {
        self.comma_list(Self::parse_argument_value)
    }

    /// One value in command mode.
    fn parse_argument_value(&mut self) -> PResult<Expr> {
        let Some(c) = self.peek() else {
            return Err(self.error_at(self.pos, "Missing an argument.", true));
        };
        match c {
            c if is_single_quote(c) || is_double_quote(c) => self.parse_string(),
            '$' | '(' => self.parse_postfix(),
            '@' if matches!(self.peek_at(1), Some('(' | '{')) => self.parse_postfix(),
            '{' => self.parse_primary(),
            ',' => Err(self.error_at(self.pos, "Missing argument in parameter list.", false)),
            _ => {
                let word = self.read_bareword()?;
                Ok(match number_value(&word) {
                    Some(n) => Expr::Int(n),
                    None => Expr::String(word),
                })
            }
        }
    }

    /// A bare word (command name or unquoted argument); backtick escapes the next character.
    fn read_bareword(&mut self) -> PResult<String> {
        let mut word = String::new();
        while let Some(c) = self.peek() {
            if ends_bareword(c) {
                break;
            }
            if c == '`' {
                match self.peek_at(1) {
                    None => {
                        return Err(self.error_at(self.pos, "The script ends after a backtick (`).", true));
                    }
                    // A line continuation ends the word; skip_trivia consumes it.
                    Some(n) if is_newline(n) => break,
                    // Anything else is escaped, a space included: `Terry` Adams` is one word, as in PowerShell.
                    Some(n) => {
                        word.push(super::strings::escape(n));
                        self.pos += 2;
                        continue;
                    }
                }
            }
            word.push(c);
            self.pos += 1;
        }
        if word.is_empty() {
            return Err(self.unexpected());
        }
        Ok(word)
    }
}

/// The integer a bare word denotes (`5`, `-1`, `0x1F`, `10KB`), as PowerShell reads numeric arguments.
pub(super) fn number_value(word: &str) -> Option<i64> {
    let (negative, digits) = match word.chars().next() {
        Some(c) if is_dash(c) => (true, &word[c.len_utf8()..]),
        _ => (false, word),
    };
    if !digits.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let lower = digits.to_ascii_lowercase();
    // `split_at_checked`: a word such as `1€` has no character boundary two bytes from its end.
    let (body, multiplier) = match lower.len().checked_sub(2).and_then(|i| lower.split_at_checked(i)) {
        Some((b, "kb")) => (b.to_string(), 1i64 << 10),
        Some((b, "mb")) => (b.to_string(), 1 << 20),
        Some((b, "gb")) => (b.to_string(), 1 << 30),
        Some((b, "tb")) => (b.to_string(), 1 << 40),
        _ => (lower.clone(), 1),
    };
    let n = match body.strip_prefix("0x") {
        Some(hex) => i64::from_str_radix(hex, 16).ok()?,
        None if body.chars().all(|c| c.is_ascii_digit()) => body.parse::<i64>().ok()?,
        None => return None,
    };
    let n = n.checked_mul(multiplier)?;
    Some(if negative { -n } else { n })
}
