//! Line plots (training curves, distances to equilibrium) and histograms
//! against a target density.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    Axis, DEFAULT_SIZE, DrawResult, Figure, PALETTE, Sizes, Swatch, build_chart, canvas,
    clip_polyline, draw_data_path, draw_legend, draw_no_data, draw_note, finite_extent, fmt_num,
    pad, palette, split_legend, titled, write_figure,
};
use crate::error::Result;

/// One labelled curve.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// `(x, y)` points in drawing order. Non-finite points break the line.
    pub points: Vec<(f64, f64)>,
}

/// Data for [`line_plot`].
#[derive(Debug, Clone, Default)]
pub struct LinePlot {
    /// Figure title.
    pub title: String,
    /// Horizontal axis label, with units, e.g. "step".
    pub x_label: String,
    /// Vertical axis label, with units.
    pub y_label: String,
    /// Logarithmic vertical axis; points with y ≤ 0 are skipped.
    pub log_y: bool,
    /// Logarithmic horizontal axis; points with x ≤ 0 are skipped.
    pub log_x: bool,
    /// Curves; series `k` is drawn in [`PALETTE`]`[k % 10]`.
    pub series: Vec<Series>,
    /// Horizontal reference lines `(y, label)`, dashed, listed in the legend.
    pub hlines: Vec<(f64, String)>,
}

/// Writes a line plot to `<stem>.png` and `<stem>.svg` (800×640).
///
/// # Errors
/// [`crate::error::Error::File`] if a file cannot be written.
pub fn line_plot(stem: &Path, l: &LinePlot) -> Result<()> {
    write_figure(stem, DEFAULT_SIZE, l)
}

/// Data for [`histogram`].
#[derive(Debug, Clone, Default)]
pub struct Histogram {
    /// Figure title.
    pub title: String,
    /// Horizontal axis label.
    pub x_label: String,
    /// Samples (e.g. generator outputs). Non-finite ones are ignored and
    /// counted in a note, as are samples outside `range`.
    pub samples: Vec<f64>,
    /// Number of bins (clamped to 1 ..= 10 000).
    pub bins: usize,
    /// Interval covered by the bins.
    pub range: (f64, f64),
    /// Target density curve `(x, p(x))`, drawn over the histogram.
    pub density: Vec<(f64, f64)>,
}

/// Upper limit on histogram bins.
const MAX_BINS: usize = 10_000;

/// Writes a density-normalised histogram with the target density curve to
/// `<stem>.png` and `<stem>.svg` (800×640).
///
/// Bar heights are `count / (n · bin width)` with `n` the number of finite
/// samples, so the bars integrate to the fraction of samples inside `range`
/// and are directly comparable with the target density.
///
/// # Errors
/// [`crate::error::Error::File`] if a file cannot be written.
pub fn histogram(stem: &Path, h: &Histogram) -> Result<()> {
    write_figure(stem, DEFAULT_SIZE, h)
}

impl Figure for LinePlot {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let sz = Sizes::full();
        let area = titled(area, &self.title, sz.title)?;
        let mut entries: Vec<(Swatch, String)> = self
            .series
            .iter()
            .enumerate()
            .map(|(k, s)| {
                (
                    Swatch::Line(palette(k), 3),
                    super::label_or(&s.label, "series", k),
                )
            })
            .collect();
        let ref_color = RGBColor(60, 60, 60);
        for (y, label) in &self.hlines {
            // Say so rather than silently list a line that is not drawn.
            let shown = y.is_finite() && (!self.log_y || *y > 0.0);
            let text = if shown {
                label.clone()
            } else {
                format!("{label} (not shown)")
            };
            entries.push((Swatch::Dashed(ref_color, 2), text));
        }
        let (chart_area, legend_area) = split_legend(&area, &entries, sz.legend, sz.margin);

        // Transform to plot coordinates first; points a log axis cannot
        // show become NaN and so break the line like any non-finite point.
        let probe_x = Axis::new((1.0, 10.0), self.log_x);
        let probe_y = Axis::new((1.0, 10.0), self.log_y);
        let tf = |p: &(f64, f64)| match (probe_x.fwd(p.0), probe_y.fwd(p.1)) {
            (Some(x), Some(y)) => (x, y),
            _ => (f64::NAN, f64::NAN),
        };
        let curves: Vec<Vec<(f64, f64)>> = self
            .series
            .iter()
            .map(|s| s.points.iter().map(tf).collect())
            .collect();
        let refs: Vec<f64> = self
            .hlines
            .iter()
            .filter_map(|(y, _)| probe_y.fwd(*y))
            .collect();
        let skipped: usize = curves
            .iter()
            .map(|c| c.iter().filter(|p| !p.0.is_finite()).count())
            .sum();
        let xr = finite_extent(curves.iter().flatten().map(|p| p.0));
        let yr = finite_extent(
            curves
                .iter()
                .flatten()
                .map(|p| p.1)
                .chain(refs.iter().copied()),
        );
        let has_data = xr.is_some();
        let (x0, x1) = xr.unwrap_or((0.0, 1.0));
        let (y0, y1) = yr.unwrap_or((0.0, 1.0));
        let xa = Axis::linear((x0, x1));
        let ya = Axis::linear(pad((y0, y1), 0.05));
        let (xa, ya) = (
            Axis {
                log: self.log_x,
                ..xa
            },
            Axis {
                log: self.log_y,
                ..ya
            },
        );
        let mut chart = build_chart(
            &chart_area,
            &xa,
            &ya,
            &self.x_label,
            &self.y_label,
            &sz,
            true,
        )?;
        for &y in &refs {
            chart.draw_series(DashedLineSeries::new(
                vec![(xa.lo, y), (xa.hi, y)],
                8,
                6,
                ref_color.stroke_width(2),
            ))?;
        }
        let pa = chart.plotting_area();
        for (k, c) in curves.iter().enumerate() {
            let style = palette(k).stroke_width(2);
            for piece in clip_polyline(c, xa.range(), ya.range()) {
                if piece.len() == 1 {
                    pa.draw(&Circle::new(piece[0], 3, palette(k).filled()))?;
                } else {
                    draw_data_path(&chart, &piece, style)?;
                }
            }
        }
        let cv = canvas(&chart);
        if !has_data {
            draw_no_data(&cv, "no data", sz.label)?;
        }
        if skipped > 0 {
            let why = if self.log_x || self.log_y {
                "non-finite or non-positive"
            } else {
                "non-finite"
            };
            draw_note(
                &cv,
                (6, 6),
                &format!("{skipped} {why} point(s) skipped"),
                sz.legend,
            )?;
        }
        if let Some(la) = legend_area {
            draw_legend(&la.area, la.at, &entries, sz.legend)?;
        }
        Ok(())
    }
}

impl Figure for Histogram {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let sz = Sizes::full();
        let area = titled(area, &self.title, sz.title)?;
        let bar_fill = PALETTE[0].mix(0.45);
        let bar_edge = PALETTE[0];
        let curve = PALETTE[1];
        let entries = vec![
            (
                Swatch::Box(super::lighten(PALETTE[0], 0.55)),
                "samples".to_string(),
            ),
            (Swatch::Line(curve, 3), "target density".to_string()),
        ];
        let (chart_area, legend_area) = split_legend(&area, &entries, sz.legend, sz.margin);

        let range = super::sane_range(self.range, (0.0, 1.0));
        // Capped so a corrupt bin count cannot exhaust memory; far more bins
        // than pixels would be unreadable anyway.
        let bins = self.bins.clamp(1, MAX_BINS);
        let width = (range.1 - range.0) / bins as f64;
        let finite: Vec<f64> = self
            .samples
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        let mut counts = vec![0usize; bins];
        let mut outside = 0usize;
        for &v in &finite {
            if v < range.0 || v > range.1 {
                outside += 1;
                continue;
            }
            let k = (((v - range.0) / width) as usize).min(bins - 1);
            counts[k] += 1;
        }
        let n = finite.len().max(1) as f64;
        let heights: Vec<f64> = counts.iter().map(|&c| c as f64 / (n * width)).collect();
        let dens: Vec<(f64, f64)> = self
            .density
            .iter()
            .copied()
            .filter(super::finite2)
            .collect();
        let top = heights
            .iter()
            .copied()
            .chain(
                dens.iter()
                    .filter(|p| p.0 >= range.0 && p.0 <= range.1)
                    .map(|p| p.1),
            )
            .fold(0.0_f64, f64::max);
        let top = if top > 0.0 { top * 1.08 } else { 1.0 };
        let xa = Axis::linear(range);
        let ya = Axis::linear((0.0, top));
        let chart = build_chart(&chart_area, &xa, &ya, &self.x_label, "density", &sz, true)?;
        let pa = chart.plotting_area();
        for (k, &h) in heights.iter().enumerate() {
            if h <= 0.0 {
                continue;
            }
            let a = range.0 + k as f64 * width;
            let b = a + width;
            pa.draw(&Rectangle::new([(a, 0.0), (b, h)], bar_fill.filled()))?;
            pa.draw(&Rectangle::new(
                [(a, 0.0), (b, h)],
                bar_edge.stroke_width(1),
            ))?;
        }
        for piece in clip_polyline(&dens, xa.range(), ya.range()) {
            if piece.len() >= 2 {
                draw_data_path(&chart, &piece, curve.stroke_width(3))?;
            }
        }
        let cv = canvas(&chart);
        if finite.is_empty() && dens.is_empty() {
            draw_no_data(&cv, "no samples", sz.label)?;
        }
        let dropped = self.samples.len() - finite.len();
        let mut notes = Vec::new();
        if outside > 0 {
            notes.push(format!(
                "{outside} of {} samples outside [{}, {}]",
                finite.len(),
                fmt_num(range.0, 3),
                fmt_num(range.1, 3)
            ));
        }
        if dropped > 0 {
            notes.push(format!("{dropped} non-finite samples ignored"));
        }
        if !notes.is_empty() {
            draw_note(&cv, (6, 6), &notes.join("; "), sz.legend)?;
        }
        if let Some(la) = legend_area {
            draw_legend(&la.area, la.at, &entries, sz.legend)?;
        }
        Ok(())
    }
}
