//! The planner's inputs: Procore records as the collector saw them, trestle's compliance
//! records with their links and the administrator's mapping decisions, and the insurance
//! records trestle would write with those it wrote last.
//!
//! These are not the `procore` crate's wire models: the collector has already chosen which of
//! Procore's fields carries a value (v1.0 or v2.0, `company` or `name`), rendered amounts as
//! text and dropped deleted records, so the rules below read one shape and are tested without
//! JSON.

use super::settings::CommitmentKind;
use chrono::NaiveDate;
use domain::compliance::{
    ComplianceProfile, Contact, InsuranceRecord, Party, PartyId, PartyProject, Project, ProjectId,
    Target,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A Procore project the integration's service user can see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcoreProject {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub completion_date: Option<NaiveDate>,
    pub project_number: Option<String>,
    /// Procore's `total_value` as text, as the collector renders the decimal (normalized, no
    /// thousands separators): custom fields hold text.
    pub total_value: Option<String>,
    pub active: bool,
}

/// A company in Procore's company directory (a vendor), with its contacts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcoreVendor {
    pub id: i64,
    pub name: String,
    pub address: Option<String>,
    pub city: Option<String>,
    pub state_code: Option<String>,
    pub zip: Option<String>,
    pub country_code: Option<String>,
    pub website: Option<String>,
    pub active: bool,
    /// The id of the vendor's primary contact, comparable with [`ProcoreContact::id`].
    pub primary_contact_id: Option<i64>,
    /// The company users of this vendor (company-level contacts only; project-level contacts
    /// are not supported).
    pub contacts: Vec<ProcoreContact>,
}

/// A company-level contact of a vendor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcoreContact {
    /// Procore's contact id (a company user's `contact_id`), the id the vendor's
    /// `primary_contact` carries.
    pub id: i64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub business_phone: Option<String>,
    pub mobile_phone: Option<String>,
    pub fax: Option<String>,
}

/// A subcontract (work order contract) or purchase order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcoreCommitment {
    pub id: i64,
    pub kind: CommitmentKind,
    pub procore_project_id: i64,
    pub procore_vendor_id: Option<i64>,
    pub status: Option<String>,
    pub executed: bool,
    /// Custom field values as text, by Procore's key (`custom_field_<id>`) and, in the
    /// planner's snapshot, also by the field's label.
    #[serde(default)]
    pub custom_fields: BTreeMap<String, String>,
}

/// What the collector read from Procore for one sync.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplianceSnapshot {
    pub projects: Vec<ProcoreProject>,
    pub vendors: Vec<ProcoreVendor>,
    /// Commitments of every project the collector read, deleted ones left out.
    pub commitments: Vec<ProcoreCommitment>,
    /// The labels of the custom fields Procore defines, by key (`custom_field_<id>`).
    #[serde(default)]
    pub custom_field_labels: BTreeMap<String, String>,
    /// Why Procore's custom field definitions could not be read, when they could not.
    #[serde(default)]
    pub custom_field_problem: Option<String>,
}

/// An administrator's decision for one Procore project or company.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mapping<Id> {
    /// No decision yet: listed for mapping (or imported automatically, per the settings).
    #[default]
    Undecided,
    /// Import as a new trestle record.
    Import,
    /// Link to an existing trestle record.
    LinkTo(Id),
    /// Ignored by every sync from now on, even if a record was linked before.
    DoNotAdd,
}

/// Whose compliance an insurance record reports: `domain`'s [`Target`], serializable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InsuranceTarget {
    pub party: PartyId,
    /// `None` for the party's global compliance.
    pub project: Option<ProjectId>,
}

impl From<Target> for InsuranceTarget {
    fn from(t: Target) -> Self {
        InsuranceTarget {
            party: t.party,
            project: t.project,
        }
    }
}

/// A record trestle would write now: an evaluation rendered in the configured format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredInsurance {
    pub target: InsuranceTarget,
    pub record: InsuranceRecord,
}

/// The record trestle last wrote under an origin id, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrittenInsurance {
    pub record: InsuranceRecord,
    pub written_on: NaiveDate,
    /// Procore's id for the record, to remove it when trestle no longer reports it.
    #[serde(default)]
    pub procore_insurance_id: Option<i64>,
    /// Where it was written: the Procore company, and the project for a project-level record.
    /// `None` when not known (written before trestle kept it): taken to be where the party and
    /// project are linked now.
    #[serde(default)]
    pub written_to: Option<(i64, Option<i64>)>,
}

/// An insurance record as Procore holds it now: the fields trestle manages, to compare with
/// what trestle last wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcoreInsurance {
    pub procore_vendor_id: Option<i64>,
    /// The Procore project of a project-level record.
    pub procore_project_id: Option<i64>,
    pub insurance_type: Option<String>,
    pub status: Option<String>,
    pub effective_date: Option<NaiveDate>,
    pub expiration_date: Option<NaiveDate>,
    pub policy_number: Option<String>,
    pub insurer: Option<String>,
    pub notes: Option<String>,
}

/// Procore's copies of the records trestle wrote, read on a whole read (Procore's insurance
/// lists have neither filters nor timestamps, so an edit made in Procore cannot be read as a
/// change).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcoreCopies {
    /// The collections read whole: `None` for the company level, else the Procore project. A
    /// record at a place not read is not compared.
    pub read: std::collections::BTreeSet<Option<i64>>,
    /// By origin id: every `trestle:` record found in them.
    pub by_origin: BTreeMap<String, ProcoreInsurance>,
}

/// trestle's side: its compliance records, their links (the Procore ids they carry), the
/// mapping decisions, and the write-back state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalCompliance {
    /// A party is linked to the vendor whose id it carries in `procore_vendor_id`.
    pub parties: Vec<Party>,
    /// A project is linked to the Procore project whose id it carries in `procore_project_id`.
    pub projects: Vec<Project>,
    /// Project custom fields by project, by label. The planner manages
    /// [`PROJECT_NUMBER_FIELD`](super::settings::PROJECT_NUMBER_FIELD) and
    /// [`TOTAL_VALUE_FIELD`](super::settings::TOTAL_VALUE_FIELD) and leaves the rest alone.
    pub project_custom_fields: BTreeMap<ProjectId, BTreeMap<String, String>>,
    pub party_projects: Vec<PartyProject>,
    pub contacts: Vec<Contact>,
    /// Profiles, for the commitment custom field to name.
    pub profiles: Vec<ComplianceProfile>,
    /// Decisions by Procore project id; a project not listed is undecided.
    pub project_mappings: BTreeMap<i64, Mapping<ProjectId>>,
    /// Decisions by Procore vendor id; a vendor not listed is undecided.
    pub vendor_mappings: BTreeMap<i64, Mapping<PartyId>>,
    /// The records trestle would write now, one per origin id.
    pub insurance: Vec<DesiredInsurance>,
    /// What was last written, by origin id.
    pub written: BTreeMap<String, WrittenInsurance>,
}
