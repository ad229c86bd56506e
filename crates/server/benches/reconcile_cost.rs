//! What an unchanged company costs in Procore requests per hour while `trestle serve` keeps it
//! in sync: the company of the size (1,500 followed projects, whose commitments Procore
//! lists only project by project), served with its webhook registered, every reconcile and
//! whole read run through the server's own jobs and counted at the simulator.
//!
//! `cargo bench -p server --bench reconcile_cost` (add `-- --quick` for a tenth of the size).
//! Prints figures; asserts nothing about time.

use procore_sim::{demo, generate, Sim, SimConfig};
use std::sync::Arc;
use std::time::Duration;
use store::{JobState, Store};
use sync::compliance::{load_settings, save_settings, sync_compliance, ComplianceJob};
use sync::jobs::{enqueue, Integration, Work};
use sync::workforce::{sync_workforce, WorkforceJob};

/// Procore's hourly request budget per app and company.
const BUDGET: f64 = 3600.0;

async fn idle(store: &Store) {
    loop {
        let busy = store
            .job_counts()
            .await
            .expect("counts")
            .into_iter()
            .any(|(_, s, n)| n > 0 && matches!(s, JobState::Pending | JobState::Running));
        if !busy {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs `work` through the server's queue and counts the Procore requests it made.
async fn cost(sim: &Sim, store: &Store, work: Work) -> usize {
    sim.clear_request_log();
    enqueue(store, demo::COMPANY_ID, &work, chrono::Utc::now(), 8)
        .await
        .expect("enqueue");
    tokio::time::sleep(Duration::from_millis(100)).await;
    idle(store).await;
    sim.request_log()
        .iter()
        .filter(|r| r.path.starts_with("/rest/"))
        .count()
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let projects = if quick { 150 } else { 1_500 };
    let world = generate::world(
        7,
        generate::Sizes {
            projects,
            users: projects,
            vendors: projects * 2 / 3,
            commitments_per_project: 4,
        },
    );
    let running = procore_sim::spawn(Sim::new(
        world,
        SimConfig {
            rate_limits: None,
            ..SimConfig::default()
        },
    ))
    .await;
    let sim = running.sim();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(
        &format!("sqlite://{}", dir.path().join("bench.sqlite").display()),
        store::SecretKey::generate(),
    )
    .await
    .expect("store");
    let connection = testkit::demo_connection();
    store
        .save_connection(&connection, None)
        .await
        .expect("connection");
    let client = testkit::client_for(&running.url());
    let company = demo::COMPANY_ID;

    // Every Procore project followed by the compliance integration.
    let project_ids: Vec<i64> = sim.read(|w| w.projects.keys().copied().collect());
    for p in &project_ids {
        store
            .set_mapping(
                company,
                store::ProcoreRecordKind::Project,
                *p,
                store::MappingDecision::Import,
            )
            .await
            .expect("mapping");
    }
    let mut settings = load_settings(&store, company).await.expect("settings");
    settings.import_companies_through_commitments = true;
    save_settings(&store, company, &settings)
        .await
        .expect("settings");
    let today = chrono::Utc::now().date_naive();
    sync_workforce(
        &WorkforceJob {
            client: &client,
            store: &store,
            connection: &connection,
            company_name: None,
            today,
            now: chrono::Utc::now(),
            full_read: false,
            crash_at: None,
            reclaim_leases: true,
            progress: None,
        },
        false,
    )
    .await
    .expect("first workforce sync");
    let compliance_job = ComplianceJob {
        client: &client,
        store: &store,
        company_id: company,
        today,
        full_read: false,
        reclaim_leases: true,
        crash_at: None,
        progress: None,
    };
    sync_compliance(&compliance_job, false)
        .await
        .expect("first compliance sync");
    // Without webhooks, a reconcile is an ordinary incremental sync: every followed project's
    // commitments are asked for.
    sim.clear_request_log();
    sync_compliance(&compliance_job, false)
        .await
        .expect("quiet sync");
    let without_webhooks = sim.request_log().len();

    let sim_url = running.url();
    let clients: server::Clients = Arc::new(move |_c| Ok(testkit::client_for(&sim_url)));
    let config = server::ServerConfig {
        poll_every: Duration::from_millis(20),
        ..server::ServerConfig::default()
    };
    let server = server::spawn(store.clone(), config.clone(), clients, |url| {
        Some(url.to_string())
    })
    .await
    .expect("server");
    tokio::time::sleep(Duration::from_millis(300)).await;
    idle(&store).await;

    let sync = |integration, full| Work::Sync {
        integration,
        full,
        targets: None,
    };
    let workforce = cost(sim, &store, sync(Integration::Workforce, false)).await;
    let compliance = cost(sim, &store, sync(Integration::Compliance, false)).await;
    let workforce_whole = cost(sim, &store, sync(Integration::Workforce, true)).await;
    let compliance_whole = cost(sim, &store, sync(Integration::Compliance, true)).await;
    server.stop().await.expect("stop");

    let per_hour_reconciles = 3600.0 / config.reconcile_every.as_secs_f64();
    let workforce_wholes = 3600.0 / config.full_reconcile_every.as_secs_f64();
    let compliance_wholes = 1.0 / (f64::from(settings.full_read_days) * 24.0);
    let hourly = per_hour_reconciles * (workforce + compliance) as f64
        + workforce_wholes * workforce_whole as f64
        + compliance_wholes * compliance_whole as f64;
    println!(
        "An unchanged company: {projects} followed projects, {} commitments; webhook registered",
        sim.read(|w| w.commitments.len())
    );
    println!("  requests per reconcile, workforce:                 {workforce}");
    println!("  requests per reconcile, compliance (webhooks on):  {compliance}");
    println!("  requests per reconcile, compliance (no webhooks):  {without_webhooks}");
    println!("  requests per whole read, workforce:                {workforce_whole}");
    println!("  requests per whole read, compliance:               {compliance_whole}");
    println!(
        "  with the defaults (reconcile every {}, workforce whole every {}, compliance whole every {} days):",
        humantime::format_duration(config.reconcile_every),
        humantime::format_duration(config.full_reconcile_every),
        settings.full_read_days
    );
    println!(
        "  Procore requests per hour: {hourly:.1} = {:.2}% of the hourly budget of {BUDGET}",
        hourly / BUDGET * 100.0
    );
}
