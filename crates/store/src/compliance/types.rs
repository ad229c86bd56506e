//! The compliance records' public types that are not domain types: how a change names what it
//! needs, the changes and mapping decisions an apply writes, and the insurance write state.

use crate::models::{CompanyId, CursorUpdate, NewOutboxItem, RunEntry, RunId};
use chrono::{DateTime, Utc};
use domain::compliance::{Contact, InsuranceRecord, Party, PartyId, ProfileId, Project, ProjectId};
use std::collections::BTreeMap;

/// A compliance project's custom fields (Procore's project number, total value, ...), by name.
///
/// Kept beside [`Project`] rather than in it because evaluation never reads them; they are
/// text so a money amount keeps every digit.
pub type CustomFields = BTreeMap<String, String>;

/// A compliance project with its custom fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplianceProjectRecord {
    pub project: Project,
    pub custom_fields: CustomFields,
}

/// How a change names a party or project it needs: by id, by the Procore id it is linked to,
/// or as the record an earlier create of the same batch made (its index in
/// [`ComplianceBatch::changes`]), whose id the caller cannot know beforehand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ref<I> {
    Id(I),
    Procore(i64),
    Created(usize),
}

/// One change to the compliance records that an apply writes.
///
/// A create's record id (and a contact's `party_id`) is ignored: the store assigns ids. A
/// create links the record's Procore id (`procore_vendor_id`, `procore_project_id`,
/// `procore_contact_id`) when it has one; if that Procore id is already linked nothing is
/// written and the linked id is returned, so applying a plan twice is harmless. Updates
/// replace every field with what is given, except a party's profile (see
/// [`ComplianceChange::UpdateParty`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComplianceChange {
    CreateParty {
        party: Party,
    },
    /// Writes the party's Procore-owned columns (name, address, website, active, Procore
    /// company); its `profile_id` is ignored and the stored one kept, as the profile is a
    /// person's (see [`Store::set_party_profile`](crate::Store::set_party_profile)).
    UpdateParty {
        party: Party,
    },
    CreateProject {
        project: Project,
        custom_fields: CustomFields,
    },
    UpdateProject {
        project: Project,
        custom_fields: CustomFields,
    },
    /// Creates or replaces the association of a party and a project (one per pair). A
    /// `profile_id` of `None` keeps the association's stored profile: a sync sets one only
    /// when a commitment names it, and must not undo one a person set after it read the
    /// association.
    SetPartyProject {
        party: Ref<PartyId>,
        project: Ref<ProjectId>,
        profile_id: Option<ProfileId>,
        active: bool,
        procore_commitment_ids: Vec<i64>,
    },
    CreateContact {
        party: Ref<PartyId>,
        contact: Contact,
    },
    /// Replaces a contact's fields; its party stays.
    UpdateContact {
        contact: Contact,
    },
}

/// The two kinds of Procore record a person decides about before they reach the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ProcoreRecordKind {
    Project,
    /// A company of the Procore directory (a vendor): a party.
    Company,
}

impl ProcoreRecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProcoreRecordKind::Project => "project",
            ProcoreRecordKind::Company => "company",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [ProcoreRecordKind::Project, ProcoreRecordKind::Company]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// What to do with a Procore project or company (TrustLayer's mapping screen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(tag = "decision", content = "local_id", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MappingDecision {
    /// Seen, nobody decided yet.
    Undecided,
    /// Bring it in as a new party or project.
    Import,
    /// It is this existing party or project (the local id).
    LinkTo(i64),
    /// Ignore it for good: a sync never brings it back.
    DoNotAdd,
}

impl MappingDecision {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            MappingDecision::Undecided => "undecided",
            MappingDecision::Import => "import",
            MappingDecision::LinkTo(_) => "link_to",
            MappingDecision::DoNotAdd => "do_not_add",
        }
    }

    pub(super) fn local_id(self) -> Option<i64> {
        match self {
            MappingDecision::LinkTo(id) => Some(id),
            _ => None,
        }
    }
}

/// A stored mapping decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcoreMapping {
    pub company_id: CompanyId,
    pub kind: ProcoreRecordKind,
    pub procore_id: i64,
    pub decision: MappingDecision,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A mapping decision to write in an apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MappingWrite {
    pub kind: ProcoreRecordKind,
    pub procore_id: i64,
    pub decision: MappingDecision,
    /// Write only when the record has no decision yet: how a sync records a newly seen record
    /// (as undecided, or import under auto-import) without overruling a person's decision,
    /// "Do not add" above all.
    pub keep_existing: bool,
}

/// An insurance record trestle has written (or is writing) to Procore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsuranceWrite {
    /// Its `origin_id` is the key.
    pub record: InsuranceRecord,
    /// `None` keeps the id already stored: Procore's id is only known once a create answered.
    pub procore_insurance_id: Option<i64>,
    pub written_at: DateTime<Utc>,
    /// Where it was written: the Procore company, and the project for a project-level record.
    pub procore_vendor_id: Option<i64>,
    pub procore_project_id: Option<i64>,
}

/// The last insurance record written for one origin id, so a later sync can say "nothing
/// changed since the write on DATE" without asking Procore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsuranceWriteState {
    pub company_id: CompanyId,
    pub origin_id: String,
    pub record: InsuranceRecord,
    /// `record.status_fingerprint()` as text when it was written.
    pub fingerprint: String,
    pub procore_insurance_id: Option<i64>,
    pub written_at: DateTime<Utc>,
    /// Where it was written; `None` for writes recorded before trestle kept it.
    pub procore_vendor_id: Option<i64>,
    pub procore_project_id: Option<i64>,
}

/// Everything one compliance apply writes in one transaction.
#[derive(Debug, Clone, Copy, Default)]
pub struct ComplianceBatch<'a> {
    pub company_id: CompanyId,
    /// The run whose log receives `log`; no log is written without one.
    pub run: Option<RunId>,
    pub changes: &'a [ComplianceChange],
    pub mappings: &'a [MappingWrite],
    /// Insurance writes to Procore, for the drain.
    pub outbox: &'a [NewOutboxItem],
    pub insurance_writes: &'a [InsuranceWrite],
    pub cursors: &'a [CursorUpdate],
    pub log: &'a [RunEntry],
}
