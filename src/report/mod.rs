//! Tables and figures from the store alone (no training): a sweep's results grouped over
//! seeds and folds, figures as PNG and SVG, `report.md` and `results.csv`. The only model
//! code it runs is inference, for the input-vs-reconstruction figures.

mod axes;
mod figure;
mod overlay;
mod runs;
pub mod segments;

use crate::config::sweep::{HeadlineMetric, ReportSpec};
use crate::metrics;
use crate::store::{Cell, QueryResult, RunDetail, ScoreSet, Store};
use anyhow::{anyhow, bail, Context, Result};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Axes that are repetitions, averaged over rather than shown as columns.
const REPEATS: [&str; 2] = ["seed", "fold"];

/// One group of runs that differ only in seed/fold.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The group's value of each varying setting, in [`Summary::axes`] order.
    pub values: Vec<String>,
    pub n: usize,
    /// `(mean, sample std)` per metric in [`HeadlineMetric::ALL`] order; std is NaN for
    /// one run.
    pub stats: Vec<(f64, f64)>,
    /// Indices of the group's runs in the slice given to [`summarise`].
    pub members: Vec<usize>,
}

/// A sweep's done runs grouped by every varying setting except seed and fold.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub axes: Vec<String>,
    pub groups: Vec<Group>,
    pub protocols: Vec<String>,
}

/// Groups runs by the settings that vary among them (seeds and folds pooled).
pub fn summarise(runs: &[RunDetail]) -> Summary {
    let params: Vec<BTreeMap<&str, String>> = runs
        .iter()
        .map(|r| {
            r.params
                .iter()
                .map(|(k, v)| (k.as_str(), v.to_string().trim_matches('"').to_string()))
                .collect()
        })
        .collect();
    // Every key any run has: runs of different models have different keys.
    let mut axes: Vec<String> = params
        .iter()
        .flat_map(|p| p.keys().map(|k| k.to_string()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    // A setting varies when the runs that have it disagree on it; keys only some runs
    // have (a distillation student's `model.alpha`) but that never vary are no axes.
    axes.retain(|k| {
        let mut values: Vec<&String> = params.iter().filter_map(|p| p.get(k.as_str())).collect();
        values.sort_unstable();
        values.dedup();
        !REPEATS.contains(&k.as_str()) && values.len() > 1
    });
    let mut groups: BTreeMap<Vec<SortKey>, (Vec<String>, Vec<usize>)> = BTreeMap::new();
    for (i, p) in params.iter().enumerate() {
        let values: Vec<String> = axes
            .iter()
            .map(|a| p.get(a.as_str()).cloned().unwrap_or_default())
            .collect();
        let key = values.iter().map(|v| SortKey::of(v)).collect();
        groups
            .entry(key)
            .or_insert_with(|| (values, Vec::new()))
            .1
            .push(i);
    }
    let mut protocols: Vec<String> = runs
        .iter()
        .flat_map(|r| r.params.iter())
        .filter(|(k, _)| k == "eval.protocol")
        .map(|(_, v)| v.as_str().unwrap_or_default().to_string())
        .collect();
    protocols.sort();
    protocols.dedup();
    Summary {
        axes,
        groups: groups
            .into_values()
            .map(|(values, members)| Group {
                values,
                n: members.len(),
                stats: HeadlineMetric::ALL
                    .iter()
                    .map(|m| {
                        mean_std(
                            members
                                .iter()
                                .filter_map(|&r| test_metric(&runs[r], m.as_str())),
                        )
                    })
                    .collect(),
                members,
            })
            .collect(),
        protocols,
    }
}

fn test_metric(run: &RunDetail, name: &str) -> Option<f64> {
    run.metrics
        .iter()
        .find(|m| m.split == "test" && m.name == name)
        .map(|m| m.value)
}

/// Sorts numbers numerically and text alphabetically, numbers first.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SortKey {
    Num(f64),
    Text(String),
}

impl SortKey {
    fn of(v: &str) -> SortKey {
        v.parse()
            .map_or_else(|_| SortKey::Text(v.to_string()), SortKey::Num)
    }
}

impl Eq for SortKey {}
impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use std::cmp::Ordering::{Greater, Less};
        match (self, other) {
            (SortKey::Num(a), SortKey::Num(b)) => a.total_cmp(b),
            (SortKey::Text(a), SortKey::Text(b)) => a.cmp(b),
            (SortKey::Num(_), SortKey::Text(_)) => Less,
            (SortKey::Text(_), SortKey::Num(_)) => Greater,
        }
    }
}
impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

fn mean_std(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let v: Vec<f64> = values.collect();
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let std = if v.len() > 1 {
        (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        f64::NAN
    };
    (mean, std)
}

/// The summary as an aligned text table, `mean ± std` per metric.
pub fn format_table(summary: &Summary) -> String {
    let mut header: Vec<String> = summary
        .axes
        .iter()
        .map(|a| a.rsplit('.').next().unwrap_or(a).to_string())
        .collect();
    header.push("runs".into());
    header.extend(
        HeadlineMetric::ALL
            .iter()
            .map(|m| format!("test {}", m.as_str())),
    );
    let rows: Vec<Vec<String>> = summary
        .groups
        .iter()
        .map(|g| {
            let mut row = g.values.clone();
            row.push(g.n.to_string());
            row.extend(g.stats.iter().map(|(m, s)| {
                if s.is_nan() {
                    format!("{m:.4}")
                } else {
                    format!("{m:.4} ± {s:.4}")
                }
            }));
            row
        })
        .collect();
    let mut out = text_table(&header, &rows);
    if !summary.protocols.is_empty() {
        out.push_str(&format!(
            "\n(protocol: {}; mean ± sample std over seeds and folds)",
            summary.protocols.join(", ")
        ));
    }
    out
}

/// Right-aligned columns under a header and a rule.
pub fn text_table(header: &[String], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:>w$}"))
            .collect::<Vec<_>>()
            .join("  ")
    };
    let mut out = line(header);
    out.push('\n');
    out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1)));
    for row in rows {
        out.push('\n');
        out.push_str(&line(row));
    }
    out
}

/// What [`render`] draws besides the sweep-level figures.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Runs for the per-run figures (ROC/PR, histograms, epochs, reconstructions): keys,
    /// unique key prefixes or ids. Empty: the best run of each model by the report metric.
    pub runs: Vec<String>,
    /// Leave out the input-vs-reconstruction figures (they load data and checkpoints).
    pub skip_overlays: bool,
}

/// One figure, as PNG and SVG, with the caption `report.md` gives it.
#[derive(Debug, Clone)]
pub struct Figure {
    pub files: Vec<PathBuf>,
    pub caption: String,
}

/// What [`render`] wrote.
#[derive(Debug, Clone)]
pub struct Report {
    pub figures: Vec<Figure>,
    /// Figures left out, and why, one line each.
    pub notes: Vec<String>,
    pub markdown: PathBuf,
    pub csv: PathBuf,
    pub summary: Summary,
}

/// Renders a sweep's figures, `report.md` and `results.csv` into `out_dir` from the store.
/// `Ok(None)` when the sweep has no finished run yet.
pub fn render(
    store: &Store,
    sweep: &str,
    out_dir: &Path,
    opts: &ReportOptions,
) -> Result<Option<Report>> {
    let document = store.sweep_document(sweep)?;
    let spec = ReportSpec::from_document(&document)
        .map_err(|e| anyhow!("sweep `{sweep}`: the stored {e}"))?;
    let runs = store.sweep_details(sweep)?;
    if runs.is_empty() {
        return Ok(None);
    }
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("creating the report folder {}", out_dir.display()))?;
    let summary = summarise(&runs);
    let metric = spec.metric;
    let mut figures = Vec::new();
    let mut notes = Vec::new();
    let mut add = |files: Vec<PathBuf>, caption: String| figures.push(Figure { files, caption });

    // Metric against a swept setting.
    match axes::choose_x(&summary, spec.x.as_deref()) {
        Some(x) => {
            if let Some(l) = &spec.lines {
                if !summary.axes.contains(l) {
                    notes.push(format!("report.lines = {l} did not vary in this sweep's finished runs; lines inferred"));
                }
            }
            let lines = axes::choose_lines(&summary, spec.lines.as_deref(), &[x]);
            let fig = axes::lines_figure(&summary, metric, x, lines, sweep);
            if fig.panels.len() > axes::MAX_PANELS {
                notes.push(format!(
                    "{} vs {}: {} panels, the first {} drawn",
                    metric.as_str(),
                    figure::short(&summary.axes[x]),
                    fig.panels.len(),
                    axes::MAX_PANELS
                ));
            }
            let stem = format!("{}_vs_{}", metric.as_str(), figure::short(&summary.axes[x]));
            let caption =
                format!(
                "Test {} against `{}`{}{}; mean ± sample std over seeds and folds (error bars).",
                metric.label(),
                summary.axes[x],
                lines.map_or(String::new(), |l| format!(", one line per `{}`", summary.axes[l])),
                if fig.panels.len() > 1 {
                    ", one panel per combination of the other swept settings"
                } else {
                    ""
                }
            );
            add(figure::save(out_dir, &stem, &fig)?, caption);
        }
        None => notes.push(match &spec.x {
            Some(x) => format!(
                "report.x = {x} is not a numeric setting that varied: no metric-vs-axis figure"
            ),
            None => "no numeric setting varied: no metric-vs-axis figure".into(),
        }),
    }

    // Heatmaps over two numeric settings.
    let pair = spec.heatmap.clone().or_else(|| {
        let alpha_beta = ["model.alpha", "model.beta"].map(String::from);
        alpha_beta
            .iter()
            .all(|k| summary.axes.contains(k))
            .then_some(alpha_beta)
    });
    if let Some([a, b]) = pair {
        let index = |k: &str| {
            summary
                .axes
                .iter()
                .position(|x| x == k)
                .filter(|&i| axes::numeric(&summary, i))
        };
        match (index(&a), index(&b)) {
            (Some(ia), Some(ib)) if ia != ib => {
                let fig = axes::heatmap_figure(&summary, metric, ia, ib, sweep);
                let stem = format!(
                    "heatmap_{}_{}_{}",
                    metric.as_str(),
                    figure::short(&a),
                    figure::short(&b)
                );
                let caption = format!(
                    "Test {} (mean ± std over seeds and folds, annotated) over `{a}` (rows) × `{b}` (columns){}.",
                    metric.label(),
                    if fig.panels.len() > 1 { ", one heatmap per combination of the other swept settings" } else { "" }
                );
                add(figure::save(out_dir, &stem, &fig)?, caption);
            }
            _ => notes.push(format!(
                "heatmap over {a} × {b}: both must be distinct numeric settings that varied"
            )),
        }
    }

    // Distillation: the metric against the compression ratio.
    if let Some(fig) = axes::compression_figure(&summary, &runs, metric, sweep) {
        let stem = format!("{}_vs_compression", metric.as_str());
        let caption = format!(
            "Test {} of distilled students against their compression ratio (teacher / student generator parameters), one line per setting of the other swept keys; teachers at ratio 1; mean ± std over seeds and folds.",
            metric.label()
        );
        add(figure::save(out_dir, &stem, &fig)?, caption);
    }

    // Model × dataset bars: the best setting of each model on each dataset.
    let mut best: BTreeMap<(String, String), &Group> = BTreeMap::new();
    let m = HeadlineMetric::ALL
        .iter()
        .position(|&x| x == metric)
        .expect("listed");
    for g in &summary.groups {
        let run = &runs[g.members[0]];
        let key = (run.row.model.clone(), dataset_of(run));
        let better = best
            .get(&key)
            .is_none_or(|b| g.stats[m].0.total_cmp(&b.stats[m].0).is_gt());
        if better {
            best.insert(key, g);
        }
    }
    let mut datasets: Vec<String> = best.keys().map(|k| k.1.clone()).collect();
    datasets.sort();
    datasets.dedup();
    let mut models: Vec<String> = best.keys().map(|k| k.0.clone()).collect();
    models.sort();
    models.dedup();
    let bars = axes::BarsFigure {
        title: format!(
            "{sweep}: best setting of each model per dataset (by test {})",
            metric.as_str()
        ),
        bars: best
            .iter()
            .map(|((model, dataset), g)| {
                let id = datasets.iter().position(|d| d == dataset).expect("listed");
                let im = models.iter().position(|x| x == model).expect("listed");
                let stats = axes::BAR_METRICS
                    .iter()
                    .map(|bm| {
                        g.stats[HeadlineMetric::ALL
                            .iter()
                            .position(|x| x == bm)
                            .expect("listed")]
                    })
                    .collect();
                ((id, im), stats)
            })
            .collect(),
        datasets,
        models,
    };
    add(
        figure::save(out_dir, "bars_model_dataset", &bars)?,
        format!(
            "Test AUC-ROC, AP and best F1 of each model on each dataset, at the model's best setting by {}; mean ± std over seeds and folds.",
            metric.as_str()
        ),
    );

    // Per-run figures.
    let chosen = choose_runs(&runs, &opts.runs, metric)?;
    let ids: Vec<i64> = chosen.iter().map(|&i| runs[i].row.id).collect();
    let scores = store.scores(&ids, "test")?;
    let label = |i: usize| run_label(&summary, &runs, i);
    let mut curves = Vec::new();
    for &i in &chosen {
        let Some(s) = scores.get(&runs[i].row.id) else {
            notes.push(format!("run {}: no test scores stored", runs[i].row.key));
            continue;
        };
        match (
            metrics::roc_curve(&s.labels, &s.scores),
            metrics::pr_curve(&s.labels, &s.scores),
        ) {
            (Ok(roc), Ok(pr)) => curves.push(runs::CurveRun {
                label: label(i),
                roc,
                pr,
                auc_roc: metrics::auc_roc(&s.labels, &s.scores)?,
                ap: metrics::auc_pr(&s.labels, &s.scores)?,
                base_rate: s.labels.iter().filter(|&&l| l).count() as f64 / s.labels.len() as f64,
            }),
            (Err(e), _) | (_, Err(e)) => {
                notes.push(format!("run {}: no ROC/PR curve: {e}", runs[i].row.key))
            }
        }
    }
    if !curves.is_empty() {
        let n = curves.len();
        let fig = runs::CurvesFigure {
            title: format!("{sweep}: test ROC and precision-recall curves"),
            runs: curves,
        };
        add(
            figure::save(out_dir, "roc_pr", &fig)?,
            format!(
                "ROC and precision-recall curves on the test split of {} from the stored scores; dashed: chance.",
                if opts.runs.is_empty() { format!("the best run of each model by {} ({n})", metric.as_str()) } else { format!("the {n} chosen runs") }
            ),
        );
    }
    for &i in &chosen {
        let run = &runs[i];
        let Some(s) = scores.get(&run.row.id) else {
            continue;
        };
        let (values, scaled) = protocol_scores(run, s);
        let threshold = test_metric(run, "threshold");
        let fig = runs::histogram(
            format!("{}: test scores by class", label(i)),
            if scaled {
                "anomaly score (min-max scaled over test, paper protocol)".into()
            } else {
                "anomaly score".into()
            },
            &s.labels,
            &s.classes,
            &values,
            threshold,
        );
        let left_out = if fig.left_out.is_empty() {
            String::new()
        } else {
            format!(
                "; left out for fewer than {} windows: {}",
                runs::MIN_CLASS_WINDOWS,
                fig.left_out
                    .iter()
                    .map(|(c, n)| format!("{c} ({n})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        add(
            figure::save(out_dir, &format!("hist_{}", run.row.key), &fig)?,
            format!(
                "Test anomaly scores of {}, per class (share of the class's windows per bin; scores above the 99.5th percentile in the last bin), with the run's threshold{}{left_out}.",
                label(i),
                threshold.map_or(" (none stored)".to_string(), |t| format!(" {} (dashed)", figure::num(t)))
            ),
        );
    }
    let epochs = store.epochs(&ids)?;
    for &i in &chosen {
        let run = &runs[i];
        let mut losses: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
        let mut val_auc = Vec::new();
        for e in epochs.iter().filter(|e| e.run_id == run.row.id) {
            if e.name == "val_auc_roc" {
                val_auc.push((e.epoch as f64, e.value));
            } else if !e.name.starts_with("val_") || e.name == "val_loss" {
                losses
                    .entry(e.name.as_str())
                    .or_default()
                    .push((e.epoch as f64, e.value));
            }
        }
        if losses.is_empty() && val_auc.is_empty() {
            notes.push(format!("run {}: no epochs stored", run.row.key));
            continue;
        }
        let fig = runs::EpochsFigure {
            title: format!("{}: training curves", label(i)),
            losses: losses
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            val_auc,
            best_epoch: run.row.best_epoch.map(|e| e as f64),
        };
        add(
            figure::save(out_dir, &format!("epochs_{}", run.row.key), &fig)?,
            format!("Loss terms per epoch (mean over the epoch's batches; val_loss: mean score of normal validation windows) and validation AUC-ROC of {}.", label(i)),
        );
    }
    if !opts.skip_overlays {
        let mut cache = overlay::SplitCache::new();
        for &i in &chosen {
            let run = &runs[i];
            let Some(s) = scores.get(&run.row.id) else {
                continue;
            };
            match overlay::overlay(run, s, &label(i), &mut cache) {
                Ok(Ok(fig)) => add(
                    figure::save(out_dir, &format!("overlay_{}", run.row.key), &fig)?,
                    format!("Test windows of {} (normal: median and 95th-percentile score; abnormal: the median-scored window of each class) with the model's reconstruction; the shaded area is the reconstruction error.", label(i)),
                ),
                Ok(Err(reason)) => notes.push(format!("run {}: no reconstruction figure: {reason}", run.row.key)),
                Err(e) => notes.push(format!("run {}: no reconstruction figure: {e:#}", run.row.key)),
            }
        }
    }

    let csv = out_dir.join("results.csv");
    std::fs::write(&csv, to_csv(&store.sweep_run_summary(sweep)?))
        .with_context(|| format!("writing {}", csv.display()))?;
    let markdown = out_dir.join("report.md");
    std::fs::write(
        &markdown,
        markdown_report(sweep, &document, &runs, &summary, &figures, &notes, out_dir),
    )
    .with_context(|| format!("writing {}", markdown.display()))?;
    Ok(Some(Report {
        figures,
        notes,
        markdown,
        csv,
        summary,
    }))
}

fn dataset_of(run: &RunDetail) -> String {
    run.params
        .iter()
        .find(|(k, _)| k == "dataset.name")
        .and_then(|(_, v)| v.as_str())
        .unwrap_or("?")
        .to_string()
}

/// Scores on the scale the run's threshold is on: the paper protocol min-max scales the
/// test scores before thresholding. Returns whether they were scaled.
fn protocol_scores(run: &RunDetail, s: &ScoreSet) -> (Vec<f64>, bool) {
    let paper = run
        .params
        .iter()
        .any(|(k, v)| k == "eval.protocol" && v.as_str() == Some("paper"));
    if !paper {
        return (s.scores.clone(), false);
    }
    let (lo, hi) = s
        .scores
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let range = hi - lo;
    (
        s.scores
            .iter()
            .map(|&v| if range > 0.0 { (v - lo) / range } else { 0.0 })
            .collect(),
        true,
    )
}

/// `beatgan nz=32, w_adv=1.0, seed 1`: the model, the run's swept settings and its seed.
fn run_label(summary: &Summary, runs: &[RunDetail], i: usize) -> String {
    let run = &runs[i];
    let group = summary
        .groups
        .iter()
        .find(|g| g.members.contains(&i))
        .expect("every run is in a group");
    let settings: Vec<String> = summary
        .axes
        .iter()
        .zip(&group.values)
        .filter(|(a, _)| *a != "model.name")
        .map(|(a, v)| format!("{}={v}", figure::short(a)))
        .collect();
    format!(
        "{}{}{} seed {}",
        run.row.model,
        if settings.is_empty() { "" } else { " " },
        settings.join(", "),
        run.row.seed
    )
}

/// Indices of the runs named in `wanted`, or of the best run of each model by `metric`.
fn choose_runs(
    runs: &[RunDetail],
    wanted: &[String],
    metric: HeadlineMetric,
) -> Result<Vec<usize>> {
    if wanted.is_empty() {
        let mut best: BTreeMap<&str, (usize, f64)> = BTreeMap::new();
        for (i, r) in runs.iter().enumerate() {
            let v = test_metric(r, metric.as_str()).unwrap_or(f64::NEG_INFINITY);
            let entry = best.entry(r.row.model.as_str()).or_insert((i, v));
            if v > entry.1 {
                *entry = (i, v);
            }
        }
        return Ok(best.into_values().map(|(i, _)| i).collect());
    }
    wanted
        .iter()
        .map(|w| {
            let hits: Vec<usize> = (0..runs.len())
                .filter(|&i| runs[i].row.key.starts_with(w.as_str()) || runs[i].row.id.to_string() == *w)
                .collect();
            match hits.as_slice() {
                [i] => Ok(*i),
                [] => bail!("run `{w}` is not a finished run of this sweep (see `anolab runs --sweep NAME`)"),
                _ => bail!("run `{w}` matches {} runs of this sweep; give more of the key", hits.len()),
            }
        })
        .collect()
}

/// A query result as CSV (RFC 4180 quoting; NULL as an empty field).
pub fn to_csv(result: &QueryResult) -> String {
    let quote = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = result
        .columns
        .iter()
        .map(|c| quote(c))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for row in &result.rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| match c {
                Cell::Null => String::new(),
                other => quote(&cell_text(other)),
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// A cell as text, as tables show it.
pub fn cell_text(cell: &Cell) -> String {
    match cell {
        Cell::Null => "NULL".into(),
        Cell::Int(i) => i.to_string(),
        Cell::Real(f) => format!("{f}"),
        Cell::Text(s) => s.clone(),
        Cell::Blob(n) => format!("<blob {n} bytes>"),
    }
}

fn markdown_report(
    sweep: &str,
    document: &serde_json::Value,
    runs: &[RunDetail],
    summary: &Summary,
    figures: &[Figure],
    notes: &[String],
    out_dir: &Path,
) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Sweep `{sweep}`\n");
    if let Some(d) = document.get("description").and_then(|d| d.as_str()) {
        let _ = writeln!(md, "{d}\n");
    }
    let _ = writeln!(
        md,
        "{} finished runs; protocol: {}. Generated by anolab {} from the store alone; `results.csv` holds one `run_summary` row per run.\n",
        runs.len(),
        if summary.protocols.is_empty() { "?".to_string() } else { summary.protocols.join(", ") },
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(
        md,
        "## Results (test split, mean ± sample std over seeds and folds)\n"
    );
    let mut header: Vec<String> = summary.axes.iter().map(|a| format!("`{a}`")).collect();
    header.push("runs".into());
    header.extend(HeadlineMetric::ALL.iter().map(|m| m.label().to_string()));
    let _ = writeln!(md, "| {} |", header.join(" | "));
    let _ = writeln!(md, "|{}", "---|".repeat(header.len()));
    for g in &summary.groups {
        let mut row = g.values.clone();
        row.push(g.n.to_string());
        row.extend(g.stats.iter().map(|(m, s)| {
            if s.is_nan() {
                format!("{m:.4}")
            } else {
                format!("{m:.4} ± {s:.4}")
            }
        }));
        let _ = writeln!(md, "| {} |", row.join(" | "));
    }
    if let Some(table) = segments::markdown(runs) {
        let _ = writeln!(md, "\n{table}");
    }
    let _ = writeln!(md, "\n## Figures\n");
    for f in figures {
        let name = |p: &PathBuf| p.strip_prefix(out_dir).unwrap_or(p).display().to_string();
        let png = f
            .files
            .iter()
            .find(|p| p.extension().is_some_and(|e| e == "png"));
        let svg = f
            .files
            .iter()
            .find(|p| p.extension().is_some_and(|e| e == "svg"));
        if let Some(png) = png {
            let stem = png.file_stem().unwrap_or_default().to_string_lossy();
            let _ = writeln!(md, "![{stem}]({})\n", name(png));
        }
        let _ = writeln!(
            md,
            "{}{}\n",
            f.caption,
            svg.map_or(String::new(), |s| format!(" ([SVG]({}))", name(s)))
        );
    }
    if !notes.is_empty() {
        let _ = writeln!(md, "## Not drawn\n");
        for n in notes {
            let _ = writeln!(md, "- {n}");
        }
    }
    md
}
