//! An app project, and how its status follows Procore.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A project's status in the workforce app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ProjectStatus {
    Active,
    Upcoming,
    Completed,
}

impl ProjectStatus {
    /// The seed's rule: active in Procore is Active; inactive with a start date in the future is
    /// Upcoming; inactive with a start date in the past is Completed.
    ///
    /// The seed is silent on two edges, decided here: a start date of today is not "in the
    /// future", so it is Completed; an inactive project with no start date cannot be upcoming,
    /// so it is Completed too.
    pub fn from_procore(active: bool, start_date: Option<NaiveDate>, today: NaiveDate) -> Self {
        match (active, start_date) {
            (true, _) => ProjectStatus::Active,
            (false, Some(start)) if start > today => ProjectStatus::Upcoming,
            (false, _) => ProjectStatus::Completed,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ProjectStatus::Active => "Active",
            ProjectStatus::Upcoming => "Upcoming",
            ProjectStatus::Completed => "Completed",
        }
    }

    /// Parses the stored name back.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Active, Self::Upcoming, Self::Completed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// The fields the workforce app keeps for a project, all mapped from Procore.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProjectFields {
    pub name: String,
    pub project_number: Option<String>,
    pub private_description: Option<String>,
    pub public_info: Option<String>,
    pub street_address: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
    pub country: Option<String>,
}

/// A project as the app holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub id: i64,
    pub fields: ProjectFields,
    pub status: ProjectStatus,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn project_status_follows_the_active_flag_and_the_start_date() {
        let today = d("2026-11-22");
        let cases = [
            ("active, no start", true, None, ProjectStatus::Active),
            (
                "active, future start",
                true,
                Some(d("2027-01-01")),
                ProjectStatus::Active,
            ),
            (
                "active, past start",
                true,
                Some(d("2020-01-01")),
                ProjectStatus::Active,
            ),
            (
                "inactive, future start",
                false,
                Some(d("2026-11-23")),
                ProjectStatus::Upcoming,
            ),
            (
                "inactive, past start",
                false,
                Some(d("2026-11-21")),
                ProjectStatus::Completed,
            ),
            (
                "inactive, starts today",
                false,
                Some(today),
                ProjectStatus::Completed,
            ),
            (
                "inactive, no start date",
                false,
                None,
                ProjectStatus::Completed,
            ),
        ];
        for (name, active, start, expected) in cases {
            assert_eq!(
                ProjectStatus::from_procore(active, start, today),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn project_status_names_round_trip() {
        for s in [
            ProjectStatus::Active,
            ProjectStatus::Upcoming,
            ProjectStatus::Completed,
        ] {
            assert_eq!(ProjectStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(ProjectStatus::parse("Archived"), None);
    }
}
