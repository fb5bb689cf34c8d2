//! Size limits that keep hostile or accidental input from exhausting the server.

/// The largest script `Session::run` and `syntax::parse` accept, in bytes (4 MiB).
pub const MAX_SCRIPT_BYTES: usize = 4 * 1024 * 1024;

/// The largest single top-level statement accepted, in bytes (256 KiB).
pub const MAX_STATEMENT_BYTES: usize = 256 * 1024;

/// The deepest nesting of parentheses, braces, arrays and unary operators accepted.
pub const MAX_NESTING: usize = 256;
