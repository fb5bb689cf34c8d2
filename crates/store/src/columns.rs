//! How values are spelled in the stores' columns, shared by every backend so
//! that they store (and compare) value for value, and reading them back with
//! [`StoreError::Corrupt`] for anything Deputy would not have written.

use crate::StoreError;
use chrono::{DateTime, Duration, Utc};
use deputy_types::{AcceptedDomainType, FolderUser, InheritanceType, QueueRecipient, WellKnownFolder};

const NANOS_PER_MS: u32 = 1_000_000;

/// A time as (milliseconds since the epoch, nanoseconds within the millisecond):
/// exact to the nanosecond, which `timestamptz` (microseconds) is not.
pub fn split_time(t: DateTime<Utc>) -> (i64, i64) {
    (t.timestamp_millis(), i64::from(t.timestamp_subsec_nanos() % NANOS_PER_MS))
}

/// The inverse of [`split_time`].
pub fn join_time(ms: i64, ns: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms)
        .and_then(|t| t.checked_add_signed(Duration::nanoseconds(ns)))
        .ok_or_else(|| StoreError::Corrupt(format!("stored time {ms} ms + {ns} ns is out of range")))
}

/// A queue entry's recipients as stored: JSON, read back by serde.
pub fn recipients_json(recipients: &[QueueRecipient]) -> Result<String, StoreError> {
    serde_json::to_string(recipients)
        .map_err(|e| StoreError::Backend(format!("encoding queue recipients as JSON: {e}")))
}

/// An accepted domain's type as stored.
pub fn domain_type_name(kind: AcceptedDomainType) -> &'static str {
    match kind {
        AcceptedDomainType::Authoritative => "Authoritative",
        AcceptedDomainType::InternalRelay => "InternalRelay",
        AcceptedDomainType::ExternalRelay => "ExternalRelay",
    }
}

/// The inverse of [`domain_type_name`].
pub fn parse_domain_type(s: &str) -> Result<AcceptedDomainType, StoreError> {
    [AcceptedDomainType::Authoritative, AcceptedDomainType::InternalRelay, AcceptedDomainType::ExternalRelay]
        .into_iter()
        .find(|k| domain_type_name(*k) == s)
        .ok_or_else(|| corrupt("accepted_domains.kind", s))
}

/// An `-InheritanceType` as stored.
pub fn parse_inheritance(s: &str) -> Result<InheritanceType, StoreError> {
    InheritanceType::parse(s).map_err(|_| corrupt("mailbox_aces.inheritance", s))
}

/// A well-known folder, stored by its Graph name.
pub fn parse_well_known(s: &str) -> Result<WellKnownFolder, StoreError> {
    WellKnownFolder::ALL.into_iter().find(|w| w.graph_name() == s).ok_or_else(|| corrupt("folders.well_known", s))
}

/// `Default`, `Anonymous` or the recipient's GUID.
pub fn folder_user_key(user: FolderUser) -> String {
    match user {
        FolderUser::Default => "Default".to_owned(),
        FolderUser::Anonymous => "Anonymous".to_owned(),
        FolderUser::Recipient(id) => id.to_string(),
    }
}

/// The inverse of [`folder_user_key`].
pub fn parse_folder_user(s: &str) -> Result<FolderUser, StoreError> {
    match s {
        "Default" => Ok(FolderUser::Default),
        "Anonymous" => Ok(FolderUser::Anonymous),
        _ => s.parse().map(FolderUser::Recipient).map_err(|_| corrupt("folder_aces.user", s)),
    }
}

/// A stored value Deputy would not have written.
pub fn corrupt(column: &str, value: &str) -> StoreError {
    let shown: String = value.chars().take(80).collect();
    StoreError::Corrupt(format!("{column} holds {shown:?}, which Deputy does not write"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_split_and_join_exactly_including_before_1970() {
        for nanos in [0_i64, 1, 999_999, 1_000_000, 1_704_067_200_123_456_789, -1, -1_500_000_001] {
            let t = DateTime::from_timestamp_nanos(nanos);
            let (ms, ns) = split_time(t);
            assert!((0..1_000_000).contains(&ns), "{nanos}: {ns}");
            assert_eq!(join_time(ms, ns).unwrap(), t, "{nanos}");
        }
    }

    #[test]
    fn split_times_order_like_the_times() {
        let a = DateTime::from_timestamp_nanos(-1_000_001);
        let b = DateTime::from_timestamp_nanos(-999_999);
        let c = DateTime::from_timestamp_nanos(5);
        assert!(split_time(a) < split_time(b) && split_time(b) < split_time(c));
    }

    #[test]
    fn folder_users_and_enums_round_trip() {
        let id = deputy_types::RecipientId::from_u128(42);
        for user in [FolderUser::Default, FolderUser::Anonymous, FolderUser::Recipient(id)] {
            assert_eq!(parse_folder_user(&folder_user_key(user)).unwrap(), user);
        }
        for w in WellKnownFolder::ALL {
            assert_eq!(parse_well_known(w.graph_name()).unwrap(), w);
        }
        assert!(matches!(parse_folder_user("default"), Err(StoreError::Corrupt(_))));
        assert!(matches!(parse_domain_type("Relay"), Err(StoreError::Corrupt(_))));
    }
}
