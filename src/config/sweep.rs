//! Sweep expansion: list values are axes, their cartesian product (times `seeds` and
//! `folds`) is the sweep's runs, each validated. The runs are never held as a list
//! here: run i is decoded from i ([`Grid`]), so a large sweep streams through whoever
//! takes its runs. Keys are `plan`'s; this reads no data file.
//!
//! A run's `train:` settings come from three layers: the model's paper defaults
//! (`ModelSpec::train_defaults`) < the sweep's `train:` < the model's own `train:` block
//! (`model: [{name: ganomaly, train: {epochs: 15}}, …]`); the resolved values are the
//! run's config, so they are in its key.

use super::{ModelConfig, RunConfig, TrainConfig};
use crate::registry::figment_message;
use figment::providers::Serialized;
use figment::Figment;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Keys whose value is itself a list, with how deep its own lists go: `records` is a
/// list of names (depth 1), `intervals` a list of `[first, last]` pairs (depth 2). A
/// list of such values is an axis.
const LIST_KEYS: &[(&str, usize)] = &[
    ("dataset.records", 1),
    ("dataset.columns", 1),
    ("dataset.intervals", 2),
];

/// How many lists are nested at the front of a value: `[[1, 2]]` → 2, `"a"` → 0.
fn list_depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.first().map_or(0, list_depth),
        _ => 0,
    }
}
/// Top-level sections of a sweep file that belong to each run.
const RUN_SECTIONS: &[&str] = &["dataset", "model", "train", "eval"];
/// Sections chosen whole by name (`model=ae` on the command line): the registries'.
pub const GROUPS: &[&str] = &["dataset", "model"];

/// A loaded sweep: its identity, the merged document as given, and its runs
/// ([`SweepSpec::runs`], resolved one at a time as they are taken).
#[derive(Debug, Clone)]
pub struct SweepSpec {
    pub name: String,
    pub description: Option<String>,
    /// The merged settings (file + env + overrides), lists included; stored with the sweep.
    pub document: Value,
    /// The keys that vary, in expansion order (`seed` and `fold` included when they vary).
    pub axes: Vec<Axis>,
    /// Groups of axes that move together (`zip:`) at the top level (groups inside one
    /// alternative of a section are that alternative's business).
    pub zip: Vec<Vec<String>>,
    grid: Grid,
    /// How `anolab report` draws this sweep; not part of any run.
    pub report: ReportSpec,
}

/// The sweep file's `report:` block: which metric and axes the figures use. Unset keys
/// are inferred from what varies in the sweep.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSpec {
    /// The metric of the axis figures, heatmaps and the choice of the best runs.
    #[serde(default)]
    pub metric: HeadlineMetric,
    /// The numeric setting on the x axis of the metric-vs-axis figure, e.g. `model.nz`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// The setting drawn as one line each, e.g. `model.w_adv`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<String>,
    /// Two numeric settings for metric heatmaps, e.g. `[model.alpha, model.beta]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heatmap: Option<[String; 2]>,
}

/// The test metrics that tables and figures aggregate over seeds and folds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadlineMetric {
    #[default]
    AucRoc,
    AucPr,
    BestF1,
    F1,
}

impl HeadlineMetric {
    pub const ALL: [HeadlineMetric; 4] = [
        HeadlineMetric::AucRoc,
        HeadlineMetric::AucPr,
        HeadlineMetric::BestF1,
        HeadlineMetric::F1,
    ];

    /// The name in the `metrics` table and in `run_summary`.
    pub fn as_str(self) -> &'static str {
        match self {
            HeadlineMetric::AucRoc => "auc_roc",
            HeadlineMetric::AucPr => "auc_pr",
            HeadlineMetric::BestF1 => "best_f1",
            HeadlineMetric::F1 => "f1",
        }
    }

    /// How figures and tables name it.
    pub fn label(self) -> &'static str {
        match self {
            HeadlineMetric::AucRoc => "AUC-ROC",
            HeadlineMetric::AucPr => "AP (AUC-PR)",
            HeadlineMetric::BestF1 => "best F1 (oracle)",
            HeadlineMetric::F1 => "F1 at the chosen threshold",
        }
    }
}

impl ReportSpec {
    /// The `report` block of a sweep document (as loaded or as stored with the sweep);
    /// absent means all defaults.
    pub fn from_document(document: &Value) -> Result<ReportSpec, String> {
        ReportSpec::from_block(document.get("report"))
    }

    fn from_block(block: Option<&Value>) -> Result<ReportSpec, String> {
        match block {
            None | Some(Value::Null) => Ok(ReportSpec::default()),
            Some(block) => serde_json::from_value(block.clone()).map_err(|e| {
                format!("report: {e} (e.g. `report: {{ metric: auc_roc, x: model.nz, lines: model.w_adv }}`)")
            }),
        }
    }

    /// Every setting the block names must be a setting of the runs (a typo would
    /// otherwise only show as a missing figure).
    fn check_keys(&self, settings: &[String]) -> Result<(), String> {
        let named = self
            .x
            .iter()
            .map(|k| ("report.x", k))
            .chain(self.lines.iter().map(|k| ("report.lines", k)))
            .chain(self.heatmap.iter().flatten().map(|k| ("report.heatmap", k)));
        for (what, key) in named {
            if !settings.contains(key) {
                return Err(format!(
                    "{what}: `{key}` is not a setting of this sweep's runs; settings: {}",
                    settings.join(", ")
                ));
            }
        }
        Ok(())
    }
}

impl SweepSpec {
    /// How many runs the sweep has.
    pub fn len(&self) -> usize {
        self.grid.len
    }

    /// Whether the sweep has no runs (never true for a loaded sweep).
    pub fn is_empty(&self) -> bool {
        self.grid.len == 0
    }

    /// The runs' configs in expansion order (the last axis varies fastest), each
    /// resolved as it is taken: nothing holds the whole list.
    pub fn runs(&self) -> impl ExactSizeIterator<Item = RunConfig> + '_ {
        (0..self.grid.len).map(|i| {
            self.grid
                .config(i)
                .expect("every run was resolved and validated when the sweep was loaded")
        })
    }

    /// The grid's dimensions for people: `model.nz (4) × model.ndf+model.ngf (2) × seed (2)`.
    pub fn describe_grid(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut done: Vec<&str> = Vec::new();
        for axis in &self.axes {
            if done.contains(&axis.key.as_str()) {
                continue;
            }
            let group = self.zip.iter().find(|g| g.contains(&axis.key));
            let keys: Vec<&str> = group.map_or(vec![axis.key.as_str()], |g| {
                g.iter().map(String::as_str).collect()
            });
            done.extend(&keys);
            parts.push(format!("{} ({})", keys.join("+"), axis.values.len()));
        }
        if parts.is_empty() {
            "no axes".into()
        } else {
            parts.join(" × ")
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub key: String,
    pub values: Vec<Value>,
}

impl Axis {
    /// A run's value on this axis as text (`16`, `0.1`); on a whole-section axis
    /// (`model: [...]`), the alternative as written: `ae nz=8 ndf=8 ngf=8`.
    pub fn value_of(&self, run: &RunConfig) -> String {
        let params = params(run);
        let param = |k: &str| params.iter().find(|(p, _)| p == k).map(|(_, v)| v);
        let text = |v: &Value| v.to_string().trim_matches('"').to_string();
        if let Some(v) = param(&self.key) {
            return text(v);
        }
        // An alternative matches when every setting it gives, nested blocks flattened
        // (`teacher: {nz: 4}` → `model.teacher.nz`), is the run's.
        let given = self.values.iter().filter_map(Value::as_object).find(|alt| {
            let mut given = Vec::new();
            flatten(&self.key, &Value::Object((*alt).clone()), &mut given);
            given.iter().all(|(k, v)| {
                // A model's own `train:` block lands in the run's `train` section.
                let k = k
                    .strip_prefix("model.")
                    .filter(|k| k.starts_with("train."))
                    .unwrap_or(k);
                param(k) == Some(v)
            })
        });
        match given {
            Some(alt) => {
                let mut parts: Vec<String> = alt.get("name").map(text).into_iter().collect();
                let mut settings = Vec::new();
                for (k, v) in alt.iter().filter(|(k, _)| *k != "name") {
                    flatten(k, v, &mut settings); // `train: {epochs: 2}` → train.epochs=2
                }
                parts.extend(settings.iter().map(|(k, v)| format!("{k}={}", text(v))));
                parts.join(" ")
            }
            None => "?".into(),
        }
    }
}

/// A run's config flattened to dotted keys (`model.nz` → 16), as the store's `params`
/// table and the axes read it.
pub fn params(config: &RunConfig) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    flatten(
        "",
        &serde_json::to_value(config).expect("a RunConfig always serialises"),
        &mut out,
    );
    out
}

/// `model` + `nz` → `model.nz`.
fn join_key(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = join_key(prefix, k);
                flatten(&key, v, out);
            }
        }
        _ => out.push((prefix.to_string(), value.clone())),
    }
}

/// Expands a merged sweep document into its runs. Errors are messages naming the key.
/// Runs a sweep may expand to unless the caller raises it (`--max-runs`): a typo-sized
/// grid is refused before anything is allocated for it.
pub const DEFAULT_MAX_RUNS: usize = 100_000;

/// A sweep name reaches the file system (`results/<name>/`): letters, digits, `.`, `_`
/// and `-` only, not starting with `.`, at most 100 characters.
pub fn check_name(name: &str) -> Result<(), String> {
    let safe = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if safe {
        Ok(())
    } else {
        Err(format!(
            "`name` {name:?} cannot name a sweep: it becomes the report folder `results/<name>/`, so it may hold only letters, digits, '.', '_' and '-', not start with '.', and have at most 100 characters"
        ))
    }
}

/// The product of `counts`, or an error naming what made it exceed `max_runs`.
fn bounded(counts: &[(String, usize)], max_runs: usize, what: &str) -> Result<usize, String> {
    let total = counts
        .iter()
        .fold(1u128, |acc, (_, n)| acc.saturating_mul(*n as u128));
    if total > max_runs as u128 {
        let factors: Vec<String> = counts
            .iter()
            .filter(|(_, n)| *n > 1)
            .map(|(k, n)| format!("{k} ({n})"))
            .collect();
        return Err(format!(
            "{what} expands to {total} runs ({}), more than the limit of {max_runs}: check the lists for a typo, or raise the limit with --max-runs",
            factors.join(" × ")
        ));
    }
    Ok(total as usize)
}

pub(super) fn expand(doc: Value, max_runs: usize) -> Result<SweepSpec, String> {
    let Value::Object(mut top) = doc else {
        return Err("a sweep file must be a mapping of keys to values".into());
    };
    let name = match top.remove("name") {
        Some(Value::String(s)) if !s.trim().is_empty() => {
            check_name(&s)?;
            s
        }
        Some(other) => return Err(format!("`name` must be a non-empty string, found {other}")),
        None => {
            return Err("missing `name`: every sweep needs a name (e.g. `name: beatgan_nz`)".into())
        }
    };
    let description = match top.remove("description") {
        None => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => return Err(format!("`description` must be a string, found {other}")),
    };
    let report = ReportSpec::from_block(top.get("report"))?;
    let report_block = top.remove("report");
    let seeds = int_axis(top.remove("seeds"), "seeds")?;
    let folds = int_axis(top.remove("folds"), "folds")?;
    let zip = zip_groups(top.remove("zip"))?;
    for key in top.keys() {
        if !RUN_SECTIONS.contains(&key.as_str()) {
            let hint = match key.as_str() {
                "seed" => " (use `seeds:`, a number or a list)",
                "fold" => " (use `folds:`, a number or a list)",
                _ => "",
            };
            return Err(format!(
                "unknown top-level key `{key}`{hint}; valid keys: name, description, seeds, folds, zip, report, {}",
                RUN_SECTIONS.join(", ")
            ));
        }
    }
    let document = {
        let mut d = top.clone();
        d.insert("name".into(), Value::String(name.clone()));
        d.insert("seeds".into(), Value::from(seeds.clone()));
        d.insert("folds".into(), Value::from(folds.clone()));
        if !zip.is_empty() {
            d.insert("zip".into(), Value::from(zip.clone()));
        }
        if let Some(block) = report_block {
            d.insert("report".into(), block);
        }
        Value::Object(d)
    };

    let mut alternative_zips = Vec::new();
    for section in RUN_SECTIONS {
        if let Some(Value::Array(items)) = top.get(*section) {
            let expanded = expand_alternatives(section, items, &zip, max_runs)?;
            alternative_zips.extend(expanded.zips);
            top.insert(section.to_string(), Value::Array(expanded.alternatives));
        }
    }
    let top_zip: Vec<Vec<String>> = zip
        .into_iter()
        .filter(|g| !alternative_zips.contains(g))
        .collect();
    let mut axes = Vec::new();
    let base = Value::Object(top);
    find_axes("", &base, &mut axes)?;
    for (key, values) in [("fold", &folds), ("seed", &seeds)] {
        axes.push(Axis {
            key: key.into(),
            values: values.iter().map(|v| Value::from(*v)).collect(),
        });
    }
    let grid = Grid::new(base, axes, &top_zip, max_runs, "the sweep")?;
    // Every run is resolved and checked once here, and dropped: errors come at load
    // time, naming the key, and memory does not grow with the sweep.
    for i in 0..grid.len {
        let config = grid.config(i)?;
        if i == 0 {
            let settings: Vec<String> = params(&config).into_iter().map(|(k, _)| k).collect();
            report.check_keys(&settings)?;
        }
    }
    let mut axes = grid.axes.clone();
    axes.retain(|a| a.values.len() > 1);
    Ok(SweepSpec {
        name,
        description,
        document,
        axes,
        zip: top_zip,
        grid,
        report,
    })
}

/// A sweep's runs without a list of them: the document with its lists taken out, the
/// axes, and the independent dimensions (an axis, or a zip group moving together);
/// run i is the i-th combination, the last dimension varying fastest.
#[derive(Debug, Clone)]
struct Grid {
    base: Value,
    axes: Vec<Axis>,
    dims: Vec<Vec<usize>>,
    len: usize,
}

impl Grid {
    /// The grid of `base`'s `axes` (at most `max_runs` combinations; `what` names the
    /// grid in the refusal).
    fn new(
        mut base: Value,
        axes: Vec<Axis>,
        zip: &[Vec<String>],
        max_runs: usize,
        what: &str,
    ) -> Result<Grid, String> {
        let dims = dimensions(&axes, zip)?;
        let counts: Vec<(String, usize)> = dims
            .iter()
            .map(|d| {
                let keys: Vec<&str> = d.iter().map(|&a| axes[a].key.as_str()).collect();
                (keys.join("+"), axes[d[0]].values.len())
            })
            .collect();
        let len = bounded(&counts, max_runs, what)?;
        // Each run's document starts as a copy of the base: without its lists that copy
        // costs the document's size, not the grid's.
        for axis in &axes {
            set_path(&mut base, &axis.key, Value::Null);
        }
        Ok(Grid {
            base,
            axes,
            dims,
            len,
        })
    }

    /// The document of combination `i`.
    fn document(&self, mut i: usize) -> Value {
        let mut doc = self.base.clone();
        for dim in self.dims.iter().rev() {
            let n = self.axes[dim[0]].values.len();
            for &axis in dim {
                set_path(
                    &mut doc,
                    &self.axes[axis].key,
                    self.axes[axis].values[i % n].clone(),
                );
            }
            i /= n;
        }
        doc
    }

    /// Run `i`'s config, resolved and validated.
    fn config(&self, i: usize) -> Result<RunConfig, String> {
        let config = resolve_run(self.document(i))?;
        config.validate()?;
        Ok(config)
    }
}

/// One run's document as its config, with the training layers of the module comment.
fn resolve_run(mut doc: Value) -> Result<RunConfig, String> {
    let model_train = match doc.get_mut("model").and_then(Value::as_object_mut) {
        Some(model) => model.remove("train"),
        None => None,
    };
    if let Some(block) = model_train.as_ref().filter(|b| !b.is_object()) {
        return Err(format!(
            "key `model.train` must be a mapping of training settings (e.g. `train: {{lr: 2.0e-4, epochs: 15}}`), found {block}"
        ));
    }
    let sweep = Figment::from(Serialized::defaults(&doc));
    // A model that does not parse falls back to the common defaults; the extraction
    // below then reports its error with its key.
    let defaults = sweep
        .extract_inner::<ModelConfig>("model")
        .map_or_else(|_| TrainConfig::default(), |m| m.spec().train_defaults());
    let mut layers = Figment::from(Serialized::defaults(
        serde_json::json!({ "train": defaults }),
    ))
    .merge(Serialized::defaults(&doc));
    if let Some(block) = model_train {
        layers = layers.merge(Serialized::defaults(serde_json::json!({ "train": block })));
    }
    layers.extract().map_err(|e| figment_message(&e))
}

fn int_axis(value: Option<Value>, key: &str) -> Result<Vec<u64>, String> {
    let items = match value {
        None => return Ok(vec![0]),
        Some(Value::Array(items)) => items,
        Some(v) => vec![v],
    };
    if items.is_empty() {
        return Err(format!("`{key}` is an empty list: give at least one value"));
    }
    items
        .iter()
        .map(|v| {
            v.as_u64()
                .ok_or_else(|| format!("`{key}` must be non-negative integers, found {v}"))
        })
        .collect()
}

fn find_axes(prefix: &str, value: &Value, axes: &mut Vec<Axis>) -> Result<(), String> {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = join_key(prefix, k);
                find_axes(&key, v, axes)?;
            }
            Ok(())
        }
        Value::Array(items) => {
            let depth = LIST_KEYS
                .iter()
                .find(|(k, _)| *k == prefix)
                .map(|(_, d)| *d);
            let list_valued = depth.is_some();
            if let Some(depth) = depth {
                if !items.iter().all(|v| list_depth(v) >= depth) {
                    return Ok(()); // one list value, not an axis
                }
            }
            if items.is_empty() {
                return Err(format!(
                    "`{prefix}` is an empty list: a sweep axis needs at least one value"
                ));
            }
            let alternatives = RUN_SECTIONS.contains(&prefix) && items.iter().all(Value::is_object);
            if !list_valued && !alternatives && items.iter().any(|v| v.is_array() || v.is_object())
            {
                return Err(format!(
                    "`{prefix}`: a sweep axis is a list of plain values, found a nested list or mapping"
                ));
            }
            axes.push(Axis {
                key: prefix.to_string(),
                values: items.clone(),
            });
            Ok(())
        }
        _ => Ok(()),
    }
}

/// `zip: [[model.student_ndf, model.student_ngf]]`: groups of keys whose lists move
/// together (the i-th values of each form one setting) instead of multiplying.
fn zip_groups(value: Option<Value>) -> Result<Vec<Vec<String>>, String> {
    let bad =
        || "`zip` must be a list of groups of keys, e.g. zip: [[model.ndf, model.ngf]]".to_string();
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let groups = value.as_array().ok_or_else(bad)?;
    groups
        .iter()
        .map(|g| {
            let keys = g.as_array().ok_or_else(bad)?;
            if keys.is_empty() {
                return Err("`zip` has an empty group: each group names the keys that move together, e.g. zip: [[model.ndf, model.ngf]]".to_string());
            }
            keys.iter()
                .map(|k| k.as_str().map(str::to_string).ok_or_else(bad))
                .collect()
        })
        .collect()
}

/// The independent dimensions of the grid: each is a list of axis indices that move
/// together (one axis, or a zip group), in axis order.
fn dimensions(axes: &[Axis], zip: &[Vec<String>]) -> Result<Vec<Vec<usize>>, String> {
    let index = |key: &str| {
        axes.iter()
            .position(|a| a.key == key)
            .ok_or_else(|| {
                let section = key.split('.').next().unwrap_or(key);
                let hint = if GROUPS.contains(&section) {
                    format!(" (if `{section}=…` on the command line replaced the file's {section}, add `zip=[]` to drop the file's groups)")
                } else {
                    String::new()
                };
                format!("`zip` names `{key}`, which is not a list in this sweep{hint}")
            })
    };
    let mut grouped = vec![None; axes.len()];
    for (g, group) in zip.iter().enumerate() {
        let members = group
            .iter()
            .map(|k| index(k))
            .collect::<Result<Vec<_>, _>>()?;
        let len = axes[members[0]].values.len();
        for &m in &members {
            if axes[m].values.len() != len {
                return Err(format!(
                    "`zip` group [{}] needs lists of one length; `{}` has {} values, `{}` has {len}",
                    group.join(", "),
                    axes[m].key,
                    axes[m].values.len(),
                    axes[members[0]].key
                ));
            }
            if grouped[m].replace(g).is_some() {
                return Err(format!("`{}` is in two `zip` groups", axes[m].key));
            }
        }
    }
    let mut dims: Vec<Vec<usize>> = Vec::new();
    let mut seen_groups = Vec::new();
    for (i, group) in grouped.iter().enumerate() {
        match group {
            None => dims.push(vec![i]),
            Some(g) if !seen_groups.contains(g) => {
                seen_groups.push(*g);
                dims.push(
                    (i..axes.len())
                        .filter(|&j| grouped[j] == Some(*g))
                        .collect(),
                );
            }
            Some(_) => {}
        }
    }
    Ok(dims)
}

/// A section given as a list of alternatives, each expanded by its own lists, and the
/// `zip` groups that lay inside one alternative.
struct Alternatives {
    alternatives: Vec<Value>,
    zips: Vec<Vec<String>>,
}

/// `model: [{name: ae, nz: [8, 16]}, {name: lstm_ae}]`: a whole section given as a list
/// of alternatives (models or datasets whose keys differ) is one axis; each alternative
/// is first expanded by its own lists (here: ae/8, ae/16, lstm_ae). A `zip` group whose
/// keys are lists of one alternative (`model.student_ndf`, `model.student_ngf` of a
/// `beatgan_kd` beside baselines) moves them together inside it.
fn expand_alternatives(
    section: &str,
    items: &[Value],
    zip: &[Vec<String>],
    max_runs: usize,
) -> Result<Alternatives, String> {
    let mut out = Alternatives {
        alternatives: Vec::new(),
        zips: Vec::new(),
    };
    for item in items {
        if !item.is_object() {
            return Err(format!(
                "`{section}`: a list of alternatives must hold only mappings, found {item}"
            ));
        }
        let wrapped = Value::Object(Map::from_iter([(section.to_string(), item.clone())]));
        let mut axes = Vec::new();
        find_axes("", &wrapped, &mut axes)?;
        let is_axis = |key: &String| axes.iter().any(|a| &a.key == key);
        let mut groups = Vec::new();
        for group in zip {
            match group.iter().find(|k| !is_axis(k)) {
                _ if !group.iter().any(is_axis) => {}
                None => groups.push(group.clone()),
                Some(missing) => {
                    return Err(format!(
                        "`zip` group [{}]: `{missing}` is not a list in the alternative of `{section}` that lists the others ({})",
                        group.join(", "),
                        item.get("name").map_or("unnamed".into(), Value::to_string)
                    ))
                }
            }
        }
        let grid = Grid::new(
            wrapped,
            axes,
            &groups,
            max_runs,
            &format!("an alternative of `{section}`"),
        )?;
        bounded(
            &[(section.to_string(), out.alternatives.len() + grid.len)],
            max_runs,
            &format!("`{section}`"),
        )?;
        for i in 0..grid.len {
            out.alternatives.push(grid.document(i)[section].take());
        }
        for group in groups {
            if !out.zips.contains(&group) {
                out.zips.push(group);
            }
        }
    }
    if out.alternatives.is_empty() {
        return Err(format!(
            "`{section}` is an empty list: give at least one alternative"
        ));
    }
    Ok(out)
}

fn set_path(doc: &mut Value, dotted: &str, value: Value) {
    let mut node = doc;
    let mut parts = dotted.split('.').peekable();
    while let Some(part) = parts.next() {
        let map = match node {
            Value::Object(map) => map,
            other => {
                *other = Value::Object(Map::new());
                other.as_object_mut().expect("just made an object")
            }
        };
        if parts.peek().is_none() {
            map.insert(part.to_string(), value);
            return;
        }
        node = map
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}
