//! `deputy serve`: open (or create) the organization and run the doors.

use crate::{is_empty_dir, open_embedded};
use anyhow::{Context, Result};
use clap::Args;
use deputy_admin::AdminState;
use rand::Rng;
use std::net::SocketAddr;
use std::path::PathBuf;
use tracing_subscriber::EnvFilter;

/// Flags of `deputy serve` (interface.md).
#[derive(Args)]
pub struct ServeArgs {
    /// The data directory (created and initialized when missing or empty).
    #[arg(long)]
    data: PathBuf,
    /// The domain for a new organization.
    #[arg(long, default_value = "contoso.test")]
    domain: String,
    /// The HTTP listener: admin API (and later Graph, Autodiscover, web admin).
    #[arg(long, default_value = "127.0.0.1:8080")]
    http: SocketAddr,
}

fn random_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..20).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

/// Runs the server until SIGTERM or SIGINT.
pub async fn run(args: ServeArgs) -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_env("DEPUTY_LOG").unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let fresh = is_empty_dir(&args.data);
    let deputy = open_embedded(&args.data).await?;
    if fresh || !deputy.is_initialized() {
        let password = random_password();
        deputy.initialize(&args.domain, &password).await.context("initializing the organization")?;
        println!("Created organization {} in {}", args.domain, args.data.display());
        println!("Administrator: admin@{}  password: {password}  (shown once)", args.domain);
    }
    let app = deputy_admin::router(AdminState::new(deputy.clone()));
    let listener =
        tokio::net::TcpListener::bind(args.http).await.with_context(|| format!("binding --http {}", args.http))?;
    let http = listener.local_addr()?;
    tracing::info!(%http, "deputy ready");
    println!("deputy ready: http={http}");
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await.context("serving HTTP")?;
    tracing::info!("deputy stopped");
    Ok(())
}
