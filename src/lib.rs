//! seatmeter: license usage reporting for contact centers.
//!
//! collect → store → rollup → report. See `docs/ARCHITECTURE.md` for the map.

pub mod bench;
pub mod billing;
pub mod calendar;
pub mod cli;
pub mod collect;
pub mod config;
pub mod demo;
pub mod entitlement;
pub mod entitlement_xml;
pub mod pdfreport;
pub mod report;
pub mod rollup;
pub mod service;
pub mod sitegen;
pub mod store;

/// The wall clock as UTC nanoseconds (for collection bookkeeping; the rollup reads no clock).
pub fn now_nanos() -> seatmeter_collectors::Nanos {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}
