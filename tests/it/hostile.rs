//! A store that received every kind of bad input through the command line (broken YAML,
//! unknown keys, NaN settings, a path-traversal name, a typo-sized sweep, unreadable
//! data, SQL that writes without --write, bad SQL) is intact: `PRAGMA integrity_check`
//! says ok, nothing stored changed, and its sweep still resumes with nothing retrained.

use crate::common;

use anolab::store::{Cell, Store};
use std::path::Path;
use std::process::Command;

fn anolab(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_anolab"))
        .args(args)
        .current_dir(dir)
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .unwrap()
}

/// Every row of every table but the heartbeat-style times, as text, for comparing.
fn contents(store: &Store) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    for sql in [
        "SELECT id, key, status, error, attempt, best_epoch FROM runs ORDER BY id",
        "SELECT run_id, split, name, value FROM metrics ORDER BY run_id, split, name",
        "SELECT run_id, epoch, name, value FROM epochs ORDER BY run_id, epoch, name",
        "SELECT run_id, split, length(scores) FROM scores ORDER BY run_id, split",
        "SELECT run_id, name, value_num, value_text FROM params ORDER BY run_id, name",
        "SELECT name, spec_json FROM sweeps ORDER BY id",
        "SELECT run_id, attempt, outcome FROM attempts ORDER BY run_id, attempt",
    ] {
        rows.extend(store.query(sql).unwrap().rows);
    }
    rows
}

#[test]
fn bad_input_leaves_the_store_intact_and_its_sweep_resumable() {
    let dir = tempfile::tempdir().unwrap();
    let good = common::TINY.replace("DATA", &common::mini_data());
    std::fs::write(dir.path().join("good.yaml"), &good).unwrap();
    let db = "store.sqlite";
    let first = anolab(dir.path(), &["sweep", "good.yaml", "--db", db, "--quiet"]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let before = contents(&Store::open_read_only(dir.path().join(db)).unwrap());

    let bad_data = dir.path().join("bad.npy");
    std::fs::write(&bad_data, b"\x93NUMPY\x01\x00\xff\xff{'descr': '<f4'").unwrap();
    // A name no other test or session uses, to look for outside the folder after.
    let probe = format!(
        "anolab_escape_{}",
        dir.path().file_name().unwrap().to_string_lossy()
    );
    let many = (1..=2000)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let files: Vec<(&str, String)> = vec![
        ("syntax.yaml", "name: x\nmodel: [unclosed\n".into()),
        ("unknown.yaml", good.replace("nz: 4", "nz: 4, nzz: 3")),
        ("nan.yaml", good.replace("lr: 1.0e-3", "lr: .nan")),
        (
            "evil.yaml",
            good.replace("name: tiny", &format!("name: ../../{probe}")),
        ),
        (
            "huge.yaml",
            good.replace("seeds: [0, 1]", &format!("seeds: [{many}]"))
                .replace("nz: 4", &format!("nz: [{many}]")),
        ),
        (
            "data.yaml",
            format!(
                "name: data\ndataset: {{ name: npy, path: {} }}\nmodel: {{ name: ae }}\n",
                bad_data.display()
            ),
        ),
    ];
    for (name, text) in &files {
        std::fs::write(dir.path().join(name), text).unwrap();
        let out = anolab(dir.path(), &["sweep", name, "--db", db]);
        assert!(
            !out.status.success(),
            "{name} was accepted: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(e.contains("error"), "{name}: {e}");
    }
    for (args, expect) in [
        (vec!["query", "DELETE FROM runs"], "read-only"),
        (vec!["query", "SELECT nope FROM runs"], "no such column"),
        (
            vec!["query", "--write", "UPDATE absent_table SET x = 1"],
            "no such table",
        ),
        (vec!["show", "ffffffffffff"], "no run with key or id"),
        (
            vec!["worker", "--sweep", "absent", "--exit-when-idle"],
            "no sweep `absent`",
        ),
    ] {
        let mut full = args.clone();
        full.extend(["--db", db]);
        let out = anolab(dir.path(), &full);
        assert!(!out.status.success(), "{args:?}");
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(e.contains(expect), "{args:?}: {e}");
    }
    for up in [
        dir.path().parent().unwrap(),
        dir.path().parent().unwrap().parent().unwrap(),
    ] {
        assert!(
            !up.join(&probe).exists(),
            "{} was written",
            up.join(&probe).display()
        );
    }

    let store = Store::open_read_only(dir.path().join(db)).unwrap();
    assert_eq!(
        store.query("PRAGMA integrity_check").unwrap().rows,
        [vec![Cell::Text("ok".into())]]
    );
    assert_eq!(contents(&store), before, "nothing stored changed");
    let again = anolab(dir.path(), &["sweep", "good.yaml", "--db", db]);
    assert!(again.status.success());
    let log = String::from_utf8_lossy(&again.stderr);
    assert!(log.contains("all 2 runs already done"), "{log}");
}
