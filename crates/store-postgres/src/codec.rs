//! How values are spelled in columns (the embedded store's spelling, so the two
//! compare value for value), and reading them back with [`StoreError::Corrupt`]
//! for anything Deputy would not have written.

use chrono::{DateTime, Duration, Utc};
use deputy_store::StoreError;
use deputy_types::{AcceptedDomainType, FolderUser, InheritanceType, WellKnownFolder};
use tokio_postgres::Row;
use tokio_postgres::types::FromSql;

const NANOS_PER_MS: u32 = 1_000_000;

/// A time as (milliseconds since the epoch, nanoseconds within the millisecond):
/// exact to the nanosecond, which `timestamptz` (microseconds) is not.
pub(crate) fn split_time(t: DateTime<Utc>) -> (i64, i64) {
    (t.timestamp_millis(), i64::from(t.timestamp_subsec_nanos() % NANOS_PER_MS))
}

/// The inverse of [`split_time`].
pub(crate) fn join_time(ms: i64, ns: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms)
        .and_then(|t| t.checked_add_signed(Duration::nanoseconds(ns)))
        .ok_or_else(|| StoreError::Corrupt(format!("stored time {ms} ms + {ns} ns is out of range")))
}

pub(crate) fn domain_type_name(kind: AcceptedDomainType) -> &'static str {
    match kind {
        AcceptedDomainType::Authoritative => "Authoritative",
        AcceptedDomainType::InternalRelay => "InternalRelay",
        AcceptedDomainType::ExternalRelay => "ExternalRelay",
    }
}

pub(crate) fn parse_domain_type(s: &str) -> Result<AcceptedDomainType, StoreError> {
    [AcceptedDomainType::Authoritative, AcceptedDomainType::InternalRelay, AcceptedDomainType::ExternalRelay]
        .into_iter()
        .find(|k| domain_type_name(*k) == s)
        .ok_or_else(|| corrupt("accepted_domains.kind", s))
}

pub(crate) fn parse_inheritance(s: &str) -> Result<InheritanceType, StoreError> {
    InheritanceType::parse(s).map_err(|_| corrupt("mailbox_aces.inheritance", s))
}

pub(crate) fn parse_well_known(s: &str) -> Result<WellKnownFolder, StoreError> {
    WellKnownFolder::ALL.into_iter().find(|w| w.graph_name() == s).ok_or_else(|| corrupt("folders.well_known", s))
}

/// `Default`, `Anonymous` or the recipient's GUID.
pub(crate) fn folder_user_key(user: FolderUser) -> String {
    match user {
        FolderUser::Default => "Default".to_owned(),
        FolderUser::Anonymous => "Anonymous".to_owned(),
        FolderUser::Recipient(id) => id.to_string(),
    }
}

pub(crate) fn parse_folder_user(s: &str) -> Result<FolderUser, StoreError> {
    match s {
        "Default" => Ok(FolderUser::Default),
        "Anonymous" => Ok(FolderUser::Anonymous),
        _ => s.parse().map(FolderUser::Recipient).map_err(|_| corrupt("folder_aces.user", s)),
    }
}

pub(crate) fn corrupt(column: &str, value: &str) -> StoreError {
    let shown: String = value.chars().take(80).collect();
    StoreError::Corrupt(format!("{column} holds {shown:?}, which Deputy does not write"))
}

/// Column `i` of `row` (named `column` in errors) as a `T`.
pub(crate) fn get<'a, T: FromSql<'a>>(row: &'a Row, i: usize, column: &str) -> Result<T, StoreError> {
    row.try_get(i).map_err(|e| StoreError::Corrupt(format!("{column}: unexpected type or value ({e})")))
}

/// A `bigint` column that must fit `T` (a UID, a size, bit flags).
pub(crate) fn int<T: TryFrom<i64>>(row: &Row, i: usize, column: &str) -> Result<T, StoreError> {
    let n: i64 = get(row, i, column)?;
    T::try_from(n).map_err(|_| corrupt(column, &n.to_string()))
}

/// A value Deputy hands out as unsigned, as the `bigint` it is stored in.
pub(crate) fn signed<T: TryInto<i64> + Copy + std::fmt::Display>(n: T, what: &str) -> Result<i64, StoreError> {
    n.try_into().map_err(|_| StoreError::Backend(format!("{what} {n} is beyond what the database can hold")))
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
    fn folder_users_and_enums_round_trip() {
        let id = deputy_types::RecipientId::from_u128(42);
        for user in [FolderUser::Default, FolderUser::Anonymous, FolderUser::Recipient(id)] {
            assert_eq!(parse_folder_user(&folder_user_key(user)).unwrap(), user);
        }
        for w in WellKnownFolder::ALL {
            assert_eq!(parse_well_known(w.graph_name()).unwrap(), w);
        }
        assert!(matches!(parse_domain_type("Relay"), Err(StoreError::Corrupt(_))));
    }
}
