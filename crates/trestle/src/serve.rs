//! `trestle serve`: the always-on engine (see the `server` crate), with its settings from the
//! `[server]` section and its Procore clients from the connections in the store.

use anyhow::{Context, Result};
use clap::Args;
use engine::Settings;
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on (default: server.listen, 127.0.0.1:8080).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Where Procore delivers webhooks to this server, e.g. https://trestle.example.com
    /// (default: server.public_url; without one, no webhook is registered and the reconcile
    /// alone keeps companies in sync).
    #[arg(long)]
    pub public_url: Option<url::Url>,
    /// Log lines as JSON, one object a line (default: server.log_format).
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormatArg>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormatArg {
    Text,
    Json,
}

/// The server's settings: `[server]`, with the flags on top.
pub fn server_config(settings: &Settings, args: &ServeArgs) -> server::ServerConfig {
    let s = &settings.server;
    server::ServerConfig {
        public_url: args
            .public_url
            .as_ref()
            .or(s.public_url.as_ref())
            .map(|u| u.as_str().trim_end_matches('/').to_string()),
        reconcile_every: s.reconcile_every,
        full_reconcile_every: s.full_reconcile_every,
        evaluate_at: s.evaluate_at,
        utc_offset: s.utc_offset,
        workers: usize::try_from(s.workers).unwrap_or(1),
        shutdown_grace: s.shutdown_grace,
        max_body_bytes: s.max_body_bytes,
        job_attempts: s.job_attempts,
        lease: s.job_lease,
        retry_cap: s.job_retry_cap,
        keep_done_for: s.keep_done_for,
        settings: Some(Arc::new({
            // The API registers hooks where this server is reached, flag included.
            let mut for_api = settings.clone();
            if let Some(url) = &args.public_url {
                for_api.server.public_url = Some(url.clone());
            }
            for_api
        })),
        ..server::ServerConfig::default()
    }
}

/// Whether the log should be JSON: the flag, else the setting.
pub fn json_log(settings: Option<&Settings>, args: &ServeArgs) -> bool {
    match args.log_format {
        Some(f) => f == LogFormatArg::Json,
        None => settings.is_some_and(|s| s.server.log_format == engine::settings::LogFormat::Json),
    }
}

pub async fn serve(settings: &Settings, args: ServeArgs) -> Result<()> {
    let store = engine::open::open_store(settings).await?;
    let config = server_config(settings, &args);
    let listen = args.listen.unwrap_or(settings.server.listen);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen} (server.listen or --listen)"))?;
    let address = listener.local_addr()?;
    let clients: server::Clients = {
        let settings = settings.clone();
        let store = store.clone();
        Arc::new(move |connection| {
            engine::open::client_for(&settings, connection, &store).map_err(|e| e.to_string())
        })
    };
    tracing::info!(
        %address,
        public_url = config.public_url.as_deref().unwrap_or("(none: no webhooks)"),
        "trestle serves"
    );
    eprintln!(
        "trestle serves on http://{address} ({}); stop with Ctrl-C or SIGTERM.",
        match &config.public_url {
            Some(url) => format!("webhooks at {url}/webhooks/procore/COMPANY_ID"),
            None =>
                "no public URL: no webhooks, the reconcile alone keeps companies in sync".into(),
        }
    );
    server::serve(listener, shutdown(), store, config, clients).await?;
    eprintln!("Stopped.");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown() {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut terminate) = signal(SignalKind::terminate()) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
