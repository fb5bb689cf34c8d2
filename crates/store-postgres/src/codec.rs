//! How values are spelled in columns (the embedded store's spelling, so the two
//! compare value for value), and reading them back with [`StoreError::Corrupt`]
//! for anything Deputy would not have written.

use deputy_store::StoreError;
use tokio_postgres::Row;
use tokio_postgres::types::FromSql;

pub(crate) use deputy_store::columns::{
    corrupt, domain_type_name, folder_user_key, join_time, parse_domain_type, parse_folder_user, parse_inheritance,
    parse_well_known, split_time,
};

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
