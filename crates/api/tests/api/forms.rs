use crate::{eventually, App};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;
use store::ApiScope;

const PATIENCE: Duration = Duration::from_secs(60);
const FORM: &str = "/api/v1/companies/{company_id}/forms/{id}";

fn toolbox_talk() -> Value {
    json!({"name": "Toolbox Talk", "sections": [{"title": "Talk", "fields": [
        {"key": "topic", "label": "Topic", "kind": "text", "multiline": false, "required": true},
        {"key": "ppe", "label": "PPE worn", "kind": "yes_no_na"},
        {"key": "sig", "label": "Supervisor signature", "kind": "signature", "required": true}
    ]}]})
}

#[tokio::test]
async fn a_worker_fills_signs_and_completes_a_form_and_its_pdf_and_then_its_second_version_reach_procore_documents(
) {
    let app = App::with(|c| c.sync_forms = true).await;
    let company = app.kit.company;
    let base = format!("/api/v1/companies/{company}/forms");

    // An admin defines the template; one that contradicts itself is refused, field by field.
    let bad = app
        .call(
            Method::POST,
            &format!("{base}/templates"),
            "/api/v1/companies/{company_id}/forms/templates",
            Some(&app.admin),
            Some(json!({"name": " ", "sections": [{"title": "T", "fields": [
                {"key": "a", "label": "A", "kind": "checkbox"},
                {"key": "a", "label": "Again", "kind": "choice", "options": []},
                {"key": "ppe worn", "label": "PPE", "kind": "checkbox"}]}]})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = bad.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "name",
            "sections[0].fields[1].key",
            "sections[0].fields[1].options",
            "sections[0].fields[2].key"
        ]
    );
    let template = app
        .call(
            Method::POST,
            &format!("{base}/templates"),
            "/api/v1/companies/{company_id}/forms/templates",
            Some(&app.admin),
            Some(toolbox_talk()),
        )
        .await;
    assert_eq!(template.status, StatusCode::CREATED, "{}", template.body);
    let template_id = template.body["id"].as_i64().unwrap();

    // The first sync brings the projects and workers.
    let project = eventually(PATIENCE, "a project linked to Procore", || async {
        let projects = app
            .get(
                &format!("/api/v1/companies/{company}/workforce/projects"),
                "/api/v1/companies/{company_id}/workforce/projects",
                Some(&app.admin),
            )
            .await;
        projects
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["procore_project_id"].is_i64())
            .map(|p| p["id"].as_i64().unwrap())
    })
    .await;
    let worker = app
        .kit
        .store
        .workers(company)
        .await
        .unwrap()
        .into_iter()
        .next()
        .expect("a worker");
    let phone = app
        .token(
            "site phone",
            ApiScope::Worker {
                company_id: company,
                worker_id: worker.id,
            },
        )
        .await;

    // On the phone: start, fill, sign, complete.
    let started = app
        .call(
            Method::POST,
            &base,
            "/api/v1/companies/{company_id}/forms",
            Some(&phone),
            Some(json!({"template_id": template_id, "project_id": project, "form_date": "2026-11-12"})),
        )
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    assert_eq!(started.body["state"], "draft");
    let id = started.body["id"].as_i64().unwrap();
    let path = format!("{base}/{id}");
    let tag = started.headers["etag"].to_str().unwrap().to_string();

    let wrong = app
        .call(
            Method::PATCH,
            &path,
            FORM,
            Some(&phone),
            Some(json!({"answers": {"ppe": {"type": "text", "value": "sure"}, "nope": {"type": "yes"}}})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = wrong.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["answers.nope", "answers.ppe"], "{}", wrong.body);

    let filled = app
        .call_with(
            Method::PATCH,
            &path,
            FORM,
            Some(&phone),
            &[("If-Match", &tag)],
            Some(json!({"answers": {"topic": {"type": "text", "value": "Ladders"}, "ppe": {"type": "yes"}}})),
        )
        .await;
    assert_eq!(filled.status, StatusCode::OK, "{}", filled.body);
    assert_ne!(filled.headers["etag"].to_str().unwrap(), tag);
    // The ETag read before that change is stale now.
    let stale = app
        .call_with(
            Method::PATCH,
            &path,
            FORM,
            Some(&phone),
            &[("If-Match", &tag)],
            Some(json!({"answers": {"topic": {"type": "text", "value": "Scaffolds"}}})),
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);

    let early = app
        .call(
            Method::POST,
            &format!("{path}/complete"),
            "/api/v1/companies/{company_id}/forms/{id}/complete",
            Some(&phone),
            None,
        )
        .await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(early.body["errors"][0]["field"], "signatures.sig");
    assert!(early.body["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("Supervisor signature"));

    // A drawing off the 1000 × 300 grid is refused, named, and signs nothing.
    let off_grid = app
        .call(
            Method::POST,
            &format!("{path}/signatures"),
            "/api/v1/companies/{company_id}/forms/{id}/signatures",
            Some(&phone),
            Some(json!({"field_key": "sig", "drawing": {"strokes": [[[10, 10], [1200, 40]]]}})),
        )
        .await;
    assert_eq!(off_grid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(off_grid.body["errors"][0]["field"], "drawing");
    assert!(
        off_grid.body["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("outside the drawing's 1000×300 grid"),
        "{}",
        off_grid.body
    );
    let drawing = json!({"strokes": [[[120, 200], [180, 150], [260, 210]], [[900, 250]]]});
    let signed = app
        .call(
            Method::POST,
            &format!("{path}/signatures"),
            "/api/v1/companies/{company_id}/forms/{id}/signatures",
            Some(&phone),
            Some(json!({"field_key": "sig", "signer_name": "Someone Else", "drawing": drawing})),
        )
        .await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
    assert_eq!(
        signed.body["signatures"].as_array().map(Vec::len),
        Some(1),
        "the refused drawing signed nothing"
    );
    let signer = &signed.body["signatures"][0];
    assert_eq!(signer["drawing"], drawing, "the drawing is kept as drawn");
    assert_eq!(signer["worker_id"], worker.id);
    assert_eq!(
        signer["signer_name"],
        format!("{} {}", worker.fields.first_name, worker.fields.last_name),
        "a worker token signs as its worker"
    );
    let completed = app
        .call(
            Method::POST,
            &format!("{path}/complete"),
            "/api/v1/companies/{company_id}/forms/{id}/complete",
            Some(&phone),
            None,
        )
        .await;
    assert_eq!(completed.status, StatusCode::OK, "{}", completed.body);
    assert_eq!(completed.body["revision"], 1);

    // With no command run, the PDF reaches the project's Documents.
    let in_procore = eventually(PATIENCE, "the form in Procore", || async {
        let f = app.get(&path, FORM, Some(&app.admin)).await;
        f.body["procore"]
            .is_object()
            .then(|| f.body["procore"].clone())
    })
    .await;
    assert_eq!(in_procore["revision"], 1);
    let file_id = in_procore["file_id"].as_i64().unwrap();
    // The path trestle shows is where the simulator holds the document.
    let (folder, name) = app.kit.sim().read(|w| {
        let f = &w.files[&file_id];
        (w.folder_path(f.parent_id), f.name.clone())
    });
    assert_eq!(name, "Toolbox Talk 2026-11-12.pdf");
    assert!(folder.ends_with("/2026-11"), "{folder}");
    assert_eq!(in_procore["path"], format!("{folder}/{name}"));
    let versions = || {
        app.kit
            .sim()
            .read(|w| w.files.get(&file_id).map(|f| f.versions.len()))
    };
    assert_eq!(versions(), Some(1));

    let pdf = reqwest::Client::new()
        .get(format!("{}{path}/pdf", app.server.url))
        .bearer_auth(&phone)
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), StatusCode::OK);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF"));

    // Changed after completion: revision 2, a second version of the same document.
    let changed = app
        .call(
            Method::PATCH,
            &path,
            FORM,
            Some(&app.admin),
            Some(json!({"answers": {"ppe": {"type": "no"}}})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["revision"], 2);
    eventually(PATIENCE, "the second version in Procore", || async {
        let f = app.get(&path, FORM, Some(&app.admin)).await;
        (f.body["procore"]["revision"] == 2).then_some(())
    })
    .await;
    let f = app.get(&path, FORM, Some(&app.admin)).await;
    assert_eq!(f.body["procore"]["file_id"], file_id);
    assert_eq!(versions(), Some(2));

    // A new version of the template replaces it for new forms; this form keeps its own.
    let mut revised = toolbox_talk();
    revised["name"] = json!("Toolbox Talk (2027)");
    let v2 = app
        .call(
            Method::PUT,
            &format!("{base}/templates/{template_id}"),
            "/api/v1/companies/{company_id}/forms/templates/{id}",
            Some(&app.admin),
            Some(revised.clone()),
        )
        .await;
    assert_eq!(v2.status, StatusCode::CREATED);
    let v2_id = v2.body["id"].as_i64().unwrap();
    let old = app
        .get(
            &format!("{base}/templates/{template_id}"),
            "/api/v1/companies/{company_id}/forms/templates/{id}",
            Some(&phone),
        )
        .await;
    assert_eq!(old.body["replaced_by"], v2_id);
    let again = app
        .call(
            Method::PUT,
            &format!("{base}/templates/{template_id}"),
            "/api/v1/companies/{company_id}/forms/templates/{id}",
            Some(&app.admin),
            Some(revised),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let on_old = app
        .call(
            Method::POST,
            &base,
            "/api/v1/companies/{company_id}/forms",
            Some(&phone),
            Some(json!({"template_id": template_id, "project_id": project, "form_date": "2026-11-13"})),
        )
        .await;
    assert_eq!(on_old.status, StatusCode::CONFLICT);
    assert_eq!(f.body["template_id"], template_id);
    let current = app
        .get(
            &format!("{base}/templates"),
            "/api/v1/companies/{company_id}/forms/templates",
            Some(&app.admin),
        )
        .await;
    let ids: Vec<i64> = current
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [v2_id]);

    // Who may do what: a worker token cannot define templates, nor fill another company's
    // forms; a read-only token reads but fills nothing.
    let refused = app
        .call(
            Method::POST,
            &format!("{base}/templates"),
            "/api/v1/companies/{company_id}/forms/templates",
            Some(&phone),
            Some(toolbox_talk()),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let elsewhere = app
        .get(
            "/api/v1/companies/1/forms",
            "/api/v1/companies/{company_id}/forms",
            Some(&phone),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::FORBIDDEN);
    let reader = app.token("auditor", ApiScope::ReadOnly).await;
    let listed = app
        .get(&base, "/api/v1/companies/{company_id}/forms", Some(&reader))
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    let not_allowed = app
        .call(
            Method::POST,
            &format!("{path}/complete"),
            "/api/v1/companies/{company_id}/forms/{id}/complete",
            Some(&reader),
            None,
        )
        .await;
    assert_eq!(not_allowed.status, StatusCode::FORBIDDEN);
}
