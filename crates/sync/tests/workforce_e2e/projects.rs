//! The initial sync's project rules: which Procore projects become app projects, and which are
//! left alone and why.

use crate::harness::TestApp;
use domain::workforce::ProjectStatus;
use procore_sim::demo;
use store::SubjectKind;

#[tokio::test]
async fn the_initial_sync_creates_active_and_upcoming_projects_but_never_completed_ones_or_templates(
) {
    let app = TestApp::demo().await;
    let report = app.sync().await;

    let mut created: Vec<(String, ProjectStatus)> = app
        .store
        .projects(app.company)
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.fields.name, p.status))
        .collect();
    created.sort();
    assert_eq!(
        created,
        vec![
            ("Harbor Tower".into(), ProjectStatus::Active),
            ("Northgate Library".into(), ProjectStatus::Upcoming),
            ("Riverside Clinic".into(), ProjectStatus::Active),
            (demo::CLASHING_PROJECT_NAME.into(), ProjectStatus::Active),
        ],
        "active and upcoming only; not the completed project, the template or the unpermitted one"
    );
    assert_eq!(report.summary.projects_created, 4);
    let completed = app.procore_project("Old Mill Lofts");
    assert!(app.project_of(completed).await.is_none());
    assert!(
        app.latest_reason(SubjectKind::ProcoreProject, completed)
            .await
            .contains("Completed"),
        "the run log says why the completed project was not created"
    );
    let template = app.procore_project("Standard Template - Commercial");
    assert!(app.project_of(template).await.is_none());
}

#[tokio::test]
async fn a_synced_project_carries_the_seeds_field_mapping() {
    let app = TestApp::demo().await;
    app.sync().await;
    let harbor = app
        .project_of(app.procore_project("Harbor Tower"))
        .await
        .expect("Harbor Tower is synced");
    let f = harbor.fields;
    assert_eq!(f.name, "Harbor Tower");
    assert_eq!(f.project_number.as_deref(), Some("HT-200"));
    assert_eq!(
        f.private_description.as_deref(),
        Some("22-storey mixed-use tower")
    );
    assert_eq!(f.public_info.as_deref(), Some("Gate 3 for deliveries"));
    assert_eq!(f.street_address.as_deref(), Some("100 Harbor Blvd"));
    assert_eq!(f.city.as_deref(), Some("Denver"));
    assert_eq!(f.state.as_deref(), Some("CO"));
    assert_eq!(f.zip.as_deref(), Some("80202"));
    assert_eq!(f.country.as_deref(), Some("US"));
}

#[tokio::test]
async fn projects_whose_number_or_unnumbered_name_clash_with_an_unlinked_app_project_are_skipped_and_explained(
) {
    let app = TestApp::demo().await;
    let by_number = app
        .seed_project("Dock Expansion", Some(demo::CLASHING_PROJECT_NUMBER))
        .await;
    let by_name = app.seed_project(demo::CLASHING_PROJECT_NAME, None).await;
    app.sync().await;

    let names: Vec<String> = app
        .store
        .projects(app.company)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.fields.name)
        .collect();
    assert_eq!(
        names,
        vec![
            "Dock Expansion".to_string(),
            demo::CLASHING_PROJECT_NAME.into(),
            "Harbor Tower".into(),
            "Northgate Library".into(),
        ],
        "the clashing Procore projects were not created, and the app's own were not touched"
    );
    let riverside = app.procore_project("Riverside Clinic");
    let warehouse = app.procore_project(demo::CLASHING_PROJECT_NAME);
    assert!(app.project_of(riverside).await.is_none());
    assert!(app.project_of(warehouse).await.is_none());

    // explain: the latest decision's reason names the clash.
    let reason = app
        .latest_reason(SubjectKind::ProcoreProject, riverside)
        .await;
    assert!(
        reason.contains(&format!("app project {by_number}"))
            && reason.contains(demo::CLASHING_PROJECT_NUMBER),
        "{reason}"
    );
    let reason = app
        .latest_reason(SubjectKind::ProcoreProject, warehouse)
        .await;
    assert!(
        reason.contains(&format!("app project {by_name}")) && reason.contains("no project number"),
        "{reason}"
    );
}

#[tokio::test]
async fn explain_returns_the_reason_of_the_latest_decision_first() {
    let app = TestApp::demo().await;
    app.sync().await;
    let harbor = app.procore_project("Harbor Tower");
    app.ui_edit(
        &format!("projects/{harbor}"),
        Some(serde_json::json!({"name": "Harbor Tower II"})),
    )
    .await;
    app.sync().await;
    let history = app
        .store
        .history(app.company, SubjectKind::ProcoreProject, harbor)
        .await
        .unwrap();
    assert_eq!(history.len(), 2, "one decision per sync that changed it");
    assert!(
        history[0].entry.reason.starts_with("updated from Procore"),
        "newest first: {:?}",
        history[0].entry
    );
    assert_eq!(history[0].entry.action, "update_project");
    assert!(history[1].entry.reason.starts_with("created"));
    assert!(history[0].run > history[1].run);
}

#[tokio::test]
async fn a_project_skipped_for_a_clash_syncs_once_the_clash_is_resolved_in_the_app() {
    let app = TestApp::demo().await;
    let dock = app
        .seed_project("Dock Expansion", Some(demo::CLASHING_PROJECT_NUMBER))
        .await;
    app.sync().await;
    let riverside = app.procore_project("Riverside Clinic");
    assert!(
        app.project_of(riverside).await.is_none(),
        "skipped for the clash"
    );

    // Something else changes in Procore, so an incremental sync reads past the skipped record.
    let harbor = app.procore_project("Harbor Tower");
    app.ui_edit(
        &format!("projects/{harbor}"),
        Some(serde_json::json!({"name": "Harbor Tower II"})),
    )
    .await;
    app.sync().await;

    // The administrator renumbers the app's own project; Procore's record never changes.
    app.store
        .apply_workforce(&store::WorkforceBatch {
            waiting: &[],
            company_id: app.company,
            changes: &[store::WorkforceChange::UpdateProject {
                project_id: dock,
                fields: domain::workforce::ProjectFields {
                    name: "Dock Expansion".into(),
                    project_number: Some("D-1".into()),
                    ..Default::default()
                },
                status: ProjectStatus::Active,
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    app.sync().await;
    assert!(
        app.project_of(riverside).await.is_some(),
        "the incremental sync read the once-skipped project again and created it"
    );
}
