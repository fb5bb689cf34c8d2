//! `-match`/`-notmatch` on the `regex` crate: linear-time matching, so no pattern an administrator (or an
//! attacker with shell access) types can stall the server. .NET-only constructs (look-around,
//! back-references) are refused with the parser's own explanation.

use crate::error::Error;

/// Compiled-program size cap: generous for anything typed at a prompt, small enough to bound memory.
const SIZE_LIMIT: usize = 1 << 20;

/// Whether `pattern` matches anywhere in `text` (unanchored; case-insensitive unless `case_sensitive`).
pub(crate) fn is_match(pattern: &str, text: &str, case_sensitive: bool) -> Result<bool, Error> {
    let re = regex::RegexBuilder::new(pattern)
        .case_insensitive(!case_sensitive)
        .size_limit(SIZE_LIMIT)
        .build()
        .map_err(|e| Error::Runtime(format!("The regular expression '{pattern}' is not valid: {e}")))?;
    Ok(re.is_match(text))
}

#[cfg(test)]
mod tests {
    use super::is_match;

    #[test]
    fn matches_like_powershell() {
        assert!(is_match("^ADA", "ada@contoso.com", false).unwrap_or(false));
        assert!(!is_match("^ADA", "ada@contoso.com", true).unwrap_or(true));
        assert!(is_match(r"\d{3}", "room 101", false).unwrap_or(false));
        assert!(is_match("(", "x", false).is_err());
        assert!(is_match(r"(?<=a)b", "ab", false).is_err());
    }
}
