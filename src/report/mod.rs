//! Tables and figures from the store alone (no training): a sweep's results grouped over
//! seeds and folds ([`summary`]), figures as PNG and SVG (one file per figure kind in
//! `figures/`, drawn in [`figures::KINDS`] order), `report.md` ([`markdown`]) and
//! `results.csv` ([`table`]). The only model code it runs is inference, for the
//! input-vs-reconstruction figures. It reads the store and writes only under `out_dir`.

mod axes;
mod compare;
mod figure;
mod figures;
mod lines;
mod markdown;
pub mod segments;
mod summary;
mod table;

pub use summary::{summarise, Group, MeanInterval, Summary};
pub use table::{cell_text, format_table, text_table, to_csv};

use crate::config::sweep::{HeadlineMetric, ReportSpec};
use crate::kinds::SplitName;
use crate::store::{find_run, RunDetail, ScoreSet, Store};
use anyhow::{anyhow, Context as _, Result};
use markdown::markdown_report;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use summary::test_metric;

/// What [`render`] draws besides the sweep-level figures.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Runs for the per-run figures (ROC/PR, histograms, epochs, reconstructions): keys,
    /// unique key prefixes or ids. Empty: the best run of each model by the report metric.
    pub runs: Vec<String>,
    /// Leave out the input-vs-reconstruction figures (they load data and checkpoints).
    pub skip_overlays: bool,
    /// The artifacts root the runs' checkpoints are recorded under (empty: the working
    /// folder).
    pub artifacts: PathBuf,
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

/// What every figure kind reads: the sweep's stored runs, their summary, the report
/// settings, and the runs chosen for the per-run figures with their test scores.
pub(crate) struct Context<'a> {
    pub store: &'a Store,
    pub sweep: &'a str,
    pub out_dir: &'a Path,
    pub spec: &'a ReportSpec,
    pub runs: &'a [RunDetail],
    pub summary: &'a Summary,
    pub opts: &'a ReportOptions,
    /// Indices into `runs` of the runs of the per-run figures.
    pub chosen: &'a [usize],
    /// Their stored test scores, by run id.
    pub scores: &'a HashMap<i64, ScoreSet>,
}

impl Context<'_> {
    /// `beatgan nz=32, w_adv=1.0 seed 1`: how figures name run `i`.
    pub fn label(&self, i: usize) -> String {
        run_label(self.summary, self.runs, i)
    }
}

/// The figures drawn so far and the notes on those left out.
#[derive(Default)]
pub(crate) struct Drawn {
    pub figures: Vec<Figure>,
    pub notes: Vec<String>,
}

impl Drawn {
    pub fn add(&mut self, files: Vec<PathBuf>, caption: String) {
        self.figures.push(Figure { files, caption });
    }
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
    let chosen = choose_runs(&runs, &opts.runs, spec.metric)?;
    let ids: Vec<i64> = chosen.iter().map(|&i| runs[i].row.id).collect();
    let scores = store.scores(&ids, SplitName::Test)?;
    let ctx = Context {
        store,
        sweep,
        out_dir,
        spec: &spec,
        runs: &runs,
        summary: &summary,
        opts,
        chosen: &chosen,
        scores: &scores,
    };
    let mut drawn = Drawn::default();
    for kind in figures::KINDS {
        kind(&ctx, &mut drawn)?;
    }
    let Drawn { figures, notes } = drawn;

    let csv = out_dir.join("results.csv");
    std::fs::write(&csv, to_csv(&store.sweep_run_summary(sweep)?))
        .with_context(|| format!("writing {}", csv.display()))?;
    let markdown = out_dir.join("report.md");
    std::fs::write(
        &markdown,
        markdown_report(&ctx, &document, &figures, &notes),
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

/// `beatgan nz=32, w_adv=1.0, seed 1`: the model, the run's swept settings and its seed.
fn run_label(summary: &Summary, runs: &[RunDetail], i: usize) -> String {
    let run = &runs[i];
    let group_of = |i: usize| {
        summary
            .groups
            .iter()
            .find(|g| g.members.contains(&i))
            .expect("every run is in a group")
    };
    let group = group_of(i);
    // Only the settings this model was swept over name it: `ae seed 0`, not `ae ndf=,
    // beta1=0.5 seed 0` because other models of the sweep have an ndf or another beta1.
    let same_model: Vec<&crate::report::Group> = summary
        .groups
        .iter()
        .filter(|g| runs[g.members[0]].row.model == run.row.model)
        .collect();
    let settings: Vec<String> = summary
        .axes
        .iter()
        .enumerate()
        .filter(|(a, name)| {
            *name != "model.name"
                && !group.values[*a].is_empty()
                && same_model.iter().any(|g| g.values[*a] != group.values[*a])
        })
        .map(|(a, name)| format!("{}={}", figure::short(name), group.values[a]))
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
    let candidates: Vec<(i64, String)> =
        runs.iter().map(|r| (r.row.id, r.row.key.clone())).collect();
    wanted
        .iter()
        .map(|w| {
            find_run(w, &candidates).map_err(|e| {
                anyhow!(
                    "{e} among the finished runs of this sweep (see `anolab runs --sweep NAME`)"
                )
            })
        })
        .collect()
}
