//! Writing responses: strings, mailbox names, dates and status lines.

use std::fmt::Write as _;

use crate::backend::No;

/// Appends `s` as an IMAP string: quoted when it is plain ASCII, a literal otherwise.
pub fn string(out: &mut Vec<u8>, s: &[u8]) {
    if s.iter().all(|&b| (0x20..0x7f).contains(&b)) {
        out.push(b'"');
        for &b in s {
            if b == b'"' || b == b'\\' {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        literal(out, s);
    }
}

/// Appends a synchronizing-free literal `{n}\r\n` followed by the bytes.
pub fn literal(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(format!("{{{}}}\r\n", s.len()).as_bytes());
    out.extend_from_slice(s);
}

/// Appends a mailbox name, quoted: in modified UTF-7, or in UTF-8 for an
/// IMAP4rev2 session (RFC 9051's quoted strings may hold UTF-8).
pub fn mailbox(out: &mut Vec<u8>, name: &str, utf8: bool) {
    if !utf8 {
        return string(out, crate::utf7::encode(name).as_bytes());
    }
    if name.chars().any(char::is_control) {
        return literal(out, name.as_bytes());
    }
    out.push(b'"');
    for &b in name.as_bytes() {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// Text safe for one response line: no CR, LF or other control characters.
pub fn text(s: &str) -> String {
    let t: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if t.trim().is_empty() { "failed".to_owned() } else { t }
}

/// A tagged or untagged status line.
pub fn status(out: &mut Vec<u8>, tag: &str, kind: &str, code: Option<&str>, msg: &str) {
    let mut line = format!("{tag} {kind} ");
    if let Some(code) = code {
        let _ = write!(line, "[{code}] ");
    }
    line.push_str(&text(msg));
    line.push_str("\r\n");
    out.extend_from_slice(line.as_bytes());
}

/// A tagged `NO` from the backend's refusal.
pub fn no(out: &mut Vec<u8>, tag: &str, no: &No) {
    status(out, tag, "NO", no.code.map(|c| c.atom()), &no.text);
}

/// A flag list `(\Seen \Answered)`.
pub fn flags(flags: &[String]) -> String {
    format!("({})", flags.join(" "))
}

/// INTERNALDATE form `"17-Jul-1996 02:44:25 +0000"` from Unix seconds (UTC).
pub fn date_time(unix: i64) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Howard Hinnant's civil-from-days: exact for the proleptic Gregorian calendar.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let name = MONTHS.get(usize::try_from(month - 1).unwrap_or(0)).copied().unwrap_or("Jan");
    format!("\"{day:02}-{name}-{year:04} {:02}:{:02}:{:02} +0000\"", secs / 3600, secs / 60 % 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_internal_date() {
        assert_eq!(date_time(0), "\"01-Jan-1970 00:00:00 +0000\"");
        assert_eq!(date_time(837_571_465), "\"17-Jul-1996 02:44:25 +0000\"");
    }

    #[test]
    fn quotes_or_literalizes() {
        let mut out = Vec::new();
        string(&mut out, b"a\"b");
        string(&mut out, b"\xc3\xa9");
        assert_eq!(out, b"\"a\\\"b\"{2}\r\n\xc3\xa9");
    }
}
