//! What the connected Procore user may do, checked before anything syncs.
//!
//! The seed asks for "all project permissions" and an installed app. Rather than trust that,
//! `connect` tries each thing the integration will do and names every missing permission.
//! Creating folders cannot be tried without creating one, so when forms sync is on the check
//! finds or creates the forms folder in the first visible project: the folder the first
//! uploaded form would need anyway. The compliance integration's needs are checked too
//! ([`check_compliance_access`]); writing insurance records is tried with an empty batch.
//!
//! Each failure says what kind it is ([`Problem`]): a refused secret, an unreachable Procore
//! and a wrong Company ID are fixed in different places than a missing permission.

use super::forms::{choose_forms_folder, FolderEntry};
use futures::StreamExt;
use procore::api::projects::ProjectStatus as ProcoreStatus;
use procore::{Client, Error};

/// One permission check and what it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessCheck {
    pub what: &'static str,
    pub ok: bool,
    pub detail: String,
    /// What kind of failure it is, when it failed: the admin fixes each in a different place.
    pub problem: Option<Problem>,
}

/// Why a check failed, so `connect` can say what to fix instead of "permissions are missing".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Procore refused the client id and secret (or the saved authorization).
    SignIn,
    /// Procore could not be reached at all.
    Unreachable,
    /// The app is not installed in a company with this Company ID.
    Company,
    /// The app's user lacks a tool permission, or cannot see a project.
    Permission,
}

/// The words after "Procore answered ... :" without the generic advice, which names causes
/// the check has already ruled out.
fn what_procore_said(api: &procore::ApiError) -> String {
    api.body
        .summary()
        .unwrap_or_else(|| format!("HTTP {}", api.status))
}

fn explain(e: &Error) -> (Problem, String) {
    match e {
        Error::Api(api) if api.status == 403 => (Problem::Permission, format!("Procore refused (403 on {} {}): {}. Give the integration's user this permission in Procore (Company Admin > App Management > the app's permissions, or Company Directory > the user > permissions)", api.method, api.path, what_procore_said(api))),
        Error::Api(api) if api.status == 404 => (Problem::Permission, format!("Procore says it does not exist or is not visible (404 on {} {}): {}. Add the integration's user to the project, or enable \"add to all new projects\"", api.method, api.path, what_procore_said(api))),
        Error::Unauthorized { .. } | Error::ReconnectNeeded { .. } => (Problem::SignIn, e.to_string()),
        Error::Transport { .. } => (Problem::Unreachable, e.to_string()),
        Error::Api(api) if api.status >= 500 => (Problem::Unreachable, e.to_string()),
        _ => (Problem::Permission, e.to_string()),
    }
}

/// Records checks as they run.
#[derive(Default)]
struct Checks(Vec<AccessCheck>);

impl Checks {
    fn ok(&mut self, what: &'static str, detail: String) {
        self.0.push(AccessCheck {
            what,
            ok: true,
            detail,
            problem: None,
        });
    }

    fn failed(&mut self, what: &'static str, problem: Problem, detail: String) {
        self.0.push(AccessCheck {
            what,
            ok: false,
            detail,
            problem: Some(problem),
        });
    }

    fn error(&mut self, what: &'static str, e: &Error) {
        let (problem, detail) = explain(e);
        self.failed(what, problem, detail);
    }
}

/// Signs in (`/me`). A 403 there means the app is not installed in the company the header
/// names; Procore's token info then tells a wrong Company ID (the app is installed somewhere,
/// so its token has a resource owner) from an app installed nowhere.
async fn sign_in(client: &Client, checks: &mut Checks) -> bool {
    const WHAT: &str = "sign in to Procore with the client id and secret";
    match client.me().await {
        Ok(m) => {
            checks.ok(
                WHAT,
                format!(
                    "signed in as {} (user {})",
                    m.name
                        .clone()
                        .or_else(|| m.login.clone())
                        .unwrap_or_default(),
                    m.id.get()
                ),
            );
            true
        }
        Err(Error::Api(api)) if api.status == 403 => {
            let company = client.config().company_id.get();
            let installed_somewhere = client
                .raw(procore::Method::GET, "oauth/token/info")
                .without_company_header()
                .send()
                .await
                .ok()
                .map(|info| info.get("resource_owner_id").is_some_and(|v| !v.is_null()));
            let detail = match installed_somewhere {
                Some(true) => format!("signed in, but the app is not installed in a Procore company with Company ID {company} ({}). Check the Company ID: it is the number after /app/company/ in a Procore URL of your company; if it is right, install the app in that company (Company Admin > App Management)", what_procore_said(&api)),
                Some(false) => format!("signed in, but the app is not installed in any Procore company ({}). A company admin installs it in company {company} (Company Admin > App Management > Install App), then run connect again", what_procore_said(&api)),
                None => format!("signed in, but Procore refused company {company} ({}). Check the Company ID (the number after /app/company/ in a Procore URL), and that the app is installed in that company (Company Admin > App Management)", what_procore_said(&api)),
            };
            checks.failed(WHAT, Problem::Company, detail);
            false
        }
        Err(e) => {
            checks.error(WHAT, &e);
            false
        }
    }
}

/// The first visible non-template project, whatever its stage or status, and how many
/// there are: an Upcoming or Completed project the user is on has Documents too.
async fn first_project(
    client: &Client,
    checks: &mut Checks,
) -> Option<(procore::ProjectId, String)> {
    let first = client
        .projects()
        .list_v11()
        .status(ProcoreStatus::All)
        .template(false)
        .per_page(1)
        .pages()
        .next()
        .await;
    match first {
        Some(Ok(page)) => {
            checks.ok(
                "read projects",
                format!(
                    "{} project(s) visible",
                    page.total.unwrap_or(page.items.len() as u64)
                ),
            );
            page.items
                .first()
                .map(|p| (p.id, p.name.clone().unwrap_or_default()))
        }
        Some(Err(e)) => {
            checks.error("read projects", &e);
            None
        }
        None => {
            checks.ok("read projects", "no projects visible yet".into());
            None
        }
    }
}

/// Runs every check the workforce integration needs; never stops at the first failure (only
/// a failed sign-in stops, since nothing else can run), so one run names everything to fix.
pub async fn check_access(
    client: &Client,
    sync_forms: bool,
    forms_folder: &str,
) -> Vec<AccessCheck> {
    let mut checks = Checks::default();
    if !sign_in(client, &mut checks).await {
        return checks.0;
    }
    let project = first_project(client, &mut checks).await;
    let users = client.users().list().per_page(1).pages().next().await;
    match users {
        Some(Ok(page)) => checks.ok(
            "read the company directory (users)",
            format!(
                "{} active user(s)",
                page.total.unwrap_or(page.items.len() as u64)
            ),
        ),
        Some(Err(e)) => checks.error("read the company directory (users)", &e),
        None => checks.ok("read the company directory (users)", "no users".into()),
    }
    if !sync_forms {
        return checks.0;
    }
    let Some((project_id, project_name)) = project else {
        checks.failed(
            "read and create folders in project Documents",
            Problem::Permission,
            "no visible project to check Documents on; add the integration's user to a project"
                .into(),
        );
        return checks.0;
    };
    let docs = client.documents(project_id);
    match docs.root().await {
        Err(e) => checks.error("read project Documents", &e),
        Ok(root) => {
            checks.ok(
                "read project Documents",
                format!("read the Documents of \"{project_name}\""),
            );
            let entries: Vec<FolderEntry> = root
                .folders
                .iter()
                .map(|f| FolderEntry {
                    id: f.id.get(),
                    name: f.name.clone().unwrap_or_default(),
                })
                .collect();
            const WHAT: &str = "create folders and files in project Documents";
            match choose_forms_folder(&entries, forms_folder) {
                Some(found) => checks.ok(
                    WHAT,
                    format!("\"{}\" already exists in \"{project_name}\"", found.name),
                ),
                None => match docs.create_folder(Some(root.id), forms_folder).await {
                    Ok(_) => checks.ok(
                        WHAT,
                        format!("created \"{forms_folder}\" in \"{project_name}\""),
                    ),
                    Err(e) => checks.error(WHAT, &e),
                },
            }
        }
    }
    checks.0
}

/// The checks of what the compliance integration needs (`trestle sync compliance`): the
/// Directory's companies (vendors), the Commitments tool (commitments of a visible project),
/// and writing insurance records. Writing cannot be tried without writing, so the check
/// sends Procore's insurance sync an empty batch: Procore checks the permission and changes
/// nothing. Call after [`check_access`] signed in.
pub async fn check_compliance_access(client: &Client) -> Vec<AccessCheck> {
    let mut checks = Checks::default();
    let vendors = client.vendors().list().per_page(1).pages().next().await;
    match vendors {
        Some(Ok(page)) => checks.ok(
            "read the company directory (companies)",
            format!(
                "{} active compan(ies)",
                page.total.unwrap_or(page.items.len() as u64)
            ),
        ),
        Some(Err(e)) => checks.error("read the company directory (companies)", &e),
        None => checks.ok(
            "read the company directory (companies)",
            "no companies".into(),
        ),
    }
    const COMMITMENTS: &str = "read commitments (Commitments tool)";
    let mut probe = Checks::default();
    match first_project(client, &mut probe).await {
        Some((project, name)) => {
            match client
                .commitments(project)
                .contracts()
                .per_page(1)
                .pages()
                .next()
                .await
            {
                Some(Err(e)) => checks.error(COMMITMENTS, &e),
                Some(Ok(page)) => checks.ok(
                    COMMITMENTS,
                    format!(
                        "{} commitment(s) in \"{name}\"",
                        page.total.unwrap_or(page.items.len() as u64)
                    ),
                ),
                None => checks.ok(COMMITMENTS, format!("no commitments in \"{name}\"")),
            }
        }
        None => match probe.0.into_iter().find(|c| !c.ok) {
            Some(failed) => checks.0.push(AccessCheck {
                what: COMMITMENTS,
                ..failed
            }),
            None => checks.failed(
                COMMITMENTS,
                Problem::Permission,
                "no visible project to read commitments of; add the integration's user to the projects whose commitments need compliance".into(),
            ),
        },
    }
    const INSURANCE: &str = "write insurance records";
    let company = client.config().company_id.get();
    match client
        .raw(
            procore::Method::PATCH,
            &format!("rest/v1.0/companies/{company}/insurances/sync"),
        )
        .json(serde_json::json!({ "updates": [] }))
        .idempotent()
        .send()
        .await
    {
        Ok(_) => checks.ok(
            INSURANCE,
            "Procore accepted an empty insurance batch (nothing was written)".into(),
        ),
        Err(e) => checks.error(INSURANCE, &e),
    }
    checks.0
}
