//! Renders a safety form submission as a PDF.
//!
//! A completed form has to live in the project's Procore Documents, where superintendents,
//! owners and inspectors open it in whatever PDF reader they have, print it, and search it. So
//! the output is a plain, self-contained PDF: fonts embedded (DejaVu Sans, compiled in, never
//! looked up on the machine), real text that readers can select, search and extract, one
//! labelled answer per question, and every page numbered and stamped with its revision.
//!
//! Rendering is a pure function of its input: the generation time is passed in, never read from
//! the clock, so the same submission renders to the same bytes. The outbox relies on that to
//! tell a changed document (a new revision, a new version in Procore) from a retry of the same
//! one.
//!
//! # Layout
//! - [`render_submission`] and [`FormDocument`]: the entry point and what it renders.
//! - `fonts`: the embedded faces and text measurement.
//! - `layout`: word wrapping and flowing blocks onto US Letter pages.
//! - `compose`: which blocks a submission becomes.
//! - `render`: drawing the laid-out pages with krilla, with the running header and footer.

#![forbid(unsafe_code)]

mod compose;
mod fonts;
mod layout;
mod render;

use chrono::{DateTime, Utc};
use domain::workforce::{FormTemplate, Submission};

/// Everything one form PDF shows: the form and its answers, and the context around it that the
/// form records themselves do not carry.
#[derive(Debug, Clone)]
pub struct FormDocument<'a> {
    pub template: &'a FormTemplate,
    pub submission: &'a Submission,
    pub project_name: String,
    pub project_number: Option<String>,
    pub company_name: Option<String>,
    /// Who submitted the form, as the reader should see them.
    pub submitted_by: Option<String>,
    /// When the PDF is generated, printed in the footer. Passed in rather than read from the
    /// clock so that rendering is deterministic.
    pub generated_at: DateTime<Utc>,
}

/// Why a form could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    /// The submission was filled in on another template; rendering it would pair answers with
    /// the wrong questions.
    #[error(
        "submission {submission} was filled in on template {submitted}, not on \"{template_name}\" ({template}); \
         render it with its own template"
    )]
    TemplateMismatch {
        submission: i64,
        submitted: i64,
        template: i64,
        template_name: String,
    },
    /// An embedded font could not be read: the crate's font files are damaged.
    #[error(
        "the embedded font {0} could not be read; the pdf crate was built with a damaged font file"
    )]
    Font(&'static str),
    /// krilla could not write the document.
    #[error("the PDF could not be written: {0}")]
    Write(String),
}

/// Renders a submission to the bytes of a PDF document.
///
/// The document shows the template name, the project, the form date and status (with the
/// revision), then every section with each question and its answer, and each signature with its
/// signer and time. Pages are US Letter (8.5 × 11 in), because Procore's customers are mostly
/// in North America, and each carries "Page x of y", the revision and the generation time.
///
/// # Errors
/// [`PdfError::TemplateMismatch`] if `doc.template` is not the template the submission was
/// filled in on; [`PdfError::Font`] or [`PdfError::Write`] only if the build itself is broken.
pub fn render_submission(doc: &FormDocument) -> Result<Vec<u8>, PdfError> {
    if doc.submission.template_id != doc.template.id {
        return Err(PdfError::TemplateMismatch {
            submission: doc.submission.id,
            submitted: doc.submission.template_id,
            template: doc.template.id,
            template_name: doc.template.name.clone(),
        });
    }
    let fonts = fonts::Fonts::load()?;
    let mut flow = layout::Flow::new(&fonts);
    for block in compose::blocks(doc) {
        flow.push(&block);
    }
    let pages = flow.finish();
    render::to_pdf(&fonts, doc, &pages)
}
