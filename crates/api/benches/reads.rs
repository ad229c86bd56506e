//! The REST API's reads at the benchmark company's size, over real HTTP and real databases.
//! Prints figures; asserts none (timings depend on the machine and on what else runs on it).
//!
//! 1. A page of 100 workers out of 20,000, filtered by status and name
//!    (`GET /api/v1/companies/{c}/workforce/workers?status=active_for_kiosk&q=walker&limit=100`).
//! 2. The compliance status of 5,000 parties, half with a certificate that meets their
//!    profile: the first 100 not compliant
//!    (`GET /api/v1/companies/{c}/compliance/parties?status=non_compliant&limit=100`), which
//!    evaluates every party to find them.
//! 3. The web UI's pages of the same two (signed in with a session cookie): the workers page
//!    (50 a page) and the parties page (100), rendered on the server over the same API calls;
//!    and every other page a person opens (integrations, projects, workers and parties
//!    unfiltered, waiting, a party's page, compliance projects, mapping, settings, activity,
//!    forms). Target: under 100 ms.
//!
//! Each on SQLite (a file) and on PostgreSQL (a private schema, dropped afterwards): requests
//! one after another for the latency (p50, p99), then 8 clients at once for requests per
//! second. Target: p99 under 50 ms with the server and the benchmark on this machine.
//!
//! Run with `cargo bench -p api --bench reads` (`-- --quick` for a smoke run;
//! `BENCH_BACKEND=sqlite` or `postgres` for one backend). PostgreSQL is
//! `TRESTLE_TEST_POSTGRES_URL` or postgres://postgres@127.0.0.1:5432/test. The simulator, the
//! load generator and the server share this process and its cores.

use chrono::Utc;
use domain::compliance::ComplianceData;
use domain::workforce::{Activation, WorkerFields};
use secrecy::ExposeSecret;
use server::ServerConfig;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::{ApiScope, WorkforceBatch, WorkforceChange};
use testkit::{Backend, Kit};

const WORKERS: usize = 20_000;
const PARTIES: usize = 5_000;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        println!(
            "{:<11} {:<34} {:>9} {:>9} {:>12}",
            "backend", "read", "p50 ms", "p99 ms", "req/s (x8)"
        );
        let only = std::env::var("BENCH_BACKEND").unwrap_or_default();
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let name = match backend {
                Backend::Sqlite => "sqlite",
                Backend::Postgres => "postgres",
            };
            if only.is_empty() || only == name {
                run(backend, quick).await;
            }
        }
    });
}

async fn seed(kit: &Kit) {
    let started = Instant::now();
    let changes: Vec<WorkforceChange> = (0..WORKERS)
        .map(|i| WorkforceChange::CreateWorker {
            procore_id: 9_000_000 + i as i64,
            fields: WorkerFields {
                first_name: format!("Worker{i}"),
                last_name: format!("Walker{}", i % 50),
                email: Some(format!("worker{i}@example.com")),
                ..WorkerFields::default()
            },
            activation: if i % 2 == 0 {
                Activation::ActiveForKiosk
            } else {
                Activation::Active
            },
        })
        .collect();
    kit.store
        .apply_workforce(&WorkforceBatch {
            company_id: kit.company,
            run: None,
            changes: &changes,
            outbox: &[],
            cursors: &[],
            log: &[],
            waiting: &[],
        })
        .await
        .expect("seeding workers");
    eprintln!(
        "  {WORKERS} workers stored in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let parties: Vec<serde_json::Value> = (1..=PARTIES)
        .map(|i| serde_json::json!({"id": i, "name": format!("Party {i}"), "profile_id": 1}))
        .collect();
    let certificates: Vec<serde_json::Value> = (1..=PARTIES)
        .step_by(2)
        .map(|i| {
            serde_json::json!({"id": i, "party_id": i, "policies": [
                {"subject": "general_liability", "insurer": "Granite Mutual", "policy_number": format!("GL-{i}"),
                 "effective_date": "2026-01-01", "expiration_date": "2030-12-31",
                 "limits": {"each_occurrence": "2000000"}}]})
        })
        .collect();
    let data: ComplianceData = serde_json::from_value(serde_json::json!({
        "version": 1,
        "profiles": [{"id": 1, "name": "Standard", "requirements": [
            {"key": "gl.each_occurrence", "subject": "general_liability",
             "check": {"type": "limit_at_least", "limit": "each_occurrence", "minimum": "1000000"}}]}],
        "parties": parties,
        "certificates": certificates,
    }))
    .expect("a dataset");
    kit.store
        .import_compliance(kit.company, &data)
        .await
        .expect("seeding parties");
    eprintln!(
        "  {PARTIES} parties imported in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

async fn run(backend: Backend, quick: bool) {
    let name = match backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    };
    let kit = Kit::spawn(
        procore_sim::demo::world(),
        testkit::quiet(),
        backend,
        |_| {},
    )
    .await;
    seed(&kit).await;
    let sim_url = kit.sim.url();
    let clients: server::Clients = Arc::new(move |c| {
        procore::ClientConfig::custom(
            &sim_url,
            procore::CompanyId(c.company_id),
            procore::Credentials::client_credentials(
                c.client_id.clone(),
                c.client_secret.expose_secret().to_string(),
            ),
        )
        .and_then(procore::Client::new)
        .map_err(|e| e.to_string())
    });
    let server = server::spawn(kit.store.clone(), ServerConfig::default(), clients, |_| {
        None
    })
    .await
    .expect("the server");
    let token = engine::tokens::create(
        &kit.store,
        &engine::tokens::TokenRequest {
            name: "bench",
            scope: ApiScope::ReadOnly,
        },
        Utc::now(),
    )
    .await
    .expect("a token")
    .secret
    .expose_secret()
    .to_string();
    // The start's reconcile plans against every worker; let it finish first.
    for _ in 0..600 {
        let busy = kit
            .store
            .job_counts()
            .await
            .unwrap()
            .iter()
            .any(|(_, s, n)| {
                *n > 0 && matches!(s, store::JobState::Pending | store::JobState::Running)
            });
        if !busy {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let company = kit.company;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client");
    // The web UI's pages, signed in as a person would be, with the same token.
    let signed_in = http
        .post(format!("{}/ui/sign-in", server.url))
        .form(&[("token", token.as_str()), ("next", "/ui/")])
        .send()
        .await
        .expect("signing in");
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .expect("a cookie")
        .split(';')
        .next()
        .expect("the session")
        .to_string();
    let bearer = ("authorization", format!("Bearer {token}"));
    let session = ("cookie", cookie);
    let party: serde_json::Value = http
        .get(format!(
            "{}/api/v1/companies/{company}/compliance/parties?limit=1",
            server.url
        ))
        .header(bearer.0, &bearer.1)
        .send()
        .await
        .expect("a party")
        .json()
        .await
        .expect("parties");
    let party = party[0]["id"].as_i64().expect("a party's id");
    let ui = |path: &str| format!("{}/ui/companies/{company}{path}", server.url);
    // Every other page a person opens, at the same size: the long ones page.
    let pages = [
        ("UI: integrations", format!("{}/ui/", server.url)),
        ("UI: workforce projects", ui("/workforce/projects")),
        ("UI: workers page", ui("/workforce/workers")),
        ("UI: waiting", ui("/workforce/waiting")),
        ("UI: parties page", ui("/compliance/parties")),
        (
            "UI: a party's page",
            ui(&format!("/compliance/parties/{party}")),
        ),
        ("UI: compliance projects", ui("/compliance/projects")),
        ("UI: mapping", ui("/compliance/mappings")),
        ("UI: compliance settings", ui("/compliance/settings")),
        ("UI: activity", ui("/activity")),
        ("UI: forms", ui("/forms")),
    ];
    let mut reads = vec![
        (
            "100 of 20,000 workers, filtered",
            format!(
                "{}/api/v1/companies/{company}/workforce/workers?status=active_for_kiosk&q=walker&limit=100",
                server.url
            ),
            &bearer,
        ),
        (
            "100 not compliant of 5,000 parties",
            format!(
                "{}/api/v1/companies/{company}/compliance/parties?status=non_compliant&limit=100",
                server.url
            ),
            &bearer,
        ),
        (
            "UI: workers page, filtered",
            format!(
                "{}/ui/companies/{company}/workforce/workers?status=active_for_kiosk&q=walker",
                server.url
            ),
            &session,
        ),
        (
            "UI: parties page, not compliant",
            format!(
                "{}/ui/companies/{company}/compliance/parties?status=non_compliant",
                server.url
            ),
            &session,
        ),
    ];
    reads.extend(pages.into_iter().map(|(what, url)| (what, url, &session)));
    let (sequential, concurrent) = if quick { (20, 5) } else { (200, 50) };
    for (what, url, (header, value)) in &reads {
        let get = || async {
            let started = Instant::now();
            let response = http
                .get(url)
                .header(*header, value)
                .send()
                .await
                .expect("an answer");
            assert!(
                response.status().is_success(),
                "{url}: {}",
                response.status()
            );
            let body = response.bytes().await.expect("a body");
            assert!(body.len() > 2, "{url}: an empty page");
            started.elapsed()
        };
        for _ in 0..3 {
            get().await;
        }
        let mut times = Vec::with_capacity(sequential);
        for _ in 0..sequential {
            times.push(get().await);
        }
        times.sort();
        let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (http, url, header, value) = (http.clone(), url.clone(), *header, value.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..concurrent {
                    let r = http
                        .get(&url)
                        .header(header, &value)
                        .send()
                        .await
                        .expect("an answer");
                    assert!(r.status().is_success());
                    r.bytes().await.expect("a body");
                }
            }));
        }
        for t in tasks {
            t.await.expect("a client");
        }
        let per_second = (8 * concurrent) as f64 / started.elapsed().as_secs_f64();
        println!(
            "{name:<11} {what:<34} {:>9.1} {:>9.1} {per_second:>12.0}",
            at(0.5).as_secs_f64() * 1000.0,
            at(0.99).as_secs_f64() * 1000.0,
        );
    }
    let _ = server.stop().await;
    kit.database.remove().await;
}
