//! The rendered PDF, read back the way a reader or a search index reads it: through a PDF parser
//! and its text extraction (lopdf, so the tests need no system tool).
//!
//! To look at the output, set `TRESTLE_PDF_SAMPLES` to a directory: the tests write the PDFs
//! they render there.

use chrono::{DateTime, NaiveDate, Utc};
use domain::workforce::{
    Answer, Drawing, FieldKind, FormField, FormSection, FormTemplate, Signature, Submission,
    SubmissionState,
};
use pdf::{render_submission, FormDocument, PdfError};
use rust_decimal::Decimal;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn field(key: &str, label: &str, kind: FieldKind, required: bool) -> FormField {
    FormField {
        key: key.into(),
        label: label.into(),
        kind,
        required,
    }
}

fn template() -> FormTemplate {
    FormTemplate {
        id: 3,
        name: "Daily Pre-Task Safety Inspection".into(),
        sections: vec![
            FormSection {
                title: "Site conditions".into(),
                fields: vec![
                    field(
                        "walk",
                        "Walk the whole work area before the shift starts.",
                        FieldKind::Instruction,
                        false,
                    ),
                    field(
                        "access",
                        "Access and egress clear",
                        FieldKind::YesNoNa,
                        true,
                    ),
                    field(
                        "scaffold",
                        "Scaffold inspected and tagged",
                        FieldKind::PassFailNa,
                        true,
                    ),
                    field(
                        "guardrails",
                        "Guardrails in place",
                        FieldKind::PassFailNa,
                        false,
                    ),
                    field(
                        "weather",
                        "Weather",
                        FieldKind::Text { multiline: false },
                        false,
                    ),
                    field("crew", "Crew size", FieldKind::Number, true),
                    field(
                        "notes",
                        "Other observations",
                        FieldKind::Text { multiline: true },
                        false,
                    ),
                ],
            },
            FormSection {
                title: "Hazards and permits".into(),
                fields: vec![
                    field(
                        "hazards",
                        "Hazards identified",
                        FieldKind::MultiChoice {
                            options: vec!["Falls".into(), "Electrical".into(), "Struck-by".into()],
                        },
                        false,
                    ),
                    field("permit", "Hot work permit date", FieldKind::Date, false),
                    field(
                        "ppe",
                        "PPE level",
                        FieldKind::Choice {
                            options: vec!["Basic".into(), "Enhanced".into()],
                        },
                        true,
                    ),
                    field("toolbox", "Toolbox talk held", FieldKind::Checkbox, false),
                ],
            },
            FormSection {
                title: "Sign-off".into(),
                fields: vec![
                    field("foreman", "Foreman signature", FieldKind::Signature, true),
                    field(
                        "safety",
                        "Safety officer signature",
                        FieldKind::Signature,
                        false,
                    ),
                ],
            },
        ],
    }
}

fn signature(key: &str, name: &str, when: &str) -> Signature {
    Signature {
        field_key: key.into(),
        signer_name: name.into(),
        worker_id: Some(7),
        signed_at: at(when),
        drawing: None,
    }
}

fn completed(t: &FormTemplate) -> Submission {
    let mut s = Submission::draft(42, t.id, 9, NaiveDate::from_ymd_opt(2026, 11, 22).unwrap());
    s.answer(t, "access", Answer::Yes).unwrap();
    s.answer(t, "scaffold", Answer::NotApplicable).unwrap();
    s.answer(t, "guardrails", Answer::Fail).unwrap();
    s.answer(t, "weather", Answer::Text("Light rain, 8 °C".into()))
        .unwrap();
    s.answer(t, "crew", Answer::Number(Decimal::new(12, 0)))
        .unwrap();
    s.answer(
        t,
        "hazards",
        Answer::Choices(vec!["Falls".into(), "Electrical".into()]),
    )
    .unwrap();
    s.answer(
        t,
        "permit",
        Answer::Date(NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()),
    )
    .unwrap();
    s.answer(t, "ppe", Answer::Choice("Enhanced".into()))
        .unwrap();
    s.answer(t, "toolbox", Answer::Checked(true)).unwrap();
    s.sign(t, signature("foreman", "Ann Lee", "2026-11-22T10:00:00Z"))
        .unwrap();
    s.complete(t, at("2026-11-22T10:05:00Z")).unwrap();
    s
}

fn document<'a>(t: &'a FormTemplate, s: &'a Submission) -> FormDocument<'a> {
    FormDocument {
        template: t,
        submission: s,
        project_name: "Riverside Tower".into(),
        project_number: Some("2024-017".into()),
        company_name: Some("Northwind Builders".into()),
        submitted_by: Some("Ann Lee".into()),
        generated_at: at("2026-11-22T10:30:00Z"),
    }
}

/// The text of every page, with runs of whitespace (line ends included) as single spaces, so a
/// label wrapped over two lines still reads as one phrase.
fn pages_text(bytes: &[u8]) -> Vec<String> {
    save_sample(bytes);
    let doc = lopdf::Document::load_mem(bytes).expect("lopdf opens the PDF");
    doc.get_pages()
        .keys()
        .map(|&n| {
            let text = doc.extract_text(&[n]).expect("text extracts");
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect()
}

fn all_text(bytes: &[u8]) -> String {
    pages_text(bytes).join(" ")
}

/// Writes a rendered PDF to `$TRESTLE_PDF_SAMPLES`, named by the test that rendered it.
fn save_sample(bytes: &[u8]) {
    let Some(dir) = std::env::var_os("TRESTLE_PDF_SAMPLES") else {
        return;
    };
    let thread = std::thread::current();
    let name = thread.name().unwrap_or("sample");
    let mut n = 0;
    let path = loop {
        let path = std::path::Path::new(&dir).join(format!("{name}-{n}.pdf"));
        if !path.exists() {
            break path;
        }
        n += 1;
    };
    std::fs::write(path, bytes).unwrap();
}

#[track_caller]
fn assert_has(text: &str, wanted: &str) {
    assert!(
        text.contains(wanted),
        "expected {wanted:?} in the PDF text:\n{text}"
    );
}

#[test]
fn a_completed_form_renders_every_question_answer_and_signature_as_extractable_text() {
    let t = template();
    let s = completed(&t);
    let text = all_text(&render_submission(&document(&t, &s)).unwrap());

    for wanted in [
        "Daily Pre-Task Safety Inspection",
        "Project Riverside Tower",
        "Project number 2024-017",
        "Company Northwind Builders",
        "Form date 2026-11-22",
        "Completed · Revision 1",
        "Completed at 2026-11-22 10:05 UTC",
        "Submitted by Ann Lee",
        // Sections, in order, and an instruction as its text.
        "Site conditions",
        "Hazards and permits",
        "Sign-off",
        "Walk the whole work area before the shift starts.",
        // Every question with its answer; N/A stated, an unanswered optional field as a dash.
        "Access and egress clear Yes",
        "Scaffold inspected and tagged N/A",
        "Guardrails in place Fail",
        "Weather Light rain, 8 °C",
        "Crew size 12",
        "Other observations —",
        "Hazards identified Falls, Electrical",
        "Hot work permit date 2026-11-21",
        "PPE level Enhanced",
        "Toolbox talk held Checked",
        // Signatures with signer and time; an unsigned optional one as a dash.
        "Foreman signature Ann Lee Signed 2026-11-22 10:00 UTC",
        "Safety officer signature —",
        // Footer.
        "Generated 2026-11-22 10:30 UTC · Revision 1",
        "Page 1 of 1",
    ] {
        assert_has(&text, wanted);
    }
    assert!(
        !text.contains("Revised after completion"),
        "a first revision is not a revision after completion"
    );
    // Sections come in the template's order.
    let order: Vec<_> = ["Site conditions", "Hazards and permits", "Sign-off"]
        .iter()
        .map(|s| text.find(s).unwrap())
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "sections out of order: {order:?}"
    );
}

const SENTENCE: &str =
    "Materials were stacked clear of the walkway and the edge protection was checked. ";

fn long_form() -> (FormTemplate, Submission) {
    let sections = (1..=6)
        .map(|n| FormSection {
            title: format!("Area {n}"),
            fields: (1..=10)
                .map(|q| {
                    field(
                        &format!("q{n}-{q}"),
                        &format!(
                            "Question {n}.{q}: describe what you observed in this part of area {n}"
                        ),
                        FieldKind::Text { multiline: true },
                        false,
                    )
                })
                .collect(),
        })
        .collect();
    let t = FormTemplate {
        id: 5,
        name: "Weekly Site Audit".into(),
        sections,
    };
    let mut s = Submission::draft(77, 5, 9, NaiveDate::from_ymd_opt(2026, 11, 22).unwrap());
    let keys: Vec<String> = t.fields().map(|f| f.key.clone()).collect();
    for key in keys {
        // One answer runs longer than a page, so a single row has to split across pages too.
        let repeat = if key == "q3-10" { 80 } else { 3 };
        let answer = format!("Answer to {key}. ") + &SENTENCE.repeat(repeat);
        s.answer(&t, &key, Answer::Text(answer)).unwrap();
    }
    s.complete(&t, at("2026-11-22T10:00:00Z")).unwrap();
    (t, s)
}

#[test]
fn a_long_form_flows_onto_more_pages_with_page_numbers() {
    let (t, s) = long_form();
    let pages = pages_text(&render_submission(&document(&t, &s)).unwrap());

    let total = pages.len();
    assert!(
        total >= 3,
        "60 long answers should take several Letter pages, got {total}"
    );
    for (i, page) in pages.iter().enumerate() {
        assert_has(page, &format!("Page {} of {total}", i + 1));
        assert_has(page, "Generated 2026-11-22 10:30 UTC");
    }
    // Continuation pages say which form they belong to.
    assert_has(
        &pages[1],
        "Weekly Site Audit · Riverside Tower · 2026-11-22",
    );
    // Nothing is lost between pages: every answer is there, whole.
    let text = pages.join(" ");
    for n in 1..=6 {
        for q in 1..=10 {
            assert_has(
                &text,
                &format!("Question {n}.{q}: describe what you observed in this part of area {n}"),
            );
            assert_has(
                &text,
                &format!("Answer to q{n}-{q}. Materials were stacked"),
            );
        }
    }
    // Counted by a single word: a sentence split over a page break has the footer inside it.
    assert_eq!(text.matches("Materials").count(), 59 * 3 + 80);
    assert!(
        pages.last().unwrap().contains("Answer to q6-10."),
        "the last answer is on the last page"
    );
}

#[test]
fn the_same_submission_renders_to_the_same_bytes() {
    let t = template();
    let s = completed(&t);
    let first = render_submission(&document(&t, &s)).unwrap();
    let second = render_submission(&document(&t, &s)).unwrap();
    assert!(first == second, "two renders of the same input differ");

    let later = FormDocument {
        generated_at: at("2026-11-23T08:00:00Z"),
        ..document(&t, &s)
    };
    assert_ne!(
        first,
        render_submission(&later).unwrap(),
        "the generation time is part of the document"
    );
}

#[test]
fn a_revision_after_completion_is_stated_in_the_document() {
    let t = template();
    let mut s = completed(&t);
    s.sign(&t, signature("safety", "Bo Chen", "2026-11-23T07:15:00Z"))
        .unwrap();
    assert_eq!(s.revision, 2);
    let text = all_text(&render_submission(&document(&t, &s)).unwrap());

    assert_has(&text, "Completed · Revision 2 (revised after completion)");
    assert_has(
        &text,
        "Generated 2026-11-22 10:30 UTC · Revision 2 · Revised after completion",
    );
    assert_has(
        &text,
        "Safety officer signature Bo Chen Signed 2026-11-23 07:15 UTC",
    );
}

#[test]
fn accented_names_survive_text_extraction() {
    let t = template();
    let mut s = Submission::draft(43, t.id, 9, NaiveDate::from_ymd_opt(2026, 11, 22).unwrap());
    s.answer(
        &t,
        "weather",
        Answer::Text("Brouillard léger, façade nord gelée".into()),
    )
    .unwrap();
    s.sign(
        &t,
        signature("foreman", "Zoë Ångström-Núñez", "2026-11-22T10:00:00Z"),
    )
    .unwrap();
    let doc = FormDocument {
        project_name: "Résidence Château-Lumière".into(),
        company_name: Some("Constructions Hébert & Fils".into()),
        submitted_by: Some("Zoë Ångström-Núñez".into()),
        ..document(&t, &s)
    };
    let text = all_text(&render_submission(&doc).unwrap());

    assert_has(&text, "Foreman signature Zoë Ångström-Núñez");
    assert_has(&text, "Submitted by Zoë Ångström-Núñez");
    assert_has(&text, "Project Résidence Château-Lumière");
    assert_has(&text, "Constructions Hébert & Fils");
    assert_has(&text, "Brouillard léger, façade nord gelée");
    // A draft says so rather than passing for a completed form.
    assert_eq!(s.state, SubmissionState::Draft);
    assert_has(&text, "Status Draft (not completed)");
}

#[test]
fn the_output_is_a_valid_pdf_that_a_parser_opens() {
    let t = template();
    let s = completed(&t);
    let bytes = render_submission(&document(&t, &s)).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let parsed = lopdf::Document::load_mem(&bytes).expect("lopdf opens the PDF");
    assert_eq!(parsed.get_pages().len(), 1, "a short form fits on one page");

    let (t, s) = long_form();
    let bytes = render_submission(&document(&t, &s)).unwrap();
    let parsed = lopdf::Document::load_mem(&bytes).unwrap();
    let pages = parsed.get_pages();
    let total = pages.len();
    assert!(total > 1);
    // Every page is US Letter.
    for &id in pages.values() {
        let media_box = parsed
            .get_dictionary(id)
            .unwrap()
            .get(b"MediaBox")
            .unwrap()
            .as_array()
            .unwrap();
        let size: Vec<f32> = media_box.iter().map(|v| v.as_float().unwrap()).collect();
        assert_eq!(size, vec![0.0, 0.0, 612.0, 792.0]);
    }
    assert_has(&all_text(&bytes), &format!("Page {total} of {total}"));
}

#[test]
fn a_submission_is_refused_with_another_forms_template() {
    let t = template();
    let s = completed(&t);
    let other = FormTemplate {
        id: 99,
        ..template()
    };
    let err = render_submission(&document(&other, &s)).unwrap_err();
    assert!(
        matches!(
            err,
            PdfError::TemplateMismatch {
                submitted: 3,
                template: 99,
                ..
            }
        ),
        "{err}"
    );
}

/// The path operators (`m` move, `l` line) on every page, counted.
fn path_ops(bytes: &[u8]) -> (usize, usize) {
    let doc = lopdf::Document::load_mem(bytes).expect("lopdf opens the PDF");
    let mut counts = (0, 0);
    for (_, id) in doc.get_pages() {
        let content = doc.get_page_content(id);
        let ops = lopdf::content::Content::decode(&content).expect("the content decodes");
        for op in ops.operations {
            match op.operator.as_str() {
                "m" => counts.0 += 1,
                "l" => counts.1 += 1,
                _ => {}
            }
        }
    }
    counts
}

#[test]
fn a_drawn_signature_is_drawn_as_one_line_per_stroke_above_the_signers_name() {
    let t = FormTemplate {
        id: 3,
        name: "Sign-off".into(),
        sections: vec![FormSection {
            title: "Sign-off".into(),
            fields: vec![field(
                "foreman",
                "Foreman signature",
                FieldKind::Signature,
                true,
            )],
        }],
    };
    let mut plain = Submission::draft(42, t.id, 9, NaiveDate::from_ymd_opt(2026, 11, 22).unwrap());
    plain
        .sign(&t, signature("foreman", "Ann Lee", "2026-11-22T10:00:00Z"))
        .unwrap();
    let mut drawn = plain.clone();
    // A signature of two strokes: a curve of four points and a dot.
    drawn.signatures[0].drawing = Some(
        Drawing::new(vec![
            vec![[40, 250], [300, 60], [600, 240], [960, 90]],
            vec![[980, 280]],
        ])
        .unwrap(),
    );
    let without = render_submission(&document(&t, &plain)).unwrap();
    let with = render_submission(&document(&t, &drawn)).unwrap();
    let text = all_text(&with);
    assert_has(
        &text,
        "Foreman signature Ann Lee Signed 2026-11-22 10:00 UTC",
    );
    let (m0, l0) = path_ops(&without);
    let (m1, l1) = path_ops(&with);
    assert_eq!(m1 - m0, 2, "one path per stroke");
    assert_eq!(
        l1 - l0,
        3 + 1,
        "a line to each further point, and one for the dot"
    );
}
