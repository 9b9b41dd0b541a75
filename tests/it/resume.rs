//! Stopping and resuming a run: SIGTERM makes `anolab sweep` put its run back in the
//! queue at a batch boundary and exit 0; the next sweep resumes it from its last
//! epoch-end checkpoint, and the run ends with exactly the numbers of a run never
//! stopped (same seed, one thread).

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

fn sweep(dir: &Path, db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_anolab"));
    c.args(["sweep", "long.yaml", "--log-format", "plain", "--db"])
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

#[test]
fn a_stopped_run_resumes_from_its_checkpoint_and_ends_as_if_never_stopped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("long.yaml"),
        LONG.replace("DATA", &common::mini_data()),
    )
    .unwrap();
    let whole = dir.path().join("whole/store.sqlite");
    assert!(sweep(dir.path(), &whole).status().unwrap().success());

    let stopped = dir.path().join("stopped/store.sqlite");
    let child = sweep(dir.path(), &stopped)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Stop it once a few epochs are stored (checkpoints are written after each).
    let start = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let epochs = Store::open_read_only(&stopped)
            .ok()
            .and_then(|s| s.query("SELECT count(DISTINCT epoch) FROM epochs").ok())
            .map_or(0, |r| match r.rows[0][0] {
                Cell::Int(n) => n,
                _ => 0,
            });
        if epochs >= 3 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no epochs stored"
        );
    }
    // SAFETY: signalling a child process we started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "a stopped sweep exits 0: {log}");
    assert!(
        log.contains("stopped on request; back in the queue"),
        "{log}"
    );
    let store = Store::open(Location::Sqlite(stopped.clone())).unwrap();
    assert_eq!(
        common::count(&store, "SELECT count(*) FROM runs WHERE status = 'queued'"),
        1
    );
    let key = store.runs(None, None).unwrap()[0].key.clone();
    assert!(dir
        .path()
        .join("stopped/runs")
        .join(&key)
        .join("resume.json")
        .is_file());

    let out = sweep(dir.path(), &stopped)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains("resumed from the checkpoint after epoch"),
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
    assert!(
        !dir.path()
            .join("stopped/runs")
            .join(&key)
            .join("resume.json")
            .exists(),
        "a finished run leaves no checkpoint to resume"
    );
    let whole = Store::open_read_only(&whole).unwrap();
    let (a, b) = (numbers(&whole), numbers(&store));
    assert!(a.len() > 12 * 3, "{} numbers", a.len());
    assert_eq!(
        a, b,
        "resumed and uninterrupted runs store the same numbers"
    );
}
