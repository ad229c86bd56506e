//! trestle's fields win over edits made in Procore: a record trestle wrote and someone changed
//! (or deleted) in Procore is written again by the next whole read. Procore's insurance lists
//! take no filters and carry no timestamps, so other syncs cannot see such an edit and read no
//! insurance list.

use super::*;
use procore::models::{InsuranceStatus, InsuranceWrite};

impl App {
    /// Bolt's company-level general liability record (non-compliant: Bolt has no certificate).
    pub(crate) fn bolt_record(&self) -> procore_sim::world::Insurance {
        let bolt = self.vendor("Bolt Plumbing");
        self.written()
            .into_iter()
            .find(|i| {
                i.vendor_id == bolt
                    && i.project_id.is_none()
                    && i.origin_id
                        .as_deref()
                        .is_some_and(|o| o.ends_with("general_liability"))
            })
            .unwrap()
    }
}

fn restored(report: &Report) -> Vec<(String, Reason)> {
    report
        .plan
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::WriteInsurance { record, reason, .. }
                if matches!(
                    reason,
                    Reason::ChangedInProcore { .. } | Reason::MissingFromProcore { .. }
                ) =>
            {
                Some((record.origin_id.clone(), reason.clone()))
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_status_set_to_compliant_by_hand_in_procore_is_restored_by_the_next_whole_read() {
    let app = App::new().await;
    app.sync().await;
    app.sync().await;
    let before = app.bolt_record();
    assert_eq!(before.status.as_deref(), Some("non_compliant"));

    // Someone marks it compliant by hand, through Procore's API.
    app.client
        .insurances()
        .company()
        .update(
            procore::InsuranceId(before.id),
            &InsuranceWrite {
                vendor_id: Some(procore::VendorId(before.vendor_id)),
                status: Some(InsuranceStatus::Compliant),
                notes: Some("checked by hand".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(app.bolt_record().status.as_deref(), Some("compliant"));

    // An incremental sync reads no insurance list, so it cannot see the edit.
    app.sim().clear_request_log();
    app.sync().await;
    assert_eq!(app.insurance_requests(), 0);

    // The next whole read compares, and trestle's fields win.
    let report = app.full_sync().await;
    let now = app.bolt_record();
    assert_eq!(now.id, before.id, "the same record, updated");
    assert_eq!(now.status, before.status);
    assert_eq!(now.notes, before.notes);
    let origin = before.origin_id.clone().unwrap();
    match restored(&report).as_slice() {
        [(o, Reason::ChangedInProcore { fields, .. })] => {
            assert_eq!(o, &origin);
            assert_eq!(fields, &["status", "notes"]);
        }
        other => panic!("one record written again: {other:?}"),
    }
    let logged = app
        .store
        .run_entries(report.run)
        .await
        .unwrap()
        .into_iter()
        .any(|e| {
            e.entry.outcome == "written"
                && e.entry
                    .detail_json
                    .as_deref()
                    .is_some_and(|d| d.contains(&origin))
        });
    assert!(logged, "the run log says it was written again");

    // Nothing changed since: a further whole read reads the lists and writes nothing.
    let again = app.full_sync().await;
    assert!(restored(&again).is_empty());
    assert_eq!(again.summary.insurance_written, 0);
}

#[tokio::test]
async fn a_record_deleted_in_procore_is_written_again_by_the_next_whole_read() {
    let app = App::new().await;
    app.sync().await;
    let before = app.bolt_record();
    app.client
        .insurances()
        .company()
        .delete(procore::InsuranceId(before.id))
        .await
        .unwrap();
    let report = app.full_sync().await;
    assert!(matches!(
        restored(&report).as_slice(),
        [(o, Reason::MissingFromProcore { .. })] if Some(o) == before.origin_id.as_ref()
    ));
    let now = app.bolt_record();
    assert_eq!(now.status, before.status);
    assert_eq!(
        app.written()
            .iter()
            .filter(|i| i.origin_id == before.origin_id)
            .count(),
        1
    );
}

#[tokio::test]
async fn a_whole_dry_run_shows_the_record_it_would_write_again_and_writes_nothing() {
    let app = App::new().await;
    app.sync().await;
    let before = app.bolt_record();
    app.sim().write(|w| {
        w.insurances.get_mut(&before.id).unwrap().status = Some("compliant".into());
    });
    let mut job = app.job();
    job.full_read = true;
    let report = sync_compliance(&job, true).await.unwrap();
    assert!(matches!(
        restored(&report).as_slice(),
        [(o, Reason::ChangedInProcore { fields, .. })]
            if Some(o) == before.origin_id.as_ref() && fields == &["status"]
    ));
    assert_eq!(app.bolt_record().status.as_deref(), Some("compliant"));
}
