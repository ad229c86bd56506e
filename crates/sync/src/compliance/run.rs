//! One compliance sync: collect, evaluate and render, plan, apply in one transaction, then drain
//! the insurance writes and removals.
//!
//! The apply is one store transaction holding the record changes, the mapping decisions seen,
//! the outbox items for insurance writes and the run log (see `apply`). Insurance
//! records are written after it, from the outbox (see [`super::writeback`]).

use super::apply::{build, insurance_key, removal_key, Batch, Tally};
use super::collect::{
    collect_commitment_targets, collect_commitments, collect_directory, collect_directory_targets,
    collect_field_labels, Collection, Cursors, Mirror, FULL_READ, MIRROR_FORMAT,
    MIRROR_FORMAT_VERSION,
};
use super::input::{LocalCompliance, Mapping, ProcoreCopies, ProcoreInsurance};
use super::insurance::{restore_drifted, unchanged_places};
use super::job::ComplianceJob;
use super::local::{load_local, load_settings};
use super::plan::{plan, Action, Key, Plan};
use super::reason::Reason;
use super::settings::{ComplianceSettings, NewProjects};
use super::writeback::{drain_insurance, drain_removals, Drained, Written};
use crate::error::Result;
use crate::webhooks::Targets;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use store::{ComplianceBatch, MappingWrite, RunId, Store};

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

/// The result of a sync: its run id, the plan it applied (or would apply), writes done.
#[derive(Debug, Clone)]
pub struct Report {
    pub run: RunId,
    pub settings: ComplianceSettings,
    pub plan: Plan,
    pub summary: Summary,
    /// Procore records that could not be used: (run-log kind, Procore id, problem).
    pub rejected: Vec<(store::SubjectKind, Option<i64>, String)>,
    pub written: Vec<Written>,
    pub failures: Vec<String>,
}

impl Summary {
    /// Adds one phase's counts.
    fn count(&mut self, t: &Tally) {
        self.projects_created += t.projects_created;
        self.projects_updated += t.projects_updated;
        self.parties_created += t.parties_created;
        self.parties_updated += t.parties_updated;
        self.contacts_created += t.contacts_created;
        self.contacts_updated += t.contacts_updated;
        self.associations_set += t.associations_set;
        self.associations_ended += t.associations_ended;
        self.skipped += t.skipped;
        self.rejected += t.rejected;
        self.insurance_queued += t.insurance_queued;
        self.insurance_removals_queued += t.insurance_removals_queued;
    }
}

impl Report {
    /// Adds what the drains did.
    fn drained(&mut self, d: Drained) {
        self.summary.insurance_written += d.insurance_written;
        self.summary.insurance_failures += d.insurance_failures;
        self.summary.insurance_removed += d.insurance_removed;
        self.written.extend(d.written);
        self.failures.extend(d.failures);
    }
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

/// Runs one compliance sync. A dry run collects and plans, records the run as a dry run, and
/// changes nothing.
///
/// # Errors
/// What stops the whole sync (auth, permissions, the store). Malformed records and failed
/// writes do not: they are in the report and the run log.
pub async fn sync_compliance(job: &ComplianceJob<'_>, dry_run: bool) -> Result<Report> {
    run(job, dry_run, Scope::Changes).await
}

/// A sync of the records webhook deliveries named (read one by one, see
/// [`collect_directory_targets`] and [`collect_commitment_targets`]) merged into the mirror,
/// then planned and applied like any sync: what `trestle serve` runs when deliveries arrive.
/// It never reads whole (the scheduled reconcile does), unless the mirror cannot be read.
///
/// # Errors
/// As [`sync_compliance`].
pub async fn sync_compliance_targets(job: &ComplianceJob<'_>, targets: &Targets) -> Result<Report> {
    run(job, false, Scope::Records(targets)).await
}

/// An incremental sync that leaves commitments to webhooks: the directory lists since their
/// cursors, and the commitments only of projects followed for the first time. What `trestle
/// serve`'s reconcile runs while the company's hook delivers: reading every followed project's
/// commitments (one request each) every reconcile would spend the rate limit on what the
/// commitment webhooks already bring. A whole read (every `full_read_days`) still reads them
/// all, and happens here when due.
///
/// # Errors
/// As [`sync_compliance`].
pub async fn sync_compliance_directory(job: &ComplianceJob<'_>) -> Result<Report> {
    run(job, false, Scope::Directory).await
}

/// What a sync reads of Procore before it plans.
#[derive(Clone, Copy)]
enum Scope<'a> {
    /// Every list since its cursor, every followed project's commitments since theirs.
    Changes,
    /// The directory lists since their cursors; commitments of newly followed projects only.
    Directory,
    /// The records webhook deliveries named.
    Records(&'a Targets),
}

async fn run(job: &ComplianceJob<'_>, dry_run: bool, scope: Scope<'_>) -> Result<Report> {
    let store = job.store;
    let company = job.company_id;
    let requests_before = job.client.stats().requests;
    let settings = load_settings(store, company).await?;
    let local = load_local(store, company, &settings, job.today).await?;
    let (mirror, unreadable) = Mirror::from_rows(&store.mirror(company).await?);
    let cursors = Cursors::from_pairs(&store.cursors_with_prefix(company, "compliance.").await?);
    let full = job.full_read
        || !unreadable.is_empty()
        || (!matches!(scope, Scope::Records(_))
            && cursors.full_read_due(job.today, settings.full_read_days));
    let mut collection = Collection::new(mirror.clone(), full);
    let followed_before = commitment_projects(&collection, &local, &settings);
    match scope {
        Scope::Records(targets) if !full => {
            collect_directory_targets(job.client, targets, &mut collection).await?;
        }
        _ => {
            collect_directory(job.client, &cursors, job.progress.as_ref(), &mut collection).await?;
        }
    }
    let projects = commitment_projects(&collection, &local, &settings);
    let named = match scope {
        _ if full => None,
        Scope::Changes => None,
        Scope::Directory => Some(&Targets::default()),
        Scope::Records(targets) => Some(targets),
    };
    match named {
        Some(targets) => {
            collect_commitment_targets(
                job.client,
                &projects,
                &followed_before,
                targets,
                &cursors,
                &mut collection,
            )
            .await?;
        }
        None => {
            collect_commitments(
                job.client,
                &projects,
                &cursors,
                job.progress.as_ref(),
                &mut collection,
            )
            .await?;
        }
    }
    let projects = commitment_projects(&collection, &local, &settings);
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
        .map(|r| (r.kind.clone(), r.procore_id, r.problem.clone()))
        .collect();
    if dry_run {
        // The insurance lines show what would be written were the records as they are now;
        // records for associations this sync would make are planned by the real run.
        let first = if full {
            restore_in_procore(job, first, &local, None).await?
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
    apply_batch(store, company, run, batch).await?;
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
    // Deliveries about insurance records someone changed in Procore compare those records'
    // places only.
    let insurance = match scope {
        _ if full => restore_in_procore(job, insurance, basis, None).await?,
        Scope::Records(t) if !t.insurances.is_empty() => {
            restore_in_procore(job, insurance, basis, Some(&t.insurances)).await?
        }
        _ => insurance,
    };
    let batch = build_phase(store, &insurance, None, basis, company, &mut summary, run).await?;
    apply_batch(store, company, run, batch).await?;
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
    let mut drained = Drained::default();
    drain_removals(job, run, &mut drained, &reported).await?;
    drain_insurance(job, run, report.summary.insurance_queued, &mut drained).await?;
    report.drained(drained);
    finish(job, run, report, requests_before).await
}

/// trestle's fields win over edits made in Procore. Procore's insurance lists take no filters
/// and carry no timestamps, so an edit there cannot be read as a change: on a whole read (every
/// `full_read_days`, and `--full`) the collections holding records the plan would not write
/// again are read whole (one paged list for the company level, one per Procore project), and a
/// record whose managed fields were changed there, or that was deleted there, is written again.
/// A sync of webhook deliveries about insurance records (`only`: their Procore ids) reads just
/// the collections holding those of them trestle wrote. Other syncs read no insurance list. A
/// collection that cannot be read (no permission, a project no longer visible) is not compared.
///
/// # Errors
/// What stops the whole sync (auth, Procore unavailable).
async fn restore_in_procore(
    job: &ComplianceJob<'_>,
    plan: Plan,
    local: &LocalCompliance,
    only: Option<&BTreeSet<i64>>,
) -> Result<Plan> {
    let mut places = unchanged_places(&plan, local);
    if let Some(ids) = only {
        let named: BTreeSet<Option<i64>> = local
            .written
            .values()
            .filter(|w| w.procore_insurance_id.is_some_and(|id| ids.contains(&id)))
            .filter_map(|w| w.written_to.map(|(_, project)| project))
            .collect();
        places.retain(|p| named.contains(p));
    }
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
        if let Some(item) = store.outbox_item_by_key(company, &key).await? {
            if item.state != store::OutboxState::Pending {
                existing_keys.insert(key);
            }
        }
    }
    let batch = build(
        plan,
        seen,
        local,
        company,
        summary.dry_run,
        &existing_keys,
        run,
    );
    summary.count(&batch.tally);
    Ok(batch)
}

async fn apply_batch(store: &Store, company: i64, run: RunId, batch: Batch) -> Result<()> {
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
