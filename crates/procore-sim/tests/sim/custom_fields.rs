//! `GET /rest/v2.0/companies/{company_id}/custom_field_definitions`: an operation beyond the
//! OpenAPI subset (see `operations_beyond_the_subset`), so its shape is checked here.

use procore_sim::demo;
use procore_sim::world::{Level, Permissions};
use serde_json::Value;

use crate::helpers::*;

fn path() -> String {
    format!(
        "/rest/v2.0/companies/{}/custom_field_definitions",
        demo::COMPANY_ID
    )
}

#[tokio::test]
async fn custom_field_definitions_are_listed_in_a_data_envelope_with_string_ids_and_labels() {
    let t = start().await;
    let def = t.sim().read(|w| {
        w.custom_field_definitions
            .values()
            .find(|d| d.label == demo::COMPLIANCE_PROFILE_FIELD)
            .map(|d| d.id)
            .unwrap()
    });
    let (s, v) = t.json(t.get(&path())).await;
    assert_eq!(s, 200, "{v}");
    let data = v["data"].as_array().expect("a data array");
    let item = data
        .iter()
        .find(|d| d["id"] == Value::String(def.to_string()))
        .expect("the demo's definition");
    assert_eq!(item["label"], demo::COMPLIANCE_PROFILE_FIELD);
    assert_eq!(item["data_type"], "string");
    assert_eq!(item["active"], true);
    assert_eq!(item["company_id"], demo::COMPANY_ID.to_string());

    let (_, v) = t
        .json(t.get(&format!("{}?filters[with_label]=compliance", path())))
        .await;
    assert_eq!(v["data"].as_array().unwrap().len(), 1, "label contains");
    let (_, v) = t
        .json(t.get(&format!("{}?filters[with_label]=nothing+like+it", path())))
        .await;
    assert!(v["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn custom_field_definitions_need_read_access_to_commitments_and_the_right_company() {
    let t = start().await;
    let (s, _) = t
        .json(t.get("/rest/v2.0/companies/999/custom_field_definitions"))
        .await;
    assert!(s == 403 || s == 404, "another company: {s}");
    let perms = Permissions {
        commitments: Level::None,
        ..Permissions::default()
    };
    let r = t
        .http
        .put(t.url(&format!(
            "/_sim/apps/{}/companies/{}/permissions",
            demo::CLIENT_ID,
            demo::COMPANY_ID
        )))
        .json(&perms)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (s, _) = t.json(t.get(&path())).await;
    assert_eq!(s, 403);
}
