//! Conformance: every operation the simulator implements answers as Procore documents it.
//!
//! Each call goes over real HTTP to a spawned simulator holding the demo company. The status must
//! be one the OpenAPI subset documents for that operation, the body must validate against the
//! documented schema for that status, and the documented headers (pages, rate limits) must be
//! present. Ids are discovered through the API itself, so the suite does not lean on the
//! simulator's internals. A final check proves that every operation the simulator claims was
//! exercised here.

mod shapes;
mod spec;

use reqwest::Method;
use serde_json::{json, Value};
use spec::{violations, Spec};
use std::collections::BTreeSet;

struct Conformance {
    base: String,
    token: String,
    company: i64,
    http: reqwest::Client,
    spec: Spec,
    implemented: BTreeSet<(String, String)>,
    covered: BTreeSet<(String, String)>,
    failures: Vec<String>,
}

struct Reply {
    body: Value,
}

impl Conformance {
    fn implements(&self, method: &str, template: &str) -> bool {
        self.implemented
            .contains(&(method.to_string(), template.to_string()))
    }

    /// Runs the whole upload flow (create the upload, send the bytes to the storage URL with the
    /// returned fields and no token) and returns the upload's uuid for a file or version.
    async fn upload(&mut self, project: &str, name: &str) -> Option<String> {
        let reply = self
            .call(
                "POST",
                "/rest/v1.1/projects/{project_id}/uploads",
                &format!("/rest/v1.1/projects/{project}/uploads"),
                &[],
                Some(
                    json!({"response_filename": name, "response_content_type": "application/pdf"}),
                ),
            )
            .await?;
        let uuid = reply.body.get("uuid")?.as_str()?.to_string();
        let url = reply.body["url"].as_str()?.to_string();
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in reply.body["fields"].as_object().into_iter().flatten() {
            form = form.text(k.clone(), v.as_str().unwrap_or_default().to_string());
        }
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(b"%PDF-1.4 conformance".to_vec())
                .file_name(name.to_string()),
        );
        let stored = self.http.post(url).multipart(form).send().await.ok()?;
        if !stored.status().is_success() {
            self.failures.push(format!(
                "the storage URL refused the upload: {}",
                stored.status()
            ));
            return None;
        }
        Some(uuid)
    }

    /// Sends one documented operation and checks status, body and headers against the spec.
    async fn call(
        &mut self,
        method: &str,
        template: &str,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> Option<Reply> {
        if !self.implements(method, template) {
            return None;
        }
        self.covered
            .insert((method.to_string(), template.to_string()));
        let url = format!("{}{}", self.base, path);
        let mut request = self
            .http
            .request(Method::from_bytes(method.as_bytes()).unwrap(), &url)
            .query(query)
            .bearer_auth(&self.token)
            .header("Procore-Company-Id", self.company.to_string());
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the simulator answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let body: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => {
                    self.failures.push(format!(
                        "{method} {path}: body is not JSON ({e}): {text:.200}"
                    ));
                    Value::Null
                }
            }
        };
        let op = format!("{method} {template} -> {status}");
        let documented = self
            .spec
            .operation(method, template)
            .and_then(|o| o.get("responses"))
            .and_then(|r| r.get(status.to_string()))
            .is_some();
        if !documented || !(200..400).contains(&status) {
            self.failures.push(format!(
                "{op}: status is not a documented success for this operation; body {text:.300}"
            ));
            return Some(Reply { body });
        }
        if let Some(mut schema) = self.spec.body_schema(method, template, status) {
            if (method, template) == ("POST", "/oauth/token") {
                // Procore's OAuth server leaves blank members out of the token answer (its
                // client-credentials example has no `refresh_token`) rather than sending `null`.
                schema["required"] = json!([]);
            }
            for v in violations(&schema, &body) {
                self.failures.push(format!("{op}: {v}"));
            }
        }
        for name in self.spec.response_headers(method, template, status) {
            if !headers.contains_key(name.as_str()) {
                self.failures
                    .push(format!("{op}: documented header {name} is missing"));
            }
        }
        for name in [
            "X-Rate-Limit-Limit",
            "X-Rate-Limit-Remaining",
            "X-Rate-Limit-Reset",
        ] {
            if template.starts_with("/rest/") && !headers.contains_key(name) {
                self.failures
                    .push(format!("{op}: rate-limit header {name} is missing"));
            }
        }
        Some(Reply { body })
    }
}

fn id_of(v: &Value) -> Option<String> {
    match v.get("id")? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn first_id(reply: &Option<Reply>) -> Option<String> {
    let body = &reply.as_ref()?.body;
    let items = body.get("data").unwrap_or(body);
    items.as_array()?.first().and_then(id_of)
}

async fn setup() -> (procore_sim::Running, Conformance) {
    let sim = procore_sim::Sim::new(
        procore_sim::demo::world(),
        procore_sim::SimConfig {
            // Generous limits: the headers are still sent on every response, which the suite
            // checks, but the suite's own calls never draw a 429.
            rate_limits: Some(procore_sim::RateLimits {
                hourly: 1_000_000,
                spike: 100_000,
                ..Default::default()
            }),
            ..Default::default()
        },
    );
    let running = procore_sim::spawn(sim).await;
    let base = running.url();
    // No redirects: `/oauth/authorize` answers 302 and the suite checks that answer itself.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let token: Value = http
        .post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", procore_sim::demo::CLIENT_ID),
            ("client_secret", procore_sim::demo::CLIENT_SECRET),
        ])
        .send()
        .await
        .expect("token endpoint answers")
        .json()
        .await
        .expect("token JSON");
    let token = token["access_token"]
        .as_str()
        .expect("an access token")
        .to_string();
    let implemented = procore_sim::operations()
        .into_iter()
        .map(|(m, t)| (m.to_string().to_uppercase(), t.to_string()))
        .collect();
    let conformance = Conformance {
        base,
        token,
        company: procore_sim::demo::COMPANY_ID,
        http,
        spec: Spec::load(),
        implemented,
        covered: BTreeSet::new(),
        failures: Vec::new(),
    };
    (running, conformance)
}

#[tokio::test]
async fn every_operation_the_simulator_implements_is_documented_in_the_openapi_subset() {
    let spec = Spec::load();
    let documented: BTreeSet<(String, String)> = spec.operations().into_iter().collect();
    let undocumented: Vec<_> = procore_sim::operations()
        .into_iter()
        .map(|(m, t)| (m.to_string().to_uppercase(), t.to_string()))
        .filter(|op| !documented.contains(op) && !op.1.starts_with("/_sim"))
        .collect();
    assert!(
        undocumented.is_empty(),
        "the simulator serves operations the subset does not document: {undocumented:?}"
    );
}

#[test]
fn operations_beyond_the_subset_are_neither_documented_there_nor_listed_as_in_it() {
    // If the subset ever documents them, they must move into `operations()` so this suite
    // checks them against the schema.
    let spec = Spec::load();
    let documented: BTreeSet<(String, String)> = spec.operations().into_iter().collect();
    let listed: BTreeSet<(String, String)> = procore_sim::operations()
        .into_iter()
        .map(|(m, t)| (m.to_string().to_uppercase(), t.to_string()))
        .collect();
    for (m, t) in procore_sim::operations_beyond_the_subset() {
        let op = (m.to_string().to_uppercase(), t.to_string());
        assert!(
            !documented.contains(&op),
            "{op:?} is documented in the subset now"
        );
        assert!(!listed.contains(&op), "{op:?} is listed twice");
    }
}

#[tokio::test]
async fn every_implemented_operation_answers_as_documented() {
    let (_running, mut c) = setup().await;
    let cid = c.company;
    let q_company = vec![("company_id", cid.to_string())];

    // Identity.
    c.call("GET", "/rest/v1.0/me", "/rest/v1.0/me", &[], None)
        .await;
    c.call(
        "GET",
        "/rest/v1.0/companies",
        "/rest/v1.0/companies",
        &[],
        None,
    )
    .await;

    // Projects.
    let projects = c
        .call(
            "GET",
            "/rest/v1.0/projects",
            "/rest/v1.0/projects",
            &q_company,
            None,
        )
        .await;
    let project = first_id(&projects).expect("the demo company has a visible project");
    c.call(
        "GET",
        "/rest/v1.0/projects/{id}",
        &format!("/rest/v1.0/projects/{project}"),
        &q_company,
        None,
    )
    .await;
    c.call(
        "GET",
        "/rest/v1.1/projects",
        "/rest/v1.1/projects",
        &q_company,
        None,
    )
    .await;
    let created = c
        .call(
            "POST",
            "/rest/v1.0/projects",
            "/rest/v1.0/projects",
            &[],
            Some(json!({"company_id": cid, "project": {"name": "Conformance Tower"}})),
        )
        .await;
    if let Some(new_project) = created.as_ref().and_then(|r| id_of(&r.body)) {
        c.call(
            "PATCH",
            "/rest/v1.0/projects/{id}",
            &format!("/rest/v1.0/projects/{new_project}"),
            &[],
            Some(json!({"company_id": cid, "project": {"name": "Conformance Tower II"}})),
        )
        .await;
    }

    // Company users and people.
    let users_path = format!("/rest/v1.0/companies/{cid}/users");
    let users = c
        .call(
            "GET",
            "/rest/v1.0/companies/{company_id}/users",
            &users_path,
            &[],
            None,
        )
        .await;
    let user = first_id(&users).expect("the demo company has users");
    c.call(
        "GET",
        "/rest/v1.0/companies/{company_id}/users/inactive",
        &format!("{users_path}/inactive"),
        &[],
        None,
    )
    .await;
    c.call(
        "GET",
        "/rest/v1.0/companies/{company_id}/users/{id}",
        &format!("{users_path}/{user}"),
        &[],
        None,
    )
    .await;
    c.call(
        "GET",
        "/rest/v1.3/companies/{company_id}/users",
        &format!("/rest/v1.3/companies/{cid}/users"),
        &[],
        None,
    )
    .await;
    c.call(
        "GET",
        "/rest/v1.3/companies/{company_id}/users/{id}",
        &format!("/rest/v1.3/companies/{cid}/users/{user}"),
        &[],
        None,
    )
    .await;
    let new_user = c
        .call(
            "POST",
            "/rest/v1.0/companies/{company_id}/users",
            &users_path,
            &[],
            Some(
                json!({"user": {"first_name": "Conny", "last_name": "Formance",
                                 "email_address": "conny.formance@example.com"}}),
            ),
        )
        .await;
    if let Some(id) = new_user.as_ref().and_then(|r| id_of(&r.body)) {
        c.call(
            "PATCH",
            "/rest/v1.0/companies/{company_id}/users/{id}",
            &format!("{users_path}/{id}"),
            &[],
            Some(json!({"user": {"job_title": "Inspector"}})),
        )
        .await;
    }
    c.call(
        "GET",
        "/rest/v1.0/companies/{company_id}/people",
        &format!("/rest/v1.0/companies/{cid}/people"),
        &[],
        None,
    )
    .await;
    let stages = c
        .call(
            "GET",
            "/rest/v1.0/companies/{company_id}/project_stages",
            &format!("/rest/v1.0/companies/{cid}/project_stages"),
            &[],
            None,
        )
        .await;
    if let Some(stage) = first_id(&stages) {
        c.call(
            "GET",
            "/rest/v1.0/companies/{company_id}/project_stages/{id}",
            &format!("/rest/v1.0/companies/{cid}/project_stages/{stage}"),
            &[],
            None,
        )
        .await;
    }
    c.call(
        "GET",
        "/rest/v1.0/companies/{company_id}/projects",
        &format!("/rest/v1.0/companies/{cid}/projects"),
        &[],
        None,
    )
    .await;

    // Vendors.
    let vendors = c
        .call(
            "GET",
            "/rest/v1.0/vendors",
            "/rest/v1.0/vendors",
            &q_company,
            None,
        )
        .await;
    let vendor = first_id(&vendors).expect("the demo company has vendors");
    c.call(
        "GET",
        "/rest/v1.0/vendors/{id}",
        &format!("/rest/v1.0/vendors/{vendor}"),
        &q_company,
        None,
    )
    .await;
    c.call(
        "GET",
        "/rest/v1.0/companies/{company_id}/vendors/inactive",
        &format!("/rest/v1.0/companies/{cid}/vendors/inactive"),
        &[],
        None,
    )
    .await;
    let new_vendor = c
        .call(
            "POST",
            "/rest/v1.0/vendors",
            "/rest/v1.0/vendors",
            &[],
            Some(json!({"company_id": cid, "vendor": {"name": "Conformance Concrete"}})),
        )
        .await;
    if let Some(id) = new_vendor.as_ref().and_then(|r| id_of(&r.body)) {
        c.call(
            "PATCH",
            "/rest/v1.0/vendors/{id}",
            &format!("/rest/v1.0/vendors/{id}"),
            &[],
            Some(json!({"company_id": cid, "vendor": {"website": "https://example.com"}})),
        )
        .await;
    }
    let project_vendors = c
        .call(
            "GET",
            "/rest/v1.0/projects/{project_id}/vendors",
            &format!("/rest/v1.0/projects/{project}/vendors"),
            &[],
            None,
        )
        .await;
    if let Some(id) = first_id(&project_vendors) {
        c.call(
            "GET",
            "/rest/v1.0/projects/{project_id}/vendors/{id}",
            &format!("/rest/v1.0/projects/{project}/vendors/{id}"),
            &[],
            None,
        )
        .await;
    }
    let project_users = c
        .call(
            "GET",
            "/rest/v1.0/projects/{project_id}/users",
            &format!("/rest/v1.0/projects/{project}/users"),
            &[],
            None,
        )
        .await;
    if let Some(id) = first_id(&project_users) {
        c.call(
            "GET",
            "/rest/v1.0/projects/{project_id}/users/{id}",
            &format!("/rest/v1.0/projects/{project}/users/{id}"),
            &[],
            None,
        )
        .await;
    }

    // Commitments of both kinds.
    let q_project = vec![("project_id", project.clone())];
    for kind in ["work_order_contracts", "purchase_order_contracts"] {
        let list_t = format!("/rest/v1.0/{kind}");
        let item_t = format!("/rest/v1.0/{kind}/{{id}}");
        let list = c.call("GET", &list_t, &list_t, &q_project, None).await;
        if let Some(id) = first_id(&list) {
            c.call(
                "GET",
                &item_t,
                &format!("/rest/v1.0/{kind}/{id}"),
                &q_project,
                None,
            )
            .await;
        }
        let wrapper = kind.trim_end_matches('s');
        let created = c
            .call(
                "POST",
                &list_t,
                &list_t,
                &[],
                Some(json!({"project_id": project.parse::<i64>().unwrap(),
                             wrapper: {"title": "Conformance commitment", "vendor_id": vendor.parse::<i64>().unwrap(), "status": "Draft"}})),
            )
            .await;
        if let Some(id) = created.as_ref().and_then(|r| id_of(&r.body)) {
            c.call(
                "PATCH",
                &item_t,
                &format!("/rest/v1.0/{kind}/{id}"),
                &[],
                Some(json!({"project_id": project.parse::<i64>().unwrap(), wrapper: {"status": "Approved"}})),
            )
            .await;
        }
    }
    // The combined list documents only the work-order statuses, though it lists purchase
    // orders too, which keep their own (`Processing`, `Received`, ...): check it on the new
    // project, holding one commitment of each kind in a status both kinds share.
    if let Some(mixed) = created.as_ref().and_then(|r| id_of(&r.body)) {
        let mixed_n: i64 = mixed.parse().unwrap();
        for kind in ["work_order_contract", "purchase_order_contract"] {
            let status = c
                .http
                .post(format!("{}/rest/v1.0/{kind}s", c.base))
                .bearer_auth(&c.token)
                .header("Procore-Company-Id", cid.to_string())
                .json(
                    &json!({"project_id": mixed_n, kind: {"title": "Mixed", "status": "Approved",
                    "vendor_id": vendor.parse::<i64>().unwrap()}}),
                )
                .send()
                .await
                .expect("the simulator answers")
                .status();
            assert!(status.is_success(), "creating a {kind}: {status}");
        }
        let q_mixed = vec![("project_id", mixed)];
        let commitments = c
            .call(
                "GET",
                "/rest/v1.0/commitments",
                "/rest/v1.0/commitments",
                &q_mixed,
                None,
            )
            .await;
        let listed = commitments
            .as_ref()
            .and_then(|r| r.body.as_array())
            .map_or(0, Vec::len);
        assert_eq!(listed, 2, "the combined list holds both kinds");
        if let Some(id) = first_id(&commitments) {
            c.call(
                "GET",
                "/rest/v1.0/commitments/{id}",
                &format!("/rest/v1.0/commitments/{id}"),
                &q_mixed,
                None,
            )
            .await;
        }
    }
    let v2 = format!("/rest/v2.0/companies/{cid}/projects/{project}/commitment_contracts");
    let contracts = c
        .call(
            "GET",
            "/rest/v2.0/companies/{company_id}/projects/{project_id}/commitment_contracts",
            &v2,
            &[("view", "extended".to_string())],
            None,
        )
        .await;
    if let Some(id) = first_id(&contracts) {
        c.call(
            "GET",
            "/rest/v2.0/companies/{company_id}/projects/{project_id}/commitment_contracts/{commitment_contract_id}",
            &format!("{v2}/{id}"),
            &[],
            None,
        )
        .await;
    }

    // Insurances in all four scopes: company-vendor, project-vendor, and the company-wide and
    // project-wide collections (which name the vendor in the body).
    let vendor_n: i64 = vendor.parse().unwrap();
    for (prefix_t, prefix, vendor_in_body) in [
        (
            "/rest/v1.0/companies/{company_id}/vendors/{vendor_id}/insurances".to_string(),
            format!("/rest/v1.0/companies/{cid}/vendors/{vendor}/insurances"),
            false,
        ),
        (
            "/rest/v1.0/projects/{project_id}/vendors/{vendor_id}/insurances".to_string(),
            format!("/rest/v1.0/projects/{project}/vendors/{vendor}/insurances"),
            false,
        ),
        (
            "/rest/v1.0/companies/{company_id}/insurances".to_string(),
            format!("/rest/v1.0/companies/{cid}/insurances"),
            true,
        ),
        (
            "/rest/v1.0/projects/{project_id}/insurances".to_string(),
            format!("/rest/v1.0/projects/{project}/insurances"),
            true,
        ),
    ] {
        let mut insurance = json!({"insurance_type": "General Liability", "name": "Acme Mutual",
            "policy_number": "GL-1", "effective_date": "2026-01-01", "expiration_date": "2027-01-01",
            "status": "compliant", "limit": "1000000.0"});
        let mut sync_item = json!({"origin_id": format!("conformance-{prefix}"), "insurance_type": "Umbrella", "status": "compliant"});
        if vendor_in_body {
            insurance["vendor_id"] = json!(vendor_n);
            sync_item["vendor_id"] = json!(vendor_n);
        }
        let created = c
            .call(
                "POST",
                &prefix_t,
                &prefix,
                &[],
                Some(json!({ "insurance": insurance })),
            )
            .await;
        c.call("GET", &prefix_t, &prefix, &[], None).await;
        if let Some(id) = created.as_ref().and_then(|r| id_of(&r.body)) {
            let item_t = format!("{prefix_t}/{{id}}");
            c.call("GET", &item_t, &format!("{prefix}/{id}"), &[], None)
                .await;
            c.call(
                "PATCH",
                &item_t,
                &format!("{prefix}/{id}"),
                &[],
                Some(json!({"insurance": {"status": "expired"}})),
            )
            .await;
            c.call(
                "PATCH",
                &format!("{prefix_t}/sync"),
                &format!("{prefix}/sync"),
                &[],
                Some(json!({ "updates": [sync_item] })),
            )
            .await;
            c.call("DELETE", &item_t, &format!("{prefix}/{id}"), &[], None)
                .await;
        }
    }

    // Documents: folders, the upload flow, files and versions.
    let root = c
        .call(
            "GET",
            "/rest/v1.0/folders",
            "/rest/v1.0/folders",
            &q_project,
            None,
        )
        .await;
    let root_id = root.as_ref().and_then(|r| id_of(&r.body));
    let folder = c
        .call(
            "POST",
            "/rest/v1.0/folders",
            "/rest/v1.0/folders",
            &q_project,
            Some(json!({"folder": {"name": "Conformance", "parent_id": root_id.as_ref().map(|s| s.parse::<i64>().unwrap())}})),
        )
        .await;
    let folder_id = folder.as_ref().and_then(|r| id_of(&r.body));
    if let Some(folder_id) = &folder_id {
        c.call(
            "GET",
            "/rest/v1.0/folders/{id}",
            &format!("/rest/v1.0/folders/{folder_id}"),
            &q_project,
            None,
        )
        .await;
        c.call(
            "PATCH",
            "/rest/v1.0/folders/{id}",
            &format!("/rest/v1.0/folders/{folder_id}"),
            &q_project,
            Some(json!({"folder": {"name": "Conformance Renamed"}})),
        )
        .await;
    }
    let company_upload = c
        .call(
            "POST",
            "/rest/v1.1/companies/{company_id}/uploads",
            &format!("/rest/v1.1/companies/{cid}/uploads"),
            &[],
            Some(json!({"response_filename": "company.pdf", "response_content_type": "application/pdf"})),
        )
        .await;
    if let Some(uuid) = company_upload
        .as_ref()
        .and_then(|r| r.body.get("uuid"))
        .and_then(Value::as_str)
        .map(str::to_string)
    {
        let item = format!("/rest/v1.1/companies/{cid}/uploads/{uuid}");
        c.call(
            "GET",
            "/rest/v1.1/companies/{company_id}/uploads/{uuid}",
            &item,
            &[],
            None,
        )
        .await;
        c.call(
            "PATCH",
            "/rest/v1.1/companies/{company_id}/uploads/{uuid}",
            &item,
            &[],
            Some(json!({"segments": []})),
        )
        .await;
    }
    let upload_uuid = c.upload(&project, "conformance.pdf").await;
    if let Some(uuid) = &upload_uuid {
        c.call(
            "GET",
            "/rest/v1.1/projects/{project_id}/uploads/{uuid}",
            &format!("/rest/v1.1/projects/{project}/uploads/{uuid}"),
            &[],
            None,
        )
        .await;
        let file = c
            .call(
                "POST",
                "/rest/v1.0/files",
                "/rest/v1.0/files",
                &q_project,
                Some(json!({"file": {"name": "conformance.pdf", "parent_id": folder_id.as_ref().map(|s| s.parse::<i64>().unwrap()), "upload_uuid": uuid}})),
            )
            .await;
        if let Some(file_id) = file.as_ref().and_then(|r| id_of(&r.body)) {
            c.call(
                "GET",
                "/rest/v1.0/files/{id}",
                &format!("/rest/v1.0/files/{file_id}"),
                &q_project,
                None,
            )
            .await;
            if let Some(uuid2) = c.upload(&project, "conformance.pdf").await {
                c.call(
                    "PATCH",
                    "/rest/v1.0/files/{id}",
                    &format!("/rest/v1.0/files/{file_id}"),
                    &q_project,
                    Some(json!({"file": {"upload_uuid": uuid2}})),
                )
                .await;
            }
            let third = c
                .upload(&project, "conformance.pdf")
                .await
                .map(|u| json!({"file_version": {"notes": "third", "upload_uuid": u}}));
            let version = c
                .call(
                    "POST",
                    "/rest/v1.0/file_versions",
                    "/rest/v1.0/file_versions",
                    &[
                        ("project_id", project.clone()),
                        ("file_id", file_id.clone()),
                    ],
                    third,
                )
                .await;
            if let Some(version_id) = version.as_ref().and_then(|r| id_of(&r.body)) {
                c.call(
                    "GET",
                    "/rest/v1.0/file_versions/{id}",
                    &format!("/rest/v1.0/file_versions/{version_id}"),
                    &q_project,
                    None,
                )
                .await;
            }
            c.call(
                "DELETE",
                "/rest/v1.0/files/{id}",
                &format!("/rest/v1.0/files/{file_id}"),
                &q_project,
                None,
            )
            .await;
        }
    }
    if let Some(folder_id) = &folder_id {
        c.call(
            "DELETE",
            "/rest/v1.0/folders/{id}",
            &format!("/rest/v1.0/folders/{folder_id}"),
            &q_project,
            None,
        )
        .await;
    }

    // Webhooks, v1.0 and v2.0.
    for template in [
        "/rest/v1.0/webhooks/resources",
        "/rest/v1.0/webhooks/resources/api_versions",
    ] {
        c.call("GET", template, template, &q_project, None).await;
    }
    let hook = c
        .call(
            "POST",
            "/rest/v1.0/webhooks/hooks",
            "/rest/v1.0/webhooks/hooks",
            &[],
            Some(json!({"company_id": cid, "hook": {"api_version": "v2", "namespace": "trestle-conformance",
                "destination_url": "http://127.0.0.1:9/hook", "destination_headers": {"Authorization": "Bearer hook-secret-12345"}}})),
        )
        .await;
    c.call(
        "GET",
        "/rest/v1.0/webhooks/hooks",
        "/rest/v1.0/webhooks/hooks",
        &q_company,
        None,
    )
    .await;
    if let Some(hook_id) = hook.as_ref().and_then(|r| id_of(&r.body)) {
        let triggers = format!("/rest/v1.0/webhooks/hooks/{hook_id}/triggers");
        let trigger = c
            .call(
                "POST",
                "/rest/v1.0/webhooks/hooks/{hook_id}/triggers",
                &triggers,
                &[],
                Some(json!({"company_id": cid, "api_version": "v2",
                    "trigger": {"resource_name": "Projects", "event_type": "update"}})),
            )
            .await;
        c.call(
            "GET",
            "/rest/v1.0/webhooks/hooks/{hook_id}/triggers",
            &triggers,
            &q_company,
            None,
        )
        .await;
        c.call(
            "GET",
            "/rest/v1.0/webhooks/hooks/{hook_id}/deliveries",
            &format!("/rest/v1.0/webhooks/hooks/{hook_id}/deliveries"),
            &q_company,
            None,
        )
        .await;
        c.call(
            "PATCH",
            "/rest/v1.0/webhooks/hooks/{id}",
            &format!("/rest/v1.0/webhooks/hooks/{hook_id}"),
            &[],
            Some(
                json!({"company_id": cid, "hook": {"destination_url": "http://127.0.0.1:9/hook2"}}),
            ),
        )
        .await;
        if let Some(trigger_id) = trigger.as_ref().and_then(|r| id_of(&r.body)) {
            c.call(
                "DELETE",
                "/rest/v1.0/webhooks/hooks/{hook_id}/triggers/{id}",
                &format!("{triggers}/{trigger_id}"),
                &q_company,
                None,
            )
            .await;
        }
        c.call(
            "DELETE",
            "/rest/v1.0/webhooks/hooks/{id}",
            &format!("/rest/v1.0/webhooks/hooks/{hook_id}"),
            &q_company,
            None,
        )
        .await;
    }
    let v2_hooks = format!("/rest/v2.0/companies/{cid}/webhooks/hooks");
    let hook2 = c
        .call(
            "POST",
            "/rest/v2.0/companies/{company_id}/webhooks/hooks",
            &v2_hooks,
            &[],
            Some(
                json!({"payload_version": "v4.0", "namespace": "trestle-conformance",
                "destination_url": "http://127.0.0.1:9/hook"}),
            ),
        )
        .await;
    c.call(
        "GET",
        "/rest/v2.0/companies/{company_id}/webhooks/hooks",
        &v2_hooks,
        &[],
        None,
    )
    .await;
    if let Some(hook_id) = hook2
        .as_ref()
        .and_then(|r| r.body.get("data"))
        .and_then(id_of)
    {
        let item = format!("{v2_hooks}/{hook_id}");
        c.call(
            "GET",
            "/rest/v2.0/companies/{company_id}/webhooks/hooks/{id}",
            &item,
            &[],
            None,
        )
        .await;
        c.call(
            "PATCH",
            "/rest/v2.0/companies/{company_id}/webhooks/hooks/{id}",
            &item,
            &[],
            Some(json!({"status": "disabled"})),
        )
        .await;
        let trigger = c
            .call(
                "POST",
                "/rest/v2.0/companies/{company_id}/webhooks/hooks/{hook_id}/triggers",
                &format!("{item}/triggers"),
                &[],
                Some(json!({"resource_name": "Company Vendors", "event_type": "update"})),
            )
            .await;
        c.call(
            "GET",
            "/rest/v2.0/companies/{company_id}/webhooks/hooks/{hook_id}/triggers",
            &format!("{item}/triggers"),
            &[],
            None,
        )
        .await;
        c.call(
            "GET",
            "/rest/v2.0/companies/{company_id}/webhooks/hooks/{hook_id}/deliveries",
            &format!("{item}/deliveries"),
            &[],
            None,
        )
        .await;
        if let Some(trigger_id) = trigger
            .as_ref()
            .and_then(|r| r.body.get("data"))
            .and_then(id_of)
        {
            c.call(
                "DELETE",
                "/rest/v2.0/companies/{company_id}/webhooks/hooks/{hook_id}/triggers/{id}",
                &format!("{item}/triggers/{trigger_id}"),
                &[],
                None,
            )
            .await;
        }
        c.call(
            "DELETE",
            "/rest/v2.0/companies/{company_id}/webhooks/hooks/{id}",
            &item,
            &[],
            None,
        )
        .await;
    }

    // The company-wide insurance sync names the company in each item.
    c.call(
        "PATCH",
        "/rest/v1.0/insurances/sync",
        "/rest/v1.0/insurances/sync",
        &[],
        Some(json!({"updates": [{"company_id": cid, "vendor_id": vendor_n, "origin_id": "conformance-global",
            "insurance_type": "Workers Compensation", "status": "compliant"}]})),
    )
    .await;

    // Sync (batch upsert) actions of the directory and of commitments.
    c.call(
        "PATCH",
        "/rest/v1.0/vendors/sync",
        "/rest/v1.0/vendors/sync",
        &[],
        Some(json!({"company_id": cid, "updates": [{"origin_id": "conformance-vendor", "name": "Synced Steel"}]})),
    )
    .await;
    c.call(
        "PATCH",
        "/rest/v1.0/companies/{company_id}/users/sync",
        &format!("/rest/v1.0/companies/{cid}/users/sync"),
        &[],
        Some(
            json!({"updates": [{"origin_id": "conformance-user", "last_name": "Synced",
            "email_address": "synced.user@example.com"}]}),
        ),
    )
    .await;
    for kind in ["work_order_contracts", "purchase_order_contracts"] {
        let t = format!("/rest/v1.0/{kind}/sync");
        c.call(
            "PATCH",
            &t,
            &t,
            &[],
            Some(json!({"project_id": project.parse::<i64>().unwrap(), "updates": [{"origin_id": format!("conformance-{kind}"),
                "title": "Synced commitment", "vendor_id": vendor_n, "status": "Draft"}]})),
        )
        .await;
        let list_t = format!("/rest/v1.0/{kind}");
        let wrapper = kind.trim_end_matches('s');
        let created = c
            .call(
                "POST",
                &list_t,
                &list_t,
                &[],
                Some(json!({"project_id": project.parse::<i64>().unwrap(),
                    wrapper: {"title": "To delete", "vendor_id": vendor_n}})),
            )
            .await;
        if let Some(id) = created.as_ref().and_then(|r| id_of(&r.body)) {
            c.call(
                "DELETE",
                &format!("/rest/v1.0/{kind}/{{id}}"),
                &format!("/rest/v1.0/{kind}/{id}"),
                &q_project,
                None,
            )
            .await;
        }
    }

    // Completing an upload explicitly, as the segmented flow does.
    let upload = c
        .call(
            "POST",
            "/rest/v1.1/projects/{project_id}/uploads",
            &format!("/rest/v1.1/projects/{project}/uploads"),
            &[],
            Some(json!({"response_filename": "segments.pdf"})),
        )
        .await;
    if let Some(uuid) = upload
        .as_ref()
        .and_then(|r| r.body.get("uuid"))
        .and_then(Value::as_str)
        .map(String::from)
    {
        c.call(
            "PATCH",
            "/rest/v1.1/projects/{project_id}/uploads/{uuid}",
            &format!("/rest/v1.1/projects/{project}/uploads/{uuid}"),
            &[],
            Some(json!({"segments": []})),
        )
        .await;
    }

    // Bulk triggers on a v1.0 hook.
    let hook = c
        .call(
            "POST",
            "/rest/v1.0/webhooks/hooks",
            "/rest/v1.0/webhooks/hooks",
            &[],
            Some(
                json!({"company_id": cid, "hook": {"api_version": "v2", "namespace": "trestle-bulk",
                "destination_url": "http://127.0.0.1:9/bulk"}}),
            ),
        )
        .await;
    if let Some(hook_id) = hook.as_ref().and_then(|r| id_of(&r.body)) {
        let bulk = format!("/rest/v1.0/webhooks/hooks/{hook_id}/triggers/bulk");
        let body = json!({"company_id": cid, "api_version": "v2", "triggers": [
            {"resource_name": "Projects", "event_type": "create"},
            {"resource_name": "Projects", "event_type": "update"}]});
        c.call(
            "POST",
            "/rest/v1.0/webhooks/hooks/{hook_id}/triggers/bulk",
            &bulk,
            &[],
            Some(body.clone()),
        )
        .await;
        c.call(
            "DELETE",
            "/rest/v1.0/webhooks/hooks/{hook_id}/triggers/bulk",
            &bulk,
            &[],
            Some(body),
        )
        .await;
    }

    // v2.0 hooks at company and project scope, with triggers, bulk triggers and deliveries.
    for (scope_t, scope) in [
        (
            "/rest/v2.0/companies/{company_id}".to_string(),
            format!("/rest/v2.0/companies/{cid}"),
        ),
        (
            "/rest/v2.0/companies/{company_id}/projects/{project_id}".to_string(),
            format!("/rest/v2.0/companies/{cid}/projects/{project}"),
        ),
    ] {
        c.call(
            "GET",
            &format!("{scope_t}/webhooks/resources"),
            &format!("{scope}/webhooks/resources"),
            &[],
            None,
        )
        .await;
        let hooks_t = format!("{scope_t}/webhooks/hooks");
        let hooks = format!("{scope}/webhooks/hooks");
        let hook = c
            .call(
                "POST",
                &hooks_t,
                &hooks,
                &[],
                Some(json!({"payload_version": "v4.0", "namespace": "trestle-v2",
                    "destination_url": "http://127.0.0.1:9/v2"})),
            )
            .await;
        c.call("GET", &hooks_t, &hooks, &[], None).await;
        let Some(hook_id) = hook
            .as_ref()
            .and_then(|r| r.body.get("data"))
            .and_then(id_of)
        else {
            continue;
        };
        let item_t = format!("{hooks_t}/{{id}}");
        let item = format!("{hooks}/{hook_id}");
        c.call("GET", &item_t, &item, &[], None).await;
        c.call(
            "PATCH",
            &item_t,
            &item,
            &[],
            Some(json!({"status": "active"})),
        )
        .await;
        let triggers_t = format!("{hooks_t}/{{hook_id}}/triggers");
        let triggers = format!("{item}/triggers");
        let trigger = c
            .call(
                "POST",
                &triggers_t,
                &triggers,
                &[],
                Some(json!({"resource_name": "Projects", "event_type": "create"})),
            )
            .await;
        c.call("GET", &triggers_t, &triggers, &[], None).await;
        let bulk_body =
            json!({"triggers": [{"resource_name": "Company Users", "event_type": "update"}]});
        c.call(
            "POST",
            &format!("{triggers_t}/bulk"),
            &format!("{triggers}/bulk"),
            &[],
            Some(bulk_body.clone()),
        )
        .await;
        c.call(
            "DELETE",
            &format!("{triggers_t}/bulk"),
            &format!("{triggers}/bulk"),
            &[],
            Some(bulk_body),
        )
        .await;
        c.call(
            "GET",
            &format!("{hooks_t}/{{hook_id}}/deliveries"),
            &format!("{item}/deliveries"),
            &[],
            None,
        )
        .await;
        if let Some(trigger_id) = trigger
            .as_ref()
            .and_then(|r| r.body.get("data"))
            .and_then(id_of)
        {
            c.call(
                "DELETE",
                &format!("{triggers_t}/{{id}}"),
                &format!("{triggers}/{trigger_id}"),
                &[],
                None,
            )
            .await;
        }
        c.call("DELETE", &item_t, &item, &[], None).await;
    }

    // OAuth on the login host: token (JSON body), token info, revoke, and authorize (a redirect).
    let fresh = c
        .call(
            "POST",
            "/oauth/token",
            "/oauth/token",
            &[],
            Some(json!({"grant_type": "client_credentials", "client_id": procore_sim::demo::CLIENT_ID,
                "client_secret": procore_sim::demo::CLIENT_SECRET})),
        )
        .await;
    c.call("GET", "/oauth/token/info", "/oauth/token/info", &[], None)
        .await;
    if let Some(token) = fresh
        .as_ref()
        .and_then(|r| r.body.get("access_token"))
        .and_then(Value::as_str)
        .map(String::from)
    {
        c.call(
            "POST",
            "/oauth/revoke",
            "/oauth/revoke",
            &[],
            Some(
                json!({"token": token, "client_id": procore_sim::demo::CLIENT_ID,
                "client_secret": procore_sim::demo::CLIENT_SECRET}),
            ),
        )
        .await;
    }
    c.call(
        "GET",
        "/oauth/authorize",
        "/oauth/authorize",
        &[
            ("response_type", "code".to_string()),
            (
                "client_id",
                procore_sim::demo::USER_APP_CLIENT_ID.to_string(),
            ),
            ("redirect_uri", procore_sim::demo::REDIRECT_URI.to_string()),
        ],
        None,
    )
    .await;

    let missed: Vec<_> = c.implemented.difference(&c.covered).collect();
    let failures = std::mem::take(&mut c.failures);
    assert!(
        failures.is_empty(),
        "{} conformance failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        missed
            .iter()
            .all(|(_, t)| t.starts_with("/oauth") || t.starts_with("/_sim")),
        "operations the simulator implements but this suite never exercised: {missed:?}"
    );
}
