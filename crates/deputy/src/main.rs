//! `deputy`: the binary. It reads flags and environment (nothing else does),
//! opens the store, and wires the doors to the core (interface.md).

mod hybrid;
mod imapdoor;
mod keys;
mod mailflow;
mod migrate;
mod serve;
mod shell;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use deputy_core::Deputy;
use deputy_store::MailStore;
use deputy_store_sqlite::SqliteStore;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "deputy", version, about = "A mail server built around Exchange-style mailbox delegation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create an organization in a new data directory.
    Init {
        /// The data directory to create.
        #[arg(long)]
        data: PathBuf,
        /// The organization's accepted domain, e.g. contoso.test.
        #[arg(long)]
        domain: String,
        /// The password of admin@DOMAIN.
        #[arg(long)]
        admin_password: String,
        /// Keep the organization in PostgreSQL (`postgres://…`, optionally
        /// `?schema=NAME`) instead of the embedded store in DIR.
        #[arg(long)]
        store: Option<String>,
    },
    /// Run the server (initializing an empty data directory first).
    Serve(serve::ServeArgs),
    /// Run Exchange cmdlets on a running server.
    Shell(shell::ShellArgs),
    /// Copy an embedded store into PostgreSQL and verify the copy (stop the server first).
    Migrate(migrate::MigrateArgs),
    /// Two forests: hybrid configuration and directory sync (docs/hybrid.md).
    Hybrid(hybrid::HybridArgs),
}

/// Opens the embedded store in `dir`: the organization, and its message store.
pub(crate) async fn open_embedded(dir: &Path) -> Result<(Arc<Deputy>, Arc<dyn MailStore>)> {
    let store = SqliteStore::open(dir).with_context(|| format!("opening the store in {}", dir.display()))?;
    let store = Arc::new(store);
    let deputy = Deputy::load(store.clone(), store.clone()).await.context("loading the organization")?;
    Ok((Arc::new(deputy), store))
}

/// Opens the store `url` names (PostgreSQL: `postgres://…`, with an optional
/// `schema=NAME` query parameter Deputy takes for itself), or the embedded
/// store in `dir` when there is none.
pub(crate) async fn open_store(dir: &Path, url: Option<&str>) -> Result<(Arc<Deputy>, Arc<dyn MailStore>)> {
    let Some(url) = url else { return open_embedded(dir).await };
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        bail!("--store: unsupported store URL (expected postgres://…)");
    }
    let (url, schema) = split_schema(url);
    let store = match &schema {
        Some(schema) => deputy_store_postgres::PgStore::connect_schema(&url, schema).await,
        None => deputy_store_postgres::PgStore::connect(&url).await,
    }
    .context("--store: connecting to PostgreSQL")?;
    let store = Arc::new(store);
    let deputy = Deputy::load(store.clone(), store.clone()).await.context("loading the organization")?;
    Ok((Arc::new(deputy), store))
}

/// Takes Deputy's own `schema=NAME` parameter out of a PostgreSQL URL.
fn split_schema(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else { return (url.to_owned(), None) };
    let mut schema = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|p| match p.strip_prefix("schema=") {
            Some(name) => {
                schema = Some(name.to_owned());
                false
            }
            None => !p.is_empty(),
        })
        .collect();
    let url = if rest.is_empty() { base.to_owned() } else { format!("{base}?{}", rest.join("&")) };
    (url, schema)
}

/// Whether `dir` holds anything at all.
pub(crate) fn is_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_none())
}

async fn init(data: &Path, domain: &str, password: &str, store: Option<&str>) -> Result<()> {
    if !is_empty_dir(data) {
        bail!("{} already exists and is not empty; deputy init never overwrites a data directory", data.display());
    }
    let (deputy, _) = open_store(data, store).await?;
    if deputy.is_initialized() {
        bail!("the store already holds an organization; deputy init never overwrites one");
    }
    deputy.initialize(domain, password).await.context("creating the organization")?;
    keys::ensure(data, domain)?;
    println!("Initialized organization {domain} in {}; administrator: admin@{domain}", data.display());
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("deputy: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Init { data, domain, admin_password, store } => {
            runtime.block_on(init(&data, &domain, &admin_password, store.as_deref()))
        }
        Command::Serve(args) => runtime.block_on(serve::run(args)),
        Command::Shell(args) => return shell::run(args),
        Command::Hybrid(args) => return hybrid::run(args),
        Command::Migrate(args) => runtime.block_on(migrate::run(args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("deputy: {e:#}");
            ExitCode::FAILURE
        }
    }
}
