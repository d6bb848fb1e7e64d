//! A thin layout layer over printpdf's drawing operations: pages that content flows onto
//! top to bottom, text measured with real font metrics, and tables whose header repeats on
//! every page they run onto. (printpdf has no wrapping or paging of its own.)

use printpdf::{
    Color, Line, LineDashPattern, LinePoint, Op, PaintMode, PdfFontHandle, Point, Polygon,
    PolygonRing, Pt, Rect, Rgb, TextItem, TextMatrix, WindingOrder,
};

use super::fonts::{Face, Fonts};

pub(crate) const PAGE_W: f32 = 595.28;
pub(crate) const PAGE_H: f32 = 841.89;
pub(crate) const LEFT: f32 = 48.0;
pub(crate) const RIGHT: f32 = PAGE_W - 48.0;
pub(crate) const WIDTH: f32 = RIGHT - LEFT;
/// Content starts below the header and ends above the footer.
pub(crate) const TOP: f32 = PAGE_H - 66.0;
pub(crate) const BOTTOM: f32 = 58.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rgb3(pub f32, pub f32, pub f32);

impl Rgb3 {
    pub(crate) const fn hex(v: u32) -> Rgb3 {
        Rgb3(
            ((v >> 16) & 0xff) as f32 / 255.0,
            ((v >> 8) & 0xff) as f32 / 255.0,
            (v & 0xff) as f32 / 255.0,
        )
    }

    fn color(self) -> Color {
        Color::Rgb(Rgb {
            r: self.0,
            g: self.1,
            b: self.2,
            icc_profile: None,
        })
    }
}

pub(crate) const INK: Rgb3 = Rgb3::hex(0x1a1a1a);
pub(crate) const MUTED: Rgb3 = Rgb3::hex(0x5f6368);
pub(crate) const NAVY: Rgb3 = Rgb3::hex(0x1f3864);
pub(crate) const RULE: Rgb3 = Rgb3::hex(0xb7c0cc);
pub(crate) const HEAD_FILL: Rgb3 = Rgb3::hex(0xdce3ee);
pub(crate) const ZEBRA: Rgb3 = Rgb3::hex(0xf4f6f9);
pub(crate) const RED: Rgb3 = Rgb3::hex(0xb00020);
pub(crate) const RED_FILL: Rgb3 = Rgb3::hex(0xfadbd8);
pub(crate) const GREEN: Rgb3 = Rgb3::hex(0x1e7b34);

#[derive(Default)]
pub(crate) struct Page {
    /// Fills and lines, drawn first.
    gfx: Vec<Op>,
    /// Text, drawn last in one text section.
    text: Vec<Op>,
    font: Option<(Face, u32)>,
    color: Option<Rgb3>,
    /// Graphics state, so that it is only written when it changes.
    fill: Option<Rgb3>,
    stroke: Option<(Rgb3, u32, u32)>,
}

/// Coordinates to a hundredth of a point: shorter content streams, same drawing.
fn pt(v: f32) -> Pt {
    Pt((v * 100.0).round() / 100.0)
}

fn point(x: f32, y: f32) -> LinePoint {
    LinePoint {
        p: Point { x: pt(x), y: pt(y) },
        bezier: false,
    }
}

impl Page {
    fn set_fill(&mut self, c: Rgb3) {
        if self.fill != Some(c) {
            self.gfx.push(Op::SetFillColor { col: c.color() });
            self.fill = Some(c);
        }
    }

    fn set_stroke(&mut self, c: Rgb3, width: f32, dash: Option<f32>) {
        let key = (c, width.to_bits(), dash.unwrap_or(0.0).to_bits());
        if self.stroke == Some(key) {
            return;
        }
        let old = self.stroke;
        if old.is_none_or(|o| o.0 != c) {
            self.gfx.push(Op::SetOutlineColor { col: c.color() });
        }
        if old.is_none_or(|o| o.1 != key.1) {
            self.gfx.push(Op::SetOutlineThickness { pt: Pt(width) });
        }
        if old.is_none_or(|o| o.2 != key.2) {
            self.gfx.push(Op::SetLineDashPattern {
                dash: match dash {
                    Some(d) => LineDashPattern::new(0.0, &[d, d]),
                    None => LineDashPattern::solid(),
                },
            });
        }
        self.stroke = Some(key);
    }
}

impl Page {
    pub(crate) fn into_ops(mut self) -> Vec<Op> {
        let mut ops = std::mem::take(&mut self.gfx);
        if !self.text.is_empty() {
            ops.push(Op::StartTextSection);
            ops.append(&mut self.text);
            ops.push(Op::EndTextSection);
        }
        ops
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

/// Where a cell's text goes: from `x`, `width` wide, aligned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Span {
    pub x: f32,
    pub width: f32,
    pub align: Align,
}

pub(crate) struct Canvas {
    pub fonts: Fonts,
    pub pages: Vec<Page>,
    /// Baseline-free cursor: the top of the next element, in PDF points from the bottom.
    pub y: f32,
    /// Draw onto this page instead of the last one (contents, headers and footers).
    pub target: Option<usize>,
}

impl Canvas {
    pub(crate) fn new() -> Canvas {
        Canvas {
            fonts: Fonts::new(),
            pages: vec![Page::default()],
            y: TOP,
            target: None,
        }
    }

    pub(crate) fn page_index(&self) -> usize {
        self.pages.len() - 1
    }

    fn page(&mut self) -> &mut Page {
        let i = self.target.unwrap_or(self.pages.len() - 1);
        &mut self.pages[i]
    }

    pub(crate) fn new_page(&mut self) {
        assert!(
            self.target.is_none(),
            "no page breaks while drawing onto a given page"
        );
        self.pages.push(Page::default());
        self.y = TOP;
    }

    /// Starts a new page unless the current one is still empty.
    pub(crate) fn fresh_page(&mut self) {
        if self.y < TOP {
            self.new_page();
        }
    }

    /// Makes room for `h` points, on a new page if needed; says whether it broke the page.
    pub(crate) fn ensure(&mut self, h: f32) -> bool {
        if self.y - h < BOTTOM && self.y < TOP {
            self.new_page();
            true
        } else {
            false
        }
    }

    pub(crate) fn gap(&mut self, h: f32) {
        self.y -= h;
    }

    /// Text at an absolute baseline, on the current page.
    pub(crate) fn text(
        &mut self,
        x: f32,
        baseline: f32,
        s: &str,
        size: f32,
        bold: bool,
        color: Rgb3,
    ) {
        let runs = self.fonts.runs(s, bold);
        let mut x = x;
        for (face, run) in runs {
            let w = self.fonts.width(&run, size, bold);
            let key = (face, size.to_bits());
            let page = self.page();
            if page.font != Some(key) {
                page.text.push(Op::SetFont {
                    font: PdfFontHandle::External(face.id()),
                    size: Pt(size),
                });
                page.font = Some(key);
            }
            if page.color != Some(color) {
                page.text.push(Op::SetFillColor { col: color.color() });
                page.color = Some(color);
            }
            page.text.push(Op::SetTextMatrix {
                matrix: TextMatrix::Translate(pt(x), pt(baseline)),
            });
            page.text.push(Op::ShowText {
                items: vec![TextItem::Text(run)],
            });
            x += w;
        }
    }

    /// Text in a span of the line (a table cell), aligned in it.
    pub(crate) fn text_in(
        &mut self,
        span: Span,
        baseline: f32,
        s: &str,
        size: f32,
        bold: bool,
        color: Rgb3,
    ) {
        let x = match span.align {
            Align::Left => span.x,
            Align::Right => span.x + span.width - self.fonts.width(s, size, bold),
        };
        self.text(x, baseline, s, size, bold, color);
    }

    pub(crate) fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, fill: Rgb3) {
        let page = self.page();
        page.set_fill(fill);
        page.gfx.push(Op::DrawRectangle {
            rectangle: Rect {
                x: pt(x),
                y: pt(y),
                width: pt(w),
                height: pt(h),
                mode: Some(PaintMode::Fill),
                winding_order: None,
            },
        });
    }

    pub(crate) fn line(
        &mut self,
        points: &[(f32, f32)],
        width: f32,
        color: Rgb3,
        dash: Option<f32>,
    ) {
        let page = self.page();
        page.set_stroke(color, width, dash);
        page.gfx.push(Op::DrawLine {
            line: Line {
                points: points.iter().map(|&(x, y)| point(x, y)).collect(),
                is_closed: false,
            },
        });
    }

    /// A filled polygon (for areas under a curve).
    pub(crate) fn polygon(&mut self, points: &[(f32, f32)], fill: Rgb3) {
        let page = self.page();
        page.set_fill(fill);
        page.gfx.push(Op::DrawPolygon {
            polygon: Polygon {
                rings: vec![PolygonRing {
                    points: points.iter().map(|&(x, y)| point(x, y)).collect(),
                }],
                mode: PaintMode::Fill,
                winding_order: WindingOrder::NonZero,
            },
        });
    }

    /// A heading; level 1 is a section title.
    pub(crate) fn heading(&mut self, s: &str, level: u8) {
        let size = match level {
            1 => 15.0,
            2 => 11.5,
            _ => 9.5,
        };
        self.ensure(size * 1.6 + 40.0);
        if self.y < TOP {
            self.gap(size * 0.7);
        }
        self.y -= size;
        self.text(LEFT, self.y, s, size, true, NAVY);
        self.y -= size * 0.5;
        if level == 1 {
            self.line(&[(LEFT, self.y), (RIGHT, self.y)], 0.8, NAVY, None);
            self.y -= 6.0;
        }
    }

    /// Wrapped text across the content width.
    pub(crate) fn paragraph(&mut self, s: &str, size: f32, color: Rgb3) {
        let lines = self.fonts.wrap(s, WIDTH, size, false);
        for l in lines {
            self.ensure(size * 1.35);
            self.y -= size * 1.35;
            self.text(LEFT, self.y + size * 0.3, &l, size, false, color);
        }
        self.gap(3.0);
    }
}

/// One table column.
pub(crate) struct Col {
    pub title: std::borrow::Cow<'static, str>,
    /// Share of the content width.
    pub width: f32,
    pub align: Align,
}

pub(crate) const fn col(title: &'static str, width: f32, align: Align) -> Col {
    Col {
        title: std::borrow::Cow::Borrowed(title),
        width,
        align,
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Cell {
    pub text: String,
    pub bold: bool,
    pub color: Option<Rgb3>,
}

impl Cell {
    pub(crate) fn new(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            ..Cell::default()
        }
    }

    pub(crate) fn bold(mut self) -> Cell {
        self.bold = true;
        self
    }

    pub(crate) fn color(mut self, c: Rgb3) -> Cell {
        self.color = Some(c);
        self
    }
}

pub(crate) struct Row {
    pub cells: Vec<Cell>,
    /// Background of the whole row (over-use rows are tinted).
    pub fill: Option<Rgb3>,
}

impl Row {
    pub(crate) fn new(cells: Vec<Cell>) -> Row {
        Row { cells, fill: None }
    }
}

/// A table that flows over pages, its header repeated on each page it continues onto
/// (under "`caption` (continued)"). Cells and headers wrap.
pub(crate) fn table(
    c: &mut Canvas,
    caption: &str,
    cols: &[Col],
    rows: impl IntoIterator<Item = Row>,
    size: f32,
) {
    let pad = 2.6;
    let lh = size * 1.22;
    let total: f32 = cols.iter().map(|k| k.width).sum();
    let widths: Vec<f32> = cols.iter().map(|k| k.width / total * WIDTH).collect();
    let titles: Vec<Vec<String>> = cols
        .iter()
        .zip(&widths)
        .map(|(k, w)| c.fonts.wrap(&k.title, w - 2.0 * pad, size, true))
        .collect();
    let header_h = titles.iter().map(Vec::len).max().unwrap_or(1) as f32 * lh + 2.0 * pad;
    let draw_header = |c: &mut Canvas, continued: bool| {
        if continued {
            c.y -= size * 1.4;
            c.text(
                LEFT,
                c.y + 2.0,
                &format!("{caption} (continued)"),
                size,
                false,
                MUTED,
            );
        }
        let top = c.y;
        c.rect(LEFT, top - header_h, WIDTH, header_h, HEAD_FILL);
        let mut x = LEFT;
        for ((k, w), lines) in cols.iter().zip(&widths).zip(&titles) {
            for (i, l) in lines.iter().enumerate() {
                let span = Span {
                    x: x + pad,
                    width: w - 2.0 * pad,
                    align: k.align,
                };
                c.text_in(
                    span,
                    top - pad - size - i as f32 * lh + 0.5,
                    l,
                    size,
                    true,
                    NAVY,
                );
            }
            x += w;
        }
        c.y -= header_h;
    };
    c.ensure(header_h + lh * 2.0 + 2.0 * pad);
    draw_header(c, false);
    for (n, row) in rows.into_iter().enumerate() {
        let lines: Vec<Vec<String>> = row
            .cells
            .iter()
            .zip(&widths)
            .map(|(cell, w)| c.fonts.wrap(&cell.text, w - 2.0 * pad, size, cell.bold))
            .collect();
        let height = lines.iter().map(Vec::len).max().unwrap_or(1) as f32 * lh + 2.0 * pad;
        if c.ensure(height) {
            draw_header(c, true);
        }
        let top = c.y;
        match row.fill {
            Some(f) => c.rect(LEFT, top - height, WIDTH, height, f),
            None if n % 2 == 1 => c.rect(LEFT, top - height, WIDTH, height, ZEBRA),
            None => {}
        }
        let mut x = LEFT;
        for ((cell, w), (k, ls)) in row.cells.iter().zip(&widths).zip(cols.iter().zip(&lines)) {
            for (i, l) in ls.iter().enumerate() {
                let baseline = top - pad - size - i as f32 * lh + 0.5;
                let span = Span {
                    x: x + pad,
                    width: w - 2.0 * pad,
                    align: k.align,
                };
                c.text_in(
                    span,
                    baseline,
                    l,
                    size,
                    cell.bold,
                    cell.color.unwrap_or(INK),
                );
            }
            x += w;
        }
        c.y -= height;
    }
    c.line(&[(LEFT, c.y), (RIGHT, c.y)], 0.5, RULE, None);
    c.gap(8.0);
}
