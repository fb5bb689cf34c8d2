//! Expression evaluation.

use super::compare::compare;
use super::exec::{Exec, Flow, Fut};
use crate::bind::{to_date, to_int};
use crate::error::Error;
use crate::syntax::{BinaryOp, Expr, StringPart, UnaryOp};
use crate::value::Value;

/// The largest array `a..b` may build.
const MAX_RANGE: i64 = 1_000_000;

impl Exec<'_> {
    pub(crate) fn eval<'f>(&'f mut self, expr: &'f Expr) -> Fut<'f, Result<Value, Flow>> {
        Box::pin(async move {
            self.descend()?;
            let value = self.eval_node(expr).await;
            self.ascend();
            value
        })
    }

    async fn eval_node(&mut self, expr: &Expr) -> Result<Value, Flow> {
        Ok(match expr {
            Expr::String(s) => Value::String(s.clone()),
            Expr::Int(i) => Value::Int(*i),
            Expr::Expandable(parts) => {
                let mut s = String::new();
                for part in parts {
                    match part {
                        StringPart::Literal(l) => s.push_str(l),
                        StringPart::Variable(v) => s.push_str(&self.variable(v).to_pwsh_string()),
                        StringPart::Subexpression(stmts) => {
                            s.push_str(&Value::collapse(self.run_statements(stmts).await?).to_pwsh_string())
                        }
                    }
                }
                Value::String(s)
            }
            Expr::Variable(name) => self.variable(name),
            Expr::Member { target, name } => self.eval(target).await?.member(name),
            Expr::Index { target, index } => {
                let target = self.eval(target).await?;
                let index = self.eval(index).await?;
                index_value(&target, &index)
            }
            Expr::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.eval(item).await?);
                }
                Value::Array(out)
            }
            Expr::ArraySubexpression(stmts) => Value::Array(self.run_statements(stmts).await?),
            Expr::Subexpression(stmts) => Value::collapse(self.run_statements(stmts).await?),
            Expr::Paren(p) => Value::collapse(self.run_pipeline(p).await?),
            Expr::Hashtable(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, p) in entries {
                    out.push((k.clone(), Value::collapse(self.run_pipeline(p).await?)));
                }
                Value::Hashtable(out)
            }
            Expr::ScriptBlock(b) => Value::ScriptBlock(b.clone()),
            Expr::Binary { op, left, right } => {
                let l = self.eval(left).await?;
                match op {
                    BinaryOp::And if !l.is_truthy() => Value::Bool(false),
                    BinaryOp::Or if l.is_truthy() => Value::Bool(true),
                    BinaryOp::And | BinaryOp::Or => Value::Bool(self.eval(right).await?.is_truthy()),
                    _ => {
                        let r = self.eval(right).await?;
                        binary(*op, l, r)?
                    }
                }
            }
            Expr::Unary { op: UnaryOp::Not, operand } => Value::Bool(!self.eval(operand).await?.is_truthy()),
            Expr::Unary { op: UnaryOp::Negate, operand } => {
                let v = self.eval(operand).await?;
                let n = to_int(&v).ok_or_else(|| not_a_number(&v))?;
                Value::Int(n.checked_neg().ok_or_else(overflow)?)
            }
            Expr::Cast { type_name, operand } => cast(type_name, self.eval(operand).await?)?,
        })
    }
}

fn not_a_number(v: &Value) -> Error {
    Error::Runtime(format!("Cannot convert value \"{}\" to type \"System.Int32\".", v.to_pwsh_string()))
}

fn overflow() -> Error {
    Error::Runtime("Arithmetic operation resulted in an overflow.".into())
}

fn index_value(target: &Value, index: &Value) -> Value {
    match target {
        Value::Array(items) => match to_int(index) {
            Some(i) if i < 0 => usize::try_from(-i)
                .ok()
                .and_then(|back| items.len().checked_sub(back))
                .and_then(|at| items.get(at).cloned())
                .unwrap_or_default(),
            Some(i) => usize::try_from(i).ok().and_then(|i| items.get(i).cloned()).unwrap_or_default(),
            None => Value::Null,
        },
        Value::Hashtable(_) | Value::Object(_) => target.member(&index.to_pwsh_string()),
        Value::String(s) => match to_int(index).and_then(|i| usize::try_from(i).ok()) {
            Some(i) => s.chars().nth(i).map(|c| Value::String(c.to_string())).unwrap_or_default(),
            None => Value::Null,
        },
        _ => Value::Null,
    }
}

fn binary(op: BinaryOp, l: Value, r: Value) -> Result<Value, Error> {
    let ints = |l: &Value, r: &Value| -> Result<(i64, i64), Error> {
        Ok((to_int(l).ok_or_else(|| not_a_number(l))?, to_int(r).ok_or_else(|| not_a_number(r))?))
    };
    Ok(match op {
        BinaryOp::Compare { op, case_sensitive } => compare(op, case_sensitive, &l, &r)?,
        BinaryOp::Xor => Value::Bool(l.is_truthy() != r.is_truthy()),
        BinaryOp::And => Value::Bool(l.is_truthy() && r.is_truthy()),
        BinaryOp::Or => Value::Bool(l.is_truthy() || r.is_truthy()),
        BinaryOp::Add => add(l, r)?,
        BinaryOp::Subtract => {
            let (a, b) = ints(&l, &r)?;
            Value::Int(a.checked_sub(b).ok_or_else(overflow)?)
        }
        BinaryOp::Multiply => match (&l, &r) {
            (Value::String(s), _) => {
                let n = to_int(&r).ok_or_else(|| not_a_number(&r))?;
                let n = usize::try_from(n).unwrap_or(0);
                if s.len().saturating_mul(n) > crate::limits::MAX_SCRIPT_BYTES {
                    return Err(Error::Runtime("The repeated string would be larger than 4 MiB.".into()));
                }
                Value::String(s.repeat(n))
            }
            _ => {
                let (a, b) = ints(&l, &r)?;
                Value::Int(a.checked_mul(b).ok_or_else(overflow)?)
            }
        },
        BinaryOp::Divide | BinaryOp::Remainder => {
            let (a, b) = ints(&l, &r)?;
            if b == 0 {
                return Err(Error::Runtime("Attempted to divide by zero.".into()));
            }
            if op == BinaryOp::Remainder {
                Value::Int(a.checked_rem(b).ok_or_else(overflow)?)
            } else if a % b == 0 {
                Value::Int(a.checked_div(b).ok_or_else(overflow)?)
            } else {
                // No floating-point type here: a fraction is shown as text, as PowerShell would print it.
                #[expect(clippy::cast_precision_loss, reason = "display of a fraction only")]
                let q = a as f64 / b as f64;
                Value::String(q.to_string())
            }
        }
        BinaryOp::Range => {
            let (a, b) = ints(&l, &r)?;
            if a.abs_diff(b) >= MAX_RANGE.unsigned_abs() {
                return Err(Error::Runtime(format!("The range {a}..{b} is too large; at most {MAX_RANGE} items.")));
            }
            if a <= b {
                (a..=b).map(Value::Int).collect::<Vec<_>>().into()
            } else {
                (b..=a).rev().map(Value::Int).collect::<Vec<_>>().into()
            }
        }
    })
}

/// `+` and `+=`: numbers add, strings concatenate, arrays append, hashtables merge.
pub(crate) fn add(l: Value, r: Value) -> Result<Value, Error> {
    Ok(match (l, r) {
        (Value::Null, r) => r,
        (Value::Int(a), r) => {
            Value::Int(a.checked_add(to_int(&r).ok_or_else(|| not_a_number(&r))?).ok_or_else(overflow)?)
        }
        (Value::String(a), r) => Value::String(a + &r.to_pwsh_string()),
        (Value::Array(mut a), r) => {
            match r {
                Value::Array(b) => a.extend(b),
                other => a.push(other),
            }
            Value::Array(a)
        }
        (Value::Hashtable(mut a), Value::Hashtable(b)) => {
            for (k, v) in b {
                if a.iter().any(|(existing, _)| existing.eq_ignore_ascii_case(&k)) {
                    return Err(Error::Runtime(format!("Item has already been added. Key in dictionary: '{k}'")));
                }
                a.push((k, v));
            }
            Value::Hashtable(a)
        }
        (l, _) => {
            return Err(Error::Runtime(format!(
                "Method invocation failed because [{}] does not contain a method named 'op_Addition'.",
                l.type_name()
            )));
        }
    })
}

fn cast(type_name: &str, v: Value) -> Result<Value, Error> {
    let cannot =
        |ty: &str| Error::Runtime(format!("Cannot convert value \"{}\" to type \"{ty}\".", v.to_pwsh_string()));
    Ok(match type_name {
        "int" | "long" => Value::Int(to_int(&v).ok_or_else(|| cannot("System.Int32"))?),
        "string" => Value::String(v.to_pwsh_string()),
        "bool" => Value::Bool(v.is_truthy()),
        "datetime" => Value::DateTime(to_date(&v).ok_or_else(|| cannot("System.DateTime"))?),
        "string[]" => Value::Array(v.unroll().into_iter().map(|i| Value::String(i.to_pwsh_string())).collect()),
        _ => Value::Array(v.unroll()),
    })
}
