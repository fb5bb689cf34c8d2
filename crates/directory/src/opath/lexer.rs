//! Splits a filter text into tokens, remembering where each starts.

use super::FilterError;

/// A token's kind and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Tok {
    /// `(`
    Open,
    /// `)`
    Close,
    /// `{`, which may wrap the whole filter as in PowerShell script-block syntax.
    OpenBrace,
    /// `}`
    CloseBrace,
    /// `-name`: an operator, lower-cased, without its dash.
    Op(String),
    /// `$name`: a variable, lower-cased, without its dollar.
    Var(String),
    /// A bare word: a property name or an unquoted value.
    Word(String),
    /// A quoted text, with doubled quotes undone.
    Text(String),
}

/// A token and the 1-based character position where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token {
    pub tok: Tok,
    pub pos: usize,
}

impl Token {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match &self.tok {
            Tok::Open => "'('".into(),
            Tok::Close => "')'".into(),
            Tok::OpenBrace => "'{'".into(),
            Tok::CloseBrace => "'}'".into(),
            Tok::Op(o) => format!("'-{o}'"),
            Tok::Var(v) => format!("'${v}'"),
            Tok::Word(w) => format!("'{w}'"),
            Tok::Text(t) => format!("the text '{t}'"),
        }
    }
}

fn is_quote(c: char) -> bool {
    matches!(c, '\'' | '"')
}

fn ends_word(c: char) -> bool {
    c.is_whitespace() || is_quote(c) || matches!(c, '(' | ')' | '{' | '}')
}

/// Tokenizes `input`; fails only on an unterminated quote or a lone `-`.
pub(super) fn lex(input: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let pos = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let simple = match c {
            '(' => Some(Tok::Open),
            ')' => Some(Tok::Close),
            '{' => Some(Tok::OpenBrace),
            '}' => Some(Tok::CloseBrace),
            _ => None,
        };
        if let Some(tok) = simple {
            out.push(Token { tok, pos });
            i += 1;
            continue;
        }
        if is_quote(c) {
            let (text, next) = quoted(&chars, i)?;
            out.push(Token { tok: Tok::Text(text), pos });
            i = next;
            continue;
        }
        // Operators and variables are letters after their sigil; a word runs to the next separator.
        let start = i + 1;
        let mut end = start;
        let tok = if c == '-' || c == '$' {
            while chars.get(end).is_some_and(|ch| ch.is_alphanumeric() || *ch == '_') {
                end += 1;
            }
            let name: String = chars[start..end].iter().collect::<String>().to_lowercase();
            if name.is_empty() {
                return Err(FilterError::Expected {
                    expected: if c == '-' { "an operator name after '-'" } else { "a variable name after '$'" },
                    found: chars.get(end).map_or_else(|| "the end of the filter".into(), |ch| format!("'{ch}'")),
                    position: end + 1,
                });
            }
            if c == '-' { Tok::Op(name) } else { Tok::Var(name) }
        } else {
            end = i;
            while chars.get(end).is_some_and(|ch| !ends_word(*ch)) {
                end += 1;
            }
            Tok::Word(chars[i..end].iter().collect())
        };
        out.push(Token { tok, pos });
        i = end;
    }
    Ok(out)
}

/// Reads the quoted text starting at `chars[open]`; returns it and the index after the closing quote.
fn quoted(chars: &[char], open: usize) -> Result<(String, usize), FilterError> {
    let quote = chars[open];
    let mut text = String::new();
    let mut i = open + 1;
    loop {
        match chars.get(i) {
            None => return Err(FilterError::UnterminatedQuote { position: open + 1 }),
            Some(&c) if c == quote => {
                // A doubled quote stands for one quote character, as in PowerShell.
                if chars.get(i + 1) == Some(&quote) {
                    text.push(quote);
                    i += 2;
                } else {
                    return Ok((text, i + 1));
                }
            }
            Some(&c) => {
                text.push(c);
                i += 1;
            }
        }
    }
}
