//! Entering and changing the compliance records trestle is the system of record for, one at a
//! time: profiles, certificates and their policies, waivers, a party's profile; and finding a
//! party, project or profile by what a person typed.
//!
//! Each use case reads the company's records, applies a rule of `domain::compliance::edit`,
//! checks a changed profile or certificate as an import would, and writes the store; the next
//! compliance sync evaluates what it finds there. Every read is scoped by the company, so an id of another
//! company's record finds nothing.
//!
//! # Layout
//! - `find`: a party, project or profile by trestle id or name, a certificate by id.
//! - `profiles`: saving a profile (whole or by edits) and removing one.
//! - `certificates`: listing, adding, replacing and removing certificates, setting a policy.
//! - `waivers`: listing, adding and removing waivers and overrides.
//! - `parties`: the profile of a party's global compliance.

mod certificates;
mod find;
mod parties;
mod profiles;
mod waivers;

pub use certificates::{
    add_certificate, certificates_of, remove_certificate, remove_policy, replace_certificate,
    set_policy, NewCertificate,
};
pub use find::{certificate, find_party, find_profile, find_project, profile_named, PartyName};
pub use parties::set_party_profile;
pub use profiles::{remove_profile, set_profile};
pub use waivers::{add_waiver, remove_waiver, waivers_of, NewWaiver};

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

#[cfg(test)]
mod tests {
    use super::*;
    use domain::compliance::{
        Certificate, ComplianceProfile, PolicyDraft, ProfileEdit, Subject, WaiverKind,
    };
    use store::{SecretKey, Store};

    const ACME: i64 = 1;
    const OTHER: i64 = 2;

    async fn store_in(dir: &std::path::Path) -> Store {
        let url = format!("sqlite://{}?mode=rwc", dir.join("trestle.sqlite").display());
        Store::open(&url, SecretKey::generate()).await.unwrap()
    }

    /// Company `ACME` with one party, one profile and one certificate.
    async fn seeded(dir: &std::path::Path) -> (Store, Certificate) {
        let store = store_in(dir).await;
        let data: ComplianceData = serde_json::from_value(serde_json::json!({
            "version": 1,
            "profiles": [{"id": 1, "name": "Standard", "requirements": [
                {"key": "gl.each_occurrence", "subject": "general_liability",
                 "check": {"type": "limit_at_least", "limit": "each_occurrence",
                           "minimum": "1000000"}}
            ]}],
            "parties": [{"id": 1, "name": "Bolt Plumbing", "profile_id": 1}],
            "certificates": [{"id": 1, "party_id": 1, "policies": [
                {"subject": "general_liability", "insurer": "Granite", "policy_number": "GL-1",
                 "effective_date": "2026-01-01", "expiration_date": "2027-01-01"}
            ]}]
        }))
        .unwrap();
        store.import_compliance(ACME, &data).await.unwrap();
        let c = store.certificates(ACME).await.unwrap().remove(0);
        (store, c)
    }

    #[tokio::test]
    async fn another_companys_certificate_is_not_found_by_its_id() {
        let dir = tempfile::tempdir().unwrap();
        let (store, c) = seeded(dir.path()).await;
        let draft = PolicyDraft {
            subject: Some(Subject::GeneralLiability),
            insurer: Some("Elsewhere".into()),
            ..PolicyDraft::default()
        };
        for refused in [
            certificate(&store, OTHER, c.id).await.map(drop),
            set_policy(&store, OTHER, c.id, &draft, None)
                .await
                .map(drop),
            remove_policy(&store, OTHER, c.id, Subject::GeneralLiability, None)
                .await
                .map(drop),
            remove_certificate(&store, OTHER, c.id, None).await,
        ] {
            assert!(
                matches!(refused, Err(RecordError::NoCertificate(id)) if id == c.id),
                "{refused:?}"
            );
        }
        assert_eq!(certificate(&store, ACME, c.id).await.unwrap(), c);
    }

    #[tokio::test]
    async fn a_party_is_found_by_its_id_or_its_name_ignoring_case_within_its_company() {
        let dir = tempfile::tempdir().unwrap();
        let (store, c) = seeded(dir.path()).await;
        let by_name = find_party(&store, ACME, " bolt plumbing ").await.unwrap();
        assert_eq!(by_name.id, c.party_id);
        let by_id = find_party(&store, ACME, &c.party_id.to_string()).await;
        assert_eq!(by_id.unwrap(), by_name);
        match find_party(&store, ACME, "Bolt Plumbers").await {
            Err(RecordError::NoParty { known, .. }) => assert_eq!(known[0].name, "Bolt Plumbing"),
            other => panic!("{other:?}"),
        }
        let elsewhere = find_party(&store, OTHER, &c.party_id.to_string()).await;
        assert!(
            matches!(elsewhere, Err(RecordError::NoParties { .. })),
            "{elsewhere:?}"
        );
    }

    #[tokio::test]
    async fn a_policy_set_keeps_the_fields_not_given_and_a_bad_change_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (store, c) = seeded(dir.path()).await;
        let raised = PolicyDraft {
            subject: Some(Subject::GeneralLiability),
            limits: [(
                domain::compliance::LimitKind::EachOccurrence,
                "2000000".parse().unwrap(),
            )]
            .into(),
            ..PolicyDraft::default()
        };
        let saved = set_policy(&store, ACME, c.id, &raised, None).await.unwrap();
        assert_eq!(saved.policies[0].insurer, "Granite");
        assert_eq!(saved.policies[0].limits.len(), 1);

        let reversed = PolicyDraft {
            subject: Some(Subject::GeneralLiability),
            expiration_date: "2025-01-01".parse().ok(),
            ..PolicyDraft::default()
        };
        let refused = set_policy(&store, ACME, c.id, &reversed, None).await;
        assert!(
            matches!(refused, Err(RecordError::Invalid(_))),
            "{refused:?}"
        );
        assert_eq!(certificate(&store, ACME, c.id).await.unwrap(), saved);
    }

    #[tokio::test]
    async fn a_waiver_of_a_requirement_no_profile_has_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (store, c) = seeded(dir.path()).await;
        let mut new = NewWaiver {
            requirement: Some("gl.nope".into()),
            subject: None,
            kind: WaiverKind::Waive,
            reason: "owner's call".into(),
            until: None,
            project: None,
            everywhere: false,
        };
        let refused = add_waiver(&store, ACME, c.party_id, new.clone()).await;
        assert!(
            matches!(
                refused,
                Err(RecordError::Edit(EditError::UnknownRequirementKey(_)))
            ),
            "{refused:?}"
        );
        new.requirement = Some("gl.each_occurrence".into());
        let added = add_waiver(&store, ACME, c.party_id, new).await.unwrap();
        assert_eq!(store.waivers(ACME).await.unwrap(), vec![added.clone()]);
        remove_waiver(&store, ACME, added.id).await.unwrap();
        assert!(matches!(
            remove_waiver(&store, ACME, added.id).await,
            Err(RecordError::NoWaiver(_))
        ));
    }

    #[tokio::test]
    async fn a_profile_edit_changes_the_saved_profile_and_keeps_its_id() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = seeded(dir.path()).await;
        let before = profile_named(&store, ACME, "Standard").await.unwrap();
        let edit = ProfileEdit {
            coverage: vec![Subject::UmbrellaExcess],
            ..ProfileEdit::default()
        };
        let saved = set_profile(&store, ACME, "Standard", None, &edit, None)
            .await
            .unwrap();
        assert_eq!(saved.id, before.id);
        let keys: Vec<&str> = saved.requirements.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["gl.each_occurrence", "umbrella.coverage"]);
        let renamed = ComplianceProfile {
            name: "Other".into(),
            ..saved
        };
        let refused = set_profile(&store, ACME, "Standard", Some(renamed), &edit, None).await;
        assert!(
            matches!(refused, Err(RecordError::ProfileNameMismatch { .. })),
            "{refused:?}"
        );
    }
}
