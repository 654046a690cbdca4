//! Stability maps: a value (e.g. the spectral radius ρ) over a grid of two
//! parameters (e.g. the two learning rates), continuous or categorical, with
//! an optional level-set boundary (e.g. ρ = 1).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    Axis, DEFAULT_SIZE, DrawResult, Figure, NON_FINITE_GREY, Sizes, Swatch, build_chart,
    draw_legend, draw_no_data, finite_extent, fmt_num, font, legend_width, nice_step, nice_ticks,
    sane_range, titled, viridis, write_figure,
};
use crate::error::Result;

/// Data for [`heatmap`].
///
/// Cell `(i, j)` is centred at `(x[j], y[i])` and holds `values[i * x.len() + j]`
/// (row-major, rows are `y`). Cell borders lie halfway between neighbouring
/// centres (halfway in log10 on a log axis). Missing values (a short
/// `values`) are treated like NaN.
#[derive(Debug, Clone, Default)]
pub struct Heatmap {
    /// Figure title.
    pub title: String,
    /// Horizontal axis label, e.g. "η_G (generator learning rate)".
    pub x_label: String,
    /// Vertical axis label.
    pub y_label: String,
    /// Column centres, increasing. Must be positive when `log_x`.
    pub x: Vec<f64>,
    /// Row centres, increasing. Must be positive when `log_y`.
    pub y: Vec<f64>,
    /// Row-major values, `y.len() * x.len()` of them. In categorical mode,
    /// the category index of each cell.
    pub values: Vec<f64>,
    /// Logarithmic horizontal axis (ticks at powers of ten).
    pub log_x: bool,
    /// Logarithmic vertical axis.
    pub log_y: bool,
    /// Colour-bar label, e.g. "ρ"; also names the contour in the legend.
    pub colorbar_label: String,
    /// Colour scale limits; `None` uses the finite min and max.
    pub value_range: Option<(f64, f64)>,
    /// Draw the boundary between cells below and at-or-above this level as a
    /// thick black line (see [`level_set_edges`]).
    pub contour: Option<f64>,
    /// Categorical mode: `values` are indices into this list of
    /// (name, colour); a legend replaces the colour bar.
    pub categories: Option<Vec<(String, RGBColor)>>,
}

/// Writes a heat map to `<stem>.png` and `<stem>.svg` (800×640).
///
/// Non-finite values (and out-of-range category indices) are drawn in
/// [`super::NON_FINITE_GREY`] and listed in the legend.
///
/// # Errors
/// [`crate::error::Error::File`] if a file cannot be written.
pub fn heatmap(stem: &Path, h: &Heatmap) -> Result<()> {
    write_figure(stem, DEFAULT_SIZE, h)
}

/// Cell edges on which a level set crosses, found between neighbouring cells.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LevelEdges {
    /// `(i, j)`: the edge between cells `(i, j)` and `(i, j + 1)` (same row,
    /// a vertical line segment in the figure).
    pub between_columns: Vec<(usize, usize)>,
    /// `(i, j)`: the edge between cells `(i, j)` and `(i + 1, j)` (same
    /// column, a horizontal line segment).
    pub between_rows: Vec<(usize, usize)>,
}

/// The cell edges separating values below `level` from values at or above it,
/// on an `ny × nx` row-major grid.
///
/// Drawing these edges outlines the region `{value ≥ level}` exactly as the
/// cells show it, without interpolating (a marching-squares contour would
/// suggest a precision the grid does not have). `+∞` counts as above and `−∞`
/// as below, so a diverged (+∞) region is outlined; NaN and missing values
/// belong to neither side and create no edge.
#[must_use]
pub fn level_set_edges(nx: usize, ny: usize, values: &[f64], level: f64) -> LevelEdges {
    let side = |i: usize, j: usize| -> Option<bool> {
        let v = *values.get(i * nx + j)?;
        (!v.is_nan()).then_some(v >= level)
    };
    let mut e = LevelEdges::default();
    if level.is_nan() {
        return e;
    }
    for i in 0..ny {
        for j in 0..nx {
            let Some(here) = side(i, j) else { continue };
            if j + 1 < nx && side(i, j + 1).is_some_and(|s| s != here) {
                e.between_columns.push((i, j));
            }
            if i + 1 < ny && side(i + 1, j).is_some_and(|s| s != here) {
                e.between_rows.push((i, j));
            }
        }
    }
    e
}

/// Per-cell intervals in plot coordinates (log10 on a log axis); `None` for
/// a centre that cannot be shown (non-finite, or ≤ 0 on a log axis).
fn cell_intervals(centres: &[f64], log: bool) -> Vec<Option<(f64, f64)>> {
    let t: Vec<Option<f64>> = centres
        .iter()
        .map(|&c| {
            if !c.is_finite() || (log && c <= 0.0) {
                None
            } else if log {
                Some(c.log10())
            } else {
                Some(c)
            }
        })
        .collect();
    let valid: Vec<(usize, f64)> = t
        .iter()
        .enumerate()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    let mut out = vec![None; centres.len()];
    match valid.len() {
        0 => {}
        1 => {
            let (k, c) = valid[0];
            out[k] = Some((c - 0.5, c + 0.5));
        }
        n => {
            for m in 0..n {
                let (k, c) = valid[m];
                let lo = if m == 0 {
                    c - 0.5 * (valid[1].1 - c)
                } else {
                    0.5 * (valid[m - 1].1 + c)
                };
                let hi = if m + 1 == n {
                    c + 0.5 * (c - valid[m - 1].1)
                } else {
                    0.5 * (c + valid[m + 1].1)
                };
                out[k] = Some((lo.min(hi), lo.max(hi)));
            }
        }
    }
    out
}

/// Overall plot-coordinate interval covered by the cells.
fn cover(cells: &[Option<(f64, f64)>]) -> Option<(f64, f64)> {
    cells
        .iter()
        .flatten()
        .fold(None, |acc, &(lo, hi)| match acc {
            None => Some((lo, hi)),
            Some((a, b)) => Some((a.min(lo), b.max(hi))),
        })
}

impl Heatmap {
    /// Colour of a value, and whether it counts as "non-finite / unknown".
    fn color(&self, v: Option<f64>, range: (f64, f64)) -> (RGBColor, bool) {
        let Some(v) = v.filter(|v| v.is_finite()) else {
            return (NON_FINITE_GREY, true);
        };
        match &self.categories {
            Some(cats) => {
                let k = v.round();
                if k >= 0.0 && (k as usize) < cats.len() {
                    (cats[k as usize].1, false)
                } else {
                    (NON_FINITE_GREY, true)
                }
            }
            None => (viridis((v - range.0) / (range.1 - range.0)), false),
        }
    }
}

impl Figure for Heatmap {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let sz = Sizes::full();
        let area = titled(area, &self.title, sz.title)?;
        let (nx, ny) = (self.x.len(), self.y.len());
        let value = |i: usize, j: usize| self.values.get(i * nx + j).copied();
        let range = sane_range(
            self.value_range
                .or_else(|| finite_extent(self.values.iter().copied()))
                .unwrap_or((0.0, 1.0)),
            (0.0, 1.0),
        );
        let any_grey = (0..ny).any(|i| (0..nx).any(|j| self.color(value(i, j), range).1));

        // Legend entries beside the colour bar (continuous) or in its place.
        let mut entries: Vec<(Swatch, String)> = Vec::new();
        if let Some(cats) = &self.categories {
            for (name, c) in cats {
                entries.push((Swatch::Box(*c), name.clone()));
            }
        }
        if any_grey {
            let what = if self.categories.is_some() {
                "unknown / non-finite"
            } else {
                "non-finite"
            };
            entries.push((Swatch::Box(NON_FINITE_GREY), what.to_string()));
        }
        if let Some(level) = self.contour {
            let name = if self.colorbar_label.is_empty() {
                "level".to_string()
            } else {
                self.colorbar_label.clone()
            };
            entries.push((
                Swatch::Line(BLACK, 3),
                format!("{name} = {}", fmt_num(level, 4)),
            ));
        }
        let lw = legend_width(&area, &entries, sz.legend) + 10;
        let panel_w = if self.categories.is_some() {
            lw
        } else {
            lw.max(140)
        };
        let w = area.dim_in_pixel().0;
        let (chart_area, side) = area.split_horizontally(w.saturating_sub(panel_w) as i32);

        let xc = cell_intervals(&self.x, self.log_x);
        let yc = cell_intervals(&self.y, self.log_y);
        let xr = sane_range(cover(&xc).unwrap_or((0.0, 1.0)), (0.0, 1.0));
        let yr = sane_range(cover(&yc).unwrap_or((0.0, 1.0)), (0.0, 1.0));
        let xa = Axis {
            lo: xr.0,
            hi: xr.1,
            log: self.log_x,
        };
        let ya = Axis {
            lo: yr.0,
            hi: yr.1,
            log: self.log_y,
        };
        let chart = build_chart(
            &chart_area,
            &xa,
            &ya,
            &self.x_label,
            &self.y_label,
            &sz,
            false,
        )?;
        let pa = chart.plotting_area();
        // Runs of equal colour along a row become one rectangle: flat regions
        // are common in stability maps and this keeps SVGs of 256×256 grids
        // small.
        for (i, yi) in yc.iter().enumerate() {
            let Some((y0, y1)) = *yi else { continue };
            let mut run: Option<(f64, f64, RGBColor)> = None;
            for (j, xj) in xc.iter().enumerate() {
                let Some((x0, x1)) = *xj else {
                    if let Some((a, b, c)) = run.take() {
                        pa.draw(&Rectangle::new([(a, y0), (b, y1)], c.filled()))?;
                    }
                    continue;
                };
                let (c, _) = self.color(value(i, j), range);
                run = match run {
                    Some((a, _, rc)) if rc == c => Some((a, x1, rc)),
                    Some((a, b, rc)) => {
                        pa.draw(&Rectangle::new([(a, y0), (b, y1)], rc.filled()))?;
                        Some((x0, x1, c))
                    }
                    None => Some((x0, x1, c)),
                };
            }
            if let Some((a, b, c)) = run {
                pa.draw(&Rectangle::new([(a, y0), (b, y1)], c.filled()))?;
            }
        }
        if let Some(level) = self.contour {
            let e = level_set_edges(nx, ny, &self.values, level);
            let style = BLACK.stroke_width(3);
            for &(i, j) in &e.between_columns {
                if let (Some((y0, y1)), Some((_, x))) = (yc[i], xc[j]) {
                    pa.draw(&PathElement::new(vec![(x, y0), (x, y1)], style))?;
                }
            }
            for &(i, j) in &e.between_rows {
                if let (Some((_, y)), Some((x0, x1))) = (yc[i], xc[j]) {
                    pa.draw(&PathElement::new(vec![(x0, y), (x1, y)], style))?;
                }
            }
        }
        if nx == 0 || ny == 0 {
            draw_no_data(&pa.strip_coord_spec(), "no data", sz.label)?;
        } else if self.values.len() != nx * ny {
            let note = format!(
                "{} values for a {ny}×{nx} grid; missing cells grey",
                self.values.len()
            );
            super::draw_note(&pa.strip_coord_spec(), (6, 6), &note, sz.legend)?;
        }

        let (_, plot_h) = sz.plot_dims(chart_area.dim_in_pixel());
        let legend_top = if self.categories.is_some() {
            sz.margin as i32
        } else {
            let bar_h = (f64::from(plot_h) * 0.6) as u32;
            draw_colorbar(&side, &self.colorbar_label, range, sz.margin + 34, bar_h)?;
            (sz.margin + 34 + bar_h + 30) as i32
        };
        draw_legend(&side, (4, legend_top), &entries, sz.legend)
    }
}

/// Vertical viridis colour bar with ticks, its label above it.
///
/// Drawn in pixels rather than as a plotters chart: the chart's right-hand
/// labels sat flush against the bar with no tick marks.
pub(crate) fn draw_colorbar<DB: DrawingBackend>(
    side: &DrawingArea<DB, Shift>,
    label: &str,
    range: (f64, f64),
    top: u32,
    height: u32,
) -> DrawResult {
    let (x0, x1) = (14_i32, 44_i32);
    let top = top as i32;
    let h = height.max(2) as i32;
    // The label must fit the side panel: a smaller font first, then two lines.
    let room = side.dim_in_pixel().0.saturating_sub(x0 as u32 + 4);
    let width = |t: &str, px: f64| side.estimate_text_size(t, &font(px)).map_or(0, |s| s.0);
    let mut px = super::LABEL_PX;
    while px > super::TICK_PX * 0.75 && width(label, px) > room {
        px -= 1.0;
    }
    let lines: Vec<&str> = match label
        .char_indices()
        .filter(|(_, c)| *c == ' ')
        .min_by_key(|(i, _)| i.abs_diff(label.len() / 2))
    {
        Some((i, _)) if width(label, px) > room => vec![&label[..i], &label[i + 1..]],
        _ => vec![label],
    };
    for (k, line) in lines.iter().rev().enumerate() {
        side.draw(&Text::new(
            (*line).to_string(),
            (x0, top - 10 - k as i32 * (px * 1.2) as i32),
            font(px).pos(Pos::new(HPos::Left, VPos::Bottom)),
        ))?;
    }
    // One pixel row per colour step, so the gradient has no seams.
    for k in 0..h {
        let t = (f64::from(h - 1 - k) + 0.5) / f64::from(h);
        side.draw(&Rectangle::new(
            [(x0, top + k), (x1, top + k + 1)],
            viridis(t).filled(),
        ))?;
    }
    side.draw(&Rectangle::new(
        [(x0, top), (x1, top + h)],
        BLACK.stroke_width(1),
    ))?;
    let step = nice_step(range.1 - range.0, 6);
    for v in nice_ticks(range.0, range.1, 6) {
        let y = top + h - ((v - range.0) / (range.1 - range.0) * f64::from(h)).round() as i32;
        side.draw(&PathElement::new(
            vec![(x1, y), (x1 + 6, y)],
            BLACK.stroke_width(1),
        ))?;
        side.draw(&Text::new(
            super::minus_sign(super::fmt_tick(v, step)),
            (x1 + 10, y),
            font(super::TICK_PX).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(())
}
