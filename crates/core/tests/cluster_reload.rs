//! A cluster node idle while the shared change log was pruned past its
//! position reloads the directory instead of skipping batches (docs/cluster.md).
//! Runs when `DEPUTY_TEST_POSTGRES` holds a URL, like the PostgreSQL store's
//! suites; otherwise it says it did not run.

#![allow(clippy::unwrap_used, reason = "test scaffolding: a failed unwrap is a failed test")]

use deputy_core::{Ctx, Deputy, NewRecipient};
use deputy_store_postgres::{PgOptions, PgStore, Retention};
use deputy_types::{RecipientId, RecipientType};
use std::sync::Arc;
use std::time::Duration;

/// Drops the test's schema when done, from a thread of its own (the
/// test's runtime is busy dropping this).
struct Schema {
    url: String,
    name: String,
}

impl Drop for Schema {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
                tokio::spawn(connection);
                client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE")).await.unwrap();
            });
        })
        .join();
    }
}

async fn node(url: &str, schema: &str) -> Deputy {
    // Keep two batches, prune at every commit: a few changes outrun an idle node.
    let change_log = Retention { batches: 2, age: Duration::ZERO, every: 1 };
    let options = PgOptions { schema: Some(schema.to_owned()), change_log, ..PgOptions::default() };
    let store = Arc::new(PgStore::connect_with(url, &options).await.unwrap());
    Deputy::load(store.clone(), store).await.unwrap()
}

async fn shared_mailbox(d: &Deputy, name: &str) -> RecipientId {
    let spec = NewRecipient { kind: Some(RecipientType::SharedMailbox), name: name.into(), ..Default::default() };
    d.new_recipient(&Ctx::new("admin@contoso.test", "Test", "test"), spec).await.unwrap().value.id
}

#[tokio::test]
async fn a_node_behind_the_pruned_log_reloads_the_directory() {
    let Ok(url) = std::env::var("DEPUTY_TEST_POSTGRES") else {
        eprintln!("DEPUTY_TEST_POSTGRES is not set: this test did not run");
        return;
    };
    let schema = Schema { url: url.clone(), name: format!("deputy_test_{}", uuid::Uuid::new_v4().simple()) };
    let a = node(&url, &schema.name).await;
    a.initialize("contoso.test", "Adm1n!pass").await.unwrap();
    let b = node(&url, &schema.name).await;
    let first = shared_mailbox(&a, "First").await;
    b.catch_up().await.unwrap();
    assert!(b.read(|s| s.folders_of(first).count() > 0), "b follows the log while it holds the batches");

    // B sits idle while A commits far more than the log keeps.
    let mut made = Vec::new();
    for n in 0..6 {
        made.push(shared_mailbox(&a, &format!("Team {n}")).await);
    }
    b.catch_up().await.unwrap();
    for id in made.iter().chain([&first]) {
        assert!(b.read(|s| s.folders_of(*id).count() > 0), "b reloaded and sees {id:?}");
    }
    // And follows on normally from the reloaded head.
    let last = shared_mailbox(&a, "Last").await;
    b.catch_up().await.unwrap();
    assert!(b.read(|s| s.folders_of(last).count() > 0));
    // B's own commit goes through on top of the reloaded state.
    let own = shared_mailbox(&b, "From B").await;
    a.catch_up().await.unwrap();
    assert!(a.read(|s| s.folders_of(own).count() > 0));
}
