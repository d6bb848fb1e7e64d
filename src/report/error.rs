//! Why a report could not be made.

use seatmeter_core::ScopeKind;
use seatmeter_store::StoreError;

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The request cannot be answered as asked (an unknown id, dates the wrong way round,
    /// rollups made with another configuration): the caller's to change.
    #[error("{0}")]
    Request(String),
    #[error(transparent)]
    Render(#[from] seatmeter_reports::RenderError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// No scope of the store has the id asked for. `known` are those that do: the command
    /// line shows the first few, the service none.
    #[error("no {scope} {id:?} in the store{}", known_text(known))]
    UnknownId {
        scope: ScopeKind,
        id: String,
        known: Vec<String>,
    },
    /// The report's numbers would be incomplete (`Reporter::gaps`), and that was not
    /// allowed.
    #[error(
        "the report would be incomplete:\n{}\nadd --allow-incomplete to write it anyway (it then says so where the numbers are)",
        gaps.iter().map(|g| format!("  - {g}")).collect::<Vec<_>>().join("\n")
    )]
    Incomplete { gaps: Vec<String> },
    /// More rows than allowed (`output::Limits`).
    #[error(
        "this report may have up to {rows} rows, more than the {limit} allowed: ask for fewer days, a coarser granularity or one id (or add --force)"
    )]
    TooLarge { rows: u64, limit: u64 },
}

/// " (known: a, b, … and N more)" of up to ten ids, or nothing.
fn known_text(known: &[String]) -> String {
    if known.is_empty() {
        return String::new();
    }
    let more = if known.len() > 10 {
        format!(" and {} more", known.len() - 10)
    } else {
        String::new()
    };
    let shown: Vec<&str> = known.iter().take(10).map(String::as_str).collect();
    format!(" (known: {}{more})", shown.join(", "))
}
