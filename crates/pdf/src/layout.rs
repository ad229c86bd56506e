//! A small line layout: wrap paragraphs to a column width, stack them into blocks, and flow the
//! blocks onto as many pages as they need.
//!
//! A form is a list of labelled answers, not a typeset book, so greedy word wrapping and "move to
//! the next page when the next line does not fit" are all it needs. Layout runs completely before
//! anything is drawn, so the page count is known when the "Page x of y" footers are written.
//!
//! Coordinates are PDF points (1/72 in) from the top-left corner, y growing downward, as krilla
//! takes them.

use crate::fonts::{Face, Fonts};

/// US Letter, 8.5 × 11 in: trestle's users are Procore customers, who are mostly in North
/// America, where Letter is what their printers hold.
pub(crate) const PAGE_WIDTH: f32 = 612.0;
/// See [`PAGE_WIDTH`].
pub(crate) const PAGE_HEIGHT: f32 = 792.0;
/// Side margins of 0.75 in.
pub(crate) const MARGIN_X: f32 = 54.0;
pub(crate) const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN_X;
/// Where the flow starts on every page, below the running header of continuation pages.
const CONTENT_TOP: f32 = 62.0;
/// Where the flow must end, above the footer.
const CONTENT_BOTTOM: f32 = PAGE_HEIGHT - 68.0;
/// Room left at the right edge of every line, so kerning and rounding never touch the margin.
const SLACK: f32 = 2.0;
/// Space between a row's label column and its answer column.
const GUTTER: f32 = 14.0;
/// Space above and below the content of a row.
const ROW_PADDING: f32 = 5.0;

/// A colour as 8-bit sRGB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rgb(pub u8, pub u8, pub u8);

pub(crate) const INK: Rgb = Rgb(0x1a, 0x1a, 0x1a);
pub(crate) const MUTED: Rgb = Rgb(0x5c, 0x5c, 0x5c);
pub(crate) const HAIRLINE: Rgb = Rgb(0xcc, 0xcc, 0xcc);
pub(crate) const BAND: Rgb = Rgb(0xe8, 0xec, 0xf0);
pub(crate) const ALERT: Rgb = Rgb(0xa3, 0x1d, 0x1d);

/// How a run of text looks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Style {
    pub face: Face,
    pub size: f32,
    pub color: Rgb,
}

impl Style {
    pub(crate) const fn new(face: Face, size: f32, color: Rgb) -> Self {
        Style { face, size, color }
    }

    /// Line pitch: 1.35 × the size reads comfortably for short form answers.
    fn line_height(self) -> f32 {
        self.size * 1.35
    }

    /// Where the baseline sits below the top of a line, centring DejaVu's cap height in it.
    fn baseline(self) -> f32 {
        self.size * 1.03
    }
}

/// Text in one style; `\n` starts a new line.
#[derive(Debug, Clone)]
pub(crate) struct Para {
    pub text: String,
    pub style: Style,
}

impl Para {
    pub(crate) fn new(text: impl Into<String>, style: Style) -> Self {
        Para {
            text: text.into(),
            style,
        }
    }
}

/// A drawn signature: strokes of points in the unit square (0 to 1 across and down), drawn
/// into a box of [`INK_WIDTH`] × [`INK_HEIGHT`].
#[derive(Debug, Clone)]
pub(crate) struct Sketch(pub Vec<Vec<(f32, f32)>>);

/// The box a drawn signature fills: 10:3, the shape it was drawn in, about two inches wide.
pub(crate) const INK_WIDTH: f32 = 150.0;
pub(crate) const INK_HEIGHT: f32 = 45.0;

/// One entry of a row's right column.
#[derive(Debug, Clone)]
pub(crate) enum Cell {
    Text(Para),
    Sketch(Sketch),
}

impl From<Para> for Cell {
    fn from(para: Para) -> Self {
        Cell::Text(para)
    }
}

impl Cell {
    fn style(&self) -> Option<Style> {
        match self {
            Cell::Text(p) => Some(p.style),
            Cell::Sketch(_) => None,
        }
    }
}

/// A unit of the flow.
#[derive(Debug, Clone)]
pub(crate) enum Block {
    /// A paragraph across the full width, after some space.
    Full { para: Para, space_before: f32 },
    /// A section heading on a shaded band; never left alone at the foot of a page.
    Heading { para: Para, space_before: f32 },
    /// A label on the left and one or more paragraphs (or a drawing) on the right, with a
    /// hairline below.
    Row {
        left: Para,
        right: Vec<Cell>,
        left_width: f32,
    },
    /// Vertical space, dropped at the top of a page.
    Gap(f32),
}

/// A run of text placed on a page; `y` is its baseline.
#[derive(Debug, Clone)]
pub(crate) struct TextRun {
    pub x: f32,
    pub y: f32,
    pub text: String,
    pub style: Style,
}

/// A filled rectangle.
#[derive(Debug, Clone)]
pub(crate) struct Fill {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    pub color: Rgb,
}

/// A horizontal hairline.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub x1: f32,
    pub x2: f32,
    pub y: f32,
    pub color: Rgb,
}

/// A drawing placed in a box whose top left corner is (`x`, `y`).
#[derive(Debug, Clone)]
pub(crate) struct Ink {
    pub x: f32,
    pub y: f32,
    pub sketch: Sketch,
}

/// Everything placed on one page, in drawing order within each kind.
#[derive(Debug, Clone, Default)]
pub(crate) struct Page {
    pub fills: Vec<Fill>,
    pub rules: Vec<Rule>,
    pub inks: Vec<Ink>,
    pub runs: Vec<TextRun>,
}

/// Something placed relative to the top of its block.
enum Piece {
    Text(TextRun),
    Fill(Fill),
    Rule(Rule),
    Ink(Ink),
}

impl Piece {
    /// The vertical extent the piece needs, relative to its block's top.
    fn extent(&self) -> (f32, f32) {
        match self {
            Piece::Text(t) => {
                let top = t.y - t.style.baseline();
                (top, t.style.line_height())
            }
            Piece::Fill(f) => (f.y, f.h),
            Piece::Rule(r) => (r.y, 0.5),
            Piece::Ink(i) => (i.y, INK_HEIGHT),
        }
    }

    fn shifted(mut self, dy: f32) -> Self {
        match &mut self {
            Piece::Text(t) => t.y += dy,
            Piece::Fill(f) => f.y += dy,
            Piece::Rule(r) => r.y += dy,
            Piece::Ink(i) => i.y += dy,
        }
        self
    }
}

/// Wraps `text` into lines no wider than `max_width` points.
///
/// Breaks at whitespace; a word wider than the column (a URL, a serial number) is broken between
/// characters rather than run into the margin. `\n` is kept as a line break and blank lines stay
/// blank, because multi-line answers are written that way on purpose.
pub(crate) fn wrap(fonts: &Fonts, text: &str, style: Style, max_width: f32) -> Vec<String> {
    let width = |s: &str| fonts.width(s, style.face, style.size);
    let space = width(" ");
    let max_width = max_width - SLACK;
    let mut lines = Vec::new();
    for hard_line in clean(text).split('\n') {
        let mut line = String::new();
        let mut line_width = 0.0;
        for word in hard_line.split_whitespace() {
            let word_width = width(word);
            if !line.is_empty() && line_width + space + word_width <= max_width {
                line.push(' ');
                line.push_str(word);
                line_width += space + word_width;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            if word_width <= max_width {
                line.push_str(word);
                line_width = word_width;
                continue;
            }
            // Too long for any line: break it between characters.
            line_width = 0.0;
            for ch in word.chars() {
                let ch_width = fonts.width(ch.encode_utf8(&mut [0; 4]), style.face, style.size);
                if !line.is_empty() && line_width + ch_width > max_width {
                    lines.push(std::mem::take(&mut line));
                    line_width = 0.0;
                }
                line.push(ch);
                line_width += ch_width;
            }
        }
        lines.push(line);
    }
    lines
}

/// Shortens `text` with an ellipsis until it fits `max_width`, for one-line running headers.
pub(crate) fn truncate(fonts: &Fonts, text: &str, style: Style, max_width: f32) -> String {
    let text = clean(text).replace('\n', " ");
    let fits = |s: &str| fonts.width(s, style.face, style.size) <= max_width - SLACK;
    if fits(&text) {
        return text;
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let candidate: String = chars.iter().collect::<String>().trim_end().to_owned() + "…";
        if fits(&candidate) {
            return candidate;
        }
    }
    "…".into()
}

/// Line breaks as `\n`, tabs as spaces, other control characters dropped: they have no glyph.
fn clean(text: &str) -> String {
    text.replace("\r\n", "\n")
        .chars()
        .filter_map(|c| match c {
            '\n' => Some('\n'),
            '\t' | '\r' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect()
}

/// Flows blocks onto pages.
pub(crate) struct Flow<'f> {
    fonts: &'f Fonts,
    pages: Vec<Page>,
    /// Top of the free space on the last page.
    y: f32,
    /// A heading laid out and not yet placed: it is placed with the block after it.
    heading: Option<Laid>,
}

/// A block laid out and not yet placed: see [`Flow::lay`].
struct Laid {
    pieces: Vec<Piece>,
    height: f32,
    room: f32,
}

impl<'f> Flow<'f> {
    pub(crate) fn new(fonts: &'f Fonts) -> Self {
        Flow {
            fonts,
            pages: vec![Page::default()],
            y: CONTENT_TOP,
            heading: None,
        }
    }

    /// The pages laid out; there is always at least one.
    pub(crate) fn finish(mut self) -> Vec<Page> {
        if let Some(heading) = self.heading.take() {
            self.place_alone(heading);
        }
        self.pages
    }

    pub(crate) fn push(&mut self, block: &Block) {
        match (block, self.heading.take()) {
            (Block::Gap(gap), heading) => {
                if let Some(heading) = heading {
                    self.place_alone(heading);
                }
                if self.y > CONTENT_TOP {
                    self.y = (self.y + gap).min(CONTENT_BOTTOM);
                }
            }
            (Block::Heading { .. }, heading) => {
                if let Some(heading) = heading {
                    self.place_alone(heading);
                }
                self.heading = Some(self.lay(block));
            }
            (_, None) => {
                let laid = self.lay(block);
                self.place(laid);
            }
            // A heading goes on the page of the first block it heads, whatever that block's
            // height (a drawn signature's row is taller than a line of text).
            (_, Some(heading)) => {
                let next = self.lay(block);
                let mut pieces = heading.pieces;
                pieces.extend(next.pieces.into_iter().map(|p| p.shifted(heading.height)));
                self.place(Laid {
                    pieces,
                    height: heading.height + next.height,
                    room: heading.height + next.room,
                });
            }
        }
    }

    /// A heading with nothing of its own after it (an empty section): still not left at the
    /// foot of a page, with room for a couple of lines under it.
    fn place_alone(&mut self, mut heading: Laid) {
        heading.room = heading.height + 36.0;
        self.place(heading);
    }

    /// The pieces of a block relative to its top, its height, and how much of it must fit on
    /// a page for it to start there.
    fn lay(&self, block: &Block) -> Laid {
        match block {
            Block::Gap(gap) => Laid {
                pieces: Vec::new(),
                height: *gap,
                room: 0.0,
            },
            Block::Full { para, space_before } => {
                let (pieces, height) = self.paragraph(para, MARGIN_X, *space_before, CONTENT_WIDTH);
                Laid {
                    pieces,
                    height,
                    room: height.min(*space_before + para.style.line_height()),
                }
            }
            Block::Heading { para, space_before } => {
                let pad = 4.0;
                let (text, text_height) = self.paragraph(
                    para,
                    MARGIN_X + 6.0,
                    space_before + pad,
                    CONTENT_WIDTH - 12.0,
                );
                let height = text_height + pad;
                let mut pieces = vec![Piece::Fill(Fill {
                    x: MARGIN_X,
                    y: *space_before,
                    w: CONTENT_WIDTH,
                    h: height - space_before,
                    color: BAND,
                })];
                pieces.extend(text);
                Laid {
                    pieces,
                    height,
                    room: height,
                }
            }
            Block::Row {
                left,
                right,
                left_width,
            } => {
                // The label's first baseline sits on the answer's, whatever their sizes.
                let align = right
                    .first()
                    .and_then(Cell::style)
                    .map_or(0.0, |s| s.baseline() - left.style.baseline())
                    .max(0.0);
                let (mut pieces, left_height) =
                    self.paragraph(left, MARGIN_X, ROW_PADDING + align, left_width - GUTTER);
                let mut right_height = ROW_PADDING;
                for (i, cell) in right.iter().enumerate() {
                    let gap = if i == 0 { 0.0 } else { 2.0 };
                    match cell {
                        Cell::Text(para) => {
                            let (p, h) = self.paragraph(
                                para,
                                MARGIN_X + left_width,
                                right_height + gap,
                                CONTENT_WIDTH - left_width,
                            );
                            pieces.extend(p);
                            right_height = h;
                        }
                        Cell::Sketch(sketch) => {
                            pieces.push(Piece::Ink(Ink {
                                x: MARGIN_X + left_width,
                                y: right_height + gap,
                                sketch: sketch.clone(),
                            }));
                            right_height += gap + INK_HEIGHT;
                        }
                    }
                }
                let height = left_height.max(right_height) + ROW_PADDING;
                pieces.push(Piece::Rule(Rule {
                    x1: MARGIN_X,
                    x2: MARGIN_X + CONTENT_WIDTH,
                    y: height,
                    color: HAIRLINE,
                }));
                let first_line = left.style.line_height().max(match right.first() {
                    Some(Cell::Text(p)) => p.style.line_height(),
                    Some(Cell::Sketch(_)) => INK_HEIGHT,
                    None => 0.0,
                });
                Laid {
                    pieces,
                    height: height + 0.5,
                    room: ROW_PADDING + first_line,
                }
            }
        }
    }

    /// Wraps a paragraph at `top` within a block; returns its lines and the block height so far.
    fn paragraph(&self, para: &Para, x: f32, top: f32, width: f32) -> (Vec<Piece>, f32) {
        let mut y = top;
        let mut pieces = Vec::new();
        for line in wrap(self.fonts, &para.text, para.style, width) {
            if !line.is_empty() {
                pieces.push(Piece::Text(TextRun {
                    x,
                    y: y + para.style.baseline(),
                    text: line,
                    style: para.style,
                }));
            }
            y += para.style.line_height();
        }
        (pieces, y)
    }

    /// Places a block of `height` at the cursor. The whole block moves to a new page when it
    /// does not fit (if it fits on an empty page); otherwise it is split between pieces. `room`
    /// is how much must fit here for the block to start on this page at all.
    ///
    /// Page breaks are found walking the pieces top to bottom, but the pieces are put on the
    /// pages in the order given, so a row's label stays ahead of its answer in the content
    /// stream and text extraction does not interleave the two columns line by line.
    fn place(&mut self, laid: Laid) {
        let Laid {
            pieces,
            height,
            room,
        } = laid;
        let page_is_empty = self.y <= CONTENT_TOP;
        let fits_empty_page = height <= CONTENT_BOTTOM - CONTENT_TOP;
        if !page_is_empty
            && (self.y + room.max(0.0) > CONTENT_BOTTOM
                || (self.y + height > CONTENT_BOTTOM && fits_empty_page))
        {
            self.new_page();
        }
        let mut by_top: Vec<usize> = (0..pieces.len()).collect();
        by_top.sort_by(|&a, &b| pieces[a].extent().0.total_cmp(&pieces[b].extent().0));
        // Which page each piece lands on, and the absolute top of the block on that page (which
        // moves up when the block continues on a new page).
        let mut page = self.pages.len() - 1;
        let mut base = self.y;
        let mut placement = vec![(page, base); pieces.len()];
        for i in by_top {
            let (top, extent) = pieces[i].extent();
            if base + top + extent > CONTENT_BOTTOM && base + top > CONTENT_TOP {
                page += 1;
                base = CONTENT_TOP - top;
            }
            placement[i] = (page, base);
        }
        while self.pages.len() <= page {
            self.pages.push(Page::default());
        }
        for (piece, (page, base)) in pieces.into_iter().zip(placement) {
            let page = &mut self.pages[page];
            match piece.shifted(base) {
                Piece::Text(t) => page.runs.push(t),
                Piece::Fill(f) => page.fills.push(f),
                Piece::Rule(r) => page.rules.push(r),
                Piece::Ink(i) => page.inks.push(i),
            }
        }
        self.y = base + height;
    }

    fn new_page(&mut self) {
        self.pages.push(Page::default());
        self.y = CONTENT_TOP;
    }
}

/// Baselines of the running header (continuation pages) and of the footer (every page).
pub(crate) const HEADER_BASELINE: f32 = 38.0;
pub(crate) const FOOTER_BASELINE: f32 = PAGE_HEIGHT - 36.0;
/// The hairline above the footer.
pub(crate) const FOOTER_RULE: f32 = PAGE_HEIGHT - 50.0;
/// The hairline below the running header.
pub(crate) const HEADER_RULE: f32 = 46.0;

#[cfg(test)]
mod tests {
    use super::*;

    fn fonts() -> Fonts {
        Fonts::load().unwrap()
    }

    const BODY: Style = Style::new(Face::Regular, 10.0, INK);

    #[test]
    fn wrapped_lines_stay_within_the_column_and_keep_every_word() {
        let fonts = fonts();
        let text = "Workers inspected the scaffold planks, guardrails and toe boards before the shift began. ".repeat(6);
        let lines = wrap(&fonts, &text, BODY, 200.0);
        assert!(lines.len() > 3);
        assert!(lines
            .iter()
            .all(|l| fonts.width(l, Face::Regular, 10.0) <= 200.0));
        assert_eq!(
            lines.join(" ").split_whitespace().collect::<Vec<_>>(),
            text.split_whitespace().collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_word_wider_than_the_column_is_broken_between_characters() {
        let fonts = fonts();
        let word = "X".repeat(80);
        let lines = wrap(&fonts, &word, BODY, 100.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), word);
        assert!(lines
            .iter()
            .all(|l| fonts.width(l, Face::Regular, 10.0) <= 100.0));
    }

    #[test]
    fn line_breaks_and_blank_lines_in_an_answer_are_kept() {
        let lines = wrap(&fonts(), "one\r\n\ntwo\tthree", BODY, 300.0);
        assert_eq!(lines, vec!["one", "", "two three"]);
    }

    #[test]
    fn a_long_header_is_cut_with_an_ellipsis() {
        let fonts = fonts();
        let cut = truncate(&fonts, &"Riverside Tower ".repeat(20), BODY, 150.0);
        assert!(cut.ends_with('…'));
        assert!(fonts.width(&cut, Face::Regular, 10.0) <= 150.0);
        assert_eq!(truncate(&fonts, "Short", BODY, 150.0), "Short");
    }

    #[test]
    fn a_heading_goes_to_the_next_page_with_a_drawn_signature_too_tall_for_the_foot_of_this_one() {
        let fonts = fonts();
        let mut flow = Flow::new(&fonts);
        let row = |right: Vec<Cell>| Block::Row {
            left: Para::new("Question", BODY),
            right,
            left_width: 200.0,
        };
        // Rows until the foot of the page has room for a heading and two lines, not a drawing.
        while flow.y < CONTENT_BOTTOM - 100.0 {
            flow.push(&row(vec![Para::new("Answer", BODY).into()]));
        }
        flow.push(&Block::Heading {
            para: Para::new("Sign-off", BODY),
            space_before: 8.0,
        });
        flow.push(&row(vec![
            Cell::Sketch(Sketch(vec![vec![(0.0, 0.0), (1.0, 1.0)]])),
            Para::new("Ann Lee", BODY).into(),
        ]));
        let pages = flow.finish();
        assert_eq!(pages.len(), 2);
        let heading_page = pages
            .iter()
            .position(|p| p.fills.iter().any(|f| f.color == BAND))
            .unwrap();
        let ink_page = pages.iter().position(|p| !p.inks.is_empty()).unwrap();
        assert_eq!(
            (heading_page, ink_page),
            (1, 1),
            "the heading is with what it heads"
        );
    }
}
