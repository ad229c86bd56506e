use crate::{eventually, App};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(30);

/// The demo company's compliance side (`testkit::compliance::seed`): Acme Electric and Bolt
/// Plumbing, linked to their Procore companies; Acme first.
pub(crate) async fn seeded(app: &App) -> [domain::compliance::PartyId; 2] {
    testkit::compliance::seed(&app.kit.store, app.kit.company, |name| {
        app.kit.sim().read(|w| {
            w.vendors
                .values()
                .find(|v| v.name == name)
                .map(|v| v.id)
                .unwrap()
        })
    })
    .await
}

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
    let [acme, bolt] = crate::compliance::seeded(&app).await;
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
    let harbor_mapping = format!("{}/mappings/project/{harbor}", base(&app));
    let import = || {
        app.call_with(
            Method::POST,
            &harbor_mapping,
            decide,
            Some(&app.admin),
            &[("Idempotency-Key", "import-harbor")],
            Some(json!({"decision": "import"})),
        )
    };
    let imported = import().await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    let replayed = import().await;
    replayed.assert_replays(&imported);
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

/// The fields a 422 answer names.
fn fields(answer: &crate::Answer) -> Vec<String> {
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.body
    );
    answer.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn certificates_and_waivers_are_entered_listed_and_removed_and_each_refusal_names_the_field_it_is_about(
) {
    let app = App::start().await;
    let [_acme, bolt] = crate::compliance::seeded(&app).await;
    let party = format!("{}/parties/{}", base(&app), bolt.0);
    let post = |path: String, template: &'static str, body: Value| {
        let app = &app;
        async move {
            app.call(Method::POST, &path, template, Some(&app.admin), Some(body))
                .await
        }
    };
    let certificates_template =
        "/api/v1/companies/{company_id}/compliance/parties/{id}/certificates";
    let waivers_template = "/api/v1/companies/{company_id}/compliance/parties/{id}/waivers";

    // The profiles, with their requirements.
    let profiles = list(
        &app,
        &format!("{}/profiles", base(&app)),
        "/api/v1/companies/{company_id}/compliance/profiles",
    )
    .await;
    assert_eq!(profiles.len(), 1);
    assert_eq!(profiles[0]["requirements"].as_array().unwrap().len(), 2);

    // A certificate: each refusal names the field of the body, and enters nothing.
    let policy = json!({
        "subject": "automobile_liability", "insurer": "Granite Mutual", "policy_number": "AU-9",
        "effective_date": "2026-01-01", "limits": {"combined_single_limit": "1000000"}
    });
    let lacking = post(
        format!("{party}/certificates"),
        certificates_template,
        json!({"policy": policy}),
    )
    .await;
    assert_eq!(fields(&lacking), ["policy.expiration_date"]);
    let mut reversed = policy.clone();
    reversed["expiration_date"] = json!("2025-06-30");
    assert_eq!(
        fields(
            &post(
                format!("{party}/certificates"),
                certificates_template,
                json!({"policy": reversed}),
            )
            .await
        ),
        ["policy.expiration_date"]
    );
    let mut not_a_number = policy.clone();
    not_a_number["expiration_date"] = json!("2027-12-31");
    not_a_number["limits"] = json!({"combined_single_limit": "a million"});
    assert_eq!(
        fields(
            &post(
                format!("{party}/certificates"),
                certificates_template,
                json!({"policy": not_a_number}),
            )
            .await
        ),
        ["policy.limits"]
    );
    let mut whole = policy.clone();
    whole["expiration_date"] = json!("2027-12-31");
    assert_eq!(
        fields(
            &post(
                format!("{party}/certificates"),
                certificates_template,
                json!({"policy": whole, "projects": ["No Such Tower"]}),
            )
            .await
        ),
        ["projects"]
    );
    assert!(list(
        &app,
        &format!("{party}/certificates"),
        certificates_template
    )
    .await
    .is_empty());
    // Entered once, whatever the replays of its Idempotency-Key.
    let mut entered = Vec::new();
    for _ in 0..2 {
        entered.push(
            app.call_with(
                Method::POST,
                &format!("{party}/certificates"),
                certificates_template,
                Some(&app.admin),
                &[("Idempotency-Key", "bolt-au-9")],
                Some(json!({"policy": whole})),
            )
            .await,
        );
    }
    assert_eq!(
        entered[0].status,
        StatusCode::CREATED,
        "{}",
        entered[0].body
    );
    assert_eq!(entered[0].body, entered[1].body);
    let listed = list(
        &app,
        &format!("{party}/certificates"),
        certificates_template,
    )
    .await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let certificate = listed[0]["id"].as_i64().unwrap();

    // A policy changed alone is the body itself.
    let policies = format!("{}/certificates/{certificate}/policies", base(&app));
    let policies_template = "/api/v1/companies/{company_id}/compliance/certificates/{id}/policies";
    assert_eq!(
        fields(
            &post(
                policies.clone(),
                policies_template,
                json!({"subject": "umbrella_excess", "insurer": "Granite Mutual"}),
            )
            .await
        ),
        ["policy_number", "effective_date", "expiration_date"]
    );
    assert_eq!(
        fields(
            &post(
                policies.clone(),
                policies_template,
                json!({"insurer": "Granite Mutual"})
            )
            .await
        ),
        ["subject"]
    );

    // A party's profile that does not exist is the body's fault.
    let profile = app
        .call(
            Method::PUT,
            &format!("{party}/profile"),
            "/api/v1/companies/{company_id}/compliance/parties/{id}/profile",
            Some(&app.admin),
            Some(json!({"profile": "Gold"})),
        )
        .await;
    assert_eq!(fields(&profile), ["profile"]);

    // Waivers: each refusal named; one entered, listed, and removed.
    assert_eq!(
        fields(
            &post(
                format!("{party}/waivers"),
                waivers_template,
                json!({"requirement": "auto.csl", "kind": "waive", "reason": " "}),
            )
            .await
        ),
        ["reason"]
    );
    assert_eq!(
        fields(
            &post(
                format!("{party}/waivers"),
                waivers_template,
                json!({"requirement": "auto.csl", "reason": "no vehicles"}),
            )
            .await
        ),
        ["kind"]
    );
    assert_eq!(
        fields(
            &post(
                format!("{party}/waivers"),
                waivers_template,
                json!({"requirement": "auto.csl", "kind": "waive", "reason": "no vehicles", "project": "No Such Tower"}),
            )
            .await
        ),
        ["project"]
    );
    assert_eq!(
        fields(
            &post(
                format!("{party}/waivers"),
                waivers_template,
                json!({"requirement": "gl.nothing", "kind": "waive", "reason": "no vehicles"}),
            )
            .await
        ),
        ["requirement"]
    );
    let waived = post(
        format!("{party}/waivers"),
        waivers_template,
        json!({"requirement": "gl.each_occurrence", "kind": "override", "reason": "broker confirmed", "until": "2027-01-31"}),
    )
    .await;
    assert_eq!(waived.status, StatusCode::CREATED, "{}", waived.body);
    let waivers = list(&app, &format!("{party}/waivers"), waivers_template).await;
    assert_eq!(waivers.len(), 1);
    assert_eq!(waivers[0]["reason"], "broker confirmed");
    let status = app
        .get(
            &party,
            "/api/v1/companies/{company_id}/compliance/parties/{id}",
            Some(&app.admin),
        )
        .await;
    assert_eq!(
        status.body["global"]["status"], "overridden",
        "{}",
        status.body
    );

    // Removed: gone from the lists, and a second removal finds nothing.
    for (path, template) in [
        (
            format!("{}/waivers/{}", base(&app), waivers[0]["id"]),
            "/api/v1/companies/{company_id}/compliance/waivers/{id}",
        ),
        (
            format!("{}/certificates/{certificate}", base(&app)),
            "/api/v1/companies/{company_id}/compliance/certificates/{id}",
        ),
    ] {
        let removed = app
            .call(Method::DELETE, &path, template, Some(&app.admin), None)
            .await;
        assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);
        let again = app
            .call(Method::DELETE, &path, template, Some(&app.admin), None)
            .await;
        assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.body);
    }
    assert!(list(&app, &format!("{party}/waivers"), waivers_template)
        .await
        .is_empty());
    assert!(list(
        &app,
        &format!("{party}/certificates"),
        certificates_template
    )
    .await
    .is_empty());
}

#[tokio::test]
async fn a_profile_a_certificate_and_a_partys_profile_changed_since_they_were_read_are_not_overwritten(
) {
    let app = App::start().await;
    let [acme, _bolt] = crate::compliance::seeded(&app).await;
    let admin = Some(app.admin.as_str());
    let tag = |a: &crate::Answer| a.headers["etag"].to_str().unwrap().to_string();

    // A profile: read, changed by one admin, and a change from the old read refused.
    let profile = format!(
        "{}/profiles/{}",
        base(&app),
        demo_profile().replace(' ', "%20")
    );
    let profile_template = "/api/v1/companies/{company_id}/compliance/profiles/{name}";
    let read = app.get(&profile, profile_template, admin).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    let old = tag(&read);
    let mut changed = read.body.clone();
    changed["expiring_within_days"] = json!(45);
    let first = app
        .call_with(
            Method::PUT,
            &profile,
            profile_template,
            admin,
            &[("If-Match", &old)],
            Some(changed.clone()),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_ne!(tag(&first), old);
    changed["expiring_within_days"] = json!(10);
    let second = app
        .call_with(
            Method::PUT,
            &profile,
            profile_template,
            admin,
            &[("If-Match", &old)],
            Some(changed),
        )
        .await;
    assert_eq!(
        second.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        second.body
    );
    assert_eq!(
        app.get(&profile, profile_template, admin).await.body["expiring_within_days"],
        45
    );
    // In use by the parties: not removed.
    let in_use = app
        .call(Method::DELETE, &profile, profile_template, admin, None)
        .await;
    assert_eq!(in_use.status, StatusCode::CONFLICT, "{}", in_use.body);

    // A certificate: a policy changed from an old read is refused; a replacement from the
    // current one goes in.
    let certificates = list(
        &app,
        &format!("{}/parties/{}/certificates", base(&app), acme.0),
        "/api/v1/companies/{company_id}/compliance/parties/{id}/certificates",
    )
    .await;
    let id = certificates[0]["id"].as_i64().unwrap();
    let certificate = format!("{}/certificates/{id}", base(&app));
    let certificate_template = "/api/v1/companies/{company_id}/compliance/certificates/{id}";
    let read = app.get(&certificate, certificate_template, admin).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    let old = tag(&read);
    let policies_template = "/api/v1/companies/{company_id}/compliance/certificates/{id}/policies";
    let renumbered = app
        .call_with(
            Method::POST,
            &format!("{certificate}/policies"),
            policies_template,
            admin,
            &[("If-Match", &old)],
            Some(json!({"subject": "general_liability", "policy_number": "GL-2"})),
        )
        .await;
    assert_eq!(renumbered.status, StatusCode::OK, "{}", renumbered.body);
    let stale = app
        .call_with(
            Method::POST,
            &format!("{certificate}/policies"),
            policies_template,
            admin,
            &[("If-Match", &old)],
            Some(json!({"subject": "general_liability", "policy_number": "GL-3"})),
        )
        .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.body
    );
    // A whole certificate's policy that is wrong is named where it is in its list.
    let mut reversed = renumbered.body.clone();
    assert!(reversed["policies"][1].is_object(), "{reversed}");
    reversed["policies"][1]["expiration_date"] = json!("2020-01-01");
    let refused = app
        .call(
            Method::PUT,
            &certificate,
            certificate_template,
            admin,
            Some(reversed.clone()),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(
        refused.body["errors"][0]["field"], "policies[1].expiration_date",
        "{}",
        refused.body
    );
    let as_new = app
        .call(
            Method::POST,
            &format!("{}/parties/{}/certificates", base(&app), acme.0),
            "/api/v1/companies/{company_id}/compliance/parties/{id}/certificates",
            admin,
            Some(json!({"whole": reversed})),
        )
        .await;
    assert_eq!(
        as_new.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        as_new.body
    );
    assert_eq!(
        as_new.body["errors"][0]["field"], "whole.policies[1].expiration_date",
        "{}",
        as_new.body
    );
    let mut corrected = renumbered.body.clone();
    corrected["producer"] = json!("Harbor Insurance Brokers");
    let replaced = app
        .call_with(
            Method::PUT,
            &certificate,
            certificate_template,
            admin,
            &[("If-Match", &tag(&renumbered))],
            Some(corrected),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(replaced.body["producer"], "Harbor Insurance Brokers");
    assert_eq!(replaced.body["policies"][0]["policy_number"], "GL-2");
    let removal = app
        .call_with(
            Method::DELETE,
            &certificate,
            certificate_template,
            admin,
            &[("If-Match", &old)],
            None,
        )
        .await;
    assert_eq!(
        removal.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        removal.body
    );

    // A party's profile, set from a read older than another admin's change, is refused.
    let party = format!("{}/parties/{}", base(&app), acme.0);
    let read = app
        .get(
            &party,
            "/api/v1/companies/{company_id}/compliance/parties/{id}",
            admin,
        )
        .await;
    let old = tag(&read);
    let profile_of = "/api/v1/companies/{company_id}/compliance/parties/{id}/profile";
    let none = app
        .call_with(
            Method::PUT,
            &format!("{party}/profile"),
            profile_of,
            admin,
            &[("If-Match", &old)],
            Some(json!({"profile": null})),
        )
        .await;
    assert_eq!(none.status, StatusCode::OK, "{}", none.body);
    let again = app
        .call_with(
            Method::PUT,
            &format!("{party}/profile"),
            profile_of,
            admin,
            &[("If-Match", &old)],
            Some(json!({"profile": demo_profile()})),
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        again.body
    );
    assert_eq!(
        tag(&app
            .get(
                &party,
                "/api/v1/companies/{company_id}/compliance/parties/{id}",
                admin
            )
            .await),
        tag(&none)
    );
}

/// The demo's profile, which `testkit::compliance::seed` gives both parties.
fn demo_profile() -> &'static str {
    procore_sim::demo::PROFILE_STANDARD
}

#[tokio::test]
async fn a_compliance_document_is_written_whole_sent_again_it_updates_and_a_wrong_one_writes_nothing(
) {
    let app = App::start().await;
    let import = format!("{}/import", base(&app));
    let template = "/api/v1/companies/{company_id}/compliance/import";
    let parties = format!("{}/parties", base(&app));
    let parties_template = "/api/v1/companies/{company_id}/compliance/parties";
    let document = json!({
        "profiles": [{"id": 1, "name": "Roofing", "requirements": [
            {"key": "gl", "subject": "general_liability",
             "check": {"type": "limit_at_least", "limit": "each_occurrence", "minimum": "1000000"}}]}],
        "parties": [{"id": 1, "name": "Cedar Roofing", "profile_id": 1}],
        "projects": [{"id": 1, "name": "Dockside Lofts"}],
        "party_projects": [{"party_id": 1, "project_id": 1}],
        "contacts": [{"id": 1, "party_id": 1, "first_name": "Dana", "email": "dana@cedar.example"}],
        "certificates": [{"id": 1, "party_id": 1, "policies": [
            {"subject": "general_liability", "insurer": "Granite Mutual", "policy_number": "GL-5",
             "effective_date": "2026-01-01", "expiration_date": "2030-12-31",
             "limits": {"each_occurrence": "2000000"}}]}],
    });
    let first = app
        .call(
            Method::POST,
            &import,
            template,
            Some(&app.admin),
            Some(document.clone()),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    for kind in [
        "profiles",
        "parties",
        "projects",
        "party_projects",
        "contacts",
        "certificates",
    ] {
        assert_eq!(
            first.body[kind],
            json!({"added": 1, "updated": 0}),
            "{kind}: {}",
            first.body
        );
    }

    // Each record is there, the party compliant by its certificate, with its contact and project.
    let cedar = list(&app, &format!("{parties}?q=Cedar"), parties_template).await;
    assert_eq!(cedar.len(), 1, "{cedar:?}");
    assert_eq!(cedar[0]["status"], "compliant", "{cedar:?}");
    let cedar = cedar[0]["id"].as_i64().unwrap();
    let contacts = list(
        &app,
        &format!("{parties}/{cedar}/contacts"),
        "/api/v1/companies/{company_id}/compliance/parties/{id}/contacts",
    )
    .await;
    assert_eq!(contacts.len(), 1, "{contacts:?}");
    assert_eq!(contacts[0]["email"], "dana@cedar.example");
    let associations = list(
        &app,
        &format!("{}/associations?party_id={cedar}", base(&app)),
        "/api/v1/companies/{company_id}/compliance/associations",
    )
    .await;
    assert_eq!(associations.len(), 1, "{associations:?}");
    assert_eq!(associations[0]["project_name"], "Dockside Lofts");

    // Sent again with a change: found again, updated, nothing added.
    let mut changed = document.clone();
    changed["contacts"][0]["phone"] = json!("555-0100");
    let again = app
        .call(
            Method::POST,
            &import,
            template,
            Some(&app.admin),
            Some(changed),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["contacts"], json!({"added": 0, "updated": 1}));
    assert_eq!(again.body["parties"], json!({"added": 0, "updated": 1}));
    let contacts = list(
        &app,
        &format!("{parties}/{cedar}/contacts"),
        "/api/v1/companies/{company_id}/compliance/parties/{id}/contacts",
    )
    .await;
    assert_eq!(contacts.len(), 1, "{contacts:?}");
    assert_eq!(contacts[0]["phone"], "555-0100");

    // A wrong document: every problem named, by its place or its section, and nothing written.
    let before = list(&app, &parties, parties_template).await;
    let wrong = app
        .call(
            Method::POST,
            &import,
            template,
            Some(&app.admin),
            Some(json!({
                "parties": [{"id": 1, "name": "Pine Glazing"}],
                "contacts": [{"id": 1, "party_id": 2}],
                "waivers": [{"id": 1, "party_id": 1, "kind": "waive", "target": {"subject": "umbrella_excess"}, "reason": " "}],
            })),
        )
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.body
    );
    let named: Vec<(&str, &str)> = wrong.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["detail"].as_str().unwrap()))
        .collect();
    assert!(
        named.contains(&(
            "contacts",
            "contact 1 refers to party 2, which is not in the import"
        )),
        "{named:?}"
    );
    assert!(
        named
            .iter()
            .any(|(f, d)| *f == "waivers" && d.contains("no reason")),
        "{named:?}"
    );
    let money = app
        .call(
            Method::POST,
            &import,
            template,
            Some(&app.admin),
            Some(json!({"profiles": [{"id": 1, "name": "Glazing", "requirements": [
                {"key": "gl", "subject": "general_liability",
                 "check": {"type": "limit_at_least", "limit": "each_occurrence", "minimum": 1000000}}]}]})),
        )
        .await;
    assert_eq!(
        money.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        money.body
    );
    // serde reads a tagged check whole, so the check is named rather than its minimum.
    assert_eq!(
        money.body["errors"][0]["field"],
        "profiles[0].requirements[0].check"
    );
    assert!(
        money.body["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("amounts are strings"),
        "{}",
        money.body
    );
    assert_eq!(list(&app, &parties, parties_template).await, before);
    assert!(app
        .kit
        .store
        .profiles(app.kit.company)
        .await
        .unwrap()
        .iter()
        .all(|p| p.name != "Glazing"));

    // A read-only token may not write one.
    let reader = app.token("reader", store::ApiScope::ReadOnly).await;
    let refused = app
        .call(
            Method::POST,
            &import,
            template,
            Some(&reader),
            Some(document),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
}

#[tokio::test]
async fn edits_made_at_the_same_moment_without_if_match_are_all_kept() {
    let app = App::start().await;
    let [acme, _bolt] = crate::compliance::seeded(&app).await;
    let admin = Some(app.admin.as_str());

    // Each coverage line of one certificate renumbered by its own request, all at once.
    let certificates = list(
        &app,
        &format!("{}/parties/{}/certificates", base(&app), acme.0),
        "/api/v1/companies/{company_id}/compliance/parties/{id}/certificates",
    )
    .await;
    let id = certificates[0]["id"].as_i64().unwrap();
    let certificate = format!("{}/certificates/{id}", base(&app));
    let subjects: Vec<String> = certificates[0]["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["subject"].as_str().unwrap().to_owned())
        .collect();
    assert!(subjects.len() > 1, "{subjects:?}");
    let policies = format!("{certificate}/policies");
    let answers = futures::future::join_all(subjects.iter().map(|s| {
        app.call(
            Method::POST,
            &policies,
            "/api/v1/companies/{company_id}/compliance/certificates/{id}/policies",
            admin,
            Some(json!({"subject": s, "policy_number": format!("NEW-{s}")})),
        )
    }))
    .await;
    for a in &answers {
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    }
    let now = app
        .get(
            &certificate,
            "/api/v1/companies/{company_id}/compliance/certificates/{id}",
            admin,
        )
        .await;
    let numbers: Vec<&str> = now.body["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["policy_number"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = subjects.iter().map(|s| format!("NEW-{s}")).collect();
    assert_eq!(numbers, expected);

    // Each of the settings' switches turned by its own request, all at once.
    let settings = format!("{}/settings", base(&app));
    let template = "/api/v1/companies/{company_id}/compliance/settings";
    let before = app.get(&settings, template, admin).await.body;
    let switches = [
        "import_companies_through_commitments",
        "sync_active_status",
        "ignore_purchase_orders",
        "ignore_subcontracts",
    ];
    let answers = futures::future::join_all(switches.iter().map(|s| {
        app.call(
            Method::PATCH,
            &settings,
            template,
            admin,
            Some(json!({ *s: !before[*s].as_bool().unwrap() })),
        )
    }))
    .await;
    for a in &answers {
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    }
    let after = app.get(&settings, template, admin).await.body;
    for s in switches {
        assert_ne!(after[s], before[s], "{s} was overwritten: {after}");
    }
}

#[tokio::test]
async fn a_compliance_document_over_a_megabyte_sent_with_an_idempotency_key_is_taken_once() {
    let app = App::start().await;
    // A small document in a large body: what matters is the size the key's answer is kept for.
    let document = json!({"parties": [{"id": 1, "name": "Cedar Roofing"}]}).to_string();
    let body = format!("{document}{}", " ".repeat(3 * 1024 * 1024 / 2));
    let send = || {
        reqwest::Client::new()
            .post(format!("{}{}/import", app.server.url, base(&app)))
            .bearer_auth(&app.admin)
            .header("Idempotency-Key", "big-import")
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.unwrap();
    assert_eq!(
        first["parties"],
        json!({"added": 1, "updated": 0}),
        "{first}"
    );
    let again = send().await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
}

#[tokio::test]
async fn a_profile_no_party_uses_is_removed_with_its_etag_and_is_then_gone() {
    let app = App::start().await;
    let admin = Some(app.admin.as_str());
    let path = format!("{}/profiles/Gold", base(&app));
    let template = "/api/v1/companies/{company_id}/compliance/profiles/{name}";
    let made = app
        .call(
            Method::PUT,
            &path,
            template,
            admin,
            Some(json!({"name": "Gold", "requirements": [{"key": "gl", "subject": "general_liability", "check": {"type": "coverage_present"}}]})),
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let tag = made.headers["etag"].to_str().unwrap().to_string();
    let removed = app
        .call_with(
            Method::DELETE,
            &path,
            template,
            admin,
            &[("If-Match", &tag)],
            None,
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);
    assert_eq!(
        app.get(&path, template, admin).await.status,
        StatusCode::NOT_FOUND
    );
    let again = app.call(Method::DELETE, &path, template, admin, None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.body);
}
