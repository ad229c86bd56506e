//! The compliance integration (seed `002_4ab7969fb7c4b59e.txt`, TrustLayer + Procore): Procore
//! projects, companies, contacts and commitments into trestle's compliance projects, parties,
//! contacts and party-project associations, and trestle's compliance status back into Procore
//! as insurance records.
//!
//! Procore is the system of record for projects, companies and commitments; trestle for
//! compliance. A sync collects a snapshot from Procore, reads trestle's side, plans, applies the
//! plan in one store transaction, then drains the insurance writes and removals to Procore.
//! The planner is pure: [`plan()`] reads a snapshot, trestle's records with the
//! administrator's mapping decisions, the settings and today's date, and says what to change
//! and why. Keeping it apart from the I/O lets every rule of the seed be a fast test, and makes
//! the plan the seed's dry run and the answer to its troubleshooting questions.
//!
//! # Layout
//! The pure planner:
//! - [`settings`]: every configuration option with its default, and what counts as an active
//!   commitment.
//! - [`input`]: what the planner reads: Procore records as collected, trestle's records, the
//!   mapping decisions, and the insurance records to write with those last written.
//! - [`fields`]: the managed fields of projects, parties and contacts, and field-by-field
//!   changes.
//! - [`plan`](mod@plan): the plan, its actions and their order.
//! - [`reason`]: why each action was decided, as sentences for `explain`.
//! - `records`, `associations`, `insurance`: the rules for projects, companies and contacts;
//!   commitments and profiles; the write-back. `closest`: the near names an unknown profile
//!   is compared with.
//!
//! The executor:
//! - [`run`]: one sync end to end, its summary and report.
//! - [`job`]: what a sync needs from outside (Procore, the store, the company, the date).
//! - [`collect`]: reading Procore into the mirror, incrementally, and the snapshot from it.
//! - [`local`]: reading trestle's side and the settings from the store.
//! - `apply`: the plan as one store batch (pure).
//! - [`writeback`]: the outbox drains that write insurance records to Procore and remove them.

mod apply;
mod associations;
mod closest;
pub mod collect;
pub mod fields;
pub mod input;
mod insurance;
pub mod job;
pub mod local;
pub mod plan;
pub mod reason;
mod records;
pub mod run;
pub mod settings;
pub mod writeback;

pub use closest::{closest as closest_names, edit_distance};
pub use fields::{ContactFields, Field, FieldChange, PartyFields, ProjectFields};
pub use input::{
    ComplianceSnapshot, DesiredInsurance, InsuranceTarget, LocalCompliance, Mapping,
    ProcoreCommitment, ProcoreContact, ProcoreProject, ProcoreVendor, WrittenInsurance,
};
pub use job::ComplianceJob;
pub use local::{change_settings, load_local, load_settings, save_settings};
pub use plan::{plan, Action, Key, Plan};
pub use reason::{CarriedField, Mapped, Reason};
pub use run::{
    sync_compliance, sync_compliance_directory, sync_compliance_targets, Report, Summary,
};
pub use settings::{
    ActiveCommitments, CommitmentKind, ComplianceSettings, ContactSync, DescriptionSync,
    InsuranceLevel, NewProjects, SyncLevel, DEFAULT_PROFILE_FIELD, PROJECT_NUMBER_FIELD,
    TOTAL_VALUE_FIELD,
};
pub use writeback::{Drained, Written, REMOVE_INSURANCE, WRITE_INSURANCE};
