//! The plan: what one sync would change, each action with its [`Reason`], in the order an
//! executor applies it.
//!
//! [`plan`] is a pure function of the snapshot, trestle's records, the settings and today's
//! date. The same input gives the same plan, and applying a plan then planning again gives no
//! changes, so the plan doubles as the seed's dry run: an import or a link lists, field by
//! field, what it would write before it is made.

use super::fields::{ContactFields, FieldChange, PartyFields, ProjectFields};
use super::input::{ComplianceSnapshot, LocalCompliance};
use super::reason::Reason;
use super::settings::{ComplianceSettings, InsuranceLevel};
use super::{associations, insurance, records};
use chrono::NaiveDate;
use domain::compliance::{ContactId, InsuranceRecord, PartyId, ProfileId, ProjectId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What an action is about, and the order actions apply in: projects and companies exist
/// before their contacts and associations, and associations before the insurance written for
/// them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Key {
    Project {
        procore_id: i64,
    },
    Company {
        procore_id: i64,
    },
    Contact {
        procore_id: i64,
    },
    /// A trestle contact Procore does not know (only ever to clear its primary flag).
    LocalContact {
        contact_id: ContactId,
    },
    Commitment {
        procore_id: i64,
    },
    Association {
        procore_project_id: i64,
        procore_vendor_id: i64,
    },
    /// A compliance setting, by the name `trestle compliance settings` shows: for what is wrong
    /// with the setting itself rather than with one record.
    Setting {
        name: String,
    },
    Insurance {
        origin_id: String,
    },
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Project { procore_id } => write!(f, "Procore project {procore_id}"),
            Key::Company { procore_id } => write!(f, "Procore company {procore_id}"),
            Key::Contact { procore_id } => write!(f, "Procore contact {procore_id}"),
            Key::LocalContact { contact_id } => write!(f, "trestle contact {contact_id}"),
            Key::Commitment { procore_id } => write!(f, "Procore commitment {procore_id}"),
            Key::Association {
                procore_project_id,
                procore_vendor_id,
            } => write!(
                f,
                "Procore company {procore_vendor_id} on Procore project {procore_project_id}"
            ),
            Key::Setting { name } => write!(f, "setting \"{name}\""),
            Key::Insurance { origin_id } => write!(f, "insurance record {origin_id}"),
        }
    }
}

/// One decision of the planner.
///
/// Contacts and associations name their company and project by Procore id: the company may be
/// created by the same plan, and the executor finds the trestle record by the Procore id it
/// carries once the earlier actions are applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// A new trestle project carrying `procore_id`.
    CreateProject {
        procore_id: i64,
        fields: ProjectFields,
        changes: Vec<FieldChange>,
        reason: Reason,
    },
    /// Link an existing project: it carries `procore_id` from now on (and any other project
    /// carrying it stops), and takes `fields`.
    LinkProject {
        procore_id: i64,
        project_id: ProjectId,
        fields: ProjectFields,
        changes: Vec<FieldChange>,
        reason: Reason,
    },
    UpdateProject {
        procore_id: i64,
        project_id: ProjectId,
        fields: ProjectFields,
        changes: Vec<FieldChange>,
        reason: Reason,
    },
    CreateParty {
        procore_vendor_id: i64,
        fields: PartyFields,
        changes: Vec<FieldChange>,
        reason: Reason,
    },
    /// As [`Action::LinkProject`], for a party.
    LinkParty {
        procore_vendor_id: i64,
        party_id: PartyId,
        fields: PartyFields,
        changes: Vec<FieldChange>,
        reason: Reason,
    },
    UpdateParty {
        procore_vendor_id: i64,
        party_id: PartyId,
        fields: PartyFields,
        changes: Vec<FieldChange>,
        reason: Reason,
    },
    CreateContact {
        procore_vendor_id: i64,
        procore_contact_id: i64,
        fields: ContactFields,
        changes: Vec<FieldChange>,
        reason: Reason,
    },
    /// Update a contact; it carries `procore_contact_id` afterwards when that is set.
    UpdateContact {
        procore_vendor_id: i64,
        contact_id: ContactId,
        procore_contact_id: Option<i64>,
        fields: ContactFields,
        changes: Vec<FieldChange>,
        reason: Reason,
    },
    /// Create the party-project association, or make an ended one active again, with exactly
    /// these commitments. `profile_id` set means the association takes that profile; `None`
    /// leaves the profile as it is (the party's profile applies to a new one).
    Associate {
        procore_project_id: i64,
        procore_vendor_id: i64,
        commitment_ids: Vec<i64>,
        profile_id: Option<ProfileId>,
        reason: Reason,
    },
    /// An active association whose commitments or profile changed; fields as for
    /// [`Action::Associate`].
    UpdateAssociation {
        procore_project_id: i64,
        procore_vendor_id: i64,
        party_id: PartyId,
        project_id: ProjectId,
        commitment_ids: Vec<i64>,
        profile_id: Option<ProfileId>,
        reason: Reason,
    },
    /// Mark the association inactive and clear its commitments; it is kept for history.
    EndAssociation {
        procore_project_id: i64,
        procore_vendor_id: i64,
        party_id: PartyId,
        project_id: ProjectId,
        reason: Reason,
    },
    /// Upsert the record by its origin id at the vendor's company level, or on the project when
    /// `procore_project_id` is set, and remember it as written on `as_of`.
    WriteInsurance {
        level: InsuranceLevel,
        procore_vendor_id: i64,
        procore_project_id: Option<i64>,
        record: InsuranceRecord,
        as_of: NaiveDate,
        reason: Reason,
    },
    /// Take a record trestle wrote out of Procore.
    RemoveInsurance {
        level: InsuranceLevel,
        procore_vendor_id: i64,
        procore_project_id: Option<i64>,
        origin_id: String,
        /// `None` when Procore's answer to the write named no id: the record is found by its
        /// origin id.
        procore_insurance_id: Option<i64>,
        reason: Reason,
    },
    Skip {
        key: Key,
        reason: Reason,
    },
}

impl Action {
    pub fn reason(&self) -> &Reason {
        match self {
            Action::CreateProject { reason, .. }
            | Action::LinkProject { reason, .. }
            | Action::UpdateProject { reason, .. }
            | Action::CreateParty { reason, .. }
            | Action::LinkParty { reason, .. }
            | Action::UpdateParty { reason, .. }
            | Action::CreateContact { reason, .. }
            | Action::UpdateContact { reason, .. }
            | Action::Associate { reason, .. }
            | Action::UpdateAssociation { reason, .. }
            | Action::EndAssociation { reason, .. }
            | Action::WriteInsurance { reason, .. }
            | Action::RemoveInsurance { reason, .. }
            | Action::Skip { reason, .. } => reason,
        }
    }

    /// The record this action is about.
    pub fn key(&self) -> Key {
        match self {
            Action::CreateProject { procore_id, .. }
            | Action::LinkProject { procore_id, .. }
            | Action::UpdateProject { procore_id, .. } => Key::Project {
                procore_id: *procore_id,
            },
            Action::CreateParty {
                procore_vendor_id, ..
            }
            | Action::LinkParty {
                procore_vendor_id, ..
            }
            | Action::UpdateParty {
                procore_vendor_id, ..
            } => Key::Company {
                procore_id: *procore_vendor_id,
            },
            Action::CreateContact {
                procore_contact_id, ..
            } => Key::Contact {
                procore_id: *procore_contact_id,
            },
            Action::UpdateContact {
                procore_contact_id,
                contact_id,
                ..
            } => match procore_contact_id {
                Some(id) => Key::Contact { procore_id: *id },
                None => Key::LocalContact {
                    contact_id: *contact_id,
                },
            },
            Action::Associate {
                procore_project_id,
                procore_vendor_id,
                ..
            }
            | Action::UpdateAssociation {
                procore_project_id,
                procore_vendor_id,
                ..
            }
            | Action::EndAssociation {
                procore_project_id,
                procore_vendor_id,
                ..
            } => Key::Association {
                procore_project_id: *procore_project_id,
                procore_vendor_id: *procore_vendor_id,
            },
            Action::WriteInsurance { record, .. } => Key::Insurance {
                origin_id: record.origin_id.clone(),
            },
            Action::RemoveInsurance { origin_id, .. } => Key::Insurance {
                origin_id: origin_id.clone(),
            },
            Action::Skip { key, .. } => key.clone(),
        }
    }

    /// The field-by-field changes of a create, link or update (empty for other actions).
    pub fn field_changes(&self) -> &[FieldChange] {
        match self {
            Action::CreateProject { changes, .. }
            | Action::LinkProject { changes, .. }
            | Action::UpdateProject { changes, .. }
            | Action::CreateParty { changes, .. }
            | Action::LinkParty { changes, .. }
            | Action::UpdateParty { changes, .. }
            | Action::CreateContact { changes, .. }
            | Action::UpdateContact { changes, .. } => changes,
            _ => &[],
        }
    }

    /// Whether applying this action changes anything.
    pub fn is_change(&self) -> bool {
        !matches!(self, Action::Skip { .. })
    }
}

/// The planner's output, sorted by [`Key`] (the apply order) so equal input gives an equal
/// plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub actions: Vec<Action>,
}

impl Plan {
    pub fn changes(&self) -> impl Iterator<Item = &Action> {
        self.actions.iter().filter(|a| a.is_change())
    }

    pub fn has_changes(&self) -> bool {
        self.changes().next().is_some()
    }

    /// Splits off the insurance actions (writes, removals and their skips), which sort last:
    /// `(records, insurance)`. A sync applies the records first, then plans the insurance again
    /// on what they became.
    pub fn split_insurance(self) -> (Plan, Plan) {
        let (insurance, records) = self
            .actions
            .into_iter()
            .partition(|a| matches!(a.key(), Key::Insurance { .. }));
        (Plan { actions: records }, Plan { actions: insurance })
    }

    /// Every action about one record: what `explain` prints.
    pub fn about(&self, key: &Key) -> impl Iterator<Item = &Action> {
        let key = key.clone();
        self.actions.iter().filter(move |a| a.key() == key)
    }
}

/// Plans one compliance sync.
///
/// `today` dates the insurance writes (the next plan compares with what was written then).
pub fn plan(
    snapshot: &ComplianceSnapshot,
    local: &LocalCompliance,
    settings: &ComplianceSettings,
    today: NaiveDate,
) -> Plan {
    let mut actions = Vec::new();
    let projects_in = records::plan_projects(snapshot, local, settings, &mut actions);
    let active = associations::active_commitments(snapshot, settings, &projects_in, &mut actions);
    let importable = associations::importable_companies(&active);
    let vendors_in = records::plan_vendors(snapshot, local, settings, &importable, &mut actions);
    records::plan_contacts(snapshot, local, settings, &vendors_in, &mut actions);
    associations::plan_associations(
        &active,
        local,
        settings,
        &projects_in,
        &vendors_in,
        &mut actions,
    );
    actions.extend(associations::profile_field_missing(
        snapshot, settings, &active,
    ));
    insurance::plan_insurance(
        local,
        settings,
        &projects_in,
        &vendors_in,
        today,
        &mut actions,
    );
    actions.sort_by_key(Action::key);
    Plan { actions }
}
