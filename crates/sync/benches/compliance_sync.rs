//! The initial compliance sync of a generated company against the simulator with limits off
//! (every project the app may see mapped Import, so all of them are linked), then a no-change
//! resync (incremental: only changes are asked for); and, separately, evaluation throughput on
//! party-projects held in memory. Prints records per second, requests against the lower bound,
//! peak memory and party-projects evaluated per second.
//!
//! Run with `cargo bench -p sync --bench compliance_sync`. Sizes: `BENCH_VENDORS` (5000),
//! `BENCH_PROJECTS` (510, of which the generator makes 10 invisible to the app: 500 linked),
//! `BENCH_COMMITMENTS` (50 per project), `BENCH_USERS` (2000),
//! `BENCH_EVALUATIONS` (100000), `BENCH_SEED` (42). Peak memory is the whole process, simulator
//! included, so it is an upper bound for trestle alone.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::NaiveDate;
use domain::compliance::{Certificate, ComplianceData, ComplianceProfile, Party, PartyId, Target};
use procore::{Client, ClientConfig, CompanyId, Credentials};
use procore_sim::{demo, generate, Sim, SimConfig};
use secrecy::SecretString;
use store::{ComplianceBatch, ComplianceChange, Connection, SecretKey, Store};
use sync::compliance::{load_settings, save_settings};
use sync::compliance::{sync_compliance, ComplianceJob, NewProjects};

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

fn today() -> NaiveDate {
    "2026-11-22".parse().expect("date")
}

fn profile_json(id: i64) -> serde_json::Value {
    serde_json::json!({
        "id": id, "name": demo::PROFILE_STANDARD, "requirements": [
            {"key": "gl.each_occurrence", "subject": "general_liability",
             "check": {"type": "limit_at_least", "limit": "each_occurrence", "minimum": "1000000"}},
            {"key": "auto.csl", "subject": "automobile_liability",
             "check": {"type": "limit_at_least", "limit": "combined_single_limit", "minimum": "1000000"}}
        ]
    })
}

fn certificate_json(id: i64, party: i64) -> serde_json::Value {
    serde_json::json!({
        "id": id, "party_id": party, "policies": [
            {"subject": "general_liability", "insurer": "Granite Mutual", "policy_number": format!("GL-{id}"),
             "effective_date": "2026-01-01", "expiration_date": "2027-12-31",
             "limits": {"each_occurrence": "2000000"}},
            {"subject": "automobile_liability", "insurer": "Granite Mutual", "policy_number": format!("AU-{id}"),
             "effective_date": "2026-01-01", "expiration_date": if id % 3 == 0 { "2026-12-01" } else { "2027-12-31" },
             "limits": {"combined_single_limit": if id % 4 == 0 { "500000" } else { "1000000" }}}
        ]
    })
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(sync_bench());
    evaluation_bench();
    match peak_rss_mib() {
        Some(mib) => {
            println!("peak memory (VmHWM, whole process, simulator included): {mib:.1} MiB")
        }
        None => println!("peak memory: unavailable on this platform"),
    }
}

async fn sync_bench() {
    let sizes = generate::Sizes {
        projects: env_usize("BENCH_PROJECTS", 510),
        users: env_usize("BENCH_USERS", 2000),
        vendors: env_usize("BENCH_VENDORS", 5000),
        commitments_per_project: env_usize("BENCH_COMMITMENTS", 50),
    };
    let world = generate::world(env_usize("BENCH_SEED", 42) as u64, sizes);
    // The lower bound: one page per largest page size for each collection the sync reads (v1.1
    // projects: 300; vendors, active and inactive: 2000; company users: 2000), plus one v2.0
    // commitment page (100 per page) per project the sync follows.
    // The app is not permitted on some generated projects; Procore lists only those it is.
    let permitted = world
        .apps
        .get(demo::CLIENT_ID)
        .and_then(|a| a.installations.get(&demo::COMPANY_ID))
        .map(|i| i.permitted_projects.clone())
        .unwrap_or_default();
    let visible = |p: &procore_sim::world::Project| !p.template && permitted.contains(&p.id);
    let projects = world.projects.values().filter(|p| visible(p)).count();
    let active_vendors = world.vendors.values().filter(|v| v.is_active).count();
    let inactive_vendors = world.vendors.len() - active_vendors;
    // The collector reads the active company users (the contacts); the inactive are not contacts.
    let users = world.users.values().filter(|u| u.is_active).count();
    let followed: Vec<i64> = world
        .projects
        .values()
        .filter(|p| visible(p))
        .map(|p| p.id)
        .collect();
    let commitments = world.commitments.len();
    let commitment_pages: usize = followed
        .iter()
        .map(|p| {
            world
                .commitments
                .values()
                .filter(|c| c.project_id == *p)
                .count()
                .div_ceil(100)
                .max(1)
        })
        .sum();
    let lower_bound = projects.div_ceil(300).max(1)
        + active_vendors.div_ceil(2000).max(1)
        + inactive_vendors.div_ceil(2000).max(1)
        + users.div_ceil(2000).max(1)
        + commitment_pages
        // The custom field definitions, read once to find the profile field's label.
        + world.custom_field_definitions.len().div_ceil(100).max(1);
    // Nothing changed: one page per collection asked for changes, the inactive vendors (a list
    // Procore does not filter) whole, and one page per followed project's commitments.
    let resync_lower_bound = 3 + inactive_vendors.div_ceil(2000).max(1) + followed.len();
    let mut vendor_ids: Vec<i64> = world.vendors.keys().copied().collect();
    vendor_ids.sort_unstable();

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
    let company = demo::COMPANY_ID;
    store
        .save_connection(
            &Connection::new(
                company,
                demo::CLIENT_ID,
                SecretString::from(demo::CLIENT_SECRET.to_string()),
            ),
            None,
        )
        .await
        .expect("connection");

    // The dataset: the standard profile; every 10th vendor a party linked to it, half of those
    // with a certificate (some short, some expiring soon).
    let profile: ComplianceProfile = serde_json::from_value(profile_json(1)).expect("profile");
    let profile = store
        .upsert_profile(company, &profile, None)
        .await
        .expect("profile");
    let changes: Vec<ComplianceChange> = vendor_ids
        .iter()
        .step_by(10)
        .enumerate()
        .map(|(i, v)| ComplianceChange::CreateParty {
            party: Party {
                id: PartyId(0),
                name: format!("Party {i}"),
                address: None,
                website: None,
                active: true,
                procore_vendor_id: Some(*v),
                profile_id: Some(profile),
            },
        })
        .collect();
    let created = store
        .apply_compliance(&ComplianceBatch {
            company_id: company,
            changes: &changes,
            ..Default::default()
        })
        .await
        .expect("parties");
    let mut certificates = 0;
    for (i, (_, party)) in created.iter().enumerate().filter(|(i, _)| i % 2 == 0) {
        let c: Certificate =
            serde_json::from_value(certificate_json(i as i64 + 1, *party)).expect("certificate");
        store
            .add_certificate(company, &c)
            .await
            .expect("certificate");
        certificates += 1;
    }
    let mut settings = load_settings(&store, company).await.expect("settings");
    settings.new_projects = NewProjects::ImportAutomatically;
    settings.import_companies_through_commitments = true;
    save_settings(&store, company, &settings)
        .await
        .expect("settings");
    for project in &followed {
        store
            .set_mapping(
                company,
                store::ProcoreRecordKind::Project,
                *project,
                store::MappingDecision::Import,
            )
            .await
            .expect("mapping");
    }

    let job = ComplianceJob {
        client: &client,
        store: &store,
        company_id: company,
        today: today(),
        full_read: false,
        reclaim_leases: true,
        crash_at: None,
        progress: None,
    };
    let insurance_requests = || {
        app.sim()
            .request_log()
            .iter()
            .filter(|r| r.path.contains("insurances"))
            .count()
    };

    let started = Instant::now();
    let first = sync_compliance(&job, false).await.expect("initial sync");
    let elapsed = started.elapsed();
    let s = &first.summary;
    let writes = insurance_requests();
    println!(
        "initial compliance sync: {projects} projects ({} followed), {} vendors ({active_vendors} active, {inactive_vendors} inactive), {users} users, {commitments} commitments; dataset: {} parties, {certificates} certificates",
        followed.len(),
        active_vendors + inactive_vendors,
        created.len(),
    );
    println!("  records read:          {}", s.records_read);
    println!(
        "  created:               {} projects, {} parties ({} linked/updated), {} associations",
        s.projects_created, s.parties_created, s.parties_updated, s.associations_set
    );
    println!(
        "  insurance records:     {} queued, {} written, {} failed",
        s.insurance_queued, s.insurance_written, s.insurance_failures
    );
    println!("  time:                  {:.2} s", elapsed.as_secs_f64());
    println!(
        "  records per second:    {:.0} (records read / whole sync time, writes included)",
        s.records_read as f64 / elapsed.as_secs_f64()
    );
    let reads = s.requests as usize - writes;
    println!(
        "  requests:              {} = {reads} reads (lower bound {lower_bound}, {:+.1}%) + {writes} insurance writes (lower bound {})",
        s.requests,
        (reads as f64 / lower_bound as f64 - 1.0) * 100.0,
        write_lower_bound(&first.written)
    );

    let before = insurance_requests();
    let started = Instant::now();
    // The first sync brought the associations in and wrote their records; this one has
    // nothing to change.
    let again = sync_compliance(&job, false).await.expect("resync");
    println!("no-change resync:");
    println!(
        "  requests:              {} (reads only; lower bound {resync_lower_bound}), insurance writes: {}",
        again.summary.requests,
        insurance_requests() - before
    );
    println!(
        "  records read:          {} ({}; {} followed projects' commitments asked for changes)",
        again.summary.records_read,
        if again.summary.full_read {
            "everything read whole"
        } else {
            "only changes read"
        },
        followed.len()
    );
    println!("  changes planned:       {}", again.plan.changes().count());
    println!(
        "  time:                  {:.2} s",
        started.elapsed().as_secs_f64()
    );
}

/// The fewest write requests for these records: the writes are batched per target (the
/// company-level collection, or one Procore project's collection), at most 1000 per `sync` call.
fn write_lower_bound(written: &[sync::compliance::Written]) -> usize {
    let mut per_target: BTreeMap<Option<i64>, usize> = BTreeMap::new();
    for w in written {
        *per_target.entry(w.procore_project_id).or_default() += 1;
    }
    per_target.values().map(|n| n.div_ceil(1000)).sum()
}

/// Evaluation alone: `BENCH_EVALUATIONS` party-projects (10 per party) in memory, a certificate
/// for half the parties, each party-project evaluated on its own.
fn evaluation_bench() {
    let n = env_usize("BENCH_EVALUATIONS", 100_000);
    let per_party = 10;
    let parties = n.div_ceil(per_party);
    let projects = 1000;
    let data: ComplianceData = serde_json::from_value(serde_json::json!({
        "profiles": [profile_json(1)],
        "parties": (1..=parties).map(|i| serde_json::json!({"id": i, "name": format!("Party {i}"), "profile_id": 1})).collect::<Vec<_>>(),
        "projects": (1..=projects).map(|i| serde_json::json!({"id": i, "name": format!("Project {i}")})).collect::<Vec<_>>(),
        "party_projects": (0..n).map(|k| serde_json::json!({
            "party_id": k / per_party + 1,
            "project_id": (k * 7 + k / per_party) % projects + 1,
        })).collect::<Vec<_>>(),
        "certificates": (1..=parties).filter(|i| i % 2 == 0).map(|i| certificate_json(i as i64, i as i64)).collect::<Vec<_>>(),
    }))
    .expect("dataset");
    assert!(data.problems().is_empty(), "{:?}", data.problems());
    let index = data.index();
    let today = today();
    let started = Instant::now();
    let mut compliant = 0usize;
    for pp in &data.party_projects {
        let e = index.evaluate(Target::project(pp.party_id, pp.project_id), today);
        if e.status == domain::compliance::OverallStatus::Compliant {
            compliant += 1;
        }
    }
    let elapsed = started.elapsed();
    println!(
        "evaluation ({} party-projects in memory, domain only):",
        data.party_projects.len()
    );
    println!(
        "  time:                  {:.3} s ({compliant} compliant)",
        elapsed.as_secs_f64()
    );
    println!(
        "  party-projects per second: {:.0}",
        data.party_projects.len() as f64 / elapsed.as_secs_f64()
    );
}
