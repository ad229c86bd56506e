//! What trestle prints for people: terminal-safe text, tables, and the workforce sync's
//! report in a site administrator's words.

use std::fmt::Write;
use store::Connection;
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

/// Prints `value` as pretty JSON: what `--json` prints, in the REST API's shapes.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(value)?);
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
