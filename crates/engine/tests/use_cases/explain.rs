//! `engine::explain`, `engine::views` and `engine::mapping` on the demo company after real
//! syncs: typed answers, each read scoped to the company asked about.

use crate::support::{request, App};
use engine::connect::connect;
use engine::explain::{explain, ExplainError, Hint, Holding};
use engine::mapping::{map, MapError};
use engine::open::client_for;
use engine::run::{run, RunOptions};
use engine::views::{mappings, MappingState};
use engine::Integration;
use procore_sim::demo;
use store::{MappingDecision, ProcoreRecordKind, SubjectKind};

async fn synced(integration: Integration) -> (App, procore::Client) {
    let app = App::new().await;
    let connection = connect(&app.settings, &app.store, request())
        .await
        .unwrap()
        .connection;
    let client = client_for(&app.settings, &connection, &app.store).unwrap();
    let report = run(
        &app.store,
        &client,
        &connection,
        integration,
        RunOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(report.failed_writes(), 0);
    (app, client)
}

/// A project of the demo company that the integration user sees (not a template).
fn a_project(app: &App) -> i64 {
    app.sim.sim().read(|w| {
        w.projects
            .values()
            .find(|p| p.company_id == demo::COMPANY_ID && !p.template && p.active)
            .map(|p| p.id)
            .unwrap()
    })
}

#[tokio::test]
async fn an_explained_project_says_what_it_is_linked_to_and_the_decision_that_made_it() {
    let (app, _) = synced(Integration::Workforce).await;
    let project = a_project(&app);
    let got = explain(
        &app.store,
        demo::COMPANY_ID,
        SubjectKind::ProcoreProject,
        project,
    )
    .await
    .unwrap();
    assert!(
        matches!(got.now[0], Holding::WorkforceProject { .. }),
        "{got:?}"
    );
    assert!(!got.history.is_empty(), "{got:?}");
    assert_eq!(got.hint, None);
    let json = serde_json::to_value(&got).unwrap();
    assert_eq!(json["kind"], "procore-project");
    assert_eq!(json["now"][0]["holding"], "workforce_project");
}

#[tokio::test]
async fn another_company_sees_nothing_of_a_record_it_does_not_hold() {
    let (app, _) = synced(Integration::Workforce).await;
    let project = a_project(&app);
    let got = explain(&app.store, 999, SubjectKind::ProcoreProject, project)
        .await
        .unwrap();
    assert_eq!(got.now[0], Holding::NotInWorkforce);
    assert!(got.history.is_empty());
    assert_eq!(got.hint, Some(Hint::ProjectNeverSeen));
}

#[tokio::test]
async fn insurance_records_are_not_explained_on_their_own() {
    let app = App::new().await;
    let err = explain(&app.store, demo::COMPANY_ID, SubjectKind::Insurance, 1)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        ExplainError::NotExplained(SubjectKind::Insurance)
    ));
}

#[tokio::test]
async fn a_mapping_decision_is_saved_and_the_mappings_view_shows_it() {
    let (app, client) = synced(Integration::Compliance).await;
    let seen = mappings(&app.store, demo::COMPANY_ID, false).await.unwrap();
    let row = seen.first().expect("a sync lists what it saw");
    assert!(row.name.is_some(), "{row:?}");
    let mapped = map(
        &app.store,
        &client,
        demo::COMPANY_ID,
        row.kind,
        row.procore_id,
        MappingDecision::DoNotAdd,
    )
    .await
    .unwrap();
    assert_eq!(mapped.decision, MappingDecision::DoNotAdd);
    let all = mappings(&app.store, demo::COMPANY_ID, false).await.unwrap();
    let now = all
        .iter()
        .find(|m| m.kind == row.kind && m.procore_id == row.procore_id)
        .unwrap();
    assert_eq!(now.state, MappingState::DoNotAdd);
}

#[tokio::test]
async fn a_mapping_for_a_record_that_does_not_exist_is_refused_and_nothing_is_saved() {
    let (app, client) = synced(Integration::Compliance).await;
    let err = map(
        &app.store,
        &client,
        demo::COMPANY_ID,
        ProcoreRecordKind::Project,
        987_654_321,
        MappingDecision::Import,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, MapError::NotInProcore { read, .. } if read > 0),
        "{err}"
    );
    let project = a_project(&app);
    let err = map(
        &app.store,
        &client,
        demo::COMPANY_ID,
        ProcoreRecordKind::Project,
        project,
        MappingDecision::LinkTo(987_654_321),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, MapError::NoSuchRecord { .. }), "{err}");
    assert!(app
        .store
        .mapping(demo::COMPANY_ID, ProcoreRecordKind::Project, 987_654_321)
        .await
        .unwrap()
        .is_none());
}
