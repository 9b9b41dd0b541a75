//! A short fuzzing run of every target of `fuzz/`, in the ordinary test suite: each
//! libFuzzer binary (built by `cargo +nightly fuzz build -s none -O`, which `.ci/run`
//! does, into the folder `FUZZ_TARGETS_DIR` names) mutates its committed corpus for a
//! few seconds (5 s an input, 2 GB), and must
//! finish without a crash, timeout or out-of-memory. New inputs go to a temporary
//! folder, so the committed corpus is only read. Without `FUZZ_TARGETS_DIR` (no nightly
//! toolchain here) the test is skipped, and says so; the corpora are still replayed on
//! stable by `fuzz_corpus.rs`.

use std::path::Path;
use std::process::Command;

/// Every target in `fuzz/Cargo.toml`.
const TARGETS: [&str; 10] = [
    "npy",
    "npz",
    "wfdb_header",
    "wfdb_dat",
    "atr",
    "rdann",
    "table",
    "nab_labels",
    "sweep_yaml",
    "scores_blob",
];

/// Seconds each target fuzzes.
const SECONDS: u32 = 3;

#[test]
fn every_fuzz_target_runs_clean_for_a_few_seconds() {
    let Ok(dir) = std::env::var("FUZZ_TARGETS_DIR") else {
        eprintln!("(fuzz smoke run skipped: FUZZ_TARGETS_DIR is not set; .ci/run builds the targets and sets it)");
        return;
    };
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/Cargo.toml"))
            .unwrap();
    assert_eq!(
        manifest.matches("[[bin]]").count(),
        TARGETS.len(),
        "a fuzz target was added or removed: list it here"
    );
    for target in TARGETS {
        let binary = Path::new(&dir).join(target);
        assert!(binary.is_file(), "{}: not built", binary.display());
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus")
            .join(target);
        let found = tempfile::tempdir().unwrap();
        // Kept after a failure: the input that broke the target.
        let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fuzz-smoke/{target}"));
        let _ = std::fs::remove_dir_all(&artifacts);
        std::fs::create_dir_all(&artifacts).unwrap();
        let out = Command::new(&binary)
            .arg(found.path())
            .arg(&corpus)
            .arg(format!("-max_total_time={SECONDS}"))
            // 5 s an input, not scripts/fuzz.sh's 1 s: the suite trains models beside
            // this test, and libFuzzer's timeout is wall time.
            .args(["-timeout=5", "-rss_limit_mb=2048", "-max_len=65536"])
            .args(["-print_final_stats=1", "-close_fd_mask=1"])
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stderr);
        let executions: u64 = log
            .lines()
            .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
        assert!(
            out.status.success() && executions > 0,
            "fuzz target `{target}` failed ({}; {executions} executions); the input that broke it is in {:?}:\n{}",
            out.status,
            std::fs::read_dir(&artifacts)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect::<Vec<_>>(),
            log.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")
        );
        eprintln!("fuzz smoke: {target}: {executions} executions in {SECONDS} s, no crash");
    }
}
