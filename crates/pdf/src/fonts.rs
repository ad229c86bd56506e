//! The two embedded DejaVu Sans faces and how wide a piece of text is in them.
//!
//! The fonts are compiled into the binary so a render never depends on what the machine it runs
//! on has installed: the same submission gives the same bytes on a laptop, in CI and in a slim
//! container. DejaVu covers Latin (with accents), Greek and Cyrillic, which is what names on a
//! North American job site need; see `fonts/LICENSE-DejaVu.txt` for its (permissive) licence.

use krilla::text::Font;
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::{charmap::Charmap, FontRef, GlyphId, MetadataProvider};

use crate::PdfError;

static REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// Which of the two faces a run of text is set in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Face {
    Regular,
    Bold,
}

/// One face: krilla's handle to draw with and skrifa's tables to measure with.
struct Measured {
    font: Font,
    charmap: Charmap<'static>,
    /// Advances at a size of 1, i.e. in ems, so a width is `sum * font_size`.
    metrics: GlyphMetrics<'static>,
}

impl Measured {
    fn load(name: &'static str, bytes: &'static [u8]) -> Result<Self, PdfError> {
        let font = Font::new(bytes.into(), 0).ok_or(PdfError::Font(name))?;
        let font_ref = FontRef::new(bytes).map_err(|_| PdfError::Font(name))?;
        Ok(Measured {
            font,
            charmap: font_ref.charmap(),
            metrics: font_ref.glyph_metrics(Size::new(1.0), LocationRef::default()),
        })
    }

    fn advance(&self, ch: char) -> f32 {
        // A character the font lacks is drawn as .notdef (glyph 0), so measure that.
        let glyph = self.charmap.map(ch).unwrap_or(GlyphId::NOTDEF);
        self.metrics.advance_width(glyph).unwrap_or(0.6)
    }
}

/// The faces a document is set in, loaded once per render.
pub(crate) struct Fonts {
    regular: Measured,
    bold: Measured,
}

impl Fonts {
    pub(crate) fn load() -> Result<Self, PdfError> {
        Ok(Fonts {
            regular: Measured::load("DejaVuSans.ttf", REGULAR)?,
            bold: Measured::load("DejaVuSans-Bold.ttf", BOLD)?,
        })
    }

    fn face(&self, face: Face) -> &Measured {
        match face {
            Face::Regular => &self.regular,
            Face::Bold => &self.bold,
        }
    }

    pub(crate) fn font(&self, face: Face) -> Font {
        self.face(face).font.clone()
    }

    /// The width of `text` in points. It sums advances without kerning: kerning moves a line by a
    /// fraction of a point, which the layout's slack at the right edge absorbs.
    pub(crate) fn width(&self, text: &str, face: Face, size: f32) -> f32 {
        let face = self.face(face);
        text.chars().map(|c| face.advance(c)).sum::<f32>() * size
    }
}
