//! Commitments into party-project associations, and the compliance profile a commitment names.
//!
//! A company is associated with a project while at least one of its commitments there is
//! active under the settings (status list or executed-only, kind not ignored) and both the
//! project and the company are in trestle. When the last one stops being active the
//! association ends: it is marked inactive, not deleted, so its history stays. Only
//! associations the integration made (those carrying commitment ids) are ended; one an
//! administrator made by hand in trestle is not the integration's to end.
//!
//! The profile: the commitment custom field named in the settings, when its value is exactly a
//! profile's name, gives the association that profile, and keeps it in step when the value
//! changes. A value naming no profile is reported with the closest names and never applied;
//! commitments naming different profiles are reported and none is applied. With no value the
//! association's profile is left alone.

use super::closest::closest;
use super::input::{ComplianceSnapshot, LocalCompliance, ProcoreCommitment};
use super::plan::{Action, Key};
use super::reason::{CarriedField, Reason};
use super::records::Present;
use super::settings::{CommitmentKind, ComplianceSettings};
use domain::compliance::{ComplianceProfile, PartyId, ProjectId};
use std::collections::{BTreeMap, BTreeSet};

/// Active commitments by (Procore project, Procore vendor), ids ascending.
pub(super) type Active<'a> = BTreeMap<(i64, i64), Vec<&'a ProcoreCommitment>>;

/// How many close profile names a typo is reported with.
const CLOSEST: usize = 3;

/// Sorts commitments into active ones and skips with the reason.
pub(super) fn active_commitments<'a>(
    snapshot: &'a ComplianceSnapshot,
    settings: &ComplianceSettings,
    projects_in: &Present<ProjectId>,
    out: &mut Vec<Action>,
) -> Active<'a> {
    let mut active = Active::new();
    let mut commitments: Vec<&ProcoreCommitment> = snapshot.commitments.iter().collect();
    commitments.sort_by_key(|c| c.id);
    for c in commitments {
        let skip = |reason| Action::Skip {
            key: Key::Commitment { procore_id: c.id },
            reason,
        };
        let Some(vendor) = c.procore_vendor_id else {
            out.push(skip(Reason::CommitmentHasNoVendor));
            continue;
        };
        if !projects_in.contains_key(&c.procore_project_id) {
            out.push(skip(Reason::ProjectNotLinked {
                procore_project_id: c.procore_project_id,
            }));
            continue;
        }
        let ignored = match c.kind {
            CommitmentKind::Subcontract => settings.ignore_subcontracts,
            CommitmentKind::PurchaseOrder => settings.ignore_purchase_orders,
        };
        if ignored {
            out.push(skip(Reason::CommitmentTypeIgnored { kind: c.kind }));
            continue;
        }
        let rule = &settings.active_commitments;
        if !rule.is_active(c.kind, c.status.as_deref(), c.executed) {
            out.push(skip(match rule.statuses(c.kind) {
                None => Reason::CommitmentNotExecuted { kind: c.kind },
                Some(list) => Reason::CommitmentNotActive {
                    kind: c.kind,
                    status: c.status.clone(),
                    active: list.to_vec(),
                },
            }));
            continue;
        }
        active
            .entry((c.procore_project_id, vendor))
            .or_default()
            .push(c);
    }
    active
}

/// Companies with an active commitment on a project in trestle, with their lowest such
/// commitment and its project: the ones company import through commitments brings in.
pub(super) fn importable_companies(active: &Active<'_>) -> BTreeMap<i64, (i64, i64)> {
    let mut out: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for ((project, vendor), commitments) in active {
        let first = (commitments[0].id, *project);
        out.entry(*vendor)
            .and_modify(|e| *e = (*e).min(first))
            .or_insert(first);
    }
    out
}

/// When commitments are active but the profile field setting names no field Procore defines
/// and no commitment carries, nothing would say why no profile is ever applied: one skip says
/// so, naming the custom fields the commitments do carry (label and key), so the administrator
/// can fix the setting or the field. A field that exists but is empty everywhere is not
/// reported (an empty value leaves the profile alone).
pub(super) fn profile_field_missing(
    snapshot: &ComplianceSnapshot,
    settings: &ComplianceSettings,
    active: &Active<'_>,
) -> Option<Action> {
    let field = &settings.profile_field;
    if field.trim().is_empty() || active.is_empty() {
        return None;
    }
    let defined = snapshot.custom_field_labels.values().any(|l| l == field)
        || snapshot.custom_field_labels.contains_key(field);
    let carried_anywhere = snapshot
        .commitments
        .iter()
        .any(|c| c.custom_fields.contains_key(field));
    if defined || carried_anywhere {
        return None;
    }
    let keys: BTreeSet<&String> = snapshot
        .commitments
        .iter()
        .flat_map(|c| c.custom_fields.keys())
        .filter(|k| k.starts_with("custom_field_"))
        .collect();
    let carried = keys
        .into_iter()
        .map(|key| CarriedField {
            key: key.clone(),
            label: snapshot.custom_field_labels.get(key).cloned(),
        })
        .collect();
    Some(Action::Skip {
        key: Key::Setting {
            name: "profile field".into(),
        },
        reason: Reason::ProfileFieldNotFound {
            field: field.clone(),
            carried,
            definitions_unreadable: snapshot.custom_field_problem.clone(),
        },
    })
}

/// The profile the commitments name, reporting the values that name none.
fn profile_for<'p>(
    key: &Key,
    commitments: &[&ProcoreCommitment],
    settings: &ComplianceSettings,
    profiles: &'p [ComplianceProfile],
    out: &mut Vec<Action>,
) -> Option<&'p ComplianceProfile> {
    let field = &settings.profile_field;
    let mut named: Vec<&ComplianceProfile> = Vec::new();
    for c in commitments {
        let Some(value) = c.custom_fields.get(field).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        match profiles
            .iter()
            .filter(|p| &p.name == value)
            .min_by_key(|p| p.id)
        {
            Some(p) => named.push(p),
            None => out.push(Action::Skip {
                key: Key::Commitment { procore_id: c.id },
                reason: Reason::UnknownProfile {
                    field: field.clone(),
                    value: value.clone(),
                    closest: closest(value, profiles.iter().map(|p| p.name.as_str()), CLOSEST),
                },
            }),
        }
    }
    named.sort_by_key(|p| p.id);
    named.dedup_by_key(|p| p.id);
    match named.as_slice() {
        [] => None,
        [one] => Some(one),
        many => {
            out.push(Action::Skip {
                key: key.clone(),
                reason: Reason::ConflictingProfiles {
                    field: field.clone(),
                    profiles: many.iter().map(|p| p.name.clone()).collect(),
                },
            });
            None
        }
    }
}

pub(super) fn plan_associations(
    active: &Active<'_>,
    local: &LocalCompliance,
    settings: &ComplianceSettings,
    projects_in: &Present<ProjectId>,
    vendors_in: &Present<PartyId>,
    out: &mut Vec<Action>,
) {
    for (&(procore_project_id, procore_vendor_id), commitments) in active {
        let Some(party) = vendors_in.get(&procore_vendor_id) else {
            for c in commitments {
                out.push(Action::Skip {
                    key: Key::Commitment { procore_id: c.id },
                    reason: Reason::CompanyNotInTrestle { procore_vendor_id },
                });
            }
            continue;
        };
        let key = Key::Association {
            procore_project_id,
            procore_vendor_id,
        };
        let commitment_ids: Vec<i64> = commitments.iter().map(|c| c.id).collect();
        let profile = profile_for(&key, commitments, settings, &local.profiles, out);
        let existing = match (projects_in[&procore_project_id], party) {
            (Some(project), Some(party)) => local
                .party_projects
                .iter()
                .find(|a| a.project_id == project && a.party_id == *party),
            _ => None,
        };
        match existing {
            Some(a) if a.active => {
                let mut had = a.procore_commitment_ids.clone();
                had.sort_unstable();
                let new_profile = profile.filter(|p| a.profile_id != Some(p.id));
                if had != commitment_ids || new_profile.is_some() {
                    out.push(Action::UpdateAssociation {
                        procore_project_id,
                        procore_vendor_id,
                        party_id: a.party_id,
                        project_id: a.project_id,
                        commitment_ids: commitment_ids.clone(),
                        profile_id: profile.map(|p| p.id),
                        reason: Reason::AssociationUpdated {
                            commitment_ids,
                            profile: new_profile.map(|p| p.name.clone()),
                        },
                    });
                }
            }
            _ => out.push(Action::Associate {
                procore_project_id,
                procore_vendor_id,
                commitment_ids: commitment_ids.clone(),
                profile_id: profile.map(|p| p.id),
                reason: Reason::Associated {
                    commitment_ids,
                    profile: profile.map(|p| p.name.clone()),
                },
            }),
        }
    }

    // Associations the integration made whose last active commitment is gone.
    let project_of: BTreeMap<ProjectId, i64> = projects_in
        .iter()
        .filter_map(|(procore, id)| id.map(|id| (id, *procore)))
        .collect();
    let vendor_of: BTreeMap<PartyId, i64> = vendors_in
        .iter()
        .filter_map(|(procore, id)| id.map(|id| (id, *procore)))
        .collect();
    for a in &local.party_projects {
        if !a.active || a.procore_commitment_ids.is_empty() {
            continue;
        }
        let (Some(&procore_project_id), Some(&procore_vendor_id)) =
            (project_of.get(&a.project_id), vendor_of.get(&a.party_id))
        else {
            continue;
        };
        if !active.contains_key(&(procore_project_id, procore_vendor_id)) {
            out.push(Action::EndAssociation {
                procore_project_id,
                procore_vendor_id,
                party_id: a.party_id,
                project_id: a.project_id,
                reason: Reason::AssociationEnded,
            });
        }
    }
}
