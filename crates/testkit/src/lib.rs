//! The harness trestle's test suites share (a dev-dependency only): the Procore simulator on an
//! ephemeral port, a store on a real database (a SQLite file in a temporary folder, or a
//! private schema of the PostgreSQL server at `TRESTLE_TEST_POSTGRES_URL`), the demo company's
//! connection, and a client, so a suite writes what it tests and not how to set it up.
//!
//! A PostgreSQL that cannot be reached fails the test that asked for it, with what to do: a
//! suite that passed without it would claim a coverage it does not have.

use procore_sim::{demo, Sim, SimConfig, World};
use secrecy::SecretString;
use sqlx::Connection as _;
use std::time::Duration;
use store::{Connection, SecretKey, Store};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Simulator settings with rate limits off (a test about pacing turns them on).
pub fn quiet() -> SimConfig {
    SimConfig {
        rate_limits: None,
        ..SimConfig::default()
    }
}

/// The demo company in an in-process simulator on an ephemeral port, without rate limits.
pub async fn spawn_demo_sim() -> procore_sim::Running {
    procore_sim::spawn(Sim::new(demo::world(), quiet())).await
}

/// A client of the demo company at the simulator at `url`.
pub fn client_for(url: &str) -> procore::Client {
    procore::Client::new(
        procore::ClientConfig::custom(
            url,
            procore::CompanyId(demo::COMPANY_ID),
            procore::Credentials::client_credentials(demo::CLIENT_ID, demo::CLIENT_SECRET),
        )
        .expect("the simulator's URL is a URL"),
    )
    .expect("a client")
}

/// The demo company's connection, every toggle off.
pub fn demo_connection() -> Connection {
    Connection::new(
        demo::COMPANY_ID,
        demo::CLIENT_ID,
        SecretString::from(demo::CLIENT_SECRET.to_string()),
    )
}

/// Which database a store is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database for one test: its URL and key, and what removes it afterwards.
pub struct Database {
    pub url: String,
    pub key: SecretKey,
    dir: Option<tempfile::TempDir>,
    schema: Option<(String, String)>,
}

impl Database {
    pub async fn new(backend: Backend) -> Database {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary folder");
                let url = format!("sqlite://{}", dir.path().join("trestle.sqlite").display());
                Database {
                    url,
                    key: SecretKey::generate(),
                    dir: Some(dir),
                    schema: None,
                }
            }
            Backend::Postgres => {
                let admin = postgres_url();
                let mut conn = connect_admin(&admin).await;
                let schema = format!("t_{:016x}", rand::random::<u64>());
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(&mut conn)
                    .await
                    .expect("creating a schema");
                let _ = conn.close().await;
                let sep = if admin.contains('?') { '&' } else { '?' };
                Database {
                    url: format!("{admin}{sep}options=-c%20search_path%3D{schema}"),
                    key: SecretKey::generate(),
                    dir: None,
                    schema: Some((admin, schema)),
                }
            }
        }
    }

    /// Opens a store on it, as a (new) process would.
    pub async fn open(&self) -> Store {
        Store::open(&self.url, self.key.clone())
            .await
            .expect("opening the store")
    }

    /// The folder of a SQLite database (for files a test puts beside it).
    pub fn dir(&self) -> Option<&std::path::Path> {
        self.dir.as_ref().map(|d| d.path())
    }

    /// Drops a PostgreSQL schema (a SQLite folder goes with the value).
    pub async fn remove(self) {
        if let Some((admin, schema)) = &self.schema {
            let mut conn = connect_admin(admin).await;
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&mut conn)
                .await;
            let _ = conn.close().await;
        }
    }
}

fn postgres_url() -> String {
    std::env::var("TRESTLE_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into())
}

async fn connect_admin(url: &str) -> sqlx::PgConnection {
    match tokio::time::timeout(Duration::from_secs(10), sqlx::PgConnection::connect(url)).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => no_postgres(url, &e.to_string()),
        Err(_) => no_postgres(url, "no answer within 10 s"),
    }
}

fn no_postgres(url: &str, why: &str) -> ! {
    panic!(
        "\n\nPostgreSQL is not reachable at {url} ({why}).\n\
         This test runs on PostgreSQL and does not pass without it. Start PostgreSQL (CI uses \
         {DEFAULT_POSTGRES_URL} with trust auth), or set TRESTLE_TEST_POSTGRES_URL to a server \
         where you may create schemas.\n\n"
    )
}

/// A simulator, a store with the demo company connected, and a client.
pub struct Kit {
    pub sim: procore_sim::Running,
    pub store: Store,
    pub connection: Connection,
    pub client: procore::Client,
    pub company: i64,
    pub database: Database,
}

impl Kit {
    /// The demo company, a SQLite store, every toggle off.
    pub async fn demo() -> Kit {
        Self::spawn(demo::world(), quiet(), Backend::Sqlite, |_| {}).await
    }

    pub async fn spawn(
        world: World,
        config: SimConfig,
        backend: Backend,
        settings: impl FnOnce(&mut Connection),
    ) -> Kit {
        let sim = procore_sim::spawn(Sim::new(world, config)).await;
        let database = Database::new(backend).await;
        let store = database.open().await;
        let mut connection = demo_connection();
        settings(&mut connection);
        store
            .save_connection(&connection, None)
            .await
            .expect("saving the connection");
        let client = client_for(&sim.url());
        Kit {
            sim,
            store,
            connection,
            client,
            company: demo::COMPANY_ID,
            database,
        }
    }

    pub fn sim(&self) -> &Sim {
        self.sim.sim()
    }

    /// Edits a record as a person in Procore's web UI would (the simulator's admin routes go
    /// through its change functions, so `updated_at` moves and webhooks fire). `what` is e.g.
    /// `users/ID` with a JSON body, or `users/ID/deactivate` with none.
    pub async fn ui_edit(&self, what: &str, body: Option<serde_json::Value>) {
        self.ui(reqwest::Method::PATCH, what, body).await;
    }

    /// Creates a record as a person in Procore's web UI would; `what` is e.g. `projects`.
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
        let resp = request.send().await.expect("the simulator answers");
        assert!(resp.status().is_success(), "UI edit {what}: {resp:?}");
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

    /// The id of the Procore project with this name.
    pub fn procore_project(&self, name: &str) -> i64 {
        self.sim()
            .read(|w| w.projects.values().find(|p| p.name == name).map(|p| p.id))
            .unwrap_or_else(|| panic!("no Procore project named {name}"))
    }
}

/// Waits until `check` gives `Some`, asking every 50 ms for up to `within`; panics with `what`
/// if it never does. For outcomes that arrive on their own (a webhook, a worker): the deadline
/// is a bound on a hang, not a measure of speed.
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("{what}: not within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Forms as a crew fills them in the app.
pub mod forms {
    use chrono::{DateTime, Utc};
    use domain::workforce::{
        Answer, FieldKind, FormField, FormSection, FormTemplate, Signature, Submission,
    };

    /// A Toolbox Talk template: a topic, a PPE check, the lead's signature (required) and a
    /// supervisor's (optional, for a later revision).
    pub fn toolbox_talk(name: &str) -> FormTemplate {
        let field = |key: &str, label: &str, kind: FieldKind, required: bool| FormField {
            key: key.into(),
            label: label.into(),
            kind,
            required,
        };
        FormTemplate {
            id: 0,
            name: name.into(),
            sections: vec![
                FormSection {
                    title: "Talk".into(),
                    fields: vec![
                        field("topic", "Topic", FieldKind::Text { multiline: false }, true),
                        field("ppe", "Was PPE checked?", FieldKind::YesNoNa, true),
                    ],
                },
                FormSection {
                    title: "Sign-off".into(),
                    fields: vec![
                        field("lead", "Talk lead", FieldKind::Signature, true),
                        field("supervisor", "Supervisor", FieldKind::Signature, false),
                    ],
                },
            ],
        }
    }

    /// A Toolbox Talk (of a saved `template`) on app project `project_id`, answered, signed
    /// by its lead and completed at `at`.
    pub fn completed(
        template: &FormTemplate,
        project_id: i64,
        date: &str,
        at: DateTime<Utc>,
    ) -> Submission {
        let mut s = Submission::draft(
            0,
            template.id,
            project_id,
            date.parse().expect("a YYYY-MM-DD date"),
        );
        s.answer(template, "topic", Answer::Text("Ladder safety".into()))
            .expect("topic");
        s.answer(template, "ppe", Answer::Yes).expect("ppe");
        s.sign(
            template,
            Signature {
                field_key: "lead".into(),
                signer_name: "Bea Okafor".into(),
                worker_id: None,
                signed_at: at,
                drawing: None,
            },
        )
        .expect("signature");
        s.complete(template, at).expect("complete");
        s
    }
}

/// The demo company's compliance side, as an administrator sets it up before the first sync.
pub mod compliance {
    use domain::compliance::{Certificate, ComplianceProfile, Party, PartyId};
    use procore_sim::demo;
    use store::{ComplianceBatch, ComplianceChange, Store};

    /// A "Standard Subcontractor" profile, and Acme Electric (with a certificate meeting it)
    /// and Bolt Plumbing (with none) as parties linked to their Procore companies (`vendor`
    /// gives a Procore company's id by name). Returns the parties, Acme first.
    pub async fn seed(store: &Store, company: i64, vendor: impl Fn(&str) -> i64) -> [PartyId; 2] {
        let profile: ComplianceProfile = serde_json::from_value(serde_json::json!({
            "id": 1, "name": demo::PROFILE_STANDARD, "requirements": [
                {"key": "gl.each_occurrence", "subject": "general_liability",
                 "check": {"type": "limit_at_least", "limit": "each_occurrence", "minimum": "1000000"}},
                {"key": "auto.csl", "subject": "automobile_liability",
                 "check": {"type": "limit_at_least", "limit": "combined_single_limit", "minimum": "1000000"}}
            ]
        }))
        .expect("a profile");
        let profile = store
            .upsert_profile(company, &profile, None)
            .await
            .expect("saving the profile");
        let party = |name: &str| ComplianceChange::CreateParty {
            party: Party {
                id: PartyId(0),
                name: name.into(),
                address: None,
                website: None,
                active: true,
                procore_vendor_id: Some(vendor(name)),
                profile_id: Some(profile),
            },
        };
        let created = store
            .apply_compliance(&ComplianceBatch {
                company_id: company,
                changes: &[party("Acme Electric"), party("Bolt Plumbing")],
                ..Default::default()
            })
            .await
            .expect("creating the parties");
        let parties = [PartyId(created[0].1), PartyId(created[1].1)];
        certify(store, company, parties[0]).await;
        parties
    }

    /// Gives a party a certificate meeting the standard profile.
    pub async fn certify(store: &Store, company: i64, party: PartyId) {
        let mut c: Certificate = serde_json::from_value(serde_json::json!({
            "id": 1, "party_id": 1, "policies": [
                {"subject": "general_liability", "insurer": "Granite Mutual", "policy_number": "GL-1",
                 "effective_date": "2026-01-01", "expiration_date": "2027-12-31",
                 "limits": {"each_occurrence": "2000000"}},
                {"subject": "automobile_liability", "insurer": "Granite Mutual", "policy_number": "AU-1",
                 "effective_date": "2026-01-01", "expiration_date": "2027-12-31",
                 "limits": {"combined_single_limit": "1000000"}}
            ]
        }))
        .expect("a certificate");
        c.party_id = party;
        store
            .add_certificate(company, &c)
            .await
            .expect("saving the certificate");
    }
}
