//! seatmeter: license usage reporting for contact centers.
//!
//! The pipeline, stage by stage, each a module that uses only those before it (see
//! `docs/ARCHITECTURE.md`): the shared vocabulary (`seatmeter-core`), the collectors
//! (`seatmeter-collectors`), the store (`seatmeter-store`) and the renderers
//! (`seatmeter-reports`) are crates of their own; then
//! [`entitlement`] → [`config`] → [`collect`], [`rollup`] → [`report`] → [`export`],
//! [`finops`], [`guard`] → [`service`]. The commands (`src/cmd/`) are the binary's, and nothing here uses them.

pub mod collect;
pub mod config;
pub mod dev;
pub mod entitlement;
pub mod export;
pub mod finops;
pub mod guard;
pub mod report;
pub mod rollup;
pub mod service;
