//! Guardrails (docs/ALERTS.md): live usage between rollups, baselines, forecasts and
//! expiry warnings, the alert rules checked against them, and the outbox that delivers
//! their notifications.

pub mod live;
