//! `deputy serve`: open (or create) the organization and run the doors.

use crate::imapdoor::ImapDoor;
use crate::mailflow::SmtpDoor;
use crate::{is_empty_dir, open_store};
use anyhow::{Context, Result};
use clap::Args;
use deputy_admin::AdminState;
use deputy_core::{DkimPublic, ServerInfo};
use deputy_mailauth::MailResolver;
use deputy_smtp::Mode;
use rand::Rng;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Notify;
use tracing_subscriber::EnvFilter;

/// Flags of `deputy serve` (interface.md).
#[derive(Args)]
pub struct ServeArgs {
    /// The data directory (created and initialized when missing or empty).
    #[arg(long)]
    data: PathBuf,
    /// Keep the organization in PostgreSQL (`postgres://…`, optionally
    /// `?schema=NAME`); several nodes may share one. Default: the embedded
    /// store in the data directory, which then holds only the keys.
    #[arg(long)]
    store: Option<String>,
    /// The domain for a new organization.
    #[arg(long, default_value = "contoso.test")]
    domain: String,
    /// The HTTP listener: admin API (and later Graph, Autodiscover, web admin).
    #[arg(long, default_value = "127.0.0.1:8080")]
    http: SocketAddr,
    /// Inbound SMTP (MX-style: no AUTH, local domains only).
    #[arg(long, default_value = "127.0.0.1:2525")]
    smtp: SocketAddr,
    /// SMTP submission (AUTH required).
    #[arg(long, default_value = "127.0.0.1:5870")]
    submission: SocketAddr,
    /// IMAP (STARTTLS; the own mailbox and `Other Users/<alias>/…`).
    #[arg(long, default_value = "127.0.0.1:1143")]
    imap: SocketAddr,
    /// Send all mail for other domains to this SMTP server (HOST:PORT) instead of looking up MX records.
    #[arg(long, value_parser = parse_host_port)]
    relay_host: Option<(String, u16)>,
    /// The name in SMTP greetings and trace fields (default: the organization's primary domain).
    #[arg(long)]
    hostname: Option<String>,
    /// DNS for SPF/DKIM/DMARC checks and MX lookups: the system's name servers,
    /// or none at all (checks say `none`, remote mail needs --relay-host).
    #[arg(long, value_enum, default_value_t = Dns::System)]
    dns: Dns,
}

/// Where DNS answers come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Dns {
    /// The name servers of /etc/resolv.conf.
    System,
    /// No queries (isolated networks, tests, benchmarks).
    None,
}

fn parse_host_port(s: &str) -> Result<(String, u16), String> {
    let (host, port) = s.rsplit_once(':').ok_or_else(|| format!("expected HOST:PORT, got {s:?}"))?;
    let port = port.parse().map_err(|_| format!("invalid port in {s:?}"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("missing host in {s:?}"));
    }
    Ok((host.to_owned(), port))
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
    let fresh = is_empty_dir(&args.data) && args.store.is_none();
    std::fs::create_dir_all(&args.data).with_context(|| format!("creating {}", args.data.display()))?;
    let (deputy, mail_store) = open_store(&args.data, args.store.as_deref()).await?;
    if fresh || !deputy.is_initialized() {
        let password = random_password();
        deputy.initialize(&args.domain, &password).await.context("initializing the organization")?;
        println!("Created organization {} in {}", args.domain, args.data.display());
        println!("Administrator: admin@{}  password: {password}  (shown once)", args.domain);
    }
    let hostname = args.hostname.clone().unwrap_or_else(|| deputy.read(|s| s.organization().primary_domain.clone()));
    crate::keys::ensure(&args.data, &hostname)?;
    crate::keys::share(&args.data, &deputy).await?;
    let dkim = crate::keys::dkim_key(&args.data)?;
    // The record's value is the same for every domain; the cmdlet names each domain's record.
    let (_, record) = dkim.dns_record(&hostname);
    let tls = crate::keys::tls_config(&args.data)?;

    let bind = |addr: SocketAddr, flag: &'static str| async move {
        tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding --{flag} {addr}"))
    };
    let http_listener = bind(args.http, "http").await?;
    let smtp_listener = bind(args.smtp, "smtp").await?;
    let submission_listener = bind(args.submission, "submission").await?;
    let imap_listener = bind(args.imap, "imap").await?;
    let (http, smtp, submission, imap) = (
        http_listener.local_addr()?,
        smtp_listener.local_addr()?,
        submission_listener.local_addr()?,
        imap_listener.local_addr()?,
    );
    deputy.set_server_info(ServerInfo {
        hostname: hostname.clone(),
        dkim: Some(DkimPublic { selector: dkim.selector().to_owned(), record }),
        submission_port: Some(submission.port()),
        imap_port: Some(imap.port()),
    });

    // One signal fans out to every door; each finishes what it acknowledged.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    };

    let resolver = match args.dns {
        Dns::System => MailResolver::system(),
        Dns::None => MailResolver::in_memory(),
    }
    .context("setting up DNS resolution")?;
    let wake = Arc::new(Notify::new());
    let door = Arc::new(SmtpDoor::new(deputy.clone(), hostname.clone(), resolver.clone(), wake.clone()));
    let smtp_config = |mode| {
        let mut c = deputy_smtp::Config::new(hostname.clone(), mode);
        c.tls = Some(tls.clone());
        Arc::new(c)
    };
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(deputy_smtp::serve(smtp_listener, smtp_config(Mode::Inbound), door.clone(), stopped()));
    tasks.spawn(deputy_smtp::serve(submission_listener, smtp_config(Mode::Submission), door, stopped()));
    let mut imap_config = deputy_imap::Config::new(hostname.clone());
    imap_config.tls = Some(tls.clone());
    let imap_door = Arc::new(ImapDoor::new(deputy.clone()));
    tasks.spawn(deputy_imap::serve(imap_listener, Arc::new(imap_config), imap_door, stopped()));
    let mut outbound = deputy_outbound::Config::new(hostname.clone());
    outbound.relay_host = args.relay_host.clone();
    let signer = Arc::new(deputy_mailauth::DkimSigner::new(&dkim).context("loading the DKIM key")?);
    tasks.spawn(deputy_outbound::run(
        outbound,
        mail_store,
        deputy.clone(),
        Some(signer),
        resolver,
        deputy_outbound::Waker::from(wake.clone()),
        stopped(),
    ));
    let (token_der, token_public) = crate::keys::token_key(&args.data)?;
    let token_keys = deputy_graph::token::TokenKeys::new(&token_der, &token_public)
        .map_err(|e| anyhow::anyhow!("loading the token signing key: {e}"))?;
    let graph = Arc::new(deputy_graph::GraphState::new(deputy.clone(), token_keys, wake.clone()));
    let app = deputy_admin::router(AdminState::new(deputy.clone()))
        .merge(deputy_autodiscover::router(deputy.clone()))
        .merge(deputy_graph::router(graph))
        .merge(deputy_web::router(deputy.clone()))
        .merge(deputy_hybrid::router(deputy.clone(), args.data.clone()))
        .merge(deputy_caldav::router(deputy.clone()))
        .layer(axum::middleware::from_fn_with_state(deputy.clone(), caught_up));
    let http_stopped = stopped();
    tasks.spawn(async move {
        if let Err(e) = axum::serve(http_listener, app).with_graceful_shutdown(http_stopped).await {
            tracing::error!(error = %e, "HTTP listener failed");
        }
    });

    tracing::info!(%http, %smtp, %submission, %imap, "deputy ready");
    println!("deputy ready: http={http} smtp={smtp} submission={submission} imap={imap}");
    shutdown_signal().await;
    let _ = stop_tx.send(true);
    while tasks.join_next().await.is_some() {}
    tracing::info!("deputy stopped");
    Ok(())
}

/// Every HTTP request decides on what the whole cluster committed: the core
/// first applies other nodes' changes; when the store cannot be reached the
/// answer is `503` (Graph's error shape, which the other HTTP doors' clients
/// also read as a temporary failure).
async fn caught_up(
    axum::extract::State(deputy): axum::extract::State<Arc<deputy_core::Deputy>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match deputy.catch_up().await {
        Ok(()) => next.run(request).await,
        Err(e) => {
            tracing::warn!(error = %e, "the store cannot be reached");
            deputy_graph::error::GraphError::unavailable().into_response()
        }
    }
}
