//! Planning: a sweep's run configs become keyed runs with their dependencies.
//!
//! A run's key is a hash of its canonical config and of its dataset's files, so the
//! same settings on the same data always get the same key, and a finished run is found
//! again by any later sweep. A run that depends on others (a student on its teacher)
//! carries them; [`with_dependencies`] orders a sweep's runs so that every dependency
//! comes before its dependents. Planning reads data files only to hash them; it trains
//! nothing and writes nothing (the store records the plan).

use crate::config::{self, Override, RunConfig, SweepSpec};
use anyhow::Result;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// One run, resolved: its full config, the canonical JSON of it and its key.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub config: RunConfig,
    pub canonical: String,
    /// Hex SHA-256 (first 16 digits) of the canonical JSON and the dataset's fingerprint:
    /// the same settings on the same data always give the same key.
    pub key: String,
    /// The runs this one needs done first, by role (see `models::ModelSpec::dependencies`).
    pub dependencies: Vec<(String, RunSpec)>,
}

impl RunSpec {
    pub fn new(config: RunConfig, dataset_fingerprint: &str) -> RunSpec {
        // Through a `Value` the keys come out sorted (serde_json's map is a BTreeMap), and
        // the typed struct fixes every number's form (`1` for integers, `1.0` for floats),
        // so this string is canonical.
        let canonical = serde_json::to_value(&config)
            .expect("a RunConfig always serialises")
            .to_string();
        let mut hasher = Sha256::new();
        hasher.update(canonical.as_bytes());
        hasher.update(b"\n");
        hasher.update(dataset_fingerprint.as_bytes());
        let key = hasher
            .finalize()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        let dependencies = config
            .dependencies()
            .into_iter()
            .map(|(role, c)| (role.to_string(), RunSpec::new(c, dataset_fingerprint)))
            .collect();
        RunSpec {
            config,
            canonical,
            key,
            dependencies,
        }
    }

    /// The config flattened to dotted keys (`model.nz` → 16), for the `params` table.
    pub fn params(&self) -> Vec<(String, Value)> {
        config::sweep::params(&self.config)
    }

    /// How many layers of dependencies lie below this run (0: none).
    pub fn depth(&self) -> usize {
        self.dependencies
            .iter()
            .map(|(_, d)| d.depth() + 1)
            .max()
            .unwrap_or(0)
    }
}

/// Loads a sweep file (with the environment and `overrides` on top; at most `max_runs`
/// runs) and keys its runs.
pub fn load(
    file: &Path,
    overrides: &[Override],
    max_runs: usize,
) -> Result<(SweepSpec, Vec<RunSpec>)> {
    let sweep = config::load_sweep_limited(file, overrides, max_runs)?;
    let runs = resolve(&sweep)?;
    Ok((sweep, runs))
}

/// Keys every run of a sweep; each distinct dataset's files are hashed once.
pub fn resolve(sweep: &SweepSpec) -> Result<Vec<RunSpec>> {
    let mut fingerprints: HashMap<String, String> = HashMap::new();
    sweep
        .runs()
        .map(|config| {
            let id = serde_json::to_string(&config.dataset)?;
            let fingerprint = match fingerprints.get(&id) {
                Some(f) => f.clone(),
                None => {
                    let f = config.dataset.fingerprint()?;
                    fingerprints.insert(id, f.clone());
                    f
                }
            };
            Ok(RunSpec::new(config, &fingerprint))
        })
        .collect()
}

/// The sweep's runs with the runs they depend on in front, each once (and not again if
/// the sweep lists it itself), dependencies before dependents.
pub fn with_dependencies(runs: &[RunSpec]) -> Vec<RunSpec> {
    fn visit(run: &RunSpec, seen: &mut HashSet<String>, out: &mut Vec<RunSpec>) {
        for (_, dependency) in &run.dependencies {
            visit(dependency, seen, out);
        }
        if seen.insert(run.key.clone()) {
            out.push(run.clone());
        }
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    // Dependencies of all runs first, as the sweep has always listed teachers first.
    for run in runs {
        for (_, dependency) in &run.dependencies {
            visit(dependency, &mut seen, &mut out);
        }
    }
    for run in runs {
        visit(run, &mut seen, &mut out);
    }
    out
}
