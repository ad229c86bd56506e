//! trestle's side of a compliance sync, read from the store: the settings, the records with
//! the administrator's mapping decisions, and the insurance records to report, evaluated and
//! rendered, with those last written.

use super::input::{DesiredInsurance, InsuranceTarget, LocalCompliance, Mapping, WrittenInsurance};
use super::settings::ComplianceSettings;
use crate::error::{Result, SyncError};
use chrono::NaiveDate;
use domain::compliance::{writeback::render, PartyId, ProjectId};
use store::{MappingDecision, ProcoreRecordKind, Store};

/// The company's settings: the stored JSON, or the defaults when none were saved.
///
/// # Errors
/// The store failed, or the stored JSON is not settings.
pub async fn load_settings(store: &Store, company: i64) -> Result<ComplianceSettings> {
    Ok(read_settings(store, company).await?.0)
}

/// [`load_settings`], with the JSON they were read from (`null` when none were saved): what
/// [`change_settings`] names to the store as the settings it read.
async fn read_settings(
    store: &Store,
    company: i64,
) -> Result<(ComplianceSettings, serde_json::Value)> {
    match store.compliance_settings(company).await? {
        None => Ok((ComplianceSettings::default(), serde_json::Value::Null)),
        Some(v) => match serde_json::from_value(v.clone()) {
            Ok(s) => Ok((s, v)),
            Err(e) => Err(SyncError::Invalid(format!(
                "the stored compliance settings are unreadable: {e}"
            ))),
        },
    }
}

/// Saves the company's settings.
///
/// # Errors
/// The store failed.
pub async fn save_settings(store: &Store, company: i64, s: &ComplianceSettings) -> Result<()> {
    let v = serde_json::to_value(s).map_err(|e| SyncError::Invalid(e.to_string()))?;
    store.save_compliance_settings(company, &v, None).await?;
    Ok(())
}

/// Changes the company's settings: `change` makes the new ones from those read, and they are
/// saved only if they are still as read. When another save came between, `change` is made
/// again on what that one left (up to [`store::TRIES_AGAIN`] more times), so both are kept. A
/// caller that must refuse a change on settings it has not seen (`If-Match`) refuses in
/// `change`, which sees them each time.
///
/// # Errors
/// What `change` refused with; the store failed, or (a conflict) other saves kept coming
/// between.
pub async fn change_settings<E: From<SyncError>>(
    store: &Store,
    company: i64,
    mut change: impl FnMut(&ComplianceSettings) -> std::result::Result<ComplianceSettings, E>,
) -> std::result::Result<ComplianceSettings, E> {
    let mut tries_left = store::TRIES_AGAIN;
    loop {
        let (current, as_read) = read_settings(store, company).await?;
        let new = change(&current)?;
        let v = serde_json::to_value(&new).map_err(|e| SyncError::Invalid(e.to_string()))?;
        match store
            .save_compliance_settings(company, &v, Some(&as_read))
            .await
        {
            Ok(()) => return Ok(new),
            Err(store::StoreError::Changed { .. }) if tries_left > 0 => tries_left -= 1,
            Err(e) => return Err(SyncError::Store(e.gave_up()).into()),
        }
    }
}

/// A stored decision as the planner takes it, with local ids made by `id`.
pub fn mapping<I>(d: MappingDecision, id: impl Fn(i64) -> I) -> Mapping<I> {
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
