//! A conformance [`Harness`] on PostgreSQL: each store in a fresh, uniquely
//! named schema of the database `DEPUTY_TEST_POSTGRES` names, dropped when the
//! harness goes (also when a case panics), so tests run in parallel.

#![allow(dead_code, reason = "each test binary uses a part of the shared helpers")]

use deputy_store::conformance::Harness;
use deputy_store_postgres::{PgOptions, PgStore};
use std::time::Duration;

/// The variable that holds the test database's URL.
pub const VAR: &str = "DEPUTY_TEST_POSTGRES";

/// Makes and drops the schemas of one test.
pub struct PgHarness {
    url: String,
    schemas: Vec<String>,
}

impl PgHarness {
    /// A harness on `DEPUTY_TEST_POSTGRES`, or `None` (after saying the test
    /// was not run) when the variable is unset or empty.
    pub fn from_env(test: &str) -> Option<Self> {
        match std::env::var(VAR) {
            Ok(url) if !url.trim().is_empty() => Some(Self { url, schemas: Vec::new() }),
            _ => {
                eprintln!("{VAR} is not set: the PostgreSQL test {test} was not run (it passes without running)");
                None
            }
        }
    }

    /// A new schema name, unique across parallel tests and processes, dropped with the harness.
    pub fn new_schema(&mut self) -> String {
        let schema = format!("deputy_test_{}", uuid::Uuid::new_v4().simple());
        self.schemas.push(schema.clone());
        schema
    }

    /// A node on `store`'s schema with `options` (the schema is set here).
    pub async fn node(&self, store: &PgStore, options: PgOptions) -> PgStore {
        let schema = store.schema().unwrap_or_else(|| panic!("test stores have a schema")).to_owned();
        let options = PgOptions { schema: Some(schema), ..options };
        PgStore::connect_with(&self.url, &options).await.unwrap_or_else(|e| panic!("connecting another node: {e}"))
    }

    /// The test database's URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Harness for PgHarness {
    type S = PgStore;

    async fn fresh(&mut self) -> PgStore {
        let schema = self.new_schema();
        PgStore::connect_schema(&self.url, &schema)
            .await
            .unwrap_or_else(|e| panic!("connecting to {VAR}={} (schema {schema}): {e}", self.url))
    }

    async fn reopen(&mut self, store: PgStore) -> PgStore {
        let schema = store.schema().unwrap_or_else(|| panic!("test stores have a schema")).to_owned();
        drop(store);
        PgStore::connect_schema(&self.url, &schema).await.unwrap_or_else(|e| panic!("reopening schema {schema}: {e}"))
    }
}

impl Drop for PgHarness {
    /// Drops the schemas from a thread of its own: the test's runtime is
    /// busy dropping this harness. A lock timeout keeps a failed test whose
    /// transaction is still open from hanging here; its schema then stays.
    fn drop(&mut self) {
        let schemas = std::mem::take(&mut self.schemas);
        if schemas.is_empty() {
            return;
        }
        let url = self.url.clone();
        let dropping = std::thread::spawn(move || -> Result<(), String> {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
            runtime.block_on(async move {
                let (client, connection) =
                    tokio_postgres::connect(&url, tokio_postgres::NoTls).await.map_err(|e| e.to_string())?;
                tokio::spawn(connection);
                client.batch_execute("SET lock_timeout = '10s'").await.map_err(|e| e.to_string())?;
                for schema in schemas {
                    let drop = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                    client.batch_execute(&drop).await.map_err(|e| format!("{drop}: {e:?}"))?;
                }
                Ok(())
            })
        });
        match dropping.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop a test schema: {e}"),
            Err(_) => eprintln!("the thread dropping test schemas panicked"),
        }
    }
}

/// A short lease, for tests of a node taking over another's entries.
pub fn short_lease() -> PgOptions {
    PgOptions { queue_lease: Duration::from_millis(1), ..PgOptions::default() }
}
