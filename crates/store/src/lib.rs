//! trestle's store: the app-side records trestle holds, the links between them and Procore, the
//! outbox of Procore writes, the run log that `explain` reads, and each company's connection
//! settings with their secrets sealed at rest.
//!
//! One [`Store`] works on two backends, chosen by the URL given to [`Store::open`]: a SQLite file
//! (the embedded default, nothing to install) or PostgreSQL (`postgres://`), where several
//! `trestle serve` processes can share the work. Both go through one `sqlx::AnyPool` with SQL
//! that both dialects accept, so every query is written once; the places that must differ (how a
//! write transaction begins, and how the outbox and the job queue are claimed) branch on
//! [`Backend`]. Each backend has its own embedded migrations because their column types differ.
//!
//! The public API speaks in domain verbs (`apply_workforce`, `claim_next`, `history`), never SQL.
//!
//! Several `trestle serve` processes (on PostgreSQL) or one (on SQLite) share a queue of jobs in
//! the store rather than in a broker: the jobs commit with the writes that call for them (a
//! webhook delivery and its sync job, say), and nothing else needs installing.
//!
//! # Layout
//! - [`crypto`]: the [`SecretKey`] and how secrets are sealed (XChaCha20-Poly1305).
//! - [`models`]: links, outbox items, the run log, connection settings, workforce changes.
//! - `db`: opening, migrations, the backend switch, row and timestamp codecs.
//! - `workforce`: projects, workers, and [`Store::apply_workforce`], the one-transaction apply.
//! - `compliance`: parties, compliance projects, associations, contacts, profiles,
//!   certificates, waivers, Procore mapping decisions, the insurance records last written,
//!   compliance settings, and [`Store::apply_compliance`].
//! - `links`: Procore id to local id, per company and kind.
//! - `forms`: form templates and submissions.
//! - `outbox`: enqueue, claim with a lease, complete, fail.
//! - `runlog`: runs and their entries, and the history `explain` reads.
//! - `settings`: connections, the Procore token blob, and sync cursors.
//! - `lock`: the company lock on PostgreSQL (one sync of a company at a time across hosts).
//! - `url`: database URLs with their passwords taken out, and the SQLite file a URL names.
//! - `mirror`: the last known state of the Procore records a planner reads whole, and the
//!   cursors read with it.
//! - `jobs`: the work queue `trestle serve` processes share: claims under a fenced lease, one
//!   running job per company and lane, coalescing by dedupe key, retries and dead jobs, and
//!   [`retry_delay`].
//! - `deliveries`: Procore webhook deliveries, stored once each with the job they call for.
//! - `hooks`: the Procore webhook hook registered per company, its signing secret sealed.
//! - `health`: what is wrong with each company's integration and what fixes it.
//! - `idempotency`: the REST API's first answers, kept under their Idempotency-Key.
//! - `tokens`: the REST API's tokens, kept as hashes; revoking, and finding one by its hash.
//! - `wakeups`: on PostgreSQL, idle workers of every process woken when a job becomes
//!   claimable.

#![forbid(unsafe_code)]

mod compliance;
pub mod crypto;
mod db;
mod decisions;
mod deliveries;
mod forms;
mod health;
mod hooks;
mod idempotency;
mod jobs;
mod links;
mod lock;
mod mirror;
pub mod models;
mod outbox;
mod runlog;
mod sessions;
mod settings;
mod tokens;
mod url;
mod wakeups;
mod workforce;

pub use compliance::{
    ComplianceBatch, ComplianceChange, ComplianceProjectRecord, CustomFields, ImportProblem,
    ImportSummary, Imported, InsuranceWrite, InsuranceWriteState, MappingDecision, MappingWrite,
    ProcoreMapping, ProcoreRecordKind, Ref,
};
pub use crypto::{CryptoError, SecretKey};
pub use db::Backend;
pub use decisions::{WaitingChange, WaitingKind, WaitingRecord, WorkforceDecision};
pub use deliveries::{Delivery, DeliveryCounts, NewDelivery, Received};
pub use health::{HealthEntry, HealthState};
pub use hooks::HookRecord;
pub use idempotency::{KeyClaim, IDEMPOTENCY_KEPT};
pub use jobs::{retry_delay, Claimed, Enqueued, Job, JobFilter, JobState, Lease, NewJob};
pub use lock::CompanyLock;
pub use mirror::{MirrorChange, MirrorRow, MirrorUpdate};
pub use models::*;
pub use runlog::{DEFAULT_RUN_LOG_DAYS, HISTORY_LIMIT};
pub use sessions::{NewUiSession, SessionRequest};
pub use tokens::{ApiScope, ApiToken, NewApiToken};
pub use url::{redact_url, sqlite_file};
pub use wakeups::JobWakeups;
pub use workforce::{Versioned, WorkerQuery, WorkerRecord, WorkerState};

use std::sync::Arc;

/// How many more times a change made from its own read (no `If-Match`) is made again when
/// [`StoreError::Changed`] says another write came between: each time on what that one left.
pub const TRIES_AGAIN: usize = 3;

impl StoreError {
    /// What a change made again [`TRIES_AGAIN`] times, beaten by another write each time,
    /// ends in: a conflict to send again, not a precondition the caller gave
    /// ([`StoreError::Changed`] stays for a change made from the caller's own read).
    #[must_use]
    pub fn gave_up(self) -> StoreError {
        match self {
            StoreError::Changed { what, id } => StoreError::Conflict(format!(
                "{what} {id} kept changing while this change was made; send it again"
            )),
            other => other,
        }
    }
}

/// What went wrong in the store, sorted by what the caller can do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The record asked for does not exist.
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: String },
    /// The write clashes with what is stored (a unique key or a reference); nothing was written.
    #[error("the change conflicts with what is stored: {0}")]
    Conflict(String),
    /// The records given cannot be stored as they are (an import file that contradicts
    /// itself); the message lists every problem. Nothing was written.
    #[error("{0}")]
    Invalid(String),
    /// An import file that contradicts itself: every problem, each with the section of the
    /// file it is in. Nothing was written.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    InvalidImport(Vec<ImportProblem>),
    /// The record changed since the writer read it (another person's edit came first), so a
    /// write made from what it read would undo that edit; nothing was written. The writer reads
    /// the record again and decides on what it is now.
    #[error("{what} {id} changed since it was read; read it again and change what it is now")]
    Changed { what: &'static str, id: String },
    /// The database refused or could not be reached.
    #[error("the database failed")]
    Database(#[source] sqlx::Error),
    /// A secret could not be sealed or opened; [`CryptoError::WrongKey`] says which key to use.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The schema could not be brought up to date.
    #[error("the database schema could not be migrated")]
    Migration(#[source] sqlx::migrate::MigrateError),
    /// The database URL names no backend the store supports. It holds the URL as people may
    /// see it: with any password taken out.
    #[error("unsupported database URL \"{0}\": use a SQLite file path, sqlite://PATH, or postgres://...")]
    UnsupportedUrl(String),
    /// A stored value cannot be read back (edited by hand, or written by a newer trestle).
    #[error("a stored {what} cannot be read: {detail}")]
    Corrupt { what: &'static str, detail: String },
    /// The job lease this write relied on was taken back (it ran out and the job was claimed
    /// again, or given up); nothing was written. The worker must drop the job: its new holder,
    /// if any, does it.
    #[error("the job's lease was taken back; nothing was written")]
    LeaseLost,
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() || db.is_foreign_key_violation() {
                return StoreError::Conflict(db.message().to_string());
            }
            // PostgreSQL's "character not in repertoire": text with a NUL character, which
            // PostgreSQL cannot store (SQLite can). Procore text has NUL dropped before it
            // gets here; this is for text a person gave (an import file).
            if db.code().as_deref() == Some("22021") {
                return StoreError::Invalid(
                    "the text contains a NUL character (\\u0000), which the database cannot store; remove it and try again".into(),
                );
            }
        }
        StoreError::Database(e)
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The store. Cheap to clone: clones share the pool and the key.
#[derive(Clone, Debug)]
pub struct Store {
    pool: sqlx::AnyPool,
    backend: Backend,
    sealer: Arc<crypto::Sealer>,
    /// How many days the run log keeps entries that are no record's latest word.
    run_log_days: u32,
    /// The job lease every write transaction checks first (see [`Store::fenced`]).
    fence: Option<Lease>,
    /// The URL it was opened with, for connections outside the pool (see
    /// [`Store::job_wakeups`]); it may hold a password.
    url: Arc<secrecy::SecretString>,
}
