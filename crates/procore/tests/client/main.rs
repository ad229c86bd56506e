//! Integration tests of the procore client against the Procore simulator, one binary.
//!
//! Each test spawns its own simulator on an ephemeral port (`procore_sim::spawn`), so tests
//! run in parallel and never wait for readiness: the listener is bound before the URL is
//! handed out.

mod auth;
mod documents_and_writes;
mod fake;
mod hostile;
mod nulls;
mod paging;
mod resilience;
mod resources;
mod unified_uploads;
mod webhooks;

use std::time::Duration;

use procore::{Client, ClientConfig, CompanyId, Credentials, RetryConfig};
use procore_sim::{demo, Running, Sim, SimConfig};

/// Retry tuning that keeps tests fast: short backoffs, small safety margins.
pub fn fast_retry() -> RetryConfig {
    RetryConfig {
        max_retries: 10,
        base_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(100),
        reset_margin: Duration::from_millis(100),
        reset_jitter: Duration::from_millis(50),
        ..RetryConfig::default()
    }
}

/// A simulator with the demo world and rate limits off.
pub async fn demo_sim() -> Running {
    procore_sim::spawn(Sim::new(
        demo::world(),
        SimConfig {
            rate_limits: None,
            ..SimConfig::default()
        },
    ))
    .await
}

/// A client_credentials client for the demo app.
pub fn cc_client(url: &str) -> Client {
    let config = ClientConfig::custom(
        url,
        CompanyId(demo::COMPANY_ID),
        Credentials::client_credentials(demo::CLIENT_ID, demo::CLIENT_SECRET),
    )
    .expect("config")
    .with_retry(fast_retry());
    Client::new(config).expect("client")
}

/// Requests in the simulator's log that match `method` and a path prefix.
pub fn count(sim: &Sim, method: &str, path_prefix: &str) -> usize {
    sim.request_log()
        .iter()
        .filter(|e| e.method == method && e.path.starts_with(path_prefix))
        .count()
}
