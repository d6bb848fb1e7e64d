//! A report written out: to a file (atomically), to standard output, or to any writer (the
//! service streams it), in any format. The rows are made once, by [`Reporter`], and handed
//! to the format's renderer as they come, so memory does not grow with the rows; a PDF is
//! laid out whole from its model ([`super::pdf`]), so its rows are bounded by its own limit.

use std::io::{IsTerminal, Write};
use std::path::Path;

use seatmeter_reports::Format;
use seatmeter_store::Store;

use super::limits::check_gaps;
pub use super::limits::{Limits, Options};
use super::{Outcome, ReportError, Reporter, Request};
use crate::config::Config;

/// The file beside a report that lists its gaps, when it is incomplete.
pub fn gaps_file(report: &Path) -> std::path::PathBuf {
    let mut name = report.file_name().unwrap_or_default().to_os_string();
    name.push(".incomplete.json");
    report.with_file_name(name)
}

/// Writes a report to `out` (a file, written atomically) or standard output. An
/// incomplete report written to a file gets the side file [`gaps_file`] listing its
/// gaps; a complete one removes such a file left by an earlier run.
pub fn report_to(
    config: &Config,
    store: &mut dyn Store,
    req: &Request,
    format: Format,
    out: Option<&Path>,
    options: Options,
) -> Result<Outcome, ReportError> {
    let outcome = write_report(config, store, req, format, out, options)?;
    if let Some(path) = out {
        let side = gaps_file(path);
        if outcome.gaps.is_empty() {
            match std::fs::remove_file(&side) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        } else {
            let text = serde_json::json!({
                "report": path.file_name().map(|n| n.to_string_lossy().into_owned()),
                "complete": false,
                "gaps": outcome.gaps,
            });
            seatmeter_core::fs::write_atomically(&side, format!("{text:#}\n").as_bytes())?;
        }
    }
    Ok(outcome)
}

fn write_report(
    config: &Config,
    store: &mut dyn Store,
    req: &Request,
    format: Format,
    out: Option<&Path>,
    options: Options,
) -> Result<Outcome, ReportError> {
    if format == Format::Pdf {
        if out.is_none() && std::io::stdout().is_terminal() {
            return Err(ReportError::Request(
                "a PDF report is not for the terminal: add --out FILE.pdf (or redirect standard output)".into(),
            ));
        }
        let (bytes, outcome) = pdf_bytes(config, store, req, options)?;
        match out {
            Some(path) => seatmeter_core::fs::write_atomically(path, &bytes)?,
            None => {
                let mut o = std::io::stdout().lock();
                o.write_all(&bytes)?;
                o.flush()?;
            }
        }
        return Ok(outcome);
    }
    match out {
        None => {
            let stdout = std::io::stdout();
            let color = format == Format::Table && stdout.is_terminal();
            let w = std::io::BufWriter::new(stdout.lock());
            stream(config, store, req, format, w, color, options)
        }
        Some(path) => {
            let tmp = seatmeter_core::fs::temp_for(path)?;
            let w = std::io::BufWriter::new(tmp.as_file());
            let outcome = stream(config, store, req, format, w, false, options)?;
            seatmeter_core::fs::publish(tmp, path)?;
            Ok(outcome)
        }
    }
}

/// A PDF report as bytes; an incomplete one says so on its first page.
pub fn pdf_bytes(
    config: &Config,
    store: &mut dyn Store,
    req: &Request,
    options: Options,
) -> Result<(Vec<u8>, Outcome), ReportError> {
    super::pdf::render(store, config, req, options)
}

/// The rows of a report in a streaming format (CSV, JSON, table) into `w`.
pub fn stream<'w, W: Write + 'w>(
    config: &Config,
    store: &mut dyn Store,
    req: &Request,
    format: Format,
    w: W,
    color: bool,
    options: Options,
) -> Result<Outcome, ReportError> {
    stream_with(config, store, req, format, w, color, options, &mut |_| {})
}

/// [`stream`], telling `before_rows` the report's gaps before its first row (the service
/// sends them as headers). A table that is incomplete says so on its first lines.
#[allow(clippy::too_many_arguments)]
pub fn stream_with<'w, W: Write + 'w>(
    config: &Config,
    store: &mut dyn Store,
    req: &Request,
    format: Format,
    mut w: W,
    color: bool,
    options: Options,
    before_rows: &mut dyn FnMut(&[String]),
) -> Result<Outcome, ReportError> {
    let mut reporter = Reporter::new(store, config)?;
    options.limits.check(&reporter, req, format)?;
    let gaps = reporter.gaps(req)?.to_vec();
    check_gaps(&gaps, options)?;
    before_rows(&gaps);
    if format == Format::Table {
        for g in &gaps {
            writeln!(w, "INCOMPLETE REPORT: {g}")?;
        }
    }
    let Some(mut renderer) = format.renderer(w, color, options.extra)? else {
        return Err(ReportError::Request(
            "PDF reports are laid out whole: use pdf_bytes".into(),
        ));
    };
    let outcome = reporter.run(req, &mut |row| renderer.row(row).map_err(ReportError::from))?;
    renderer.finish()?;
    Ok(outcome)
}
