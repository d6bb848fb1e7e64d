//! Files for other systems: a reseller's billing files per tenant ([`billing`],
//! docs/BILLING.md), made from the same tenant reports the `report` command gives.

pub mod billing;

use seatmeter_store::StoreError;

use crate::report::ReportError;
use crate::rollup::RollupError;

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Rollup(#[from] RollupError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// What was asked for cannot be exported (an unknown tenant, a month out of range).
    #[error("{0}")]
    Request(String),
    #[error("entitlement file: {0}")]
    Entitlement(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("writing a CSV file: {0}")]
    Csv(String),
    #[error(
        "the month's numbers would be incomplete:\n{}\nadd --allow-incomplete to export them anyway (the export then says so)",
        gaps.iter().map(|g| format!("  - {g}")).collect::<Vec<_>>().join("\n")
    )]
    Incomplete { gaps: Vec<String> },
    /// No price at all in the configuration: every amount would be 0.00.
    #[error(
        "no prices are configured: {config} has no [billing] prices, overage prices or minimum, so every amount would be 0.00\nadd [billing.prices] (docs/BILLING.md), or pass --quantities-only to write the quantities without amounts"
    )]
    NoPrices { config: String },
}
