//! TadGAN's per-step series score against Orion 0.7.1's own `score_anomalies` and
//! pyts' DTW (`tests/fixtures/tadgan_scores.json`, `scripts/tadgan_score_fixtures.py`),
//! and a series run that stores per-step test scores which `rescore` reproduces.

use crate::common::numbers;
use anolab::data::Windows;
use anolab::models::tadgan::score::{dtw, series_scores, ScoreSettings};
use anolab::models::tadgan::{TadganCombination, TadganRecError};
use anolab::rescore::{rescore, Rescored};
use anolab::runner::run_sweep;
use anolab::store::Store;
use serde_json::Value;

fn fixture() -> Value {
    crate::common::fixture("tadgan_scores.json")
}

fn windows(data: Vec<f32>, n: usize, length: usize) -> Windows {
    Windows {
        data,
        n,
        channels: 1,
        length,
        labels: vec![false; n],
        classes: Vec::new(),
        image: None,
    }
}

#[test]
fn series_scores_match_orion() {
    let f = fixture();
    for case in f["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (n, l) = (
            case["n_windows"].as_u64().unwrap() as usize,
            case["length"].as_u64().unwrap() as usize,
        );
        let series: Vec<f32> = numbers(&case["series"]).iter().map(|&v| v as f32).collect();
        let x: Vec<f32> = (0..n).flat_map(|i| series[i..i + l].to_vec()).collect();
        let x_hat: Vec<f32> = numbers(&case["y_hat"]).iter().map(|&v| v as f32).collect();
        let settings = ScoreSettings {
            rec: match case["rec"].as_str().unwrap() {
                "point" => TadganRecError::Point,
                "area" => TadganRecError::Area,
                _ => TadganRecError::Dtw,
            },
            comb: match case["comb"].as_str().unwrap() {
                "mult" => TadganCombination::Mult,
                _ => TadganCombination::Sum,
            },
            alpha: case["lambda_rec"].as_f64().unwrap(),
        };
        let starts: Vec<usize> = (0..n).collect();
        let got = series_scores(
            &windows(x, n, l),
            &windows(x_hat, n, l),
            &numbers(&case["critic"]),
            &starts,
            series.len(),
            &settings,
        )
        .unwrap();
        let want = numbers(&case["scores"]);
        assert_eq!(got.len(), want.len(), "{name}");
        for (t, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-9 * w.abs().max(1.0),
                "{name}, step {t}: {g} vs Orion {w}"
            );
        }
    }
}

#[test]
fn dtw_matches_pyts() {
    for pair in fixture()["dtw"].as_array().unwrap() {
        let got = dtw(&numbers(&pair["a"]), &numbers(&pair["b"]));
        let want = pair["dtw"].as_f64().unwrap();
        assert!((got - want).abs() < 1e-12, "{got} vs pyts {want}");
    }
}

#[test]
fn an_uncovered_step_is_an_error() {
    let settings = ScoreSettings {
        rec: TadganRecError::Point,
        comb: TadganCombination::Mult,
        alpha: 0.5,
    };
    let w = windows(vec![0.0; 8], 2, 4);
    let e = series_scores(&w, &w, &[0.0, 1.0], &[0, 5], 9, &settings).unwrap_err();
    assert!(e.to_string().contains("step 4"), "{e}");
}

/// A TadGAN run on a series stores one test score per time step (Orion's scoring) and
/// `rescore` recomputes its stored metrics from them; `score_series: window_mean` stores
/// one per window.
#[test]
fn a_series_run_stores_per_step_scores_that_rescore_reproduces() {
    crate::zoo::setup();
    let dir = tempfile::tempdir().unwrap();
    let yaml = "
name: ts
dataset: { name: csv, path: CSV, label_column: label, window: 20, train_stride: 20 }
model:
  - { name: tadgan, nz: 4, enc_hidden: 4, gen_hidden: 4, critic_channels: 4, critic_z_hidden: 4, n_critic: 1 }
  - { name: tadgan, nz: 4, enc_hidden: 4, gen_hidden: 4, critic_channels: 4, critic_z_hidden: 4, n_critic: 1, score_series: window_mean }
train: { epochs: 1, batch_size: 32 }
eval: { threshold: orion }
";
    let (spec, runs) = crate::common::sweep(
        dir.path(),
        &yaml.replace("CSV", crate::common::EXAMPLE_CSV),
        &[],
    );
    let store = Store::open(dir.path().join("anolab.sqlite")).unwrap();
    let outcome = run_sweep(&store, &spec, &runs, &crate::common::options(dir.path())).unwrap();
    assert_eq!(outcome.trained, 2, "{:?}", outcome.failed);
    // 1,243 steps; 1,224 windows of 20.
    let stored = |window_mean: bool| {
        crate::common::count(
            &store,
            &format!(
                "SELECT length(s.scores) / 8 FROM scores s JOIN runs r ON r.id = s.run_id
                 WHERE s.split = 'test' AND (r.config_json LIKE '%window_mean%') = {window_mean}"
            ),
        )
    };
    // 1,243 steps; 1,224 windows of 20.
    assert_eq!((stored(false), stored(true)), (1243, 1224));
    let metrics = |store: &Store| {
        store
            .query("SELECT run_id, name, value FROM metrics WHERE split = 'test' AND name NOT IN ('score_s', 'ms_per_window') ORDER BY run_id, name")
            .unwrap()
            .rows
    };
    let before = metrics(&store);
    store
        .query("UPDATE metrics SET value = -1 WHERE name IN ('auc_roc', 'segment_tp')")
        .unwrap();
    let outcomes = rescore(&store, Some("ts"), |_, _| {}).unwrap();
    assert!(
        outcomes.iter().all(|(_, o)| matches!(o, Rescored::Done(_))),
        "{outcomes:?}"
    );
    assert_eq!(metrics(&store), before);
}
