//! Completed forms reach Procore Documents by themselves.

use crate::harness::{config, eventually, App, PATIENCE};

/// Harbor Tower (its Procore id and its app project) and a saved Toolbox Talk template.
async fn harbor_tower_and_a_template(
    kit: &testkit::Kit,
) -> (i64, i64, domain::workforce::FormTemplate) {
    let procore = kit.procore_project("Harbor Tower");
    let project = kit
        .store
        .links(kit.company, store::LinkKind::Project)
        .await
        .unwrap()[&procore];
    let mut template = testkit::forms::toolbox_talk("Toolbox Talk");
    template.id = kit
        .store
        .save_template(kit.company, &template)
        .await
        .unwrap();
    (procore, project, template)
}

#[tokio::test]
async fn a_completed_form_reaches_procore_documents_with_no_command_run() {
    let app = App::start_full(config(), true, |c| c.sync_forms = true).await;
    let kit = &app.kit;
    let (procore, project, template) = harbor_tower_and_a_template(kit).await;
    let form = testkit::forms::completed(&template, project, "2026-11-20", chrono::Utc::now());

    sync::jobs::save_form(&kit.store, kit.company, &form, 8)
        .await
        .unwrap();

    let name = eventually(
        PATIENCE,
        "the form's PDF in the project's Documents",
        || async {
            kit.sim().read(|w| {
                w.files
                    .values()
                    .find(|f| {
                        f.project_id == procore
                            && !f.is_deleted
                            && w.folder_path(f.parent_id).contains("Corfix Forms")
                    })
                    .map(|f| f.name.clone())
            })
        },
    )
    .await;
    assert_eq!(name, "Toolbox Talk 2026-11-20.pdf");
    app.stop().await;
}

#[tokio::test]
async fn a_draft_saved_enqueues_nothing() {
    let app = App::start().await;
    let kit = &app.kit;
    let (_, project, template) = harbor_tower_and_a_template(kit).await;
    let draft = domain::workforce::Submission::draft(
        0,
        template.id,
        project,
        "2026-11-20".parse().unwrap(),
    );
    let before = kit
        .store
        .jobs(&store::JobFilter::default())
        .await
        .unwrap()
        .len();
    sync::jobs::save_form(&kit.store, kit.company, &draft, 8)
        .await
        .unwrap();
    let after = kit
        .store
        .jobs(&store::JobFilter::default())
        .await
        .unwrap()
        .len();
    assert_eq!(before, after);
    app.stop().await;
}
