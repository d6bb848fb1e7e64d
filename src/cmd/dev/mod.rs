//! The commands for trying and measuring seatmeter: the demo, the site generator and the
//! benchmark.

pub mod bench;
pub mod demo;
mod demo_finops;
mod demo_guard;
pub mod generate;
pub mod scan;
