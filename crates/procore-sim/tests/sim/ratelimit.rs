use std::time::Duration;

use procore_sim::{demo, RateLimits, SimConfig};

use crate::helpers::*;

fn small() -> SimConfig {
    SimConfig {
        rate_limits: Some(RateLimits {
            hourly: 100,
            spike: 5,
            hourly_window: Duration::from_secs(3600),
            spike_window: Duration::from_secs(10),
        }),
        ..SimConfig::default()
    }
}

#[tokio::test]
async fn requests_over_the_spike_budget_get_429_with_retry_after() {
    let t = start_with(demo::world(), small()).await;
    // The token request used 1 (anonymous bucket, not the app's).
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = t.get("/rest/v1.0/me").send().await.unwrap();
        assert!(header(&r, "x-rate-limit-limit").is_some());
        assert!(header(&r, "x-rate-limit-remaining").is_some());
        assert!(header(&r, "x-rate-limit-reset").is_some());
        statuses.push((
            r.status().as_u16(),
            header(&r, "retry-after"),
            header(&r, "x-rate-limit-remaining"),
        ));
    }
    assert!(statuses[..5].iter().all(|s| s.0 == 200), "{statuses:?}");
    assert_eq!(statuses[5].0, 429);
    assert!(statuses[5].1.is_some());
    assert_eq!(statuses[4].2.as_deref(), Some("0"));
    t.sim().advance_clock(Duration::from_secs(11));
    assert_eq!(
        t.get("/rest/v1.0/me")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
}

#[tokio::test]
async fn failed_requests_count_against_the_budget() {
    let t = start_with(demo::world(), small()).await;
    for _ in 0..5 {
        assert_eq!(
            t.get("/rest/v1.0/nope")
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
            404
        );
    }
    assert_eq!(
        t.get("/rest/v1.0/me")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        429
    );
}

#[tokio::test]
async fn hourly_limit_is_reported_once_its_remaining_is_below_the_spike_remaining() {
    let cfg = SimConfig {
        rate_limits: Some(RateLimits {
            hourly: 8,
            spike: 5,
            hourly_window: Duration::from_secs(3600),
            spike_window: Duration::from_secs(10),
        }),
        ..SimConfig::default()
    };
    let t = start_with(demo::world(), cfg).await;
    let r = t.get("/rest/v1.0/me").send().await.unwrap();
    assert_eq!(header(&r, "x-rate-limit-limit").as_deref(), Some("5"));
    for _ in 0..4 {
        t.get("/rest/v1.0/me").send().await.unwrap();
    }
    t.sim().advance_clock(Duration::from_secs(11));
    let r = t.get("/rest/v1.0/me").send().await.unwrap();
    // hourly remaining 2 < spike remaining 4
    assert_eq!(header(&r, "x-rate-limit-limit").as_deref(), Some("8"));
    assert_eq!(header(&r, "x-rate-limit-remaining").as_deref(), Some("2"));
}

#[tokio::test]
async fn request_log_records_rate_limit_headers_and_client() {
    let t = start_with(demo::world(), small()).await;
    t.sim().clear_request_log();
    t.get("/rest/v1.0/me").send().await.unwrap();
    let log = t.sim().request_log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].client_id.as_deref(), Some(demo::CLIENT_ID));
    assert_eq!(log[0].rate_limit_remaining, Some(4));
    assert_eq!(log[0].status, 200);
    let via_http: serde_json::Value = t
        .http
        .get(t.url("/_sim/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(via_http.as_array().unwrap().len(), 1);
}
