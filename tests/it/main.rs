//! Integration tests: one binary, one module per concern (see ../../docs/TESTING.md).

mod activity;
mod architecture;
mod bad_input;
mod bill_rules;
mod billing;
mod bundles;
mod cases;
mod cli;
mod complete;
mod completions;
mod crash;
mod first_hour;
mod fuzz;
mod incremental;
mod man;
mod oracle;
mod pdf;
mod postgres;
mod restatement;
mod service;
mod service_auth;
mod service_limits;
mod sql_sessions;
mod support;
mod tenant_boundary;
mod worked_example;
