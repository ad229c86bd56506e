//! The routes SDKs list the same data through: a project's directory (users and vendors), the
//! combined commitments list, the company's project list and project stages, v1.0 webhook
//! resources, company users at v1.1, a project's documents index and company uploads.

use procore_sim::demo;
use procore_sim::world::{Level, Permissions};
use serde_json::Value;

use crate::helpers::*;

fn ids(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap_or_else(|| panic!("a JSON array, not {v}"))
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

fn user_named(t: &T, first: &str) -> i64 {
    t.sim().read(|w| {
        w.users
            .values()
            .find(|u| u.first_name.as_deref() == Some(first))
            .map(|u| u.id)
            .unwrap()
    })
}

fn set_permissions(t: &T, perms: Permissions) {
    t.sim().write(|w| {
        w.apps
            .get_mut(demo::CLIENT_ID)
            .and_then(|a| a.installations.get_mut(&demo::COMPANY_ID))
            .unwrap()
            .permissions = perms;
    });
}

#[tokio::test]
async fn a_project_directory_lists_only_the_users_and_vendors_added_to_that_project() {
    let t = start().await;
    for name in ["Harbor Tower", "Riverside Clinic"] {
        let pid = t.project(name);
        let (want_users, want_vendors) = t.sim().read(|w| {
            let d = w.project_directories[&pid].clone();
            (
                d.users.into_iter().collect::<Vec<_>>(),
                d.vendors.into_iter().collect::<Vec<_>>(),
            )
        });
        let (s, users) = t
            .json(t.get(&format!("/rest/v1.0/projects/{pid}/users")))
            .await;
        assert_eq!(s, 200, "{users}");
        assert_eq!(ids(&users), want_users, "{name}");
        let (s, vendors) = t
            .json(t.get(&format!("/rest/v1.0/projects/{pid}/vendors")))
            .await;
        assert_eq!(s, 200, "{vendors}");
        assert_eq!(ids(&vendors), want_vendors, "{name}");
    }
    // Harbor Tower's directory is more than the executive; Riverside Clinic's is not.
    let harbor = t.project("Harbor Tower");
    assert!(t.sim().read(|w| w.project_directories[&harbor].users.len()) > 1);
}

#[tokio::test]
async fn a_user_or_vendor_not_on_the_project_reads_as_absent() {
    let t = start().await;
    let harbor = t.project("Harbor Tower");
    let riverside = t.project("Riverside Clinic");
    let morgan = user_named(&t, "Morgan");
    let acme = t.vendor("Acme Electric");
    let (s, u) = t
        .json(t.get(&format!("/rest/v1.0/projects/{harbor}/users/{morgan}")))
        .await;
    assert_eq!((s, u["id"].as_i64()), (200, Some(morgan)), "{u}");
    let (s, v) = t
        .json(t.get(&format!("/rest/v1.0/projects/{harbor}/vendors/{acme}")))
        .await;
    assert_eq!((s, v["name"].as_str()), (200, Some("Acme Electric")), "{v}");
    for path in [
        format!("/rest/v1.0/projects/{riverside}/users/{morgan}"),
        format!("/rest/v1.0/projects/{riverside}/vendors/{acme}"),
    ] {
        let (s, body) = t.json(t.get(&path)).await;
        assert_eq!(s, 404, "{path}: {body}");
        assert_eq!(body["error"]["code"], "not_found", "{path}: {body}");
    }
}

#[tokio::test]
async fn the_new_project_routes_answer_404_for_a_project_the_app_may_not_see() {
    let t = start().await;
    let secret = t.project(demo::UNPERMITTED_PROJECT_NAME);
    let admin = user_named(&t, "Pat");
    for path in [
        format!("/rest/v1.0/projects/{secret}/users"),
        format!("/rest/v1.0/projects/{secret}/users/{admin}"),
        format!("/rest/v1.0/projects/{secret}/vendors"),
        format!("/rest/v1.0/projects/{secret}/documents"),
        format!("/rest/v1.0/commitments?project_id={secret}"),
        format!("/rest/v1.0/webhooks/resources?project_id={secret}"),
        format!(
            "/rest/v1.0/companies/{}/project_stages?project_id={secret}",
            demo::COMPANY_ID
        ),
    ] {
        let (s, body) = t.json(t.get(&path)).await;
        assert_eq!(s, 404, "{path}: {body}");
    }
    let (_, list) = t
        .json(t.get(&format!(
            "/rest/v1.0/companies/{}/projects",
            demo::COMPANY_ID
        )))
        .await;
    assert!(!ids(&list).contains(&secret));
}

#[tokio::test]
async fn the_new_routes_refuse_a_missing_token_with_procores_401() {
    let t = start().await;
    let pid = t.project("Harbor Tower");
    let cid = demo::COMPANY_ID;
    for path in [
        format!("/rest/v1.0/projects/{pid}/users"),
        format!("/rest/v1.0/projects/{pid}/vendors"),
        format!("/rest/v1.0/projects/{pid}/documents"),
        format!("/rest/v1.0/commitments?project_id={pid}"),
        format!("/rest/v1.0/companies/{cid}/projects"),
        format!("/rest/v1.0/companies/{cid}/project_stages"),
        format!("/rest/v1.0/webhooks/resources?project_id={pid}"),
        format!("/rest/v1.0/webhooks/resources/api_versions?project_id={pid}"),
        format!("/rest/v1.1/companies/{cid}/users"),
    ] {
        let r = t
            .http
            .get(t.url(&path))
            .header("Procore-Company-Id", cid.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "invalid_token", "{path}: {body}");
    }
}

#[tokio::test]
async fn the_directory_and_documents_routes_need_read_access_to_their_tools() {
    let t = start().await;
    let pid = t.project("Harbor Tower");
    set_permissions(
        &t,
        Permissions {
            directory: Level::None,
            documents: Level::None,
            commitments: Level::None,
            ..Permissions::default()
        },
    );
    for path in [
        format!("/rest/v1.0/projects/{pid}/users"),
        format!("/rest/v1.0/projects/{pid}/vendors"),
        format!("/rest/v1.0/projects/{pid}/documents"),
        format!("/rest/v1.0/commitments?project_id={pid}"),
        format!("/rest/v1.1/companies/{}/users", demo::COMPANY_ID),
    ] {
        let (s, body) = t.json(t.get(&path)).await;
        assert_eq!(s, 403, "{path}: {body}");
        assert_eq!(body["reason"], "forbidden", "{path}: {body}");
    }
    // Read-only is enough.
    set_permissions(
        &t,
        Permissions {
            directory: Level::ReadOnly,
            ..Permissions::default()
        },
    );
    assert_eq!(
        t.json(t.get(&format!("/rest/v1.0/projects/{pid}/users")))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn project_users_page_with_v1_headers_and_filter_by_vendor_and_search() {
    let t = start().await;
    let pid = t.project("Harbor Tower");
    let total = t.sim().read(|w| w.project_directories[&pid].users.len());
    let r = t
        .get(&format!(
            "/rest/v1.0/projects/{pid}/users?per_page=2&page=2"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "Total"), Some(total.to_string()));
    assert_eq!(header(&r, "Per-Page").as_deref(), Some("2"));
    // Page 2 links back to the first page, as Procore's v1 paging does.
    assert!(header(&r, "Link").unwrap().contains("rel=\"first\""));
    assert_eq!(
        r.json::<Value>().await.unwrap().as_array().unwrap().len(),
        2
    );

    let acme = t.vendor("Acme Electric");
    let (_, of_acme) = t
        .json(t.get(&format!(
            "/rest/v1.0/projects/{pid}/users?filters[vendor_id][]={acme}"
        )))
        .await;
    let of_acme = of_acme.as_array().unwrap().clone();
    assert!(!of_acme.is_empty());
    assert!(of_acme.iter().all(|u| u["vendor"]["id"] == acme));
    let (_, found) = t
        .json(t.get(&format!(
            "/rest/v1.0/projects/{pid}/users?filters[search]=okafor"
        )))
        .await;
    assert_eq!(ids(&found), vec![user_named(&t, "Bea")]);
    let (_, vendors) = t
        .json(t.get(&format!(
            "/rest/v1.0/projects/{pid}/vendors?filters[search]=drywall&view=compact"
        )))
        .await;
    assert_eq!(ids(&vendors), vec![t.vendor("Delta Drywall")]);
}

#[tokio::test]
async fn a_seed_without_project_directories_loads_with_empty_ones() {
    let mut state = procore_sim::Sim::new(demo::world(), no_limits()).state_json();
    state.as_object_mut().unwrap().remove("project_directories");
    let world = procore_sim::seed::from_json(state.to_string().as_bytes()).unwrap();
    assert!(world.project_directories.is_empty());
    let t = start_with(world, no_limits()).await;
    let pid = t.project("Harbor Tower");
    let (s, users) = t
        .json(t.get(&format!("/rest/v1.0/projects/{pid}/users")))
        .await;
    assert_eq!((s, users), (200, serde_json::json!([])));
}

#[tokio::test]
async fn the_commitments_list_holds_both_kinds_and_a_commitment_shows_its_type() {
    let t = start().await;
    let pid = t.project("Harbor Tower");
    let (s, list) = t
        .json(t.get(&format!(
            "/rest/v1.0/commitments?project_id={pid}&per_page=100"
        )))
        .await;
    assert_eq!(s, 200, "{list}");
    let items = list.as_array().unwrap();
    // The documented item has no `type`, so the kinds are told apart by the simulator's records.
    let listed: std::collections::BTreeSet<i64> =
        items.iter().map(|c| c["id"].as_i64().unwrap()).collect();
    let (live, kinds) = t.sim().read(|w| {
        let live: Vec<_> = w
            .commitments
            .values()
            .filter(|c| c.project_id == pid && c.deleted_at.is_none())
            .collect();
        let kinds: std::collections::BTreeSet<String> = live
            .iter()
            .filter(|c| listed.contains(&c.id))
            .map(|c| format!("{:?}", c.kind))
            .collect();
        (
            live.iter()
                .map(|c| c.id)
                .collect::<std::collections::BTreeSet<_>>(),
            kinds,
        )
    });
    assert_eq!(listed, live);
    assert_eq!(kinds.len(), 2, "both kinds are listed: {kinds:?}");
    assert!(
        items.iter().all(|c| c.get("type").is_none()),
        "undocumented `type` is not sent"
    );
    assert!(items
        .iter()
        .all(|c| c["vendor"].is_null() || c["vendor"]["name"].is_string()));
    let first = items[0]["id"].as_i64().unwrap();
    let (s, one) = t
        .json(t.get(&format!("/rest/v1.0/commitments/{first}?project_id={pid}")))
        .await;
    assert_eq!((s, one["id"].as_i64()), (200, Some(first)));
    assert!(
        matches!(
            one["type"].as_str(),
            Some("WorkOrderContract" | "PurchaseOrderContract")
        ),
        "{one}"
    );
    // Another project's commitment is not this project's.
    let riverside = t.project("Riverside Clinic");
    assert_eq!(
        t.json(t.get(&format!(
            "/rest/v1.0/commitments/{first}?project_id={riverside}"
        )))
        .await
        .0,
        404
    );
    let (s, missing) = t.json(t.get("/rest/v1.0/commitments")).await;
    assert_eq!(s, 400, "project_id is required: {missing}");
}

#[tokio::test]
async fn the_company_project_list_has_every_permitted_project_with_its_status() {
    let t = start().await;
    let (s, list) = t
        .json(t.get(&format!(
            "/rest/v1.0/companies/{}/projects",
            demo::COMPANY_ID
        )))
        .await;
    assert_eq!(s, 200, "{list}");
    let permitted = t.sim().read(|w| {
        w.apps[demo::CLIENT_ID].installations[&demo::COMPANY_ID]
            .permitted_projects
            .iter()
            .copied()
            .collect::<Vec<_>>()
    });
    assert_eq!(ids(&list), permitted);
    let items = list.as_array().unwrap();
    assert!(items.iter().any(|p| p["status_name"] == "Inactive"));
    let harbor = items.iter().find(|p| p["name"] == "Harbor Tower").unwrap();
    assert_eq!(harbor["status_name"], "Active");
    assert_eq!(harbor["address"]["city"], "Denver");
    assert_eq!(harbor["stage_name"], "Course of Construction");
    // Another company's list is not this app's to read.
    let (s, _) = t.json(t.get("/rest/v1.0/companies/1/projects")).await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn project_stages_are_procores_defaults_and_a_project_narrows_them_to_its_own() {
    let t = start().await;
    let cid = demo::COMPANY_ID;
    let (s, all) = t
        .json(t.get(&format!("/rest/v1.0/companies/{cid}/project_stages")))
        .await;
    assert_eq!(s, 200, "{all}");
    let names: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Pre-Construction",
            "Course of Construction",
            "Post-Construction",
            "Completed",
            "Not Awarded",
            "Canceled"
        ]
    );
    // The stage id a project carries names a stage the show route knows.
    let pid = t.project("Harbor Tower");
    let (_, project) = t.json(t.get(&format!("/rest/v1.0/projects/{pid}"))).await;
    let stage_id = project["project_stage"]["id"].as_i64().unwrap();
    let (s, stage) = t
        .json(t.get(&format!(
            "/rest/v1.0/companies/{cid}/project_stages/{stage_id}"
        )))
        .await;
    assert_eq!(
        (s, stage["name"].as_str()),
        (200, Some("Course of Construction"))
    );
    assert_eq!(stage["category"], "course_of_construction");
    let (_, narrowed) = t
        .json(t.get(&format!(
            "/rest/v1.0/companies/{cid}/project_stages?project_id={pid}"
        )))
        .await;
    assert_eq!(ids(&narrowed), vec![stage_id]);
    let (s, _) = t
        .json(t.get(&format!("/rest/v1.0/companies/{cid}/project_stages/999999")))
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn v1_webhook_resources_in_a_project_scope_leave_out_company_resources() {
    let t = start().await;
    let pid = t.project("Harbor Tower");
    let (s, project) = t
        .json(t.get(&format!(
            "/rest/v1.0/webhooks/resources?project_id={pid}&api_version=v2"
        )))
        .await;
    assert_eq!(s, 200, "{project}");
    let tools: Vec<&str> = project
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["tools"].as_str().unwrap())
        .collect();
    assert!(tools.contains(&"Projects"));
    assert!(!tools.contains(&"Company Vendors"));
    let (_, company) = t
        .json(t.get(&format!(
            "/rest/v1.0/webhooks/resources?company_id={}&api_version=v2",
            demo::COMPANY_ID
        )))
        .await;
    assert!(company
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["tools"] == "Company Vendors"));
    let (s, versions) = t
        .json(t.get(&format!(
            "/rest/v1.0/webhooks/resources/api_versions?project_id={pid}"
        )))
        .await;
    assert_eq!(s, 200);
    assert!(versions.as_array().unwrap().contains(&"v2".into()));
    let (s, _) = t.json(t.get("/rest/v1.0/webhooks/resources")).await;
    assert_eq!(s, 400, "a scope is required");
}

#[tokio::test]
async fn v1_1_company_users_carry_every_documented_field_and_sort_by_email() {
    let t = start().await;
    let cid = demo::COMPANY_ID;
    let (s, users) = t
        .json(t.get(&format!(
            "/rest/v1.1/companies/{cid}/users?sort=email&per_page=100"
        )))
        .await;
    assert_eq!(s, 200, "{users}");
    let items = users.as_array().unwrap();
    let active = t.sim().read(|w| {
        w.users
            .values()
            .filter(|u| u.company_id == cid && u.is_active)
            .count()
    });
    assert_eq!(items.len(), active);
    for u in items {
        let o = u.as_object().unwrap();
        assert_eq!(o.len(), 36, "every documented field, no other: {u}");
        assert!(o.contains_key("permission_template") && o["avatar"].is_null());
    }
    let emails: Vec<String> = items
        .iter()
        .map(|u| u["email_address"].as_str().unwrap_or("").to_lowercase())
        .collect();
    let mut sorted = emails.clone();
    sorted.sort();
    assert_eq!(emails, sorted);
}

#[tokio::test]
async fn the_documents_index_lists_a_projects_folders_and_files_and_filters_them() {
    let t = start().await;
    let pid = t.project("Harbor Tower");
    let base = format!("/rest/v1.0/projects/{pid}/documents");
    let (s, all) = t.json(t.get(&base)).await;
    assert_eq!(s, 200, "{all}");
    let all = all.as_array().unwrap().clone();
    let drawings = all.iter().find(|d| d["name"] == "Drawings").unwrap();
    let plan = all.iter().find(|d| d["name"] == "Site Plan.pdf").unwrap();
    assert_eq!(drawings["document_type"], "folder");
    assert_eq!(plan["document_type"], "file");
    assert_eq!(plan["parent_id"], drawings["id"]);
    assert_eq!(plan["name_with_path"], "Drawings/Site Plan.pdf");
    assert_eq!(plan["file"]["file_type"], "pdf");
    assert!(plan["file"]["current_version"]["url"].is_string());
    assert_eq!(drawings["children"]["has_children_files"], true);
    assert!(all.iter().all(|d| d["name"] != "Root Folder"));

    let (_, files) = t
        .json(t.get(&format!("{base}?filters[document_type]=file")))
        .await;
    assert!(files
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["document_type"] == "file"));
    let (_, under) = t
        .json(t.get(&format!(
            "{base}?filters[folder_id]={}&sort=-document_type",
            drawings["id"]
        )))
        .await;
    assert_eq!(
        ids(&under),
        vec![
            drawings["id"].as_i64().unwrap(),
            plan["id"].as_i64().unwrap()
        ]
    );

    // A deleted file leaves the index unless the recycle bin is asked for.
    let plan_id = plan["id"].as_i64().unwrap();
    let (s, _) = t
        .json(
            t.auth(
                t.http
                    .delete(t.url(&format!("/rest/v1.0/files/{plan_id}?project_id={pid}"))),
            ),
        )
        .await;
    assert_eq!(s, 200);
    let (_, live) = t
        .json(t.get(&format!("{base}?filters[is_in_recycle_bin]=false")))
        .await;
    assert!(!ids(&live).contains(&plan_id));
    let (_, binned) = t
        .json(t.get(&format!("{base}?filters[is_in_recycle_bin]=true")))
        .await;
    assert_eq!(ids(&binned), vec![plan_id]);
}

#[tokio::test]
async fn the_admin_api_sets_a_project_directory_that_the_rest_api_then_lists() {
    let t = start().await;
    let cid = demo::COMPANY_ID;
    let pid = t.project("Riverside Clinic");
    let morgan = user_named(&t, "Morgan");
    let delta = t.vendor("Delta Drywall");
    let admin = format!("/_sim/companies/{cid}/projects/{pid}/directory");
    let r = t
        .http
        .put(t.url(&admin))
        .json(&serde_json::json!({"users": [morgan], "vendors": [delta]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (_, users) = t
        .json(t.get(&format!("/rest/v1.0/projects/{pid}/users")))
        .await;
    assert_eq!(ids(&users), vec![morgan]);
    let (_, vendors) = t
        .json(t.get(&format!("/rest/v1.0/projects/{pid}/vendors")))
        .await;
    assert_eq!(ids(&vendors), vec![delta]);
    // Someone of another company cannot be added.
    let r = t
        .http
        .put(t.url(&admin))
        .json(&serde_json::json!({"users": [123]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let shown: Value = t
        .http
        .get(t.url(&admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["users"], serde_json::json!([morgan]));
}

#[tokio::test]
async fn a_company_upload_taken_as_multipart_backs_a_project_file() {
    let t = start().await;
    let cid = demo::COMPANY_ID;
    let form = reqwest::multipart::Form::new()
        .text("response_filename", "handbook.pdf")
        .text("response_content_type", "application/pdf");
    let (s, upload) = t
        .json(
            t.post(&format!("/rest/v1.1/companies/{cid}/uploads"))
                .multipart(form),
        )
        .await;
    assert_eq!(s, 201, "{upload}");
    let uuid = upload["uuid"].as_str().unwrap().to_owned();
    let mut bucket = reqwest::multipart::Form::new();
    for (k, v) in upload["fields"].as_object().unwrap() {
        bucket = bucket.text(k.clone(), v.as_str().unwrap().to_owned());
    }
    bucket = bucket.part(
        "file",
        reqwest::multipart::Part::bytes(b"%PDF-1.4 handbook".to_vec()).file_name("handbook.pdf"),
    );
    let stored = t
        .http
        .post(upload["url"].as_str().unwrap())
        .multipart(bucket)
        .send()
        .await
        .unwrap();
    assert!(stored.status().is_success());
    let item = format!("/rest/v1.1/companies/{cid}/uploads/{uuid}");
    let (s, shown) = t.json(t.get(&item)).await;
    assert_eq!(
        (s, shown["status"].as_str()),
        (200, Some("complete")),
        "{shown}"
    );

    let pid = t.project("Harbor Tower");
    let (s, file) = t
        .json(
            t.post(&format!("/rest/v1.0/files?project_id={pid}"))
                .json(&serde_json::json!({"file": {"name": "handbook.pdf", "upload_uuid": uuid}})),
        )
        .await;
    assert_eq!(s, 201, "{file}");
    assert_eq!(file["size"], 17);

    // A project's upload is not the company's.
    let (_, project_upload) = t
        .json(
            t.post(&format!("/rest/v1.1/projects/{pid}/uploads"))
                .json(&serde_json::json!({"response_filename": "p.pdf"})),
        )
        .await;
    let (s, _) = t
        .json(t.get(&format!(
            "/rest/v1.1/companies/{cid}/uploads/{}",
            project_upload["uuid"].as_str().unwrap()
        )))
        .await;
    assert_eq!(s, 404);
    let (s, body) = t
        .json(
            t.post(&format!("/rest/v1.1/companies/{cid}/uploads"))
                .json(&serde_json::json!({})),
        )
        .await;
    assert_eq!(s, 422, "a filename is required: {body}");
}
