//! `--json`: every command that prints a view prints it as JSON in the REST API's shapes, for
//! scripts.

mod common;

use common::Setup;
use procore_sim::demo;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

fn json_of(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

/// The REST API as `trestle serve` mounts it, over the store the binary writes, on an
/// ephemeral port, called with an admin token `trestle token create --json` made: what the
/// CLI's `--json` must print the same as.
struct Api {
    url: String,
    token: String,
    http: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
}

impl Api {
    async fn over(setup: &Setup, sim_url: &str) -> Api {
        let made = json_of(
            &setup
                .ok(&[
                    "token", "create", "--name", "json", "--scope", "admin", "--json",
                ])
                .await,
        );
        let token = made["secret"]
            .as_str()
            .unwrap_or_else(|| panic!("{made}"))
            .to_string();
        let router = api::router(
            setup.store().await,
            api::Options {
                public_url: None,
                job_attempts: 5,
                wake: Arc::default(),
                settings: Some(Arc::new(harness::engine_settings(sim_url))),
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Api {
            url,
            token,
            http: reqwest::Client::new(),
            server,
        }
    }

    /// `method path` with the token and `body`: the status and the JSON answered.
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the API answers");
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, json_of(&text))
    }

    /// `GET path`, which must answer 200.
    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// `/api/v1/companies/{the demo company}` and `rest`.
fn company_path(rest: &str) -> String {
    format!("/api/v1/companies/{}{rest}", demo::COMPANY_ID)
}

#[tokio::test]
async fn the_views_print_json_in_the_apis_shapes() {
    let running = common::spawn_demo_sim().await;
    let sim = running.sim();
    let setup = Setup::new(&running.url());
    setup.connect(&[]).await;
    let (acme, _) = setup.with_compliance(sim).await;
    setup.sync("compliance").await;

    let status = json_of(&setup.ok(&["status", "--json"]).await);
    assert_eq!(
        status[0]["company_id"],
        procore_sim::demo::COMPANY_ID,
        "{status}"
    );
    assert!(status[0]["problems"].is_array() && status[0]["queue"]["pending"].is_u64());

    let jobs = json_of(&setup.ok(&["jobs", "--json"]).await);
    assert!(jobs.is_array(), "{jobs}");

    let parties = json_of(&setup.ok(&["compliance", "parties", "--json"]).await);
    let acme_row = parties
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["procore_vendor_id"] == acme)
        .unwrap_or_else(|| panic!("{parties}"));
    assert_eq!(acme_row["name"], "Acme Electric");
    assert!(acme_row["status"].is_string());

    let projects = json_of(&setup.ok(&["compliance", "projects", "--json"]).await);
    assert!(projects
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "Harbor Tower"));
    let mappings = json_of(&setup.ok(&["compliance", "mappings", "--json"]).await);
    assert!(mappings
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["state"].is_string() && m["decision"].is_string() && m["kind"].is_string()));
    let settings = json_of(&setup.ok(&["compliance", "settings", "--json"]).await);
    assert_eq!(settings["new_projects"], "import_automatically");

    let explained = json_of(
        &setup
            .ok(&["explain", "procore-company", &acme.to_string(), "--json"])
            .await,
    );
    assert_eq!(explained["kind"], "procore-company");
    assert_eq!(explained["id"], acme);
    assert!(explained["history"]
        .as_array()
        .is_some_and(|h| !h.is_empty()));
}

#[tokio::test]
async fn connect_prints_as_json_the_checklist_the_api_answers_a_connection_with() {
    let running = common::spawn_demo_sim().await;
    let setup = Setup::new(&running.url());
    let printed = json_of(&setup.connect(&["--no-sync", "--json"]).await);
    assert_eq!(printed["company_id"], demo::COMPANY_ID, "{printed}");
    assert_eq!(printed["saved"], true);
    assert_eq!(printed["job_id"], Value::Null, "the CLI queues no job");
    assert!(printed["workforce"]
        .as_array()
        .is_some_and(|c| !c.is_empty() && c.iter().all(|c| c["ok"] == true)));

    // The same company connected again through the API, with nothing changed.
    let api = Api::over(&setup, &running.url()).await;
    let body = json!({
        "company_id": demo::COMPANY_ID,
        "client_id": demo::CLIENT_ID,
        "client_secret": demo::CLIENT_SECRET,
    });
    let (status, answered) = api
        .call(Method::POST, "/api/v1/connections", Some(body))
        .await;
    assert_eq!(status, StatusCode::OK, "{answered}");
    assert_eq!(printed, answered);

    // A refusal: the problem the API answers, on standard output, and a failed exit.
    let secret = setup.dir.path().join("wrong.secret");
    std::fs::write(&secret, "not-the-secret").unwrap();
    let company = demo::COMPANY_ID.to_string();
    let out = setup
        .trestle(
            &[
                "connect",
                "--company-id",
                &company,
                "--client-id",
                demo::CLIENT_ID,
                "--client-secret-file",
                &secret.display().to_string(),
                "--no-sync",
                "--json",
            ],
            None,
        )
        .await;
    assert!(!out.status.success(), "{}", common::text(&out));
    let printed = json_of(&String::from_utf8_lossy(&out.stdout));
    let (status, answered) = api
        .call(
            Method::POST,
            "/api/v1/connections",
            Some(json!({
                "company_id": demo::COMPANY_ID,
                "client_id": demo::CLIENT_ID,
                "client_secret": "not-the-secret",
            })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answered}");
    assert_eq!(printed, answered);
}

#[tokio::test]
async fn a_dry_run_prints_as_json_what_the_apis_preview_answers() {
    let running = common::spawn_demo_sim().await;
    let setup = Setup::new(&running.url());
    setup.connect(&["--no-sync"]).await;
    setup.with_compliance(running.sim()).await;
    let api = Api::over(&setup, &running.url()).await;
    for integration in ["workforce", "compliance"] {
        let mut printed = json_of(
            &setup
                .ok(&["sync", integration, "--dry-run", "--json"])
                .await,
        );
        let (status, mut answered) = api
            .call(
                Method::POST,
                &company_path("/syncs/preview"),
                Some(json!({ "integration": integration })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answered}");
        assert!(
            printed["actions"].as_array().is_some_and(|a| !a.is_empty()),
            "{printed}"
        );
        // Each is a dry run of its own, in the run log.
        let (Some(mine), Some(its)) = (printed["run_id"].as_i64(), answered["run_id"].as_i64())
        else {
            panic!("{printed}\n{answered}")
        };
        assert!(mine < its);
        printed["run_id"] = Value::Null;
        answered["run_id"] = Value::Null;
        assert_eq!(printed, answered, "{integration}");
    }
}

#[tokio::test]
async fn a_sync_prints_as_json_its_run_as_the_api_answers_it() {
    let running = common::spawn_demo_sim().await;
    let setup = Setup::new(&running.url());
    setup.connect(&["--no-sync"]).await;
    setup.with_compliance(running.sim()).await;
    let api = Api::over(&setup, &running.url()).await;
    for integration in ["workforce", "compliance"] {
        let printed = json_of(&setup.ok(&["sync", integration, "--json"]).await);
        assert_eq!(printed["run"]["integration"], integration, "{printed}");
        assert_eq!(printed["run"]["dry_run"], false);
        assert!(printed["entries"].as_array().is_some_and(|e| !e.is_empty()));
        let id = printed["run"]["id"].as_i64().unwrap();
        let answered = api.get(&company_path(&format!("/runs/{id}"))).await;
        assert_eq!(printed, answered, "{integration}");
    }
}

#[tokio::test]
async fn token_create_and_list_print_as_json_the_apis_token_shapes_and_never_a_hash() {
    let running = common::spawn_demo_sim().await;
    let setup = Setup::new(&running.url());
    // The API's own token is made by `token create --json`, and its secret signs in.
    let api = Api::over(&setup, &running.url()).await;
    let made = json_of(
        &setup
            .ok(&[
                "token",
                "create",
                "--name",
                "CI",
                "--scope",
                "read-only",
                "--json",
            ])
            .await,
    );
    let secret = made["secret"].as_str().unwrap();
    assert!(secret.starts_with(made["token"]["prefix"].as_str().unwrap()));
    assert_eq!(made["token"]["scope"], "read-only");

    let answered = api.get("/api/v1/tokens").await;
    let printed = json_of(&setup.ok(&["token", "list", "--json"]).await);
    assert_eq!(printed, answered);
    let listed = printed.as_array().unwrap();
    assert_eq!(listed.len(), 2, "{printed}");
    assert_eq!(listed[1], made["token"], "the token made, as listed");
    let text = printed.to_string();
    assert!(!text.contains(secret), "the token is printed once: {text}");
    assert!(
        !text.contains("hash") && !made.to_string().contains("hash"),
        "{text}"
    );
}

#[tokio::test]
async fn the_profile_certificate_and_waiver_lists_print_as_json_what_the_api_answers() {
    let running = common::spawn_demo_sim().await;
    let setup = Setup::new(&running.url());
    setup.connect(&["--no-sync"]).await;
    setup.with_compliance(running.sim()).await;
    setup
        .ok(&[
            "compliance",
            "waiver",
            "add",
            "--party",
            "Acme Electric",
            "--requirement",
            "auto.csl",
            "--kind",
            "override",
            "--reason",
            "Fleet endorsement on file",
            "--until",
            "2030-12-31",
        ])
        .await;
    let api = Api::over(&setup, &running.url()).await;

    let printed = json_of(&setup.ok(&["compliance", "profile", "list", "--json"]).await);
    assert_eq!(printed[0]["name"], demo::PROFILE_STANDARD, "{printed}");
    assert_eq!(
        printed,
        api.get(&company_path("/compliance/profiles")).await
    );

    let parties = json_of(&setup.ok(&["compliance", "parties", "--json"]).await);
    let acme = parties
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Acme Electric")
        .unwrap_or_else(|| panic!("{parties}"))["id"]
        .as_i64()
        .unwrap();
    for (list, path) in [("certificate", "certificates"), ("waiver", "waivers")] {
        let printed = json_of(
            &setup
                .ok(&[
                    "compliance",
                    list,
                    "list",
                    "--party",
                    "Acme Electric",
                    "--json",
                ])
                .await,
        );
        assert_eq!(printed.as_array().map(Vec::len), Some(1), "{printed}");
        assert_eq!(printed[0]["party_id"], acme);
        let answered = api
            .get(&company_path(&format!("/compliance/parties/{acme}/{path}")))
            .await;
        assert_eq!(printed, answered, "{list} list");
    }
}

#[tokio::test]
async fn a_compliance_import_prints_as_json_what_the_api_answers_an_import_with() {
    let running = common::spawn_demo_sim().await;
    let setup = Setup::new(&running.url());
    setup.connect(&["--no-sync"]).await;
    let document = |party: &str| {
        json!({"parties": [{"id": 1, "name": party}],
               "contacts": [{"id": 1, "party_id": 1, "first_name": "Dana"}]})
    };
    let file = setup.write_file("cedar.json", &document("Cedar Roofing"));
    let printed = json_of(&setup.ok(&["compliance", "import", &file, "--json"]).await);
    assert_eq!(
        printed["parties"],
        json!({"added": 1, "updated": 0}),
        "{printed}"
    );
    let api = Api::over(&setup, &running.url()).await;
    let (status, answered) = api
        .call(
            Method::POST,
            &company_path("/compliance/import"),
            Some(document("Birch Framing")),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answered}");
    assert_eq!(printed, answered);
}

#[tokio::test]
async fn a_mapping_decision_prints_as_json_what_the_api_answers_without_a_queued_job() {
    let running = common::spawn_demo_sim().await;
    let setup = Setup::new(&running.url());
    setup.connect(&["--no-sync"]).await;
    setup.with_compliance(running.sim()).await;
    setup.sync("compliance").await;
    let mappings = json_of(&setup.ok(&["compliance", "mappings", "--json"]).await);
    let project = mappings
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "project")
        .unwrap_or_else(|| panic!("{mappings}"))["procore_id"]
        .as_i64()
        .unwrap();
    let printed = json_of(
        &setup
            .ok(&[
                "compliance",
                "map",
                "project",
                &project.to_string(),
                "do-not-add",
                "--json",
            ])
            .await,
    );
    let api = Api::over(&setup, &running.url()).await;
    let (status, mut answered) = api
        .call(
            Method::POST,
            &company_path(&format!("/compliance/mappings/project/{project}")),
            Some(json!({"decision": "do_not_add"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answered}");
    assert!(answered["job_id"].is_i64(), "{answered}");
    answered["job_id"] = Value::Null;
    assert_eq!(printed, answered);
}
