//! Waivers and overrides: a person's decision that beats the evidence, for a while.
//!
//! Both follow TrustLayer: a *waiver* says the requirement is not required, an *override* says
//! to treat it as met although the evidence says otherwise. Both need a reason (an auditor will
//! ask) and may end on a date, after which the requirement is evaluated as if they never were.

use super::profile::Subject;
use super::records::{PartyId, ProjectId, WaiverId};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Waive (not required) or override (treat as met).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaiverKind {
    Waive,
    Override,
}

/// What a waiver covers: one requirement, or a whole subject.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaiverTarget {
    /// A requirement key; it matches that key in whatever profile applies.
    Requirement(String),
    Subject(Subject),
}

/// Where a waiver applies.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaiverScope {
    /// The party's global compliance only (TrustLayer's default).
    #[default]
    Global,
    /// Global compliance and every project, present and future (TrustLayer's
    /// `applyToAllProjects`).
    Everywhere,
    /// One party-project.
    Project(ProjectId),
}

impl WaiverScope {
    /// Whether the scope reaches a project (`Some`) or global compliance (`None`).
    pub fn covers(self, project: Option<ProjectId>) -> bool {
        match (self, project) {
            (WaiverScope::Everywhere, _) => true,
            (WaiverScope::Global, None) => true,
            (WaiverScope::Global, Some(_)) => false,
            (WaiverScope::Project(p), Some(q)) => p == q,
            (WaiverScope::Project(_), None) => false,
        }
    }

    /// A waiver made for one project knows more than a broad one, so it wins.
    pub(crate) fn specificity(self) -> u8 {
        match self {
            WaiverScope::Project(_) => 1,
            WaiverScope::Global | WaiverScope::Everywhere => 0,
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiver {
    pub id: WaiverId,
    pub party_id: PartyId,
    #[serde(default)]
    pub scope: WaiverScope,
    pub target: WaiverTarget,
    pub kind: WaiverKind,
    /// Required: validation rejects an empty one.
    pub reason: String,
    /// Last day the waiver applies (inclusive); `None` applies until removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
}

impl Waiver {
    /// Whether the waiver still applies on `today`.
    pub fn is_live(&self, today: NaiveDate) -> bool {
        self.until.is_none_or(|until| today <= until)
    }
}
