//! Stable identifiers. Both are GUIDs so that several nodes can create objects
//! without coordinating (issue: several nodes on one PostgreSQL).

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// The `Guid` of a recipient; the key every grant and membership refers to.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecipientId(pub Uuid);

/// The identifier of a mailbox folder.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FolderId(pub Uuid);

macro_rules! guid_id {
    ($t:ident) => {
        impl $t {
            /// A fresh random identifier.
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }
            /// Builds an identifier from a number; for tests and benchmarks.
            pub const fn from_u128(n: u128) -> Self {
                Self(Uuid::from_u128(n))
            }
            /// The identifier as a 128-bit number.
            pub const fn as_u128(self) -> u128 {
                self.0.as_u128()
            }
            /// An identifier made from 16 bytes of the caller's (RFC 9562
            /// version 8): for ids derived from a name by hashing it.
            pub const fn from_custom_bytes(bytes: [u8; 16]) -> Self {
                Self(uuid::Builder::from_custom_bytes(bytes).into_uuid())
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($t), self.0.hyphenated())
            }
        }
        impl std::str::FromStr for $t {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}
guid_id!(RecipientId);
guid_id!(FolderId);
