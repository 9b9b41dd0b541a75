//! `ANOLAB_*` environment variables sit between the sweep file and CLI overrides.

use anolab::config::{load_sweep, parse_override};

#[test]
fn environment_sits_between_file_and_cli() {
    let dir = tempfile::tempdir().unwrap();
    let path = {
        let p = dir.path().join("a.yaml");
        std::fs::write(
            &p,
            "name: t\ndataset: { name: mitdb }\nmodel: { name: beatgan }\n",
        )
        .unwrap();
        p
    };
    // The environment is process-wide: this test has its own binary so that no other
    // test loads a sweep while the variable is set.
    std::env::set_var("ANOLAB_TRAIN__BETA2", "0.99");
    let from_env = load_sweep(&path, &[]).unwrap();
    let from_cli = load_sweep(&path, &[parse_override("train.beta2=0.9").unwrap()]).unwrap();
    std::env::remove_var("ANOLAB_TRAIN__BETA2");
    assert_eq!(from_env.runs[0].train.beta2, 0.99);
    assert_eq!(from_cli.runs[0].train.beta2, 0.9);
}
