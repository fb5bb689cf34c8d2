//! Recursive descent over the tokens, with a depth limit so that hostile input
//! is an error rather than a stack overflow.

use super::lexer::{Tok, Token, lex};
use super::{CompareOp, Comparison, Filter, FilterError, MAX_DEPTH, Property, Value};

/// Parses an OPATH filter such as `Department -eq 'Sales' -and RecipientType -eq 'UserMailbox'` (spec §6).
///
/// The whole filter may be wrapped in `{ }` as PowerShell script-block syntax does.
pub fn parse(filter: &str) -> Result<Filter, FilterError> {
    let tokens = lex(filter)?;
    let end = filter.chars().count() + 1;
    let mut p = Parser { tokens, i: 0, depth: 0, end };
    if p.tokens.is_empty() {
        return Err(FilterError::Empty);
    }
    let braced = p.eat(|t| matches!(t, Tok::OpenBrace));
    let f = p.or()?;
    if braced && !p.eat(|t| matches!(t, Tok::CloseBrace)) {
        return Err(p.expected("'}' closing the filter"));
    }
    match p.peek() {
        None => Ok(f),
        Some(Token { tok: Tok::Close, pos }) => Err(FilterError::UnmatchedParenthesis { position: *pos }),
        Some(Token { tok: Tok::Op(op), pos }) if !is_known_op(op) => {
            Err(FilterError::UnknownOperator { op: op.clone(), position: *pos })
        }
        Some(_) => Err(p.expected("-and, -or or the end of the filter")),
    }
}

fn is_known_op(op: &str) -> bool {
    matches!(op, "eq" | "ne" | "like" | "notlike" | "and" | "or" | "not")
}

struct Parser {
    tokens: Vec<Token>,
    i: usize,
    depth: usize,
    /// The position just past the input, reported for errors at the end.
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.i)
    }

    fn pos(&self) -> usize {
        self.peek().map_or(self.end, |t| t.pos)
    }

    fn eat(&mut self, want: impl Fn(&Tok) -> bool) -> bool {
        let hit = self.peek().is_some_and(|t| want(&t.tok));
        if hit {
            self.i += 1;
        }
        hit
    }

    fn expected(&self, expected: &'static str) -> FilterError {
        FilterError::Expected {
            expected,
            found: self.peek().map_or_else(|| "the end of the filter".into(), Token::describe),
            position: self.pos(),
        }
    }

    fn enter(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH { Err(FilterError::TooDeep { position: self.pos() }) } else { Ok(()) }
    }

    /// `and (-or and)*`
    fn or(&mut self) -> Result<Filter, FilterError> {
        let mut items = vec![self.and()?];
        while self.eat(|t| matches!(t, Tok::Op(o) if o == "or")) {
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 { items.swap_remove(0) } else { Filter::Or(items) })
    }

    /// `not (-and not)*`
    fn and(&mut self) -> Result<Filter, FilterError> {
        let mut items = vec![self.not()?];
        while self.eat(|t| matches!(t, Tok::Op(o) if o == "and")) {
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 { items.swap_remove(0) } else { Filter::And(items) })
    }

    /// `-not not | primary`
    fn not(&mut self) -> Result<Filter, FilterError> {
        if self.eat(|t| matches!(t, Tok::Op(o) if o == "not")) {
            self.enter()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Filter::Not(Box::new(inner)));
        }
        self.primary()
    }

    /// `( or ) | comparison`
    fn primary(&mut self) -> Result<Filter, FilterError> {
        let Some(open) = self.peek().filter(|t| t.tok == Tok::Open).map(|t| t.pos) else {
            return self.comparison();
        };
        self.i += 1;
        self.enter()?;
        let inner = self.or()?;
        self.depth -= 1;
        match self.peek() {
            Some(Token { tok: Tok::Close, .. }) => {
                self.i += 1;
                Ok(inner)
            }
            None => Err(FilterError::UnclosedParenthesis { position: open }),
            Some(Token { tok: Tok::Op(op), pos }) if !is_known_op(op) => {
                Err(FilterError::UnknownOperator { op: op.clone(), position: *pos })
            }
            Some(_) => Err(self.expected("-and, -or or ')'")),
        }
    }

    /// `Property -op value`
    fn comparison(&mut self) -> Result<Filter, FilterError> {
        let property = match self.peek() {
            Some(Token { tok: Tok::Word(name), pos }) => match Property::from_name(name) {
                Some(p) => p,
                None => return Err(FilterError::UnknownProperty { name: name.clone(), position: *pos }),
            },
            Some(Token { tok: Tok::Op(op), pos }) if !is_known_op(op) => {
                return Err(FilterError::UnknownOperator { op: op.clone(), position: *pos });
            }
            _ => return Err(self.expected("a property name or '('")),
        };
        self.i += 1;
        let op = match self.peek().map(|t| &t.tok) {
            Some(Tok::Op(o)) => match o.as_str() {
                "eq" => CompareOp::Eq,
                "ne" => CompareOp::Ne,
                "like" => CompareOp::Like,
                "notlike" => CompareOp::NotLike,
                other if !is_known_op(other) => {
                    return Err(FilterError::UnknownOperator { op: other.to_owned(), position: self.pos() });
                }
                _ => return Err(self.expected("a comparison operator (-eq, -ne, -like, -notlike)")),
            },
            _ => return Err(self.expected("a comparison operator (-eq, -ne, -like, -notlike)")),
        };
        self.i += 1;
        let value_pos = self.pos();
        let value = match self.peek().map(|t| &t.tok) {
            Some(Tok::Text(t) | Tok::Word(t)) => Value::Text(t.clone()),
            Some(Tok::Var(v)) => match v.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => return Err(FilterError::UnknownVariable { name: v.clone(), position: value_pos }),
            },
            _ => return Err(self.expected("a value ('text', $true, $false or $null)")),
        };
        self.i += 1;
        let value = if property.is_bool() { boolean(property, value, value_pos)? } else { value };
        Ok(Filter::Compare(Comparison { property, op, value }))
    }
}

/// A true/false property accepts `$true`, `$false`, `$null` and the texts `true`/`false`.
fn boolean(property: Property, value: Value, position: usize) -> Result<Value, FilterError> {
    match value {
        Value::Text(t) if t.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
        Value::Text(t) if t.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
        Value::Text(t) => Err(FilterError::NotABoolean { property: property.as_str(), value: t, position }),
        other => Ok(other),
    }
}
