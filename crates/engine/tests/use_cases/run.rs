//! `engine::run`: one sync of either integration, returning the integration's own report.

use crate::support::{request, App};
use engine::connect::connect;
use engine::open::client_for;
use engine::run::{run, Report, RunOptions};
use engine::Integration;
use procore_sim::demo;

async fn connected() -> (App, store::Connection, procore::Client) {
    let app = App::new().await;
    let connection = connect(&app.settings, &app.store, request())
        .await
        .unwrap()
        .connection;
    let client = client_for(&app.settings, &connection, &app.store).unwrap();
    (app, connection, client)
}

#[tokio::test]
async fn a_dry_run_reports_what_would_change_and_changes_nothing_until_a_real_run() {
    let (app, connection, client) = connected().await;
    let dry = RunOptions {
        dry_run: true,
        ..RunOptions::default()
    };
    let report = run(
        &app.store,
        &client,
        &connection,
        Integration::Workforce,
        dry,
    )
    .await
    .unwrap();
    let Report::Workforce(report) = report else {
        panic!("a workforce report");
    };
    assert!(report.summary.dry_run);
    assert!(report.summary.projects_created > 0, "{:?}", report.summary);
    assert!(app
        .store
        .projects(demo::COMPANY_ID)
        .await
        .unwrap()
        .is_empty());

    let report = run(
        &app.store,
        &client,
        &connection,
        Integration::Workforce,
        RunOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(report.failed_writes(), 0);
    let projects = app.store.projects(demo::COMPANY_ID).await.unwrap();
    let Report::Workforce(report) = report else {
        panic!("a workforce report");
    };
    assert_eq!(projects.len(), report.summary.projects_created);
}

#[tokio::test]
async fn a_compliance_run_returns_the_compliance_report() {
    let (app, connection, client) = connected().await;
    let report = run(
        &app.store,
        &client,
        &connection,
        Integration::Compliance,
        RunOptions {
            dry_run: true,
            ..RunOptions::default()
        },
    )
    .await
    .unwrap();
    let Report::Compliance(report) = report else {
        panic!("a compliance report");
    };
    assert!(report.summary.dry_run);
    assert!(report.summary.records_read > 0, "{:?}", report.summary);
}
