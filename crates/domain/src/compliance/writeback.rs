//! The insurance records trestle writes to Procore, rendered from an evaluation.
//!
//! Rendering is pure so that what would be written can be shown (`explain`, a dry run) and
//! compared with what was written last time without touching Procore. The caller sends the
//! records to the company-level collection (global) or the project-level one (party-project)
//! and upserts by `origin_id`.
//!
//! Two formats, as the seed offers: **subject** (one record per compliance subject, notes
//! listing every requirement of it) and **summary** (one record for the party's overall
//! compliance, notes naming the subjects that are not compliant). `docs/compliance-import.md`,
//! "Reading the seed's two formats", says why the summary is one record and not one per subject.

use super::evaluate::{
    Coverage, Evaluation, OverallStatus, RequirementStatus, Status, SubjectResult, Target,
};
use super::profile::Subject;
use super::records::Currency;
use super::records::{PartyId, ProjectId};
use super::waiver::{Waiver, WaiverKind};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt::{self, Write as _};

/// The `insurance_type` of a summary record.
pub const SUMMARY_INSURANCE_TYPE: &str = "Insurance Compliance";

/// Procore's insurance `status` enum. Kept here (and not taken from the `procore` crate) so the
/// domain stays free of the client; the wire strings are the same, see [`Self::as_str`].
///
/// How trestle's statuses map onto it:
///
/// | trestle | Procore |
/// |---|---|
/// | compliant | `compliant` |
/// | compliant, expiring soon | `compliant` (the notes give the date: Procore has no "expiring") |
/// | waived | `compliant`, notes "Waived: reason (until date)" |
/// | overridden | `compliant`, notes "Overridden: reason (until date)" and what was overridden |
/// | non-compliant because the primary policy expired | `expired` |
/// | non-compliant for any other reason: missing, below minimum, not yet effective, ... | `non_compliant` |
/// | summary: non-compliant and every non-compliant subject expired | `expired` |
/// | summary: no profile (not tracked) | `undecided` |
///
/// `compliant_in_progress` and `non_compliant_in_progress` are never produced: trestle has no
/// review queue, a certificate counts once entered. `unregistered` is never produced either: a
/// tracked party without paper is simply non-compliant (missing), which is what a reader needs
/// to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcoreInsuranceStatus {
    Compliant,
    CompliantInProgress,
    Expired,
    NonCompliant,
    NonCompliantInProgress,
    Undecided,
    Unregistered,
}

impl ProcoreInsuranceStatus {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            ProcoreInsuranceStatus::Compliant => "compliant",
            ProcoreInsuranceStatus::CompliantInProgress => "compliant_in_progress",
            ProcoreInsuranceStatus::Expired => "expired",
            ProcoreInsuranceStatus::NonCompliant => "non_compliant",
            ProcoreInsuranceStatus::NonCompliantInProgress => "non_compliant_in_progress",
            ProcoreInsuranceStatus::Undecided => "undecided",
            ProcoreInsuranceStatus::Unregistered => "unregistered",
        }
    }

    /// A subject's record status.
    pub fn of_subject(subject: &SubjectResult<'_>) -> Self {
        match (subject.status, subject.coverage) {
            (Status::NonCompliant, Coverage::Expired { .. }) => ProcoreInsuranceStatus::Expired,
            (Status::NonCompliant, _) => ProcoreInsuranceStatus::NonCompliant,
            (Status::Compliant | Status::Waived | Status::Overridden, _) => {
                ProcoreInsuranceStatus::Compliant
            }
        }
    }

    /// The summary record's status.
    pub fn of_evaluation(evaluation: &Evaluation<'_>) -> Self {
        match evaluation.status {
            OverallStatus::NotTracked => ProcoreInsuranceStatus::Undecided,
            OverallStatus::NonCompliant
                if evaluation
                    .non_compliant_subjects()
                    .all(|s| matches!(s.coverage, Coverage::Expired { .. })) =>
            {
                ProcoreInsuranceStatus::Expired
            }
            OverallStatus::NonCompliant => ProcoreInsuranceStatus::NonCompliant,
            OverallStatus::Compliant | OverallStatus::Waived | OverallStatus::Overridden => {
                ProcoreInsuranceStatus::Compliant
            }
        }
    }
}

impl fmt::Display for ProcoreInsuranceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which write-back format the integration is set to.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteBackFormat {
    /// The seed's default.
    #[default]
    Subjects,
    Summary,
}

/// One insurance record as trestle would write it to Procore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsuranceRecord {
    /// The upsert key: stable for a party, level, format and subject, and distinct across them.
    pub origin_id: String,
    pub insurance_type: String,
    pub status: ProcoreInsuranceStatus,
    pub effective_date: Option<NaiveDate>,
    pub expiration_date: Option<NaiveDate>,
    pub policy_number: Option<String>,
    pub insurer: Option<String>,
    pub notes: String,
}

/// What a record says apart from its notes: the seed's "subject-level status".
///
/// TrustLayer writes to Procore when the status changes, not when only the notes do; comparing
/// fingerprints lets the caller do the same (or at least log the difference), and the
/// [`Display`](fmt::Display) form is stable text to keep in `origin_data` or the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusFingerprint<'a> {
    pub insurance_type: &'a str,
    pub status: ProcoreInsuranceStatus,
    pub effective_date: Option<NaiveDate>,
    pub expiration_date: Option<NaiveDate>,
    pub policy_number: Option<&'a str>,
    pub insurer: Option<&'a str>,
}

impl fmt::Display for StatusFingerprint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn field(f: &mut fmt::Formatter<'_>, s: Option<&str>) -> fmt::Result {
            f.write_char('|')?;
            // Escape the separator so two different records never print the same.
            for c in s.unwrap_or("").chars() {
                if c == '|' || c == '\\' {
                    f.write_char('\\')?;
                }
                f.write_char(c)?;
            }
            Ok(())
        }
        f.write_str("v1")?;
        field(f, Some(self.insurance_type))?;
        field(f, Some(self.status.as_str()))?;
        field(f, self.effective_date.map(|d| d.to_string()).as_deref())?;
        field(f, self.expiration_date.map(|d| d.to_string()).as_deref())?;
        field(f, self.policy_number)?;
        field(f, self.insurer)
    }
}

/// How a newly rendered record differs from the one written before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordChange {
    Unchanged,
    /// Only the notes differ: a requirement changed without moving the subject's status.
    NotesOnly,
    /// The status, a date, the policy number or the insurer differ.
    StatusChanged,
}

impl InsuranceRecord {
    pub fn status_fingerprint(&self) -> StatusFingerprint<'_> {
        StatusFingerprint {
            insurance_type: &self.insurance_type,
            status: self.status,
            effective_date: self.effective_date,
            expiration_date: self.expiration_date,
            policy_number: self.policy_number.as_deref(),
            insurer: self.insurer.as_deref(),
        }
    }

    pub fn change_from(&self, previous: &InsuranceRecord) -> RecordChange {
        if self.status_fingerprint() != previous.status_fingerprint() {
            RecordChange::StatusChanged
        } else if self.notes != previous.notes {
            RecordChange::NotesOnly
        } else {
            RecordChange::Unchanged
        }
    }
}

/// The origin id of a subject record.
pub fn subject_origin_id(evaluation: &Evaluation<'_>, subject: Subject) -> String {
    format!("{}:subject:{}", origin_prefix(evaluation), subject.key())
}

/// The origin id of a summary record.
pub fn summary_origin_id(evaluation: &Evaluation<'_>) -> String {
    format!("{}:summary", origin_prefix(evaluation))
}

fn origin_prefix(evaluation: &Evaluation<'_>) -> String {
    let t = evaluation.target;
    match t.project {
        None => format!("trestle:party:{}", t.party),
        Some(p) => format!("trestle:party:{}:project:{p}", t.party),
    }
}

/// Whose compliance a record with this origin id reports: the inverse of the origin ids above,
/// so a record written earlier can be traced to its party and project after the evaluation
/// that rendered it is gone (an ended association, a changed format). `None` for an origin id
/// trestle did not make.
pub fn target_of(origin_id: &str) -> Option<Target> {
    let rest = origin_id.strip_prefix("trestle:party:")?;
    let mut parts = rest.split(':');
    let party = PartyId(parts.next()?.parse().ok()?);
    let project = match parts.next()? {
        "project" => Some(ProjectId(parts.next()?.parse().ok()?)),
        "subject" | "summary" => None,
        _ => return None,
    };
    Some(Target { party, project })
}

/// The records for the configured format.
pub fn render(evaluation: &Evaluation<'_>, format: WriteBackFormat) -> Vec<InsuranceRecord> {
    match format {
        WriteBackFormat::Subjects => subject_records(evaluation),
        WriteBackFormat::Summary => vec![summary_record(evaluation)],
    }
}

/// Subject format: one record per subject of the profile.
///
/// A party without a profile gets none: there is no subject to report on, and inventing one
/// would put a made-up line of insurance in Procore. The summary format reports it as
/// `undecided`.
pub fn subject_records(evaluation: &Evaluation<'_>) -> Vec<InsuranceRecord> {
    let currency = currency(evaluation);
    evaluation
        .subjects()
        .iter()
        .map(|s| {
            let policy = s.policy.map(|p| p.policy);
            InsuranceRecord {
                origin_id: subject_origin_id(evaluation, s.subject),
                insurance_type: s.subject.label().to_owned(),
                status: ProcoreInsuranceStatus::of_subject(s),
                effective_date: policy.map(|p| p.effective_date),
                expiration_date: policy.map(|p| p.expiration_date),
                policy_number: policy.map(|p| p.policy_number.clone()),
                insurer: policy.map(|p| p.insurer.clone()),
                notes: subject_notes(evaluation, s, currency),
            }
        })
        .collect()
}

/// Notes of a subject record: the subject's status and coverage, then one line per
/// requirement, non-compliant first (with the reason), then overridden, waived and compliant;
/// profile order within each group, so the notes change only when a status does.
pub fn subject_notes(
    evaluation: &Evaluation<'_>,
    subject: &SubjectResult<'_>,
    currency: Currency,
) -> String {
    let mut notes = format!("{}: {}", subject.subject.label(), subject.status);
    coverage_note(&mut notes, subject.coverage);
    notes.push('.');
    let requirements = evaluation.requirements_of(subject);
    for group in [
        Status::NonCompliant,
        Status::Overridden,
        Status::Waived,
        Status::Compliant,
    ] {
        for r in requirements.iter().filter(|r| r.status.status() == group) {
            let _ = write!(
                notes,
                "\n- {}: {}",
                r.requirement.label(currency),
                r.status.status()
            );
            match r.status {
                RequirementStatus::NonCompliant(reason) => {
                    let _ = write!(notes, ", {reason}");
                }
                RequirementStatus::Overridden { waiver, reason } => {
                    waiver_note(&mut notes, waiver);
                    let _ = write!(notes, "; overrides: {reason}");
                }
                RequirementStatus::Waived(waiver) => waiver_note(&mut notes, waiver),
                RequirementStatus::Compliant => {}
            }
        }
    }
    notes
}

/// Summary format: one record for the party (or party-project).
///
/// Its dates bracket the time every counted policy is in force: the latest effective date and
/// the earliest expiration among the in-force primary policies of subjects that are not waived.
/// The policy number and insurer are left out, as the seed lists them for the subject format
/// only, and one record cannot name four policies.
pub fn summary_record(evaluation: &Evaluation<'_>) -> InsuranceRecord {
    let counted = || {
        evaluation
            .subjects()
            .iter()
            .filter(|s| s.status != Status::Waived)
            .filter(|s| s.expires_on().is_some())
    };
    InsuranceRecord {
        origin_id: summary_origin_id(evaluation),
        insurance_type: SUMMARY_INSURANCE_TYPE.to_owned(),
        status: ProcoreInsuranceStatus::of_evaluation(evaluation),
        effective_date: counted()
            .filter_map(|s| s.policy.map(|p| p.policy.effective_date))
            .max(),
        expiration_date: evaluation.next_expiration,
        policy_number: None,
        insurer: None,
        notes: summary_notes(evaluation),
    }
}

/// Notes of a summary record: the overall status, then the subjects that are not compliant by
/// name (with the first reason), then waived and overridden ones, then the next expiration.
pub fn summary_notes(evaluation: &Evaluation<'_>) -> String {
    if evaluation.status == OverallStatus::NotTracked {
        return "Compliance is not tracked: no profile applies.".to_owned();
    }
    let mut notes = match evaluation.status {
        OverallStatus::NonCompliant => "Non-compliant.".to_owned(),
        OverallStatus::Waived => "Compliant: every subject waived.".to_owned(),
        OverallStatus::Overridden => "Compliant with overrides.".to_owned(),
        _ => "Compliant.".to_owned(),
    };
    let mut list = |title: &str, status: Status| {
        let mut first = true;
        for s in evaluation.subjects().iter().filter(|s| s.status == status) {
            notes.push_str(if first { "\n" } else { "; " });
            if first {
                notes.push_str(title);
                first = false;
            }
            notes.push_str(s.subject.label());
            let reason = evaluation
                .requirements_of(s)
                .iter()
                .find_map(|r| match r.status {
                    RequirementStatus::NonCompliant(reason) if status == Status::NonCompliant => {
                        Some(reason)
                    }
                    _ => None,
                });
            if let Some(reason) = reason {
                let _ = write!(notes, " ({reason})");
            }
        }
    };
    list("Non-compliant subjects: ", Status::NonCompliant);
    list("Overridden subjects: ", Status::Overridden);
    list("Waived subjects: ", Status::Waived);
    if let Some(next) = evaluation.next_expiration {
        let _ = write!(notes, "\nNext expiration: {next}");
        if evaluation.expiring_soon {
            notes.push_str(" (expiring soon)");
        }
        notes.push('.');
    }
    notes
}

fn currency(evaluation: &Evaluation<'_>) -> Currency {
    evaluation.profile.map(|p| p.currency).unwrap_or_default()
}

fn coverage_note(notes: &mut String, coverage: Coverage) {
    let _ = match coverage {
        Coverage::Missing => write!(notes, "; no policy on file"),
        Coverage::NotYetEffective { from } => write!(notes, "; policy effective {from}"),
        Coverage::Expired { on } => write!(notes, "; policy expired {on}"),
        // No countdown: notes that changed every day would rewrite the record every day of
        // the window. It is written when it enters the window and when it expires.
        Coverage::InForce {
            expires,
            expiring_soon: true,
            ..
        } => write!(notes, "; expiring soon: expires {expires}"),
        Coverage::InForce { expires, .. } => write!(notes, "; expires {expires}"),
    };
}

fn waiver_note(notes: &mut String, waiver: &Waiver) {
    let _ = write!(
        notes,
        " ({}: {}",
        match waiver.kind {
            WaiverKind::Waive => "waiver",
            WaiverKind::Override => "override",
        },
        waiver.reason
    );
    if let Some(until) = waiver.until {
        let _ = write!(notes, ", until {until}");
    }
    notes.push(')');
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::super::*;
    use super::*;
    use std::collections::HashSet;

    fn global_records(data: &ComplianceData, format: WriteBackFormat) -> Vec<InsuranceRecord> {
        render(
            &data.index().evaluate(Target::global(ACME), today()),
            format,
        )
    }

    fn subject_record(data: &ComplianceData, subject: Subject) -> InsuranceRecord {
        global_records(data, WriteBackFormat::Subjects)
            .into_iter()
            .find(|r| r.insurance_type == subject.label())
            .unwrap()
    }

    #[test]
    fn subject_notes_list_non_compliant_requirements_first_with_their_reasons() {
        let mut data = data();
        let gl = policy_mut(&mut data, Subject::GeneralLiability);
        gl.endorsements = vec![Endorsement::WaiverOfSubrogation];
        gl.limits
            .insert(LimitKind::GeneralAggregate, dec("1500000"));
        let record = subject_record(&data, Subject::GeneralLiability);
        let lines: Vec<&str> = record.notes.lines().collect();
        assert_eq!(
            lines,
            [
                "General Liability: non-compliant; expires 2027-01-01.",
                "- General Aggregate at least $2,000,000: non-compliant, below the minimum by \
                 $500,000: General Aggregate is $1,500,000, required $2,000,000",
                "- Additional insured endorsement: non-compliant, endorsement missing: \
                 additional insured",
                "- Each Occurrence at least $1,000,000: compliant",
                "- Waiver of subrogation endorsement: compliant",
            ]
        );
        assert_eq!(record.status, ProcoreInsuranceStatus::NonCompliant);
        assert_eq!(record.policy_number.as_deref(), Some("GL-1"));
        assert_eq!(record.insurer.as_deref(), Some("Granite Mutual"));
        assert_eq!(record.effective_date, Some(d("2026-01-01")));
        assert_eq!(record.expiration_date, Some(d("2027-01-01")));
    }

    #[test]
    fn subject_notes_give_the_waiver_or_override_reason_and_end_date() {
        let mut data = data();
        policy_mut(&mut data, Subject::AutomobileLiability)
            .limits
            .insert(LimitKind::CombinedSingleLimit, dec("500000"));
        let mut w = waiver(8, on_requirement("auto.csl"), WaiverKind::Override);
        w.reason = "fleet endorsement accepted".into();
        w.until = Some(d("2026-12-31"));
        data.waivers.push(w);
        let record = subject_record(&data, Subject::AutomobileLiability);
        assert_eq!(record.status, ProcoreInsuranceStatus::Compliant);
        assert!(
            record.notes.contains(
                "- Combined Single Limit at least $1,000,000: overridden (override: fleet \
                 endorsement accepted, until 2026-12-31); overrides: below the minimum by $500,000"
            ),
            "{}",
            record.notes
        );
    }

    #[test]
    fn summary_notes_name_the_non_compliant_subjects() {
        let mut data = data();
        remove_policy(&mut data, Subject::WorkersCompensation);
        policy_mut(&mut data, Subject::AutomobileLiability)
            .limits
            .insert(LimitKind::CombinedSingleLimit, dec("500000"));
        let records = global_records(&data, WriteBackFormat::Summary);
        assert_eq!(records.len(), 1);
        let summary = &records[0];
        assert_eq!(summary.insurance_type, SUMMARY_INSURANCE_TYPE);
        assert_eq!(summary.status, ProcoreInsuranceStatus::NonCompliant);
        assert_eq!(
            summary.notes,
            "Non-compliant.\nNon-compliant subjects: Automobile Liability (below the minimum by \
             $500,000: Combined Single Limit is $500,000, required $1,000,000); Workers \
             Compensation and Employers' Liability (missing: no policy on file)\nNext \
             expiration: 2027-01-01."
        );
        assert!(!summary.notes.contains("General Liability"));
        assert_eq!(summary.policy_number, None);
        assert_eq!(summary.expiration_date, Some(d("2027-01-01")));
    }

    #[test]
    fn every_origin_id_leads_back_to_its_party_and_project() {
        let party = PartyId(7);
        let project = ProjectId(9);
        for (origin, target) in [
            (
                "trestle:party:7:subject:general_liability",
                Target::global(party),
            ),
            ("trestle:party:7:summary", Target::global(party)),
            (
                "trestle:party:7:project:9:subject:umbrella",
                Target {
                    party,
                    project: Some(project),
                },
            ),
            (
                "trestle:party:7:project:9:summary",
                Target {
                    party,
                    project: Some(project),
                },
            ),
        ] {
            assert_eq!(target_of(origin), Some(target), "{origin}");
        }
        for foreign in [
            "demo-ins-1",
            "trestle:party:x:summary",
            "trestle:party:7:other",
            "",
        ] {
            assert_eq!(target_of(foreign), None, "{foreign}");
        }
    }

    #[test]
    fn origin_ids_are_stable_and_distinct_per_level_format_and_subject() {
        let data = data();
        let index = data.index();
        let mut ids = Vec::new();
        for target in [
            Target::global(ACME),
            Target::project(ACME, TOWER),
            Target::project(ACME, CLINIC),
        ] {
            let eval = index.evaluate(target, today());
            for format in [WriteBackFormat::Subjects, WriteBackFormat::Summary] {
                let first = render(&eval, format);
                let again = render(&index.evaluate(target, today()), format);
                assert_eq!(first, again, "rendering is deterministic");
                ids.extend(first.into_iter().map(|r| r.origin_id));
            }
        }
        let distinct: HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len(), "{ids:?}");
        for expected in [
            "trestle:party:1:subject:general_liability",
            "trestle:party:1:summary",
            "trestle:party:1:project:10:subject:umbrella_excess",
            "trestle:party:1:project:11:subject:workers_compensation",
            "trestle:party:1:project:11:summary",
        ] {
            assert!(ids.iter().any(|id| id == expected), "{expected} in {ids:?}");
        }
    }

    #[test]
    fn a_requirement_change_that_keeps_the_subject_status_changes_notes_not_the_fingerprint() {
        let mut data = data();
        policy_mut(&mut data, Subject::GeneralLiability).endorsements = vec![];
        let before = subject_record(&data, Subject::GeneralLiability);
        // Still non-compliant, for one reason fewer.
        policy_mut(&mut data, Subject::GeneralLiability).endorsements =
            vec![Endorsement::AdditionalInsured];
        let after = subject_record(&data, Subject::GeneralLiability);
        assert_ne!(before.notes, after.notes);
        assert_eq!(before.status_fingerprint(), after.status_fingerprint());
        assert_eq!(
            before.status_fingerprint().to_string(),
            after.status_fingerprint().to_string()
        );
        assert_eq!(after.change_from(&before), RecordChange::NotesOnly);
        assert_eq!(after.change_from(&after), RecordChange::Unchanged);

        // Fixing the last one moves the subject's status.
        policy_mut(&mut data, Subject::GeneralLiability)
            .endorsements
            .push(Endorsement::WaiverOfSubrogation);
        let fixed = subject_record(&data, Subject::GeneralLiability);
        assert_eq!(fixed.change_from(&after), RecordChange::StatusChanged);
    }

    #[test]
    fn statuses_map_onto_procores_insurance_status_enum() {
        use ProcoreInsuranceStatus as P;
        let status_of = |setup: fn(&mut ComplianceData), subject: Subject| {
            let mut data = data();
            setup(&mut data);
            subject_record(&data, subject).status
        };
        let summary_of = |setup: fn(&mut ComplianceData), party: PartyId| {
            let mut data = data();
            setup(&mut data);
            summary_record(&data.index().evaluate(Target::global(party), today())).status
        };
        let expire_wc = |data: &mut ComplianceData| {
            policy_mut(data, Subject::WorkersCompensation).expiration_date = d("2026-06-01")
        };
        let cases = [
            (
                "compliant",
                status_of(|_| {}, Subject::GeneralLiability),
                P::Compliant,
            ),
            (
                "expiring soon stays compliant",
                status_of(
                    |data| {
                        policy_mut(data, Subject::GeneralLiability).expiration_date =
                            d("2026-06-20")
                    },
                    Subject::GeneralLiability,
                ),
                P::Compliant,
            ),
            (
                "expired policy",
                status_of(expire_wc, Subject::WorkersCompensation),
                P::Expired,
            ),
            (
                "missing",
                status_of(
                    |data| remove_policy(data, Subject::WorkersCompensation),
                    Subject::WorkersCompensation,
                ),
                P::NonCompliant,
            ),
            (
                "not yet effective",
                status_of(
                    |data| {
                        policy_mut(data, Subject::WorkersCompensation).effective_date =
                            d("2026-07-01")
                    },
                    Subject::WorkersCompensation,
                ),
                P::NonCompliant,
            ),
            (
                "waived",
                status_of(
                    |data| {
                        remove_policy(data, Subject::WorkersCompensation);
                        data.waivers.push(waiver(
                            1,
                            WaiverTarget::Subject(Subject::WorkersCompensation),
                            WaiverKind::Waive,
                        ));
                    },
                    Subject::WorkersCompensation,
                ),
                P::Compliant,
            ),
            (
                "overridden",
                status_of(
                    |data| {
                        remove_policy(data, Subject::WorkersCompensation);
                        data.waivers.push(waiver(
                            1,
                            WaiverTarget::Subject(Subject::WorkersCompensation),
                            WaiverKind::Override,
                        ));
                    },
                    Subject::WorkersCompensation,
                ),
                P::Compliant,
            ),
            ("summary, compliant", summary_of(|_| {}, ACME), P::Compliant),
            (
                "summary, only expired subjects fail",
                summary_of(expire_wc, ACME),
                P::Expired,
            ),
            (
                "summary, an expired and a missing subject",
                summary_of(
                    |data| {
                        policy_mut(data, Subject::WorkersCompensation).expiration_date =
                            d("2026-06-01");
                        remove_policy(data, Subject::AutomobileLiability);
                    },
                    ACME,
                ),
                P::NonCompliant,
            ),
            (
                "summary, no profile",
                summary_of(|_| {}, UNTRACKED),
                P::Undecided,
            ),
        ];
        for (name, got, want) in cases {
            assert_eq!(got, want, "{name}");
        }
        assert_eq!(
            P::NonCompliantInProgress.as_str(),
            "non_compliant_in_progress"
        );
    }

    #[test]
    fn a_party_with_no_profile_gets_no_subject_records_and_an_undecided_summary() {
        let data = data();
        let eval = data.index().evaluate(Target::global(UNTRACKED), today());
        assert!(render(&eval, WriteBackFormat::Subjects).is_empty());
        let summary = render(&eval, WriteBackFormat::Summary);
        assert_eq!(summary[0].origin_id, "trestle:party:2:summary");
        assert_eq!(
            summary[0].notes,
            "Compliance is not tracked: no profile applies."
        );
    }

    #[test]
    fn the_fingerprint_text_cannot_be_confused_by_separators_in_values() {
        let record = |policy: &str, insurer: &str| InsuranceRecord {
            origin_id: "x".into(),
            insurance_type: "General Liability".into(),
            status: ProcoreInsuranceStatus::Compliant,
            effective_date: None,
            expiration_date: Some(d("2027-01-01")),
            policy_number: Some(policy.into()),
            insurer: Some(insurer.into()),
            notes: String::new(),
        };
        let a = record("A|B", "C").status_fingerprint().to_string();
        let b = record("A", "B|C").status_fingerprint().to_string();
        assert_ne!(a, b);
        assert_eq!(
            record("GL-1", "Granite").status_fingerprint().to_string(),
            "v1|General Liability|compliant||2027-01-01|GL-1|Granite"
        );
    }
}
