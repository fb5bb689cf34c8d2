//! The shared conformance suites (directory and mail), run on PostgreSQL when
//! `DEPUTY_TEST_POSTGRES` holds a URL; each case in schemas of its own.
//! Without the variable every case says it was not run, and passes.

mod common;

deputy_store::conformance_tests!(match common::PgHarness::from_env(module_path!()) {
    Some(harness) => harness,
    None => return,
});

deputy_store::mail_conformance_tests!(match common::PgHarness::from_env(module_path!()) {
    Some(harness) => harness,
    None => return,
});
