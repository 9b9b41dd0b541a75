//! The harness writes only below its results folder, by plain names and never through a
//! symbolic link planted there.

use crate::common;
use anolab::paths::dir_under;
use anolab::runner::run_sweep;
use anolab::store::Store;
use std::path::Path;

#[test]
fn only_plain_names_below_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("results");
    let made = dir_under(&root, Path::new("runs/abc")).unwrap();
    assert!(made.is_dir() && made.starts_with(&root));
    for bad in ["../outside", "/tmp/x", "runs/../../x"] {
        let e = dir_under(&root, Path::new(bad)).unwrap_err().to_string();
        assert!(e.contains("would leave the results folder"), "{bad}: {e}");
    }
    assert!(!dir.path().join("outside").exists());
}

#[test]
fn a_link_in_the_results_folder_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let (root, outside) = (dir.path().join("results"), dir.path().join("outside"));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("runs")).unwrap();
    let e = dir_under(&root, Path::new("runs/abc"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("is a symbolic link"), "{e}");

    // A sweep whose checkpoint folder is such a link: the run fails with that reason
    // and nothing lands outside.
    let (spec, runs) = common::sweep(dir.path(), common::TINY, &["seeds=0"]);
    let store = Store::open(root.join("anolab.sqlite")).unwrap();
    let outcome = run_sweep(&store, &spec, &runs, &common::options(&root)).unwrap();
    assert_eq!(outcome.failed.len(), 1, "{outcome:?}");
    assert!(
        outcome.failed[0].2.contains("is a symbolic link"),
        "{outcome:?}"
    );
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);

    // The command line refuses before training when the report folder is a link.
    std::fs::remove_file(root.join("runs")).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("tiny")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_anolab"))
        .arg("sweep")
        .arg(dir.path().join("sweep.yaml"))
        .arg("seeds=0")
        .arg("--db")
        .arg(root.join("cli.sqlite"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("is a symbolic link"),
        "{stderr}"
    );
    assert!(!stderr.contains("done "), "nothing was trained: {stderr}");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
}
