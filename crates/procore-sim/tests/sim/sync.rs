use procore_sim::demo;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn insurance_sync_creates_then_updates_by_origin_id_without_duplicates() {
    let t = start().await;
    let acme = t.vendor("Acme Electric");
    let path = format!(
        "/rest/v1.0/companies/{}/vendors/{acme}/insurances/sync",
        demo::COMPANY_ID
    );
    let body = |status: &str| json!({"updates": [{"origin_id": "tl-42", "insurance_type": "Auto", "name": "Roadway Mutual", "status": status, "limit": "500000.0"}]});
    let (s, v) = t.json(t.patch(&path).json(&body("non_compliant"))).await;
    assert_eq!(s, 200);
    assert_eq!(v["entities"][0]["insurance_provider"], "Roadway Mutual");
    let id = v["entities"][0]["id"].as_i64().unwrap();
    let (s, v) = t.json(t.patch(&path).json(&body("compliant"))).await;
    assert_eq!(s, 200);
    assert_eq!(v["entities"][0]["id"], id);
    assert_eq!(v["entities"][0]["status"], "compliant");
    let n = t.sim().read(|w| {
        w.insurances
            .values()
            .filter(|i| i.origin_id.as_deref() == Some("tl-42"))
            .count()
    });
    assert_eq!(n, 1);
}

#[tokio::test]
async fn sync_item_with_unknown_id_is_an_error_and_the_call_is_still_200() {
    let t = start().await;
    let path = format!("/rest/v1.0/companies/{}/insurances/sync", demo::COMPANY_ID);
    let (s, v) = t
        .json(
            t.patch(&path)
                .json(&json!({"updates": [{"id": 1, "status": "compliant"}]})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["entities"].as_array().unwrap().len(), 0);
    assert!(v["errors"][0]["errors"]["id"].is_array());
}

#[tokio::test]
async fn sync_rejects_more_than_1000_items() {
    let t = start().await;
    let items: Vec<_> = (0..1001)
        .map(|i| json!({"origin_id": format!("o{i}")}))
        .collect();
    let (s, _) = t
        .json(
            t.patch("/rest/v1.0/vendors/sync")
                .query(&[("company_id", demo::COMPANY_ID)])
                .json(&json!({"updates": items})),
        )
        .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn insurance_crud_uses_name_for_the_provider_in_requests() {
    let t = start().await;
    let pid = t.project("Harbor Tower");
    let acme = t.vendor("Acme Electric");
    let base = format!("/rest/v1.0/projects/{pid}/vendors/{acme}/insurances");
    let (s, v) = t.json(t.post(&base).json(&json!({"insurance": {"name": "P Ins", "insurance_type": "GL", "expiration_date": "2027-01-01"}}))).await;
    assert_eq!(s, 201);
    assert_eq!(v["insurance_provider"], "P Ins");
    assert_eq!(v["enable_expired_insurance_notifications"], true);
    let id = v["id"].as_i64().unwrap();
    let (s, v) = t
        .json(
            t.patch(&format!("{base}/{id}"))
                .json(&json!({"insurance": {"status": "expired"}})),
        )
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("expired")));
    let (_, list) = t
        .json(t.get(&format!("/rest/v1.0/projects/{pid}/insurances")))
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let r = t
        .auth(t.http.delete(t.url(&format!("{base}/{id}"))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(t.json(t.get(&format!("{base}/{id}"))).await.0, 404);
}

#[tokio::test]
async fn commitment_filters_by_status_and_only_the_v2_view_carries_custom_fields() {
    let t = start().await;
    let pid = t.project("Harbor Tower");
    let (_, v) = t
        .json(t.get(&format!(
            "/rest/v1.0/work_order_contracts?project_id={pid}&filters[status]=Out%20For%20Bid"
        )))
        .await;
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["status"], "Out For Bid");
    assert!(list[0]["vendor"]["company"].is_string());
    // Procore's v1.0 commitment schema documents no `custom_fields`; the v2.0 extended view
    // carries them.
    assert!(list[0].get("custom_fields").is_none());
    let c = demo::COMPANY_ID;
    let (_, v2) = t
        .json(t.get(&format!(
            "/rest/v2.0/companies/{c}/projects/{pid}/commitment_contracts?view=extended"
        )))
        .await;
    assert!(v2["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["custom_fields"].as_object())
        .flat_map(|f| f.values())
        .any(|f| f["value"] == "High Risk Trade"));
}

#[tokio::test]
async fn an_insurance_sync_body_over_the_limit_is_refused_whole_with_413_at_every_scope() {
    let t = start().await;
    let acme = t.vendor("Acme Electric");
    let harbor = t.project("Harbor Tower");
    let c = demo::COMPANY_ID;
    let huge = "x".repeat(procore_sim::MAX_INSURANCE_SYNC_BODY);
    let body = json!({"updates": [
        {"origin_id": "small", "vendor_id": acme, "company_id": c, "insurance_type": "Auto"},
        {"origin_id": "large", "vendor_id": acme, "company_id": c, "notes": huge},
    ]});
    for path in [
        format!("/rest/v1.0/companies/{c}/vendors/{acme}/insurances/sync"),
        format!("/rest/v1.0/projects/{harbor}/vendors/{acme}/insurances/sync"),
        format!("/rest/v1.0/companies/{c}/insurances/sync"),
        format!("/rest/v1.0/projects/{harbor}/insurances/sync"),
        "/rest/v1.0/insurances/sync".to_string(),
    ] {
        let (s, v) = t.json(t.patch(&path).json(&body)).await;
        assert_eq!(s, 413, "{path}: {v}");
        assert!(
            v["errors"]["base"][0]
                .as_str()
                .is_some_and(|m| m.contains("too large")),
            "{v}"
        );
    }
    let written = t.sim().read(|w| {
        w.insurances
            .values()
            .filter(|i| i.origin_id.as_deref() == Some("small"))
            .count()
    });
    assert_eq!(written, 0, "nothing of a refused call is written");
}

#[tokio::test]
async fn a_global_insurance_sync_item_that_is_not_an_object_is_refused_alone() {
    let t = start().await;
    let acme = t.vendor("Acme Electric");
    let (s, v) = t
        .json(t.patch("/rest/v1.0/insurances/sync").json(&json!({"updates": [
            5,
            "text",
            null,
            {"company_id": demo::COMPANY_ID, "vendor_id": acme, "origin_id": "ok-1", "insurance_type": "Auto", "status": "compliant"}
        ]})))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["entities"].as_array().unwrap().len(), 1, "{v}");
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 3, "{v}");
    assert!(errors
        .iter()
        .all(|e| e["errors"]["base"][0] == "must be an object"));
}
