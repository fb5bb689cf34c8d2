//! Deputy's directory: recipients, identity resolution, group membership and
//! expansion, OPATH filters and password hashing (spec §1, §2, §6).
//!
//! Invariants: no I/O and no async; every lookup by a name, alias, address, UPN
//! or distinguished name goes through a hash index on the lower-cased key, so
//! resolution stays fast with 100,000 recipients (only `search` and
//! `dynamic_members` scan); nothing here panics on input.

mod directory;
mod error;
mod groups;
pub mod opath;
pub mod password;
mod resolve;

pub use directory::Directory;
pub use error::{DirectoryError, ResolveError};
