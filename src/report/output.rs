//! A report written out: to a file (atomically), to standard output, or to any writer (the
//! service streams it), in any format. The rows are made once, by [`Reporter`], and handed
//! to the format's renderer as they come, so memory does not grow with the rows; a PDF is
//! laid out whole from its model ([`super::pdf`]), so its rows are bounded by its own limit.

use std::io::{IsTerminal, Write};
use std::path::Path;

use seatmeter_reports::Format;
use seatmeter_store::Store;

use super::{Outcome, ReportError, Reporter, Request};
use crate::config::Config;

/// How large a report may be: past these, it is refused (the CLI's `--force` lifts them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Rows of a CSV, JSON or table report.
    pub rows: u64,
    /// Rows of a PDF report (laid out whole: about 64 rows a page).
    pub pdf_rows: u64,
}

impl Limits {
    /// A month of 10-minute rows of a few hundred scopes; a PDF of about 1,500 pages.
    pub const DEFAULT: Limits = Limits {
        rows: 2_000_000,
        pdf_rows: 100_000,
    };
    pub const NONE: Limits = Limits {
        rows: u64::MAX,
        pdf_rows: u64::MAX,
    };

    /// Refuses a report that may have more rows than allowed for its format.
    pub fn check(
        &self,
        reporter: &Reporter<'_>,
        req: &Request,
        format: Format,
    ) -> Result<(), ReportError> {
        let limit = if format == Format::Pdf {
            self.pdf_rows
        } else {
            self.rows
        };
        let rows = reporter.rows_at_most(req)?;
        if rows > limit {
            return Err(ReportError::TooLarge { rows, limit });
        }
        Ok(())
    }
}

/// Writes a report to `out` (a file, written atomically) or standard output.
pub fn report_to(
    config: &Config,
    store: &mut dyn Store,
    req: &Request,
    format: Format,
    out: Option<&Path>,
    limits: Limits,
) -> Result<Outcome, ReportError> {
    if format == Format::Pdf {
        if out.is_none() && std::io::stdout().is_terminal() {
            return Err(ReportError::Request(
                "a PDF report is not for the terminal: add --out FILE.pdf (or redirect standard output)".into(),
            ));
        }
        let (bytes, outcome) = pdf_bytes(config, store, req, limits)?;
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
            stream(config, store, req, format, w, color, limits)
        }
        Some(path) => {
            let tmp = seatmeter_core::fs::temp_for(path)?;
            let w = std::io::BufWriter::new(tmp.as_file());
            let outcome = stream(config, store, req, format, w, false, limits)?;
            seatmeter_core::fs::publish(tmp, path)?;
            Ok(outcome)
        }
    }
}

/// A PDF report as bytes.
pub fn pdf_bytes(
    config: &Config,
    store: &mut dyn Store,
    req: &Request,
    limits: Limits,
) -> Result<(Vec<u8>, Outcome), ReportError> {
    super::pdf::render(store, config, req, limits)
}

/// The rows of a report in a streaming format (CSV, JSON, table) into `w`; `warnings`
/// hears what the reader must know before the first row is written (the service sends
/// them as headers).
pub fn stream<'w, W: Write + 'w>(
    config: &Config,
    store: &mut dyn Store,
    req: &Request,
    format: Format,
    w: W,
    color: bool,
    limits: Limits,
) -> Result<Outcome, ReportError> {
    stream_with(config, store, req, format, w, color, limits, &mut |_| {})
}

/// [`stream`], telling `before_rows` the warnings of the report before its first row.
#[allow(clippy::too_many_arguments)]
pub fn stream_with<'w, W: Write + 'w>(
    config: &Config,
    store: &mut dyn Store,
    req: &Request,
    format: Format,
    w: W,
    color: bool,
    limits: Limits,
    before_rows: &mut dyn FnMut(&[String]),
) -> Result<Outcome, ReportError> {
    let reporter = Reporter::new(store, config)?;
    limits.check(&reporter, req, format)?;
    before_rows(reporter.warnings());
    let Some(mut renderer) = format.renderer(w, color)? else {
        return Err(ReportError::Request(
            "PDF reports are laid out whole: use pdf_bytes".into(),
        ));
    };
    let outcome = reporter.run(req, &mut |row| renderer.row(row).map_err(ReportError::from))?;
    renderer.finish()?;
    Ok(outcome)
}
