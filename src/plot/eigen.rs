//! Eigenvalues in the complex plane, with the stability boundary of a flow
//! (the imaginary axis) or of a map (the unit circle).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    Axis, DEFAULT_SIZE, DrawResult, Figure, Marker, Sizes, Swatch, build_chart, canvas,
    draw_legend, draw_marker, draw_no_data, draw_note, finite2, fmt_num, minus_sign, palette,
    split_legend, titled, to_px, write_figure,
};
use crate::error::Result;

/// Which stability criterion the eigenvalues are judged by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EigenKind {
    /// Eigenvalues of the Jacobian J = ∂v of a flow: stable iff max Re λ < 0.
    /// The imaginary axis Re λ = 0 is drawn as the boundary.
    #[default]
    Flow,
    /// Eigenvalues of the Jacobian ∂F of an update map: stable iff max |λ| < 1.
    /// The unit circle is drawn as the boundary.
    Map,
}

/// One labelled set of eigenvalues, as `(Re λ, Im λ)` pairs.
#[derive(Debug, Clone, Default)]
pub struct EigenSeries {
    /// Legend text, e.g. "η = 0.1".
    pub label: String,
    /// Eigenvalues as (real part, imaginary part). Non-finite ones are omitted
    /// and counted in a note.
    pub points: Vec<(f64, f64)>,
}

/// Data for [`eigenvalue_plot`].
#[derive(Debug, Clone, Default)]
pub struct EigenPlot {
    /// Figure title.
    pub title: String,
    /// Flow (boundary Re λ = 0) or map (boundary |λ| = 1).
    pub kind: EigenKind,
    /// Eigenvalue sets, each with its own colour and marker.
    pub series: Vec<EigenSeries>,
}

/// Writes an eigenvalue plot to `<stem>.png` and `<stem>.svg` (800×640),
/// with equal scales on both axes so the unit circle looks round.
///
/// # Errors
/// [`crate::error::Error::File`] if a file cannot be written.
pub fn eigenvalue_plot(stem: &Path, e: &EigenPlot) -> Result<()> {
    write_figure(stem, DEFAULT_SIZE, e)
}

/// Writes `frames` as one animated GIF at `path` (800×640, `delay_ms` between frames),
/// atomically: the eigenvalues over training, one checkpoint a frame.
///
/// # Errors
/// [`crate::error::Error::File`] if the file cannot be written.
pub fn eigenvalue_gif(path: &Path, frames: &[EigenPlot], delay_ms: u32) -> Result<()> {
    super::ensure_fonts()?;
    super::atomic_write(path, |tmp| {
        let root = BitMapBackend::gif(tmp, DEFAULT_SIZE, delay_ms)
            .map_err(|e| super::DrawError(e.to_string()))?
            .into_drawing_area();
        if frames.is_empty() {
            root.fill(&WHITE)?;
            draw_no_data(&root, "no frames", super::LABEL_PX)?;
            root.present()?;
        }
        for f in frames {
            root.fill(&WHITE)?;
            f.draw(&root)?;
            root.present()?;
        }
        Ok(())
    })
}

const BOUNDARY: RGBColor = RGBColor(180, 30, 30);
const STABLE_FILL: RGBColor = RGBColor(222, 242, 222);

/// Axis ranges containing `points` and the boundary, padded, then widened on
/// one axis so that one unit spans the same number of pixels on both.
fn equal_aspect_ranges(
    points: &[(f64, f64)],
    kind: EigenKind,
    plot_px: (u32, u32),
) -> ((f64, f64), (f64, f64)) {
    let mut x = (0.0_f64, 0.0_f64);
    let mut y = (0.0_f64, 0.0_f64);
    if kind == EigenKind::Map {
        x = (-1.0, 1.0);
        y = (-1.0, 1.0);
    }
    for p in points {
        x = (x.0.min(p.0), x.1.max(p.0));
        y = (y.0.min(p.1), y.1.max(p.1));
    }
    let mut wx = x.1 - x.0;
    let mut wy = y.1 - y.0;
    let big = wx.max(wy);
    // A spectrum on a line (e.g. ±0.5i) still needs some width around it.
    let floor = if big > 0.0 { 0.3 * big } else { 1.0 };
    wx = wx.max(floor) * 1.3;
    wy = wy.max(floor) * 1.3;
    let (cx, cy) = (0.5 * (x.0 + x.1), 0.5 * (y.0 + y.1));
    let (pw, ph) = (f64::from(plot_px.0), f64::from(plot_px.1));
    let upp = (wx / pw).max(wy / ph);
    let (hx, hy) = (0.5 * upp * pw, 0.5 * upp * ph);
    ((cx - hx, cx + hx), (cy - hy, cy + hy))
}

impl Figure for EigenPlot {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let sz = Sizes::full();
        let area = titled(area, &self.title, sz.title)?;
        let mut entries: Vec<(Swatch, String)> = self
            .series
            .iter()
            .enumerate()
            .map(|(k, s)| {
                // The number that decides stability, so a reader need not
                // judge by eye whether a point sits just outside the boundary.
                let finite = s.points.iter().filter(|p| finite2(p));
                let stat = match self.kind {
                    EigenKind::Flow => finite
                        .map(|p| p.0)
                        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
                        .map(|v| format!("max Re λ = {}", minus_sign(fmt_num(v, 4)))),
                    EigenKind::Map => finite
                        .map(|p| p.0.hypot(p.1))
                        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
                        .map(|v| format!("ρ = {}", fmt_num(v, 4))),
                };
                let name = super::label_or(&s.label, "series", k);
                let label = match stat {
                    Some(st) => format!("{name} ({st})"),
                    None => name,
                };
                (Swatch::Marker(Marker::cycle(k), palette(k)), label)
            })
            .collect();
        match self.kind {
            EigenKind::Flow => {
                entries.push((Swatch::Line(BOUNDARY, 3), "Re λ = 0".into()));
                entries.push((Swatch::Box(STABLE_FILL), "stable: Re λ < 0".into()));
            }
            EigenKind::Map => {
                entries.push((Swatch::Line(BOUNDARY, 3), "|λ| = 1".into()));
                entries.push((Swatch::Box(STABLE_FILL), "stable: |λ| < 1".into()));
            }
        }
        let (chart_area, legend_area) = split_legend(&area, &entries, sz.legend, sz.margin);

        let points: Vec<(f64, f64)> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .filter(finite2)
            .collect();
        let omitted: usize = self
            .series
            .iter()
            .map(|s| s.points.iter().filter(|p| !finite2(p)).count())
            .sum();
        let (xr, yr) =
            equal_aspect_ranges(&points, self.kind, sz.plot_dims(chart_area.dim_in_pixel()));
        let xa = Axis::linear(xr);
        let ya = Axis::linear(yr);
        let chart = build_chart(&chart_area, &xa, &ya, "Re λ", "Im λ", &sz, true)?;
        let pa = chart.plotting_area();
        let cv = canvas(&chart);

        match self.kind {
            EigenKind::Flow => {
                pa.draw(&Rectangle::new(
                    [(xa.lo, ya.lo), (0.0_f64.clamp(xa.lo, xa.hi), ya.hi)],
                    STABLE_FILL.mix(0.7).filled(),
                ))?;
                pa.draw(&PathElement::new(
                    vec![(xa.lo, 0.0), (xa.hi, 0.0)],
                    RGBColor(150, 150, 150).stroke_width(1),
                ))?;
                pa.draw(&PathElement::new(
                    vec![(0.0, ya.lo), (0.0, ya.hi)],
                    BOUNDARY.stroke_width(3),
                ))?;
            }
            EigenKind::Map => {
                // Equal aspect makes the unit circle a true circle in pixels,
                // and plotters draws circles more smoothly than polylines.
                let c = to_px(&chart, (0.0, 0.0));
                let r = to_px(&chart, (1.0, 0.0)).0 - c.0;
                cv.draw(&Circle::new(c, r, STABLE_FILL.mix(0.7).filled()))?;
                let grey = RGBColor(150, 150, 150).stroke_width(1);
                pa.draw(&PathElement::new(vec![(xa.lo, 0.0), (xa.hi, 0.0)], grey))?;
                pa.draw(&PathElement::new(vec![(0.0, ya.lo), (0.0, ya.hi)], grey))?;
                // Three 1-px rings: plotters' thick circle leaves gaps.
                for dr in [-1.0, 0.0, 1.0] {
                    let ring: Vec<(i32, i32)> = (0..=720)
                        .map(|k| {
                            let a = (k as f64 * 0.5).to_radians();
                            let rr = f64::from(r) + dr;
                            (
                                c.0 + (rr * a.cos()).round() as i32,
                                c.1 + (rr * a.sin()).round() as i32,
                            )
                        })
                        .collect();
                    cv.draw(&PathElement::new(ring, BOUNDARY.stroke_width(1)))?;
                }
            }
        }

        for (k, s) in self.series.iter().enumerate() {
            let m = Marker::cycle(k);
            for p in s.points.iter().filter(|p| finite2(p)) {
                draw_marker(&cv, to_px(&chart, *p), m, palette(k), 6)?;
            }
        }
        if points.is_empty() {
            draw_no_data(&cv, "no eigenvalues", sz.label)?;
        }
        if omitted > 0 {
            let note = format!("{omitted} non-finite eigenvalue(s) omitted");
            draw_note(&cv, (6, 6), &note, sz.legend)?;
        }
        match legend_area {
            Some(la) => draw_legend(&la.area, la.at, &entries, sz.legend),
            None => Ok(()),
        }
    }
}
