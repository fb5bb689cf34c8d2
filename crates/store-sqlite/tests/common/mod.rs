//! Test helpers shared by the integration tests: unique temporary data directories.

#![allow(dead_code, reason = "each test binary uses a different part of this module")]
#![expect(clippy::expect_used, reason = "the harness fails the test by panicking")]

use deputy_store::conformance::Harness;
use deputy_store_sqlite::SqliteStore;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A directory under the system temp dir, unique to this process and call, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Self {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("deputy-store-sqlite-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The conformance harness: every fresh store gets its own directory.
pub struct SqliteHarness {
    dirs: Vec<TempDir>,
}

impl SqliteHarness {
    pub fn new() -> Self {
        Self { dirs: Vec::new() }
    }
}

impl Harness for SqliteHarness {
    type S = SqliteStore;

    async fn fresh(&mut self) -> SqliteStore {
        let dir = TempDir::new("conformance");
        let store = SqliteStore::open(dir.path()).expect("open a fresh store");
        self.dirs.push(dir);
        store
    }

    async fn reopen(&mut self, store: SqliteStore) -> SqliteStore {
        let dir = store.path().parent().expect("the database lives in a directory").to_owned();
        drop(store);
        SqliteStore::open(&dir).expect("reopen the store")
    }
}
