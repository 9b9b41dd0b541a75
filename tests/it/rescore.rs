//! `anolab rescore`: metrics recomputed from stored scores equal the ones the runs
//! stored, restore rows that are missing (a metric added after the sweep), leave the rest,
//! and skip a run without scores with the reason.

use anolab::rescore::{rescore, Rescored};
use anolab::runner::run_sweep;
use anolab::store::{Cell, Store};

fn metric_rows(store: &Store) -> Vec<Vec<Cell>> {
    store
        .query(
            "SELECT run_id, split, name, value, protocol FROM metrics ORDER BY run_id, split, name",
        )
        .unwrap()
        .rows
}

#[test]
fn rescoring_recomputes_stored_metrics_from_stored_scores() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "
name: rs
dataset:
  - { name: mitdb, path: DATA, max_train: 128 }
  - { name: csv, path: CSV, label_column: label, window: 40 }
model: { name: template }
train: { epochs: 1, batch_size: 32 }
seeds: [0, 1]
";
    let (spec, runs) = crate::common::sweep(
        dir.path(),
        &yaml.replace("CSV", crate::common::EXAMPLE_CSV),
        &[],
    );
    let store = Store::open(dir.path().join("anolab.sqlite")).unwrap();
    let outcome = run_sweep(&store, &spec, &runs, &crate::common::options(dir.path())).unwrap();
    assert_eq!(outcome.trained, 4, "{:?}", outcome.failed);
    let before = metric_rows(&store);

    // As if the sweep had run before these metrics existed, and one value were stale.
    store
        .query(
            "DELETE FROM metrics WHERE name IN ('vus_pr', 'vus_roc', 'auc_roc_lo', 'auc_roc_hi')",
        )
        .unwrap();
    store
        .query("UPDATE metrics SET value = 0 WHERE name = 'auc_roc'")
        .unwrap();
    let outcomes = rescore(&store, Some("rs"), |_, _| {}).unwrap();
    assert_eq!(outcomes.len(), 4);
    assert!(
        outcomes.iter().all(|(_, o)| matches!(o, Rescored::Done(_))),
        "{outcomes:?}"
    );
    assert_eq!(
        metric_rows(&store),
        before,
        "every row back, bit for bit, times kept"
    );

    // Idempotent.
    rescore(&store, None, |_, _| {}).unwrap();
    assert_eq!(metric_rows(&store), before);

    // A run without stored scores is skipped with the reason and left as it was.
    let victim = crate::common::count(&store, "SELECT min(id) FROM runs");
    store
        .query(&format!("DELETE FROM scores WHERE run_id = {victim}"))
        .unwrap();
    let outcomes = rescore(&store, Some("rs"), |_, _| {}).unwrap();
    let skipped: Vec<&Rescored> = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Rescored::Skipped(_)))
        .map(|(_, o)| o)
        .collect();
    assert_eq!(skipped, [&Rescored::Skipped("no stored scores".into())]);
    assert_eq!(metric_rows(&store), before);
}
