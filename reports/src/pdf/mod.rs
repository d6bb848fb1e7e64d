//! Compliance reports as PDF documents, for auditors.
//!
//! The document: a cover block (site, scope, period, time zone, when generated, data
//! coverage), the entitlement (license files with their SHA-256, per item), then one section
//! per scope (a summary table per item, a chart per item, every over-use instance, and every
//! row of the report), and the anomalies. Every page has a header, and a footer with
//! "page i of N"; the last page's footer carries the SHA-256 of the report's rows (the CSV
//! of the same report), so two copies, or a copy and the CSV, can be compared.
//!
//! The same model and the same fonts give the same bytes: no clock, no random ids.

mod canvas;
mod chart;
mod fonts;
mod listing;
mod model;
mod pages;
#[cfg(test)]
mod tests;

pub use listing::{Listing, ListingColumn, ListingRow, ListingTable, render_listing};
pub use model::*;
pub use pages::people_time;
use pages::{TOC_FIRST, TOC_PER_PAGE, anomalies, contents, cover, decorate, section};

use printpdf::{Mm, PageAnnotId, PageAnnotation, PdfDocument, PdfPage, PdfSaveOptions};

use crate::RenderError;
use canvas::{Canvas, PAGE_H, PAGE_W};

/// Renders the report.
pub fn render(r: &PdfReport) -> Result<Vec<u8>, RenderError> {
    let (c, starts) = lay_out(r);
    let info = DocInfo {
        title: format!("{} – {}", r.site, r.scope_label()),
        subject: format!("{} {} to {}", r.scope_label(), r.from, r.to),
        generator: r.generator.clone(),
        generated_unix: r.generated_unix,
        bookmarks: r
            .sections
            .iter()
            .zip(starts)
            .map(|(s, p)| (s.title.clone(), p))
            .collect(),
        id_seed: format!(
            "{}|{}|{}|{}|{}",
            r.digest,
            r.scope_label(),
            r.from,
            r.to,
            r.generated_at
        ),
    };
    save(c, &info)
}

/// What a document says of itself: its metadata, its bookmarks (title and 0-based page),
/// and what its file identifier is made from (its content, never randomness).
pub(super) struct DocInfo {
    pub title: String,
    pub subject: String,
    pub generator: String,
    pub generated_unix: i64,
    pub bookmarks: Vec<(String, usize)>,
    pub id_seed: String,
}

/// Lays out every page: the cover, the contents (for several sections), a section per
/// scope, the anomalies, then headers and footers. Returns the pages and the page each
/// section starts on.
fn lay_out(r: &PdfReport) -> (Canvas, Vec<usize>) {
    let mut c = Canvas::new();
    cover(&mut c, r);
    // Tenant and group reports: a table of contents, then one section per scope, each on a
    // new page. The contents' length depends only on the number of sections, so its pages
    // are reserved first and filled in once the sections' pages are known.
    let with_toc = r.sections.len() > 1;
    let toc_at = c.page_index() + 1;
    let toc_pages = if with_toc {
        1 + (r.sections.len().saturating_sub(TOC_FIRST)).div_ceil(TOC_PER_PAGE)
    } else {
        0
    };
    if with_toc {
        for _ in 0..toc_pages {
            c.new_page();
        }
    }
    let mut starts = Vec::with_capacity(r.sections.len());
    for s in &r.sections {
        if with_toc || r.sections.len() > 1 {
            c.new_page();
        } else {
            c.fresh_page();
        }
        starts.push(c.page_index());
        section(&mut c, r, s);
    }
    anomalies(&mut c, r);
    if let Some(g) = &r.guardrails {
        c.new_page();
        c.heading("Guardrails: expiry, baselines and forecasts", 1);
        for n in &g.notes {
            c.paragraph(n, 9.0, canvas::MUTED);
        }
        listing::tables(&mut c, &g.tables, &mut Vec::new());
    }
    if with_toc {
        contents(&mut c, r, toc_at, toc_pages, &starts);
    }
    decorate(&mut c, r);
    (c, starts)
}

/// The document, with its fonts, bookmarks and identifier, as compressed PDF bytes.
pub(super) fn save(mut c: Canvas, r: &DocInfo) -> Result<Vec<u8>, RenderError> {
    let mut doc = PdfDocument::new(&r.title);
    doc.metadata.info.author = r.generator.clone();
    doc.metadata.info.creator = r.generator.clone();
    doc.metadata.info.producer = r.generator.clone();
    doc.metadata.info.subject = r.subject.clone();
    // The document's dates are the report's generation time (deterministic under
    // SOURCE_DATE_EPOCH), never printpdf's default of 1970-01-01.
    let generated = printpdf::OffsetDateTime::from_unix_timestamp(r.generated_unix)
        .unwrap_or_else(|_| printpdf::OffsetDateTime::epoch());
    doc.metadata.info.creation_date = generated;
    doc.metadata.info.modification_date = generated;
    doc.metadata.info.metadata_date = generated;
    c.fonts
        .embed(&mut doc)
        .map_err(|e| RenderError::Io(std::io::Error::other(e)))?;
    // Bookmarks with fixed ids, in section order.
    for (i, (title, p)) in r.bookmarks.iter().enumerate() {
        doc.bookmarks.map.insert(
            PageAnnotId(format!("b{i:06}")),
            PageAnnotation {
                name: title.clone(),
                page: p + 1,
            },
        );
    }
    let page = |ops| PdfPage::new(Mm(PAGE_W * 25.4 / 72.0), Mm(PAGE_H * 25.4 / 72.0), ops);
    let mut pages: Vec<PdfPage> = std::mem::take(&mut c.pages)
        .into_iter()
        .map(|p| page(p.into_ops()))
        .collect();
    // The fonts are subset already (Fonts::embed): printpdf need not subset them again,
    // and so a page's content depends on nothing but its own operations.
    let options = PdfSaveOptions {
        subset_fonts: false,
        ..PdfSaveOptions::default()
    };
    // Turning operations into content streams is most of the work and is done page by
    // page: the second half of a long report is converted on another core, in a document
    // of its own with the same fonts, and its content streams replace the placeholders
    // (which keep only their links, and on the first one every character the report
    // shows, for the document's character maps) in the document.
    let split = if pages.len() >= PARALLEL_PAGES {
        pages.len() / 2
    } else {
        pages.len()
    };
    let tail = pages.split_off(split);
    pages.extend(tail.iter().enumerate().map(|(i, p)| {
        let mut ops: Vec<printpdf::Op> = p
            .ops
            .iter()
            .filter(|op| matches!(op, printpdf::Op::LinkAnnotation { .. }))
            .cloned()
            .collect();
        if i == 0 {
            ops.extend(c.fonts.every_glyph());
        }
        page(ops)
    }));
    let mut tail_doc = PdfDocument::new("");
    tail_doc.resources.fonts = doc.resources.fonts.clone();
    tail_doc.with_pages(tail);
    doc.with_pages(pages);
    let (mut lo, tail_lo) = std::thread::scope(|scope| {
        let tail = (split < doc.pages.len())
            .then(|| scope.spawn(|| tail_doc.to_lopdf_document(&options, &mut Vec::new())));
        let lo = doc.to_lopdf_document(&options, &mut Vec::new());
        (lo, tail.map(|t| t.join().expect("PDF conversion thread")))
    });
    if let Some(tail_lo) = tail_lo {
        move_contents(&tail_lo, &mut lo, split)?;
    }
    // The file identifier: from the content (the rows' digest and the report's scope), not
    // random, so that the same report gives the same bytes.
    let id = {
        use sha2::{Digest, Sha256};
        let h = Sha256::digest(&r.id_seed);
        h[..16].to_vec()
    };
    lo.trailer.set(
        "ID",
        lopdf::Object::Array(vec![
            lopdf::Object::String(id.clone(), lopdf::StringFormat::Hexadecimal),
            lopdf::Object::String(id, lopdf::StringFormat::Hexadecimal),
        ]),
    );
    compress(&mut lo);
    let mut out = Vec::new();
    lo.save_to(&mut out)?;
    Ok(out)
}

/// Reports with at least this many pages are converted on two cores.
const PARALLEL_PAGES: usize = 16;

/// Puts the content streams of `from`'s pages in place of those of `to`'s pages from
/// `first` (0-based) on.
fn move_contents(
    from: &lopdf::Document,
    to: &mut lopdf::Document,
    first: usize,
) -> Result<(), RenderError> {
    let contents = |doc: &lopdf::Document, page: lopdf::ObjectId| {
        doc.get_dictionary(page)
            .and_then(|d| d.get(b"Contents"))
            .and_then(|c| c.as_reference())
            .map_err(|e| RenderError::Pdf(format!("page without content: {e}")))
    };
    let targets = to.get_pages();
    for (i, (_, page)) in from.get_pages().into_iter().enumerate() {
        let number = (first + i + 1) as u32;
        let target = targets
            .get(&number)
            .ok_or_else(|| RenderError::Pdf(format!("page {number} is missing")))?;
        let stream = from
            .get_object(contents(from, page)?)
            .map_err(|e| RenderError::Pdf(e.to_string()))?
            .clone();
        let id = contents(to, *target)?;
        to.objects.insert(id, stream);
    }
    Ok(())
}

/// Deflates every stream not yet filtered, at level 6 (lopdf's own `compress` uses level 9,
/// which took a third of the time of a 600-page report for a few per cent of size), on as
/// many threads as there are cores: streams are independent.
fn compress(doc: &mut lopdf::Document) {
    use std::io::Write;
    let mut streams: Vec<&mut lopdf::Stream> = doc
        .objects
        .values_mut()
        .filter_map(|o| match o {
            lopdf::Object::Stream(s) if !s.dict.has(b"Filter") && s.content.len() >= 64 => Some(s),
            _ => None,
        })
        .collect();
    let deflate = |stream: &mut lopdf::Stream| {
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(3));
        if enc.write_all(&stream.content).is_ok()
            && let Ok(data) = enc.finish()
            && data.len() < stream.content.len()
        {
            stream
                .dict
                .set("Filter", lopdf::Object::Name(b"FlateDecode".to_vec()));
            stream.set_content(data);
        }
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    let chunk = streams.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for part in streams.chunks_mut(chunk) {
            scope.spawn(move || part.iter_mut().for_each(|s| deflate(s)));
        }
    });
}
