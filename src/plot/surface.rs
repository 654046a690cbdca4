//! Discriminator (or critic) surfaces over the data plane, with the generator
//! batch and the data modes, as numbered frames and an optional animated GIF.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    Axis, DEFAULT_SIZE, DrawResult, Figure, Marker, NON_FINITE_GREY, Sizes, Swatch, atomic_write,
    build_chart, canvas, draw_legend, draw_marker, ensure_fonts, finite2, legend_width, sane_range,
    titled, to_px, viridis, with_ext, write_figure,
};
use crate::error::Result;

/// One frame of a discriminator surface.
///
/// The grid splits `x_range` into `nx` equal cells and `y_range` into `ny`;
/// `values[i * nx + j]` is the value in cell row `i` (from the bottom),
/// column `j`, so sample the surface at cell centres. Missing or non-finite
/// values are drawn grey.
#[derive(Debug, Clone, Default)]
pub struct SurfaceFrame {
    /// Frame title, e.g. "step 1200".
    pub title: String,
    /// Horizontal extent of the grid.
    pub x_range: (f64, f64),
    /// Vertical extent of the grid.
    pub y_range: (f64, f64),
    /// Number of grid columns.
    pub nx: usize,
    /// Number of grid rows.
    pub ny: usize,
    /// Row-major `ny × nx` values.
    pub values: Vec<f64>,
    /// Colour scale limits: `(0, 1)` for a discriminator D, the critic's
    /// range for a WGAN. Keep it fixed across frames so colours compare.
    pub value_range: (f64, f64),
    /// Generator batch, drawn as dots.
    pub points: Vec<(f64, f64)>,
    /// Data mode means, drawn as crosses.
    pub modes: Vec<(f64, f64)>,
    /// What the colours show, as the colour bar's label (empty: "D(x)"; a VAE's
    /// frames show the density of its decoded samples instead).
    pub colorbar: String,
    /// The legend's name of the dots (empty: "generator samples").
    pub points_label: String,
}

/// The cell centres of an `n × n` grid over `[−extent, extent]²`, in the order of
/// [`SurfaceFrame::values`] (x fastest, rows from the bottom): cell (i, j) is centred at
/// (−e + (j + ½)h, −e + (i + ½)h) with h = 2e/n.
#[must_use]
pub fn cell_centres(extent: f64, n: usize) -> Vec<(f64, f64)> {
    let h = 2.0 * extent / n as f64;
    (0..n * n)
        .map(|r| {
            let (i, j) = (r / n, r % n);
            (
                -extent + (j as f64 + 0.5) * h,
                -extent + (i as f64 + 0.5) * h,
            )
        })
        .collect()
}

/// Writes one frame as `<stem>.png` and `<stem>.svg`.
///
/// # Errors
/// [`crate::error::Error::File`] if a file cannot be written.
pub fn surface(stem: &Path, frame: &SurfaceFrame) -> Result<()> {
    write_figure(stem, DEFAULT_SIZE, frame)
}

/// Writes each frame as `<dir_stem>_<index:05>.png` and `.svg`, and, if
/// `gif_path` is given, all frames as one animated GIF with `gif_delay_ms`
/// between frames. Every file is written atomically.
///
/// # Errors
/// [`crate::error::Error::File`] if a file cannot be written.
pub fn surface_frames(
    dir_stem: &Path,
    frames: &[SurfaceFrame],
    gif_path: Option<&Path>,
    gif_delay_ms: u32,
) -> Result<()> {
    for (k, f) in frames.iter().enumerate() {
        let mut stem = dir_stem.as_os_str().to_owned();
        stem.push(format!("_{k:05}"));
        write_figure(Path::new(&stem), DEFAULT_SIZE, f)?;
    }
    if let Some(gif) = gif_path {
        ensure_fonts()?;
        let gif = if gif.extension().is_some() {
            gif.to_path_buf()
        } else {
            with_ext(gif, "gif")
        };
        atomic_write(&gif, |tmp| {
            let root = BitMapBackend::gif(tmp, DEFAULT_SIZE, gif_delay_ms)
                .map_err(|e| super::DrawError(e.to_string()))?
                .into_drawing_area();
            if frames.is_empty() {
                root.fill(&WHITE)?;
                super::draw_no_data(&root, "no frames", super::LABEL_PX)?;
                root.present()?;
            }
            for f in frames {
                root.fill(&WHITE)?;
                f.draw(&root)?;
                root.present()?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

const POINT_COLOR: RGBColor = RGBColor(230, 40, 40);

/// Above this many points a frame draws them as small plain dots.
const MANY_POINTS: usize = 1000;

impl Figure for SurfaceFrame {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let sz = Sizes::full();
        let area = titled(area, &self.title, sz.title)?;
        let mut entries = vec![
            (
                Swatch::Marker(Marker::Circle, POINT_COLOR),
                if self.points_label.is_empty() {
                    "generator samples".to_string()
                } else {
                    self.points_label.clone()
                },
            ),
            (
                Swatch::Marker(Marker::OutlinedCross, WHITE),
                "data modes".to_string(),
            ),
        ];
        // A grid whose size disagrees with `values` is not guessed at (a
        // corrupt nx could mean billions of cells): it is reported instead.
        let grid_ok = self.nx > 0 && self.nx.checked_mul(self.ny) == Some(self.values.len());
        let any_grey = grid_ok && self.values.iter().any(|v| !v.is_finite());
        if any_grey {
            entries.push((Swatch::Box(NON_FINITE_GREY), "non-finite".to_string()));
        }
        let panel_w = (legend_width(&area, &entries, sz.legend) + 10).max(140);
        let w = area.dim_in_pixel().0;
        let (chart_area, side) = area.split_horizontally(w.saturating_sub(panel_w) as i32);

        let xa = Axis::linear(self.x_range);
        let ya = Axis::linear(self.y_range);
        let range = sane_range(self.value_range, (0.0, 1.0));
        let chart = build_chart(&chart_area, &xa, &ya, "x₁", "x₂", &sz, false)?;
        let pa = chart.plotting_area();
        let (nx, ny) = (self.nx, self.ny);
        if grid_ok {
            let dx = (xa.hi - xa.lo) / nx as f64;
            let dy = (ya.hi - ya.lo) / ny as f64;
            for i in 0..ny {
                for j in 0..nx {
                    let c = match self.values.get(i * nx + j).filter(|v| v.is_finite()) {
                        Some(v) => viridis((v - range.0) / (range.1 - range.0)),
                        None => NON_FINITE_GREY,
                    };
                    let x0 = xa.lo + j as f64 * dx;
                    let y0 = ya.lo + i as f64 * dy;
                    pa.draw(&Rectangle::new([(x0, y0), (x0 + dx, y0 + dy)], c.filled()))?;
                }
            }
        }
        let cv = canvas(&chart);
        let inside = |p: &(f64, f64)| {
            finite2(p) && p.0 >= xa.lo && p.0 <= xa.hi && p.1 >= ya.lo && p.1 <= ya.hi
        };
        // A training batch (tens to hundreds of samples) is drawn as outlined dots; thousands
        // (final samples) as small plain dots, so that the colours beneath stay visible.
        let many = self.points.len() > MANY_POINTS;
        for p in self.points.iter().filter(|p| inside(p)) {
            let c = to_px(&chart, *p);
            if many {
                cv.draw(&Circle::new(c, 1, POINT_COLOR.filled()))?;
            } else {
                draw_marker(&cv, c, Marker::Circle, POINT_COLOR, 3)?;
            }
        }
        for m in self.modes.iter().filter(|p| inside(p)) {
            draw_marker(&cv, to_px(&chart, *m), Marker::OutlinedCross, WHITE, 8)?;
        }
        let mut notes = Vec::new();
        if !grid_ok {
            notes.push(format!(
                "surface not drawn: {} values for a {nx}×{ny} grid",
                self.values.len()
            ));
        }
        let outside = self.points.iter().filter(|p| !inside(p)).count();
        if outside > 0 {
            notes.push(format!(
                "{outside} of {} samples off-screen",
                self.points.len()
            ));
        }
        for (k, note) in notes.iter().enumerate() {
            super::draw_note(&cv, (6, 6 + 30 * k as i32), note, sz.legend)?;
        }

        let (_, plot_h) = sz.plot_dims(chart_area.dim_in_pixel());
        let bar_h = (f64::from(plot_h) * 0.6) as u32;
        let label = if self.colorbar.is_empty() {
            "D(x)"
        } else {
            &self.colorbar
        };
        super::heatmap::draw_colorbar(&side, label, range, sz.margin + 34, bar_h)?;
        draw_legend(
            &side,
            (4, (sz.margin + 34 + bar_h + 30) as i32),
            &entries,
            sz.legend,
        )
    }
}
