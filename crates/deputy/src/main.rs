//! `deputy`: the binary. It reads flags and environment (nothing else does),
//! opens the store, and wires the doors to the core (interface.md).

mod imapdoor;
mod keys;
mod mailflow;
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
    },
    /// Run the server (initializing an empty data directory first).
    Serve(serve::ServeArgs),
    /// Run Exchange cmdlets on a running server.
    Shell(shell::ShellArgs),
}

/// Opens the embedded store in `dir`: the organization, and its message store.
pub(crate) async fn open_embedded(dir: &Path) -> Result<(Arc<Deputy>, Arc<dyn MailStore>)> {
    let store = SqliteStore::open(dir).with_context(|| format!("opening the store in {}", dir.display()))?;
    let store = Arc::new(store);
    let deputy = Deputy::load(store.clone(), store.clone()).await.context("loading the organization")?;
    Ok((Arc::new(deputy), store))
}

/// Whether `dir` holds anything at all.
pub(crate) fn is_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_none())
}

async fn init(data: &Path, domain: &str, password: &str) -> Result<()> {
    if !is_empty_dir(data) {
        bail!("{} already exists and is not empty; deputy init never overwrites a data directory", data.display());
    }
    let (deputy, _) = open_embedded(data).await?;
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
        Command::Init { data, domain, admin_password } => runtime.block_on(init(&data, &domain, &admin_password)),
        Command::Serve(args) => runtime.block_on(serve::run(args)),
        Command::Shell(args) => return shell::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("deputy: {e:#}");
            ExitCode::FAILURE
        }
    }
}
