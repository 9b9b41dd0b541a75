//! Progress without a terminal: a sweep whose stderr is a pipe or a file writes a plain
//! line per run and per epoch; `--log-format json` writes one JSON object per event;
//! `--quiet` writes only failures.

use std::process::Command;

const SWEEP: &str = "
name: logs
dataset: { name: synthetic, n_train: 64, n_val: 32, n_test: 32, length: 80 }
model: { name: ae, nz: 4, ndf: 4, ngf: 4 }
train: { epochs: 3, batch_size: 16, lr: 1.0e-3 }
";

/// Runs `anolab sweep` on [`SWEEP`] with `flags`; returns its stderr.
fn sweep_stderr(flags: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("logs.yaml");
    std::fs::write(&file, SWEEP).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_anolab"))
        .arg("sweep")
        .arg(&file)
        .arg("--db")
        .arg(dir.path().join("a.sqlite"))
        .args(flags)
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    stderr
}

#[test]
fn a_log_file_gets_a_line_per_epoch() {
    let log = sweep_stderr(&[]);
    let epochs: Vec<&str> = log.lines().filter(|l| l.starts_with("epoch ")).collect();
    assert_eq!(epochs.len(), 3, "{log}");
    for (i, line) in epochs.iter().enumerate() {
        assert!(line.contains(&format!(" {}/3 ", i + 1)), "{line}");
        assert!(
            line.contains("err_rec ") || line.contains("loss "),
            "{line}"
        );
        assert!(
            line.contains("val_loss ") && line.contains("elapsed, ETA "),
            "{line}"
        );
    }
    assert_eq!(
        log.lines().filter(|l| l.starts_with("start ")).count(),
        1,
        "{log}"
    );
    assert_eq!(
        log.lines().filter(|l| l.starts_with("done ")).count(),
        1,
        "{log}"
    );
    assert!(
        !log.contains('\r') && !log.contains("\u{1b}["),
        "no bar drawing: {log:?}"
    );
}

#[test]
fn json_logs_are_one_object_per_line() {
    let log = sweep_stderr(&["--log-format", "json"]);
    let events: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "sweep_start",
            "run_start",
            "epoch",
            "epoch",
            "epoch",
            "run_done",
            "sweep_done"
        ]
    );
    let last_epoch = &events[4];
    assert_eq!(
        (last_epoch["epoch"].as_u64(), last_epoch["epochs"].as_u64()),
        (Some(2), Some(3))
    );
    assert!(last_epoch["values"]["val_loss"]
        .as_f64()
        .unwrap()
        .is_finite());
    assert!(events[5]["auc_roc"].as_f64().unwrap() >= 0.0);
}

#[test]
fn quiet_writes_nothing_when_nothing_fails() {
    assert_eq!(sweep_stderr(&["--quiet"]), "");
}
