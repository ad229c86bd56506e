//! What a submission becomes on paper: a title, a block of facts about the form, then each
//! section's questions with their answers, in the template's order.
//!
//! Every question appears, answered or not, so a reader can see what was left blank (an em dash)
//! rather than wonder whether the question was ever asked.

use chrono::{DateTime, Utc};
use domain::workforce::{Answer, Drawing, FieldKind, FormField, Signature, SubmissionState};

use crate::fonts::Face;
use crate::layout::{Block, Cell, Para, Sketch, Style, ALERT, INK, MUTED};
use crate::FormDocument;

const TITLE: Style = Style::new(Face::Bold, 18.0, INK);
const FACT_LABEL: Style = Style::new(Face::Bold, 9.5, MUTED);
const FACT: Style = Style::new(Face::Regular, 9.5, INK);
const SECTION: Style = Style::new(Face::Bold, 12.0, INK);
const QUESTION: Style = Style::new(Face::Bold, 9.5, INK);
const ANSWER: Style = Style::new(Face::Regular, 10.0, INK);
const FAILED: Style = Style::new(Face::Bold, 10.0, ALERT);
const NOTE: Style = Style::new(Face::Regular, 8.5, MUTED);
const INSTRUCTION: Style = Style::new(Face::Regular, 9.5, MUTED);

/// Width of the label column of the facts block.
const FACT_LABEL_WIDTH: f32 = 110.0;
/// Width of the question column: about 40% of the line, so most questions take one or two lines.
const QUESTION_WIDTH: f32 = 200.0;

/// Shown for a question with no answer and a signature field nobody signed.
pub(crate) const BLANK: &str = "—";

/// A timestamp as people on site read it, always in UTC so it never depends on the server.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The status as the facts block states it.
pub(crate) fn status(doc: &FormDocument) -> String {
    let s = doc.submission;
    match s.state {
        SubmissionState::Draft => "Draft (not completed)".into(),
        SubmissionState::Completed if s.revision > 1 => {
            format!(
                "Completed · Revision {} (revised after completion)",
                s.revision
            )
        }
        SubmissionState::Completed => format!("Completed · Revision {}", s.revision),
    }
}

/// The status as the footer of every page states it, so a single printed page says which
/// revision it belongs to.
pub(crate) fn footer_status(doc: &FormDocument) -> String {
    let s = doc.submission;
    match s.state {
        SubmissionState::Draft => "Draft, not completed".into(),
        SubmissionState::Completed if s.revision > 1 => {
            format!("Revision {} · Revised after completion", s.revision)
        }
        SubmissionState::Completed => format!("Revision {}", s.revision),
    }
}

/// The running header of continuation pages.
pub(crate) fn running_header(doc: &FormDocument) -> String {
    format!(
        "{} · {} · {}",
        doc.template.name,
        doc.project_name,
        doc.submission.form_date.format("%Y-%m-%d")
    )
}

pub(crate) fn blocks(doc: &FormDocument) -> Vec<Block> {
    let mut blocks = vec![Block::Full {
        para: Para::new(&doc.template.name, TITLE),
        space_before: 0.0,
    }];
    blocks.extend(facts(doc));
    for section in &doc.template.sections {
        blocks.push(Block::Heading {
            para: Para::new(&section.title, SECTION),
            space_before: 16.0,
        });
        blocks.extend(section.fields.iter().map(|field| question(doc, field)));
    }
    blocks.extend(stray_signatures(doc));
    blocks
}

/// The facts about the form, one labelled line each.
fn facts(doc: &FormDocument) -> Vec<Block> {
    let s = doc.submission;
    let mut facts = vec![("Project", doc.project_name.clone())];
    if let Some(number) = &doc.project_number {
        facts.push(("Project number", number.clone()));
    }
    if let Some(company) = &doc.company_name {
        facts.push(("Company", company.clone()));
    }
    facts.push(("Form date", s.form_date.format("%Y-%m-%d").to_string()));
    facts.push(("Status", status(doc)));
    if let Some(at) = s.completed_at {
        facts.push(("Completed at", timestamp(at)));
    }
    if let Some(by) = &doc.submitted_by {
        facts.push(("Submitted by", by.clone()));
    }
    facts.push(("Reference", format!("Form submission {}", s.id)));
    let mut blocks: Vec<Block> = facts
        .into_iter()
        .map(|(label, value)| Block::Row {
            left: Para::new(label, FACT_LABEL),
            right: vec![Para::new(value, FACT).into()],
            left_width: FACT_LABEL_WIDTH,
        })
        .collect();
    // A little air between the title and the facts.
    blocks.insert(0, Block::Gap(6.0));
    blocks
}

/// One question and its answer.
fn question(doc: &FormDocument, field: &FormField) -> Block {
    let row = |right: Vec<Cell>| Block::Row {
        left: Para::new(&field.label, QUESTION),
        right,
        left_width: QUESTION_WIDTH,
    };
    match &field.kind {
        FieldKind::Instruction => Block::Full {
            para: Para::new(&field.label, INSTRUCTION),
            space_before: 6.0,
        },
        FieldKind::Signature => {
            let signed: Vec<Cell> = doc
                .submission
                .signatures
                .iter()
                .filter(|sig| sig.field_key == field.key)
                .flat_map(signed)
                .collect();
            if signed.is_empty() {
                row(vec![Para::new(BLANK, ANSWER).into()])
            } else {
                row(signed)
            }
        }
        _ => row(vec![answer(doc.submission.answers.get(&field.key)).into()]),
    }
}

/// A signature as it reads on paper: the mark drawn (if one was), the signer's name under it,
/// and when.
fn signed(sig: &Signature) -> Vec<Cell> {
    let mut cells = Vec::with_capacity(3);
    if let Some(drawing) = &sig.drawing {
        let (w, h) = (f32::from(Drawing::WIDTH), f32::from(Drawing::HEIGHT));
        cells.push(Cell::Sketch(Sketch(
            drawing
                .strokes()
                .iter()
                .map(|s| {
                    s.iter()
                        .map(|&[x, y]| (f32::from(x) / w, f32::from(y) / h))
                        .collect()
                })
                .collect(),
        )));
    }
    cells.push(Para::new(&sig.signer_name, ANSWER).into());
    cells.push(Para::new(format!("Signed {}", timestamp(sig.signed_at)), NOTE).into());
    cells
}

fn answer(answer: Option<&Answer>) -> Para {
    match answer {
        None => Para::new(BLANK, ANSWER),
        // A failed check is what an inspector looks for first.
        Some(a @ (Answer::Fail | Answer::Checked(false))) => Para::new(a.display(), FAILED),
        Some(a) => {
            let text = a.display();
            if text.trim().is_empty() {
                Para::new(BLANK, ANSWER)
            } else {
                Para::new(text, ANSWER)
            }
        }
    }
}

/// Signatures whose field is not in the template. `Submission::sign` refuses them, but a
/// template edited after signing could leave some behind, and a signature must never vanish
/// silently from the record.
fn stray_signatures(doc: &FormDocument) -> Vec<Block> {
    let stray: Vec<_> = doc
        .submission
        .signatures
        .iter()
        .filter(|sig| {
            doc.template
                .field(&sig.field_key)
                .is_none_or(|f| f.kind != FieldKind::Signature)
        })
        .collect();
    if stray.is_empty() {
        return Vec::new();
    }
    let mut blocks = vec![Block::Heading {
        para: Para::new("Other signatures", SECTION),
        space_before: 16.0,
    }];
    blocks.extend(stray.into_iter().map(|sig| Block::Row {
        left: Para::new(&sig.field_key, QUESTION),
        right: signed(sig),
        left_width: QUESTION_WIDTH,
    }));
    blocks
}
