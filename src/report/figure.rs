//! What every figure shares: the embedded font, a colour-blind-safe palette, one drawing
//! function per figure written once for both PNG and SVG, and number formatting.

use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Once;

static FONT: Once = Once::new();

/// The font family figures use: the embedded DejaVu Sans (plotters is built without
/// system font support), registered once.
pub(super) const SANS: &str = "sans-serif";

fn register_font() {
    FONT.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
        if plotters::style::register_font(SANS, FontStyle::Normal, bytes).is_err() {
            eprintln!("warning: the embedded font could not be registered; figures will lack text");
        }
    });
}

/// Okabe–Ito colours (distinguishable with the common colour-vision deficiencies), then
/// plotters' 99-colour palette for long legends.
pub(super) fn color(i: usize) -> RGBAColor {
    const OKABE_ITO: [(u8, u8, u8); 8] = [
        (0, 114, 178),
        (213, 94, 0),
        (0, 158, 115),
        (204, 121, 167),
        (230, 159, 0),
        (86, 180, 233),
        (0, 0, 0),
        (240, 228, 66),
    ];
    match OKABE_ITO.get(i) {
        Some(&(r, g, b)) => RGBColor(r, g, b).to_rgba(),
        None => Palette99::pick(i).to_rgba(),
    }
}

/// One colour per model: trained detectors in the palette's order, classical baselines
/// in greys, so that baselines read as reference lines, not competitors.
pub(super) fn model_colors(
    models: &[String],
    baselines: &std::collections::BTreeSet<String>,
) -> Vec<RGBAColor> {
    let (mut trained, mut grey) = (0, 0);
    models
        .iter()
        .map(|m| {
            if baselines.contains(m) {
                let level = [96u8, 140, 176, 120, 160, 200][grey % 6];
                grey += 1;
                RGBColor(level, level, level).to_rgba()
            } else {
                trained += 1;
                color(trained - 1)
            }
        })
        .collect()
}

/// A row of legend entries (a filled square and the name) across the top of `area`,
/// outside every plot, so that a legend never covers data.
pub(super) fn legend_row<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, RGBAColor)],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let mut x = 12;
    for (name, c) in entries {
        area.draw(&Rectangle::new([(x, 8), (x + 14, 22)], c.filled()))
            .map_err(err)?;
        area.draw(&Text::new(name.clone(), (x + 20, 8), (SANS, 14)))
            .map_err(err)?;
        x += 34 + 8 * name.chars().count() as i32;
    }
    Ok(())
}

/// A figure that can draw itself on any plotters backend.
pub(super) trait Draw {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static;
}

/// Writes `<stem>.png` and `<stem>.svg` into `out_dir`.
pub(super) fn save(out_dir: &Path, stem: &str, figure: &impl Draw) -> Result<Vec<PathBuf>> {
    register_font();
    let png = out_dir.join(format!("{stem}.png"));
    let svg = out_dir.join(format!("{stem}.svg"));
    let size = figure.size();
    let drawn =
        |path: &Path, r: Result<()>| r.map_err(|e| anyhow!("drawing {}: {e:#}", path.display()));
    {
        let root = BitMapBackend::new(&png, size).into_drawing_area();
        drawn(
            &png,
            figure.draw(&root).and_then(|_| root.present().map_err(err)),
        )?;
    }
    {
        let root = SVGBackend::new(&svg, size).into_drawing_area();
        drawn(
            &svg,
            figure.draw(&root).and_then(|_| root.present().map_err(err)),
        )?;
    }
    Ok(vec![png, svg])
}

/// plotters' error, as anyhow's.
pub(super) fn err<E: std::error::Error + Send + Sync + 'static>(
    e: DrawingAreaErrorKind<E>,
) -> anyhow::Error {
    anyhow!("{e}")
}

/// `model.w_adv` → `w_adv`: axis labels and legends use the last part of a setting.
pub(super) fn short(setting: &str) -> &str {
    setting.rsplit('.').next().unwrap_or(setting)
}

/// A compact number for cells and legends: 4 significant digits, no trailing zeros.
pub(super) fn num(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let digits = if v == 0.0 {
        0
    } else {
        (3 - v.abs().log10().floor() as i32).clamp(0, 6) as usize
    };
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A padded range around values, never empty.
pub(super) fn padded(lo: f64, hi: f64, fraction: f64, min_pad: f64) -> std::ops::Range<f64> {
    let pad = ((hi - lo) * fraction).max(min_pad);
    (lo - pad)..(hi + pad)
}

/// The panel grid for `n` panels: up to 3 columns.
pub(super) fn grid(n: usize) -> (usize, usize) {
    let cols = n.clamp(1, 3);
    (n.div_ceil(cols).max(1), cols)
}
