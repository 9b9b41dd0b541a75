//! anolab: a research harness for anomaly detection with generative models.
//!
//! Data flows one way: [`config`] (YAML + env + CLI → runs) → [`store`] (plan) →
//! [`runner`] → [`data`] and [`models`] (train, score) → [`metrics`] → [`store`] →
//! [`report`]. See README.md and `../shared/specs/architecture.md`.

pub mod bench;
pub mod config;
pub mod data;
pub mod metrics;
pub mod models;
pub mod nn;
pub mod report;
pub mod rng;
pub mod runner;
pub mod store;
