//! A listing document: a cover block of facts, then tables that flow over pages, with the
//! same fonts, header, footer and digest as the compliance report. What the agent report
//! and the right-sizing recommendations print as PDF.

use super::canvas::{Align, Canvas, Cell, MUTED, RED, RED_FILL, Row, table};
use super::pages::{Frame, decorate_frame, incomplete, kv, title_block};
use super::{DocInfo, save};
use crate::RenderError;

/// Everything a listing shows.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// e.g. "Agent activity report".
    pub title: String,
    /// e.g. "Tenant acme · 2026-10-01 to 2026-10-31": under the title and in every header.
    pub subtitle: String,
    pub site: String,
    pub timezone: String,
    pub generated_at: String,
    pub generated_unix: i64,
    pub generator: String,
    /// What makes the numbers incomplete, first on the first page, in red.
    pub gaps: Vec<String>,
    /// Label and value pairs of the cover.
    pub facts: Vec<(String, String)>,
    /// Paragraphs after the facts (how to read the tables).
    pub notes: Vec<String>,
    pub tables: Vec<ListingTable>,
    /// SHA-256 (hex) of the same rows as CSV, in the last page's footer.
    pub digest: String,
}

/// One table of a listing.
#[derive(Debug, Clone, Default)]
pub struct ListingTable {
    pub heading: String,
    pub columns: Vec<ListingColumn>,
    pub rows: Vec<ListingRow>,
    /// Shown instead of the table when it has no row.
    pub empty: String,
}

#[derive(Debug, Clone)]
pub struct ListingColumn {
    pub title: String,
    /// Share of the page's width.
    pub width: f32,
    /// Numbers are right-aligned.
    pub numeric: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ListingRow {
    pub cells: Vec<String>,
    /// Tinted and its last cell in red, bold (e.g. over-use): said in words in the cells too.
    pub marked: bool,
}

/// Renders a listing.
pub fn render_listing(l: &Listing) -> Result<Vec<u8>, RenderError> {
    let mut c = Canvas::new();
    title_block(&mut c, &l.title, &l.subtitle);
    incomplete(&mut c, &l.gaps);
    let mut facts: Vec<(&str, String)> = vec![("Site", l.site.clone())];
    facts.extend(l.facts.iter().map(|(k, v)| (k.as_str(), v.clone())));
    facts.push(("Time zone", l.timezone.clone()));
    facts.push((
        "Generated",
        format!("{} by {}", l.generated_at, l.generator),
    ));
    kv(&mut c, &facts);
    for n in &l.notes {
        c.paragraph(n, 9.0, MUTED);
    }
    let mut bookmarks = Vec::new();
    tables(&mut c, &l.tables, &mut bookmarks);
    decorate_frame(
        &mut c,
        &Frame {
            site: &l.site,
            header_right: &l.subtitle,
            generated_at: &l.generated_at,
            generator: &l.generator,
            timezone: &l.timezone,
            digest: &l.digest,
        },
    );
    let info = DocInfo {
        title: format!("{} – {}", l.site, l.title),
        subject: l.subtitle.clone(),
        generator: l.generator.clone(),
        generated_unix: l.generated_unix,
        bookmarks,
        id_seed: format!("{}|{}|{}|{}", l.digest, l.title, l.subtitle, l.generated_at),
    };
    save(c, &info)
}

/// Tables of rows that flow over pages, each under its heading (bookmarked).
pub(super) fn tables(
    c: &mut Canvas,
    tables: &[ListingTable],
    bookmarks: &mut Vec<(String, usize)>,
) {
    for t in tables {
        c.gap(8.0);
        bookmarks.push((t.heading.clone(), c.page_index()));
        c.heading(&t.heading, 2);
        if t.rows.is_empty() {
            c.paragraph(&t.empty, 9.0, MUTED);
            continue;
        }
        let cols: Vec<_> = t
            .columns
            .iter()
            .map(|k| {
                let align = if k.numeric { Align::Right } else { Align::Left };
                super::canvas::Col {
                    title: k.title.clone().into(),
                    width: k.width,
                    align,
                }
            })
            .collect();
        let rows = t.rows.iter().map(|r| {
            let last = r.cells.len().saturating_sub(1);
            let cells = r
                .cells
                .iter()
                .enumerate()
                .map(|(i, s)| match r.marked && i == last {
                    true => Cell::new(s).bold().color(RED),
                    false => Cell::new(s),
                })
                .collect();
            let mut row = Row::new(cells);
            if r.marked {
                row.fill = Some(RED_FILL);
            }
            row
        });
        table(c, &t.heading, &cols, rows, 6.8);
    }
}
