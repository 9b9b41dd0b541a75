//! The store, on SQLite and (when a server is given) PostgreSQL: run state
//! transitions, resume bookkeeping, read-only queries, concurrent opening.

use crate::common;

use anolab::store::{Cell, Location, Metric, Requeue, RunResult, ScoreSet, Store, SweepRecord};

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
    for location in common::stores(dir.path()) {
        states(dir.path(), &location);
    }
}

fn states(dir: &std::path::Path, location: &Location) {
    let (spec, runs) = common::sweep(dir, common::TINY, &[]);
    let store = Store::open(location).unwrap();
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
    let attempt = store.claim(a, "cpu", "testhost:1").unwrap().unwrap();
    assert_eq!(attempt.number, 1);
    assert!(
        store.claim(a, "cpu", "testhost:1").unwrap().is_none(),
        "a running run cannot be claimed twice"
    );
    store
        .record_epoch(&attempt, 0, &[("err_g".into(), 0.5)])
        .unwrap();
    store.finish(&attempt, &result()).unwrap();
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

    let attempt_b = store.claim(b, "cpu", "testhost:1").unwrap().unwrap();
    store
        .fail(&attempt_b, "training diverged: err_g = NaN at batch 3", 2.0)
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
    assert_eq!(
        store.claim(a, "cpu", "testhost:1").unwrap().unwrap().number,
        2
    );
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
    for location in common::stores(dir.path()) {
        dead_owner(dir.path(), &location);
    }
}

fn dead_owner(dir: &std::path::Path, location: &Location) {
    let (spec, runs) = common::sweep(dir, common::TINY, &[]);
    let store = Store::open(location).unwrap();
    let planned = store.plan(&record(&spec), &runs).unwrap();
    let me = format!("testhost:{}", std::process::id());
    // pid 4194304 is above Linux's pid_max: that process cannot exist.
    store
        .claim(planned[0].id, "cpu", "testhost:4194304")
        .unwrap()
        .unwrap();
    store.claim(planned[1].id, "cpu", &me).unwrap().unwrap();
    let reclaimed = store.reclaim_abandoned("testhost", 3).unwrap();
    assert_eq!(
        reclaimed,
        vec![format!(
            "run {} was left running by a process that is gone; queued it again",
            planned[0].key
        )],
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
    for location in common::stores(dir.path()) {
        read_only(dir.path(), &location);
    }
}

fn read_only(dir: &std::path::Path, path: &Location) {
    let (spec, runs) = common::sweep(dir, common::TINY, &[]);
    Store::open(path)
        .unwrap()
        .plan(&record(&spec), &runs)
        .unwrap();

    let ro = Store::open_read_only(path).unwrap();
    let e = ro.query("DELETE FROM runs").unwrap_err().to_string();
    assert!(e.contains("read") && e.contains("--write"), "{e}");
    // Ending the read-only transaction inside the query does not make it writable.
    assert!(ro.query("COMMIT; DELETE FROM runs").is_err());
    assert_eq!(
        common::count(&ro, "SELECT count(*) FROM runs"),
        2,
        "nothing was deleted"
    );
    let e = ro.query("SELECT nope FROM runs").unwrap_err().to_string();
    assert!(
        e == "SQLite: no such column: nope" || e == "PostgreSQL: column \"nope\" does not exist",
        "{e}"
    );
    let r = ro
        .query(
            "SELECT key, seed, 0.5 AS x, NULL AS n, avg(seed) OVER () AS m FROM runs ORDER BY seed",
        )
        .unwrap();
    assert_eq!(r.columns, ["key", "seed", "x", "n", "m"]);
    assert_eq!(r.rows[1][1], Cell::Int(1));
    assert_eq!(r.rows[0][2], Cell::Real(0.5));
    assert_eq!(r.rows[0][3], Cell::Null);
    assert_eq!(
        r.rows[0][4],
        Cell::Real(0.5),
        "PostgreSQL's numeric reads too"
    );
    assert!(Store::open_read_only(dir.join("none.sqlite")).is_err());

    let rw = Store::open(path).unwrap();
    if let Location::Sqlite(_) = path {
        assert_eq!(
            rw.query("PRAGMA journal_mode").unwrap().rows[0][0],
            Cell::Text("wal".into())
        );
    }
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
        // PostgreSQL once: a new database is slower to make than a file.
        let mut locations = vec![Location::Sqlite(dir.path().join("new.sqlite"))];
        if attempt == 0 {
            locations.extend(common::postgres());
        }
        for path in &locations {
            open_at_once(attempt, path);
        }
    }
}

fn open_at_once(attempt: usize, path: &Location) {
    {
        let barrier = std::sync::Barrier::new(8);
        let results: Vec<Result<(), String>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        Store::open(path).map(|_| ()).map_err(|e| format!("{e:#}"))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for r in &results {
            assert!(r.is_ok(), "attempt {attempt}: {r:?}");
        }
        let store = Store::open(path).unwrap();
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

/// The same sweep trained into each engine stores the same numbers, and reports alike.
#[test]
fn a_sweep_stores_and_reports_the_same_numbers_on_every_engine() {
    let dir = tempfile::tempdir().unwrap();
    let (spec, runs) = common::sweep(dir.path(), common::TINY, &[]);
    // (store, (key, test AUC) of each run)
    type Seen = Vec<(Location, Vec<(String, Option<f64>)>)>;
    let mut seen: Seen = Vec::new();
    for location in common::stores(dir.path()) {
        let store = Store::open(&location).unwrap();
        let outcome =
            anolab::runner::run_sweep(&store, &spec, &runs, &common::options(dir.path())).unwrap();
        assert_eq!(
            (outcome.trained, outcome.failed.len()),
            (2, 0),
            "{location}"
        );
        let report = anolab::report::render(
            &store,
            "tiny",
            &dir.path().join(format!("report{}", seen.len())),
            &anolab::report::ReportOptions::default(),
        )
        .unwrap()
        .expect("a report of done runs");
        assert!(report.markdown.is_file());
        let aucs = store
            .runs(Some("tiny"), None)
            .unwrap()
            .into_iter()
            .map(|r| (r.key, r.auc_roc))
            .collect();
        seen.push((location, aucs));
    }
    for (location, aucs) in &seen[1..] {
        assert_eq!(aucs, &seen[0].1, "{location} vs {}", seen[0].0);
    }
}

/// Unset (null) settings between numeric ones are stored on every engine (sqlx's Any
/// driver once sent PostgreSQL a null float as f32, and the next row's f64 was refused).
#[test]
fn null_and_numeric_parameters_mix_on_every_engine() {
    let dir = tempfile::tempdir().unwrap();
    let config: anolab::config::RunConfig = serde_json::from_value(serde_json::json!({
        "dataset": { "name": "mitdb" },
        "model": { "name": "random" },
    }))
    .unwrap();
    let runs: Vec<anolab::plan::RunSpec> = (0..3)
        .map(|i| anolab::plan::RunSpec::new(config.clone(), &format!("fingerprint{i}")))
        .collect();
    let nulls = runs[0].params().iter().filter(|(_, v)| v.is_null()).count();
    assert!(nulls > 0, "the config has unset settings");
    let document = serde_json::json!({"name": "mixed"});
    let record = SweepRecord {
        name: "mixed",
        description: None,
        spec: &document,
        source_file: "-",
        git_commit: None,
        git_dirty: None,
        host: "testhost",
    };
    for location in common::stores(dir.path()) {
        let store = Store::open(&location).unwrap();
        store.plan(&record, &runs).unwrap();
        assert_eq!(
            common::count(
                &store,
                "SELECT count(*) FROM params WHERE value_num IS NULL AND value_text IS NULL"
            ),
            3 * nulls as i64,
            "{location}"
        );
    }
}
