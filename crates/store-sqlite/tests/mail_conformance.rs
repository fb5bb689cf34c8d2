//! The shared mail conformance suite, run on SQLite.

mod common;

deputy_store::mail_conformance_tests!(common::SqliteHarness::new());

/// `run_all` drives the same cases in one go, as a backend without the macro would.
#[tokio::test]
async fn mail_run_all_passes_on_one_harness() {
    deputy_store::conformance::mail::run_all(&mut common::SqliteHarness::new()).await;
}
