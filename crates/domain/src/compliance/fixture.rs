//! Test records shared by the evaluation and write-back tests: one party whose certificate
//! meets the standard profile, a project with its own profile, and a party without a profile.

use super::*;
use chrono::NaiveDate;
use rust_decimal::Decimal;

pub fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

pub fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub const TODAY: &str = "2026-06-15";

pub fn today() -> NaiveDate {
    d(TODAY)
}

pub const ACME: PartyId = PartyId(1);
pub const UNTRACKED: PartyId = PartyId(2);
/// A project with its own profile.
pub const TOWER: ProjectId = ProjectId(10);
/// A project that uses the party's profile.
pub const CLINIC: ProjectId = ProjectId(11);

fn req(key: &str, subject: Subject, check: Check) -> Requirement {
    Requirement {
        key: key.into(),
        subject,
        check,
        label: None,
    }
}

fn limit(key: &str, kind: LimitKind, minimum: &str) -> Requirement {
    req(
        key,
        kind.subject(),
        Check::LimitAtLeast {
            limit: kind,
            minimum: dec(minimum),
        },
    )
}

fn endorsement(key: &str, e: Endorsement) -> Requirement {
    req(
        key,
        Subject::GeneralLiability,
        Check::Endorsement { endorsement: e },
    )
}

pub fn standard_profile() -> ComplianceProfile {
    ComplianceProfile {
        id: ProfileId(1),
        name: "Standard".into(),
        currency: Currency::Usd,
        expiring_within_days: DEFAULT_EXPIRING_WITHIN_DAYS,
        requirements: vec![
            limit("gl.each_occurrence", LimitKind::EachOccurrence, "1000000"),
            limit("gl.aggregate", LimitKind::GeneralAggregate, "2000000"),
            endorsement("gl.additional_insured", Endorsement::AdditionalInsured),
            endorsement("gl.waiver_of_subrogation", Endorsement::WaiverOfSubrogation),
            limit("auto.csl", LimitKind::CombinedSingleLimit, "1000000"),
            req(
                "wc.statutory",
                Subject::WorkersCompensation,
                Check::Statutory,
            ),
            limit("wc.el_each_accident", LimitKind::ElEachAccident, "1000000"),
        ],
    }
}

pub fn tower_profile() -> ComplianceProfile {
    ComplianceProfile {
        id: ProfileId(2),
        name: "Tower".into(),
        currency: Currency::Usd,
        expiring_within_days: DEFAULT_EXPIRING_WITHIN_DAYS,
        requirements: vec![
            limit("gl.each_occurrence", LimitKind::EachOccurrence, "2000000"),
            limit("umbrella", LimitKind::UmbrellaEachOccurrence, "5000000"),
        ],
    }
}

pub fn policy(subject: Subject, number: &str, limits: &[(LimitKind, &str)]) -> Policy {
    Policy {
        subject,
        insurer: "Granite Mutual".into(),
        naic: None,
        policy_number: number.into(),
        effective_date: d("2026-01-01"),
        expiration_date: d("2027-01-01"),
        limits: limits.iter().map(|(k, v)| (*k, dec(v))).collect(),
        endorsements: Vec::new(),
        statutory: false,
    }
}

/// A certificate meeting the standard profile, in force until 2027-01-01.
pub fn good_certificate() -> Certificate {
    let mut gl = policy(
        Subject::GeneralLiability,
        "GL-1",
        &[
            (LimitKind::EachOccurrence, "1000000"),
            (LimitKind::GeneralAggregate, "2000000"),
        ],
    );
    gl.endorsements = vec![
        Endorsement::AdditionalInsured,
        Endorsement::WaiverOfSubrogation,
    ];
    let auto = policy(
        Subject::AutomobileLiability,
        "AU-1",
        &[(LimitKind::CombinedSingleLimit, "1000000")],
    );
    let mut wc = policy(
        Subject::WorkersCompensation,
        "WC-1",
        &[(LimitKind::ElEachAccident, "1000000")],
    );
    wc.insurer = "State Fund".into();
    wc.statutory = true;
    Certificate {
        id: CertificateId(1),
        party_id: ACME,
        applies_to: AppliesTo::AllProjects,
        received_on: Some(d("2026-01-05")),
        currency: Currency::Usd,
        producer: None,
        holder: None,
        policies: vec![gl, auto, wc],
    }
}

pub fn waiver(id: i64, target: WaiverTarget, kind: WaiverKind) -> Waiver {
    Waiver {
        id: WaiverId(id),
        party_id: ACME,
        scope: WaiverScope::Global,
        target,
        kind,
        reason: format!("reason {id}"),
        until: None,
    }
}

pub fn on_requirement(key: &str) -> WaiverTarget {
    WaiverTarget::Requirement(key.into())
}

pub fn data() -> ComplianceData {
    let party = |id, name: &str, profile_id| Party {
        id,
        name: name.into(),
        address: None,
        website: None,
        active: true,
        procore_vendor_id: None,
        profile_id,
    };
    let project = |id, name: &str| Project {
        id,
        name: name.into(),
        description: None,
        start_date: None,
        completion_date: None,
        active: true,
        procore_project_id: None,
    };
    let link = |project_id, profile_id| PartyProject {
        party_id: ACME,
        project_id,
        profile_id,
        active: true,
        procore_commitment_ids: Vec::new(),
    };
    ComplianceData {
        version: FORMAT_VERSION,
        parties: vec![
            party(ACME, "Acme", Some(ProfileId(1))),
            party(UNTRACKED, "Untracked", None),
        ],
        projects: vec![project(TOWER, "Tower"), project(CLINIC, "Clinic")],
        party_projects: vec![link(TOWER, Some(ProfileId(2))), link(CLINIC, None)],
        contacts: Vec::new(),
        profiles: vec![standard_profile(), tower_profile()],
        certificates: vec![good_certificate()],
        waivers: Vec::new(),
    }
}

/// The first certificate's policy for `subject`.
pub fn policy_mut(data: &mut ComplianceData, subject: Subject) -> &mut Policy {
    data.certificates[0]
        .policies
        .iter_mut()
        .find(|p| p.subject == subject)
        .unwrap()
}

pub fn remove_policy(data: &mut ComplianceData, subject: Subject) {
    data.certificates[0]
        .policies
        .retain(|p| p.subject != subject);
}
