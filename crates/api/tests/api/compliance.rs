use crate::{eventually, App};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(30);

fn base(app: &App) -> String {
    format!("/api/v1/companies/{}/compliance", app.kit.company)
}

async fn list(app: &App, path: &str, template: &str) -> Vec<Value> {
    let a = app.get(path, template, Some(&app.admin)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    a.body.as_array().unwrap().clone()
}

#[tokio::test]
async fn settings_change_by_name_mapping_decisions_bring_projects_in_and_parties_show_their_compliance(
) {
    let app = App::start().await;
    let company = app.kit.company;
    let [acme, bolt] = testkit::compliance::seed(&app.kit.store, company, |name| {
        app.kit.sim().read(|w| {
            w.vendors
                .values()
                .find(|v| v.name == name)
                .map(|v| v.id)
                .unwrap()
        })
    })
    .await;
    let settings = format!("{}/settings", base(&app));
    let template = "/api/v1/companies/{company_id}/compliance/settings";

    // Settings: each wrong option named; a right one kept with the others.
    let wrong = app
        .call(
            Method::PATCH,
            &settings,
            template,
            Some(&app.admin),
            Some(json!({"new_projects": "whenever", "colour": "blue"})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = wrong.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["colour", "new_projects"]);
    let read = app.get(&settings, template, Some(&app.admin)).await;
    let before = read.body;
    let tag = read.headers["etag"].to_str().unwrap().to_string();
    let changed = app
        .call(
            Method::PATCH,
            &settings,
            template,
            Some(&app.admin),
            Some(json!({"import_companies_through_commitments": true})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["import_companies_through_commitments"], true);
    assert_eq!(changed.body["new_projects"], before["new_projects"]);
    // A change made on the settings as they were before that one is refused.
    let stale = app
        .call_with(
            Method::PATCH,
            &settings,
            template,
            Some(&app.admin),
            &[("If-Match", &tag)],
            Some(json!({"import_companies_through_commitments": false})),
        )
        .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.body
    );
    assert_eq!(
        app.get(&settings, template, Some(&app.admin)).await.body,
        changed.body
    );

    // The queued compliance sync lists the Procore projects waiting for a decision.
    let mappings = "/api/v1/companies/{company_id}/compliance/mappings";
    let harbor = app.kit.procore_project("Harbor Tower");
    let waiting = eventually(PATIENCE, "Procore projects wait for a decision", || async {
        let rows = list(
            &app,
            &format!("{}/mappings?waiting=true", base(&app)),
            mappings,
        )
        .await;
        rows.iter()
            .any(|r| r["kind"] == "project" && r["procore_id"] == harbor)
            .then_some(rows)
    })
    .await;
    assert!(
        waiting
            .iter()
            .all(|r| r["state"] == "waiting" && r["decision"] == "undecided"),
        "{waiting:?}"
    );

    let decide = "/api/v1/companies/{company_id}/compliance/mappings/{kind}/{procore_id}";
    let bad = app
        .call(
            Method::POST,
            &format!("{}/mappings/project/{harbor}", base(&app)),
            decide,
            Some(&app.admin),
            Some(json!({"decision": "link"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["errors"][0]["field"], "to");
    let unknown = app
        .call(
            Method::POST,
            &format!("{}/mappings/project/123", base(&app)),
            decide,
            Some(&app.admin),
            Some(json!({"decision": "import"})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);
    // The preview shows what importing would do, and saves nothing.
    let preview = app
        .get(
            &format!(
                "{}/mappings/project/{harbor}/preview?decision=import",
                base(&app)
            ),
            "/api/v1/companies/{company_id}/compliance/mappings/{kind}/{procore_id}/preview",
            Some(&app.admin),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let creates = preview.body["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "create_project" && a["procore_id"] == harbor)
        .unwrap_or_else(|| panic!("{}", preview.body));
    assert!(
        creates["why"].as_str().is_some_and(|w| !w.is_empty()),
        "{creates}"
    );
    let still = list(
        &app,
        &format!("{}/mappings?waiting=true&kind=project", base(&app)),
        mappings,
    )
    .await;
    assert!(still.iter().any(|r| r["procore_id"] == harbor), "{still:?}");
    let imported = app
        .call(
            Method::POST,
            &format!("{}/mappings/project/{harbor}", base(&app)),
            decide,
            Some(&app.admin),
            Some(json!({"decision": "import"})),
        )
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    let projects = "/api/v1/companies/{company_id}/compliance/projects";
    let project = eventually(PATIENCE, "Harbor Tower imported", || async {
        list(&app, &format!("{}/projects", base(&app)), projects)
            .await
            .into_iter()
            .find(|p| p["procore_project_id"] == harbor)
    })
    .await;
    assert_eq!(project["name"], "Harbor Tower");

    // Parties with their compliance: Acme's certificate meets its profile, Bolt has none; by
    // a day after Acme's policies end, Acme lapses too.
    let parties = "/api/v1/companies/{company_id}/compliance/parties";
    let today = list(&app, &format!("{}/parties", base(&app)), parties).await;
    let status = |rows: &[Value], id: i64| {
        rows.iter()
            .find(|p| p["id"] == id)
            .map(|p| p["status"].clone())
            .unwrap()
    };
    assert_eq!(status(&today, acme.0), json!("compliant"), "{today:?}");
    assert_eq!(status(&today, bolt.0), json!("non_compliant"));
    let later = list(
        &app,
        &format!("{}/parties?on=2028-06-01", base(&app)),
        parties,
    )
    .await;
    assert_eq!(status(&later, acme.0), json!("non_compliant"));
    // One party's compliance with the reason for each requirement.
    let bolt_status = app
        .get(
            &format!("{}/parties/{}", base(&app), bolt.0),
            "/api/v1/companies/{company_id}/compliance/parties/{id}",
            Some(&app.admin),
        )
        .await;
    assert_eq!(bolt_status.status, StatusCode::OK, "{}", bolt_status.body);
    let global = &bolt_status.body["global"];
    assert_eq!(global["status"], "non_compliant");
    let requirement = &global["requirements"][0];
    assert_eq!(requirement["status"], "non-compliant", "{global}");
    assert!(requirement["reason"].is_string(), "{global}");
    // Its contacts, and the associations its commitments made.
    let contacts = list(
        &app,
        &format!("{}/parties/{}/contacts", base(&app), bolt.0),
        "/api/v1/companies/{company_id}/compliance/parties/{id}/contacts",
    )
    .await;
    assert!(
        contacts.iter().all(|c| c["party_id"] == bolt.0),
        "{contacts:?}"
    );
    let associations = list(
        &app,
        &format!("{}/associations?project_id={}", base(&app), project["id"]),
        "/api/v1/companies/{company_id}/compliance/associations",
    )
    .await;
    assert!(
        !associations.is_empty(),
        "Harbor Tower's commitments make associations"
    );
    assert!(
        associations
            .iter()
            .all(|a| a["project_id"] == project["id"] && a["project_name"] == "Harbor Tower"),
        "{associations:?}"
    );
    let missing = app
        .get(
            &format!("{}/parties/987654", base(&app)),
            "/api/v1/companies/{company_id}/compliance/parties/{id}",
            Some(&app.admin),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let garbled = app
        .get(
            &format!("{}/parties?on=soon", base(&app)),
            parties,
            Some(&app.admin),
        )
        .await;
    assert_eq!(garbled.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(garbled.body["errors"][0]["field"], "on");
}
