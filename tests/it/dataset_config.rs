//! The dataset sections of the new readers: example sweeps parse and load, invalid
//! combinations are refused with the key named, and existing run keys are unchanged.

use anolab::config::{load_sweep, parse_override, DatasetConfig};
use std::path::Path;

fn sweep(file: &str, overrides: &[&str]) -> Result<anolab::config::SweepSpec, String> {
    let overrides: Vec<_> = overrides
        .iter()
        .map(|o| parse_override(o).unwrap())
        .collect();
    load_sweep(Path::new(file), &overrides).map_err(|e| e.to_string())
}

#[test]
fn example_sweeps_parse_and_their_data_loads() {
    for file in [
        "experiments/csv_series.yaml",
        "experiments/ucr_ecg.yaml",
        "experiments/npy_windows.yaml",
        "experiments/nab_signals.yaml",
    ] {
        let spec = sweep(file, &[]).unwrap();
        let runs: Vec<_> = spec.runs().collect();
        let dataset = &runs[0].dataset;
        if let DatasetConfig::Nab(c) = dataset {
            assert_eq!(spec.len(), 6, "one run per signal");
            if !c.path.is_dir() {
                println!("skipped loading {file}: ../shared/data/nab not found");
                continue;
            }
        }
        let split = dataset.load(0).unwrap();
        assert_eq!(split.train.length, 80, "{file}");
        assert_eq!(split.timeline.is_some(), dataset.is_series(), "{file}");
    }
}

#[test]
fn a_list_of_classes_is_an_axis() {
    let spec = sweep("experiments/csv_series.yaml", &[]).unwrap();
    assert_eq!(spec.len(), 1);
    let spec = sweep("experiments/ucr_ecg.yaml", &["dataset.normal_class=1,2,3"]).unwrap();
    let runs: Vec<_> = spec.runs().collect();
    assert_eq!(spec.len(), 3 * 2);
    let DatasetConfig::Ucr(c) = &runs[2].dataset else {
        panic!()
    };
    assert_eq!(c.normal_class, "2");
}

#[test]
fn invalid_combinations_name_the_key() {
    let e = sweep(
        "experiments/npy_windows.yaml",
        &["dataset.val_fraction=1.5"],
    )
    .unwrap_err();
    assert!(e.contains("dataset.val_fraction"), "{e}");
    let e = sweep("experiments/ucr_ecg.yaml", &["eval.threshold=orion"]).unwrap_err();
    assert!(e.contains("eval.threshold") && e.contains("ucr"), "{e}");
    let e = sweep("experiments/ucr_ecg.yaml", &["folds=1"]).unwrap_err();
    assert!(e.contains("folds") && e.contains("one split"), "{e}");
    let e = sweep(
        "experiments/npy_windows.yaml",
        &["dataset.name=digits", "dataset.windows=x"],
    )
    .unwrap_err();
    assert!(e.contains("windows"), "{e}");
}

#[test]
fn default_threshold_leaves_existing_run_keys_alone() {
    let spec = sweep("experiments/quickstart.yaml", &[]).unwrap();
    let runs: Vec<_> = spec.runs().collect();
    let canonical = serde_json::to_string(&runs[0]).unwrap();
    assert!(!canonical.contains("\"threshold\""), "{canonical}");
    let spec = sweep("experiments/csv_series.yaml", &[]).unwrap();
    let runs: Vec<_> = spec.runs().collect();
    let canonical = serde_json::to_string(&runs[0]).unwrap();
    assert!(canonical.contains("\"threshold\":\"orion\""), "{canonical}");
}
