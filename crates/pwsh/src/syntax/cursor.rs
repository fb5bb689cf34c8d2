//! The parser's state, character classes, trivia (whitespace, comments, line continuations) and the
//! statement/pipeline level of the grammar.

use super::ast::{AssignOp, Pipeline, PipelineElement, Statement, StatementKind};
use crate::error::ParseError;
use crate::limits::MAX_NESTING;

pub(super) type PResult<T> = Result<T, ParseError>;

/// Characters PowerShell accepts as a dash: `-`, en dash, em dash, horizontal bar.
pub(super) fn is_dash(c: char) -> bool {
    matches!(c, '-' | '\u{2013}' | '\u{2014}' | '\u{2015}')
}

/// Characters PowerShell accepts as a single quote (including the typographic ones word processors insert).
pub(super) fn is_single_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}')
}

/// Characters PowerShell accepts as a double quote.
pub(super) fn is_double_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201C}' | '\u{201D}' | '\u{201E}')
}

/// Whitespace that does not end a statement. U+FEFF counts: Windows editors start .ps1 files with it as a byte
/// order mark, and PowerShell ignores it rather than reading it into the first command's name.
pub(super) fn is_hspace(c: char) -> bool {
    c != '\n' && c != '\r' && (c.is_whitespace() || c == '\u{FEFF}')
}

pub(super) fn is_newline(c: char) -> bool {
    c == '\n' || c == '\r'
}

/// Characters of a variable or member name.
pub(super) fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The parser: a cursor over the script's characters.
pub(super) struct Parser {
    pub(super) chars: Vec<char>,
    pub(super) pos: usize,
    depth: usize,
    /// End of the last token before the most recent run of trivia (for statement texts).
    last_end: usize,
    /// Where the most recent run of trivia ended.
    trivia_end: usize,
    /// Start positions of the top-level statements, for errors found after parsing.
    pub(crate) top_level_starts: Vec<usize>,
    /// No `}` follows this position (found by a failed `${name}` search).
    no_closing_brace_from: usize,
}

impl Parser {
    pub(super) fn new(src: &str) -> Self {
        Parser {
            chars: src.chars().collect(),
            pos: 0,
            depth: 0,
            last_end: 0,
            trivia_end: usize::MAX,
            top_level_starts: Vec::new(),
            no_closing_brace_from: usize::MAX,
        }
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    pub(super) fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }

    pub(super) fn text(&self, from: usize, to: usize) -> String {
        self.chars[from.min(to)..to.min(self.chars.len())].iter().collect()
    }

    /// An error at character index `at`.
    pub(crate) fn error_at(&self, at: usize, message: impl Into<String>, incomplete: bool) -> ParseError {
        let at = at.min(self.chars.len());
        let mut line = 1;
        let mut column = 1;
        let mut prev_cr = false;
        for &c in &self.chars[..at] {
            match c {
                '\n' if prev_cr => {}
                '\n' | '\r' => {
                    line += 1;
                    column = 1;
                }
                _ => column += 1,
            }
            prev_cr = c == '\r';
        }
        ParseError { line, column, message: message.into(), incomplete }
    }

    /// `Unexpected token 'x' in expression or statement.` for the token at the cursor.
    pub(super) fn unexpected(&self) -> ParseError {
        let end = (self.pos..self.chars.len())
            .find(|&i| {
                let c = self.chars[i];
                is_hspace(c) || is_newline(c) || (i > self.pos && "|;(){},".contains(c))
            })
            .unwrap_or(self.chars.len())
            .max(self.pos + 1);
        let token: String = self.text(self.pos, end.min(self.pos + 40));
        self.error_at(self.pos, format!("Unexpected token '{token}' in expression or statement."), false)
    }

    /// Enters one level of nesting, refusing to go deeper than [`MAX_NESTING`].
    pub(super) fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.error_at(
                self.pos,
                format!("The script nests parentheses, braces, arrays or operators deeper than {MAX_NESTING} levels."),
                false,
            ));
        }
        Ok(())
    }

    pub(super) fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Leaves `levels` levels entered one by one (the links of an operator or member chain).
    pub(super) fn depth_release(&mut self, levels: usize) {
        self.depth = self.depth.saturating_sub(levels);
    }

    /// Skips spaces, comments and backtick line continuations; also newlines when `newlines` is set.
    pub(super) fn skip_trivia(&mut self, newlines: bool) -> PResult<()> {
        if self.pos != self.trivia_end {
            self.last_end = self.pos;
        }
        loop {
            match self.peek() {
                Some(c) if is_hspace(c) => self.pos += 1,
                Some(c) if newlines && is_newline(c) => self.pos += 1,
                Some('`') => {
                    let len = match self.peek_at(1) {
                        Some('\r') if self.peek_at(2) == Some('\n') => 3,
                        Some(c) if is_newline(c) => 2,
                        None => 1,
                        _ => break,
                    };
                    // A continued line promises another: when the input ends right after it (the interactive
                    // prompt sends each line with its newline) the statement is incomplete, not finished.
                    if self.pos + len >= self.chars.len() {
                        return Err(self.error_at(
                            self.pos,
                            "A line ending with a backtick (`) continues on the next line, but the script ends here.",
                            true,
                        ));
                    }
                    self.pos += len;
                }
                Some('#') => {
                    while self.peek().is_some_and(|c| !is_newline(c)) {
                        self.pos += 1;
                    }
                }
                Some('<') if self.peek_at(1) == Some('#') => {
                    let start = self.pos;
                    self.pos += 2;
                    loop {
                        match self.peek() {
                            None => {
                                return Err(self.error_at(start, "Missing the end of a block comment: '#>'.", true));
                            }
                            Some('#') if self.peek_at(1) == Some('>') => {
                                self.pos += 2;
                                break;
                            }
                            _ => self.pos += 1,
                        }
                    }
                }
                _ => break,
            }
        }
        self.trivia_end = self.pos;
        Ok(())
    }

    /// The end of the last token consumed (ignoring trailing trivia).
    fn token_end(&self) -> usize {
        if self.pos != self.trivia_end { self.pos } else { self.last_end }
    }

    /// Parses statements until `terminator` (not consumed) or the end of input.
    pub(super) fn parse_statements(&mut self, terminator: Option<char>) -> PResult<Vec<Statement>> {
        let mut statements = Vec::new();
        loop {
            self.skip_trivia(true)?;
            while self.peek() == Some(';') {
                self.pos += 1;
                self.skip_trivia(true)?;
            }
            match self.peek() {
                None => break,
                Some(c) if Some(c) == terminator => break,
                _ => {}
            }
            let start = self.pos;
            let statement = self.parse_statement()?;
            if terminator.is_none() {
                self.top_level_starts.push(start);
            }
            statements.push(statement);
            self.skip_trivia(false)?;
            match self.peek() {
                None | Some('\n' | '\r' | ';') => {}
                Some(c) if Some(c) == terminator => {}
                Some(_) => return Err(self.unexpected()),
            }
        }
        Ok(statements)
    }

    fn parse_statement(&mut self) -> PResult<Statement> {
        let start = self.pos;
        let kind = match self.try_assignment_target()? {
            Some((variable, op)) => {
                self.skip_trivia(true)?;
                if self.peek().is_none_or(|c| c == ';' || c == ')' || c == '}') {
                    let incomplete = self.peek().is_none();
                    return Err(self.error_at(
                        self.pos,
                        "You must provide a value expression on the right-hand side of the assignment.",
                        incomplete,
                    ));
                }
                StatementKind::Assignment { variable, op, value: self.parse_pipeline()? }
            }
            None => StatementKind::Pipeline(self.parse_pipeline()?),
        };
        let end = self.token_end();
        Ok(Statement { kind, text: self.text(start, end) })
    }

    /// Recognises `$name =` / `$name +=` at the cursor, consuming it; otherwise leaves the cursor alone.
    fn try_assignment_target(&mut self) -> PResult<Option<(String, AssignOp)>> {
        if self.peek() != Some('$') {
            return Ok(None);
        }
        let save = self.pos;
        self.pos += 1;
        let Some(name) = self.read_variable_name() else {
            self.pos = save;
            return Ok(None);
        };
        while self.peek().is_some_and(is_hspace) {
            self.pos += 1;
        }
        let op = match (self.peek(), self.peek_at(1)) {
            (Some('='), _) => {
                self.pos += 1;
                AssignOp::Set
            }
            (Some('+'), Some('=')) => {
                self.pos += 2;
                AssignOp::Add
            }
            _ => {
                self.pos = save;
                return Ok(None);
            }
        };
        Ok(Some((name, op)))
    }

    /// Reads a variable name after `$` (`name`, `_`, `global:name`, `{any text}`, `?`).
    pub(super) fn read_variable_name(&mut self) -> Option<String> {
        match self.peek() {
            Some('{') => {
                // Once a search for the closing brace has failed, every later one would fail too: remembering
                // that keeps a line full of `${` linear instead of quadratic.
                if self.pos >= self.no_closing_brace_from {
                    return None;
                }
                let Some(end) = (self.pos + 1..self.chars.len()).find(|&i| self.chars[i] == '}') else {
                    self.no_closing_brace_from = self.pos;
                    return None;
                };
                let name = self.text(self.pos + 1, end);
                self.pos = end + 1;
                Some(name)
            }
            Some('?' | '^') => {
                self.pos += 1;
                Some(self.chars[self.pos - 1].to_string())
            }
            Some(c) if is_ident(c) => {
                let start = self.pos;
                while self.peek().is_some_and(is_ident) {
                    self.pos += 1;
                }
                let mut name = self.text(start, self.pos);
                if self.peek() == Some(':') && self.peek_at(1).is_some_and(is_ident) {
                    let scope = name.to_ascii_lowercase();
                    if matches!(scope.as_str(), "global" | "script" | "local" | "private" | "env" | "using") {
                        self.pos += 1;
                        let rest = self.pos;
                        while self.peek().is_some_and(is_ident) {
                            self.pos += 1;
                        }
                        let rest = self.text(rest, self.pos);
                        name = if scope == "env" { format!("env:{rest}") } else { rest };
                    }
                }
                Some(name)
            }
            _ => None,
        }
    }

    /// `element | element | …`; a `|` at the end of a line continues on the next.
    pub(super) fn parse_pipeline(&mut self) -> PResult<Pipeline> {
        let mut elements = vec![self.parse_pipeline_element(true)?];
        loop {
            self.skip_trivia(false)?;
            if self.peek() != Some('|') {
                break;
            }
            let bar = self.pos;
            self.pos += 1;
            if self.peek() == Some('|') {
                return Err(self.error_at(
                    bar,
                    "The token '||' is not supported in this shell; use ';' or a new line to separate statements.",
                    false,
                ));
            }
            self.skip_trivia(true)?;
            match self.peek() {
                None => return Err(self.error_at(bar, "An empty pipe element is not allowed.", true)),
                Some('|' | ';' | ')' | '}') => {
                    return Err(self.error_at(bar, "An empty pipe element is not allowed.", false));
                }
                _ => {}
            }
            elements.push(self.parse_pipeline_element(false)?);
        }
        Ok(Pipeline { elements })
    }

    fn parse_pipeline_element(&mut self, first: bool) -> PResult<PipelineElement> {
        let Some(c) = self.peek() else {
            return Err(self.error_at(self.pos, "An expression was expected.", true));
        };
        if self.starts_expression(c) {
            if !first {
                return Err(self.error_at(
                    self.pos,
                    "Expressions are only allowed as the first element of a pipeline.",
                    false,
                ));
            }
            return Ok(PipelineElement::Expression(self.parse_expression()?));
        }
        if matches!(c, ')' | '}' | ';' | ',' | '&' | '=' | '|') {
            return Err(self.unexpected());
        }
        Ok(PipelineElement::Command(self.parse_command()?))
    }

    /// Whether a pipeline element starting with `c` is an expression rather than a command.
    fn starts_expression(&self, c: char) -> bool {
        let next = self.peek_at(1);
        match c {
            '$' | '(' | '{' | '!' | '[' => true,
            '@' => matches!(next, Some('(' | '{')),
            c if is_single_quote(c) || is_double_quote(c) || c.is_ascii_digit() => true,
            c if is_dash(c) => match next {
                Some(n) if n.is_ascii_digit() || n == '$' || n == '(' => true,
                _ => self.at_word_operator("not"),
            },
            _ => false,
        }
    }

    /// Whether the cursor is on a dash followed by exactly this operator word (case-insensitive).
    pub(super) fn at_word_operator(&self, word: &str) -> bool {
        if !self.peek().is_some_and(is_dash) {
            return false;
        }
        let len = word.chars().count();
        let got: String = self.chars.iter().skip(self.pos + 1).take(len).collect();
        got.eq_ignore_ascii_case(word) && !self.peek_at(1 + len).is_some_and(is_ident)
    }
}
