//! The line figure shared by the figure kinds that draw the headline metric against a
//! number (a swept setting, a compression ratio): panels of lines with error bars.

use super::figure::{color, err, grid, num, padded, Draw, SANS};
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

/// At most this many panels per figure; a note says when more were left out.
pub(super) const MAX_PANELS: usize = 12;

/// `(x, mean, std)`; std is 0 for a single run.
pub(super) type Point = (f64, f64, f64);
/// Named lines of points.
pub(super) type Lines = Vec<(String, Vec<Point>)>;

/// One panel of a figure: a title and what it draws.
pub(super) struct Panel<T> {
    pub title: String,
    pub content: T,
}

/// Metric against a numeric setting, one line per value of another, one panel per
/// combination of the settings that vary besides those two.
pub(super) struct LinesFigure {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub panels: Vec<Panel<Lines>>,
    /// Where the legend goes: where the lines leave room.
    pub legend: SeriesLabelPosition,
}

/// The value after `=` in a line label.
pub(super) fn tail(label: &str) -> &str {
    label.rsplit('=').next().unwrap_or(label)
}

impl Draw for LinesFigure {
    fn size(&self) -> (u32, u32) {
        let (rows, cols) = grid(self.panels.len().min(MAX_PANELS));
        if self.panels.len() == 1 {
            (900, 560)
        } else {
            (560 * cols as u32, 60 + 420 * rows as u32)
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(err)?;
        let body = root.titled(&self.title, (SANS, 20)).map_err(err)?;
        let shown = &self.panels[..self.panels.len().min(MAX_PANELS)];
        let all = shown
            .iter()
            .flat_map(|p| p.content.iter().flat_map(|(_, pts)| pts.iter()));
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for &(x, m, s) in all {
            (x0, x1) = (x0.min(x), x1.max(x));
            (y0, y1) = (y0.min(m - s), y1.max(m + s));
        }
        let xr = padded(x0, x1, 0.06, 0.5);
        let yr = padded(y0, y1, 0.1, 0.01);
        let (rows, cols) = grid(shown.len());
        for (panel, area) in shown.iter().zip(body.split_evenly((rows, cols))) {
            let mut chart = ChartBuilder::on(&area)
                .caption(&panel.title, (SANS, 16))
                .margin(14)
                .x_label_area_size(44)
                .y_label_area_size(64)
                .build_cartesian_2d(xr.clone(), yr.clone())
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_desc(&self.x_label)
                .y_desc(&self.y_label)
                .x_label_formatter(&|v| num(*v))
                .y_label_formatter(&|v| format!("{v:.3}"))
                .label_style((SANS, 14))
                .axis_desc_style((SANS, 15))
                .draw()
                .map_err(err)?;
            for (i, (name, pts)) in panel.content.iter().enumerate() {
                let c = color(i);
                chart
                    .draw_series(LineSeries::new(
                        pts.iter().map(|&(x, m, _)| (x, m)),
                        c.stroke_width(2),
                    ))
                    .map_err(err)?
                    .label(name.as_str())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 22, y)], c.stroke_width(2))
                    });
                chart
                    .draw_series(pts.iter().map(|&(x, m, s)| {
                        ErrorBar::new_vertical(x, m - s, m, m + s, c.stroke_width(2), 10)
                    }))
                    .map_err(err)?;
                chart
                    .draw_series(
                        pts.iter()
                            .map(|&(x, m, _)| Circle::new((x, m), 4, c.filled())),
                    )
                    .map_err(err)?;
            }
            chart
                .configure_series_labels()
                .position(self.legend.clone())
                .label_font((SANS, 14))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(err)?;
        }
        Ok(())
    }
}
