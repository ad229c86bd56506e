use procore_sim::{demo, Faults};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn drop_after_write_leaves_the_write_applied_but_the_client_sees_a_transport_error() {
    let t = start().await;
    t.sim().set_faults(Faults {
        drop_after_write_rate: 1.0,
        ..Faults::default()
    });
    let res = async {
        let r = t
            .post("/rest/v1.0/projects")
            .json(&json!({"company_id": demo::COMPANY_ID, "project": {"name": "Dropped Response"}}))
            .send()
            .await?;
        r.bytes().await
    }
    .await;
    assert!(res.is_err(), "expected a transport error, got {res:?}");
    assert!(t
        .sim()
        .read(|w| w.projects.values().any(|p| p.name == "Dropped Response")));
    assert_eq!(
        t.sim().request_log().last().unwrap().fault.as_deref(),
        Some("drop_after_write")
    );
}

#[tokio::test]
async fn truncated_body_keeps_the_status_but_is_not_valid_json() {
    let t = start().await;
    t.sim().set_faults(Faults {
        truncate_rate: 1.0,
        ..Faults::default()
    });
    let r = t
        .get(&format!(
            "/rest/v1.0/projects?company_id={}",
            demo::COMPANY_ID
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body = r.bytes().await.unwrap();
    assert!(serde_json::from_slice::<serde_json::Value>(&body).is_err());
}

#[tokio::test]
async fn storm_answers_the_next_n_requests_with_429() {
    let t = start().await;
    t.sim().set_faults(Faults {
        storm_429: 2,
        ..Faults::default()
    });
    let codes: Vec<u16> = futures_codes(&t, 3).await;
    assert_eq!(codes, [429, 429, 200]);
}

async fn futures_codes(t: &T, n: usize) -> Vec<u16> {
    let mut v = Vec::new();
    for _ in 0..n {
        let r = t.get("/rest/v1.0/me").send().await.unwrap();
        if r.status().as_u16() == 429 {
            assert!(header(&r, "retry-after").is_some());
        }
        v.push(r.status().as_u16());
    }
    v
}

#[tokio::test]
async fn error_rate_one_gives_5xx_and_503_carries_retry_after() {
    let t = start().await;
    let r = t
        .http
        .put(t.url("/_sim/faults"))
        .json(&json!({"error_rate": 1.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    for _ in 0..10 {
        let r = t.get("/rest/v1.0/me").send().await.unwrap();
        let s = r.status().as_u16();
        assert!([500, 502, 503].contains(&s));
        if s == 503 {
            assert!(header(&r, "retry-after").is_some());
        }
    }
    assert!(t
        .sim()
        .request_log()
        .iter()
        .all(|e| e.path != "/rest/v1.0/me" || e.fault.is_some()));
}
