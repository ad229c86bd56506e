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
        .get("/api/v1/tokens", "/api/v1/tokens", Some(&app.admin))
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    let text = listed.body.to_string();
    assert!(text.contains("\"CI\""), "{text}");
    assert!(
        !text.contains(&secret),
        "a list never holds a token: {text}"
    );

    let with_new = app.get("/api/v1/jobs", "/api/v1/jobs", Some(&secret)).await;
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
            vec!["colour"],
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

#[tokio::test]
async fn a_post_sent_again_with_its_idempotency_key_gets_the_first_answer_and_makes_nothing_twice()
{
    let app = App::start().await;
    let post = |key: &'static str, name: &'static str| {
        let url = format!("{}/api/v1/tokens", app.server.url);
        let admin = app.admin.clone();
        async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(admin)
                .header("Idempotency-Key", key)
                .json(&json!({"name": name, "scope": "read-only"}))
                .send()
                .await
                .unwrap()
        }
    };
    let first = post("key-1", "CI").await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: serde_json::Value = first.json().await.unwrap();
    let again = post("key-1", "CI").await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(again, first, "the same token, answered again");
    assert_eq!(app.kit.store.api_tokens().await.unwrap().len(), 2);

    let other = post("key-1", "another name").await;
    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let other: serde_json::Value = other.json().await.unwrap();
    assert_eq!(other["errors"][0]["field"], "Idempotency-Key");

    // A refused request is kept too: it is refused again without being looked at again.
    let bad = post("key-2", "").await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        post("key-2", "").await.headers()["idempotent-replayed"],
        "true"
    );
    // Without a key, each POST is its own.
    let url = format!("{}/api/v1/tokens", app.server.url);
    for _ in 0..2 {
        let r = reqwest::Client::new()
            .post(&url)
            .bearer_auth(&app.admin)
            .json(&json!({"name": "twice", "scope": "read-only"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    assert_eq!(app.kit.store.api_tokens().await.unwrap().len(), 4);
}

#[tokio::test]
async fn an_idempotency_key_is_the_callers_own() {
    let app = App::start().await;
    let other_admin = app.token("second admin", store::ApiScope::Admin).await;
    for token in [&app.admin, &other_admin] {
        let r = reqwest::Client::new()
            .post(format!("{}/api/v1/tokens", app.server.url))
            .bearer_auth(token)
            .header("Idempotency-Key", "same-key")
            .json(&json!({"name": "mine", "scope": "read-only"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        assert!(r.headers().get("idempotent-replayed").is_none());
    }
    assert_eq!(app.kit.store.api_tokens().await.unwrap().len(), 4);
}
