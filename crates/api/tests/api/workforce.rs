use crate::{eventually, App};
use domain::workforce::{Activation, ProjectFields, ProjectStatus, WorkerFields};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;
use store::ApiScope;
use sync::jobs::{enqueue, Integration, Work};

const PATIENCE: Duration = Duration::from_secs(30);

/// A whole workforce sync, queued as the scheduler would.
async fn sync_whole(app: &App) {
    let work = Work::Sync {
        integration: Integration::Workforce,
        full: true,
        targets: None,
    };
    enqueue(
        &app.kit.store,
        app.kit.company,
        &work,
        chrono::Utc::now(),
        3,
    )
    .await
    .unwrap();
}

fn base(app: &App) -> String {
    format!("/api/v1/companies/{}/workforce", app.kit.company)
}

async fn waiting(app: &App) -> Vec<Value> {
    let answer = app
        .get(
            &format!("{}/waiting", base(app)),
            "/api/v1/companies/{company_id}/workforce/waiting",
            Some(&app.admin),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body.as_array().unwrap().clone()
}

async fn waiting_for(app: &App, kind: &str, procore_id: i64) -> Value {
    eventually(PATIENCE, "the record waits for a decision", || async {
        waiting(app)
            .await
            .into_iter()
            .find(|w| w["kind"] == kind && w["procore_id"] == procore_id)
    })
    .await
}

const PREVIEW: &str =
    "/api/v1/companies/{company_id}/workforce/waiting/{kind}/{procore_id}/preview";
const DECISION: &str =
    "/api/v1/companies/{company_id}/workforce/waiting/{kind}/{procore_id}/decision";

#[tokio::test]
async fn a_procore_project_whose_number_an_app_project_has_waits_and_a_link_makes_the_app_project_follow_procore(
) {
    let app = App::start().await;
    let local = app
        .kit
        .store
        .create_project(
            app.kit.company,
            &ProjectFields {
                name: "Pier Nine (ours)".into(),
                project_number: Some("P-900".into()),
                ..ProjectFields::default()
            },
            ProjectStatus::Active,
        )
        .await
        .unwrap();
    app.kit
        .ui_create(
            "projects",
            json!({"name": "Pier Nine", "project_number": "P-900", "city": "Oakland"}),
        )
        .await;
    let procore = app.kit.procore_project("Pier Nine");
    sync_whole(&app).await;
    let w = waiting_for(&app, "project", procore).await;
    assert_eq!(w["clashes_with"], local, "{w}");
    assert_eq!(w["key"], "P-900");
    assert!(w["reason"].as_str().unwrap().contains("P-900"), "{w}");

    // The preview says what a link changes, and changes nothing.
    let path = format!("{}/waiting/project/{procore}", base(&app));
    let preview = app
        .get(
            &format!("{path}/preview?decision=link&to={local}"),
            PREVIEW,
            Some(&app.admin),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let changes = preview.body["changes"].as_array().unwrap();
    assert!(
        changes.iter().any(|c| c["field"] == "name"
            && c["from"] == "Pier Nine (ours)"
            && c["to"] == "Pier Nine"),
        "{}",
        preview.body
    );
    assert!(changes
        .iter()
        .any(|c| c["field"] == "city" && c["to"] == "Oakland"));
    assert_eq!(waiting(&app).await.len(), 1, "a preview decides nothing");

    // Bad decisions are refused, naming the field.
    for (query, field) in [
        ("decision=link", "to"),
        ("decision=merge", "decision"),
        ("decision=ignore&to=3", "to"),
    ] {
        let bad = app
            .get(
                &format!("{path}/preview?{query}"),
                PREVIEW,
                Some(&app.admin),
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(
            bad.body["errors"][0]["field"], field,
            "{query}: {}",
            bad.body
        );
    }
    let unknown = app
        .get(
            &format!("{path}/preview?decision=link&to=999999"),
            PREVIEW,
            Some(&app.admin),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);

    // A read-only token may preview but not decide.
    let reader = app.token("auditor", ApiScope::ReadOnly).await;
    let refused = app
        .call(
            Method::POST,
            &format!("{path}/decision"),
            DECISION,
            Some(&reader),
            Some(json!({"decision": "link", "to": local})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let decided = app
        .call(
            Method::POST,
            &format!("{path}/decision"),
            DECISION,
            Some(&app.admin),
            Some(json!({"decision": "link", "to": local})),
        )
        .await;
    assert_eq!(decided.status, StatusCode::OK, "{}", decided.body);
    assert!(decided.body["job_id"].as_i64().is_some());
    assert!(
        waiting(&app).await.is_empty(),
        "a linked record no longer waits"
    );

    // The queued sync brings Procore's fields to the linked project, with no other step.
    let projects = format!("{}/projects", base(&app));
    let linked = eventually(PATIENCE, "the app project follows Procore", || async {
        let answer = app
            .get(
                &projects,
                "/api/v1/companies/{company_id}/workforce/projects",
                Some(&app.admin),
            )
            .await;
        answer
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == local && p["name"] == "Pier Nine")
            .cloned()
    })
    .await;
    assert_eq!(linked["procore_project_id"], procore);
    assert_eq!(linked["city"], "Oakland");

    // Deciding again about a record that no longer waits is a 404 that says so.
    let again = app
        .call(
            Method::POST,
            &format!("{path}/decision"),
            DECISION,
            Some(&app.admin),
            Some(json!({"decision": "ignore"})),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert!(again.body["detail"]
        .as_str()
        .unwrap()
        .contains("not waiting"));
}

#[tokio::test]
async fn a_procore_user_whose_email_a_worker_has_can_be_ignored_and_is_never_synced_again() {
    let app = App::start().await;
    let ours = app
        .kit
        .store
        .create_worker(
            app.kit.company,
            &WorkerFields {
                first_name: "Dana".into(),
                last_name: "Ortiz".into(),
                email: Some("dana.ortiz@example.com".into()),
                ..WorkerFields::default()
            },
            Activation::Active,
            false,
        )
        .await
        .unwrap();
    app.kit
        .ui_create(
            "users",
            json!({"first_name": "Dana", "last_name": "Ortiz-Reyes", "email_address": "Dana.Ortiz@example.com", "is_employee": true}),
        )
        .await;
    let procore = app.kit.procore_user("Ortiz-Reyes");
    sync_whole(&app).await;
    let w = waiting_for(&app, "user", procore).await;
    assert_eq!(w["clashes_with"], ours);
    assert_eq!(w["name"], "Dana Ortiz-Reyes");

    let path = format!("{}/waiting/user/{procore}", base(&app));
    let preview = app
        .get(
            &format!("{path}/preview?decision=ignore"),
            PREVIEW,
            Some(&app.admin),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(
        preview.body["outcome"].as_str().unwrap().contains("ignore"),
        "{}",
        preview.body
    );
    // The same decision sent twice with one Idempotency-Key is made once, answered alike.
    let send = || async {
        let a = app
            .call_with(
                Method::POST,
                &format!("{path}/decision"),
                "/api/v1/companies/{company_id}/workforce/waiting/{kind}/{procore_id}/decision",
                Some(&app.admin),
                &[("Idempotency-Key", "ignore-dana-1")],
                Some(json!({"decision": "ignore"})),
            )
            .await;
        let replayed = a.headers.get("idempotent-replayed").is_some();
        (a.status, replayed, a.body)
    };
    let (first_status, first_replayed, first) = send().await;
    assert_eq!(first_status, StatusCode::OK, "{first}");
    assert!(!first_replayed);
    let (second_status, second_replayed, second) = send().await;
    assert_eq!(second_status, StatusCode::OK);
    assert!(second_replayed);
    assert_eq!(first, second);
    assert!(waiting(&app).await.is_empty());

    // Whole syncs later, the user is still not a worker, and does not wait again.
    sync_whole(&app).await;
    let workers = format!("{}/workers?q=dana.ortiz%40example.com", base(&app));
    eventually(PATIENCE, "the queue drained", || async {
        let counts = app.kit.store.job_counts().await.unwrap();
        (!counts.iter().any(|(_, state, n)| {
            *n > 0 && matches!(state, store::JobState::Pending | store::JobState::Running)
        }))
        .then_some(())
    })
    .await;
    let found = app
        .get(
            &workers,
            "/api/v1/companies/{company_id}/workforce/workers",
            Some(&app.admin),
        )
        .await;
    let ids: Vec<i64> = found
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![ours]);
    assert!(waiting(&app).await.is_empty());
}

const WORKER: &str = "/api/v1/companies/{company_id}/workforce/workers/{id}";

async fn a_pending_worker(app: &App) -> Value {
    eventually(PATIENCE, "the first sync made workers", || async {
        let answer = app
            .get(
                &format!("{}/workers?status=pending_account_activation", base(app)),
                "/api/v1/companies/{company_id}/workforce/workers",
                Some(&app.admin),
            )
            .await;
        answer
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["email"].is_string())
            .cloned()
    })
    .await
}

#[tokio::test]
async fn an_admin_activates_blocks_and_unblocks_a_worker_and_a_stale_etag_is_refused() {
    let app = App::start().await;
    let w = a_pending_worker(&app).await;
    let id = w["id"].as_i64().unwrap();
    let path = format!("{}/workers/{id}", base(&app));

    let activated = app
        .call(
            Method::POST,
            &format!("{path}/activate"),
            &format!("{WORKER}/activate"),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(activated.status, StatusCode::OK, "{}", activated.body);
    assert_eq!(
        activated.body["status"], "pending_email_verification",
        "a worker with an email gets an invitation"
    );
    let again = app
        .call(
            Method::POST,
            &format!("{path}/activate"),
            &format!("{WORKER}/activate"),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    // If-Match: the ETag read before another change is stale.
    let read = app.get(&path, WORKER, Some(&app.admin)).await;
    let tag = read.headers["etag"].to_str().unwrap().to_string();
    assert_eq!(tag, activated.headers["etag"].to_str().unwrap());
    let blocked = block_if(&app, &path, &tag).await;
    assert_eq!(blocked.0, StatusCode::OK, "{}", blocked.1);
    assert_eq!(blocked.1["status"], "blocked");
    assert_eq!(blocked.1["blocked_by_admin"], true);
    let stale = block_if(&app, &path, &tag).await;
    assert_eq!(stale.0, StatusCode::PRECONDITION_FAILED, "{}", stale.1);

    // A sync that reads the (active) Procore user leaves the admin's block alone.
    sync_whole(&app).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    eventually(PATIENCE, "the sync ran", || async {
        let counts = app.kit.store.job_counts().await.unwrap();
        (!counts.iter().any(|(_, state, n)| {
            *n > 0 && matches!(state, store::JobState::Pending | store::JobState::Running)
        }))
        .then_some(())
    })
    .await;
    let after = app.get(&path, WORKER, Some(&app.admin)).await;
    assert_eq!(after.body["status"], "blocked", "{}", after.body);

    let (unblock_path, unblock_template) = (format!("{path}/unblock"), format!("{WORKER}/unblock"));
    let unblock = || {
        app.call_with(
            Method::POST,
            &unblock_path,
            &unblock_template,
            Some(&app.admin),
            &[("Idempotency-Key", "unblock-once")],
            None,
        )
    };
    let unblocked = unblock().await;
    assert_eq!(unblocked.status, StatusCode::OK);
    let replayed = unblock().await;
    replayed.assert_replays(&unblocked);
    assert_eq!(
        unblocked.body["status"], "pending_email_verification",
        "unblocked, the worker keeps the activation it had"
    );
    assert_eq!(unblocked.body["blocked_by_admin"], false);

    // Who may do what.
    let reader = app.token("auditor", ApiScope::ReadOnly).await;
    let refused = app
        .call(
            Method::POST,
            &format!("{path}/block"),
            &format!("{WORKER}/block"),
            Some(&reader),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let worker_token = app
        .token(
            "phone",
            ApiScope::Worker {
                company_id: app.kit.company,
                worker_id: id,
            },
        )
        .await;
    let listing = app.get(&path, WORKER, Some(&worker_token)).await;
    assert_eq!(listing.status, StatusCode::FORBIDDEN);
    let anonymous = app.get(&path, WORKER, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let missing = app
        .get(
            &format!("{}/workers/99999999", base(&app)),
            WORKER,
            Some(&app.admin),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

async fn block_if(app: &App, path: &str, tag: &str) -> (StatusCode, Value) {
    let a = app
        .call_with(
            Method::POST,
            &format!("{path}/block"),
            "/api/v1/companies/{company_id}/workforce/workers/{id}/block",
            Some(&app.admin),
            &[("If-Match", tag)],
            None,
        )
        .await;
    (a.status, a.body)
}

#[tokio::test]
async fn workers_page_by_id_with_a_next_link_to_the_last_one_and_filter_by_status_and_name() {
    let app = App::start().await;
    let mut made = Vec::new();
    for i in 0..7 {
        made.push(
            app.kit
                .store
                .create_worker(
                    app.kit.company,
                    &WorkerFields {
                        first_name: format!("Pagey{i}"),
                        last_name: "Walker".into(),
                        ..WorkerFields::default()
                    },
                    Activation::ActiveForKiosk,
                    i == 6,
                )
                .await
                .unwrap(),
        );
    }
    let template = "/api/v1/companies/{company_id}/workforce/workers";
    let mut next = Some(format!("{}/workers?q=pagey&limit=3", base(&app)));
    let mut seen = Vec::new();
    let mut pages = 0;
    while let Some(url) = next.take() {
        let answer = app.get(&url, template, Some(&app.admin)).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        pages += 1;
        seen.extend(
            answer
                .body
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w["id"].as_i64().unwrap()),
        );
        next = answer.headers.get("link").map(|l| {
            let l = l.to_str().unwrap();
            assert!(l.ends_with("rel=\"next\""), "{l}");
            l[l.find('<').unwrap() + 1..l.find('>').unwrap()].to_string()
        });
    }
    assert_eq!(seen, made);
    assert_eq!(pages, 3);

    let blocked = app
        .get(
            &format!("{}/workers?q=pagey&status=blocked", base(&app)),
            template,
            Some(&app.admin),
        )
        .await;
    let ids: Vec<i64> = blocked
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![made[6]]);
    let kiosk = app
        .get(
            &format!("{}/workers?q=PAGEY&status=active_for_kiosk", base(&app)),
            template,
            Some(&app.admin),
        )
        .await;
    assert_eq!(kiosk.body.as_array().unwrap().len(), 6);

    for (query, field) in [("status=sleeping", "status"), ("limit=0", "limit")] {
        let bad = app
            .get(
                &format!("{}/workers?{query}", base(&app)),
                template,
                Some(&app.admin),
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.body["errors"][0]["field"], field);
    }
    let elsewhere = app
        .get(
            "/api/v1/companies/1/workforce/workers",
            template,
            Some(&app.admin),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
}
