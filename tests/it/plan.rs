//! Planning keeps run identities: a store written before the plug-in house (commit
//! a468a95, `tests/fixtures/pre_house`) gets the same keys from today's planner, its
//! teacher links move to `run_dependencies`, and a sweep over it trains nothing.

use anolab::kinds::RunStatus;
use anolab::plan;
use anolab::runner::run_sweep;
use anolab::store::Store;
use std::path::Path;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pre_house");

#[test]
fn a_store_from_before_the_house_resumes_with_nothing_to_train() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite");
    std::fs::copy(Path::new(FIXTURE).join("store.sqlite"), &db).unwrap();
    // The sweep's relative data paths are read from the crate root, as when it was made.
    let (sweep, runs) = plan::load(
        &Path::new(FIXTURE).join("sweep.yaml"),
        &[],
        anolab::config::sweep::DEFAULT_MAX_RUNS,
    )
    .unwrap();
    assert_eq!(runs.len(), 16);
    let store = Store::open(&db).unwrap();
    let stored = store.runs(None, None).unwrap();
    let all = plan::with_dependencies(&runs);
    // Each student's teacher is the listed BeatGAN run of the same data and seed.
    assert_eq!(all.len(), 16);
    for run in &all {
        let row = stored.iter().find(|r| r.key == run.key);
        assert_eq!(
            row.map(|r| r.status),
            Some(RunStatus::Done),
            "run {} ({}) is not a done run of the old store",
            run.key,
            run.config.model.name()
        );
    }
    let links = store
        .query(
            "SELECT r.key, d.role, d.key FROM run_dependencies d JOIN runs r ON r.id = d.run_id
             ORDER BY r.key",
        )
        .unwrap();
    assert_eq!(links.rows.len(), 4, "one teacher per student");
    for run in runs.iter().filter(|r| !r.dependencies.is_empty()) {
        let (role, teacher) = &run.dependencies[0];
        assert_eq!(role, "teacher");
        assert!(
            links.rows.iter().any(|row| {
                let text = |i: usize| anolab::report::cell_text(&row[i]);
                text(0) == run.key && text(1) == "teacher" && text(2) == teacher.key
            }),
            "student {} keeps its teacher {}",
            run.key,
            teacher.key
        );
    }

    let opts = crate::common::options(dir.path());
    let outcome = run_sweep(&store, &sweep, &runs, &opts).unwrap();
    assert_eq!(
        (outcome.trained, outcome.already_done, outcome.failed.len()),
        (0, 16, 0)
    );
    assert_eq!(
        crate::common::count(&store, "SELECT count(*) FROM runs"),
        16,
        "no run was added"
    );
}

#[test]
fn dependencies_come_before_the_runs_that_need_them() {
    let (_, runs) = plan::load(
        &Path::new(FIXTURE).join("sweep.yaml"),
        &[],
        anolab::config::sweep::DEFAULT_MAX_RUNS,
    )
    .unwrap();
    let ordered = plan::with_dependencies(&runs);
    for (i, run) in ordered.iter().enumerate() {
        for (_, needed) in &run.dependencies {
            let at = ordered.iter().position(|r| r.key == needed.key).unwrap();
            assert!(
                at < i,
                "{} comes after its dependent {}",
                needed.key,
                run.key
            );
        }
        assert_eq!(run.depth(), usize::from(!run.dependencies.is_empty()));
    }
}
