//! What trestle prints for people: tables, summaries, and explanations in a site
//! administrator's words.

use crate::commands::ExplainKind;
use anyhow::Result;
use std::fmt::Write;
use store::{Connection, LinkKind, Store};
use sync::workforce::access::{AccessCheck, Problem};
use sync::workforce::{Action, Report};

/// A plain text table: the first row is the header.
pub fn table(rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..rows.first().map_or(0, Vec::len))
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (n, row) in rows.iter().enumerate() {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "  {}", line.join("  ").trim_end());
        if n == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            let _ = writeln!(out, "  {}", rule.join("  "));
        }
    }
    out
}

/// A progress bar on standard error for long syncs: it appears only when a collection spans
/// more than one page, and draws nothing when standard error is not a terminal.
pub fn progress_bar() -> sync::workforce::collect::Progress {
    let bar = indicatif::ProgressBar::hidden();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:>16} [{bar:30}] {pos}/{len}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    let shown = std::sync::atomic::AtomicBool::new(false);
    std::sync::Arc::new(move |collection: &str, seen: u64, total: Option<u64>| {
        let total = total.unwrap_or(seen);
        if seen < total && !shown.swap(true, std::sync::atomic::Ordering::Relaxed) {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
        bar.set_message(collection.to_string());
        bar.set_length(total);
        bar.set_position(seen);
        if seen >= total {
            bar.set_position(total);
        }
    })
}

pub fn print_checks(checks: &[AccessCheck]) {
    for c in checks {
        println!(
            "  [{}] {}: {}",
            match (c.ok, c.problem) {
                (true, _) => "ok",
                (false, Some(Problem::Permission) | None) => "MISSING",
                (false, Some(_)) => "FAILED",
            },
            c.what,
            c.detail
        );
    }
}

pub fn toggles(c: &Connection) -> String {
    let on = |b| if b { "on" } else { "off" };
    format!(
        "Sync Employees Only {}, Automatically Activate Workers {}, Sync Forms to Procore {} (folder \"{}\")",
        on(c.sync_employees_only),
        on(c.auto_activate_workers),
        on(c.sync_forms),
        c.forms_folder
    )
}

fn describe(a: &Action) -> (String, String) {
    let (kind, id) = a.subject();
    let subject = format!(
        "{} {}",
        kind.as_str(),
        id.map(|i| i.to_string()).unwrap_or_else(|| "?".into())
    );
    let what = match a {
        Action::CreateProject { fields, status, .. } => {
            format!("create project \"{}\" ({})", fields.name, status.as_str())
        }
        Action::UpdateProject { fields, status, .. } => {
            format!("update project \"{}\" ({})", fields.name, status.as_str())
        }
        Action::CreateWorker { fields, .. } => {
            format!("create worker {} {}", fields.first_name, fields.last_name)
        }
        Action::UpdateWorker { fields, .. } => {
            format!("update worker {} {}", fields.first_name, fields.last_name)
        }
        Action::UploadForm { revision, .. } => format!("upload form PDF (revision {revision})"),
        Action::Skip { .. } => "skip".into(),
    };
    (subject, what)
}

/// The decisions of a run and its summary table. Changes are listed one per line; records
/// left alone are grouped by the rule that decided them, since the same few rules skip the
/// same records on every run.
pub fn print_report(report: &Report) {
    let s = &report.summary;
    let changes: Vec<&Action> = report.plan.changes().collect();
    if !changes.is_empty() {
        let mut rows = vec![vec![
            "record".to_string(),
            "decision".to_string(),
            "why".to_string(),
        ]];
        for a in changes {
            let (subject, what) = describe(a);
            rows.push(vec![subject, what, a.reason().to_string()]);
        }
        print!("{}", table(&rows));
    }
    let mut skipped: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for a in report.plan.actions.iter().filter(|a| !a.is_change()) {
        let (kind, id) = a.subject();
        let id = id.map(|i| i.to_string()).unwrap_or_else(|| "?".into());
        skipped
            .entry(a.reason().to_string())
            .or_default()
            .push(format!("{} {id}", kind.as_str()));
    }
    if !skipped.is_empty() {
        println!("  Left alone (`trestle explain` gives the reason for one record):");
        for (reason, records) in &skipped {
            println!("    {} x {reason}", records.len());
            println!("        {}", records.join(", "));
        }
    }
    for u in &report.uploads {
        println!(
            "  uploaded {} (revision {}, Procore file {})",
            u.path, u.revision, u.file_id
        );
    }
    for f in &report.failures {
        println!("  upload failed, will retry: {f}");
    }
    let rows = vec![
        vec!["".into(), if s.dry_run { "would" } else { "done" }.into()],
        vec!["projects created".into(), s.projects_created.to_string()],
        vec!["projects updated".into(), s.projects_updated.to_string()],
        vec!["workers created".into(), s.workers_created.to_string()],
        vec!["workers updated".into(), s.workers_updated.to_string()],
        vec!["records left alone".into(), s.skipped.to_string()],
        vec!["forms queued".into(), s.forms_queued.to_string()],
        vec!["forms uploaded".into(), s.forms_uploaded.to_string()],
        vec!["Procore records read".into(), s.records_read.to_string()],
        vec!["Procore requests".into(), s.requests.to_string()],
    ];
    println!(
        "\n{} (run {}):",
        if s.dry_run {
            "Dry run, nothing changed"
        } else {
            "Sync finished"
        },
        report.run.0
    );
    print!("{}", table(&rows));
}

/// What happened to a record and which rule decided it, from trestle's own records.
pub async fn explain(store: &Store, company: i64, kind: ExplainKind, id: i64) -> Result<String> {
    let (log_kind, label) = match kind {
        ExplainKind::ProcoreProject => ("procore-project", format!("Procore project {id}")),
        ExplainKind::ProcoreUser => ("procore-user", format!("Procore user {id}")),
        ExplainKind::Form => ("form", format!("Form {id}")),
        ExplainKind::ProcoreCompany => ("procore-company", format!("Procore company {id}")),
        ExplainKind::ProcoreContact => ("procore-contact", format!("Procore contact {id}")),
        ExplainKind::ProcoreCommitment => {
            ("procore-commitment", format!("Procore commitment {id}"))
        }
    };
    let mut out = format!("{label}\n");
    match kind {
        ExplainKind::ProcoreProject => match store.link(company, LinkKind::Project, id).await? {
            Some(link) => {
                if let Some(p) = store.project(link.local_id).await? {
                    let _ = writeln!(
                        out,
                        "  Now: linked to app project {} \"{}\", status {}.",
                        p.id,
                        p.fields.name,
                        p.status.as_str()
                    );
                }
            }
            None => {
                let _ = writeln!(out, "  Now: not in the app.");
            }
        },
        ExplainKind::ProcoreUser => match store.link(company, LinkKind::Worker, id).await? {
            Some(link) => {
                if let Some(w) = store.worker(link.local_id).await? {
                    let _ = writeln!(
                        out,
                        "  Now: linked to worker {} ({} {}), status {}.",
                        w.id,
                        w.fields.first_name,
                        w.fields.last_name,
                        w.status().as_str()
                    );
                }
            }
            None => {
                let _ = writeln!(out, "  Now: no worker in the app.");
            }
        },
        ExplainKind::ProcoreCompany => {
            match store
                .parties(company)
                .await?
                .into_iter()
                .find(|p| p.procore_vendor_id == Some(id))
            {
                Some(p) => {
                    let _ = writeln!(
                        out,
                        "  Now: linked to trestle party {} \"{}\".",
                        p.id, p.name
                    );
                }
                None => {
                    let _ = writeln!(out, "  Now: no trestle party.");
                }
            }
        }
        ExplainKind::ProcoreContact => {
            match store
                .contacts(company)
                .await?
                .into_iter()
                .find(|c| c.procore_contact_id == Some(id))
            {
                Some(c) => {
                    let _ = writeln!(
                        out,
                        "  Now: trestle contact {} of party {}.",
                        c.id, c.party_id
                    );
                }
                None => {
                    let _ = writeln!(out, "  Now: no trestle contact.");
                }
            }
        }
        ExplainKind::ProcoreCommitment => {
            let holding: Vec<String> = store
                .party_projects(company)
                .await?
                .into_iter()
                .filter(|a| a.procore_commitment_ids.contains(&id))
                .map(|a| format!("party {} on project {}", a.party_id, a.project_id))
                .collect();
            let _ = writeln!(
                out,
                "  Now: {}.",
                if holding.is_empty() {
                    "no association carries it".to_string()
                } else {
                    format!("associates {}", holding.join(", "))
                }
            );
        }
        ExplainKind::Form => match store.submission(company, id).await? {
            None => {
                let _ = writeln!(out, "  There is no form {id} in trestle.");
                return Ok(out);
            }
            Some(s) => {
                let uploaded = store.uploaded_revision(company, id).await?;
                let state = match s.state {
                    domain::workforce::SubmissionState::Draft => {
                        "a draft (only completed forms go to Procore)".to_string()
                    }
                    domain::workforce::SubmissionState::Completed => {
                        format!("completed, revision {}", s.revision)
                    }
                };
                let _ = writeln!(
                    out,
                    "  Now: {state}; Procore holds {}.",
                    match uploaded {
                        Some(r) => format!("revision {r}"),
                        None => "no revision yet".into(),
                    }
                );
            }
        },
    }
    if kind == ExplainKind::ProcoreCompany {
        insurance_section(store, company, id, &mut out).await?;
    }
    // Dry runs change nothing, so they do not explain what happened.
    let history: Vec<_> = store
        .history(company, log_kind, id)
        .await?
        .into_iter()
        .filter(|h| !h.dry_run)
        .collect();
    match history.first() {
        None => {
            let hint = match kind {
                ExplainKind::ProcoreProject => "trestle has never seen it in a sync. Procore only lists projects the integration's user may see: add that user to the project (or turn on \"add to all new projects\"), make sure the app is permitted on it, and note that project templates are never synced.",
                ExplainKind::ProcoreUser => "trestle has never seen this user in a sync: check the user is in this company's Directory and that the integration's user may read the Directory.",
                ExplainKind::Form => "no sync has decided anything about this form yet; run `trestle sync workforce`.",
                ExplainKind::ProcoreCompany | ExplainKind::ProcoreContact | ExplainKind::ProcoreCommitment => "no compliance sync has decided anything about it yet; run `trestle sync compliance`.",
            };
            let _ = writeln!(out, "  {hint}");
        }
        Some(_) => {
            // The same rule often decides the same record run after run: say it once, with the
            // runs it covers.
            let mut groups: Vec<(&str, i64, i64, chrono::DateTime<chrono::Utc>)> = Vec::new();
            for h in &history {
                match groups.last_mut() {
                    Some(g) if g.0 == h.entry.reason => g.1 = h.run.0,
                    _ => groups.push((&h.entry.reason, h.run.0, h.run.0, h.recorded_at)),
                }
            }
            for (n, (reason, first_run, last_run, at)) in groups.iter().take(6).enumerate() {
                let runs = if first_run == last_run {
                    format!("run {last_run}")
                } else {
                    format!("runs {first_run} to {last_run}")
                };
                let when = if n == 0 { "Latest" } else { "Before" };
                let _ = writeln!(
                    out,
                    "  {when} ({runs}, {}): {reason}",
                    at.format("%Y-%m-%d %H:%M UTC")
                );
            }
        }
    }
    Ok(out)
}

/// The origin id an insurance run-log entry is about: its detail is the planned action, the
/// record written, or (for a removal) the origin id itself.
fn origin_in(detail: &str) -> Option<String> {
    fn find(v: &serde_json::Value) -> Option<String> {
        match v {
            serde_json::Value::String(s) if s.starts_with("trestle:") => Some(s.clone()),
            serde_json::Value::Object(map) => match map.get("origin_id") {
                Some(serde_json::Value::String(s)) => Some(s.clone()),
                _ => map.values().find_map(find),
            },
            _ => None,
        }
    }
    find(&serde_json::from_str(detail).ok()?)
}

/// The seed's "compliance not in Procore" question: for each insurance record of the company,
/// the last thing a sync decided or did, and why.
async fn insurance_section(
    store: &Store,
    company: i64,
    procore_company: i64,
    out: &mut String,
) -> Result<()> {
    let mut latest: std::collections::BTreeMap<String, (i64, String, String)> =
        std::collections::BTreeMap::new();
    for h in store.history(company, "insurance", procore_company).await? {
        if h.dry_run {
            continue;
        }
        let Some(origin) = h.entry.detail_json.as_deref().and_then(origin_in) else {
            continue;
        };
        // Newest first: the first entry seen per record is its latest.
        latest
            .entry(origin)
            .or_insert((h.run.0, h.entry.outcome.clone(), h.entry.reason.clone()));
    }
    if latest.is_empty() {
        return Ok(());
    }
    let _ = writeln!(out, "  Insurance records (the latest word on each):");
    for (origin, (run, outcome, reason)) in latest {
        let _ = writeln!(out, "    {origin} (run {run}, {outcome}): {reason}");
    }
    Ok(())
}
