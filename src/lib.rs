//! anolab: a research harness for anomaly detection with generative models.
//!
//! Data flows one way: [`config`] (YAML + env + CLI → run configs) → [`plan`] (keyed runs
//! and their dependencies) → [`store`] → [`runner`] → [`data`] and [`models`] (train,
//! score) → [`metrics`] → [`store`] → [`report`]; [`launch`] writes the cluster jobs
//! whose tasks run the runner against a shared store. [`registry`], [`kinds`], [`scale`],
//! [`rng`], [`paths`] and [`stop`] are leaves every stage may use. See README.md ("Layout").

pub mod bench;
pub mod config;
pub mod data;
pub mod kinds;
pub mod launch;
pub mod metrics;
pub mod models;
pub mod nn;
pub mod paths;
pub mod plan;
pub mod registry;
pub mod report;
pub mod rescore;
pub mod rng;
pub mod runner;
pub mod scale;
pub mod stop;
pub mod store;
