//! Isolation Forest (`model.name: iforest`; Liu, Ting & Zhou, ICDM 2008, as
//! scikit-learn's `IsolationForest` runs it): `n_trees` trees, each grown on
//! `max_samples` training windows drawn without replacement, splitting on a random value
//! (uniform between the node's minimum and maximum) of a random one of the window's
//! `channels · length` values until a window is alone or the depth reaches
//! ⌈log2 max_samples⌉. A window's score is 2^(−E[h(x)] / c(max_samples)), h the depth at
//! which it lands plus c(leaf size); higher = more anomalous.
//!
//! Written here: the crates on crates.io fix the dimension at compile time (const
//! generics), and windows have the length the data has. The trees are the model's
//! variables (one row of nodes per tree), so it saves and loads like any detector.

use super::{Build, Detector, EpochLosses, ModelSpec};
use crate::data::Windows;
use crate::registry::check;
use crate::rng::SplitMix64;
use candle_core::{DType, Tensor};
use candle_nn::{Init, VarBuilder, VarMap};
use serde::{Deserialize, Serialize};

/// `model: { name: iforest, n_trees: 100, max_samples: 256 }`; the run's seed draws
/// the trees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IforestConfig {
    pub n_trees: usize,
    /// Training windows per tree (scikit-learn's `max_samples="auto"` is 256); fewer
    /// when the training split is smaller.
    pub max_samples: usize,
}

impl Default for IforestConfig {
    fn default() -> Self {
        IforestConfig {
            n_trees: 100,
            max_samples: 256,
        }
    }
}

impl ModelSpec for IforestConfig {
    fn is_baseline(&self) -> bool {
        true
    }

    fn validate(&self) -> Result<(), String> {
        check(
            self.n_trees >= 1,
            "model.n_trees",
            "at least 1",
            self.n_trees,
        )?;
        check(
            self.max_samples >= 2,
            "model.max_samples",
            "at least 2",
            self.max_samples,
        )
    }

    fn build(&self, ctx: &Build) -> anyhow::Result<Box<dyn Detector>> {
        let vars = VarMap::new();
        let vb = VarBuilder::from_varmap(&vars, DType::F64, ctx.device);
        let nodes = 2 * self.max_samples - 1;
        for name in [FEATURE, THRESHOLD, RIGHT, SIZE] {
            vb.get_with_hints((self.n_trees, nodes), name, Init::Const(-1.0))?;
        }
        vb.get_with_hints(1, SAMPLES, Init::Const(0.0))?;
        Ok(Box::new(Iforest {
            cfg: self.clone(),
            seed: ctx.seed,
            batch_size: ctx.train.batch_size,
            vars,
        }))
    }
}

/// Per tree, per node in preorder: the split feature (−1 at a leaf), the split value,
/// the index of the right child (the left child is the next node), the windows that
/// reached a leaf. And the windows each tree was grown on.
const FEATURE: &str = "feature";
const THRESHOLD: &str = "threshold";
const RIGHT: &str = "right";
const SIZE: &str = "size";
const SAMPLES: &str = "samples";

pub struct Iforest {
    cfg: IforestConfig,
    seed: u64,
    batch_size: usize,
    vars: VarMap,
}

/// One tree's nodes, as the variables hold them.
#[derive(Default)]
struct Tree {
    feature: Vec<f64>,
    threshold: Vec<f64>,
    right: Vec<f64>,
    size: Vec<f64>,
}

/// The average path length of an unsuccessful search in a binary search tree of `n`
/// keys: the normaliser c(n) (scikit-learn's `_average_path_length`).
fn average_path(n: f64) -> f64 {
    if n <= 1.0 {
        0.0
    } else if n <= 2.0 {
        1.0
    } else {
        2.0 * ((n - 1.0).ln() + 0.577_215_664_901_532_9) - 2.0 * (n - 1.0) / n
    }
}

impl Tree {
    /// Grows the subtree of `rows` (window indices) at `depth` in preorder.
    fn grow(
        &mut self,
        data: &Windows,
        rows: &mut [usize],
        depth: usize,
        limit: usize,
        rng: &mut SplitMix64,
    ) {
        let at = self.feature.len();
        self.feature.push(-1.0);
        self.threshold.push(0.0);
        self.right.push(-1.0);
        self.size.push(rows.len() as f64);
        if rows.len() <= 1 || depth >= limit {
            return;
        }
        let d = data.channels * data.length;
        // A feature that still varies among the rows; none left: a leaf.
        let mut split = None;
        for _ in 0..d {
            let f = rng.below(d as u64) as usize;
            let (lo, hi) = rows
                .iter()
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &r| {
                    let v = data.window(r)[f];
                    (lo.min(v), hi.max(v))
                });
            if hi > lo {
                split = Some((f, f64::from(lo) + rng.next_f64() * f64::from(hi - lo)));
                break;
            }
        }
        let Some((f, t)) = split else { return };
        let mut left = 0;
        for i in 0..rows.len() {
            if f64::from(data.window(rows[i])[f]) < t {
                rows.swap(i, left);
                left += 1;
            }
        }
        if left == 0 || left == rows.len() {
            return;
        }
        self.feature[at] = f as f64;
        self.threshold[at] = t;
        let (l, r) = rows.split_at_mut(left);
        self.grow(data, l, depth + 1, limit, rng);
        self.right[at] = self.feature.len() as f64;
        self.grow(data, r, depth + 1, limit, rng);
    }

    /// h(x): the depth at which `x` reaches a leaf plus c(leaf size).
    fn path_length(&self, x: &[f32]) -> f64 {
        let (mut node, mut depth) = (0usize, 0.0);
        while self.feature[node] >= 0.0 {
            let f = self.feature[node] as usize;
            node = if f64::from(x[f]) < self.threshold[node] {
                node + 1
            } else {
                self.right[node] as usize
            };
            depth += 1.0;
        }
        depth + average_path(self.size[node])
    }
}

impl Iforest {
    fn trees(&self) -> anyhow::Result<(Vec<Tree>, f64)> {
        let data = self.vars.data().lock().expect("var map lock");
        let rows = |name: &str| -> anyhow::Result<Vec<Vec<f64>>> {
            Ok(data[name].as_tensor().to_vec2::<f64>()?)
        };
        let (feature, threshold, right, size) =
            (rows(FEATURE)?, rows(THRESHOLD)?, rows(RIGHT)?, rows(SIZE)?);
        let samples = data[SAMPLES].as_tensor().to_vec1::<f64>()?[0];
        anyhow::ensure!(samples > 0.0, "iforest has not been fitted");
        let trees = (0..feature.len())
            .map(|t| Tree {
                feature: feature[t].clone(),
                threshold: threshold[t].clone(),
                right: right[t].clone(),
                size: size[t].clone(),
            })
            .collect();
        Ok((trees, samples))
    }
}

impl Detector for Iforest {
    fn fit_epoch(
        &mut self,
        train: &Windows,
        _rng: &mut SplitMix64,
        on_batch: &mut dyn FnMut() -> anyhow::Result<()>,
    ) -> anyhow::Result<EpochLosses> {
        anyhow::ensure!(train.n >= 2, "iforest needs at least 2 training windows");
        let samples = self.cfg.max_samples.min(train.n);
        let limit = (samples as f64).log2().ceil() as usize;
        let nodes = 2 * self.cfg.max_samples - 1;
        // Its own stream: the same trees for a seed whatever the batch order does.
        let mut rng = SplitMix64::new(self.seed ^ 0x150f_0e57_0000_0001);
        let mut all = Tree::default();
        for _ in 0..self.cfg.n_trees {
            let mut rows: Vec<usize> = (0..train.n).collect();
            rng.shuffle(&mut rows);
            rows.truncate(samples);
            let mut tree = Tree::default();
            tree.grow(train, &mut rows, 0, limit, &mut rng);
            for (column, values) in [
                (&mut all.feature, tree.feature),
                (&mut all.threshold, tree.threshold),
                (&mut all.right, tree.right),
                (&mut all.size, tree.size),
            ] {
                let used = values.len();
                column.extend(values);
                column.extend(std::iter::repeat_n(-1.0, nodes - used));
            }
        }
        let data = self.vars.data().lock().expect("var map lock");
        for (name, values) in [
            (FEATURE, all.feature),
            (THRESHOLD, all.threshold),
            (RIGHT, all.right),
            (SIZE, all.size),
            (SAMPLES, vec![samples as f64]),
        ] {
            let var = &data[name];
            var.set(&Tensor::from_vec(values, var.dims(), var.device())?)?;
        }
        on_batch()?;
        Ok(Vec::new())
    }

    fn score(&self, windows: &Windows) -> anyhow::Result<Vec<f64>> {
        let (trees, samples) = self.trees()?;
        let c = average_path(samples);
        Ok((0..windows.n)
            .map(|i| {
                let x = windows.window(i);
                let mean = trees.iter().map(|t| t.path_length(x)).sum::<f64>() / trees.len() as f64;
                2f64.powf(-mean / c)
            })
            .collect())
    }

    fn vars(&self) -> &VarMap {
        &self.vars
    }

    fn batch_size(&self) -> usize {
        self.batch_size
    }

    fn batches_per_epoch(&self, _n: usize) -> usize {
        1
    }
}
