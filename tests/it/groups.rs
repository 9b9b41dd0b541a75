//! Sweeps as researchers write them: whole config groups on the command line
//! (`model=ae,vae`) and each model's own training defaults.

use anolab::config::{load_sweep, parse_override, ModelConfig, SweepSpec, TrainConfig};
use anolab::plan::RunSpec;

/// A BeatGAN sweep whose model block has keys other models lack (`ndf`).
const SWEEP: &str = "
name: t
dataset: { name: synthetic, n_train: 64, n_val: 32, n_test: 32 }
model: { name: beatgan, nz: 8, ndf: 8 }
train: { epochs: 2 }
seeds: [0, 1]
";

fn load(text: &str, overrides: &[&str]) -> Result<SweepSpec, String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.yaml");
    std::fs::write(&path, text).unwrap();
    let overrides: Vec<_> = overrides
        .iter()
        .map(|o| parse_override(o).unwrap())
        .collect();
    load_sweep(&path, &overrides).map_err(|e| e.to_string())
}

fn keys(spec: &SweepSpec) -> Vec<String> {
    spec.runs()
        .map(|c| RunSpec::new(c.clone(), "data").key)
        .collect()
}

#[test]
fn a_group_override_replaces_the_whole_model_and_makes_an_axis() {
    let spec = load(SWEEP, &["model=ae,lstm_ae", "model.nz=16"]).unwrap();
    let runs: Vec<_> = spec.runs().collect();
    let names: Vec<&str> = spec.runs().map(|r| r.model.name()).collect();
    assert_eq!(names, ["ae", "ae", "lstm_ae", "lstm_ae"]);
    let ModelConfig::Ae(ae) = &runs[0].model else {
        panic!("{:?}", runs[0].model)
    };
    assert_eq!(
        (ae.nz, ae.ndf),
        (16, 32),
        "the key after the group applies to it; the file's ndf went with beatgan"
    );
    let ModelConfig::LstmAe(lstm) = &runs[2].model else {
        panic!("{:?}", runs[2].model)
    };
    assert_eq!(lstm.nz, 16);
    assert_eq!(spec.describe_grid(), "model (2) × seed (2)");
    // Groups apply first, whatever their place on the line.
    let reordered = load(SWEEP, &["model.nz=16", "model=ae,lstm_ae"]).unwrap();
    assert_eq!(keys(&spec), keys(&reordered));
}

#[test]
fn a_dataset_group_override_replaces_the_dataset() {
    let spec = load(SWEEP, &["dataset=synthetic", "dataset.length=160"]).unwrap();
    let runs: Vec<_> = spec.runs().collect();
    let text = serde_json::to_value(&runs[0].dataset).unwrap();
    assert_eq!(text["length"], 160);
    assert_eq!(
        text["n_train"], 1024,
        "the file's n_train went with the replaced section"
    );
}

#[test]
fn a_key_the_model_lacks_is_named_with_the_model_and_its_keys() {
    let e = load(SWEEP, &["model.name=lstm_ae"]).unwrap_err();
    assert!(
        e.contains("key `model.ndf` is not a setting of model `lstm_ae`; its settings: nz"),
        "{e}"
    );
    let e = load(SWEEP, &["model=ae", "model.ndff=3"]).unwrap_err();
    assert!(
        e.contains("key `model.ndff` is not a setting of model `ae`; its settings: nz, ndf, ngf"),
        "{e}"
    );
    let e = load(SWEEP, &["dataset.lenght=3"]).unwrap_err();
    assert!(
        e.contains("key `dataset.lenght` is not a setting of dataset `synthetic`; its settings:")
            && e.contains("length"),
        "{e}"
    );
    let e = load(SWEEP, &["model=3"]).unwrap_err();
    assert!(e.contains("`model=` takes a model name"), "{e}");
    let e = load(SWEEP, &["model=beatgann"]).unwrap_err();
    assert!(
        e.contains("unknown name \"beatgann\"; valid names: beatgan"),
        "{e}"
    );
}

const ZOO: &str = "
name: zoo
dataset: { name: synthetic }
model: [{ name: beatgan }, { name: ganomaly }, { name: tadgan }, { name: knn }]
";

fn train_of(spec: &SweepSpec, model: &str) -> Vec<TrainConfig> {
    spec.runs()
        .filter(|r| r.model.name() == model)
        .map(|r| r.train.clone())
        .collect()
}

#[test]
fn each_model_trains_with_its_papers_settings_unless_the_sweep_sets_them() {
    let spec = load(ZOO, &[]).unwrap();
    let one = |model: &str| {
        let t = &train_of(&spec, model)[0];
        (t.epochs, t.batch_size, t.lr, t.beta1, t.beta2)
    };
    assert_eq!(one("beatgan"), (100, 64, 1e-4, 0.5, 0.999));
    assert_eq!(one("ganomaly"), (15, 64, 2e-4, 0.5, 0.999));
    assert_eq!(one("tadgan"), (35, 64, 5e-4, 0.9, 0.999));
    assert_eq!(one("knn").0, 1, "a baseline fits in one pass");

    // The sweep's `train:` is above every model's defaults, key by key.
    let spec = load(&format!("{ZOO}train: {{ epochs: 3 }}\n"), &[]).unwrap();
    let ganomaly = &train_of(&spec, "ganomaly")[0];
    assert_eq!((ganomaly.epochs, ganomaly.lr), (3, 2e-4));
}

#[test]
fn a_model_alternative_carries_its_own_train_block_and_the_command_line_wins() {
    let text = "
name: own
dataset: { name: synthetic }
model:
  - { name: beatgan }
  - { name: ganomaly, train: { epochs: [2, 4], lr: 1.0e-3 } }
train: { epochs: 3, lr: 5.0e-4 }
";
    let spec = load(text, &[]).unwrap();
    let runs: Vec<_> = spec.runs().collect();
    let epochs = |spec: &SweepSpec, model: &str| -> Vec<(usize, f64)> {
        train_of(spec, model)
            .iter()
            .map(|t| (t.epochs, t.lr))
            .collect()
    };
    assert_eq!(epochs(&spec, "beatgan"), [(3, 5e-4)]);
    assert_eq!(epochs(&spec, "ganomaly"), [(2, 1e-3), (4, 1e-3)]);
    // The block is the run's `train` (so it is in the key), not a model setting.
    let params: Vec<String> = anolab::config::sweep::params(&runs[1])
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert!(
        !params.iter().any(|k| k.starts_with("model.train")),
        "{params:?}"
    );
    let labels: Vec<String> = spec.runs().map(|r| spec.axes[0].value_of(&r)).collect();
    assert_eq!(
        labels,
        [
            "beatgan",
            "ganomaly train.epochs=2 train.lr=0.001",
            "ganomaly train.epochs=4 train.lr=0.001"
        ]
    );

    let overridden = load(text, &["train.epochs=1"]).unwrap();
    assert_eq!(epochs(&overridden, "ganomaly"), [(1, 1e-3)]);
    assert_eq!(epochs(&overridden, "beatgan"), [(1, 5e-4)]);

    let e = load(
        &text.replace("train: { epochs: [2, 4], lr: 1.0e-3 }", "train: 3"),
        &[],
    )
    .unwrap_err();
    assert!(e.contains("key `model.train` must be a mapping"), "{e}");
    let e = load(&text.replace("lr: 1.0e-3 }", "lrr: 1.0e-3 }"), &[]).unwrap_err();
    assert!(e.contains("lrr"), "{e}");
}

#[test]
fn a_key_for_a_list_of_alternatives_goes_to_those_that_set_it() {
    let text = "
name: alts
dataset: { name: synthetic }
model: [{ name: ganomaly, ndf: 32 }, { name: knn }]
";
    let spec = load(text, &["model.ndf=64"]).unwrap();
    let runs: Vec<_> = spec.runs().collect();
    let ModelConfig::Ganomaly(g) = &runs[0].model else {
        panic!("{:?}", runs[0].model)
    };
    assert_eq!(g.ndf, 64);
    assert_eq!(runs[1].model.name(), "knn");
    // A key no alternative sets goes to all of them, so a typo is still an error.
    let e = load(text, &["model.k=3"]).unwrap_err();
    assert!(
        e.contains("key `model.k` is not a setting of model `ganomaly`"),
        "{e}"
    );
}

#[test]
fn a_group_override_that_drops_zipped_keys_says_how_to_drop_the_zip() {
    let zipped = "
name: z
dataset: { name: synthetic, n_train: 64, n_val: 32, n_test: 32 }
model: { name: beatgan, nz: 8, ndf: [8, 16], ngf: [8, 16] }
zip: [[model.ndf, model.ngf]]
";
    let e = load(zipped, &["model=knn"]).unwrap_err();
    assert!(
        e.contains("`zip` names `model.ndf`, which is not a list in this sweep")
            && e.contains("add `zip=[]`"),
        "{e}"
    );
    let spec = load(zipped, &["model=knn", "zip=[]"]).unwrap();
    assert_eq!(spec.len(), 1);
}
