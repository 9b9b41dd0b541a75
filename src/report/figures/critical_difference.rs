//! The critical-difference diagram (Demšar, JMLR 2006): each model at its best setting
//! placed at its mean rank over the runs all of them share (rank 1 = best, on the left);
//! thick bars join models whose mean ranks differ by less than the Nemenyi critical
//! difference, i.e. that the test cannot tell apart. Baselines are drawn in grey.

use super::{Context, Drawn};
use crate::report::compare::{critical_difference, treatments, CriticalDifference, ALPHA};
use crate::report::figure::{self, err, Draw, SANS};
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

struct CdFigure {
    title: String,
    cd: CriticalDifference,
    /// Per model (baselines grey), as in the other figures.
    colors: Vec<RGBAColor>,
}

/// Maximal runs of models (in rank order) whose mean ranks lie within `cd` of each other.
fn cliques(ranks: &[f64], cd: f64) -> Vec<(f64, f64)> {
    let mut sorted = ranks.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut out: Vec<(usize, usize)> = Vec::new();
    for i in 0..sorted.len() {
        let j = (i..sorted.len())
            .take_while(|&j| sorted[j] - sorted[i] < cd)
            .last()
            .expect("i itself");
        if j > i && out.last().is_none_or(|&(_, last)| j > last) {
            out.push((i, j));
        }
    }
    out.into_iter()
        .map(|(i, j)| (sorted[i], sorted[j]))
        .collect()
}

impl Draw for CdFigure {
    fn size(&self) -> (u32, u32) {
        let k = self.cd.names.len() as u32;
        (1000, 120 + 10 * k + 28 * k.div_ceil(2))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(err)?;
        let body = root.titled(&self.title, (SANS, 17)).map_err(err)?;
        let (w, _) = body.dim_in_pixel();
        let k = self.cd.names.len();
        let (left, right) = (260.0, w as f64 - 260.0);
        let x = |rank: f64| (left + (rank - 1.0) / (k as f64 - 1.0) * (right - left)) as i32;
        let axis_y = 40;
        let black = BLACK.stroke_width(2);
        body.draw(&PathElement::new(
            vec![(x(1.0), axis_y), (x(k as f64), axis_y)],
            black,
        ))
        .map_err(err)?;
        for r in 1..=k {
            let at = x(r as f64);
            body.draw(&PathElement::new(
                vec![(at, axis_y - 8), (at, axis_y)],
                black,
            ))
            .map_err(err)?;
            body.draw(&Text::new(
                r.to_string(),
                (at, axis_y - 10),
                (SANS, 14)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
            ))
            .map_err(err)?;
        }
        // The critical difference, as a bar from rank 1.
        let cd_end = x(1.0 + self.cd.cd.min(k as f64 - 1.0));
        body.draw(&PathElement::new(
            vec![(x(1.0), 12), (cd_end, 12)],
            BLACK.stroke_width(3),
        ))
        .map_err(err)?;
        body.draw(&Text::new(
            format!("CD = {:.2}", self.cd.cd),
            (cd_end + 8, 12),
            (SANS, 13)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(err)?;
        // Models: the better half labelled on the left, the rest on the right.
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|&a, &b| {
            self.cd.friedman.mean_ranks[a].total_cmp(&self.cd.friedman.mean_ranks[b])
        });
        let half = k.div_ceil(2);
        let cliques = cliques(&self.cd.friedman.mean_ranks, self.cd.cd);
        let bars_bottom = axis_y + 14 + 10 * cliques.len() as i32;
        for (slot, &i) in order.iter().enumerate() {
            let rank = self.cd.friedman.mean_ranks[i];
            let on_left = slot < half;
            let row = if on_left { slot } else { k - 1 - slot };
            let y = bars_bottom + 24 + 28 * row as i32;
            let c = self.colors[i];
            let end = if on_left {
                left as i32 - 10
            } else {
                right as i32 + 10
            };
            let line = c.stroke_width(2);
            body.draw(&PathElement::new(
                vec![(x(rank), axis_y), (x(rank), y), (end, y)],
                line,
            ))
            .map_err(err)?;
            let (anchor, tx) = if on_left {
                (HPos::Right, end - 6)
            } else {
                (HPos::Left, end + 6)
            };
            body.draw(&Text::new(
                format!("{} ({rank:.2})", self.cd.names[i]),
                (tx, y),
                (SANS, 14)
                    .into_font()
                    .color(&c)
                    .pos(Pos::new(anchor, VPos::Center)),
            ))
            .map_err(err)?;
        }
        for (n, (a, b)) in cliques.iter().enumerate() {
            let y = axis_y + 14 + 10 * n as i32;
            body.draw(&PathElement::new(
                vec![(x(*a) - 4, y), (x(*b) + 4, y)],
                BLACK.stroke_width(5),
            ))
            .map_err(err)?;
        }
        Ok(())
    }
}

pub(super) fn draw(ctx: &Context, out: &mut Drawn) -> Result<()> {
    let Context {
        sweep,
        out_dir,
        spec,
        runs,
        ..
    } = ctx;
    let metric = spec.metric;
    let treatments = treatments(runs, metric);
    if treatments.len() < 3 {
        // Fewer than three models: nothing to rank, and nothing worth a note.
        return Ok(());
    }
    let cd = match critical_difference(&treatments) {
        Ok(cd) => cd,
        Err(why) => {
            out.notes
                .push(format!("no critical-difference diagram: {why}"));
            return Ok(());
        }
    };
    let caption = format!(
        "Mean rank by test {} of each model at its best setting over the {} runs (dataset × fold × seed) all of them share (1 = best); bars join models whose mean ranks differ by less than the Nemenyi critical difference at α = {ALPHA} (Demšar 2006). Friedman χ² = {:.2}, p = {:.3}{}; grey: classical baselines.",
        metric.label(),
        cd.blocks,
        cd.friedman.statistic,
        cd.friedman.p_value,
        if cd.friedman.p_value < ALPHA {
            ""
        } else {
            " (no significant difference among them: the bars are a formality)"
        }
    );
    let baselines: std::collections::BTreeSet<String> = cd
        .names
        .iter()
        .zip(&cd.baseline)
        .filter(|(_, b)| **b)
        .map(|(n, _)| n.clone())
        .collect();
    let fig = CdFigure {
        title: format!("{sweep}: critical difference (test {})", metric.as_str()),
        colors: figure::model_colors(&cd.names, &baselines),
        cd,
    };
    out.add(
        figure::save(
            out_dir,
            &format!("critical_difference_{}", metric.as_str()),
            &fig,
        )?,
        caption,
    );
    Ok(())
}
