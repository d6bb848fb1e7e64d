//! How large a report may be, and whether an incomplete one may be written: what a caller
//! (the CLI, the service) allows a report, shared by every format.

use seatmeter_reports::Format;

use super::{ReportError, Reporter, Request};

/// How large a report may be: past these, it is refused (the CLI's `--force` lifts them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Rows of a CSV or JSON report (streamed: the limit bounds the work, not memory).
    pub rows: u64,
    /// Rows of a table (laid out whole, to size its columns).
    pub table_rows: u64,
    /// Rows of a PDF report (laid out whole: about 64 rows a page).
    pub pdf_rows: u64,
}

impl Limits {
    /// A month of 10-minute rows of a thousand scopes (about 1 GB of CSV); a table of
    /// 1,000,000 rows; a PDF of about 1,500 pages.
    pub const DEFAULT: Limits = Limits {
        rows: 10_000_000,
        table_rows: 1_000_000,
        pdf_rows: 100_000,
    };
    pub const NONE: Limits = Limits {
        rows: u64::MAX,
        table_rows: u64::MAX,
        pdf_rows: u64::MAX,
    };

    /// Refuses a report that may have more rows than allowed for its format.
    pub fn check(
        &self,
        reporter: &Reporter<'_>,
        req: &Request,
        format: Format,
    ) -> Result<(), ReportError> {
        let limit = match format {
            Format::Pdf => self.pdf_rows,
            Format::Table => self.table_rows,
            Format::Csv | Format::Json => self.rows,
        };
        let rows = reporter.rows_at_most(req)?;
        if rows > limit {
            return Err(ReportError::TooLarge { rows, limit });
        }
        Ok(())
    }
}

/// Computes the guardrails page of a PDF report (given by a later stage: the guardrails
/// read reports themselves): the store, the configuration, the request, and the tenant
/// the document is for.
pub type GuardrailsHook = fn(
    &mut dyn seatmeter_store::Store,
    &crate::config::Config,
    &super::Request,
    Option<&str>,
) -> Result<seatmeter_reports::pdf::Guardrails, ReportError>;

/// What a caller allows a report.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub limits: Limits,
    /// Write the report even when its numbers are incomplete (it then says so where the
    /// numbers are); without it such a report is refused.
    pub allow_incomplete: bool,
    /// With it, PDF reports have a guardrails page (expiry, breaches, forecast).
    pub guardrails: Option<GuardrailsHook>,
    /// Columns beyond the contract's in CSV and JSON (`--peak-at`).
    pub extra: seatmeter_reports::Extra,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::DEFAULT,
            allow_incomplete: false,
            guardrails: None,
            extra: seatmeter_reports::Extra::default(),
        }
    }
}

/// Refuses a report with gaps, unless they are allowed.
pub(super) fn check_gaps(gaps: &[String], options: Options) -> Result<(), ReportError> {
    if gaps.is_empty() || options.allow_incomplete {
        Ok(())
    } else {
        Err(ReportError::Incomplete {
            gaps: gaps.to_vec(),
        })
    }
}
