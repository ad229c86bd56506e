//! `trestle workforce ...`: the workforce app from the terminal, on the same use cases as the
//! REST API (`engine::workforce`); `--json` prints the API's shapes.

use crate::output::{print_json, shown};
use anyhow::{anyhow, Result};
use api::workforce::{Decided, Preview, Waiting, Worker};
use chrono::Utc;
use clap::{Args, Subcommand, ValueEnum};
use engine::open::{open_store, pick_connection};
use engine::settings::Settings;
use engine::workforce::{Decision, WorkerAction, WorkforceError};
use store::{WaitingKind, WorkerQuery};

#[derive(Debug, Subcommand)]
pub enum WorkforceCommand {
    /// The workers, a page at a time, filtered by status or by name, email or employee number.
    Workers(WorkersArgs),
    /// Procore projects and users the sync left alone because an app record has their number,
    /// name or email: each waits for a decision (`trestle workforce decide`).
    Waiting(Common),
    /// Link a waiting record to the app record it is the same as, import it as a new one, or
    /// ignore it; `--preview` shows what that would do and changes nothing.
    Decide(DecideArgs),
    /// Activate a worker in Pending Account Activation.
    Activate(WorkerArgs),
    /// Block a worker; no sync unblocks it.
    Block(WorkerArgs),
    /// Unblock a worker.
    Unblock(WorkerArgs),
}

#[derive(Debug, Args)]
pub struct Common {
    /// The Procore company (when more than one is connected).
    #[arg(long)]
    company_id: Option<i64>,
    /// Print JSON, in the REST API's shapes.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct WorkersArgs {
    #[command(flatten)]
    common: Common,
    /// pending_account_activation, pending_email_verification, active, active_for_kiosk or
    /// blocked.
    #[arg(long)]
    status: Option<String>,
    /// Part of the name or email, or the whole employee number.
    #[arg(long)]
    search: Option<String>,
    #[arg(long, default_value_t = 100)]
    limit: u32,
    /// Workers after this id: the next page.
    #[arg(long)]
    after: Option<i64>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    Project,
    User,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DecisionArg {
    Link,
    Import,
    Ignore,
}

#[derive(Debug, Args)]
pub struct DecideArgs {
    #[command(flatten)]
    common: Common,
    kind: KindArg,
    /// The Procore project or user id (`trestle workforce waiting` lists them).
    procore_id: i64,
    decision: DecisionArg,
    /// For link: the app project or worker it is the same as.
    #[arg(long)]
    to: Option<i64>,
    /// Show what the decision would do; change nothing.
    #[arg(long)]
    preview: bool,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    common: Common,
    /// The worker's id.
    id: i64,
}

fn worker_line(w: &Worker) -> String {
    format!(
        "{:>6}  {:<26}  {:<32}  {}{}",
        w.id,
        shown(&format!("{} {}", w.first_name, w.last_name)),
        shown(w.email.as_deref().unwrap_or("-")),
        w.status,
        if w.blocked_by_admin {
            " (by an administrator)"
        } else {
            ""
        }
    )
}

pub async fn command(settings: &Settings, command: WorkforceCommand) -> Result<()> {
    let store = open_store(settings).await?;
    let company = |common: &Common| {
        let store = store.clone();
        let asked = common.company_id;
        async move { anyhow::Ok(pick_connection(&store, settings, asked).await?.company_id) }
    };
    match command {
        WorkforceCommand::Workers(args) => {
            let status = match args.status.as_deref() {
                None => None,
                Some(s) => Some(api::workforce::parse_status(s).ok_or_else(|| {
                    anyhow!(
                        "--status {s}: no such status; use {}",
                        api::workforce::status_names().join(", ")
                    )
                })?),
            };
            let page = engine::workforce::workers(
                &store,
                company(&args.common).await?,
                &WorkerQuery {
                    status,
                    search: args.search,
                    after: args.after,
                    limit: args.limit.clamp(1, 500),
                },
            )
            .await?;
            let shown: Vec<Worker> = page.iter().map(Worker::from).collect();
            if args.common.json {
                return print_json(&shown);
            }
            for w in &shown {
                outln!("{}", worker_line(w));
            }
            if shown.len() == args.limit as usize {
                if let Some(last) = shown.last() {
                    outln!("(more: --after {})", last.id);
                }
            }
            if shown.is_empty() {
                outln!("No worker matches.");
            }
        }
        WorkforceCommand::Waiting(common) => {
            let waiting: Vec<Waiting> = engine::workforce::waiting(&store, company(&common).await?)
                .await?
                .into_iter()
                .map(Waiting::from)
                .collect();
            if common.json {
                return print_json(&waiting);
            }
            if waiting.is_empty() {
                outln!("Nothing waits for a decision.");
            }
            for w in &waiting {
                outln!(
                    "Procore {} {} \"{}\" ({}): {}",
                    w.kind,
                    w.procore_id,
                    shown(&w.name),
                    shown(w.key.as_deref().unwrap_or("-")),
                    shown(&w.reason)
                );
            }
        }
        WorkforceCommand::Decide(args) => {
            let kind = match args.kind {
                KindArg::Project => WaitingKind::Project,
                KindArg::User => WaitingKind::User,
            };
            let decision = match (args.decision, args.to) {
                (DecisionArg::Link, Some(to)) => Decision::Link { to },
                (DecisionArg::Link, None) => {
                    return Err(anyhow!(
                        "a link needs --to: the app project or worker it is the same as"
                    ))
                }
                (DecisionArg::Import, None) => Decision::Import,
                (DecisionArg::Ignore, None) => Decision::Ignore,
                (_, Some(_)) => return Err(anyhow!("only a link takes --to")),
            };
            let company = company(&args.common).await?;
            if args.preview {
                let p: Preview = engine::workforce::preview(
                    &store,
                    company,
                    kind,
                    args.procore_id,
                    decision,
                    Utc::now().date_naive(),
                )
                .await
                .map_err(explained)?
                .into();
                if args.common.json {
                    return print_json(&p);
                }
                print_preview(&p, "Would");
            } else {
                let d = engine::workforce::decide(
                    &store,
                    company,
                    kind,
                    args.procore_id,
                    decision,
                    Utc::now(),
                    settings.server.job_attempts,
                )
                .await
                .map_err(explained)?;
                let d = Decided {
                    preview: d.preview.into(),
                    job_id: d.job_id,
                };
                if args.common.json {
                    return print_json(&d);
                }
                print_preview(&d.preview, "Decided");
                outln!(
                    "Job {} applies it: `trestle serve` runs it at once, or the next `trestle sync workforce` does.",
                    d.job_id
                );
            }
        }
        WorkforceCommand::Activate(args) => {
            act(&store, settings, args, WorkerAction::Activate).await?
        }
        WorkforceCommand::Block(args) => act(&store, settings, args, WorkerAction::Block).await?,
        WorkforceCommand::Unblock(args) => {
            act(&store, settings, args, WorkerAction::Unblock).await?
        }
    }
    Ok(())
}

fn print_preview(p: &Preview, verb: &str) {
    outln!("{verb}: {}", shown(&p.outcome));
    for c in &p.changes {
        outln!(
            "  {}: {} -> {}",
            c.field,
            shown(c.from.as_deref().unwrap_or("(empty)")),
            shown(c.to.as_deref().unwrap_or("(empty)"))
        );
    }
}

/// The library's error, with the command to run next where one helps.
fn explained(e: WorkforceError) -> anyhow::Error {
    match e {
        WorkforceError::NotWaiting { .. } => {
            anyhow!("{e}; `trestle workforce waiting` lists those that are")
        }
        other => other.into(),
    }
}

async fn act(
    store: &store::Store,
    settings: &Settings,
    args: WorkerArgs,
    action: WorkerAction,
) -> Result<()> {
    let company = pick_connection(store, settings, args.common.company_id)
        .await?
        .company_id;
    let done = engine::workforce::act_on_worker(store, company, args.id, action, None).await?;
    let w = Worker::from(&done);
    if args.common.json {
        return print_json(&w);
    }
    outln!("{}", worker_line(&w));
    Ok(())
}
