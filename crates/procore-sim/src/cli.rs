//! The simulator's command line, shared by the `procore-sim` binary and `trestle sim`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use crate::{generate, seed, RateLimits, Sim, SimConfig};

/// A Procore REST API simulator (see docs/procore-fidelity.md).
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3030")]
    pub listen: SocketAddr,
    /// Load the world from this JSON seed file.
    #[arg(long, conflicts_with_all = ["demo", "generate"])]
    pub seed_file: Option<PathBuf>,
    /// Serve the demo company (the default).
    #[arg(long)]
    pub demo: bool,
    /// Generate a large deterministic company from this seed.
    #[arg(long, conflicts_with = "demo")]
    pub generate: Option<u64>,
    #[arg(long, default_value_t = 2_000, requires = "generate")]
    pub projects: usize,
    #[arg(long, default_value_t = 20_000, requires = "generate")]
    pub users: usize,
    #[arg(long, default_value_t = 5_000, requires = "generate")]
    pub vendors: usize,
    #[arg(long, default_value_t = 5, requires = "generate")]
    pub commitments_per_project: usize,
    /// Load state from this file if it exists; save to it on shutdown and on POST /_sim/state/save.
    #[arg(long)]
    pub state_file: Option<PathBuf>,
    /// Turn rate limiting off.
    #[arg(long)]
    pub no_rate_limits: bool,
    /// Hourly request budget per app.
    #[arg(long, default_value_t = 3600)]
    pub hourly: u32,
    /// Spike (10 s) request budget per app.
    #[arg(long, default_value_t = 25)]
    pub spike: u32,
    /// Send each optional response field as `null` with this probability (0 to 1), to test a
    /// client against every field Procore may leave empty.
    #[arg(long, default_value_t = 0.0)]
    pub null_probability: f64,
    /// Seed of the RNG behind `--null-probability`.
    #[arg(long, default_value_t = 0x5eed)]
    pub null_seed: u64,
}

/// Builds the world and serves it until Ctrl-C, saving state on the way out when asked.
///
/// # Errors
/// A seed or state file that cannot be read, or an address that cannot be bound.
pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    let world = match (&args.state_file, &args.seed_file, args.generate) {
        (Some(p), _, _) if p.exists() => {
            seed::load(p).with_context(|| format!("loading state {}", p.display()))?
        }
        (_, Some(p), _) => {
            seed::load(p).with_context(|| format!("loading seed {}", p.display()))?
        }
        (_, _, Some(s)) => generate::world(
            s,
            generate::Sizes {
                projects: args.projects,
                users: args.users,
                vendors: args.vendors,
                commitments_per_project: args.commitments_per_project,
            },
        ),
        _ => crate::demo::world(),
    };
    let config = SimConfig {
        rate_limits: (!args.no_rate_limits).then(|| RateLimits {
            hourly: args.hourly,
            spike: args.spike,
            hourly_window: Duration::from_secs(3600),
            spike_window: Duration::from_secs(10),
        }),
        state_file: args.state_file.clone(),
        null_probability: args.null_probability,
        null_seed: args.null_seed,
        ..SimConfig::default()
    };
    let sim = Sim::new(world, config);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    tracing::info!("procore-sim listening on http://{}", listener.local_addr()?);
    crate::serve(listener, sim.clone(), async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    if let Some(p) = &args.state_file {
        sim.save_state(p)
            .with_context(|| format!("saving state {}", p.display()))?;
        tracing::info!("state saved to {}", p.display());
    }
    Ok(())
}
