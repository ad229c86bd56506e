//! What the connected Procore user may do, checked before anything syncs.
//!
//! The seed asks for "all project permissions" and an installed app. Rather than trust that,
//! `connect` tries each thing the integration will do and names every missing permission.
//! Creating folders cannot be tried without creating one, so when forms sync is on the check
//! finds or creates the forms folder in the first visible project: the folder the first
//! uploaded form would need anyway.

use super::forms::{choose_forms_folder, FolderEntry};
use futures::StreamExt;
use procore::{Client, Error, ProjectId};

/// One permission check and what it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessCheck {
    pub what: &'static str,
    pub ok: bool,
    pub detail: String,
}

fn explain(e: &Error) -> String {
    match e {
        Error::Api(api) if api.status == 403 => format!("Procore refused (403): {e}. Give the integration's user this permission in Procore (Company Directory > the user > permissions), or check the app is installed for this company"),
        Error::Api(api) if api.status == 404 => format!("Procore says it does not exist or is not visible (404): {e}. Add the integration's user to the project, or enable \"add to all new projects\""),
        _ => e.to_string(),
    }
}

/// Runs every check; never stops at the first failure, so one run names everything to fix.
pub async fn check_access(
    client: &Client,
    sync_forms: bool,
    forms_folder: &str,
) -> Vec<AccessCheck> {
    let mut checks = Vec::new();
    let mut push = |what, result: Result<String, String>| {
        let ok = result.is_ok();
        checks.push(AccessCheck {
            what,
            ok,
            detail: result.unwrap_or_else(|e| e),
        });
        ok
    };
    let me = client.me().await;
    let signed_in = push(
        "sign in to Procore with the client id and secret",
        me.as_ref()
            .map(|m| {
                format!(
                    "signed in as {} (user {})",
                    m.name
                        .clone()
                        .or_else(|| m.login.clone())
                        .unwrap_or_default(),
                    m.id.get()
                )
            })
            .map_err(explain),
    );
    if !signed_in {
        return checks;
    }
    let first_project = client
        .projects()
        .list_v11()
        .template(false)
        .per_page(1)
        .pages()
        .next()
        .await;
    let project = match first_project {
        Some(Ok(page)) => {
            let first = page
                .items
                .first()
                .map(|p| (p.id, p.name.clone().unwrap_or_default()));
            push(
                "read projects",
                Ok(format!(
                    "{} project(s) visible",
                    page.total.unwrap_or(page.items.len() as u64)
                )),
            );
            first
        }
        Some(Err(e)) => {
            push("read projects", Err(explain(&e)));
            None
        }
        None => {
            push("read projects", Ok("no projects visible yet".into()));
            None
        }
    };
    let users = client.users().list().per_page(1).pages().next().await;
    push(
        "read the company directory (users)",
        match users {
            Some(Ok(page)) => Ok(format!(
                "{} active user(s)",
                page.total.unwrap_or(page.items.len() as u64)
            )),
            Some(Err(e)) => Err(explain(&e)),
            None => Ok("no users".into()),
        },
    );
    if !sync_forms {
        return checks;
    }
    let Some((project_id, project_name)) = project else {
        push(
            "read and create folders in project Documents",
            Err(
                "no visible project to check Documents on; add the integration's user to a project"
                    .into(),
            ),
        );
        return checks;
    };
    let docs = client.documents(ProjectId(project_id.get()));
    match docs.root().await {
        Err(e) => {
            push("read project Documents", Err(explain(&e)));
        }
        Ok(root) => {
            push(
                "read project Documents",
                Ok(format!("read the Documents of \"{project_name}\"")),
            );
            let entries: Vec<FolderEntry> = root
                .folders
                .iter()
                .map(|f| FolderEntry {
                    id: f.id.get(),
                    name: f.name.clone().unwrap_or_default(),
                })
                .collect();
            let created = match choose_forms_folder(&entries, forms_folder) {
                Some(found) => Ok(format!(
                    "\"{}\" already exists in \"{project_name}\"",
                    found.name
                )),
                None => docs
                    .create_folder(Some(root.id), forms_folder)
                    .await
                    .map(|_| format!("created \"{forms_folder}\" in \"{project_name}\""))
                    .map_err(|e| explain(&e)),
            };
            push("create folders and files in project Documents", created);
        }
    }
    checks
}
