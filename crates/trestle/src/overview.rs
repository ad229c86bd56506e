//! `compliance parties`, `compliance projects`, `compliance mappings`: the engine's views laid
//! out as tables, with the ids the other commands take (`map ... link LOCAL_ID`, `--party`).

use crate::output::table;
use anyhow::Result;
use chrono::NaiveDate;
use engine::views::{self, MappingState};
use store::{ProcoreRecordKind, Store};

fn or_dash(v: Option<impl ToString>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

/// The date a view evaluates on, and its column heading: today, or the `--as-of` date.
fn on_date(as_of: Option<NaiveDate>) -> (NaiveDate, String) {
    match as_of {
        Some(d) => (d, format!("on {d}")),
        None => (chrono::Utc::now().date_naive(), "today".into()),
    }
}

/// Every party with its compliance today, or on `as_of`.
pub async fn parties(store: &Store, company: i64, as_of: Option<NaiveDate>) -> Result<String> {
    let (on, heading) = on_date(as_of);
    let parties = views::parties(store, company, on).await?;
    if parties.is_empty() {
        return Ok("No parties yet: `trestle sync compliance` brings them in from Procore, or `trestle compliance import` from a file.\n".into());
    }
    let mut rows = vec![vec![
        "id".into(),
        "name".into(),
        "active".into(),
        "Procore company".into(),
        format!("compliance {heading}"),
        "next expiration".into(),
        "projects (not compliant)".into(),
    ]];
    for p in parties {
        let mut status = p.status.as_str().to_string();
        if p.expiring_soon {
            status.push_str(", expiring soon");
        }
        rows.push(vec![
            p.id.to_string(),
            p.name,
            if p.active { "yes" } else { "no" }.into(),
            or_dash(p.procore_vendor_id),
            status,
            or_dash(p.next_expiration),
            format!("{} ({})", p.active_projects, p.not_compliant_projects),
        ]);
    }
    Ok(table(&rows))
}

/// Every compliance project, with its active parties and how many are not compliant today
/// (or on `as_of`).
pub async fn projects(store: &Store, company: i64, as_of: Option<NaiveDate>) -> Result<String> {
    let (on, heading) = on_date(as_of);
    let projects = views::projects(store, company, on).await?;
    if projects.is_empty() {
        return Ok(
            "No compliance projects yet: `trestle sync compliance` brings them in from Procore.\n"
                .into(),
        );
    }
    let mut rows = vec![vec![
        "id".into(),
        "name".into(),
        "active".into(),
        "Procore project".into(),
        "start".into(),
        "completion".into(),
        format!("parties (not compliant {heading})"),
    ]];
    for p in projects {
        rows.push(vec![
            p.id.to_string(),
            p.name,
            if p.active { "yes" } else { "no" }.into(),
            or_dash(p.procore_project_id),
            or_dash(p.start_date),
            or_dash(p.completion_date),
            format!("{} ({})", p.active_parties, p.not_compliant_parties),
        ]);
    }
    Ok(table(&rows))
}

/// The Procore projects and companies trestle has seen, with the decision for each;
/// `undecided_only` lists those waiting.
pub async fn mappings(store: &Store, company: i64, undecided_only: bool) -> Result<String> {
    let mappings = views::mappings(store, company, undecided_only).await?;
    if mappings.is_empty() {
        return Ok(if undecided_only {
            "Nothing is waiting for a mapping decision.\n".into()
        } else {
            "No Procore records seen yet: run `trestle sync compliance`.\n".into()
        });
    }
    let mut rows = vec![vec![
        "kind".into(),
        "Procore id".into(),
        "name in Procore".into(),
        "decision".into(),
    ]];
    for m in mappings {
        let what = match m.kind {
            ProcoreRecordKind::Project => "trestle project",
            ProcoreRecordKind::Company => "trestle party",
        };
        let decision = match m.state {
            MappingState::ImportedAutomatically(id) => {
                format!("imported automatically ({what} {id})")
            }
            MappingState::Waiting => "undecided".to_string(),
            MappingState::Imported(id) => format!("import ({what} {id})"),
            MappingState::ImportPending => "import (at the next sync)".into(),
            MappingState::Linked(id) => format!("link to {id}"),
            MappingState::LinkPending(id) => format!("link to {id} (at the next sync)"),
            MappingState::DoNotAdd => "do not add".into(),
        };
        rows.push(vec![
            m.kind.as_str().into(),
            m.procore_id.to_string(),
            or_dash(m.name),
            decision,
        ]);
    }
    Ok(table(&rows))
}
