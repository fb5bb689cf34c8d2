//! How SQLite failures become [`StoreError`]s, in one place.
//!
//! This crate has no error enum of its own: everything it reports is a
//! [`StoreError`], the vocabulary the doors already map.

use deputy_store::StoreError;
use rusqlite::ErrorCode;

/// Maps a SQLite error met while `doing` something: busy or locked is
/// [`StoreError::Unavailable`] (retry), unreadable data is [`StoreError::Corrupt`],
/// anything else [`StoreError::Backend`].
pub(crate) fn sql(doing: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| classify(doing, e)
}

fn classify(doing: &str, e: rusqlite::Error) -> StoreError {
    use rusqlite::Error as E;
    match &e {
        E::SqliteFailure(f, _) => match f.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => StoreError::Unavailable(format!(
                "{doing}: the database is locked by another connection or process; retry, or stop the other Deputy using this data directory ({e})"
            )),
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => StoreError::Corrupt(format!(
                "{doing}: the database file is damaged or is not a Deputy database; restore it from a backup ({e})"
            )),
            ErrorCode::DiskFull => StoreError::Backend(format!("{doing}: the disk is full; free some space ({e})")),
            ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen => StoreError::Backend(format!(
                "{doing}: the database cannot be written; check the data directory's permissions ({e})"
            )),
            _ => StoreError::Backend(format!("{doing}: {e}")),
        },
        E::FromSqlConversionFailure(..)
        | E::InvalidColumnType(..)
        | E::IntegralValueOutOfRange(..)
        | E::Utf8Error(..)
        | E::InvalidColumnIndex(..) => {
            StoreError::Corrupt(format!("{doing}: a stored value has an unexpected type or encoding ({e})"))
        }
        _ => StoreError::Backend(format!("{doing}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: std::ffi::c_int) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None)
    }

    #[test]
    fn busy_and_locked_are_unavailable() {
        for code in [rusqlite::ffi::SQLITE_BUSY, rusqlite::ffi::SQLITE_LOCKED] {
            assert!(matches!(sql("committing")(failure(code)), StoreError::Unavailable(_)), "code {code}");
        }
    }

    #[test]
    fn damaged_files_and_bad_values_are_corrupt() {
        assert!(matches!(sql("loading")(failure(rusqlite::ffi::SQLITE_CORRUPT)), StoreError::Corrupt(_)));
        assert!(matches!(sql("loading")(failure(rusqlite::ffi::SQLITE_NOTADB)), StoreError::Corrupt(_)));
        let bad_type = rusqlite::Error::InvalidColumnType(0, "id".into(), rusqlite::types::Type::Blob);
        assert!(matches!(sql("loading")(bad_type), StoreError::Corrupt(_)));
    }

    #[test]
    fn other_failures_are_backend_errors_naming_what_was_done() {
        let e = sql("committing a batch")(failure(rusqlite::ffi::SQLITE_FULL));
        assert!(matches!(&e, StoreError::Backend(m) if m.starts_with("committing a batch: the disk is full")), "{e}");
    }
}
