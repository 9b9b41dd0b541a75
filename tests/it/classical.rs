//! The classical baselines and the statistics against reference libraries: the inputs
//! and outputs in `tests/fixtures/baselines.json` were computed by
//! `scripts/baseline_fixtures.py` with scikit-learn (PCA, NearestNeighbors,
//! IsolationForest), stumpy (`stump`) and SciPy (`wilcoxon`, `friedmanchisquare`,
//! `t.interval`); the tests never run Python.

use crate::common::{build, numbers};
use anolab::data::Windows;
use anolab::metrics::compare::{friedman, nemenyi_cd, nemenyi_q, paired_t, wilcoxon_greater};
use anolab::metrics::intervals::t_interval;
use anolab::models::{Detector, InputShape, ModelConfig, TrainConfig};
use anolab::rng::SplitMix64;
use serde_json::Value;

fn fixture() -> Value {
    crate::common::fixture("baselines.json")
}

/// Rows of numbers as one-channel windows (labels all normal).
fn windows(rows: &Value) -> Windows {
    let rows: Vec<Vec<f64>> = rows.as_array().unwrap().iter().map(numbers).collect();
    let length = rows[0].len();
    let mut w = Windows::empty(1, length);
    for r in &rows {
        w.data.extend(r.iter().map(|v| *v as f32));
        w.labels.push(false);
        w.classes.push("N".into());
    }
    w.n = rows.len();
    w
}

fn model(yaml: Value, train: &Windows, seed: u64) -> Box<dyn Detector> {
    let cfg: ModelConfig = serde_json::from_value(yaml).unwrap();
    let mut m = build(&cfg, &TrainConfig::default(), InputShape::of(train), seed).unwrap();
    m.fit_epoch(train, &mut SplitMix64::new(0), &mut || Ok(()))
        .unwrap();
    m
}

fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * w.abs().max(1.0),
            "{what}[{i}]: {g} vs {w}"
        );
    }
}

#[test]
fn pca_reconstruction_errors_match_scikit_learn() {
    let f = fixture();
    let (train, test) = (windows(&f["train"]), windows(&f["test"]));
    let three = model(
        serde_json::json!({"name": "pca", "n_components": 3}),
        &train,
        0,
    );
    assert_close(
        &three.score(&test).unwrap(),
        &numbers(&f["pca_3"]),
        1e-6,
        "pca n=3",
    );
    let by_variance = model(
        serde_json::json!({"name": "pca", "variance": 0.9}),
        &train,
        0,
    );
    let want = &f["pca_variance_0_9"];
    assert_close(
        &by_variance.score(&test).unwrap(),
        &numbers(&want["mse"]),
        1e-6,
        &format!("pca variance 0.9 (sklearn keeps {})", want["n_components"]),
    );
    // The errors are those of the reconstruction the figures draw.
    let recon = three.reconstruct(&test).unwrap().unwrap();
    let mse0: f64 = test
        .window(0)
        .iter()
        .zip(recon.window(0))
        .map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2))
        .sum::<f64>()
        / 12.0;
    assert!((mse0 - three.score(&test).unwrap()[0]).abs() < 1e-6);
}

#[test]
fn knn_distances_match_scikit_learn() {
    let f = fixture();
    let (train, test) = (windows(&f["train"]), windows(&f["test"]));
    for (method, key) in [("largest", "knn_5_largest"), ("mean", "knn_5_mean")] {
        let m = model(
            serde_json::json!({"name": "knn", "k": 5, "method": method}),
            &train,
            0,
        );
        assert_close(&m.score(&test).unwrap(), &numbers(&f[key]), 1e-6, key);
    }
}

#[test]
fn iforest_ranks_like_scikit_learn() {
    let f = fixture();
    let iso = &f["iforest"];
    let (train, mut test) = (windows(&iso["train"]), windows(&iso["test"]));
    test.labels = numbers(&iso["labels"]).iter().map(|l| *l == 1.0).collect();
    let reference = numbers(&iso["auc_per_seed"]);
    let reference_mean = reference.iter().sum::<f64>() / reference.len() as f64;
    let ours: Vec<f64> = (0..5)
        .map(|seed| {
            let m = model(serde_json::json!({"name": "iforest"}), &train, seed);
            anolab::metrics::auc_roc(&test.labels, &m.score(&test).unwrap()).unwrap()
        })
        .collect();
    let mean = ours.iter().sum::<f64>() / ours.len() as f64;
    // scikit-learn's AUC over its 5 seeds spans about 0.04; the means agree within 0.03.
    assert!(
        (mean - reference_mean).abs() < 0.03,
        "ours {ours:?} (mean {mean:.4}) vs scikit-learn {reference:?} (mean {reference_mean:.4})"
    );
    // The scores themselves are on scikit-learn's scale: 2^(−E[h]/c(ψ)), near 0.5 inside.
    let sk = numbers(&iso["scores_seed0"]);
    let m = model(serde_json::json!({"name": "iforest"}), &train, 0);
    let s = m.score(&test).unwrap();
    let mean_abs = s.iter().zip(&sk).map(|(a, b)| (a - b).abs()).sum::<f64>() / s.len() as f64;
    assert!(mean_abs < 0.03, "mean |ours − sklearn| = {mean_abs}");
}

#[test]
fn the_matrix_profile_matches_stumpy() {
    let f = fixture();
    let mp = &f["matrix_profile"];
    let series = numbers(&mp["series"]);
    let m = mp["m"].as_u64().unwrap() as usize;
    // The rolling windows of the series, stride 1, as the series readers cut them.
    let mut w = Windows::empty(1, m);
    for start in 0..=series.len() - m {
        w.data
            .extend(series[start..start + m].iter().map(|v| *v as f32));
        w.labels.push(false);
        w.classes.push("N".into());
    }
    w.n = series.len() - m + 1;
    let ours = anolab::models::matrix_profile::matrix_profile(&w);
    // stumpy works on f64 series; the windows hold f32, which moves distances by ~1e-5.
    assert_close(&ours, &numbers(&mp["profile"]), 1e-4, "matrix profile");
    let top = ours
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0;
    assert!(
        (150 - m..=160).contains(&top),
        "the discord overlaps the distorted period 150..160: {top}"
    );
}

#[test]
fn wilcoxon_paired_t_friedman_and_t_intervals_match_scipy() {
    let f = fixture();
    for case in f["wilcoxon_greater"].as_array().unwrap() {
        let (x, y) = (numbers(&case["x"]), numbers(&case["y"]));
        let w = wilcoxon_greater(&x, &y).unwrap();
        assert_eq!(
            w.statistic,
            case["statistic"].as_f64().unwrap(),
            "W+ of {x:?}"
        );
        let p = case["p_value"].as_f64().unwrap();
        assert!((w.p_value - p).abs() < 1e-9, "p {} vs scipy {p}", w.p_value);
    }
    for case in f["paired_t"].as_array().unwrap() {
        let (x, y) = (numbers(&case["x"]), numbers(&case["y"]));
        let t = paired_t(&x, &y).unwrap();
        assert_eq!(t.df as u64, case["df"].as_u64().unwrap());
        let (want_t, want_p) = (
            case["statistic"].as_f64().unwrap(),
            case["p_value"].as_f64().unwrap(),
        );
        assert!(
            (t.statistic - want_t).abs() < 1e-9,
            "t {} vs scipy {want_t}",
            t.statistic
        );
        assert!(
            (t.p_value - want_p).abs() < 1e-9,
            "p {} vs scipy {want_p}",
            t.p_value
        );
    }
    assert_eq!(paired_t(&[0.8], &[0.7]), None, "one pair");
    assert_eq!(
        paired_t(&[0.5, 0.75], &[0.25, 0.5]),
        None,
        "no spread in the differences"
    );
    let table: Vec<Vec<f64>> = f["friedman"]["table"]
        .as_array()
        .unwrap()
        .iter()
        .map(numbers)
        .collect();
    let fr = friedman(&table);
    let want = f["friedman"]["statistic"].as_f64().unwrap();
    assert!(
        (fr.statistic - want).abs() < 1e-9,
        "{} vs {want}",
        fr.statistic
    );
    let p = f["friedman"]["p_value"].as_f64().unwrap();
    assert!((fr.p_value - p).abs() < 1e-9, "{} vs {p}", fr.p_value);
    assert!(
        (fr.mean_ranks.iter().sum::<f64>() - 10.0).abs() < 1e-12,
        "ranks 1..4 average 2.5"
    );
    for case in f["t_interval"].as_array().unwrap() {
        let i = t_interval(&numbers(&case["values"])).unwrap();
        assert!((i.lo - case["lo"].as_f64().unwrap()).abs() < 1e-9);
        assert!((i.hi - case["hi"].as_f64().unwrap()).abs() < 1e-9);
    }
    assert_eq!(t_interval(&[0.8, 0.9]), None, "fewer than three values");
    // Demšar (2006): CD = 2.569 √(4·5 / (6·14)) for 4 methods on 14 data sets.
    assert!((nemenyi_cd(4, 14).unwrap() - 1.2536).abs() < 1e-4);
    // q_0.05 computed, against SciPy's studentized range (infinite df) / √2 for 2–30
    // treatments, and Demšar's Table 5(a) for 2–10 (printed to 3 decimals, some truncated).
    for (k, want) in f["nemenyi_q_05"].as_object().unwrap() {
        let k: usize = k.parse().unwrap();
        let got = nemenyi_q(k, 0.05);
        assert!(
            (got - want.as_f64().unwrap()).abs() < 1e-6,
            "k = {k}: {got} vs {want}"
        );
    }
    let demsar = [
        1.960, 2.343, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164,
    ];
    for (k, q) in (2..).zip(demsar) {
        assert!((nemenyi_q(k, 0.05) - q).abs() < 1e-3, "k = {k}");
    }
    assert!(nemenyi_cd(13, 3).is_some());
    assert_eq!(nemenyi_cd(1, 5), None);
}

#[test]
fn random_scores_are_chance_and_seeded() {
    let f = fixture();
    let iso = &f["iforest"];
    let (train, mut test) = (windows(&iso["train"]), windows(&iso["test"]));
    test.labels = numbers(&iso["labels"]).iter().map(|l| *l == 1.0).collect();
    let a = model(serde_json::json!({"name": "random"}), &train, 1)
        .score(&test)
        .unwrap();
    let b = model(serde_json::json!({"name": "random"}), &train, 1)
        .score(&test)
        .unwrap();
    let c = model(serde_json::json!({"name": "random"}), &train, 2)
        .score(&test)
        .unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(a.iter().all(|s| (0.0..1.0).contains(s)));
    let auc = anolab::metrics::auc_roc(&test.labels, &a).unwrap();
    // 240 windows, 40 anomalous: chance AUC has sd ≈ 0.05.
    assert!((auc - 0.5).abs() < 0.2, "{auc}");
}

#[test]
fn a_series_baseline_on_beat_windows_is_refused_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.yaml");
    std::fs::write(
        &path,
        "name: mp\ndataset: { name: synthetic }\nmodel: { name: matrix_profile }\n",
    )
    .unwrap();
    let e = anolab::config::load_sweep(&path, &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("model `matrix_profile` scores the rolling windows of one time series")
            && e.contains("dataset `synthetic`"),
        "{e}"
    );
}

#[test]
fn vus_matches_tsb_ad() {
    let f = fixture();
    for case in f["vus"].as_array().unwrap() {
        let labels: Vec<bool> = numbers(&case["labels"]).iter().map(|l| *l == 1.0).collect();
        let scores = numbers(&case["scores"]);
        let window = case["window"].as_u64().unwrap() as usize;
        let v = anolab::metrics::vus::vus(&labels, &scores, window).unwrap();
        for (name, got) in [
            ("vus_roc", v.roc),
            ("vus_pr", v.pr),
            ("range_auc_roc", v.range_roc),
            ("range_auc_pr", v.range_pr),
        ] {
            let want = case[name].as_f64().unwrap();
            assert!(
                (got - want).abs() < 1e-9,
                "window {window}, {name}: {got} vs tsb-ad {want}"
            );
        }
    }
    // An all-normal series has no VUS: an error naming why, not a number.
    let e = anolab::metrics::vus::vus(&[false; 50], &[0.1; 50], 5).unwrap_err();
    assert!(e.to_string().contains("all labels are normal"), "{e}");
}

/// Affiliation precision / recall against tsb-ad 1.5's `pr_from_events` and its
/// threshold-swept F1 (`metric_Affiliation`), `tests/fixtures/affiliation.json`
/// (`scripts/affiliation_fixtures.py`).
#[test]
fn affiliation_matches_tsb_ad() {
    use anolab::metrics::affiliation::{affiliation, best_f1};
    let f = crate::common::fixture("affiliation.json");
    let flags = |v: &Value| -> Vec<bool> { numbers(v).iter().map(|x| *x == 1.0).collect() };
    for case in f["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let labels = flags(&case["labels"]);
        let a = affiliation(&labels, &flags(&case["predicted"])).unwrap();
        let (p, r) = (
            case["precision"].as_f64().unwrap(),
            case["recall"].as_f64().unwrap(),
        );
        assert!(
            (a.precision.unwrap() - p).abs() < 1e-9,
            "{name}: precision {a:?} vs {p}"
        );
        assert!((a.recall - r).abs() < 1e-9, "{name}: recall {a:?} vs {r}");
        if let Some(want) = case["best_f1"].as_f64() {
            let got = best_f1(&labels, &numbers(&case["scores"])).unwrap();
            assert!((got - want).abs() < 1e-9, "{name}: best F1 {got} vs {want}");
        }
    }
    // All normal: undefined, not a number; nothing predicted: no precision, recall 0.
    assert_eq!(affiliation(&[false; 20], &[true; 20]), None);
    let mut labels = [false; 20];
    labels[5] = true;
    let none = affiliation(&labels, &[false; 20]).unwrap();
    assert_eq!((none.precision, none.recall, none.f1()), (None, 0.0, 0.0));
}
