use crate::App;
use domain::workforce::{Activation, WorkerFields};
use reqwest::{Method, StatusCode};
use store::ApiScope;

#[tokio::test]
async fn every_route_refuses_a_request_without_a_token_with_a_problem_and_a_bearer_challenge() {
    let app = App::start().await;
    let ops = app.operations();
    assert!(ops.len() >= 6, "{ops:?}");
    for (method, template) in ops {
        let path = template.replace("{id}", "1");
        let answer = app.call(method.clone(), &path, &template, None, None).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(answer.content_type, "application/problem+json");
        assert_eq!(
            answer.headers["www-authenticate"], "Bearer realm=\"trestle\"",
            "{method} {path}"
        );
        assert!(answer.body["detail"]
            .as_str()
            .unwrap()
            .contains("Authorization: Bearer"));
    }
}

#[tokio::test]
async fn a_token_trestle_did_not_make_or_revoked_is_refused_on_every_route() {
    let app = App::start().await;
    let forged = format!("trestle_{}", "A".repeat(43));
    let answer = app.get("/api/v1/jobs", "/api/v1/jobs", Some(&forged)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let answer = app
        .get("/api/v1/jobs", "/api/v1/jobs", Some("ghp_abc"))
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.body["detail"].as_str().unwrap().contains("trestle_"));

    let token = app.token("to revoke", ApiScope::Admin).await;
    let ok = app.get("/api/v1/jobs", "/api/v1/jobs", Some(&token)).await;
    assert_eq!(ok.status, StatusCode::OK);
    let id = app.kit.store.api_tokens().await.unwrap().last().unwrap().id;
    let revoked = app
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            "/api/v1/tokens/{id}",
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    // Revoked, an admin's token opens nothing, and nothing it sends is done.
    let tokens = app.kit.store.api_tokens().await.unwrap().len();
    for (method, template) in app.operations() {
        let path = template
            .replace("{company_id}", &app.kit.company.to_string())
            .replace("{id}", "1");
        let refused = app
            .call(
                method.clone(),
                &path,
                &template,
                Some(&token),
                Some(serde_json::json!({"name": "x", "scope": "admin"})),
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert!(
            refused.body["detail"].as_str().unwrap().contains("revoked"),
            "{method} {path}: {}",
            refused.body
        );
    }
    assert_eq!(app.kit.store.api_tokens().await.unwrap().len(), tokens);
}

#[tokio::test]
async fn a_read_only_token_reads_and_changes_nothing_and_a_worker_token_reads_no_queue() {
    let app = App::start().await;
    let reader = app.token("dashboard", ApiScope::ReadOnly).await;
    let answer = app.get("/api/v1/jobs", "/api/v1/jobs", Some(&reader)).await;
    assert_eq!(answer.status, StatusCode::OK);
    for (method, path, template) in [
        (Method::GET, "/api/v1/tokens", "/api/v1/tokens"),
        (Method::POST, "/api/v1/tokens", "/api/v1/tokens"),
        (
            Method::POST,
            "/api/v1/jobs/1/retry",
            "/api/v1/jobs/{id}/retry",
        ),
        (Method::DELETE, "/api/v1/tokens/1", "/api/v1/tokens/{id}"),
    ] {
        let answer = app
            .call(
                method.clone(),
                path,
                template,
                Some(&reader),
                Some(serde_json::json!({"name": "x", "scope": "admin"})),
            )
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert!(answer.body["detail"]
            .as_str()
            .unwrap()
            .contains("needs an admin token"));
    }
    assert_eq!(
        app.kit.store.api_tokens().await.unwrap().len(),
        2,
        "nothing was made"
    );

    let worker = app
        .kit
        .store
        .create_worker(
            app.kit.company,
            &WorkerFields {
                first_name: "Maria".into(),
                last_name: "Lopez".into(),
                phone: None,
                employee_number: None,
                email: None,
            },
            Activation::ActiveForKiosk,
            false,
        )
        .await
        .unwrap();
    let worker_token = app
        .token(
            "site phone",
            ApiScope::Worker {
                company_id: app.kit.company,
                worker_id: worker,
            },
        )
        .await;
    let answer = app
        .get("/api/v1/jobs", "/api/v1/jobs", Some(&worker_token))
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_unknown_api_route_is_a_problem_not_a_blank_page() {
    let app = App::start().await;
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/nothing-here", app.server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}

#[tokio::test]
async fn a_blocked_workers_token_is_refused_until_an_admin_unblocks_the_worker() {
    let app = App::start().await;
    let company = app.kit.company;
    let worker = app
        .kit
        .store
        .create_worker(
            company,
            &WorkerFields {
                first_name: "Maria".into(),
                last_name: "Lopez".into(),
                ..WorkerFields::default()
            },
            Activation::ActiveForKiosk,
            false,
        )
        .await
        .unwrap();
    let phone = app
        .token(
            "site phone",
            ApiScope::Worker {
                company_id: company,
                worker_id: worker,
            },
        )
        .await;
    let templates = format!("/api/v1/companies/{company}/forms/templates");
    let template = "/api/v1/companies/{company_id}/forms/templates";
    let read = app.get(&templates, template, Some(&phone)).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);

    let worker_path = format!("/api/v1/companies/{company}/workforce/workers/{worker}");
    let act = |action: &'static str| {
        let path = format!("{worker_path}/{action}");
        let app = &app;
        async move {
            let a = app
                .call(
                    Method::POST,
                    &path,
                    &format!("/api/v1/companies/{{company_id}}/workforce/workers/{{id}}/{action}"),
                    Some(&app.admin),
                    None,
                )
                .await;
            assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        }
    };
    act("block").await;
    let refused = app.get(&templates, template, Some(&phone)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(
        refused.body["detail"].as_str().unwrap().contains("blocked"),
        "{}",
        refused.body
    );
    act("unblock").await;
    let again = app.get(&templates, template, Some(&phone)).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
}
