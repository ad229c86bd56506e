//! The operator's commands with the real binary against the simulator: `status`, `jobs`,
//! `hooks repair`, `disconnect`, the webhook registered by `connect`, and what the binary
//! says about itself (`--version`, completions, the man page, the systemd unit's command).

use chrono::{Duration, Utc};
use common::{spawn_demo_sim, text, PgSchema, Setup};
use procore_sim::{demo, Sim, SimConfig};
use std::process::Output;
use store::{HealthState, JobState, Store};
use sync::jobs::{enqueue, Integration, Work};

mod common;

/// Where the tests tell trestle Procore reaches it; nothing listens there, and nothing needs to.
const PUBLIC_URL: &str = "http://127.0.0.1:9/trestle";

fn company() -> String {
    demo::COMPANY_ID.to_string()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Adds `[server] public_url` to the setup's settings file.
fn with_public_url(setup: &Setup) {
    let mut toml = std::fs::read_to_string(&setup.config).unwrap();
    toml.push_str(&format!("\n[server]\npublic_url = \"{PUBLIC_URL}\"\n"));
    std::fs::write(&setup.config, toml).unwrap();
}

/// trestle's hooks in the simulated company: (destination, resources of its triggers).
fn trestle_hooks(sim: &Sim) -> Vec<(String, Vec<String>)> {
    sim.read(|w| {
        w.hooks
            .values()
            .filter(|h| h.namespace.as_deref() == Some("trestle"))
            .map(|h| {
                let resources = w
                    .triggers
                    .values()
                    .filter(|t| t.hook_id == h.id)
                    .map(|t| t.resource_name.clone())
                    .collect();
                (h.destination_url.clone(), resources)
            })
            .collect()
    })
}

fn destination() -> String {
    format!("{PUBLIC_URL}/webhooks/procore/{}", demo::COMPANY_ID)
}

#[tokio::test]
async fn the_version_names_the_commit_the_binary_was_built_from() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trestle"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let said = stdout(&out);
    assert!(said.contains(env!("CARGO_PKG_VERSION")), "{said}");
    let commit = said
        .split("(commit ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("no commit in {said}"));
    let hash = commit.trim_end_matches("-dirty");
    assert!(
        hash == "unknown" || (hash.len() == 12 && hash.chars().all(|c| c.is_ascii_hexdigit())),
        "{said}"
    );
}

#[tokio::test]
async fn completions_and_the_man_page_are_generated_from_the_command_line() {
    let trestle = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_trestle"))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        stdout(&out)
    };
    for shell in ["bash", "zsh", "fish"] {
        let script = trestle(&["completions", shell]);
        for sub in ["serve", "status", "jobs", "disconnect"] {
            assert!(script.contains(sub), "{shell} completions lack {sub}");
        }
    }
    let page = trestle(&["manpage"]);
    assert!(
        page.contains(".TH trestle 1"),
        "not a roff man page:\n{page}"
    );
    assert!(page.contains("serve") && page.contains("status"), "{page}");
}

#[tokio::test]
async fn the_systemd_unit_runs_a_real_subcommand_and_outwaits_the_shutdown_grace() {
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/trestle.service"
    ))
    .unwrap();
    let value = |key: &str| {
        unit.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("the unit has no {key}="))
            .to_string()
    };
    let exec = value("ExecStart");
    let mut words = exec.split_whitespace();
    let binary = words.next().unwrap();
    assert!(binary.ends_with("/trestle"), "{exec}");
    let args: Vec<&str> = words.collect();
    assert!(
        args.windows(2)
            .any(|w| w == ["--config", "/etc/trestle/trestle.toml"]),
        "{exec}"
    );
    // The unit's own arguments parse: `--help` stops before the settings are read.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trestle"))
        .args(&args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "{exec}: {}", text(&out));
    assert!(stdout(&out).contains("webhooks"), "{}", text(&out));

    let stop: u64 = value("TimeoutStopSec")
        .trim_end_matches('s')
        .parse()
        .unwrap();
    let grace = engine::settings::ServerSettings::default().shutdown_grace;
    assert!(
        stop > grace.as_secs(),
        "systemd would kill trestle before its {grace:?} of grace"
    );
}

#[tokio::test]
async fn status_shows_each_part_of_a_company_and_its_exit_code_follows_the_worst_health() {
    let sim = spawn_demo_sim().await;
    let setup = Setup::new(&sim.url());
    setup.connect(&[]).await;
    let store = setup.store().await;
    let now = Utc::now();
    let dead = dead_job(&store, now, "Procore answered 403 Forbidden").await;

    let healthy = setup.trestle(&["status"], None).await;
    assert_eq!(healthy.status.code(), Some(0), "{}", text(&healthy));
    let said = stdout(&healthy);
    assert!(
        said.contains(&format!("Procore company {}: healthy", demo::COMPANY_ID)),
        "{said}"
    );
    assert!(
        said.contains("not registered: set server.public_url"),
        "{said}"
    );
    assert!(said.contains("1 dead"), "{said}");
    assert!(
        said.contains(&format!("{dead} hook after 1 attempts"))
            && said.contains("Procore answered 403 Forbidden"),
        "the dead job and its error: {said}"
    );
    assert!(
        said.contains("workforce: 20"),
        "the last sync's date: {said}"
    );
    assert!(said.contains("records read"), "its summary: {said}");
    assert!(!said.contains("compliance:"), "compliance is off: {said}");

    store
        .set_health(
            demo::COMPANY_ID,
            "rate_limit",
            HealthState::Degraded,
            "Procore's hourly request budget is spent",
            "the work waits for it",
            now,
        )
        .await
        .unwrap();
    let degraded = setup.trestle(&["status"], None).await;
    assert_eq!(degraded.status.code(), Some(4), "{}", text(&degraded));
    assert!(
        stdout(&degraded).contains("DEGRADED"),
        "{}",
        text(&degraded)
    );

    store
        .set_health(
            demo::COMPANY_ID,
            "credentials",
            HealthState::Failing,
            "Procore refused the client secret",
            "connect the company again with the current client id and secret",
            now,
        )
        .await
        .unwrap();
    let failing = setup
        .trestle(&["status", "--company-id", &company()], None)
        .await;
    assert_eq!(failing.status.code(), Some(5), "{}", text(&failing));
    let said = stdout(&failing);
    assert!(said.contains("FAILING"), "{said}");
    assert!(
        said.contains("[failing] credentials since")
            && said.contains("problem: Procore refused the client secret")
            && said.contains("remedy:  connect the company again"),
        "{said}"
    );
    assert!(
        said.contains("[degraded] rate_limit"),
        "every entry: {said}"
    );
    assert!(stderr(&failing).contains("failing: Procore company"));

    let unknown = setup.trestle(&["status", "--company-id", "12"], None).await;
    assert_eq!(unknown.status.code(), Some(1), "{}", text(&unknown));
    assert!(
        stderr(&unknown).contains("Procore company 12 is not connected"),
        "{}",
        text(&unknown)
    );
}

/// Enqueues `work` due at `run_at` and claims it, as a worker would.
async fn claimed(
    store: &Store,
    work: &Work,
    run_at: chrono::DateTime<Utc>,
    attempts: u32,
) -> store::Claimed {
    let id = enqueue(store, demo::COMPANY_ID, work, run_at, attempts)
        .await
        .unwrap()
        .id();
    let lease = std::time::Duration::from_secs(600);
    let claimed = store.claim_job("test", Utc::now(), lease).await.unwrap();
    let claimed = claimed.expect("the job is due");
    assert_eq!(claimed.job.id, id, "the job just enqueued is claimed");
    claimed
}

/// Enqueues a hook check and makes it dead with `error`; its id.
async fn dead_job(store: &Store, now: chrono::DateTime<Utc>, error: &str) -> i64 {
    let job = claimed(store, &Work::Hook, now - Duration::minutes(5), 1).await;
    let state = store.fail_job(job.lease, now, error, None).await.unwrap();
    assert_eq!(state, JobState::Dead);
    job.job.id
}

#[tokio::test]
async fn jobs_are_listed_by_state_and_only_dead_or_pending_ones_can_be_retried() {
    jobs_and_retries(None).await;
}

#[tokio::test]
async fn jobs_are_listed_and_retried_the_same_way_on_postgresql() {
    let schema = PgSchema::create().await;
    jobs_and_retries(Some(&schema.url())).await;
}

async fn jobs_and_retries(database_url: Option<&str>) {
    let sim = spawn_demo_sim().await;
    let setup = Setup::with_database(&sim.url(), database_url);
    setup.connect(&["--no-sync"]).await;
    let store = setup.store().await;
    let now = Utc::now();
    let dead = dead_job(&store, now, "the hook check failed: 403").await;
    // One done, one running, one waiting for later: each in a lane of its own.
    let done = claimed(&store, &Work::Route, now - Duration::minutes(4), 3).await;
    store.complete_job(done.lease, now).await.unwrap();
    let done = done.job.id;
    let sync = Work::Sync {
        integration: Integration::Workforce,
        full: false,
        targets: None,
    };
    let running = claimed(&store, &sync, now - Duration::minutes(3), 3)
        .await
        .job
        .id;
    let later = Work::Sync {
        integration: Integration::Compliance,
        full: true,
        targets: None,
    };
    let pending = enqueue(
        &store,
        demo::COMPANY_ID,
        &later,
        now + Duration::hours(1),
        3,
    )
    .await
    .unwrap()
    .id();

    let all = setup.ok(&["jobs"]).await;
    for id in [dead, done, running, pending] {
        assert!(
            all.lines()
                .any(|l| l.trim_start().starts_with(&format!("{id} "))),
            "job {id} is listed:\n{all}"
        );
    }
    assert!(
        all.contains("sync.compliance.whole") && all.contains("0/3"),
        "{all}"
    );
    let dead_only = setup
        .ok(&["jobs", "--state", "dead", "--company-id", &company()])
        .await;
    assert!(
        dead_only.contains("the hook check failed: 403") && dead_only.contains("1/1"),
        "{dead_only}"
    );
    assert!(!dead_only.contains("route"), "only dead jobs: {dead_only}");
    let limited = setup.ok(&["jobs", "--limit", "1"]).await;
    assert!(
        limited.contains(&format!("{pending} ")),
        "newest first: {limited}"
    );
    assert!(!limited.contains("hook "), "{limited}");

    let retried = setup.ok(&["jobs", "retry", &dead.to_string()]).await;
    assert!(retried.contains("queued to run now"), "{retried}");
    let job = store.job(demo::COMPANY_ID, dead).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Pending);
    assert_eq!(job.attempts, 0);
    assert!(job.run_at <= Utc::now());

    for (id, state) in [(done, "done"), (running, "running")] {
        let out = setup
            .trestle(&["jobs", "retry", &id.to_string()], None)
            .await;
        assert!(!out.status.success(), "{}", text(&out));
        assert!(
            stderr(&out).contains(&format!(
                "job {id} is {state}; only a dead or pending job can be retried"
            )),
            "{}",
            text(&out)
        );
    }
    let unknown = setup.trestle(&["jobs", "retry", "987654"], None).await;
    assert!(
        stderr(&unknown).contains("there is no job 987654"),
        "{}",
        text(&unknown)
    );
    let elsewhere = setup
        .trestle(
            &["jobs", "retry", &pending.to_string(), "--company-id", "12"],
            None,
        )
        .await;
    assert!(
        stderr(&elsewhere).contains(&format!("there is no job {pending} of Procore company 12")),
        "another company's job is not this one's: {}",
        text(&elsewhere)
    );
    let now_instead = setup
        .ok(&[
            "jobs",
            "retry",
            &pending.to_string(),
            "--company-id",
            &company(),
        ])
        .await;
    assert!(now_instead.contains("queued to run now"), "{now_instead}");
    let job = store.job(demo::COMPANY_ID, pending).await.unwrap().unwrap();
    assert!(job.run_at <= Utc::now(), "a pending job runs now");
}

#[tokio::test]
async fn connect_registers_the_webhook_and_hooks_repair_puts_back_what_was_removed() {
    let sim = spawn_demo_sim().await;
    let setup = Setup::new(&sim.url());
    let refused = setup.trestle(&["hooks", "repair"], None).await;
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(
        stderr(&refused).contains("server.public_url") && stderr(&refused).contains("not set"),
        "{}",
        text(&refused)
    );

    with_public_url(&setup);
    let company = company();
    let out = setup
        .ok(&[
            "connect",
            "--company-id",
            &company,
            "--client-id",
            demo::CLIENT_ID,
            "--no-sync",
        ])
        .await;
    assert!(
        out.contains(&format!("Webhook: registered at {}", destination())),
        "{out}"
    );
    let hooks = trestle_hooks(sim.sim());
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_eq!(hooks[0].0, destination());
    assert!(hooks[0].1.iter().any(|r| r == "Company Users"), "{hooks:?}");

    let status = setup.ok(&["status"]).await;
    assert!(
        status.contains(&format!(
            "Webhook: registered at {}, last checked",
            destination()
        )),
        "{status}"
    );

    let in_place = setup.ok(&["hooks", "repair"]).await;
    assert!(
        in_place.contains("in place; nothing to repair"),
        "{in_place}"
    );
    // As JSON, in the shape `POST …/webhook/repair` answers, one per company.
    let printed: serde_json::Value =
        serde_json::from_str(&setup.ok(&["hooks", "repair", "--json"]).await).unwrap();
    assert_eq!(
        printed,
        serde_json::json!([{
            "company_id": demo::COMPANY_ID,
            "destination_url": destination(),
            "repaired": false,
            "created": false,
            "stale_removed": 0,
            "triggers_added": [],
            "triggers_removed": [],
        }])
    );

    // Someone deletes the hook in Procore.
    sim.sim().write(|w| {
        w.hooks.clear();
        w.triggers.clear();
    });
    let repaired = setup
        .ok(&["hooks", "repair", "--company-id", &company])
        .await;
    assert!(
        repaired.contains("repaired the hook") && repaired.contains("created the hook"),
        "{repaired}"
    );
    assert_eq!(trestle_hooks(sim.sim()).len(), 1);
    // What the missing hook never delivered is read by a sync the repair queued.
    let queued = setup
        .ok(&["jobs", "--state", "pending", "--company-id", &company])
        .await;
    assert!(queued.contains("sync.workforce.changes"), "{queued}");

    let unknown = setup
        .trestle(&["hooks", "repair", "--company-id", "12"], None)
        .await;
    assert!(
        stderr(&unknown).contains("Procore company 12 is not connected"),
        "{}",
        text(&unknown)
    );
}

/// The demo simulator behind a gateway that refuses every webhook call with 403, as Procore
/// does for an app without permission to manage webhooks.
async fn spawn_sim_refusing_webhooks() -> (Sim, String) {
    use axum::response::IntoResponse;
    let sim = Sim::new(
        demo::world(),
        SimConfig {
            rate_limits: None,
            ..SimConfig::default()
        },
    );
    let app = sim.router().layer(axum::middleware::from_fn(
        |request: axum::extract::Request, next: axum::middleware::Next| async move {
            if request.uri().path().contains("/webhooks/") {
                return (
                    axum::http::StatusCode::FORBIDDEN,
                    axum::Json(serde_json::json!({"errors": "You do not have access to webhooks"})),
                )
                    .into_response();
            }
            next.run(request).await
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (sim, url)
}

#[tokio::test]
async fn a_webhook_procore_refuses_is_a_warning_that_leaves_the_connection_saved() {
    let (_sim, url) = spawn_sim_refusing_webhooks().await;
    let setup = Setup::new(&url);
    with_public_url(&setup);
    let company = company();
    let out = setup
        .trestle(
            &[
                "connect",
                "--company-id",
                &company,
                "--client-id",
                demo::CLIENT_ID,
                "--no-sync",
            ],
            None,
        )
        .await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        stderr(&out).contains(
            "warning: the connection is saved, but the Procore webhook could not be registered"
        ),
        "{}",
        text(&out)
    );
    let store = setup.store().await;
    assert!(store.connection(demo::COMPANY_ID).await.unwrap().is_some());

    let status = setup.trestle(&["status"], None).await;
    assert_eq!(status.status.code(), Some(4), "{}", text(&status));
    let said = stdout(&status);
    assert!(said.contains("[degraded] webhook"), "{said}");
    assert!(
        said.contains(&format!("not registered yet at {}", destination())),
        "{said}"
    );

    let repair = setup.trestle(&["hooks", "repair"], None).await;
    assert!(!repair.status.success(), "{}", text(&repair));
    assert!(
        stdout(&repair).contains("could not be checked"),
        "{}",
        text(&repair)
    );
    assert!(
        stderr(&repair).contains("1 of 1 hooks could not be repaired"),
        "{}",
        text(&repair)
    );
}

#[tokio::test]
async fn disconnect_removes_the_hook_and_the_connection_and_keeps_the_records() {
    let sim = spawn_demo_sim().await;
    let setup = Setup::new(&sim.url());
    with_public_url(&setup);
    setup.connect(&[]).await;
    assert_eq!(trestle_hooks(sim.sim()).len(), 1);
    let store = setup.store().await;
    let workers = store.workers(demo::COMPANY_ID).await.unwrap().len();
    assert!(workers > 0, "the initial sync made workers");

    let out = setup.ok(&["disconnect", "--company-id", &company()]).await;
    assert!(out.contains("removed 1 hook(s) from Procore"), "{out}");
    assert!(out.contains("Kept: the company's records"), "{out}");
    assert!(trestle_hooks(sim.sim()).is_empty(), "the hook is gone");
    assert!(store.connection(demo::COMPANY_ID).await.unwrap().is_none());
    assert!(store.hook_record(demo::COMPANY_ID).await.unwrap().is_none());
    assert_eq!(
        store.workers(demo::COMPANY_ID).await.unwrap().len(),
        workers,
        "the records stay"
    );

    let again = setup
        .trestle(&["disconnect", "--company-id", &company()], None)
        .await;
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains(&format!(
            "Procore company {} is not connected",
            demo::COMPANY_ID
        )),
        "{}",
        text(&again)
    );
}

#[tokio::test]
async fn disconnect_goes_on_when_procore_refuses_to_remove_the_hook_and_says_it_is_left() {
    let (_sim, url) = spawn_sim_refusing_webhooks().await;
    let setup = Setup::new(&url);
    with_public_url(&setup);
    setup.connect(&["--no-sync"]).await;
    let store = setup.store().await;
    assert!(
        !store
            .health(Some(demo::COMPANY_ID))
            .await
            .unwrap()
            .is_empty(),
        "the refused hook is in the company's health"
    );

    let out = setup.ok(&["disconnect", "--company-id", &company()]).await;
    assert!(
        out.contains("could not be removed from Procore") && out.contains("namespace \"trestle\""),
        "{out}"
    );
    assert!(out.contains("and its 1 health entry"), "{out}");
    assert!(store.connection(demo::COMPANY_ID).await.unwrap().is_none());
    assert!(
        store.hook_record(demo::COMPANY_ID).await.unwrap().is_none(),
        "no secret is kept, so its deliveries are refused"
    );
    assert!(store
        .health(Some(demo::COMPANY_ID))
        .await
        .unwrap()
        .is_empty());
}
