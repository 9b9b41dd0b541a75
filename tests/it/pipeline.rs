//! The whole path on real data: sweep → store → runner → BeatGAN on the shipped MIT-BIH
//! records → metrics → store → report; resume, failure isolation and divergence.

use crate::common;

use anolab::report;
use anolab::runner::{run_sweep, SweepOptions};
use anolab::store::{Cell, Store};

#[test]
fn a_sweep_trains_stores_resumes_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let (spec, runs) = common::sweep(dir.path(), common::TINY, &[]);
    let store = Store::open(dir.path().join("anolab.sqlite")).unwrap();
    let outcome = run_sweep(&store, &spec, &runs, &common::options(dir.path())).unwrap();
    assert_eq!((outcome.trained, outcome.already_done), (2, 0));
    assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);

    assert_eq!(
        common::count(&store, "SELECT count(*) FROM runs WHERE status = 'done'"),
        2
    );
    // One epoch: 4 losses + val_loss + val_auc_roc (validation has S/V/F beats).
    assert_eq!(common::count(&store, "SELECT count(*) FROM epochs"), 2 * 6);
    // The fold-0 test split of the three shipped records: 1093 normal + 1665 abnormal.
    assert_eq!(
        common::count(
            &store,
            "SELECT DISTINCT CAST(value AS INTEGER) FROM metrics WHERE name = 'n'"
        ),
        2758
    );
    assert_eq!(
        common::count(
            &store,
            "SELECT DISTINCT length(scores) / 8 FROM scores WHERE split = 'test'"
        ),
        2758
    );
    for metric in ["auc_roc", "auc_pr", "best_f1", "f1", "recall_V"] {
        let r = store
            .query(&format!(
                "SELECT min(value), max(value) FROM metrics WHERE name = '{metric}'"
            ))
            .unwrap();
        for cell in &r.rows[0] {
            let Cell::Real(v) = cell else {
                panic!("{metric}: {cell:?}")
            };
            assert!((0.0..=1.0).contains(v), "{metric} = {v}");
        }
    }
    let artifacts = store.query("SELECT path FROM artifacts").unwrap();
    for row in &artifacts.rows {
        let Cell::Text(p) = &row[0] else { panic!() };
        // Recorded relative to the artifacts root (the results folder).
        let file = anolab::paths::artifact(dir.path(), p);
        assert!(
            std::fs::metadata(&file).unwrap().len() > 1000,
            "checkpoint {p}"
        );
    }

    // Again: nothing is trained twice.
    let again = run_sweep(&store, &spec, &runs, &common::options(dir.path())).unwrap();
    assert_eq!((again.trained, again.already_done), (0, 2));
    assert_eq!(common::count(&store, "SELECT count(*) FROM runs"), 2);
    // --force retrains.
    let forced = run_sweep(
        &store,
        &spec,
        &runs,
        &SweepOptions {
            force: true,
            ..common::options(dir.path())
        },
    )
    .unwrap();
    assert_eq!(forced.trained, 2);
    assert_eq!(
        common::count(&store, "SELECT count(*) FROM epochs"),
        2 * 6,
        "old epochs replaced, not added"
    );

    // The report: one group over two seeds; no metric-vs-axis figure without an axis.
    let details = store.sweep_details("tiny").unwrap();
    let summary = report::summarise(&details);
    assert_eq!(summary.groups.len(), 1);
    assert_eq!(summary.groups[0].n, 2);
    assert!(report::format_table(&summary).contains("protocol: clean"));
    let r = report::render(&store, "tiny", dir.path(), &Default::default())
        .unwrap()
        .unwrap();
    assert!(r
        .notes
        .iter()
        .any(|n| n.contains("no numeric setting varied")));
}

#[test]
fn parallel_jobs_train_every_run_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let (spec, runs) = common::sweep(dir.path(), common::TINY, &["seeds=0,1,2"]);
    let store = Store::open(dir.path().join("anolab.sqlite")).unwrap();
    let opts = SweepOptions {
        jobs: 2,
        ..common::options(dir.path())
    };
    let outcome = run_sweep(&store, &spec, &runs, &opts).unwrap();
    assert_eq!((outcome.trained, outcome.already_done), (3, 0));
    assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);
    assert_eq!(
        common::count(&store, "SELECT count(*) FROM runs WHERE status = 'done'"),
        3
    );
    // Each run's one epoch stored once: 6 values per epoch.
    assert_eq!(common::count(&store, "SELECT count(*) FROM epochs"), 3 * 6);
}

#[test]
fn a_failing_run_does_not_stop_the_sweep() {
    let dir = tempfile::tempdir().unwrap();
    // Two learning rates as an axis: one trains, 1e30 diverges.
    let (spec, runs) = common::sweep(dir.path(), common::TINY, &["train.lr=1e30,1e-3", "seeds=0"]);
    assert_eq!(runs.len(), 2);
    let store = Store::open(dir.path().join("anolab.sqlite")).unwrap();
    let outcome = run_sweep(&store, &spec, &runs, &common::options(dir.path())).unwrap();
    assert_eq!(outcome.trained, 1);
    assert_eq!(outcome.failed.len(), 1);
    assert!(
        outcome.failed[0].2.contains("diverged"),
        "{:?}",
        outcome.failed
    );
    let failed = store
        .runs(None, Some(anolab::kinds::RunStatus::Failed))
        .unwrap();
    assert!(failed[0].error.as_deref().unwrap().contains("diverged"));

    // Without --rerun-failed it stays failed and is reported; with it, it is retried.
    let again = run_sweep(&store, &spec, &runs, &common::options(dir.path())).unwrap();
    assert_eq!((again.trained, again.failed.len()), (0, 1));
    let retried = run_sweep(
        &store,
        &spec,
        &runs,
        &SweepOptions {
            rerun_failed: true,
            ..common::options(dir.path())
        },
    )
    .unwrap();
    assert_eq!(
        (retried.trained, retried.failed.len(), retried.already_done),
        (0, 1, 1)
    );
}

/// Data is checked before anything is queued: a record that does not exist is one error
/// naming its file, the store gets no run, and `--dry-run` reports the same error.
#[test]
fn bad_data_refuses_the_sweep_before_anything_is_queued() {
    let dir = tempfile::tempdir().unwrap();
    let (spec, runs) = common::sweep(
        dir.path(),
        common::TINY,
        &["dataset.records=[[\"208\"], [\"999\"]]", "model.nz=4,8"],
    );
    assert_eq!(runs.len(), 2 * 2 * 2);
    let store = Store::open(dir.path().join("anolab.sqlite")).unwrap();
    let e = run_sweep(&store, &spec, &runs, &common::options(dir.path()))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("1 of the sweep's datasets cannot be read, so nothing was queued")
            && e.contains("dataset `mitdb` (fold 0)")
            && e.contains("999.hea"),
        "{e}"
    );
    assert_eq!(
        e.matches("999.hea").count(),
        1,
        "one error per dataset: {e}"
    );
    assert_eq!(common::count(&store, "SELECT count(*) FROM runs"), 0);

    let file = dir.path().join("sweep.yaml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_anolab"))
        .args(["sweep", file.to_str().unwrap(), "--dry-run"])
        .args(["dataset.records=[[\"208\"], [\"999\"]]"])
        .arg("--db")
        .arg(dir.path().join("dry.sqlite"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("999.hea"),
        "{stderr}"
    );
}

#[test]
fn a_diverging_run_is_recorded_failed_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (spec, runs) = common::sweep(dir.path(), common::TINY, &["train.lr=1e30", "seeds=0"]);
    let store = Store::open(dir.path().join("anolab.sqlite")).unwrap();
    let outcome = run_sweep(&store, &spec, &runs, &common::options(dir.path())).unwrap();
    assert_eq!(outcome.failed.len(), 1, "{outcome:?}");
    let error = &outcome.failed[0].2;
    assert!(error.contains("diverged"), "{error}");
    assert_eq!(
        common::count(&store, "SELECT count(*) FROM metrics"),
        0,
        "a failed run stores no metrics"
    );
}

#[test]
fn paper_protocol_is_labelled_and_selects_on_validation_auc() {
    let dir = tempfile::tempdir().unwrap();
    let (spec, runs) = common::sweep(
        dir.path(),
        common::TINY,
        &["eval.protocol=paper", "seeds=0", "train.epochs=2"],
    );
    let store = Store::open(dir.path().join("anolab.sqlite")).unwrap();
    run_sweep(&store, &spec, &runs, &common::options(dir.path())).unwrap();
    assert_eq!(
        common::count(
            &store,
            "SELECT count(*) FROM metrics WHERE protocol != 'paper'"
        ),
        0
    );
    // The chosen epoch is the one with the best validation AUC.
    let best = common::count(&store, "SELECT best_epoch FROM runs");
    let argmax = common::count(
        &store,
        "SELECT epoch FROM epochs WHERE name = 'val_auc_roc' ORDER BY value DESC, epoch LIMIT 1",
    );
    assert_eq!(best, argmax);
    // Paper protocol: the threshold is the test best-F1 threshold, so f1 = best_f1.
    let r = store.query("SELECT (SELECT value FROM metrics WHERE name = 'f1' AND split = 'test') - (SELECT value FROM metrics WHERE name = 'best_f1' AND split = 'test')").unwrap();
    assert_eq!(r.rows[0][0], Cell::Real(0.0));
}

/// `eval.epoch: last` keeps the last epoch (Orion's choice) where the clean protocol keeps
/// the lowest mean normal validation score; the default stays out of the run key.
#[test]
fn eval_epoch_last_keeps_the_last_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let (spec, runs) = common::sweep(
        dir.path(),
        common::TINY,
        &["eval.epoch=protocol,last", "seeds=0", "train.epochs=2"],
    );
    assert_eq!(runs.len(), 2);
    let store = Store::open(dir.path().join("anolab.sqlite")).unwrap();
    run_sweep(&store, &spec, &runs, &common::options(dir.path())).unwrap();
    let best = |last: bool| {
        common::count(
            &store,
            &format!(
                "SELECT best_epoch FROM runs WHERE (config_json LIKE '%\"epoch\":\"last\"%') = {last}"
            ),
        )
    };
    assert_eq!(best(true), 1);
    let argmin = common::count(
        &store,
        "SELECT e.epoch FROM epochs e JOIN runs r ON r.id = e.run_id WHERE e.name = 'val_loss'
         AND r.config_json NOT LIKE '%\"epoch\":\"last\"%' ORDER BY e.value, e.epoch LIMIT 1",
    );
    assert_eq!(best(false), argmin);
    // On this seed the clean choice is epoch 0, so the two choices are told apart.
    assert_ne!(argmin, 1);
    assert_eq!(
        common::count(
            &store,
            "SELECT count(*) FROM runs WHERE config_json LIKE '%\"epoch\":\"protocol\"%'"
        ),
        0,
        "the default is not serialised"
    );
}

/// `paper` validates as the official BeatGAN code does, with the networks in training
/// mode (batch statistics); `clean` validates as it tests (eval mode). Training is the
/// same in both: the running statistics the validation pass moves are not used by it.
#[test]
fn paper_protocol_validates_with_batch_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let (spec, runs) = common::sweep(
        dir.path(),
        common::TINY,
        &["eval.protocol=paper,clean", "seeds=0", "train.epochs=2"],
    );
    let store = Store::open(dir.path().join("anolab.sqlite")).unwrap();
    run_sweep(&store, &spec, &runs, &common::options(dir.path())).unwrap();
    let values = |name: &str| -> Vec<Vec<Cell>> {
        store
            .query(&format!(
                "SELECT e.value FROM epochs e JOIN params p ON p.run_id = e.run_id \
                 AND p.name = 'eval.protocol' WHERE e.name = '{name}' \
                 ORDER BY e.epoch, p.value_text"
            ))
            .unwrap()
            .rows
    };
    // Rows: epoch 0 (clean, paper), epoch 1 (clean, paper).
    let losses = values("err_g_rec");
    assert_eq!(losses.len(), 4);
    assert_eq!((&losses[0], &losses[2]), (&losses[1], &losses[3]));
    let aucs = values("val_auc_roc");
    assert_ne!(aucs[0], aucs[1], "epoch 0 validated alike: {aucs:?}");
    assert_ne!(aucs[2], aucs[3], "epoch 1 validated alike: {aucs:?}");
}

/// Every run stores its inference time; for AnoGAN that is the latent search, which also
/// runs on validation after every epoch (`val_score_s`), apart from training (`fit_s`).
#[test]
fn runs_store_inference_times_anogan_its_latent_search() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "
name: anogan_time
dataset: { name: synthetic, n_train: 64, n_val: 32, n_test: 64, length: 80 }
model: { name: anogan, nz: 4, ndf: 4, ngf: 4, latent_steps: 20 }
train: { epochs: 2, batch_size: 32, lr: 1.0e-3 }
seeds: [0]
";
    let (spec, runs) = common::sweep(dir.path(), yaml, &[]);
    let store = Store::open(dir.path().join("anolab.sqlite")).unwrap();
    let outcome = run_sweep(&store, &spec, &runs, &common::options(dir.path())).unwrap();
    assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);
    let value = |split: &str, name: &str| -> f64 {
        let r = store
            .query(&format!(
                "SELECT value FROM metrics WHERE split = '{split}' AND name = '{name}'"
            ))
            .unwrap();
        assert_eq!(r.rows.len(), 1, "{split}/{name}");
        match r.rows[0][0] {
            Cell::Real(v) => v,
            ref other => panic!("{split}/{name}: {other:?}"),
        }
    };
    let (score_s, ms) = (value("test", "score_s"), value("test", "ms_per_window"));
    assert!(score_s > 0.0 && ms > 0.0);
    assert!(
        (ms - score_s * 1e3 / 64.0).abs() < 1e-9 * ms.max(1.0),
        "{ms} vs {score_s}"
    );
    let (fit_s, val_score_s) = (value("train", "fit_s"), value("train", "val_score_s"));
    assert!(fit_s > 0.0 && val_score_s > 0.0);
    let duration: f64 = match store.query("SELECT duration_s FROM runs").unwrap().rows[0][0] {
        Cell::Real(v) => v,
        ref other => panic!("{other:?}"),
    };
    assert!(
        fit_s + val_score_s + score_s <= duration,
        "parts exceed the run's time"
    );
}
