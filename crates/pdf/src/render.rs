//! Draws laid-out pages with krilla, adding what needs the page count: the running header and
//! the "Page x of y" footer.

use chrono::{Datelike, Timelike};
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::{DateTime, Metadata};
use krilla::page::PageSettings;
use krilla::paint::{Fill, LineCap, LineJoin, Stroke};
use krilla::surface::Surface;
use krilla::text::TextDirection;
use krilla::Document;

use crate::compose::{footer_status, running_header, timestamp};
use crate::fonts::{Face, Fonts};
use crate::layout::{
    self, Ink, Page, Rgb, Rule, Style, TextRun, CONTENT_WIDTH, FOOTER_BASELINE, FOOTER_RULE,
    HAIRLINE, HEADER_BASELINE, HEADER_RULE, INK, INK_HEIGHT, INK_WIDTH, MARGIN_X, MUTED,
    PAGE_HEIGHT, PAGE_WIDTH,
};
use crate::{FormDocument, PdfError};

const MARGINAL: Style = Style::new(Face::Regular, 8.0, MUTED);

pub(crate) fn to_pdf(
    fonts: &Fonts,
    doc: &FormDocument,
    pages: &[Page],
) -> Result<Vec<u8>, PdfError> {
    let mut document = Document::new();
    document.set_metadata(metadata(doc));
    let total = pages.len();
    let header = layout::truncate(fonts, &running_header(doc), MARGINAL, CONTENT_WIDTH);
    let footer = format!(
        "Generated {} · {}",
        timestamp(doc.generated_at),
        footer_status(doc)
    );
    for (index, content) in pages.iter().enumerate() {
        let settings =
            PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).expect("Letter is a valid page size");
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        let footer = [
            run(MARGIN_X, FOOTER_BASELINE, footer.clone()),
            right_aligned(
                fonts,
                FOOTER_BASELINE,
                format!("Page {} of {}", index + 1, total),
            ),
        ];
        let header = (index > 0).then(|| run(MARGIN_X, HEADER_BASELINE, header.clone()));
        let mut rules = vec![hairline(FOOTER_RULE)];
        if header.is_some() {
            rules.push(hairline(HEADER_RULE));
        }
        draw_page(
            &mut surface,
            fonts,
            content,
            &rules,
            header.as_slice(),
            &footer,
        );
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| PdfError::Write(e.to_string()))
}

/// Title, language and creation time from the input (never the clock), so readers and search
/// indexes show something meaningful and the bytes stay deterministic.
fn metadata(doc: &FormDocument) -> Metadata {
    let title = format!(
        "{} · {} · {}",
        doc.template.name,
        doc.project_name,
        doc.submission.form_date.format("%Y-%m-%d")
    );
    let at = doc.generated_at;
    let created = DateTime::new(u16::try_from(at.year()).unwrap_or(0))
        .month(at.month() as u8)
        .day(at.day() as u8)
        .hour(at.hour() as u8)
        .minute(at.minute() as u8)
        .second(at.second() as u8)
        .utc_offset_hour(0)
        .utc_offset_minute(0);
    let mut metadata = Metadata::new()
        .title(title)
        .language("en".into())
        .creator("trestle".into())
        .creation_date(created)
        .document_id(format!("trestle-form-submission-{}", doc.submission.id));
    if let Some(by) = &doc.submitted_by {
        metadata = metadata.authors(vec![by.clone()]);
    }
    metadata
}

fn run(x: f32, y: f32, text: String) -> TextRun {
    TextRun {
        x,
        y,
        text,
        style: MARGINAL,
    }
}

fn right_aligned(fonts: &Fonts, y: f32, text: String) -> TextRun {
    let width = fonts.width(&text, MARGINAL.face, MARGINAL.size);
    run(MARGIN_X + CONTENT_WIDTH - width, y, text)
}

fn hairline(y: f32) -> Rule {
    Rule {
        x1: MARGIN_X,
        x2: MARGIN_X + CONTENT_WIDTH,
        y,
        color: HAIRLINE,
    }
}

/// Shapes first, then drawn signatures and lines, then text, so text is never painted over; text goes in reading
/// order (header, content, footer), which is the order text extraction returns it in.
fn draw_page(
    surface: &mut Surface,
    fonts: &Fonts,
    page: &Page,
    rules: &[Rule],
    header: &[TextRun],
    footer: &[TextRun],
) {
    surface.set_stroke(None);
    for fill in &page.fills {
        let Some(rect) = Rect::from_xywh(fill.x, fill.y, fill.w, fill.h) else {
            continue;
        };
        let mut path = PathBuilder::new();
        path.push_rect(rect);
        if let Some(path) = path.finish() {
            surface.set_fill(Some(paint(fill.color)));
            surface.draw_path(&path);
        }
    }
    surface.set_fill(None);
    draw_inks(surface, &page.inks);
    for rule in page.rules.iter().chain(rules) {
        let mut path = PathBuilder::new();
        path.move_to(rule.x1, rule.y);
        path.line_to(rule.x2, rule.y);
        if let Some(path) = path.finish() {
            surface.set_stroke(Some(Stroke {
                paint: color(rule.color).into(),
                width: 0.5,
                ..Stroke::default()
            }));
            surface.draw_path(&path);
        }
    }
    surface.set_stroke(None);
    for text in header.iter().chain(&page.runs).chain(footer) {
        surface.set_fill(Some(paint(text.style.color)));
        surface.draw_text(
            Point::from_xy(text.x, text.y),
            fonts.font(text.style.face),
            text.style.size,
            &text.text,
            false,
            TextDirection::Auto,
        );
    }
}

/// Each stroke as one line through its points, round at the ends and the joins as a pen
/// draws; a stroke of one point (a dot) as a line too short to see, whose round caps make it a
/// dot.
fn draw_inks(surface: &mut Surface, inks: &[Ink]) {
    surface.set_stroke(Some(Stroke {
        paint: color(INK).into(),
        width: 1.2,
        line_cap: LineCap::Round,
        line_join: LineJoin::Round,
        ..Stroke::default()
    }));
    for ink in inks {
        let at = |(x, y): (f32, f32)| (ink.x + x * INK_WIDTH, ink.y + y * INK_HEIGHT);
        for stroke in &ink.sketch.0 {
            let Some((&first, rest)) = stroke.split_first() else {
                continue;
            };
            let mut path = PathBuilder::new();
            let (x, y) = at(first);
            path.move_to(x, y);
            if rest.is_empty() {
                path.line_to(x + 0.01, y);
            }
            for &point in rest {
                let (x, y) = at(point);
                path.line_to(x, y);
            }
            if let Some(path) = path.finish() {
                surface.draw_path(&path);
            }
        }
    }
    surface.set_stroke(None);
}

fn color(c: Rgb) -> rgb::Color {
    rgb::Color::new(c.0, c.1, c.2)
}

fn paint(c: Rgb) -> Fill {
    Fill {
        paint: color(c).into(),
        ..Fill::default()
    }
}
