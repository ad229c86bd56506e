//! The workforce seed as a Corfix admin and a site worker live it, through the API alone: an
//! existing account connects its Procore company, settles the records that clash (a project
//! linked, a worker ignored), activates a worker, defines a form, and a completed form's PDF,
//! then its second version, lands in the project's Procore Documents.

use crate::{eventually, App};
use domain::workforce::{Activation, ProjectFields, ProjectStatus, WorkerFields};
use procore_sim::demo;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;
use store::ApiScope;

const PATIENCE: Duration = Duration::from_secs(60);

async fn json_call(
    app: &App,
    method: Method,
    path: &str,
    template: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let a = app.call(method, path, template, Some(token), body).await;
    (a.status, a.body)
}

#[tokio::test]
async fn an_existing_account_connects_settles_its_clashes_and_its_completed_form_reaches_procore_documents_twice(
) {
    let app = App::fresh().await;
    let company = app.kit.company;
    let admin = app.admin.clone();
    // The account as it was before Procore: a project and a worker Procore also has.
    let (procore_project, number, procore_user, email) = app.kit.sim().read(|w| {
        let p = w
            .projects
            .values()
            .filter(|p| p.company_id == company && p.active && p.project_number.is_some())
            .min_by_key(|p| p.id)
            .unwrap();
        let u = w
            .users
            .values()
            .filter(|u| u.company_id == company && u.is_active && u.email_address.is_some())
            .min_by_key(|u| u.id)
            .unwrap();
        (
            p.id,
            p.project_number.clone().unwrap(),
            u.id,
            u.email_address.clone().unwrap(),
        )
    });
    let ours = app
        .kit
        .store
        .create_project(
            company,
            &ProjectFields {
                name: "Our name for it".into(),
                project_number: Some(number.clone()),
                ..ProjectFields::default()
            },
            ProjectStatus::Active,
        )
        .await
        .unwrap();
    let our_worker = app
        .kit
        .store
        .create_worker(
            company,
            &WorkerFields {
                first_name: "Already".into(),
                last_name: "Here".into(),
                email: Some(email.clone()),
                ..WorkerFields::default()
            },
            Activation::Active,
            false,
        )
        .await
        .unwrap();

    // Connect: a wrong secret is refused naming it; the right one connects.
    let connect = |secret: &str| {
        json!({"company_id": company, "client_id": demo::CLIENT_ID, "client_secret": secret,
               "sync_forms": true})
    };
    let (status, refused) = json_call(
        &app,
        Method::POST,
        "/api/v1/connections",
        "/api/v1/connections",
        &admin,
        Some(connect("wrong")),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["errors"][0]["field"], "client_secret", "{refused}");
    let (status, connected) = json_call(
        &app,
        Method::POST,
        "/api/v1/connections",
        "/api/v1/connections",
        &admin,
        Some(connect(demo::CLIENT_SECRET)),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{connected}");
    assert!(connected["workforce"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["ok"] == true));
    assert_eq!(connected["sync_forms"], true);
    assert!(connected["job_id"].is_i64());
    assert!(
        !connected.to_string().contains(demo::CLIENT_SECRET),
        "the secret is never answered"
    );

    // The first sync leaves the two clashes waiting.
    let base = format!("/api/v1/companies/{company}/workforce");
    let waiting = eventually(PATIENCE, "both clashes wait", || async {
        let (_, w) = json_call(
            &app,
            Method::GET,
            &format!("{base}/waiting"),
            "/api/v1/companies/{company_id}/workforce/waiting",
            &admin,
            None,
        )
        .await;
        (w.as_array().unwrap().len() == 2).then_some(w)
    })
    .await;
    assert!(waiting
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["kind"] == "project"
            && w["procore_id"] == procore_project
            && w["clashes_with"] == ours));
    assert!(waiting
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["kind"] == "user"
            && w["procore_id"] == procore_user
            && w["clashes_with"] == our_worker));
    let decision = "/api/v1/companies/{company_id}/workforce/waiting/{kind}/{procore_id}/decision";
    let (status, linked) = json_call(
        &app,
        Method::POST,
        &format!("{base}/waiting/project/{procore_project}/decision"),
        decision,
        &admin,
        Some(json!({"decision": "link", "to": ours})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{linked}");
    let (status, ignored) = json_call(
        &app,
        Method::POST,
        &format!("{base}/waiting/user/{procore_user}/decision"),
        decision,
        &admin,
        Some(json!({"decision": "ignore"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{ignored}");
    eventually(
        PATIENCE,
        "our project follows its Procore project",
        || async {
            let (_, projects) = json_call(
                &app,
                Method::GET,
                &format!("{base}/projects"),
                "/api/v1/companies/{company_id}/workforce/projects",
                &admin,
                None,
            )
            .await;
            projects
                .as_array()
                .unwrap()
                .iter()
                .any(|p| {
                    p["id"] == ours
                        && p["procore_project_id"] == procore_project
                        && p["name"] != "Our name for it"
                })
                .then_some(())
        },
    )
    .await;

    // A worker from Procore is activated.
    let (_, pending) = json_call(
        &app,
        Method::GET,
        &format!("{base}/workers?status=pending_account_activation&limit=1"),
        "/api/v1/companies/{company_id}/workforce/workers",
        &admin,
        None,
    )
    .await;
    let worker = pending[0]["id"].as_i64().expect("a pending worker");
    let (status, activated) = json_call(
        &app,
        Method::POST,
        &format!("{base}/workers/{worker}/activate"),
        "/api/v1/companies/{company_id}/workforce/workers/{id}/activate",
        &admin,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{activated}");
    assert_ne!(activated["status"], "pending_account_activation");

    // The admin defines a form; the worker fills, signs and completes it on the linked project.
    let forms = format!("/api/v1/companies/{company}/forms");
    let (status, template) = json_call(&app, Method::POST, &format!("{forms}/templates"), "/api/v1/companies/{company_id}/forms/templates", &admin, Some(json!({"name": "Daily Site Check", "sections": [{"title": "Site", "fields": [
        {"key": "hazards", "label": "Hazards found", "kind": "text", "multiline": true, "required": true},
        {"key": "signed", "label": "Signature", "kind": "signature", "required": true}]}]}))).await;
    assert_eq!(status, StatusCode::CREATED, "{template}");
    let phone = app
        .token(
            "phone",
            ApiScope::Worker {
                company_id: company,
                worker_id: worker,
            },
        )
        .await;
    let (status, form) = json_call(
        &app,
        Method::POST,
        &forms,
        "/api/v1/companies/{company_id}/forms",
        &phone,
        Some(json!({"template_id": template["id"], "project_id": ours, "form_date": "2026-12-03"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{form}");
    let form_path = format!("{forms}/{}", form["id"]);
    let one = "/api/v1/companies/{company_id}/forms/{id}";
    let (status, _) = json_call(
        &app,
        Method::PATCH,
        &form_path,
        one,
        &phone,
        Some(json!({"answers": {"hazards": {"type": "text", "value": "Open trench by gate 2"}}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = json_call(
        &app,
        Method::POST,
        &format!("{form_path}/signatures"),
        "/api/v1/companies/{company_id}/forms/{id}/signatures",
        &phone,
        Some(json!({"field_key": "signed"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, done) = json_call(
        &app,
        Method::POST,
        &format!("{form_path}/complete"),
        "/api/v1/companies/{company_id}/forms/{id}/complete",
        &phone,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");

    let documents = |revision: u32| {
        let app = &app;
        let form_path = form_path.clone();
        let admin = admin.clone();
        async move {
            eventually(PATIENCE, "the form in Procore", || async {
                let (_, f) = json_call(app, Method::GET, &form_path, one, &admin, None).await;
                (f["procore"]["revision"] == revision).then(|| f["procore"].clone())
            })
            .await
        }
    };
    let first = documents(1).await;
    let file = first["file_id"].as_i64().unwrap();
    let in_sim = |file: i64| {
        app.kit.sim().read(|w| {
            w.files
                .get(&file)
                .map(|f| (f.project_id, f.name.clone(), f.versions.len()))
        })
    };
    assert_eq!(
        in_sim(file),
        Some((
            procore_project,
            "Daily Site Check 2026-12-03.pdf".to_string(),
            1
        )),
        "the PDF is in the linked Procore project's Documents"
    );
    let (status, changed) = json_call(
        &app,
        Method::PATCH,
        &form_path,
        one,
        &admin,
        Some(json!({"answers": {"hazards": {"type": "text", "value": "Trench covered"}}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(changed["revision"], 2);
    let second = documents(2).await;
    assert_eq!(second["file_id"], file, "the same document");
    assert_eq!(in_sim(file).map(|f| f.2), Some(2), "its second version");

    // The ignored user never became a worker; the company can be disconnected.
    let (_, by_email) = json_call(
        &app,
        Method::GET,
        &format!("{base}/workers?q={}", email.replace('@', "%40")),
        "/api/v1/companies/{company_id}/workforce/workers",
        &admin,
        None,
    )
    .await;
    let ids: Vec<i64> = by_email
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [our_worker]);
    let gone = app
        .call(
            Method::DELETE,
            &format!("/api/v1/connections/{company}"),
            "/api/v1/connections/{company_id}",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let (_, connections) = json_call(
        &app,
        Method::GET,
        "/api/v1/connections",
        "/api/v1/connections",
        &admin,
        None,
    )
    .await;
    assert_eq!(connections, json!([]));
}

/// The compliance seed through the API alone: connect, choose the options, define a profile;
/// the sync brings Procore's projects and the companies with active commitments on them; a
/// certificate entered for a party makes it compliant, and Procore's insurance records say so.
#[tokio::test]
async fn a_compliance_admin_goes_from_connect_to_insurance_records_in_procore_through_the_api_alone(
) {
    let app = App::fresh().await;
    let company = app.kit.company;
    let admin = app.admin.clone();
    let (status, connected) = json_call(
        &app,
        Method::POST,
        "/api/v1/connections",
        "/api/v1/connections",
        &admin,
        Some(json!({"company_id": company, "client_id": demo::CLIENT_ID, "client_secret": demo::CLIENT_SECRET})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{connected}");
    assert!(
        connected["compliance"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["ok"] == true),
        "{connected}"
    );

    let base = format!("/api/v1/companies/{company}/compliance");
    // A requirement that is not one is named by its place, and nothing is saved.
    let (status, bad) = json_call(
        &app,
        Method::PUT,
        &format!("{base}/profiles/Standard%20Subcontractor"),
        "/api/v1/companies/{company_id}/compliance/profiles/{name}",
        &admin,
        Some(json!({"name": "Standard Subcontractor", "requirements": [
            {"key": "gl.each_occurrence", "subject": "general_liability",
             "check": {"type": "limit_at_least", "limit": "each_occurrence", "minimum": "1000000"}},
            {"key": "umbrella", "subject": "umbrella_excess",
             "check": {"type": "limit_at_least", "limit": "umbrella_each_occurrence"}}]})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert_eq!(bad["errors"][0]["field"], "requirements[1]", "{bad}");
    let (status, profile) = json_call(
        &app,
        Method::PUT,
        &format!("{base}/profiles/Standard%20Subcontractor"),
        "/api/v1/companies/{company_id}/compliance/profiles/{name}",
        &admin,
        Some(json!({"name": "Standard Subcontractor", "requirements": [
            {"key": "gl.each_occurrence", "subject": "general_liability",
             "check": {"type": "limit_at_least", "limit": "each_occurrence", "minimum": "1000000"}}]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    let (status, settings) = json_call(
        &app,
        Method::PATCH,
        &format!("{base}/settings"),
        "/api/v1/companies/{company_id}/compliance/settings",
        &admin,
        Some(json!({"new_projects": "import_automatically", "import_companies_through_commitments": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{settings}");

    // The sync the settings queued brings the projects and the companies working on them.
    let parties = "/api/v1/companies/{company_id}/compliance/parties";
    let acme = eventually(PATIENCE, "Acme Electric a party", || async {
        let (_, rows) = json_call(
            &app,
            Method::GET,
            &format!("{base}/parties"),
            parties,
            &admin,
            None,
        )
        .await;
        rows.as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "Acme Electric")
            .cloned()
    })
    .await;
    let party = acme["id"].as_i64().unwrap();
    let vendor = acme["procore_vendor_id"].as_i64().unwrap();
    let (status, given) = json_call(
        &app,
        Method::PUT,
        &format!("{base}/parties/{party}/profile"),
        "/api/v1/companies/{company_id}/compliance/parties/{id}/profile",
        &admin,
        Some(json!({"profile": "Standard Subcontractor"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{given}");
    let (status, bad) = json_call(
        &app,
        Method::POST,
        &format!("{base}/parties/{party}/certificates"),
        "/api/v1/companies/{company_id}/compliance/parties/{id}/certificates",
        &admin,
        Some(json!({"whole": {"policies": "none"}})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    let (status, certificate) = json_call(
        &app,
        Method::POST,
        &format!("{base}/parties/{party}/certificates"),
        "/api/v1/companies/{company_id}/compliance/parties/{id}/certificates",
        &admin,
        Some(json!({"whole": {"policies": [
            {"subject": "general_liability", "insurer": "Granite Mutual", "policy_number": "GL-77",
             "effective_date": "2026-01-01", "expiration_date": "2030-12-31",
             "limits": {"each_occurrence": "2000000"}}]}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{certificate}");

    // A second policy on the same certificate, a change to it, and its removal.
    let policies = format!("{base}/certificates/{}/policies", certificate["id"]);
    let policies_template = "/api/v1/companies/{company_id}/compliance/certificates/{id}/policies";
    let (status, bad) = json_call(
        &app,
        Method::POST,
        &policies,
        policies_template,
        &admin,
        Some(json!({"subject": "automobile_liability", "insurer": "Granite Mutual"})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a new policy lacks its number and dates: {bad}"
    );
    let (status, two) = json_call(
        &app,
        Method::POST,
        &policies,
        policies_template,
        &admin,
        Some(json!({"subject": "automobile_liability", "insurer": "Granite Mutual",
            "policy_number": "AU-9", "effective_date": "2026-01-01", "expiration_date": "2030-12-31"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{two}");
    assert_eq!(two["policies"].as_array().map(Vec::len), Some(2), "{two}");
    let (status, changed) = json_call(
        &app,
        Method::POST,
        &policies,
        policies_template,
        &admin,
        Some(json!({"subject": "automobile_liability", "policy_number": "AU-10"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["policies"][1]["policy_number"], "AU-10");
    assert_eq!(
        changed["policies"][1]["insurer"], "Granite Mutual",
        "the rest is kept"
    );
    let one_policy =
        "/api/v1/companies/{company_id}/compliance/certificates/{id}/policies/{subject}";
    let (status, one) = json_call(
        &app,
        Method::DELETE,
        &format!("{policies}/automobile_liability"),
        one_policy,
        &admin,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one["policies"].as_array().map(Vec::len), Some(1), "{one}");
    for gone in ["automobile_liability", "flood"] {
        let (status, why) = json_call(
            &app,
            Method::DELETE,
            &format!("{policies}/{gone}"),
            one_policy,
            &admin,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{gone}: {why}");
    }

    // Compliant now, and Procore's insurance records of Acme are trestle's.
    eventually(PATIENCE, "Acme compliant", || async {
        let (_, rows) = json_call(
            &app,
            Method::GET,
            &format!("{base}/parties"),
            parties,
            &admin,
            None,
        )
        .await;
        rows.as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == party && p["status"] == "compliant")
            .then_some(())
    })
    .await;
    let written = eventually(PATIENCE, "insurance records written", || async {
        let (_, rows) = json_call(
            &app,
            Method::GET,
            &format!("{base}/insurance"),
            "/api/v1/companies/{company_id}/compliance/insurance",
            &admin,
            None,
        )
        .await;
        let mine: Vec<Value> = rows
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w["procore_vendor_id"] == vendor && w["procore_insurance_id"].is_i64())
            .cloned()
            .collect();
        (!mine.is_empty()).then_some(mine)
    })
    .await;
    for w in &written {
        let id = w["procore_insurance_id"].as_i64().unwrap();
        let in_procore = app.kit.sim().read(|world| {
            world
                .insurances
                .get(&id)
                .map(|i| (i.vendor_id, i.origin_id.clone()))
        });
        assert_eq!(
            in_procore,
            Some((vendor, Some(w["origin_id"].as_str().unwrap().to_string()))),
            "{w}"
        );
    }

    // Explain tells the story of each: the Procore company is the party, with the word on each
    // insurance record; the party follows it; an active commitment of Acme's makes its
    // association.
    let explain = "/api/v1/companies/{company_id}/explain/{kind}/{id}";
    let (status, company_story) = json_call(
        &app,
        Method::GET,
        &format!("/api/v1/companies/{company}/explain/procore-company/{vendor}"),
        explain,
        &admin,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{company_story}");
    assert_eq!(
        company_story["now"][0]["holding"], "party",
        "{company_story}"
    );
    assert_eq!(company_story["now"][0]["id"], party, "{company_story}");
    for w in &written {
        assert!(
            company_story["insurance"]
                .as_array()
                .unwrap()
                .iter()
                .any(|word| word["origin_id"] == w["origin_id"]),
            "{} has no word in {company_story}",
            w["origin_id"]
        );
    }
    let (status, party_story) = json_call(
        &app,
        Method::GET,
        &format!("/api/v1/companies/{company}/explain/party/{party}"),
        explain,
        &admin,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{party_story}");
    // Syncs go on meanwhile, so the word on insurance may be newer; what it follows is not.
    assert_eq!(party_story["record"], "party");
    assert_eq!(party_story["follows"]["kind"], "procore-company");
    assert_eq!(party_story["follows"]["id"], vendor);
    assert_eq!(party_story["follows"]["now"], company_story["now"]);
    let commitment = app.kit.sim().read(|w| {
        w.commitments
            .values()
            .find(|c| c.vendor_id == Some(vendor) && ["Approved", "Complete"].contains(&&*c.status))
            .map(|c| c.id)
            .expect("an active commitment of Acme's")
    });
    let (status, commitment_story) = json_call(
        &app,
        Method::GET,
        &format!("/api/v1/companies/{company}/explain/procore-commitment/{commitment}"),
        explain,
        &admin,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{commitment_story}");
    let holding = &commitment_story["now"][0];
    assert_eq!(holding["holding"], "associations", "{commitment_story}");
    assert_eq!(
        holding["associations"][0]["party_id"], party,
        "{commitment_story}"
    );
}
