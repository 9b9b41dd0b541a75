//! Stopping and resuming a run: SIGTERM makes `anolab sweep` put its run back in the
//! queue at a batch boundary (or between scoring chunks: a long AnoGAN search) and exit
//! 0; the next sweep resumes it from its last epoch-end checkpoint, and the run ends with
//! exactly the numbers of a run never stopped (same seed, one thread).

use crate::common;

use anolab::store::{Cell, Location, Store};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LONG: &str = "
name: long
dataset: { name: mitdb, path: DATA, records: ['208'], max_train: 512 }
model: { name: beatgan, nz: 8, ndf: 8, ngf: 8 }
train: { epochs: 12, batch_size: 32, lr: 1.0e-3 }
seeds: [3]
";

/// One epoch, then a latent search over the record's ~2,000 test windows that takes
/// seconds: a stop sent once the epoch is stored lands in the scoring.
const LONG_SCORING: &str = "
name: long_scoring
dataset: { name: mitdb, path: DATA, records: ['208'], max_train: 64 }
model: { name: anogan, nz: 4, ndf: 4, ngf: 4, latent_steps: 10 }
train: { epochs: 1, batch_size: 32 }
seeds: [0]
";

fn sweep(dir: &Path, db: &Path, file: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_anolab"));
    c.args(["sweep", file, "--log-format", "plain", "--db"])
        .arg(db)
        .current_dir(dir)
        .env("RAYON_NUM_THREADS", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    c
}

/// Every stored metric but the timings, and every epoch value, of the store's one run.
fn numbers(store: &Store) -> Vec<Vec<Cell>> {
    let mut rows = store
        .query(
            "SELECT split || '.' || name, value FROM metrics
             WHERE name NOT LIKE '%\\_s' ESCAPE '\\' AND name <> 'ms_per_window'
             ORDER BY split, name",
        )
        .unwrap()
        .rows;
    rows.extend(
        store
            .query("SELECT epoch || '.' || name, value FROM epochs ORDER BY epoch, name")
            .unwrap()
            .rows,
    );
    rows
}

/// The number of epochs stored so far (0 while the store does not exist yet).
fn stored_epochs(db: &Path) -> i64 {
    Store::open_read_only(db)
        .ok()
        .and_then(|s| s.query("SELECT count(DISTINCT epoch) FROM epochs").ok())
        .map_or(0, |r| match r.rows[0][0] {
            Cell::Int(n) => n,
            _ => 0,
        })
}

/// Writes the sweep `yaml` as `file` in `dir` and runs it uninterrupted into
/// `whole/store.sqlite`; returns that store.
fn run_whole(dir: &Path, file: &str, yaml: &str) -> Store {
    std::fs::write(dir.join(file), yaml.replace("DATA", &common::mini_data())).unwrap();
    let whole = dir.join("whole/store.sqlite");
    assert!(sweep(dir, &whole, file).status().unwrap().success());
    Store::open_read_only(&whole).unwrap()
}

/// Runs the sweep `file` into `stopped/store.sqlite`, sends SIGTERM once `epochs`
/// epochs are stored and checks that it put its run back and exited 0; returns the store.
fn run_stopped_after(dir: &Path, file: &str, epochs: i64) -> Store {
    let stopped = dir.join("stopped/store.sqlite");
    let child = sweep(dir, &stopped, file)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while stored_epochs(&stopped) < epochs {
        std::thread::sleep(Duration::from_millis(20));
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "{epochs} epochs not stored"
        );
    }
    // SAFETY: signalling a child process we started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "a stopped sweep exits 0: {log}");
    assert!(
        log.contains("stopped on request; back in the queue"),
        "the run was not stopped: {log}"
    );
    Store::open(Location::Sqlite(stopped)).unwrap()
}

/// Runs the stopped sweep `file` again and checks that it resumed from the checkpoint
/// after epoch `after` and finished: the first attempt released, the second done.
/// Returns its log.
fn resume(dir: &Path, file: &str, store: &Store, after: usize) -> String {
    let out = sweep(dir, &dir.join("stopped/store.sqlite"), file)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains(&format!(
            "resumed from the checkpoint after epoch {after} of"
        )),
        "{log}"
    );
    assert_eq!(
        store
            .query("SELECT outcome FROM attempts ORDER BY attempt")
            .unwrap()
            .rows,
        [
            vec![Cell::Text("released".into())],
            vec![Cell::Text("done".into())]
        ]
    );
    log.into_owned()
}

#[test]
fn a_stopped_run_resumes_from_its_checkpoint_and_ends_as_if_never_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let whole = run_whole(dir.path(), "long.yaml", LONG);
    // Stopped once a few epochs are stored (checkpoints are written after each).
    let store = run_stopped_after(dir.path(), "long.yaml", 3);
    assert_eq!(
        common::count(&store, "SELECT count(*) FROM runs WHERE status = 'queued'"),
        1
    );
    let key = store.runs(None, None).unwrap()[0].key.clone();
    let resume_file = dir
        .path()
        .join("stopped/runs")
        .join(&key)
        .join("resume.json");
    assert!(resume_file.is_file());
    let after: usize =
        serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(&resume_file).unwrap())
            .unwrap()["next_epoch"]
            .as_u64()
            .unwrap() as usize;

    resume(dir.path(), "long.yaml", &store, after);
    assert!(
        !resume_file.exists(),
        "a finished run leaves no checkpoint to resume"
    );
    let (a, b) = (numbers(&whole), numbers(&store));
    assert!(a.len() > 12 * 3, "{} numbers", a.len());
    assert_eq!(
        a, b,
        "resumed and uninterrupted runs store the same numbers"
    );
}

#[test]
fn a_run_stopped_in_its_scoring_resumes_at_the_scoring_without_training_again() {
    let dir = tempfile::tempdir().unwrap();
    let whole = run_whole(dir.path(), "scoring.yaml", LONG_SCORING);
    // Its one epoch stored: the stop lands in the scoring after training.
    let store = run_stopped_after(dir.path(), "scoring.yaml", 1);
    let log = resume(dir.path(), "scoring.yaml", &store, 1);
    assert!(log.contains("training is done, on to the scoring"), "{log}");
    assert_eq!(
        numbers(&whole),
        numbers(&store),
        "resumed and uninterrupted runs store the same numbers"
    );
}
