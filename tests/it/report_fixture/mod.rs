//! A real SQLite store filled through the Store API with made-up results: scores drawn so
//! that a run's separation grows with its settings, metrics computed from those scores by
//! the real metric code, and decaying loss curves. Shared by `tests/report.rs` and
//! `benches/report.rs`; the thing under test is the report, not these numbers.

use anolab::config::{load_sweep, EvalConfig, SweepSpec};
use anolab::metrics::evaluate::evaluate;
use anolab::plan::RunSpec;
use anolab::rng::SplitMix64;
use anolab::store::{Metric, RunResult, ScoreSet, Store, SweepRecord};
use serde_json::Value;
use std::path::Path;

/// Anomaly classes cycled over the abnormal windows, as in MIT-BIH.
const CLASSES: [&str; 3] = ["S", "V", "F"];

pub fn mini_data() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/data/mitdb-mini").to_string()
}

/// `n` windows: every third normal ("N"), the others abnormal; scores normal around 0.2,
/// abnormal shifted up by `shift`.
fn scores(rng: &mut SplitMix64, n: usize, shift: f64, split: &str) -> ScoreSet {
    let labels: Vec<bool> = (0..n).map(|i| i % 3 != 0).collect();
    let classes = (0..n)
        .map(|i| {
            if labels[i] {
                CLASSES[(i / 3) % CLASSES.len()].to_string()
            } else {
                "N".to_string()
            }
        })
        .collect();
    let scores = labels
        .iter()
        .map(|&l| (0.2 + if l { shift } else { 0.0 } + 0.05 * rng.normal()).abs())
        .collect();
    ScoreSet {
        split: split.parse().unwrap(),
        labels,
        scores,
        classes,
    }
}

fn num(params: &[(String, Value)], key: &str) -> f64 {
    params
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.as_f64())
        .unwrap_or(1.0)
}

/// Loads `yaml` (`DATA` → the shipped MIT-BIH records), plans it in a new store at
/// `dir/anolab.sqlite` and finishes every run with `windows` test scores and `epochs`
/// epochs of losses. The checkpoint artifacts point at files that do not exist.
pub fn fill(
    dir: &Path,
    yaml: &str,
    windows: usize,
    epochs: usize,
) -> (Store, SweepSpec, Vec<RunSpec>) {
    let file = dir.join("sweep.yaml");
    std::fs::write(&file, yaml.replace("DATA", &mini_data())).unwrap();
    let spec = load_sweep(&file, &[]).unwrap();
    let runs: Vec<RunSpec> = spec
        .runs()
        .map(|c| RunSpec::new(c.clone(), "fixture-data"))
        .collect();
    let store = Store::open(dir.join("anolab.sqlite")).unwrap();
    let record = SweepRecord {
        name: &spec.name,
        description: spec.description.as_deref(),
        spec: &spec.document,
        source_file: "sweep.yaml",
        git_commit: None,
        git_dirty: None,
        host: "fixture",
    };
    let planned = store.plan(&record, &runs).unwrap();
    for (run, p) in runs.iter().zip(&planned) {
        let params = run.params();
        let shift = 0.02 * num(&params, "model.nz").ln()
            + 0.05 * num(&params, "model.w_adv")
            + 0.01 * num(&params, "model.ndf").ln();
        let mut rng = SplitMix64::new(run.config.seed * 7919 + p.id as u64);
        let attempt = store.claim(p.id, "cpu", "fixture:1").unwrap().unwrap();
        for e in 0..epochs {
            let t = e as f64;
            store
                .record_epoch(
                    &attempt,
                    e,
                    &[
                        ("err_d".into(), 0.6 * (-t / 5.0).exp() + 0.1),
                        ("err_g".into(), 1.5 * (-t / 4.0).exp() + 0.2),
                        ("err_g_rec".into(), 0.05 * (-t / 3.0).exp() + 0.004),
                        ("val_loss".into(), 0.06 * (-t / 3.0).exp() + 0.01),
                        (
                            "val_auc_roc".into(),
                            0.5 + (0.3 + shift) * (1.0 - (-t / 4.0).exp()),
                        ),
                    ],
                )
                .unwrap();
        }
        let val = scores(&mut rng, windows / 4, shift, "val");
        let test = scores(&mut rng, windows, shift, "test");
        let metrics = evaluate(
            &EvalConfig::default(),
            (&val.labels, &val.scores),
            (&test.labels, &test.scores, &test.classes),
            None,
        )
        .unwrap()
        .into_iter()
        .map(|(split, name, value)| Metric { split, name, value })
        .collect();
        let result = RunResult {
            n_params: 1000,
            best_epoch: epochs.saturating_sub(1),
            protocol: "clean".into(),
            duration_s: 1.0,
            metrics,
            scores: vec![val, test],
            artifacts: vec![(
                "checkpoint".into(),
                dir.join("runs")
                    .join(&run.key)
                    .join("model.safetensors")
                    .display()
                    .to_string(),
            )],
        };
        store.finish(&attempt, &result).unwrap();
    }
    (store, spec, runs)
}
