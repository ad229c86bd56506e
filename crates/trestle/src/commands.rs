//! `connect`, `sync` and `explain`: the arguments, the engine's use cases, and what is
//! printed of their results.

use crate::output;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use engine::connect::{ConnectError, ConnectRequest, Refusal, Toggles};
use engine::open::{client_for, open_store, pick_connection, sync_lock};
use engine::run::{Reads, Report, RunOptions};
use engine::settings::Settings;
use engine::Integration;
use secrecy::SecretString;
use store::Connection;
use sync::hooks::{CrashPoint, CrashSwitch};
use sync::workforce::access::AccessCheck;

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// The Procore Company ID: the number after /app/company/ in a Procore URL.
    #[arg(long)]
    pub company_id: Option<i64>,
    /// The OAuth client id of trestle's Procore app (or procore.client_id).
    #[arg(long)]
    pub client_id: Option<String>,
    /// Read the client secret from this file (or procore.client_secret / _file).
    #[arg(long)]
    pub client_secret_file: Option<std::path::PathBuf>,
    /// Only users marked as employees in Procore become workers (`--sync-employees-only=false`
    /// turns it off; when not given, a saved connection keeps its value, a new one is off).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub sync_employees_only: Option<bool>,
    /// Activate new workers at once instead of leaving them Pending Account Activation.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub auto_activate_workers: Option<bool>,
    /// Put completed form PDFs in each project's Procore Documents.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub sync_forms: Option<bool>,
    /// The forms folder's base name (default "Corfix Forms").
    #[arg(long)]
    pub forms_folder: Option<String>,
    /// With `procore.grant = "authorization_code"`: the code Procore showed after a person
    /// authorized the app (without it, `connect` prints the URL to open).
    #[arg(long)]
    pub auth_code: Option<String>,
    /// Save the connection without running the initial sync.
    #[arg(long)]
    pub no_sync: bool,
    /// Require what the compliance integration needs (Directory companies, Commitments,
    /// writing insurance records): connect fails when it is missing. Without it, those checks
    /// are still run and reported, and fail the connect only once a compliance sync has run.
    #[arg(long)]
    pub compliance: bool,
    /// Print the permission checklist as JSON, in the REST API's shape (the answer to `POST
    /// /api/v1/connections`; a refusal as its problem). The initial sync still runs unless
    /// `--no-sync`, and prints nothing (`trestle status --json` names its run).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// Procore projects and users into projects and workers; completed forms into Documents.
    Workforce(SyncArgs),
    /// Procore projects, companies, contacts and commitments into compliance records;
    /// compliance status back into Procore as insurance records.
    Compliance(SyncArgs),
}

#[derive(Debug, Clone, Args)]
pub struct SyncArgs {
    /// Show what would change, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// With `sync compliance --dry-run`: evaluate compliance as of this date (YYYY-MM-DD)
    /// instead of today, to see what lapses next month.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = crate::records::parse_date)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Read every Procore collection whole, not only what changed since the last sync (to pick
    /// up records deleted in Procore or hidden from the integration user at once).
    #[arg(long)]
    pub full: bool,
    /// Keep running: sync now and then every DURATION (e.g. "1h", "1d", "30m") until Ctrl-C or
    /// SIGTERM, which stop a run under way at once (the next sync finishes what it left). Every run evaluates compliance with that day's date, so a daily run is the
    /// daily evaluation that moves expiring and expired policies.
    #[arg(long, value_name = "DURATION", value_parser = every_duration, conflicts_with = "dry_run")]
    pub every: Option<std::time::Duration>,
    /// Which connected company (default: the configured or only one).
    #[arg(long)]
    pub company_id: Option<i64>,
    /// Print JSON, in the REST API's shapes: a dry run as `POST
    /// /api/v1/companies/{c}/syncs/preview` answers it, a run as `GET
    /// /api/v1/companies/{c}/runs/{id}` does.
    #[arg(long, conflicts_with = "every")]
    pub json: bool,
}

/// How a run's report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Printed {
    /// In words, for people.
    Text,
    /// In the REST API's shapes ([`api::activity::SyncPreview`] for a dry run,
    /// [`api::activity::RunDetail`] for a run).
    Json,
    /// Not at all (`connect --json` printed its own answer).
    Nothing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainKind {
    ProcoreProject,
    ProcoreUser,
    Form,
    ProcoreCompany,
    ProcoreContact,
    ProcoreCommitment,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    pub kind: ExplainKind,
    pub id: i64,
    #[arg(long)]
    pub company_id: Option<i64>,
    /// Print JSON, in the REST API's shape (`GET /api/v1/companies/{c}/explain/{kind}/{id}`).
    #[arg(long)]
    pub json: bool,
}

pub async fn connect(settings: &Settings, args: ConnectArgs) -> Result<()> {
    let store = open_store(settings).await?;
    let company_id = args
        .company_id
        .or(settings.procore.company_id)
        .context("which Procore company? pass --company-id (the number after /app/company/ in a Procore URL)")?;
    let client_id = args
        .client_id
        .or_else(|| settings.procore.client_id.clone())
        .context("no OAuth client id: pass --client-id or set procore.client_id")?;
    let client_secret = match &args.client_secret_file {
        Some(path) => SecretString::from(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?
                .trim()
                .to_string(),
        ),
        None => settings.procore.secret()?,
    };
    let request = ConnectRequest {
        company_id,
        client_id,
        client_secret,
        toggles: Toggles {
            sync_employees_only: args.sync_employees_only,
            auto_activate_workers: args.auto_activate_workers,
            sync_forms: args.sync_forms,
            forms_folder: args.forms_folder,
        },
        auth_code: args.auth_code.map(SecretString::from),
        require_compliance: args.compliance,
        check_only: false,
        as_read: None,
        keep_credentials: false,
    };
    let connected = match engine::connect::connect(settings, &store, request).await {
        Ok(connected) => connected,
        Err(ConnectError::Refused(refusal)) => {
            if args.json {
                output::print_json(&api::connections::refused(&refusal))?;
            } else {
                print_checks(company_id, &refusal.workforce, &refusal.compliance);
            }
            bail!("{}", refusal_text(&refusal));
        }
        Err(ConnectError::NotAuthorized { url, .. }) => bail!(
            "trestle is not authorized in Procore yet: open {url}, sign in, approve the app, and run `trestle connect --auth-code CODE` with the code Procore shows"
        ),
        Err(e) => return Err(e.into()),
    };
    if args.json {
        // The CLI runs the initial sync itself below: no job is queued.
        output::print_json(&api::connections::Connected::of(&connected, None))?;
    } else {
        print_checks(company_id, &connected.workforce, &connected.compliance);
        if !connected.compliance_ready() {
            outln!("  The workforce integration can connect; `trestle sync compliance` will fail until the permissions above are given (connect with --compliance to require them).");
        }
        outln!(
            "Connected. Settings: {}",
            output::toggles(&connected.connection)
        );
        crate::ops::print_connect_webhook(connected.webhook.as_ref());
    }
    let connection = connected.connection;
    if args.no_sync {
        return Ok(());
    }
    if !args.json {
        // Connecting again (to change a toggle, say) runs an ordinary sync, not the first one.
        outln!(
            "\n{}:",
            if connected.connected_before {
                "Sync"
            } else {
                "Initial sync"
            }
        );
    }
    let client = client_for(settings, &connection, &store)?;
    let lock = sync_lock(settings, &store, company_id, waiting(company_id)).await?;
    run_and_print(
        &store,
        &client,
        &connection,
        Integration::Workforce,
        RunOptions {
            reclaim_leases: lock.is_some(),
            ..RunOptions::default()
        },
        if args.json {
            Printed::Nothing
        } else {
            Printed::Text
        },
    )
    .await
}

/// The access checks `connect` ran, under the heading of each integration; the compliance
/// heading only when its checks ran.
fn print_checks(company_id: i64, workforce: &[AccessCheck], compliance: &[AccessCheck]) {
    outln!("Checking what trestle may do in Procore company {company_id}:");
    output::print_checks(workforce);
    if !compliance.is_empty() {
        outln!("\nFor the compliance integration (trestle sync compliance):");
        output::print_checks(compliance);
    }
}

/// What `connect` says when a check failed: what went wrong, pointing at the checks printed
/// above, and where the admin has to look.
fn refusal_text(refusal: &Refusal) -> String {
    let mut text = format!("{} (above)", refusal.headline());
    if refusal.integration == Integration::Compliance {
        text.push_str(" for the compliance integration");
    }
    if let Some(advice) = refusal.advice() {
        text = format!("{text}: {advice}");
    }
    text + "; nothing was saved or synced"
}

pub async fn sync(settings: &Settings, command: SyncCommand) -> Result<()> {
    let (integration, args) = match command {
        SyncCommand::Workforce(args) => (Integration::Workforce, args),
        SyncCommand::Compliance(args) => (Integration::Compliance, args),
    };
    // Checked before any run, so `--every` cannot fail the same way on every tick.
    if let Some(date) = args.as_of {
        if integration != Integration::Compliance {
            bail!("--as-of previews compliance on another date: use it with `trestle sync compliance --dry-run`; nothing was synced");
        }
        // A real sync writes compliance to Procore, which must be today's.
        if !args.dry_run {
            bail!(
                "--as-of previews compliance on another date, and a sync that writes to Procore must use \
                 today's; add --dry-run to preview (e.g. `trestle sync compliance --dry-run --as-of {date}`), \
                 or see `trestle compliance parties --as-of {date}`; nothing was synced"
            );
        }
    }
    let Some(every) = args.every else {
        return sync_once(settings, integration, &args).await;
    };
    // `--full` is for the first run; the runs after it read what changed.
    let first = std::cell::Cell::new(true);
    run_every(every, || {
        let full = args.full && first.replace(false);
        let args = SyncArgs {
            full,
            ..args.clone()
        };
        async move { sync_once(settings, integration, &args).await }
    })
    .await
}

/// One sync as `trestle sync` asks for it: a real run holds the company's sync lock; a dry run
/// uploads nothing, so it needs none.
async fn sync_once(settings: &Settings, integration: Integration, args: &SyncArgs) -> Result<()> {
    let store = open_store(settings).await?;
    let connection = pick_connection(&store, settings, args.company_id).await?;
    let client = client_for(settings, &connection, &store)?;
    let lock = if args.dry_run {
        None
    } else {
        sync_lock(
            settings,
            &store,
            connection.company_id,
            waiting(connection.company_id),
        )
        .await?
    };
    run_and_print(
        &store,
        &client,
        &connection,
        integration,
        RunOptions {
            dry_run: args.dry_run,
            reads: if args.full {
                Reads::Whole
            } else {
                Reads::Changed
            },
            reclaim_leases: lock.is_some(),
            today: args.as_of,
            ..RunOptions::default()
        },
        if args.json {
            Printed::Json
        } else {
            Printed::Text
        },
    )
    .await
}

/// `--every`: a humantime duration ("1d", "30m"), at least a second.
fn every_duration(text: &str) -> std::result::Result<std::time::Duration, String> {
    let d = humantime::parse_duration(text)
        .map_err(|e| format!("{e}; write a duration such as 1d, 6h or 30m"))?;
    if d < std::time::Duration::from_secs(1) {
        return Err("the interval must be at least 1s, e.g. 1d, 6h or 30m".into());
    }
    Ok(d)
}

/// Runs `job` now and then every `every` until Ctrl-C or SIGTERM. A signal during a run stops
/// it where it is rather than after it: a run can last hours under Procore's rate limits, and
/// every step of a sync is crash-safe (what it applied stays applied in one transaction, and
/// the next run finishes a write it left in the outbox), so stopping is the same as a crash
/// the next run is built to recover from, without the wait. A failed run is reported and the
/// schedule goes on: Procore being unreachable for an hour must not cancel tomorrow's
/// evaluation.
async fn run_every<F, Fut>(every: std::time::Duration, job: F) -> Result<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    // Both made before the first run, so a signal that arrives during a run is seen (a
    // `ctrl_c()` made afresh each turn would miss one).
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("listening for Ctrl-C")?;
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let every_text = humantime::format_duration(every);
    loop {
        tokio::select! {
            biased;
            _ = interrupt.recv() => break,
            _ = terminate.recv() => break,
            _ = ticks.tick() => {}
        }
        let outcome = tokio::select! {
            biased;
            _ = interrupt.recv() => None,
            _ = terminate.recv() => None,
            outcome = job() => Some(outcome),
        };
        match outcome {
            None => {
                // The run's future is dropped here: its lock is released and an open
                // transaction rolls back.
                outln!("The run under way was stopped: what it had saved is kept, and the next sync finishes what it left undone.");
                break;
            }
            Some(Err(e)) => eprintln!(
                "The sync failed: {}",
                output::shown_lines(&format!("{e:#}"))
            ),
            Some(Ok(())) => {}
        }
        outln!("Next sync in {every_text}; stop with Ctrl-C.");
    }
    outln!("Stopped.");
    Ok(())
}

/// What the CLI says when another process holds the company's sync lock.
pub fn waiting(company: i64) -> impl FnOnce() + Send {
    move || {
        eprintln!("Another trestle is syncing Procore company {company}; waiting for it to finish.")
    }
}

/// Crash tests set `TRESTLE_CRASH_AT` (before_upload, after_upload, after_link, after_log): the
/// points of a form upload and of an insurance write, where the process aborts as a power cut
/// or `kill -9` would. A test-only switch: a release build ignores it, so no setting left in
/// an operator's environment can stop a production server mid-write.
pub(crate) fn crash_point() -> Option<CrashSwitch> {
    if !cfg!(debug_assertions) {
        return None;
    }
    let at = std::env::var("TRESTLE_CRASH_AT")
        .ok()
        .as_deref()
        .and_then(CrashPoint::parse)?;
    Some(CrashSwitch::new(at, |here| {
        eprintln!("trestle: crashing on purpose at {here:?} (crash test)");
        std::process::abort();
    }))
}

/// `options` with the CLI's hooks: a progress bar, and the crash tests' point.
pub fn with_hooks(options: RunOptions) -> RunOptions {
    RunOptions {
        progress: Some(output::progress_bar()),
        crash_at: crash_point(),
        ..options
    }
}

/// Runs one sync and prints its report as `printed` says. A compliance run given another date
/// than today (`--as-of`) says so in its title.
pub async fn run_and_print(
    store: &store::Store,
    client: &procore::Client,
    connection: &Connection,
    integration: Integration,
    options: RunOptions,
    printed: Printed,
) -> Result<()> {
    let as_of = options.today;
    let dry_run = options.dry_run;
    let report =
        engine::run::run(store, client, connection, integration, with_hooks(options)).await?;
    match (printed, &report) {
        (Printed::Text, Report::Workforce(report)) => output::print_report(report),
        (Printed::Text, Report::Compliance(report)) => {
            crate::compliance::print_report(report, as_of)
        }
        (Printed::Json, report) if dry_run => {
            output::print_json(&api::activity::SyncPreview::of(report))?
        }
        (Printed::Json, report) => {
            let id = report.run();
            let run = store
                .run(id)
                .await?
                .with_context(|| format!("run {} is not in the run log", id.0))?;
            let entries = store.run_entries(id).await?;
            output::print_json(&api::activity::RunDetail::of(run, entries))?
        }
        (Printed::Nothing, _) => {}
    }
    WritesFailed::check(report.failed_writes())
}

/// A sync that ran to its end but could not make some of its Procore writes (uploads, insurance
/// records): they wait in the outbox for the next sync, and the process exits with
/// [`WritesFailed::EXIT_CODE`] so scripts and schedulers see it.
#[derive(Debug)]
pub struct WritesFailed(pub usize);

impl WritesFailed {
    /// Distinct from 1 (the command failed) and 2 (the command line was wrong).
    pub const EXIT_CODE: i32 = 3;

    /// `Err` when `failed` writes is more than none.
    pub fn check(failed: usize) -> Result<()> {
        if failed == 0 {
            Ok(())
        } else {
            Err(WritesFailed(failed).into())
        }
    }
}

impl std::fmt::Display for WritesFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            1 => write!(
                f,
                "1 Procore write failed (above); the next sync tries it again"
            ),
            n => write!(
                f,
                "{n} Procore writes failed (above); the next sync tries them again"
            ),
        }
    }
}

impl std::error::Error for WritesFailed {}

pub async fn explain(settings: &Settings, args: ExplainArgs) -> Result<()> {
    let store = open_store(settings).await?;
    let connection = pick_connection(&store, settings, args.company_id).await?;
    if args.json {
        let e =
            engine::explain::explain(&store, connection.company_id, args.kind.subject(), args.id)
                .await?;
        return crate::output::print_json(&e);
    }
    let text = crate::explain::text(&store, connection.company_id, args.kind, args.id).await?;
    // Names in it come from Procore: keep its lines, escape anything a terminal would act on.
    outln!("{}", output::shown_lines(&text));
    Ok(())
}
