use procore_sim::demo;
use procore_sim::world::{Level, Permissions};
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn unpermitted_project_is_absent_from_lists_and_404_on_direct_read() {
    let t = start().await;
    let secret = t.project(demo::UNPERMITTED_PROJECT_NAME);
    let (_, v) = t
        .json(t.get(&format!(
            "/rest/v1.0/projects?company_id={}&filters[by_status]=All",
            demo::COMPANY_ID
        )))
        .await;
    assert!(v.as_array().unwrap().iter().all(|p| p["id"] != secret));
    assert_eq!(
        t.json(t.get(&format!(
            "/rest/v1.0/projects/{secret}?company_id={}",
            demo::COMPANY_ID
        )))
        .await
        .0,
        404
    );
    assert_eq!(
        t.json(t.get(&format!(
            "/rest/v1.0/work_order_contracts?project_id={secret}"
        )))
        .await
        .0,
        404
    );
    assert_eq!(
        t.json(t.get(&format!("/rest/v1.0/folders?project_id={secret}")))
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn default_project_list_is_active_only() {
    let t = start().await;
    let (_, v) = t
        .json(t.get(&format!(
            "/rest/v1.0/projects?company_id={}",
            demo::COMPANY_ID
        )))
        .await;
    assert!(v.as_array().unwrap().iter().all(|p| p["active"] == true));
    let (_, inactive) = t
        .json(t.get(&format!(
            "/rest/v1.0/projects?company_id={}&filters[by_status]=Inactive",
            demo::COMPANY_ID
        )))
        .await;
    assert_eq!(inactive.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn withheld_documents_write_gives_403_on_folder_create_but_reads_still_work() {
    let t = start().await;
    let pid = t.project("Harbor Tower");
    let perms = Permissions {
        documents: Level::ReadOnly,
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
    let (s, v) = t
        .json(
            t.post(&format!("/rest/v1.0/folders?project_id={pid}"))
                .json(&json!({"folder": {"name": "X"}})),
        )
        .await;
    assert_eq!(s, 403);
    assert_eq!(v["reason"], "forbidden");
    assert_eq!(
        t.json(t.get(&format!("/rest/v1.0/folders?project_id={pid}")))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn new_projects_are_permitted_when_add_to_all_new_projects_is_on() {
    let t = start().await;
    let r = t
        .http
        .post(t.url(&format!("/_sim/companies/{}/projects", demo::COMPANY_ID)))
        .json(&json!({"name": "Fresh Site", "project_number": "FS-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert_eq!(
        t.json(t.get(&format!("/rest/v1.0/projects/{id}"))).await.0,
        200
    );
    // Turn the flag off and remove it: now invisible.
    t.http
        .put(t.url(&format!(
            "/_sim/apps/{}/companies/{}/projects",
            demo::CLIENT_ID,
            demo::COMPANY_ID
        )))
        .json(&json!({"project_ids": [], "add_to_all_new_projects": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        t.json(t.get(&format!("/rest/v1.0/projects/{id}"))).await.0,
        404
    );
}

#[tokio::test]
async fn a_malformed_or_overflowing_path_id_is_a_json_404_even_without_a_token() {
    let t = start().await;
    for id in ["abc", "99999999999999999999999", "-"] {
        let path = format!("/rest/v1.0/projects/{id}?company_id={}", demo::COMPANY_ID);
        for request in [t.get(&path), t.http.get(t.url(&path))] {
            let (status, body) = t.json(request).await;
            assert_eq!(status, 404, "{id}: {body}");
            assert!(body.is_object(), "{id}: a JSON error body, not {body}");
        }
    }
}
