//! seatmeter's guardrails (docs/GUARDRAILS.md): the rolling baseline of daily peaks and the
//! days that breach it or the utilization band, the forecast of when an item is expected to
//! exceed its entitlement, and the warnings of what expires soon.
//!
//! Every function is pure: no clock (each takes the day it is evaluated on), no store, no
//! I/O. Days are [`Day`]s (days since 1970-01-01, local dates).

#![deny(missing_docs)]

pub mod baseline;
pub mod config;
pub mod expiry;
pub mod forecast;

pub use baseline::{Baseline, Breach, BreachKind, baseline, breaches};
pub use config::{Guard, GuardConfig};
pub use expiry::{ExpiryWarning, expiry_warning};
pub use forecast::{Exceedance, Forecast, forecast};

pub use seatmeter_core::Day;
