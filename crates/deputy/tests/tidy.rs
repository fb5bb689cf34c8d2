//! Mechanical rules of ARCHITECTURE.md, checked on every test run (the
//! rust-analyzer habit): dependency direction, crate docs, no placeholders,
//! file sizes.

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What each crate's `[dependencies]` may name among Deputy's own crates.
const ALLOWED: &[(&str, &[&str])] = &[
    ("types", &[]),
    ("access", &["types"]),
    ("directory", &["types"]),
    ("store", &["types"]),
    ("store-sqlite", &["store", "types"]),
    ("store-postgres", &["store", "types"]),
    ("core", &["access", "directory", "store", "calendar", "types"]),
    ("pwsh", &[]),
    ("cmdlets", &["pwsh", "core", "access", "directory", "store", "types"]),
    ("admin", &["core", "cmdlets", "pwsh"]),
    ("smtp", &[]),
    ("imap", &[]),
    ("mailauth", &[]),
    ("outbound", &["core", "store", "mailauth", "types"]),
    ("autodiscover", &["core", "access", "types"]),
    ("graph", &["core", "access", "store", "calendar", "types"]),
    ("web", &["core", "cmdlets", "access", "types"]),
    ("calendar", &[]),
    ("hybrid", &["core", "access", "directory", "store", "types"]),
    ("caldav", &["core", "access", "calendar", "types"]),
    ("deputy", &["*"]),
];

fn crates() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(workspace().join("crates"))
        .expect("crates/ is readable")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.join("Cargo.toml").exists())
        .collect();
    dirs.sort();
    dirs
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source directory is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Deputy crates named in the `[dependencies]` table of a manifest.
fn internal_dependencies(manifest: &str) -> Vec<String> {
    let mut in_deps = false;
    let mut deps = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && let Some(name) = line.strip_prefix("deputy-") {
            deps.push(name.split([' ', '=', '.']).next().unwrap_or_default().to_owned());
        }
    }
    deps
}

#[test]
fn dependencies_point_inward() {
    for dir in crates() {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let allowed = ALLOWED
            .iter()
            .find(|(c, _)| *c == name)
            .unwrap_or_else(|| panic!("crate {name} is not in ARCHITECTURE.md's table (tidy.rs ALLOWED)"))
            .1;
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        for dep in internal_dependencies(&manifest) {
            assert!(allowed.contains(&"*") || allowed.contains(&dep.as_str()), "{name} may not depend on {dep}");
        }
    }
}

#[test]
fn every_crate_root_has_docs() {
    for dir in crates() {
        let root = ["src/lib.rs", "src/main.rs"].iter().map(|f| dir.join(f)).find(|p| p.exists()).unwrap();
        let text = std::fs::read_to_string(&root).unwrap();
        assert!(text.trim_start().starts_with("//!"), "{} has no crate documentation", root.display());
    }
}

#[test]
fn no_placeholders_and_small_files() {
    let mut files = Vec::new();
    for dir in crates() {
        rust_files(&dir.join("src"), &mut files);
    }
    let forbidden =
        [concat!("todo", "!("), concat!("unimplemented", "!("), concat!("dbg", "!("), concat!("#[", "ignore")];
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for f in forbidden {
            assert!(!text.contains(f), "{} contains {f}", file.display());
        }
        let lines = text.lines().count();
        assert!(lines <= 800, "{} has {lines} lines; split it by concept (style.md: ~600)", file.display());
    }
}
