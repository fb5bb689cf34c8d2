//! A mutation whose caller goes away mid-way (a dropped future: an HTTP
//! client that hung up) never leaves memory behind what the store committed:
//! the commit and the in-memory apply finish together whatever the caller does.

#![allow(clippy::unwrap_used, reason = "test scaffolding: a failed unwrap is a failed test")]

use deputy_core::{Ctx, Deputy, NewRecipient, RecipientEdit};
use deputy_store_sqlite::SqliteStore;
use deputy_types::RecipientType;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_mutation_never_leaves_memory_behind_the_store() {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let dir = std::env::temp_dir().join(format!("deputy-cancel-{}-{n}", std::process::id()));
    let store = Arc::new(SqliteStore::open(&dir).unwrap());
    let d = Deputy::load(store.clone(), store.clone()).await.unwrap();
    d.initialize("contoso.test", "Adm1n!pass").await.unwrap();
    let ctx = Ctx::new("admin@contoso.test", "Test", "test");
    let spec = NewRecipient { kind: Some(RecipientType::SharedMailbox), name: "Box".into(), ..Default::default() };
    let id = d.new_recipient(&ctx, spec).await.unwrap().value.id;
    let mut committed_but_abandoned = 0;
    // Time-outs from nothing up to well past a commit's fsync: some land
    // between the commit and the in-memory apply.
    for step in 0..300u64 {
        let hidden = step % 2 == 0;
        let edit = RecipientEdit { hidden: Some(hidden), ..Default::default() };
        let done = tokio::time::timeout(Duration::from_micros(step * 20), d.set_recipient(&ctx, id, edit)).await;
        // The next mutation (here one that changes nothing) waits for any
        // commit still in flight.
        d.set_recipient(&ctx, id, RecipientEdit::default()).await.unwrap();
        let on_disk = Deputy::load(store.clone(), store.clone()).await.unwrap();
        let disk = on_disk.read(|s| s.dir.get(id).unwrap().hidden);
        let memory = d.read(|s| s.dir.get(id).unwrap().hidden);
        assert_eq!(memory, disk, "step {step}: memory and store disagree");
        if done.is_err() && disk == hidden {
            committed_but_abandoned += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("{committed_but_abandoned} mutations committed after their caller went away");
}
