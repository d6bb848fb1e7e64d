//! For development, tests and benchmarks: the generator of realistic sites.

pub mod sitegen;
