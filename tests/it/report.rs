//! Report figures, report.md, results.csv and the summary views, from a real SQLite store
//! filled through the Store API (`report_fixture`), plus the sweep file's `report:` block.

use crate::report_fixture as fixture;

use anolab::config::load_sweep;
use anolab::config::sweep::{HeadlineMetric, ReportSpec};
use anolab::plan::RunSpec;
use anolab::report::{self, ReportOptions};
use anolab::store::{Cell, Store};
use std::path::Path;

/// 3 nz × 2 w_adv × 2 ndf × 2 seeds = 24 runs, heatmap over nz × w_adv per ndf.
const SWEEP: &str = "
name: fx
description: fixture sweep
dataset: { name: mitdb, path: DATA }
model: { name: beatgan, nz: [8, 16, 32], w_adv: [0.1, 1.0], ndf: [4, 8], ngf: 4 }
train: { epochs: 3 }
seeds: [0, 1]
report: { metric: auc_roc, x: model.nz, lines: model.w_adv, heatmap: [model.nz, model.w_adv] }
";

/// Width and height from a PNG's IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[1..4], b"PNG", "{} is not a PNG", path.display());
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

/// The file stems of a report's figures, in drawing order.
fn stems(r: &report::Report) -> Vec<String> {
    r.figures
        .iter()
        .map(|f| {
            f.files[0]
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

fn real(store: &Store, sql: &str) -> f64 {
    match store.query(sql).unwrap().rows[0][0] {
        Cell::Real(v) => v,
        Cell::Int(v) => v as f64,
        ref other => panic!("{sql}: {other:?}"),
    }
}

#[test]
fn every_figure_is_drawn_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _, runs) = fixture::fill(dir.path(), SWEEP, 300, 6);
    let out = dir.path().join("figures");
    let r = report::render(&store, "fx", &out, &ReportOptions::default())
        .unwrap()
        .expect("the sweep has finished runs");

    // One model: one best run, so one histogram, one training-curve figure.
    let best = r
        .figures
        .iter()
        .find_map(|f| {
            f.files[0]
                .file_stem()?
                .to_str()?
                .strip_prefix("hist_")
                .map(String::from)
        })
        .expect("a histogram");
    let expected = [
        ("auc_roc_vs_nz", (1120, 480)),
        ("heatmap_auc_roc_nz_w_adv", (840, 370)),
        ("bars_model_dataset", (1020, 520)),
        ("roc_pr", (1200, 598)),
        (&format!("hist_{best}"), (960, 560)),
        (&format!("epochs_{best}"), (1200, 520)),
    ];
    let stems = stems(&r);
    assert_eq!(
        stems,
        expected.iter().map(|e| e.0.to_string()).collect::<Vec<_>>()
    );
    for (f, (stem, size)) in r.figures.iter().zip(expected) {
        assert_eq!(f.files.len(), 2, "{stem}: PNG and SVG");
        assert_eq!(png_size(&f.files[0]), size, "{stem}");
        assert!(
            std::fs::metadata(&f.files[0]).unwrap().len() > 10_000,
            "{stem}.png is near empty"
        );
        let svg = std::fs::read_to_string(&f.files[1]).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("<text"),
            "{stem}.svg has no text"
        );
        assert!(!f.caption.is_empty());
    }
    // The best run is the run with the highest test AUC-ROC.
    let top = store
        .query("SELECT key FROM run_summary ORDER BY auc_roc DESC LIMIT 1")
        .unwrap();
    assert_eq!(top.rows[0][0], Cell::Text(best.clone()));
    // The checkpoints of the fixture do not exist: a note, not a failure.
    assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
    assert!(r.notes[0].contains("checkpoint file") && r.notes[0].contains("missing"));

    let md = std::fs::read_to_string(&r.markdown).unwrap();
    for f in &r.figures {
        for file in &f.files {
            let name = file.file_name().unwrap().to_string_lossy();
            assert!(
                md.contains(&format!("({name})")),
                "report.md does not link {name}"
            );
        }
    }
    // One table row per setting (3 nz × 2 w_adv × 2 ndf), mean ± std for each of 4 metrics.
    let rows = md
        .lines()
        .filter(|l| l.starts_with("| ") && l.matches(" ± ").count() == 4)
        .count();
    assert_eq!(rows, 12, "{md}");

    let csv = std::fs::read_to_string(&r.csv).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), runs.len() + 1);
    assert!(lines[0].starts_with("run_id,key,sweep,model,dataset,seed,fold"));
    assert!(lines[0].contains(",model_nz,") && lines[0].contains(",auc_roc,"));
}

#[test]
fn summary_views_have_typed_columns_and_seed_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _, runs) = fixture::fill(dir.path(), SWEEP, 120, 1);
    let r = store
        .query("SELECT typeof(model_nz), typeof(model_w_adv), typeof(dataset_path), count(*) FROM run_summary GROUP BY 1, 2, 3")
        .unwrap();
    assert_eq!(
        r.rows,
        vec![vec![
            Cell::Text("integer".into()),
            Cell::Text("real".into()),
            Cell::Text("text".into()),
            Cell::Int(runs.len() as i64)
        ]]
    );
    // seed and fold are identity columns, not repeated as parameters.
    let cols = store
        .query("SELECT * FROM run_summary LIMIT 1")
        .unwrap()
        .columns;
    assert_eq!(cols.iter().filter(|c| *c == "seed").count(), 1);
    assert!(!cols.contains(&"model_name".to_string()));

    // sweep_summary's mean and sample std agree with the report's own grouping.
    let details = store.sweep_details("fx").unwrap();
    let summary = report::summarise(&details);
    assert_eq!(
        real(&store, "SELECT count(*) FROM sweep_summary"),
        summary.groups.len() as f64
    );
    for g in &summary.groups {
        let (nz, w_adv, ndf) = (&g.values[1], &g.values[2], &g.values[0]);
        let row = store
            .query(&format!(
                "SELECT n, auc_roc_mean, auc_roc_std, best_f1_mean, best_f1_std FROM sweep_summary
                 WHERE sweep = 'fx' AND model_nz = {nz} AND model_w_adv = {w_adv} AND model_ndf = {ndf}"
            ))
            .unwrap();
        let cells: Vec<f64> = row.rows[0]
            .iter()
            .map(|c| match c {
                Cell::Real(v) => *v,
                Cell::Int(v) => *v as f64,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(cells[0], 2.0);
        let (auc, f1) = (g.stats[0], g.stats[2]);
        for (got, want) in [
            (cells[1], auc.0),
            (cells[2], auc.1),
            (cells[3], f1.0),
            (cells[4], f1.1),
        ] {
            assert!((got - want).abs() < 1e-9, "{:?}: {got} vs {want}", g.values);
        }
    }
    assert_eq!(summary.axes, ["model.ndf", "model.nz", "model.w_adv"]);
}

#[test]
fn bulk_details_equal_single_run_details() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _, runs) = fixture::fill(dir.path(), SWEEP, 60, 2);
    let bulk = store.sweep_details("fx").unwrap();
    assert_eq!(bulk.len(), runs.len());
    for d in &bulk {
        let one = store.run_detail(&d.row.key).unwrap();
        assert_eq!(format!("{one:?}"), format!("{d:?}"));
        assert_eq!(d.params.len(), runs[0].params().len());
        assert!(d
            .metrics
            .iter()
            .any(|m| m.name == "auc_roc" && m.split == anolab::kinds::SplitName::Test));
    }
    let ids: Vec<i64> = bulk.iter().map(|d| d.row.id).collect();
    assert_eq!(store.epochs(&ids).unwrap().len(), runs.len() * 2 * 5);
    let scores = store
        .scores(&ids[..3], anolab::kinds::SplitName::Test)
        .unwrap();
    assert_eq!(scores.len(), 3);
    assert!(scores
        .values()
        .all(|s| s.scores.len() == 60 && s.classes.len() == 60));
}

#[test]
fn chosen_runs_and_unknown_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _, runs) = fixture::fill(dir.path(), SWEEP, 90, 2);
    let out = dir.path().join("figures");
    let keys = [runs[0].key.clone(), runs[5].key[..10].to_string()];
    let r = report::render(
        &store,
        "fx",
        &out,
        &ReportOptions {
            runs: keys.to_vec(),
            skip_overlays: true,
            ..Default::default()
        },
    )
    .unwrap()
    .unwrap();
    let hists: Vec<&str> = r
        .figures
        .iter()
        .filter_map(|f| f.files[0].file_stem()?.to_str()?.strip_prefix("hist_"))
        .collect();
    assert_eq!(hists, [runs[0].key.as_str(), runs[5].key.as_str()]);
    assert!(
        r.notes.is_empty(),
        "overlays skipped on request: {:?}",
        r.notes
    );

    let e = report::render(
        &store,
        "fx",
        &out,
        &ReportOptions {
            runs: vec!["zzzz".into()],
            skip_overlays: true,
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("zzzz") && e.contains("among the finished runs of this sweep"),
        "{e}"
    );
    let e = report::render(&store, "nope", &out, &ReportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("no sweep `nope`"), "{e}");
}

#[test]
fn reconstructions_come_from_the_stored_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "
name: one
dataset: { name: mitdb, path: DATA, records: ['208'] }
model: { name: beatgan, nz: 4, ndf: 4, ngf: 4 }
seeds: [0]
";
    // The fixture's scores must line up with the real test split: one score per window.
    let file = dir.path().join("probe.yaml");
    std::fs::write(&file, yaml.replace("DATA", &fixture::mini_data())).unwrap();
    let cfg = load_sweep(&file, &[]).unwrap().runs().next().unwrap();
    let split = cfg.dataset.load(cfg.fold).unwrap();
    let (store, _, runs) = fixture::fill(dir.path(), yaml, split.test.n, 1);
    let checkpoint = dir
        .path()
        .join("runs")
        .join(&runs[0].key)
        .join("model.safetensors");
    std::fs::create_dir_all(checkpoint.parent().unwrap()).unwrap();
    let shape = anolab::models::InputShape::of(&split.test);
    // Untrained weights: the figure needs inference only, not a good model.
    crate::common::build(&cfg.model, &cfg.train, shape, 0)
        .unwrap()
        .save(&checkpoint)
        .unwrap();
    let r = report::render(
        &store,
        "one",
        &dir.path().join("f"),
        &ReportOptions::default(),
    )
    .unwrap()
    .unwrap();
    assert!(
        !r.notes.iter().any(|n| n.contains("reconstruction")),
        "{:?}",
        r.notes
    );
    let overlay = r
        .figures
        .iter()
        .find(|f| f.files[0].to_string_lossy().contains("overlay_"))
        .expect("an overlay figure");
    // 2 normal windows + one per fixture class (S, V, F): 2 rows × 3 columns.
    assert_eq!(png_size(&overlay.files[0]), (3 * 460, 50 + 2 * 300));
}

#[test]
fn the_report_block_is_stored_with_the_sweep_and_changes_no_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.yaml");
    let keys = |text: &str| -> Result<Vec<String>, String> {
        std::fs::write(&path, text).map_err(|e| e.to_string())?;
        let spec = load_sweep(&path, &[]).map_err(|e| e.to_string())?;
        Ok(spec.runs().map(|c| RunSpec::new(c, "d").key).collect())
    };
    let without = SWEEP
        .lines()
        .filter(|l| !l.starts_with("report:"))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(keys(SWEEP).unwrap(), keys(&without).unwrap());

    std::fs::write(&path, SWEEP).unwrap();
    let spec = load_sweep(&path, &[]).unwrap();
    assert_eq!(spec.report.metric, HeadlineMetric::AucRoc);
    assert_eq!(
        spec.report.heatmap,
        Some(["model.nz".into(), "model.w_adv".into()])
    );
    assert_eq!(
        ReportSpec::from_document(&spec.document).unwrap(),
        spec.report
    );

    let bad = |block: &str| keys(&format!("{without}\nreport: {block}\n")).unwrap_err();
    let e = bad("{ metric: auc_roc, colour: red }");
    assert!(
        e.contains("report") && e.contains("unknown field `colour`") && e.contains("lines"),
        "{e}"
    );
    let e = bad("{ x: model.nzz }");
    assert!(
        e.contains("report.x") && e.contains("model.nzz") && e.contains("model.nz,"),
        "{e}"
    );
    let e = bad("{ metric: accuracy }");
    assert!(e.contains("accuracy") && e.contains("auc_roc"), "{e}");
    let e = bad("{ heatmap: [model.nz] }");
    assert!(e.contains("heatmap") || e.contains("length"), "{e}");
}

#[test]
fn curve_points_agree_with_the_areas() {
    let labels = [false, true, false, true, true, false, true, false];
    let scores = [0.1, 0.9, 0.4, 0.4, 0.7, 0.2, 0.3, 0.8];
    let roc = anolab::metrics::roc_curve(&labels, &scores).unwrap();
    assert_eq!((roc[0], *roc.last().unwrap()), ((0.0, 0.0), (1.0, 1.0)));
    let area: f64 = roc
        .windows(2)
        .map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0)
        .sum();
    let auc = anolab::metrics::auc_roc(&labels, &scores).unwrap();
    assert!((area - auc).abs() < 1e-12, "{area} vs {auc}");
    let pr = anolab::metrics::pr_curve(&labels, &scores).unwrap();
    let mut prev = 0.0;
    let ap: f64 = pr
        .iter()
        .map(|&(r, p)| {
            let step = (r - prev) * p;
            prev = r;
            step
        })
        .sum();
    let want = anolab::metrics::auc_pr(&labels, &scores).unwrap();
    assert!((ap - want).abs() < 1e-12, "{ap} vs {want}");
    assert_eq!(pr.last().unwrap().0, 1.0);
}

/// A sweep of a trained model beside baselines on matched runs: the report tests the
/// model against the best baseline and ranks them all in a critical-difference diagram.
#[test]
fn baselines_are_compared_and_ranked() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "
name: vs
dataset: { name: mitdb, path: DATA, max_train: 256 }
model:
  - { name: beatgan, nz: 4, ndf: 4, ngf: 4 }
  - { name: template }
  - { name: pca, n_components: 4 }
  - { name: random }
train: { epochs: 1, batch_size: 32, lr: 1.0e-3 }
seeds: [0, 1, 2]
";
    let (spec, runs) = crate::common::sweep(dir.path(), yaml, &[]);
    let store = Store::open(dir.path().join("anolab.sqlite")).unwrap();
    let outcome =
        anolab::runner::run_sweep(&store, &spec, &runs, &crate::common::options(dir.path()))
            .unwrap();
    assert_eq!(outcome.trained, 12, "{:?}", outcome.failed);
    let out = dir.path().join("report");
    let opts = ReportOptions {
        runs: Vec::new(),
        skip_overlays: true,
        ..Default::default()
    };
    let r = report::render(&store, "vs", &out, &opts).unwrap().unwrap();
    let md = std::fs::read_to_string(&r.markdown).unwrap();
    assert!(md.contains("## Against the best baseline"), "{md}");
    // The only trained model, on 3 matched runs: too few pairs to be significantly better.
    let section = &md[md.find("## Against the best baseline").unwrap()..];
    let row = section
        .lines()
        .find(|l| l.starts_with("| beatgan"))
        .expect("beatgan's row");
    assert!(
        row.contains("| 3 |") && row.contains("not significantly better"),
        "{row}"
    );
    assert!(
        r.figures
            .iter()
            .any(|f| f.files[0].ends_with("critical_difference_auc_roc.png")),
        "{:?}",
        r.notes
    );
    // Every group has its interval: Student t over its 3 seeds.
    assert!(r
        .summary
        .groups
        .iter()
        .all(|g| matches!(g.auc_roc_ci, anolab::report::MeanInterval::T(_))));
    // Each run carries its bootstrap interval around its AUC-ROC.
    let bad = store
        .query(
            "SELECT count(*) FROM metrics a JOIN metrics lo ON lo.run_id = a.run_id AND lo.name = 'auc_roc_lo'
             JOIN metrics hi ON hi.run_id = a.run_id AND hi.name = 'auc_roc_hi'
             WHERE a.name = 'auc_roc' AND a.split = 'test' AND NOT (lo.value <= a.value AND a.value <= hi.value)",
        )
        .unwrap();
    assert_eq!(bad.rows[0][0], Cell::Int(0));
}

/// Models run on several datasets (here the held-out digit) are matched on every one of
/// them: before, each model's best *dataset* was its treatment, the models shared no
/// run and no critical-difference diagram was drawn.
#[test]
fn models_on_a_dataset_axis_are_matched_on_every_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "
name: digits_cd
dataset: { name: digits, abnormal_class: [0, 1, 2] }
model: [{ name: template }, { name: pca, n_components: 4 }, { name: random }]
train: { epochs: 1 }
";
    let (spec, runs) = crate::common::sweep(dir.path(), yaml, &[]);
    let store = Store::open(dir.path().join("anolab.sqlite")).unwrap();
    let outcome =
        anolab::runner::run_sweep(&store, &spec, &runs, &crate::common::options(dir.path()))
            .unwrap();
    assert_eq!(outcome.trained, 9, "{:?}", outcome.failed);
    let opts = ReportOptions {
        runs: Vec::new(),
        skip_overlays: true,
        ..Default::default()
    };
    let r = report::render(&store, "digits_cd", &dir.path().join("report"), &opts)
        .unwrap()
        .unwrap();
    let md = std::fs::read_to_string(&r.markdown).unwrap();
    assert!(
        md.contains("over the 3 runs (dataset × fold × seed) all of them share"),
        "{:?}\n{md}",
        r.notes
    );
}

/// Checkpoints are recorded relative to the artifacts root, so a report drawn where the
/// folder is mounted elsewhere (another machine, a moved folder) still finds them.
#[test]
fn reports_find_checkpoints_under_a_moved_artifacts_root() {
    let dir = tempfile::tempdir().unwrap();
    let (spec, runs) = crate::common::sweep(dir.path(), crate::common::TINY, &["seeds=0"]);
    let first = dir.path().join("first");
    {
        let store = anolab::store::Store::open(first.join("store.sqlite")).unwrap();
        let outcome =
            anolab::runner::run_sweep(&store, &spec, &runs, &crate::common::options(&first))
                .unwrap();
        assert_eq!(outcome.trained, 1);
        let stored = store.query("SELECT path FROM artifacts").unwrap();
        assert_eq!(
            stored.rows[0][0],
            anolab::store::Cell::Text(format!("runs/{}/model.safetensors", runs[0].key))
        );
    }
    let moved = dir.path().join("moved");
    std::fs::rename(&first, &moved).unwrap();
    let store = anolab::store::Store::open_read_only(moved.join("store.sqlite")).unwrap();
    let r = report::render(
        &store,
        "tiny",
        &moved.join("report"),
        &ReportOptions {
            artifacts: moved.clone(),
            ..Default::default()
        },
    )
    .unwrap()
    .unwrap();
    assert!(
        !r.notes.iter().any(|n| n.contains("missing")),
        "{:?}",
        r.notes
    );
    assert!(r
        .figures
        .iter()
        .any(|f| f.files[0].to_string_lossy().contains("overlay_")));
}

/// Widths that only differ between models (and move together): no figure along them,
/// a note instead; runs named by what their own model was swept over.
#[test]
fn settings_that_only_differ_between_models_draw_no_axis_figure() {
    let sweep = "
name: mix
dataset: { name: mitdb, path: DATA }
model:
  - { name: beatgan, nz: [8, 16], ndf: 8, ngf: 8 }
  - { name: ae, nz: 8, ndf: 16, ngf: 16 }
  - { name: knn }
train: { epochs: 3 }
seeds: [0, 1, 2]
";
    let dir = tempfile::tempdir().unwrap();
    let (store, _, _) = fixture::fill(dir.path(), sweep, 120, 2);
    let out = dir.path().join("figures");
    let r = report::render(&store, "mix", &out, &ReportOptions::default())
        .unwrap()
        .unwrap();
    let stems = stems(&r);
    assert!(stems.contains(&"auc_roc_vs_nz".to_string()), "{stems:?}");
    assert!(
        !stems.iter().any(|s| s.starts_with("heatmap_")),
        "ndf and ngf only move together between models: {stems:?}"
    );
    assert!(
        r.notes.iter().any(
            |n| n.contains("no heatmap over ndf × ngf: in no panel do they vary independently")
        ),
        "{:?}",
        r.notes
    );
    // The critical-difference diagram and the curves' legend name runs by their own
    // model's swept settings: `ae seed …`, `beatgan nz=16 seed …`, never `ae ndf=16`.
    let svg = std::fs::read_to_string(out.join("roc_pr.svg")).unwrap();
    assert!(svg.contains("beatgan nz=16 seed") || svg.contains("beatgan nz=8 seed"));
    let named: Vec<&str> = svg
        .split('>')
        .filter_map(|t| t.split('<').next().map(str::trim))
        .filter(|t| t.contains(" seed "))
        .collect();
    assert!(named.iter().any(|t| t.starts_with("ae seed")), "{named:?}");
    assert!(!svg.contains("ndf="), "ndf only differs between models");
    assert!(svg.contains("(baseline)"), "knn marked as a baseline");
}
