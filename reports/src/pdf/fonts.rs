//! Fonts for PDF reports: Liberation Sans (regular, bold) for Latin, Greek and Cyrillic,
//! Droid Sans Fallback for any character Liberation lacks (CJK …). Text is measured with
//! the fonts' real advance widths; only the glyphs a document uses are embedded.

use std::collections::{BTreeSet, HashMap};

use printpdf::{FontId, ParsedFont, PdfDocument, PdfFont};

const REGULAR: &[u8] = include_bytes!("../../fonts/LiberationSans-Regular.ttf");
const BOLD: &[u8] = include_bytes!("../../fonts/LiberationSans-Bold.ttf");
const FALLBACK: &[u8] = include_bytes!("../../fonts/DroidSansFallbackFull.ttf");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Face {
    Regular = 0,
    Bold = 1,
    Fallback = 2,
}

impl Face {
    /// The resource name in the PDF (fixed, so that documents are reproducible).
    pub(crate) fn id(self) -> FontId {
        FontId(["F1", "F2", "F3"][self as usize].to_string())
    }
}

struct Metrics {
    font: ParsedFont,
    /// Advance of each mapped character, per point of font size.
    per_em: f32,
}

impl Metrics {
    fn parse(bytes: &[u8]) -> Metrics {
        let mut warnings = Vec::new();
        let font = ParsedFont::from_bytes(bytes, 0, &mut warnings).expect("embedded fonts parse");
        let per_em = 1.0 / font.units_per_em.max(1) as f32;
        Metrics { font, per_em }
    }

    fn advance(&self, c: char) -> Option<f32> {
        let gid = self.font.lookup_glyph_index(c as u32)?;
        let w = self.font.get_glyph_width(gid).unwrap_or(0);
        Some(w as f32 * self.per_em)
    }
}

pub(crate) struct Fonts {
    regular: Metrics,
    bold: Metrics,
    /// Parsed on first use: most reports never need it.
    fallback: Option<Metrics>,
    /// (character, bold) -> (face, advance per point of size)
    cache: HashMap<(char, bool), (Face, f32)>,
    /// The same for ASCII, without hashing: most text is ASCII.
    ascii: [[Option<(Face, f32)>; 128]; 2],
    used: [BTreeSet<char>; 3],
}

impl Fonts {
    pub(crate) fn new() -> Fonts {
        Fonts {
            regular: Metrics::parse(REGULAR),
            bold: Metrics::parse(BOLD),
            fallback: None,
            cache: HashMap::new(),
            ascii: [[None; 128]; 2],
            used: Default::default(),
        }
    }

    /// The face that sets `c`, and its advance per point; `?` stands for a character no
    /// face has.
    fn glyph(&mut self, c: char, bold: bool) -> (Face, f32, char) {
        if c.is_ascii() {
            if let Some((f, w)) = self.ascii[bold as usize][c as usize] {
                return (f, w, c);
            }
        } else if let Some(&(f, w)) = self.cache.get(&(c, bold)) {
            return (f, w, c);
        }
        let primary = if bold { &self.bold } else { &self.regular };
        let face = if bold { Face::Bold } else { Face::Regular };
        let found = match primary.advance(c) {
            Some(w) => Some((face, w)),
            None => {
                let fb = self
                    .fallback
                    .get_or_insert_with(|| Metrics::parse(FALLBACK));
                fb.advance(c).map(|w| (Face::Fallback, w))
            }
        };
        match found {
            Some(v) => {
                if c.is_ascii() {
                    self.ascii[bold as usize][c as usize] = Some(v);
                } else {
                    self.cache.insert((c, bold), v);
                }
                (v.0, v.1, c)
            }
            None => {
                let (f, w, _) = self.glyph('?', bold);
                (f, w, '?')
            }
        }
    }

    /// Width of `s` at `size` points.
    pub(crate) fn width(&mut self, s: &str, size: f32, bold: bool) -> f32 {
        s.chars()
            .filter(|c| !c.is_control())
            .map(|c| self.glyph(c, bold).1)
            .sum::<f32>()
            * size
    }

    /// Splits `s` into runs set in one face each, and notes the characters for embedding.
    pub(crate) fn runs(&mut self, s: &str, bold: bool) -> Vec<(Face, String)> {
        let mut out: Vec<(Face, String)> = Vec::new();
        for c in s.chars().filter(|c| !c.is_control()) {
            let (face, _, c) = self.glyph(c, bold);
            self.used[face as usize].insert(c);
            match out.last_mut() {
                Some((f, run)) if *f == face => run.push(c),
                _ => out.push((face, c.to_string())),
            }
        }
        out
    }

    /// Cuts `s` to fit `width`, ending with an ellipsis when it had to be cut.
    pub(crate) fn fit(&mut self, s: &str, width: f32, size: f32, bold: bool) -> String {
        if self.width(s, size, bold) <= width {
            return s.to_string();
        }
        let ell = self.width("…", size, bold);
        let mut out = String::new();
        let mut w = 0.0;
        for c in s.chars() {
            let cw = self.width(c.encode_utf8(&mut [0; 4]), size, bold);
            if w + cw + ell > width {
                break;
            }
            w += cw;
            out.push(c);
        }
        out.push('…');
        out
    }

    /// Breaks `s` into lines no wider than `width`, at spaces where it can, else anywhere.
    pub(crate) fn wrap(&mut self, s: &str, width: f32, size: f32, bold: bool) -> Vec<String> {
        if !s.contains('\n') && self.width(s, size, bold) <= width {
            return vec![s.to_string()];
        }
        let mut lines = Vec::new();
        for para in s.split('\n') {
            let mut line = String::new();
            for word in para.split(' ') {
                let candidate = if line.is_empty() {
                    word.to_string()
                } else {
                    format!("{line} {word}")
                };
                if self.width(&candidate, size, bold) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                // A word wider than the line is broken between characters.
                let mut piece = String::new();
                for c in word.chars() {
                    piece.push(c);
                    if self.width(&piece, size, bold) > width && piece.chars().count() > 1 {
                        piece.pop();
                        lines.push(std::mem::take(&mut piece));
                        piece.push(c);
                    }
                }
                line = piece;
            }
            lines.push(line);
        }
        lines
    }

    /// Text operations that show every character used, in its face: on a placeholder page
    /// whose content is replaced later, they make printpdf map every glyph the document
    /// uses (its ToUnicode tables are built from the characters the pages show).
    pub(crate) fn every_glyph(&self) -> Vec<printpdf::Op> {
        use printpdf::{Op, PdfFontHandle, Pt, TextItem};
        let mut ops = vec![Op::StartTextSection];
        for face in [Face::Regular, Face::Bold, Face::Fallback] {
            let used = &self.used[face as usize];
            if used.is_empty() {
                continue;
            }
            ops.push(Op::SetFont {
                font: PdfFontHandle::External(face.id()),
                size: Pt(1.0),
            });
            ops.push(Op::ShowText {
                items: vec![TextItem::Text(used.iter().collect())],
            });
        }
        ops.push(Op::EndTextSection);
        ops
    }

    /// Adds the faces used to `doc`, each subset to the glyphs used.
    pub(crate) fn embed(&self, doc: &mut PdfDocument) -> Result<(), String> {
        for (face, bytes) in [
            (Face::Regular, REGULAR),
            (Face::Bold, BOLD),
            (Face::Fallback, FALLBACK),
        ] {
            let used = &self.used[face as usize];
            if used.is_empty() {
                continue;
            }
            let metrics = match face {
                Face::Regular => &self.regular,
                Face::Bold => &self.bold,
                Face::Fallback => self.fallback.as_ref().expect("parsed when used"),
            };
            let mut gids: Vec<u16> = std::iter::once(0)
                .chain(
                    used.iter()
                        .filter_map(|&c| metrics.font.lookup_glyph_index(c as u32)),
                )
                .collect();
            gids.sort_unstable();
            gids.dedup();
            let subset = subset(bytes, &gids)?;
            let mut warnings = Vec::new();
            let font = ParsedFont::from_bytes(&subset, 0, &mut warnings)
                .ok_or("a subset font does not parse")?;
            doc.resources
                .fonts
                .map
                .insert(face.id(), PdfFont::new(font));
        }
        Ok(())
    }
}

fn subset(bytes: &[u8], gids: &[u16]) -> Result<Vec<u8>, String> {
    use allsorts::binary::read::ReadScope;
    use allsorts::font_data::FontData;
    use allsorts::subset::{CmapTarget, SubsetProfile};
    let data = ReadScope::new(bytes)
        .read::<FontData<'_>>()
        .map_err(|e| e.to_string())?;
    let provider = data.table_provider(0).map_err(|e| e.to_string())?;
    allsorts::subset::subset(&provider, gids, &SubsetProfile::Pdf, CmapTarget::Unicode)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_come_from_the_font() {
        let mut f = Fonts::new();
        let w = f.width("Inbound Voice", 10.0, false);
        // Liberation Sans is metric-compatible with Arial: "Inbound Voice" at 10 pt.
        assert!((w - 63.9).abs() < 1.0, "{w}");
        assert!(f.width("W", 10.0, true) > f.width("i", 10.0, true) * 3.0);
    }

    #[test]
    fn characters_liberation_lacks_use_the_fallback() {
        let mut f = Fonts::new();
        let runs = f.runs("Łódź 日本語 ok", false);
        let faces: Vec<Face> = runs.iter().map(|r| r.0).collect();
        assert_eq!(faces, [Face::Regular, Face::Fallback, Face::Regular]);
        assert_eq!(runs[1].1, "日本語");
        // No face has it: a question mark.
        let runs = f.runs("\u{e000}", false);
        assert_eq!(runs[0].1, "?");
    }

    #[test]
    fn wrapping_and_fitting() {
        let mut f = Fonts::new();
        let lines = f.wrap("one two three four five six seven", 60.0, 10.0, false);
        assert!(lines.len() >= 3, "{lines:?}");
        assert!(lines.iter().all(|l| f.width(l, 10.0, false) <= 60.0));
        assert_eq!(lines.join(" "), "one two three four five six seven");
        let long = f.wrap("0123456789abcdef0123456789abcdef", 40.0, 10.0, false);
        assert!(long.len() > 1 && long.concat() == "0123456789abcdef0123456789abcdef");
        let cut = f.fit("Genesys Interaction Recording", 50.0, 10.0, false);
        assert!(cut.ends_with('…') && f.width(&cut, 10.0, false) <= 50.0);
    }
}
