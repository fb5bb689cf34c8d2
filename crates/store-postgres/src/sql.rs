//! Running statements: each prepared once per connection and kept, each
//! failure named by what was being done.

use crate::error::{Error, db};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

/// Parameters of one statement.
pub(crate) type Params<'a> = [&'a (dyn ToSql + Sync)];

/// Runs a statement that returns no rows; answers how many rows it touched.
pub(crate) async fn exec<C: GenericClient>(c: &C, doing: &str, query: &str, params: &Params<'_>) -> Result<u64, Error> {
    let statement = c.prepare_cached(query).await.map_err(db(doing))?;
    c.execute(&statement, params).await.map_err(db(doing))
}

/// Runs a query and returns its rows.
pub(crate) async fn rows<C: GenericClient>(
    c: &C,
    doing: &str,
    query: &str,
    params: &Params<'_>,
) -> Result<Vec<Row>, Error> {
    let statement = c.prepare_cached(query).await.map_err(db(doing))?;
    c.query(&statement, params).await.map_err(db(doing))
}

/// Runs a query that returns at most one row.
pub(crate) async fn row<C: GenericClient>(
    c: &C,
    doing: &str,
    query: &str,
    params: &Params<'_>,
) -> Result<Option<Row>, Error> {
    let statement = c.prepare_cached(query).await.map_err(db(doing))?;
    c.query_opt(&statement, params).await.map_err(db(doing))
}
