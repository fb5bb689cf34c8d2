//! OData system query options (spec ref. §4.4): `$top`, `$skip`, `$select`, `$orderby`, `$count` and a `$filter`
//! subset, parsed from the raw URL query and evaluated against Graph JSON (`message::to_json`). Pure: no I/O.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};
use std::cmp::Ordering;

/// The largest `$top` Graph accepts for messages.
pub const MAX_TOP: usize = 1000;
/// The longest query string accepted, and the deepest `$filter` nesting (parentheses, `not`, lambdas).
pub const MAX_QUERY_LEN: usize = 4096;
/// See [`MAX_QUERY_LEN`].
pub const MAX_DEPTH: usize = 32;

/// The system query options of one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// `$top`: page size (1..=1000), `None` when absent (the caller applies Graph's default of 10).
    pub top: Option<usize>,
    /// `$skip`.
    pub skip: usize,
    /// `$select`: property names as the client wrote them.
    pub select: Option<Vec<String>>,
    /// `$orderby`, in priority order.
    pub orderby: Vec<OrderBy>,
    /// `$count=true`.
    pub count: bool,
    /// `$filter`.
    pub filter: Option<Filter>,
}

/// One `$orderby` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    /// A property path, e.g. `receivedDateTime` or `from/emailAddress/address`.
    pub path: String,
    /// `desc`.
    pub descending: bool,
}

/// A query Graph would refuse: always HTTP 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ODataError {
    /// Graph's error code (`BadRequest`).
    pub code: &'static str,
    /// Graph-like message, e.g. `Invalid filter clause: …`.
    pub message: String,
}

fn bad(message: impl Into<String>) -> ODataError {
    ODataError { code: "BadRequest", message: message.into() }
}

fn bad_filter(detail: impl std::fmt::Display) -> ODataError {
    bad(format!("Invalid filter clause: {detail}"))
}

/// A `$filter` literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer or decimal number.
    Number(f64),
    /// A quoted string (`''` unescaped).
    String(String),
    /// An unquoted DateTimeOffset (or date) literal.
    Date(DateTime<Utc>),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `eq`.
    Eq,
    /// `ne`.
    Ne,
    /// `gt`.
    Gt,
    /// `ge`.
    Ge,
    /// `lt`.
    Lt,
    /// `le`.
    Le,
}

/// A string function (case-insensitive, as Exchange compares strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrFn {
    /// `startswith(path,'x')`.
    StartsWith,
    /// `endswith(path,'x')`.
    EndsWith,
    /// `contains(path,'x')`.
    Contains,
}

/// A parsed `$filter` expression. Paths are split on `/`; inside a lambda the first segment may be its variable.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Every operand holds.
    And(Vec<Filter>),
    /// Some operand holds.
    Or(Vec<Filter>),
    /// `not`.
    Not(Box<Filter>),
    /// `path op literal`.
    Compare {
        /// The property path.
        path: Vec<String>,
        /// The operator.
        op: CmpOp,
        /// The literal.
        value: Literal,
    },
    /// `fn(path, 'text')`.
    Function {
        /// The function.
        func: StrFn,
        /// The property path.
        path: Vec<String>,
        /// The text argument.
        value: String,
    },
    /// `collection/any(v: predicate)` (`all` when `all` is set); `any()` without a predicate means "not empty".
    Lambda {
        /// The collection's path.
        collection: Vec<String>,
        /// `all` rather than `any`.
        all: bool,
        /// The range variable and the predicate, if any.
        predicate: Option<(String, Box<Filter>)>,
    },
}

/// Decodes one `application/x-www-form-urlencoded` component (`+` is a space; a bad `%` escape stays as it is).
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (b, hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
                continue;
            }
            (b'+', _) => out.push(b' '),
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.split('/').all(|seg| !seg.is_empty() && seg.chars().all(|c| c.is_alphanumeric() || "_.@".contains(c)))
}

/// Parses the raw URL query string (`$top=5&$filter=…`): option names with or without `$`, case-insensitively;
/// parameters that are not OData options are ignored.
pub fn parse(query: &str) -> Result<Query, ODataError> {
    if query.len() > MAX_QUERY_LEN {
        return Err(bad(format!("The query string is longer than {MAX_QUERY_LEN} characters.")));
    }
    let mut q = Query::default();
    let mut seen: Vec<String> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (name, value) = (decode(name), decode(value));
        let dollar = name.starts_with('$');
        let option = name.trim_start_matches('$').to_ascii_lowercase();
        let known = ["top", "skip", "select", "orderby", "count", "filter"].contains(&option.as_str());
        if !known {
            if dollar {
                return Err(bad(format!("The query parameter '{name}' is not supported.")));
            }
            continue;
        }
        if seen.contains(&option) {
            return Err(bad(format!(
                "Query option '${option}' was specified more than once, but it must be specified at most once."
            )));
        }
        seen.push(option.clone());
        let value = value.trim();
        match option.as_str() {
            "top" => match value.parse::<usize>() {
                Ok(n @ 1..=MAX_TOP) => q.top = Some(n),
                _ => return Err(bad(format!("'$top' must be between 1 and {MAX_TOP}"))),
            },
            "skip" => q.skip = value.parse().map_err(|_| bad("'$skip' must be a non-negative integer"))?,
            "count" => {
                q.count = match value.to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(bad(format!("'$count' must be true or false, not '{value}'"))),
                }
            }
            "select" => {
                let names: Vec<String> = value.split(',').map(|s| s.trim().to_string()).collect();
                if let Some(wrong) = names.iter().find(|n| !is_name(n) || n.contains('/')) {
                    return Err(bad(format!("Invalid $select: '{wrong}' is not a property name.")));
                }
                q.select = Some(names);
            }
            "orderby" => {
                for key in value.split(',') {
                    let words: Vec<&str> = key.split_whitespace().collect();
                    let descending = match words.get(1).map(|w| w.to_ascii_lowercase()).as_deref() {
                        None | Some("asc") => false,
                        Some("desc") => true,
                        Some(_) => return Err(bad(format!("Invalid $orderby: '{}'", key.trim()))),
                    };
                    match words.first() {
                        Some(path) if words.len() <= 2 && is_name(path) => {
                            q.orderby.push(OrderBy { path: path.to_string(), descending })
                        }
                        _ => return Err(bad(format!("Invalid $orderby: '{}'", key.trim()))),
                    }
                }
            }
            _ => q.filter = Some(parse_filter(value)?),
        }
    }
    Ok(q)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    Comma,
    Colon,
    Word(String),
    Str(String),
    Num(String),
}

fn lex(s: &str) -> Result<Vec<Tok>, ODataError> {
    let chars: Vec<char> = s.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    let take = |i: &mut usize, ok: fn(char) -> bool| {
        let start = *i;
        while chars.get(*i).is_some_and(|&c| ok(c)) {
            *i += 1;
        }
        chars.get(start..*i).unwrap_or_default().iter().collect::<String>()
    };
    while let Some(&c) = chars.get(i) {
        match c {
            c if c.is_whitespace() => i += 1,
            '(' | ')' | ',' | ':' => {
                toks.push(match c {
                    '(' => Tok::Open,
                    ')' => Tok::Close,
                    ',' => Tok::Comma,
                    _ => Tok::Colon,
                });
                i += 1;
            }
            '\'' => {
                let mut text = String::new();
                i += 1;
                loop {
                    match (chars.get(i), chars.get(i + 1)) {
                        (Some('\''), Some('\'')) => (text.push('\''), i += 2),
                        (Some('\''), _) => break,
                        (Some(&c), _) => (text.push(c), i += 1),
                        (None, _) => return Err(bad_filter("unterminated string literal")),
                    };
                }
                i += 1;
                toks.push(Tok::Str(text));
            }
            c if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) => {
                i += 1;
                let rest = take(&mut i, |c| c.is_ascii_alphanumeric() || ":.+-".contains(c));
                toks.push(Tok::Num(format!("{c}{rest}")));
            }
            c if c.is_alphanumeric() || c == '_' || c == '$' || c == '@' => {
                toks.push(Tok::Word(take(&mut i, |c| c.is_alphanumeric() || "_/.@$".contains(c))));
            }
            c => return Err(bad_filter(format!("unexpected character '{c}'"))),
        }
    }
    Ok(toks)
}

fn parse_number(s: &str) -> Option<Literal> {
    if s.len() >= 10 && s.as_bytes().get(4) == Some(&b'-') {
        let date = DateTime::parse_from_rfc3339(s).map(|d| d.to_utc()).ok();
        let day = || NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?.and_hms_opt(0, 0, 0).map(|d| d.and_utc());
        return date.or_else(day).map(Literal::Date);
    }
    s.parse::<f64>().ok().filter(|n| n.is_finite()).map(Literal::Number)
}

/// Parses a `$filter` expression (already URL-decoded).
pub fn parse_filter(text: &str) -> Result<Filter, ODataError> {
    if text.len() > MAX_QUERY_LEN {
        return Err(bad_filter("the expression is too long"));
    }
    let mut p = Parser { toks: lex(text)?, pos: 0, depth: 0 };
    let f = p.or()?;
    match p.toks.get(p.pos) {
        None => Ok(f),
        Some(t) => Err(bad_filter(format!("unexpected {} after the end of the expression", describe(Some(t))))),
    }
}

fn describe(t: Option<&Tok>) -> String {
    match t {
        None => "end of input".into(),
        Some(Tok::Open) => "'('".into(),
        Some(Tok::Close) => "')'".into(),
        Some(Tok::Comma) => "','".into(),
        Some(Tok::Colon) => "':'".into(),
        Some(Tok::Word(w) | Tok::Num(w)) => format!("'{w}'"),
        Some(Tok::Str(s)) => format!("string '{s}'"),
    }
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn eat_word(&mut self, word: &str) -> bool {
        let hit = matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(word));
        self.pos += usize::from(hit);
        hit
    }
    fn expect(&mut self, tok: Tok) -> Result<(), ODataError> {
        let t = self.next();
        if t.as_ref() == Some(&tok) {
            return Ok(());
        }
        Err(bad_filter(format!("expected {} but found {}", describe(Some(&tok)), describe(t.as_ref()))))
    }
    fn path(&mut self) -> Result<Vec<String>, ODataError> {
        match self.next() {
            Some(Tok::Word(w)) if is_name(&w) => Ok(w.split('/').map(str::to_string).collect()),
            t => Err(bad_filter(format!("expected a property path but found {}", describe(t.as_ref())))),
        }
    }
    fn or(&mut self) -> Result<Filter, ODataError> {
        let mut terms = vec![self.and()?];
        while self.eat_word("or") {
            terms.push(self.and()?);
        }
        Ok(if terms.len() == 1 { terms.remove(0) } else { Filter::Or(terms) })
    }
    fn and(&mut self) -> Result<Filter, ODataError> {
        let mut terms = vec![self.unary()?];
        while self.eat_word("and") {
            terms.push(self.unary()?);
        }
        Ok(if terms.len() == 1 { terms.remove(0) } else { Filter::And(terms) })
    }
    fn unary(&mut self) -> Result<Filter, ODataError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(bad_filter(format!("the expression is nested more than {MAX_DEPTH} levels deep")));
        }
        let f = if self.eat_word("not") { Filter::Not(Box::new(self.unary()?)) } else { self.primary()? };
        self.depth -= 1;
        Ok(f)
    }
    fn primary(&mut self) -> Result<Filter, ODataError> {
        let word = match self.next() {
            Some(Tok::Open) => {
                let f = self.or()?;
                self.expect(Tok::Close)?;
                return Ok(f);
            }
            Some(Tok::Word(w)) => w,
            t => return Err(bad_filter(format!("expected an expression but found {}", describe(t.as_ref())))),
        };
        if self.peek() == Some(&Tok::Open) {
            self.pos += 1;
            return self.call(&word);
        }
        let path = if is_name(&word) { word.split('/').map(str::to_string).collect() } else { Vec::new() };
        if path.is_empty() {
            return Err(bad_filter(format!("'{word}' is not a property path")));
        }
        let op = match self.next() {
            Some(Tok::Word(w)) => w.to_ascii_lowercase(),
            t => {
                return Err(bad_filter(format!(
                    "expected an operator after '{word}' but found {}",
                    describe(t.as_ref())
                )));
            }
        };
        use CmpOp::*;
        let ops = [("eq", Eq), ("ne", Ne), ("gt", Gt), ("ge", Ge), ("lt", Lt), ("le", Le)];
        let op = ops.iter().find(|(n, _)| *n == op).map(|(_, o)| *o);
        let op = op.ok_or_else(|| bad_filter(format!("unknown operator after '{word}'")))?;
        Ok(Filter::Compare { path, op, value: self.literal()? })
    }
    fn literal(&mut self) -> Result<Literal, ODataError> {
        let t = self.next();
        let lit = match &t {
            Some(Tok::Str(s)) => Some(Literal::String(s.clone())),
            Some(Tok::Num(n)) => parse_number(n),
            Some(Tok::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "null" => Some(Literal::Null),
                "true" => Some(Literal::Bool(true)),
                "false" => Some(Literal::Bool(false)),
                _ => None,
            },
            _ => None,
        };
        lit.ok_or_else(|| bad_filter(format!("expected a literal but found {}", describe(t.as_ref()))))
    }
    /// After `word(`: a string function or a lambda.
    fn call(&mut self, word: &str) -> Result<Filter, ODataError> {
        let funcs = [("startswith", StrFn::StartsWith), ("endswith", StrFn::EndsWith), ("contains", StrFn::Contains)];
        if let Some((_, func)) = funcs.iter().find(|(n, _)| n.eq_ignore_ascii_case(word)) {
            let path = self.path()?;
            self.expect(Tok::Comma)?;
            let value = match self.literal()? {
                Literal::String(s) => s,
                _ => return Err(bad_filter(format!("{word} needs a string argument"))),
            };
            self.expect(Tok::Close)?;
            return Ok(Filter::Function { func: *func, path, value });
        }
        let lambda = word
            .rsplit_once('/')
            .filter(|(c, k)| is_name(c) && ["any", "all"].contains(&k.to_ascii_lowercase().as_str()));
        let Some((collection, kind)) = lambda else {
            return Err(bad_filter(format!("unknown function '{word}'")));
        };
        let (collection, all) = (collection.split('/').map(str::to_string).collect(), kind.eq_ignore_ascii_case("all"));
        if self.peek() == Some(&Tok::Close) && !all {
            self.pos += 1;
            return Ok(Filter::Lambda { collection, all, predicate: None });
        }
        let var = match self.next() {
            Some(Tok::Word(v)) if is_name(&v) && !v.contains('/') => v,
            t => return Err(bad_filter(format!("expected a range variable but found {}", describe(t.as_ref())))),
        };
        self.expect(Tok::Colon)?;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(bad_filter(format!("the expression is nested more than {MAX_DEPTH} levels deep")));
        }
        let predicate = self.or()?;
        self.depth -= 1;
        self.expect(Tok::Close)?;
        Ok(Filter::Lambda { collection, all, predicate: Some((var, Box::new(predicate))) })
    }
}

/// Looks a property up by exact name, else case-insensitively.
fn member<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    let obj = v.as_object()?;
    obj.get(name).or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

fn resolve<'a, S: AsRef<str>>(item: &'a Value, path: &[S], env: &[(&'a str, &'a Value)]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let bound = env.iter().rev().find(|(name, _)| *name == first.as_ref()).map(|(_, v)| *v);
    let (start, rest) = match bound {
        Some(v) => (v, rest),
        None => (item, path),
    };
    rest.iter().try_fold(start, |v, seg| member(v, seg.as_ref()))
}

fn date(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|d| d.to_utc())
}

fn compare(v: Option<&Value>, lit: &Literal) -> Option<Ordering> {
    match (v.unwrap_or(&Value::Null), lit) {
        (Value::Null, Literal::Null) => Some(Ordering::Equal),
        (Value::String(s), Literal::String(l)) => Some(s.to_lowercase().cmp(&l.to_lowercase())),
        (Value::String(s), Literal::Date(d)) => date(s).map(|s| s.cmp(d)),
        (Value::Number(n), Literal::Number(l)) => n.as_f64()?.partial_cmp(l),
        (Value::Bool(b), Literal::Bool(l)) => Some(b.cmp(l)),
        _ => None,
    }
}

impl Filter {
    /// Whether a Graph JSON object satisfies the filter (a missing property is `null`).
    pub fn matches(&self, item: &Value) -> bool {
        self.eval(item, &[])
    }

    fn eval<'a>(&'a self, item: &'a Value, env: &[(&'a str, &'a Value)]) -> bool {
        match self {
            Filter::And(terms) => terms.iter().all(|t| t.eval(item, env)),
            Filter::Or(terms) => terms.iter().any(|t| t.eval(item, env)),
            Filter::Not(f) => !f.eval(item, env),
            Filter::Compare { path, op, value } => {
                let ord = compare(resolve(item, path, env), value);
                match op {
                    CmpOp::Eq => ord == Some(Ordering::Equal),
                    CmpOp::Ne => ord != Some(Ordering::Equal),
                    CmpOp::Gt => ord == Some(Ordering::Greater),
                    CmpOp::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
                    CmpOp::Lt => ord == Some(Ordering::Less),
                    CmpOp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
                }
            }
            Filter::Function { func, path, value } => {
                let Some(s) = resolve(item, path, env).and_then(Value::as_str) else { return false };
                let (s, value) = (s.to_lowercase(), value.to_lowercase());
                match func {
                    StrFn::StartsWith => s.starts_with(&value),
                    StrFn::EndsWith => s.ends_with(&value),
                    StrFn::Contains => s.contains(&value),
                }
            }
            Filter::Lambda { collection, all, predicate } => {
                let elements = resolve(item, collection, env).and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
                let test = |e: &'a Value| match predicate {
                    None => true,
                    Some((var, p)) => {
                        let mut inner = env.to_vec();
                        inner.push((var.as_str(), e));
                        p.eval(item, &inner)
                    }
                };
                if *all { elements.iter().all(test) } else { elements.iter().any(test) }
            }
        }
    }
}

/// Orders two JSON values for `$orderby`: null first, then booleans, numbers, strings (dates as instants,
/// other strings case-insensitively).
fn order(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    let rank = |v: Option<&Value>| match v.unwrap_or(&Value::Null) {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        _ => 4,
    };
    match (a, b) {
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (Some(Value::Number(x)), Some(Value::Number(y))) => {
            x.as_f64().unwrap_or(0.0).partial_cmp(&y.as_f64().unwrap_or(0.0)).unwrap_or(Ordering::Equal)
        }
        (Some(Value::String(x)), Some(Value::String(y))) => match (date(x), date(y)) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => x.to_lowercase().cmp(&y.to_lowercase()),
        },
        _ => rank(a).cmp(&rank(b)),
    }
}

/// Sorts items by `$orderby` keys (stable; ascending puts nulls first, descending last).
pub fn sort(items: &mut [Value], orderby: &[OrderBy]) {
    let paths: Vec<(Vec<&str>, bool)> = orderby.iter().map(|o| (o.path.split('/').collect(), o.descending)).collect();
    items.sort_by(|a, b| {
        paths.iter().fold(Ordering::Equal, |acc, (path, desc)| {
            acc.then_with(|| {
                let ord = order(resolve(a, path, &[]), resolve(b, path, &[]));
                if *desc { ord.reverse() } else { ord }
            })
        })
    });
}

/// Applies `$select`: keeps the named properties (matched case-insensitively) and always `@odata.etag` and `id`.
pub fn project(item: Map<String, Value>, select: Option<&[String]>) -> Map<String, Value> {
    let Some(select) = select else { return item };
    let keep = |k: &str| k == "@odata.etag" || k == "id" || select.iter().any(|s| s.eq_ignore_ascii_case(k));
    item.into_iter().filter(|(k, _)| keep(k)).collect()
}

/// Sorts items that are all in memory by `$orderby` and cuts the page
/// `$skip`/`$top` asks for; returns how many there were in all, and the page.
pub fn page_of(mut items: Vec<Value>, query: &Query, default_top: usize) -> (usize, Vec<Value>) {
    sort(&mut items, &query.orderby);
    let total = items.len();
    (total, items.into_iter().skip(query.skip).take(query.top.unwrap_or(default_top)).collect())
}

/// Graph's body for one page of a collection: `@odata.context`,
/// `@odata.count` when `$count=true`, `value` (each item narrowed by
/// `$select`) and `@odata.nextLink` (made by `next_link` from the next
/// `$skip`) when items remain. `total` counts every item that matched.
pub fn collection(
    query: &Query,
    context: String,
    total: usize,
    page: Vec<Value>,
    next_link: impl FnOnce(usize) -> String,
) -> Value {
    let shown = page.len();
    let value: Vec<Value> = page
        .into_iter()
        .map(|v| match v {
            Value::Object(m) => Value::Object(project(m, query.select.as_deref())),
            other => other,
        })
        .collect();
    let mut body = Map::new();
    body.insert("@odata.context".into(), Value::String(context));
    if query.count {
        body.insert("@odata.count".into(), Value::from(total));
    }
    body.insert("value".into(), Value::Array(value));
    if query.skip + shown < total {
        body.insert("@odata.nextLink".into(), Value::String(next_link(query.skip + shown)));
    }
    Value::Object(body)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn item() -> Value {
        json!({
            "@odata.etag": "W/\"1\"", "id": "m1", "subject": "It's the Q3 report", "isRead": false, "size": 42,
            "receivedDateTime": "2026-11-23T10:00:00Z", "flag": {"flagStatus": "flagged"}, "categories": ["Red"],
            "from": {"emailAddress": {"name": "Ann", "address": "Ann@Contoso.com"}}, "ccRecipients": [],
            "toRecipients": [{"emailAddress": {"address": "bob@x.test"}}, {"emailAddress": {"address": "eve@x.test"}}]
        })
    }
    fn check(filter: &str) -> bool {
        parse(&format!("$filter={filter}")).unwrap().filter.unwrap().matches(&item())
    }
    fn err(query: &str) -> String {
        let e = parse(query).unwrap_err();
        assert_eq!(e.code, "BadRequest");
        e.message
    }

    #[test]
    fn system_options_parse_with_or_without_dollar_and_in_any_case() {
        let q = parse("$top=5&$skip=10&$select=subject,%20From&$orderby=receivedDateTime+desc,subject&$count=true&x=1")
            .unwrap();
        assert_eq!((q.top, q.skip, q.count), (Some(5), 10, true));
        assert_eq!(q.select, Some(vec!["subject".to_string(), "From".to_string()]));
        let by = |path: &str, descending| OrderBy { path: path.into(), descending };
        assert_eq!(q.orderby, [by("receivedDateTime", true), by("subject", false)]);
        let q = parse("TOP=7&%24Skip=1&orderby=from/emailAddress/address%20ASC&filter=isRead%20eq%20false").unwrap();
        assert_eq!(
            (q.top, q.skip, q.orderby, q.filter.is_some()),
            (Some(7), 1, vec![by("from/emailAddress/address", false)], true)
        );
        assert_eq!(parse("").unwrap(), Query::default());
    }

    #[test]
    fn bad_system_options_are_refused() {
        assert_eq!(err("$top=0"), "'$top' must be between 1 and 1000");
        assert_eq!(err("$top=1001"), "'$top' must be between 1 and 1000");
        assert!(parse("$top=1000").is_ok() && parse("$top=1").is_ok());
        for q in ["$top=x", "$skip=-1", "$count=yes", "$select=", "$select=a,,b", "$orderby=subject sideways"] {
            assert!(parse(q).is_err(), "{q}");
        }
        assert!(err("$foo=1").contains("'$foo'"));
        assert!(err("$top=1&top=2").contains("more than once"));
        assert!(err(&format!("$filter={}", "a".repeat(MAX_QUERY_LEN))).contains("longer"));
    }

    #[test]
    fn comparisons_and_literals() {
        assert!(check("subject eq 'it''s the q3 REPORT'"));
        assert!(check("isRead eq false") && !check("isRead eq true") && check("isRead ne true"));
        assert!(check("size gt 41") && check("size ge 42") && check("size le 42") && !check("size lt 42"));
        assert!(
            check("receivedDateTime ge 2026-11-23T09:00:00Z")
                && !check("receivedDateTime gt 2026-11-23T11:00:00%2B01:00")
        );
        assert!(check("receivedDateTime lt 2026-11-24") && check("receivedDateTime eq 2026-11-23T10:00:00Z"));
        assert!(check("from/emailAddress/address eq 'ann@contoso.com'") && check("flag/flagStatus eq 'flagged'"));
        assert!(check("missing eq null") && check("subject ne null") && !check("missing gt 3"));
        assert!(!check("subject eq 5") && check("subject ne 5"));
    }

    #[test]
    fn boolean_operators_precedence_and_parentheses() {
        assert!(check("isRead eq true or size eq 42 and subject ne null"));
        assert!(!check("(isRead eq true or size eq 42) and subject eq null"));
        assert!(check("not (isRead eq true) and not isRead eq true"));
        assert!(check("NOT(size eq 1) AND (((size eq 42)))"));
    }

    #[test]
    fn string_functions_ignore_case() {
        assert!(check("startswith(subject,'IT''S')") && check("endswith(subject, 'REPORT')"));
        assert!(check("contains(from/emailAddress/address,'contoso')") && !check("contains(subject,'q4')"));
        assert!(!check("startswith(missing,'a')") && !check("contains(size,'4')"));
    }

    #[test]
    fn lambdas_bind_their_variable() {
        assert!(check("toRecipients/any(r: r/emailAddress/address eq 'EVE@x.test')"));
        assert!(!check("toRecipients/any(r:r/emailAddress/address eq 'mallory@x.test')"));
        assert!(check("toRecipients/all(r: endswith(r/emailAddress/address, '@x.test'))"));
        assert!(check("toRecipients/any()") && !check("ccRecipients/any()") && !check("missing/any(x: x eq 1)"));
        assert!(check("categories/any(c: c eq 'red') and toRecipients/any(r: startswith(r/emailAddress/address,'b'))"));
    }

    #[test]
    fn filter_errors_say_invalid_filter_clause() {
        let bad = [
            "subject eq",
            "subject eq 'x",
            "subject equals 'x'",
            "(subject eq 'x'",
            "subject eq 'x')",
            "frobnicate(a,'b')",
            "startswith(subject, 5)",
            "toRecipients/any(r r eq 1)",
            "eq 'x'",
            "subject eq 'x' isRead",
            "a eq #",
            "a eq b",
        ];
        for f in bad {
            let message = err(&format!("$filter={}", f.replace(' ', "%20").replace('#', "%23")));
            assert!(message.starts_with("Invalid filter clause: "), "{f}: {message}");
        }
        let deep = format!("{}a eq 1{}", "(".repeat(40), ")".repeat(40));
        assert!(err(&format!("$filter={deep}")).contains("nested"));
        let nots = format!("$filter={}a eq 1", "not ".repeat(40));
        assert!(err(&nots).contains("nested"));
        assert!(check(&format!("{}size eq 42{}", "(".repeat(30), ")".repeat(30))));
    }

    #[test]
    fn sort_is_stable_with_nulls_first_ascending() {
        let mut items = vec![
            json!({"id": 1, "d": "2026-11-23T10:00:00Z", "s": "b"}),
            json!({"id": 2, "d": "2026-11-23T09:00:00-02:00", "s": "A"}),
            json!({"id": 3, "s": "a"}),
            json!({"id": 4, "d": "2026-11-23T10:00:00Z", "s": "c"}),
        ];
        let ids = |items: &[Value]| items.iter().map(|i| i["id"].as_i64().unwrap()).collect::<Vec<_>>();
        sort(&mut items, &[OrderBy { path: "d".into(), descending: false }]);
        assert_eq!(ids(&items), [3, 1, 4, 2]);
        sort(
            &mut items,
            &[OrderBy { path: "d".into(), descending: true }, OrderBy { path: "s".into(), descending: true }],
        );
        assert_eq!(ids(&items), [2, 4, 1, 3]);
        sort(&mut items, &[OrderBy { path: "s".into(), descending: false }]);
        assert_eq!(ids(&items), [2, 3, 1, 4]);
    }

    #[test]
    fn project_keeps_etag_and_id_and_matches_names_case_insensitively() {
        let Value::Object(map) = item() else { unreachable!() };
        let selected = project(map.clone(), Some(&["SUBJECT".to_string(), "isread".to_string()]));
        let keys: Vec<&str> = selected.keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 4, "{keys:?}");
        assert!(["@odata.etag", "id", "subject", "isRead"].iter().all(|k| selected.contains_key(*k)));
        assert_eq!(project(map.clone(), None), map);
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "(?s).{0,600}") {
            let _ = parse(&s);
            let _ = parse(&format!("$filter={s}"));
        }

        #[test]
        fn filter_like_input_never_panics(s in r"[()',:/ a-z0-9%$=&.-]{0,400}", depth in 0usize..200) {
            let text = format!("$filter={}{s}{}", "(".repeat(depth), ")".repeat(depth));
            if let Ok(Query { filter: Some(f), .. }) = parse(&text) {
                f.matches(&item());
            }
            let _ = parse(&format!("$filter={}", "not ".repeat(depth)));
        }
    }
}
