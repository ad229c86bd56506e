//! `trestle explain`: the engine's [`Explanation`] in a site administrator's words, with the
//! CLI's own advice (the commands that change a mapping or run a sync).

use crate::commands::ExplainKind;
use crate::output::shown;
use anyhow::Result;
use domain::workforce::SubmissionState;
use engine::explain::{Explanation, Hint, Holding, Unassociated, UnlinkedProject};
use std::fmt::Write;
use store::{MappingDecision, ProcoreRecordKind, Store, SubjectKind};

impl ExplainKind {
    /// What the run log files the records of this kind under.
    pub fn subject(self) -> SubjectKind {
        match self {
            ExplainKind::ProcoreProject => SubjectKind::ProcoreProject,
            ExplainKind::ProcoreUser => SubjectKind::ProcoreUser,
            ExplainKind::Form => SubjectKind::Form,
            ExplainKind::ProcoreCompany => SubjectKind::ProcoreCompany,
            ExplainKind::ProcoreContact => SubjectKind::ProcoreContact,
            ExplainKind::ProcoreCommitment => SubjectKind::ProcoreCommitment,
        }
    }
}

/// What happened to a record and which rule decided it, as text.
pub async fn text(store: &Store, company: i64, kind: ExplainKind, id: i64) -> Result<String> {
    let explanation = engine::explain::explain(store, company, kind.subject(), id).await?;
    Ok(render(&explanation))
}

fn render(e: &Explanation) -> String {
    let id = e.id;
    let label = match &e.kind {
        SubjectKind::ProcoreProject => format!("Procore project {id}"),
        SubjectKind::ProcoreUser => format!("Procore user {id}"),
        SubjectKind::Form => format!("Form {id}"),
        SubjectKind::ProcoreCompany => format!("Procore company {id}"),
        SubjectKind::ProcoreContact => format!("Procore contact {id}"),
        SubjectKind::ProcoreCommitment => format!("Procore commitment {id}"),
        other => format!("{other} {id}"),
    };
    let mut out = format!("{label}\n");
    for holding in &e.now {
        let _ = writeln!(out, "  {}", holding_line(holding, id));
    }
    if !e.insurance.is_empty() {
        let _ = writeln!(out, "  Insurance records (the latest word on each):");
        for w in &e.insurance {
            let _ = writeln!(
                out,
                "    {} (run {}, {}): {}",
                w.origin_id, w.run, w.outcome, w.reason
            );
        }
    }
    if let Some(hint) = e.hint {
        let _ = writeln!(out, "  {}", hint_text(hint));
    }
    for (n, d) in e.history.iter().take(6).enumerate() {
        let runs = if d.first_run == d.last_run {
            format!("run {}", d.last_run)
        } else {
            format!("runs {} to {}", d.first_run, d.last_run)
        };
        let when = if n == 0 { "Latest" } else { "Before" };
        let _ = writeln!(
            out,
            "  {when} ({runs}, {}): {}",
            d.recorded_at.format("%Y-%m-%d %H:%M UTC"),
            d.reason
        );
    }
    out
}

/// One line of what trestle holds now.
fn holding_line(h: &Holding, id: i64) -> String {
    match h {
        Holding::WorkforceProject { id, name, status } => format!(
            "Now: linked to app project {id} \"{}\", status {}.",
            shown(name),
            status.as_str()
        ),
        Holding::NotInWorkforce => "Now: not in the workforce app.".into(),
        Holding::Worker {
            id,
            first_name,
            last_name,
            status,
        } => format!(
            "Now: linked to worker {id} ({} {}), status {}.",
            shown(first_name),
            shown(last_name),
            status.as_str()
        ),
        Holding::NoWorker => "Now: no worker in the app.".into(),
        Holding::ComplianceProject {
            id,
            name,
            active,
            active_parties,
        } => format!(
            "Now: compliance project {id} \"{}\" ({}), {} on it.",
            shown(name),
            if *active { "active" } else { "inactive" },
            match active_parties {
                1 => "1 party".to_string(),
                n => format!("{n} parties"),
            }
        ),
        Holding::Party { id, name } => {
            format!("Now: linked to trestle party {id} \"{}\".", shown(name))
        }
        Holding::NotInCompliance { record, decision } => {
            format!("Now: {}.", decision_words(*record, id, *decision))
        }
        Holding::Contact { id, party_id } => {
            format!("Now: trestle contact {id} of party {party_id}.")
        }
        Holding::NoContact => "Now: no trestle contact.".into(),
        Holding::Associations { associations } => {
            let holding: Vec<String> = associations
                .iter()
                .map(|a| format!("party {} on project {}", a.party_id, a.project_id))
                .collect();
            format!("Now: associates {}.", holding.join(", "))
        }
        Holding::Unassociated { why } => format!("Now: {}", unassociated_words(why)),
        Holding::NoAssociation => "Now: no association carries it.".into(),
        Holding::Form {
            state,
            revision,
            uploaded_revision,
        } => {
            let state = match state {
                SubmissionState::Draft => {
                    "a draft (only completed forms go to Procore)".to_string()
                }
                SubmissionState::Completed => format!("completed, revision {revision}"),
            };
            format!(
                "Now: {state}; Procore holds {}.",
                match uploaded_revision {
                    Some(r) => format!("revision {r}"),
                    None => "no revision yet".into(),
                }
            )
        }
        Holding::NoSuchForm => format!("There is no form {id} in trestle."),
    }
}

fn hint_text(hint: Hint) -> &'static str {
    match hint {
        Hint::ProjectNeverSeen => "trestle has never seen it in a sync. Procore only lists projects the integration's user may see: add that user to the project (or turn on \"add to all new projects\"), make sure the app is permitted on it, and note that project templates are never synced.",
        Hint::UserNeverSeen => "trestle has never seen this user in a sync: check the user is in this company's Directory and that the integration's user may read the Directory.",
        Hint::FormNotDecided => "no sync has decided anything about this form yet; run `trestle sync workforce`.",
        Hint::ComplianceNotDecided => "no compliance sync has decided anything about it yet; run `trestle sync compliance`.",
    }
}

/// A mapping decision in an administrator's words, with what to do about it.
fn decision_words(
    kind: ProcoreRecordKind,
    procore_id: i64,
    decision: Option<MappingDecision>,
) -> String {
    let (what, command) = match kind {
        ProcoreRecordKind::Project => ("compliance project", "project"),
        ProcoreRecordKind::Company => ("party", "company"),
    };
    match decision {
        Some(MappingDecision::DoNotAdd) => format!(
            "not a trestle {what}: it is marked Do not add; `trestle compliance map {command} {procore_id} import` (or `link LOCAL_ID`) brings it in at the next sync"
        ),
        Some(MappingDecision::Import) => format!(
            "not a trestle {what} yet: it is mapped Import, so the next `trestle sync compliance` imports it"
        ),
        Some(MappingDecision::LinkTo(id)) => format!(
            "not a trestle {what} yet: it is mapped to link to {id}, so the next `trestle sync compliance` links it"
        ),
        Some(MappingDecision::Undecided) | None => format!(
            "not a trestle {what}: it waits for a mapping decision; `trestle compliance map {command} {procore_id} import` (or `link LOCAL_ID`) brings it in at the next sync"
        ),
    }
}

/// A Procore project that is not linked, as " \"name\"" after its id (nothing when never read)
/// and its mapping decision.
fn unlinked_name(p: &UnlinkedProject) -> String {
    p.name
        .as_deref()
        .map_or_else(String::new, |n| format!(" \"{}\"", shown(n)))
}

fn unlinked_decision(p: &UnlinkedProject) -> &'static str {
    match p.decision {
        Some(MappingDecision::DoNotAdd) => "marked Do not add",
        Some(MappingDecision::Import) => "mapped Import, not imported yet",
        Some(MappingDecision::LinkTo(_)) => "mapped Link, not linked yet",
        _ => "waiting for a mapping decision",
    }
}

/// Why no association carries a commitment, and what to do about it.
fn unassociated_words(why: &Unassociated) -> String {
    match why {
        Unassociated::OnUnlinkedProject { project } => {
            let p = project.procore_id;
            format!(
                "not associated: it is on Procore project {p}{}, which is not linked to a trestle compliance project ({}). \
                 Link the project with `trestle compliance map project {p} import` (or `link LOCAL_ID`), then run `trestle sync compliance`.",
                unlinked_name(project),
                unlinked_decision(project)
            )
        }
        Unassociated::NeverRead { unlinked } => {
            let mut out = String::from(
                "not associated: no compliance sync has read it. trestle reads commitments only on the Procore \
                 projects linked to a trestle compliance project, so its project is not linked.",
            );
            if !unlinked.is_empty() {
                let shown: Vec<String> = unlinked
                    .iter()
                    .take(5)
                    .map(|p| {
                        format!(
                            "{}{} ({})",
                            p.procore_id,
                            unlinked_name(p),
                            unlinked_decision(p)
                        )
                    })
                    .collect();
                let _ = write!(out, "\n  Procore projects not linked: {}", shown.join(", "));
                if unlinked.len() > 5 {
                    let _ = write!(
                        out,
                        " and {} more (`trestle compliance mappings --undecided`)",
                        unlinked.len() - 5
                    );
                }
                out.push('.');
            }
            out.push_str(
                "\n  To link its project: `trestle compliance map project PROCORE_ID import` (or `link LOCAL_ID`), then \
                 `trestle sync compliance`.\n  If its project is linked, Procore does not show the commitment to the \
                 integration user: check that it exists and that the user may read the Commitments tool on that project.",
            );
            out
        }
    }
}
