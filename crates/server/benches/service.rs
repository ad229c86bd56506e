//! `trestle serve` under load, over real HTTP and real databases. Prints figures; asserts none
//! (timings depend on the machine and on what else runs on it).
//!
//! 1. Receiver throughput: concurrent clients POST distinct, valid, authenticated Procore
//!    events for a few seconds; deliveries answered 204 per second, on SQLite (a file in a
//!    temporary folder) and on PostgreSQL (a private schema, dropped afterwards). The server's
//!    workers run as in production, routing what arrives.
//! 2. Change to app latency: user edits made through the simulator's admin ("web UI") route,
//!    spread evenly over a period; for each, the time from the edit to the store showing the
//!    worker's new name, polled every few milliseconds. On SQLite with one server, and on
//!    PostgreSQL with two servers sharing one schema behind a round-robin proxy that the
//!    simulator's hook points at.
//!
//! Run with `cargo bench -p server --bench service` (`-- --quick` for a smoke run of a few
//! seconds). PostgreSQL is `TRESTLE_TEST_POSTGRES_URL` or postgres://postgres@127.0.0.1:5432/test.
//! Overrides: `BENCH_CLIENTS` (64), `BENCH_SECONDS` (5), `BENCH_EDITS` (1000),
//! `BENCH_SPREAD_SECONDS` (60).
//!
//! The simulator, the load generator and the servers share this process and its cores, so
//! the figures are lower bounds of what a server alone on the machine would do.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use procore_sim::{demo, generate};
use secrecy::SecretString;
use server::{Running, ServerConfig};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::{HookRecord, JobState, LinkKind, Store};
use sync::workforce::{sync_workforce, WorkforceJob};
use testkit::{client_for, Kit};

/// How long setup steps that finish on their own may take before the run is called stuck.
const PATIENCE: Duration = Duration::from_secs(120);
/// How often the latency run reads the store for the names it waits for.
const POLL: Duration = Duration::from_millis(5);
/// The secret of the throughput runs' hook.
const SECRET: &str = "the-benchmark-hook-secret";

struct Options {
    clients: usize,
    seconds: f64,
    edits: usize,
    spread: Duration,
}

impl Options {
    fn from_env(quick: bool) -> Options {
        let var = |name: &str, full: f64, quick_value: f64| {
            if quick {
                return quick_value;
            }
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(full)
        };
        Options {
            clients: var("BENCH_CLIENTS", 64.0, 16.0) as usize,
            seconds: var("BENCH_SECONDS", 5.0, 1.0),
            edits: var("BENCH_EDITS", 1000.0, 40.0) as usize,
            spread: Duration::from_secs_f64(var("BENCH_SPREAD_SECONDS", 60.0, 4.0)),
        }
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let options = Options::from_env(quick);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run(options));
}

async fn run(o: Options) {
    println!(
        "trestle serve benchmark: {} cores available",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut throughput = Vec::new();
    for backend in [testkit::Backend::Sqlite, testkit::Backend::Postgres] {
        throughput.push(receiver_throughput(backend, &o).await);
    }
    let latency = vec![
        change_latency(testkit::Backend::Sqlite, 1, &o).await,
        change_latency(testkit::Backend::Postgres, 2, &o).await,
    ];

    println!();
    println!(
        "Receiver: {} concurrent clients, {:.0} s each (target >= 2,000 deliveries/s)",
        o.clients, o.seconds
    );
    println!(
        "{:<10} {:>13} {:>9} {:>10} {:>10} {:>8} {:>7}",
        "store", "deliveries/s", "answered", "p50 answer", "p99 answer", "stored", "non-204"
    );
    for t in &throughput {
        println!(
            "{:<10} {:>13.0} {:>9} {:>10} {:>10} {:>8} {:>7}",
            t.backend,
            t.per_second,
            t.answered,
            ms(t.p50),
            ms(t.p99),
            t.stored,
            t.failed
        );
    }
    println!();
    println!(
        "Change to app: {} user edits over {:.0} s (target p99 < 2 s)",
        o.edits,
        o.spread.as_secs_f64()
    );
    println!(
        "{:<22} {:>6} {:>6} {:>9} {:>9} {:>9}",
        "setup", "edits", "seen", "p50", "p99", "max"
    );
    for l in &latency {
        println!(
            "{:<22} {:>6} {:>6} {:>9} {:>9} {:>9}",
            l.setup,
            l.edits,
            l.seen,
            ms(l.p50),
            ms(l.p99),
            ms(l.max)
        );
    }
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// The `q`-quantile (0..=1) of sorted durations, nearest rank; zero for none.
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn backend_name(backend: testkit::Backend) -> &'static str {
    match backend {
        testkit::Backend::Sqlite => "sqlite",
        testkit::Backend::Postgres => "postgres",
    }
}

fn clients_of(kit: &Kit) -> server::Clients {
    let sim_url = kit.sim.url();
    Arc::new(move |_| Ok(client_for(&sim_url)))
}

/// Waits until `check` holds, asking every 20 ms; panics naming `what` after [`PATIENCE`].
async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + PATIENCE;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within {PATIENCE:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn idle(store: &Store) {
    until("the queue idle", || async {
        !store
            .job_counts()
            .await
            .expect("job counts")
            .into_iter()
            .any(|(_, state, n)| n > 0 && matches!(state, JobState::Pending | JobState::Running))
    })
    .await;
}

/// Stops the servers, closes the stores and drops the database.
async fn tear_down(kit: Kit, servers: Vec<Running>, stores: Vec<Store>) {
    for s in servers {
        s.stop().await.expect("a clean stop");
    }
    for s in stores {
        s.close().await;
    }
    let Kit {
        store, database, ..
    } = kit;
    store.close().await;
    database.remove().await;
}

struct Throughput {
    backend: &'static str,
    per_second: f64,
    answered: usize,
    failed: usize,
    stored: i64,
    p50: Duration,
    p99: Duration,
}

/// A Procore v2 "Company Users update" event; `id` makes it distinct.
fn event(id: u64, user: i64) -> String {
    let company = demo::COMPANY_ID;
    format!(
        r#"{{"id":{id},"ulid":"01JBENCH{id:018}","timestamp":"2026-12-03T10:00:00.000000Z","metadata":{{"source_user_id":1,"source_company_id":{company},"source_project_id":null,"source_application_id":null,"source_operation_id":null}},"user_id":1,"company_id":{company},"project_id":null,"api_version":"v2.0","event_type":"update","resource_name":"Company Users","resource_id":{user}}}"#
    )
}

async fn receiver_throughput(backend: testkit::Backend, o: &Options) -> Throughput {
    let kit = Kit::spawn(demo::world(), testkit::quiet(), backend, |_| {}).await;
    // The hook record as the hook check leaves it, saved directly: this run measures the
    // receiver, not the registration.
    kit.store
        .save_hook_record(&HookRecord {
            company_id: kit.company,
            hook_id: None,
            destination_url: "http://unused.example/".into(),
            secret: SecretString::from(SECRET.to_string()),
            triggers_json: "[]".into(),
            checked_at: None,
        })
        .await
        .expect("saving the hook record");
    let server = server::spawn(
        kit.store.clone(),
        ServerConfig::default(),
        clients_of(&kit),
        |_| None,
    )
    .await
    .expect("binding the server");
    let users: Vec<i64> = kit.sim().read(|w| w.users.keys().copied().collect());
    let before = kit.store.delivery_counts().await.expect("counts");
    let url = format!("{}/webhooks/procore/{}", server.url, kit.company);
    let http = reqwest::Client::new();
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(o.seconds);
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..o.clients {
        let (http, url, next, users) = (http.clone(), url.clone(), next.clone(), users.clone());
        clients.spawn(async move {
            let mut answers = Vec::new();
            let mut failed = 0;
            while Instant::now() < deadline {
                let id = next.fetch_add(1, Ordering::Relaxed);
                let user = users[id as usize % users.len()];
                let sent = Instant::now();
                let status = http
                    .post(&url)
                    .header("Authorization", SECRET)
                    .header("Content-Type", "application/json")
                    .body(event(id, user))
                    .send()
                    .await
                    .map(|r| r.status());
                match status {
                    Ok(StatusCode::NO_CONTENT) => answers.push(sent.elapsed()),
                    _ => failed += 1,
                }
            }
            (answers, failed)
        });
    }
    let mut answers = Vec::new();
    let mut failed = 0;
    while let Some(done) = clients.join_next().await {
        let (a, f) = done.expect("a client");
        answers.extend(a);
        failed += f;
    }
    let elapsed = started.elapsed();
    answers.sort();
    let after = kit.store.delivery_counts().await.expect("counts");
    let result = Throughput {
        backend: backend_name(backend),
        per_second: answers.len() as f64 / elapsed.as_secs_f64(),
        answered: answers.len(),
        failed,
        stored: after.processed + after.unprocessed - before.processed - before.unprocessed,
        p50: quantile(&answers, 0.5),
        p99: quantile(&answers, 0.99),
    };
    println!(
        "receiver on {}: {:.0} deliveries/s",
        result.backend, result.per_second
    );
    tear_down(kit, vec![server], vec![]).await;
    result
}

struct Latency {
    setup: String,
    edits: usize,
    seen: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

/// A proxy spreading requests over `backends` in turn, as a load balancer in front of several
/// `trestle serve` processes would.
#[derive(Clone)]
struct Proxy {
    backends: Arc<Vec<String>>,
    next: Arc<AtomicUsize>,
    http: reqwest::Client,
}

async fn forward(State(p): State<Proxy>, request: Request) -> Response {
    let n = p.next.fetch_add(1, Ordering::Relaxed);
    let backend = &p.backends[n % p.backends.len()];
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let answer = p
        .http
        .request(parts.method, format!("{backend}{path}"))
        .headers(parts.headers)
        .body(body)
        .send()
        .await;
    match answer {
        Ok(a) => {
            let status = a.status();
            let body = a.bytes().await.unwrap_or_default();
            (status, Body::from(body)).into_response()
        }
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}

/// The servers of a latency run: one, or several behind a proxy the hook points at. Each after
/// the first starts once the hook is registered, so they do not race to create it.
async fn start_servers(kit: &Kit, count: usize) -> (Vec<Running>, Vec<Store>) {
    let config = |n: usize| ServerConfig {
        worker_name: format!("bench-{n}"),
        ..ServerConfig::default()
    };
    if count == 1 {
        let server = server::spawn(kit.store.clone(), config(0), clients_of(kit), |url| {
            Some(url.to_string())
        })
        .await
        .expect("binding the server");
        return (vec![server], vec![]);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding the proxy");
    let proxy_url = format!("http://{}", listener.local_addr().expect("an address"));
    let mut servers = Vec::new();
    let mut stores = Vec::new();
    for n in 0..count {
        // Each server its own pool, as a process of its own would have (the first takes the
        // kit's, idle once the initial sync is done, to keep within a shared PostgreSQL's
        // connections).
        let store = if n == 0 {
            kit.store.clone()
        } else {
            kit.database.open().await
        };
        let at = proxy_url.clone();
        let server = server::spawn(store.clone(), config(n), clients_of(kit), |_| Some(at))
            .await
            .expect("binding a server");
        if n == 0 {
            hook_registered(kit).await;
        }
        servers.push(server);
        if n > 0 {
            stores.push(store);
        }
    }
    let proxy = Proxy {
        backends: Arc::new(servers.iter().map(|s| s.url.clone()).collect()),
        next: Arc::new(AtomicUsize::new(0)),
        http: reqwest::Client::new(),
    };
    let app = axum::Router::new().fallback(forward).with_state(proxy);
    tokio::spawn(async move { axum::serve(listener, app).await });
    (servers, stores)
}

async fn hook_registered(kit: &Kit) {
    until("the hook registered in the simulator", || async {
        kit.sim().read(|w| {
            w.hooks
                .values()
                .find(|h| h.namespace.as_deref() == Some("trestle"))
                .is_some_and(|hook| w.triggers.values().any(|t| t.hook_id == hook.id))
        })
    })
    .await;
}

async fn change_latency(backend: testkit::Backend, servers: usize, o: &Options) -> Latency {
    let setup = format!(
        "{}, {servers} server{}",
        backend_name(backend),
        if servers == 1 { "" } else { "s" }
    );
    // Enough users that each edit names a worker no earlier edit of the run touched, so the
    // name the store shows belongs to exactly one edit.
    let sizes = generate::Sizes {
        projects: 5,
        users: o.edits * 3 / 2 + 20,
        vendors: 5,
        commitments_per_project: 0,
    };
    let kit = Kit::spawn(
        generate::world(42, sizes),
        testkit::quiet(),
        backend,
        |_| {},
    )
    .await;
    let now = chrono::Utc::now();
    let job = WorkforceJob {
        client: &kit.client,
        store: &kit.store,
        connection: &kit.connection,
        company_name: None,
        today: now.date_naive(),
        now,
        full_read: false,
        crash_at: None,
        reclaim_leases: false,
        progress: None,
    };
    sync_workforce(&job, false).await.expect("the initial sync");
    let workers: Vec<(i64, i64)> = kit
        .store
        .links(kit.company, LinkKind::Worker)
        .await
        .expect("links")
        .into_iter()
        .collect();
    assert!(!workers.is_empty(), "the initial sync linked no worker");
    let (running, stores) = start_servers(&kit, servers).await;
    hook_registered(&kit).await;
    idle(&kit.store).await;

    // The app reading its own store, apart from the servers' pools.
    let reader = kit.database.open().await;
    let http = reqwest::Client::new();
    let interval = o.spread / o.edits.max(1) as u32;
    let started = tokio::time::Instant::now();
    // Edit i names worker i (modulo the workers there are).
    let mut waiting: HashMap<usize, (i64, String, Instant)> = HashMap::new();
    let mut latencies = Vec::with_capacity(o.edits);
    let mut next = 0;
    let mut poll = tokio::time::interval(POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut give_up = None;
    let mut read_errors = 0;
    loop {
        let due = started + interval * next as u32;
        tokio::select! {
            () = tokio::time::sleep_until(due), if next < o.edits => {
                let (procore_id, local_id) = workers[next % workers.len()];
                let name = format!("Edit{next}");
                let sent = Instant::now();
                let response = http
                    .patch(format!("{}/_sim/companies/{}/users/{procore_id}", kit.sim.url(), kit.company))
                    .json(&serde_json::json!({ "first_name": name }))
                    .send()
                    .await
                    .expect("the simulator answers");
                assert!(response.status().is_success(), "the edit: {response:?}");
                waiting.insert(next, (local_id, name, sent));
                next += 1;
                if next == o.edits {
                    give_up = Some(Instant::now() + PATIENCE);
                }
            }
            _ = poll.tick() => {
                let mut seen = Vec::new();
                for (edit, (local_id, name, sent)) in &waiting {
                    // A read that fails (the database busy) is a tick without news, not the
                    // end of the run: the edit is looked for again at the next.
                    let Ok(worker) = reader.worker(kit.company, *local_id).await else {
                        read_errors += 1;
                        continue;
                    };
                    if worker.is_some_and(|w| &w.fields.first_name == name) {
                        latencies.push(sent.elapsed());
                        seen.push(*edit);
                    }
                }
                for edit in seen {
                    waiting.remove(&edit);
                }
                let out_of_time = give_up.is_some_and(|g| Instant::now() > g);
                if next == o.edits && (waiting.is_empty() || out_of_time) {
                    break;
                }
            }
        }
    }
    latencies.sort();
    let result = Latency {
        setup,
        edits: o.edits,
        seen: latencies.len(),
        p50: quantile(&latencies, 0.5),
        p99: quantile(&latencies, 0.99),
        max: latencies.last().copied().unwrap_or_default(),
    };
    println!(
        "change to app on {}: p50 {}, p99 {} ({} workers edited in turn, {read_errors} failed reads)",
        result.setup,
        ms(result.p50),
        ms(result.p99),
        workers.len().min(o.edits)
    );
    reader.close().await;
    tear_down(kit, running, stores).await;
    result
}
