//! `trestle serve`, the real binary: a change made in "Procore" reaches the app with no command
//! run, a stop by SIGTERM is clean, and three processes on one PostgreSQL database, killed
//! again and again with SIGKILL while the simulator fails a fifth of its answers, converge
//! with nothing written twice (documents or insurance records) and no job lost or stuck.

mod common;

use common::{trestle_insurances, PgSchema, Setup};
use procore_sim::demo;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::{JobFilter, JobState, LinkKind, Store};
use testkit::eventually;

/// A bound on a hang, not a measure of speed: an upload whose outcome a fault made unknown
/// alone waits a minute before it is tried again, and the machine may be busy.
const PATIENCE: Duration = Duration::from_secs(180);

/// A free port on 127.0.0.1 (bound and let go: the binary binds it next).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Settings for quick tests: the first reconcile and the hook check at once, short leases so a
/// killed process's jobs are taken up within seconds.
fn serve_settings(setup: &Setup, public_url: &str, reconcile_every: &str) {
    let mut toml = std::fs::read_to_string(&setup.config).unwrap();
    toml.push_str(&format!(
        "\n[server]\npublic_url = \"{public_url}\"\nreconcile_every = \"{reconcile_every}\"\nshutdown_grace = \"5s\"\njob_lease = \"3s\"\njob_retry_cap = \"5s\"\n"
    ));
    std::fs::write(&setup.config, toml).unwrap();
}

fn spawn_serve(setup: &Setup, port: u16) -> Child {
    setup
        .command(&["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("trestle serve starts")
}

/// The server processes of a test, killed when it ends however it ends (a failed assertion
/// must not leave servers holding database connections).
struct Servers(Vec<Child>);

impl Drop for Servers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

async fn ready(port: u16) {
    eventually(PATIENCE, "the server ready", || async move {
        let r = reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await;
        r.ok().filter(|r| r.status() == 200).map(|_| ())
    })
    .await;
}

fn terminate(child: &Child) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

async fn worker_name(store: &Store, procore_user: i64) -> Option<String> {
    let id = *store
        .links(demo::COMPANY_ID, LinkKind::Worker)
        .await
        .unwrap()
        .get(&procore_user)?;
    store
        .worker(demo::COMPANY_ID, id)
        .await
        .unwrap()
        .map(|w| w.fields.first_name)
}

async fn ui_rename(sim_url: &str, user: i64, first_name: &str) {
    let resp = reqwest::Client::new()
        .patch(format!(
            "{sim_url}/_sim/companies/{}/users/{user}",
            demo::COMPANY_ID
        ))
        .json(&serde_json::json!({ "first_name": first_name }))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{resp:?}");
}

/// Creates a record as a person in Procore's web UI would (webhooks fire); returns its id.
async fn ui_create(sim_url: &str, what: &str, body: serde_json::Value) -> i64 {
    let resp = reqwest::Client::new()
        .post(format!(
            "{sim_url}/_sim/companies/{}/{what}",
            demo::COMPANY_ID
        ))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{resp:?}");
    resp.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .expect("the new record's id")
}

/// trestle's project-level insurance records for `vendor` on `project` in the simulator.
fn insured_on(sim: &procore_sim::Sim, vendor: i64, project: i64) -> usize {
    trestle_insurances(sim)
        .iter()
        .filter(|i| i.vendor_id == vendor && i.project_id == Some(project))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trestle_serve_brings_a_procore_change_to_the_app_and_stops_cleanly_on_sigterm() {
    let running = common::spawn_demo_sim().await;
    let setup = Setup::new(&running.url());
    setup.connect(&[]).await;
    let port = free_port();
    // No reconcile during the test: the change must come by its webhook.
    serve_settings(&setup, &format!("http://127.0.0.1:{port}"), "1h");
    let mut servers = Servers(vec![spawn_serve(&setup, port)]);
    ready(port).await;
    let sim = running.sim();
    eventually(PATIENCE, "the hook registered", || async {
        sim.read(|w| {
            w.hooks
                .values()
                .any(|h| h.destination_url.contains(&port.to_string()))
        })
        .then_some(())
    })
    .await;

    let pat = sim.read(|w| {
        w.users
            .values()
            .find(|u| u.last_name.as_deref() == Some("Alvarez"))
            .unwrap()
            .id
    });
    ui_rename(&running.url(), pat, "Patricia").await;
    let store = setup.store().await;
    eventually(PATIENCE, "the worker renamed", || async {
        (worker_name(&store, pat).await.as_deref() == Some("Patricia")).then_some(())
    })
    .await;

    let child = servers.0.remove(0);
    terminate(&child);
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Stopped."),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A load balancer in front of the processes, as Procore's one destination URL needs: each
/// delivery goes to the first process that answers.
async fn balancer(ports: Arc<Mutex<Vec<u16>>>) -> String {
    use axum::body::Bytes;
    use axum::extract::{Path, State};
    use axum::http::{HeaderMap, StatusCode};
    async fn forward(
        State(ports): State<Arc<Mutex<Vec<u16>>>>,
        Path(company): Path<String>,
        headers: HeaderMap,
        body: Bytes,
    ) -> StatusCode {
        let mut candidates = ports.lock().unwrap().clone();
        let turn = rand::random_range(0..candidates.len().max(1));
        candidates.rotate_left(turn);
        for port in candidates {
            let mut request = reqwest::Client::new()
                .post(format!(
                    "http://127.0.0.1:{port}/webhooks/procore/{company}"
                ))
                .header("Content-Type", "application/json")
                .body(body.clone());
            if let Some(a) = headers.get("authorization") {
                request = request.header("Authorization", a.as_bytes());
            }
            if let Ok(resp) = request.send().await {
                return StatusCode::from_u16(resp.status().as_u16()).unwrap();
            }
        }
        StatusCode::BAD_GATEWAY
    }
    let app = axum::Router::new()
        .route("/webhooks/procore/{company}", axum::routing::post(forward))
        .with_state(ports);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_on_postgresql_killed_again_and_again_converge_with_nothing_written_twice()
{
    let running = common::spawn_demo_sim().await;
    let sim = running.sim();
    let schema = PgSchema::create().await;
    let setup = Setup::with_database(&running.url(), Some(&schema.url()));
    setup.connect(&["--sync-forms"]).await;
    // The compliance integration too: Acme and Bolt with their profile, new Procore projects
    // imported, companies associated through active commitments; its first sync turns it on.
    let (acme, _) = setup.with_compliance(sim).await;
    setup.sync("compliance").await;
    let harbor = sim.read(|w| {
        w.projects
            .values()
            .find(|p| p.name == "Harbor Tower")
            .map(|p| p.id)
            .unwrap()
    });
    let per_project = insured_on(sim, acme, harbor);
    assert!(per_project > 0, "Acme is insured on Harbor Tower");
    let mut ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let live = Arc::new(Mutex::new(ports.clone()));
    let public = balancer(live.clone()).await;
    // No scheduled reconcile within the test: what converges, converges through webhooks and
    // the work they and the hook check queue. (The faults start while the first process is
    // still making the hook's triggers; the changes made before a trigger exists are read by
    // the reconcile the finished check queues.)
    serve_settings(&setup, &public, "1h");
    let mut servers = Servers(ports.iter().map(|p| spawn_serve(&setup, *p)).collect());
    let children = &mut servers.0;
    for p in &ports {
        ready(*p).await;
    }
    eventually(PATIENCE, "the hook registered", || async {
        sim.read(|w| {
            w.hooks
                .values()
                .any(|h| h.destination_url.starts_with(&public))
        })
        .then_some(())
    })
    .await;

    // A fifth of Procore's answers fail from now on.
    sim.set_faults(procore_sim::Faults {
        error_rate: 0.2,
        ..Default::default()
    });
    let store = setup.store().await;
    let users: Vec<i64> = sim.read(|w| {
        w.users
            .values()
            .filter(|u| u.is_active && u.is_employee)
            .map(|u| u.id)
            .collect()
    });
    let project = *store
        .links(demo::COMPANY_ID, LinkKind::Project)
        .await
        .unwrap()
        .values()
        .next()
        .unwrap();
    let mut template = testkit::forms::toolbox_talk("Toolbox Talk");
    template.id = store
        .save_template(demo::COMPANY_ID, &template)
        .await
        .unwrap();

    let mut forms = Vec::new();
    let mut sites = Vec::new();
    for round in 0..6 {
        // Changes in Procore and completed forms in the app...
        for (i, user) in users.iter().enumerate() {
            ui_rename(&running.url(), *user, &format!("Round{round}User{i}")).await;
        }
        let form = testkit::forms::completed(
            &template,
            project,
            &format!("2026-11-{:02}", 10 + round),
            chrono::Utc::now(),
        );
        forms.push(
            sync::jobs::save_form(&store, demo::COMPANY_ID, &form, 8)
                .await
                .unwrap(),
        );
        // A new Procore project where Acme gets an approved subcontract: imported, associated,
        // and insured in Procore by whichever process takes the work.
        let site = ui_create(
            &running.url(),
            "projects",
            serde_json::json!({"name": format!("Round {round} Site"), "project_number": format!("R-{round}")}),
        )
        .await;
        ui_create(
            &running.url(),
            "commitments",
            serde_json::json!({"kind": "work_order_contract", "project_id": site,
                "work_order_contract": {"title": format!("Round {round} wiring"), "status": "Approved",
                    "executed": true, "vendor_id": acme}}),
        )
        .await;
        sites.push(site);
        // ...while one process dies without warning and comes back.
        let victim = round % children.len();
        children[victim].kill().unwrap();
        let _ = children[victim].wait();
        tokio::time::sleep(Duration::from_millis(300)).await;
        // On a fresh port: the old one may have been handed to another connection meanwhile.
        ports[victim] = free_port();
        live.lock().unwrap()[victim] = ports[victim];
        children[victim] = spawn_serve(&setup, ports[victim]);
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    sim.set_faults(procore_sim::Faults::default());

    // Every change converges.
    for (i, user) in users.iter().enumerate() {
        let want = format!("Round5User{i}");
        eventually(PATIENCE, "every worker renamed", || async {
            (worker_name(&store, *user).await.as_deref() == Some(want.as_str())).then_some(())
        })
        .await;
    }
    // An upload whose outcome a fault made unknown waits a minute before it is tried again
    // (Procore is given time to settle, and the retry looks before it writes).
    for form in &forms {
        eventually(PATIENCE, "every form uploaded", || async {
            store
                .uploaded_revision(demo::COMPANY_ID, *form)
                .await
                .unwrap()
                .map(|_| ())
        })
        .await;
    }
    for site in &sites {
        eventually(PATIENCE, "Acme insured on every new site", || async {
            (insured_on(sim, acme, *site) == per_project).then_some(())
        })
        .await;
    }
    // No job lost or stuck: the queue drains, and none is dead.
    eventually(PATIENCE, "the queue drained", || async {
        let counts = store.job_counts().await.unwrap();
        (!counts
            .iter()
            .any(|(_, state, n)| *n > 0 && matches!(state, JobState::Pending | JobState::Running)))
        .then_some(())
    })
    .await;
    let dead = store
        .jobs(&JobFilter {
            state: Some(JobState::Dead),
            ..JobFilter::default()
        })
        .await
        .unwrap();
    assert!(dead.is_empty(), "dead jobs: {dead:?}");
    // No document written twice: one per form.
    for form in &forms {
        let marker = sync::workforce::upload::marker(demo::COMPANY_ID, *form);
        let documents = sim.read(|w| {
            w.files
                .values()
                .filter(|f| {
                    !f.is_deleted
                        && f.description
                            .as_deref()
                            .is_some_and(|d| d == marker || d.starts_with(&format!("{marker} ")))
                })
                .count()
        });
        assert_eq!(documents, 1, "form {form}");
    }
    // No insurance record written twice: one record per origin.
    let records = trestle_insurances(sim);
    let origins: std::collections::BTreeSet<_> =
        records.iter().map(|i| i.origin_id.clone()).collect();
    assert_eq!(origins.len(), records.len(), "{records:#?}");
    for site in &sites {
        assert_eq!(insured_on(sim, acme, *site), per_project, "site {site}");
    }

    for child in children.iter() {
        terminate(child);
    }
    for child in std::mem::take(children) {
        let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
            .await
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
}
