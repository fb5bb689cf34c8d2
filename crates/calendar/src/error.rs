//! The crate's one error type: every refusal names what is wrong and, for
//! syntax, the line and property.

/// What went wrong reading, expanding or exchanging calendar data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The input is larger than [`crate::Limits::max_bytes`].
    #[error("calendar data is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Size of the input in bytes.
        size: usize,
        /// The limit that was exceeded.
        limit: usize,
    },
    /// The input is not UTF-8 (RFC 5545 §3.1.4).
    #[error("calendar data is not UTF-8 (invalid byte at offset {offset})")]
    NotUtf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// A content line or the component structure is malformed.
    #[error("line {line}: {reason}")]
    Syntax {
        /// 1-based physical line where the content line starts.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A property value or parameter is malformed or not allowed.
    #[error("line {line}: property {property}: {reason}")]
    Property {
        /// 1-based physical line where the property starts (0 when built in code).
        line: usize,
        /// The property name, e.g. `DTSTART`.
        property: String,
        /// What is wrong.
        reason: String,
    },
    /// A structural limit of [`crate::Limits`] was exceeded.
    #[error("{what}: more than {limit}")]
    Limit {
        /// What was counted, e.g. `components`, `attendees of event \"x\"`.
        what: String,
        /// The limit that was exceeded.
        limit: usize,
    },
    /// A required property is missing from a component.
    #[error("{component}: missing required property {property}")]
    Missing {
        /// The component, e.g. `VEVENT "uid"` or `VEVENT`.
        component: String,
        /// The missing property.
        property: &'static str,
    },
    /// A recurrence cannot be expanded, or ingest refuses its rule.
    #[error("event {uid:?}: recurrence: {reason}")]
    Recurrence {
        /// UID of the series.
        uid: String,
        /// What is wrong.
        reason: String,
    },
    /// No event with this UID in the calendar.
    #[error("no event with UID {0:?}")]
    UnknownUid(String),
    /// An iTIP message or builder input breaks RFC 5546.
    #[error("iTIP: {0}")]
    Itip(String),
    /// An iMIP message (RFC 6047) cannot be read or built.
    #[error("iMIP: {0}")]
    Imip(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
