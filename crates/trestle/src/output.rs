//! What trestle prints for people: tables, summaries, and explanations in a site
//! administrator's words.

use crate::commands::ExplainKind;
use anyhow::Result;
use std::fmt::Write;
use store::{Connection, LinkKind, Store, SubjectKind};
use sync::workforce::access::{AccessCheck, Problem};
use sync::workforce::{Action, Report};

/// The widest a table cell is shown; longer text is cut with "…" (`explain` and `--json`
/// views give the whole value).
const CELL_CHARS: usize = 80;

/// Text from Procore or a person, made safe for a terminal: control characters (escape
/// sequences, line breaks, NUL) and the bidirectional overrides that reorder what a reader
/// sees are shown escaped (`\u{1b}`, `\n`) instead of acting on the terminal.
pub fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    fn unsafe_char(c: char) -> bool {
        c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }
    if !text.chars().any(unsafe_char) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.into()
}

/// [`shown`] for text of several lines: its line breaks are kept, everything else is escaped.
pub fn shown_lines(text: &str) -> String {
    text.split('\n').map(shown).collect::<Vec<_>>().join("\n")
}

/// A table cell: [`shown`], and cut to [`CELL_CHARS`].
fn cell(text: &str) -> String {
    let safe = shown(text);
    if safe.chars().count() <= CELL_CHARS {
        return safe.into_owned();
    }
    let mut cut: String = safe.chars().take(CELL_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// A plain text table: the first row is the header. Cells are made terminal-safe and cut to a
/// readable width, so a hostile or huge name can neither break the layout nor the terminal.
pub fn table(rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| cell(c)).collect())
        .collect();
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
            .map(|(c, w)| {
                // Padded by hand: `format!("{c:<w$}")` refuses widths past u16.
                let pad = w.saturating_sub(c.chars().count());
                format!("{c}{}", " ".repeat(pad))
            })
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
pub fn progress_bar() -> sync::hooks::Progress {
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
        outln!(
            "  [{}] {}: {}",
            match (c.ok, c.problem) {
                (true, _) => "ok",
                (false, Some(Problem::Permission) | None) => "MISSING",
                (false, Some(_)) => "FAILED",
            },
            c.what,
            shown(&c.detail)
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
        kind.subject(),
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
        out!("{}", table(&rows));
    }
    let mut skipped: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for a in report.plan.actions.iter().filter(|a| !a.is_change()) {
        let (kind, id) = a.subject();
        let id = id.map(|i| i.to_string()).unwrap_or_else(|| "?".into());
        skipped
            .entry(a.reason().to_string())
            .or_default()
            .push(format!("{} {id}", kind.subject()));
    }
    if !skipped.is_empty() {
        outln!("  Left alone (`trestle explain` gives the reason for one record):");
        for (reason, records) in &skipped {
            outln!("    {} x {}", records.len(), shown(reason));
            outln!("        {}", records.join(", "));
        }
    }
    for u in &report.uploads {
        outln!(
            "  uploaded {} (revision {}, Procore file {})",
            shown(&u.path),
            u.revision,
            u.file_id
        );
    }
    for f in &report.failures {
        outln!("  upload failed, will retry: {}", shown(f));
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
    outln!(
        "\n{} (run {}):",
        if s.dry_run {
            "Dry run, nothing changed"
        } else {
            "Sync finished"
        },
        report.run.0
    );
    out!("{}", table(&rows));
}

/// What happened to a record and which rule decided it, from trestle's own records.
pub async fn explain(store: &Store, company: i64, kind: ExplainKind, id: i64) -> Result<String> {
    let (log_kind, label) = match kind {
        ExplainKind::ProcoreProject => {
            (SubjectKind::ProcoreProject, format!("Procore project {id}"))
        }
        ExplainKind::ProcoreUser => (SubjectKind::ProcoreUser, format!("Procore user {id}")),
        ExplainKind::Form => (SubjectKind::Form, format!("Form {id}")),
        ExplainKind::ProcoreCompany => {
            (SubjectKind::ProcoreCompany, format!("Procore company {id}"))
        }
        ExplainKind::ProcoreContact => {
            (SubjectKind::ProcoreContact, format!("Procore contact {id}"))
        }
        ExplainKind::ProcoreCommitment => (
            SubjectKind::ProcoreCommitment,
            format!("Procore commitment {id}"),
        ),
    };
    let mut out = format!("{label}\n");
    // Whether the "Now" line already answers why nothing happened (so no generic hint).
    let mut answered = false;
    match kind {
        ExplainKind::ProcoreProject => match store.link(company, LinkKind::Project, id).await? {
            Some(link) => {
                if let Some(p) = store.project(company, link.local_id).await? {
                    let _ = writeln!(
                        out,
                        "  Now: linked to app project {} \"{}\", status {}.",
                        p.id,
                        shown(&p.fields.name),
                        p.status.as_str()
                    );
                }
            }
            None => {
                let _ = writeln!(out, "  Now: not in the workforce app.");
            }
        },
        ExplainKind::ProcoreUser => match store.link(company, LinkKind::Worker, id).await? {
            Some(link) => {
                if let Some(w) = store.worker(company, link.local_id).await? {
                    let _ = writeln!(
                        out,
                        "  Now: linked to worker {} ({} {}), status {}.",
                        w.id,
                        shown(&w.fields.first_name),
                        shown(&w.fields.last_name),
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
                        p.id,
                        shown(&p.name)
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "  Now: {}.",
                        crate::overview::company_not_in_compliance(store, company, id).await?
                    );
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
            if holding.is_empty() {
                match crate::overview::commitment_not_associated(store, company, id).await? {
                    Some(why) => {
                        let _ = writeln!(out, "  Now: {why}");
                        answered = true;
                    }
                    None => {
                        let _ = writeln!(out, "  Now: no association carries it.");
                    }
                }
            } else {
                let _ = writeln!(out, "  Now: associates {}.", holding.join(", "));
            }
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
    if kind == ExplainKind::ProcoreProject {
        let _ = writeln!(
            out,
            "  Now: {}.",
            crate::overview::project_in_compliance(store, company, id).await?
        );
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
        // The "Now" line already said why, and what to do.
        None if answered => {}
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
                    _ => groups.push((&h.entry.reason, h.run.0, h.last_run.0, h.recorded_at)),
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
    for h in store
        .history(company, SubjectKind::Insurance, procore_company)
        .await?
    {
        if h.dry_run {
            continue;
        }
        let Some(origin) = h.entry.detail_json.as_deref().and_then(origin_in) else {
            continue;
        };
        // Newest first: the first entry seen per record is its latest.
        latest.entry(origin).or_insert((
            h.last_run.0,
            h.entry.outcome.clone(),
            h.entry.reason.clone(),
        ));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_longer_than_any_terminal_is_cut_and_never_panics() {
        let huge = "N".repeat(70_000);
        let out = table(&[vec!["name".into(), "id".into()], vec![huge, "7".into()]]);
        let longest = out.lines().map(|l| l.chars().count()).max().unwrap();
        assert!(longest < CELL_CHARS + 20, "{longest}");
        assert!(out.contains('…') && out.contains('7'));
    }

    #[test]
    fn escape_sequences_and_line_breaks_in_a_cell_are_shown_escaped() {
        let out = table(&[
            vec!["name".into()],
            vec!["Evil\u{1b}[2J\nCorp\u{0}\u{202e}".into()],
        ]);
        assert!(!out.contains('\u{1b}') && !out.contains('\u{0}') && !out.contains('\u{202e}'));
        assert_eq!(out.lines().count(), 3, "one line per row: {out}");
        assert!(
            out.contains("Evil\\u{1b}[2J\\nCorp\\u{0}\\u{202e}"),
            "{out}"
        );
    }

    #[test]
    fn any_text_in_any_cell_prints_one_terminal_safe_line_per_row() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let pool: Vec<char> = "aZ 9é漢😀[]\u{0}\u{1b}\u{7}\r\n\t\u{202e}\u{2066}\u{7f}\u{85}"
            .chars()
            .collect();
        for _ in 0..300 {
            let len = if rng.random_bool(0.02) {
                rng.random_range(60_000..70_000)
            } else {
                rng.random_range(0..200)
            };
            let text: String = (0..len)
                .map(|_| pool[rng.random_range(0..pool.len())])
                .collect();
            let out = table(&[vec!["h".into(), "n".into()], vec![text, "1".into()]]);
            assert_eq!(out.lines().count(), 3, "{out:?}");
            assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
            assert!(!out.contains('\u{202e}') && !out.contains('\u{2066}'));
        }
    }

    #[test]
    fn text_of_several_lines_keeps_its_line_breaks_only() {
        assert_eq!(shown_lines("a\u{1b}b\nc\rd"), "a\\u{1b}b\nc\\rd");
        assert_eq!(shown("plain"), "plain");
    }
}
