//! Expression mode: operators, variables, literals, and the bracketed forms shared with command mode
//! (`( … )`, `$( … )`, `@( … )`, `@{ … }`, `{ … }`).

use super::ast::{BinaryOp, CompareOp, Expr, Pipeline, ScriptBlock, UnaryOp};
use super::command::number_value;
use super::cursor::{PResult, Parser, is_dash, is_double_quote, is_ident, is_single_quote};

/// Binding strength of binary operators (higher binds tighter).
fn precedence(op: BinaryOp) -> u8 {
    match op {
        BinaryOp::And | BinaryOp::Or | BinaryOp::Xor => 1,
        BinaryOp::Compare { .. } => 2,
        BinaryOp::Add | BinaryOp::Subtract => 3,
        BinaryOp::Multiply | BinaryOp::Divide | BinaryOp::Remainder => 4,
        BinaryOp::Range => 5,
    }
}

impl Parser {
    /// A full expression.
    pub(super) fn parse_expression(&mut self) -> PResult<Expr> {
        self.parse_binary(1)
    }

    fn parse_binary(&mut self, min_prec: u8) -> PResult<Expr> {
        let left = self.parse_unary()?;
        // Each operator of a chain `a + b + c …` nests the tree one level deeper on the left, and evaluating or
        // dropping the tree recurses that deep: a chain counts as nesting, like brackets do.
        let mut links = 0;
        let result = self.parse_binary_chain(min_prec, left, &mut links);
        self.depth_release(links);
        result
    }

    fn parse_binary_chain(&mut self, min_prec: u8, mut left: Expr, links: &mut usize) -> PResult<Expr> {
        loop {
            self.skip_trivia(false)?;
            let op_start = self.pos;
            let Some((op, len)) = self.peek_binary_operator()? else { break };
            if precedence(op) < min_prec {
                break;
            }
            self.pos += len;
            let op_text = self.text(op_start, self.pos);
            self.skip_trivia(true)?;
            if self.peek().is_none_or(|c| matches!(c, ')' | '}' | ';' | '|' | ',')) {
                let incomplete = self.peek().is_none();
                return Err(self.error_at(
                    self.pos,
                    format!("You must provide a value expression following the '{op_text}' operator."),
                    incomplete,
                ));
            }
            self.enter()?;
            *links += 1;
            let right = self.parse_binary(precedence(op) + 1)?;
            left = Expr::Binary { op, left: Box::new(left), right: Box::new(right) };
        }
        Ok(left)
    }

    /// The binary operator at the cursor and its length in characters; an unknown `-word` is an error.
    fn peek_binary_operator(&self) -> PResult<Option<(BinaryOp, usize)>> {
        let Some(c) = self.peek() else { return Ok(None) };
        let simple = match c {
            '+' => Some(BinaryOp::Add),
            '*' => Some(BinaryOp::Multiply),
            '/' => Some(BinaryOp::Divide),
            '%' => Some(BinaryOp::Remainder),
            '.' if self.peek_at(1) == Some('.') => return Ok(Some((BinaryOp::Range, 2))),
            _ => None,
        };
        if let Some(op) = simple {
            return Ok(Some((op, 1)));
        }
        if !is_dash(c) {
            return Ok(None);
        }
        if !self.peek_at(1).is_some_and(|c| c.is_ascii_alphabetic()) {
            return Ok(Some((BinaryOp::Subtract, 1)));
        }
        let mut len = 1;
        while self.peek_at(len).is_some_and(is_ident) {
            len += 1;
        }
        let word = self.text(self.pos + 1, self.pos + len).to_ascii_lowercase();
        let op = match word.as_str() {
            "and" => Some(BinaryOp::And),
            "or" => Some(BinaryOp::Or),
            "xor" => Some(BinaryOp::Xor),
            w => {
                let (case_sensitive, base) = match (w.strip_prefix('c'), w.strip_prefix('i')) {
                    (Some(rest), _) if CompareOp::from_word(rest).is_some() && CompareOp::from_word(w).is_none() => {
                        (true, rest)
                    }
                    (_, Some(rest)) if CompareOp::from_word(rest).is_some() && CompareOp::from_word(w).is_none() => {
                        (false, rest)
                    }
                    _ => (false, w),
                };
                CompareOp::from_word(base).map(|op| BinaryOp::Compare { op, case_sensitive })
            }
        };
        match op {
            Some(op) => Ok(Some((op, len))),
            None => Err(self.error_at(
                self.pos,
                format!(
                    "Unexpected token '-{word}' in expression or statement. Operators this shell knows: -eq -ne -gt \
                     -ge -lt -le -like -notlike -match -notmatch -contains -notcontains -in -notin -and -or -xor \
                     -not."
                ),
                false,
            )),
        }
    }

    fn parse_unary(&mut self) -> PResult<Expr> {
        let op = if self.peek() == Some('!') {
            self.pos += 1;
            Some(UnaryOp::Not)
        } else if self.at_word_operator("not") {
            self.pos += 4;
            Some(UnaryOp::Not)
        } else if self.peek().is_some_and(is_dash) && matches!(self.peek_at(1), Some('$' | '(')) {
            self.pos += 1;
            Some(UnaryOp::Negate)
        } else if self.peek() == Some('[') {
            return self.parse_cast();
        } else {
            None
        };
        match op {
            Some(op) => {
                self.skip_trivia(false)?;
                if self.peek().is_none() {
                    return Err(self.error_at(self.pos, "Missing expression after unary operator.", true));
                }
                self.enter()?;
                let operand = self.parse_unary();
                self.leave();
                Ok(Expr::Unary { op, operand: Box::new(operand?) })
            }
            None => self.parse_comma(),
        }
    }

    fn parse_cast(&mut self) -> PResult<Expr> {
        let start = self.pos;
        let Some(end) = (self.pos + 1..self.chars.len()).find(|&i| self.chars[i] == ']' || self.chars[i] == '\n')
        else {
            return Err(self.error_at(start, "Missing ']' after type name.", true));
        };
        if self.chars[end] != ']' {
            return Err(self.error_at(start, "Missing ']' after type name.", false));
        }
        let type_name = self.text(start + 1, end).trim().to_ascii_lowercase();
        let known = ["int", "long", "string", "bool", "datetime", "array", "object[]", "string[]"];
        if !known.contains(&type_name.as_str()) {
            return Err(self.error_at(
                start,
                format!("Unable to find type [{type_name}]. This shell knows [int], [string], [bool], [datetime] and [array]."),
                false,
            ));
        }
        self.pos = end + 1;
        self.skip_trivia(false)?;
        if self.peek().is_none_or(|c| matches!(c, ')' | '}' | ';' | '|' | '\n' | '\r')) {
            let incomplete = self.peek().is_none();
            return Err(self.error_at(self.pos, "Missing expression after the type cast.", incomplete));
        }
        self.enter()?;
        let operand = self.parse_unary();
        self.leave();
        Ok(Expr::Cast { type_name, operand: Box::new(operand?) })
    }

    /// `a, b, c` (the comma binds tighter than arithmetic and comparison, as in PowerShell).
    fn parse_comma(&mut self) -> PResult<Expr> {
        self.comma_list(Self::parse_postfix)
    }

    /// `item` or `item, item, …` as an array: shared by expression mode and
    /// command arguments, which differ only in what one item is.
    pub(super) fn comma_list(&mut self, item: fn(&mut Self) -> PResult<Expr>) -> PResult<Expr> {
        let first = item(self)?;
        self.skip_trivia(false)?;
        if self.peek() != Some(',') {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.peek() == Some(',') {
            let comma = self.pos;
            self.pos += 1;
            self.skip_trivia(true)?;
            match self.peek() {
                None => return Err(self.error_at(comma, "Missing expression after ','.", true)),
                Some(';' | '|' | ')' | '}' | ',') => {
                    return Err(self.error_at(comma, "Missing expression after ','.", false));
                }
                _ => {}
            }
            items.push(item(self)?);
            self.skip_trivia(false)?;
        }
        Ok(Expr::Array(items))
    }

    /// A primary followed by member access `.Name` and indexing `[i]` written directly after it.
    pub(super) fn parse_postfix(&mut self) -> PResult<Expr> {
        let expr = self.parse_primary()?;
        // Like operator chains, `.a.b.c` and `[0][0]` nest the tree one level per link.
        let mut links = 0;
        let result = self.parse_postfix_chain(expr, &mut links);
        self.depth_release(links);
        result
    }

    fn parse_postfix_chain(&mut self, mut expr: Expr, links: &mut usize) -> PResult<Expr> {
        loop {
            match self.peek() {
                Some('.')
                    if self.peek_at(1).is_some_and(|c| is_ident(c) || is_single_quote(c) || is_double_quote(c)) =>
                {
                    self.enter()?;
                    *links += 1;
                    self.pos += 1;
                    let name = match self.peek() {
                        Some(c) if is_ident(c) => {
                            let start = self.pos;
                            while self.peek().is_some_and(is_ident) {
                                self.pos += 1;
                            }
                            self.text(start, self.pos)
                        }
                        _ => match self.parse_string()? {
                            Expr::String(s) => s,
                            _ => {
                                return Err(self.error_at(
                                    self.pos,
                                    "A member name must be a literal string here.",
                                    false,
                                ));
                            }
                        },
                    };
                    if self.peek() == Some('(') {
                        return Err(self.error_at(
                            self.pos,
                            format!("Method calls such as '.{name}()' are not supported in this shell."),
                            false,
                        ));
                    }
                    expr = Expr::Member { target: Box::new(expr), name };
                }
                Some('[') => {
                    self.enter()?;
                    *links += 1;
                    let open = self.pos;
                    self.pos += 1;
                    self.enter()?;
                    self.skip_trivia(true)?;
                    let index = self.parse_expression();
                    self.leave();
                    let index = index?;
                    self.skip_trivia(true)?;
                    match self.peek() {
                        Some(']') => self.pos += 1,
                        None => return Err(self.error_at(open, "Missing ']' after array index expression.", true)),
                        Some(_) => return Err(self.unexpected()),
                    }
                    expr = Expr::Index { target: Box::new(expr), index: Box::new(index) };
                }
                _ => break,
            }
        }
        Ok(expr)
    }

    /// A primary expression.
    pub(super) fn parse_primary(&mut self) -> PResult<Expr> {
        let Some(c) = self.peek() else {
            return Err(self.error_at(self.pos, "An expression was expected.", true));
        };
        match c {
            '$' => {
                let start = self.pos;
                self.pos += 1;
                if self.peek() == Some('(') {
                    return Ok(Expr::Subexpression(self.parse_group(start, ')')?));
                }
                match self.read_variable_name() {
                    Some(name) => Ok(Expr::Variable(name)),
                    None => Err(self.error_at(
                        start,
                        "Variable reference is not valid. '$' was not followed by a valid variable name character.",
                        false,
                    )),
                }
            }
            '@' if self.peek_at(1) == Some('(') => {
                let start = self.pos;
                self.pos += 1;
                Ok(Expr::ArraySubexpression(self.parse_group(start, ')')?))
            }
            '@' if self.peek_at(1) == Some('{') => self.parse_hashtable(),
            '(' => self.parse_paren(),
            '{' => self.parse_script_block(),
            c if is_single_quote(c) || is_double_quote(c) => self.parse_string(),
            c if c.is_ascii_digit() || (is_dash(c) && self.peek_at(1).is_some_and(|d| d.is_ascii_digit())) => {
                self.parse_number()
            }
            _ => Err(self.unexpected()),
        }
    }

    fn parse_number(&mut self) -> PResult<Expr> {
        let start = self.pos;
        self.pos += 1;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
            self.pos += 1;
        }
        // Decimal fractions have no numeric type here; they stay strings (`[string]1.5`).
        if self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
            return Ok(Expr::String(self.text(start, self.pos)));
        }
        let word = self.text(start, self.pos);
        match number_value(&word) {
            Some(n) => Ok(Expr::Int(n)),
            None => {
                self.pos = start;
                Err(self.error_at(start, format!("Unexpected token '{word}' in expression or statement."), false))
            }
        }
    }

    /// `( pipeline )`.
    fn parse_paren(&mut self) -> PResult<Expr> {
        let open = self.pos;
        self.pos += 1;
        self.enter()?;
        let result = self.parse_paren_inner(open);
        self.leave();
        result
    }

    fn parse_paren_inner(&mut self, open: usize) -> PResult<Expr> {
        self.skip_trivia(true)?;
        match self.peek() {
            None => return Err(self.error_at(open, "Missing closing ')' in expression.", true)),
            Some(')') => return Err(self.error_at(self.pos, "An expression was expected after '('.", false)),
            _ => {}
        }
        let pipeline = self.parse_pipeline()?;
        self.skip_trivia(true)?;
        match self.peek() {
            Some(')') => {
                self.pos += 1;
                Ok(Expr::Paren(Box::new(pipeline)))
            }
            None => Err(self.error_at(open, "Missing closing ')' in expression.", true)),
            Some(_) => Err(self.unexpected()),
        }
    }

    /// `$( … )` or `@( … )` with the cursor on the `(`: a list of statements.
    fn parse_group(&mut self, start: usize, close: char) -> PResult<Vec<super::ast::Statement>> {
        self.pos += 1;
        self.enter()?;
        let statements = self.parse_statements(Some(close));
        self.leave();
        let statements = statements?;
        match self.peek() {
            Some(c) if c == close => {
                self.pos += 1;
                Ok(statements)
            }
            _ => Err(self.error_at(start, "Missing closing ')' in subexpression.", true)),
        }
    }

    /// `{ statements }`.
    fn parse_script_block(&mut self) -> PResult<Expr> {
        let open = self.pos;
        self.pos += 1;
        self.enter()?;
        let statements = self.parse_statements(Some('}'));
        self.leave();
        let statements = statements?;
        if self.peek() != Some('}') {
            return Err(self.error_at(open, "Missing closing '}' in statement block or type definition.", true));
        }
        let text = self.text(open + 1, self.pos);
        self.pos += 1;
        Ok(Expr::ScriptBlock(ScriptBlock { text, statements }))
    }

    /// `@{ Key = value; Other = value }`; keys are case-insensitive and must be unique.
    fn parse_hashtable(&mut self) -> PResult<Expr> {
        let open = self.pos;
        self.pos += 2;
        self.enter()?;
        let entries = self.parse_hashtable_entries(open);
        self.leave();
        Ok(Expr::Hashtable(entries?))
    }

    fn parse_hashtable_entries(&mut self, open: usize) -> PResult<Vec<(String, Pipeline)>> {
        let mut entries: Vec<(String, Pipeline)> = Vec::new();
        loop {
            self.skip_trivia(true)?;
            while self.peek() == Some(';') {
                self.pos += 1;
                self.skip_trivia(true)?;
            }
            let key_pos = self.pos;
            let key = match self.peek() {
                None => return Err(self.error_at(open, "Missing closing '}' in hash literal.", true)),
                Some('}') => {
                    self.pos += 1;
                    return Ok(entries);
                }
                Some(c) if is_single_quote(c) || is_double_quote(c) => match self.parse_string()? {
                    Expr::String(s) => s,
                    _ => return Err(self.error_at(key_pos, "A hash key must be a literal string here.", false)),
                },
                Some(c) if is_ident(c) || is_dash(c) => {
                    while self.peek().is_some_and(|c| is_ident(c) || is_dash(c) || c == '.') {
                        self.pos += 1;
                    }
                    self.text(key_pos, self.pos)
                }
                Some(_) => return Err(self.error_at(key_pos, "Missing key before '=' in hash literal.", false)),
            };
            self.skip_trivia(false)?;
            match self.peek() {
                Some('=') => self.pos += 1,
                None => return Err(self.error_at(open, "Missing closing '}' in hash literal.", true)),
                Some(_) => {
                    return Err(self.error_at(self.pos, "Missing '=' operator after key in hash literal.", false));
                }
            }
            self.skip_trivia(true)?;
            match self.peek() {
                None => return Err(self.error_at(open, "Missing closing '}' in hash literal.", true)),
                Some(';' | '}') => {
                    return Err(self.error_at(self.pos, "Missing statement after '=' in hash literal.", false));
                }
                _ => {}
            }
            let value = self.parse_pipeline()?;
            if entries.iter().any(|(k, _)| k.eq_ignore_ascii_case(&key)) {
                return Err(self.error_at(
                    key_pos,
                    format!("Duplicate keys '{key}' are not allowed in hash literals."),
                    false,
                ));
            }
            entries.push((key, value));
            self.skip_trivia(false)?;
            match self.peek() {
                Some(';' | '\n' | '\r' | '}') => {}
                None => return Err(self.error_at(open, "Missing closing '}' in hash literal.", true)),
                Some(_) => return Err(self.unexpected()),
            }
        }
    }
}
