//! `trestle`: the command line of the Procore integration engine: argument parsing, the words
//! printed for people, and exit codes. The use cases themselves (settings, opening the store,
//! connecting, running syncs) are in the `engine` crate, which the server shares; this crate
//! renders their typed results and adds advice in the CLI's words ("run `trestle connect` first").
//!
//! # Layout
//! - `commands`: `connect`, `sync` (once or `--every`), `explain`; the advice the CLI adds to
//!   a refused connection.
//! - `explain`: the engine's explanation of a record in words, with the CLI's advice.
//! - `compliance`: `compliance import|map|settings`, and the compliance sync's report.
//! - `overview`: `compliance parties|projects|mappings`: what trestle holds and what waits.
//! - `records`: `compliance profile|certificate|waiver`: entering and changing records.
//! - `ops`: `status`, `jobs`, `hooks repair`, `disconnect`: the operator's view of the service.
//! - `tokens`: `token create|list|revoke`: the REST API's tokens.
//! - `demo`: the whole job against the bundled simulator's demo company.
//! - `output`: tables and the words printed for people.

/// `print!` for trestle's output: a closed stdout (`trestle compliance parties | head`) ends the
/// process quietly where std's `print!` would panic.
macro_rules! out {
    ($($arg:tt)*) => { $crate::write_stdout(format_args!($($arg)*)) };
}

/// `println!` for trestle's output; see [`out!`].
macro_rules! outln {
    () => { out!("\n") };
    ($($arg:tt)*) => { $crate::write_stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

mod commands;
mod compliance;
mod demo;
mod explain;
mod ops;
mod output;
mod overview;
mod records;
mod serve;
mod tokens;
mod workforce;

use anyhow::Result;
use clap::{CommandFactory, Parser, Subcommand};
use std::path::PathBuf;

/// The version and the commit the binary was built from (see build.rs), so a report of a
/// problem names the code that ran.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("BUILD_GIT_COMMIT"),
    ")"
);

/// trestle keeps a Procore company in sync with its workforce and compliance apps.
#[derive(Debug, Parser)]
#[command(name = "trestle", version = VERSION)]
struct Cli {
    /// Settings file (default: ./trestle.toml when present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole job against the bundled simulator's demo company, and show what happened.
    Demo(demo::DemoArgs),
    /// Run the Procore simulator (the same as the `procore-sim` binary).
    Sim(procore_sim::cli::SimArgs),
    /// Connect a Procore company: check the credentials and permissions, save the connection,
    /// and run the initial sync.
    Connect(commands::ConnectArgs),
    /// Run an integration once.
    Sync {
        #[command(subcommand)]
        integration: commands::SyncCommand,
    },
    /// The compliance integration: profiles, certificates, waivers, import, mapping, settings.
    Compliance {
        #[command(subcommand)]
        command: compliance::ComplianceCommand,
    },
    /// The workforce app: workers (activate, block, unblock) and the Procore records waiting
    /// for a decision (link, import, ignore).
    Workforce {
        #[command(subcommand)]
        command: workforce::WorkforceCommand,
    },
    /// Say what happened to a record and which rule decided it.
    Explain(commands::ExplainArgs),
    /// Run the always-on engine: receive Procore's webhooks, run the work they and the
    /// schedule call for, for every connected company, until SIGTERM.
    Serve(serve::ServeArgs),
    /// Each connected company's health, webhook, job queue and last syncs, from the store
    /// (Procore is not asked). The exit status says the worst, for monitoring scripts.
    #[command(after_help = ops::STATUS_HELP)]
    Status(ops::StatusArgs),
    /// The jobs `trestle serve` runs (`trestle jobs retry ID` runs a dead one again).
    Jobs(ops::JobsArgs),
    /// The Procore webhooks through which companies tell trestle what changed.
    Hooks {
        #[command(subcommand)]
        command: ops::HooksCommand,
    },
    /// Disconnect a Procore company: remove trestle's webhook from it, and forget its
    /// connection and credentials. Its records stay.
    Disconnect(ops::DisconnectArgs),
    /// The REST API's tokens: make one (shown once), list them, revoke one. The first admin
    /// token is made here, on the machine that runs trestle.
    Token {
        #[command(subcommand)]
        command: tokens::TokenCommand,
    },
    /// Print settings.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Print a shell completion script, e.g. `trestle completions bash >
    /// /etc/bash_completion.d/trestle`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `trestle manpage > /usr/local/share/man/man1/trestle.1`.
    Manpage,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print a commented example `trestle.toml`.
    Example,
    /// Print the settings in force (secrets redacted).
    Show,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    init_log(&cli);
    if let Err(e) = run(cli).await {
        // A status that is not healthy is its answer, not an error.
        if let Some(unhealthy) = e.downcast_ref::<ops::Unhealthy>() {
            eprintln!("{unhealthy}");
            std::process::exit(unhealthy.exit_code());
        }
        // The chain can quote Procore's answers: escape what a terminal would act on.
        eprintln!("error: {}", output::shown_lines(&with_advice(&e)));
        let code = match e.downcast_ref::<commands::WritesFailed>() {
            Some(_) => commands::WritesFailed::EXIT_CODE,
            None => 1,
        };
        std::process::exit(code);
    }
}

async fn run(cli: Cli) -> Result<()> {
    let load = || engine::Settings::load(cli.config.as_deref());
    match cli.command {
        Command::Demo(args) => demo::run(args).await,
        Command::Sim(args) => procore_sim::cli::run(args).await,
        Command::Connect(args) => commands::connect(&load()?, args).await,
        Command::Sync { integration } => commands::sync(&load()?, integration).await,
        Command::Compliance { command } => compliance::command(&load()?, command).await,
        Command::Explain(args) => commands::explain(&load()?, args).await,
        Command::Serve(args) => serve::serve(&load()?, args).await,
        Command::Status(args) => ops::status(&load()?, args).await,
        Command::Jobs(args) => ops::jobs(&load()?, args).await,
        Command::Hooks { command } => ops::hooks(&load()?, command).await,
        Command::Disconnect(args) => ops::disconnect(&load()?, args).await,
        Command::Token { command } => tokens::command(&load()?, command).await,
        Command::Workforce { command } => workforce::command(&load()?, command).await,
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "trestle", &mut script);
            out!("{}", String::from_utf8_lossy(&script));
            Ok(())
        }
        Command::Manpage => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut page)?;
            out!("{}", String::from_utf8_lossy(&page));
            Ok(())
        }
        Command::Config { command } => {
            match command {
                ConfigCommand::Example => out!("{}", engine::settings::EXAMPLE),
                ConfigCommand::Show => {
                    outln!("{}", serde_json::to_string_pretty(&load()?)?);
                }
            }
            Ok(())
        }
    }
}

/// Log lines go to stderr. A command run by hand logs warnings only (its output says what
/// happened); `serve` logs what it does (`info`), as text or, for log collectors, JSON.
/// `RUST_LOG` overrides the level either way.
fn init_log(cli: &Cli) {
    let (level, json) = match &cli.command {
        Command::Serve(args) => {
            let settings = engine::Settings::load(cli.config.as_deref()).ok();
            ("info", serve::json_log(settings.as_ref(), args))
        }
        _ => ("warn", false),
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if json {
        log.json().init();
    } else {
        log.init();
    }
}

/// The error's chain, and what to do about it in this face's words where the engine's error
/// names only the setting or record to change.
fn with_advice(e: &anyhow::Error) -> String {
    let text = format!("{e:#}");
    let advice = e.chain().find_map(|cause| {
        if let Some(engine::SettingsError::FileMissing { path }) = cause.downcast_ref() {
            let path = path.display();
            return Some(format!(
                "create it (`trestle config example > {path}`) or drop --config"
            ));
        }
        match cause.downcast_ref()? {
            engine::OpenError::NotConnected(id) => {
                Some(format!("run `trestle connect --company-id {id}` first"))
            }
            engine::OpenError::NoneConnected => Some("run `trestle connect` first".into()),
            engine::OpenError::SeveralConnected(_) => Some("name one with --company-id".into()),
            _ => None,
        }
    });
    match advice {
        Some(advice) => format!("{text}; {advice}"),
        None => text,
    }
}

/// Writes to stdout. A reader that went away (`| head`) ends the process with status 141, what a
/// shell reports for a process killed by SIGPIPE, so `set -o pipefail` pipelines see what they see
/// with other tools; any other write error ends it with a message instead of a panic.
fn write_stdout(args: std::fmt::Arguments) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        eprintln!("error: cannot write to standard output: {e}");
        std::process::exit(1);
    }
}
