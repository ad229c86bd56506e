//! The write-back plan: which insurance records go to Procore this sync.
//!
//! The caller evaluates and renders (in the configured format); this decides, per record,
//! whether it is written, and which records written before are removed. A record is written
//! when trestle has not written it before, when its subject-level status changed (status,
//! dates, policy number or insurer: `domain`'s
//! [`StatusFingerprint`](domain::compliance::StatusFingerprint)), or when only its notes
//! changed, which are written too so Procore's notes never go stale, with a reason saying the
//! status did not move. A record identical to the last one written is not written again. The
//! seed's troubleshooting reasons (sync off, level excluded, not linked) are skips with reasons.

use super::input::{LocalCompliance, Mapping, ProcoreCopies, ProcoreInsurance};
use super::plan::{Action, Key, Plan};
use super::reason::Reason;
use super::records::Present;
use super::settings::{ComplianceSettings, InsuranceLevel};
use chrono::NaiveDate;
use domain::compliance::{InsuranceRecord, PartyId, ProjectId, RecordChange};
use std::collections::{BTreeMap, BTreeSet};

/// A party's own compliance goes to the company level, a party-project's to the project level.
fn level_of(project: Option<ProjectId>) -> InsuranceLevel {
    match project {
        None => InsuranceLevel::CompanyVendor,
        Some(_) => InsuranceLevel::ProjectVendor,
    }
}

pub(super) fn plan_insurance(
    local: &LocalCompliance,
    settings: &ComplianceSettings,
    projects_in: &Present<ProjectId>,
    vendors_in: &Present<PartyId>,
    today: NaiveDate,
    out: &mut Vec<Action>,
) {
    // Linked (after this plan's links) and not marked Do not add.
    let vendor_of: BTreeMap<PartyId, i64> = vendors_in
        .iter()
        .filter_map(|(procore, id)| id.map(|id| (id, *procore)))
        .collect();
    let project_of: BTreeMap<ProjectId, i64> = projects_in
        .iter()
        .filter_map(|(procore, id)| id.map(|id| (id, *procore)))
        .collect();
    for desired in &local.insurance {
        let record = &desired.record;
        let skip = |reason| Action::Skip {
            key: Key::Insurance {
                origin_id: record.origin_id.clone(),
            },
            reason,
        };
        if !settings.compliance_sync {
            out.push(skip(Reason::ComplianceSyncOff));
            continue;
        }
        let level = level_of(desired.target.project);
        if !settings.level.includes(level) {
            out.push(skip(Reason::LevelExcludes {
                setting: settings.level,
                level,
            }));
            continue;
        }
        let Some(&procore_vendor_id) = vendor_of.get(&desired.target.party) else {
            out.push(skip(Reason::PartyNotLinked {
                party: desired.target.party,
            }));
            continue;
        };
        let procore_project_id = match desired.target.project {
            None => None,
            Some(project) => match project_of.get(&project) {
                Some(id) => Some(*id),
                None => {
                    out.push(skip(Reason::InsuranceProjectNotLinked { project }));
                    continue;
                }
            },
        };
        let reason = match local.written.get(&record.origin_id) {
            None => Reason::FirstWrite { level },
            // Its party or project is linked elsewhere since: out of the old place, into the
            // new one (the removal is drained first).
            Some(last)
                if last
                    .written_to
                    .is_some_and(|to| to != (procore_vendor_id, procore_project_id)) =>
            {
                let (from_vendor, from_project) = last.written_to.expect("checked");
                let reason = Reason::MovedInProcore {
                    from_vendor,
                    from_project,
                };
                out.push(Action::RemoveInsurance {
                    level,
                    procore_vendor_id: from_vendor,
                    procore_project_id: from_project,
                    origin_id: record.origin_id.clone(),
                    procore_insurance_id: last.procore_insurance_id,
                    reason: reason.clone(),
                });
                reason
            }
            Some(last) => match record.change_from(&last.record) {
                RecordChange::StatusChanged => Reason::StatusChanged {
                    from: last.record.status,
                    to: record.status,
                    since: last.written_on,
                },
                RecordChange::NotesOnly => Reason::NotesOnly {
                    since: last.written_on,
                },
                RecordChange::Unchanged => {
                    out.push(skip(Reason::NothingChangedSince {
                        on: last.written_on,
                    }));
                    continue;
                }
            },
        };
        out.push(Action::WriteInsurance {
            level,
            procore_vendor_id,
            procore_project_id,
            record: record.clone(),
            as_of: today,
            reason,
        });
    }
    if settings.compliance_sync {
        plan_removals(local, settings, &vendor_of, &project_of, out);
    }
}

/// Records trestle wrote and no longer reports are taken out of Procore: trestle owns them, and
/// a status nobody updates any more would mislead whoever reads it there. That covers a record
/// no longer rendered (an ended association, another format), one at a level the setting no
/// longer sends, and one whose party or project is no longer linked where it was written (the
/// link moved to another trestle record). Compliance sync off leaves Procore alone entirely, and
/// so does "Do not add" on the Procore company or project the record is under: that is the
/// administrator taking it out of trestle's hands.
fn plan_removals(
    local: &LocalCompliance,
    settings: &ComplianceSettings,
    vendor_of: &BTreeMap<PartyId, i64>,
    project_of: &BTreeMap<ProjectId, i64>,
    out: &mut Vec<Action>,
) {
    let reported: BTreeSet<&str> = local
        .insurance
        .iter()
        .map(|d| d.record.origin_id.as_str())
        .collect();
    for (origin_id, written) in &local.written {
        let Some(target) = domain::compliance::target_of(origin_id) else {
            continue;
        };
        let level = level_of(target.project);
        let linked_vendor = vendor_of.get(&target.party).copied();
        let linked_project = target.project.map(|p| project_of.get(&p).copied());
        // Where it was written; for a write recorded before trestle kept the place, where the
        // party and project are linked now.
        let place = written
            .written_to
            .or(match (linked_vendor, linked_project) {
                (Some(vendor), None) => Some((vendor, None)),
                (Some(vendor), Some(Some(project))) => Some((vendor, Some(project))),
                _ => None,
            });
        let Some((procore_vendor_id, procore_project_id)) = place else {
            continue;
        };
        let do_not_add = local.vendor_mappings.get(&procore_vendor_id) == Some(&Mapping::DoNotAdd)
            || procore_project_id
                .is_some_and(|p| local.project_mappings.get(&p) == Some(&Mapping::DoNotAdd));
        if do_not_add {
            continue;
        }
        let unlinked = linked_vendor.is_none() || linked_project == Some(None);
        let reason = if !reported.contains(origin_id.as_str()) {
            Reason::NoLongerReported
        } else if !settings.level.includes(level) {
            Reason::LevelNoLongerSent {
                setting: settings.level,
                level,
            }
        } else if unlinked {
            Reason::NoLongerLinked {
                procore_vendor_id,
                procore_project_id,
            }
        } else {
            continue;
        };
        out.push(Action::RemoveInsurance {
            level,
            procore_vendor_id,
            procore_project_id,
            origin_id: origin_id.clone(),
            procore_insurance_id: written.procore_insurance_id,
            reason,
        });
    }
}

/// The managed fields in which Procore's copy no longer says what trestle wrote: type, status,
/// notes, and the dates, policy number and insurer when trestle sent them (a field trestle
/// leaves out of its writes is not its to restore).
pub fn drifted_fields(written: &InsuranceRecord, copy: &ProcoreInsurance) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |name: &str, same: bool| {
        if !same {
            out.push(name.to_owned());
        }
    };
    check(
        "type",
        copy.insurance_type.as_deref() == Some(written.insurance_type.as_str()),
    );
    check(
        "status",
        copy.status.as_deref() == Some(written.status.as_str()),
    );
    check(
        "effective date",
        written.effective_date.is_none() || copy.effective_date == written.effective_date,
    );
    check(
        "expiration date",
        written.expiration_date.is_none() || copy.expiration_date == written.expiration_date,
    );
    check(
        "policy number",
        written.policy_number.is_none() || copy.policy_number == written.policy_number,
    );
    check(
        "insurer",
        written.insurer.is_none() || copy.insurer == written.insurer,
    );
    check(
        "notes",
        copy.notes.as_deref().unwrap_or_default() == written.notes,
    );
    out
}

/// Where the records this plan would not write again (nothing changed on trestle's side) were
/// written: the collections to read to compare them with Procore's copies (`None` for the
/// company level).
pub fn unchanged_places(plan: &Plan, local: &LocalCompliance) -> BTreeSet<Option<i64>> {
    plan.actions
        .iter()
        .filter_map(|a| match a {
            Action::Skip {
                key: Key::Insurance { origin_id },
                reason: Reason::NothingChangedSince { .. },
            } => local.written.get(origin_id)?.written_to.map(|(_, p)| p),
            _ => None,
        })
        .collect()
}

/// trestle's fields win over edits made in Procore: a record this plan would not write again
/// (nothing changed on trestle's side) is written again when Procore's copy differs in a field
/// trestle manages, or is gone. Records at places not read are left as planned.
pub fn restore_drifted(
    plan: Plan,
    local: &LocalCompliance,
    copies: &ProcoreCopies,
    today: NaiveDate,
) -> Plan {
    let actions = plan
        .actions
        .into_iter()
        .map(|action| {
            let Action::Skip {
                key: Key::Insurance { origin_id },
                reason: Reason::NothingChangedSince { on },
            } = &action
            else {
                return action;
            };
            let (Some(written), Some(desired)) = (
                local.written.get(origin_id),
                local
                    .insurance
                    .iter()
                    .find(|d| &d.record.origin_id == origin_id),
            ) else {
                return action;
            };
            let Some((vendor, project)) = written.written_to else {
                return action;
            };
            if !copies.read.contains(&project) {
                return action;
            }
            let reason = match copies.by_origin.get(origin_id) {
                Some(copy)
                    if copy.procore_project_id == project
                        && copy.procore_vendor_id.is_none_or(|v| v == vendor) =>
                {
                    let fields = drifted_fields(&written.record, copy);
                    if fields.is_empty() {
                        return action;
                    }
                    Reason::ChangedInProcore { fields, since: *on }
                }
                _ => Reason::MissingFromProcore { since: *on },
            };
            Action::WriteInsurance {
                level: level_of(desired.target.project),
                procore_vendor_id: vendor,
                procore_project_id: project,
                record: desired.record.clone(),
                as_of: today,
                reason,
            }
        })
        .collect();
    Plan { actions }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::compliance::{InsuranceRecord, ProcoreInsuranceStatus};

    fn record() -> InsuranceRecord {
        InsuranceRecord {
            origin_id: "trestle:party:1:subject:general_liability".into(),
            insurance_type: "General Liability".into(),
            status: ProcoreInsuranceStatus::NonCompliant,
            effective_date: None,
            expiration_date: None,
            policy_number: Some("GL-1".into()),
            insurer: None,
            notes: "Missing: each occurrence".into(),
        }
    }

    fn copy_of(r: &InsuranceRecord) -> ProcoreInsurance {
        ProcoreInsurance {
            procore_vendor_id: Some(7),
            procore_project_id: None,
            insurance_type: Some(r.insurance_type.clone()),
            status: Some(r.status.as_str().into()),
            effective_date: r.effective_date,
            expiration_date: r.expiration_date,
            policy_number: r.policy_number.clone(),
            insurer: Some("set by hand".into()),
            notes: Some(r.notes.clone()),
        }
    }

    #[test]
    fn a_status_set_by_hand_is_drift_and_a_field_trestle_does_not_send_is_not() {
        let r = record();
        let mut copy = copy_of(&r);
        assert!(drifted_fields(&r, &copy).is_empty(), "insurer is not sent");
        copy.status = Some("compliant".into());
        copy.notes = None;
        assert_eq!(drifted_fields(&r, &copy), ["status", "notes"]);
    }
}
