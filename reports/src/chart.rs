//! The chart model every chart is drawn from — the PDF's (`pdf/chart.rs`) and the web
//! console's SVG ([`svg`]) — so that the page and the PDF always agree: one chart per
//! item, peak concurrent seats per period, enabled seats and the entitlement as step
//! lines, over-use marked along the bottom.
//!
//! A month of 10-minute periods has thousands of points for a few hundred points of width:
//! each column shows the largest peak (and enabled seats) of its periods and the smallest
//! entitlement, so no peak and no shortfall is lost.

use crate::Entitled;

/// One item's values per period.
pub struct Series<'a> {
    pub title: &'a str,
    pub peaks: &'a [u64],
    pub enabled: &'a [Option<u64>],
    pub entitled: &'a [Option<Entitled>],
    pub over: &'a [bool],
    /// (period index, label) for the x axis.
    pub ticks: &'a [(usize, String)],
    /// The forecast of the periods after the last one (daily charts; empty: none): drawn
    /// after the data as a dashed line in its interval band.
    pub forecast: &'a [Band],
}

/// One forecast period: the prediction and its interval, in seats.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    pub low: f64,
    pub mid: f64,
    pub high: f64,
}

/// A "nice" upper bound for the axis (1, 2, 5 × 10^k steps, at most 5 of them) and its
/// step.
pub fn nice_max(v: u64) -> (u64, u64) {
    let v = v.max(1);
    let mut step = 1u64;
    loop {
        for m in [1u64, 2, 5] {
            let s = step * m;
            if v.div_ceil(s) <= 5 {
                return (v.div_ceil(s) * s, s);
            }
        }
        step *= 10;
    }
}

fn seats(e: &Option<Entitled>) -> Option<u64> {
    match e {
        Some(Entitled::Seats(n)) => Some(*n),
        _ => None,
    }
}

/// The vertical scale: it fits the data; the entitlement is on it unless it is far above
/// the data (a small tenant against the system's entitlement), then it is named instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    pub ymax: u64,
    pub step: u64,
    /// The largest number of seats entitled in any period.
    pub entitled_top: Option<u64>,
}

pub fn scale(s: &Series<'_>) -> Scale {
    // The forecast's prediction is on the scale; its band is cut at the top.
    let data_top = s
        .peaks
        .iter()
        .copied()
        .chain(s.enabled.iter().flatten().copied())
        // A prediction beyond a million seats (a degenerate fit) is not drawn to scale.
        .chain(
            s.forecast
                .iter()
                .map(|b| b.mid.clamp(0.0, 1e6).ceil() as u64),
        )
        .max()
        .unwrap_or(0);
    let ent_top = s.entitled.iter().filter_map(seats).max();
    let top_value = match ent_top {
        Some(e) if e <= 2 * data_top.max(1) => data_top.max(e),
        _ => data_top,
    };
    let (ymax, step) = nice_max(top_value);
    Scale {
        ymax,
        step,
        entitled_top: ent_top,
    }
}

/// Whether the peaks are drawn as bars (few periods) rather than an area.
pub fn bars(periods: usize) -> bool {
    periods <= 62
}

/// One column of the plot: the periods `periods.0..periods.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub periods: (usize, usize),
    /// The largest peak of its periods.
    pub peak: u64,
    /// The largest number of enabled seats (None: no period has a snapshot).
    pub enabled: Option<u64>,
    /// The smallest number of seats entitled (None: none, or unlimited only).
    pub entitled: Option<u64>,
    /// Whether a period was entitled without limit.
    pub unlimited: bool,
    /// Whether a period was over-used.
    pub over: bool,
}

/// The columns of a plot at most `max_columns` wide (one per period when they fit).
pub fn columns(s: &Series<'_>, max_columns: usize) -> Vec<Column> {
    let n = s.peaks.len();
    let cols = n.min(max_columns).max(1);
    if n == 0 {
        return Vec::new();
    }
    (0..cols)
        .map(|i| {
            let (a, b) = (i * n / cols, ((i + 1) * n / cols).max(i * n / cols + 1));
            Column {
                periods: (a, b),
                peak: s.peaks[a..b].iter().copied().max().unwrap_or(0),
                enabled: s.enabled[a..b].iter().flatten().max().copied(),
                entitled: s.entitled[a..b].iter().filter_map(seats).min(),
                unlimited: s.entitled[a..b].contains(&Some(Entitled::Unlimited)),
                over: s.over[a..b].iter().any(|&o| o),
            }
        })
        .collect()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The chart as an SVG element `width` × `height` (CSS pixels), with a `<title>` and a
/// text description for screen readers.
pub fn svg(s: &Series<'_>, width: u32, height: u32) -> String {
    use std::fmt::Write as _;
    let (w, h) = (width as f32, height as f32);
    let (left, top, bottom) = (44.0, 22.0, h - 26.0);
    // With a forecast, the data take their share of the width and the forecast the rest.
    let (n, f) = (s.peaks.len().max(1) as f32, s.forecast.len() as f32);
    let right = left + (w - 6.0 - left) * n / (n + f);
    let sc = scale(s);
    let y = |v: u64| bottom + (top - bottom) * v as f32 / sc.ymax as f32;
    let cols = columns(s, (right - left) as usize);
    let colw = (right - left) / cols.len().max(1) as f32;
    let peak = s.peaks.iter().max().copied().unwrap_or(0);
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{t}: peak {peak}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#,
        t = escape(s.title)
    );
    grid(&mut out, &sc, left, w - 6.0, &y);
    let bars = bars(s.peaks.len());
    let mut area = format!("M{left},{bottom}");
    let (mut enabled, mut ent) = (String::new(), String::new());
    let (mut unlimited, mut off_scale) = (false, false);
    for (i, c) in cols.iter().enumerate() {
        let (x0, x1) = (left + i as f32 * colw, left + (i + 1) as f32 * colw);
        if bars {
            let inset = colw * 0.18;
            let _ = write!(
                out,
                r##"<rect class="peak" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#a9c8e8"><title>{}</title></rect>"##,
                x0 + inset,
                y(c.peak),
                colw - 2.0 * inset,
                bottom - y(c.peak),
                c.peak
            );
        } else {
            let _ = write!(area, " L{x0:.1},{:.1} L{x1:.1},{:.1}", y(c.peak), y(c.peak));
        }
        let step = |path: &mut String, v: Option<u64>| match v {
            Some(v) => {
                let cmd = if path.is_empty() || path.ends_with('|') {
                    'M'
                } else {
                    'L'
                };
                let _ = write!(path, "{cmd}{x0:.1},{:.1} L{x1:.1},{:.1} ", y(v), y(v));
            }
            None => path.push('|'),
        };
        step(&mut enabled, c.enabled);
        match c.entitled {
            Some(e) if e <= sc.ymax => step(&mut ent, Some(e)),
            Some(_) => {
                off_scale = true;
                step(&mut ent, None)
            }
            None => step(&mut ent, None),
        }
        unlimited |= c.unlimited;
        if c.over {
            let _ = write!(
                out,
                r##"<rect class="over" x="{x0:.1}" y="{:.1}" width="{:.1}" height="4" fill="#c0392b"/>"##,
                bottom + 3.0,
                colw.max(1.0)
            );
        }
    }
    if !bars && !cols.is_empty() {
        let _ = write!(
            out,
            r##"<path class="peak" d="{area} L{right},{bottom} Z" fill="#a9c8e8" stroke="#2e6da4" stroke-width="0.6"/>"##
        );
    }
    for (path, color, sw, class) in [
        (&enabled, "#404040", 1.2, "enabled"),
        (&ent, "#c0392b", 1.8, "entitled"),
    ] {
        let d = path.replace('|', "");
        if !d.trim().is_empty() {
            let _ = write!(
                out,
                r#"<path class="{class}" d="{d}" fill="none" stroke="{color}" stroke-width="{sw}"/>"#
            );
        }
    }
    scale_note(&mut out, &sc, off_scale, unlimited, (w - 6.0, top + 10.0));
    x_labels(&mut out, s, left, right, bottom, bars);
    let last_ent = cols
        .last()
        .and_then(|c| c.entitled)
        .filter(|&e| e <= sc.ymax);
    forecast_svg(
        &mut out,
        s.forecast,
        (right, w - 6.0),
        last_ent,
        &y,
        sc.ymax,
    );
    legend(&mut out, s, left);
    out
}

/// The legend above the plot, naming what is drawn, and the end of the SVG.
fn legend(out: &mut String, s: &Series<'_>, left: f32) {
    use std::fmt::Write as _;
    let _ = write!(
        out,
        r#"<text x="{left}" y="12" class="legend">■ peak concurrent  — enabled  — entitled{}{}</text></svg>"#,
        if s.forecast.is_empty() {
            ""
        } else {
            "  ┄ forecast (band: its interval)"
        },
        if s.over.contains(&true) {
            "  ▬ over-use (under the plot)"
        } else {
            ""
        }
    );
}

/// Says where the entitlement is when the plot cannot show it: above the scale, or
/// unlimited.
fn scale_note(out: &mut String, sc: &Scale, off_scale: bool, unlimited: bool, (x, y): (f32, f32)) {
    use std::fmt::Write as _;
    let note = if off_scale {
        sc.entitled_top
            .map(|e| format!("entitled: up to {e}, above this scale"))
    } else if unlimited {
        Some("entitlement: unlimited".into())
    } else {
        None
    };
    if let Some(n) = note {
        let _ = write!(
            out,
            r#"<text x="{x:.1}" y="{y:.1}" class="tick" text-anchor="end">{n}</text>"#
        );
    }
}

/// The forecast after the data, between `x0` and `x1`: its interval as a band (cut at the
/// top of the scale), its prediction dashed, the last entitlement carried on dotted, and
/// a rule where the data end.
fn forecast_svg(
    out: &mut String,
    f: &[Band],
    (x0, x1): (f32, f32),
    entitled: Option<u64>,
    y: &dyn Fn(u64) -> f32,
    ymax: u64,
) {
    use std::fmt::Write as _;
    if f.is_empty() {
        return;
    }
    let step = (x1 - x0) / f.len() as f32;
    let x = |k: usize| x0 + (k as f32 + 0.5) * step;
    let yf = |v: f64| {
        let (top, bottom) = (y(ymax), y(0));
        bottom + (top - bottom) * (v.clamp(0.0, ymax as f64) / ymax as f64) as f32
    };
    let points = |ks: &mut dyn Iterator<Item = usize>, v: fn(&Band) -> f64| -> String {
        ks.map(|k| format!("{:.1},{:.1}", x(k), yf(v(&f[k]))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    // The band: out along the upper bounds, back along the lower ones.
    let upper = points(&mut (0..f.len()), |b| b.high);
    let lower = points(&mut (0..f.len()).rev(), |b| b.low);
    let mid = points(&mut (0..f.len()), |b| b.mid);
    let _ = write!(
        out,
        r##"<line class="forecast-start" x1="{x0:.1}" x2="{x0:.1}" y1="{:.1}" y2="{:.1}" stroke="#909090" stroke-width="0.6"/><polygon class="forecast-band" points="{} {}" fill="#e8d9f5" fill-opacity="0.8"/><polyline class="forecast" points="{}" fill="none" stroke="#6c3483" stroke-width="1.4" stroke-dasharray="4 3"><title>forecast: {:.0} ({:.0}–{:.0}) on the last day shown</title></polyline>"##,
        y(ymax),
        y(0),
        upper,
        lower,
        mid,
        f[f.len() - 1].mid,
        f[f.len() - 1].low,
        f[f.len() - 1].high,
    );
    // The axis after the data counts days ahead.
    let _ = write!(
        out,
        r#"<text x="{x1:.1}" y="{:.1}" class="tick" text-anchor="end">+{} days</text>"#,
        y(0) + 18.0,
        f.len()
    );
    if let Some(e) = entitled {
        let _ = write!(
            out,
            r##"<line class="entitled-ahead" x1="{x0:.1}" x2="{x1:.1}" y1="{e:.1}" y2="{e:.1}" stroke="#c0392b" stroke-width="1.2" stroke-dasharray="1 2"/>"##,
            e = y(e)
        );
    }
}

/// Horizontal grid lines with the seat counts on the y axis.
fn grid(out: &mut String, sc: &Scale, left: f32, right: f32, y: &dyn Fn(u64) -> f32) {
    use std::fmt::Write as _;
    let mut v = 0;
    while v <= sc.ymax {
        let _ = write!(
            out,
            r##"<line x1="{left}" x2="{right}" y1="{y:.1}" y2="{y:.1}" stroke="#d0d0d0" stroke-width="{sw}"/><text x="{lx}" y="{ty:.1}" class="tick" text-anchor="end">{v}</text>"##,
            y = y(v),
            sw = if v == 0 { 1.0 } else { 0.5 },
            lx = left - 4.0,
            ty = y(v) + 3.5
        );
        v += sc.step;
    }
}

/// X labels, thinned so that they do not overlap.
fn x_labels(out: &mut String, s: &Series<'_>, left: f32, right: f32, bottom: f32, bars: bool) {
    use std::fmt::Write as _;
    let n = s.peaks.len().max(1) as f32;
    let mut last_end = f32::MIN;
    for (i, label) in s.ticks {
        let x = left + (*i as f32 + if bars { 0.5 } else { 0.0 }) * (right - left) / n;
        let lw = label.len() as f32 * 5.5;
        if x - lw / 2.0 > last_end + 6.0 {
            let _ = write!(
                out,
                r#"<text x="{x:.1}" y="{:.1}" class="tick" text-anchor="middle">{}</text>"#,
                bottom + 18.0,
                escape(label)
            );
            last_end = x + lw / 2.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A "Voice" series without ticks or forecast.
    fn voice<'a>(
        peaks: &'a [u64],
        enabled: &'a [Option<u64>],
        entitled: &'a [Option<Entitled>],
        over: &'a [bool],
    ) -> Series<'a> {
        Series {
            title: "Voice",
            peaks,
            enabled,
            entitled,
            over,
            ticks: &[],
            forecast: &[],
        }
    }

    #[test]
    fn axis_bounds() {
        assert_eq!(nice_max(0), (1, 1));
        assert_eq!(nice_max(4), (4, 1));
        assert_eq!(nice_max(7), (8, 2));
        assert_eq!(nice_max(23), (25, 5));
        assert_eq!(nice_max(220), (250, 50));
        assert_eq!(nice_max(1001), (1500, 500));
    }

    #[test]
    fn columns_keep_every_peak_and_every_shortfall() {
        let peaks: Vec<u64> = (0..1000).map(|i| if i == 537 { 90 } else { 10 }).collect();
        let enabled = vec![Some(20); 1000];
        let mut entitled = vec![Some(Entitled::Seats(50)); 1000];
        entitled[12] = Some(Entitled::Seats(5));
        let mut over = vec![false; 1000];
        over[537] = true;
        let s = voice(&peaks, &enabled, &entitled, &over);
        let cols = columns(&s, 300);
        assert_eq!(cols.len(), 300);
        assert_eq!(cols.iter().map(|c| c.peak).max(), Some(90));
        assert_eq!(cols.iter().filter_map(|c| c.entitled).min(), Some(5));
        assert_eq!(cols.iter().filter(|c| c.over).count(), 1);
        assert_eq!(cols.last().unwrap().periods.1, 1000);
        let svg = svg(&s, 600, 200);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches(r#"class="over""#).count(), 1);
        assert!(svg.contains(r#"class="entitled""#));
        assert!(svg.contains("<title>Voice</title>"));
        // Few periods: one bar each, titled with its peak.
        let s = Series {
            peaks: &peaks[530..540],
            enabled: &enabled[..10],
            entitled: &entitled[..10],
            over: &over[530..540],
            ..s
        };
        let svg = super::svg(&s, 600, 200);
        assert_eq!(svg.matches(r#"<rect class="peak""#).count(), 10);
        assert!(svg.contains("<title>90</title>"));
    }

    #[test]
    fn a_forecast_is_drawn_after_the_data_in_its_band() {
        let peaks = vec![10u64; 30];
        let enabled = vec![Some(20); 30];
        let entitled = vec![Some(Entitled::Seats(40)); 30];
        let over = vec![false; 30];
        let forecast: Vec<Band> = (1..=10)
            .map(|d| Band {
                low: 10.0 + d as f64 - d as f64 * 0.5,
                mid: 10.0 + d as f64 * 4.0,
                high: 10.0 + d as f64 * 5.0,
            })
            .collect();
        let plain = voice(&peaks, &enabled, &entitled, &over);
        let s = Series {
            forecast: &forecast,
            ..plain
        };
        // The prediction (50 on the last day) is on the scale, the entitlement too.
        assert_eq!(scale(&plain).ymax, 40);
        assert!(scale(&s).ymax >= 50);
        let svg = svg(&s, 600, 200);
        assert_eq!(svg.matches(r#"class="forecast""#).count(), 1);
        assert_eq!(svg.matches(r#"class="forecast-band""#).count(), 1);
        assert_eq!(svg.matches(r#"class="entitled-ahead""#).count(), 1);
        assert!(svg.contains("forecast: 50 (15–60) on the last day shown"));
        assert!(svg.contains("┄ forecast"));
        assert!(svg.contains(">+10 days</text>"));
        // One point per forecast day; the band goes out on the top and back on the bottom.
        let points = |class: &str| -> Vec<(f32, f32)> {
            let at = svg.find(&format!(r#"class="{class}" points=""#)).unwrap();
            let rest = &svg[at + class.len() + 17..];
            rest[..rest.find('"').unwrap()]
                .split(' ')
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect()
        };
        let line = points("forecast");
        assert_eq!(line.len(), 10);
        assert!(line.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 > w[1].1));
        assert_eq!(points("forecast-band").len(), 20);
        // The data end where the forecast starts: the bars stay left of the first point.
        let bars_end = svg
            .split(r#"<rect class="peak" x=""#)
            .skip(1)
            .map(|r| {
                let num = |after: &str| -> f32 {
                    let v = &r[r.find(after).unwrap() + after.len()..];
                    v[..v.find('"').unwrap()].parse().unwrap()
                };
                r[..r.find('"').unwrap()].parse::<f32>().unwrap() + num(r#"width=""#)
            })
            .fold(f32::MIN, f32::max);
        assert_eq!(svg.matches(r#"<rect class="peak""#).count(), 30);
        assert!(bars_end < line[0].0, "{bars_end} {}", line[0].0);
        // A degenerate prediction does not overflow the axis.
        let wild = [Band {
            low: 0.0,
            mid: f64::INFINITY,
            high: f64::INFINITY,
        }];
        let s_wild = Series {
            forecast: &wild,
            ..plain
        };
        assert!(scale(&s_wild).ymax <= 2_000_000);
        assert!(super::svg(&s_wild, 600, 200).contains(r#"class="forecast""#));
        let plain_svg = super::svg(&plain, 600, 200);
        assert!(!plain_svg.contains("forecast"));
        assert!(plain_svg.matches(r#"<rect class="peak""#).count() == 30);
    }
}
