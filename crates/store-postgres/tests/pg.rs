//! What only the PostgreSQL store does: connecting, schemas and migrations.
//! The cases that need a server run when `DEPUTY_TEST_POSTGRES` holds a URL.

mod common;

use common::PgHarness;
use deputy_store::StoreError;
use deputy_store::conformance::Harness;
use deputy_store_postgres::{PgOptions, PgStore, SCHEMA_VERSION};

#[tokio::test]
async fn an_unreachable_server_is_unavailable_and_the_password_is_not_shown() {
    let options = PgOptions { connect_timeout: std::time::Duration::from_secs(2), ..PgOptions::default() };
    let result = PgStore::connect_with("postgres://deputy:s3cret@127.0.0.1:1/deputy", &options).await;
    match result {
        Err(StoreError::Unavailable(message)) => assert!(!message.contains("s3cret"), "{message}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn a_schema_name_that_needs_quoting_is_refused_before_connecting() {
    for bad in ["Deputy", "a\"; DROP SCHEMA public; --", "pg_catalog", "1x"] {
        let result = PgStore::connect_schema("postgres://nobody@127.0.0.1:1/none", bad).await;
        assert!(matches!(result, Err(StoreError::Backend(_))), "{bad}: {result:?}");
    }
}

#[tokio::test]
async fn migrations_run_once_and_a_newer_schema_is_refused() {
    let Some(mut harness) = PgHarness::from_env("migrations_run_once_and_a_newer_schema_is_refused") else {
        return;
    };
    // Three nodes starting at once on a new schema: one migrates, the others wait and find it done.
    let schema = harness.new_schema();
    let url = harness.url().to_owned();
    let (a, b, c) = tokio::join!(
        PgStore::connect_schema(&url, &schema),
        PgStore::connect_schema(&url, &schema),
        PgStore::connect_schema(&url, &schema)
    );
    for node in [a, b, c] {
        let node = node.unwrap_or_else(|e| panic!("a node starting beside others: {e}"));
        assert_eq!(node.schema_version().await.unwrap_or_else(|e| panic!("{e}")), SCHEMA_VERSION);
    }
    let store = PgStore::connect_schema(&url, &schema).await.unwrap_or_else(|e| panic!("{e}"));
    let store = harness.reopen(store).await;
    assert_eq!(store.schema_version().await.unwrap_or_else(|e| panic!("{e}")), SCHEMA_VERSION);
    let (client, connection) =
        tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap_or_else(|e| panic!("{e}"));
    tokio::spawn(connection);
    let newer = SCHEMA_VERSION + 1;
    client
        .batch_execute(&format!("INSERT INTO \"{schema}\".schema_version (version) VALUES ({newer})"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    match PgStore::connect_schema(&url, &schema).await {
        Err(StoreError::SchemaTooNew { found, supported }) => assert_eq!((found, supported), (newer, SCHEMA_VERSION)),
        other => panic!("a newer schema must be refused, got {other:?}"),
    }
}
