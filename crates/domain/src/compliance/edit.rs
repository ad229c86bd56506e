//! Changing compliance records one at a time: a profile's requirements, a certificate's
//! policies, what a waiver is of and where it applies.
//!
//! An import replaces records whole; a person changes one field of one record, and these rules
//! say what that does to the rest of it (a changed minimum keeps the requirement key waivers
//! point at). Errors name the field that was wrong by its name in the import format, which is
//! also what the REST API's bodies use; a face that calls the field something else (a CLI flag)
//! renders its own words.

use super::certificate::{Certificate, Policy};
use super::profile::{Check, ComplianceProfile, Endorsement, LimitKind, Requirement, Subject};
use super::records::{CertificateId, Currency, ProjectId};
use super::waiver::{WaiverScope, WaiverTarget};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A change that cannot be made, naming the field to correct.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("profile \"{profile}\" has no requirement \"{key}\"; its keys are: {}", keys.join(", "))]
    NoSuchRequirement {
        profile: String,
        key: String,
        keys: Vec<String>,
    },
    #[error(
        "profile \"{0}\" would have no requirement, so every party would pass it; \
         give it at least one in `requirements`"
    )]
    NoRequirements(String),
    #[error("a new policy needs {}", field_names(.0))]
    PolicyIncomplete(Vec<PolicyField>),
    #[error(
        "say which policy: `subject` names it (general_liability, automobile_liability, \
         umbrella_excess or workers_compensation)"
    )]
    PolicyWithoutSubject,
    #[error("certificate {certificate} has no {subject} policy; nothing was removed")]
    NoSuchPolicy {
        certificate: CertificateId,
        subject: Subject,
    },
    #[error("no profile has a requirement \"{0}\"; a profile's `requirements` list the keys")]
    UnknownRequirementKey(String),
    #[error("say what is waived: a `requirement` key or a `subject`")]
    NothingWaived,
    #[error("a waiver is of a `requirement` or of a `subject`, not both")]
    WaivedTwice,
    #[error("a waiver applies on one `project` or `everywhere`, not both")]
    ScopeConflict,
    #[error("a waiver needs a `reason`: say why it was granted")]
    WaiverWithoutReason,
}

impl EditError {
    /// The fields of the change this refusal is about, by their names in the entry
    /// (`reason`, `expiration_date`), so a form can show it beside them; empty when it is
    /// about no one field.
    pub fn fields(&self) -> Vec<&'static str> {
        match self {
            EditError::NoSuchRequirement { .. } | EditError::UnknownRequirementKey(_) => {
                vec!["requirement"]
            }
            EditError::NoRequirements(_) => vec!["requirements"],
            EditError::PolicyIncomplete(missing) => missing.iter().map(|f| f.name()).collect(),
            EditError::PolicyWithoutSubject | EditError::NoSuchPolicy { .. } => vec!["subject"],
            EditError::NothingWaived | EditError::WaivedTwice => vec!["requirement", "subject"],
            EditError::ScopeConflict => vec!["project", "everywhere"],
            EditError::WaiverWithoutReason => vec!["reason"],
        }
    }
}

/// A field a policy cannot go without.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyField {
    Subject,
    Insurer,
    PolicyNumber,
    EffectiveDate,
    ExpirationDate,
}

impl PolicyField {
    /// The field's name in the import format.
    pub fn name(self) -> &'static str {
        match self {
            PolicyField::Subject => "subject",
            PolicyField::Insurer => "insurer",
            PolicyField::PolicyNumber => "policy_number",
            PolicyField::EffectiveDate => "effective_date",
            PolicyField::ExpirationDate => "expiration_date",
        }
    }
}

fn field_names(fields: &[PolicyField]) -> String {
    let names: Vec<&str> = fields.iter().map(|f| f.name()).collect();
    names.join(", ")
}

// ---- profiles ----

/// The snake_case name a value has in JSON, which requirement keys reuse.
fn key_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Adds a requirement, or changes the one that checks the same thing (keeping its key, which
/// waivers point at). A changed check drops a hand-written label, which described the old one.
pub fn put_requirement(requirements: &mut Vec<Requirement>, subject: Subject, check: Check) {
    let same = |r: &Requirement| match (&r.check, &check) {
        (Check::LimitAtLeast { limit: a, .. }, Check::LimitAtLeast { limit: b, .. }) => a == b,
        (a, b) => r.subject == subject && a == b,
    };
    if let Some(r) = requirements.iter_mut().find(|r| same(r)) {
        if r.check != check {
            r.check = check;
            r.label = None;
        }
        return;
    }
    let what = match &check {
        Check::LimitAtLeast { limit, .. } => key_name(limit),
        Check::Endorsement { endorsement } => key_name(endorsement),
        Check::Statutory => "statutory".into(),
        Check::CoveragePresent => "coverage".into(),
    };
    requirements.push(Requirement {
        key: format!("{}.{what}", subject.short_key()),
        subject,
        check,
        label: None,
    });
}

/// Changes to a profile's requirements and settings, each adding a requirement or changing
/// the one that checks the same thing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileEdit {
    /// Minimum limits, in the order given (new requirements are added in it); the limit names
    /// the subject.
    pub minimums: Vec<(LimitKind, Decimal)>,
    /// Endorsements a subject's policy must carry.
    pub endorsements: Vec<(Subject, Endorsement)>,
    /// Workers compensation must be statutory.
    pub statutory_workers_compensation: bool,
    /// Subjects any in-force policy satisfies.
    pub coverage: Vec<Subject>,
    /// Keys of requirements to remove.
    pub remove_requirements: Vec<String>,
    pub currency: Option<Currency>,
    pub expiring_within_days: Option<u32>,
}

impl ProfileEdit {
    /// Applies the changes. A profile left without requirements is refused: every party would
    /// pass it, which is never what was meant.
    pub fn apply(&self, profile: &mut ComplianceProfile) -> Result<(), EditError> {
        for (limit, minimum) in &self.minimums {
            let check = Check::LimitAtLeast {
                limit: *limit,
                minimum: *minimum,
            };
            put_requirement(&mut profile.requirements, limit.subject(), check);
        }
        for (subject, endorsement) in &self.endorsements {
            let check = Check::Endorsement {
                endorsement: *endorsement,
            };
            put_requirement(&mut profile.requirements, *subject, check);
        }
        if self.statutory_workers_compensation {
            put_requirement(
                &mut profile.requirements,
                Subject::WorkersCompensation,
                Check::Statutory,
            );
        }
        for subject in &self.coverage {
            put_requirement(&mut profile.requirements, *subject, Check::CoveragePresent);
        }
        for key in &self.remove_requirements {
            let before = profile.requirements.len();
            profile.requirements.retain(|r| &r.key != key);
            if profile.requirements.len() == before {
                return Err(EditError::NoSuchRequirement {
                    profile: profile.name.clone(),
                    key: key.clone(),
                    keys: profile.requirements.iter().map(|r| r.key.clone()).collect(),
                });
            }
        }
        if let Some(currency) = self.currency {
            profile.currency = currency;
        }
        if let Some(days) = self.expiring_within_days {
            profile.expiring_within_days = days;
        }
        if profile.requirements.is_empty() {
            return Err(EditError::NoRequirements(profile.name.clone()));
        }
        Ok(())
    }
}

// ---- certificates ----

/// A policy's fields as a person gives them: all of the required ones for a new policy, or
/// only those to change on an existing one.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PolicyDraft {
    pub subject: Option<Subject>,
    pub insurer: Option<String>,
    pub naic: Option<String>,
    pub policy_number: Option<String>,
    pub effective_date: Option<NaiveDate>,
    pub expiration_date: Option<NaiveDate>,
    /// Limits to set, as printed.
    pub limits: BTreeMap<LimitKind, Decimal>,
    /// Limits to take off an existing policy.
    pub remove_limits: Vec<LimitKind>,
    /// The policy's endorsements, replacing its list; `None` keeps it.
    pub endorsements: Option<Vec<Endorsement>>,
    pub statutory: Option<bool>,
}

impl PolicyDraft {
    /// A new policy: everything a coverage row cannot go without must be given.
    pub fn new_policy(&self) -> Result<Policy, EditError> {
        let (
            Some(subject),
            Some(insurer),
            Some(policy_number),
            Some(effective_date),
            Some(expiration_date),
        ) = (
            self.subject,
            &self.insurer,
            &self.policy_number,
            self.effective_date,
            self.expiration_date,
        )
        else {
            let missing = [
                (self.subject.is_none(), PolicyField::Subject),
                (self.insurer.is_none(), PolicyField::Insurer),
                (self.policy_number.is_none(), PolicyField::PolicyNumber),
                (self.effective_date.is_none(), PolicyField::EffectiveDate),
                (self.expiration_date.is_none(), PolicyField::ExpirationDate),
            ];
            return Err(EditError::PolicyIncomplete(
                missing.into_iter().filter(|m| m.0).map(|m| m.1).collect(),
            ));
        };
        Ok(Policy {
            subject,
            insurer: insurer.clone(),
            naic: self.naic.clone(),
            policy_number: policy_number.clone(),
            effective_date,
            expiration_date,
            limits: self.limits.clone(),
            endorsements: self.endorsements.clone().unwrap_or_default(),
            statutory: self.statutory.unwrap_or(false),
        })
    }

    /// Changes only the fields given.
    fn change(&self, p: &mut Policy) {
        if let Some(v) = &self.insurer {
            p.insurer = v.clone();
        }
        if let Some(v) = &self.naic {
            p.naic = Some(v.clone());
        }
        if let Some(v) = &self.policy_number {
            p.policy_number = v.clone();
        }
        if let Some(v) = self.effective_date {
            p.effective_date = v;
        }
        if let Some(v) = self.expiration_date {
            p.expiration_date = v;
        }
        p.limits.extend(&self.limits);
        for limit in &self.remove_limits {
            p.limits.remove(limit);
        }
        if let Some(v) = &self.endorsements {
            p.endorsements = v.clone();
        }
        if let Some(v) = self.statutory {
            p.statutory = v;
        }
    }
}

/// Changes the certificate's policy for the draft's subject, or adds one: a certificate has
/// one coverage row per subject.
pub fn set_policy(certificate: &mut Certificate, draft: &PolicyDraft) -> Result<(), EditError> {
    let subject = draft.subject.ok_or(EditError::PolicyWithoutSubject)?;
    match certificate
        .policies
        .iter_mut()
        .find(|p| p.subject == subject)
    {
        Some(p) => draft.change(p),
        None => certificate.policies.push(draft.new_policy()?),
    }
    Ok(())
}

pub fn remove_policy(certificate: &mut Certificate, subject: Subject) -> Result<(), EditError> {
    let before = certificate.policies.len();
    certificate.policies.retain(|p| p.subject != subject);
    if certificate.policies.len() == before {
        return Err(EditError::NoSuchPolicy {
            certificate: certificate.id,
            subject,
        });
    }
    Ok(())
}

// ---- waivers ----

/// What a waiver is of: a requirement key some profile has (a key no profile has would never
/// match, so the waiver would silently do nothing), or a whole subject.
pub fn waiver_target(
    requirement: Option<&str>,
    subject: Option<Subject>,
    profiles: &[ComplianceProfile],
) -> Result<WaiverTarget, EditError> {
    match (requirement, subject) {
        (Some(_), Some(_)) => Err(EditError::WaivedTwice),
        (Some(key), None) => {
            let known = profiles
                .iter()
                .flat_map(|p| &p.requirements)
                .any(|r| r.key == key);
            if !known {
                return Err(EditError::UnknownRequirementKey(key.to_owned()));
            }
            Ok(WaiverTarget::Requirement(key.to_owned()))
        }
        (None, Some(subject)) => Ok(WaiverTarget::Subject(subject)),
        (None, None) => Err(EditError::NothingWaived),
    }
}

/// Where a waiver applies: one project, everywhere, or by default the party's global
/// compliance only.
pub fn waiver_scope(
    project: Option<ProjectId>,
    everywhere: bool,
) -> Result<WaiverScope, EditError> {
    match (project, everywhere) {
        (Some(_), true) => Err(EditError::ScopeConflict),
        (Some(p), false) => Ok(WaiverScope::Project(p)),
        (None, true) => Ok(WaiverScope::Everywhere),
        (None, false) => Ok(WaiverScope::Global),
    }
}

/// A waiver's reason, trimmed; an auditor will ask, so there must be one.
pub fn waiver_reason(reason: &str) -> Result<String, EditError> {
    match reason.trim() {
        "" => Err(EditError::WaiverWithoutReason),
        reason => Ok(reason.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::{PartyId, ProfileId};

    fn policy_draft() -> PolicyDraft {
        PolicyDraft {
            subject: Some(Subject::GeneralLiability),
            insurer: Some("Granite".into()),
            policy_number: Some("GL-1".into()),
            effective_date: NaiveDate::from_ymd_opt(2026, 1, 1),
            expiration_date: NaiveDate::from_ymd_opt(2027, 1, 1),
            ..PolicyDraft::default()
        }
    }

    fn certificate() -> Certificate {
        Certificate {
            id: CertificateId(7),
            party_id: PartyId(1),
            applies_to: Default::default(),
            received_on: None,
            currency: Currency::Usd,
            producer: None,
            holder: None,
            policies: vec![policy_draft().new_policy().unwrap()],
        }
    }

    fn profile(requirements: Vec<Requirement>) -> ComplianceProfile {
        ComplianceProfile {
            id: ProfileId(1),
            name: "Standard".into(),
            currency: Currency::Usd,
            expiring_within_days: 30,
            requirements,
        }
    }

    #[test]
    fn changing_a_minimum_keeps_the_requirement_key_that_waivers_point_at() {
        let mut requirements = vec![Requirement {
            key: "auto.csl".into(),
            subject: Subject::AutomobileLiability,
            check: Check::LimitAtLeast {
                limit: LimitKind::CombinedSingleLimit,
                minimum: "500000".parse().unwrap(),
            },
            label: Some("CSL of $500k".into()),
        }];
        let raised = Check::LimitAtLeast {
            limit: LimitKind::CombinedSingleLimit,
            minimum: "1000000".parse().unwrap(),
        };
        put_requirement(
            &mut requirements,
            Subject::AutomobileLiability,
            raised.clone(),
        );
        assert_eq!(requirements.len(), 1);
        assert_eq!(requirements[0].key, "auto.csl");
        assert_eq!(requirements[0].check, raised);
        assert_eq!(requirements[0].label, None, "the old label described $500k");
        put_requirement(
            &mut requirements,
            Subject::GeneralLiability,
            Check::Endorsement {
                endorsement: Endorsement::AdditionalInsured,
            },
        );
        assert_eq!(requirements[1].key, "gl.additional_insured");
    }

    #[test]
    fn a_profile_edit_that_removes_its_last_requirement_is_refused() {
        let mut p = profile(Vec::new());
        let add = ProfileEdit {
            statutory_workers_compensation: true,
            ..ProfileEdit::default()
        };
        add.apply(&mut p).unwrap();
        assert_eq!(p.requirements[0].key, "wc.statutory");
        let remove = ProfileEdit {
            remove_requirements: vec!["wc.statutory".into()],
            ..ProfileEdit::default()
        };
        assert_eq!(
            remove.apply(&mut p),
            Err(EditError::NoRequirements("Standard".into()))
        );
    }

    #[test]
    fn removing_a_requirement_the_profile_lacks_names_the_keys_it_has() {
        let mut p = profile(Vec::new());
        let edit = ProfileEdit {
            coverage: vec![Subject::UmbrellaExcess],
            remove_requirements: vec!["gl.nope".into()],
            ..ProfileEdit::default()
        };
        let err = edit.apply(&mut p).unwrap_err().to_string();
        assert!(
            err.contains("\"gl.nope\"") && err.contains("umbrella.coverage"),
            "{err}"
        );
    }

    #[test]
    fn a_new_policy_names_every_required_field_it_lacks() {
        let draft = PolicyDraft {
            effective_date: None,
            expiration_date: None,
            ..policy_draft()
        };
        assert_eq!(
            draft.new_policy(),
            Err(EditError::PolicyIncomplete(vec![
                PolicyField::EffectiveDate,
                PolicyField::ExpirationDate
            ]))
        );
        assert!(draft
            .new_policy()
            .unwrap_err()
            .to_string()
            .ends_with("needs effective_date, expiration_date"));
    }

    #[test]
    fn setting_a_policy_changes_only_the_fields_given_or_adds_the_subjects_row() {
        let mut c = certificate();
        let change = PolicyDraft {
            subject: Some(Subject::GeneralLiability),
            limits: [(LimitKind::EachOccurrence, "2000000".parse().unwrap())].into(),
            ..PolicyDraft::default()
        };
        set_policy(&mut c, &change).unwrap();
        assert_eq!(c.policies.len(), 1);
        assert_eq!(c.policies[0].insurer, "Granite");
        assert_eq!(c.policies[0].limits.len(), 1);

        let partial_auto = PolicyDraft {
            subject: Some(Subject::AutomobileLiability),
            ..PolicyDraft::default()
        };
        assert!(matches!(
            set_policy(&mut c, &partial_auto),
            Err(EditError::PolicyIncomplete(_))
        ));
        let auto = PolicyDraft {
            subject: Some(Subject::AutomobileLiability),
            ..policy_draft()
        };
        set_policy(&mut c, &auto).unwrap();
        assert_eq!(c.policies.len(), 2);
        assert_eq!(
            set_policy(&mut c, &PolicyDraft::default()),
            Err(EditError::PolicyWithoutSubject)
        );
    }

    #[test]
    fn removing_a_policy_the_certificate_lacks_is_refused() {
        let mut c = certificate();
        assert_eq!(
            remove_policy(&mut c, Subject::WorkersCompensation),
            Err(EditError::NoSuchPolicy {
                certificate: CertificateId(7),
                subject: Subject::WorkersCompensation
            })
        );
        remove_policy(&mut c, Subject::GeneralLiability).unwrap();
        assert!(c.policies.is_empty());
    }

    #[test]
    fn a_waiver_is_of_a_known_requirement_key_or_of_a_subject() {
        let mut p = profile(Vec::new());
        put_requirement(
            &mut p.requirements,
            Subject::WorkersCompensation,
            Check::Statutory,
        );
        let profiles = [p];
        assert_eq!(
            waiver_target(Some("wc.statutory"), None, &profiles),
            Ok(WaiverTarget::Requirement("wc.statutory".into()))
        );
        assert_eq!(
            waiver_target(Some("gl.nope"), None, &profiles),
            Err(EditError::UnknownRequirementKey("gl.nope".into()))
        );
        assert_eq!(
            waiver_target(None, Some(Subject::UmbrellaExcess), &profiles),
            Ok(WaiverTarget::Subject(Subject::UmbrellaExcess))
        );
        assert_eq!(
            waiver_target(None, None, &profiles),
            Err(EditError::NothingWaived)
        );
        assert_eq!(
            waiver_target(
                Some("wc.statutory"),
                Some(Subject::UmbrellaExcess),
                &profiles
            ),
            Err(EditError::WaivedTwice)
        );
    }

    #[test]
    fn a_waiver_applies_to_global_compliance_unless_given_a_project_or_everywhere() {
        assert_eq!(waiver_scope(None, false), Ok(WaiverScope::Global));
        assert_eq!(waiver_scope(None, true), Ok(WaiverScope::Everywhere));
        assert_eq!(
            waiver_scope(Some(ProjectId(3)), false),
            Ok(WaiverScope::Project(ProjectId(3)))
        );
        assert_eq!(
            waiver_scope(Some(ProjectId(3)), true),
            Err(EditError::ScopeConflict)
        );
    }

    #[test]
    fn a_waiver_reason_is_trimmed_and_cannot_be_blank() {
        assert_eq!(
            waiver_reason("  owner said so "),
            Ok("owner said so".into())
        );
        assert_eq!(waiver_reason(" "), Err(EditError::WaiverWithoutReason));
    }
}
