//! Helpers shared by the integration tests.

use anolab::config::{parse_override, SweepSpec};
use anolab::models::{Build, Detector, InputShape, ModelConfig, TrainConfig};
use anolab::plan::{self, RunSpec};
use std::path::Path;

/// A tiny BeatGAN sweep on the shipped MIT-BIH records: 2 runs (seeds), 1 epoch, small
/// widths and few training beats, so a test trains in seconds.
pub const TINY: &str = "
name: tiny
dataset: { name: mitdb, path: DATA, max_train: 128 }
model: { name: beatgan, nz: 4, ndf: 4, ngf: 4 }
train: { epochs: 1, batch_size: 32, lr: 1.0e-3 }
seeds: [0, 1]
";

pub fn mini_data() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/data/mitdb-mini").to_string()
}

/// Loads `yaml` (with `DATA` replaced by the shipped data) plus overrides, resolved.
pub fn sweep(dir: &Path, yaml: &str, overrides: &[&str]) -> (SweepSpec, Vec<RunSpec>) {
    let path = dir.join("sweep.yaml");
    std::fs::write(&path, yaml.replace("DATA", &mini_data())).unwrap();
    let overrides: Vec<_> = overrides
        .iter()
        .map(|o| parse_override(o).unwrap())
        .collect();
    plan::load(&path, &overrides, anolab::config::sweep::DEFAULT_MAX_RUNS).unwrap()
}

/// A detector of `model` on the CPU, initialised from `seed`, with no dependencies.
pub fn build(
    model: &ModelConfig,
    train: &TrainConfig,
    shape: InputShape,
    seed: u64,
) -> anyhow::Result<Box<dyn Detector>> {
    model.build(&Build {
        train,
        shape,
        device: &candle_core::Device::Cpu,
        seed,
        dependencies: &[],
    })
}

/// Sweep options for tests: one job on the CPU, results under `dir`.
pub fn options(dir: &Path) -> anolab::runner::SweepOptions {
    anolab::runner::SweepOptions {
        jobs: 1,
        devices: anolab::runner::DeviceSpec::Cpu,
        force: false,
        rerun_failed: false,
        results_dir: dir.to_path_buf(),
        source_file: "sweep.yaml".into(),
        log: anolab::runner::LogFormat::Auto,
    }
}

/// The integer a one-cell query returns.
pub fn count(store: &anolab::store::Store, sql: &str) -> i64 {
    match store.query(sql).unwrap().rows[0][0] {
        anolab::store::Cell::Int(n) => n,
        ref other => panic!("{sql}: {other:?}"),
    }
}

/// All elements of a tensor as f64, in row-major order.
pub fn flat(t: &candle_core::Tensor) -> Vec<f64> {
    t.to_dtype(candle_core::DType::F64)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

/// The stores a test runs on: a new SQLite file in `dir`, and a new PostgreSQL database
/// when `POSTGRES_TEST_URL` names a server (`.ci/run` starts one and sets it);
/// without it the PostgreSQL half is skipped, and says so.
pub fn stores(dir: &Path) -> Vec<anolab::store::Location> {
    let mut stores = vec![anolab::store::Location::Sqlite(dir.join("store.sqlite"))];
    stores.extend(postgres());
    stores
}

/// A new, empty PostgreSQL database on the server `POSTGRES_TEST_URL` names (an
/// admin URL such as `postgres://anolab@127.0.0.1:5433/postgres`), or `None`.
pub fn postgres() -> Option<anolab::store::Location> {
    use sqlx::{Connection, Executor};
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let Ok(admin) = std::env::var("POSTGRES_TEST_URL") else {
        eprintln!("(PostgreSQL half skipped: POSTGRES_TEST_URL is not set)");
        return None;
    };
    let name = format!(
        "anolab_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("POSTGRES_TEST_URL={admin}: {e}"));
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
    });
    let (server, _) = admin
        .rsplit_once('/')
        .expect("POSTGRES_TEST_URL is a URL ending in /DATABASE");
    Some(anolab::store::Location::Postgres(format!(
        "{server}/{name}"
    )))
}

/// A JSON fixture of `tests/fixtures/` (numbers computed by a reference library).
pub fn fixture(name: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A JSON array of numbers.
pub fn numbers(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// The shipped example series (`data/examples/network_in.csv`, NAB labels).
pub const EXAMPLE_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/examples/network_in.csv");
