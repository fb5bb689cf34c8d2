//! How values are spelled in columns, and reading them back with
//! [`StoreError::Corrupt`] for anything Deputy would not have written.

use crate::error::sql;
use chrono::{DateTime, Duration, Utc};
use deputy_store::StoreError;
use deputy_types::{AcceptedDomainType, FolderId, FolderUser, InheritanceType, RecipientId, WellKnownFolder};
use rusqlite::Row;

const NANOS_PER_MS: u32 = 1_000_000;

/// A time as (milliseconds since the epoch, nanoseconds within the millisecond).
/// Leap-second instants, which chrono alone can represent, come back as the
/// following instant.
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

fn corrupt(column: &str, value: &str) -> StoreError {
    let shown: String = value.chars().take(80).collect();
    StoreError::Corrupt(format!("{column} holds {shown:?}, which Deputy does not write"))
}

/// Typed column reads for one table, naming the column in every error.
pub(crate) struct Columns<'r, 's> {
    pub(crate) row: &'r Row<'s>,
    pub(crate) table: &'static str,
}

impl<'r> Columns<'r, '_> {
    fn column(&self, i: usize) -> String {
        let statement: &rusqlite::Statement<'_> = self.row.as_ref();
        let name = statement.column_name(i).unwrap_or("?");
        format!("{}.{name}", self.table)
    }

    pub(crate) fn text(&self, i: usize) -> Result<&'r str, StoreError> {
        let v = self.row.get_ref(i).map_err(sql("reading a row"))?;
        v.as_str().map_err(|e| StoreError::Corrupt(format!("{}: expected text: {e}", self.column(i))))
    }

    pub(crate) fn opt_text(&self, i: usize) -> Result<Option<&'r str>, StoreError> {
        let v = self.row.get_ref(i).map_err(sql("reading a row"))?;
        v.as_str_or_null().map_err(|e| StoreError::Corrupt(format!("{}: expected text: {e}", self.column(i))))
    }

    pub(crate) fn int(&self, i: usize) -> Result<i64, StoreError> {
        let v = self.row.get_ref(i).map_err(sql("reading a row"))?;
        v.as_i64().map_err(|e| StoreError::Corrupt(format!("{}: expected an integer: {e}", self.column(i))))
    }

    pub(crate) fn flag(&self, i: usize) -> Result<bool, StoreError> {
        match self.int(i)? {
            0 => Ok(false),
            1 => Ok(true),
            n => Err(corrupt(&self.column(i), &n.to_string())),
        }
    }

    pub(crate) fn bits<T: TryFrom<i64>>(&self, i: usize) -> Result<T, StoreError> {
        let n = self.int(i)?;
        T::try_from(n).map_err(|_| corrupt(&self.column(i), &n.to_string()))
    }

    pub(crate) fn recipient_id(&self, i: usize) -> Result<RecipientId, StoreError> {
        let s = self.text(i)?;
        s.parse().map_err(|_| corrupt(&self.column(i), s))
    }

    pub(crate) fn opt_recipient_id(&self, i: usize) -> Result<Option<RecipientId>, StoreError> {
        match self.opt_text(i)? {
            None => Ok(None),
            Some(s) => s.parse().map(Some).map_err(|_| corrupt(&self.column(i), s)),
        }
    }

    pub(crate) fn folder_id(&self, i: usize) -> Result<FolderId, StoreError> {
        let s = self.text(i)?;
        s.parse().map_err(|_| corrupt(&self.column(i), s))
    }

    pub(crate) fn opt_folder_id(&self, i: usize) -> Result<Option<FolderId>, StoreError> {
        match self.opt_text(i)? {
            None => Ok(None),
            Some(s) => s.parse().map(Some).map_err(|_| corrupt(&self.column(i), s)),
        }
    }
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
        let id = RecipientId::from_u128(42);
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
