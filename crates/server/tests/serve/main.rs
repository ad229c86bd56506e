//! `trestle serve` end to end: the server on an ephemeral port, the simulator delivering its
//! webhooks to it over real HTTP, a store on a real database. Nothing here runs a sync by
//! hand after the start: what changes in "Procore" reaches the app through the server.
//!
//! # Layout
//! - `harness`: [`harness::App`], the server started over a [`testkit::Kit`].
//! - `forms`: completed forms reach Procore Documents by themselves.
//! - `compliance`: commitments and insurance records changed in Procore, applied by the server.
//! - `webhooks`: hooks registered, deliveries received, refused, deduplicated and applied.
//! - `probes`: `/healthz`, `/readyz`, `/metrics`.
//! - `schedule`: the reconcile catches what webhooks missed.
//! - `shutdown`: a stop mid-work loses nothing.
//! - `wakeups`: on PostgreSQL, a job another process enqueued runs at once.

mod compliance;
mod forms;
mod harness;
mod probes;
mod schedule;
mod shutdown;
mod wakeups;
mod webhooks;
