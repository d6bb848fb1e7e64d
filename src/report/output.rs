//! A report written out: to a file (atomically), to standard output, or as bytes (for the
//! service), in any format. The rows are made once, by [`Reporter`], and handed to the
//! format's renderer as they come; a PDF is laid out whole from its model ([`super::pdf`]).

use std::io::{IsTerminal, Write};
use std::path::Path;

use seatmeter_reports::Format;
use seatmeter_store::Store;

use super::{Outcome, ReportError, Reporter, Request};
use crate::config::Config;

/// Writes a report to `out` (a file, written atomically) or standard output.
pub fn report_to(
    config: &Config,
    store: &mut dyn Store,
    req: &Request,
    format: Format,
    out: Option<&Path>,
) -> Result<Outcome, ReportError> {
    if format == Format::Pdf {
        let (bytes, outcome) = super::pdf::render(store, config, req)?;
        match out {
            Some(path) => seatmeter_core::fs::write_atomically(path, &bytes)?,
            None if std::io::stdout().is_terminal() => {
                return Err(ReportError::Request(
                    "a PDF report is not for the terminal: add --out FILE.pdf (or redirect standard output)".into(),
                ));
            }
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
            render(config, store, req, format, w, color)
        }
        Some(path) => {
            let tmp = seatmeter_core::fs::temp_for(path)?;
            let w = std::io::BufWriter::new(tmp.as_file());
            let outcome = render(config, store, req, format, w, false)?;
            seatmeter_core::fs::publish(tmp, path)?;
            Ok(outcome)
        }
    }
}

/// A report in any format, as bytes (for the service's /reports).
pub fn report_bytes(
    config: &Config,
    store: &mut dyn Store,
    req: &Request,
    format: Format,
) -> Result<(Vec<u8>, Outcome), ReportError> {
    if format == Format::Pdf {
        return super::pdf::render(store, config, req);
    }
    let mut buf = Vec::new();
    let outcome = render(config, store, req, format, &mut buf, false)?;
    Ok((buf, outcome))
}

/// The rows of a report, through the renderer of a streaming format.
fn render<'w, W: Write + 'w>(
    config: &Config,
    store: &mut dyn Store,
    req: &Request,
    format: Format,
    w: W,
    color: bool,
) -> Result<Outcome, ReportError> {
    let Some(mut renderer) = format.renderer(w, color)? else {
        unreachable!("PDF reports are laid out whole, by report_to and report_bytes")
    };
    let reporter = Reporter::new(store, config)?;
    let outcome = reporter.run(req, &mut |row| renderer.row(row).map_err(ReportError::from))?;
    renderer.finish()?;
    Ok(outcome)
}
