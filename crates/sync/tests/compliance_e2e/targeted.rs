//! Syncs of the records webhook deliveries named (`trestle serve`): a few reads instead of the
//! lists and every project's commitments, planned over the whole mirror like any sync.

use super::*;
use procore::models::{InsuranceStatus, InsuranceWrite};
use std::collections::BTreeSet;
use sync::compliance::sync_compliance_targets;
use sync::webhooks::Targets;

impl App {
    async fn sync_targets(&self, targets: Targets) -> Report {
        sync_compliance_targets(&self.job(), &targets)
            .await
            .unwrap()
    }

    fn request_paths(&self) -> Vec<String> {
        self.sim()
            .request_log()
            .into_iter()
            .filter(|r| r.path.starts_with("/rest/"))
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }
}

#[tokio::test]
async fn a_commitment_becoming_active_associates_its_vendor_with_one_read_of_its_project() {
    let app = App::new().await;
    app.sync().await;
    let acme = app.vendor("Acme Electric");
    let harbor = app.project("Harbor Tower");
    let ids = app.commitments_of(harbor, acme);
    app.change(|w, now| {
        for id in &ids {
            let c = w.commitments.get_mut(id).unwrap();
            c.status = "Draft".into();
            c.executed = false;
            c.updated_at = now;
        }
    });
    app.sync().await;
    assert!(!app.association(acme, "Harbor Tower").await.unwrap().active);

    app.change(|w, now| {
        let c = w.commitments.get_mut(&ids[0]).unwrap();
        c.status = "Approved".into();
        c.executed = true;
        c.updated_at = now;
    });
    app.sim().clear_request_log();
    let report = app
        .sync_targets(Targets {
            commitment_projects: BTreeSet::from([harbor]),
            ..Targets::default()
        })
        .await;

    assert!(app.association(acme, "Harbor Tower").await.unwrap().active);
    assert!(!report.summary.full_read);
    let reads: Vec<String> = app
        .request_paths()
        .into_iter()
        .filter(|p| p.starts_with("GET"))
        .collect();
    assert_eq!(
        reads,
        [format!(
            "GET /rest/v2.0/companies/{}/projects/{harbor}/commitment_contracts",
            app.company
        )],
        "one read: the project's commitments since its cursor"
    );
}

#[tokio::test]
async fn a_deleted_commitment_named_by_a_delivery_ends_its_association_without_a_read() {
    let app = App::new().await;
    app.sync().await;
    let acme = app.vendor("Acme Electric");
    let harbor = app.project("Harbor Tower");
    let ids = app.commitments_of(harbor, acme);
    app.change(|w, now| {
        for id in &ids {
            w.commitments.get_mut(id).unwrap().deleted_at = Some(now);
        }
    });
    app.sim().clear_request_log();
    app.sync_targets(Targets {
        deleted_commitments: ids.iter().copied().collect(),
        ..Targets::default()
    })
    .await;
    assert!(!app.association(acme, "Harbor Tower").await.unwrap().active);
    assert!(
        !app.request_paths().iter().any(|p| p.starts_with("GET")),
        "{:?}",
        app.request_paths()
    );
}

#[tokio::test]
async fn a_company_deactivated_in_procore_is_read_alone_and_its_party_follows() {
    let app = App::new().await;
    app.settings(|s| s.sync_active_status = true).await;
    app.sync().await;
    let bolt = app.vendor("Bolt Plumbing");
    app.change(|w, now| {
        let v = w.vendors.get_mut(&bolt).unwrap();
        v.is_active = false;
        v.updated_at = now;
    });
    app.sim().clear_request_log();
    app.sync_targets(Targets {
        vendors: BTreeSet::from([bolt]),
        ..Targets::default()
    })
    .await;
    assert!(!app.party_of(bolt).await.active);
    let reads: Vec<String> = app
        .request_paths()
        .into_iter()
        .filter(|p| p.starts_with("GET"))
        .collect();
    assert_eq!(
        reads,
        [format!("GET /rest/v1.0/vendors/{bolt}")],
        "{reads:?}"
    );
}

#[tokio::test]
async fn an_insurance_record_changed_by_hand_is_put_back_by_the_delivery_about_it() {
    let app = App::new().await;
    app.sync().await;
    let before = app.bolt_record();
    app.client
        .insurances()
        .company()
        .update(
            procore::InsuranceId(before.id),
            &InsuranceWrite {
                vendor_id: Some(procore::VendorId(before.vendor_id)),
                status: Some(InsuranceStatus::Compliant),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(app.bolt_record().status.as_deref(), Some("compliant"));

    app.sim().clear_request_log();
    let report = app
        .sync_targets(Targets {
            insurances: BTreeSet::from([before.id]),
            ..Targets::default()
        })
        .await;

    assert_eq!(app.bolt_record().status, before.status);
    assert_eq!(report.summary.insurance_written, 1);
    let reads: Vec<String> = app
        .request_paths()
        .into_iter()
        .filter(|p| p.starts_with("GET"))
        .collect();
    assert_eq!(
        reads,
        [format!(
            "GET /rest/v1.0/companies/{}/insurances",
            app.company
        )],
        "only the company-level list holding that record"
    );
}

#[tokio::test]
async fn a_delivery_about_an_insurance_record_trestle_did_not_write_reads_nothing() {
    let app = App::new().await;
    app.sync().await;
    app.sim().clear_request_log();
    let report = app
        .sync_targets(Targets {
            insurances: BTreeSet::from([987_654_321]),
            ..Targets::default()
        })
        .await;
    assert!(!report.plan.has_changes());
    assert!(
        !app.request_paths().iter().any(|p| p.starts_with("GET")),
        "{:?}",
        app.request_paths()
    );
}
