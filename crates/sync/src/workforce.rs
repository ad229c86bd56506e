//! The workforce integration (seed `000_e918b7ad9c31c2aa.txt`).
//!
//! # Layout
//! - [`input`]: what the planner reads: Procore records as the collector saw them, the app's
//!   records with their links, and the settings (the three toggles).
//! - [`plan`]: the pure planner for projects and workers, its actions and reasons.
//! - [`forms`]: where a completed form goes in Procore Documents, and when it must go again.

pub mod forms;
pub mod input;
pub mod plan;

pub use input::{
    LocalWorkforce, ProcoreProject, ProcoreUser, WorkforceSettings, WorkforceSnapshot,
};
pub use plan::{plan, Action, Plan, Reason};
