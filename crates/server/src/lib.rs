//! `trestle serve`: the always-on engine. Procore's webhooks are received and stored, turned
//! into jobs in the store's queue, and run by workers; a scheduler enqueues the reconciles that
//! catch whatever webhooks missed, the daily compliance evaluation, and the hook checks.
//!
//! Any number of processes may serve one PostgreSQL store: the queue's leases and fencing
//! tokens (see `store::jobs`) decide who runs what, so a process that dies loses nothing and
//! its work is taken up once its leases lapse. A SQLite store is served by one process.
//!
//! Like the simulator, [`serve`] takes a bound listener and a shutdown future; only the binary
//! binds addresses, reads settings and builds Procore clients (given here as [`Clients`]).
//!
//! # Layout
//! - `receiver`: `POST /webhooks/procore/{company}`: the secret checked in constant time, the
//!   delivery stored with its routing job (deliveries arriving together share one transaction:
//!   a group commit), 2xx at once.
//! - `probes`: `/healthz`, `/readyz`, `/metrics`.
//! - `work`: the kinds of job, their lanes and payloads, and what each one runs.
//! - `worker`: claiming, heartbeating, completing and retrying jobs; the graceful stop.
//! - `scheduler`: reconciles, whole reads, the daily evaluation and hook checks, when due.
//! - `wakeups`: on PostgreSQL, jobs enqueued by other processes wake this one's workers.
//! - `metrics`: the Prometheus registry.

#![forbid(unsafe_code)]

mod metrics;
mod probes;
mod receiver;
mod scheduler;
mod wakeups;
mod work;
mod worker;

pub use metrics::Metrics;
pub use scheduler::{evaluation_due, interval_due};
pub use sync::jobs::{enqueue, Integration, Work};

use chrono::{FixedOffset, NaiveTime};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use store::{Connection, Store};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    #[error("the HTTP server failed: {0}")]
    Http(#[source] std::io::Error),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// Builds the Procore client of a connection. The binary gives one built from its settings;
/// [`serve`] keeps one client per connection for the life of the process, so every job of a
/// company shares one token cache and one rate-limit pacer.
pub type Clients = Arc<dyn Fn(&Connection) -> Result<procore::Client, String> + Send + Sync>;

/// What the server needs to know beyond the store. Durations are real time.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where Procore reaches this server (`server.public_url`): hooks are registered at
    /// `{public_url}/webhooks/procore/{company}`. `None`: no hook is registered, and the
    /// reconcile alone keeps companies in sync.
    pub public_url: Option<String>,
    /// An incremental sync of each company and integration this often.
    pub reconcile_every: Duration,
    /// A whole read this often.
    pub full_reconcile_every: Duration,
    /// The daily compliance evaluation, at this local time...
    pub evaluate_at: NaiveTime,
    /// ...in this time zone.
    pub utc_offset: FixedOffset,
    /// Jobs one process runs at once.
    pub workers: usize,
    /// How long running jobs may take to finish after a stop is asked for.
    pub shutdown_grace: Duration,
    /// The largest webhook body accepted.
    pub max_body_bytes: usize,
    /// Claims of a job before it is dead.
    pub job_attempts: u32,
    /// How long a claim holds a job without a heartbeat.
    pub lease: Duration,
    /// How often an idle worker looks for work it was not woken for: on SQLite, work enqueued
    /// by another process; on PostgreSQL, where other processes' jobs wake it, a wake-up
    /// lost with its listening connection.
    pub poll_every: Duration,
    /// How often the scheduler looks at what is due.
    pub schedule_every: Duration,
    /// The first retry waits about this long, doubling up to `retry_cap`.
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// How long done jobs and processed deliveries are kept before they are pruned
    /// (`server.keep_done_for`); dead jobs stay until retried.
    pub keep_done_for: Duration,
    /// This process's name in job leases (host and pid by default).
    pub worker_name: String,
    /// The settings the REST API reaches Procore with (connecting a company); `None`: those
    /// routes answer 503.
    pub settings: Option<Arc<engine::Settings>>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            public_url: None,
            reconcile_every: Duration::from_secs(15 * 60),
            full_reconcile_every: Duration::from_secs(24 * 3600),
            evaluate_at: NaiveTime::from_hms_opt(6, 0, 0).unwrap_or_default(),
            utc_offset: FixedOffset::east_opt(0).unwrap_or(FixedOffset::east_opt(0).expect("0")),
            workers: 4,
            shutdown_grace: Duration::from_secs(30),
            max_body_bytes: 256 * 1024,
            job_attempts: 8,
            lease: Duration::from_secs(60),
            poll_every: Duration::from_secs(1),
            schedule_every: Duration::from_secs(15),
            retry_base: Duration::from_secs(5),
            retry_cap: Duration::from_secs(3600),
            keep_done_for: Duration::from_secs(7 * 24 * 3600),
            worker_name: format!(
                "{}:{}",
                std::env::var("HOSTNAME").unwrap_or_else(|_| "trestle".into()),
                std::process::id()
            ),
            settings: None,
        }
    }
}

/// What every part of the server shares.
#[derive(Clone)]
pub(crate) struct Shared {
    pub store: Store,
    pub config: Arc<ServerConfig>,
    pub metrics: Arc<Metrics>,
    pub clients: work::ClientCache,
    /// Told when this process enqueues work, so an idle worker starts at once instead of at
    /// its next poll.
    pub wake: Arc<tokio::sync::Notify>,
}

/// Runs the server until `shutdown` resolves: the HTTP endpoints on `listener`, the workers
/// and the scheduler. On shutdown the listener stops accepting, workers stop claiming, running
/// jobs get [`ServerConfig::shutdown_grace`] to finish, and the rest are handed back to the
/// queue for the next process to take.
///
/// # Errors
/// The listener failed.
pub async fn serve(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    store: Store,
    config: ServerConfig,
    clients: Clients,
) -> Result<(), ServerError> {
    let shared = Shared {
        metrics: Arc::new(Metrics::new()),
        clients: work::ClientCache::new(clients),
        store,
        config: Arc::new(config),
        wake: Arc::new(tokio::sync::Notify::new()),
    };
    let stop = CancellationToken::new();
    let workers = worker::spawn(shared.clone(), stop.clone());
    let scheduler = tokio::spawn(scheduler::run(shared.clone(), stop.clone()));
    let wakeups = tokio::spawn(wakeups::relay(shared.clone(), stop.clone()));
    let api = api::router(
        shared.store.clone(),
        api::Options {
            public_url: shared.config.public_url.clone(),
            job_attempts: shared.config.job_attempts,
            wake: shared.wake.clone(),
            settings: shared.config.settings.clone(),
        },
    );
    let app = probes::router(shared.clone())
        .merge(receiver::router(shared.clone()))
        .merge(api.clone())
        .merge(web::router(shared.store.clone(), api));
    let http_stop = stop.clone();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            tokio::select! {
                () = shutdown => {}
                () = http_stop.cancelled() => {}
            }
        })
        .await;
    stop.cancel();
    let _ = scheduler.await;
    let _ = wakeups.await;
    workers.stopped().await;
    served.map_err(ServerError::Http)
}

/// A server started on an ephemeral port, for tests and the demo.
pub struct Running {
    pub url: String,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), ServerError>>,
}

impl Running {
    /// Stops the server as SIGTERM would and waits for it to finish.
    pub async fn stop(self) -> Result<(), ServerError> {
        self.stop.cancel();
        self.task
            .await
            .unwrap_or_else(|e| Err(ServerError::Http(std::io::Error::other(e))))
    }
}

/// Binds 127.0.0.1 on an ephemeral port and serves there until [`Running::stop`].
///
/// # Errors
/// The port could not be bound.
pub async fn spawn(
    store: Store,
    mut config: ServerConfig,
    clients: Clients,
    public_url: impl FnOnce(&str) -> Option<String>,
) -> std::io::Result<Running> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    config.public_url = public_url(&url);
    let stop = CancellationToken::new();
    let signal = stop.clone();
    let task = tokio::spawn(serve(
        listener,
        async move { signal.cancelled().await },
        store,
        config,
        clients,
    ));
    Ok(Running { url, stop, task })
}
