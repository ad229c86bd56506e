use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use procore_sim::{demo, Faults, SimConfig};
use serde_json::{json, Value};

use crate::helpers::*;

type Got = Arc<Mutex<Vec<(Option<String>, Value)>>>;

#[derive(Clone, Default)]
struct Receiver {
    got: Got,
    fail_first: Arc<AtomicUsize>,
}

async fn receiver(fail_first: usize) -> (String, Receiver) {
    let r = Receiver {
        fail_first: Arc::new(AtomicUsize::new(fail_first)),
        ..Receiver::default()
    };
    let state = r.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: axum::Json<Value>| {
            let state = state.clone();
            async move {
                if state.fail_first.load(Ordering::SeqCst) > 0 {
                    state.fail_first.fetch_sub(1, Ordering::SeqCst);
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                let auth = headers
                    .get("authorization")
                    .map(|v| v.to_str().unwrap().to_owned());
                state.got.lock().unwrap().push((auth, body.0));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await });
    (url, r)
}

fn fast() -> SimConfig {
    SimConfig {
        rate_limits: None,
        webhook_retry_initial: Duration::from_millis(50),
        webhook_retry_max: Duration::from_millis(200),
        ..SimConfig::default()
    }
}

async fn hook(t: &T, url: &str, resource: &str, event: &str) -> i64 {
    let (s, h) = t
        .json(t.post("/rest/v1.0/webhooks/hooks").json(&json!({"company_id": demo::COMPANY_ID, "hook": {"api_version": "v2", "namespace": "trestle-test", "destination_url": url, "destination_headers": {"Authorization": "Bearer hook-secret-12345"}}})))
        .await;
    assert_eq!(s, 201, "{h}");
    let masked = h["destination_headers"]["Authorization"].as_str().unwrap();
    assert!(
        masked.ends_with("12345") && masked.starts_with('*') && !masked.contains("secret"),
        "{masked}"
    );
    let id = h["id"].as_i64().unwrap();
    let (s, _) = t
        .json(t.post(&format!("/rest/v1.0/webhooks/hooks/{id}/triggers")).json(&json!({"company_id": demo::COMPANY_ID, "api_version": "v2", "trigger": {"resource_name": resource, "event_type": event}})))
        .await;
    assert_eq!(s, 201);
    id
}

async fn wait_for(r: &Receiver, n: usize) -> Vec<(Option<String>, Value)> {
    for _ in 0..100 {
        if r.got.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    r.got.lock().unwrap().clone()
}

#[tokio::test]
async fn api_change_is_delivered_with_the_hooks_authorization_header_and_app_id() {
    let t = start_with(demo::world(), fast()).await;
    let (url, r) = receiver(0).await;
    hook(&t, &url, "Projects", "update").await;
    let pid = t.project("Harbor Tower");
    let (s, _) = t
        .json(
            t.patch(&format!("/rest/v1.0/projects/{pid}"))
                .json(&json!({"project": {"public_notes": "new"}})),
        )
        .await;
    assert_eq!(s, 200);
    let got = wait_for(&r, 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0.as_deref(), Some("Bearer hook-secret-12345"));
    let ev = &got[0].1;
    assert_eq!(ev["resource_name"], "Projects");
    assert_eq!(ev["event_type"], "update");
    assert_eq!(ev["resource_id"], pid);
    assert_eq!(ev["metadata"]["source_application_id"], 7_000_000_001i64);
}

#[tokio::test]
async fn admin_ui_change_has_null_source_application_and_failed_delivery_is_retried() {
    let t = start_with(demo::world(), fast()).await;
    let (url, r) = receiver(2).await;
    let hid = hook(&t, &url, "Company Vendors", "update").await;
    let v = t.vendor("Bolt Plumbing");
    let resp = t
        .http
        .patch(t.url(&format!("/_sim/companies/{}/vendors/{v}", demo::COMPANY_ID)))
        .json(&json!({"website": "https://bolt.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let got = wait_for(&r, 1).await;
    assert_eq!(got.len(), 1);
    assert!(got[0].1["metadata"]["source_application_id"].is_null());
    let (_, d) = t
        .json(t.get(&format!(
            "/rest/v1.0/webhooks/hooks/{hid}/deliveries?company_id={}",
            demo::COMPANY_ID
        )))
        .await;
    assert_eq!(d[0]["outcome"], "retried");
}

#[tokio::test]
async fn duplicate_webhooks_fault_delivers_each_event_twice() {
    let t = start_with(demo::world(), fast()).await;
    t.sim().set_faults(Faults {
        duplicate_webhooks: true,
        ..Faults::default()
    });
    let (url, r) = receiver(0).await;
    hook(&t, &url, "Company Users", "create").await;
    let (s, _) = t
        .json(
            t.post(&format!("/rest/v1.0/companies/{}/users", demo::COMPANY_ID))
                .json(&json!({"user": {"last_name": "New", "email_address": "new@x.example"}})),
        )
        .await;
    assert_eq!(s, 201);
    let got = wait_for(&r, 2).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].1["id"], got[1].1["id"]);
}

#[tokio::test]
async fn v2_hook_with_payload_v4_gets_string_ids() {
    let t = start_with(demo::world(), fast()).await;
    let (url, r) = receiver(0).await;
    let (s, h) = t
        .json(
            t.post(&format!(
                "/rest/v2.0/companies/{}/webhooks/hooks",
                demo::COMPANY_ID
            ))
            .json(
                &json!({"payload_version": "v4.0", "namespace": "trestle", "destination_url": url}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{h}");
    let hid = h["data"]["id"].as_str().unwrap().to_owned();
    let (s, _) = t
        .json(
            t.post(&format!(
                "/rest/v2.0/companies/{}/webhooks/hooks/{hid}/triggers",
                demo::COMPANY_ID
            ))
            .json(&json!({"resource_name": "Work Order Contracts", "event_type": "create"})),
        )
        .await;
    assert_eq!(s, 201);
    let pid = t.project("Harbor Tower");
    let (s, _) = t.json(t.post("/rest/v1.0/work_order_contracts").json(&json!({"project_id": pid, "work_order_contract": {"title": "New SC", "status": "Draft"}}))).await;
    assert_eq!(s, 201);
    let got = wait_for(&r, 1).await;
    assert_eq!(got[0].1["reason"], "create");
    assert!(got[0].1["resource_id"].is_string());
    assert_eq!(got[0].1["project_id"], pid.to_string());
}
