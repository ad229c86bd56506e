//! The compliance integration through the server: commitments changed in Procore move
//! associations and their insurance records with no command run.

use crate::harness::{eventually, App, PATIENCE};
use serde_json::json;

impl App {
    fn vendor(&self, name: &str) -> i64 {
        self.kit
            .sim()
            .read(|w| w.vendors.values().find(|v| v.name == name).map(|v| v.id))
            .unwrap()
    }

    /// Sets commitments' status as a person in Procore's web UI would (webhooks fire).
    async fn set_status(&self, ids: &[i64], status: &str, executed: bool) {
        for id in ids {
            let key = self.kit.sim().read(|w| w.commitments[id].kind.body_key());
            self.kit
                .ui_edit(
                    &format!("commitments/{id}"),
                    Some(json!({ key: {"status": status, "executed": executed} })),
                )
                .await;
        }
    }

    /// Whether Procore holds a project-level insurance record trestle wrote for the vendor.
    fn insured_on(&self, vendor: i64, project: i64) -> bool {
        self.kit.sim().read(|w| {
            w.insurances.values().any(|i| {
                i.vendor_id == vendor
                    && i.project_id == Some(project)
                    && i.origin_id
                        .as_deref()
                        .is_some_and(|o| o.starts_with("trestle:"))
            })
        })
    }

    async fn associated(&self, vendor: i64, project: i64) -> Option<bool> {
        let store = &self.kit.store;
        let company = self.kit.company;
        let party = store
            .parties(company)
            .await
            .unwrap()
            .into_iter()
            .find(|p| p.procore_vendor_id == Some(vendor))?
            .id;
        let local = store
            .compliance_projects(company)
            .await
            .unwrap()
            .into_iter()
            .find(|p| p.project.procore_project_id == Some(project))?
            .project
            .id;
        store
            .party_projects(company)
            .await
            .unwrap()
            .into_iter()
            .find(|a| a.party_id == party && a.project_id == local)
            .map(|a| a.active)
    }
}

#[tokio::test]
async fn a_vendors_commitment_becoming_active_creates_the_association_and_its_insurance_record() {
    let app = App::start_compliance().await;
    let acme = app.vendor("Acme Electric");
    let harbor = app.kit.procore_project("Harbor Tower");
    let ids: Vec<i64> = app.kit.sim().read(|w| {
        w.commitments
            .values()
            .filter(|c| c.project_id == harbor && c.vendor_id == Some(acme))
            .map(|c| c.id)
            .collect()
    });
    assert!(!ids.is_empty());
    assert_eq!(app.associated(acme, harbor).await, Some(true));

    app.set_status(&ids, "Draft", false).await;
    eventually(PATIENCE, "the association ended", || async {
        (app.associated(acme, harbor).await == Some(false)).then_some(())
    })
    .await;
    eventually(
        PATIENCE,
        "the insurance record taken out of Procore",
        || async { (!app.insured_on(acme, harbor)).then_some(()) },
    )
    .await;

    app.set_status(&ids[..1], "Approved", true).await;
    eventually(PATIENCE, "the association active again", || async {
        (app.associated(acme, harbor).await == Some(true)).then_some(())
    })
    .await;
    eventually(PATIENCE, "the insurance record written again", || async {
        app.insured_on(acme, harbor).then_some(())
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn an_insurance_record_edited_by_hand_in_procore_is_put_back() {
    let app = App::start_compliance().await;
    let bolt = app.vendor("Bolt Plumbing");
    let (id, status) = app.kit.sim().read(|w| {
        let i = w
            .insurances
            .values()
            .find(|i| {
                i.vendor_id == bolt
                    && i.project_id.is_none()
                    && i.origin_id
                        .as_deref()
                        .is_some_and(|o| o.starts_with("trestle:"))
            })
            .unwrap();
        (i.id, i.status.clone())
    });
    assert_eq!(status.as_deref(), Some("non_compliant"));

    // A person marks it compliant in Procore's web UI.
    app.kit
        .ui_edit(
            &format!("insurances/{id}"),
            Some(json!({"insurance": {"status": "compliant"}})),
        )
        .await;
    assert_eq!(
        app.kit
            .sim()
            .read(|w| w.insurances[&id].status.clone())
            .as_deref(),
        Some("compliant")
    );

    eventually(PATIENCE, "trestle's status back", || async {
        let now = app
            .kit
            .sim()
            .read(|w| w.insurances.get(&id).and_then(|i| i.status.clone()));
        (now.as_deref() == Some("non_compliant")).then_some(())
    })
    .await;
    app.stop().await;
}

fn reconcile() -> sync::jobs::Work {
    sync::jobs::Work::Sync {
        integration: sync::jobs::Integration::Compliance,
        full: false,
        targets: None,
    }
}

#[tokio::test]
async fn while_the_hook_delivers_a_reconcile_leaves_commitments_to_it() {
    let app = App::start_compliance().await;
    app.kit.sim().clear_request_log();
    app.run(reconcile()).await;
    let paths = app.api_paths();
    assert!(
        !paths.iter().any(|p| p.contains("commitment_contracts")),
        "{paths:?}"
    );
    assert!(
        paths.iter().any(|p| p.ends_with("/deliveries")),
        "{paths:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_change_whose_delivery_procore_gave_up_on_is_caught_by_the_reconcile() {
    // Procore gives a delivery up after its first failure here (12 hours in Procore).
    let app = App::start_compliance_with(procore_sim::SimConfig {
        webhook_give_up_after: std::time::Duration::ZERO,
        ..testkit::quiet()
    })
    .await;
    let acme = app.vendor("Acme Electric");
    let harbor = app.kit.procore_project("Harbor Tower");
    // The server no longer knows the hook's secret: it refuses every delivery.
    app.kit
        .store
        .delete_hook_record(app.kit.company)
        .await
        .unwrap();
    let ids: Vec<i64> = app.kit.sim().read(|w| {
        w.commitments
            .values()
            .filter(|c| c.project_id == harbor && c.vendor_id == Some(acme))
            .map(|c| c.id)
            .collect()
    });
    app.set_status(&ids, "Draft", false).await;
    eventually(PATIENCE, "Procore discards the deliveries", || async {
        app.kit
            .sim()
            .read(|w| w.deliveries.values().any(|d| d.status == "discarded"))
            .then_some(())
    })
    .await;
    app.idle().await;
    assert_eq!(
        app.associated(acme, harbor).await,
        Some(true),
        "no delivery arrived"
    );

    app.run(reconcile()).await;

    assert_eq!(app.associated(acme, harbor).await, Some(false));
    app.stop().await;
}

#[tokio::test]
async fn a_commitment_changed_while_the_hook_lacked_its_trigger_is_read_by_the_reconcile_the_repair_queues(
) {
    let app = App::start_compliance().await;
    let acme = app.vendor("Acme Electric");
    let harbor = app.kit.procore_project("Harbor Tower");
    // The hook loses its commitment triggers (removed in Procore, or never made because the
    // check that was making them failed part way).
    app.kit.sim().write(|w| {
        w.triggers
            .retain(|_, t| !t.resource_name.ends_with("Contracts"));
    });
    let ids: Vec<i64> = app.kit.sim().read(|w| {
        w.commitments
            .values()
            .filter(|c| c.project_id == harbor && c.vendor_id == Some(acme))
            .map(|c| c.id)
            .collect()
    });
    app.set_status(&ids, "Draft", false).await;
    app.idle().await;
    assert_eq!(
        app.associated(acme, harbor).await,
        Some(true),
        "no delivery without the trigger"
    );

    // The hook check puts the triggers back and queues the reconcile that reads what they
    // missed, commitments included, though the hook delivers them from now on.
    app.run(sync::jobs::Work::Hook).await;
    app.idle().await;
    assert_eq!(app.associated(acme, harbor).await, Some(false));

    // Once read, commitments are left to the hook again.
    app.kit.sim().clear_request_log();
    app.run(reconcile()).await;
    let paths = app.api_paths();
    assert!(
        !paths.iter().any(|p| p.contains("commitment_contracts")),
        "{paths:?}"
    );
    app.stop().await;
}
