//! The store's shared suite: every test runs on SQLite and on PostgreSQL (see `support`).
//!
//! # Layout
//! - `support`: the two databases, cleanup, and the `both!` macro.
//! - `workforce`: projects, workers, and the one-transaction apply.
//! - `links`: manual links, folders, form uploads.
//! - `outbox`: enqueue, leases, retries, parallel claimers.
//! - `runlog`: runs, entries, and the history `explain` reads.
//! - `secrets`: connections, tokens, the key, and what is on disk.
//! - `forms`: templates and submissions.
//! - `compliance`: parties, projects, profiles, certificates, waivers, mappings, insurance
//!   write state, settings, and the one-transaction compliance apply.
//! - `mirror`: the Procore mirror and the cursors saved with it, and the company lock.
//! - `jobs`: the work queue: fencing, lanes, order, coalescing, retries, parallel processes.
//! - `deliveries`: webhook deliveries and the jobs they enqueue, and hook records.
//! - `health`: company health entries.
//! - `idempotency`: the REST API's answers kept under their keys.
//! - `tokens`: the REST API's tokens, found by hash, revoked.

#[macro_use]
mod support;

mod compliance;
mod decisions;
mod deliveries;
mod forms;
mod health;
mod idempotency;
mod jobs;
mod links;
mod mirror;
mod outbox;
mod runlog;
mod secrets;
mod tokens;
mod workforce;

use domain::workforce::{ProjectFields, WorkerFields};

pub const COMPANY: i64 = 4242;

pub fn project_fields(name: &str, number: Option<&str>) -> ProjectFields {
    ProjectFields {
        name: name.into(),
        project_number: number.map(Into::into),
        private_description: Some("Internal: phase 2".into()),
        public_info: Some("Gate 3 on Elm St".into()),
        street_address: Some("1 Elm St".into()),
        city: Some("Springfield".into()),
        state: Some("IL".into()),
        zip: Some("62701".into()),
        country: Some("US".into()),
    }
}

pub fn worker_fields(first: &str, email: Option<&str>) -> WorkerFields {
    WorkerFields {
        first_name: first.into(),
        last_name: "Lee".into(),
        phone: Some("+1 555 0100".into()),
        employee_number: Some("E-7".into()),
        email: email.map(Into::into),
    }
}
