//! The test application: a simulator on an ephemeral port, a SQLite store in a temporary
//! folder, a Procore client and a connection, with helpers to sync and to read both sides.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use domain::workforce::{FormTemplate, ProjectFields, ProjectStatus, Signature};
use procore_sim::{demo, Sim, SimConfig, World};
use std::sync::Arc;
use store::{Connection, LinkKind, Store, SubjectKind};
use sync::workforce::{sync_workforce, Report, WorkforceJob};
use testkit::{Backend, Database, Kit};

/// "Today" for every sync: the demo's upcoming project (2031) is in the future, its completed
/// one (2022) in the past.
pub fn today() -> NaiveDate {
    "2026-11-22".parse().unwrap()
}

pub fn now() -> DateTime<Utc> {
    "2026-11-22T10:30:00Z".parse().unwrap()
}

pub struct TestApp {
    pub sim: procore_sim::Running,
    pub store: Store,
    pub client: procore::Client,
    pub connection: Connection,
    pub company: i64,
    _database: Database,
}

pub use testkit::{client_for, quiet};

impl TestApp {
    /// The demo company, every toggle off.
    pub async fn demo() -> TestApp {
        Self::spawn(demo::world(), quiet(), |_| {}).await
    }

    /// The demo company with the toggles `settings` sets.
    pub async fn demo_with(settings: impl FnOnce(&mut Connection)) -> TestApp {
        Self::spawn(demo::world(), quiet(), settings).await
    }

    /// The shared kit's simulator, SQLite store and connection, with the sync helpers below.
    pub async fn spawn(
        world: World,
        config: SimConfig,
        settings: impl FnOnce(&mut Connection),
    ) -> TestApp {
        let Kit {
            sim,
            store,
            connection,
            client,
            company,
            database,
        } = Kit::spawn(world, config, Backend::Sqlite, settings).await;
        TestApp {
            sim,
            store,
            client,
            connection,
            company,
            _database: database,
        }
    }

    pub fn sim(&self) -> &Sim {
        self.sim.sim()
    }

    pub async fn sync(&self) -> Report {
        self.sync_through(&self.client, false).await
    }

    pub async fn sync_dry(&self) -> Report {
        self.sync_through(&self.client, true).await
    }

    /// A sync of the records webhook deliveries named, as `trestle serve` runs it.
    pub async fn sync_targets(&self, targets: &sync::webhooks::Targets) -> Report {
        sync::workforce::sync_workforce_targets(&self.job(&self.client), targets)
            .await
            .unwrap()
    }

    /// A sync whose Procore calls go through `client` (e.g. one behind a tampering front).
    pub async fn sync_through(&self, client: &procore::Client, dry_run: bool) -> Report {
        sync_workforce(&self.job(client), dry_run).await.unwrap()
    }

    fn job<'a>(&'a self, client: &'a procore::Client) -> WorkforceJob<'a> {
        WorkforceJob {
            client,
            store: &self.store,
            connection: &self.connection,
            company_name: Some(demo::COMPANY_NAME.into()),
            today: today(),
            now: now(),
            full_read: false,
            crash_at: None,
            reclaim_leases: false,
            progress: None,
        }
    }

    /// Changes the connection's toggles, as `connect` would save them.
    pub async fn set(&mut self, settings: impl FnOnce(&mut Connection)) {
        settings(&mut self.connection);
        self.store
            .save_connection(&self.connection, None)
            .await
            .unwrap();
    }

    /// The id of the Procore project with this name.
    pub fn procore_project(&self, name: &str) -> i64 {
        self.sim()
            .read(|w| w.projects.values().find(|p| p.name == name).map(|p| p.id))
            .unwrap_or_else(|| panic!("no Procore project named {name}"))
    }

    /// The id of the Procore user with this last name.
    pub fn procore_user(&self, last_name: &str) -> i64 {
        self.sim()
            .read(|w| {
                w.users
                    .values()
                    .find(|u| u.last_name.as_deref() == Some(last_name))
                    .map(|u| u.id)
            })
            .unwrap_or_else(|| panic!("no Procore user named {last_name}"))
    }

    /// The app project linked to a Procore project, if any.
    pub async fn project_of(&self, procore_id: i64) -> Option<domain::workforce::Project> {
        let links = self
            .store
            .links(self.company, LinkKind::Project)
            .await
            .unwrap();
        let id = *links.get(&procore_id)?;
        self.store.project(self.company, id).await.unwrap()
    }

    /// The worker linked to a Procore user, if any.
    pub async fn worker_of(&self, procore_id: i64) -> Option<domain::workforce::Worker> {
        let links = self
            .store
            .links(self.company, LinkKind::Worker)
            .await
            .unwrap();
        let id = *links.get(&procore_id)?;
        self.store.worker(self.company, id).await.unwrap()
    }

    /// The names of the app's workers, "First Last".
    pub async fn worker_names(&self) -> Vec<String> {
        self.store
            .workers(self.company)
            .await
            .unwrap()
            .iter()
            .map(|w| format!("{} {}", w.fields.first_name, w.fields.last_name))
            .collect()
    }

    /// The latest reason recorded for a Procore record (`procore-project`, `procore-user`, `form`).
    pub async fn latest_reason(&self, kind: SubjectKind, id: i64) -> String {
        let history = self
            .store
            .history(self.company, kind.clone(), id)
            .await
            .unwrap();
        history
            .first()
            .unwrap_or_else(|| panic!("no history for {kind} {id}"))
            .entry
            .reason
            .clone()
    }

    /// Seeds an app project that exists before any sync.
    pub async fn seed_project(&self, name: &str, number: Option<&str>) -> i64 {
        self.store
            .create_project(
                self.company,
                &ProjectFields {
                    name: name.into(),
                    project_number: number.map(String::from),
                    ..Default::default()
                },
                ProjectStatus::Active,
            )
            .await
            .unwrap()
    }

    /// Edits a record as a person in Procore's web UI would (the simulator's admin endpoint,
    /// which goes through its change functions, so `updated_at` moves). `what` is e.g.
    /// `users/ID` with a JSON body, or `users/ID/deactivate` with none.
    pub async fn ui_edit(&self, what: &str, body: Option<serde_json::Value>) {
        self.ui(reqwest::Method::PATCH, what, body).await;
    }

    /// Creates a record as a person in Procore's web UI would; `what` is e.g. `users`.
    pub async fn ui_create(&self, what: &str, body: serde_json::Value) {
        self.ui(reqwest::Method::POST, what, Some(body)).await;
    }

    async fn ui(&self, method: reqwest::Method, what: &str, body: Option<serde_json::Value>) {
        let url = format!("{}/_sim/companies/{}/{what}", self.sim.url(), self.company);
        let http = reqwest::Client::new();
        let request = match body {
            Some(b) => http.request(method, url).json(&b),
            None => http.post(url),
        };
        let resp = request.send().await.unwrap();
        assert!(resp.status().is_success(), "UI edit {what}: {resp:?}");
    }

    /// Saves a completed Toolbox Talk on an app project; returns the submission id.
    pub async fn complete_form(&self, project_id: i64, template_name: &str, date: &str) -> i64 {
        let mut template = toolbox_talk(template_name);
        template.id = self
            .store
            .save_template(self.company, &template)
            .await
            .unwrap();
        complete_form(&self.store, &template, project_id, date).await
    }

    /// Signs the supervisor field of a completed form: its next revision.
    pub async fn revise_form(&self, submission_id: i64) -> u32 {
        revise_form(&self.store, submission_id).await
    }

    /// The files trestle may have put in a Procore project's Documents: those under a forms
    /// folder (the demo's own drawings are left out).
    pub fn documents(&self, procore_project: i64) -> Vec<Document> {
        self.sim().read(|w| {
            w.files
                .values()
                .filter(|f| {
                    f.project_id == procore_project
                        && !f.is_deleted
                        && w.folder_path(f.parent_id).contains("Corfix Forms")
                })
                .map(|f| Document {
                    id: f.id,
                    folder: w.folder_path(f.parent_id),
                    name: f.name.clone(),
                    description: f.description.clone(),
                    versions: f.versions.len(),
                    latest: f
                        .versions
                        .last()
                        .and_then(|v| w.file_versions.get(v))
                        .and_then(|v| w.blobs.get(&v.blob))
                        .map(|b| b.bytes.clone())
                        .unwrap_or_default(),
                })
                .collect()
        })
    }

    /// Requests Procore saw since `from` (an index into the request log).
    pub fn requests_since(&self, from: usize) -> Vec<procore_sim::RequestLogEntry> {
        self.sim().request_log().split_off(from)
    }
}

#[derive(Clone)]
pub struct Document {
    pub id: i64,
    pub folder: String,
    pub name: String,
    pub description: Option<String>,
    pub versions: usize,
    /// The bytes of the latest version.
    pub latest: Vec<u8>,
}

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("id", &self.id)
            .field("path", &format!("{}/{}", self.folder, self.name))
            .field("description", &self.description)
            .field("versions", &self.versions)
            .field("latest", &format!("{} bytes", self.latest.len()))
            .finish()
    }
}

pub use testkit::forms::toolbox_talk;

pub async fn complete_form(
    store: &Store,
    template: &FormTemplate,
    project_id: i64,
    date: &str,
) -> i64 {
    let s = testkit::forms::completed(template, project_id, date, now());
    store.save_submission(&s).await.unwrap()
}

pub async fn revise_form(store: &Store, submission_id: i64) -> u32 {
    let mut s = store
        .submission(procore_sim::demo::COMPANY_ID, submission_id)
        .await
        .unwrap()
        .unwrap();
    let template = store
        .template(procore_sim::demo::COMPANY_ID, s.template_id)
        .await
        .unwrap()
        .unwrap();
    s.sign(
        &template,
        Signature {
            field_key: "supervisor".into(),
            signer_name: "Morgan Lee".into(),
            worker_id: None,
            signed_at: now(),
            drawing: None,
        },
    )
    .unwrap();
    store.save_submission(&s).await.unwrap();
    s.revision
}

/// The text of a PDF, whitespace runs folded to single spaces.
pub fn pdf_text(bytes: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(bytes).expect("lopdf opens the PDF");
    doc.get_pages()
        .keys()
        .map(|&n| doc.extract_text(&[n]).expect("text extracts"))
        .collect::<Vec<_>>()
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a [`Front`] does to one request: it may change the simulator's faults before the
/// request is handled (they are put back afterwards), and may rewrite the response body.
pub type Tamper = Arc<dyn Fn(&Request, &Sim) -> Option<Rewrite> + Send + Sync>;

/// A change to one JSON response body.
pub type Rewrite = Box<dyn FnOnce(&mut serde_json::Value) + Send>;

/// A change to one response body's raw bytes (for bytes no JSON value can hold, such as
/// invalid UTF-8).
pub type RawRewrite = Box<dyn FnOnce(Vec<u8>) -> Vec<u8> + Send>;

/// Like [`Tamper`], with a raw-bytes rewrite.
pub type RawTamper = Arc<dyn Fn(&Request, &Sim) -> Option<RawRewrite> + Send + Sync>;

/// A second server in front of the same simulator, which lets a test reach into one request
/// (a fault on exactly the file create, a wrong-typed field in one record).
pub struct Front {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Front {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Front {
    pub async fn spawn(sim: &Sim, tamper: Tamper) -> Front {
        Self::spawn_raw(
            sim,
            Arc::new(move |req, sim| {
                tamper(req, sim).map(|rewrite| -> RawRewrite {
                    Box::new(move |bytes| {
                        let mut value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                        rewrite(&mut value);
                        serde_json::to_vec(&value).unwrap()
                    })
                })
            }),
        )
        .await
    }

    /// A front whose rewrites work on the raw bytes of a response body.
    pub async fn spawn_raw(sim: &Sim, tamper: RawTamper) -> Front {
        let inner = sim.clone();
        let router = sim.router().layer(axum::middleware::from_fn(
            move |req: Request, next: Next| {
                let tamper = tamper.clone();
                let sim = inner.clone();
                async move {
                    let faults = sim.faults();
                    let rewrite = tamper(&req, &sim);
                    let resp: Response = next.run(req).await;
                    sim.set_faults(faults);
                    match rewrite {
                        None => resp,
                        Some(rewrite) => {
                            let (mut parts, body) = resp.into_parts();
                            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
                            parts.headers.remove(axum::http::header::CONTENT_LENGTH);
                            Response::from_parts(
                                parts,
                                axum::body::Body::from(rewrite(bytes.to_vec())),
                            )
                        }
                    }
                }
            },
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Front { url, task }
    }
}
