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

#[tokio::test]
async fn advancing_the_clock_past_a_hundred_years_is_refused_and_the_simulator_keeps_answering() {
    let t = start().await;
    let advance = |seconds: serde_json::Value| {
        t.http
            .post(t.url("/_sim/clock/advance"))
            .json(&json!({ "seconds": seconds }))
    };
    let (status, body) = t.json(advance(json!(1e300))).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"]["seconds"][0]
        .as_str()
        .unwrap()
        .contains("hundred years"));
    let (status, _) = t.json(advance(json!(-5))).await;
    assert_eq!(status, 422);

    // The programmatic door saturates instead of overflowing the date arithmetic.
    t.sim().advance_clock(std::time::Duration::MAX);
    let (status, body) = t.json(advance(json!(60))).await;
    assert_eq!(status, 200, "{body}");
    // A century later the old token has expired; a new one works, and dates still render.
    let token = client_credentials(&t.http, &t.run.url()).await;
    let (status, body) = t
        .json(
            t.http
                .get(t.url("/rest/v1.0/me"))
                .bearer_auth(token)
                .header("Procore-Company-Id", demo::COMPANY_ID.to_string()),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}
