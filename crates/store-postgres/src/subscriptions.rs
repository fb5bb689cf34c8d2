//! IMAP subscription rows (schema version 5): each a single statement, read
//! straight from the table so every node sees a committed choice at once.

use crate::codec::get;
use crate::error::Error;
use crate::sql::{exec, rows};
use deadpool_postgres::GenericClient;
use deputy_store::{StoreError, Subscription};
use deputy_types::{FolderId, RecipientId};
use uuid::Uuid;

/// `principal`'s rows, ascending by folder.
pub(crate) async fn of<C: GenericClient>(c: &C, principal: RecipientId) -> Result<Vec<(FolderId, bool)>, Error> {
    let found = rows(
        c,
        "reading subscriptions",
        "SELECT folder, subscribed FROM subscriptions WHERE principal = $1 ORDER BY folder",
        &[&principal.0],
    )
    .await?;
    let decoded = found
        .iter()
        .map(|r| Ok((FolderId(get(r, 0, "subscriptions.folder")?), get(r, 1, "subscriptions.subscribed")?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(decoded)
}

/// Every row, ascending by (principal, folder), for the export.
pub(crate) async fn all<C: GenericClient>(c: &C) -> Result<Vec<Subscription>, Error> {
    let found = rows(
        c,
        "exporting subscriptions",
        "SELECT principal, folder, subscribed FROM subscriptions ORDER BY principal, folder",
        &[],
    )
    .await?;
    let decoded = found
        .iter()
        .map(|r| {
            Ok(Subscription {
                principal: RecipientId(get(r, 0, "subscriptions.principal")?),
                folder: FolderId(get(r, 1, "subscriptions.folder")?),
                subscribed: get(r, 2, "subscriptions.subscribed")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(decoded)
}

/// Records one choice, replacing an earlier one; running it twice is harmless.
pub(crate) async fn set<C: GenericClient>(
    c: &C,
    principal: RecipientId,
    folder: FolderId,
    subscribed: bool,
) -> Result<(), Error> {
    exec(
        c,
        "recording a subscription",
        "INSERT INTO subscriptions (principal, folder, subscribed) VALUES ($1, $2, $3)
         ON CONFLICT (principal, folder) DO UPDATE SET subscribed = excluded.subscribed",
        &[&principal.0, &folder.0, &subscribed],
    )
    .await
    .map(|_| ())
}

/// Removes every principal's row for `folder`.
pub(crate) async fn delete_folder<C: GenericClient>(c: &C, folder: FolderId) -> Result<(), Error> {
    exec(c, "removing a folder's subscriptions", "DELETE FROM subscriptions WHERE folder = $1", &[&folder.0])
        .await
        .map(|_| ())
}

/// Writes an export's rows in one statement, inside the import's transaction.
pub(crate) async fn import<C: GenericClient>(tx: &C, all: &[Subscription]) -> Result<(), Error> {
    if all.is_empty() {
        return Ok(());
    }
    let principal: Vec<Uuid> = all.iter().map(|s| s.principal.0).collect();
    let folder: Vec<Uuid> = all.iter().map(|s| s.folder.0).collect();
    let subscribed: Vec<bool> = all.iter().map(|s| s.subscribed).collect();
    exec(
        tx,
        "copying subscriptions",
        "INSERT INTO subscriptions (principal, folder, subscribed)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::boolean[])",
        &[&principal, &folder, &subscribed],
    )
    .await
    .map(|_| ())
}
