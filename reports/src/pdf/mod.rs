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

use printpdf::{Mm, PageAnnotId, PageAnnotation, PdfDocument, PdfPage, PdfSaveOptions};

use crate::{Entitled, Granularity, RenderError, ScopeKind};
use canvas::{
    Align, BOTTOM, Canvas, Cell, GREEN, INK, LEFT, MUTED, NAVY, PAGE_H, PAGE_W, RED, RED_FILL,
    RIGHT, RULE, Row, WIDTH, col, table,
};

/// Everything a PDF report shows. Built by the `seatmeter` crate from the store.
#[derive(Debug, Clone, Default)]
pub struct PdfReport {
    pub site: String,
    pub scope: Option<ScopeKind>,
    /// The `--id` the report was narrowed to, if any.
    pub scope_filter: Option<String>,
    pub granularity: Option<Granularity>,
    /// Local dates, `YYYY-MM-DD`.
    pub from: String,
    pub to: String,
    pub timezone: String,
    /// When the report was generated (from `SOURCE_DATE_EPOCH` when set).
    pub generated_at: String,
    /// e.g. "seatmeter 0.1.0"
    pub generator: String,
    pub coverage: Coverage,
    pub licenses: Vec<LicenseSource>,
    pub entitlement: Vec<ItemEntitlement>,
    pub sections: Vec<Section>,
    pub anomalies: Anomalies,
    /// SHA-256 (hex) of the report's rows as CSV.
    pub digest: String,
}

#[derive(Debug, Clone, Default)]
pub struct Coverage {
    pub first_event: Option<String>,
    pub last_event: Option<String>,
    pub events: u64,
    pub sessions: u64,
    pub snapshots: u64,
    /// Days of the report that are rolled up, as text.
    pub rolled: String,
    pub collectors: Vec<CollectorLine>,
}

#[derive(Debug, Clone, Default)]
pub struct CollectorLine {
    pub name: String,
    pub kind: String,
    pub last_success: Option<String>,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct LicenseSource {
    pub path: String,
    pub sha256: Option<String>,
    /// Why the file grants nothing, when it does not parse.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ItemEntitlement {
    pub item: String,
    pub model: String,
    pub features: String,
    /// What the files grant over the report's days, e.g. "40 to 2026-10-31, then 60".
    pub granted: String,
}

/// One scope: the system, a tenant or a group.
#[derive(Debug, Clone, Default)]
pub struct Section {
    /// "System", "Tenant acme", "Group acme/Support".
    pub title: String,
    pub scope_id: String,
    pub items: Vec<ItemSummary>,
    pub over_use: Vec<OverUseLine>,
    pub rows: Vec<RowLine>,
    /// Labels of the x axis: (period index, label).
    pub ticks: Vec<(usize, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct ItemSummary {
    pub item: String,
    pub named: bool,
    pub peak: u64,
    /// The 10-minute period in which the peak was first reached.
    pub peak_at: Option<String>,
    pub enabled: Option<u64>,
    /// The smallest daily entitlement of the range.
    pub entitled: Option<Entitled>,
    pub over_use_periods: u64,
    /// Per period, for the chart.
    pub peaks: Vec<u64>,
    pub enableds: Vec<Option<u64>>,
    pub entitleds: Vec<Option<Entitled>>,
    pub overs: Vec<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct OverUseLine {
    pub item: String,
    pub period_start: String,
    pub period_end: String,
    pub measured: u64,
    pub entitled: u64,
}

/// A report row, as the CSV has it (the period as a compact label: see [`period_label`]).
#[derive(Debug, Clone, Default)]
pub struct RowLine {
    pub period: String,
    pub item: String,
    pub peak: u64,
    pub enabled: Option<u64>,
    pub entitled: Option<Entitled>,
    pub over_use: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Anomalies {
    /// (local time, tenant, agent)
    pub stray_logouts: Vec<(String, String, String)>,
    pub stray_logouts_total: u64,
    /// "file:line: reason"
    pub rejects: Vec<String>,
    pub rejects_total: u64,
    /// Local dates of the report without any event.
    pub days_without_data: Vec<String>,
    pub license_errors: Vec<String>,
    /// Anything else the reader must know (data not rolled up yet, …).
    pub warnings: Vec<String>,
}

/// A period as people read it, from the RFC 3339 local start and end of a report row:
/// `2026-10-25 01:50–02:00 +01:00` (both offsets when a clock change falls at its end),
/// `2026-10-25` (daily), `2026-10-19 to 2026-10-25` (weekly), `2026-10` (monthly).
pub fn period_label(granularity: Granularity, start: &str, end: &str) -> String {
    if start.len() < 25 || end.len() < 25 {
        return format!("{start} – {end}");
    }
    match granularity {
        Granularity::TenMin | Granularity::Hourly => {
            let (date, a, oa) = (&start[..10], &start[11..16], &start[19..]);
            let (b, ob) = (&end[11..16], &end[19..]);
            if oa == ob {
                format!("{date} {a}–{b} {oa}")
            } else {
                format!("{date} {a} {oa} – {b} {ob}")
            }
        }
        Granularity::Daily => start[..10].to_string(),
        Granularity::Weekly => {
            let last = chrono::NaiveDate::parse_from_str(&end[..10], "%Y-%m-%d")
                .map(|d| (d - chrono::TimeDelta::days(1)).to_string())
                .unwrap_or_else(|_| end[..10].to_string());
            format!("{} to {last}", &start[..10])
        }
        Granularity::Monthly => start[..7].to_string(),
    }
}

fn utilization(measured: u64, e: Option<Entitled>) -> String {
    match e {
        Some(Entitled::Seats(0)) if measured == 0 => "0 %".into(),
        Some(Entitled::Seats(0)) => "—".into(),
        Some(Entitled::Seats(n)) => format!("{:.0} %", measured as f64 * 100.0 / n as f64),
        Some(Entitled::Unlimited) => "unlimited".into(),
        None => "no license".into(),
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "–".into())
}

impl PdfReport {
    fn scope_label(&self) -> String {
        let kind = match self.scope {
            Some(ScopeKind::Tenant) => "Tenant report",
            Some(ScopeKind::Group) => "Group report",
            _ => "System report",
        };
        match &self.scope_filter {
            Some(id) => format!("{kind} ({id})"),
            None => kind.to_string(),
        }
    }
}

/// Renders the report.
pub fn render(r: &PdfReport) -> Result<Vec<u8>, RenderError> {
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
    if with_toc {
        contents(&mut c, r, toc_at, toc_pages, &starts);
    }
    decorate(&mut c, r);

    let mut doc = PdfDocument::new(&format!("{} – {}", r.site, r.scope_label()));
    doc.metadata.info.author = r.generator.clone();
    doc.metadata.info.creator = r.generator.clone();
    doc.metadata.info.producer = r.generator.clone();
    doc.metadata.info.subject = format!("{} {} to {}", r.scope_label(), r.from, r.to);
    c.fonts
        .embed(&mut doc)
        .map_err(|e| RenderError::Io(std::io::Error::other(e)))?;
    // Bookmarks with fixed ids, in section order.
    for (i, (s, &p)) in r.sections.iter().zip(&starts).enumerate() {
        doc.bookmarks.map.insert(
            PageAnnotId(format!("b{i:06}")),
            PageAnnotation {
                name: s.title.clone(),
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
        let h = Sha256::digest(format!(
            "{}|{}|{}|{}|{}",
            r.digest,
            r.scope_label(),
            r.from,
            r.to,
            r.generated_at
        ));
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

const TOC_FIRST: usize = 40;
const TOC_PER_PAGE: usize = 44;

fn kv(c: &mut Canvas, pairs: &[(&str, String)]) {
    let size = 9.0;
    let key_w = 128.0;
    for (k, v) in pairs {
        let lines = c.fonts.wrap(v, WIDTH - key_w, size, false);
        c.ensure(lines.len() as f32 * size * 1.4);
        c.y -= size * 1.4;
        c.text(LEFT, c.y, k, size, true, MUTED);
        for (i, l) in lines.iter().enumerate() {
            if i > 0 {
                c.y -= size * 1.3;
            }
            c.text(LEFT + key_w, c.y, l, size, false, INK);
        }
    }
    c.gap(8.0);
}

fn cover(c: &mut Canvas, r: &PdfReport) {
    c.y -= 22.0;
    c.text(LEFT, c.y, "License compliance report", 22.0, true, NAVY);
    c.y -= 20.0;
    let sub = format!(
        "{} · {} · {} to {}",
        r.scope_label(),
        r.granularity.map(|g| g.as_str()).unwrap_or("-"),
        r.from,
        r.to
    );
    c.text(LEFT, c.y, &sub, 12.0, false, INK);
    c.y -= 10.0;
    c.line(&[(LEFT, c.y), (RIGHT, c.y)], 1.2, NAVY, None);
    c.gap(6.0);
    let cov = &r.coverage;
    kv(
        c,
        &[
            ("Site", r.site.clone()),
            ("Scope", r.scope_label()),
            (
                "Granularity",
                r.granularity
                    .map(|g| g.as_str().to_string())
                    .unwrap_or_default(),
            ),
            ("Dates", format!("{} to {} (inclusive)", r.from, r.to)),
            ("Time zone", r.timezone.clone()),
            (
                "Generated",
                format!("{} by {}", r.generated_at, r.generator),
            ),
            ("First event", opt(cov.first_event.clone())),
            ("Last event", opt(cov.last_event.clone())),
            (
                "Events, sessions",
                format!(
                    "{} events, {} sessions (in the report's days)",
                    cov.events, cov.sessions
                ),
            ),
            (
                "Snapshots",
                format!("{} configuration snapshot(s) stored", cov.snapshots),
            ),
            ("Rolled up", cov.rolled.clone()),
        ],
    );
    c.heading("Collectors", 2);
    if r.coverage.collectors.is_empty() {
        c.paragraph("No collector is configured.", 9.0, MUTED);
    } else {
        let rows = r.coverage.collectors.iter().map(|k| {
            Row::new(vec![
                Cell::new(&k.name).bold(),
                Cell::new(&k.kind),
                Cell::new(k.last_success.clone().unwrap_or_else(|| "never".into())),
                match &k.last_error {
                    Some(e) => Cell::new(e).color(RED),
                    None => Cell::new("–"),
                },
            ])
        });
        table(
            c,
            "Collectors",
            &[
                col("Collector", 1.2, Align::Left),
                col("Kind", 1.0, Align::Left),
                col("Last successful collection", 1.8, Align::Left),
                col("Last error", 3.0, Align::Left),
            ],
            rows,
            8.0,
        );
    }
    c.heading("Entitlement", 2);
    if r.licenses.is_empty() {
        c.paragraph(
            "No license file is configured: no item has an entitlement.",
            9.0,
            MUTED,
        );
    } else {
        let rows = r.licenses.iter().map(|l| {
            Row::new(vec![
                Cell::new(&l.path),
                Cell::new(l.sha256.clone().unwrap_or_else(|| "–".into())),
                match &l.error {
                    Some(e) => Cell::new(format!("NOT USED: {e}")).color(RED).bold(),
                    None => Cell::new("used").color(GREEN),
                },
            ])
        });
        table(
            c,
            "License files",
            &[
                col("License file", 2.2, Align::Left),
                col("SHA-256", 3.3, Align::Left),
                col("Status", 1.5, Align::Left),
            ],
            rows,
            7.5,
        );
    }
    let rows = r.entitlement.iter().map(|e| {
        Row::new(vec![
            Cell::new(&e.item).bold(),
            Cell::new(&e.model),
            Cell::new(&e.features),
            Cell::new(&e.granted),
        ])
    });
    table(
        c,
        "Entitlement per item",
        &[
            col("Item", 2.0, Align::Left),
            col("Model", 1.0, Align::Left),
            col("Features", 2.0, Align::Left),
            col("Entitled on the report's days", 2.4, Align::Left),
        ],
        rows,
        8.0,
    );
}

fn status_cell(s: &ItemSummary) -> Cell {
    if s.over_use_periods > 0 {
        Cell::new(format!(
            "OVER-USE ({} period{})",
            s.over_use_periods,
            if s.over_use_periods == 1 { "" } else { "s" }
        ))
        .bold()
        .color(RED)
    } else {
        Cell::new("within entitlement").color(GREEN)
    }
}

fn section(c: &mut Canvas, r: &PdfReport, s: &Section) {
    c.heading(&s.title, 1);
    let over: u64 = s.items.iter().map(|i| i.over_use_periods).sum();
    let gran = match r.granularity {
        Some(Granularity::TenMin) => "10-minute",
        Some(Granularity::Hourly) => "hourly",
        Some(Granularity::Daily) => "daily",
        Some(Granularity::Weekly) => "weekly",
        Some(Granularity::Monthly) => "monthly",
        None => "",
    };
    c.paragraph(
        &if over > 0 {
            format!("Over-use: {} item(s) above their entitlement in {over} {gran} period(s). Details below.", s.items.iter().filter(|i| i.over_use_periods > 0).count())
        } else {
            format!("No over-use: every item stayed within its entitlement in every {gran} period.")
        },
        9.5,
        if over > 0 { RED } else { GREEN },
    );
    c.heading("Summary per item", 2);
    let rows = s.items.iter().map(|i| {
        let measured = if i.named {
            i.enabled.unwrap_or(0)
        } else {
            i.peak
        };
        let mut row = Row::new(vec![
            Cell::new(&i.item).bold(),
            Cell::new(if i.named { "named" } else { "concurrent" }),
            Cell::new(i.peak.to_string()),
            Cell::new(i.peak_at.clone().unwrap_or_else(|| "–".into())),
            Cell::new(opt(i.enabled)),
            Cell::new(
                i.entitled
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "–".into()),
            ),
            Cell::new(utilization(measured, i.entitled)),
            status_cell(i),
        ]);
        if i.over_use_periods > 0 {
            row.fill = Some(RED_FILL);
        }
        row
    });
    table(
        c,
        "Summary per item",
        &[
            col("Item", 2.2, Align::Left),
            col("Model", 1.0, Align::Left),
            col("Peak", 0.7, Align::Right),
            col("Peak reached in", 2.4, Align::Left),
            col("Enabled", 0.8, Align::Right),
            col("Entitled", 0.9, Align::Right),
            col("Utilization", 0.9, Align::Right),
            col("Status", 1.7, Align::Left),
        ],
        rows,
        7.5,
    );
    c.paragraph(
        "Peak: the largest number of agents using a seat of the item at any one instant. Enabled: the largest number of agents configured and enabled for it. Entitled: the smallest daily entitlement of the period. Utilization: peak (named items: enabled) against the entitlement.",
        7.0,
        MUTED,
    );
    c.heading(&format!("Seats per {gran} period"), 2);
    for i in &s.items {
        let title = format!(
            "{} ({})",
            i.item,
            if i.named {
                "named: over-use is measured on enabled seats"
            } else {
                "concurrent"
            }
        );
        chart::chart(
            c,
            &chart::Series {
                title: &title,
                peaks: &i.peaks,
                enabled: &i.enableds,
                entitled: &i.entitleds,
                over: &i.overs,
                ticks: &s.ticks,
            },
            118.0,
        );
        c.gap(6.0);
    }
    c.heading("Over-use instances", 2);
    if s.over_use.is_empty() {
        c.paragraph("None.", 9.0, GREEN);
    } else {
        let rows = s.over_use.iter().map(|o| {
            Row::new(vec![
                Cell::new(&o.item).bold(),
                Cell::new(&o.period_start),
                Cell::new(&o.period_end),
                Cell::new(o.measured.to_string()),
                Cell::new(o.entitled.to_string()),
                Cell::new(format!("+{}", o.measured.saturating_sub(o.entitled)))
                    .bold()
                    .color(RED),
            ])
        });
        table(
            c,
            "Over-use instances",
            &[
                col("Item", 2.0, Align::Left),
                col("Period start", 2.0, Align::Left),
                col("Period end", 2.0, Align::Left),
                col("Measured", 0.9, Align::Right),
                col("Entitled", 0.9, Align::Right),
                col("Excess", 0.8, Align::Right),
            ],
            rows,
            7.5,
        );
    }
    c.heading("All rows of the report", 2);
    let rows = s.rows.iter().map(|row| {
        let mut out = Row::new(vec![
            Cell::new(&row.period),
            Cell::new(&row.item),
            Cell::new(row.peak.to_string()),
            Cell::new(row.enabled.map(|e| e.to_string()).unwrap_or_default()),
            Cell::new(row.entitled.map(|e| e.to_string()).unwrap_or_default()),
            if row.over_use {
                Cell::new("OVER-USE").bold().color(RED)
            } else {
                Cell::new("")
            },
        ]);
        if row.over_use {
            out.fill = Some(RED_FILL);
        }
        out
    });
    table(
        c,
        "All rows of the report",
        &[
            col("Period", 2.6, Align::Left),
            col("Item", 2.4, Align::Left),
            col("Peak", 0.7, Align::Right),
            col("Enabled", 0.8, Align::Right),
            col("Entitled", 0.85, Align::Right),
            col("Over-use", 1.0, Align::Left),
        ],
        rows,
        6.8,
    );
}

fn anomalies(c: &mut Canvas, r: &PdfReport) {
    c.new_page();
    c.heading("Anomalies and data quality", 1);
    let a = &r.anomalies;
    for w in &a.warnings {
        c.paragraph(&format!("Warning: {w}"), 9.0, RED);
    }
    for e in &a.license_errors {
        c.paragraph(&format!("License file not used: {e}"), 9.0, RED);
    }
    c.heading(&format!("Stray logouts ({})", a.stray_logouts_total), 2);
    if a.stray_logouts.is_empty() {
        c.paragraph("None: every logout ended a session.", 9.0, MUTED);
    } else {
        c.paragraph(
            "A logout of an agent who was not logged in changes no count; it is listed here.",
            8.0,
            MUTED,
        );
        let rows = a.stray_logouts.iter().map(|(t, tenant, agent)| {
            Row::new(vec![Cell::new(t), Cell::new(tenant), Cell::new(agent)])
        });
        table(
            c,
            "Stray logouts",
            &[
                col("Time", 2.0, Align::Left),
                col("Tenant", 2.0, Align::Left),
                col("Agent", 2.0, Align::Left),
            ],
            rows,
            7.5,
        );
        if a.stray_logouts_total > a.stray_logouts.len() as u64 {
            c.paragraph(
                &format!(
                    "… and {} more.",
                    a.stray_logouts_total - a.stray_logouts.len() as u64
                ),
                8.0,
                MUTED,
            );
        }
    }
    c.heading(
        &format!("Lines kept aside by the collectors ({})", a.rejects_total),
        2,
    );
    if a.rejects.is_empty() {
        c.paragraph("None.", 9.0, MUTED);
    } else {
        let rows = a.rejects.iter().map(|x| Row::new(vec![Cell::new(x)]));
        table(
            c,
            "Lines kept aside",
            &[col("File:line: reason", 1.0, Align::Left)],
            rows,
            7.5,
        );
        if a.rejects_total > a.rejects.len() as u64 {
            c.paragraph(
                &format!(
                    "… and {} more (`seatmeter rejects` lists them all).",
                    a.rejects_total - a.rejects.len() as u64
                ),
                8.0,
                MUTED,
            );
        }
    }
    c.heading(
        &format!("Days without data ({})", a.days_without_data.len()),
        2,
    );
    if a.days_without_data.is_empty() {
        c.paragraph("None: every day of the report has events.", 9.0, MUTED);
    } else {
        c.paragraph(&a.days_without_data.join(", "), 8.5, INK);
    }
}

fn contents(c: &mut Canvas, r: &PdfReport, first: usize, count: usize, starts: &[usize]) {
    let saved_y = c.y;
    let mut page = first;
    c.target = Some(page);
    c.y = canvas::TOP;
    c.heading("Contents", 1);
    let size = 9.0;
    let mut on_page = 0;
    for (s, &p) in r.sections.iter().zip(starts) {
        let limit = if page == first {
            TOC_FIRST
        } else {
            TOC_PER_PAGE
        };
        if on_page == limit {
            page += 1;
            assert!(
                page < first + count,
                "the contents fit the pages reserved for them"
            );
            c.target = Some(page);
            c.y = canvas::TOP;
            on_page = 0;
        }
        on_page += 1;
        c.y -= size * 1.55;
        let title = c.fonts.fit(&s.title, 290.0, size, false);
        c.text(LEFT, c.y, &title, size, false, INK);
        let over = s.items.iter().filter(|x| x.over_use_periods > 0).count();
        if over > 0 {
            c.text(
                LEFT + 300.0,
                c.y,
                &format!("OVER-USE ({over} item{})", if over == 1 { "" } else { "s" }),
                size,
                true,
                RED,
            );
        }
        let label = (p + 1).to_string();
        let w = c.fonts.width(&label, size, false);
        c.text(RIGHT - w, c.y, &label, size, false, INK);
        c.line(
            &[(LEFT, c.y - 3.0), (RIGHT, c.y - 3.0)],
            0.2,
            RULE,
            Some(1.0),
        );
    }
    c.target = None;
    c.y = saved_y;
}

fn decorate(c: &mut Canvas, r: &PdfReport) {
    let n = c.pages.len();
    let header_right = format!("{} · {} to {}", r.scope_label(), r.from, r.to);
    let site = c.fonts.fit(&r.site, WIDTH * 0.45, 7.5, true);
    for i in 0..n {
        c.target = Some(i);
        let size = 7.5;
        let top = PAGE_H - 40.0;
        c.text(LEFT, top, &site, size, true, NAVY);
        let w = c.fonts.width(&header_right, size, false);
        c.text(RIGHT - w, top, &header_right, size, false, MUTED);
        c.line(&[(LEFT, top - 5.0), (RIGHT, top - 5.0)], 0.5, RULE, None);
        let foot = BOTTOM - 26.0;
        c.line(
            &[(LEFT, foot + 10.0), (RIGHT, foot + 10.0)],
            0.5,
            RULE,
            None,
        );
        c.text(
            LEFT,
            foot,
            &format!(
                "Generated {} by {} · times in {}",
                r.generated_at, r.generator, r.timezone
            ),
            size,
            false,
            MUTED,
        );
        let label = format!("page {} of {n}", i + 1);
        let w = c.fonts.width(&label, size, true);
        c.text(RIGHT - w, foot, &label, size, true, INK);
        if i + 1 == n {
            c.text(
                LEFT,
                foot - 11.0,
                &format!("SHA-256 of the report rows (CSV): {}", r.digest),
                6.5,
                false,
                MUTED,
            );
        }
    }
    c.target = None;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(sections: usize, rows: usize) -> PdfReport {
        let item = |name: &str, over: bool| ItemSummary {
            item: name.into(),
            named: false,
            peak: 12,
            peak_at: Some("2026-10-25T10:10:00+00:00 – 10:20".into()),
            enabled: Some(15),
            entitled: Some(Entitled::Seats(10)),
            over_use_periods: over as u64,
            peaks: (0..rows as u64).map(|i| i % 13).collect(),
            enableds: vec![Some(15); rows],
            entitleds: vec![Some(Entitled::Seats(10)); rows],
            overs: (0..rows as u64).map(|i| i % 13 > 10).collect(),
        };
        PdfReport {
            site: "Łódź contact center".into(),
            scope: Some(ScopeKind::Tenant),
            granularity: Some(Granularity::Daily),
            from: "2026-10-01".into(),
            to: "2026-10-31".into(),
            timezone: "Europe/Warsaw".into(),
            generated_at: "2026-11-01 00:00:00 UTC".into(),
            generator: "seatmeter test".into(),
            digest: "ab".repeat(32),
            sections: (0..sections)
                .map(|s| Section {
                    title: format!("Tenant t{s:04} 日本"),
                    scope_id: format!("t{s:04}"),
                    items: vec![item("Voice", s % 2 == 0), item("E-Mail", false)],
                    over_use: vec![],
                    rows: (0..rows)
                        .map(|i| RowLine {
                            period: format!("p{i}"),
                            item: "Voice".into(),
                            peak: i as u64,
                            enabled: None,
                            entitled: None,
                            over_use: false,
                        })
                        .collect(),
                    ticks: vec![(0, "Oct 1".into())],
                })
                .collect(),
            ..PdfReport::default()
        }
    }

    #[test]
    fn period_labels() {
        use Granularity::*;
        assert_eq!(
            period_label(
                TenMin,
                "2026-10-25T00:50:00+01:00",
                "2026-10-25T01:00:00+01:00"
            ),
            "2026-10-25 00:50–01:00 +01:00"
        );
        assert_eq!(
            period_label(
                Hourly,
                "2026-10-25T01:00:00+01:00",
                "2026-10-25T01:00:00+00:00"
            ),
            "2026-10-25 01:00 +01:00 – 01:00 +00:00"
        );
        assert_eq!(
            period_label(
                Daily,
                "2026-10-25T00:00:00+01:00",
                "2026-10-26T00:00:00+00:00"
            ),
            "2026-10-25"
        );
        assert_eq!(
            period_label(
                Weekly,
                "2026-10-19T00:00:00+01:00",
                "2026-10-26T00:00:00+00:00"
            ),
            "2026-10-19 to 2026-10-25"
        );
        assert_eq!(
            period_label(
                Monthly,
                "2026-10-01T00:00:00+01:00",
                "2026-11-01T00:00:00+00:00"
            ),
            "2026-10"
        );
    }

    #[test]
    fn same_model_same_bytes() {
        let r = sample(3, 40);
        assert_eq!(render(&r).unwrap(), render(&r).unwrap());
        let mut other = r.clone();
        other.digest = "cd".repeat(32);
        assert_ne!(render(&r).unwrap(), render(&other).unwrap());
    }

    #[test]
    fn contents_pages_are_reserved_exactly() {
        // Enough sections for several pages of contents.
        let bytes = render(&sample(130, 3)).unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
    }
}
