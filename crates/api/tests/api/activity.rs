use crate::{eventually, App};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(30);

async fn runs(app: &App) -> Vec<Value> {
    let a = app
        .get(
            &format!("/api/v1/companies/{}/runs", app.kit.company),
            "/api/v1/companies/{company_id}/runs",
            Some(&app.admin),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    a.body.as_array().unwrap().clone()
}

async fn first_name(app: &App, procore_user: i64) -> String {
    let worker = app
        .kit
        .store
        .links(app.kit.company, store::LinkKind::Worker)
        .await
        .unwrap()[&procore_user];
    app.kit
        .store
        .worker(app.kit.company, worker)
        .await
        .unwrap()
        .unwrap()
        .fields
        .first_name
}

#[tokio::test]
async fn a_preview_answers_each_decision_with_its_reason_and_changes_nothing_and_sync_now_applies_it(
) {
    let app = App::start().await;
    let company = app.kit.company;
    eventually(PATIENCE, "the first workforce sync", || async {
        runs(&app)
            .await
            .iter()
            .any(|r| r["integration"] == "workforce" && r["finished_at"].is_string())
            .then_some(())
    })
    .await;
    let user = app.kit.procore_user("Okafor");
    let before = first_name(&app, user).await;
    app.kit
        .ui_edit(
            &format!("users/{user}"),
            Some(json!({"first_name": "Renamed"})),
        )
        .await;

    let syncs = format!("/api/v1/companies/{company}/syncs");
    let preview = app
        .call(
            Method::POST,
            &format!("{syncs}/preview"),
            "/api/v1/companies/{company_id}/syncs/preview",
            Some(&app.admin),
            Some(json!({"integration": "workforce"})),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let update = preview.body["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["procore_id"] == user)
        .unwrap_or_else(|| panic!("{}", preview.body))
        .clone();
    assert_eq!(update["action"], "update_worker");
    assert_eq!(update["fields"]["first_name"], "Renamed");
    assert!(
        update["why"].as_str().unwrap().starts_with("updated"),
        "{update}"
    );
    assert_eq!(
        first_name(&app, user).await,
        before,
        "a preview changes nothing"
    );
    let dry = preview.body["run_id"].as_i64().unwrap();
    assert!(runs(&app)
        .await
        .iter()
        .any(|r| r["id"] == dry && r["dry_run"] == true));

    let queued = app
        .call(
            Method::POST,
            &syncs,
            "/api/v1/companies/{company_id}/syncs",
            Some(&app.admin),
            Some(json!({"integration": "workforce"})),
        )
        .await;
    assert_eq!(queued.status, StatusCode::ACCEPTED, "{}", queued.body);
    eventually(PATIENCE, "the sync applied the change", || async {
        (first_name(&app, user).await == "Renamed").then_some(())
    })
    .await;

    // The run that did it lists the decision; explain gives the record's story.
    let run = eventually(PATIENCE, "the run finished", || async {
        runs(&app).await.into_iter().find(|r| {
            r["integration"] == "workforce"
                && r["dry_run"] == false
                && r["id"].as_i64() > Some(dry)
                && r["finished_at"].is_string()
        })
    })
    .await;
    let detail = app
        .get(
            &format!("/api/v1/companies/{company}/runs/{}", run["id"]),
            "/api/v1/companies/{company_id}/runs/{id}",
            Some(&app.admin),
        )
        .await;
    assert!(
        detail.body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "procore-user"
                && e["procore_id"] == user
                && e["outcome"] == "applied"),
        "{}",
        detail.body
    );
    let explained = app
        .get(
            &format!("/api/v1/companies/{company}/explain/procore-user/{user}"),
            "/api/v1/companies/{company_id}/explain/{kind}/{id}",
            Some(&app.admin),
        )
        .await;
    assert_eq!(explained.status, StatusCode::OK);
    assert!(explained.body["history"][0]["reason"]
        .as_str()
        .unwrap()
        .starts_with("updated"));

    // The worker it made is explained through the Procore user it follows.
    let worker = app
        .kit
        .store
        .link(company, store::LinkKind::Worker, user)
        .await
        .unwrap()
        .expect("the user's worker")
        .local_id;
    let explain = "/api/v1/companies/{company_id}/explain/{kind}/{id}";
    let by_worker = app
        .get(
            &format!("/api/v1/companies/{company}/explain/worker/{worker}"),
            explain,
            Some(&app.admin),
        )
        .await;
    assert_eq!(by_worker.status, StatusCode::OK, "{}", by_worker.body);
    assert_eq!(by_worker.body["follows"], explained.body);
    // A worker made in the app follows no Procore user: no sync changes it.
    let own = app
        .kit
        .store
        .create_worker(
            company,
            &domain::workforce::WorkerFields {
                first_name: "Ana".into(),
                last_name: "Silva".into(),
                email: Some("ana.silva@example.com".into()),
                ..Default::default()
            },
            domain::workforce::Activation::Active,
            false,
        )
        .await
        .unwrap();
    let unlinked = app
        .get(
            &format!("/api/v1/companies/{company}/explain/worker/{own}"),
            explain,
            Some(&app.admin),
        )
        .await;
    assert_eq!(unlinked.status, StatusCode::OK, "{}", unlinked.body);
    assert_eq!(unlinked.body["record"], "worker");
    assert!(unlinked.body["follows"].is_null(), "{}", unlinked.body);
    let missing = app
        .get(
            &format!("/api/v1/companies/{company}/explain/worker/{}", own + 1000),
            explain,
            Some(&app.admin),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);

    // What is wrong is named.
    let bad = app
        .call(
            Method::POST,
            &syncs,
            "/api/v1/companies/{company_id}/syncs",
            Some(&app.admin),
            Some(json!({"integration": "payroll"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["errors"][0]["field"], "integration");
    let bad_preview = app
        .call(
            Method::POST,
            &format!("{syncs}/preview"),
            "/api/v1/companies/{company_id}/syncs/preview",
            Some(&app.admin),
            Some(json!({})),
        )
        .await;
    assert_eq!(bad_preview.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_preview.body["errors"][0]["field"], "integration");
    let unexplained = app
        .get(
            &format!("/api/v1/companies/{company}/explain/insurance/1"),
            "/api/v1/companies/{company_id}/explain/{kind}/{id}",
            Some(&app.admin),
        )
        .await;
    assert_eq!(unexplained.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unexplained.body["errors"][0]["field"], "kind");
    let elsewhere = app
        .get(
            &format!("/api/v1/companies/1/runs/{}", run["id"]),
            "/api/v1/companies/{company_id}/runs/{id}",
            Some(&app.admin),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    let reader = app.token("auditor", store::ApiScope::ReadOnly).await;
    let refused = app
        .call(
            Method::POST,
            &syncs,
            "/api/v1/companies/{company_id}/syncs",
            Some(&reader),
            Some(json!({"integration": "workforce"})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}
