//! Why a record is (or is not) as it is, from trestle's own records alone: what trestle holds
//! for it now, what the syncs decided about it and by which rule, and, when no sync has decided
//! anything, where the usual cause lies. Procore is not asked: the answer is wanted most when
//! Procore or the connection is what went wrong.

use chrono::{DateTime, Utc};
use domain::compliance::{ContactId, PartyId, ProjectId};
use domain::workforce::{ProjectStatus, SubmissionState, WorkerStatus};
use serde::Serialize;
use std::collections::BTreeMap;
use store::{
    CompanyId, LinkKind, MappingDecision, ProcoreRecordKind, RunEntryRecord, Store, StoreError,
    SubjectKind,
};
use sync::compliance::collect::Mirror;

/// Why a record could not be explained.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExplainError {
    /// Only Procore projects, users, companies, contacts, commitments and forms are explained.
    #[error("trestle explains Procore projects, users, companies, contacts and commitments, and forms; not a record of kind \"{0}\"")]
    NotExplained(SubjectKind),
    /// The app record asked about is not there.
    #[error("there is no {0} {1}")]
    NoSuchRecord(AppRecord, i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A record of the apps' side, explained through the Procore record it follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AppRecord {
    Worker,
    /// A workforce app project.
    Project,
    Party,
    /// A compliance app project.
    ComplianceProject,
    Contact,
}

impl AppRecord {
    pub const ALL: [AppRecord; 5] = [
        AppRecord::Worker,
        AppRecord::Project,
        AppRecord::Party,
        AppRecord::ComplianceProject,
        AppRecord::Contact,
    ];

    /// Its name in an address (`worker`, `compliance-project`).
    pub fn as_str(self) -> &'static str {
        match self {
            AppRecord::Worker => "worker",
            AppRecord::Project => "project",
            AppRecord::Party => "party",
            AppRecord::ComplianceProject => "compliance-project",
            AppRecord::Contact => "contact",
        }
    }

    pub fn parse(s: &str) -> Option<AppRecord> {
        AppRecord::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for AppRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.as_str().replace('-', " "))
    }
}

/// The answer about an app record: the Procore record it follows, explained, or that it
/// follows none (made in the app, or its Procore record was unlinked), so no sync changes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppExplanation {
    pub record: AppRecord,
    pub id: i64,
    /// `None`: it follows no Procore record.
    pub follows: Option<Explanation>,
}

/// The answer about one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Explanation {
    /// The kind asked about (`procore-project`, `form`, …).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub kind: SubjectKind,
    /// The Procore id, or trestle's own id for a form.
    pub id: i64,
    /// What trestle holds for it now, one entry per side that knows it (a Procore project is
    /// both a workforce and a compliance project).
    pub now: Vec<Holding>,
    /// For a Procore company: the latest word on each insurance record of its party, by
    /// origin id.
    pub insurance: Vec<InsuranceWord>,
    /// What real runs decided, newest first; consecutive runs deciding by the same reason are
    /// one decision spanning them. Dry runs change nothing, so they are left out.
    pub history: Vec<Decision>,
    /// Set when no sync decided anything and [`Explanation::now`] does not already say why.
    pub hint: Option<Hint>,
}

/// What trestle holds for the record now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "holding", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Holding {
    /// The workforce app project a Procore project is linked to.
    WorkforceProject {
        id: i64,
        name: String,
        status: ProjectStatus,
    },
    NotInWorkforce,
    /// The worker a Procore user is linked to.
    Worker {
        id: i64,
        first_name: String,
        last_name: String,
        status: WorkerStatus,
    },
    NoWorker,
    /// The compliance project a Procore project is linked to, and how many parties are
    /// active on it.
    ComplianceProject {
        id: ProjectId,
        name: String,
        active: bool,
        active_parties: usize,
    },
    /// The party a Procore company is linked to.
    Party {
        id: PartyId,
        name: String,
    },
    /// Neither a compliance project nor a party: its mapping decision says what the next sync
    /// does (none when no sync has listed it).
    NotInCompliance {
        record: ProcoreRecordKind,
        decision: Option<MappingDecision>,
    },
    Contact {
        id: ContactId,
        party_id: PartyId,
    },
    NoContact,
    /// The associations a Procore commitment makes.
    Associations {
        associations: Vec<Association>,
    },
    /// No association carries the commitment, and trestle's records tell why.
    Unassociated {
        why: Unassociated,
    },
    /// No association carries the commitment; the run log says which rule left it out.
    NoAssociation,
    /// A form and the revision Procore holds (`None`: none uploaded yet).
    Form {
        state: SubmissionState,
        revision: u32,
        uploaded_revision: Option<u32>,
    },
    NoSuchForm,
}

/// A party on a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CommitmentAssociation))]
pub struct Association {
    pub party_id: PartyId,
    pub project_id: ProjectId,
}

/// Why no association carries a Procore commitment: the seed's first cause, "the project is
/// not linked". trestle reads commitments only on the Procore projects it follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Unassociated {
    /// A sync read it, on a Procore project not linked to a compliance project.
    OnUnlinkedProject { project: UnlinkedProject },
    /// No compliance sync has read it: its project is not linked (one of `unlinked`, every
    /// Procore project read and not linked), or Procore does not show it to the integration
    /// user.
    NeverRead { unlinked: Vec<UnlinkedProject> },
}

/// A Procore project not linked to a compliance project: its name as last read and its mapping
/// decision (none when it has none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnlinkedProject {
    pub procore_id: i64,
    pub name: Option<String>,
    pub decision: Option<MappingDecision>,
}

/// The latest word on one insurance record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InsuranceWord {
    pub origin_id: String,
    pub run: i64,
    pub outcome: String,
    pub reason: String,
}

/// One decision, made by the same reason over the runs `first_run` to `last_run`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Decision {
    pub reason: String,
    /// The newest entry's action and outcome.
    pub action: String,
    pub outcome: String,
    pub first_run: i64,
    pub last_run: i64,
    /// When the newest entry was recorded.
    pub recorded_at: DateTime<Utc>,
}

/// Where to look when no sync has decided anything about the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Hint {
    /// No sync has seen the project: Procore lists only the projects the integration's user
    /// is a member of (or is added to by "add to all new projects") and the app is permitted
    /// on, and never project templates.
    ProjectNeverSeen,
    /// No sync has seen the user: it must be in the company's Directory, which the
    /// integration's user must be allowed to read.
    UserNeverSeen,
    /// No workforce sync has decided about the form yet.
    FormNotDecided,
    /// No compliance sync has decided about the record yet.
    ComplianceNotDecided,
}

/// Explains an app record of `company` through the Procore record it follows.
///
/// # Errors
/// [`ExplainError::NoSuchRecord`] when the company has no such record; the store failed.
pub async fn explain_app(
    store: &Store,
    company: CompanyId,
    record: AppRecord,
    id: i64,
) -> Result<AppExplanation, ExplainError> {
    let missing = || ExplainError::NoSuchRecord(record, id);
    let follows = match record {
        AppRecord::Worker => {
            store.worker(company, id).await?.ok_or_else(missing)?;
            let link = store.link_by_local(company, LinkKind::Worker, id).await?;
            link.map(|l| (SubjectKind::ProcoreUser, l.procore_id))
        }
        AppRecord::Project => {
            store.project(company, id).await?.ok_or_else(missing)?;
            let link = store.link_by_local(company, LinkKind::Project, id).await?;
            link.map(|l| (SubjectKind::ProcoreProject, l.procore_id))
        }
        AppRecord::Party => {
            let party = store
                .party(company, PartyId(id))
                .await?
                .ok_or_else(missing)?;
            party
                .procore_vendor_id
                .map(|v| (SubjectKind::ProcoreCompany, v))
        }
        AppRecord::ComplianceProject => {
            let project = store
                .compliance_projects(company)
                .await?
                .into_iter()
                .find(|p| p.project.id == ProjectId(id))
                .ok_or_else(missing)?;
            project
                .project
                .procore_project_id
                .map(|p| (SubjectKind::ProcoreProject, p))
        }
        AppRecord::Contact => {
            let contact = store
                .contacts(company)
                .await?
                .into_iter()
                .find(|c| c.id == ContactId(id))
                .ok_or_else(missing)?;
            contact
                .procore_contact_id
                .map(|c| (SubjectKind::ProcoreContact, c))
        }
    };
    let follows = match follows {
        Some((kind, procore_id)) => Some(explain(store, company, kind, procore_id).await?),
        None => None,
    };
    Ok(AppExplanation {
        record,
        id,
        follows,
    })
}

/// Explains a record of `company`.
pub async fn explain(
    store: &Store,
    company: CompanyId,
    kind: SubjectKind,
    id: i64,
) -> Result<Explanation, ExplainError> {
    let mut now = Vec::new();
    let mut insurance = Vec::new();
    // Whether `now` already says why nothing happened (so no hint).
    let mut answered = false;
    match kind {
        SubjectKind::ProcoreProject => {
            now.extend(workforce_project(store, company, id).await?);
            now.push(compliance_project(store, company, id).await?);
        }
        SubjectKind::ProcoreUser => now.extend(worker(store, company, id).await?),
        SubjectKind::ProcoreCompany => {
            now.push(party(store, company, id).await?);
            insurance = insurance_words(store, company, id).await?;
        }
        SubjectKind::ProcoreContact => now.push(contact(store, company, id).await?),
        SubjectKind::ProcoreCommitment => {
            let holding = commitment(store, company, id).await?;
            answered = matches!(holding, Holding::Unassociated { .. });
            now.push(holding);
        }
        SubjectKind::Form => {
            let holding = form(store, company, id).await?;
            if holding == Holding::NoSuchForm {
                return Ok(Explanation {
                    kind,
                    id,
                    now: vec![holding],
                    insurance,
                    history: Vec::new(),
                    hint: None,
                });
            }
            now.push(holding);
        }
        SubjectKind::Insurance | SubjectKind::Setting | SubjectKind::Other(_) => {
            return Err(ExplainError::NotExplained(kind))
        }
    }
    let entries: Vec<RunEntryRecord> = store
        .history(company, kind.clone(), id)
        .await?
        .into_iter()
        .filter(|h| !h.dry_run)
        .collect();
    let history = decisions(&entries);
    let hint = if history.is_empty() && !answered {
        hint_for(&kind)
    } else {
        None
    };
    Ok(Explanation {
        kind,
        id,
        now,
        insurance,
        history,
        hint,
    })
}

fn hint_for(kind: &SubjectKind) -> Option<Hint> {
    match kind {
        SubjectKind::ProcoreProject => Some(Hint::ProjectNeverSeen),
        SubjectKind::ProcoreUser => Some(Hint::UserNeverSeen),
        SubjectKind::Form => Some(Hint::FormNotDecided),
        SubjectKind::ProcoreCompany
        | SubjectKind::ProcoreContact
        | SubjectKind::ProcoreCommitment => Some(Hint::ComplianceNotDecided),
        SubjectKind::Insurance | SubjectKind::Setting | SubjectKind::Other(_) => None,
    }
}

/// The run log's entries (newest first) as decisions: the same rule often decides the same
/// record run after run, and is said once, with the runs it covers.
fn decisions(entries: &[RunEntryRecord]) -> Vec<Decision> {
    let mut out: Vec<Decision> = Vec::new();
    for h in entries {
        match out.last_mut() {
            Some(d) if d.reason == h.entry.reason => d.first_run = h.run.0,
            _ => out.push(Decision {
                reason: h.entry.reason.clone(),
                action: h.entry.action.clone(),
                outcome: h.entry.outcome.clone(),
                first_run: h.run.0,
                last_run: h.last_run.0,
                recorded_at: h.recorded_at,
            }),
        }
    }
    out
}

async fn workforce_project(
    store: &Store,
    company: CompanyId,
    procore_id: i64,
) -> Result<Option<Holding>, StoreError> {
    let Some(link) = store.link(company, LinkKind::Project, procore_id).await? else {
        return Ok(Some(Holding::NotInWorkforce));
    };
    Ok(store
        .project(company, link.local_id)
        .await?
        .map(|p| Holding::WorkforceProject {
            id: p.id,
            name: p.fields.name,
            status: p.status,
        }))
}

async fn worker(
    store: &Store,
    company: CompanyId,
    procore_id: i64,
) -> Result<Option<Holding>, StoreError> {
    let Some(link) = store.link(company, LinkKind::Worker, procore_id).await? else {
        return Ok(Some(Holding::NoWorker));
    };
    Ok(store
        .worker(company, link.local_id)
        .await?
        .map(|w| Holding::Worker {
            id: w.id,
            status: w.status(),
            first_name: w.fields.first_name,
            last_name: w.fields.last_name,
        }))
}

/// The compliance project of a Procore project, or its mapping decision.
async fn compliance_project(
    store: &Store,
    company: CompanyId,
    procore_id: i64,
) -> Result<Holding, StoreError> {
    let linked = store
        .compliance_projects(company)
        .await?
        .into_iter()
        .find(|p| p.project.procore_project_id == Some(procore_id));
    let Some(p) = linked else {
        return not_in_compliance(store, company, ProcoreRecordKind::Project, procore_id).await;
    };
    let active_parties = store
        .party_projects(company)
        .await?
        .iter()
        .filter(|a| a.project_id == p.project.id && a.active)
        .count();
    Ok(Holding::ComplianceProject {
        id: p.project.id,
        name: p.project.name,
        active: p.project.active,
        active_parties,
    })
}

async fn not_in_compliance(
    store: &Store,
    company: CompanyId,
    record: ProcoreRecordKind,
    procore_id: i64,
) -> Result<Holding, StoreError> {
    let decision = store
        .mapping(company, record, procore_id)
        .await?
        .map(|m| m.decision);
    Ok(Holding::NotInCompliance { record, decision })
}

async fn party(store: &Store, company: CompanyId, procore_id: i64) -> Result<Holding, StoreError> {
    match store
        .parties(company)
        .await?
        .into_iter()
        .find(|p| p.procore_vendor_id == Some(procore_id))
    {
        Some(p) => Ok(Holding::Party {
            id: p.id,
            name: p.name,
        }),
        None => not_in_compliance(store, company, ProcoreRecordKind::Company, procore_id).await,
    }
}

async fn contact(
    store: &Store,
    company: CompanyId,
    procore_id: i64,
) -> Result<Holding, StoreError> {
    Ok(store
        .contacts(company)
        .await?
        .into_iter()
        .find(|c| c.procore_contact_id == Some(procore_id))
        .map_or(Holding::NoContact, |c| Holding::Contact {
            id: c.id,
            party_id: c.party_id,
        }))
}

async fn commitment(
    store: &Store,
    company: CompanyId,
    procore_id: i64,
) -> Result<Holding, StoreError> {
    let associations: Vec<Association> = store
        .party_projects(company)
        .await?
        .into_iter()
        .filter(|a| a.procore_commitment_ids.contains(&procore_id))
        .map(|a| Association {
            party_id: a.party_id,
            project_id: a.project_id,
        })
        .collect();
    if !associations.is_empty() {
        return Ok(Holding::Associations { associations });
    }
    Ok(match unassociated(store, company, procore_id).await? {
        Some(why) => Holding::Unassociated { why },
        None => Holding::NoAssociation,
    })
}

/// Why no association carries a Procore commitment, when trestle's records can tell. A
/// commitment trestle never read after a compliance sync ran is on a project that is not
/// linked (or Procore does not show it to the integration user). `None` when no compliance
/// sync has read anything yet, or when the commitment is on a linked project (the run log then
/// says which rule left it out).
async fn unassociated(
    store: &Store,
    company: CompanyId,
    commitment: i64,
) -> Result<Option<Unassociated>, StoreError> {
    let rows = store.mirror(company).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let (mirror, _) = Mirror::from_rows(&rows);
    let linked: BTreeMap<i64, ProjectId> = store
        .compliance_projects(company)
        .await?
        .into_iter()
        .filter_map(|p| p.project.procore_project_id.map(|pp| (pp, p.project.id)))
        .collect();
    let decisions: BTreeMap<i64, MappingDecision> = store
        .mappings(company, ProcoreRecordKind::Project)
        .await?
        .into_iter()
        .map(|m| (m.procore_id, m.decision))
        .collect();
    let project = |procore_id: i64| UnlinkedProject {
        procore_id,
        name: mirror.projects.get(&procore_id).map(|p| p.name.clone()),
        decision: decisions.get(&procore_id).copied(),
    };
    if let Some(c) = mirror.commitments.get(&commitment) {
        let p = c.procore_project_id;
        if linked.contains_key(&p) {
            return Ok(None);
        }
        return Ok(Some(Unassociated::OnUnlinkedProject {
            project: project(p),
        }));
    }
    Ok(Some(Unassociated::NeverRead {
        unlinked: mirror
            .projects
            .keys()
            .filter(|p| !linked.contains_key(p))
            .map(|&p| project(p))
            .collect(),
    }))
}

async fn form(store: &Store, company: CompanyId, id: i64) -> Result<Holding, StoreError> {
    let Some(s) = store.submission(company, id).await? else {
        return Ok(Holding::NoSuchForm);
    };
    Ok(Holding::Form {
        state: s.state,
        revision: s.revision,
        uploaded_revision: store.uploaded_revision(company, id).await?,
    })
}

/// The seed's "compliance not in Procore" question: for each insurance record of the party of
/// a Procore company, the last thing a sync decided or did, and why.
async fn insurance_words(
    store: &Store,
    company: CompanyId,
    procore_company: i64,
) -> Result<Vec<InsuranceWord>, StoreError> {
    let mut latest: BTreeMap<String, InsuranceWord> = BTreeMap::new();
    for h in store
        .history(company, SubjectKind::Insurance, procore_company)
        .await?
    {
        if h.dry_run {
            continue;
        }
        let Some(origin) = h.entry.detail_json.as_deref().and_then(origin_in) else {
            continue;
        };
        // Newest first: the first entry seen per record is its latest.
        latest.entry(origin.clone()).or_insert(InsuranceWord {
            origin_id: origin,
            run: h.last_run.0,
            outcome: h.entry.outcome,
            reason: h.entry.reason,
        });
    }
    Ok(latest.into_values().collect())
}

/// The origin id an insurance run-log entry is about: its detail is the planned action, the
/// record written, or (for a removal) the origin id itself.
fn origin_in(detail: &str) -> Option<String> {
    fn find(v: &serde_json::Value) -> Option<String> {
        match v {
            serde_json::Value::String(s) if s.starts_with("trestle:") => Some(s.clone()),
            serde_json::Value::Object(map) => match map.get("origin_id") {
                Some(serde_json::Value::String(s)) => Some(s.clone()),
                _ => map.values().find_map(find),
            },
            _ => None,
        }
    }
    find(&serde_json::from_str(detail).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::{RunEntry, RunId};

    fn entry(run: i64, last_run: i64, reason: &str) -> RunEntryRecord {
        RunEntryRecord {
            id: run,
            run: RunId(run),
            last_run: RunId(last_run),
            integration: "workforce".into(),
            dry_run: false,
            recorded_at: DateTime::from_timestamp(run * 60, 0).unwrap(),
            entry: RunEntry {
                kind: SubjectKind::ProcoreProject,
                procore_id: Some(1),
                local_id: None,
                change: None,
                action: "skip".into(),
                reason: reason.into(),
                detail_json: None,
                outcome: "skipped".into(),
            },
        }
    }

    #[test]
    fn consecutive_entries_with_one_reason_are_one_decision_spanning_their_runs() {
        let newest_first = [entry(7, 9, "b"), entry(4, 6, "a"), entry(2, 3, "a")];
        let got: Vec<(String, i64, i64)> = decisions(&newest_first)
            .into_iter()
            .map(|d| (d.reason, d.first_run, d.last_run))
            .collect();
        assert_eq!(got, vec![("b".into(), 7, 9), ("a".into(), 2, 6)]);
    }

    #[test]
    fn a_reason_that_comes_back_is_a_decision_of_its_own() {
        let newest_first = [entry(5, 5, "a"), entry(4, 4, "b"), entry(3, 3, "a")];
        assert_eq!(decisions(&newest_first).len(), 3);
    }

    #[test]
    fn an_insurance_entry_names_its_record_by_origin_id_wherever_its_detail_holds_it() {
        assert_eq!(
            origin_in(r#"{"Write":{"record":{"origin_id":"trestle:party:3:gl"}}}"#).as_deref(),
            Some("trestle:party:3:gl")
        );
        assert_eq!(
            origin_in(r#""trestle:party:3:auto""#).as_deref(),
            Some("trestle:party:3:auto")
        );
        assert_eq!(origin_in(r#"{"other":1}"#), None);
        assert_eq!(origin_in("not json"), None);
    }

    #[test]
    fn only_what_the_run_log_files_under_procore_records_and_forms_gets_a_hint() {
        assert_eq!(
            hint_for(&SubjectKind::ProcoreCommitment),
            Some(Hint::ComplianceNotDecided)
        );
        assert_eq!(hint_for(&SubjectKind::Insurance), None);
    }
}
