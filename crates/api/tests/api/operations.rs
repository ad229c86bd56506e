//! Rules every operation of the document keeps, checked over the document itself so a new
//! route cannot skip them: each list pages to its last item by its `Link` headers and refuses
//! a wrong `limit` by name, a read-only token changes nothing, and a worker token reaches
//! nothing but forms.

use crate::{eventually, App};
use domain::workforce::{Activation, WorkerFields};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;
use store::ApiScope;

const PATIENCE: Duration = Duration::from_secs(60);

/// The list operations: GETs that take `limit`.
fn lists(app: &App) -> Vec<String> {
    app.operations()
        .into_iter()
        .filter(|(method, template)| {
            let op = &app.doc["paths"][template.as_str()]["get"];
            *method == Method::GET
                && op["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == "limit"))
        })
        .map(|(_, template)| template)
        .collect()
}

/// An item's identity, whatever the list: its id, or the fields that make it one.
fn identity(item: &Value) -> String {
    for keys in [
        &["id"][..],
        &["company_id"],
        &["origin_id"],
        &["kind", "procore_id"],
        &["party_id", "project_id"],
    ] {
        if keys.iter().all(|k| !item[*k].is_null()) {
            return keys
                .iter()
                .map(|k| item[*k].to_string())
                .collect::<Vec<_>>()
                .join(":");
        }
    }
    panic!("an item with no identity: {item}");
}

/// A worker the first sync made.
async fn a_worker(app: &App) -> i64 {
    eventually(PATIENCE, "a worker synced", || async {
        let workers = app.kit.store.workers(app.kit.company).await.unwrap();
        workers.first().map(|w| w.id)
    })
    .await
}

/// The demo company with something in every list: both integrations synced with insurance
/// written, two templates, two forms.
async fn busy_app() -> App {
    let app = App::start().await;
    let company = app.kit.company;
    crate::compliance::seeded(&app).await;
    // Two Procore users whose emails workers already have: they wait for a decision.
    for name in ["Dana Ortiz", "Lee Park"] {
        let (first, last) = name.split_once(' ').unwrap();
        let email = format!("{}@example.com", name.replace(' ', ".").to_lowercase());
        app.kit
            .store
            .create_worker(
                company,
                &WorkerFields {
                    first_name: first.into(),
                    last_name: last.into(),
                    email: Some(email.clone()),
                    ..WorkerFields::default()
                },
                Activation::Active,
                false,
            )
            .await
            .unwrap();
        app.kit
            .ui_create(
                "users",
                json!({"first_name": first, "last_name": format!("{last}-Procore"), "email_address": email, "is_employee": true}),
            )
            .await;
    }
    let base = format!("/api/v1/companies/{company}");
    let synced = app
        .call(
            Method::POST,
            &format!("{base}/syncs"),
            "/api/v1/companies/{company_id}/syncs",
            Some(&app.admin),
            Some(json!({"integration": "workforce", "full": true})),
        )
        .await;
    assert_eq!(synced.status, StatusCode::ACCEPTED, "{}", synced.body);
    let changed = app
        .call(
            Method::PATCH,
            &format!("{base}/compliance/settings"),
            "/api/v1/companies/{company_id}/compliance/settings",
            Some(&app.admin),
            Some(json!({"new_projects": "import_automatically", "import_companies_through_commitments": true})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    for name in ["Toolbox Talk", "Site Induction"] {
        let made = app
            .call(
                Method::POST,
                &format!("{base}/forms/templates"),
                "/api/v1/companies/{company_id}/forms/templates",
                Some(&app.admin),
                Some(json!({"name": name, "sections": [{"title": "S", "fields": [
                    {"key": "note", "label": "Note", "kind": "text"}]}]})),
            )
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    }
    let project = eventually(PATIENCE, "a workforce project", || async {
        let a = app
            .get(
                &format!("{base}/workforce/projects"),
                "/api/v1/companies/{company_id}/workforce/projects",
                Some(&app.admin),
            )
            .await;
        a.body
            .as_array()
            .and_then(|ps| ps.first())
            .map(|p| p["id"].clone())
    })
    .await;
    let worker = a_worker(&app).await;
    let phone = app
        .token(
            "phone",
            ApiScope::Worker {
                company_id: company,
                worker_id: worker,
            },
        )
        .await;
    let templates = app
        .get(
            &format!("{base}/forms/templates"),
            "/api/v1/companies/{company_id}/forms/templates",
            Some(&app.admin),
        )
        .await;
    for t in templates.body.as_array().unwrap() {
        let started = app
            .call(
                Method::POST,
                &format!("{base}/forms"),
                "/api/v1/companies/{company_id}/forms",
                Some(&phone),
                Some(json!({"template_id": t["id"], "project_id": project, "form_date": "2026-11-12"})),
            )
            .await;
        assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    }
    // Two of each of a party's records, and a second profile.
    let acme = app.kit.store.parties(company).await.unwrap()[0].id;
    let certified = app
        .call(
            Method::POST,
            &format!("{base}/compliance/parties/{}/certificates", acme.0),
            "/api/v1/companies/{company_id}/compliance/parties/{id}/certificates",
            Some(&app.admin),
            Some(
                json!({"policy": {"subject": "umbrella_excess", "insurer": "Granite Mutual",
                "policy_number": "UX-1", "effective_date": "2026-01-01",
                "expiration_date": "2027-12-31"}}),
            ),
        )
        .await;
    assert_eq!(certified.status, StatusCode::CREATED, "{}", certified.body);
    for (requirement, reason) in [
        ("auto.csl", "no vehicles"),
        ("gl.each_occurrence", "broker"),
    ] {
        let waived = app
            .call(
                Method::POST,
                &format!("{base}/compliance/parties/{}/waivers", acme.0),
                "/api/v1/companies/{company_id}/compliance/parties/{id}/waivers",
                Some(&app.admin),
                Some(json!({"requirement": requirement, "kind": "waive", "reason": reason})),
            )
            .await;
        assert_eq!(waived.status, StatusCode::CREATED, "{}", waived.body);
    }
    let contact = |first: &str| store::ComplianceChange::CreateContact {
        party: store::Ref::Id(acme),
        contact: domain::compliance::Contact {
            id: domain::compliance::ContactId(0),
            party_id: acme,
            first_name: Some(first.into()),
            last_name: Some("Acme".into()),
            email: None,
            phone: None,
            fax: None,
            primary: false,
            procore_contact_id: None,
        },
    };
    app.kit
        .store
        .apply_compliance(&store::ComplianceBatch {
            company_id: company,
            changes: &[contact("Ana"), contact("Ben")],
            ..Default::default()
        })
        .await
        .expect("two contacts made in the app");
    let gold = app
        .call(
            Method::PUT,
            &format!("{base}/compliance/profiles/Gold"),
            "/api/v1/companies/{company_id}/compliance/profiles/{name}",
            Some(&app.admin),
            Some(json!({"name": "Gold", "requirements": [{"key": "gl", "subject": "general_liability", "check": {"type": "coverage_present"}}]})),
        )
        .await;
    assert_eq!(gold.status, StatusCode::OK, "{}", gold.body);
    eventually(PATIENCE, "two users waiting", || async {
        let a = app
            .get(
                &format!("{base}/workforce/waiting"),
                "/api/v1/companies/{company_id}/workforce/waiting",
                Some(&app.admin),
            )
            .await;
        (a.body.as_array().map_or(0, Vec::len) >= 2).then_some(())
    })
    .await;
    eventually(PATIENCE, "insurance records written", || async {
        let a = app
            .get(
                &format!("{base}/compliance/insurance"),
                "/api/v1/companies/{company_id}/compliance/insurance",
                Some(&app.admin),
            )
            .await;
        (a.body.as_array().map_or(0, Vec::len) >= 2).then_some(())
    })
    .await;
    app
}

#[tokio::test]
async fn every_list_pages_to_its_last_item_by_its_link_headers_and_refuses_a_wrong_limit() {
    let app = busy_app().await;
    let lists = lists(&app);
    assert!(lists.len() >= 12, "{lists:?}");
    // A party's lists are walked on the party with a certificate (Acme, the first).
    let party = app.kit.store.parties(app.kit.company).await.unwrap()[0]
        .id
        .0;
    for template in lists {
        let path = template
            .replace("{company_id}", &app.kit.company.to_string())
            .replace("/parties/{id}/", &format!("/parties/{party}/"));
        assert!(
            !path.contains('{'),
            "{template} takes more than the company or a party"
        );

        // The server keeps working (syncs the seed queued, the scheduler): a list that changed
        // while it was walked is walked again.
        let mut tries = 0;
        loop {
            let whole = list_whole(&app, &path, &template).await;
            // One company is connected: that list is walked with what it has (it pages by
            // the code the other lists prove).
            let few = template.ends_with("/connections");
            assert!(
                whole.len() >= 2 || (few && !whole.is_empty()),
                "{template} lists too little to page: {whole:?}"
            );
            let mut walked = Vec::new();
            let mut next = Some(format!("{path}?limit=1"));
            while let Some(url) = next.take() {
                let page = app.get(&url, &template, Some(&app.admin)).await;
                assert_eq!(page.status, StatusCode::OK, "{url}: {}", page.body);
                let items = page.body.as_array().unwrap();
                assert!(items.len() <= 1, "{url} answered more than its limit");
                walked.extend(items.iter().map(identity));
                next = page.headers.get("link").map(|l| {
                    let l = l.to_str().unwrap();
                    assert!(l.ends_with("rel=\"next\""), "{l}");
                    l[l.find('<').unwrap() + 1..l.find('>').unwrap()].to_string()
                });
                assert!(
                    walked.len() <= whole.len() + 50,
                    "{template} pages without end"
                );
            }
            // The queue and the runs grow while the server works: newer items may lead the walk.
            if template.ends_with("/jobs") || template.ends_with("/runs") {
                walked.retain(|i| whole.contains(i));
            }
            let after = list_whole(&app, &path, &template).await;
            tries += 1;
            if after != whole && tries < 5 {
                continue;
            }
            assert_eq!(
                walked, whole,
                "{template}: walking the pages lists the list"
            );
            let distinct: BTreeSet<_> = walked.iter().collect();
            assert_eq!(distinct.len(), walked.len(), "{template} repeats an item");
            break;
        }

        for wrong in ["0", "501"] {
            let refused = app
                .get(
                    &format!("{path}?limit={wrong}"),
                    &template,
                    Some(&app.admin),
                )
                .await;
            assert_eq!(
                refused.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{template}?limit={wrong}: {}",
                refused.body
            );
            assert_eq!(refused.body["errors"][0]["field"], "limit", "{template}");
        }
    }
}

/// The whole list at `path`, each item by its identity.
async fn list_whole(app: &App, path: &str, template: &str) -> Vec<String> {
    let whole = app
        .get(&format!("{path}?limit=500"), template, Some(&app.admin))
        .await;
    assert_eq!(whole.status, StatusCode::OK, "{template}: {}", whole.body);
    whole
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(identity)
        .collect()
}

/// A concrete path for `template`: every parameter is 1.
fn concrete(app: &App, template: &str) -> String {
    template
        .replace("{company_id}", &app.kit.company.to_string())
        .replace("{kind}", "project")
        .replace("{name}", "Standard")
        .split('/')
        .map(|part| if part.starts_with('{') { "1" } else { part })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn a_read_only_token_is_refused_every_change_and_a_worker_token_everything_but_forms() {
    let app = App::start().await;
    let reader = app.token("dashboard", ApiScope::ReadOnly).await;
    let worker = a_worker(&app).await;
    let phone = app
        .token(
            "phone",
            ApiScope::Worker {
                company_id: app.kit.company,
                worker_id: worker,
            },
        )
        .await;
    let before = app.kit.store.api_tokens().await.unwrap().len();
    let mut changes = 0;
    for (method, template) in app.operations() {
        let path = concrete(&app, &template);
        let body = Some(json!({}));
        if method != Method::GET {
            changes += 1;
            let refused = app
                .call(
                    method.clone(),
                    &path,
                    &template,
                    Some(&reader),
                    body.clone(),
                )
                .await;
            assert_eq!(
                refused.status,
                StatusCode::FORBIDDEN,
                "{method} {template} with a read-only token: {}",
                refused.body
            );
            assert!(
                refused.body["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("admin")),
                "{method} {template}: {}",
                refused.body
            );
        }
        let for_workers = (template.contains("/forms")
            && !(template.contains("/forms/templates") && method != Method::GET))
            || (template.ends_with("/workforce/projects") && method == Method::GET);
        if !for_workers && template != "/api/v1/openapi.json" {
            let refused = app
                .call(method.clone(), &path, &template, Some(&phone), body)
                .await;
            assert_eq!(
                refused.status,
                StatusCode::FORBIDDEN,
                "{method} {template} with a worker token: {}",
                refused.body
            );
        }
    }
    assert!(changes >= 20, "{changes} changing operations");
    assert_eq!(app.kit.store.api_tokens().await.unwrap().len(), before);
}

#[tokio::test]
async fn every_post_takes_an_idempotency_key_and_answers_it_again_alike() {
    let app = App::start().await;
    for (method, template) in app.operations() {
        if method != Method::POST {
            continue;
        }
        let documented = app.doc["paths"][template.as_str()]["post"]["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["name"] == "Idempotency-Key"));
        assert!(
            documented,
            "POST {template} does not document Idempotency-Key"
        );
        let path = concrete(&app, &template);
        let key = format!("key {template}");
        let headers = [("Idempotency-Key", key.as_str())];
        let send = || {
            app.call_with(
                Method::POST,
                &path,
                &template,
                Some(&app.admin),
                &headers,
                Some(json!({"nothing": "that any route takes"})),
            )
        };
        let first = send().await;
        if first.status.is_server_error() {
            continue;
        }
        let again = send().await;
        assert_eq!(again.status, first.status, "POST {template}");
        assert_eq!(again.body, first.body, "POST {template}");
        assert_eq!(
            again
                .headers
                .get("idempotent-replayed")
                .map(|v| v.to_str().unwrap()),
            Some("true"),
            "POST {template}"
        );
    }
}

/// A schema that says nothing of its shape: an empty one, or an object with no properties
/// (a map whose values have a shape has one).
fn shapeless(schema: &Value) -> bool {
    let Some(s) = schema.as_object() else {
        return true;
    };
    let says = [
        "$ref",
        "properties",
        "items",
        "oneOf",
        "anyOf",
        "allOf",
        "enum",
    ]
    .iter()
    .any(|k| s.contains_key(*k))
        || s.get("type").is_some_and(|t| t != "object")
        || s.get("additionalProperties")
            .is_some_and(|a| a.is_object() && !shapeless(a));
    !says
}

#[test]
fn every_body_the_api_takes_or_gives_has_its_shape_in_the_document_but_a_partial_settings_change_and_the_document_itself(
) {
    let doc = serde_json::to_value(api::openapi()).unwrap();
    let mut vague = Vec::new();
    for (template, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let mut bodies = vec![("request".to_string(), &op["requestBody"]["content"])];
            for (status, answer) in op["responses"].as_object().into_iter().flatten() {
                bodies.push((status.clone(), &answer["content"]));
            }
            for (which, content) in bodies {
                for (media, m) in content.as_object().into_iter().flatten() {
                    if media.contains("json") && shapeless(&m["schema"]) {
                        vague.push(format!("{method} {template} {which}"));
                    }
                }
            }
        }
    }
    assert_eq!(
        vague,
        [
            "patch /api/v1/companies/{company_id}/compliance/settings request",
            "get /api/v1/openapi.json 200"
        ],
        "these bodies are untyped in the document"
    );
}

#[tokio::test]
async fn an_import_and_a_waiver_sent_again_with_their_keys_get_their_first_answers_and_are_made_once(
) {
    let app = App::start().await;
    let [acme, _] = crate::compliance::seeded(&app).await;
    let company = app.kit.company;
    let base = format!("/api/v1/companies/{company}/compliance");
    let send = |path: String, template: &'static str, key: &'static str, body: Value| {
        let app = &app;
        async move {
            app.call_with(
                Method::POST,
                &path,
                template,
                Some(&app.admin),
                &[("Idempotency-Key", key)],
                Some(body),
            )
            .await
        }
    };

    // Unreplayed, a second import would answer "found and updated"; replayed, it answers as
    // the first did, and writes nothing again.
    let import = format!("{base}/import");
    let document = json!({"parties": [{"id": 1, "name": "Cedar Roofing"}]});
    let template = "/api/v1/companies/{company_id}/compliance/import";
    let first = send(import.clone(), template, "import-1", document.clone()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["parties"], json!({"added": 1, "updated": 0}));
    let again = send(import, template, "import-1", document).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.body, first.body);

    // Unreplayed, a second waiver of the same scope and target would be refused as a copy.
    let waivers = format!("{base}/parties/{}/waivers", acme.0);
    let template = "/api/v1/companies/{company_id}/compliance/parties/{id}/waivers";
    let waiver =
        json!({"subject": "umbrella_excess", "kind": "waive", "reason": "no work at height"});
    let first = send(waivers.clone(), template, "waiver-1", waiver.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let again = send(waivers.clone(), template, "waiver-1", waiver.clone()).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.body, first.body);
    let made = app
        .get(&waivers, template, Some(&app.admin))
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["reason"] == "no work at height")
        .count();
    assert_eq!(made, 1);
    // A new key is a new request: the copy is refused.
    let copy = send(waivers, template, "waiver-2", waiver).await;
    assert_eq!(copy.status, StatusCode::CONFLICT, "{}", copy.body);
}
