//! `procore-sim`: run the Procore simulator as a server.

use clap::Parser;

/// A Procore REST API simulator (see docs/procore-fidelity.md).
#[derive(Debug, Parser)]
#[command(name = "procore-sim", version)]
struct Cli {
    #[command(flatten)]
    args: procore_sim::cli::SimArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    procore_sim::cli::run(Cli::parse().args).await
}
