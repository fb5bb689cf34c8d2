//! How values are spelled in columns, and reading them back with
//! [`StoreError::Corrupt`] for anything Deputy would not have written.

use crate::error::sql;
use deputy_store::StoreError;
use deputy_types::{FolderId, RecipientId};
use rusqlite::Row;

pub(crate) use deputy_store::columns::{
    corrupt, domain_type_name, folder_user_key, join_time, parse_domain_type, parse_folder_user, parse_inheritance,
    parse_well_known, split_time,
};

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
