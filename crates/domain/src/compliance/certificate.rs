//! Certificates of insurance and the policies they list.
//!
//! A certificate is the evidence; each of its coverage rows is a [`Policy`]. A party usually
//! has several certificates over time (renewals, a project-specific one), so evaluation picks
//! one policy per subject rather than trusting the newest paper.

use super::profile::{Endorsement, LimitKind, Subject};
use super::records::{CertificateId, Currency, PartyId, ProjectId};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which projects a certificate is evidence for.
///
/// A certificate naming one project (its holder or description of operations does) must not
/// make the party compliant elsewhere, nor globally.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppliesTo {
    #[default]
    AllProjects,
    Projects(Vec<ProjectId>),
}

impl AppliesTo {
    /// Whether the certificate counts for a project (`Some`) or for global compliance (`None`).
    pub fn covers(&self, project: Option<ProjectId>) -> bool {
        match (self, project) {
            (AppliesTo::AllProjects, _) => true,
            (AppliesTo::Projects(ids), Some(p)) => ids.contains(&p),
            (AppliesTo::Projects(_), None) => false,
        }
    }
}

/// A certificate of insurance (ACORD 25), as entered or imported.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    pub id: CertificateId,
    pub party_id: PartyId,
    #[serde(default)]
    pub applies_to: AppliesTo,
    /// When the certificate was received; the later one wins a tie between equal policies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_on: Option<NaiveDate>,
    /// The currency of every limit on the certificate.
    #[serde(default)]
    pub currency: Currency,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub producer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    pub policies: Vec<Policy>,
}

/// One coverage row of a certificate.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub subject: Subject,
    pub insurer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub naic: Option<String>,
    pub policy_number: String,
    /// First day of cover.
    pub effective_date: NaiveDate,
    /// Last day of cover: inclusive, as TrustLayer reads it (valid through the end of the day).
    pub expiration_date: NaiveDate,
    /// Limits as printed; one that is not printed is absent, not zero.
    #[serde(default)]
    pub limits: BTreeMap<LimitKind, Decimal>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endorsements: Vec<Endorsement>,
    /// Workers compensation written "per statute".
    #[serde(default)]
    pub statutory: bool,
}

/// Where a policy stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Validity {
    NotYetEffective,
    InForce,
    Expired,
}

impl Policy {
    pub fn validity(&self, today: NaiveDate) -> Validity {
        if today < self.effective_date {
            Validity::NotYetEffective
        } else if today > self.expiration_date {
            Validity::Expired
        } else {
            Validity::InForce
        }
    }

    pub fn has(&self, endorsement: Endorsement) -> bool {
        self.endorsements.contains(&endorsement)
    }
}
