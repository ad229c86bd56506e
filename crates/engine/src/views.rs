//! The compliance side as a person looks it over: every party and compliance project with its
//! compliance on a day, and the Procore projects and companies seen with the mapping decision
//! for each (TrustLayer's mapping screen). Rows carry data; each face lays them out.

use chrono::NaiveDate;
use domain::compliance::{OverallStatus, PartyId, ProjectId};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use store::{CompanyId, MappingDecision, ProcoreRecordKind, Store, StoreError};
use sync::compliance::collect::Mirror;

/// A party with its compliance on the day asked about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartyRow {
    pub id: PartyId,
    pub name: String,
    pub active: bool,
    pub procore_vendor_id: Option<i64>,
    /// Its global compliance.
    pub status: OverallStatus,
    pub expiring_soon: bool,
    pub next_expiration: Option<NaiveDate>,
    /// The projects it is active on, and on how many of them it is not compliant.
    pub active_projects: usize,
    pub not_compliant_projects: usize,
}

/// A compliance project with its parties on the day asked about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectRow {
    pub id: ProjectId,
    pub name: String,
    pub active: bool,
    pub procore_project_id: Option<i64>,
    pub start_date: Option<NaiveDate>,
    pub completion_date: Option<NaiveDate>,
    /// The parties active on it, and how many of them are not compliant there.
    pub active_parties: usize,
    pub not_compliant_parties: usize,
}

/// A Procore project or company trestle has seen, and what becomes of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MappingRow {
    pub kind: ProcoreRecordKind,
    pub procore_id: i64,
    /// Its name as a sync last read it; `None` when no read kept it.
    pub name: Option<String>,
    pub decision: MappingDecision,
    pub state: MappingState,
}

/// A mapping decision with what trestle holds for the record now: a record imported
/// automatically (a new project, a company through its commitment) was decided by a setting,
/// not left waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "local_id", rename_all = "snake_case")]
pub enum MappingState {
    /// Undecided, yet a setting brought it in as this local record.
    ImportedAutomatically(i64),
    /// Waiting for a person's decision.
    Waiting,
    /// Mapped Import, and imported as this local record.
    Imported(i64),
    /// Mapped Import; the next sync imports it.
    ImportPending,
    /// Linked to this local record.
    Linked(i64),
    /// Mapped to link to this local record; the next sync links it.
    LinkPending(i64),
    /// Never brought in.
    DoNotAdd,
}

impl MappingState {
    /// The state of a record with `decision`, that is the local record `local` now (if any).
    pub fn of(decision: MappingDecision, local: Option<i64>) -> MappingState {
        match (decision, local) {
            (MappingDecision::Undecided, Some(id)) => MappingState::ImportedAutomatically(id),
            (MappingDecision::Undecided, None) => MappingState::Waiting,
            (MappingDecision::Import, Some(id)) => MappingState::Imported(id),
            (MappingDecision::Import, None) => MappingState::ImportPending,
            (MappingDecision::LinkTo(id), Some(now)) if now == id => MappingState::Linked(id),
            (MappingDecision::LinkTo(id), _) => MappingState::LinkPending(id),
            (MappingDecision::DoNotAdd, _) => MappingState::DoNotAdd,
        }
    }
}

/// Every party with its compliance on `on` (global, and on the projects it is active on), so
/// a person sees at a glance who needs a certificate, now or by a coming date.
pub async fn parties(
    store: &Store,
    company: CompanyId,
    on: NaiveDate,
) -> Result<Vec<PartyRow>, StoreError> {
    let data = store.compliance_dataset(company).await?;
    let active: BTreeMap<_, bool> = data
        .party_projects
        .iter()
        .map(|pp| ((pp.party_id, pp.project_id), pp.active))
        .collect();
    Ok(data
        .evaluate_all(on)
        .into_iter()
        .map(|e| {
            let projects: Vec<_> = e
                .projects
                .iter()
                .filter(|p| {
                    p.target
                        .project
                        .is_some_and(|project| active.get(&(e.party.id, project)) == Some(&true))
                })
                .collect();
            PartyRow {
                id: e.party.id,
                name: e.party.name.clone(),
                active: e.party.active,
                procore_vendor_id: e.party.procore_vendor_id,
                status: e.global.status,
                expiring_soon: e.global.expiring_soon,
                next_expiration: e.global.next_expiration,
                active_projects: projects.len(),
                not_compliant_projects: projects
                    .iter()
                    .filter(|p| p.status == OverallStatus::NonCompliant)
                    .count(),
            }
        })
        .collect())
}

/// Every compliance project, with how many parties are active on it and how many of them are
/// not compliant there on `on`.
pub async fn projects(
    store: &Store,
    company: CompanyId,
    on: NaiveDate,
) -> Result<Vec<ProjectRow>, StoreError> {
    let data = store.compliance_dataset(company).await?;
    let active: BTreeSet<_> = data
        .party_projects
        .iter()
        .filter(|pp| pp.active)
        .map(|pp| (pp.party_id, pp.project_id))
        .collect();
    // By project: (active parties, of which not compliant).
    let mut on_project: BTreeMap<ProjectId, (usize, usize)> = BTreeMap::new();
    for e in data.evaluate_all(on) {
        for p in &e.projects {
            let Some(project) = p.target.project else {
                continue;
            };
            if !active.contains(&(e.party.id, project)) {
                continue;
            }
            let counts = on_project.entry(project).or_default();
            counts.0 += 1;
            if p.status == OverallStatus::NonCompliant {
                counts.1 += 1;
            }
        }
    }
    Ok(store
        .compliance_projects(company)
        .await?
        .into_iter()
        .map(|p| {
            let p = p.project;
            let (active_parties, not_compliant_parties) =
                on_project.get(&p.id).copied().unwrap_or_default();
            ProjectRow {
                id: p.id,
                name: p.name,
                active: p.active,
                procore_project_id: p.procore_project_id,
                start_date: p.start_date,
                completion_date: p.completion_date,
                active_parties,
                not_compliant_parties,
            }
        })
        .collect())
}

/// The Procore projects and companies trestle has seen, projects first, with their names as
/// last read and the decision for each; `waiting_only` keeps those waiting for a person.
/// A sync lists a record before it saves what it read (the mirror is saved after the apply,
/// see `sync::compliance::run`), so in between a listed record has no name and nothing to
/// preview: it is not shown as waiting until its sync has finished.
pub async fn mappings(
    store: &Store,
    company: CompanyId,
    waiting_only: bool,
) -> Result<Vec<MappingRow>, StoreError> {
    let (mirror, _) = Mirror::from_rows(&store.mirror(company).await?);
    let mut local: BTreeMap<(ProcoreRecordKind, i64), i64> = BTreeMap::new();
    for p in store.compliance_projects(company).await? {
        if let Some(procore) = p.project.procore_project_id {
            local.insert((ProcoreRecordKind::Project, procore), p.project.id.0);
        }
    }
    for p in store.parties(company).await? {
        if let Some(procore) = p.procore_vendor_id {
            local.insert((ProcoreRecordKind::Company, procore), p.id.0);
        }
    }
    let mut rows = Vec::new();
    for kind in [ProcoreRecordKind::Project, ProcoreRecordKind::Company] {
        for m in store.mappings(company, kind).await? {
            let state = MappingState::of(m.decision, local.get(&(kind, m.procore_id)).copied());
            if waiting_only && state != MappingState::Waiting {
                continue;
            }
            let name = match kind {
                ProcoreRecordKind::Project => {
                    mirror.projects.get(&m.procore_id).map(|p| p.name.clone())
                }
                ProcoreRecordKind::Company => {
                    mirror.vendors.get(&m.procore_id).map(|v| v.name.clone())
                }
            };
            if waiting_only && name.is_none() {
                continue;
            }
            rows.push(MappingRow {
                kind,
                procore_id: m.procore_id,
                name,
                decision: m.decision,
                state,
            });
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_undecided_record_a_setting_brought_in_is_not_waiting() {
        assert_eq!(
            MappingState::of(MappingDecision::Undecided, Some(4)),
            MappingState::ImportedAutomatically(4)
        );
        assert_eq!(
            MappingState::of(MappingDecision::Undecided, None),
            MappingState::Waiting
        );
    }

    #[test]
    fn a_link_is_done_only_when_the_record_is_linked_to_the_record_chosen() {
        assert_eq!(
            MappingState::of(MappingDecision::LinkTo(4), Some(4)),
            MappingState::Linked(4)
        );
        assert_eq!(
            MappingState::of(MappingDecision::LinkTo(4), Some(5)),
            MappingState::LinkPending(4)
        );
        assert_eq!(
            MappingState::of(MappingDecision::LinkTo(4), None),
            MappingState::LinkPending(4)
        );
    }

    #[test]
    fn do_not_add_stays_do_not_add_whatever_trestle_holds() {
        assert_eq!(
            MappingState::of(MappingDecision::DoNotAdd, Some(4)),
            MappingState::DoNotAdd
        );
    }
}

/// A party's compliance on a day, with every requirement's outcome and why: globally, and on
/// each project it is associated with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartyStatus {
    pub id: PartyId,
    pub name: String,
    /// The Procore directory company it mirrors, whose insurance records trestle writes.
    pub procore_vendor_id: Option<i64>,
    pub on: NaiveDate,
    pub global: TargetStatus,
    pub projects: Vec<TargetStatus>,
}

/// Compliance toward one target: the party globally, or on one project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetStatus {
    /// `None`: global.
    pub project_id: Option<ProjectId>,
    pub project_name: Option<String>,
    /// Whether the association is active (always for global).
    pub active: bool,
    pub profile: Option<String>,
    pub status: OverallStatus,
    pub expiring_soon: bool,
    pub next_expiration: Option<NaiveDate>,
    pub requirements: Vec<RequirementOutcome>,
}

/// One requirement of the profile, as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequirementOutcome {
    pub key: String,
    pub subject: domain::compliance::Subject,
    /// `compliant`, `non-compliant`, `waived` or `overridden`.
    pub status: String,
    /// Why it is not met (also for an overridden one); none when met or waived.
    pub reason: Option<String>,
}

/// The compliance of party `party` on `on`, with reasons; `None` when the company has no such
/// party.
pub async fn party_status(
    store: &Store,
    company: CompanyId,
    party: PartyId,
    on: NaiveDate,
) -> Result<Option<PartyStatus>, StoreError> {
    use domain::compliance::RequirementStatus;
    let data = store.compliance_dataset(company).await?;
    let index = data.index();
    let Some(e) = index.evaluate_party(party, on) else {
        return Ok(None);
    };
    let names: BTreeMap<ProjectId, &str> = data
        .projects
        .iter()
        .map(|p| (p.id, p.name.as_str()))
        .collect();
    let active: BTreeMap<ProjectId, bool> = data
        .party_projects
        .iter()
        .filter(|pp| pp.party_id == party)
        .map(|pp| (pp.project_id, pp.active))
        .collect();
    let target = |ev: &domain::compliance::Evaluation<'_>| TargetStatus {
        project_id: ev.target.project,
        project_name: ev
            .target
            .project
            .and_then(|p| names.get(&p).map(|n| n.to_string())),
        active: ev
            .target
            .project
            .is_none_or(|p| active.get(&p).copied().unwrap_or(false)),
        profile: ev.profile.map(|p| p.name.clone()),
        status: ev.status,
        expiring_soon: ev.expiring_soon,
        next_expiration: ev.next_expiration,
        requirements: ev
            .requirements()
            .iter()
            .map(|r| RequirementOutcome {
                key: r.requirement.key.clone(),
                subject: r.requirement.subject,
                status: r.status.status().to_string(),
                reason: match &r.status {
                    RequirementStatus::NonCompliant(reason)
                    | RequirementStatus::Overridden { reason, .. } => Some(reason.to_string()),
                    _ => None,
                },
            })
            .collect(),
    };
    Ok(Some(PartyStatus {
        id: e.party.id,
        name: e.party.name.clone(),
        procore_vendor_id: e.party.procore_vendor_id,
        on,
        global: target(&e.global),
        projects: e.projects.iter().map(target).collect(),
    }))
}
