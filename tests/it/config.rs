//! Config layering, override parsing, sweep expansion and run keys.

use anolab::config::{load_sweep, parse_override, ModelConfig};
use anolab::models::beatgan::BeatganConfig;
use anolab::plan::RunSpec;
use serde_json::json;
use std::path::PathBuf;

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const SWEEP: &str = "
name: t
dataset: { name: mitdb, path: data/mitdb-mini }
model: { name: beatgan, nz: [8, 16], w_adv: [0.1, 1.0], ndf: 8 }
train: { epochs: 2, lr: 2.0e-4 }
seeds: [0, 1, 2]
";

/// Same file twice: the same runs with the same keys.
fn keys(path: &std::path::Path, overrides: &[&str]) -> Vec<String> {
    let overrides: Vec<_> = overrides
        .iter()
        .map(|o| parse_override(o).unwrap())
        .collect();
    load_sweep(path, &overrides)
        .unwrap()
        .runs()
        .map(|c| RunSpec::new(c, "data-fingerprint").key)
        .collect()
}

#[test]
fn lists_are_axes_and_seeds_multiply() {
    let dir = tempfile::tempdir().unwrap();
    let spec = load_sweep(&write(&dir, "s.yaml", SWEEP), &[]).unwrap();
    let runs: Vec<_> = spec.runs().collect();
    assert_eq!(spec.name, "t");
    assert_eq!(spec.len(), 2 * 2 * 3);
    let axes: Vec<&str> = spec.axes.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(axes, ["model.nz", "model.w_adv", "seed"]);
    let first = &runs[0];
    assert_eq!(first.train.epochs, 2);
    assert_eq!(first.train.lr, 2.0e-4);
    assert_eq!(
        first.train.batch_size, 64,
        "unset keys take the paper default"
    );
    let ModelConfig::Beatgan(m) = &first.model else {
        panic!("expected beatgan, got {:?}", first.model)
    };
    assert_eq!((m.nz, m.ndf, m.ngf), (8, 8, BeatganConfig::default().ngf));
}

#[test]
fn keys_are_stable_across_loads_and_key_order() {
    let dir = tempfile::tempdir().unwrap();
    let a = keys(&write(&dir, "a.yaml", SWEEP), &[]);
    assert_eq!(a, keys(&write(&dir, "a.yaml", SWEEP), &[]));
    let reordered = "
seeds: [0, 1, 2]
train: { lr: 2.0e-4, epochs: 2 }
model: { ndf: 8, w_adv: [0.1, 1.0], nz: [8, 16], name: beatgan }
dataset: { path: data/mitdb-mini, name: mitdb }
name: t
";
    let b = keys(&write(&dir, "b.yaml", reordered), &[]);
    let mut sa = a.clone();
    let mut sb = b.clone();
    sa.sort();
    sb.sort();
    assert_eq!(sa, sb, "reordering YAML keys changes no key");
    let unique: std::collections::HashSet<_> = a.iter().collect();
    assert_eq!(unique.len(), a.len(), "every run has its own key");
    // A default written out explicitly is the same run.
    let explicit = SWEEP.replace("train: { epochs: 2", "train: { batch_size: 64, epochs: 2");
    let mut sc = keys(&write(&dir, "c.yaml", &explicit), &[]);
    sc.sort();
    assert_eq!(sa, sc);
}

#[test]
fn changing_a_value_changes_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "a.yaml", SWEEP);
    let base = keys(&path, &[]);
    let changed = keys(&path, &["train.epochs=3"]);
    assert!(base.iter().all(|k| !changed.contains(k)));
    // The same data under another fingerprint is another run too.
    let spec = load_sweep(&path, &[]).unwrap();
    let runs: Vec<_> = spec.runs().collect();
    let c = runs[0].clone();
    assert_ne!(RunSpec::new(c.clone(), "a").key, RunSpec::new(c, "b").key);
}

#[test]
fn overrides_replace_values_and_make_axes() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "a.yaml", SWEEP);
    let o: Vec<_> = [
        "model.nz=32",
        "seeds=5",
        "train.lr=2e-4",
        "model.ndf=4,8,16",
    ]
    .iter()
    .map(|o| parse_override(o).unwrap())
    .collect();
    let spec = load_sweep(&path, &o).unwrap();
    assert_eq!(spec.len(), 3 * 2);
    assert!(spec.runs().all(|r| r.seed == 5 && r.train.lr == 2e-4));
    let axes: Vec<&str> = spec.axes.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(axes, ["model.ndf", "model.w_adv"]);
}

#[test]
fn override_values_are_yaml() {
    assert_eq!(parse_override("train.lr=2e-4").unwrap().value, json!(2e-4));
    assert_eq!(
        parse_override("model.nz=8,16").unwrap().value,
        json!([8, 16])
    );
    assert_eq!(
        parse_override("model.nz=[8, 16]").unwrap().value,
        json!([8, 16])
    );
    assert_eq!(
        parse_override("eval.protocol=paper").unwrap().value,
        json!("paper")
    );
    for bad in ["model.nz", "=3", "a..b=1", "model.nz="] {
        let e = parse_override(bad).unwrap_err().to_string();
        assert!(e.contains(&format!("`{bad}`")), "{bad}: {e}");
    }
}

fn error_of(text: &str, overrides: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "bad.yaml", text);
    let overrides: Vec<_> = overrides
        .iter()
        .map(|o| parse_override(o).unwrap())
        .collect();
    format!("{}", load_sweep(&path, &overrides).unwrap_err())
}

#[test]
fn unknown_key_is_named_with_the_valid_ones() {
    let e = error_of(&SWEEP.replace("ndf: 8", "nzz: 8"), &[]);
    assert!(e.contains("bad.yaml"), "{e}");
    assert!(e.contains("nzz") && e.contains("model"), "{e}");
    assert!(e.contains("w_adv"), "lists the valid keys: {e}");
    let e = error_of(&format!("{SWEEP}\nsead: 1\n"), &[]);
    assert!(e.contains("sead") && e.contains("seeds"), "{e}");
}

#[test]
fn bad_values_are_named() {
    let e = error_of(&SWEEP.replace("epochs: 2", "epochs: many"), &[]);
    assert!(e.contains("train.epochs") && e.contains("many"), "{e}");
    let e = error_of(&SWEEP.replace("name: beatgan", "name: beatgn"), &[]);
    assert!(
        e.contains("beatgn") && e.contains("beatgan"),
        "names the valid models: {e}"
    );
    let e = error_of(SWEEP, &["train.epochs=0"]);
    assert!(
        e.contains("train.epochs") && e.contains("at least 1"),
        "{e}"
    );
    let e = error_of(SWEEP, &["eval.protocol=oracle"]);
    assert!(
        e.contains(
            "key `eval.protocol`: unknown variant `oracle`, expected one of `paper`, `clean`"
        ),
        "{e}"
    );
    let e = error_of(SWEEP, &["folds=7"]);
    assert!(e.contains("folds") && e.contains('5'), "{e}");
    let e = error_of(&SWEEP.replace("nz: [8, 16]", "nz: []"), &[]);
    assert!(e.contains("model.nz") && e.contains("empty"), "{e}");
}

#[test]
fn yaml_syntax_errors_give_the_line() {
    let e = error_of("name: t\nmodel: {name: beatgan\n  nz: [1\n", &[]);
    assert!(e.contains("bad.yaml") && e.contains("line"), "{e}");
}

#[test]
fn missing_file_and_missing_name() {
    let e = load_sweep(std::path::Path::new("no/such.yaml"), &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("no/such.yaml") && e.contains("not found"), "{e}");
    let e = error_of(&SWEEP.replace("name: t\n", ""), &[]);
    assert!(e.contains("missing `name`"), "{e}");
}

#[test]
fn distillation_runs_derive_their_teacher_and_name_its_keys() {
    let kd = "
name: k
dataset: { name: mitdb }
model: { name: beatgan_kd, teacher: { nz: 16 }, alpha: [0.0, 0.5], teacher_epochs: 7 }
train: { epochs: 2 }
seeds: [3]
";
    let dir = tempfile::tempdir().unwrap();
    let spec = load_sweep(&write(&dir, "kd.yaml", kd), &[]).unwrap();
    let runs: Vec<_> = spec.runs().collect();
    assert_eq!(spec.len(), 2);
    let student = &runs[1];
    let dependencies = student.dependencies();
    let [("teacher", teacher)] = &dependencies[..] else {
        panic!("a student has one teacher: {dependencies:?}")
    };
    assert_eq!(
        (teacher.seed, teacher.fold, teacher.train.epochs),
        (3, 0, 7)
    );
    let ModelConfig::Beatgan(t) = &teacher.model else {
        panic!("the teacher is a BeatGAN")
    };
    assert_eq!((t.nz, t.ndf), (16, 32));
    assert!(teacher.dependencies().is_empty());
    // Both students share one teacher run.
    let keys: Vec<String> = spec
        .runs()
        .map(|c| RunSpec::new(c.clone(), "d").dependencies[0].1.key.clone())
        .collect();
    assert_eq!(keys[0], keys[1]);

    let e = error_of(&kd.replace("nz: 16", "nz: 0"), &[]);
    assert!(e.contains("model.teacher.nz"), "{e}");
    let e = error_of(&kd.replace("nz: 16", "nzz: 16"), &[]);
    assert!(e.contains("model.teacher.nzz"), "{e}");
    let e = error_of(kd, &["model.temperature=0"]);
    assert!(e.contains("model.temperature"), "{e}");
}

#[test]
fn zip_moves_axes_together() {
    let zipped = format!("{SWEEP}zip: [[model.nz, model.w_adv]]\n");
    let dir = tempfile::tempdir().unwrap();
    let spec = load_sweep(&write(&dir, "z.yaml", &zipped), &[]).unwrap();
    assert_eq!(
        spec.len(),
        2 * 3,
        "nz and w_adv move together: 2 settings × 3 seeds"
    );
    let pairs: Vec<(usize, f64)> = spec
        .runs()
        .map(|r| {
            let ModelConfig::Beatgan(m) = &r.model else {
                panic!()
            };
            (m.nz, m.w_adv)
        })
        .collect();
    assert_eq!(pairs[0], (8, 0.1));
    assert_eq!(pairs[3], (16, 1.0));
    let e = error_of(&format!("{SWEEP}zip: [[model.nz, train.epochs]]\n"), &[]);
    assert!(
        e.contains("train.epochs") && e.contains("not a list"),
        "{e}"
    );
    let e = error_of(&zipped, &["model.nz=8,16,32"]);
    assert!(e.contains("one length"), "{e}");
    // An empty group panicked before (found in review).
    let e = error_of(&format!("{SWEEP}zip: [[]]\n"), &[]);
    assert!(e.contains("`zip` has an empty group"), "{e}");
}

#[test]
fn a_list_of_models_is_one_axis_of_alternatives() {
    let mixed = "
name: m
dataset: { name: mitdb }
model:
  - { name: beatgan, nz: [8, 16] }
  - { name: lstm_ae, nz: 32 }
seeds: [0, 1]
";
    let dir = tempfile::tempdir().unwrap();
    let spec = load_sweep(&write(&dir, "m.yaml", mixed), &[]).unwrap();
    let runs: Vec<_> = spec.runs().collect();
    assert_eq!(
        spec.len(),
        3 * 2,
        "beatgan/8, beatgan/16, lstm_ae, each × 2 seeds"
    );
    let names: Vec<&str> = spec.runs().map(|r| r.model.name()).collect();
    assert_eq!(
        names,
        ["beatgan", "beatgan", "beatgan", "beatgan", "lstm_ae", "lstm_ae"]
    );
    let model_axis = spec.axes.iter().find(|a| a.key == "model").unwrap();
    let label = |i: usize| model_axis.value_of(&runs[i]);
    assert_eq!(label(4), "lstm_ae nz=32");
    assert_eq!(label(2), "beatgan nz=16");
    let e = error_of(&mixed.replace("nz: 32", "ndf: 32"), &[]);
    assert!(e.contains("model.ndf") || e.contains("ndf"), "{e}");
}

#[test]
fn a_sweep_name_that_would_leave_the_results_folder_is_refused() {
    for bad in ["../../../tmp/evil_sweep", "a/b", ".hidden", "white space"] {
        let e = error_of(
            &format!("name: {bad:?}\ndataset: {{ name: mitdb }}\nmodel: {{ name: beatgan }}\n"),
            &[],
        );
        assert!(
            e.contains("cannot name a sweep") && e.contains("results/<name>/"),
            "{bad}: {e}"
        );
    }
    assert!(anolab::config::sweep::check_name("zoo_mitbih-v2.1").is_ok());
}

#[test]
fn a_typo_sized_sweep_is_refused_before_expansion() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "big.yaml",
        "name: big\ndataset: { name: synthetic }\nmodel: { name: beatgan }\n",
    );
    let nz = format!(
        "model.nz={}",
        (1..=2000)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let seeds = format!(
        "seeds={}",
        (0..2000)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let overrides = [
        parse_override(&nz).unwrap(),
        parse_override(&seeds).unwrap(),
    ];
    let start = std::time::Instant::now();
    let e = load_sweep(&path, &overrides).unwrap_err().to_string();
    assert!(
        e.contains("expands to 4000000 runs")
            && e.contains("model.nz (2000)")
            && e.contains("seed (2000)")
            && e.contains("--max-runs"),
        "{e}"
    );
    // Refused, not expanded (expansion took 120 s and 1.5 GB before).
    assert!(start.elapsed().as_secs() < 30);
    // A raised limit lets a large sweep through.
    let e = anolab::config::load_sweep_limited(&path, &overrides[..1], 1000)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("expands to 2000 runs") && e.contains("limit of 1000"),
        "{e}"
    );
    let fine = anolab::config::load_sweep_limited(&path, &overrides[..1], 2000).unwrap();
    assert_eq!(fine.len(), 2000);
}

#[test]
fn an_alternative_too_large_is_refused_before_expansion() {
    let nz: Vec<String> = (1..=400).map(|i| i.to_string()).collect();
    let yaml = format!(
        "name: alt\ndataset: {{ name: synthetic }}\nmodel:\n  - {{ name: ae, nz: [{nz}], ndf: [{nz}], ngf: [{nz}] }}\n",
        nz = nz.join(", ")
    );
    let e = error_of(&yaml, &[]);
    assert!(
        e.contains("an alternative of `model` expands to 64000000 runs"),
        "{e}"
    );
}

#[test]
fn yaml_nan_and_infinity_are_named_not_unit() {
    for (text, shown) in [(".nan", "NaN"), (".inf", "inf"), ("-.inf", "-inf")] {
        let e = error_of(
            &format!("name: t\ndataset: {{ name: synthetic }}\nmodel: {{ name: ae }}\ntrain: {{ lr: {text} }}\n"),
            &[],
        );
        assert!(
            e.contains(&format!(
                "key `train.lr` must be a finite number, found {shown}"
            )),
            "{text}: {e}"
        );
    }
    let e = parse_override("model.w_adv=.nan").unwrap_err().to_string();
    assert_eq!(
        e,
        "override `model.w_adv=.nan`: a setting must be a finite number, found NaN"
    );
}

#[test]
fn zip_reaches_inside_one_alternative_of_a_section() {
    let kd = "
name: z
dataset: { name: mitdb }
model:
  - { name: beatgan_kd, teacher: { nz: 16 }, student_ndf: [4, 8], student_ngf: [4, 8], alpha: [0.0, 0.5] }
  - { name: template }
seeds: [0, 1]
zip: [[model.student_ndf, model.student_ngf]]
";
    let dir = tempfile::tempdir().unwrap();
    let spec = load_sweep(&write(&dir, "z.yaml", kd), &[]).unwrap();
    assert_eq!(
        spec.len(),
        (2 * 2 + 1) * 2,
        "widths move together inside the student: (2 widths × 2 alphas + template) × 2 seeds"
    );
    let widths: Vec<(usize, usize)> = spec
        .runs()
        .filter_map(|r| match r.model {
            ModelConfig::BeatganKd(m) => Some((m.student_ndf, m.student_ngf)),
            _ => None,
        })
        .collect();
    assert!(widths.iter().all(|(d, g)| d == g), "{widths:?}");
    assert!(spec.zip.is_empty(), "the group belongs to the alternative");
    let e = error_of(&kd.replace("student_ngf: [4, 8]", "student_ngf: 4"), &[]);
    assert!(
        e.contains("model.student_ngf") && e.contains("not a list in the alternative"),
        "{e}"
    );
}

/// Every sweep file the README points to loads and expands (no data is read).
#[test]
fn every_shipped_sweep_file_loads() {
    let mut files: Vec<PathBuf> = std::fs::read_dir("experiments")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 15, "{files:?}");
    for file in &files {
        let spec = load_sweep(file, &[]).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(!spec.is_empty(), "{}", file.display());
    }
    let kd = load_sweep(std::path::Path::new("experiments/kd_mitbih.yaml"), &[]).unwrap();
    assert_eq!(kd.len(), 2 * 2 * 2 * 3, "widths × α × β × seeds");
}

#[test]
fn train_precision_keys_a_run_only_when_not_the_default_and_tf32_is_refused_on_the_cpu() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "a.yaml", SWEEP);
    // Writing the default out keeps every stored key; tf32 is another run.
    let base = keys(&path, &[]);
    assert_eq!(base, keys(&path, &["train.precision=f32"]));
    let tf32 = keys(&path, &["train.precision=tf32"]);
    assert!(base.iter().all(|k| !tf32.contains(k)));
    let bad = load_sweep(&path, &[parse_override("train.precision=fp16").unwrap()]).unwrap_err();
    assert!(format!("{bad:#}").contains("precision"), "{bad:#}");

    use anolab::models::Precision;
    use anolab::runner::hold_precision;
    let cpu = candle_core::Device::Cpu;
    let e = hold_precision(Precision::Tf32, &cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("tf32 needs a CUDA device"), "{e}");
    assert!(hold_precision(Precision::F32, &cpu).is_ok());
}
