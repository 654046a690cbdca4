//! Figures for papers: phase portraits, spectra, stability maps, training curves,
//! histograms and discriminator surfaces.
//!
//! Every function takes a plain data struct (no game or model objects, so the
//! plot layer depends on nothing above it) and writes **both** `<stem>.png` and
//! `<stem>.svg`. Writes are atomic: each file is rendered to a hidden temporary
//! file in the same directory and then renamed, so a crash never leaves a
//! half-written figure that looks finished.
//!
//! Data is never trusted: NaN and ±∞ are filtered out (a line is broken at the
//! gap rather than joined across it), points outside the axis ranges are
//! clipped, and an empty series still gives a readable figure with a "no data"
//! note. A diverged run is shown by its `note` (for example "diverged at step
//! 412"), not by plotting non-finite numbers.
//!
//! Text uses DejaVu Sans, embedded in the binary and registered with
//! [`plotters::style::register_font`] on first use, so figures render on a
//! machine without system fonts and Greek letters (θ, ψ, ρ, λ, γ) work.
//!
//! Colours: [`PALETTE`] (Tableau 10) for categorical series in every figure, so
//! that "series 2" has the same colour in a line plot and in a spectrum; viridis
//! for continuous values and for time along a trajectory.
//!
//! Legends sit beside (or, when wide, below) the chart so they never cover
//! data. Ticks are placed by this module: log axes read 10⁻³ … 1, and tick
//! labels use a typographic minus.
//!
//! # Example
//! ```no_run
//! use std::path::Path;
//! use redqueen::plot::{Arrow, Path2, PhasePortrait, phase_portrait};
//!
//! let spiral: Vec<(f64, f64)> = (0..400)
//!     .map(|k| {
//!         let t = k as f64 * 0.05;
//!         let r = 0.5 * (0.03 * t).exp();
//!         (r * t.cos(), r * t.sin())
//!     })
//!     .collect();
//! let p = PhasePortrait {
//!     title: "Dirac GAN, simGD, η = 0.1".into(),
//!     x_label: "θ".into(),
//!     y_label: "ψ".into(),
//!     x_range: (-2.0, 2.0),
//!     y_range: (-2.0, 2.0),
//!     arrows: vec![Arrow { x: 1.0, y: 0.0, u: 0.0, v: 0.5 }],
//!     trajectories: vec![Path2 { label: "simGD".into(), points: spiral }],
//!     equilibrium: Some((0.0, 0.0)),
//!     note: None,
//! };
//! // Writes figures/dirac/phase.png and figures/dirac/phase.svg.
//! phase_portrait(Path::new("figures/dirac/phase"), &p)?;
//! # Ok::<(), redqueen::error::Error>(())
//! ```

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{Error, Result};

mod eigen;
mod heatmap;
mod line;
mod phase;
mod surface;

#[cfg(test)]
mod tests;

pub use eigen::{EigenKind, EigenPlot, EigenSeries, eigenvalue_plot};
pub use heatmap::{Heatmap, LevelEdges, heatmap, level_set_edges};
pub use line::{Histogram, LinePlot, Series, histogram, line_plot};
pub use phase::{Arrow, Path2, PhasePortrait, phase_grid, phase_portrait};
pub use surface::{SurfaceFrame, surface_frames};

/// Tableau 10, the qualitative palette used for series in every figure.
///
/// Exposed so that other figures (or a report's HTML) can match colours: series
/// `k` is drawn with `PALETTE[k % PALETTE.len()]`.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Default size of a single-panel figure, in pixels.
pub const DEFAULT_SIZE: (u32, u32) = (800, 640);

/// Colour of cells whose value is NaN or infinite.
pub const NON_FINITE_GREY: RGBColor = RGBColor(175, 175, 175);

/// The font family name under which the embedded DejaVu Sans is registered.
const FONT: &str = "sans-serif";

// Font sizes in pixels at the default 800×640 size.
pub(crate) const TITLE_PX: f64 = 24.0;
pub(crate) const LABEL_PX: f64 = 20.0;
pub(crate) const TICK_PX: f64 = 16.0;
pub(crate) const LEGEND_PX: f64 = 16.0;

/// `label`, or "`kind` k+1" when it is empty, so legends never show a
/// swatch with no text.
pub(crate) fn label_or(label: &str, kind: &str, k: usize) -> String {
    if label.trim().is_empty() {
        format!("{kind} {}", k + 1)
    } else {
        label.to_string()
    }
}

/// Series colour for index `k`, cycling through [`PALETTE`].
#[must_use]
pub fn palette(k: usize) -> RGBColor {
    PALETTE[k % PALETTE.len()]
}

/// Registers the embedded DejaVu fonts once per process.
///
/// plotters' `ab_glyph` backend has no system-font fallback: without a
/// registered font every text call fails with `FontUnavailable`.
pub(crate) fn ensure_fonts() -> Result<()> {
    static FONTS: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let fonts: [(&str, FontStyle, &'static [u8]); 6] = [
                (FONT, FontStyle::Normal, dejavu::sans::regular()),
                (FONT, FontStyle::Bold, dejavu::sans::bold()),
                (FONT, FontStyle::Italic, dejavu::sans::oblique()),
                (FONT, FontStyle::Oblique, dejavu::sans::oblique()),
                // Also answer the other generic families so no plotters default
                // can hit an unregistered name.
                ("serif", FontStyle::Normal, dejavu::sans::regular()),
                ("monospace", FontStyle::Normal, dejavu::sans::regular()),
            ];
            for (name, style, bytes) in fonts {
                plotters::style::register_font(name, style, bytes)
                    .map_err(|_| format!("embedded font {name} is not a valid TTF"))?;
            }
            Ok(())
        })
        .clone()
        .map_err(|reason| Error::file("<embedded font>", reason))
}

/// Text style in the embedded font at `px` pixels.
pub(crate) fn font(px: f64) -> TextStyle<'static> {
    (FONT, px).into_font().into()
}

/// A drawing error carrying only its message, so that drawing code can be
/// written once, generic over the PNG and SVG backends, and still use `?`.
#[derive(Debug)]
pub(crate) struct DrawError(pub String);

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for DrawError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        DrawError(e.to_string())
    }
}

pub(crate) type DrawResult = std::result::Result<(), DrawError>;

/// A figure that can draw itself on any plotters backend.
pub(crate) trait Figure {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult;
}

/// `<stem>.<ext>`, appended rather than replaced so that stems such as
/// `lr_0.01` keep their dots.
pub(crate) fn with_ext(stem: &Path, ext: &str) -> PathBuf {
    let mut s: OsString = stem.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// Hidden temporary path beside `target`, keeping `target`'s extension last
/// because plotters picks the image encoder from the extension.
pub(crate) fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "figure".to_string());
    let (base, ext) = match name.rsplit_once('.') {
        Some((b, e)) => (b.to_string(), e.to_string()),
        None => (name.clone(), "png".to_string()),
    };
    // Process id plus a counter: two threads (or processes) writing the same
    // figure never share a temporary file.
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = format!(".{base}.tmp{}-{n}.{ext}", std::process::id());
    match target.parent() {
        Some(dir) => dir.join(tmp),
        None => PathBuf::from(tmp),
    }
}

/// Creates the parent directory of `path` if needed.
fn ensure_parent(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| Error::file(dir, e))?;
    }
    Ok(())
}

/// Renders to a temporary file with `render`, then renames it onto `target`.
/// The temporary file is removed if rendering fails.
pub(crate) fn atomic_write<F>(target: &Path, render: F) -> Result<()>
where
    F: FnOnce(&Path) -> std::result::Result<(), DrawError>,
{
    ensure_parent(target)?;
    let tmp = temp_path(target);
    if let Err(e) = render(&tmp) {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::file(target, e.0));
    }
    std::fs::rename(&tmp, target).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::file(target, e)
    })
}

/// Writes `<stem>.png` and `<stem>.svg` of `fig` at `size` pixels.
pub(crate) fn write_figure<F: Figure>(stem: &Path, size: (u32, u32), fig: &F) -> Result<()> {
    ensure_fonts()?;
    let png = with_ext(stem, "png");
    atomic_write(&png, |tmp| {
        let root = BitMapBackend::new(tmp, size).into_drawing_area();
        root.fill(&WHITE)?;
        fig.draw(&root)?;
        root.present()?;
        Ok(())
    })?;
    let svg = with_ext(stem, "svg");
    atomic_write(&svg, |tmp| {
        let root = SVGBackend::new(tmp, size).into_drawing_area();
        root.fill(&WHITE)?;
        fig.draw(&root)?;
        root.present()?;
        Ok(())
    })
}

// ---------------------------------------------------------------------------
// Numeric helpers shared by the figures.

/// Both coordinates finite.
pub(crate) fn finite2(p: &(f64, f64)) -> bool {
    p.0.is_finite() && p.1.is_finite()
}

/// Splits a polyline at non-finite points so that a gap is never bridged.
pub(crate) fn finite_runs(points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let mut runs = Vec::new();
    let mut cur = Vec::new();
    for p in points {
        if finite2(p) {
            cur.push(*p);
        } else if !cur.is_empty() {
            runs.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        runs.push(cur);
    }
    runs
}

/// A usable axis interval: finite, ordered and of non-zero width. Falls back
/// to `fallback` (or widens a degenerate interval) instead of failing.
pub(crate) fn sane_range(r: (f64, f64), fallback: (f64, f64)) -> (f64, f64) {
    let (a, b) = r;
    if !a.is_finite() || !b.is_finite() {
        return fallback;
    }
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    if hi - lo > 1e-12 * (1.0 + lo.abs().max(hi.abs())) {
        (lo, hi)
    } else {
        let w = if lo == 0.0 { 1.0 } else { 0.1 * lo.abs() };
        (lo - w, hi + w)
    }
}

/// Min and max of the finite values, if any.
pub(crate) fn finite_extent<I: IntoIterator<Item = f64>>(values: I) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// Widens an interval by `frac` of its width on each side.
pub(crate) fn pad(r: (f64, f64), frac: f64) -> (f64, f64) {
    let w = r.1 - r.0;
    (r.0 - frac * w, r.1 + frac * w)
}

/// Clips the segment `a`–`b` to the box `[x0,x1]×[y0,y1]` (Liang–Barsky).
/// Returns `None` if no part of it is inside.
pub(crate) fn clip_segment(
    a: (f64, f64),
    b: (f64, f64),
    xr: (f64, f64),
    yr: (f64, f64),
) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let mut t0 = 0.0_f64;
    let mut t1 = 1.0_f64;
    for (p, q) in [
        (-dx, a.0 - xr.0),
        (dx, xr.1 - a.0),
        (-dy, a.1 - yr.0),
        (dy, yr.1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
            if t0 > t1 {
                return None;
            }
        }
    }
    Some((
        (a.0 + t0 * dx, a.1 + t0 * dy),
        (a.0 + t1 * dx, a.1 + t1 * dy),
    ))
}

/// Clips a polyline to a box, returning the visible pieces. Non-finite points
/// break the line.
pub(crate) fn clip_polyline(
    points: &[(f64, f64)],
    xr: (f64, f64),
    yr: (f64, f64),
) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    for run in finite_runs(points) {
        if run.len() == 1 {
            let p = run[0];
            if p.0 >= xr.0 && p.0 <= xr.1 && p.1 >= yr.0 && p.1 <= yr.1 {
                out.push(vec![p]);
            }
            continue;
        }
        let mut cur: Vec<(f64, f64)> = Vec::new();
        for w in run.windows(2) {
            match clip_segment(w[0], w[1], xr, yr) {
                Some((p, q)) => {
                    if cur.last() != Some(&p) {
                        if !cur.is_empty() {
                            out.push(std::mem::take(&mut cur));
                        }
                        cur.push(p);
                    }
                    cur.push(q);
                }
                None => {
                    if !cur.is_empty() {
                        out.push(std::mem::take(&mut cur));
                    }
                }
            }
        }
        if !cur.is_empty() {
            out.push(cur);
        }
    }
    out
}

/// Viridis colour at `t ∈ [0, 1]` (clamped; NaN maps to 0).
pub(crate) fn viridis(t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    ViridisRGB::get_color(t)
}

/// Blends `c` towards white by `w ∈ [0, 1]`.
pub(crate) fn lighten(c: RGBColor, w: f64) -> RGBColor {
    let f = |x: u8| (f64::from(x) + (255.0 - f64::from(x)) * w).round() as u8;
    RGBColor(f(c.0), f(c.1), f(c.2))
}

// ---------------------------------------------------------------------------
// Axes with our own tick placement: plotters' automatic ticks are fine for
// linear axes but print log axes as raw floats, so both kinds go through
// `Axis`, which maps data to plot coordinates (log10 for log axes) and chooses
// the key points and their labels.

/// One axis: data interval, optional log scale, and tick placement.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Axis {
    /// Interval in plot coordinates (log10 of the data for a log axis).
    pub lo: f64,
    /// Upper end in plot coordinates.
    pub hi: f64,
    /// Whether plot coordinates are log10 of data.
    pub log: bool,
}

impl Axis {
    /// A linear axis over `r` (sanitised).
    pub fn linear(r: (f64, f64)) -> Self {
        let (lo, hi) = sane_range(r, (0.0, 1.0));
        Axis { lo, hi, log: false }
    }

    /// A log axis over the data interval `r` (both ends must be positive;
    /// otherwise a default decade range is used).
    pub fn log(r: (f64, f64)) -> Self {
        let (a, b) = r;
        let (lo, hi) = if a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite() {
            sane_range((a.log10(), b.log10()), (0.0, 1.0))
        } else {
            (0.0, 1.0)
        };
        Axis { lo, hi, log: true }
    }

    /// Linear or log axis over data interval `r`.
    pub fn new(r: (f64, f64), log: bool) -> Self {
        if log { Self::log(r) } else { Self::linear(r) }
    }

    /// Data value to plot coordinate; `None` if it cannot be shown.
    pub fn fwd(&self, v: f64) -> Option<f64> {
        if !v.is_finite() {
            return None;
        }
        if self.log {
            (v > 0.0).then(|| v.log10())
        } else {
            Some(v)
        }
    }

    /// The plot-coordinate interval.
    pub fn range(&self) -> (f64, f64) {
        (self.lo, self.hi)
    }

    /// Tick positions in plot coordinates.
    pub fn ticks(&self) -> Vec<f64> {
        if self.log {
            let first = self.lo.ceil() as i64;
            let last = self.hi.floor() as i64;
            if !self.dense_log() {
                let decades = last - first + 1;
                let step = ((decades as f64) / 7.0).ceil().max(1.0) as i64;
                return (first..=last)
                    .filter(|e| (e - first) % step == 0)
                    .map(|e| e as f64)
                    .collect();
            }
            // Fewer than three powers of ten visible: label 2× and 5× too
            // (every integer multiple within a single decade).
            let mults: &[f64] = if self.hi - self.lo < 1.0 {
                &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
            } else {
                &[1.0, 2.0, 5.0]
            };
            let mut t = Vec::new();
            for e in (self.lo.floor() as i64)..=(self.hi.ceil() as i64) {
                for &m in mults {
                    let v = (m * 10f64.powi(e as i32)).log10();
                    if v >= self.lo - 1e-9 && v <= self.hi + 1e-9 {
                        t.push(v);
                    }
                }
            }
            if t.len() < 2 {
                // Well under a decade: fall back to linear-style ticks.
                t = nice_ticks(10f64.powf(self.lo), 10f64.powf(self.hi), 5)
                    .into_iter()
                    .filter(|v| *v > 0.0)
                    .map(f64::log10)
                    .collect();
            }
            t
        } else {
            nice_ticks(self.lo, self.hi, 7)
        }
    }

    /// A log axis showing fewer than three powers of ten, which gets ticks
    /// at 2× and 5× as well and plain-number labels.
    fn dense_log(&self) -> bool {
        self.log && (self.hi.floor() - self.lo.ceil()) < 2.0
    }

    /// Label for a tick at plot coordinate `t`.
    pub fn label(&self, t: f64) -> String {
        if self.log {
            let r = t.round();
            // Mixing "10⁻¹" with "0.2" reads badly, so dense axes use plain numbers.
            if (t - r).abs() < 1e-9 && !self.dense_log() {
                pow10_label(r as i32)
            } else {
                minus_sign(fmt_num(10f64.powf(t), 3))
            }
        } else {
            let step = nice_step(self.hi - self.lo, 7);
            minus_sign(fmt_tick(t, step))
        }
    }
}

/// Typographic minus (U+2212) instead of the hyphen, as in print.
pub(crate) fn minus_sign(s: String) -> String {
    if s.contains('-') {
        s.replace('-', "−")
    } else {
        s
    }
}

/// "10⁻³" style label with Unicode superscripts (present in DejaVu Sans).
pub(crate) fn pow10_label(e: i32) -> String {
    match e {
        0 => "1".to_string(),
        1 => "10".to_string(),
        _ => {
            const SUP: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
            let mut s = String::from("10");
            if e < 0 {
                s.push('⁻');
            }
            for d in e.unsigned_abs().to_string().chars() {
                s.push(SUP[d.to_digit(10).unwrap_or(0) as usize]);
            }
            s
        }
    }
}

/// A 1-2-5 step giving about `n` intervals over `span`.
pub(crate) fn nice_step(span: f64, n: usize) -> f64 {
    if !(span.is_finite() && span > 0.0) {
        return 1.0;
    }
    let raw = span / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let m = if f < 1.5 {
        1.0
    } else if f < 3.0 {
        2.0
    } else if f < 7.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// Multiples of a 1-2-5 step inside `[lo, hi]`.
pub(crate) fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let step = nice_step(hi - lo, n);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    if last < first || last - first > 1000 {
        return vec![lo, hi];
    }
    (first..=last)
        .map(|k| {
            let v = k as f64 * step;
            // Avoid printing "-0".
            if v.abs() < step * 1e-9 { 0.0 } else { v }
        })
        .collect()
}

/// Formats a tick value with just enough decimals for `step`.
pub(crate) fn fmt_tick(v: f64, step: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        return format!("{v:.1e}");
    }
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil().clamp(0.0, 6.0) as usize
    };
    format!("{v:.decimals$}")
}

/// Compact number: `sig` significant digits, scientific outside [1e-3, 1e5).
pub(crate) fn fmt_num(v: f64, sig: usize) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if a == 0.0 {
        return "0".to_string();
    }
    if !(1e-3..1e5).contains(&a) {
        return format!("{v:.prec$e}", prec = sig.saturating_sub(1));
    }
    let decimals = (sig as i32 - 1 - a.log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

// ---------------------------------------------------------------------------
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
/// long labels never squeeze the plot into a sliver.
pub(crate) fn split_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(Swatch, String)],
    px: f64,
    margin: u32,
) -> (DrawingArea<DB, Shift>, Option<LegendSlot<DB>>) {
    if entries.is_empty() {
        return (area.clone(), None);
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
        (a, Some(LegendSlot { area: b, at }))
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
