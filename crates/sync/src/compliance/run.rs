//! One compliance sync: collect, evaluate and render, plan, apply in one transaction, then drain
//! the insurance writes.
//!
//! The apply is one store transaction holding the record changes, the mapping decisions seen,
//! the outbox items for insurance writes and the run log. Insurance records are written after
//! it, from the outbox, with Procore's batch `sync` keyed by `origin_id`, and remembered as
//! written only once Procore answered: a crash between the write and the record makes the next
//! run write the same record again by its origin id, which updates it (never a duplicate).

use super::collect::{
    collect_commitments, collect_directory, collect_field_labels, Collection, Cursors, Mirror,
    FULL_READ, MIRROR_FORMAT, MIRROR_FORMAT_VERSION,
};
use super::input::{
    DesiredInsurance, InsuranceTarget, LocalCompliance, Mapping, ProcoreCopies, ProcoreInsurance,
    WrittenInsurance,
};
use super::insurance::{restore_drifted, unchanged_places};
use super::plan::{plan, Action, Key, Plan};
use super::reason::Reason;
use super::remove;
use super::settings::{ComplianceSettings, InsuranceLevel, NewProjects};
use crate::error::{Result, SyncError};
use crate::hooks::{crash_if, CrashPoint, Progress};
use chrono::{Duration, NaiveDate, Utc};
use domain::compliance::{
    writeback::render, Contact, ContactId, InsuranceRecord, Party, PartyId, Project, ProjectId,
};
use procore::Client;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use store::{
    ComplianceBatch, ComplianceChange, MappingDecision, MappingWrite, NewOutboxItem,
    ProcoreRecordKind, Ref, RunEntry, RunId, Store,
};

/// The outbox kind of an insurance write.
pub const WRITE_INSURANCE: &str = "compliance.write_insurance";

/// What one sync needs from outside: Procore, the store, the company, and the date it runs on.
pub struct ComplianceJob<'a> {
    pub client: &'a Client,
    pub store: &'a Store,
    pub company_id: i64,
    pub today: NaiveDate,
    /// Read every collection whole, not only what changed since the last sync.
    pub full_read: bool,
    /// The caller is the company's only drainer (it holds the sync lock), so leases left in the
    /// outbox belong to processes that stopped and are taken back at once.
    pub reclaim_leases: bool,
    /// Crash tests only: abort the process at this point of an insurance write (before the
    /// Procore write, after it before it is recorded, after recording before the outbox item is
    /// completed), as a power cut or `kill -9` would.
    pub crash_at: Option<CrashPoint>,
    /// Told after each page read and each record written.
    pub progress: Option<Progress>,
}

/// What a sync did, for the summary table and the run log.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Summary {
    pub dry_run: bool,
    /// Every collection was read whole (the first sync, `full_read_days` passed, or asked for),
    /// not only what changed.
    #[serde(default)]
    pub full_read: bool,
    pub records_read: usize,
    pub requests: u64,
    pub projects_created: usize,
    pub projects_updated: usize,
    pub parties_created: usize,
    pub parties_updated: usize,
    pub contacts_created: usize,
    pub contacts_updated: usize,
    pub associations_set: usize,
    pub associations_ended: usize,
    pub skipped: usize,
    pub rejected: usize,
    pub insurance_queued: usize,
    pub insurance_written: usize,
    pub insurance_failures: usize,
    #[serde(default)]
    pub insurance_removals_queued: usize,
    #[serde(default)]
    pub insurance_removed: usize,
}

/// One insurance record written to Procore by this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Written {
    pub level: InsuranceLevel,
    pub procore_vendor_id: i64,
    pub procore_project_id: Option<i64>,
    pub procore_insurance_id: Option<i64>,
    pub record: InsuranceRecord,
}

/// The result of a sync: its run id, the plan it applied (or would apply), writes done.
#[derive(Debug, Clone)]
pub struct Report {
    pub run: RunId,
    pub settings: ComplianceSettings,
    pub plan: Plan,
    pub summary: Summary,
    /// Procore records that could not be used: (run-log kind, Procore id, problem).
    pub rejected: Vec<(String, Option<i64>, String)>,
    pub written: Vec<Written>,
    pub failures: Vec<String>,
}

/// What a removal needs: where the record is in Procore, and which one.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct RemovePayload {
    pub level: InsuranceLevel,
    pub procore_vendor_id: i64,
    pub procore_project_id: Option<i64>,
    pub origin_id: String,
    pub procore_insurance_id: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
struct WritePayload {
    level: InsuranceLevel,
    procore_vendor_id: i64,
    procore_project_id: Option<i64>,
    record: InsuranceRecord,
}

/// The company's settings: the stored JSON, or the defaults when none were saved.
///
/// # Errors
/// The store failed, or the stored JSON is not settings.
pub async fn load_settings(store: &Store, company: i64) -> Result<ComplianceSettings> {
    match store.compliance_settings(company).await? {
        None => Ok(ComplianceSettings::default()),
        Some(v) => serde_json::from_value(v).map_err(|e| {
            SyncError::Invalid(format!(
                "the stored compliance settings are unreadable: {e}"
            ))
        }),
    }
}

/// Saves the company's settings.
///
/// # Errors
/// The store failed.
pub async fn save_settings(store: &Store, company: i64, s: &ComplianceSettings) -> Result<()> {
    let v = serde_json::to_value(s).map_err(|e| SyncError::Invalid(e.to_string()))?;
    store.save_compliance_settings(company, &v).await?;
    Ok(())
}

fn mapping<I>(d: MappingDecision, id: impl Fn(i64) -> I) -> Mapping<I> {
    match d {
        MappingDecision::Undecided => Mapping::Undecided,
        MappingDecision::Import => Mapping::Import,
        MappingDecision::LinkTo(l) => Mapping::LinkTo(id(l)),
        MappingDecision::DoNotAdd => Mapping::DoNotAdd,
    }
}

/// Reads trestle's side, evaluates every party (globally and on each active association) on
/// `today` and renders the records in the settings' format.
///
/// # Errors
/// The store failed.
pub async fn load_local(
    store: &Store,
    company: i64,
    settings: &ComplianceSettings,
    today: NaiveDate,
) -> Result<LocalCompliance> {
    let projects = store.compliance_projects(company).await?;
    let mut local = LocalCompliance {
        parties: store.parties(company).await?,
        project_custom_fields: projects
            .iter()
            .map(|p| (p.project.id, p.custom_fields.clone()))
            .collect(),
        projects: projects.into_iter().map(|p| p.project).collect(),
        party_projects: store.party_projects(company).await?,
        contacts: store.contacts(company).await?,
        profiles: store.profiles(company).await?,
        ..LocalCompliance::default()
    };
    for m in store.mappings(company, ProcoreRecordKind::Project).await? {
        local
            .project_mappings
            .insert(m.procore_id, mapping(m.decision, ProjectId));
    }
    for m in store.mappings(company, ProcoreRecordKind::Company).await? {
        local
            .vendor_mappings
            .insert(m.procore_id, mapping(m.decision, PartyId));
    }
    let data = store.compliance_dataset(company).await?;
    let inactive: std::collections::BTreeSet<(PartyId, ProjectId)> = data
        .party_projects
        .iter()
        .filter(|pp| !pp.active)
        .map(|pp| (pp.party_id, pp.project_id))
        .collect();
    for party in data.evaluate_all(today) {
        for evaluation in std::iter::once(&party.global).chain(party.projects.iter()) {
            let t = evaluation.target;
            if let Some(project) = t.project {
                if inactive.contains(&(t.party, project)) {
                    continue;
                }
            }
            for record in render(evaluation, settings.format) {
                local.insurance.push(DesiredInsurance {
                    target: InsuranceTarget::from(t),
                    record,
                });
            }
        }
    }
    for w in store.insurance_writes(company).await? {
        local.written.insert(
            w.origin_id.clone(),
            WrittenInsurance {
                record: w.record,
                written_on: w.written_at.date_naive(),
                procore_insurance_id: w.procore_insurance_id,
                written_to: w
                    .procore_vendor_id
                    .map(|vendor| (vendor, w.procore_project_id)),
            },
        );
    }
    Ok(local)
}

/// The Procore projects whose commitments this sync reads: linked ones, and those it may bring
/// in (Import, Link, or automatic import of an active one); never Do not add.
fn commitment_projects(
    collection: &Collection,
    local: &LocalCompliance,
    settings: &ComplianceSettings,
) -> Vec<i64> {
    collection
        .mirror
        .projects
        .values()
        .filter(|p| {
            let decision = local
                .project_mappings
                .get(&p.id)
                .copied()
                .unwrap_or_default();
            let linked = local
                .projects
                .iter()
                .any(|l| l.procore_project_id == Some(p.id));
            match decision {
                Mapping::DoNotAdd => false,
                Mapping::Import | Mapping::LinkTo(_) => true,
                Mapping::Undecided => {
                    linked
                        || (settings.new_projects == NewProjects::ImportAutomatically && p.active)
                }
            }
        })
        .map(|p| p.id)
        .collect()
}

/// The run-log kind and Procore id of an action's record.
fn log_subject(key: &Key) -> (&'static str, Option<i64>) {
    match key {
        Key::Project { procore_id } => ("procore-project", Some(*procore_id)),
        Key::Company { procore_id } => ("procore-company", Some(*procore_id)),
        Key::Contact { procore_id } => ("procore-contact", Some(*procore_id)),
        Key::LocalContact { .. } => ("procore-contact", None),
        Key::Commitment { procore_id } => ("procore-commitment", Some(*procore_id)),
        Key::Association {
            procore_vendor_id, ..
        } => ("procore-company", Some(*procore_vendor_id)),
        Key::Insurance { .. } => ("insurance", None),
        Key::Setting { .. } => ("setting", None),
    }
}

fn action_name(a: &Action) -> &'static str {
    match a {
        Action::CreateProject { .. } => "create_project",
        Action::LinkProject { .. } => "link_project",
        Action::UpdateProject { .. } => "update_project",
        Action::CreateParty { .. } => "create_party",
        Action::LinkParty { .. } => "link_party",
        Action::UpdateParty { .. } => "update_party",
        Action::CreateContact { .. } => "create_contact",
        Action::UpdateContact { .. } => "update_contact",
        Action::Associate { .. } => "associate",
        Action::UpdateAssociation { .. } => "update_association",
        Action::EndAssociation { .. } => "end_association",
        Action::WriteInsurance { .. } => "write_insurance",
        Action::RemoveInsurance { .. } => "remove_insurance",
        Action::Skip { .. } => "skip",
    }
}

fn short_hash(s: &str) -> String {
    // FNV-1a: stable across builds and platforms (std's hasher is not).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Turns the plan into store changes, mapping writes, outbox items and log entries.
struct Batch {
    changes: Vec<ComplianceChange>,
    mappings: BTreeMap<(ProcoreRecordKind, i64), MappingWrite>,
    outbox: Vec<NewOutboxItem>,
    log: Vec<RunEntry>,
}

struct Resolver<'a> {
    local: &'a LocalCompliance,
    created_projects: BTreeMap<i64, usize>,
    created_parties: BTreeMap<i64, usize>,
    linked_projects: BTreeMap<i64, ProjectId>,
    linked_parties: BTreeMap<i64, PartyId>,
}

impl Resolver<'_> {
    fn project(&self, procore: i64) -> Ref<ProjectId> {
        if let Some(i) = self.created_projects.get(&procore) {
            return Ref::Created(*i);
        }
        if let Some(id) = self.linked_projects.get(&procore) {
            return Ref::Id(*id);
        }
        self.local
            .projects
            .iter()
            .find(|p| p.procore_project_id == Some(procore))
            .map_or(Ref::Procore(procore), |p| Ref::Id(p.id))
    }

    fn party(&self, procore: i64) -> Ref<PartyId> {
        if let Some(i) = self.created_parties.get(&procore) {
            return Ref::Created(*i);
        }
        if let Some(id) = self.linked_parties.get(&procore) {
            return Ref::Id(*id);
        }
        self.local
            .parties
            .iter()
            .find(|p| p.procore_vendor_id == Some(procore))
            .map_or(Ref::Procore(procore), |p| Ref::Id(p.id))
    }
}

fn new_project(procore: i64) -> Project {
    Project {
        id: ProjectId(0),
        name: String::new(),
        description: None,
        start_date: None,
        completion_date: None,
        active: true,
        procore_project_id: Some(procore),
    }
}

fn new_party(procore: i64) -> Party {
    Party {
        id: PartyId(0),
        name: String::new(),
        address: None,
        website: None,
        active: true,
        procore_vendor_id: Some(procore),
        profile_id: None,
    }
}

/// `seen`: the collection whose records are listed for mapping and whose rejects are logged
/// (the first phase of a sync only).
fn build(
    plan: &Plan,
    seen: Option<&Collection>,
    local: &LocalCompliance,
    company: i64,
    summary: &mut Summary,
    existing_keys: &std::collections::BTreeSet<String>,
    run: RunId,
) -> Batch {
    let dry_run = summary.dry_run;
    let mut b = Batch {
        changes: Vec::new(),
        mappings: BTreeMap::new(),
        outbox: Vec::new(),
        log: Vec::new(),
    };
    let (projects, vendors, rejected) = match seen {
        Some(c) => (
            &c.snapshot.projects[..],
            &c.snapshot.vendors[..],
            &c.rejected[..],
        ),
        None => (&[][..], &[][..], &[][..]),
    };
    // Every record seen is listed for mapping, without overruling a decision.
    for p in projects {
        b.mappings.insert(
            (ProcoreRecordKind::Project, p.id),
            MappingWrite {
                kind: ProcoreRecordKind::Project,
                procore_id: p.id,
                decision: MappingDecision::Undecided,
                keep_existing: true,
            },
        );
    }
    for v in vendors {
        b.mappings.insert(
            (ProcoreRecordKind::Company, v.id),
            MappingWrite {
                kind: ProcoreRecordKind::Company,
                procore_id: v.id,
                decision: MappingDecision::Undecided,
                keep_existing: true,
            },
        );
    }
    let mut r = Resolver {
        local,
        created_projects: BTreeMap::new(),
        created_parties: BTreeMap::new(),
        linked_projects: BTreeMap::new(),
        linked_parties: BTreeMap::new(),
    };
    let planned = |applied: &str| {
        if dry_run {
            "planned".to_string()
        } else {
            applied.to_string()
        }
    };
    let vendor_of_party: BTreeMap<PartyId, i64> = local
        .parties
        .iter()
        .filter_map(|p| p.procore_vendor_id.map(|v| (p.id, v)))
        .collect();
    for action in &plan.actions {
        let key = action.key();
        let (kind, mut procore_id) = log_subject(&key);
        if let Key::Insurance { origin_id } = &key {
            // Filed under the party's Procore company, so `explain procore-company` answers
            // why its compliance is (or is not) in Procore.
            procore_id = domain::compliance::target_of(origin_id)
                .and_then(|t| vendor_of_party.get(&t.party).copied());
        }
        let mut entry = RunEntry {
            kind: kind.into(),
            procore_id,
            local_id: None,
            change: None,
            action: action_name(action).into(),
            reason: action.reason().to_string(),
            detail_json: serde_json::to_string(action).ok(),
            outcome: planned("applied"),
        };
        let mut extra = Vec::new();
        match action {
            Action::CreateProject {
                procore_id, fields, ..
            } => {
                summary.projects_created += 1;
                let mut p = new_project(*procore_id);
                let mut custom = BTreeMap::new();
                fields.apply_to(&mut p, &mut custom);
                r.created_projects.insert(*procore_id, b.changes.len());
                entry.change = Some(b.changes.len());
                b.changes.push(ComplianceChange::CreateProject {
                    project: p,
                    custom_fields: custom,
                });
                b.mappings.insert(
                    (ProcoreRecordKind::Project, *procore_id),
                    MappingWrite {
                        kind: ProcoreRecordKind::Project,
                        procore_id: *procore_id,
                        decision: MappingDecision::Import,
                        keep_existing: true,
                    },
                );
            }
            Action::LinkProject {
                procore_id,
                project_id,
                fields,
                ..
            }
            | Action::UpdateProject {
                procore_id,
                project_id,
                fields,
                ..
            } => {
                summary.projects_updated += 1;
                entry.local_id = Some(project_id.0);
                for other in &local.projects {
                    if other.id != *project_id && other.procore_project_id == Some(*procore_id) {
                        let mut o = other.clone();
                        o.procore_project_id = None;
                        b.changes.push(ComplianceChange::UpdateProject {
                            custom_fields: local
                                .project_custom_fields
                                .get(&o.id)
                                .cloned()
                                .unwrap_or_default(),
                            project: o,
                        });
                    }
                }
                if let Some(p) = local.projects.iter().find(|p| p.id == *project_id) {
                    let mut p = p.clone();
                    let mut custom = local
                        .project_custom_fields
                        .get(project_id)
                        .cloned()
                        .unwrap_or_default();
                    fields.apply_to(&mut p, &mut custom);
                    p.procore_project_id = Some(*procore_id);
                    r.linked_projects.insert(*procore_id, *project_id);
                    b.changes.push(ComplianceChange::UpdateProject {
                        project: p,
                        custom_fields: custom,
                    });
                }
            }
            Action::CreateParty {
                procore_vendor_id,
                fields,
                ..
            } => {
                summary.parties_created += 1;
                let mut p = new_party(*procore_vendor_id);
                fields.apply_to(&mut p);
                r.created_parties
                    .insert(*procore_vendor_id, b.changes.len());
                entry.change = Some(b.changes.len());
                b.changes.push(ComplianceChange::CreateParty { party: p });
                b.mappings.insert(
                    (ProcoreRecordKind::Company, *procore_vendor_id),
                    MappingWrite {
                        kind: ProcoreRecordKind::Company,
                        procore_id: *procore_vendor_id,
                        decision: MappingDecision::Import,
                        keep_existing: true,
                    },
                );
            }
            Action::LinkParty {
                procore_vendor_id,
                party_id,
                fields,
                ..
            }
            | Action::UpdateParty {
                procore_vendor_id,
                party_id,
                fields,
                ..
            } => {
                summary.parties_updated += 1;
                entry.local_id = Some(party_id.0);
                for other in &local.parties {
                    if other.id != *party_id && other.procore_vendor_id == Some(*procore_vendor_id)
                    {
                        let mut o = other.clone();
                        o.procore_vendor_id = None;
                        b.changes.push(ComplianceChange::UpdateParty { party: o });
                    }
                }
                if let Some(p) = local.parties.iter().find(|p| p.id == *party_id) {
                    let mut p = p.clone();
                    fields.apply_to(&mut p);
                    p.procore_vendor_id = Some(*procore_vendor_id);
                    r.linked_parties.insert(*procore_vendor_id, *party_id);
                    b.changes.push(ComplianceChange::UpdateParty { party: p });
                }
            }
            Action::CreateContact {
                procore_vendor_id,
                procore_contact_id,
                fields,
                ..
            } => {
                summary.contacts_created += 1;
                let mut c = Contact {
                    id: ContactId(0),
                    party_id: PartyId(0),
                    first_name: None,
                    last_name: None,
                    email: None,
                    phone: None,
                    fax: None,
                    primary: false,
                    procore_contact_id: Some(*procore_contact_id),
                };
                fields.apply_to(&mut c);
                c.procore_contact_id = Some(*procore_contact_id);
                entry.change = Some(b.changes.len());
                b.changes.push(ComplianceChange::CreateContact {
                    party: r.party(*procore_vendor_id),
                    contact: c,
                });
            }
            Action::UpdateContact {
                contact_id,
                procore_contact_id,
                fields,
                ..
            } => {
                summary.contacts_updated += 1;
                entry.local_id = Some(contact_id.0);
                if let Some(c) = local.contacts.iter().find(|c| c.id == *contact_id) {
                    let mut c = c.clone();
                    fields.apply_to(&mut c);
                    if procore_contact_id.is_some() {
                        c.procore_contact_id = *procore_contact_id;
                    }
                    b.changes
                        .push(ComplianceChange::UpdateContact { contact: c });
                }
            }
            Action::Associate {
                procore_project_id,
                procore_vendor_id,
                commitment_ids,
                profile_id,
                ..
            }
            | Action::UpdateAssociation {
                procore_project_id,
                procore_vendor_id,
                commitment_ids,
                profile_id,
                ..
            } => {
                summary.associations_set += 1;
                let party = r.party(*procore_vendor_id);
                let project = r.project(*procore_project_id);
                // No profile named: the store keeps the association's own (a person's, set
                // perhaps after this sync read it).
                b.changes.push(ComplianceChange::SetPartyProject {
                    party,
                    project,
                    profile_id: *profile_id,
                    active: true,
                    procore_commitment_ids: commitment_ids.clone(),
                });
                for c in commitment_ids {
                    extra.push(RunEntry {
                        kind: "procore-commitment".into(),
                        procore_id: Some(*c),
                        ..entry.clone()
                    });
                }
            }
            Action::EndAssociation {
                party_id,
                project_id,
                ..
            } => {
                summary.associations_ended += 1;
                let existing = local
                    .party_projects
                    .iter()
                    .find(|a| a.party_id == *party_id && a.project_id == *project_id);
                b.changes.push(ComplianceChange::SetPartyProject {
                    party: Ref::Id(*party_id),
                    project: Ref::Id(*project_id),
                    profile_id: None,
                    active: false,
                    procore_commitment_ids: Vec::new(),
                });
                for c in existing.map_or(&[][..], |a| &a.procore_commitment_ids[..]) {
                    extra.push(RunEntry {
                        kind: "procore-commitment".into(),
                        procore_id: Some(*c),
                        ..entry.clone()
                    });
                }
            }
            Action::WriteInsurance {
                level,
                procore_vendor_id,
                procore_project_id,
                record,
                ..
            } => {
                summary.insurance_queued += 1;
                entry.procore_id = Some(*procore_vendor_id);
                entry.outcome = planned("queued");
                let mut key = insurance_key(company, record);
                // The same record written before and changed since (A, B, then A again) is a
                // new write: its key must not be taken by the first one.
                if existing_keys.contains(&key) {
                    key = format!("{key}:run{run}");
                }
                let payload = WritePayload {
                    level: *level,
                    procore_vendor_id: *procore_vendor_id,
                    procore_project_id: *procore_project_id,
                    record: record.clone(),
                };
                b.outbox.push(NewOutboxItem::new(
                    company,
                    WRITE_INSURANCE,
                    &key,
                    &serde_json::to_string(&payload).expect("serializable"),
                ));
            }
            Action::RemoveInsurance {
                level,
                procore_vendor_id,
                procore_project_id,
                origin_id,
                procore_insurance_id,
                ..
            } => {
                summary.insurance_removals_queued += 1;
                entry.procore_id = Some(*procore_vendor_id);
                entry.outcome = planned("queued");
                let payload = RemovePayload {
                    level: *level,
                    procore_vendor_id: *procore_vendor_id,
                    procore_project_id: *procore_project_id,
                    origin_id: origin_id.clone(),
                    procore_insurance_id: *procore_insurance_id,
                };
                let mut key = removal_key(company, origin_id, *procore_insurance_id);
                // Removed before and written again under the same Procore id: a new removal.
                if existing_keys.contains(&key) {
                    key = format!("{key}:run{run}");
                }
                b.outbox.push(NewOutboxItem::new(
                    company,
                    remove::REMOVE_INSURANCE,
                    &key,
                    &serde_json::to_string(&payload).expect("serializable"),
                ));
            }
            Action::Skip { .. } => {
                summary.skipped += 1;
                entry.outcome = "skipped".into();
            }
        }
        b.log.push(entry);
        b.log.extend(extra);
    }
    for rej in rejected {
        summary.rejected += 1;
        b.log.push(RunEntry {
            kind: rej.kind.into(),
            procore_id: rej.procore_id,
            local_id: None,
            change: None,
            action: "skip".into(),
            reason: format!("Procore sent a record trestle cannot use: {}", rej.problem),
            detail_json: None,
            outcome: "skipped".into(),
        });
    }
    b
}

/// Runs one compliance sync. A dry run collects and plans, records the run as a dry run, and
/// changes nothing.
///
/// # Errors
/// What stops the whole sync (auth, permissions, the store). Malformed records and failed
/// writes do not: they are in the report and the run log.
pub async fn sync_compliance(job: &ComplianceJob<'_>, dry_run: bool) -> Result<Report> {
    let store = job.store;
    let company = job.company_id;
    let requests_before = job.client.stats().requests;
    let settings = load_settings(store, company).await?;
    let local = load_local(store, company, &settings, job.today).await?;
    let (mirror, unreadable) = Mirror::from_rows(&store.mirror(company).await?);
    let cursors = Cursors::from_pairs(&store.cursors_with_prefix(company, "compliance.").await?);
    let full = job.full_read
        || !unreadable.is_empty()
        || cursors.full_read_due(job.today, settings.full_read_days);
    let mut collection = Collection::new(mirror.clone(), full);
    collect_directory(job.client, &cursors, job.progress.as_ref(), &mut collection).await?;
    let projects = commitment_projects(&collection, &local, &settings);
    collect_commitments(
        job.client,
        &projects,
        &cursors,
        job.progress.as_ref(),
        &mut collection,
    )
    .await?;
    if !projects.is_empty() {
        // After the commitments: a field they carry without a label is looked up.
        collect_field_labels(job.client, &settings.profile_field, &mut collection).await?;
    }
    collection.snapshot = collection.mirror.snapshot();
    collection.snapshot.custom_field_problem = collection.field_labels_problem.clone();
    if full {
        collection.cursors.push(store::CursorUpdate {
            collection: FULL_READ.into(),
            value: job.today.to_string(),
        });
        collection.cursors.push(store::CursorUpdate {
            collection: MIRROR_FORMAT.into(),
            value: MIRROR_FORMAT_VERSION.into(),
        });
    }
    let first = plan(&collection.snapshot, &local, &settings, job.today);

    let mut summary = Summary {
        dry_run,
        full_read: full,
        records_read: collection.records_read,
        ..Summary::default()
    };
    let run = store.start_run(company, "compliance", dry_run).await?;
    // Every record currently rejected, not only those this read sent: an incremental read does
    // not send a rejected record again, and it must not drop out of the report unfixed.
    collection.rejected = collection.all_rejected();
    let rejected = collection
        .rejected
        .iter()
        .map(|r| (r.kind.to_string(), r.procore_id, r.problem.clone()))
        .collect();
    if dry_run {
        // The insurance lines show what would be written were the records as they are now;
        // records for associations this sync would make are planned by the real run.
        let first = if full {
            restore_in_procore(job, first, &local).await?
        } else {
            first
        };
        let batch = build_phase(
            store,
            &first,
            Some(&collection),
            &local,
            company,
            &mut summary,
            run,
        )
        .await?;
        store.record(run, &batch.log).await?;
        let report = Report {
            run,
            settings,
            plan: first,
            summary,
            rejected,
            written: Vec::new(),
            failures: Vec::new(),
        };
        return finish(job, run, report, requests_before).await;
    }

    // Records first; then the insurance is planned again on the records as applied, so an
    // association made or ended by this sync is reported (or removed) by this sync.
    let (records, insurance) = first.split_insurance();
    let batch = build_phase(
        store,
        &records,
        Some(&collection),
        &local,
        company,
        &mut summary,
        run,
    )
    .await?;
    apply(store, company, run, batch).await?;
    let applied;
    let (basis, insurance) = if records.has_changes() {
        applied = load_local(store, company, &settings, job.today).await?;
        let (_, insurance) =
            plan(&collection.snapshot, &applied, &settings, job.today).split_insurance();
        (&applied, insurance)
    } else {
        (&local, insurance)
    };
    // A whole read also compares trestle's records with Procore's copies (see
    // `restore_in_procore`); the plan above already writes those that changed here.
    let insurance = if full {
        restore_in_procore(job, insurance, basis).await?
    } else {
        insurance
    };
    let batch = build_phase(store, &insurance, None, basis, company, &mut summary, run).await?;
    apply(store, company, run, batch).await?;
    // After the apply, in its own transaction: the plan is a function of the whole mirror, so
    // if this is lost the next sync reads the same changes again and plans the same.
    store
        .save_mirror(&store::MirrorUpdate {
            company_id: company,
            changes: &collection.mirror.changes_since(&mirror, &unreadable),
            cursors: &collection.cursors,
            forget_cursors: &collection.forget_cursors,
        })
        .await?;
    // What trestle reports now, and where: a removal queued earlier for one of these, at the
    // same place, is stale.
    let reported: BTreeSet<(String, i64, Option<i64>)> = insurance
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::WriteInsurance {
                record,
                procore_vendor_id,
                procore_project_id,
                ..
            } => Some((
                record.origin_id.clone(),
                *procore_vendor_id,
                *procore_project_id,
            )),
            Action::Skip {
                key: Key::Insurance { origin_id },
                reason: Reason::NothingChangedSince { .. },
            } => basis.written.get(origin_id).and_then(|w| {
                w.written_to
                    .map(|(vendor, project)| (origin_id.clone(), vendor, project))
            }),
            _ => None,
        })
        .collect();
    let mut report = Report {
        run,
        settings,
        plan: Plan {
            actions: records
                .actions
                .into_iter()
                .chain(insurance.actions)
                .collect(),
        },
        summary,
        rejected,
        written: Vec::new(),
        failures: Vec::new(),
    };
    // Removals first: a record that moves (its party or project linked elsewhere since) is
    // taken out of its old place before it is written at the new one.
    remove::drain_removals(job, run, &mut report, &reported).await?;
    drain_insurance(job, run, &mut report).await?;
    finish(job, run, report, requests_before).await
}

/// trestle's fields win over edits made in Procore. Procore's insurance lists take no filters
/// and carry no timestamps, so an edit there cannot be read as a change: on a whole read (every
/// `full_read_days`, and `--full`) the collections holding records the plan would not write
/// again are read whole (one paged list for the company level, one per Procore project), and a
/// record whose managed fields were changed there, or that was deleted there, is written again.
/// Other syncs read no insurance list. A collection that cannot be read (no permission, a
/// project no longer visible) is not compared.
///
/// # Errors
/// What stops the whole sync (auth, Procore unavailable).
async fn restore_in_procore(
    job: &ComplianceJob<'_>,
    plan: Plan,
    local: &LocalCompliance,
) -> Result<Plan> {
    let places = unchanged_places(&plan, local);
    if places.is_empty() {
        return Ok(plan);
    }
    let mut copies = ProcoreCopies::default();
    let insurances = job.client.insurances();
    for place in places {
        let scope = match place {
            None => insurances.company(),
            Some(p) => insurances.project(procore::ProjectId(p)),
        };
        let found = match scope.list().collect().await {
            Ok(found) => found,
            Err(e) if matches!(e.status(), Some(403 | 404)) => continue,
            Err(e) => return Err(e.into()),
        };
        copies.read.insert(place);
        for i in found.items {
            let Some(origin) = i.origin_id.clone().filter(|o| o.starts_with("trestle:")) else {
                continue;
            };
            copies.by_origin.insert(
                origin,
                ProcoreInsurance {
                    procore_vendor_id: i.vendor_id.map(|v| v.get()),
                    procore_project_id: place,
                    insurance_type: i.insurance_type,
                    status: i.status.map(|s| s.as_str().to_owned()),
                    effective_date: i.effective_date,
                    expiration_date: i.expiration_date,
                    policy_number: i.policy_number,
                    insurer: i.insurance_provider,
                    notes: i.notes,
                },
            );
        }
    }
    Ok(restore_drifted(plan, local, &copies, job.today))
}

/// Builds one phase's batch: the outbox keys of insurance writes and removals done before are
/// looked up so a record written, changed and written back again (or removed, written and
/// removed again) gets a key of its own.
async fn build_phase(
    store: &Store,
    plan: &Plan,
    seen: Option<&Collection>,
    local: &LocalCompliance,
    company: i64,
    summary: &mut Summary,
    run: RunId,
) -> Result<Batch> {
    let mut existing_keys = BTreeSet::new();
    for action in plan.changes() {
        let key = match action {
            Action::WriteInsurance { record, .. } => insurance_key(company, record),
            Action::RemoveInsurance {
                origin_id,
                procore_insurance_id,
                ..
            } => removal_key(company, origin_id, *procore_insurance_id),
            _ => continue,
        };
        if let Some(item) = store.outbox_item_by_key(&key).await? {
            if item.state != store::OutboxState::Pending {
                existing_keys.insert(key);
            }
        }
    }
    Ok(build(
        plan,
        seen,
        local,
        company,
        summary,
        &existing_keys,
        run,
    ))
}

async fn apply(store: &Store, company: i64, run: RunId, batch: Batch) -> Result<()> {
    let mappings: Vec<MappingWrite> = batch.mappings.into_values().collect();
    store
        .apply_compliance(&ComplianceBatch {
            company_id: company,
            run: Some(run),
            changes: &batch.changes,
            mappings: &mappings,
            outbox: &batch.outbox,
            insurance_writes: &[],
            cursors: &[],
            log: &batch.log,
        })
        .await?;
    Ok(())
}

async fn finish(
    job: &ComplianceJob<'_>,
    run: RunId,
    mut report: Report,
    requests_before: u64,
) -> Result<Report> {
    report.summary.requests = job.client.stats().requests - requests_before;
    job.store
        .finish_run(
            run,
            &serde_json::to_string(&report.summary).expect("serializable"),
        )
        .await?;
    Ok(report)
}

fn to_procore(payload: &WritePayload) -> procore::models::InsuranceWrite {
    let record = &payload.record;
    procore::models::InsuranceWrite {
        // The company and project collections take every vendor's records, each naming its own.
        vendor_id: Some(procore::VendorId(payload.procore_vendor_id)),
        origin_id: Some(record.origin_id.clone()),
        insurance_type: Some(record.insurance_type.clone()),
        status: Some(procore::models::InsuranceStatus::parse(
            record.status.as_str(),
        )),
        effective_date: record.effective_date,
        expiration_date: record.expiration_date,
        policy_number: record.policy_number.clone(),
        provider: record.insurer.clone(),
        notes: Some(record.notes.clone()),
        ..Default::default()
    }
}

/// Outbox items claimed per round of the drain. Every due item of a company is usually claimed
/// in one round, so each Procore project's records go in as few requests as possible.
const DRAIN_ROUND: usize = 10_000;

/// A claimed insurance write with its payload read.
struct Claimed {
    item: store::OutboxItem,
    payload: WritePayload,
}

/// The run-log entry of one insurance write.
fn write_entry(payload: &WritePayload, outcome: &str, reason: String) -> RunEntry {
    RunEntry {
        kind: "insurance".into(),
        procore_id: Some(payload.procore_vendor_id),
        local_id: None,
        change: None,
        action: "write_insurance".into(),
        reason,
        detail_json: serde_json::to_string(&payload.record).ok(),
        outcome: outcome.into(),
    }
}

/// The delay before a failed write is tried again: growing with the attempts, none for a
/// failure about the connection (which says nothing about the record).
pub(super) fn retry_delay(attempts: u32, about_the_connection: bool) -> Duration {
    if about_the_connection {
        Duration::zero()
    } else {
        Duration::seconds(30 * 2_i64.pow(attempts.clamp(1, 10)))
    }
}

/// Splits one target's writes into sync calls: at most [`SYNC_BATCH`] items each, and an
/// origin id at most once per call (a record changed again while its first write waits goes in a
/// later call, after it, so the newest values win). Items keep their claim order.
///
/// [`SYNC_BATCH`]: procore::api::insurances::SYNC_BATCH
fn sync_calls(items: Vec<Claimed>) -> Vec<Vec<Claimed>> {
    let mut calls: Vec<(std::collections::BTreeSet<String>, Vec<Claimed>)> = Vec::new();
    for c in items {
        let origin = c.payload.record.origin_id.clone();
        match calls.iter_mut().find(|(seen, call)| {
            call.len() < procore::api::insurances::SYNC_BATCH && !seen.contains(&origin)
        }) {
            Some((seen, call)) => {
                seen.insert(origin);
                call.push(c);
            }
            None => calls.push((std::collections::BTreeSet::from([origin]), vec![c])),
        }
    }
    calls.into_iter().map(|(_, call)| call).collect()
}

/// Writes every due insurance record in the outbox, batched: the due items are claimed
/// together, grouped by target (the company-level collection for global records, one
/// project-level collection per Procore project for party-project records, every item naming
/// its vendor) and sent with one `sync` call per group of up to 1000. Each record is recorded as
/// written and its item completed once Procore's answer holds it (matched by origin id). A
/// record Procore refused is retried by a later run with a growing delay and never stops the
/// others; so is one too large for Procore on its own (a call refused whole with 413 is sent
/// again in halves until the record that is too large is alone); a failure about the connection leaves the call's items (and those not sent yet) due
/// and stops the drain.
///
/// # Errors
/// The store failed.
pub async fn drain_insurance(
    job: &ComplianceJob<'_>,
    run: RunId,
    report: &mut Report,
) -> Result<()> {
    let store = job.store;
    let company = job.company_id;
    let lease = std::time::Duration::from_secs(300);
    if job.reclaim_leases {
        let released = store
            .release_leases(company, WRITE_INSURANCE, Utc::now())
            .await?;
        if released > 0 {
            tracing::info!(
                released,
                "took back insurance writes left leased by a process that stopped"
            );
        }
    }
    loop {
        let items = store
            .claim_batch_for(company, WRITE_INSURANCE, Utc::now(), lease, DRAIN_ROUND)
            .await?;
        if items.is_empty() {
            return Ok(());
        }
        // A write queued before the last write of its record is stale: a newer version went
        // out while it waited for a retry, and sending it now would put old values back.
        let last_written: BTreeMap<String, chrono::DateTime<Utc>> = store
            .insurance_writes(company)
            .await?
            .into_iter()
            .map(|w| (w.origin_id, w.written_at))
            .collect();
        // Company level first (`None`), then each Procore project.
        let mut targets: BTreeMap<Option<i64>, Vec<Claimed>> = BTreeMap::new();
        for item in items {
            match serde_json::from_str::<WritePayload>(&item.payload_json) {
                Ok(payload)
                    if last_written
                        .get(&payload.record.origin_id)
                        .is_some_and(|at| *at > item.created_at) =>
                {
                    store.complete(item.id, r#"{"superseded":true}"#).await?;
                    let reason = "not written: a newer version of this record was written while this one waited for a retry".to_string();
                    store
                        .record(run, &[write_entry(&payload, "superseded", reason)])
                        .await?;
                }
                Ok(payload) => targets
                    .entry(payload.procore_project_id)
                    .or_default()
                    .push(Claimed { item, payload }),
                Err(e) => {
                    store
                        .fail(item.id, &format!("unreadable payload: {e}"), None)
                        .await?;
                }
            }
        }
        let mut calls = targets
            .into_iter()
            .flat_map(|(project, items)| {
                sync_calls(items)
                    .into_iter()
                    .map(move |call| (project, call))
            })
            .collect::<std::collections::VecDeque<_>>();
        while let Some((project, call)) = calls.pop_front() {
            match write_call(job, run, report, project, call).await? {
                CallOutcome::Settled => continue,
                CallOutcome::TooLarge(mut first) => {
                    // Procore refused the call whole for its size: each half is sent on its
                    // own, down to the one record that is too large by itself, so it never
                    // holds up the others.
                    let second = first.split_off(first.len() / 2);
                    tracing::info!(
                        records = first.len() + second.len(),
                        "Procore refused an insurance sync call as too large; sending it in halves"
                    );
                    calls.push_front((project, second));
                    calls.push_front((project, first));
                    continue;
                }
                CallOutcome::Stop => {
                    // Stopped at a failure about the connection: what was claimed and not
                    // sent is due again at once.
                    let now = Utc::now();
                    for c in calls.into_iter().flat_map(|(_, call)| call) {
                        store
                            .fail(
                                c.item.id,
                                "not sent: the drain stopped at a failure about the connection",
                                Some(now),
                            )
                            .await?;
                    }
                    return Ok(());
                }
            }
        }
    }
}

/// What became of one `sync` call.
enum CallOutcome {
    /// Every item is settled: written, or failed and retried later.
    Settled,
    /// Procore refused the call whole as too large (413); its items, unsettled, are to be sent
    /// in smaller calls.
    TooLarge(Vec<Claimed>),
    /// The call failed about the connection: the drain stops.
    Stop,
}

/// Sends one `sync` call (company level when `project` is `None`) and settles its items, or
/// hands a call of several items that Procore refused as too large back to be split.
async fn write_call(
    job: &ComplianceJob<'_>,
    run: RunId,
    report: &mut Report,
    project: Option<i64>,
    call: Vec<Claimed>,
) -> Result<CallOutcome> {
    let store = job.store;
    let company = job.company_id;
    let insurances = job.client.insurances();
    let scope = match project {
        None => insurances.company(),
        Some(p) => insurances.project(procore::ProjectId(p)),
    };
    let writes: Vec<_> = call.iter().map(|c| to_procore(&c.payload)).collect();
    crash_if(job.crash_at, CrashPoint::BeforeUpload);
    let answer = match scope.sync(&writes).await {
        Ok(answer) => answer,
        Err(e) if e.status() == Some(413) && call.len() > 1 => {
            return Ok(CallOutcome::TooLarge(call));
        }
        Err(e) => {
            let too_large = e.status() == Some(413);
            let message = if too_large {
                format!(
                    "Procore refused this record as too large (HTTP 413), even sent on its own; the others were written without it, and it is tried again later (what it carries, such as its notes or insurer, must be shorter): {e}"
                )
            } else {
                e.to_string()
            };
            let stop = SyncError::from(e).is_about_the_connection();
            // A connection-wide failure says nothing about these records: they stay due.
            let now = Utc::now();
            let mut log = Vec::with_capacity(call.len());
            for c in &call {
                store
                    .fail(
                        c.item.id,
                        &message,
                        Some(now + retry_delay(c.item.attempts, stop)),
                    )
                    .await?;
                log.push(write_entry(
                    &c.payload,
                    "failed",
                    format!("the insurance write failed, retried later: {message}"),
                ));
                report.summary.insurance_failures += 1;
                report
                    .failures
                    .push(format!("{}: {message}", c.payload.record.origin_id));
            }
            store.record(run, &log).await?;
            return Ok(if stop {
                CallOutcome::Stop
            } else {
                CallOutcome::Settled
            });
        }
    };
    let single = call.len() == 1;
    let mut written: BTreeMap<String, i64> = BTreeMap::new();
    for e in &answer.entities {
        if let Some(o) = &e.origin_id {
            written.insert(o.clone(), e.id.get());
        }
    }
    let mut refused: BTreeMap<String, String> = BTreeMap::new();
    for e in &answer.errors {
        let message = e
            .errors
            .iter()
            .map(|(f, m)| format!("{f}: {}", m.join(", ")))
            .collect::<Vec<_>>()
            .join("; ");
        // An item error without the origin id can only be the item of a one-item call.
        let origin = match &e.origin_id {
            Some(o) => o.clone(),
            None if single => call[0].payload.record.origin_id.clone(),
            None => continue,
        };
        refused.insert(origin, message);
    }
    if single && written.is_empty() && refused.is_empty() {
        if let Some(e) = answer.entities.first() {
            written.insert(call[0].payload.record.origin_id.clone(), e.id.get());
        }
    }
    if call
        .iter()
        .any(|c| written.contains_key(&c.payload.record.origin_id))
    {
        // Procore has the records; trestle does not know yet.
        crash_if(job.crash_at, CrashPoint::AfterUpload);
    }
    let mut log = Vec::with_capacity(call.len());
    for c in call {
        let origin = c.payload.record.origin_id.as_str();
        let Some(&procore_id) = written.get(origin) else {
            let message = refused.remove(origin).unwrap_or_else(|| {
                "Procore's answer to the batch did not include this record".to_string()
            });
            store
                .fail(
                    c.item.id,
                    &message,
                    Some(Utc::now() + retry_delay(c.item.attempts, false)),
                )
                .await?;
            log.push(write_entry(
                &c.payload,
                "failed",
                format!("the insurance write failed, retried later: {message}"),
            ));
            report.summary.insurance_failures += 1;
            report.failures.push(format!("{origin}: {message}"));
            continue;
        };
        store
            .record_insurance_write(
                company,
                &store::InsuranceWrite {
                    record: c.payload.record.clone(),
                    procore_insurance_id: Some(procore_id),
                    written_at: Utc::now(),
                    procore_vendor_id: Some(c.payload.procore_vendor_id),
                    procore_project_id: c.payload.procore_project_id,
                },
            )
            .await?;
        // Recorded as written; the outbox item is not completed yet.
        crash_if(job.crash_at, CrashPoint::AfterLink);
        store
            .complete(
                c.item.id,
                &serde_json::json!({ "insurance_id": procore_id }).to_string(),
            )
            .await?;
        let payload = c.payload;
        let where_ = match payload.procore_project_id {
            None => format!("Procore company {}", payload.procore_vendor_id),
            Some(p) => format!(
                "Procore company {} on Procore project {p}",
                payload.procore_vendor_id
            ),
        };
        log.push(write_entry(
            &payload,
            "written",
            format!(
                "wrote {} ({}) to {where_} as {} by origin id {}",
                payload.record.insurance_type,
                payload.record.status,
                payload.level.label(),
                payload.record.origin_id
            ),
        ));
        report.summary.insurance_written += 1;
        if let Some(p) = &job.progress {
            p(
                "insurance writes",
                report.summary.insurance_written as u64,
                Some(report.summary.insurance_queued as u64),
            );
        }
        report.written.push(Written {
            level: payload.level,
            procore_vendor_id: payload.procore_vendor_id,
            procore_project_id: payload.procore_project_id,
            procore_insurance_id: Some(procore_id),
            record: payload.record,
        });
    }
    store.record(run, &log).await?;
    Ok(CallOutcome::Settled)
}

/// The outbox key of an insurance removal: one per record written (the same origin written
/// again after a removal is a new Procore record, with a new id).
fn removal_key(company: i64, origin_id: &str, procore_insurance_id: Option<i64>) -> String {
    format!(
        "insurance-removal:{company}:{origin_id}:{}",
        procore_insurance_id.map_or_else(|| "unknown".into(), |id| id.to_string())
    )
}

/// The outbox key of an insurance write: the record and what trestle would write (status,
/// dates, policy, and notes, so a notes-only change is a new write). One function, so the
/// planning side and the look-up of earlier writes can never disagree.
fn insurance_key(company: i64, record: &domain::compliance::InsuranceRecord) -> String {
    let fingerprint = format!("{}|{}", record.status_fingerprint(), record.notes);
    format!(
        "insurance:{company}:{}:{}",
        record.origin_id,
        short_hash(&fingerprint)
    )
}
