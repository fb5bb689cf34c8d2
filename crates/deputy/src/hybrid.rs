//! `deputy hybrid configure` and `deputy hybrid sync` (spec §9, docs/hybrid.md).

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use deputy_hybrid::{HybridConfig, Role, RunOptions};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// `deputy hybrid …`.
#[derive(Args)]
pub struct HybridArgs {
    #[command(subcommand)]
    command: HybridCommand,
}

#[derive(Subcommand)]
enum HybridCommand {
    /// Write this forest's hybrid configuration (DIR/hybrid.json); a running server reads it at once.
    Configure(ConfigureArgs),
    /// Run directory sync into this forest: once, or continuously while both servers serve.
    Sync(SyncArgs),
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    Onprem,
    Cloud,
}

#[derive(Args)]
struct ConfigureArgs {
    /// This forest's data directory.
    #[arg(long)]
    data: PathBuf,
    /// This forest's name (e.g. onprem, cloud).
    #[arg(long)]
    forest: String,
    /// This forest's role: onprem (source of authority) or cloud.
    #[arg(long, value_enum)]
    role: RoleArg,
    /// This forest's own server (http://HOST:PORT), where the sync applies changes.
    #[arg(long)]
    local_url: String,
    /// The other forest's server (http://HOST:PORT).
    #[arg(long)]
    peer_url: String,
    /// A file holding the secret both forests share (first line, 16 characters or more).
    #[arg(long)]
    secret_file: PathBuf,
    /// The domain that routes mail to this forest (e.g. onprem.contoso.test).
    #[arg(long)]
    routing_domain: String,
    /// The domain that routes mail to the other forest (e.g. cloud.contoso.test).
    #[arg(long)]
    peer_routing_domain: String,
    /// Exchange hybrid writeback: cloud mailboxes and PublicDelegates flow back on-premises.
    #[arg(long)]
    writeback: bool,
    /// Apply the on-premises Send As entries in the cloud (off in Exchange; Deputy's opt-in).
    #[arg(long)]
    sync_send_as: bool,
    /// Seconds between runs of the continuous sync.
    #[arg(long, default_value_t = 30)]
    interval: u64,
    /// Accidental-delete threshold: a run that would remove more objects stops (0: no limit).
    #[arg(long, default_value_t = deputy_hybrid::config::DEFAULT_DELETE_THRESHOLD)]
    delete_threshold: usize,
}

#[derive(Args)]
struct SyncArgs {
    /// This forest's data directory (holds hybrid.json and the sync's cursor).
    #[arg(long)]
    data: PathBuf,
    /// One run, then exit (non-zero when it did not complete).
    #[arg(long)]
    once: bool,
    /// Apply removals even above the accidental-delete threshold (this invocation only).
    #[arg(long)]
    allow_deletes: bool,
    /// Messages per page when copying a moving mailbox (1-100; default 100).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=100))]
    page_size: Option<u16>,
}

/// Runs `deputy hybrid …` (no async runtime: the sync is a plain HTTP client).
pub fn run(args: HybridArgs) -> ExitCode {
    let result = match args.command {
        HybridCommand::Configure(c) => configure(c),
        HybridCommand::Sync(s) => sync(&s),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("deputy: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn configure(c: ConfigureArgs) -> Result<()> {
    let secret_file =
        std::fs::canonicalize(&c.secret_file).with_context(|| format!("--secret-file {}", c.secret_file.display()))?;
    let config = HybridConfig {
        forest: c.forest,
        role: match c.role {
            RoleArg::Onprem => Role::Onprem,
            RoleArg::Cloud => Role::Cloud,
        },
        local_url: c.local_url,
        peer_url: c.peer_url,
        secret_file,
        routing_domain: c.routing_domain.to_ascii_lowercase(),
        peer_routing_domain: c.peer_routing_domain.to_ascii_lowercase(),
        writeback: c.writeback,
        sync_send_as: c.sync_send_as,
        interval_secs: c.interval.max(1),
        delete_threshold: c.delete_threshold,
    };
    std::fs::create_dir_all(&c.data).with_context(|| format!("creating {}", c.data.display()))?;
    config.save(&c.data)?;
    println!(
        "Configured forest {} ({}) in {}; peer {}; writeback {}; SyncSendAs {}",
        config.forest,
        config.role.as_str(),
        c.data.display(),
        config.peer_url,
        on_off(config.writeback),
        on_off(config.sync_send_as)
    );
    Ok(())
}

fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

fn load(data: &Path) -> Result<HybridConfig> {
    HybridConfig::load(data)?
        .with_context(|| format!("{} has no hybrid configuration (deputy hybrid configure)", data.display()))
}

fn run_once(data: &Path, options: RunOptions) -> Result<()> {
    let config = load(data)?;
    let report = deputy_hybrid::sync_once(data, &config, options, |line| println!("{line}"))?;
    if report.up_to_date {
        println!("sync complete: up to date");
    } else {
        println!("sync complete: {} operation(s), {} change(s)", report.planned, report.changed);
    }
    Ok(())
}

fn sync(s: &SyncArgs) -> Result<()> {
    let options = RunOptions { allow_deletes: s.allow_deletes, page_messages: s.page_size.map(usize::from) };
    if s.once {
        return run_once(&s.data, options);
    }
    loop {
        // The configuration is read at every run, so a change needs no restart.
        if let Err(e) = run_once(&s.data, options) {
            eprintln!("deputy: sync run failed (next run retries): {e:#}");
        }
        let interval = load(&s.data).map_or(30, |c| c.interval_secs);
        std::thread::sleep(Duration::from_secs(interval));
    }
}
