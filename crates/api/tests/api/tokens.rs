use crate::App;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn an_admin_makes_a_token_that_is_answered_once_and_then_works() {
    let app = App::start().await;
    let made = app
        .call(
            Method::POST,
            "/api/v1/tokens",
            "/api/v1/tokens",
            Some(&app.admin),
            Some(json!({"name": "CI", "scope": "read-only"})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED);
    let secret = made.body["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("trestle_"));
    assert_eq!(made.body["token"]["scope"], "read-only");

    let listed = app
        .call(
            Method::GET,
            "/api/v1/tokens",
            "/api/v1/tokens",
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    let text = listed.body.to_string();
    assert!(text.contains("\"CI\""), "{text}");
    assert!(
        !text.contains(&secret),
        "a list never holds a token: {text}"
    );

    let with_new = app
        .call(
            Method::GET,
            "/api/v1/jobs",
            "/api/v1/jobs",
            Some(&secret),
            None,
        )
        .await;
    assert_eq!(with_new.status, StatusCode::OK);
}

#[tokio::test]
async fn a_token_asked_for_wrongly_is_refused_with_each_field_named_and_nothing_made() {
    let app = App::start().await;
    let cases = [
        (json!({"name": "x"}), vec!["scope"]),
        (json!({"name": "x", "scope": "owner"}), vec!["scope"]),
        (
            json!({"name": "x", "scope": "worker"}),
            vec!["company_id", "worker_id"],
        ),
        (
            json!({"name": "x", "scope": "admin", "worker_id": 3}),
            vec!["worker_id"],
        ),
        (json!({"name": "  ", "scope": "admin"}), vec!["name"]),
        (
            json!({"name": "x".repeat(101), "scope": "admin"}),
            vec!["name"],
        ),
        (
            json!({"name": "x", "scope": "worker", "company_id": 4000000001_i64, "worker_id": 999}),
            vec!["worker_id"],
        ),
        (
            json!({"name": "x", "scope": "admin", "colour": "red"}),
            vec!["body"],
        ),
        (json!(["not", "an", "object"]), vec!["body"]),
    ];
    for (body, fields) in cases {
        let answer = app
            .call(
                Method::POST,
                "/api/v1/tokens",
                "/api/v1/tokens",
                Some(&app.admin),
                Some(body.clone()),
            )
            .await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(answer.content_type, "application/problem+json");
        let named: Vec<&str> = answer.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(named, fields, "{body}: {}", answer.body);
    }
    assert_eq!(app.kit.store.api_tokens().await.unwrap().len(), 1);
}

#[tokio::test]
async fn revoking_twice_is_a_conflict_and_an_unknown_token_is_not_found() {
    let app = App::start().await;
    let id = app.kit.store.api_tokens().await.unwrap()[0].id;
    let other = app.token("spare", store::ApiScope::Admin).await;
    let first = app
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            "/api/v1/tokens/{id}",
            Some(&other),
            None,
        )
        .await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(first.body["revoked_at"].is_string());
    let again = app
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            "/api/v1/tokens/{id}",
            Some(&other),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let unknown = app
        .call(
            Method::DELETE,
            "/api/v1/tokens/999",
            "/api/v1/tokens/{id}",
            Some(&other),
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}
