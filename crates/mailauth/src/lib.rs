//! Authentication of mail: DKIM keys and signing for mail leaving Deputy,
//! SPF, DKIM and DMARC checks for mail arriving, and the DNS resolver both
//! share.
//!
//! Built on mail-auth, which none of Deputy's other crates see: callers use
//! [`DkimKey`], [`DkimSigner`], [`MailResolver`] and
//! [`authentication_results`].
//!
//! Invariants:
//! - no check fails a caller: a DNS or parse problem becomes `temperror`,
//!   `permerror` or `none` in the `Authentication-Results:` field;
//! - a private key is never printed (`Debug` shows the selector only) and is
//!   written to disk readable by its owner only;
//! - [`MailResolver::in_memory`] sends no DNS query, ever.

mod dkim;
mod resolver;
mod verify;

use std::path::PathBuf;

pub use dkim::{DEFAULT_SELECTOR, DkimKey, DkimSigner, SIGNED_HEADERS};
pub use resolver::MailResolver;
pub use verify::authentication_results;

/// What can go wrong with keys, signatures and lookups.
#[derive(Debug, thiserror::Error)]
pub enum MailAuthError {
    /// A key could not be generated, parsed or encoded.
    #[error("DKIM key: {0}")]
    Key(String),
    /// The key file could not be read or written.
    #[error("DKIM key file {}: {source}", path.display())]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Signing failed (e.g. the message has none of the headers to sign).
    #[error("DKIM signing failed: {0}")]
    Sign(String),
    /// The DNS library could not be set up.
    #[error("DNS resolver: {0}")]
    Resolver(String),
    /// A record given to the in-memory resolver does not parse.
    #[error("DNS record for {name}: {reason}")]
    Record {
        /// The record's name.
        name: String,
        /// Why it was refused.
        reason: String,
    },
    /// A lookup got no answer (timeout, SERVFAIL, no name server): the
    /// answer is unknown, so the question is worth asking again later.
    #[error("DNS lookup of {name} failed: {reason}")]
    Dns {
        /// The name looked up.
        name: String,
        /// Why.
        reason: String,
    },
}
