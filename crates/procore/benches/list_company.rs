//! Lists a large generated company through the client and reports requests against the lower
//! bound, records per second and peak memory.
//!
//! Run with `cargo bench -p procore --bench list_company`. Sizes can be overridden with
//! `BENCH_PROJECTS`, `BENCH_USERS`, `BENCH_VENDORS`, `BENCH_SEED`.

use std::time::Instant;

use procore::api::projects::ProjectStatus;
use procore::list::MAX_PER_PAGE_V1;
use procore::{Client, ClientConfig, CompanyId, Credentials};
use procore_sim::{demo, generate, Sim, SimConfig};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn pages(records: usize, per_page: usize) -> usize {
    records.div_ceil(per_page).max(1)
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
        vendors: env_usize("BENCH_VENDORS", 5000),
        commitments_per_project: 1,
    };
    let seed = env_usize("BENCH_SEED", 42) as u64;
    let t = Instant::now();
    let world = generate::world(seed, sizes);
    eprintln!("generated {sizes:?} in {:?}", t.elapsed());
    let app = procore_sim::spawn(Sim::new(
        world,
        SimConfig {
            rate_limits: None,
            ..SimConfig::default()
        },
    ))
    .await;
    let config = ClientConfig::custom(
        &app.url(),
        CompanyId(demo::COMPANY_ID),
        Credentials::client_credentials(demo::CLIENT_ID, demo::CLIENT_SECRET),
    )
    .expect("config");
    let client = Client::new(config).expect("client");
    client.me().await.expect("token");
    let base_requests = client.stats().requests;

    let start = Instant::now();
    let projects = client
        .projects()
        .list()
        .status(ProjectStatus::All)
        .collect()
        .await
        .expect("projects");
    let users_active = client.users().list().collect().await.expect("users");
    let users_inactive = client
        .users()
        .list_inactive()
        .collect()
        .await
        .expect("inactive users");
    let vendors_active = client.vendors().list().collect().await.expect("vendors");
    let vendors_inactive = client
        .vendors()
        .list_inactive()
        .collect()
        .await
        .expect("inactive vendors");
    let elapsed = start.elapsed();

    let per = MAX_PER_PAGE_V1 as usize;
    let collections = [
        ("projects (all)", projects.items.len()),
        ("users (active)", users_active.items.len()),
        ("users (inactive)", users_inactive.items.len()),
        ("vendors (active)", vendors_active.items.len()),
        ("vendors (inactive)", vendors_inactive.items.len()),
    ];
    let lower_bound: usize = collections.iter().map(|(_, n)| pages(*n, per)).sum();
    let records: usize = collections.iter().map(|(_, n)| n).sum();
    let used = (client.stats().requests - base_requests) as usize;
    let malformed = projects.malformed.len()
        + users_active.malformed.len()
        + users_inactive.malformed.len()
        + vendors_active.malformed.len()
        + vendors_inactive.malformed.len();

    println!("list_company: seed {seed}, {sizes:?}");
    for (name, n) in collections {
        println!(
            "  {name:<20} {n:>7} records, lower bound {} requests",
            pages(n, per)
        );
    }
    println!(
        "requests used:        {used} (lower bound {lower_bound}, {:+.2}%)",
        (used as f64 / lower_bound as f64 - 1.0) * 100.0
    );
    println!("records:              {records} ({malformed} malformed)");
    println!("elapsed:              {elapsed:.2?}");
    println!(
        "records per second:   {:.0}",
        records as f64 / elapsed.as_secs_f64()
    );
    match peak_rss_kib() {
        Some(kib) => println!("peak memory (VmHWM):  {:.1} MiB", kib as f64 / 1024.0),
        None => println!("peak memory (VmHWM):  unavailable"),
    }
    let within = used as f64 <= lower_bound as f64 * 1.02;
    println!(
        "within 2% of the lower bound: {}",
        if within { "yes" } else { "NO" }
    );
}
