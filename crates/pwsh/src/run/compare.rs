//! Comparison operators with PowerShell's rules: case-insensitive by default, the right operand converted to
//! the left operand's type, and an array on the left *filters* (`@('a','b') -like 'a*'` is `@('a')`, which is
//! true when non-empty).

use std::cmp::Ordering;

use super::regex;
use crate::bind::{to_bool, to_date, to_int};
use crate::error::Error;
use crate::syntax::CompareOp;
use crate::value::Value;

/// Evaluates `left op right`.
pub(crate) fn compare(op: CompareOp, case_sensitive: bool, left: &Value, right: &Value) -> Result<Value, Error> {
    match op {
        CompareOp::Contains | CompareOp::NotContains => {
            let found = as_slice(left).iter().any(|item| equals(item, right, case_sensitive));
            Ok(Value::Bool(found == (op == CompareOp::Contains)))
        }
        CompareOp::In | CompareOp::NotIn => {
            let found = as_slice(right).iter().any(|item| equals(left, item, case_sensitive));
            Ok(Value::Bool(found == (op == CompareOp::In)))
        }
        _ => match left {
            Value::Array(items) => {
                let mut kept = Vec::new();
                for item in items {
                    if scalar(op, case_sensitive, item, right)? {
                        kept.push(item.clone());
                    }
                }
                Ok(Value::Array(kept))
            }
            _ => scalar(op, case_sensitive, left, right).map(Value::Bool),
        },
    }
}

fn as_slice(v: &Value) -> &[Value] {
    match v {
        Value::Array(items) => items,
        other => std::slice::from_ref(other),
    }
}

fn scalar(op: CompareOp, cs: bool, left: &Value, right: &Value) -> Result<bool, Error> {
    Ok(match op {
        CompareOp::Eq => equals(left, right, cs),
        CompareOp::Ne => !equals(left, right, cs),
        CompareOp::Gt => order(left, right, cs)? == Some(Ordering::Greater),
        CompareOp::Ge => matches!(order(left, right, cs)?, Some(Ordering::Greater | Ordering::Equal)),
        CompareOp::Lt => order(left, right, cs)? == Some(Ordering::Less),
        CompareOp::Le => matches!(order(left, right, cs)?, Some(Ordering::Less | Ordering::Equal)),
        CompareOp::Like => wildcard_match(&right.to_pwsh_string(), &left.to_pwsh_string(), cs),
        CompareOp::NotLike => !wildcard_match(&right.to_pwsh_string(), &left.to_pwsh_string(), cs),
        CompareOp::Match => regex::is_match(&right.to_pwsh_string(), &left.to_pwsh_string(), cs)?,
        CompareOp::NotMatch => !regex::is_match(&right.to_pwsh_string(), &left.to_pwsh_string(), cs)?,
        CompareOp::Contains | CompareOp::NotContains | CompareOp::In | CompareOp::NotIn => {
            compare(op, cs, left, right)?.is_truthy()
        }
    })
}

fn fold(s: &str, case_sensitive: bool) -> String {
    if case_sensitive { s.to_string() } else { s.to_lowercase() }
}

/// `-eq`: the right side converted to the left side's type.
pub(crate) fn equals(left: &Value, right: &Value, cs: bool) -> bool {
    match left {
        Value::Null => matches!(right, Value::Null),
        Value::String(l) => !matches!(right, Value::Null) && fold(l, cs) == fold(&right.to_pwsh_string(), cs),
        Value::Int(l) => to_int(right) == Some(*l) && !matches!(right, Value::Null),
        Value::Bool(l) => *l == right.is_truthy(),
        Value::DateTime(l) => to_date(right) == Some(*l),
        other => other == right,
    }
}

/// Ordering for `-gt`/`-lt`…: the right side converted to the left side's type; `None` when either is null.
fn order(left: &Value, right: &Value, cs: bool) -> Result<Option<Ordering>, Error> {
    let cannot = |ty: &str| {
        Error::Runtime(format!(
            "Could not compare \"{}\" to \"{}\". Error: \"Cannot convert value \"{}\" to type \"{ty}\".\"",
            left.to_pwsh_string(),
            right.to_pwsh_string(),
            right.to_pwsh_string()
        ))
    };
    Ok(match left {
        Value::Null => match right {
            Value::Null => Some(Ordering::Equal),
            _ => Some(Ordering::Less),
        },
        _ if matches!(right, Value::Null) => Some(Ordering::Greater),
        Value::Int(l) => Some(l.cmp(&to_int(right).ok_or_else(|| cannot("System.Int32"))?)),
        Value::DateTime(l) => Some(l.cmp(&to_date(right).ok_or_else(|| cannot("System.DateTime"))?)),
        Value::Bool(l) => Some(l.cmp(&to_bool(right).unwrap_or_else(|| right.is_truthy()))),
        other => Some(fold(&other.to_pwsh_string(), cs).cmp(&fold(&right.to_pwsh_string(), cs))),
    })
}

/// A total order for `Sort-Object`: nulls first, numbers and dates by value, the rest as case-insensitive text.
pub(crate) fn sort_order(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::DateTime(x), Value::DateTime(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => a.to_pwsh_string().to_lowercase().cmp(&b.to_pwsh_string().to_lowercase()),
    }
}

enum WildToken {
    Star,
    One,
    Set(Vec<(char, char)>, bool),
    Lit(char),
}

/// PowerShell wildcards: `*`, `?`, `[abc]`, `[a-z]`, `` ` `` escapes; the whole text must match.
pub(crate) fn wildcard_match(pattern: &str, text: &str, case_sensitive: bool) -> bool {
    let fold = |c: char| if case_sensitive { c } else { c.to_lowercase().next().unwrap_or(c) };
    let p: Vec<char> = pattern.chars().map(fold).collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '*' => tokens.push(WildToken::Star),
            '?' => tokens.push(WildToken::One),
            '`' if i + 1 < p.len() => {
                i += 1;
                tokens.push(WildToken::Lit(p[i]));
            }
            '[' => match (i + 1..p.len()).find(|&j| p[j] == ']' && j > i + 1) {
                Some(end) => {
                    let body = &p[i + 1..end];
                    let (negated, body) = match body.first() {
                        Some('!' | '^') if body.len() > 1 => (true, &body[1..]),
                        _ => (false, body),
                    };
                    let mut ranges = Vec::new();
                    let mut k = 0;
                    while k < body.len() {
                        if k + 2 < body.len() && body[k + 1] == '-' {
                            ranges.push((body[k], body[k + 2]));
                            k += 3;
                        } else {
                            ranges.push((body[k], body[k]));
                            k += 1;
                        }
                    }
                    tokens.push(WildToken::Set(ranges, negated));
                    i = end;
                }
                None => tokens.push(WildToken::Lit('[')),
            },
            c => tokens.push(WildToken::Lit(c)),
        }
        i += 1;
    }
    let t: Vec<char> = text.chars().map(fold).collect();
    let one = |tok: &WildToken, c: char| match tok {
        WildToken::One => true,
        WildToken::Lit(l) => *l == c,
        WildToken::Set(ranges, negated) => ranges.iter().any(|(lo, hi)| *lo <= c && c <= *hi) != *negated,
        WildToken::Star => false,
    };
    // Classic greedy matching with a single backtrack point per star: O(len(text) * len(pattern)).
    let (mut ti, mut pi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < tokens.len() && !matches!(tokens[pi], WildToken::Star) && one(&tokens[pi], t[ti]) {
            ti += 1;
            pi += 1;
        } else if pi < tokens.len() && matches!(tokens[pi], WildToken::Star) {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    tokens[pi..].iter().all(|t| matches!(t, WildToken::Star))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_supports_star_question_and_sets_case_insensitively() {
        assert!(wildcard_match("Full*", "FullAccess", false));
        assert!(wildcard_match("full*", "FullAccess", false));
        assert!(!wildcard_match("full*", "FullAccess", true));
        assert!(wildcard_match("m?ry", "mary", false));
        assert!(wildcard_match("[mr]*", "rob", false));
        assert!(!wildcard_match("[!mr]*", "rob", false));
        assert!(wildcard_match("*@contoso.test", "a@contoso.test", false));
        assert!(!wildcard_match("a*b", "acbx", false));
    }

    #[test]
    fn array_on_the_left_filters_elements() {
        let rights = Value::from(vec!["FullAccess", "ReadPermission"]);
        let r = compare(CompareOp::Like, false, &rights, &"Full*".into()).unwrap();
        assert_eq!(r, Value::from(vec!["FullAccess"]));
        assert!(r.is_truthy());
        let none = compare(CompareOp::Like, false, &rights, &"Send*".into()).unwrap();
        assert!(!none.is_truthy());
    }

    #[test]
    fn right_side_converts_to_left_type() {
        assert!(equals(&Value::Int(5), &"5".into(), false));
        assert!(equals(&"5".into(), &Value::Int(5), false));
        assert!(equals(&"MARY".into(), &"mary".into(), false));
        assert!(!equals(&"MARY".into(), &"mary".into(), true));
        assert!(equals(&Value::Bool(true), &"false".into(), false), "non-empty strings are true, as in PowerShell");
        let gt = compare(CompareOp::Gt, false, &Value::Int(10), &"9".into()).unwrap();
        assert_eq!(gt, Value::Bool(true));
        assert!(compare(CompareOp::Gt, false, &Value::Int(10), &"nine".into()).is_err());
    }

    #[test]
    fn contains_and_in_test_membership() {
        let list = Value::from(vec!["a", "B"]);
        assert_eq!(compare(CompareOp::Contains, false, &list, &"b".into()).unwrap(), Value::Bool(true));
        assert_eq!(compare(CompareOp::In, false, &"c".into(), &list).unwrap(), Value::Bool(false));
        assert_eq!(compare(CompareOp::NotIn, false, &"c".into(), &list).unwrap(), Value::Bool(true));
    }
}
