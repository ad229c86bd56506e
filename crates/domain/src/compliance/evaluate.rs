//! `evaluate`: the status of every requirement, subject and party, from the records and today.
//!
//! It is a pure function so that every rule is a table test and re-evaluation (a certificate
//! entered, a waiver ending, a new day) is just calling it again. It is also the hot path of a
//! full sync (one call per party and per party-project), so it borrows everything it reports
//! on instead of cloning it, allocates two small vectors per call, and takes the evidence as
//! any cloneable iterator of references, so a caller holding records grouped by party (a
//! slice, a `Vec<&Certificate>`, a filter) passes them without copying.
//!
//! The rules, in the order they apply:
//!
//! 1. **Evidence.** Certificates of the party that cover the target (global compliance counts
//!    only certificates for all projects). For each subject one *primary* policy is chosen: an
//!    in-force one with the latest expiration; failing that, the next one to take effect;
//!    failing that, the one that expired last. Ties go to the later-received certificate, then
//!    to the later one in the input. Requirements read that one policy only, so the policy
//!    number and insurer written back are the ones the statuses were judged on.
//! 2. **Requirement.** No policy: missing. Primary policy expired or not yet effective: that.
//!    Otherwise the check: a limit below the minimum (or not printed, or in another currency),
//!    an endorsement missing, workers compensation not statutory.
//! 3. **Waivers.** The live waivers of the party whose scope reaches the target; a requirement
//!    waiver beats a subject waiver, a project waiver beats a broad one, a higher id breaks a
//!    tie. A waiver makes the requirement waived whatever the evidence; an override only turns
//!    a non-compliant requirement into overridden, because a requirement the evidence meets is
//!    better reported as compliant.
//! 4. **Roll-up**, the same from requirements to a subject and from subjects to the party: any
//!    non-compliant → non-compliant; else all waived → waived; else any overridden →
//!    overridden; else compliant. No profile → not tracked.
//! 5. **Expiration.** A subject is expiring soon when its primary policy is in force and
//!    expires within the profile's window (inclusive). The party's next expiration is the
//!    earliest expiration of an in-force primary policy among subjects that are not waived:
//!    a waived subject is not required, so its paper expiring changes nothing.

use super::certificate::{Certificate, Policy, Validity};
use super::profile::{
    money, Check, ComplianceProfile, Endorsement, LimitKind, Requirement, Subject,
};
use super::records::{Currency, PartyId, ProjectId};
use super::waiver::{Waiver, WaiverKind, WaiverTarget};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::cmp::Ordering;
use std::fmt;
use std::ops::Range;

/// Whose compliance is evaluated: a party globally, or a party on one project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    pub party: PartyId,
    pub project: Option<ProjectId>,
}

impl Target {
    pub fn global(party: PartyId) -> Self {
        Target {
            party,
            project: None,
        }
    }

    pub fn project(party: PartyId, project: ProjectId) -> Self {
        Target {
            party,
            project: Some(project),
        }
    }
}

/// The status of a requirement or a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Compliant,
    NonCompliant,
    Waived,
    Overridden,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Compliant => "compliant",
            Status::NonCompliant => "non_compliant",
            Status::Waived => "waived",
            Status::Overridden => "overridden",
        }
    }

    /// The roll-up of step 4, shared by subjects and parties.
    fn roll_up(statuses: impl Iterator<Item = Status>) -> Status {
        let (mut any, mut all_waived, mut overridden) = (false, true, false);
        for s in statuses {
            any = true;
            match s {
                Status::NonCompliant => return Status::NonCompliant,
                Status::Waived => {}
                Status::Overridden => {
                    all_waived = false;
                    overridden = true;
                }
                Status::Compliant => all_waived = false,
            }
        }
        if any && all_waived {
            Status::Waived
        } else if overridden {
            Status::Overridden
        } else {
            Status::Compliant
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Compliant => "compliant",
            Status::NonCompliant => "non-compliant",
            Status::Waived => "waived",
            Status::Overridden => "overridden",
        })
    }
}

/// Why a requirement is not met. Everything a reader needs to act is in it, so the notes can
/// say "short by $500,000" instead of just "non-compliant".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// No certificate covering the target lists a policy for the subject.
    Missing,
    /// The primary policy expired on this date (the last day of cover).
    Expired {
        on: NaiveDate,
    },
    /// The primary policy only takes effect on this date.
    NotYetEffective {
        from: NaiveDate,
    },
    /// The limit is printed but below the minimum; see [`Reason::short_by`].
    BelowMinimum {
        limit: LimitKind,
        required: Decimal,
        actual: Decimal,
        currency: Currency,
    },
    /// The certificate does not print the limit at all.
    LimitNotShown {
        limit: LimitKind,
        required: Decimal,
        currency: Currency,
    },
    /// The certificate's limits are in another currency than the profile's minimums; trestle
    /// does not convert, because the rate is a business decision.
    CurrencyMismatch {
        required: Currency,
        actual: Currency,
    },
    EndorsementMissing(Endorsement),
    /// Workers compensation is not written per statute.
    NotStatutory,
}

impl Reason {
    /// How much a limit falls short, exactly; `None` for reasons that are not a shortfall.
    pub fn short_by(&self) -> Option<Decimal> {
        match self {
            Reason::BelowMinimum {
                required, actual, ..
            } => Some(*required - *actual),
            Reason::LimitNotShown { required, .. } => Some(*required),
            _ => None,
        }
    }

    /// A stable code for logs and JSON output.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Missing => "missing",
            Reason::Expired { .. } => "expired",
            Reason::NotYetEffective { .. } => "not_yet_effective",
            Reason::BelowMinimum { .. } => "below_minimum",
            Reason::LimitNotShown { .. } => "limit_not_shown",
            Reason::CurrencyMismatch { .. } => "currency_mismatch",
            Reason::EndorsementMissing(_) => "endorsement_missing",
            Reason::NotStatutory => "not_statutory",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Missing => f.write_str("missing: no policy on file"),
            Reason::Expired { on } => write!(f, "expired on {on}"),
            Reason::NotYetEffective { from } => write!(f, "not yet effective (from {from})"),
            Reason::BelowMinimum {
                limit,
                required,
                actual,
                currency,
            } => write!(
                f,
                "below the minimum by {}: {} is {}, required {}",
                money(*required - *actual, *currency),
                limit.label(),
                money(*actual, *currency),
                money(*required, *currency)
            ),
            Reason::LimitNotShown {
                limit,
                required,
                currency,
            } => write!(
                f,
                "{} not shown on the certificate (required {})",
                limit.label(),
                money(*required, *currency)
            ),
            Reason::CurrencyMismatch { required, actual } => write!(
                f,
                "limits are in {}, the requirement is in {}",
                actual.code(),
                required.code()
            ),
            Reason::EndorsementMissing(e) => write!(f, "endorsement missing: {}", e.label()),
            Reason::NotStatutory => f.write_str("workers compensation is not statutory"),
        }
    }
}

/// A requirement's status, with what decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequirementStatus<'a> {
    Compliant,
    NonCompliant(Reason),
    Waived(&'a Waiver),
    /// The override, and what it overrides (kept so the notes can say so).
    Overridden {
        waiver: &'a Waiver,
        reason: Reason,
    },
}

impl RequirementStatus<'_> {
    pub fn status(&self) -> Status {
        match self {
            RequirementStatus::Compliant => Status::Compliant,
            RequirementStatus::NonCompliant(_) => Status::NonCompliant,
            RequirementStatus::Waived(_) => Status::Waived,
            RequirementStatus::Overridden { .. } => Status::Overridden,
        }
    }

    /// The reason the evidence fails, whether or not an override hides it.
    pub fn reason(&self) -> Option<Reason> {
        match self {
            RequirementStatus::NonCompliant(r)
            | RequirementStatus::Overridden { reason: r, .. } => Some(*r),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequirementResult<'a> {
    pub requirement: &'a Requirement,
    pub status: RequirementStatus<'a>,
}

/// The policy a subject was judged on, and the certificate it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyRef<'a> {
    pub certificate: &'a Certificate,
    pub policy: &'a Policy,
}

/// Where a subject's primary policy stands today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Coverage {
    Missing,
    NotYetEffective {
        from: NaiveDate,
    },
    InForce {
        expires: NaiveDate,
        /// Days from today to the last day of cover; 0 on that day.
        days_left: i64,
        expiring_soon: bool,
    },
    Expired {
        on: NaiveDate,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectResult<'a> {
    pub subject: Subject,
    pub status: Status,
    pub coverage: Coverage,
    pub policy: Option<PolicyRef<'a>>,
    requirements: Range<usize>,
}

impl SubjectResult<'_> {
    pub fn expiring_soon(&self) -> bool {
        matches!(
            self.coverage,
            Coverage::InForce {
                expiring_soon: true,
                ..
            }
        )
    }

    /// The expiration of the in-force primary policy.
    pub fn expires_on(&self) -> Option<NaiveDate> {
        match self.coverage {
            Coverage::InForce { expires, .. } => Some(expires),
            _ => None,
        }
    }
}

/// The status of a party, globally or on a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OverallStatus {
    Compliant,
    NonCompliant,
    Waived,
    Overridden,
    /// No profile applies, so there is nothing to be compliant with.
    NotTracked,
}

impl OverallStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OverallStatus::Compliant => "compliant",
            OverallStatus::NonCompliant => "non_compliant",
            OverallStatus::Waived => "waived",
            OverallStatus::Overridden => "overridden",
            OverallStatus::NotTracked => "not_tracked",
        }
    }
}

impl From<Status> for OverallStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Compliant => OverallStatus::Compliant,
            Status::NonCompliant => OverallStatus::NonCompliant,
            Status::Waived => OverallStatus::Waived,
            Status::Overridden => OverallStatus::Overridden,
        }
    }
}

/// The result of [`evaluate`]. It borrows the records it reports on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation<'a> {
    pub target: Target,
    pub profile: Option<&'a ComplianceProfile>,
    pub status: OverallStatus,
    /// A subject that is not waived has an in-force primary policy inside the window.
    pub expiring_soon: bool,
    pub next_expiration: Option<NaiveDate>,
    subjects: Vec<SubjectResult<'a>>,
    requirements: Vec<RequirementResult<'a>>,
}

impl<'a> Evaluation<'a> {
    /// The profile's subjects, in [`Subject::ALL`] order; empty when not tracked.
    pub fn subjects(&self) -> &[SubjectResult<'a>] {
        &self.subjects
    }

    pub fn subject(&self, subject: Subject) -> Option<&SubjectResult<'a>> {
        self.subjects.iter().find(|s| s.subject == subject)
    }

    /// Every requirement, grouped by subject, in profile order within a subject.
    pub fn requirements(&self) -> &[RequirementResult<'a>] {
        &self.requirements
    }

    pub fn requirements_of(&self, subject: &SubjectResult<'a>) -> &[RequirementResult<'a>] {
        &self.requirements[subject.requirements.clone()]
    }

    pub fn requirement(&self, key: &str) -> Option<&RequirementResult<'a>> {
        self.requirements.iter().find(|r| r.requirement.key == key)
    }

    /// The subjects that are non-compliant, for notes and summaries.
    pub fn non_compliant_subjects(&self) -> impl Iterator<Item = &SubjectResult<'a>> {
        self.subjects
            .iter()
            .filter(|s| s.status == Status::NonCompliant)
    }
}

/// Evaluates `target` against `profile` on `today`. See the module docs for the rules.
///
/// `profile` is the one that applies to the target (a party-project's own, else the party's);
/// resolving it needs the party records, which [`super::PartyIndex::evaluate_party`] has.
/// `certificates` and `waivers` should be the party's own: records of other parties are
/// skipped, but every call walks them, so group them first when evaluating many parties.
pub fn evaluate<'a, C, W>(
    target: Target,
    profile: Option<&'a ComplianceProfile>,
    certificates: C,
    waivers: W,
    today: NaiveDate,
) -> Evaluation<'a>
where
    C: IntoIterator<Item = &'a Certificate>,
    C::IntoIter: Clone,
    W: IntoIterator<Item = &'a Waiver>,
    W::IntoIter: Clone,
{
    let (certificates, waivers) = (certificates.into_iter(), waivers.into_iter());
    let Some(profile) = profile else {
        return Evaluation {
            target,
            profile: None,
            status: OverallStatus::NotTracked,
            expiring_soon: false,
            next_expiration: None,
            subjects: Vec::new(),
            requirements: Vec::new(),
        };
    };

    let mut requirements = Vec::with_capacity(profile.requirements.len());
    let mut subjects = Vec::with_capacity(Subject::ALL.len());
    let window = i64::from(profile.expiring_within_days);

    for subject in Subject::ALL {
        let start = requirements.len();
        let mut primary: Option<PolicyRef<'a>> = None;
        let mut looked = false;
        for requirement in profile.requirements.iter().filter(|r| r.subject == subject) {
            if !looked {
                primary = primary_policy(subject, target, certificates.clone(), today);
                looked = true;
            }
            let checked = check(requirement, profile.currency, primary, today);
            let status = match (
                waiver_for(requirement, target, waivers.clone(), today),
                checked,
            ) {
                (Some(w), _) if w.kind == WaiverKind::Waive => RequirementStatus::Waived(w),
                (Some(w), Err(reason)) => RequirementStatus::Overridden { waiver: w, reason },
                (_, Err(reason)) => RequirementStatus::NonCompliant(reason),
                (_, Ok(())) => RequirementStatus::Compliant,
            };
            requirements.push(RequirementResult {
                requirement,
                status,
            });
        }
        if !looked {
            continue;
        }
        let range = start..requirements.len();
        let status = Status::roll_up(
            requirements[range.clone()]
                .iter()
                .map(|r| r.status.status()),
        );
        let coverage = match primary {
            None => Coverage::Missing,
            Some(p) => match p.policy.validity(today) {
                Validity::NotYetEffective => Coverage::NotYetEffective {
                    from: p.policy.effective_date,
                },
                Validity::Expired => Coverage::Expired {
                    on: p.policy.expiration_date,
                },
                Validity::InForce => {
                    let days_left = (p.policy.expiration_date - today).num_days();
                    Coverage::InForce {
                        expires: p.policy.expiration_date,
                        days_left,
                        expiring_soon: days_left <= window,
                    }
                }
            },
        };
        subjects.push(SubjectResult {
            subject,
            status,
            coverage,
            policy: primary,
            requirements: range,
        });
    }

    let status = Status::roll_up(subjects.iter().map(|s| s.status)).into();
    let counted = || subjects.iter().filter(|s| s.status != Status::Waived);
    let expiring_soon = counted().any(SubjectResult::expiring_soon);
    let next_expiration = counted().filter_map(SubjectResult::expires_on).min();
    Evaluation {
        target,
        profile: Some(profile),
        status,
        expiring_soon,
        next_expiration,
        subjects,
        requirements,
    }
}

/// Step 1: the policy the subject is judged on.
fn primary_policy<'a>(
    subject: Subject,
    target: Target,
    certificates: impl Iterator<Item = &'a Certificate>,
    today: NaiveDate,
) -> Option<PolicyRef<'a>> {
    let mut best: Option<PolicyRef<'a>> = None;
    for certificate in certificates {
        if certificate.party_id != target.party || !certificate.applies_to.covers(target.project) {
            continue;
        }
        for policy in certificate.policies.iter().filter(|p| p.subject == subject) {
            let candidate = PolicyRef {
                certificate,
                policy,
            };
            // `>=` so that the later of two equal candidates wins.
            if best.is_none_or(|b| rank(candidate, b, today) != Ordering::Less) {
                best = Some(candidate);
            }
        }
    }
    best
}

/// Orders candidates for the primary policy: greater is better.
fn rank(a: PolicyRef<'_>, b: PolicyRef<'_>, today: NaiveDate) -> Ordering {
    fn class(v: Validity) -> u8 {
        match v {
            Validity::InForce => 2,
            Validity::NotYetEffective => 1,
            Validity::Expired => 0,
        }
    }
    let (va, vb) = (a.policy.validity(today), b.policy.validity(today));
    class(va).cmp(&class(vb)).then_with(|| {
        let (pa, pb) = (a.policy, b.policy);
        let dates = match va {
            // The one that lasts longest, then the most recent.
            Validity::InForce | Validity::Expired => pa
                .expiration_date
                .cmp(&pb.expiration_date)
                .then(pa.effective_date.cmp(&pb.effective_date)),
            // The one that takes effect soonest.
            Validity::NotYetEffective => pb
                .effective_date
                .cmp(&pa.effective_date)
                .then(pa.expiration_date.cmp(&pb.expiration_date)),
        };
        dates.then(a.certificate.received_on.cmp(&b.certificate.received_on))
    })
}

/// Step 2: the requirement against the primary policy.
fn check(
    requirement: &Requirement,
    currency: Currency,
    primary: Option<PolicyRef<'_>>,
    today: NaiveDate,
) -> Result<(), Reason> {
    let Some(PolicyRef {
        certificate,
        policy,
    }) = primary
    else {
        return Err(Reason::Missing);
    };
    match policy.validity(today) {
        Validity::Expired => {
            return Err(Reason::Expired {
                on: policy.expiration_date,
            })
        }
        Validity::NotYetEffective => {
            return Err(Reason::NotYetEffective {
                from: policy.effective_date,
            })
        }
        Validity::InForce => {}
    }
    match &requirement.check {
        Check::LimitAtLeast { limit, minimum } => {
            if certificate.currency != currency {
                return Err(Reason::CurrencyMismatch {
                    required: currency,
                    actual: certificate.currency,
                });
            }
            match policy.limits.get(limit) {
                None => Err(Reason::LimitNotShown {
                    limit: *limit,
                    required: *minimum,
                    currency,
                }),
                Some(actual) if actual < minimum => Err(Reason::BelowMinimum {
                    limit: *limit,
                    required: *minimum,
                    actual: *actual,
                    currency,
                }),
                Some(_) => Ok(()),
            }
        }
        Check::Endorsement { endorsement } if !policy.has(*endorsement) => {
            Err(Reason::EndorsementMissing(*endorsement))
        }
        Check::Statutory if !policy.statutory => Err(Reason::NotStatutory),
        Check::Endorsement { .. } | Check::Statutory | Check::CoveragePresent => Ok(()),
    }
}

/// Step 3: the waiver that decides a requirement, if any.
fn waiver_for<'a>(
    requirement: &Requirement,
    target: Target,
    waivers: impl Iterator<Item = &'a Waiver>,
    today: NaiveDate,
) -> Option<&'a Waiver> {
    let mut best: Option<(&'a Waiver, (u8, u8))> = None;
    for w in waivers {
        if w.party_id != target.party || !w.scope.covers(target.project) || !w.is_live(today) {
            continue;
        }
        let level = match &w.target {
            WaiverTarget::Requirement(key) if *key == requirement.key => 1,
            WaiverTarget::Subject(s) if *s == requirement.subject => 0,
            _ => continue,
        };
        let rank = (level, w.scope.specificity());
        if best.is_none_or(|(b, br)| (rank, w.id) > (br, b.id)) {
            best = Some((w, rank));
        }
    }
    best.map(|(w, _)| w)
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::super::*;
    use chrono::NaiveDate;
    use rust_decimal::Decimal;

    /// What a requirement should come out as; waivers by id.
    #[derive(Debug, PartialEq)]
    enum Req {
        Compliant,
        NonCompliant(Reason),
        Waived(i64),
        Overridden(i64),
    }

    enum Expect {
        ReqIs(&'static str, Req),
        ShortBy(&'static str, &'static str),
        SubjectIs(Subject, Status),
        SubjectExpiring(Subject, bool),
        Overall(OverallStatus),
        Expiring(bool, Option<&'static str>),
        NoSubjects,
    }

    struct Case {
        name: &'static str,
        setup: fn(&mut ComplianceData),
        target: Target,
        expect: Vec<Expect>,
    }

    fn global() -> Target {
        Target::global(ACME)
    }

    fn expired_on(s: &str) -> Req {
        Req::NonCompliant(Reason::Expired { on: d(s) })
    }

    fn below(limit: LimitKind, required: &str, actual: &str) -> Req {
        Req::NonCompliant(Reason::BelowMinimum {
            limit,
            required: dec(required),
            actual: dec(actual),
            currency: Currency::Usd,
        })
    }

    fn waived_everywhere(data: &mut ComplianceData, w: Waiver) {
        data.waivers.push(Waiver {
            scope: WaiverScope::Everywhere,
            ..w
        });
    }

    #[test]
    fn evaluate_gives_every_requirement_subject_and_party_its_status_and_reason() {
        use Expect::*;
        use Subject::*;
        let cases = vec![
            Case {
                name: "a certificate meeting every requirement is compliant",
                setup: |_| {},
                target: global(),
                expect: vec![
                    ReqIs("gl.each_occurrence", Req::Compliant),
                    ReqIs("gl.additional_insured", Req::Compliant),
                    ReqIs("auto.csl", Req::Compliant),
                    SubjectIs(GeneralLiability, Status::Compliant),
                    SubjectIs(WorkersCompensation, Status::Compliant),
                    Overall(OverallStatus::Compliant),
                    Expiring(false, Some("2027-01-01")),
                ],
            },
            Case {
                name: "no policy for the subject is missing coverage",
                setup: |data| remove_policy(data, WorkersCompensation),
                target: global(),
                expect: vec![
                    ReqIs("wc.statutory", Req::NonCompliant(Reason::Missing)),
                    ReqIs("wc.el_each_accident", Req::NonCompliant(Reason::Missing)),
                    SubjectIs(WorkersCompensation, Status::NonCompliant),
                    SubjectIs(GeneralLiability, Status::Compliant),
                    Overall(OverallStatus::NonCompliant),
                ],
            },
            Case {
                name: "a limit below the minimum is non-compliant, short by the exact difference",
                setup: |data| {
                    policy_mut(data, AutomobileLiability)
                        .limits
                        .insert(LimitKind::CombinedSingleLimit, dec("500000"));
                },
                target: global(),
                expect: vec![
                    ReqIs(
                        "auto.csl",
                        below(LimitKind::CombinedSingleLimit, "1000000", "500000"),
                    ),
                    ShortBy("auto.csl", "500000"),
                    SubjectIs(AutomobileLiability, Status::NonCompliant),
                    Overall(OverallStatus::NonCompliant),
                ],
            },
            Case {
                name: "a limit one cent short is still short",
                setup: |data| {
                    policy_mut(data, GeneralLiability)
                        .limits
                        .insert(LimitKind::EachOccurrence, dec("999999.99"));
                },
                target: global(),
                expect: vec![ShortBy("gl.each_occurrence", "0.01")],
            },
            Case {
                name: "a limit the certificate does not print is short by the whole minimum",
                setup: |data| {
                    policy_mut(data, GeneralLiability)
                        .limits
                        .remove(&LimitKind::GeneralAggregate);
                },
                target: global(),
                expect: vec![
                    ReqIs(
                        "gl.aggregate",
                        Req::NonCompliant(Reason::LimitNotShown {
                            limit: LimitKind::GeneralAggregate,
                            required: dec("2000000"),
                            currency: Currency::Usd,
                        }),
                    ),
                    ShortBy("gl.aggregate", "2000000"),
                ],
            },
            Case {
                name: "limits in another currency do not meet the requirement",
                setup: |data| data.certificates[0].currency = Currency::Cad,
                target: global(),
                expect: vec![
                    ReqIs(
                        "gl.each_occurrence",
                        Req::NonCompliant(Reason::CurrencyMismatch {
                            required: Currency::Usd,
                            actual: Currency::Cad,
                        }),
                    ),
                    ReqIs("gl.additional_insured", Req::Compliant),
                ],
            },
            Case {
                name: "a policy that expired yesterday makes every requirement of its subject expired",
                setup: |data| policy_mut(data, GeneralLiability).expiration_date = d("2026-06-14"),
                target: global(),
                expect: vec![
                    ReqIs("gl.each_occurrence", expired_on("2026-06-14")),
                    ReqIs("gl.additional_insured", expired_on("2026-06-14")),
                    SubjectIs(GeneralLiability, Status::NonCompliant),
                    Overall(OverallStatus::NonCompliant),
                ],
            },
            Case {
                name: "a policy expiring today is still in force (the date is inclusive) and expiring soon",
                setup: |data| policy_mut(data, GeneralLiability).expiration_date = d(TODAY),
                target: global(),
                expect: vec![
                    ReqIs("gl.each_occurrence", Req::Compliant),
                    SubjectExpiring(GeneralLiability, true),
                    Expiring(true, Some(TODAY)),
                ],
            },
            Case {
                name: "a policy that starts tomorrow is not yet effective",
                setup: |data| policy_mut(data, GeneralLiability).effective_date = d("2026-06-16"),
                target: global(),
                expect: vec![
                    ReqIs(
                        "gl.aggregate",
                        Req::NonCompliant(Reason::NotYetEffective {
                            from: d("2026-06-16"),
                        }),
                    ),
                    SubjectIs(GeneralLiability, Status::NonCompliant),
                ],
            },
            Case {
                name: "a missing additional insured endorsement fails only that requirement, and the subject",
                setup: |data| {
                    policy_mut(data, GeneralLiability)
                        .endorsements
                        .retain(|e| *e != Endorsement::AdditionalInsured)
                },
                target: global(),
                expect: vec![
                    ReqIs(
                        "gl.additional_insured",
                        Req::NonCompliant(Reason::EndorsementMissing(
                            Endorsement::AdditionalInsured,
                        )),
                    ),
                    ReqIs("gl.waiver_of_subrogation", Req::Compliant),
                    ReqIs("gl.each_occurrence", Req::Compliant),
                    SubjectIs(GeneralLiability, Status::NonCompliant),
                    SubjectIs(AutomobileLiability, Status::Compliant),
                    Overall(OverallStatus::NonCompliant),
                ],
            },
            Case {
                name: "a missing waiver of subrogation endorsement is non-compliant",
                setup: |data| policy_mut(data, GeneralLiability).endorsements.clear(),
                target: global(),
                expect: vec![ReqIs(
                    "gl.waiver_of_subrogation",
                    Req::NonCompliant(Reason::EndorsementMissing(
                        Endorsement::WaiverOfSubrogation,
                    )),
                )],
            },
            Case {
                name: "statutory workers compensation is satisfied by the statute box",
                setup: |_| {},
                target: global(),
                expect: vec![ReqIs("wc.statutory", Req::Compliant)],
            },
            Case {
                name: "workers compensation not written per statute is non-compliant",
                setup: |data| policy_mut(data, WorkersCompensation).statutory = false,
                target: global(),
                expect: vec![
                    ReqIs("wc.statutory", Req::NonCompliant(Reason::NotStatutory)),
                    ReqIs("wc.el_each_accident", Req::Compliant),
                    SubjectIs(WorkersCompensation, Status::NonCompliant),
                ],
            },
            Case {
                name: "a waiver without an end date waives the requirement",
                setup: |data| {
                    policy_mut(data, GeneralLiability).endorsements.clear();
                    data.waivers.push(waiver(
                        7,
                        on_requirement("gl.additional_insured"),
                        WaiverKind::Waive,
                    ));
                },
                target: global(),
                expect: vec![
                    ReqIs("gl.additional_insured", Req::Waived(7)),
                    ReqIs(
                        "gl.waiver_of_subrogation",
                        Req::NonCompliant(Reason::EndorsementMissing(
                            Endorsement::WaiverOfSubrogation,
                        )),
                    ),
                ],
            },
            Case {
                name: "a waiver ending today still applies",
                setup: |data| {
                    policy_mut(data, GeneralLiability).endorsements.clear();
                    let mut w = waiver(7, on_requirement("gl.additional_insured"), WaiverKind::Waive);
                    w.until = Some(d(TODAY));
                    data.waivers.push(w);
                },
                target: global(),
                expect: vec![ReqIs("gl.additional_insured", Req::Waived(7))],
            },
            Case {
                name: "a waiver that ended yesterday no longer applies",
                setup: |data| {
                    policy_mut(data, GeneralLiability).endorsements.clear();
                    let mut w = waiver(7, on_requirement("gl.additional_insured"), WaiverKind::Waive);
                    w.until = Some(d("2026-06-14"));
                    data.waivers.push(w);
                },
                target: global(),
                expect: vec![
                    ReqIs(
                        "gl.additional_insured",
                        Req::NonCompliant(Reason::EndorsementMissing(
                            Endorsement::AdditionalInsured,
                        )),
                    ),
                    SubjectIs(GeneralLiability, Status::NonCompliant),
                ],
            },
            Case {
                name: "a subject whose every requirement is waived is waived, and the party compliant",
                setup: |data| {
                    policy_mut(data, AutomobileLiability).limits.clear();
                    data.waivers
                        .push(waiver(7, on_requirement("auto.csl"), WaiverKind::Waive));
                },
                target: global(),
                expect: vec![
                    ReqIs("auto.csl", Req::Waived(7)),
                    SubjectIs(AutomobileLiability, Status::Waived),
                    Overall(OverallStatus::Compliant),
                ],
            },
            Case {
                name: "an override turns a failing requirement into overridden, and rolls up",
                setup: |data| {
                    policy_mut(data, AutomobileLiability)
                        .limits
                        .insert(LimitKind::CombinedSingleLimit, dec("500000"));
                    data.waivers
                        .push(waiver(8, on_requirement("auto.csl"), WaiverKind::Override));
                },
                target: global(),
                expect: vec![
                    ReqIs("auto.csl", Req::Overridden(8)),
                    ShortBy("auto.csl", "500000"),
                    SubjectIs(AutomobileLiability, Status::Overridden),
                    Overall(OverallStatus::Overridden),
                ],
            },
            Case {
                name: "an override on a requirement the evidence meets reports it compliant",
                setup: |data| {
                    data.waivers
                        .push(waiver(8, on_requirement("auto.csl"), WaiverKind::Override))
                },
                target: global(),
                expect: vec![
                    ReqIs("auto.csl", Req::Compliant),
                    Overall(OverallStatus::Compliant),
                ],
            },
            Case {
                name: "a subject waiver waives each of its requirements, and the subject",
                setup: |data| {
                    remove_policy(data, WorkersCompensation);
                    data.waivers.push(waiver(
                        9,
                        WaiverTarget::Subject(WorkersCompensation),
                        WaiverKind::Waive,
                    ));
                },
                target: global(),
                expect: vec![
                    ReqIs("wc.statutory", Req::Waived(9)),
                    ReqIs("wc.el_each_accident", Req::Waived(9)),
                    SubjectIs(WorkersCompensation, Status::Waived),
                    Overall(OverallStatus::Compliant),
                ],
            },
            Case {
                name: "a requirement waiver beats a subject waiver",
                setup: |data| {
                    policy_mut(data, WorkersCompensation).statutory = false;
                    policy_mut(data, WorkersCompensation)
                        .limits
                        .insert(LimitKind::ElEachAccident, dec("500000"));
                    data.waivers.push(waiver(
                        9,
                        WaiverTarget::Subject(WorkersCompensation),
                        WaiverKind::Waive,
                    ));
                    data.waivers.push(waiver(
                        3,
                        on_requirement("wc.el_each_accident"),
                        WaiverKind::Override,
                    ));
                },
                target: global(),
                expect: vec![
                    ReqIs("wc.statutory", Req::Waived(9)),
                    ReqIs("wc.el_each_accident", Req::Overridden(3)),
                    SubjectIs(WorkersCompensation, Status::Overridden),
                ],
            },
            Case {
                name: "a global waiver does not reach a project",
                setup: |data| {
                    policy_mut(data, GeneralLiability).endorsements.clear();
                    data.waivers.push(waiver(
                        7,
                        on_requirement("gl.additional_insured"),
                        WaiverKind::Waive,
                    ));
                },
                target: Target::project(ACME, CLINIC),
                expect: vec![ReqIs(
                    "gl.additional_insured",
                    Req::NonCompliant(Reason::EndorsementMissing(
                        Endorsement::AdditionalInsured,
                    )),
                )],
            },
            Case {
                name: "a waiver for everywhere reaches every project",
                setup: |data| {
                    policy_mut(data, GeneralLiability).endorsements.clear();
                    waived_everywhere(
                        data,
                        waiver(7, on_requirement("gl.additional_insured"), WaiverKind::Waive),
                    );
                },
                target: Target::project(ACME, CLINIC),
                expect: vec![ReqIs("gl.additional_insured", Req::Waived(7))],
            },
            Case {
                name: "a project waiver beats a broader one, and applies to its project only",
                setup: |data| {
                    policy_mut(data, GeneralLiability).endorsements.clear();
                    waived_everywhere(
                        data,
                        waiver(7, on_requirement("gl.additional_insured"), WaiverKind::Waive),
                    );
                    data.waivers.push(Waiver {
                        scope: WaiverScope::Project(CLINIC),
                        ..waiver(
                            5,
                            on_requirement("gl.additional_insured"),
                            WaiverKind::Override,
                        )
                    });
                },
                target: Target::project(ACME, CLINIC),
                expect: vec![ReqIs("gl.additional_insured", Req::Overridden(5))],
            },
            Case {
                name: "another party's waiver does not apply",
                setup: |data| {
                    policy_mut(data, GeneralLiability).endorsements.clear();
                    data.waivers.push(Waiver {
                        party_id: UNTRACKED,
                        ..waiver(7, on_requirement("gl.additional_insured"), WaiverKind::Waive)
                    });
                },
                target: global(),
                expect: vec![SubjectIs(GeneralLiability, Status::NonCompliant)],
            },
            Case {
                name: "a policy expiring on the last day of the 30-day window is expiring soon",
                setup: |data| policy_mut(data, AutomobileLiability).expiration_date = d("2026-07-15"),
                target: global(),
                expect: vec![
                    SubjectExpiring(AutomobileLiability, true),
                    SubjectExpiring(GeneralLiability, false),
                    SubjectIs(AutomobileLiability, Status::Compliant),
                    Overall(OverallStatus::Compliant),
                    Expiring(true, Some("2026-07-15")),
                ],
            },
            Case {
                name: "a policy expiring the day after the window is not expiring soon",
                setup: |data| policy_mut(data, AutomobileLiability).expiration_date = d("2026-07-16"),
                target: global(),
                expect: vec![
                    SubjectExpiring(AutomobileLiability, false),
                    Expiring(false, Some("2026-07-16")),
                ],
            },
            Case {
                name: "the window is the profile's to set",
                setup: |data| {
                    data.profiles[0].expiring_within_days = 45;
                    policy_mut(data, AutomobileLiability).expiration_date = d("2026-07-25");
                },
                target: global(),
                expect: vec![Expiring(true, Some("2026-07-25"))],
            },
            Case {
                name: "the next expiration skips waived subjects",
                setup: |data| {
                    policy_mut(data, WorkersCompensation).expiration_date = d("2026-06-20");
                    policy_mut(data, AutomobileLiability).expiration_date = d("2026-09-01");
                    data.waivers.push(waiver(
                        9,
                        WaiverTarget::Subject(WorkersCompensation),
                        WaiverKind::Waive,
                    ));
                },
                target: global(),
                expect: vec![
                    SubjectExpiring(WorkersCompensation, true),
                    Expiring(false, Some("2026-09-01")),
                ],
            },
            Case {
                name: "the in-force policy is judged, not a later renewal or an expired one",
                setup: |data| {
                    let mut renewal = good_certificate();
                    renewal.id = CertificateId(2);
                    for p in &mut renewal.policies {
                        p.effective_date = d("2027-01-01");
                        p.expiration_date = d("2028-01-01");
                        p.limits.clear();
                    }
                    let mut old = good_certificate();
                    old.id = CertificateId(3);
                    for p in &mut old.policies {
                        p.effective_date = d("2025-01-01");
                        p.expiration_date = d("2026-01-01");
                    }
                    data.certificates.push(renewal);
                    data.certificates.push(old);
                },
                target: global(),
                expect: vec![Overall(OverallStatus::Compliant)],
            },
            Case {
                name: "with only an expired policy and its renewal, the renewal decides: not yet effective",
                setup: |data| {
                    policy_mut(data, GeneralLiability).expiration_date = d("2026-06-01");
                    let mut renewal = good_certificate();
                    renewal.id = CertificateId(2);
                    renewal.policies.retain(|p| p.subject == GeneralLiability);
                    renewal.policies[0].effective_date = d("2026-07-01");
                    data.certificates.push(renewal);
                },
                target: global(),
                expect: vec![ReqIs(
                    "gl.each_occurrence",
                    Req::NonCompliant(Reason::NotYetEffective {
                        from: d("2026-07-01"),
                    }),
                )],
            },
            Case {
                name: "a party-project with its own profile is judged on it",
                setup: |_| {},
                target: Target::project(ACME, TOWER),
                expect: vec![
                    ReqIs(
                        "gl.each_occurrence",
                        below(LimitKind::EachOccurrence, "2000000", "1000000"),
                    ),
                    ReqIs("umbrella", Req::NonCompliant(Reason::Missing)),
                    SubjectIs(UmbrellaExcess, Status::NonCompliant),
                    Overall(OverallStatus::NonCompliant),
                ],
            },
            Case {
                name: "a party-project without its own profile uses the party's",
                setup: |_| {},
                target: Target::project(ACME, CLINIC),
                expect: vec![
                    ReqIs("wc.statutory", Req::Compliant),
                    Overall(OverallStatus::Compliant),
                ],
            },
            Case {
                name: "a certificate for one project counts there",
                setup: |data| data.certificates[0].applies_to = AppliesTo::Projects(vec![CLINIC]),
                target: Target::project(ACME, CLINIC),
                expect: vec![Overall(OverallStatus::Compliant)],
            },
            Case {
                name: "a certificate for one project does not count globally",
                setup: |data| data.certificates[0].applies_to = AppliesTo::Projects(vec![CLINIC]),
                target: global(),
                expect: vec![
                    ReqIs("gl.each_occurrence", Req::NonCompliant(Reason::Missing)),
                    Overall(OverallStatus::NonCompliant),
                    Expiring(false, None),
                ],
            },
            Case {
                name: "a party with no profile is not tracked",
                setup: |_| {},
                target: Target::global(UNTRACKED),
                expect: vec![
                    Overall(OverallStatus::NotTracked),
                    NoSubjects,
                    Expiring(false, None),
                ],
            },
        ];

        for case in cases {
            let mut data = data();
            (case.setup)(&mut data);
            let index = data.index();
            let eval = index.evaluate(case.target, today());
            let name = case.name;
            for expect in case.expect {
                match expect {
                    Expect::ReqIs(key, want) => {
                        let got = eval
                            .requirement(key)
                            .unwrap_or_else(|| panic!("{name}: no {key}"));
                        let got = match got.status {
                            RequirementStatus::Compliant => Req::Compliant,
                            RequirementStatus::NonCompliant(r) => Req::NonCompliant(r),
                            RequirementStatus::Waived(w) => Req::Waived(w.id.0),
                            RequirementStatus::Overridden { waiver, .. } => {
                                Req::Overridden(waiver.id.0)
                            }
                        };
                        assert_eq!(got, want, "{name}: {key}");
                    }
                    Expect::ShortBy(key, amount) => {
                        let got = eval.requirement(key).unwrap().status.reason();
                        assert_eq!(
                            got.and_then(|r| r.short_by()),
                            Some(amount.parse::<Decimal>().unwrap()),
                            "{name}: {key}"
                        );
                    }
                    Expect::SubjectIs(subject, want) => {
                        let got = eval.subject(subject).map(|s| s.status);
                        assert_eq!(got, Some(want), "{name}: {subject:?}");
                    }
                    Expect::SubjectExpiring(subject, want) => {
                        let got = eval.subject(subject).map(|s| s.expiring_soon());
                        assert_eq!(got, Some(want), "{name}: {subject:?} expiring soon");
                    }
                    Expect::Overall(want) => assert_eq!(eval.status, want, "{name}"),
                    Expect::Expiring(soon, next) => {
                        assert_eq!(eval.expiring_soon, soon, "{name}: expiring soon");
                        assert_eq!(
                            eval.next_expiration,
                            next.map(|s| s.parse::<NaiveDate>().unwrap()),
                            "{name}: next expiration"
                        );
                    }
                    Expect::NoSubjects => {
                        assert!(eval.subjects().is_empty(), "{name}");
                        assert!(eval.requirements().is_empty(), "{name}");
                    }
                }
            }
        }
    }

    #[test]
    fn requirements_are_grouped_by_subject_in_certificate_order() {
        let mut data = data();
        data.profiles[0].requirements.reverse();
        let eval = data.index().evaluate(Target::global(ACME), today());
        let subjects: Vec<_> = eval.subjects().iter().map(|s| s.subject).collect();
        assert_eq!(
            subjects,
            [
                Subject::GeneralLiability,
                Subject::AutomobileLiability,
                Subject::WorkersCompensation
            ]
        );
        for s in eval.subjects() {
            assert!(eval
                .requirements_of(s)
                .iter()
                .all(|r| r.requirement.subject == s.subject));
        }
        assert_eq!(eval.requirements().len(), 7);
    }

    #[test]
    fn evaluate_takes_records_of_other_parties_and_skips_them() {
        let data = data();
        let mut other = good_certificate();
        other.party_id = UNTRACKED;
        other.policies.clear();
        let certificates = [other, good_certificate()];
        let eval = evaluate(
            Target::global(ACME),
            Some(&data.profiles[0]),
            &certificates,
            &data.waivers,
            today(),
        );
        assert_eq!(eval.status, OverallStatus::Compliant);
        assert_eq!(
            eval.subject(Subject::GeneralLiability)
                .unwrap()
                .policy
                .unwrap()
                .certificate
                .id,
            CertificateId(1)
        );
    }

    #[test]
    fn reasons_read_as_a_person_would_write_them() {
        let r = Reason::BelowMinimum {
            limit: LimitKind::CombinedSingleLimit,
            required: dec("1000000"),
            actual: dec("500000"),
            currency: Currency::Usd,
        };
        assert_eq!(
            r.to_string(),
            "below the minimum by $500,000: Combined Single Limit is $500,000, required $1,000,000"
        );
        assert_eq!(
            Reason::Expired {
                on: d("2026-06-01")
            }
            .to_string(),
            "expired on 2026-06-01"
        );
    }
}
