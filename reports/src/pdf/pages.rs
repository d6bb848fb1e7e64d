//! The pages of a PDF report: the cover, a section per scope, the anomalies, the table of
//! contents, and the header and footer of every page.

use super::canvas::{
    self, Align, BOTTOM, Canvas, Cell, GREEN, INK, LEFT, MUTED, NAVY, PAGE_H, RED, RED_FILL, RIGHT,
    RULE, Row, WIDTH, col, table,
};
use super::chart;
use super::model::{ItemSummary, PdfReport, Section, opt, utilization};
use crate::Granularity;

pub(super) const TOC_FIRST: usize = 40;
pub(super) const TOC_PER_PAGE: usize = 44;

pub(super) fn kv(c: &mut Canvas, pairs: &[(&str, String)]) {
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

pub(super) fn cover(c: &mut Canvas, r: &PdfReport) {
    let sub = format!(
        "{} · {} · {} to {}",
        r.scope_label(),
        r.granularity.map(|g| g.as_str()).unwrap_or("-"),
        r.from,
        r.to
    );
    title_block(c, "License compliance report", &sub);
    incomplete(c, &r.gaps);
    let cov = &r.coverage;
    let mut pairs = vec![("Site", r.site.clone())];
    if let Some(t) = &r.tenant {
        pairs.push((
            "Prepared for",
            format!(
                "tenant {t}: this document holds this tenant's data only (its events, anomalies, rejected lines and entitlement)"
            ),
        ));
    }
    let events = match cov.sessions {
        Some(n) => format!("{} events, {n} sessions (in the report's days)", cov.events),
        None => format!("{} events (in the report's days)", cov.events),
    };
    pairs.extend([
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
        ("Events, sessions", events),
    ]);
    if let Some(n) = cov.snapshots {
        pairs.push(("Snapshots", format!("{n} configuration snapshot(s) stored")));
    }
    pairs.push(("Rolled up", cov.rolled.clone()));
    kv(c, &pairs);
    collectors(c, r);
    entitlement(c, r);
}

/// A document's title, the line under it, and a rule: the top of its first page.
pub(super) fn title_block(c: &mut Canvas, title: &str, subtitle: &str) {
    c.y -= 22.0;
    c.text(LEFT, c.y, title, 22.0, true, NAVY);
    c.y -= 20.0;
    c.text(LEFT, c.y, subtitle, 12.0, false, INK);
    c.y -= 10.0;
    c.line(&[(LEFT, c.y), (RIGHT, c.y)], 1.2, NAVY, None);
    c.gap(6.0);
}

/// An incomplete document says so before any number: in red, each gap.
pub(super) fn incomplete(c: &mut Canvas, gaps: &[String]) {
    if gaps.is_empty() {
        return;
    }
    c.paragraph(
        "INCOMPLETE REPORT: the numbers below do not cover everything they should.",
        11.0,
        RED,
    );
    for g in gaps {
        c.paragraph(&format!("• {g}"), 9.0, RED);
    }
    c.gap(6.0);
}

/// Each collector's last successful collection and last error.
fn collectors(c: &mut Canvas, r: &PdfReport) {
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
}

/// The license and entitlement files with their digests, and what each item is entitled to.
fn entitlement(c: &mut Canvas, r: &PdfReport) {
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

pub(super) fn status_cell(s: &ItemSummary) -> Cell {
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

pub(super) fn section(c: &mut Canvas, r: &PdfReport, s: &Section) {
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
    summary_table(c, s);
    charts(c, s, gran);
    over_use_table(c, s);
    all_rows_table(c, s, r.granularity);
}

/// Each item's peak, when it was reached, enabled seats, entitlement, utilization, status.
fn summary_table(c: &mut Canvas, s: &Section) {
    c.heading("Summary per item", 2);
    let rows = s.items.iter().map(|i| {
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
            Cell::new(utilization(i.busiest.as_ref(), i.entitled)),
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
            col("Item", 1.9, Align::Left),
            col("Model", 0.95, Align::Left),
            col("Peak", 0.6, Align::Right),
            col("Peak reached in", 2.3, Align::Left),
            col("Enabled", 0.75, Align::Right),
            col("Entitled", 0.8, Align::Right),
            col("Utilization", 1.75, Align::Right),
            col("Status", 1.55, Align::Left),
        ],
        rows,
        7.5,
    );
    c.paragraph(
        "Peak: the largest number of agents using a seat of the item at any one instant. Enabled: the largest number of agents configured and enabled for it. Entitled: the smallest daily entitlement of the period. Utilization: the largest ratio, on any one day, of that day's peak (named items: enabled seats) to that day's entitlement, and the first day it happened (a day's entitlement does not change within the day, so it is also the largest ratio of any 10-minute period); \"n of 0\": seats used on a day entitled to none.",
        7.0,
        MUTED,
    );
}

/// A chart per item of its seats per period against the entitlement.
fn charts(c: &mut Canvas, s: &Section, gran: &str) {
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
                forecast: &[],
            },
            118.0,
        );
        c.gap(6.0);
    }
}

/// Every over-use instance: item, period, measured value, entitlement, excess.
fn over_use_table(c: &mut Canvas, s: &Section) {
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
}

/// An RFC 3339 instant as people read it: `2026-10-25 01:04:05 +01:00`.
pub fn people_time(t: &str) -> String {
    match t.len() > 19 {
        true => format!("{} {}", t[..19].replacen('T', " ", 1), &t[19..]),
        false => t.to_string(),
    }
}

/// Every row of the report, the same numbers as the CSV.
///
/// Within a day the row's period already names the date, so "Peak at" shows the
/// time and offset only; weekly and monthly rows show the date too.
fn all_rows_table(c: &mut Canvas, s: &Section, granularity: Option<Granularity>) {
    c.heading("All rows of the report", 2);
    let long = matches!(
        granularity,
        Some(Granularity::Weekly | Granularity::Monthly)
    );
    let when = |t: &str| match long {
        true => people_time(t),
        false => people_time(t)
            .split_once(' ')
            .map(|(_, time)| time.to_string())
            .unwrap_or_default(),
    };
    let (period_w, at_w) = if long { (2.0, 2.1) } else { (3.2, 1.2) };
    let rows = s.rows.iter().map(|row| {
        let mut out = Row::new(vec![
            Cell::new(&row.period),
            Cell::new(&row.item),
            Cell::new(row.peak.to_string()),
            Cell::new(row.peak_at.as_deref().map(when).unwrap_or_default()),
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
            col("Period", period_w, Align::Left),
            col("Item", 2.3, Align::Left),
            col("Peak", 0.6, Align::Right),
            col("Peak at", at_w, Align::Left),
            col("Enabled", 0.8, Align::Right),
            col("Entitled", 0.85, Align::Right),
            col("Over-use", 1.0, Align::Left),
        ],
        rows,
        6.8,
    );
}

pub(super) fn anomalies(c: &mut Canvas, r: &PdfReport) {
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
        listed(
            c,
            ("Lines kept aside", "File:line: reason"),
            &a.rejects,
            a.rejects_total,
            " (`seatmeter rejects` lists them all)",
        );
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
    c.heading(&format!("Restated values ({})", a.restated_total), 2);
    if a.restated.is_empty() {
        c.paragraph(
            "None: no value of this report changed after its day was first rolled up.",
            9.0,
            MUTED,
        );
    } else {
        c.paragraph(
            "Late data changed these days after they were first rolled up: a report or bill made before shows the old value and must be reissued.",
            8.0,
            RED,
        );
        listed(
            c,
            ("Restated values", "Day, scope, item: old → new"),
            &a.restated,
            a.restated_total,
            "",
        );
    }
}

/// A one-column table of the first of `total` lines, and how many more there are.
fn listed(
    c: &mut Canvas,
    (title, column): (&str, &'static str),
    lines: &[String],
    total: u64,
    more: &str,
) {
    let rows = lines.iter().map(|x| Row::new(vec![Cell::new(x)]));
    table(c, title, &[col(column, 1.0, Align::Left)], rows, 7.5);
    if total > lines.len() as u64 {
        c.paragraph(
            &format!("… and {} more{more}.", total - lines.len() as u64),
            8.0,
            MUTED,
        );
    }
}

pub(super) fn contents(
    c: &mut Canvas,
    r: &PdfReport,
    first: usize,
    count: usize,
    starts: &[usize],
) {
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

pub(super) fn decorate(c: &mut Canvas, r: &PdfReport) {
    let header_right = format!("{} · {} to {}", r.scope_label(), r.from, r.to);
    decorate_frame(
        c,
        &Frame {
            site: &r.site,
            header_right: &header_right,
            generated_at: &r.generated_at,
            generator: &r.generator,
            timezone: &r.timezone,
            digest: &r.digest,
        },
    );
}

/// What every page's header and footer show.
pub(super) struct Frame<'a> {
    pub site: &'a str,
    pub header_right: &'a str,
    pub generated_at: &'a str,
    pub generator: &'a str,
    pub timezone: &'a str,
    /// SHA-256 of the document's rows as CSV, in the last page's footer.
    pub digest: &'a str,
}

/// Every page's header (site, what the document is) and footer (when and by what it was
/// generated, page i of N, and on the last page the rows' digest).
pub(super) fn decorate_frame(c: &mut Canvas, r: &Frame<'_>) {
    let n = c.pages.len();
    let header_right = r.header_right;
    let site = c.fonts.fit(r.site, WIDTH * 0.45, 7.5, true);
    for i in 0..n {
        c.target = Some(i);
        let size = 7.5;
        let top = PAGE_H - 40.0;
        c.text(LEFT, top, &site, size, true, NAVY);
        let w = c.fonts.width(header_right, size, false);
        c.text(RIGHT - w, top, header_right, size, false, MUTED);
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
