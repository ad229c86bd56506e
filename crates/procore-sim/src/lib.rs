//! # procore-sim
//!
//! A Procore REST API simulator that behaves as Procore documents its API: OAuth 2.0 (client
//! credentials, authorization code, single-use rotating refresh tokens), the
//! `Procore-Company-Id` header, v1 and v2 pagination with `Total`/`Per-Page`/`Link` headers,
//! hourly and spike rate limits reported in `X-Rate-Limit-*` on every response, app
//! installations with permitted projects and tool permissions, webhooks delivered
//! at-least-once with retries, injectable faults, and a request log.
//!
//! It exists so that the `procore` client and the trestle engine can be tested, benchmarked
//! and demonstrated against something that fails the way Procore fails, without a network.
//! What is emulated, what is not, and every assumption made where Procore's documentation
//! is silent are written down in `docs/procore-fidelity.md`.
//!
//! ## Layout
//!
//! - [`world`]: the state model (serde, also the seed and persistence format)
//! - [`cli`]: the command line shared by `procore-sim` and `trestle sim`
//! - [`clock`]: the simulated clock (real time plus an offset that tests move forward)
//! - `changes`: the only code that mutates records; bumps `updated_at` and emits webhook events
//! - `wire`: JSON rendering of each resource exactly as Procore's schemas name and type fields
//! - `shape`: completes every JSON answer to its documented schema (`null` for what the world
//!   has no value for, nothing undocumented), from `shapes.json` generated from the subset
//! - `auth`: bearer tokens, the company header, installations and tool permissions
//! - `paging`: v1 and v2 page parameters and `Link` headers
//! - `query`: `filters[...]` parsing, ranges like `a...b`
//! - [`ratelimit`]: per-app hourly and spike windows
//! - [`faults`]: 5xx, latency, 429 storms, dropped and truncated responses (seeded RNG)
//! - [`webhooks`]: event payloads (v2.0, v4.0) and the background delivery task
//! - `handlers`: one module per Procore area (oauth, projects, users, vendors, commitments,
//!   insurances, documents, v2.1 unified uploads, webhooks)
//! - `admin`: the `/_sim/` endpoints (state, clock, faults, apps, "UI edits")
//! - `server`: router, middleware (rate limits, faults, request log), [`serve`] and [`spawn`]
//! - [`seed`], [`demo`], [`generate`]: worlds from a file, the demo company, and large
//!   deterministic companies

#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub mod cli;
pub mod clock;
pub mod demo;
pub mod faults;
pub mod generate;
pub mod ratelimit;
pub mod seed;
pub mod webhooks;
pub mod world;

mod admin;
mod auth;
mod changes;
mod error;
mod handlers;
mod paging;
mod query;
mod server;
mod shape;
mod wire;

pub use faults::Faults;
pub use ratelimit::RateLimits;
pub use server::{operations, operations_beyond_the_subset, serve, spawn, Running};
pub use world::World;

/// How the simulator behaves. `Default` gives Procore's documented behaviour with rate limits on.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct SimConfig {
    /// `None` turns rate limiting off.
    pub rate_limits: Option<RateLimits>,
    /// v1 default page size (100).
    pub default_per_page: usize,
    /// v1 maximum page size (2000; larger values are clamped).
    pub max_per_page: usize,
    /// Webhook delivery timeout (Procore: 5 s).
    pub webhook_timeout: Duration,
    /// First retry delay (Procore: 1 s); doubles on every failure.
    pub webhook_retry_initial: Duration,
    /// Largest retry delay (Procore: 1 h).
    pub webhook_retry_max: Duration,
    /// Retrying stops and the event is marked `discarded` after this long (Procore: 12 h).
    pub webhook_give_up_after: Duration,
    /// Seed of the fault-injection RNG.
    pub faults_seed: u64,
    /// Faults active at start.
    pub faults: Faults,
    /// Where `POST /_sim/state/save` (and the binary on shutdown) writes the world.
    pub state_file: Option<std::path::PathBuf>,
    /// Overrides the base URL used in upload and download URLs (default: from the `Host` header).
    pub public_url: Option<String>,
    /// Largest body the insurance `sync` endpoints take, in bytes; a larger one is refused whole
    /// with 413 (Procore documents no figure: 1 MiB, see `docs/procore-fidelity.md`).
    pub max_insurance_sync_body: usize,
    /// Probability with which each present, non-required property of a documented response is
    /// sent as `null` instead (0 by default: off). Procore may leave any of them empty, so a
    /// client tested at 1.0 copes with every field Procore is allowed to omit. Only `GET`
    /// answers are touched (a write's answer echoes what was sent), and ids and the v2 `data`
    /// envelope are spared.
    pub null_probability: f64,
    /// Seed of the RNG behind [`SimConfig::null_probability`].
    pub null_seed: u64,
}

/// The default [`SimConfig::max_insurance_sync_body`]: 1 MiB.
pub const MAX_INSURANCE_SYNC_BODY: usize = 1024 * 1024;

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            rate_limits: Some(RateLimits::default()),
            default_per_page: 100,
            max_per_page: 2000,
            webhook_timeout: Duration::from_secs(5),
            webhook_retry_initial: Duration::from_secs(1),
            webhook_retry_max: Duration::from_secs(3600),
            webhook_give_up_after: Duration::from_secs(12 * 3600),
            faults_seed: 0x5eed,
            faults: Faults::default(),
            state_file: None,
            public_url: None,
            max_insurance_sync_body: MAX_INSURANCE_SYNC_BODY,
            null_probability: 0.0,
            null_seed: 0x5eed,
        }
    }
}

/// One request as the simulator saw and answered it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RequestLogEntry {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    pub client_id: Option<String>,
    /// `X-Rate-Limit-Limit` sent, if rate limits are on.
    pub rate_limit_limit: Option<u32>,
    /// `X-Rate-Limit-Remaining` sent.
    pub rate_limit_remaining: Option<u32>,
    /// `X-Rate-Limit-Reset` sent.
    pub rate_limit_reset: Option<i64>,
    /// The fault injected into this request (`error_500`, `latency`, `storm_429`,
    /// `drop_after_write`, `error_after_write`, `truncate`), if any.
    pub fault: Option<String>,
    /// Sim-clock time the request arrived.
    pub at: chrono::DateTime<chrono::Utc>,
}

pub(crate) struct Inner {
    pub(crate) world: Mutex<World>,
    pub(crate) config: SimConfig,
    pub(crate) clock_offset_ms: AtomicI64,
    pub(crate) log: Mutex<Vec<RequestLogEntry>>,
    pub(crate) faults: Mutex<faults::FaultState>,
    pub(crate) rates: Mutex<ratelimit::RateState>,
    pub(crate) webhook_tx: tokio::sync::mpsc::UnboundedSender<webhooks::Job>,
    pub(crate) webhook_rx: Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<webhooks::Job>>>,
    pub(crate) nuller: Mutex<rand::rngs::SmallRng>,
}

/// A cheap, clonable handle to one simulated Procore.
#[derive(Clone)]
pub struct Sim {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Sim {
    /// A simulator over `world`. The world is normalized (ids, root folders, service accounts).
    pub fn new(mut world: World, config: SimConfig) -> Sim {
        world.normalize();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let faults = faults::FaultState::new(config.faults.clone(), config.faults_seed);
        let rates = ratelimit::RateState::new(config.rate_limits.clone());
        let nuller = <rand::rngs::SmallRng as rand::SeedableRng>::seed_from_u64(config.null_seed);
        Sim {
            inner: Arc::new(Inner {
                world: Mutex::new(world),
                config,
                clock_offset_ms: AtomicI64::new(0),
                log: Mutex::new(Vec::new()),
                faults: Mutex::new(faults),
                rates: Mutex::new(rates),
                webhook_tx: tx,
                webhook_rx: Mutex::new(Some(rx)),
                nuller: Mutex::new(nuller),
            }),
        }
    }

    /// The configuration this simulator was built with.
    pub fn config(&self) -> &SimConfig {
        &self.inner.config
    }

    /// The axum router (no webhook delivery task; [`serve`] starts that).
    pub fn router(&self) -> axum::Router {
        server::router(self.clone())
    }

    /// Every request logged so far, oldest first.
    pub fn request_log(&self) -> Vec<RequestLogEntry> {
        lock(&self.inner.log).clone()
    }

    /// Forgets the request log.
    pub fn clear_request_log(&self) {
        lock(&self.inner.log).clear();
    }

    /// Replaces the active faults (the RNG keeps its sequence).
    pub fn set_faults(&self, faults: Faults) {
        lock(&self.inner.faults).set(faults);
    }

    /// The active faults.
    pub fn faults(&self) -> Faults {
        lock(&self.inner.faults).faults.clone()
    }

    /// Replaces the rate limits; `None` turns them off. Counters restart.
    pub fn set_rate_limits(&self, limits: Option<RateLimits>) {
        *lock(&self.inner.rates) = ratelimit::RateState::new(limits);
    }

    /// Moves the simulated clock forward (token expiry, rate-limit windows, `updated_at`).
    ///
    /// The offset stops at [`clock::MAX_OFFSET_MS`]: past it, a date would overflow and every
    /// answer carrying a timestamp would panic.
    pub fn advance_clock(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        let _ =
            self.inner
                .clock_offset_ms
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |offset| {
                    Some(offset.saturating_add(by).min(clock::MAX_OFFSET_MS))
                });
    }

    /// The simulated time now.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        clock::now(self.inner.clock_offset_ms.load(Ordering::SeqCst))
    }

    /// Reads the world under the lock.
    pub fn read<R>(&self, f: impl FnOnce(&World) -> R) -> R {
        f(&lock(&self.inner.world))
    }

    /// Changes the world under the lock as an administrator would ("UI edits" bypass
    /// permissions). Webhook events queued by [`World`] mutations made through the
    /// simulator's own change functions are dispatched afterwards.
    pub fn write<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let (r, jobs) = {
            let mut w = lock(&self.inner.world);
            let r = f(&mut w);
            (r, std::mem::take(&mut w.outbox))
        };
        for job in jobs {
            let _ = self.inner.webhook_tx.send(job);
        }
        r
    }

    /// Serializes the world to JSON (the seed format).
    pub fn state_json(&self) -> serde_json::Value {
        self.read(|w| serde_json::to_value(w).unwrap_or(serde_json::Value::Null))
    }

    /// Writes the world to `path` as JSON (atomically, through a temporary file).
    pub fn save_state(&self, path: &std::path::Path) -> Result<(), seed::SeedError> {
        let bytes = self.read(serde_json::to_vec)?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, bytes).map_err(|e| seed::SeedError::Io(path.to_owned(), e))?;
        std::fs::rename(&tmp, path).map_err(|e| seed::SeedError::Io(path.to_owned(), e))
    }

    pub(crate) fn lock_log(&self) -> MutexGuard<'_, Vec<RequestLogEntry>> {
        lock(&self.inner.log)
    }
    pub(crate) fn lock_faults(&self) -> MutexGuard<'_, faults::FaultState> {
        lock(&self.inner.faults)
    }
    pub(crate) fn lock_rates(&self) -> MutexGuard<'_, ratelimit::RateState> {
        lock(&self.inner.rates)
    }
    pub(crate) fn lock_nuller(&self) -> MutexGuard<'_, rand::rngs::SmallRng> {
        lock(&self.inner.nuller)
    }
    pub(crate) fn lock_world(&self) -> MutexGuard<'_, World> {
        lock(&self.inner.world)
    }
}
