//! The admin audit log record (issue 3 §5, spec §8).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One change made by an administrator, as `Search-AdminAuditLog` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// When the change was made (`RunDate`).
    pub time: DateTime<Utc>,
    /// Who made it (`Caller`): the administrator's UPN.
    pub caller: String,
    /// The cmdlet (`CmdletName`).
    pub cmdlet: String,
    /// The command line as typed (`CmdletParameters` as text).
    pub command: String,
    /// The object changed (`ObjectModified`).
    pub object: String,
    /// Whether it succeeded (`Succeeded`).
    pub succeeded: bool,
    /// The error, when it did not.
    pub error: Option<String>,
    /// The object's state before the change, as JSON.
    pub before: Option<String>,
    /// The object's state after the change, as JSON.
    pub after: Option<String>,
}
