//! Answers a real Procore should never give, but a broken proxy, a bug or an attacker can: none
//! of them may panic the client, hang it, exhaust its memory or leak a secret, and each ends in
//! an error that says what happened.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use procore::Error;
use serde_json::json;

use crate::fake::{client, serve, token_json, SECRET};

fn me() -> Router {
    Router::new().route(
        "/rest/v1.0/me",
        get(|| async { Json(json!({"id": 7, "login": "svc@example.com", "name": "Svc"})) }),
    )
}

#[tokio::test]
async fn a_huge_expires_in_from_the_token_endpoint_is_clamped_and_never_panics() {
    for expires_in in [
        json!(i64::MAX),
        json!(u64::MAX),
        json!(1e300),
        json!(-5),
        json!(9_223_372_036_854_775u64),
    ] {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        let url = serve(me().route(
            "/oauth/token",
            post(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                let mut t = token_json();
                t["expires_in"] = expires_in.clone();
                async move { Json(t) }
            }),
        ))
        .await;
        let c = client(&url);
        let me = c.me().await.expect("a usable token despite its expires_in");
        assert_eq!(me.id.get(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 1, "the token was read once");
    }
}

#[tokio::test]
async fn an_unrecognised_token_error_body_never_carries_the_client_secret_into_the_error() {
    let bodies = [
        json!({"unexpected": format!("client_secret={SECRET}"), "params": {"client_secret": SECRET}}),
        json!({"error": {"code": "weird", "message": format!("got {SECRET}")}}),
        json!({"message": format!("bad {SECRET}"), "reason": "bad_request"}),
        json!({"error": "invalid_request", "error_description": "the request is malformed", "echo": SECRET}),
        json!({"error": "invalid_request", "error_description": format!("client_secret {SECRET} is malformed")}),
    ];
    for body in bodies {
        let sent = body.clone();
        let url = serve(me().route(
            "/oauth/token",
            post(move || {
                let b = sent.clone();
                async move { (StatusCode::BAD_REQUEST, Json(b)) }
            }),
        ))
        .await;
        let err = client(&url).me().await.unwrap_err();
        let text = format!("{err} {err:?} {err:#?}");
        assert!(!text.contains(SECRET), "secret leaked for {body}: {text}");
        assert!(text.contains("400"), "the status is said: {text}");
    }
}

#[tokio::test]
async fn the_oauth_error_and_its_description_are_kept_from_a_token_error_body() {
    let url = serve(me().route(
        "/oauth/token",
        post(|| async {
            (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": "invalid_request", "error_description": "grant_type is missing", "trace": "abc"})),
            )
        }),
    ))
    .await;
    let err = client(&url).me().await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("grant_type is missing"), "{text}");
    let debug = format!("{err:?}");
    assert!(debug.contains("invalid_request"), "{debug}");
    assert!(
        !debug.contains("trace"),
        "only error and error_description are kept: {debug}"
    );
}

#[tokio::test]
async fn a_5xx_from_the_login_service_says_so_instead_of_blaming_the_network() {
    let url = serve(me().route(
        "/oauth/token",
        post(|| async {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "<html>upstream down</html>",
            )
                .into_response()
        }),
    ))
    .await;
    let err = client(&url).me().await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::LoginService { .. }), "{err:?}");
    assert!(
        text.contains("login service") && text.contains("503"),
        "{text}"
    );
    assert!(!text.contains("Check the network"), "{text}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn an_unreadable_token_answer_says_so_instead_of_blaming_the_network() {
    let url = serve(me().route(
        "/oauth/token",
        post(|| async { (StatusCode::OK, r#"{"access_tok"#).into_response() }),
    ))
    .await;
    let err = client(&url).me().await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::LoginService { .. }), "{err:?}");
    assert!(
        text.contains("login service") && text.contains("could not be read"),
        "{text}"
    );
    assert!(!text.contains("Check the network"), "{text}");
}

/// A router whose `/rest/v1.0/projects` streams `chunks` chunks of 64 KiB of JSON array
/// padding (`None`: without end), counting the chunks it managed to send.
fn endless_projects(chunks: Option<usize>, sent: Arc<AtomicUsize>, with_length: bool) -> Router {
    me().route("/oauth/token", post(|| async { Json(token_json()) }))
        .route(
            "/rest/v1.0/projects",
            get(move || {
                let sent = sent.clone();
                async move {
                    let chunk = bytes::Bytes::from(vec![b' '; 64 * 1024]);
                    let stream = futures::stream::iter(std::iter::repeat(chunk))
                        .take(chunks.unwrap_or(usize::MAX))
                        .map(move |c| {
                            sent.fetch_add(1, Ordering::SeqCst);
                            Ok::<_, std::io::Error>(c)
                        });
                    let mut resp = axum::body::Body::from_stream(stream).into_response();
                    if let (true, Some(n)) = (with_length, chunks) {
                        resp.headers_mut().insert(
                            axum::http::header::CONTENT_LENGTH,
                            (n * 64 * 1024).to_string().parse().unwrap(),
                        );
                    }
                    resp
                }
            }),
        )
}

use futures::StreamExt;

#[tokio::test]
async fn an_endless_answer_fails_its_call_with_a_clear_error_without_being_read_into_memory() {
    let sent = Arc::new(AtomicUsize::new(0));
    let url = serve(endless_projects(None, sent.clone(), false)).await;
    let config = procore::ClientConfig::custom(
        &url,
        procore::CompanyId(1),
        procore::Credentials::client_credentials("fake-client", SECRET),
    )
    .unwrap()
    .with_retry(crate::fast_retry())
    .with_max_response_body(1024 * 1024);
    let c = procore::Client::new(config).unwrap();
    let err = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        c.projects().list().collect(),
    )
    .await
    .expect("the call ends")
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ResponseTooLarge {
                limit: 1_048_576,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("/rest/v1.0/projects") && text.contains("1048576 bytes"),
        "{text}"
    );
    assert_eq!(
        c.stats().requests,
        1,
        "an oversized answer is not fetched again"
    );
}

#[tokio::test]
async fn an_answer_announced_larger_than_the_limit_is_refused_before_its_body_is_read() {
    let sent = Arc::new(AtomicUsize::new(0));
    let url = serve(endless_projects(Some(64), sent.clone(), true)).await;
    let config = procore::ClientConfig::custom(
        &url,
        procore::CompanyId(1),
        procore::Credentials::client_credentials("fake-client", SECRET),
    )
    .unwrap()
    .with_max_response_body(1024 * 1024);
    let err = procore::Client::new(config)
        .unwrap()
        .projects()
        .list()
        .collect()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ResponseTooLarge { .. }), "{err:?}");
}

#[test]
fn the_default_response_limit_is_a_generous_64_mib() {
    assert_eq!(procore::http::MAX_RESPONSE_BODY, 64 * 1024 * 1024);
}

/// A router whose `/rest/v1.0/projects?page=N` answers one project and links to `next(N)`.
fn linked_pages(next: fn(u64) -> u64) -> Router {
    me().route("/oauth/token", post(|| async { Json(token_json()) }))
        .route(
            "/rest/v1.0/projects",
            get(
                move |axum::extract::Query(q): axum::extract::Query<
                    std::collections::HashMap<String, String>,
                >| async move {
                    let page: u64 = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
                    let link = format!(
                        "</rest/v1.0/projects?page={}&per_page=1>; rel=\"next\"",
                        next(page)
                    );
                    (
                        [(axum::http::header::LINK, link)],
                        Json(json!([{"id": page, "name": format!("Project {page}")}])),
                    )
                },
            ),
        )
}

#[tokio::test]
async fn next_links_that_go_round_in_a_cycle_end_the_listing_with_an_error_naming_it() {
    // Page 1 -> 2 -> 3 -> 2 -> ...
    let url = serve(linked_pages(|p| if p >= 3 { 2 } else { p + 1 })).await;
    let c = client(&url);
    let err = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        c.projects().list().per_page(1).collect(),
    )
    .await
    .expect("the listing ends")
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::PageCycle {
                page: 3,
                back_to: 2,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("cycle") && text.contains("page=2") && text.contains("/rest/v1.0/projects"),
        "{text}"
    );
    assert_eq!(c.stats().requests, 3, "each page was read once");
}

#[tokio::test]
async fn a_page_linking_to_itself_ends_the_listing_with_the_same_error() {
    // The first URL carries no page number; the second page links to itself.
    let url = serve(linked_pages(|_| 1)).await;
    let err = client(&url)
        .projects()
        .list()
        .per_page(1)
        .collect()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::PageCycle {
                page: 2,
                back_to: 2,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn next_links_that_never_end_stop_at_the_page_limit() {
    let url = serve(linked_pages(|p| p + 1)).await;
    let config = procore::ClientConfig::custom(
        &url,
        procore::CompanyId(1),
        procore::Credentials::client_credentials("fake-client", SECRET),
    )
    .unwrap()
    .with_retry(crate::fast_retry())
    .with_max_pages(25);
    let c = procore::Client::new(config).unwrap();
    let err = c.projects().list().per_page(1).collect().await.unwrap_err();
    assert!(
        matches!(err, Error::TooManyPages { pages: 25, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("more than 25 pages"), "{err}");
    assert_eq!(c.stats().requests, 25);
}
