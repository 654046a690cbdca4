//! Synthetic data sets and latent distributions, sampled with an explicit seeded RNG.
//!
//! A [`Dataset`] is the serde description (as written in a `[train]` config); it is
//! validated into a [`DataSampler`], which draws batches (rows = samples) and knows
//! the mode means and stds where the target has modes (for the coverage metrics in
//! [`crate::metrics::neural`]).

use std::f64::consts::TAU;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

mod latent;
mod points;
mod sampler;
#[cfg(test)]
mod tests;

pub use latent::{Latent, LatentKind};
pub use points::read_points;

/// Coverage radius used for point (Dirac) targets, whose std is 0: a sample counts as
/// "at" a point when it is within this distance (the two-point test's criterion).
pub const POINT_COVERAGE_RADIUS: f64 = 0.1;

/// A target distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Dataset {
    /// 1-D mixture Σ_k w_k N(μ_k, σ_k²) (seed 000: ½N(−2, 0.5²) + ½N(2, 0.5²)).
    GaussianMixture1d {
        /// μ_k.
        means: Vec<f64>,
        /// σ_k > 0.
        stds: Vec<f64>,
        /// w_k ≥ 0 (normalised to sum 1).
        weights: Vec<f64>,
    },
    /// 2-D ring: `modes` (by default equally weighted) isotropic Gaussians with means at angles
    /// 2πk/modes on the circle of radius `radius` (gan-vis: 3 modes, radius 1, std 0.05).
    Ring {
        /// Number of modes k ≥ 1.
        #[serde(default = "default_ring_modes")]
        modes: usize,
        /// Circle radius.
        #[serde(default = "one")]
        radius: f64,
        /// Isotropic std of each mode.
        #[serde(default = "default_ring_std")]
        std: f64,
        /// Optional mode weights w_k ≥ 0 (normalised to sum 1; default equal). Added for
        /// the one-mode study's unequal-weight check (seed 001).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        weights: Option<Vec<f64>>,
    },
    /// 2-D `side × side` grid of isotropic Gaussians centred on the origin, neighbours
    /// `spacing` apart.
    Grid {
        /// Modes per side.
        #[serde(default = "default_grid_side")]
        side: usize,
        /// Distance between neighbouring means.
        #[serde(default = "one")]
        spacing: f64,
        /// Isotropic std of each mode.
        #[serde(default = "default_ring_std")]
        std: f64,
    },
    /// The two points (−1, 0) and (1, 0), equally likely (seed 002).
    TwoPoints,
    /// The four points (±1, 0), (0, ±1), equally likely (seed 002).
    FourPoints,
    /// The uniform distribution on the unit circle (angle U[0, 2π)).
    UnitCircle,
    /// PacGAN's 2-D ring (Lin et al. 2018, Table 1; VEEGAN's benchmark, Srivastava et
    /// al. 2017): 8 equally weighted isotropic Gaussians with means (cos 2πk/8, sin 2πk/8) on
    /// the unit circle and std 0.01. A preset: it builds as
    /// `Ring { modes: 8, radius: 1, std: 0.01 }` (see [`Dataset::expanded`]); write that general
    /// form to change a parameter. Source: the PacGAN repository (github fjxmlzn/PacGAN),
    /// `synthetic_data_experiments/2DRing_GAN&PacGAN/config.py`:
    /// `MEANS = [(cos(id·2π/8), sin(id·2π/8)) for id in range(8)]`,
    /// `VARIANCES = [0.01² · I₂]`, `x_mode_priors = None` (equal weights).
    Ring8,
    /// PacGAN's 2-D grid (Lin et al. 2018, Table 1): 25 equally weighted isotropic
    /// Gaussians with means {−4, −2, 0, 2, 4}² and std 0.05. A preset: it builds as
    /// `Grid { side: 5, spacing: 2, std: 0.05 }`, whose means (i − 2)·2 for i = 0..4 are
    /// exactly {−4, −2, 0, 2, 4}² (see [`Dataset::expanded`]). Source: the PacGAN repository,
    /// `synthetic_data_experiments/2DGrid_GAN&PacGAN/config.py`:
    /// `MEANS = [(i, j) for i, j in product(range(-4, 5, 2), range(-4, 5, 2))]`,
    /// `VARIANCES = [0.05² · I₂]`, `x_mode_priors = None`.
    Grid25,
    /// Points read from a CSV file (one point a row, all rows the same number of
    /// numeric columns; an optional header row of non-numbers), drawn uniformly with
    /// replacement.
    Csv {
        /// The file.
        path: PathBuf,
    },
}

fn default_ring_modes() -> usize {
    3
}
fn one() -> f64 {
    1.0
}
fn default_ring_std() -> f64 {
    0.05
}
fn default_grid_side() -> usize {
    5
}

impl Default for Dataset {
    /// The gan-vis ring (3 modes, radius 1, std 0.05).
    fn default() -> Self {
        Dataset::Ring {
            modes: 3,
            radius: 1.0,
            std: 0.05,
            weights: None,
        }
    }
}

/// The modes of a target, for coverage metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Modes {
    /// Mode means (each of the data dimension).
    pub means: Vec<Vec<f64>>,
    /// Per-mode isotropic std (0 for point targets).
    pub stds: Vec<f64>,
    /// Per-mode radius within which a sample counts as belonging to the mode:
    /// 3σ_k, or [`POINT_COVERAGE_RADIUS`] for points.
    pub radii: Vec<f64>,
    /// Mixture weights.
    pub weights: Vec<f64>,
}

/// A validated data set that draws batches.
#[derive(Debug, Clone)]
pub struct DataSampler {
    spec: Dataset,
    dim: usize,
    /// Mode means for mixtures and point sets; empty otherwise.
    centres: Vec<Vec<f64>>,
    stds: Vec<f64>,
    cumulative: Vec<f64>,
    /// Points of a CSV data set.
    points: Vec<Vec<f64>>,
}

/// PacGAN's ring: number of modes (config.py of `2DRing_GAN&PacGAN`).
pub const RING8_MODES: usize = 8;
/// PacGAN's ring: radius of the circle of means.
pub const RING8_RADIUS: f64 = 1.0;
/// PacGAN's ring: isotropic std of each mode (`VARIANCES = 0.01² · I`).
pub const RING8_STD: f64 = 0.01;
/// PacGAN's grid: modes per side (`range(-4, 5, 2)` has 5 values).
pub const GRID25_SIDE: usize = 5;
/// PacGAN's grid: spacing of neighbouring means (the step of `range(-4, 5, 2)`).
pub const GRID25_SPACING: f64 = 2.0;
/// PacGAN's grid: isotropic std of each mode (`VARIANCES = 0.05² · I`).
pub const GRID25_STD: f64 = 0.05;

impl Dataset {
    /// Density of a 1-D Gaussian mixture at `x`: Σ (wₖ/Σw) φ((x − μₖ)/σₖ)/σₖ (None for
    /// other data sets).
    #[must_use]
    pub fn mixture_density(&self, x: f64) -> Option<f64> {
        let Dataset::GaussianMixture1d {
            means,
            stds,
            weights,
        } = self
        else {
            return None;
        };
        let tot: f64 = weights.iter().sum();
        Some(
            means
                .iter()
                .zip(stds)
                .zip(weights)
                .map(|((m, s), w)| {
                    w / tot * (-(x - m).powi(2) / (2.0 * s * s)).exp()
                        / (s * (std::f64::consts::TAU).sqrt())
                })
                .sum(),
        )
    }

    /// The isotropic standard deviation shared by every mode, for the targets made of
    /// equal Gaussian modes (`ring`, `grid` and their presets `ring8`, `grid25`); None for the others (mixtures with one std
    /// per mode, points, the circle, CSV data). Reports quote it as σ of "within 3σ".
    #[must_use]
    pub fn mode_std(&self) -> Option<f64> {
        match self.expanded() {
            Dataset::Ring { std, .. } | Dataset::Grid { std, .. } => Some(std),
            _ => None,
        }
    }

    /// A data set given by name alone, as `{ kind = "<name>" }` in a config: `ring8`, `grid25`,
    /// `two_points`, `four_points`, `unit_circle`, and `ring` / `grid` with their defaults.
    /// Used where a command takes a data set on the command line (e.g. the modes of
    /// `redqueen metrics`).
    ///
    /// # Errors
    /// [`Error::Param`] (key `key`) naming the value when it is not a data set that needs no
    /// further parameters.
    pub fn named(key: &str, name: &str) -> Result<Dataset> {
        #[derive(Deserialize)]
        struct Wrap {
            dataset: Dataset,
        }
        let mut table = toml::Table::new();
        let mut inner = toml::Table::new();
        inner.insert("kind".into(), toml::Value::String(name.into()));
        table.insert("dataset".into(), toml::Value::Table(inner));
        toml::Value::Table(table)
            .try_into::<Wrap>()
            .map(|w| w.dataset)
            .map_err(|e| {
                // serde's "unknown variant" lists every kind, including those that need more
                // keys; keep only the reasons that say something else (a missing key).
                let why = e.message();
                let why = if why.starts_with("unknown variant") {
                    "unknown data set".to_string()
                } else {
                    format!("it needs more keys ({why})")
                };
                Error::param(
                    key,
                    format!(
                        "{name:?} is not a data set given by name alone (ring8, grid25, two_points, \
                         four_points, unit_circle, ring, grid): {why}"
                    ),
                )
            })
    }

    /// The general form of a preset (`Ring8` → `Ring { modes: 8, radius: 1, std: 0.01 }`,
    /// `Grid25` → `Grid { side: 5, spacing: 2, std: 0.05 }`); every other variant unchanged.
    #[must_use]
    pub fn expanded(&self) -> Dataset {
        match self {
            Dataset::Ring8 => Dataset::Ring {
                modes: RING8_MODES,
                radius: RING8_RADIUS,
                std: RING8_STD,
                weights: None,
            },
            Dataset::Grid25 => Dataset::Grid {
                side: GRID25_SIDE,
                spacing: GRID25_SPACING,
                std: GRID25_STD,
            },
            other => other.clone(),
        }
    }

    /// Validates the description (and reads the CSV file) into a sampler. A preset
    /// (`ring8`, `grid25`) builds its [`Dataset::expanded`] general form, which is then what
    /// [`DataSampler::spec`] reports.
    ///
    /// # Errors
    /// [`Error::Param`] for inconsistent or non-positive parameters (naming the key),
    /// [`Error::File`] for an unreadable or malformed CSV (naming file, line, reason).
    pub fn build(&self) -> Result<DataSampler> {
        let mut centres = Vec::new();
        let mut stds = Vec::new();
        let mut weights = Vec::new();
        let mut points = Vec::new();
        let dim;
        match self {
            Dataset::GaussianMixture1d {
                means,
                stds: s,
                weights: w,
            } => {
                check_count(
                    "dataset.means",
                    means.len().max(1),
                    &format!("{}", means.len()),
                )?;
                if means.is_empty() || means.len() != s.len() || means.len() != w.len() {
                    return Err(Error::param(
                        "dataset.means",
                        format!(
                            "means, stds and weights need the same non-zero length (got {}, {}, {})",
                            means.len(),
                            s.len(),
                            w.len()
                        ),
                    ));
                }
                if let Some(v) = s.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
                    return Err(Error::param(
                        "dataset.stds",
                        format!("std {v} is not positive"),
                    ));
                }
                if w.iter().any(|v| !(v.is_finite() && *v >= 0.0)) || w.iter().sum::<f64>() <= 0.0 {
                    return Err(Error::param(
                        "dataset.weights",
                        "weights must be non-negative with a positive sum",
                    ));
                }
                if means.iter().any(|v| !v.is_finite()) {
                    return Err(Error::param("dataset.means", "means must be finite"));
                }
                dim = 1;
                centres = means.iter().map(|m| vec![*m]).collect();
                stds.clone_from(s);
                weights.clone_from(w);
            }
            Dataset::Ring {
                modes,
                radius,
                std,
                weights: w,
            } => {
                check_count("dataset.modes", *modes, &format!("{modes}"))?;
                check_pos("dataset.radius", *radius)?;
                check_nonneg("dataset.std", *std)?;
                dim = 2;
                for k in 0..*modes {
                    let a = TAU * k as f64 / *modes as f64;
                    centres.push(vec![radius * a.cos(), radius * a.sin()]);
                }
                stds = vec![*std; *modes];
                weights = match w {
                    None => vec![1.0; *modes],
                    Some(w) => {
                        if w.len() != *modes
                            || w.iter().any(|v| !(v.is_finite() && *v >= 0.0))
                            || w.iter().sum::<f64>() <= 0.0
                        {
                            return Err(Error::param(
                                "dataset.weights",
                                format!(
                                    "need {modes} non-negative weights with a positive sum, got {w:?}"
                                ),
                            ));
                        }
                        w.clone()
                    }
                };
            }
            Dataset::Grid { side, spacing, std } => {
                check_count(
                    "dataset.side",
                    side.saturating_mul(*side),
                    &format!("{side} (side² = {})", side.saturating_mul(*side)),
                )?;
                check_pos("dataset.spacing", *spacing)?;
                check_nonneg("dataset.std", *std)?;
                dim = 2;
                let half = (*side as f64 - 1.0) / 2.0;
                if !(half * spacing).is_finite() {
                    return Err(Error::param(
                        "dataset.spacing",
                        format!("{spacing:e}: the outer means (±{half}·spacing) are not finite"),
                    ));
                }
                for i in 0..*side {
                    for j in 0..*side {
                        centres.push(vec![
                            (i as f64 - half) * spacing,
                            (j as f64 - half) * spacing,
                        ]);
                    }
                }
                stds = vec![*std; side * side];
                weights = vec![1.0; side * side];
            }
            Dataset::TwoPoints => {
                dim = 2;
                centres = vec![vec![-1.0, 0.0], vec![1.0, 0.0]];
                stds = vec![0.0; 2];
                weights = vec![1.0; 2];
            }
            Dataset::FourPoints => {
                dim = 2;
                centres = vec![
                    vec![1.0, 0.0],
                    vec![0.0, 1.0],
                    vec![-1.0, 0.0],
                    vec![0.0, -1.0],
                ];
                stds = vec![0.0; 4];
                weights = vec![1.0; 4];
            }
            Dataset::UnitCircle => dim = 2,
            Dataset::Ring8 | Dataset::Grid25 => return self.expanded().build(),
            Dataset::Csv { path } => {
                points = read_points(path)?;
                dim = points[0].len();
            }
        }
        let total: f64 = weights.iter().sum();
        let mut acc = 0.0;
        let cumulative = weights
            .iter()
            .map(|w| {
                acc += w / total;
                acc
            })
            .collect();
        Ok(DataSampler {
            spec: self.clone(),
            dim,
            centres,
            stds,
            cumulative,
            points,
        })
    }
}

/// Most modes a data set may have. Every mode is a column of `train_log.csv`
/// (`mode_frac_k`) and is scored against every evaluation sample, so the bound is checked
/// before the means are allocated.
pub const MAX_MODES: usize = 10_000;

/// Checks a mode count `v` (1 ≤ v ≤ [`MAX_MODES`]); `what` says how it was computed.
fn check_count(key: &str, v: usize, what: &str) -> Result<()> {
    if v == 0 {
        return Err(Error::param(key, "must be at least 1"));
    }
    if v > MAX_MODES {
        return Err(Error::param(
            key,
            format!(
                "{what} is more than {MAX_MODES} modes (each mode is a column of train_log.csv \
                 and is scored against every evaluation sample)"
            ),
        ));
    }
    Ok(())
}
fn check_pos(key: &str, v: f64) -> Result<()> {
    if !(v.is_finite() && v > 0.0) {
        return Err(Error::param(key, format!("{v} is not a positive number")));
    }
    Ok(())
}
fn check_nonneg(key: &str, v: f64) -> Result<()> {
    if !(v.is_finite() && v >= 0.0) {
        return Err(Error::param(
            key,
            format!("{v} is not a non-negative number"),
        ));
    }
    Ok(())
}
