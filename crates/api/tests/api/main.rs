//! The REST API through a real `trestle serve` on an ephemeral port: every answer is checked
//! against the OpenAPI document the server itself serves, as the simulator's conformance suite
//! checks its answers against Procore's.
//!
//! `activity`: syncs run now or previewed, runs and their entries, explain.
//! `auth`: tokens, scopes, and what a request without one gets.
//! `compliance`: settings, mapping decisions, parties and projects with their compliance.
//! `docs`: every example in `docs/api.md`, run.
//! `connections`: each connected company's state.
//! `tokens`: making, listing and revoking tokens over the API.
//! `jobs`: the work queue, and retrying failed work.
//! `workforce`: workers and their actions, and records waiting for a decision.
//! `forms`: templates, filling, signing and completing forms, the PDF in Procore.
//! `operations`: what every operation keeps: paging, `limit`, scopes.
//! `scenario`: the workforce seed from connect to a form's second version, through the API
//! alone.

mod activity;
mod auth;
mod compliance;
mod connections;
mod docs;
mod forms;
mod jobs;
mod operations;
mod scenario;
mod tokens;
mod workforce;

use harness::Served;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use server::Running;
use store::ApiScope;
use testkit::Kit;

pub use testkit::eventually;

/// The server over the shared kit (the demo company, SQLite), with an admin token made as
/// the first administrator makes it.
pub struct App {
    pub kit: Kit,
    pub server: Running,
    pub admin: String,
    http: reqwest::Client,
    /// The OpenAPI document the server serves.
    pub doc: Value,
}

/// An answer, its body read, already checked against the document.
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    /// Panics unless this is `first` answered again from its `Idempotency-Key`: the same
    /// status and body, marked as replayed.
    pub fn assert_replays(&self, first: &Answer) {
        assert_eq!(
            (
                self.status,
                &self.body,
                self.headers
                    .get("idempotent-replayed")
                    .map(|v| v.to_str().unwrap())
            ),
            (first.status, &first.body, Some("true"))
        );
    }
}

impl App {
    pub async fn start() -> App {
        Self::served(Served::start().await).await
    }

    /// [`App::start`] with the connection's settings changed first.
    pub async fn with(settings: impl FnOnce(&mut store::Connection)) -> App {
        Self::served(Served::with(settings).await).await
    }

    /// [`App::start`] with `server.public_url` set, so the company's hook is wanted there.
    pub async fn reached_at(public_url: &str) -> App {
        Self::served(Served::reached_at(public_url).await).await
    }

    /// The server on a store where no company is connected yet: a fresh deployment.
    pub async fn fresh() -> App {
        Self::served(Served::fresh().await).await
    }

    async fn served(served: Served) -> App {
        let Served { kit, server, admin } = served;
        let http = reqwest::Client::new();
        let doc: Value = http
            .get(format!("{}/api/v1/openapi.json", server.url))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        App {
            kit,
            server,
            admin,
            http,
            doc,
        }
    }

    /// A new token of `scope`.
    pub async fn token(&self, name: &str, scope: ApiScope) -> String {
        harness::token_on(&self.kit.store, name, scope).await
    }

    /// `method path` with `token` (if any) and `body` (if any); the answer must be one the
    /// document lists for the operation `template` names, with a body its schema accepts.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        template: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        self.call_with(method, path, template, token, &[], body)
            .await
    }

    /// [`App::call`] with request headers (`If-Match`, `Idempotency-Key`).
    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        template: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Answer {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.server.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let text = response.text().await.unwrap();
        let body: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {text}"))
        };
        self.conforms(&method, template, status, &content_type, &body);
        Answer {
            status,
            content_type,
            headers,
            body,
        }
    }

    /// `GET path` with `token`; see [`App::call`].
    pub async fn get(&self, path: &str, template: &str, token: Option<&str>) -> Answer {
        self.call(Method::GET, path, template, token, None).await
    }

    /// The answer is documented for the operation, and its body matches the schema.
    fn conforms(
        &self,
        method: &Method,
        template: &str,
        status: StatusCode,
        content_type: &str,
        body: &Value,
    ) {
        let op = &self.doc["paths"][template][method.as_str().to_lowercase()];
        assert!(op.is_object(), "{method} {template} is not in the document");
        let documented = &op["responses"][status.as_str()];
        assert!(
            documented.is_object(),
            "{method} {template} answered {status}, which the document does not list: {body}"
        );
        let media = content_type.split(';').next().unwrap_or_default().trim();
        if media.is_empty() && body.is_null() {
            assert!(
                documented["content"].is_null(),
                "{method} {template} {status} answered no body where the document promises one"
            );
            return;
        }
        let Some(schema) = documented["content"][media]["schema"].as_object() else {
            assert!(
                documented["content"][media].is_object(),
                "{method} {template} {status}: {media} is not documented"
            );
            return;
        };
        let mut schema = Value::Object(schema.clone());
        schema["components"] = self.doc["components"].clone();
        let validator = jsonschema::validator_for(&schema).expect("the document's schema compiles");
        let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
        assert!(
            errors.is_empty(),
            "{method} {template} {status} does not match the document: {errors:?}\n{body}"
        );
    }

    /// Every operation in the document, as (method, path template).
    pub fn operations(&self) -> Vec<(Method, String)> {
        let mut ops = Vec::new();
        for (path, item) in self.doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                ops.push((method.to_uppercase().parse().unwrap(), path.clone()));
            }
        }
        ops
    }
}
