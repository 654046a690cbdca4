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
use plotters::prelude::*;

use crate::error::{Error, Result};

mod draw;
mod eigen;
mod heatmap;
mod line;
mod numeric;
mod phase;
mod surface;

#[cfg(test)]
mod tests;

pub use eigen::{EigenKind, EigenPlot, EigenSeries, eigenvalue_gif, eigenvalue_plot};
pub use heatmap::{Heatmap, LevelEdges, heatmap, level_set_edges};
pub use line::{Histogram, LinePlot, Series, histogram, line_plot};
pub use phase::{Arrow, Path2, PhasePortrait, phase_grid, phase_portrait};
pub use surface::{SurfaceFrame, cell_centres, surface, surface_frames};

pub(crate) use draw::*;
pub(crate) use numeric::*;

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

/// Renders to a temporary file with `render`, then renames it onto `target`
/// ([`crate::output::write_atomic_with`]: the target is checked, the temporary file is
/// removed on failure).
pub(crate) fn atomic_write<F>(target: &Path, render: F) -> Result<()>
where
    F: FnOnce(&Path) -> std::result::Result<(), DrawError>,
{
    crate::output::write_atomic_with(target, |tmp| render(tmp).map_err(|e| e.0))
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
