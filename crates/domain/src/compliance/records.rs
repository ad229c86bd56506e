//! The records the compliance app shares with Procore: parties, projects, the associations
//! between them, and contacts.
//!
//! Procore is the system of record for these (a company is a party, a commitment is a
//! party-project association), so they carry little beyond what decides compliance: which
//! profile applies. Ids are trestle's own; the Procore ids ride along so the write-back knows
//! where a record goes without a second look-up.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A party (a Procore company / vendor) in trestle's store.
    PartyId
);
id_type!(
    /// A project in the compliance app; distinct from the workforce app's project ids.
    ProjectId
);
id_type!(
    /// A compliance profile.
    ProfileId
);
id_type!(
    /// A certificate of insurance.
    CertificateId
);
id_type!(
    /// A waiver or override; its id breaks ties between equally specific waivers.
    WaiverId
);
id_type!(
    /// A contact of a party.
    ContactId
);

/// The currency of a limit or a minimum.
///
/// Certificates come in US or Canadian dollars, and "$1,000,000" means different money in each,
/// so a limit is only compared with a minimum of the same currency.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    #[default]
    Usd,
    Cad,
}

impl Currency {
    pub fn code(self) -> &'static str {
        match self {
            Currency::Usd => "USD",
            Currency::Cad => "CAD",
        }
    }

    /// The prefix a reader expects in front of an amount.
    pub fn symbol(self) -> &'static str {
        match self {
            Currency::Usd => "$",
            Currency::Cad => "CA$",
        }
    }
}

/// A party: a subcontractor or vendor whose insurance is tracked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ImportParty))]
pub struct Party {
    pub id: PartyId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(default = "yes")]
    pub active: bool,
    /// The Procore company directory vendor this party mirrors; the company-level insurance
    /// records go to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procore_vendor_id: Option<i64>,
    /// The profile for the party's global compliance, and the fallback for its projects. `None`
    /// means compliance is not tracked for this party.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_id: Option<ProfileId>,
}

/// A project, as the compliance app sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ImportProject))]
pub struct Project {
    pub id: ProjectId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_date: Option<NaiveDate>,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procore_project_id: Option<i64>,
}

/// A party working on a project (a Procore commitment).
///
/// It may carry its own profile because one project can demand more than the party's usual
/// requirements (a higher umbrella on a tower job); without one the party's profile applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ImportAssociation))]
pub struct PartyProject {
    pub party_id: PartyId,
    pub project_id: ProjectId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_id: Option<ProfileId>,
    #[serde(default = "yes")]
    pub active: bool,
    /// The commitments that made this association; several can (a PO and a subcontract).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub procore_commitment_ids: Vec<i64>,
}

/// A company-level contact of a party (the seed: project-level contacts are not supported).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ImportContact))]
pub struct Contact {
    pub id: ContactId,
    pub party_id: PartyId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fax: Option<String>,
    #[serde(default)]
    pub primary: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procore_contact_id: Option<i64>,
}

fn yes() -> bool {
    true
}
