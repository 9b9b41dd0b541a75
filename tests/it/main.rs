//! The integration tests: one binary (linking candle, sqlx and plotters once), a module
//! per area. Tests that need a process-wide environment of their own are in `tests/env.rs`.

mod common;
mod report_fixture;

mod act;
mod adam;
mod baselines;
mod beatgan;
mod classical;
mod config;
mod conv;
mod csv;
mod dataset_config;
mod digits;
mod distill;
mod fuzz_corpus;
mod fuzz_smoke;
mod gp;
mod gpu;
mod groups;
mod hostile;
mod launch;
mod lengths;
mod logs;
mod metrics;
mod mitdb;
mod nab;
mod norm;
mod npy;
mod paths;
mod pipeline;
mod plan;
mod queue;
mod report;
mod rescore;
mod resume;
mod series_metrics;
mod store;
mod synthetic;
mod tadgan_score;
mod ucr;
mod zoo;
