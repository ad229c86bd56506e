//! What the binary tests share: a simulator, a `trestle.toml` pointing at it, and running the
//! real `trestle` binary (optionally crashing at a point) against it.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use procore_sim::{demo, Sim};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use store::{SecretKey, Store};

pub use testkit::spawn_demo_sim;

/// A temporary folder holding a `trestle.toml` for the simulator at `sim_url`, its SQLite store
/// and its key file.
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    /// The store's URL (SQLite in `dir` unless given).
    pub database_url: String,
}

impl Setup {
    pub fn new(sim_url: &str) -> Setup {
        Self::with_database(sim_url, None)
    }

    /// Like [`Setup::new`], with the store at `database_url` (e.g. a PostgreSQL schema).
    pub fn with_database(sim_url: &str, database_url: Option<&str>) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let db = database_url
            .map(str::to_string)
            .unwrap_or_else(|| self::database_url(dir.path()));
        let config = dir.path().join("trestle.toml");
        std::fs::write(
            &config,
            format!(
                "[procore]\nenvironment = \"custom\"\napi_base = \"{sim_url}\"\nlogin_base = \"{sim_url}\"\n\
                 company_id = {}\nclient_id = \"{}\"\n\n[store]\ndatabase_url = \"{}\"\nsecret_key_file = \"{}\"\n",
                demo::COMPANY_ID,
                demo::CLIENT_ID,
                db,
                dir.path().join("secret.key").display(),
            ),
        )
        .unwrap();
        Setup {
            dir,
            config,
            database_url: db,
        }
    }

    /// `trestle --config FILE ARGS`, ready to run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_trestle"));
        cmd.arg("--config")
            .arg(&self.config)
            .args(args)
            .current_dir(self.dir.path())
            .env("TRESTLE_PROCORE__CLIENT_SECRET", demo::CLIENT_SECRET)
            .env_remove("TRESTLE_CRASH_AT")
            .env("RUST_BACKTRACE", "0");
        cmd
    }

    /// Runs `trestle --config FILE ARGS`, crashing at `crash_at` when given.
    pub async fn trestle(&self, args: &[&str], crash_at: Option<&str>) -> Output {
        let mut cmd = self.command(args);
        if let Some(point) = crash_at {
            cmd.env("TRESTLE_CRASH_AT", point);
        }
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap()
    }

    /// `trestle ARGS`, which must succeed; returns its standard output.
    pub async fn ok(&self, args: &[&str]) -> String {
        let out = self.trestle(args, None).await;
        assert!(
            out.status.success(),
            "trestle {} failed:\n{}",
            args.join(" "),
            text(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `trestle sync KIND`, which must succeed.
    pub async fn sync(&self, kind: &str) -> String {
        self.ok(&["sync", kind]).await
    }

    /// `trestle sync KIND` crashing at `point`, which must not exit successfully.
    pub async fn sync_crashing_at(&self, kind: &str, point: &str) {
        let out = self.trestle(&["sync", kind], Some(point)).await;
        assert!(
            !out.status.success(),
            "the run was to crash at {point}:\n{}",
            text(&out)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("crashing on purpose"),
            "it crashed where asked ({point}):\n{}",
            text(&out)
        );
    }

    /// `trestle connect` to the demo company; `extra` adds flags (`--no-sync`, `--sync-forms`,
    /// `--json`). Returns what it printed.
    pub async fn connect(&self, extra: &[&str]) -> String {
        let company = demo::COMPANY_ID.to_string();
        let mut args = vec![
            "connect",
            "--company-id",
            &company,
            "--client-id",
            demo::CLIENT_ID,
        ];
        args.extend_from_slice(extra);
        self.ok(&args).await
    }

    /// The store the binary uses, opened with the key it wrote.
    pub async fn store(&self) -> Store {
        let key = std::fs::read_to_string(self.dir.path().join("secret.key")).unwrap();
        Store::open(
            &self.database_url,
            SecretKey::from_base64(key.trim()).unwrap(),
        )
        .await
        .unwrap()
    }

    /// Imports Acme and Bolt with the standard profile, and turns on compliance sync with
    /// automatic import of projects and of companies through commitments. Returns the Procore
    /// ids of Acme and Bolt.
    pub async fn with_compliance(&self, sim: &Sim) -> (i64, i64) {
        let acme = vendor_id(sim, "Acme Electric");
        let bolt = vendor_id(sim, "Bolt Plumbing");
        let file = self.write_file("compliance.json", &compliance_dataset(acme, bolt));
        self.ok(&["compliance", "import", &file]).await;
        self.ok(&[
            "compliance",
            "settings",
            "--compliance-sync",
            "on",
            "--new-projects",
            "import-automatically",
            "--import-companies",
            "on",
        ])
        .await;
        (acme, bolt)
    }

    /// Writes `json` to a file in the setup's folder and returns its path.
    pub fn write_file(&self, name: &str, json: &serde_json::Value) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, serde_json::to_string_pretty(json).unwrap()).unwrap();
        path.display().to_string()
    }
}

pub fn database_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("trestle.sqlite").display())
}

pub fn text(out: &Output) -> String {
    format!(
        "status: {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The id of the demo company's Procore company (vendor) called `name`.
pub fn vendor_id(sim: &Sim, name: &str) -> i64 {
    sim.read(|w| w.vendors.values().find(|v| v.name == name).map(|v| v.id))
        .unwrap_or_else(|| panic!("no vendor {name} in the demo company"))
}

/// A compliance import file: the standard profile (general and automobile liability), Acme
/// linked to its Procore company with a certificate meeting it, and Bolt linked with none.
pub fn compliance_dataset(acme: i64, bolt: i64) -> serde_json::Value {
    serde_json::json!({
        "version": 1,
        "profiles": [{"id": 1, "name": demo::PROFILE_STANDARD, "requirements": [
            {"key": "gl.each_occurrence", "subject": "general_liability",
             "check": {"type": "limit_at_least", "limit": "each_occurrence", "minimum": "1000000"}},
            {"key": "auto.csl", "subject": "automobile_liability",
             "check": {"type": "limit_at_least", "limit": "combined_single_limit", "minimum": "1000000"}}
        ]}],
        "parties": [
            {"id": 1, "name": "Acme Electric", "procore_vendor_id": acme, "profile_id": 1},
            {"id": 2, "name": "Bolt Plumbing", "procore_vendor_id": bolt, "profile_id": 1}
        ],
        "certificates": [{"id": 1, "party_id": 1, "policies": [
            {"subject": "general_liability", "insurer": "Granite Mutual", "policy_number": "GL-1",
             "effective_date": "2026-01-01", "expiration_date": "2030-12-31",
             "limits": {"each_occurrence": "2000000"}},
            {"subject": "automobile_liability", "insurer": "Granite Mutual", "policy_number": "AU-1",
             "effective_date": "2026-01-01", "expiration_date": "2030-12-31",
             "limits": {"combined_single_limit": "1000000"}}
        ]}]
    })
}

/// trestle's insurance records in the simulator (origin ids starting `trestle:`).
pub fn trestle_insurances(sim: &Sim) -> Vec<procore_sim::world::Insurance> {
    sim.read(|w| {
        w.insurances
            .values()
            .filter(|i| {
                i.origin_id
                    .as_deref()
                    .is_some_and(|o| o.starts_with("trestle:"))
            })
            .cloned()
            .collect()
    })
}

/// A fresh schema on the PostgreSQL at `TRESTLE_TEST_POSTGRES_URL` (`testkit`'s), dropped when
/// the guard goes, even when the test fails.
pub struct PgSchema(Option<testkit::Database>);

impl PgSchema {
    pub async fn create() -> PgSchema {
        PgSchema(Some(
            testkit::Database::new(testkit::Backend::Postgres).await,
        ))
    }

    pub fn url(&self) -> String {
        self.0.as_ref().map(|d| d.url.clone()).unwrap_or_default()
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        // Drop cannot await, and may run inside the test's runtime: a runtime of its own on a
        // thread of its own drops the schema.
        if let Some(database) = self.0.take() {
            let _ = std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map(|rt| rt.block_on(database.remove()))
            })
            .join();
        }
    }
}
