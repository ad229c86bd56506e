//! trestle's integrations between Procore and the apps it holds.
//!
//! Every integration runs the same way: collect a snapshot from Procore, plan with a pure
//! function that gives each action the reason (the rule from the seed documents) that decided
//! it, then apply. Planners take "today" as an argument and never touch I/O, so the same input
//! always gives the same plan, and applying a plan then planning again gives nothing to do.
//!
//! # Layout
//! - [`compliance`]: Procore projects, companies, contacts and commitments into compliance
//!   projects, parties and associations; compliance status back as insurance records (the
//!   planner and the executor).
//! - [`cursor`]: where an incremental read starts next time.
//! - [`hooks`]: the progress callback and the crash-test points both integrations share.
//! - [`jobs`]: the units of work `trestle serve` queues: kinds, lanes, payloads.
//! - [`tokens`]: the database `TokenStore` the Procore client saves rotated tokens to.
//! - [`webhooks`]: the triggers a company's hook needs, and the records deliveries ask to read.
//! - [`workforce`]: Procore projects and users into projects and workers; completed forms into
//!   Procore Documents.

#![forbid(unsafe_code)]

pub mod compliance;
pub mod cursor;
pub mod error;
pub mod hooks;
pub mod jobs;
mod text;
pub mod tokens;
pub mod webhooks;
pub mod workforce;

pub use error::{Result, SyncError};
