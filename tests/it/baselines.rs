//! Scores that need no model, on the splits the zoo is judged on: the mean squared
//! distance of a window to the training windows' mean (the "mean template"), and the
//! window's own variance. A reconstruction model that has learnt only the mean level or
//! only the average window scores like these; README compares the LSTM-AE against them.

use anolab::config::DatasetConfig;
use anolab::data::mitdb::MitdbConfig;
use anolab::data::synthetic::{generate, SyntheticConfig};
use anolab::data::Windows;
use anolab::metrics::auc_roc;

fn mean_template(w: &Windows) -> Vec<f64> {
    let mut t = vec![0.0; w.channels * w.length];
    for i in 0..w.n {
        for (acc, v) in t.iter_mut().zip(w.window(i)) {
            *acc += *v as f64 / w.n as f64;
        }
    }
    t
}

fn template_mse(w: &Windows, t: &[f64]) -> Vec<f64> {
    (0..w.n)
        .map(|i| {
            let x = w.window(i);
            x.iter()
                .zip(t)
                .map(|(a, b)| (*a as f64 - b).powi(2))
                .sum::<f64>()
                / x.len() as f64
        })
        .collect()
}

fn own_variance(w: &Windows) -> Vec<f64> {
    (0..w.n)
        .map(|i| {
            let x = w.window(i);
            let m = x.iter().map(|v| *v as f64).sum::<f64>() / x.len() as f64;
            x.iter().map(|v| (*v as f64 - m).powi(2)).sum::<f64>() / x.len() as f64
        })
        .collect()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() < 1e-4,
        "{what}: {got:.4}, expected {want}"
    );
}

/// The zoo_mitbih split (data/mitdb-mini, fold 0, 2048 training beats).
#[test]
fn mitbih_mini_template_and_variance_scores() {
    let ds = DatasetConfig::Mitdb(MitdbConfig {
        path: concat!(env!("CARGO_MANIFEST_DIR"), "/data/mitdb-mini").into(),
        records: None,
        split_seed: 0,
        n_folds: 5,
        max_train: Some(2048),
        rpeak_check: false,
        filter: Default::default(),
    });
    let split = ds.load(0).unwrap();
    let t = mean_template(&split.train);
    let train_template = mean(&template_mse(&split.train, &t));
    let train_variance = mean(&own_variance(&split.train));
    let auc_template = auc_roc(&split.test.labels, &template_mse(&split.test, &t)).unwrap();
    let auc_variance = auc_roc(&split.test.labels, &own_variance(&split.test)).unwrap();
    println!(
        "mitdb-mini: train template MSE {train_template:.4}, own variance {train_variance:.4}; \
         test AUC template MSE {auc_template:.4}, own variance {auc_variance:.4}"
    );
    close(train_template, 0.0200, "train template MSE");
    close(train_variance, 0.0566, "train own variance");
    close(auc_template, 0.8650, "test AUC of the template MSE");
    close(auc_variance, 0.7925, "test AUC of the own variance");
}

/// The same score as a model of its own (`model.name: template`), through the whole
/// sweep: plan, train, score, metrics, store.
#[test]
fn the_template_model_is_the_mean_template_score() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "
name: template
dataset: { name: mitdb, path: DATA, max_train: 2048 }
model: [{ name: template }, { name: template, statistic: median }]
train: { epochs: 1 }
";
    let (spec, runs) = crate::common::sweep(dir.path(), yaml, &[]);
    let store = anolab::store::Store::open(dir.path().join("anolab.sqlite")).unwrap();
    let outcome =
        anolab::runner::run_sweep(&store, &spec, &runs, &crate::common::options(dir.path()))
            .unwrap();
    assert_eq!(outcome.trained, 2, "{:?}", outcome.failed);
    let auc = |statistic: &str| {
        let r = store
            .query(&format!(
                "SELECT m.value FROM metrics m JOIN params p ON p.run_id = m.run_id
                 WHERE m.split = 'test' AND m.name = 'auc_roc'
                   AND p.name = 'model.statistic' AND p.value_text = '{statistic}'"
            ))
            .unwrap();
        match r.rows[0][0] {
            anolab::store::Cell::Real(v) => v,
            ref other => panic!("{other:?}"),
        }
    };
    close(auc("mean"), 0.8650, "test AUC of the template model");
    // The median template is another baseline, not far from the mean one on normal beats.
    let median = auc("median");
    assert!((0.8..0.9).contains(&median), "median template AUC {median}");
}

/// The synthetic split of tests/zoo.rs (length 80, seed 9, 128 training windows).
#[test]
fn synthetic_template_scores() {
    let split = generate(&SyntheticConfig {
        n_train: 128,
        n_val: 20,
        n_test: 200,
        anomaly_rate: 0.5,
        length: 80,
        seed: 9,
    });
    let t = mean_template(&split.train);
    let train_template = mean(&template_mse(&split.train, &t));
    let auc_template = auc_roc(&split.test.labels, &template_mse(&split.test, &t)).unwrap();
    println!("synthetic: train template MSE {train_template:.4}, test AUC {auc_template:.4}");
    close(train_template, 0.1862, "train template MSE");
    close(auc_template, 0.5697, "test AUC of the template MSE");
}
