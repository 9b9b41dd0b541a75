//! The figure kinds of a report, one file each. Every kind reads the [`Context`] and adds
//! its figures (or a note saying why it drew none) to [`Drawn`].

mod bars;
mod compression;
mod critical_difference;
mod epochs;
mod heatmap;
mod histogram;
mod metric_vs_axis;
mod overlay;
mod roc_pr;

use super::{Context, Drawn};

/// A figure kind: draws from the context into `out_dir`, records figures and notes.
pub(super) type Kind = fn(&Context, &mut Drawn) -> anyhow::Result<()>;

/// Every kind, in the order `report.md` shows them: sweep-level figures, then per run.
pub(super) const KINDS: [Kind; 9] = [
    metric_vs_axis::draw,
    heatmap::draw,
    compression::draw,
    bars::draw,
    critical_difference::draw,
    roc_pr::draw,
    histogram::draw,
    epochs::draw,
    overlay::draw,
];
