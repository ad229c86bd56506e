//! Compliance profiles: what a party must carry, as requirements grouped by compliance subject.
//!
//! The subjects are the coverage lines of an ACORD 25 certificate, because that is the paper
//! the evidence arrives on: every requirement then reads one cell of one row of it. The set is
//! closed so an evaluation can hold one slot per subject without a map.

use super::records::{Currency, ProfileId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// A compliance subject: one coverage line of the certificate.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    GeneralLiability,
    AutomobileLiability,
    UmbrellaExcess,
    WorkersCompensation,
}

impl Subject {
    /// Every subject, in the order of the certificate's rows; evaluations and write-back
    /// records follow it so their output is stable.
    pub const ALL: [Subject; 4] = [
        Subject::GeneralLiability,
        Subject::AutomobileLiability,
        Subject::UmbrellaExcess,
        Subject::WorkersCompensation,
    ];

    /// The stable key used in JSON and in Procore `origin_id`s; never change one.
    pub fn key(self) -> &'static str {
        match self {
            Subject::GeneralLiability => "general_liability",
            Subject::AutomobileLiability => "automobile_liability",
            Subject::UmbrellaExcess => "umbrella_excess",
            Subject::WorkersCompensation => "workers_compensation",
        }
    }

    /// The short name people type and requirement keys begin with ("gl.each_occurrence").
    pub fn short_key(self) -> &'static str {
        match self {
            Subject::GeneralLiability => "gl",
            Subject::AutomobileLiability => "auto",
            Subject::UmbrellaExcess => "umbrella",
            Subject::WorkersCompensation => "wc",
        }
    }

    /// The name a Procore user reads as the insurance type.
    pub fn label(self) -> &'static str {
        match self {
            Subject::GeneralLiability => "General Liability",
            Subject::AutomobileLiability => "Automobile Liability",
            Subject::UmbrellaExcess => "Umbrella/Excess Liability",
            Subject::WorkersCompensation => "Workers Compensation and Employers' Liability",
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A limit printed on the certificate. Each belongs to one subject, so the umbrella's each
/// occurrence cannot be mistaken for general liability's.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    EachOccurrence,
    DamageToRentedPremises,
    MedicalExpense,
    PersonalAndAdvertisingInjury,
    GeneralAggregate,
    ProductsCompletedOperationsAggregate,
    CombinedSingleLimit,
    BodilyInjuryPerPerson,
    BodilyInjuryPerAccident,
    PropertyDamagePerAccident,
    UmbrellaEachOccurrence,
    UmbrellaAggregate,
    ElEachAccident,
    ElDiseaseEachEmployee,
    ElDiseasePolicyLimit,
}

impl LimitKind {
    /// Every limit, in the order of the certificate's rows (a form lists them so).
    pub const ALL: [LimitKind; 15] = [
        LimitKind::EachOccurrence,
        LimitKind::DamageToRentedPremises,
        LimitKind::MedicalExpense,
        LimitKind::PersonalAndAdvertisingInjury,
        LimitKind::GeneralAggregate,
        LimitKind::ProductsCompletedOperationsAggregate,
        LimitKind::CombinedSingleLimit,
        LimitKind::BodilyInjuryPerPerson,
        LimitKind::BodilyInjuryPerAccident,
        LimitKind::PropertyDamagePerAccident,
        LimitKind::UmbrellaEachOccurrence,
        LimitKind::UmbrellaAggregate,
        LimitKind::ElEachAccident,
        LimitKind::ElDiseaseEachEmployee,
        LimitKind::ElDiseasePolicyLimit,
    ];

    /// The subject whose row carries this limit.
    pub fn subject(self) -> Subject {
        use LimitKind::*;
        match self {
            EachOccurrence
            | DamageToRentedPremises
            | MedicalExpense
            | PersonalAndAdvertisingInjury
            | GeneralAggregate
            | ProductsCompletedOperationsAggregate => Subject::GeneralLiability,
            CombinedSingleLimit
            | BodilyInjuryPerPerson
            | BodilyInjuryPerAccident
            | PropertyDamagePerAccident => Subject::AutomobileLiability,
            UmbrellaEachOccurrence | UmbrellaAggregate => Subject::UmbrellaExcess,
            ElEachAccident | ElDiseaseEachEmployee | ElDiseasePolicyLimit => {
                Subject::WorkersCompensation
            }
        }
    }

    /// The ACORD 25 label, which is what the person reading the notes has in front of them.
    pub fn label(self) -> &'static str {
        use LimitKind::*;
        match self {
            EachOccurrence => "Each Occurrence",
            DamageToRentedPremises => "Damage to Rented Premises",
            MedicalExpense => "Medical Expense",
            PersonalAndAdvertisingInjury => "Personal & Advertising Injury",
            GeneralAggregate => "General Aggregate",
            ProductsCompletedOperationsAggregate => "Products - Completed Operations Aggregate",
            CombinedSingleLimit => "Combined Single Limit",
            BodilyInjuryPerPerson => "Bodily Injury (per person)",
            BodilyInjuryPerAccident => "Bodily Injury (per accident)",
            PropertyDamagePerAccident => "Property Damage (per accident)",
            UmbrellaEachOccurrence => "Umbrella Each Occurrence",
            UmbrellaAggregate => "Umbrella Aggregate",
            ElEachAccident => "E.L. Each Accident",
            ElDiseaseEachEmployee => "E.L. Disease - Each Employee",
            ElDiseasePolicyLimit => "E.L. Disease - Policy Limit",
        }
    }
}

/// An endorsement a requirement can ask for. The certificate's ADDL INSD / SUBR WVD boxes only
/// report them; they must exist on the policy, which is what the policy record states.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endorsement {
    AdditionalInsured,
    WaiverOfSubrogation,
    PrimaryNonContributory,
}

impl Endorsement {
    pub fn label(self) -> &'static str {
        match self {
            Endorsement::AdditionalInsured => "additional insured",
            Endorsement::WaiverOfSubrogation => "waiver of subrogation",
            Endorsement::PrimaryNonContributory => "primary and non-contributory",
        }
    }
}

/// What a requirement checks on the subject's policy.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = RequirementCheck))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Check {
    /// A limit must be at least `minimum`, in the profile's currency.
    LimitAtLeast { limit: LimitKind, minimum: Decimal },
    /// The policy must carry the endorsement.
    Endorsement { endorsement: Endorsement },
    /// Workers compensation must be written "per statute" (the WC STATUTE box).
    Statutory,
    /// Any in-force policy for the subject will do; for lines required without a limit.
    CoveragePresent,
}

/// One requirement of a profile, e.g. "Each Occurrence at least $1,000,000".
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ProfileRequirement))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    /// Unique within the profile and stable across edits, because waivers point at it and
    /// several profiles can share it (a waiver then follows the party to every project).
    pub key: String,
    pub subject: Subject,
    pub check: Check,
    /// What readers see; without one a label is made from the check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl Requirement {
    /// The requirement as a reader names it. Only the write-back needs it, so evaluation never
    /// pays for the formatting.
    pub fn label(&self, currency: Currency) -> Cow<'_, str> {
        if let Some(label) = &self.label {
            return Cow::Borrowed(label);
        }
        Cow::Owned(match &self.check {
            Check::LimitAtLeast { limit, minimum } => {
                format!("{} at least {}", limit.label(), money(*minimum, currency))
            }
            Check::Endorsement { endorsement } => {
                let mut s = endorsement.label().to_owned();
                s[..1].make_ascii_uppercase();
                s + " endorsement"
            }
            Check::Statutory => "Statutory workers compensation".to_owned(),
            Check::CoveragePresent => format!("{} coverage", self.subject.label()),
        })
    }
}

/// A named set of requirements, applied to a party or to one party-project.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplianceProfile {
    pub id: ProfileId,
    pub name: String,
    /// The currency of every minimum in the profile.
    #[serde(default)]
    pub currency: Currency,
    /// How many days before expiration a policy counts as expiring soon; the tools surveyed
    /// agree on 30.
    #[serde(default = "default_expiring_within_days")]
    pub expiring_within_days: u32,
    pub requirements: Vec<Requirement>,
}

/// The default expiring-soon window, in days.
pub const DEFAULT_EXPIRING_WITHIN_DAYS: u32 = 30;

fn default_expiring_within_days() -> u32 {
    DEFAULT_EXPIRING_WITHIN_DAYS
}

/// An amount as a reader writes it: "$1,000,000", "CA$2,500.50". Exact: no float is involved.
pub fn money(amount: Decimal, currency: Currency) -> String {
    let amount = amount.normalize();
    let text = amount.abs().to_string();
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text.as_str(), None),
    };
    let mut out = String::with_capacity(text.len() + whole.len() / 3 + 4);
    if amount.is_sign_negative() && !amount.is_zero() {
        out.push('-');
    }
    out.push_str(currency.symbol());
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(frac) = frac {
        out.push('.');
        out.push_str(frac);
        if frac.len() == 1 {
            out.push('0');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_written_with_separators_and_exact_cents() {
        let cases = [
            ("1000000", Currency::Usd, "$1,000,000"),
            ("500000.00", Currency::Usd, "$500,000"),
            ("999", Currency::Usd, "$999"),
            ("1234.5", Currency::Cad, "CA$1,234.50"),
            ("-2500", Currency::Usd, "-$2,500"),
            ("0", Currency::Usd, "$0"),
        ];
        for (amount, currency, expected) in cases {
            assert_eq!(
                money(amount.parse().unwrap(), currency),
                expected,
                "{amount}"
            );
        }
    }

    #[test]
    fn the_list_of_limits_has_every_limit_once_in_the_certificates_row_order() {
        // An exhaustive match: a new limit fails to compile here until it is placed.
        fn row(k: LimitKind) -> usize {
            use LimitKind::*;
            match k {
                EachOccurrence => 0,
                DamageToRentedPremises => 1,
                MedicalExpense => 2,
                PersonalAndAdvertisingInjury => 3,
                GeneralAggregate => 4,
                ProductsCompletedOperationsAggregate => 5,
                CombinedSingleLimit => 6,
                BodilyInjuryPerPerson => 7,
                BodilyInjuryPerAccident => 8,
                PropertyDamagePerAccident => 9,
                UmbrellaEachOccurrence => 10,
                UmbrellaAggregate => 11,
                ElEachAccident => 12,
                ElDiseaseEachEmployee => 13,
                ElDiseasePolicyLimit => 14,
            }
        }
        for (i, k) in LimitKind::ALL.iter().enumerate() {
            assert_eq!(row(*k), i, "{k:?}");
        }
        let subjects: Vec<usize> = LimitKind::ALL
            .iter()
            .map(|k| Subject::ALL.iter().position(|s| *s == k.subject()).unwrap())
            .collect();
        assert!(subjects.windows(2).all(|w| w[0] <= w[1]), "{subjects:?}");
    }

    #[test]
    fn every_limit_belongs_to_the_subject_named_in_its_label() {
        assert_eq!(
            LimitKind::UmbrellaEachOccurrence.subject(),
            Subject::UmbrellaExcess
        );
        assert_eq!(
            LimitKind::ElEachAccident.subject(),
            Subject::WorkersCompensation
        );
    }

    #[test]
    fn a_requirement_without_a_label_is_named_after_its_check() {
        let r = Requirement {
            key: "gl.each_occurrence".into(),
            subject: Subject::GeneralLiability,
            check: Check::LimitAtLeast {
                limit: LimitKind::EachOccurrence,
                minimum: "1000000".parse().unwrap(),
            },
            label: None,
        };
        assert_eq!(
            r.label(Currency::Usd),
            "Each Occurrence at least $1,000,000"
        );
        let ai = Requirement {
            check: Check::Endorsement {
                endorsement: Endorsement::AdditionalInsured,
            },
            ..r
        };
        assert_eq!(ai.label(Currency::Usd), "Additional insured endorsement");
    }
}
