//! The compliance records as one document: the JSON import format, and an index to evaluate
//! them party by party.
//!
//! The import format is simply these types through serde, so the CLI, the store and the import
//! file cannot drift apart; `docs/compliance-import.md` documents it with an example that the
//! tests parse. Serde checks shapes; [`ComplianceData::problems`] checks what serde cannot
//! (references, duplicate ids, a limit filed under the wrong subject, a waiver without a reason).

use super::certificate::Certificate;
use super::evaluate::{evaluate, Evaluation, Target};
use super::profile::{Check, ComplianceProfile, LimitKind, Subject};
use super::records::{
    CertificateId, Contact, Party, PartyId, PartyProject, ProfileId, Project, ProjectId, WaiverId,
};
use super::waiver::{Waiver, WaiverScope};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// The import format's version; bumped only for a change an old file would be misread under.
pub const FORMAT_VERSION: u32 = 1;

/// What to add to serde's message when an amount was sent as a JSON number (serde says
/// "expected a Decimal"), which says nothing of what to write instead.
pub fn money_hint(message: &str) -> Option<&'static str> {
    message
        .contains("Decimal")
        .then_some("amounts are strings, e.g. \"1000000\", so no precision is lost")
}

/// Every compliance record, as imported or exported.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplianceData {
    #[serde(default = "format_version")]
    pub version: u32,
    #[serde(default)]
    pub parties: Vec<Party>,
    #[serde(default)]
    pub projects: Vec<Project>,
    #[serde(default)]
    pub party_projects: Vec<PartyProject>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub profiles: Vec<ComplianceProfile>,
    #[serde(default)]
    pub certificates: Vec<Certificate>,
    #[serde(default)]
    pub waivers: Vec<Waiver>,
}

fn format_version() -> u32 {
    FORMAT_VERSION
}

/// Something in an import that serde accepted but trestle cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("format version {0} is not supported; this trestle reads version {FORMAT_VERSION}")]
    UnsupportedVersion(u32),
    #[error("{kind} id {id} appears more than once; ids must be unique")]
    DuplicateId { kind: &'static str, id: i64 },
    #[error("party {party} is linked to project {project} more than once")]
    DuplicatePartyProject { party: PartyId, project: ProjectId },
    #[error("{record} refers to party {party}, which is not in the import")]
    UnknownParty {
        section: &'static str,
        record: String,
        party: PartyId,
    },
    #[error("{record} refers to project {project}, which is not in the import")]
    UnknownProject {
        section: &'static str,
        record: String,
        project: ProjectId,
    },
    #[error("{record} refers to profile {profile}, which is not in the import")]
    UnknownProfile {
        section: &'static str,
        record: String,
        profile: ProfileId,
    },
    #[error("profile {profile} has the requirement key \"{key}\" twice; keys must be unique")]
    DuplicateRequirementKey { profile: ProfileId, key: String },
    #[error(
        "profile {profile}, requirement \"{key}\": the {limit:?} limit belongs to {}, not {}",
        limit.subject(),
        subject
    )]
    RequirementLimitOnWrongSubject {
        profile: ProfileId,
        key: String,
        limit: LimitKind,
        subject: Subject,
    },
    #[error(
        "profile {profile}, requirement \"{key}\": only workers compensation can be statutory"
    )]
    StatutoryOutsideWorkersCompensation { profile: ProfileId, key: String },
    #[error("profile {profile}, requirement \"{key}\": a minimum cannot be negative")]
    NegativeMinimum { profile: ProfileId, key: String },
    #[error(
        "certificate {certificate}, policy {policy_number}: the {limit:?} limit belongs to {}, \
         not {}",
        limit.subject(),
        subject
    )]
    PolicyLimitOnWrongSubject {
        certificate: CertificateId,
        policy_number: String,
        /// Where the policy is in its certificate's list.
        policy: usize,
        limit: LimitKind,
        subject: Subject,
    },
    #[error("certificate {certificate}, policy {policy_number}: a limit cannot be negative")]
    NegativeLimit {
        certificate: CertificateId,
        policy_number: String,
        /// Where the policy is in its certificate's list.
        policy: usize,
    },
    #[error(
        "certificate {certificate}, policy {policy_number}: expires ({expiration}) before it \
         takes effect ({effective})"
    )]
    PolicyDatesReversed {
        certificate: CertificateId,
        policy_number: String,
        /// Where the policy is in its certificate's list.
        policy: usize,
        effective: NaiveDate,
        expiration: NaiveDate,
    },
    #[error("waiver {0} has no reason; say why it was granted")]
    WaiverWithoutReason(WaiverId),
}

impl ImportError {
    /// The section of the import file the problem is in (`parties`, `certificates`, …, or
    /// `version`), so an answer can name it as a field.
    pub fn section(&self) -> &'static str {
        match self {
            ImportError::UnsupportedVersion(_) => "version",
            ImportError::DuplicateId { kind, .. } => match *kind {
                "party" => "parties",
                "project" => "projects",
                "profile" => "profiles",
                "contact" => "contacts",
                "certificate" => "certificates",
                "waiver" => "waivers",
                other => other,
            },
            ImportError::DuplicatePartyProject { .. } => "party_projects",
            ImportError::UnknownParty { section, .. }
            | ImportError::UnknownProject { section, .. }
            | ImportError::UnknownProfile { section, .. } => section,
            ImportError::DuplicateRequirementKey { .. }
            | ImportError::RequirementLimitOnWrongSubject { .. }
            | ImportError::StatutoryOutsideWorkersCompensation { .. }
            | ImportError::NegativeMinimum { .. } => "profiles",
            ImportError::PolicyLimitOnWrongSubject { .. }
            | ImportError::NegativeLimit { .. }
            | ImportError::PolicyDatesReversed { .. } => "certificates",
            ImportError::WaiverWithoutReason(_) => "waivers",
        }
    }

    /// Where the policy this problem is about is in its certificate's `policies`, so a
    /// certificate entered whole can name `policies[N]`; `None` when it is about no policy.
    pub fn policy(&self) -> Option<usize> {
        match self {
            ImportError::PolicyLimitOnWrongSubject { policy, .. }
            | ImportError::NegativeLimit { policy, .. }
            | ImportError::PolicyDatesReversed { policy, .. } => Some(*policy),
            _ => None,
        }
    }

    /// The field of a record entered alone (a profile, a certificate's policy, a waiver)
    /// that this problem is about, by its name in that record; `None` when it is about the
    /// import as a whole.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            ImportError::DuplicateRequirementKey { .. }
            | ImportError::RequirementLimitOnWrongSubject { .. }
            | ImportError::StatutoryOutsideWorkersCompensation { .. }
            | ImportError::NegativeMinimum { .. } => Some("requirements"),
            ImportError::PolicyLimitOnWrongSubject { .. } | ImportError::NegativeLimit { .. } => {
                Some("limits")
            }
            ImportError::PolicyDatesReversed { .. } => Some("expiration_date"),
            ImportError::WaiverWithoutReason(_) => Some("reason"),
            ImportError::UnknownProject { .. } => Some("projects"),
            ImportError::UnknownProfile { .. } => Some("profile"),
            ImportError::UnsupportedVersion(_)
            | ImportError::DuplicateId { .. }
            | ImportError::DuplicatePartyProject { .. }
            | ImportError::UnknownParty { .. } => None,
        }
    }
}

impl ComplianceData {
    /// Every problem, so one import round fixes them all.
    pub fn problems(&self) -> Vec<ImportError> {
        let mut out = Vec::new();
        if self.version != FORMAT_VERSION {
            out.push(ImportError::UnsupportedVersion(self.version));
        }
        let parties = unique(&mut out, "party", self.parties.iter().map(|p| p.id.0));
        let projects = unique(&mut out, "project", self.projects.iter().map(|p| p.id.0));
        let profiles = unique(&mut out, "profile", self.profiles.iter().map(|p| p.id.0));
        unique(&mut out, "contact", self.contacts.iter().map(|c| c.id.0));
        unique(
            &mut out,
            "certificate",
            self.certificates.iter().map(|c| c.id.0),
        );
        unique(&mut out, "waiver", self.waivers.iter().map(|w| w.id.0));

        // `section`: where in the file the referring record is.
        let party = |out: &mut Vec<ImportError>, section, record: String, party: PartyId| {
            if !parties.contains(&party.0) {
                out.push(ImportError::UnknownParty {
                    section,
                    record,
                    party,
                });
            }
        };
        let project = |out: &mut Vec<ImportError>, section, record: String, project: ProjectId| {
            if !projects.contains(&project.0) {
                out.push(ImportError::UnknownProject {
                    section,
                    record,
                    project,
                });
            }
        };
        let profile =
            |out: &mut Vec<ImportError>, section, record: String, profile: Option<ProfileId>| {
                if let Some(profile) = profile.filter(|p| !profiles.contains(&p.0)) {
                    out.push(ImportError::UnknownProfile {
                        section,
                        record,
                        profile,
                    });
                }
            };

        for p in &self.parties {
            profile(&mut out, "parties", format!("party {}", p.id), p.profile_id);
        }
        let mut links = HashSet::new();
        for pp in &self.party_projects {
            let record = format!(
                "the link of party {} to project {}",
                pp.party_id, pp.project_id
            );
            party(&mut out, "party_projects", record.clone(), pp.party_id);
            project(&mut out, "party_projects", record.clone(), pp.project_id);
            profile(&mut out, "party_projects", record, pp.profile_id);
            if !links.insert((pp.party_id, pp.project_id)) {
                out.push(ImportError::DuplicatePartyProject {
                    party: pp.party_id,
                    project: pp.project_id,
                });
            }
        }
        for c in &self.contacts {
            party(
                &mut out,
                "contacts",
                format!("contact {}", c.id),
                c.party_id,
            );
        }
        for p in &self.profiles {
            let mut keys = HashSet::new();
            for r in &p.requirements {
                if !keys.insert(r.key.as_str()) {
                    out.push(ImportError::DuplicateRequirementKey {
                        profile: p.id,
                        key: r.key.clone(),
                    });
                }
                match &r.check {
                    Check::LimitAtLeast { limit, .. } if limit.subject() != r.subject => {
                        out.push(ImportError::RequirementLimitOnWrongSubject {
                            profile: p.id,
                            key: r.key.clone(),
                            limit: *limit,
                            subject: r.subject,
                        })
                    }
                    Check::LimitAtLeast { minimum, .. } if minimum.is_sign_negative() => {
                        out.push(ImportError::NegativeMinimum {
                            profile: p.id,
                            key: r.key.clone(),
                        })
                    }
                    Check::Statutory if r.subject != Subject::WorkersCompensation => {
                        out.push(ImportError::StatutoryOutsideWorkersCompensation {
                            profile: p.id,
                            key: r.key.clone(),
                        })
                    }
                    _ => {}
                }
            }
        }
        for c in &self.certificates {
            party(
                &mut out,
                "certificates",
                format!("certificate {}", c.id),
                c.party_id,
            );
            if let super::AppliesTo::Projects(ids) = &c.applies_to {
                for id in ids {
                    project(
                        &mut out,
                        "certificates",
                        format!("certificate {}", c.id),
                        *id,
                    );
                }
            }
            for (at, p) in c.policies.iter().enumerate() {
                if p.expiration_date < p.effective_date {
                    out.push(ImportError::PolicyDatesReversed {
                        certificate: c.id,
                        policy_number: p.policy_number.clone(),
                        policy: at,
                        effective: p.effective_date,
                        expiration: p.expiration_date,
                    });
                }
                for (limit, amount) in &p.limits {
                    if limit.subject() != p.subject {
                        out.push(ImportError::PolicyLimitOnWrongSubject {
                            certificate: c.id,
                            policy_number: p.policy_number.clone(),
                            policy: at,
                            limit: *limit,
                            subject: p.subject,
                        });
                    }
                    if amount.is_sign_negative() && !amount.is_zero() {
                        out.push(ImportError::NegativeLimit {
                            certificate: c.id,
                            policy_number: p.policy_number.clone(),
                            policy: at,
                        });
                    }
                }
            }
        }
        for w in &self.waivers {
            party(&mut out, "waivers", format!("waiver {}", w.id), w.party_id);
            if let WaiverScope::Project(p) = w.scope {
                project(&mut out, "waivers", format!("waiver {}", w.id), p);
            }
            if w.reason.trim().is_empty() {
                out.push(ImportError::WaiverWithoutReason(w.id));
            }
        }
        out
    }

    /// # Errors
    /// The first of [`ComplianceData::problems`].
    pub fn validate(&self) -> Result<(), ImportError> {
        self.problems().into_iter().next().map_or(Ok(()), Err)
    }

    /// Groups the records by party, once, for evaluating many parties.
    pub fn index(&self) -> PartyIndex<'_> {
        let mut index = PartyIndex {
            parties: HashMap::with_capacity(self.parties.len()),
            profiles: self.profiles.iter().map(|p| (p.id, p)).collect(),
            certificates: HashMap::new(),
            waivers: HashMap::new(),
            party_projects: HashMap::new(),
        };
        for p in &self.parties {
            index.parties.insert(p.id, p);
        }
        for c in &self.certificates {
            index.certificates.entry(c.party_id).or_default().push(c);
        }
        for w in &self.waivers {
            index.waivers.entry(w.party_id).or_default().push(w);
        }
        for pp in &self.party_projects {
            index
                .party_projects
                .entry(pp.party_id)
                .or_default()
                .push(pp);
        }
        index
    }

    /// Every party's evaluations, in import order.
    pub fn evaluate_all(&self, today: NaiveDate) -> Vec<PartyEvaluation<'_>> {
        let index = self.index();
        self.parties
            .iter()
            .filter_map(|p| index.evaluate_party(p.id, today))
            .collect()
    }
}

fn unique(
    out: &mut Vec<ImportError>,
    kind: &'static str,
    ids: impl Iterator<Item = i64>,
) -> HashSet<i64> {
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(id) {
            out.push(ImportError::DuplicateId { kind, id });
        }
    }
    seen
}

/// The records grouped by party, borrowed from a [`ComplianceData`].
#[derive(Debug, Clone)]
pub struct PartyIndex<'a> {
    parties: HashMap<PartyId, &'a Party>,
    profiles: HashMap<ProfileId, &'a ComplianceProfile>,
    certificates: HashMap<PartyId, Vec<&'a Certificate>>,
    waivers: HashMap<PartyId, Vec<&'a Waiver>>,
    party_projects: HashMap<PartyId, Vec<&'a PartyProject>>,
}

/// A party's global evaluation and one per project it works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyEvaluation<'a> {
    pub party: &'a Party,
    pub global: Evaluation<'a>,
    /// In the order of the party-project records.
    pub projects: Vec<Evaluation<'a>>,
}

impl<'a> PartyIndex<'a> {
    /// The profile that applies: a party-project's own, else the party's. An unknown profile
    /// id (an import that skipped validation) reads as no profile, so not tracked.
    pub fn profile_for(&self, target: Target) -> Option<&'a ComplianceProfile> {
        let party = self.parties.get(&target.party)?;
        let own = target.project.and_then(|project| {
            self.party_projects
                .get(&target.party)?
                .iter()
                .find(|pp| pp.project_id == project)?
                .profile_id
        });
        self.profiles.get(&own.or(party.profile_id)?).copied()
    }

    /// Evaluates one target.
    pub fn evaluate(&self, target: Target, today: NaiveDate) -> Evaluation<'a> {
        let certificates = self
            .certificates
            .get(&target.party)
            .map_or(&[][..], Vec::as_slice);
        let waivers = self
            .waivers
            .get(&target.party)
            .map_or(&[][..], Vec::as_slice);
        evaluate(
            target,
            self.profile_for(target),
            certificates.iter().copied(),
            waivers.iter().copied(),
            today,
        )
    }

    /// The party globally and on each of its projects; `None` for an unknown party.
    pub fn evaluate_party(&self, party: PartyId, today: NaiveDate) -> Option<PartyEvaluation<'a>> {
        let record = *self.parties.get(&party)?;
        let projects = self
            .party_projects
            .get(&party)
            .map_or(&[][..], Vec::as_slice);
        Some(PartyEvaluation {
            party: record,
            global: self.evaluate(Target::global(party), today),
            projects: projects
                .iter()
                .map(|pp| self.evaluate(Target::project(party, pp.project_id), today))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use chrono::NaiveDate;

    const DOC: &str = include_str!("../../../../docs/compliance-import.md");

    /// The first JSON block of the import documentation.
    fn documented_example() -> &'static str {
        let start = DOC.find("```json\n").expect("a json block") + "```json\n".len();
        let len = DOC[start..].find("```").expect("the block ends");
        &DOC[start..start + len]
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_json_import_example_in_the_docs_parses_validates_and_evaluates_as_described() {
        let data: ComplianceData = serde_json::from_str(documented_example()).unwrap();
        assert_eq!(data.problems(), []);
        assert_eq!(
            (
                data.parties.len(),
                data.projects.len(),
                data.party_projects.len()
            ),
            (3, 2, 3)
        );
        assert_eq!(data.contacts.len(), 1);
        assert_eq!(data.certificates[0].policies.len(), 3);

        let today = d("2026-06-15");
        let all = data.evaluate_all(today);
        let acme = &all[0];
        assert_eq!(acme.global.status, OverallStatus::NonCompliant);
        let wc = acme.global.subject(Subject::WorkersCompensation).unwrap();
        assert_eq!(
            wc.coverage,
            Coverage::Expired {
                on: d("2026-06-01")
            }
        );
        assert_eq!(
            acme.global
                .subject(Subject::AutomobileLiability)
                .unwrap()
                .status,
            Status::Overridden
        );
        assert!(acme.global.expiring_soon);
        assert_eq!(acme.global.next_expiration, Some(d("2026-07-01")));
        assert_eq!(
            writeback::summary_record(&acme.global).status,
            ProcoreInsuranceStatus::Expired
        );
        let tower = &acme.projects[0];
        assert_eq!(tower.target, Target::project(PartyId(1), ProjectId(10)));
        assert_eq!(tower.profile.unwrap().name, "High-rise");
        assert_eq!(tower.status, OverallStatus::Compliant);
        assert_eq!(acme.projects[1].status, OverallStatus::NonCompliant);

        let bolt = &all[1];
        assert!(bolt
            .global
            .requirements()
            .iter()
            .all(|r| r.status == RequirementStatus::NonCompliant(Reason::Missing)));
        assert_eq!(
            bolt.projects[0]
                .subject(Subject::AutomobileLiability)
                .unwrap()
                .status,
            Status::Waived
        );
        assert_eq!(bolt.projects[0].status, OverallStatus::NonCompliant);

        let cedar = &all[2];
        assert_eq!(cedar.global.status, OverallStatus::NotTracked);
        assert!(cedar.projects.is_empty());
        assert_eq!(
            writeback::summary_record(&cedar.global).status,
            ProcoreInsuranceStatus::Undecided
        );
    }

    #[test]
    fn the_import_format_round_trips_through_json() {
        let data: ComplianceData = serde_json::from_str(documented_example()).unwrap();
        let json = serde_json::to_string_pretty(&data).unwrap();
        // Money stays a string, never a float.
        assert!(json.contains("\"minimum\": \"1000000\""), "{json}");
        let back: ComplianceData = serde_json::from_str(&json).unwrap();
        assert_eq!(back, data);
    }

    #[test]
    fn an_import_lists_every_problem_serde_cannot_see() {
        let mut data: ComplianceData = serde_json::from_str(documented_example()).unwrap();
        data.version = 2;
        data.parties[1].id = PartyId(1);
        data.party_projects[0].project_id = ProjectId(99);
        data.profiles[0].requirements[1].key = "gl.each_occurrence".into();
        data.profiles[0].requirements[0].subject = Subject::UmbrellaExcess;
        data.profiles[0].requirements[5].subject = Subject::GeneralLiability;
        let policy = &mut data.certificates[0].policies[0];
        policy.expiration_date = d("2025-01-01");
        policy
            .limits
            .insert(LimitKind::CombinedSingleLimit, "-1".parse().unwrap());
        data.waivers[0].reason = "  ".into();
        let problems = data.problems();
        let has = |f: fn(&ImportError) -> bool| problems.iter().any(f);
        assert!(has(|p| matches!(p, ImportError::UnsupportedVersion(2))));
        assert!(has(|p| matches!(
            p,
            ImportError::DuplicateId {
                kind: "party",
                id: 1
            }
        )));
        assert!(has(|p| matches!(p, ImportError::UnknownProject { .. })));
        assert!(has(|p| matches!(
            p,
            ImportError::DuplicateRequirementKey { .. }
        )));
        assert!(has(|p| matches!(
            p,
            ImportError::RequirementLimitOnWrongSubject { .. }
        )));
        assert!(has(|p| matches!(
            p,
            ImportError::StatutoryOutsideWorkersCompensation { .. }
        )));
        assert!(has(|p| matches!(
            p,
            ImportError::PolicyDatesReversed { .. }
        )));
        assert!(has(|p| matches!(
            p,
            ImportError::PolicyLimitOnWrongSubject { .. }
        )));
        assert!(has(|p| matches!(p, ImportError::NegativeLimit { .. })));
        assert!(has(|p| matches!(p, ImportError::WaiverWithoutReason(_))));
        assert_eq!(data.validate(), Err(problems[0].clone()));
        assert_eq!(
            ImportError::WaiverWithoutReason(WaiverId(3)).to_string(),
            "waiver 3 has no reason; say why it was granted"
        );
    }

    #[test]
    fn a_misspelt_section_is_rejected_not_ignored() {
        let err = serde_json::from_str::<ComplianceData>(r#"{"waviers": []}"#).unwrap_err();
        assert!(err.to_string().contains("waviers"), "{err}");
    }
}
