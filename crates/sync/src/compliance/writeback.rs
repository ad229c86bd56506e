//! Writing trestle's compliance into Procore as insurance records, and taking out those it no
//! longer reports, from the outbox the sync's apply filled.
//!
//! Insurance records are written with Procore's batch `sync` keyed by `origin_id`, and
//! remembered as written only once Procore answered: a crash between the write and the record
//! makes the next run write the same record again by its origin id, which updates it (never a
//! duplicate).
//!
//! A removal logs that it is removing the record, deletes it by its Procore id (found by
//! `origin_id` in the vendor's collection when the write's answer named none), logs it removed,
//! then forgets it as written, then completes the outbox item. Each step is safe to repeat: a
//! record already gone (404, or not found by its origin id) counts as removed, so a crash
//! anywhere only means the next run repeats the tail, and the run log never last says a record
//! Procore no longer holds was "written": before the delete it says "removing", and the outcome
//! is logged before the store forgets the record, so a crash between the two leaves the removal
//! due and the next run logs it again.

use super::job::ComplianceJob;
use super::settings::InsuranceLevel;
use crate::error::{Result, SyncError};
use crate::hooks::{crash_if, CrashPoint};
use chrono::{Duration, Utc};
use domain::compliance::InsuranceRecord;
use procore::{InsuranceId, ProjectId, VendorId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use store::{RunEntry, RunId, SubjectKind};

/// The outbox kind of an insurance write.
pub const WRITE_INSURANCE: &str = "compliance.write_insurance";

/// The outbox kind of an insurance removal.
pub const REMOVE_INSURANCE: &str = "compliance.remove_insurance";

/// One insurance record written to Procore by this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Written {
    pub level: InsuranceLevel,
    pub procore_vendor_id: i64,
    pub procore_project_id: Option<i64>,
    pub procore_insurance_id: Option<i64>,
    pub record: InsuranceRecord,
}

/// What the drains did, for the sync's report. Its own type so the drains need nothing from the
/// sync that runs them.
#[derive(Debug, Clone, Default)]
pub struct Drained {
    pub written: Vec<Written>,
    pub failures: Vec<String>,
    pub insurance_written: usize,
    pub insurance_failures: usize,
    pub insurance_removed: usize,
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

/// What a write needs: where the record goes in Procore, and the record.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct WritePayload {
    pub level: InsuranceLevel,
    pub procore_vendor_id: i64,
    pub procore_project_id: Option<i64>,
    pub record: InsuranceRecord,
}

fn to_procore(payload: &WritePayload) -> procore::models::InsuranceWrite {
    let record = &payload.record;
    procore::models::InsuranceWrite {
        // The company and project collections take every vendor's records, each naming its own.
        vendor_id: Some(VendorId(payload.procore_vendor_id)),
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
        kind: SubjectKind::Insurance,
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
fn retry_delay(attempts: u32, about_the_connection: bool) -> Duration {
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
    let mut calls: Vec<(BTreeSet<String>, Vec<Claimed>)> = Vec::new();
    for c in items {
        let origin = c.payload.record.origin_id.clone();
        match calls.iter_mut().find(|(seen, call)| {
            call.len() < procore::api::insurances::SYNC_BATCH && !seen.contains(&origin)
        }) {
            Some((seen, call)) => {
                seen.insert(origin);
                call.push(c);
            }
            None => calls.push((BTreeSet::from([origin]), vec![c])),
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
    queued: usize,
    drained: &mut Drained,
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
            .collect::<VecDeque<_>>();
        while let Some((project, call)) = calls.pop_front() {
            match write_call(job, run, queued, drained, project, call).await? {
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
    queued: usize,
    drained: &mut Drained,
    project: Option<i64>,
    call: Vec<Claimed>,
) -> Result<CallOutcome> {
    let store = job.store;
    let company = job.company_id;
    let insurances = job.client.insurances();
    let scope = match project {
        None => insurances.company(),
        Some(p) => insurances.project(ProjectId(p)),
    };
    let writes: Vec<_> = call.iter().map(|c| to_procore(&c.payload)).collect();
    crash_if(job.crash_at.as_ref(), CrashPoint::BeforeUpload);
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
                drained.insurance_failures += 1;
                drained
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
        crash_if(job.crash_at.as_ref(), CrashPoint::AfterUpload);
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
            drained.insurance_failures += 1;
            drained.failures.push(format!("{origin}: {message}"));
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
        crash_if(job.crash_at.as_ref(), CrashPoint::AfterLink);
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
        drained.insurance_written += 1;
        if let Some(p) = &job.progress {
            p(
                "insurance writes",
                drained.insurance_written as u64,
                Some(queued as u64),
            );
        }
        drained.written.push(Written {
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

/// The run-log entry of one insurance removal.
fn removal_entry(payload: &RemovePayload, outcome: &str, reason: String) -> RunEntry {
    RunEntry {
        kind: SubjectKind::Insurance,
        procore_id: Some(payload.procore_vendor_id),
        local_id: None,
        change: None,
        action: "remove_insurance".into(),
        reason,
        detail_json: serde_json::to_string(&payload.origin_id).ok(),
        outcome: outcome.into(),
    }
}

/// Deletes one record from Procore. `Ok(false)`: it was already gone.
async fn delete(client: &procore::Client, p: &RemovePayload) -> Result<bool> {
    let vendor = VendorId(p.procore_vendor_id);
    let scope = match p.procore_project_id {
        None => client.insurances().company_vendor(vendor),
        Some(project) => client
            .insurances()
            .project_vendor(ProjectId(project), vendor),
    };
    let id = match p.procore_insurance_id {
        Some(id) => id,
        None => {
            let all = scope.list().collect().await?;
            match all
                .items
                .iter()
                .find(|i| i.origin_id.as_deref() == Some(p.origin_id.as_str()))
            {
                Some(found) => found.id.get(),
                None => return Ok(false),
            }
        }
    };
    match scope.delete(InsuranceId(id)).await {
        Ok(()) => Ok(true),
        Err(e) if e.status() == Some(404) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Drains the company's due removals. Stops, leaving the rest due, at a failure about the
/// connection; a failure about one record is retried later with a growing delay. Each outcome
/// is logged as it happens, so a failure later in the drain loses no record of a delete done.
///
/// `reported`: the origin ids this sync reports (writes, or keeps as written), with the
/// Procore company and project they are at. A removal queued earlier for one of them at the same
/// place is stale (the association came back while it waited) and is closed without touching
/// Procore; one at another place is a record that moved, and goes ahead.
///
/// # Errors
/// The store failed.
pub async fn drain_removals(
    job: &ComplianceJob<'_>,
    run: RunId,
    drained: &mut Drained,
    reported: &BTreeSet<(String, i64, Option<i64>)>,
) -> Result<()> {
    let store = job.store;
    let company = job.company_id;
    let lease = std::time::Duration::from_secs(300);
    if job.reclaim_leases {
        store
            .release_leases(company, REMOVE_INSURANCE, Utc::now())
            .await?;
    }
    while let Some(item) = store
        .claim_next_for(company, REMOVE_INSURANCE, Utc::now(), lease)
        .await?
    {
        let payload: RemovePayload = match serde_json::from_str(&item.payload_json) {
            Ok(p) => p,
            Err(e) => {
                store
                    .fail(item.id, &format!("unreadable payload: {e}"), None)
                    .await?;
                continue;
            }
        };
        if reported.contains(&(
            payload.origin_id.clone(),
            payload.procore_vendor_id,
            payload.procore_project_id,
        )) {
            store.complete(item.id, r#"{"superseded":true}"#).await?;
            let reason = format!(
                "not removed: trestle reports {} again, so the removal queued earlier is dropped",
                payload.origin_id
            );
            store
                .record(run, &[removal_entry(&payload, "superseded", reason)])
                .await?;
            continue;
        }
        let removing = removal_entry(
            &payload,
            "removing",
            format!(
                "removing {} record {} from Procore company {} (the outcome is logged next)",
                payload.level.label(),
                payload.origin_id,
                payload.procore_vendor_id
            ),
        );
        store.record(run, &[removing]).await?;
        crash_if(job.crash_at.as_ref(), CrashPoint::BeforeUpload);
        match delete(job.client, &payload).await {
            Ok(deleted) => {
                // Procore no longer holds it; the run log still says "removing".
                crash_if(job.crash_at.as_ref(), CrashPoint::AfterUpload);
                let done = removal_entry(
                    &payload,
                    "removed",
                    if deleted {
                        format!(
                            "removed {} record {} from Procore company {}",
                            payload.level.label(),
                            payload.origin_id,
                            payload.procore_vendor_id
                        )
                    } else {
                        format!("record {} was already gone from Procore", payload.origin_id)
                    },
                );
                store.record(run, &[done]).await?;
                crash_if(job.crash_at.as_ref(), CrashPoint::AfterLog);
                // Only the write removed: one made since (a new Procore record) is kept.
                store
                    .forget_insurance_write(
                        company,
                        &payload.origin_id,
                        payload.procore_insurance_id,
                    )
                    .await?;
                crash_if(job.crash_at.as_ref(), CrashPoint::AfterLink);
                store.complete(item.id, "{}").await?;
                drained.insurance_removed += 1;
            }
            Err(e) => {
                let connection = e.is_about_the_connection();
                let message = e.to_string();
                store
                    .fail(
                        item.id,
                        &message,
                        Some(Utc::now() + retry_delay(item.attempts, connection)),
                    )
                    .await?;
                drained.insurance_failures += 1;
                drained
                    .failures
                    .push(format!("removing {}: {message}", payload.origin_id));
                let failed = removal_entry(
                    &payload,
                    "failed",
                    format!("the removal failed, retried later: {message}"),
                );
                store.record(run, &[failed]).await?;
                if connection {
                    break;
                }
            }
        }
    }
    Ok(())
}
