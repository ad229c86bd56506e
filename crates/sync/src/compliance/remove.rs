//! Taking insurance records trestle no longer reports out of Procore, from the outbox.
//!
//! A removal logs that it is removing the record, deletes it by its Procore id (found by
//! `origin_id` in the vendor's collection when the write's answer named none), logs it removed,
//! then forgets it as written, then completes the outbox item. Each step is safe to repeat: a
//! record already gone (404, or not found by its origin id) counts as removed, so a crash
//! anywhere only means the next run repeats the tail, and the run log never last says a record
//! Procore no longer holds was "written": before the delete it says "removing", and the outcome
//! is logged before the store forgets the record, so a crash between the two leaves the removal
//! due and the next run logs it again.

use super::run::{retry_delay, ComplianceJob, RemovePayload, Report};
use crate::error::Result;
use crate::hooks::{crash_if, CrashPoint};
use chrono::Utc;
use procore::{InsuranceId, ProjectId, VendorId};
use std::collections::BTreeSet;
use store::{RunEntry, RunId};

/// The outbox kind of an insurance removal.
pub const REMOVE_INSURANCE: &str = "compliance.remove_insurance";

fn entry(payload: &RemovePayload, outcome: &str, reason: String) -> RunEntry {
    RunEntry {
        kind: "insurance".into(),
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
    report: &mut Report,
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
                .record(run, &[entry(&payload, "superseded", reason)])
                .await?;
            continue;
        }
        let removing = entry(
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
        crash_if(job.crash_at, CrashPoint::BeforeUpload);
        match delete(job.client, &payload).await {
            Ok(deleted) => {
                // Procore no longer holds it; the run log still says "removing".
                crash_if(job.crash_at, CrashPoint::AfterUpload);
                let done = entry(
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
                crash_if(job.crash_at, CrashPoint::AfterLog);
                // Only the write removed: one made since (a new Procore record) is kept.
                store
                    .forget_insurance_write(
                        company,
                        &payload.origin_id,
                        payload.procore_insurance_id,
                    )
                    .await?;
                crash_if(job.crash_at, CrashPoint::AfterLink);
                store.complete(item.id, "{}").await?;
                report.summary.insurance_removed += 1;
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
                report.summary.insurance_failures += 1;
                report
                    .failures
                    .push(format!("removing {}: {message}", payload.origin_id));
                let failed = entry(
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
