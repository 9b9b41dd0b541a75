//! The synthetic ECG-like generator: deterministic for a seed, train normal only, the
//! planted fractions and kinds exact, windows in [−1, 1], reachable as `name: synthetic`.

use anolab::config::{load_sweep, DatasetConfig};
use anolab::data::synthetic::{generate, planted, SyntheticConfig, ANOMALY_KINDS, NORMAL_CLASS};

fn opts(seed: u64) -> SyntheticConfig {
    SyntheticConfig {
        n_train: 64,
        n_val: 30,
        n_test: 90,
        anomaly_rate: 0.2,
        length: 80,
        seed,
    }
}

#[test]
fn same_seed_same_data_other_seed_other_data() {
    let a = generate(&opts(3));
    let b = generate(&opts(3));
    assert_eq!(a.train.data, b.train.data);
    assert_eq!(a.test.data, b.test.data);
    assert_eq!(a.test.classes, b.test.classes);
    let c = generate(&opts(4));
    assert_ne!(a.train.data, c.train.data);
    // Window i of a split does not depend on the other splits' sizes.
    let bigger = generate(&SyntheticConfig {
        n_val: 50,
        ..opts(3)
    });
    assert_eq!(a.train.data, bigger.train.data);
    assert_eq!(a.test.data, bigger.test.data);
}

#[test]
fn planted_fractions_and_kinds_are_exact() {
    let s = generate(&opts(1));
    assert_eq!((s.train.n, s.val.n, s.test.n), (64, 30, 90));
    assert!(s.train.labels.iter().all(|&l| !l), "train is normal only");
    assert!(s.train.classes.iter().all(|c| c == NORMAL_CLASS));
    for (w, n) in [(&s.val, 30), (&s.test, 90)] {
        let expected = planted(n, 0.2);
        assert_eq!(w.labels.iter().filter(|&&l| l).count(), expected);
        let counts = w.class_counts();
        assert_eq!(counts[NORMAL_CLASS], n - expected);
        // Round-robin over the kinds: equal shares (± 1).
        for kind in ANOMALY_KINDS {
            let k = counts.get(kind).copied().unwrap_or(0);
            assert!(k.abs_diff(expected / 3) <= 1, "{kind}: {k} of {expected}");
        }
        for (label, class) in w.labels.iter().zip(&w.classes) {
            assert_eq!(*label, class != NORMAL_CLASS);
        }
        // Anomalies are spread out, not all at the front.
        assert!(w.labels[..n / 2].iter().any(|&l| l) && w.labels[n / 2..].iter().any(|&l| l));
    }
    let all = [&s.train, &s.val, &s.test];
    for w in all {
        assert_eq!(w.data.len(), w.n * 80);
        assert!(w.data.iter().all(|v| (-1.0..=1.0).contains(v)));
    }
}

#[test]
fn planted_anomalies_change_the_window() {
    // A flattened segment holds one value over ≥ 15 % of the window; a normal window
    // never does (noise moves every sample).
    let s = generate(&SyntheticConfig {
        n_test: 300,
        ..opts(2)
    });
    let longest_run = |w: &[f32]| {
        let (mut best, mut run) = (1, 1);
        for p in w.windows(2) {
            run = if p[0] == p[1] { run + 1 } else { 1 };
            best = best.max(run);
        }
        best
    };
    for i in 0..s.test.n {
        let run = longest_run(s.test.window(i));
        match s.test.classes[i].as_str() {
            "flat" => assert!(run >= 12, "flat window {i}: longest run {run}"),
            _ => assert!(
                run < 3,
                "{} window {i}: longest run {run}",
                s.test.classes[i]
            ),
        }
    }
}

#[test]
fn a_sweep_file_selects_it_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.yaml");
    std::fs::write(
        &path,
        "name: s\ndataset: { name: synthetic, n_train: 128, seed: 5 }\nmodel: { name: ae }\n",
    )
    .unwrap();
    let spec = load_sweep(&path, &[]).unwrap();
    let runs: Vec<_> = spec.runs().collect();
    let DatasetConfig::Synthetic(d) = &runs[0].dataset else {
        panic!("expected synthetic, got {:?}", runs[0].dataset)
    };
    assert_eq!((d.n_train, d.seed, d.length), (128, 5, 320));
    let split = runs[0].dataset.load(0).unwrap();
    assert_eq!(split.train.n, 128);
    assert!(runs[0].dataset.fingerprint().is_ok());

    std::fs::write(
        &path,
        "name: s\ndataset: { name: synthetic, n_tain: 128 }\nmodel: { name: ae }\n",
    )
    .unwrap();
    let err = load_sweep(&path, &[]).unwrap_err().to_string();
    assert!(err.contains("n_tain"), "{err}");
}
