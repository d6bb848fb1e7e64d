//! seatmeter's report model and its renderers.
//!
//! The model is the rows of docs/SEMANTICS.md, section 7: one per (scope, period, item).
//! This crate takes rows and renders them; it never reads the store. Rows borrow their
//! strings from the caller, so a month of 10-minute rows streams through a renderer
//! without an allocation per row.

pub mod chart;
pub mod csv;
pub mod json;
pub mod pdf;
pub mod table;

use seatmeter_core::{Entitled, Granularity, ScopeKind};

/// One report row: the measures of one item in one scope and one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row<'a> {
    pub scope: ScopeKind,
    /// Empty for the system, the tenant name, or `tenant/group`.
    pub scope_id: &'a str,
    pub granularity: Granularity,
    /// RFC 3339 in the site's time zone, to the second, offset as `+hh:mm`.
    pub period_start: &'a str,
    pub period_end: &'a str,
    pub item: &'a str,
    pub peak_concurrent: u64,
    /// The first instant of the period at which `peak_concurrent` was reached, as
    /// `period_start` is written; None when the peak is 0, or for days rolled up before
    /// it was kept (docs/SEMANTICS.md, "When the peak happened").
    pub peak_at: Option<&'a str>,
    pub enabled_seats: Option<u64>,
    pub entitled: Option<Entitled>,
    pub over_use: bool,
}

/// The CSV header of section 7, also the JSON keys, in order.
pub const COLUMNS: [&str; 10] = [
    "scope",
    "scope_id",
    "granularity",
    "period_start",
    "period_end",
    "item",
    "peak_concurrent",
    "enabled_seats",
    "entitled",
    "over_use",
];

/// Columns beyond the contract's, asked for by name: CSV and JSON keep exactly the columns
/// and keys of section 7 unless one is asked for, and then add it after them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extra {
    /// `peak_at`: when each row's peak was first reached.
    pub peak_at: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("writing the report failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("writing the PDF failed: {0}")]
    Pdf(String),
}

/// Something that takes report rows in order, and is finished once.
pub trait Renderer {
    fn row(&mut self, row: &Row<'_>) -> Result<(), RenderError>;
    fn finish(self: Box<Self>) -> Result<(), RenderError>;
}

/// The formats a report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Csv,
    Json,
    /// A table for people, on a terminal or in a text file.
    Table,
    /// A compliance document for auditors (cover, entitlement, charts, every row, anomalies).
    Pdf,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Csv, Format::Json, Format::Table, Format::Pdf];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Table => "table",
            Format::Pdf => "pdf",
        }
    }

    /// The extension of a file in this format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Table => "txt",
            f => f.as_str(),
        }
    }

    /// The HTTP content type of this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
            Format::Table => "text/plain; charset=utf-8",
            Format::Pdf => "application/pdf",
        }
    }

    /// A renderer that streams rows in this format into `out` (a table in colour when
    /// `color`). None for PDF, which is laid out whole from its model ([`pdf::render`]).
    /// The table always shows when each peak was reached; CSV and JSON only with `extra`.
    pub fn renderer<'w, W: std::io::Write + 'w>(
        self,
        out: W,
        color: bool,
        extra: Extra,
    ) -> Result<Option<Box<dyn Renderer + 'w>>, RenderError> {
        Ok(match self {
            Format::Csv => Some(Box::new(csv::CsvRenderer::new(out, extra)?)),
            Format::Json => Some(Box::new(json::JsonRenderer::new(out, extra)?)),
            Format::Table => Some(Box::new(table::TableRenderer::new(out, color))),
            Format::Pdf => None,
        })
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| format!("unknown format {s:?}; expected csv, json, table or pdf"))
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
pub(crate) fn sample_rows() -> Vec<Row<'static>> {
    vec![
        Row {
            scope: ScopeKind::System,
            scope_id: "",
            granularity: Granularity::Hourly,
            period_start: "2026-10-25T01:00:00+01:00",
            period_end: "2026-10-25T01:00:00+00:00",
            item: "Voice",
            peak_concurrent: 1,
            peak_at: Some("2026-10-25T01:04:05+01:00"),
            enabled_seats: Some(1),
            entitled: Some(Entitled::Seats(1)),
            over_use: false,
        },
        Row {
            scope: ScopeKind::Tenant,
            scope_id: "Société, \"Générale\"",
            granularity: Granularity::Hourly,
            period_start: "2026-10-25T00:00:00+01:00",
            period_end: "2026-10-25T01:00:00+01:00",
            item: "E-Mail",
            peak_concurrent: 2,
            peak_at: Some("2026-10-25T00:30:00+01:00"),
            enabled_seats: None,
            entitled: Some(Entitled::Unlimited),
            over_use: true,
        },
        Row {
            scope: ScopeKind::Group,
            scope_id: "acme/G",
            granularity: Granularity::Hourly,
            period_start: "2026-10-25T00:00:00+01:00",
            period_end: "2026-10-25T01:00:00+01:00",
            item: "Chat",
            peak_concurrent: 0,
            peak_at: None,
            enabled_seats: Some(0),
            entitled: None,
            over_use: false,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_name_and_their_renderers() {
        for f in Format::ALL {
            assert_eq!(f.as_str().parse::<Format>().unwrap(), f);
        }
        assert!("xls".parse::<Format>().unwrap_err().contains("csv, json"));
        let mut out = Vec::new();
        {
            let mut r = Format::Csv
                .renderer(&mut out, false, Extra::default())
                .unwrap()
                .unwrap();
            r.row(&sample_rows()[0]).unwrap();
            r.finish().unwrap();
        }
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().next().unwrap(), COLUMNS.join(","));
        assert_eq!(text.lines().count(), 2);
        assert!(
            Format::Pdf
                .renderer(Vec::new(), false, Extra::default())
                .unwrap()
                .is_none()
        );
        assert_eq!(Format::Table.extension(), "txt");
    }
}
