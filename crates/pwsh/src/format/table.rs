//! `Format-Table`: a header, dashes as long as each header, columns padded to their widest cell, numbers
//! right-aligned.

use super::cell;
use crate::value::Value;

/// Renders rows as a table of these columns (rows that are not objects show their value in every column).
pub(crate) fn table(rows: &[Value], columns: &[String], hide_headers: bool) -> String {
    if columns.is_empty() {
        return rows.iter().map(Value::to_pwsh_string).collect::<Vec<_>>().join("\n");
    }
    let values: Vec<Vec<Value>> = rows.iter().map(|r| columns.iter().map(|c| r.member(c)).collect()).collect();
    let cells: Vec<Vec<String>> = values.iter().map(|r| r.iter().map(cell).collect()).collect();
    let numeric: Vec<bool> = (0..columns.len())
        .map(|c| {
            let mut any = false;
            let all = values.iter().all(|r| match &r[c] {
                Value::Int(_) => {
                    any = true;
                    true
                }
                Value::Null => true,
                _ => false,
            });
            all && any
        })
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(c, h)| cells.iter().map(|r| r[c].chars().count()).chain([h.chars().count()]).max().unwrap_or(0))
        .collect();
    let line = |texts: Vec<String>| -> String {
        let padded: Vec<String> = texts
            .iter()
            .enumerate()
            .map(
                |(c, t)| if numeric[c] { format!("{t:>w$}", w = widths[c]) } else { format!("{t:<w$}", w = widths[c]) },
            )
            .collect();
        padded.join(" ").trim_end().to_string()
    };
    let mut out = Vec::new();
    if !hide_headers {
        out.push(line(columns.to_vec()));
        out.push(line(columns.iter().map(|h| "-".repeat(h.chars().count())).collect()));
    }
    for r in cells {
        out.push(line(r));
    }
    out.join("\n")
}
