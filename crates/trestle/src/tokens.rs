//! `trestle token create|list|revoke`: the REST API's tokens. Making the first admin token on
//! the machine that runs trestle is how a fresh deployment gets its first administrator: whoever
//! can open the store may.

use crate::output::{self, shown};
use anyhow::{bail, Result};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand, ValueEnum};
use engine::open::open_store;
use engine::settings::Settings;
use engine::tokens::{self, TokenError, TokenRequest};
use secrecy::ExposeSecret;
use store::{ApiScope, ApiToken};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a token and print it once; trestle keeps only its hash.
    Create(CreateArgs),
    /// Every token: its id, name, scope, the start of the token, and when it was last used.
    List {
        /// Print JSON, in the REST API's shape (`GET /api/v1/tokens`).
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token: it answers no request from now on.
    Revoke {
        /// The token's id, from `trestle token list`.
        id: i64,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScopeArg {
    /// Everything, in every company.
    Admin,
    /// Every read, no change.
    ReadOnly,
    /// Fill and sign forms as one worker (needs --company-id and --worker).
    Worker,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Who or what uses it ("CI", "Maria's phone").
    #[arg(long)]
    name: String,
    #[arg(long, value_enum)]
    scope: ScopeArg,
    /// The worker's company (worker tokens).
    #[arg(long)]
    company_id: Option<i64>,
    /// The worker's id in trestle (worker tokens).
    #[arg(long)]
    worker: Option<i64>,
    /// Print JSON, in the REST API's shape (`POST /api/v1/tokens`'s answer): the token, and
    /// its `secret` this once.
    #[arg(long)]
    json: bool,
}

fn scope(args: &CreateArgs) -> Result<ApiScope> {
    match (args.scope, args.company_id, args.worker) {
        (ScopeArg::Admin, None, None) => Ok(ApiScope::Admin),
        (ScopeArg::ReadOnly, None, None) => Ok(ApiScope::ReadOnly),
        (ScopeArg::Worker, Some(company_id), Some(worker_id)) => Ok(ApiScope::Worker {
            company_id,
            worker_id,
        }),
        (ScopeArg::Worker, _, _) => {
            bail!("a worker token needs the worker: --company-id N --worker ID")
        }
        (_, _, _) => bail!("--company-id and --worker are for worker tokens only"),
    }
}

pub async fn command(settings: &Settings, command: TokenCommand) -> Result<()> {
    let store = open_store(settings).await?;
    let now = Utc::now();
    match command {
        TokenCommand::Create(args) => {
            let request = TokenRequest {
                name: &args.name,
                scope: scope(&args)?,
            };
            let created = tokens::create(&store, &request, now).await?;
            if args.json {
                return output::print_json(&api::tokens::CreatedToken::from(created));
            }
            outln!(
                "Made token {} \"{}\" ({}). Copy it now: trestle keeps only its hash and cannot show it again.\n",
                created.token.id,
                shown(&created.token.name),
                scope_label(&created.token.scope)
            );
            outln!("{}", created.secret.expose_secret());
        }
        TokenCommand::List { json } => {
            let all = tokens::list(&store).await?;
            if json {
                let shown: Vec<api::tokens::Token> =
                    all.into_iter().map(api::tokens::Token::from).collect();
                return output::print_json(&shown);
            }
            if all.is_empty() {
                outln!("No API tokens. `trestle token create --name NAME --scope admin` makes the first.");
                return Ok(());
            }
            let mut rows = vec![[
                "ID",
                "NAME",
                "SCOPE",
                "TOKEN",
                "CREATED",
                "LAST USED",
                "REVOKED",
            ]
            .map(String::from)
            .to_vec()];
            rows.extend(all.iter().map(row));
            out!("{}", output::table(&rows));
        }
        TokenCommand::Revoke { id } => match tokens::revoke(&store, id, now).await {
            Ok(token) => outln!(
                "Revoked token {} \"{}\"; it answers no request from now on.",
                token.id,
                shown(&token.name)
            ),
            Err(TokenError::Store(store::StoreError::NotFound { .. })) => {
                bail!("there is no token {id}; `trestle token list` shows their ids")
            }
            Err(e) => return Err(e.into()),
        },
    }
    Ok(())
}

fn scope_label(scope: &ApiScope) -> String {
    match scope {
        ApiScope::Worker {
            company_id,
            worker_id,
        } => format!("worker {worker_id} of company {company_id}"),
        other => other.name().to_string(),
    }
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "-".into())
}

fn row(t: &ApiToken) -> Vec<String> {
    vec![
        t.id.to_string(),
        t.name.clone(),
        scope_label(&t.scope),
        format!("{}…", t.prefix),
        when(Some(t.created_at)),
        when(t.last_used_at),
        when(t.revoked_at),
    ]
}
