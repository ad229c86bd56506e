//! The initial workforce sync of a generated company against the simulator with limits off,
//! then a no-change resync. Prints records per second, requests against the lower bound, and
//! peak memory.
//!
//! Run with `cargo bench -p sync --bench workforce_sync`. Sizes: `BENCH_PROJECTS` (2000),
//! `BENCH_USERS` (20000), `BENCH_SEED` (42). Peak memory is the whole process, simulator
//! included, so it is an upper bound for trestle alone.

use std::time::Instant;

use procore::{Client, ClientConfig, CompanyId, Credentials};
use procore_sim::{demo, generate, Sim, SimConfig};
use secrecy::SecretString;
use store::{Connection, SecretKey, Store};
use sync::workforce::{sync_workforce, WorkforceJob};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let sizes = generate::Sizes {
        projects: env_usize("BENCH_PROJECTS", 2000),
        users: env_usize("BENCH_USERS", 20_000),
        vendors: 10,
        commitments_per_project: 0,
    };
    let world = generate::world(env_usize("BENCH_SEED", 42) as u64, sizes);
    // The lower bound: one page per largest page size for each collection the sync reads
    // (v1.1 projects: 300; users, active through v1.3 and inactive: 2000), plus `/me`. Projects
    // cannot be read at v1.0's 2000 a page: that list has no `description`, `public_notes` or
    // `template`, which the seed's mapping needs (docs/workforce.md), so 300 is the bound.
    let projects = world.projects.values().filter(|p| !p.template).count();
    let active = world.users.values().filter(|u| u.is_active).count();
    let inactive = world.users.len() - active;
    let lower_bound = 1
        + projects.div_ceil(300).max(1)
        + active.div_ceil(2000).max(1)
        + inactive.div_ceil(2000).max(1);

    let app = procore_sim::spawn(Sim::new(
        world,
        SimConfig {
            rate_limits: None,
            ..SimConfig::default()
        },
    ))
    .await;
    let client = Client::new(
        ClientConfig::custom(
            &app.url(),
            CompanyId(demo::COMPANY_ID),
            Credentials::client_credentials(demo::CLIENT_ID, demo::CLIENT_SECRET),
        )
        .expect("config"),
    )
    .expect("client");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(
        &dir.path().join("bench.sqlite").display().to_string(),
        SecretKey::generate(),
    )
    .await
    .expect("store");
    let connection = Connection::new(
        demo::COMPANY_ID,
        demo::CLIENT_ID,
        SecretString::from(demo::CLIENT_SECRET.to_string()),
    );
    store
        .save_connection(&connection, None)
        .await
        .expect("connection");
    let now = chrono::Utc::now();
    let job = WorkforceJob {
        client: &client,
        store: &store,
        connection: &connection,
        company_name: None,
        today: now.date_naive(),
        now,
        full_read: false,
        crash_at: None,
        reclaim_leases: false,
        progress: None,
    };

    let started = Instant::now();
    let first = sync_workforce(&job, false).await.expect("initial sync");
    let elapsed = started.elapsed();
    let s = &first.summary;
    println!("initial workforce sync: {projects} projects, {} users ({active} active, {inactive} inactive)", active + inactive);
    println!("  records read:          {}", s.records_read);
    println!(
        "  created:               {} projects, {} workers",
        s.projects_created, s.workers_created
    );
    println!("  time:                  {:.2} s", elapsed.as_secs_f64());
    println!(
        "  records per second:    {:.0}",
        s.records_read as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  requests:              {} (lower bound {lower_bound}, {:+.1}%)",
        s.requests,
        (s.requests as f64 / lower_bound as f64 - 1.0) * 100.0
    );

    println!(
        "  (projects are read at v1.1's 300 a page: v1.0's list, at 2000, has no description,"
    );
    println!("   public notes or template, which the mapping needs; see docs/workforce.md)");

    let started = Instant::now();
    let again = sync_workforce(&job, false).await.expect("resync");
    println!("no-change resync:");
    println!("  requests:              {} (at most one per collection: /me, projects, users, inactive users)", again.summary.requests);
    println!("  changes planned:       {}", again.plan.changes().count());
    println!(
        "  time:                  {:.2} s",
        started.elapsed().as_secs_f64()
    );
    match peak_rss_mib() {
        Some(mib) => println!("peak memory (VmHWM, simulator included): {mib:.1} MiB"),
        None => println!("peak memory: unavailable on this platform"),
    }
}
