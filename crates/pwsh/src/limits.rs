//! Size limits that keep hostile or accidental input from exhausting the server.

/// The largest script `Session::run` and `syntax::parse` accept, in bytes (4 MiB).
pub const MAX_SCRIPT_BYTES: usize = 4 * 1024 * 1024;

/// The largest single top-level statement accepted, in bytes (256 KiB).
pub const MAX_STATEMENT_BYTES: usize = 256 * 1024;

/// The deepest nesting of parentheses, braces, arrays and operators accepted (each link of a chain such as
/// `a -or b -or c` or `$m.A.B` counts as a level). Parsing and evaluating recurse once per level, and a debug
/// build's frames are large: 64 levels keep both well inside a 2 MiB tokio worker stack, and far exceed what
/// administrators write.
pub const MAX_NESTING: usize = 64;
