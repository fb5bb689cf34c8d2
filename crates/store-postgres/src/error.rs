//! How PostgreSQL failures become [`StoreError`]s, in one place, and the
//! retry of a transaction that lost a race with another node.
//!
//! Like the embedded store, this crate reports only [`StoreError`]s; inside
//! it, [`Error::Conflict`] marks a failure that running the whole transaction
//! again can cure (a serialization failure or a deadlock PostgreSQL broke),
//! and [`Error::Lost`] a connection that broke before anything was committed
//! (a restarted server, a terminated backend), which running it again on
//! a fresh connection cures. A connection lost during `COMMIT` is never
//! run again: that commit may have landed ([`Error::settled`]).

use deputy_store::StoreError;
use std::future::Future;
use tokio_postgres::error::SqlState;

/// A failure inside the crate: either final, or a race worth running again.
#[derive(Debug)]
pub(crate) enum Error {
    /// Another transaction won a race; the whole transaction may run again.
    Conflict(String),
    /// The connection broke; nothing of the transaction was committed unless
    /// this came from its `COMMIT` (see [`Error::settled`]).
    Lost(String),
    /// Anything else.
    Store(StoreError),
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Store(e)
    }
}

impl From<Error> for StoreError {
    fn from(e: Error) -> Self {
        match e {
            Error::Conflict(m) => StoreError::Unavailable(format!("{m}; other nodes kept winning, retry later")),
            Error::Lost(m) => StoreError::Unavailable(m),
            Error::Store(e) => e,
        }
    }
}

impl Error {
    /// A failure that may not be cured by running again: what a lost
    /// connection means at `COMMIT` (it may have landed) or while connecting
    /// (the pool already waited).
    pub(crate) fn settled(self) -> Self {
        match self {
            Error::Lost(m) => Error::Store(StoreError::Unavailable(m)),
            other => other,
        }
    }
}

/// How many times a transaction that lost a race is run in all.
const ATTEMPTS: usize = 8;

/// How many times a transaction whose connection broke is run in all.
const RECONNECTS: usize = 3;

/// Runs `attempt` until it does not lose a race, at most [`ATTEMPTS`] times,
/// nor its connection, at most [`RECONNECTS`] times.
pub(crate) async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let (mut tries, mut reconnects) = (0, 0);
    loop {
        tries += 1;
        match attempt().await {
            Err(Error::Conflict(_)) if tries < ATTEMPTS => {
                // A short, growing pause lets the winner commit first.
                tokio::time::sleep(std::time::Duration::from_millis(2 << tries)).await;
            }
            Err(Error::Lost(_)) if reconnects + 1 < RECONNECTS => {
                // The pool drops the broken connection and opens another.
                reconnects += 1;
                tokio::time::sleep(std::time::Duration::from_millis(10 << reconnects)).await;
            }
            other => return other.map_err(StoreError::from),
        }
    }
}

/// Maps a PostgreSQL error met while `doing` something.
pub(crate) fn db(doing: &str) -> impl Fn(tokio_postgres::Error) -> Error + '_ {
    move |e| classify(doing, &e)
}

/// [`db`] for code paths that report a [`StoreError`] directly (no retry).
pub(crate) fn db_store(doing: &str) -> impl Fn(tokio_postgres::Error) -> StoreError + '_ {
    move |e| classify(doing, &e).into()
}

fn classify(doing: &str, e: &tokio_postgres::Error) -> Error {
    if e.is_closed() {
        return Error::Lost(format!("{doing}: the connection to PostgreSQL closed; retry ({e})"));
    }
    let Some(code) = e.code() else {
        // No SQLSTATE: an I/O failure or timeout, or a value of an unexpected type.
        let io = std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>());
        if io || e.to_string().contains("timeout") {
            return Error::Lost(format!("{doing}: PostgreSQL could not be reached ({e})"));
        }
        return Error::Store(StoreError::Backend(format!("{doing}: {e}")));
    };
    let detail = e.as_db_error().map_or_else(|| e.to_string(), ToString::to_string);
    if *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED {
        return Error::Conflict(format!("{doing}: {detail}"));
    }
    // The connection is gone: the server shut down or restarted, or an
    // operator terminated the backend (pg_terminate_backend).
    if code.code().starts_with("08")
        || [SqlState::ADMIN_SHUTDOWN, SqlState::CRASH_SHUTDOWN, SqlState::CANNOT_CONNECT_NOW].contains(code)
    {
        return Error::Lost(format!("{doing}: the connection to PostgreSQL was lost; retry ({detail})"));
    }
    let class = &code.code()[..2];
    let store = match class {
        // Connection exceptions, insufficient resources, operator intervention
        // (shutdown, terminated backend), and a database that is starting up.
        "08" | "53" | "57" => StoreError::Unavailable(format!("{doing}: PostgreSQL is unavailable; retry ({detail})")),
        "XX" => StoreError::Corrupt(format!("{doing}: PostgreSQL reports internal damage ({detail})")),
        "42" => StoreError::Backend(format!(
            "{doing}: the database does not have the schema Deputy expects; was it changed by hand? ({detail})"
        )),
        _ => StoreError::Backend(format!("{doing}: {detail}")),
    };
    Error::Store(store)
}

/// A pool failure: no connection could be had in time.
pub(crate) fn pool(doing: &str, e: deadpool_postgres::PoolError) -> Error {
    match e {
        deadpool_postgres::PoolError::Backend(e) => classify(doing, &e).settled(),
        other => Error::Store(StoreError::Unavailable(format!(
            "{doing}: no connection to PostgreSQL could be had ({other}); retry"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn conflicts_are_retried_and_then_reported_as_unavailable() {
        let mut calls = 0;
        let result: Result<(), StoreError> = retrying(|| {
            calls += 1;
            async { Err(Error::Conflict("committing".to_owned())) }
        })
        .await;
        assert_eq!(calls, ATTEMPTS);
        assert!(matches!(result, Err(StoreError::Unavailable(m)) if m.starts_with("committing")));
    }

    #[tokio::test]
    async fn lost_connections_are_retried_a_few_times_and_settled_ones_never() {
        let mut calls = 0;
        let result: Result<(), StoreError> = retrying(|| {
            calls += 1;
            async { Err(Error::Lost("storing".to_owned())) }
        })
        .await;
        assert_eq!(calls, RECONNECTS);
        assert!(matches!(result, Err(StoreError::Unavailable(m)) if m == "storing"));
        let mut calls = 0;
        let result: Result<(), StoreError> = retrying(|| {
            calls += 1;
            async { Err(Error::Lost("committing".to_owned()).settled()) }
        })
        .await;
        assert_eq!(calls, 1, "a COMMIT whose connection broke may have landed");
        assert!(matches!(result, Err(StoreError::Unavailable(_))));
    }

    #[tokio::test]
    async fn other_failures_are_not_retried() {
        let mut calls = 0;
        let result: Result<(), StoreError> = retrying(|| {
            calls += 1;
            async { Err(Error::Store(StoreError::Backend("no".to_owned()))) }
        })
        .await;
        assert_eq!(calls, 1);
        assert!(matches!(result, Err(StoreError::Backend(_))));
    }
}
