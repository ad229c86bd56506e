//! The workforce integration (seed `000_e918b7ad9c31c2aa.txt`).
//!
//! # Layout
//! - [`access`]: the permission checks `connect` runs before anything syncs.
//! - [`collect`]: read projects, users and `/me` from Procore into a snapshot, incrementally.
//! - [`input`]: what the planner reads: Procore records as the collector saw them, the app's
//!   records with their links, and the settings (the three toggles).
//! - [`plan`](mod@plan): the pure planner for projects and workers, its actions and reasons.
//! - [`run`]: one sync end to end: collect, plan, apply in one transaction, drain uploads.
//! - [`upload`]: putting a form into Procore Documents so that no retry duplicates it.
//! - [`forms`]: where a completed form goes in Procore Documents, and when it must go again.

pub mod access;
pub mod collect;
pub mod forms;
pub mod input;
pub mod plan;
pub mod run;
pub mod upload;

pub use input::{
    LocalWorkforce, ProcoreProject, ProcoreUser, WorkforceSettings, WorkforceSnapshot,
};
pub use plan::{plan, Action, Plan, Reason};
pub use run::{sync_workforce, sync_workforce_targets, Report, Summary, WorkforceJob};
