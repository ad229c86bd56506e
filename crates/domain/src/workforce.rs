//! The workforce app: projects, workers and safety forms.
//!
//! # Layout
//! - [`project`]: an app project and the status rule from Procore's active flag and start date.
//! - [`worker`]: a worker, its activation lifecycle and the blocked flag.
//! - [`form`]: form templates and submissions, and what a completed submission must hold.

pub mod form;
pub mod project;
pub mod worker;

pub use form::{
    Answer, Drawing, DrawingError, FieldKind, FormField, FormSection, FormTemplate, Signature,
    Submission, SubmissionState,
};
pub use project::{Project, ProjectFields, ProjectStatus};
pub use worker::{Activation, Worker, WorkerFields, WorkerStatus};
