//! Phase portraits: a vector field as arrows, trajectories coloured by time,
//! start/end markers and the equilibrium.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    Axis, DEFAULT_SIZE, DrawResult, Figure, Marker, Sizes, Swatch, build_chart, canvas,
    clip_polyline, draw_data_path, draw_legend, draw_legend_row, draw_marker, draw_no_data,
    draw_note, finite2, legend_row_widths, legend_width, lighten, palette, split_legend, titled,
    to_px, viridis, write_figure,
};
use crate::error::Result;

/// One arrow of a vector field: the field `(u, v)` evaluated at `(x, y)`.
///
/// Only the direction is drawn (arrows are normalised to one length), since
/// the magnitude near an equilibrium would otherwise shrink arrows to dots.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Arrow {
    /// Base point, horizontal coordinate.
    pub x: f64,
    /// Base point, vertical coordinate.
    pub y: f64,
    /// Horizontal component of the field.
    pub u: f64,
    /// Vertical component of the field.
    pub v: f64,
}

/// A labelled trajectory in the plane, in time order.
#[derive(Debug, Clone, Default)]
pub struct Path2 {
    /// Legend text, e.g. "simGD, η = 0.1".
    pub label: String,
    /// Points in time order. Non-finite points break the line.
    pub points: Vec<(f64, f64)>,
}

/// Data for [`phase_portrait`] and one panel of [`phase_grid`].
///
/// Build it with struct-update syntax:
/// `PhasePortrait { title: "…".into(), ..Default::default() }`.
#[derive(Debug, Clone, Default)]
pub struct PhasePortrait {
    /// Figure (or panel) title; put the learning-rate setting here.
    pub title: String,
    /// Horizontal axis label, e.g. "θ".
    pub x_label: String,
    /// Vertical axis label, e.g. "ψ".
    pub y_label: String,
    /// Visible horizontal interval; anything outside is clipped.
    pub x_range: (f64, f64),
    /// Visible vertical interval; anything outside is clipped.
    pub y_range: (f64, f64),
    /// Vector field samples, drawn as light-grey unit-length arrows.
    pub arrows: Vec<Arrow>,
    /// Trajectories. One is coloured by time with viridis (dark = early);
    /// several get one palette colour each, faded at early times.
    pub trajectories: Vec<Path2>,
    /// The equilibrium, drawn as a red star labelled "equilibrium".
    pub equilibrium: Option<(f64, f64)>,
    /// A note drawn in the top-left corner, e.g. "diverged at step 412".
    pub note: Option<String>,
}

/// Writes a phase portrait to `<stem>.png` and `<stem>.svg` (800×640).
///
/// # Errors
/// [`crate::error::Error::File`] if a file cannot be written.
pub fn phase_portrait(stem: &Path, p: &PhasePortrait) -> Result<()> {
    write_figure(stem, DEFAULT_SIZE, &Single(p))
}

/// Writes several phase portraits side by side on one figure (e.g. one per
/// learning rate), `ncols` panels per row of about 400×360 px, under a
/// super-title. `ncols = 0` is treated as 1.
///
/// # Errors
/// [`crate::error::Error::File`] if a file cannot be written.
pub fn phase_grid(stem: &Path, title: &str, panels: &[PhasePortrait], ncols: usize) -> Result<()> {
    let ncols = ncols.max(1).min(panels.len().max(1));
    let nrows = panels.len().div_ceil(ncols).max(1);
    let size = (ncols as u32 * 400, nrows as u32 * 360 + GRID_HEADER);
    write_figure(
        stem,
        size,
        &Grid {
            title,
            panels,
            ncols,
            nrows,
        },
    )
}

/// Height of the super-title plus shared legend row above a grid.
const GRID_HEADER: u32 = 80;

/// Where a portrait's legend goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LegendAt {
    /// In a panel right of the chart (single figures).
    Outside,
    /// Inside the chart, top right (grid panels with their own labels).
    Inside,
    /// Not drawn (a shared legend is drawn above the grid).
    Nowhere,
}

struct Single<'a>(&'a PhasePortrait);

impl Figure for Single<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        draw_portrait(area, self.0, &Sizes::full(), LegendAt::Outside)
    }
}

struct Grid<'a> {
    title: &'a str,
    panels: &'a [PhasePortrait],
    ncols: usize,
    nrows: usize,
}

impl Figure for Grid<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let (w, h) = area.dim_in_pixel();
        let (header, body) = area.split_vertically(GRID_HEADER.min(h) as i32);
        titled(&header, self.title, 26.0)?;
        if self.panels.is_empty() {
            return draw_no_data(&body, "no panels", 18.0);
        }
        // One legend for the whole grid when every panel names the same
        // trajectories: the panels stay uncluttered and colours read the same
        // in each.
        let labels = |p: &PhasePortrait| -> Vec<String> {
            p.trajectories.iter().map(|t| t.label.clone()).collect()
        };
        let first = labels(&self.panels[0]);
        let mut key = self.panels[0].clone();
        key.equilibrium = self.panels.iter().find_map(|p| p.equilibrium);
        if key.arrows.is_empty() {
            key.arrows = self
                .panels
                .iter()
                .flat_map(|p| p.arrows.iter().take(1))
                .copied()
                .collect();
        }
        let entries = legend_entries(&key, false);
        let px = 14.0;
        let shared = self.panels.iter().all(|p| labels(p) == first)
            && legend_row_widths(&header, &entries, px).1 <= w as i32 - 20;
        let legend = if shared {
            draw_legend_row(&header, GRID_HEADER as i32 - 18, &entries, px)?;
            LegendAt::Nowhere
        } else {
            LegendAt::Inside
        };
        let cells = body.split_evenly((self.nrows, self.ncols));
        for (p, cell) in self.panels.iter().zip(cells.iter()) {
            draw_portrait(cell, p, &Sizes::compact(), legend)?;
        }
        Ok(())
    }
}

/// Colour of trajectory `k` of `n` at normalised time `t ∈ [0, 1]`.
fn traj_color(k: usize, n: usize, t: f64) -> RGBColor {
    if n == 1 {
        // Stop short of viridis' pale yellow end, which vanishes on white.
        viridis(0.9 * t)
    } else {
        lighten(palette(k), 0.6 * (1.0 - t))
    }
}

const ARROW_GREY: RGBColor = RGBColor(165, 165, 165);
const EQUILIBRIUM_RED: RGBColor = RGBColor(214, 39, 40);
const MARKER_GREY: RGBColor = RGBColor(70, 70, 70);

fn legend_entries(p: &PhasePortrait, compact: bool) -> Vec<(Swatch, String)> {
    let n = p.trajectories.len();
    let mut e = Vec::new();
    if compact {
        // Grid panels are small: only name the trajectories, and only when
        // there is more than one to tell apart.
        if n > 1 {
            for (k, t) in p.trajectories.iter().enumerate() {
                e.push((
                    Swatch::Line(palette(k), 3),
                    super::label_or(&t.label, "trajectory", k),
                ));
            }
        }
        return e;
    }
    if n == 1 {
        let label = &p.trajectories[0].label;
        let sep = if label.is_empty() { "" } else { ": " };
        e.push((Swatch::Line(viridis(0.0), 3), format!("{label}{sep}early")));
        e.push((Swatch::Line(viridis(0.9), 3), format!("{label}{sep}late")));
    } else {
        for (k, t) in p.trajectories.iter().enumerate() {
            e.push((
                Swatch::Line(palette(k), 3),
                super::label_or(&t.label, "trajectory", k),
            ));
        }
        if n > 1 {
            e.push((
                Swatch::Line(lighten(MARKER_GREY, 0.6), 3),
                "faded = early".to_string(),
            ));
        }
    }
    if n > 0 {
        e.push((
            Swatch::Marker(Marker::HollowCircle, MARKER_GREY),
            "start".into(),
        ));
        e.push((Swatch::Marker(Marker::Circle, MARKER_GREY), "end".into()));
    }
    if p.equilibrium.is_some_and(|q| finite2(&q)) {
        e.push((
            Swatch::Marker(Marker::Star, EQUILIBRIUM_RED),
            "equilibrium".into(),
        ));
    }
    if !p.arrows.is_empty() {
        e.push((
            Swatch::Marker(Marker::Arrow, ARROW_GREY),
            "field direction".into(),
        ));
    }
    e
}

/// The part of `area` whose plotting region gives both axes the same scale,
/// centred; unchanged when the ranges differ by more than 3× (then the axes
/// are probably in different units and filling the space is better).
fn equal_aspect_area<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    xr: (f64, f64),
    yr: (f64, f64),
    sz: &Sizes,
) -> DrawingArea<DB, Shift> {
    let (pw, ph) = sz.plot_dims(area.dim_in_pixel());
    let (wx, wy) = (xr.1 - xr.0, yr.1 - yr.0);
    let ratio = wx / wy;
    if !(1.0 / 3.0..=3.0).contains(&ratio) {
        return area.clone();
    }
    let (ux, uy) = (wx / f64::from(pw), wy / f64::from(ph));
    if ux < uy {
        let d = (f64::from(pw) - wx / uy).max(0.0) as u32;
        area.margin(0, 0, d / 2, d - d / 2)
    } else {
        let d = (f64::from(ph) - wy / ux).max(0.0) as u32;
        area.margin(d / 2, d - d / 2, 0, 0)
    }
}

/// Draws one portrait with its legend placed as `legend` says.
fn draw_portrait<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &PhasePortrait,
    sz: &Sizes,
    legend: LegendAt,
) -> DrawResult {
    let outside = legend == LegendAt::Outside;
    let area = titled(area, &p.title, sz.title)?;
    let entries = match legend {
        LegendAt::Nowhere => Vec::new(),
        _ => legend_entries(p, !outside),
    };
    let (chart_area, legend_area) = if outside {
        split_legend(&area, &entries, sz.legend, sz.margin)
    } else {
        (area.clone(), None)
    };
    let xa = Axis::linear(p.x_range);
    let ya = Axis::linear(p.y_range);
    let (xr, yr) = (xa.range(), ya.range());
    let chart_area = equal_aspect_area(&chart_area, xr, yr, sz);
    let chart = build_chart(&chart_area, &xa, &ya, &p.x_label, &p.y_label, sz, true)?;
    let cv = canvas(&chart);
    let (cw, ch) = cv.dim_in_pixel();

    // Arrows: normalised in pixel space so they look equal whatever the
    // axis scales; length from the grid spacing so neighbours do not touch.
    let inside = |q: (f64, f64)| q.0 >= xr.0 && q.0 <= xr.1 && q.1 >= yr.0 && q.1 <= yr.1;
    let arrows: Vec<&Arrow> = p
        .arrows
        .iter()
        .filter(|a| a.x.is_finite() && a.y.is_finite() && inside((a.x, a.y)))
        .collect();
    if !arrows.is_empty() {
        let per_side = (arrows.len() as f64).sqrt().max(1.0);
        let len = (0.6 * f64::from(cw.min(ch)) / per_side).clamp(7.0, 32.0);
        let kx = f64::from(cw) / (xr.1 - xr.0);
        let ky = f64::from(ch) / (yr.1 - yr.0);
        let style = ARROW_GREY.stroke_width(if outside { 2 } else { 1 });
        for a in arrows {
            let c = to_px(&chart, (a.x, a.y));
            let (du, dv) = (a.u * kx, -a.v * ky);
            let norm = du.hypot(dv);
            if !norm.is_finite() || norm == 0.0 {
                cv.draw(&Circle::new(c, 2, ARROW_GREY.filled()))?;
                continue;
            }
            let (ux, uy) = (du / norm, dv / norm);
            let (cx, cy) = (f64::from(c.0), f64::from(c.1));
            let tail = (cx - 0.5 * len * ux, cy - 0.5 * len * uy);
            let tip = (cx + 0.5 * len * ux, cy + 0.5 * len * uy);
            let ip = |q: (f64, f64)| (q.0.round() as i32, q.1.round() as i32);
            cv.draw(&PathElement::new(vec![ip(tail), ip(tip)], style))?;
            let head = 0.38 * len;
            for ang in [0.45_f64, -0.45] {
                let (s, co) = ang.sin_cos();
                // Rotate the reversed direction by ±ang for the head barbs.
                let (bx, by) = (-ux * co + uy * s, -ux * s - uy * co);
                let end = (tip.0 + head * bx, tip.1 + head * by);
                cv.draw(&PathElement::new(vec![ip(tip), ip(end)], style))?;
            }
        }
    }

    let n = p.trajectories.len();
    let mut any_point = false;
    let mut non_finite = false;
    let width = 2;
    for (k, tr) in p.trajectories.iter().enumerate() {
        non_finite |= tr.points.iter().any(|q| !finite2(q));
        let pts: Vec<(usize, (f64, f64))> = tr
            .points
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, q)| finite2(q))
            .collect();
        if pts.is_empty() {
            continue;
        }
        any_point = true;
        let last = tr.points.len().saturating_sub(1).max(1) as f64;
        // Colour by time in up to 128 chunks: one polyline per chunk keeps
        // the SVG small for long runs while the gradient still looks smooth.
        let segs = tr.points.len().saturating_sub(1);
        let chunks = segs.clamp(1, 128);
        for c in 0..chunks {
            let i0 = c * segs / chunks;
            let i1 = ((c + 1) * segs / chunks).min(tr.points.len() - 1);
            if i1 <= i0 && segs > 0 {
                continue;
            }
            let t = (0.5 * (i0 + i1) as f64) / last;
            let color = traj_color(k, n, t);
            for piece in clip_polyline(&tr.points[i0..=i1], xr, yr) {
                if piece.len() >= 2 {
                    draw_data_path(&chart, &piece, color.stroke_width(width))?;
                }
            }
        }
        let (i_first, first) = pts[0];
        let (i_last, lastp) = pts[pts.len() - 1];
        let r = if outside { 6 } else { 4 };
        if inside(first) {
            let col = traj_color(k, n, i_first as f64 / last);
            draw_marker(&cv, to_px(&chart, first), Marker::HollowCircle, col, r)?;
        }
        if inside(lastp) {
            let col = traj_color(k, n, i_last as f64 / last);
            draw_marker(&cv, to_px(&chart, lastp), Marker::Circle, col, r)?;
        }
    }

    if let Some(eq) = p.equilibrium.filter(|q| finite2(q) && inside(*q)) {
        let r = if outside { 8 } else { 6 };
        draw_marker(&cv, to_px(&chart, eq), Marker::Star, EQUILIBRIUM_RED, r)?;
    }

    let mut note = p.note.clone().unwrap_or_default();
    if note.is_empty() && non_finite {
        note = "non-finite values omitted".to_string();
    }
    if !any_point && p.arrows.is_empty() {
        draw_no_data(&cv, "no data", sz.label)?;
    }
    draw_note(&cv, (6, 6), &note, sz.legend)?;

    match legend_area {
        Some(la) => draw_legend(&la.area, la.at, &entries, sz.legend)?,
        None => {
            if !entries.is_empty() {
                let lw = legend_width(&cv, &entries, sz.legend) as i32;
                draw_legend(&cv, (cw as i32 - lw - 6, 6), &entries, sz.legend)?;
            }
        }
    }
    Ok(())
}
