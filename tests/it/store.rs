//! The SQLite store: run state transitions, resume bookkeeping, read-only queries.

use crate::common;

use anolab::store::{Cell, Metric, Requeue, RunResult, ScoreSet, Store, SweepRecord};

fn record<'a>(spec: &'a anolab::config::SweepSpec) -> SweepRecord<'a> {
    SweepRecord {
        name: &spec.name,
        description: None,
        spec: &spec.document,
        source_file: "sweep.yaml",
        git_commit: Some("abc".into()),
        git_dirty: Some(false),
        host: "testhost",
    }
}

fn result() -> RunResult {
    RunResult {
        n_params: 123,
        best_epoch: 0,
        protocol: "clean".into(),
        duration_s: 1.5,
        metrics: vec![Metric {
            split: anolab::kinds::SplitName::Test,
            name: "auc_roc".into(),
            value: 0.75,
        }],
        scores: vec![ScoreSet {
            split: anolab::kinds::SplitName::Test,
            labels: vec![false, true],
            scores: vec![0.1, 0.9],
            classes: vec!["N".into(), "V".into()],
        }],
        artifacts: vec![("checkpoint".into(), "x.safetensors".into())],
    }
}

#[test]
fn runs_move_queued_running_done_and_failed() {
    let dir = tempfile::tempdir().unwrap();
    let (spec, runs) = common::sweep(dir.path(), common::TINY, &[]);
    let store = Store::open(&dir.path().join("s.sqlite")).unwrap();
    let planned = store.plan(&record(&spec), &runs).unwrap();
    assert_eq!(planned.len(), 2);
    assert!(planned
        .iter()
        .all(|p| p.status == anolab::kinds::RunStatus::Queued));
    // Planning again adds nothing and keeps the ids.
    assert_eq!(store.plan(&record(&spec), &runs).unwrap(), planned);
    // A sweep is its current file: a run dropped from it leaves the sweep, not the store.
    store.plan(&record(&spec), &runs[..1]).unwrap();
    assert_eq!(common::count(&store, "SELECT count(*) FROM sweep_runs"), 1);
    assert_eq!(common::count(&store, "SELECT count(*) FROM runs"), 2);
    assert_eq!(store.plan(&record(&spec), &runs).unwrap(), planned);
    assert_eq!(common::count(&store, "SELECT count(*) FROM sweep_runs"), 2);
    assert_eq!(common::count(&store, "SELECT count(*) FROM runs"), 2);
    assert_eq!(
        common::count(
            &store,
            "SELECT count(*) FROM params WHERE name = 'model.nz' AND value_num = 4"
        ),
        2
    );

    let (a, b) = (planned[0].id, planned[1].id);
    assert!(store.claim(a, "cpu", "testhost:1").unwrap());
    assert!(
        !store.claim(a, "cpu", "testhost:1").unwrap(),
        "a running run cannot be claimed twice"
    );
    store.record_epoch(a, 0, &[("err_g".into(), 0.5)]).unwrap();
    store.finish(a, &result()).unwrap();
    let rows = store.runs(Some("tiny"), None).unwrap();
    assert_eq!(rows[0].status, anolab::kinds::RunStatus::Done);
    assert_eq!(rows[0].auc_roc, Some(0.75));
    assert_eq!(
        common::count(
            &store,
            "SELECT count(*) FROM metrics WHERE protocol = 'clean'"
        ),
        1
    );
    assert_eq!(
        common::count(&store, "SELECT length(scores) FROM scores"),
        16
    );
    assert_eq!(
        common::count(
            &store,
            "SELECT count(*) FROM run_summary WHERE auc_roc = 0.75 AND model_nz = 4"
        ),
        1
    );

    assert!(store.claim(b, "cpu", "testhost:1").unwrap());
    store
        .fail(b, "training diverged: err_g = NaN at batch 3", 2.0)
        .unwrap();
    let failed = store
        .runs(None, Some(anolab::kinds::RunStatus::Failed))
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert!(failed[0].error.as_deref().unwrap().contains("NaN"));

    // --rerun-failed puts back only the failed run; --force everything, and a new claim
    // clears what the earlier attempt stored.
    assert_eq!(store.requeue(&[a, b], Requeue::Failed).unwrap(), 1);
    assert_eq!(
        store
            .runs(None, Some(anolab::kinds::RunStatus::Queued))
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.requeue(&[a, b], Requeue::All).unwrap(), 1);
    assert!(store.claim(a, "cpu", "testhost:1").unwrap());
    assert_eq!(
        common::count(
            &store,
            &format!("SELECT count(*) FROM metrics WHERE run_id = {a}")
        ),
        0
    );
    assert_eq!(
        common::count(
            &store,
            &format!("SELECT count(*) FROM epochs WHERE run_id = {a}")
        ),
        0
    );
}

#[test]
fn runs_of_dead_processes_are_reclaimed() {
    let dir = tempfile::tempdir().unwrap();
    let (spec, runs) = common::sweep(dir.path(), common::TINY, &[]);
    let store = Store::open(&dir.path().join("s.sqlite")).unwrap();
    let planned = store.plan(&record(&spec), &runs).unwrap();
    let me = format!("testhost:{}", std::process::id());
    // pid 4194304 is above Linux's pid_max: that process cannot exist.
    assert!(store
        .claim(planned[0].id, "cpu", "testhost:4194304")
        .unwrap());
    assert!(store.claim(planned[1].id, "cpu", &me).unwrap());
    let reclaimed = store.reclaim_abandoned("testhost").unwrap();
    assert_eq!(
        reclaimed,
        vec![planned[0].key.clone()],
        "a live owner keeps its run"
    );
    assert_eq!(
        store
            .runs(None, Some(anolab::kinds::RunStatus::Queued))
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn queries_are_read_only_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let (spec, runs) = common::sweep(dir.path(), common::TINY, &[]);
    Store::open(&path)
        .unwrap()
        .plan(&record(&spec), &runs)
        .unwrap();

    let ro = Store::open_read_only(&path).unwrap();
    let e = ro.query("DELETE FROM runs").unwrap_err().to_string();
    assert!(e.contains("read") && e.contains("--write"), "{e}");
    assert_eq!(
        common::count(&ro, "SELECT count(*) FROM runs"),
        2,
        "nothing was deleted"
    );
    let e = ro.query("SELECT nope FROM runs").unwrap_err().to_string();
    assert!(e.contains("no such column: nope"), "{e}");
    let r = ro
        .query("SELECT key, seed, 0.5 AS x, NULL AS n FROM runs ORDER BY seed")
        .unwrap();
    assert_eq!(r.columns, ["key", "seed", "x", "n"]);
    assert_eq!(r.rows[1][1], Cell::Int(1));
    assert_eq!(r.rows[0][2], Cell::Real(0.5));
    assert_eq!(r.rows[0][3], Cell::Null);
    assert!(Store::open_read_only(&dir.path().join("none.sqlite")).is_err());

    let rw = Store::open(&path).unwrap();
    assert_eq!(
        rw.query("PRAGMA journal_mode").unwrap().rows[0][0],
        Cell::Text("wal".into())
    );
    rw.query("DELETE FROM sweep_runs").unwrap();
    assert_eq!(common::count(&rw, "SELECT count(*) FROM sweep_runs"), 0);
}

/// Many processes (here: stores on their own connections) opening one new store at the
/// same moment all get a migrated store; before the migration lock one of two such
/// `anolab sweep` processes died with `UNIQUE constraint failed: _sqlx_migrations.version`.
#[test]
fn many_openers_of_a_new_store_at_once_all_succeed() {
    for attempt in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.sqlite");
        let barrier = std::sync::Barrier::new(8);
        let results: Vec<Result<(), String>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        Store::open(&path).map(|_| ()).map_err(|e| format!("{e:#}"))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for r in &results {
            assert!(r.is_ok(), "attempt {attempt}: {r:?}");
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(
            common::count(
                &store,
                "SELECT count(*) FROM _sqlx_migrations WHERE success"
            ),
            common::count(
                &store,
                "SELECT count(DISTINCT version) FROM _sqlx_migrations"
            )
        );
    }
}
