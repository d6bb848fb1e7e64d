//! One chart per item: peak concurrent seats (area or bars), enabled seats (line) and the
//! entitlement (red line) per period, over-use marked along the bottom.
//!
//! A month of 10-minute periods has thousands of points for a few hundred points of width:
//! each column of the plot shows the largest peak of its periods, so no peak is lost.

use super::canvas::{Canvas, INK, LEFT, MUTED, RED, RULE, Rgb3, WIDTH};

const AREA: Rgb3 = Rgb3::hex(0xa9c8e8);
const AREA_EDGE: Rgb3 = Rgb3::hex(0x2e6da4);
const ENABLED: Rgb3 = Rgb3::hex(0x404040);

pub(crate) use crate::chart::Series;
use crate::chart::{bars, columns as model_columns, scale};

/// The plot area of a chart and its vertical scale.
struct Plot {
    left: f32,
    right: f32,
    top: f32,
    bottom: f32,
    ymax: u64,
    step: u64,
}

impl Plot {
    fn width(&self) -> f32 {
        self.right - self.left
    }

    fn y(&self, v: u64) -> f32 {
        self.bottom + (self.top - self.bottom) * v as f32 / self.ymax as f32
    }
}

const TICK_SIZE: f32 = 7.0;

pub(crate) fn chart(c: &mut Canvas, s: &Series<'_>, height: f32) {
    c.ensure(height + 6.0);
    let top = c.y;
    let bottom = top - height;
    let below = legend(c, s, top);
    // The scale fits the data; the entitlement is on it unless it is far above the data
    // (a small tenant against the system's entitlement), then it is named instead.
    let sc = scale(s);
    let (ymax, step, ent_top) = (sc.ymax, sc.step, sc.entitled_top);
    let plot = Plot {
        left: LEFT + 30.0,
        right: LEFT + WIDTH - 4.0,
        top: top - 18.0 - below,
        bottom: bottom + 20.0,
        ymax,
        step,
    };
    grid(c, &plot);
    if s.peaks.is_empty() {
        c.y = bottom;
        return;
    }
    let (unlimited, off_scale) = columns(c, s, &plot);
    if off_scale && let Some(e) = ent_top {
        let note = format!("entitled: up to {e}, above this scale");
        let w = c.fonts.width(&note, TICK_SIZE, false);
        c.rect(
            plot.right - w - 3.0,
            plot.top - 10.5,
            w + 3.0,
            10.0,
            Rgb3::hex(0xffffff),
        );
        c.text(
            plot.right - w - 1.5,
            plot.top - 8.0,
            &note,
            TICK_SIZE,
            false,
            RED,
        );
    }
    if unlimited {
        let note = "entitlement: unlimited";
        let w = c.fonts.width(note, TICK_SIZE, false);
        c.text(
            plot.right - w - 1.5,
            plot.top - 8.0,
            note,
            TICK_SIZE,
            false,
            MUTED,
        );
    }
    x_labels(c, s, &plot);
    c.y = bottom;
}

/// The title and the legend above the plot: on the title's line when both fit, else on
/// a line of its own under the title. Returns how much lower the plot starts.
fn legend(c: &mut Canvas, s: &Series<'_>, top: f32) -> f32 {
    const TITLE_SIZE: f32 = 8.5;
    c.text(LEFT, top - 9.0, s.title, TITLE_SIZE, true, INK);
    let mut entries = vec![
        ("peak concurrent", AREA, Key::Area),
        ("enabled", ENABLED, Key::Line(1.0)),
        ("entitled", RED, Key::Line(1.4)),
    ];
    if s.over.contains(&true) {
        entries.push(("over-use (strip under the plot)", RED, Key::Strip));
    }
    let widths: Vec<f32> = entries
        .iter()
        .map(|(label, _, _)| 13.0 + c.fonts.width(label, TICK_SIZE, false))
        .collect();
    let total: f32 = widths.iter().sum::<f32>() + 12.0 * (entries.len() - 1) as f32;
    let title_end = LEFT + c.fonts.width(s.title, TITLE_SIZE, true);
    let (mut lx, y, below) = if title_end + 16.0 <= LEFT + WIDTH - total {
        (LEFT + WIDTH - total, top - 9.0, 0.0)
    } else {
        (LEFT, top - 20.0, 11.0)
    };
    for ((label, color, key), w) in entries.into_iter().zip(widths) {
        match key {
            Key::Area => c.rect(lx, y - 0.5, 10.0, 6.0, color),
            Key::Line(width) => c.line(&[(lx, y + 2.5), (lx + 10.0, y + 2.5)], width, color, None),
            Key::Strip => c.rect(lx, y + 1.0, 10.0, 3.0, color),
        }
        c.text(lx + 13.0, y, label, TICK_SIZE, false, MUTED);
        lx += w + 12.0;
    }
    below
}

/// How a legend entry is drawn.
enum Key {
    Area,
    Line(f32),
    Strip,
}

/// Horizontal grid lines with the seat counts on the y axis.
fn grid(c: &mut Canvas, plot: &Plot) {
    let mut v = 0;
    while v <= plot.ymax {
        let y = plot.y(v);
        c.line(
            &[(plot.left, y), (plot.right, y)],
            if v == 0 { 0.6 } else { 0.3 },
            RULE,
            None,
        );
        let label = v.to_string();
        let w = c.fonts.width(&label, TICK_SIZE, false);
        c.text(
            plot.left - 4.0 - w,
            y - 2.4,
            &label,
            TICK_SIZE,
            false,
            MUTED,
        );
        v += plot.step;
    }
}

/// The peaks (bars, or an area for many periods), the enabled seats and the entitlement
/// as step lines, and the over-use strip under the plot; at most one column per point of
/// width, each the largest of its periods. Returns whether some period was entitled
/// without limit, and whether the entitlement went above the scale.
fn columns(c: &mut Canvas, s: &Series<'_>, plot: &Plot) -> (bool, bool) {
    let cols = model_columns(s, plot.width() as usize);
    let colw = plot.width() / cols.len().max(1) as f32;
    let bars = bars(s.peaks.len());
    let mut area: Vec<(f32, f32)> = vec![(plot.left, plot.bottom)];
    let mut enabled_line: Vec<(f32, f32)> = Vec::new();
    let mut ent_line: Vec<(f32, f32)> = Vec::new();
    let mut unlimited = false;
    let mut off_scale = false;
    for (i, col) in cols.iter().enumerate() {
        let x0 = plot.left + i as f32 * colw;
        let x1 = x0 + colw;
        if bars {
            let inset = colw * 0.18;
            c.rect(
                x0 + inset,
                plot.bottom,
                colw - 2.0 * inset,
                plot.y(col.peak) - plot.bottom,
                AREA,
            );
        } else {
            step_to(&mut area, x0, x1, plot.y(col.peak));
        }
        match col.enabled {
            Some(e) => step_to(&mut enabled_line, x0, x1, plot.y(e)),
            None => flush(c, &mut enabled_line, 1.0, ENABLED),
        }
        unlimited |= col.unlimited;
        match col.entitled {
            Some(e) if e <= plot.ymax => step_to(&mut ent_line, x0, x1, plot.y(e)),
            Some(_) => {
                off_scale = true;
                flush(c, &mut ent_line, 1.4, RED)
            }
            None => flush(c, &mut ent_line, 1.4, RED),
        }
        if col.over {
            c.rect(x0, plot.bottom - 5.0, colw.max(0.8), 3.0, RED);
        }
    }
    if !bars {
        area.push((plot.right, plot.bottom));
        c.polygon(&area, AREA);
        let edge: Vec<(f32, f32)> = area[1..area.len() - 1].to_vec();
        c.line(&edge, 0.5, AREA_EDGE, None);
    }
    flush(c, &mut enabled_line, 1.0, ENABLED);
    flush(c, &mut ent_line, 1.4, RED);
    (unlimited, off_scale)
}

/// X labels, thinned so that they do not overlap.
fn x_labels(c: &mut Canvas, s: &Series<'_>, plot: &Plot) {
    let n = s.peaks.len();
    let bars = bars(n);
    let pw = plot.width();
    let mut last_end = f32::MIN;
    for (i, label) in s.ticks {
        let x = plot.left + (*i as f32 + if bars { 0.5 } else { 0.0 }) * pw / n as f32;
        let w = c.fonts.width(label, TICK_SIZE, false);
        let lx = (x - w / 2.0).max(plot.left - 8.0).min(plot.right - w);
        c.line(
            &[(x, plot.bottom), (x, plot.bottom - 2.5)],
            0.4,
            MUTED,
            None,
        );
        if lx > last_end + 6.0 {
            c.text(lx, plot.bottom - 13.0, label, TICK_SIZE, false, MUTED);
            last_end = lx + w;
        }
    }
}

/// Extends a step line over [x0, x1] at height y: a run at the same height is one segment.
fn step_to(pts: &mut Vec<(f32, f32)>, x0: f32, x1: f32, y: f32) {
    let n = pts.len();
    if n >= 2 && pts[n - 1].1 == y && pts[n - 2].1 == y {
        pts[n - 1].0 = x1;
    } else {
        pts.push((x0, y));
        pts.push((x1, y));
    }
}

fn flush(c: &mut Canvas, pts: &mut Vec<(f32, f32)>, width: f32, color: Rgb3) {
    if pts.len() >= 2 {
        c.line(pts, width, color, None);
    }
    pts.clear();
}
