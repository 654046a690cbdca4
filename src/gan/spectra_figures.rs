//! The figures of `redqueen spectrum --run` and `redqueen path-angle` (PNG and SVG):
//! eigenvalues in the complex plane coloured by step (the game's, with the imaginary
//! axis; the update map's, with the unit circle) and their GIF over checkpoints; max
//! Re λ, max |Im λ|, the rotation index and ρ against step; the Hessian extremes
//! against step; the path-angle curves.

use std::path::{Path, PathBuf};

use super::spectra::RunSpectra;
use crate::analysis::path_angle::PathAnglePoint;
use crate::error::Result;
use crate::plot::{
    EigenKind, EigenPlot, EigenSeries, LinePlot, Series, eigenvalue_gif, eigenvalue_plot, line_plot,
};

fn stem_files(out: &Path, stem: &str) -> Vec<PathBuf> {
    ["png", "svg"]
        .iter()
        .map(|e| out.join(format!("{stem}.{e}")))
        .collect()
}

fn eigen_series(r: &RunSpectra, matrix: &str) -> Vec<EigenSeries> {
    r.steps
        .iter()
        .map(|s| EigenSeries {
            label: format!("step {}", s.step),
            points: s
                .spectra
                .rows
                .iter()
                .filter(|e| e.matrix == matrix)
                .map(|e| (e.re, e.im))
                .collect(),
        })
        .collect()
}

fn line(r: &RunSpectra, label: &str, f: &dyn Fn(&super::spectra::StepSpectra) -> f64) -> Series {
    Series {
        label: label.into(),
        points: r.steps.iter().map(|s| (s.step as f64, f(s))).collect(),
    }
}

/// Draws every figure of a spectra run into `out`; returns the files.
///
/// # Errors
/// [`crate::error::Error::File`] if a file cannot be written.
pub fn spectra_figures(r: &RunSpectra, out: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let method = r.jvp_method.name();
    for (matrix, kind, stem, what) in [
        ("game", EigenKind::Flow, "eigenvalues_game", "Jacobian J"),
        ("map", EigenKind::Map, "eigenvalues_map", "update map ∂F"),
    ] {
        let plot = EigenPlot {
            title: format!("eigenvalues of the {what} by step ({method} products)"),
            kind,
            series: eigen_series(r, matrix),
        };
        eigenvalue_plot(&out.join(stem), &plot)?;
        files.extend(stem_files(out, stem));
    }
    let frames: Vec<EigenPlot> = eigen_series(r, "game")
        .into_iter()
        .map(|s| EigenPlot {
            title: format!("eigenvalues of J, {}", s.label),
            kind: EigenKind::Flow,
            series: vec![s],
        })
        .collect();
    let gif = out.join("eigenvalues_game.gif");
    eigenvalue_gif(&gif, &frames, 600)?;
    files.push(gif);
    let plots = [
        (
            "spectrum_vs_step",
            "largest real and imaginary parts of λ(J)",
            "λ",
            vec![
                line(r, "max Re λ", &|s| s.spectra.max_re),
                line(r, "max |Im λ|", &|s| s.spectra.max_abs_im),
            ],
        ),
        (
            "rotation_vs_step",
            "rotation index ‖A‖²/‖J‖² (95 % interval) and ρ of the update map",
            "value",
            vec![
                line(r, "rotation index", &|s| s.spectra.rotation.value),
                line(r, "interval low", &|s| s.spectra.rotation.lo),
                line(r, "interval high", &|s| s.spectra.rotation.hi),
                line(r, "ρ(∂F)", &|s| s.spectra.map_rho),
            ],
        ),
        (
            "hessians_vs_step",
            "extreme eigenvalues of the players' Hessians",
            "λ",
            vec![
                line(r, "λ_min(H_G)", &|s| s.spectra.hessian_g.0),
                line(r, "λ_max(H_G)", &|s| s.spectra.hessian_g.1),
                line(r, "λ_min(H_D)", &|s| s.spectra.hessian_d.0),
                line(r, "λ_max(H_D)", &|s| s.spectra.hessian_d.1),
            ],
        ),
    ];
    for (stem, title, y, series) in plots {
        let lp = LinePlot {
            title: title.into(),
            x_label: "step".into(),
            y_label: y.into(),
            series,
            hlines: vec![(0.0, "0".into())],
            ..LinePlot::default()
        };
        line_plot(&out.join(stem), &lp)?;
        files.extend(stem_files(out, stem));
    }
    Ok(files)
}

/// The path-angle figures: the cosine and ‖v‖ against α, with the end points marked.
///
/// # Errors
/// [`crate::error::Error::File`] if a file cannot be written.
pub fn path_angle_figures(
    pts: &[PathAnglePoint],
    (a, b): (usize, usize),
    out: &Path,
) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for (stem, y, f) in [
        (
            "path_angle_cosine",
            "cos ∠(v(x(α)), x_B − x_A)",
            (|p: &PathAnglePoint| p.cosine) as fn(&PathAnglePoint) -> f64,
        ),
        ("path_angle_norm", "‖v(x(α))‖", |p: &PathAnglePoint| {
            p.field_norm
        }),
    ] {
        let lp = LinePlot {
            title: format!("path-angle from step {a} (α = 0) to step {b} (α = 1)"),
            x_label: "α".into(),
            y_label: y.into(),
            series: vec![Series {
                label: y.into(),
                points: pts.iter().map(|p| (p.alpha, f(p))).collect(),
            }],
            hlines: vec![(0.0, "0".into())],
            ..LinePlot::default()
        };
        line_plot(&out.join(stem), &lp)?;
        files.extend(stem_files(out, stem));
    }
    Ok(files)
}
