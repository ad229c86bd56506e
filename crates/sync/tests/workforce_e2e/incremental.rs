//! Later syncs: edits in Procore reach the app, deactivations follow the seed's state rules,
//! a quiet sync costs one request per collection, and a dry run changes nothing anywhere.

use crate::harness::TestApp;
use domain::workforce::{Activation, ProjectStatus};
use serde_json::json;
use std::collections::BTreeMap;
use store::SubjectKind;
use sync::workforce::{Action, Reason};

#[tokio::test]
async fn an_edit_in_procore_after_the_first_sync_is_picked_up_by_the_next_one() {
    let app = TestApp::demo().await;
    app.sync().await;
    let pat = app.procore_user("Alvarez");
    let before = app.sim().read(|w| w.users[&pat].updated_at);
    app.ui_edit(
        &format!("users/{pat}"),
        Some(json!({"first_name": "Patricia", "mobile_phone": "+1 555 0199"})),
    )
    .await;
    assert!(app.sim().read(|w| w.users[&pat].updated_at) > before);

    let report = app.sync().await;
    let worker = app.worker_of(pat).await.unwrap();
    assert_eq!(worker.fields.first_name, "Patricia");
    assert_eq!(worker.fields.phone.as_deref(), Some("+1 555 0199"));
    let changes: Vec<&Action> = report.plan.changes().collect();
    assert_eq!(changes.len(), 1, "only the edited user: {changes:?}");
    assert_eq!(*changes[0].reason(), Reason::WorkerDetailsChanged);
}

#[tokio::test]
async fn a_user_deactivated_in_procore_blocks_a_worker_that_was_activated() {
    let app = TestApp::demo_with(|c| c.auto_activate_workers = true).await;
    app.sync().await;
    let pat = app.procore_user("Alvarez");
    app.ui_edit(&format!("users/{pat}/deactivate"), None).await;
    app.sync().await;
    let worker = app.worker_of(pat).await.unwrap();
    assert!(worker.blocked, "{worker:?}");
    assert_eq!(
        worker.activation,
        Activation::PendingEmailVerification,
        "blocking keeps how far activation got"
    );
    assert!(app
        .latest_reason(SubjectKind::ProcoreUser, pat)
        .await
        .starts_with("blocked"));
}

#[tokio::test]
async fn a_never_activated_worker_whose_user_is_deactivated_stays_pending_account_activation() {
    let app = TestApp::demo().await;
    app.sync().await;
    let pat = app.procore_user("Alvarez");
    app.ui_edit(&format!("users/{pat}/deactivate"), None).await;
    app.sync().await;
    let worker = app.worker_of(pat).await.unwrap();
    assert!(!worker.blocked, "never activated: not blocked");
    assert_eq!(worker.activation, Activation::PendingAccountActivation);
    assert!(
        !app.latest_reason(SubjectKind::ProcoreUser, pat)
            .await
            .starts_with("blocked"),
        "no decision to block was recorded"
    );
}

#[tokio::test]
async fn a_project_that_goes_inactive_with_a_past_start_date_becomes_completed() {
    let app = TestApp::demo().await;
    app.sync().await;
    let harbor = app.procore_project("Harbor Tower");
    assert_eq!(
        app.project_of(harbor).await.unwrap().status,
        ProjectStatus::Active
    );
    app.ui_edit(&format!("projects/{harbor}/deactivate"), None)
        .await;
    app.sync().await;
    assert_eq!(
        app.project_of(harbor).await.unwrap().status,
        ProjectStatus::Completed,
        "an existing project is kept up to date even when it becomes Completed"
    );
}

#[tokio::test]
async fn a_sync_with_no_change_upstream_reads_each_collection_once_and_plans_nothing() {
    let app = TestApp::demo().await;
    app.sync().await;
    let from = app.sim().request_log().len();
    let report = app.sync().await;
    let requests = app.requests_since(from);

    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        requests.len(),
        3,
        "projects + users + inactive users (the service account is known): {paths:?}"
    );
    let company = app.company;
    for expected in [
        "/rest/v1.1/projects".to_string(),
        format!("/rest/v1.3/companies/{company}/users"),
        format!("/rest/v1.0/companies/{company}/users/inactive"),
    ] {
        assert_eq!(
            paths.iter().filter(|p| **p == expected).count(),
            1,
            "{expected} once: {paths:?}"
        );
    }
    for r in &requests {
        let query = r.query.as_deref().unwrap_or("");
        assert!(
            !query
                .split('&')
                .any(|kv| kv.starts_with("page=") && kv != "page=1"),
            "no second page: {} {query}",
            r.path
        );
        assert_eq!(r.method, "GET");
    }
    assert!(
        !report.plan.has_changes(),
        "nothing to do: {:?}",
        report.plan.changes().collect::<Vec<_>>()
    );
    assert_eq!(report.summary.requests, 3);
}

/// Everything a sync may change in the store, to compare before and after.
async fn store_state(app: &TestApp) -> String {
    let s = &app.store;
    let c = app.company;
    let mut links = BTreeMap::new();
    for kind in store::LinkKind::ALL {
        links.insert(kind.as_str(), s.link_records(c, kind).await.unwrap());
    }
    let cursors = [
        "workforce.projects",
        "workforce.users",
        "workforce.inactive_users",
    ];
    let mut cursor_values = Vec::new();
    for k in cursors {
        cursor_values.push(s.cursor(c, k).await.unwrap());
    }
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{}",
        s.projects(c).await.unwrap(),
        s.workers(c).await.unwrap(),
        links,
        cursor_values,
        s.pending_count().await.unwrap()
    )
}

#[tokio::test]
async fn a_dry_run_changes_nothing_in_the_store_and_writes_nothing_to_procore() {
    let app = TestApp::demo_with(|c| c.sync_forms = true).await;
    // A first real sync, then changes on both sides that a sync would act on.
    app.sync().await;
    let harbor = app
        .project_of(app.procore_project("Harbor Tower"))
        .await
        .unwrap();
    app.complete_form(harbor.id, "Toolbox Talk", "2026-11-20")
        .await;
    let pat = app.procore_user("Alvarez");
    app.ui_edit(
        &format!("users/{pat}"),
        Some(json!({"last_name": "Alvarez-Ruiz"})),
    )
    .await;
    app.ui_create(
        "users",
        json!({"first_name": "Zed", "last_name": "New", "email_address": "zed@granitepeak.example"}),
    )
    .await;

    let before = store_state(&app).await;
    let from = app.sim().request_log().len();
    let report = app.sync_dry().await;

    assert!(report.summary.dry_run);
    assert_eq!(
        report.summary.workers_created, 1,
        "the plan has the new user"
    );
    assert_eq!(report.summary.workers_updated, 1, "and the edit");
    assert_eq!(report.summary.forms_queued, 1, "and the form");
    assert_eq!(store_state(&app).await, before, "the store is unchanged");
    let writes: Vec<_> = app
        .requests_since(from)
        .into_iter()
        .filter(|r| r.method != "GET" && r.path.starts_with("/rest/"))
        .collect();
    assert!(writes.is_empty(), "no Procore writes: {writes:?}");
    assert!(app
        .documents(app.procore_project("Harbor Tower"))
        .is_empty());

    // The real sync after it still does all of it.
    let report = app.sync().await;
    assert_eq!(report.summary.workers_created, 1);
    assert_eq!(report.summary.forms_uploaded, 1);
}

#[tokio::test]
async fn with_procore_rate_limits_on_a_sync_paces_itself_and_is_never_refused() {
    let config = procore_sim::SimConfig {
        rate_limits: Some(procore_sim::RateLimits {
            hourly: 3600,
            spike: 3,
            spike_window: std::time::Duration::from_millis(500),
            ..procore_sim::RateLimits::default()
        }),
        ..procore_sim::SimConfig::default()
    };
    let app = TestApp::spawn(procore_sim::demo::world(), config, |_| {}).await;
    let report = app.sync().await;
    assert_eq!(report.summary.projects_created, 4);
    let log = app.sim().request_log();
    assert!(
        log.iter().all(|r| r.status != 429),
        "no request refused: {log:?}"
    );
    assert!(
        app.client.stats().paced_waits > 0,
        "the client waited for the window instead: {:?}",
        app.client.stats()
    );
}
