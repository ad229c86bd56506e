//! `trestle demo`: the whole workforce job against the bundled simulator's demo company.
//!
//! It starts procore-sim in-process on an ephemeral port, shows what the Procore client reads,
//! seeds the app side with the records the seed's clash rules talk about, connects (checking
//! permissions), syncs, completes two sample forms and syncs again so their PDFs land in
//! Procore Documents, revises one form so its document gets a second version, and ends with
//! what the simulator now holds and a few `explain` answers.

use crate::commands::{run_and_print, with_hooks, ExplainKind, Printed};
use crate::output::{self, table};
use anyhow::{bail, Context, Result};
use chrono::Utc;
use clap::Args;
use domain::workforce::{
    Activation, Answer, FieldKind, FormField, FormSection, FormTemplate, ProjectFields,
    ProjectStatus, Signature, Submission, WorkerFields,
};
use engine::run::RunOptions;
use engine::Integration;
use futures::TryStreamExt;
use procore_sim::{demo, RateLimits, Sim, SimConfig};
use secrecy::SecretString;
use std::path::{Path, PathBuf};
use store::{Connection, LinkKind, SecretKey, Store};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the demo keeps its SQLite store (emptied at the start of each demo). It must be
    /// missing, empty, or a folder an earlier demo made: the demo never deletes anything else.
    #[arg(long, default_value = ".trestle/demo")]
    pub data_dir: PathBuf,
    /// End after the tour, instead of leaving `trestle serve` and the simulator running for
    /// the web UI.
    #[arg(long)]
    pub exit: bool,
}

/// The file that marks a folder as the demo's own, so a later demo may empty it.
const MARKER: &str = ".trestle-demo";

/// Empties the demo's folder, or creates it. A folder that holds anything but an earlier demo's
/// files is refused: `--data-dir` pointed at a real data directory must not wipe its store and key.
fn fresh_data_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .next()
            .is_none();
        if !empty && !dir.join(MARKER).exists() {
            bail!(
                "{} is not empty and was not made by `trestle demo` (it has no {MARKER} file); the demo empties its folder, so it refuses to touch this one: pass another --data-dir, or a missing or empty folder",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir).with_context(|| format!("emptying {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(
        dir.join(MARKER),
        "This folder belongs to `trestle demo`, which empties it at the start of each demo.\n",
    )
    .with_context(|| format!("writing {}", dir.join(MARKER).display()))?;
    Ok(())
}

pub async fn run(args: DemoArgs) -> Result<()> {
    // Checked before anything starts, so a refused folder costs nothing.
    fresh_data_dir(&args.data_dir)?;
    let config = SimConfig {
        // Procore-like limits, so the demo shows pacing: no request is refused.
        rate_limits: Some(RateLimits {
            hourly: 3600,
            spike: 60,
            ..RateLimits::default()
        }),
        ..SimConfig::default()
    };
    let sim = procore_sim::spawn(Sim::new(demo::world(), config)).await;
    outln!(
        "== procore-sim is serving the demo company \"{}\" at {}\n",
        demo::COMPANY_NAME,
        sim.url()
    );

    let client = procore::Client::new(procore::ClientConfig::custom(
        &sim.url(),
        procore::CompanyId(demo::COMPANY_ID),
        procore::Credentials::client_credentials(demo::CLIENT_ID, demo::CLIENT_SECRET),
    )?)?;
    show_what_the_client_reads(&client).await?;

    let url = format!(
        "sqlite://{}",
        args.data_dir.join("trestle.sqlite").display()
    );
    let store = Store::open(&url, SecretKey::generate()).await?;
    let company = demo::COMPANY_ID;

    outln!("\n== The app side before the first sync (records that the seed's clash rules protect)");
    store
        .create_project(
            company,
            &ProjectFields {
                name: "Dock Expansion".into(),
                project_number: Some(demo::CLASHING_PROJECT_NUMBER.into()),
                ..Default::default()
            },
            ProjectStatus::Active,
        )
        .await?;
    store
        .create_project(
            company,
            &ProjectFields {
                name: demo::CLASHING_PROJECT_NAME.into(),
                ..Default::default()
            },
            ProjectStatus::Active,
        )
        .await?;
    store
        .create_worker(
            company,
            &WorkerFields {
                first_name: "Morgan".into(),
                last_name: "Lee".into(),
                email: Some("morgan.lee@granitepeak.example".into()),
                ..Default::default()
            },
            Activation::Active,
            false,
        )
        .await?;
    outln!(
        "  app project \"Dock Expansion\" with number {}",
        demo::CLASHING_PROJECT_NUMBER
    );
    outln!(
        "  app project \"{}\" with no number",
        demo::CLASHING_PROJECT_NAME
    );
    outln!("  worker Morgan Lee <morgan.lee@granitepeak.example>");

    outln!("\n== trestle connect (Sync Forms to Procore on)");
    let mut connection = Connection::new(
        company,
        demo::CLIENT_ID,
        SecretString::from(demo::CLIENT_SECRET.to_string()),
    );
    connection.sync_forms = true;
    let checks =
        sync::workforce::access::check_access(&client, true, &connection.forms_folder).await;
    output::print_checks(&checks);
    store.save_connection(&connection, None).await?;
    outln!("  {}", output::toggles(&connection));

    let sync_workforce = || {
        run_and_print(
            &store,
            &client,
            &connection,
            Integration::Workforce,
            RunOptions::default(),
            Printed::Text,
        )
    };
    outln!("\n== trestle sync workforce (the initial sync)");
    sync_workforce().await?;

    outln!("\n== Two site forms are completed in the app");
    let forms = complete_sample_forms(&store, company).await?;
    outln!("\n== trestle sync workforce (uploads the completed forms)");
    sync_workforce().await?;

    outln!(
        "\n== A supervisor signs form {} after completion (revision 2)",
        forms[0]
    );
    add_late_signature(&store, forms[0]).await?;
    outln!("\n== trestle sync workforce (a new version of the same document, never a second one)");
    sync_workforce().await?;

    outln!("\n== trestle sync workforce again (nothing changed upstream)");
    sync_workforce().await?;

    show_documents(&sim, &store, company).await?;

    run_compliance_demo(&sim, &store, &client, company).await?;

    let running = serve_demo(&sim, &store, company).await?;

    outln!("\n== trestle explain");
    for (kind, id) in explain_examples(&sim, forms[0]).await? {
        out!("{}", crate::explain::text(&store, company, kind, id).await?);
    }
    let log = sim.sim().request_log();
    let refused = log.iter().filter(|e| e.status == 429).count();
    outln!(
        "\nProcore requests in the whole demo: {}, refused by rate limits: {refused}.",
        log.len()
    );
    if args.exit {
        running.stop().await.context("stopping the server")?;
        outln!(
            "The demo's store is {}; the simulator stopped with the demo.",
            args.data_dir.join("trestle.sqlite").display()
        );
    } else {
        keep_serving(&sim, &store, company, running).await?;
        outln!(
            "Stopped. The demo's store is {}.",
            args.data_dir.join("trestle.sqlite").display()
        );
    }
    Ok(())
}

async fn show_what_the_client_reads(client: &procore::Client) -> Result<()> {
    let me = client.me().await?;
    let companies: Vec<_> = client.companies().stream().try_collect().await?;
    outln!("== What the Procore client reads");
    outln!(
        "  signed in as {} (user {})",
        me.name.unwrap_or_default(),
        me.id.get()
    );
    for c in &companies {
        outln!(
            "  company {} \"{}\"",
            c.id.get(),
            c.name.clone().unwrap_or_default()
        );
    }
    let projects = client
        .projects()
        .list_v11()
        .status(procore::api::projects::ProjectStatus::All)
        .into_list()
        .collect()
        .await?;
    let active_users = client.users().list().into_list().collect().await?;
    let inactive_users = client.users().list_inactive().into_list().collect().await?;
    let vendors = client.vendors().list().into_list().collect().await?;
    let rows = vec![
        vec![
            "collection".to_string(),
            "records".to_string(),
            "pages".to_string(),
        ],
        vec![
            "projects (v1.1, every status)".into(),
            projects.items.len().to_string(),
            projects.pages.to_string(),
        ],
        vec![
            "company users (active)".into(),
            active_users.items.len().to_string(),
            active_users.pages.to_string(),
        ],
        vec![
            "company users (inactive)".into(),
            inactive_users.items.len().to_string(),
            inactive_users.pages.to_string(),
        ],
        vec![
            "vendors (active)".into(),
            vendors.items.len().to_string(),
            vendors.pages.to_string(),
        ],
    ];
    out!("{}", table(&rows));
    Ok(())
}

fn toolbox_talk() -> FormTemplate {
    let field = |key: &str, label: &str, kind: FieldKind, required: bool| FormField {
        key: key.into(),
        label: label.into(),
        kind,
        required,
    };
    FormTemplate {
        id: 0,
        name: "Toolbox Talk".into(),
        sections: vec![
            FormSection {
                title: "Talk".into(),
                fields: vec![
                    field("topic", "Topic", FieldKind::Text { multiline: false }, true),
                    field(
                        "ppe",
                        "Was PPE checked before work?",
                        FieldKind::YesNoNa,
                        true,
                    ),
                    field(
                        "hazards",
                        "Hazards discussed",
                        FieldKind::Text { multiline: true },
                        false,
                    ),
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

/// Two completed Toolbox Talks on the first two synced projects; returns their ids.
async fn complete_sample_forms(store: &Store, company: i64) -> Result<Vec<i64>> {
    let mut template = toolbox_talk();
    template.id = store.save_template(company, &template).await?;
    let links = store.links(company, LinkKind::Project).await?;
    let projects: Vec<i64> = links.values().copied().take(2).collect();
    let now = Utc::now();
    let mut ids = Vec::new();
    for (n, project_id) in projects.into_iter().enumerate() {
        let mut s = Submission::draft(0, template.id, project_id, now.date_naive());
        s.answer(
            &template,
            "topic",
            Answer::Text(["Ladder safety", "Working at height"][n % 2].into()),
        )?;
        s.answer(&template, "ppe", Answer::Yes)?;
        s.answer(
            &template,
            "hazards",
            Answer::Text("Wet decking; overhead loads".into()),
        )?;
        s.sign(
            &template,
            Signature {
                field_key: "lead".into(),
                signer_name: "Bea Okafor".into(),
                worker_id: None,
                signed_at: now,
                drawing: None,
            },
        )?;
        s.complete(&template, now)?;
        let id = store.save_submission(&s).await?;
        let project = store
            .project(demo::COMPANY_ID, project_id)
            .await?
            .map(|p| p.fields.name)
            .unwrap_or_default();
        outln!(
            "  form {id}: \"{}\" on \"{project}\", completed",
            template.name
        );
        ids.push(id);
    }
    Ok(ids)
}

async fn add_late_signature(store: &Store, submission_id: i64) -> Result<()> {
    let mut s = store
        .submission(demo::COMPANY_ID, submission_id)
        .await?
        .context("the sample form")?;
    let template = store
        .template(demo::COMPANY_ID, s.template_id)
        .await?
        .context("the sample template")?;
    s.sign(
        &template,
        Signature {
            field_key: "supervisor".into(),
            signer_name: "Morgan Lee".into(),
            worker_id: None,
            signed_at: Utc::now(),
            drawing: None,
        },
    )?;
    store.save_submission(&s).await?;
    Ok(())
}

/// The forms folders as the simulator now holds them.
async fn show_documents(sim: &procore_sim::Running, store: &Store, company: i64) -> Result<()> {
    outln!("\n== What Procore Documents now hold (read back from the simulator)");
    let file_ids: Vec<i64> = store
        .link_records(company, LinkKind::FormDocument)
        .await?
        .iter()
        .map(|l| l.procore_id)
        .collect();
    sim.sim().read(|w| {
        for id in &file_ids {
            if let Some(f) = w.files.get(id) {
                let path = folder_path(w, Some(f.parent_id));
                let project = w
                    .projects
                    .get(&f.project_id)
                    .map(|p| p.name.clone())
                    .unwrap_or_default();
                outln!(
                    "  {project}: {path}/{} ({} version(s), latest {} bytes of PDF)",
                    f.name,
                    f.versions.len(),
                    latest_size(w, f)
                );
            }
        }
    });
    Ok(())
}

fn folder_path(w: &procore_sim::World, mut id: Option<i64>) -> String {
    let mut parts = Vec::new();
    while let Some(f) = id.and_then(|i| w.folders.get(&i)) {
        if f.parent_id.is_some() {
            parts.push(f.name.clone());
        }
        id = f.parent_id;
    }
    parts.reverse();
    format!("/{}", parts.join("/"))
}

fn latest_size(w: &procore_sim::World, f: &procore_sim::world::File) -> usize {
    f.versions
        .last()
        .and_then(|v| w.file_versions.get(v))
        .and_then(|v| w.blobs.get(&v.blob))
        .map_or(0, |b| b.bytes.len())
}

/// A form, a clashing project, the service account and a never-activated inactive user.
async fn explain_examples(
    sim: &procore_sim::Running,
    form: i64,
) -> Result<Vec<(ExplainKind, i64)>> {
    let (clash, service, pending) = sim.sim().read(|w| {
        let clash = w
            .projects
            .values()
            .find(|p| p.project_number.as_deref() == Some(demo::CLASHING_PROJECT_NUMBER))
            .map(|p| p.id);
        let service = w
            .users
            .values()
            .find(|u| u.service_account_of.is_some())
            .map(|u| u.id);
        let pending = w
            .users
            .values()
            .find(|u| !u.is_active && u.last_name.as_deref() == Some("Brooks"))
            .map(|u| u.id);
        (clash, service, pending)
    });
    let mut out = vec![(ExplainKind::Form, form)];
    out.extend(clash.map(|id| (ExplainKind::ProcoreProject, id)));
    out.extend(service.map(|id| (ExplainKind::ProcoreUser, id)));
    out.extend(pending.map(|id| (ExplainKind::ProcoreUser, id)));
    Ok(out)
}

/// The compliance integration on the demo company: a small dataset, automatic import, two syncs
/// (the first brings projects, companies and associations in; the second writes the project-level
/// records of the new associations), then the records read back from the simulator.
/// `trestle serve` in-process: a person edits a user and adds a project in "Procore"'s web UI,
/// and both reach the app through the webhooks the simulator delivers, with no sync command.
async fn serve_demo(
    sim: &procore_sim::Running,
    store: &Store,
    company: i64,
) -> Result<server::Running> {
    outln!("\n== trestle serve (the always-on engine; the simulator delivers its webhooks to it)");
    let sim_url = sim.url();
    let clients: server::Clients = std::sync::Arc::new(move |c: &Connection| {
        let config = procore::ClientConfig::custom(
            &sim_url,
            procore::CompanyId(c.company_id),
            procore::Credentials::client_credentials(
                c.client_id.clone(),
                secrecy::ExposeSecret::expose_secret(&c.client_secret).to_string(),
            ),
        )
        .map_err(|e| e.to_string())?;
        procore::Client::new(config).map_err(|e| e.to_string())
    });
    let config = server::ServerConfig {
        poll_every: std::time::Duration::from_millis(100),
        ..server::ServerConfig::default()
    };
    let running = server::spawn(store.clone(), config, clients, |url| Some(url.to_string()))
        .await
        .context("starting the server")?;
    outln!("  serving on {}", running.url);
    let within = std::time::Duration::from_secs(60);
    let hooked = wait_for(within, || async {
        sim.sim().read(|w| {
            w.hooks.values().any(|h| {
                h.namespace.as_deref() == Some(sync::webhooks::NAMESPACE)
                    && w.triggers.values().any(|t| t.hook_id == h.id)
            })
        })
    })
    .await;
    if !hooked {
        bail!("the server did not register its webhook within a minute");
    }
    outln!("  webhook registered with the simulator, with a secret of its own");

    let bea = sim
        .sim()
        .read(|w| {
            w.users
                .values()
                .find(|u| u.last_name.as_deref() == Some("Okafor"))
                .map(|u| u.id)
        })
        .context("the demo's user Bea Okafor")?;
    let started = std::time::Instant::now();
    ui_edit(
        &sim.url(),
        company,
        reqwest::Method::PATCH,
        &format!("users/{bea}"),
        serde_json::json!({"first_name": "Beatrice"}),
    )
    .await?;
    outln!("  In Procore's web UI, someone renames Bea Okafor to Beatrice Okafor...");
    let renamed = wait_for(within, || async {
        let Ok(links) = store.links(company, LinkKind::Worker).await else {
            return false;
        };
        let Some(worker) = links.get(&bea) else {
            return false;
        };
        matches!(store.worker(company, *worker).await, Ok(Some(w)) if w.fields.first_name == "Beatrice")
    })
    .await;
    if !renamed {
        bail!("the rename did not reach the app within a minute");
    }
    outln!(
        "  ...and the app's worker is Beatrice Okafor {:.1} s later, with no sync command run.",
        started.elapsed().as_secs_f64()
    );
    let started = std::time::Instant::now();
    ui_edit(
        &sim.url(),
        company,
        reqwest::Method::POST,
        "projects",
        serde_json::json!({"name": "Canal Street Lofts", "project_number": "CSL-1"}),
    )
    .await?;
    outln!("  Someone adds the project \"Canal Street Lofts\" in Procore...");
    let added = wait_for(within, || async {
        store
            .projects(company)
            .await
            .is_ok_and(|ps| ps.iter().any(|p| p.fields.name == "Canal Street Lofts"))
    })
    .await;
    if !added {
        bail!("the new project did not reach the app within a minute");
    }
    outln!(
        "  ...and it is an app project {:.1} s later.",
        started.elapsed().as_secs_f64()
    );
    Ok(running)
}

/// Leaves the server and the simulator running for the web UI, with an administrator's token
/// to sign in with, until Ctrl-C.
async fn keep_serving(
    sim: &procore_sim::Running,
    store: &Store,
    company: i64,
    running: server::Running,
) -> Result<()> {
    let made = engine::tokens::create(
        store,
        &engine::tokens::TokenRequest {
            name: "demo administrator",
            scope: store::ApiScope::Admin,
        },
        chrono::Utc::now(),
    )
    .await
    .context("making the demo's admin token")?;
    let user = sim
        .sim()
        .read(|w| {
            w.users
                .values()
                .find(|u| u.company_id == company && u.is_active)
                .map(|u| u.id)
        })
        .context("a user of the demo company")?;
    outln!("\n== trestle serve keeps running on the demo company, with the web UI");
    outln!("  Open {}/ui/", running.url);
    outln!(
        "  and sign in with this API token (an administrator's, made for the demo; it is shown only here):"
    );
    outln!("    {}", secrecy::ExposeSecret::expose_secret(&made.secret));
    outln!("  A change in \"Procore\" reaches the pages by itself, e.g. renaming a user:");
    outln!(
        "    curl -X PATCH {}/_sim/companies/{company}/users/{user} -H 'content-type: application/json' -d '{{\"first_name\": \"Robin\"}}'",
        sim.url()
    );
    outln!("  Ctrl-C stops trestle and the simulator.");
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    running.stop().await.context("stopping the server")?;
    Ok(())
}

/// Asks `check` every 50 ms until it says yes, for up to `within`.
async fn wait_for<F, Fut>(within: std::time::Duration, check: F) -> bool
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

/// A change made as a person in Procore's web UI would (the simulator's admin routes).
async fn ui_edit(
    sim_url: &str,
    company: i64,
    method: reqwest::Method,
    what: &str,
    body: serde_json::Value,
) -> Result<()> {
    let resp = reqwest::Client::new()
        .request(method, format!("{sim_url}/_sim/companies/{company}/{what}"))
        .json(&body)
        .send()
        .await
        .with_context(|| format!("editing {what} in the simulator"))?;
    if !resp.status().is_success() {
        bail!(
            "the simulator refused the edit of {what}: {}",
            resp.status()
        );
    }
    Ok(())
}

async fn run_compliance_demo(
    sim: &procore_sim::Running,
    store: &Store,
    client: &procore::Client,
    company: i64,
) -> Result<()> {
    let (acme, bolt) = sim.sim().read(|w| {
        let id = |name: &str| {
            w.vendors
                .values()
                .find(|v| v.name == name)
                .map_or(0, |v| v.id)
        };
        (id("Acme Electric"), id("Bolt Plumbing"))
    });
    let data: domain::compliance::ComplianceData = serde_json::from_value(serde_json::json!({
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
    }))?;
    outln!("\n== trestle compliance import (Acme has a certificate, Bolt has none)");
    let done = crate::compliance::import(store, company, &data).await?;
    outln!("Imported: {}", crate::compliance::imported(&data, &done));

    outln!("\n== trestle compliance settings --new-projects import-automatically --import-companies on");
    let mut settings = sync::compliance::load_settings(store, company).await?;
    settings.new_projects = sync::compliance::NewProjects::ImportAutomatically;
    settings.import_companies_through_commitments = true;
    sync::compliance::save_settings(store, company, &settings).await?;
    out!("{}", crate::compliance::describe_settings(&settings));

    let mut written = Vec::new();
    for title in [
        "(brings projects, companies and associations in, and writes their compliance)",
        "(again: only changes are read, and nothing is written)",
    ] {
        outln!("\n== trestle sync compliance {title}");
        // No labels given: the sync reads Procore's custom field definitions itself.
        let report =
            engine::run::compliance(store, client, company, with_hooks(RunOptions::default()))
                .await?;
        crate::compliance::print_report(&report, None);
        written.extend(report.written);
    }

    outln!("\n== Insurance records trestle wrote to Procore (read back from the simulator)");
    let mut rows = vec![vec![
        "vendor".to_string(),
        "level".into(),
        "type".into(),
        "status".into(),
        "notes (first line)".into(),
    ]];
    sim.sim().read(|w| {
        for i in w.insurances.values().filter(|i| {
            i.origin_id
                .as_deref()
                .is_some_and(|o| o.starts_with("trestle:"))
        }) {
            let vendor = w.vendors.get(&i.vendor_id).map_or("?", |v| v.name.as_str());
            let level = match i.project_id.and_then(|p| w.projects.get(&p)) {
                None => "company".to_string(),
                Some(p) => format!("project {}", p.name),
            };
            rows.push(vec![
                vendor.to_string(),
                level,
                i.insurance_type.clone().unwrap_or_default(),
                i.status.clone().unwrap_or_default(),
                i.notes
                    .as_deref()
                    .and_then(|n| n.lines().next())
                    .unwrap_or("")
                    .chars()
                    .take(60)
                    .collect(),
            ]);
        }
    });
    out!("{}", output::table(&rows));
    outln!(
        "({} records written by the first sync; the second wrote none.)",
        written.len()
    );
    Ok(())
}
