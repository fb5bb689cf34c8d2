//! IMAP subscription rows (schema version 5): reads on a reader connection,
//! writes inside the writer thread's savepoint like every other write.

use crate::mail_write::execute;
use crate::read::each;
use deputy_store::{StoreError, Subscription};
use deputy_types::{FolderId, RecipientId};
use rusqlite::{Connection, params};

/// `principal`'s rows, ascending by folder (the key's order: ids are
/// lower-case hyphenated GUIDs, so text order is id order).
pub(crate) fn of(conn: &Connection, principal: RecipientId) -> Result<Vec<(FolderId, bool)>, StoreError> {
    each(
        conn,
        "subscriptions",
        "SELECT folder, subscribed FROM subscriptions WHERE principal = ?1 ORDER BY folder",
        &[&principal.to_string()],
        |c| Ok((c.folder_id(0)?, c.flag(1)?)),
    )
}

/// Every row, ascending by (principal, folder), for the export.
pub(crate) fn all(conn: &Connection) -> Result<Vec<Subscription>, StoreError> {
    each(
        conn,
        "subscriptions",
        "SELECT principal, folder, subscribed FROM subscriptions ORDER BY principal, folder",
        &[],
        |c| Ok(Subscription { principal: c.recipient_id(0)?, folder: c.folder_id(1)?, subscribed: c.flag(2)? }),
    )
}

/// Records one choice, replacing an earlier one.
pub(crate) fn set(
    conn: &Connection,
    principal: RecipientId,
    folder: FolderId,
    subscribed: bool,
) -> Result<(), StoreError> {
    execute(
        conn,
        "recording a subscription",
        "INSERT INTO subscriptions (principal, folder, subscribed) VALUES (?1, ?2, ?3)
         ON CONFLICT (principal, folder) DO UPDATE SET subscribed = excluded.subscribed",
        params![principal.to_string(), folder.to_string(), subscribed],
    )
}

/// Removes every principal's row for `folder`.
pub(crate) fn delete_folder(conn: &Connection, folder: FolderId) -> Result<(), StoreError> {
    execute(
        conn,
        "removing a folder's subscriptions",
        "DELETE FROM subscriptions WHERE folder = ?1",
        params![folder.to_string()],
    )
}
