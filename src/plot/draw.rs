//! Drawing helpers shared by the figures: markers, legends, notes, titles,
//! charts on our own tick placement, and polylines.

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Axis, DrawError, DrawResult, LABEL_PX, LEGEND_PX, TICK_PX, TITLE_PX, font};

// Legends drawn by hand: plotters' built-in legend sits inside the plot and
// covers data, so figures put the legend in a panel beside the chart.

/// What a legend row shows beside its text.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Swatch {
    /// A line of the given colour and width.
    Line(RGBColor, u32),
    /// A dashed line.
    Dashed(RGBColor, u32),
    /// A filled square.
    Box(RGBColor),
    /// A marker.
    Marker(Marker, RGBColor),
}

/// Marker shapes shared by the figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marker {
    Circle,
    HollowCircle,
    Cross,
    Triangle,
    Square,
    Star,
    Plus,
    /// An arrow pointing right (vector-field legend).
    Arrow,
    /// A white cross with a dark outline, visible on any colour map.
    OutlinedCross,
}

impl Marker {
    /// Marker used for series `k` in scatter-type figures.
    pub fn cycle(k: usize) -> Marker {
        [
            Marker::Circle,
            Marker::Cross,
            Marker::Triangle,
            Marker::Square,
            Marker::Plus,
        ][k % 5]
    }
}

/// Draws `m` centred at backend pixel `c` with radius `r`.
pub(crate) fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    c: (i32, i32),
    m: Marker,
    color: RGBColor,
    r: i32,
) -> DrawResult {
    match m {
        Marker::Circle => {
            area.draw(&Circle::new(c, r, color.filled()))?;
            area.draw(&Circle::new(c, r, BLACK.stroke_width(1)))?;
        }
        Marker::HollowCircle => {
            area.draw(&Circle::new(c, r, WHITE.filled()))?;
            area.draw(&Circle::new(c, r, color.stroke_width(2)))?;
        }
        Marker::Cross => {
            let s = color.stroke_width(3);
            area.draw(&PathElement::new(
                vec![(c.0 - r, c.1 - r), (c.0 + r, c.1 + r)],
                s,
            ))?;
            area.draw(&PathElement::new(
                vec![(c.0 - r, c.1 + r), (c.0 + r, c.1 - r)],
                s,
            ))?;
        }
        Marker::Arrow => {
            let s = color.stroke_width(2);
            let r = 2 * r;
            area.draw(&PathElement::new(vec![(c.0 - r, c.1), (c.0 + r, c.1)], s))?;
            let h = r / 2;
            area.draw(&PathElement::new(
                vec![
                    (c.0 + r - h, c.1 - h),
                    (c.0 + r, c.1),
                    (c.0 + r - h, c.1 + h),
                ],
                s,
            ))?;
        }
        Marker::OutlinedCross => {
            let dark = RGBColor(20, 20, 20).stroke_width(6);
            let light = WHITE.stroke_width(2);
            for s in [dark, light] {
                let r = if s.stroke_width > 2 { r } else { r - 1 };
                area.draw(&PathElement::new(
                    vec![(c.0 - r, c.1 - r), (c.0 + r, c.1 + r)],
                    s,
                ))?;
                area.draw(&PathElement::new(
                    vec![(c.0 - r, c.1 + r), (c.0 + r, c.1 - r)],
                    s,
                ))?;
            }
        }
        Marker::Plus => {
            let s = color.stroke_width(3);
            area.draw(&PathElement::new(vec![(c.0 - r, c.1), (c.0 + r, c.1)], s))?;
            area.draw(&PathElement::new(vec![(c.0, c.1 - r), (c.0, c.1 + r)], s))?;
        }
        Marker::Triangle => {
            let pts = vec![(c.0, c.1 - r), (c.0 - r, c.1 + r), (c.0 + r, c.1 + r)];
            area.draw(&Polygon::new(pts.clone(), color.filled()))?;
            let mut closed = pts.clone();
            closed.push(pts[0]);
            area.draw(&PathElement::new(closed, BLACK.stroke_width(1)))?;
        }
        Marker::Square => {
            area.draw(&Rectangle::new(
                [(c.0 - r, c.1 - r), (c.0 + r, c.1 + r)],
                color.filled(),
            ))?;
            area.draw(&Rectangle::new(
                [(c.0 - r, c.1 - r), (c.0 + r, c.1 + r)],
                BLACK.stroke_width(1),
            ))?;
        }
        Marker::Star => {
            let rf = f64::from(r) * 1.5;
            let pts: Vec<(i32, i32)> = (0..10)
                .map(|k| {
                    let rad = if k % 2 == 0 { rf } else { rf * 0.45 };
                    let a = std::f64::consts::PI * (k as f64) / 5.0 - std::f64::consts::FRAC_PI_2;
                    (
                        c.0 + (rad * a.cos()).round() as i32,
                        c.1 + (rad * a.sin()).round() as i32,
                    )
                })
                .collect();
            area.draw(&Polygon::new(pts.clone(), color.filled()))?;
            let mut closed = pts.clone();
            closed.push(pts[0]);
            area.draw(&PathElement::new(closed, BLACK.stroke_width(1)))?;
        }
    }
    Ok(())
}

/// Width in pixels a legend needs for `entries` at font size `px`.
pub(crate) fn legend_width<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(Swatch, String)],
    px: f64,
) -> u32 {
    let style = font(px);
    let text = entries
        .iter()
        .map(|(_, t)| area.estimate_text_size(t, &style).map(|s| s.0).unwrap_or(0))
        .max()
        .unwrap_or(0);
    text + (px * 3.2) as u32
}

/// Where a figure's legend goes: the area beside or below the chart and the
/// legend's top-left corner in it.
pub(crate) struct LegendSlot<DB: DrawingBackend> {
    pub area: DrawingArea<DB, Shift>,
    pub at: (i32, i32),
}

/// Splits `area` into a chart area and a legend slot: to the right when the
/// legend is narrow (up to 30% of the width), otherwise below the chart, so
/// long labels never squeeze the plot into a sliver. Without a legend at the right,
/// the chart keeps a strip of `px`·1.5 pixels there so that the last x tick label,
/// centred on the right edge of the plot, is not cut off.
pub(crate) fn split_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(Swatch, String)],
    px: f64,
    margin: u32,
) -> (DrawingArea<DB, Shift>, Option<LegendSlot<DB>>) {
    let right_strip = (px * 1.5) as u32;
    if entries.is_empty() {
        return (area.margin(0, 0, 0, right_strip), None);
    }
    let (w, h) = area.dim_in_pixel();
    let lw = legend_width(area, entries, px);
    if (lw + 12) * 10 <= w * 3 {
        let (a, b) = area.split_horizontally((w - lw - 12) as i32);
        let at = (4, margin as i32);
        (a, Some(LegendSlot { area: b, at }))
    } else {
        let row = (px * 1.5).round() as u32;
        let lh = row * entries.len() as u32 + (px * 0.6) as u32 + 8;
        let (a, b) = area.split_vertically(h.saturating_sub(lh) as i32);
        let at = ((w.saturating_sub(lw) / 2) as i32, 2);
        (
            a.margin(0, 0, 0, right_strip),
            Some(LegendSlot { area: b, at }),
        )
    }
}

/// Draws a one-row legend centred horizontally in `area` at height `cy`
/// (area-relative), without a frame; used above a grid of panels.
pub(crate) fn draw_legend_row<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    cy: i32,
    entries: &[(Swatch, String)],
    px: f64,
) -> DrawResult {
    let (widths, total) = legend_row_widths(area, entries, px);
    let sw = (px * 1.8) as i32;
    let gap = (px * 1.2) as i32;
    let mut x = (area.dim_in_pixel().0 as i32 - total).max(0) / 2;
    for ((swatch, text), w) in entries.iter().zip(widths) {
        draw_swatch(area, (x, cy), sw, *swatch, px)?;
        area.draw(&Text::new(
            text.clone(),
            (x + sw + (px * 0.4) as i32, cy),
            font(px).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        x += w + gap;
    }
    Ok(())
}

/// Widths of the entries of a one-row legend and the total width.
pub(crate) fn legend_row_widths<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(Swatch, String)],
    px: f64,
) -> (Vec<i32>, i32) {
    let sw = (px * 1.8) as i32;
    let gap = (px * 1.2) as i32;
    let widths: Vec<i32> = entries
        .iter()
        .map(|(_, t)| {
            let tw = area
                .estimate_text_size(t, &font(px))
                .map(|s| s.0)
                .unwrap_or(0);
            sw + (px * 0.4) as i32 + tw as i32
        })
        .collect();
    let total = widths.iter().sum::<i32>() + gap * (entries.len() as i32 - 1).max(0);
    (widths, total)
}

/// Draws a legend swatch `sw` pixels wide whose left end is at `at`.
fn draw_swatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    at: (i32, i32),
    sw: i32,
    swatch: Swatch,
    px: f64,
) -> DrawResult {
    let (x0, cy) = at;
    match swatch {
        Swatch::Line(c, wd) => {
            area.draw(&PathElement::new(
                vec![(x0, cy), (x0 + sw, cy)],
                c.stroke_width(wd),
            ))?;
        }
        Swatch::Dashed(c, wd) => {
            let seg = sw / 5;
            for s in [0, 2, 4] {
                area.draw(&PathElement::new(
                    vec![(x0 + s * seg, cy), (x0 + (s + 1) * seg, cy)],
                    c.stroke_width(wd),
                ))?;
            }
        }
        Swatch::Box(c) => {
            let r = (px * 0.45) as i32;
            let cx = x0 + sw / 2;
            area.draw(&Rectangle::new(
                [(cx - r, cy - r), (cx + r, cy + r)],
                c.filled(),
            ))?;
            area.draw(&Rectangle::new(
                [(cx - r, cy - r), (cx + r, cy + r)],
                BLACK.stroke_width(1),
            ))?;
        }
        Swatch::Marker(m, c) => {
            draw_marker(area, (x0 + sw / 2, cy), m, c, (px * 0.35) as i32)?;
        }
    }
    Ok(())
}

/// Draws a legend box with its top-left corner at pixel `at` of `area`
/// (area-relative), on a white background with a thin frame.
pub(crate) fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    at: (i32, i32),
    entries: &[(Swatch, String)],
    px: f64,
) -> DrawResult {
    if entries.is_empty() {
        return Ok(());
    }
    let row = (px * 1.5).round() as i32;
    let w = legend_width(area, entries, px) as i32;
    let h = row * entries.len() as i32 + (px * 0.6) as i32;
    area.draw(&Rectangle::new(
        [at, (at.0 + w, at.1 + h)],
        WHITE.mix(0.85).filled(),
    ))?;
    area.draw(&Rectangle::new(
        [at, (at.0 + w, at.1 + h)],
        RGBColor(120, 120, 120).stroke_width(1),
    ))?;
    let sw = (px * 1.8) as i32;
    for (k, (swatch, text)) in entries.iter().enumerate() {
        let cy = at.1 + (px * 0.3) as i32 + row * k as i32 + row / 2;
        let x0 = at.0 + (px * 0.4) as i32;
        draw_swatch(area, (x0, cy), sw, *swatch, px)?;
        area.draw(&Text::new(
            text.clone(),
            (x0 + sw + (px * 0.5) as i32, cy),
            font(px).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(())
}

/// Draws `note` in a framed box at area-relative pixel `at` (top-left), in a
/// dark red so that a diverged run is noticed.
pub(crate) fn draw_note<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    at: (i32, i32),
    note: &str,
    px: f64,
) -> DrawResult {
    if note.is_empty() {
        return Ok(());
    }
    let style = font(px).color(&RGBColor(170, 20, 20));
    let (w, h) = area.estimate_text_size(note, &style)?;
    let padx = (px * 0.4) as i32;
    let pady = (px * 0.3) as i32;
    let br = (at.0 + w as i32 + 2 * padx, at.1 + h as i32 + 2 * pady);
    area.draw(&Rectangle::new([at, br], WHITE.mix(0.9).filled()))?;
    area.draw(&Rectangle::new(
        [at, br],
        RGBColor(170, 20, 20).stroke_width(1),
    ))?;
    area.draw(&Text::new(
        note.to_string(),
        (at.0 + padx, at.1 + pady + h as i32 / 2),
        style.pos(Pos::new(HPos::Left, VPos::Center)),
    ))?;
    Ok(())
}

/// Font size no larger than `px` at which `text` fits in `width` pixels, so
/// long titles (with learning-rate settings) shrink instead of being cut.
pub(crate) fn fitting_px<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    px: f64,
    width: u32,
) -> f64 {
    let w = area
        .estimate_text_size(text, &font(px))
        .map(|s| s.0)
        .unwrap_or(0);
    if w <= width || w == 0 {
        px
    } else {
        (px * f64::from(width) / f64::from(w)).max(9.0)
    }
}

/// Draws a title across the top of `area` and returns the area below it.
pub(crate) fn titled<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    px: f64,
) -> std::result::Result<DrawingArea<DB, Shift>, DrawError> {
    if title.is_empty() {
        return Ok(area.clone());
    }
    let w = area.dim_in_pixel().0.saturating_sub(20);
    let px = fitting_px(area, title, px, w);
    Ok(area.titled(title, font(px))?)
}

/// Centred grey "no data" text in `area`.
pub(crate) fn draw_no_data<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    px: f64,
) -> DrawResult {
    let (w, h) = area.dim_in_pixel();
    area.draw(&Text::new(
        text.to_string(),
        (w as i32 / 2, h as i32 / 2),
        font(px)
            .color(&RGBColor(110, 110, 110))
            .pos(Pos::new(HPos::Center, VPos::Center)),
    ))?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Cartesian charts on `Axis` coordinates.

/// Font sizes and label-area sizes for a chart; `Sizes::full()` for an
/// 800×640 figure, `Sizes::compact()` for a ~400×360 grid panel.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sizes {
    pub title: f64,
    pub label: f64,
    pub tick: f64,
    pub legend: f64,
    pub x_area: u32,
    pub y_area: u32,
    pub margin: u32,
}

impl Sizes {
    pub fn full() -> Self {
        Sizes {
            title: TITLE_PX,
            label: LABEL_PX,
            tick: TICK_PX,
            legend: LEGEND_PX,
            x_area: 62,
            y_area: 84,
            margin: 14,
        }
    }
    pub fn compact() -> Self {
        Sizes {
            title: 17.0,
            label: 15.0,
            tick: 13.0,
            legend: 13.0,
            x_area: 46,
            y_area: 62,
            margin: 8,
        }
    }
    /// Pixel size of the plotting area a chart built on `area` will get.
    pub fn plot_dims(&self, area: (u32, u32)) -> (u32, u32) {
        (
            area.0.saturating_sub(2 * self.margin + self.y_area).max(1),
            area.1.saturating_sub(2 * self.margin + self.x_area).max(1),
        )
    }
}

/// A linear f64 coordinate whose ticks are exactly the given points.
///
/// plotters' own `WithKeyPoints` wrapper loses the f64 label formatter and
/// so cannot be used with `configure_mesh`; this small type can.
#[derive(Debug, Clone)]
pub(crate) struct Ticked {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ticked {
    pub fn new(lo: f64, hi: f64, ticks: Vec<f64>) -> Self {
        Ticked { lo, hi, ticks }
    }
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let len = f64::from(limit.1 - limit.0);
        let t = (*v - self.lo) / (self.hi - self.lo);
        // `as` saturates, so far-off values land outside the plot harmlessly.
        limit.0 + (len * t + 1e-3).floor() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

pub(crate) type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<Ticked, Ticked>>;

/// Builds a chart with our tick placement and draws its axes; `grid` draws
/// light grid lines at the ticks (off for heat maps, where cells hide them).
pub(crate) fn build_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    xa: &Axis,
    ya: &Axis,
    x_label: &str,
    y_label: &str,
    sz: &Sizes,
    grid: bool,
) -> std::result::Result<Chart<'a, DB>, DrawError> {
    let mut chart = ChartBuilder::on(area)
        .margin(sz.margin)
        .x_label_area_size(sz.x_area)
        .y_label_area_size(sz.y_area)
        .build_cartesian_2d(
            Ticked::new(xa.lo, xa.hi, xa.ticks()),
            Ticked::new(ya.lo, ya.hi, ya.ticks()),
        )?;
    let xf = |v: &f64| xa.label(*v);
    let yf = |v: &f64| ya.label(*v);
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(x_label)
        .y_desc(y_label)
        .x_label_formatter(&xf)
        .y_label_formatter(&yf)
        .axis_desc_style(font(sz.label))
        .label_style(font(sz.tick))
        .bold_line_style(RGBColor(225, 225, 225).stroke_width(1))
        .light_line_style(TRANSPARENT);
    if !grid {
        mesh.disable_x_mesh().disable_y_mesh();
    }
    mesh.draw()?;
    Ok(chart)
}

/// Data coordinates to pixel coordinates relative to the chart's plotting
/// area (the frame used by `canvas`).
pub(crate) fn to_px<DB: DrawingBackend>(chart: &Chart<'_, DB>, p: (f64, f64)) -> (i32, i32) {
    let pa = chart.plotting_area();
    let b = pa.get_base_pixel();
    let q = pa.map_coordinate(&p);
    (q.0 - b.0, q.1 - b.1)
}

/// Draws a polyline given in data coordinates after simplifying it in
/// sub-pixel space (Ramer–Douglas–Peucker, tolerance 0.3 px), then rounding.
///
/// plotters strokes thick lines by offsetting every segment; dense data gives
/// 1-px segments whose rounded directions zig-zag, and the stroke turns
/// ragged. Simplifying *before* rounding leaves segments long enough to have
/// accurate directions while moving no point by more than a third of a pixel,
/// so curves stay smooth and every visible feature (e.g. the peaks of an
/// oscillation, which are the farthest points) survives.
pub(crate) fn draw_data_path<DB: DrawingBackend>(
    chart: &Chart<'_, DB>,
    pts: &[(f64, f64)],
    style: ShapeStyle,
) -> DrawResult {
    let (xr, yr) = (chart.x_range(), chart.y_range());
    let a = to_px(chart, (xr.start, yr.start));
    let b = to_px(chart, (xr.end, yr.end));
    let (sx, sy) = (
        f64::from(b.0 - a.0) / (xr.end - xr.start),
        f64::from(b.1 - a.1) / (yr.end - yr.start),
    );
    let fpx: Vec<(f64, f64)> = pts
        .iter()
        .map(|p| {
            (
                f64::from(a.0) + (p.0 - xr.start) * sx,
                f64::from(a.1) + (p.1 - yr.start) * sy,
            )
        })
        .collect();
    let mut px: Vec<(i32, i32)> = Vec::with_capacity(fpx.len());
    for q in simplify(&fpx, 0.3) {
        let q = (q.0.round() as i32, q.1.round() as i32);
        if px.last() != Some(&q) {
            px.push(q);
        }
    }
    if px.len() >= 2 {
        canvas(chart).draw(&PathElement::new(px, style))?;
    }
    Ok(())
}

/// Ramer–Douglas–Peucker simplification with tolerance `eps`, iterative so
/// long runs cannot overflow the stack.
pub(crate) fn simplify(p: &[(f64, f64)], eps: f64) -> Vec<(f64, f64)> {
    let n = p.len();
    if n < 3 {
        return p.to_vec();
    }
    let mut keep = vec![false; n];
    keep[0] = true;
    keep[n - 1] = true;
    let mut stack = vec![(0usize, n - 1)];
    while let Some((a, b)) = stack.pop() {
        if b <= a + 1 {
            continue;
        }
        let (ax, ay) = p[a];
        let (dx, dy) = (p[b].0 - ax, p[b].1 - ay);
        let len = dx.hypot(dy);
        let mut far = (0.0_f64, a);
        for (k, q) in p.iter().enumerate().take(b).skip(a + 1) {
            let (qx, qy) = (q.0 - ax, q.1 - ay);
            // Distance to the chord, or to its start when it has no length
            // (a closed loop).
            let d = if len > 0.0 {
                (dx * qy - dy * qx).abs() / len
            } else {
                qx.hypot(qy)
            };
            if d > far.0 {
                far = (d, k);
            }
        }
        if far.0 > eps {
            keep[far.1] = true;
            stack.push((a, far.1));
            stack.push((far.1, b));
        }
    }
    p.iter()
        .zip(keep)
        .filter_map(|(q, k)| k.then_some(*q))
        .collect()
}

/// The plotting area in plain pixel coordinates, for markers and arrow heads.
pub(crate) fn canvas<DB: DrawingBackend>(chart: &Chart<'_, DB>) -> DrawingArea<DB, Shift> {
    chart.plotting_area().strip_coord_spec()
}
