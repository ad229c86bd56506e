//! Entering and changing the compliance records trestle is the system of record for, one at a
//! time: profiles, certificates and their policies, waivers, a party's profile; and finding a
//! party, project or profile by what a person typed.
//!
//! Each use case reads the company's records, applies a rule of `domain::compliance::edit`,
//! checks the result as an import would, and writes the store; the next compliance sync
//! evaluates what it finds there. Every read is scoped by the company, so an id of another
//! company's record finds nothing.
//!
//! # Layout
//! - `find`: a party, project or profile by trestle id or name, a certificate by id.
//! - `profiles`: saving a profile (whole or by edits) and removing one.
//! - `certificates`: adding, replacing and removing certificates, setting a policy.
//! - `waivers`: adding and removing waivers and overrides.
//! - `parties`: the profile of a party's global compliance.

mod certificates;
mod find;
mod parties;
mod profiles;
mod waivers;

pub use certificates::{
    add_certificate, remove_certificate, remove_policy, replace_certificate, set_policy,
    NewCertificate,
};
pub use find::{certificate, find_party, find_profile, find_project, profile_named, PartyName};
pub use parties::set_party_profile;
pub use profiles::{remove_profile, set_profile};
pub use waivers::{add_waiver, remove_waiver, NewWaiver};

use domain::compliance::{
    CertificateId, ComplianceData, EditError, ImportError, PartyId, WaiverId, FORMAT_VERSION,
};
use store::StoreError;

/// Why a record was not found or not changed; nothing was written when one is returned. The
/// messages name the record or field to change; faces add their own advice.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The change breaks a rule of the record it changes.
    #[error(transparent)]
    Edit(#[from] EditError),
    /// The changed record fails the import's validation.
    #[error("{}; nothing was changed", joined(.0))]
    Invalid(Vec<ImportError>),
    #[error(
        "no party \"{asked}\": there are no parties yet; a compliance sync or an import brings \
         them in"
    )]
    NoParties { asked: String },
    #[error(
        "no party \"{asked}\"; give a party's id or exact name, e.g. {}",
        joined(known)
    )]
    NoParty {
        asked: String,
        /// Some of the parties there are (the first ten), to pick from.
        known: Vec<PartyName>,
    },
    #[error("{} parties are named \"{asked}\"; give the id of one: {}", ids.len(), joined(ids))]
    SameNameParties { asked: String, ids: Vec<PartyId> },
    #[error("no compliance project \"{asked}\"; give a project's trestle id or exact name")]
    NoProject { asked: String },
    #[error("{count} projects are named \"{asked}\"; give the id of one")]
    SameNameProjects { asked: String, count: usize },
    #[error(
        "no profile \"{asked}\": there are no profiles yet; create one first; nothing was changed"
    )]
    NoProfiles { asked: String },
    #[error(
        "no profile \"{asked}\"; the profiles are {}; nothing was changed",
        quoted(known)
    )]
    NoProfile {
        asked: String,
        /// The names of the company's profiles.
        known: Vec<String>,
    },
    /// No profile has exactly this name.
    #[error("no profile named \"{0}\"")]
    NoProfileNamed(String),
    #[error("no certificate {0}")]
    NoCertificate(CertificateId),
    #[error("no waiver {0}")]
    NoWaiver(WaiverId),
    /// A whole profile was given under one name but names another.
    #[error(
        "the profile given is named \"{given}\" but it is saved as \"{asked}\"; make them agree"
    )]
    ProfileNameMismatch { given: String, asked: String },
    /// A whole certificate was given for one party but names another.
    #[error("the certificate given names party {given} but it is added for party {asked}; make them agree")]
    PartyMismatch { given: PartyId, asked: PartyId },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn joined<T: std::fmt::Display>(items: &[T]) -> String {
    let texts: Vec<String> = items.iter().map(ToString::to_string).collect();
    texts.join(", ")
}

fn quoted(names: &[String]) -> String {
    let texts: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    texts.join(", ")
}

/// The import's validation, for records entered one at a time.
fn validate(data: ComplianceData) -> Result<(), RecordError> {
    let problems = ComplianceData {
        version: FORMAT_VERSION,
        ..data
    }
    .problems();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(RecordError::Invalid(problems))
    }
}
