//! The operator's commands for the service: `status`, `jobs` (and `jobs retry`), `hooks
//! repair` and `disconnect`: the engine's use cases, and what is printed of their results.

use crate::output::{self, shown};
use anyhow::{bail, Result};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand, ValueEnum};
use engine::hooks::{HookOutcome, HookRemoval, HooksError};
use engine::jobs::{JobQuery, RetryError};
use engine::open::open_store;
use engine::settings::Settings;
use engine::status::{CompanyStatus, Count, LastRun, RunSummary, WebhookStatus};
use store::{HealthState, Job, JobState};

/// The exit codes of `trestle status`, documented in its help.
pub const STATUS_HELP: &str =
    "Exit status: 0 when every company is healthy (or none is connected), \
4 when one is degraded (working, not fully) and none is failing, 5 when one is failing (not \
working until someone acts), 1 when the status could not be read.";

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only this company (default: every connected one).
    #[arg(long)]
    pub company_id: Option<i64>,
    /// Print JSON, in the REST API's shapes (`GET /api/v1/connections`); the exit status
    /// still says the worst.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct JobsArgs {
    #[command(subcommand)]
    pub command: Option<JobsCommand>,
    /// Only jobs in this state.
    #[arg(long, value_enum)]
    pub state: Option<StateArg>,
    /// Only this company's jobs.
    #[arg(long)]
    pub company_id: Option<i64>,
    /// At most this many, newest first.
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
    /// Print JSON, in the REST API's shapes (`GET /api/v1/jobs`).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Run a dead job again (after fixing what killed it), or a pending one now; its attempts
    /// start again from none.
    Retry {
        /// The job's id, as `trestle jobs` lists it.
        id: i64,
        /// The company the job belongs to (default: looked for among every connected one).
        #[arg(long)]
        company_id: Option<i64>,
    },
    /// Discard a dead or pending job: its work is not done.
    Discard {
        /// The job's id, as `trestle jobs` lists it.
        id: i64,
        /// The company the job belongs to (default: looked for among every connected one).
        #[arg(long)]
        company_id: Option<i64>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StateArg {
    Pending,
    Running,
    Done,
    Dead,
}

impl From<StateArg> for JobState {
    fn from(s: StateArg) -> Self {
        match s {
            StateArg::Pending => JobState::Pending,
            StateArg::Running => JobState::Running,
            StateArg::Done => JobState::Done,
            StateArg::Dead => JobState::Dead,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum HooksCommand {
    /// Check each company's Procore webhook against server.public_url and the integrations it
    /// has on, and repair what differs (a missing hook, another address, missing triggers).
    Repair {
        /// Only this company (default: every connected one).
        #[arg(long)]
        company_id: Option<i64>,
        /// Print each hook in place as JSON, as `POST /api/v1/connections/{company_id}/webhook/repair`
        /// answers it (a list, one per company); those that failed are told on stderr.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct DisconnectArgs {
    /// The Procore company to disconnect.
    #[arg(long)]
    pub company_id: i64,
}

/// Some company is not healthy: `trestle status` exits with [`Unhealthy::exit_code`].
#[derive(Debug)]
pub struct Unhealthy {
    pub failing: Vec<i64>,
    pub degraded: Vec<i64>,
}

impl Unhealthy {
    pub const DEGRADED: i32 = 4;
    pub const FAILING: i32 = 5;

    pub fn exit_code(&self) -> i32 {
        if self.failing.is_empty() {
            Self::DEGRADED
        } else {
            Self::FAILING
        }
    }
}

impl std::fmt::Display for Unhealthy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |ids: &[i64]| {
            ids.iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut parts = Vec::new();
        if !self.failing.is_empty() {
            parts.push(format!("failing: Procore company {}", list(&self.failing)));
        }
        if !self.degraded.is_empty() {
            parts.push(format!(
                "degraded: Procore company {}",
                list(&self.degraded)
            ));
        }
        write!(f, "not every company is healthy ({})", parts.join("; "))
    }
}

impl std::error::Error for Unhealthy {}

pub async fn status(settings: &Settings, args: StatusArgs) -> Result<()> {
    let store = open_store(settings).await?;
    let public_url = settings.server.public_url.as_ref().map(|u| u.as_str());
    let all = engine::status::status(public_url, &store, args.company_id)
        .await
        .map_err(|e| match e {
            engine::status::StatusError::Open(e) => e.into(),
            other => anyhow::Error::from(other),
        })?;
    if args.json {
        let mut shown = Vec::with_capacity(all.len());
        for s in &all {
            if let Some(c) = store.connection(s.company_id).await? {
                shown.push(api::connections::Connection::of(s.clone(), &c));
            }
        }
        crate::output::print_json(&shown)?;
    } else if all.is_empty() {
        outln!("No Procore company is connected.");
        return Ok(());
    }
    let now = Utc::now();
    let mut unhealthy = Unhealthy {
        failing: Vec::new(),
        degraded: Vec::new(),
    };
    for (n, company) in all.iter().enumerate() {
        if !args.json {
            if n > 0 {
                outln!();
            }
            print_company(company, now);
        }
        match company.state() {
            HealthState::Ok => {}
            HealthState::Degraded => unhealthy.degraded.push(company.company_id),
            HealthState::Failing => unhealthy.failing.push(company.company_id),
        }
    }
    if unhealthy.failing.is_empty() && unhealthy.degraded.is_empty() {
        Ok(())
    } else {
        Err(unhealthy.into())
    }
}

fn print_company(c: &CompanyStatus, now: DateTime<Utc>) {
    let state = match c.state() {
        HealthState::Ok => "healthy",
        HealthState::Degraded => "DEGRADED",
        HealthState::Failing => "FAILING",
    };
    outln!("Procore company {}: {state}", c.company_id);
    for h in &c.health {
        outln!(
            "  [{}] {} since {} ({} ago)",
            h.state.as_str(),
            shown(&h.aspect),
            when(h.since),
            ago(h.since, now)
        );
        outln!("      problem: {}", shown(&h.problem));
        outln!("      remedy:  {}", shown(&h.remedy));
    }
    outln!("  Webhook: {}", webhook(&c.webhook));
    let q = &c.queue;
    outln!(
        "  Queue: {}",
        JobState::ALL
            .iter()
            .map(|s| format!("{} {}", count(q.count(*s)), s.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !q.dead.is_empty() {
        outln!("  Dead jobs, newest first (retry with `trestle jobs retry ID` once fixed):");
        for job in &q.dead {
            outln!(
                "    {} {} after {} attempts{}: {}",
                job.id,
                shown(&job.kind),
                job.attempts,
                job.finished_at
                    .map(|t| format!(", {}", when(t)))
                    .unwrap_or_default(),
                shown(job.last_error.as_deref().unwrap_or("no error recorded"))
            );
        }
    }
    outln!("  Last syncs:");
    for run in &c.last_runs {
        outln!("    {}: {}", run.integration.as_str(), last_run(run, now));
    }
}

fn webhook(w: &WebhookStatus) -> String {
    let checked = |at: Option<DateTime<Utc>>| {
        at.map_or_else(
            || "never checked".into(),
            |t| format!("last checked {}", when(t)),
        )
    };
    match (&w.wanted_url, &w.registered) {
        (None, None) => "not registered: set server.public_url so Procore can deliver changes (until then the reconcile alone keeps the company in sync)".into(),
        (None, Some(hook)) => format!(
            "registered at {} ({}), but server.public_url is not set: `trestle serve --public-url` or the setting must name that address",
            shown(&hook.destination_url),
            checked(hook.checked_at)
        ),
        (Some(wanted), None) => format!(
            "not registered yet at {}: `trestle serve` registers it, or run `trestle hooks repair`",
            shown(wanted)
        ),
        (Some(wanted), Some(hook)) if !w.in_place() => format!(
            "registered at {} ({}), but server.public_url wants {}: run `trestle hooks repair`",
            shown(&hook.destination_url),
            checked(hook.checked_at),
            shown(wanted)
        ),
        (Some(_), Some(hook)) => format!(
            "registered at {}, {}",
            shown(&hook.destination_url),
            checked(hook.checked_at)
        ),
    }
}

fn count(c: Count) -> String {
    if c.at_least {
        format!("{}+", c.n)
    } else {
        c.n.to_string()
    }
}

fn last_run(run: &LastRun, now: DateTime<Utc>) -> String {
    let Some(r) = &run.run else {
        return "never".into();
    };
    let started = format!("{} ({} ago)", when(r.started_at), ago(r.started_at, now));
    let Some(finished) = r.finished_at else {
        return format!("started {started}, not finished (still running, or its process stopped: the next sync finishes what it left)");
    };
    let took = humantime::format_duration(std::time::Duration::from_secs(
        u64::try_from((finished - r.started_at).num_seconds()).unwrap_or(0),
    ));
    let what = match &run.summary {
        Some(RunSummary::Workforce(s)) => format!(
            ": {} records read, {} projects and {} workers created or updated, {} forms uploaded{}",
            s.records_read,
            s.projects_created + s.projects_updated,
            s.workers_created + s.workers_updated,
            s.forms_uploaded,
            failed(s.upload_failures, "upload")
        ),
        Some(RunSummary::Compliance(s)) => format!(
            ": {} records read, {} parties created or updated, {} insurance records written{}",
            s.records_read,
            s.parties_created + s.parties_updated,
            s.insurance_written,
            failed(s.insurance_failures, "insurance write")
        ),
        None => String::new(),
    };
    format!("{started}, took {took}{what}")
}

fn failed(n: usize, what: &str) -> String {
    match n {
        0 => String::new(),
        1 => format!(", 1 {what} failed (retried by the next sync)"),
        n => format!(", {n} {what}s failed (retried by the next sync)"),
    }
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// How long ago `t` was, to the minute (a second-exact age is noise in a status).
fn ago(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = u64::try_from((now - t).num_seconds()).unwrap_or(0);
    if secs < 60 {
        return "moments".into();
    }
    humantime::format_duration(std::time::Duration::from_secs(secs - secs % 60)).to_string()
}

pub async fn jobs(settings: &Settings, args: JobsArgs) -> Result<()> {
    let store = open_store(settings).await?;
    match args.command {
        Some(JobsCommand::Retry { id, company_id }) => return retry(&store, id, company_id).await,
        Some(JobsCommand::Discard { id, company_id }) => {
            let job = match engine::jobs::discard(&store, company_id, id).await {
                Ok(job) => job,
                Err(e @ RetryError::UnknownJob { .. }) => bail!("{e}; `trestle jobs` lists them"),
                Err(e @ RetryError::NotRetryable { .. }) => bail!("{e}; nothing was changed"),
                Err(e) => return Err(e.into()),
            };
            outln!(
                "Job {id} ({}, Procore company {}) is discarded.",
                shown(&job.kind),
                job.company_id
            );
            return Ok(());
        }
        None => {}
    }
    let jobs = engine::jobs::list(
        &store,
        &JobQuery {
            company: args.company_id,
            state: args.state.map(JobState::from),
            limit: args.limit,
            ..JobQuery::default()
        },
    )
    .await?;
    if args.json {
        let shown: Vec<api::jobs::Job> = jobs.into_iter().map(api::jobs::Job::from).collect();
        return crate::output::print_json(&shown);
    }
    if jobs.is_empty() {
        outln!("No jobs.");
        return Ok(());
    }
    let mut rows = vec![[
        "ID",
        "COMPANY",
        "KIND",
        "STATE",
        "ATTEMPTS",
        "RUN AT",
        "LAST ERROR",
    ]
    .map(String::from)
    .to_vec()];
    rows.extend(jobs.iter().map(job_row));
    out!("{}", output::table(&rows));
    if jobs.len() == args.limit as usize {
        outln!("(the newest {}; --limit shows more)", args.limit);
    }
    Ok(())
}

fn job_row(job: &Job) -> Vec<String> {
    vec![
        job.id.to_string(),
        job.company_id.to_string(),
        job.kind.clone(),
        job.state.as_str().into(),
        format!("{}/{}", job.attempts, job.max_attempts),
        when(job.run_at),
        job.last_error.clone().unwrap_or_default(),
    ]
}

async fn retry(store: &store::Store, id: i64, company: Option<i64>) -> Result<()> {
    let retried = match engine::jobs::retry(store, company, id, Utc::now()).await {
        Ok(retried) => retried,
        Err(e @ RetryError::UnknownJob { .. }) => bail!("{e}; `trestle jobs` lists them"),
        Err(e @ RetryError::NotRetryable { .. }) => bail!("{e}; nothing was changed"),
        Err(e) => return Err(e.into()),
    };
    let job = &retried.job;
    let was = match job.state {
        JobState::Dead => "dead",
        _ => "waiting",
    };
    match retried.merged_into {
        Some(other) => outln!(
            "Job {id} ({}, Procore company {}, {was}) joined job {other}, which does the same work and is already queued; `trestle serve` runs it.",
            shown(&job.kind),
            job.company_id
        ),
        None => outln!(
            "Job {id} ({}, Procore company {}, {was}) is queued to run now; `trestle serve` runs it.",
            shown(&job.kind),
            job.company_id
        ),
    }
    Ok(())
}

/// What `connect` says of the company's webhook; nothing when no hook is wanted (a CLI-only
/// install has no server for Procore to reach).
pub fn print_connect_webhook(outcome: Option<&HookOutcome>) {
    match outcome {
        Some(HookOutcome::InPlace {
            destination_url,
            report,
        }) => outln!(
            "Webhook: {} {}.",
            if report.repaired() {
                "registered at"
            } else {
                "in place at"
            },
            shown(destination_url)
        ),
        Some(HookOutcome::Failed {
            destination_url,
            error,
        }) => eprintln!(
            "warning: the connection is saved, but the Procore webhook could not be registered at {}: {}. \
             Changes reach trestle at each reconcile until it is; fix it and run `trestle hooks repair`.",
            shown(destination_url),
            output::shown_lines(error)
        ),
        Some(HookOutcome::NoPublicUrl) | None => {}
    }
}

pub async fn hooks(settings: &Settings, command: HooksCommand) -> Result<()> {
    let HooksCommand::Repair { company_id, json } = command;
    let store = open_store(settings).await?;
    let repaired = engine::hooks::repair(settings, &store, company_id, Utc::now())
        .await
        .map_err(cli_error)?;
    if repaired.is_empty() && !json {
        outln!("No Procore company is connected.");
        return Ok(());
    }
    let mut failed = 0;
    let mut in_place = Vec::new();
    for r in &repaired {
        let company = r.company_id;
        match &r.outcome {
            HookOutcome::InPlace {
                destination_url,
                report,
            } if json => in_place.push(api::connections::HookRepaired::of(
                company,
                destination_url.clone(),
                report.clone(),
            )),
            HookOutcome::Failed {
                destination_url,
                error,
            } if json => {
                failed += 1;
                eprintln!(
                    "Procore company {company}: the hook at {} could not be checked: {}",
                    shown(destination_url),
                    output::shown_lines(error)
                );
            }
            HookOutcome::InPlace {
                destination_url,
                report,
            } if !report.repaired() => outln!(
                "Procore company {company}: the hook at {} is in place; nothing to repair.",
                shown(destination_url)
            ),
            HookOutcome::InPlace {
                destination_url,
                report,
            } => {
                let mut did = Vec::new();
                if report.created {
                    did.push("created the hook".to_string());
                }
                if report.stale_removed > 0 {
                    did.push(format!(
                        "removed {} hook(s) at another address or with a lost secret",
                        report.stale_removed
                    ));
                }
                if !report.triggers_added.is_empty() {
                    did.push(format!(
                        "added triggers: {}",
                        report.triggers_added.join(", ")
                    ));
                }
                if !report.triggers_removed.is_empty() {
                    did.push(format!(
                        "removed triggers: {}",
                        shown(&report.triggers_removed.join(", "))
                    ));
                }
                outln!(
                    "Procore company {company}: repaired the hook at {}: {}. A sync of each \
                     integration is queued to read what it did not deliver meanwhile (`trestle \
                     serve` runs it).",
                    shown(destination_url),
                    did.join("; ")
                );
            }
            HookOutcome::Failed {
                destination_url,
                error,
            } => {
                failed += 1;
                outln!(
                    "Procore company {company}: the hook at {} could not be checked: {}",
                    shown(destination_url),
                    output::shown_lines(error)
                );
            }
            HookOutcome::NoPublicUrl => {}
        }
    }
    if json {
        output::print_json(&in_place)?;
    }
    if failed > 0 {
        bail!(
            "{failed} of {} hooks could not be repaired (above); give trestle's Procore app permission to manage webhooks (Company Admin > Webhooks) and run this again",
            repaired.len()
        );
    }
    Ok(())
}

pub async fn disconnect(settings: &Settings, args: DisconnectArgs) -> Result<()> {
    let store = open_store(settings).await?;
    let company = args.company_id;
    let done = engine::hooks::disconnect(settings, &store, company)
        .await
        .map_err(cli_error)?;
    outln!("Disconnected Procore company {company}.");
    match &done.hook {
        HookRemoval::Removed(0) => outln!("  Webhook: none was registered in Procore."),
        HookRemoval::Removed(n) => outln!("  Webhook: removed {n} hook(s) from Procore."),
        HookRemoval::Failed(error) => outln!(
            "  Webhook: could not be removed from Procore ({}); trestle now refuses its deliveries, and it can be deleted by hand in Procore (Company Admin > Webhooks, namespace \"{}\").",
            output::shown_lines(error),
            sync::webhooks::NAMESPACE
        ),
    }
    outln!(
        "  Removed: the connection, its client secret and Procore tokens{}.",
        match done.health_cleared {
            0 => String::new(),
            n => format!(
                ", and its {n} health entr{}",
                if n == 1 { "y" } else { "ies" }
            ),
        }
    );
    outln!("  Kept: the company's records (projects, workers, compliance records, mappings and settings) and the run log; `trestle connect --company-id {company}` picks up where it stopped.");
    outln!("  Jobs still queued for it fail when they run, as the company is no longer connected.");
    Ok(())
}

/// The engine's hook error with the open error unwrapped, so `main` adds its advice ("run
/// `trestle connect` first").
fn cli_error(e: HooksError) -> anyhow::Error {
    match e {
        HooksError::Open(e) => e.into(),
        HooksError::NoPublicUrl => anyhow::anyhow!(
            "{}; set it to the address Procore reaches `trestle serve` at (e.g. https://trestle.example.com)",
            HooksError::NoPublicUrl
        ),
        other => other.into(),
    }
}
