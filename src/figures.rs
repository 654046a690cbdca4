//! Figures of redqueen's result types: the bridge from games, runs and maps to the plain
//! data structs of [`crate::plot`].

use std::path::Path;

use plotters::style::RGBColor;

use crate::analysis::{MapClass, SimClass, StabilityCell, TrajectoryMetrics};
use crate::dynamics::{RuleSpec, Trajectory};
use crate::error::Result;
use crate::game::Game;
use crate::linalg::Vector;
use crate::plot::{
    self, Arrow, EigenKind, EigenPlot, EigenSeries, Heatmap, LinePlot, Path2, PhasePortrait, Series,
};

/// Arrows per axis of the vector field in phase portraits (the notebook uses 10).
pub const FIELD_GRID: usize = 12;

/// Axis label of a coordinate: Greek letters for the Dirac-GAN.
#[must_use]
pub fn coordinate_label(name: &str) -> String {
    match name {
        "theta" => "θ (generator)".into(),
        "psi" => "ψ (discriminator)".into(),
        "prey" => "prey x (generator quality)".into(),
        "predator" => "predator y (discriminator strength)".into(),
        "x" => "x (generator)".into(),
        "y" => "y (discriminator)".into(),
        other => other.into(),
    }
}

/// The plotting window of a run: the notebook's [−2, 2]² when it holds the whole run,
/// else the run's bounding box around the equilibrium, padded by 10 %.
fn window(points: &[(f64, f64)], c: (f64, f64)) -> ((f64, f64), (f64, f64)) {
    let (mut x0, mut x1, mut y0, mut y1) = (c.0 - 2.0, c.0 + 2.0, c.1 - 2.0, c.1 + 2.0);
    for &(x, y) in points {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    let (px, py) = (0.1 * (x1 - x0), 0.1 * (y1 - y0));
    ((x0 - px, x1 + px), (y0 - py, y1 + py))
}

/// The phase portrait of one run in the (first generator, first discriminator)
/// coordinate plane, with the field on that plane through the equilibrium.
#[must_use]
pub fn run_panel(
    game: &dyn Game,
    title: &str,
    traj: &Trajectory,
    center: &Vector,
    metrics: &TrajectoryMetrics,
) -> PhasePortrait {
    let (ig, id) = (0, game.split());
    let names = game.coordinate_names();
    let points: Vec<(f64, f64)> = traj.states.iter().map(|s| (s[ig], s[id])).collect();
    let c = (center[ig], center[id]);
    let (xr, yr) = window(&points, c);
    let mut arrows = Vec::with_capacity(FIELD_GRID * FIELD_GRID);
    for a in 0..FIELD_GRID {
        for b in 0..FIELD_GRID {
            let x = xr.0 + (xr.1 - xr.0) * (a as f64 + 0.5) / FIELD_GRID as f64;
            let y = yr.0 + (yr.1 - yr.0) * (b as f64 + 0.5) / FIELD_GRID as f64;
            let mut p = center.clone();
            p[ig] = x;
            p[id] = y;
            let v = game.field(&p);
            arrows.push(Arrow {
                x,
                y,
                u: v[ig],
                v: v[id],
            });
        }
    }
    // Short enough to fit a 400-px grid panel; the title carries the rule and rates.
    let note = match traj.stop.diverged_step() {
        Some(_) => format!("{} · {}", metrics.class.as_str(), traj.stop.describe()),
        None => format!(
            "{} · winding {:.1} · distance {:.1e}",
            metrics.class.as_str(),
            metrics.winding,
            metrics.final_distance
        ),
    };
    PhasePortrait {
        title: title.to_string(),
        x_label: coordinate_label(&names[ig]),
        y_label: coordinate_label(&names[id]),
        x_range: xr,
        y_range: yr,
        arrows,
        trajectories: vec![Path2 {
            label: "trajectory".into(),
            points,
        }],
        equilibrium: Some(c),
        note: Some(note),
    }
}

/// Writes the phase portrait of one run (`<stem>.png`, `<stem>.svg`).
///
/// # Errors
/// [`crate::error::Error::File`].
pub fn phase_portrait_of_run(
    stem: &Path,
    game: &dyn Game,
    spec: &RuleSpec,
    traj: &Trajectory,
    center: &Vector,
    metrics: &TrajectoryMetrics,
) -> Result<()> {
    let title = format!("{} · {}", game.name(), spec.describe());
    plot::phase_portrait(stem, &run_panel(game, &title, traj, center, metrics))
}

/// Distance to the equilibrium against step (log scale) for several runs.
///
/// # Errors
/// [`crate::error::Error::File`].
pub fn distance_curves(
    stem: &Path,
    title: &str,
    runs: &[(String, &Trajectory, &Vector)],
) -> Result<()> {
    let series = runs
        .iter()
        .map(|(label, t, c)| Series {
            label: label.clone(),
            points: t
                .states
                .iter()
                .enumerate()
                .map(|(k, s)| (k as f64, (&Vector::from_vec(s.clone()) - *c).norm()))
                .collect(),
        })
        .collect();
    plot::line_plot(
        stem,
        &LinePlot {
            title: title.into(),
            x_label: "step".into(),
            y_label: "distance to equilibrium ‖x − x*‖".into(),
            log_y: true,
            log_x: false,
            series,
            hlines: vec![],
        },
    )
}

/// Eigenvalues of the flow (J) or of update maps (∂F) in the complex plane.
///
/// # Errors
/// [`crate::error::Error::File`].
pub fn eigenvalue_figure(
    stem: &Path,
    title: &str,
    map: bool,
    series: Vec<(String, Vec<crate::linalg::Eigenvalue>)>,
) -> Result<()> {
    plot::eigenvalue_plot(
        stem,
        &EigenPlot {
            title: title.into(),
            kind: if map { EigenKind::Map } else { EigenKind::Flow },
            series: series
                .into_iter()
                .map(|(label, ev)| EigenSeries {
                    label,
                    points: ev.iter().map(|z| (z.re, z.im)).collect(),
                })
                .collect(),
        },
    )
}

/// Category colours of the simulated classes, shared by every map.
#[must_use]
pub fn sim_class_colours() -> Vec<(String, RGBColor)> {
    SimClass::ALL
        .iter()
        .map(|c| {
            let colour = match c {
                SimClass::Converged => RGBColor(44, 160, 44),
                SimClass::Converging => RGBColor(152, 223, 138),
                SimClass::Cycling => RGBColor(31, 119, 180),
                SimClass::Stalled => RGBColor(188, 189, 34),
                SimClass::Diverging => RGBColor(255, 152, 150),
                SimClass::Diverged => RGBColor(214, 39, 40),
                SimClass::Undecided => RGBColor(199, 199, 199),
            };
            (c.as_str().to_string(), colour)
        })
        .collect()
}

/// Writes the heat maps of a stability map: `<stem>_rho` (spectral radius with the
/// ρ = 1 contour; only when some cell has a linearised map, e.g. not for Adam) and
/// `<stem>_class` (simulated class). η_G runs along x, η_D along y. Returns the PNG
/// files written (each has an SVG beside it).
///
/// # Errors
/// [`crate::error::Error::File`].
pub fn stability_figures(
    stem: &Path,
    title: &str,
    lr_g: &[f64],
    lr_d: &[f64],
    cells: &[StabilityCell],
) -> Result<Vec<std::path::PathBuf>> {
    let mut written = Vec::new();
    let (ng, nd) = (lr_g.len(), lr_d.len());
    // Cells are row-major over lr_g; the heat map's rows are its y axis (lr_d).
    let at = |i_d: usize, j_g: usize| &cells[j_g * nd + i_d];
    let rho: Vec<f64> = (0..nd * ng)
        .map(|k| at(k / ng, k % ng).spectral_radius.unwrap_or(f64::NAN))
        .collect();
    let class: Vec<f64> = (0..nd * ng)
        .map(|k| {
            let c = at(k / ng, k % ng).sim.class;
            SimClass::ALL.iter().position(|x| *x == c).unwrap_or(0) as f64
        })
        .collect();
    let disagree = cells.iter().filter(|c| c.agrees() == Some(false)).count();
    let has_map = cells.iter().any(|c| c.map_class.is_some());
    let base = |t: String, values: Vec<f64>| Heatmap {
        title: t,
        x_label: "η_G (generator learning rate)".into(),
        y_label: "η_D (discriminator learning rate)".into(),
        x: lr_g.to_vec(),
        y: lr_d.to_vec(),
        values,
        log_x: true,
        log_y: true,
        ..Default::default()
    };
    if has_map {
        let finite: Vec<f64> = rho.iter().copied().filter(|v| v.is_finite()).collect();
        let (lo, hi) = finite
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        plot::heatmap(
            &with_suffix(stem, "_rho"),
            &Heatmap {
                colorbar_label: "spectral radius ρ of the update map".into(),
                contour: Some(1.0 + crate::analysis::RHO_TOL),
                value_range: if lo.is_finite() {
                    Some((lo.min(1.0), hi.max(1.0)))
                } else {
                    None
                },
                ..base(format!("{title}: ρ(∂F), black line ρ = 1"), rho)
            },
        )?;
        written.push(with_suffix(stem, "_rho.png"));
    }
    let steps = cells.first().map_or(0, |c| c.sim.steps);
    plot::heatmap(
        &with_suffix(stem, "_class"),
        &Heatmap {
            categories: Some(sim_class_colours()),
            colorbar_label: "simulated class".into(),
            ..base(
                format!(
                    "{title}: simulated class after {steps} steps ({disagree} cells disagree with ρ)"
                ),
                class,
            )
        },
    )?;
    written.push(with_suffix(stem, "_class.png"));
    Ok(written)
}

/// `stem` with a suffix added to its file name.
#[must_use]
pub fn with_suffix(stem: &Path, suffix: &str) -> std::path::PathBuf {
    let name = stem
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    stem.with_file_name(format!("{name}{suffix}"))
}

/// The map class name, or "n/a".
#[must_use]
pub fn map_class_str(c: Option<MapClass>) -> &'static str {
    c.map_or("n/a", MapClass::as_str)
}
