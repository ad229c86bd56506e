//! The compliance app: who must carry which insurance, what their certificates show, and
//! whether that is enough today.
//!
//! trestle is the system of record for compliance (Procore is for parties and projects), so
//! the rules live here, pure: [`evaluate()`] turns the records and today's date into a status for
//! every requirement, subject and party, and [`writeback`] turns that into the insurance records
//! Procore receives. Nothing reads a clock or a store, so a daily re-evaluation, an explain
//! command and a benchmark all call the same function.
//!
//! # Layout
//! - [`records`]: parties, projects, party-project associations, contacts, ids and currency.
//! - [`profile`]: compliance subjects, limits, endorsements, requirements and profiles.
//! - [`certificate`]: certificates of insurance and their policies.
//! - [`waiver`]: waivers and overrides, with a reason and an optional end date.
//! - [`mod@evaluate`]: the evaluation rules and their results.
//! - [`writeback`]: Procore insurance records (subject and summary formats), the status
//!   mapping, and the fingerprint that tells a status change from a notes change.
//! - [`dataset`]: all records as one JSON import document, its validation, and a by-party
//!   index to evaluate many parties.
//! - [`input`]: the values people type (amounts, dates, subjects, limits, endorsements), read.
//! - [`edit`]: changing one record: a profile's requirements, a certificate's policies, a
//!   waiver's target, scope and reason.

pub mod certificate;
pub mod dataset;
pub mod edit;
pub mod evaluate;
pub mod input;
pub mod profile;
pub mod records;
pub mod waiver;
pub mod writeback;

#[cfg(test)]
mod fixture;

pub use certificate::{AppliesTo, Certificate, Policy, Validity};
pub use dataset::{
    money_hint, ComplianceData, ImportError, PartyEvaluation, PartyIndex, FORMAT_VERSION,
};
pub use edit::{EditError, PolicyDraft, PolicyField, ProfileEdit};
pub use evaluate::{
    evaluate, Coverage, Evaluation, OverallStatus, PolicyRef, Reason, RequirementResult,
    RequirementStatus, Status, SubjectResult, Target,
};
pub use input::ValueError;
pub use profile::{
    money, Check, ComplianceProfile, Endorsement, LimitKind, Requirement, Subject,
    DEFAULT_EXPIRING_WITHIN_DAYS,
};
pub use records::{
    CertificateId, Contact, ContactId, Currency, Party, PartyId, PartyProject, ProfileId, Project,
    ProjectId, WaiverId,
};
pub use waiver::{Waiver, WaiverKind, WaiverScope, WaiverTarget};
pub use writeback::{
    target_of, InsuranceRecord, ProcoreInsuranceStatus, RecordChange, StatusFingerprint,
    WriteBackFormat,
};
