//! Synthetic data sets and latent distributions, sampled with an explicit seeded RNG.
//!
//! A [`Dataset`] is the serde description (as written in a `[train]` config); it is
//! validated into a [`DataSampler`], which draws batches (rows = samples) and knows
//! the mode means and stds where the target has modes (for the coverage metrics in
//! [`crate::metrics::neural`]).

use std::f64::consts::TAU;
use std::path::{Path, PathBuf};

use nalgebra::DMatrix;
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::linalg::Rng;
use crate::nn::Float;

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
                Error::param(
                    key,
                    format!(
                        "{name:?} is not a data set given by name alone (ring8, grid25, two_points, \
                         four_points, unit_circle, ring, grid): {}",
                        e.message()
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
                check_count("dataset.modes", *modes)?;
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
                check_count("dataset.side", *side)?;
                check_pos("dataset.spacing", *spacing)?;
                check_nonneg("dataset.std", *std)?;
                dim = 2;
                let half = (*side as f64 - 1.0) / 2.0;
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

fn check_count(key: &str, v: usize) -> Result<()> {
    if v == 0 {
        return Err(Error::param(key, "must be at least 1"));
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

/// Reads points from a CSV file: every data row has the same number (≥ 1) of numeric
/// fields; a first row with a non-numeric field is taken as a header.
///
/// # Errors
/// [`Error::File`] naming the file, the line and the reason (unreadable file, no data
/// rows, a non-numeric or non-finite field, a row of another width).
pub fn read_points(path: &Path) -> Result<Vec<Vec<f64>>> {
    // A regular file, sized before reading: /dev/zero or a FIFO would never end, and the
    // points take at most about 8× the file's bytes in memory (a row of two short numbers,
    // "1,2\n", becomes two f64 in a Vec of its own).
    let meta =
        std::fs::metadata(path).map_err(|e| Error::file(path, format!("cannot open: {e}")))?;
    if !meta.is_file() {
        return Err(Error::file(path, "is not a regular file"));
    }
    crate::budget::check_memory(
        &path.display().to_string(),
        u128::from(meta.len()) * 8,
        "reading this CSV",
    )?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| Error::file(path, format!("cannot open: {e}")))?;
    let mut points: Vec<Vec<f64>> = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| Error::file(path, format!("malformed CSV: {e}")))?;
        let line = rec.position().map_or(i as u64 + 1, csv::Position::line);
        if rec.iter().all(str::is_empty) {
            continue;
        }
        let parsed: std::result::Result<Vec<f64>, usize> = rec
            .iter()
            .enumerate()
            .map(|(j, f)| f.parse::<f64>().map_err(|_| j))
            .collect();
        match parsed {
            Err(j) => {
                if i == 0 {
                    continue; // header row
                }
                return Err(Error::file(
                    path,
                    format!(
                        "line {line}: field {} ({:?}) is not a number",
                        j + 1,
                        &rec[j]
                    ),
                ));
            }
            Ok(p) => {
                if let Some(j) = p.iter().position(|v| !v.is_finite()) {
                    return Err(Error::file(
                        path,
                        format!("line {line}: field {} is not finite", j + 1),
                    ));
                }
                if let Some(first) = points.first()
                    && first.len() != p.len()
                {
                    return Err(Error::file(
                        path,
                        format!(
                            "line {line}: {} fields, but earlier rows have {}",
                            p.len(),
                            first.len()
                        ),
                    ));
                }
                points.push(p);
            }
        }
    }
    if points.is_empty() {
        return Err(Error::file(path, "line 1: no data rows"));
    }
    Ok(points)
}

impl DataSampler {
    /// The description it was built from.
    #[must_use]
    pub fn spec(&self) -> &Dataset {
        &self.spec
    }
    /// Data dimension.
    #[must_use]
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The modes (means, stds, coverage radii), for mixtures and point sets.
    #[must_use]
    pub fn modes(&self) -> Option<Modes> {
        if self.centres.is_empty() {
            return None;
        }
        let total: f64 = self.cumulative.last().copied().unwrap_or(1.0);
        let mut prev = 0.0;
        let weights = self
            .cumulative
            .iter()
            .map(|c| {
                let w = (c - prev) / total;
                prev = *c;
                w
            })
            .collect();
        Some(Modes {
            means: self.centres.clone(),
            stds: self.stds.clone(),
            radii: self
                .stds
                .iter()
                .map(|s| {
                    if *s > 0.0 {
                        3.0 * s
                    } else {
                        POINT_COVERAGE_RADIUS
                    }
                })
                .collect(),
            weights,
        })
    }

    /// Fills every row of `out` (n × dim) with an independent draw.
    ///
    /// # Panics
    /// If `out` does not have `dim` columns (a programming error).
    pub fn sample_into<T: Float>(&self, rng: &mut Rng, out: &mut DMatrix<T>) {
        assert_eq!(out.ncols(), self.dim, "sample buffer width");
        let n = out.nrows();
        for i in 0..n {
            match &self.spec {
                Dataset::UnitCircle => {
                    let a = rng.random_range(0.0..TAU);
                    out[(i, 0)] = T::of(a.cos());
                    out[(i, 1)] = T::of(a.sin());
                }
                Dataset::Csv { .. } => {
                    let p = &self.points[rng.random_range(0..self.points.len())];
                    for (j, v) in p.iter().enumerate() {
                        out[(i, j)] = T::of(*v);
                    }
                }
                _ => {
                    let k = self.pick_mode(rng);
                    let (c, s) = (&self.centres[k], self.stds[k]);
                    for j in 0..self.dim {
                        let z: f64 = if s > 0.0 {
                            StandardNormal.sample(rng)
                        } else {
                            0.0
                        };
                        out[(i, j)] = T::of(c[j] + s * z);
                    }
                }
            }
        }
    }

    /// `n` fresh samples.
    #[must_use]
    pub fn sample<T: Float>(&self, rng: &mut Rng, n: usize) -> DMatrix<T> {
        let mut m = DMatrix::zeros(n, self.dim);
        self.sample_into(rng, &mut m);
        m
    }

    fn pick_mode(&self, rng: &mut Rng) -> usize {
        if self.cumulative.len() <= 1 {
            return 0;
        }
        let u: f64 = rng.random();
        self.cumulative
            .iter()
            .position(|c| u < *c)
            .unwrap_or(self.cumulative.len() - 1)
    }
}

/// The latent distribution p(z).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LatentKind {
    /// Uniform on [0, 1)^d (gan-vis).
    #[default]
    Uniform,
    /// Standard normal N(0, I_d) (seed 002).
    Gaussian,
}

/// A latent distribution of a given dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Latent {
    /// Uniform or Gaussian.
    #[serde(default)]
    pub kind: LatentKind,
    /// Dimension d ≥ 1.
    pub dim: usize,
}

impl Default for Latent {
    /// gan-vis: 10-D uniform.
    fn default() -> Self {
        Latent {
            kind: LatentKind::Uniform,
            dim: 10,
        }
    }
}

impl Latent {
    /// Fills columns `0..dim` of every row of `out` with a draw of z (further columns,
    /// e.g. an InfoGAN code, are left alone).
    ///
    /// # Panics
    /// If `out` has fewer than `dim` columns (a programming error).
    pub fn sample_into<T: Float>(&self, rng: &mut Rng, out: &mut DMatrix<T>) {
        assert!(out.ncols() >= self.dim, "latent buffer width");
        let n = out.nrows();
        // Column-major: fill column by column, row index fastest, so the draw order is
        // fixed (row-major in the draw sequence is not needed for reproducibility).
        let cols = &mut out.as_mut_slice()[..n * self.dim];
        match self.kind {
            LatentKind::Uniform => cols
                .iter_mut()
                .for_each(|v| *v = T::of(rng.random::<f64>())),
            LatentKind::Gaussian => cols.iter_mut().for_each(|v| {
                let z: f64 = StandardNormal.sample(rng);
                *v = T::of(z);
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::rng;

    #[test]
    fn mode_std_is_the_shared_std_of_equal_gaussian_modes_only() {
        assert_eq!(Dataset::default().mode_std(), Some(0.05));
        let grid = Dataset::Grid {
            side: 3,
            spacing: 2.0,
            std: 0.2,
        };
        assert_eq!(grid.mode_std(), Some(0.2));
        assert_eq!(grid.build().unwrap().modes().unwrap().stds, vec![0.2; 9]);
        for other in [Dataset::TwoPoints, Dataset::FourPoints, Dataset::UnitCircle] {
            assert_eq!(other.mode_std(), None);
        }
    }

    #[test]
    fn ring_samples_sit_near_their_means_with_the_right_std() {
        let s = Dataset::default().build().unwrap();
        let x: DMatrix<f64> = s.sample(&mut rng(0, 0), 30_000);
        let m = s.modes().unwrap();
        assert_eq!(m.means.len(), 3);
        // Every sample's nearest mean, and the per-axis residual variance ≈ 0.05².
        let mut counts = [0usize; 3];
        let mut ss = 0.0;
        for i in 0..x.nrows() {
            let (k, d2) = (0..3)
                .map(|k| {
                    (
                        k,
                        (x[(i, 0)] - m.means[k][0]).powi(2) + (x[(i, 1)] - m.means[k][1]).powi(2),
                    )
                })
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap();
            counts[k] += 1;
            ss += d2;
        }
        let var = ss / (2.0 * x.nrows() as f64);
        assert!((var.sqrt() - 0.05).abs() < 0.002, "std {}", var.sqrt());
        assert!(
            counts
                .iter()
                .all(|c| (*c as f64 / 30_000.0 - 1.0 / 3.0).abs() < 0.02)
        );
    }

    #[test]
    fn mixture_1d_has_its_moments() {
        let d = Dataset::GaussianMixture1d {
            means: vec![-2.0, 2.0],
            stds: vec![0.5, 0.5],
            weights: vec![1.0, 3.0],
        };
        let x: DMatrix<f64> = d.build().unwrap().sample(&mut rng(1, 0), 40_000);
        // mean = 0.25·(−2) + 0.75·2 = 1; var = 0.25 + 4 − 1 = 3.25
        let mean = x.mean();
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 40_000.0;
        assert!(
            (mean - 1.0).abs() < 0.03 && (var - 3.25).abs() < 0.06,
            "{mean} {var}"
        );
    }

    #[test]
    fn point_sets_grid_and_circle() {
        let x: DMatrix<f64> = Dataset::FourPoints
            .build()
            .unwrap()
            .sample(&mut rng(0, 0), 100);
        assert!(
            x.row_iter()
                .all(|r| ((r[0].abs() - 1.0).abs() < 1e-15 && r[1] == 0.0)
                    || (r[0] == 0.0 && (r[1].abs() - 1.0).abs() < 1e-15))
        );
        let c: DMatrix<f64> = Dataset::UnitCircle
            .build()
            .unwrap()
            .sample(&mut rng(0, 0), 100);
        assert!(c.row_iter().all(|r| (r[0].hypot(r[1]) - 1.0).abs() < 1e-12));
        let g = Dataset::Grid {
            side: 3,
            spacing: 2.0,
            std: 0.01,
        }
        .build()
        .unwrap();
        let m = g.modes().unwrap();
        assert_eq!(m.means.len(), 9);
        assert!(m.means.contains(&vec![-2.0, 2.0]) && m.means.contains(&vec![0.0, 0.0]));
    }

    #[test]
    fn bad_parameters_name_their_key() {
        let e = Dataset::Ring {
            modes: 0,
            radius: 1.0,
            std: 0.1,
            weights: None,
        }
        .build()
        .unwrap_err();
        assert!(e.to_string().contains("dataset.modes"), "{e}");
        let e = Dataset::GaussianMixture1d {
            means: vec![0.0],
            stds: vec![-1.0],
            weights: vec![1.0],
        }
        .build()
        .unwrap_err();
        assert!(e.to_string().contains("dataset.stds"), "{e}");
    }

    #[test]
    fn csv_points_load_and_malformed_files_name_line_and_reason() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.csv");
        std::fs::write(&good, "x,y\n0.5,1\n-1,2.5\n").unwrap();
        let s = Dataset::Csv { path: good }.build().unwrap();
        assert_eq!(s.dim(), 2);
        let x: DMatrix<f64> = s.sample(&mut rng(0, 0), 50);
        assert!(
            x.row_iter()
                .all(|r| (r[0] == 0.5 && r[1] == 1.0) || (r[0] == -1.0 && r[1] == 2.5))
        );
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, "x,y\n0.5,1\n0.3,abc\n").unwrap();
        let e = Dataset::Csv { path: bad.clone() }
            .build()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("bad.csv") && e.contains("line 3") && e.contains("not a number"),
            "{e}"
        );
        std::fs::write(&bad, "1,2\n3\n").unwrap();
        let e = Dataset::Csv { path: bad.clone() }
            .build()
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("1 fields"), "{e}");
        std::fs::write(&bad, "x,y\n").unwrap();
        assert!(
            Dataset::Csv { path: bad }
                .build()
                .unwrap_err()
                .to_string()
                .contains("no data")
        );
        let e = Dataset::Csv {
            path: dir.path().join("missing.csv"),
        }
        .build()
        .unwrap_err();
        assert!(e.to_string().contains("missing.csv"));
    }

    #[test]
    fn presets_are_spelled_like_unit_variants_and_expand_to_the_general_form() {
        #[derive(Deserialize)]
        struct Cfg {
            dataset: Dataset,
        }
        let c: Cfg = toml::from_str("dataset = { kind = \"ring8\" }").unwrap();
        assert_eq!(c.dataset, Dataset::Ring8);
        let c: Cfg = toml::from_str("dataset = { kind = \"grid25\" }").unwrap();
        assert_eq!(c.dataset, Dataset::Grid25);
        assert_eq!(
            Dataset::named("dataset", "grid25").unwrap(),
            Dataset::Grid25
        );
        assert_eq!(
            Dataset::named("dataset", "ring").unwrap(),
            Dataset::default(),
            "a general variant with all its defaults"
        );
        let e = Dataset::named("--modes", "csv").unwrap_err().to_string();
        assert!(e.contains("--modes") && e.contains("\"csv\""), "{e}");
        let s = Dataset::Ring8.build().unwrap();
        assert_eq!(
            s.spec(),
            &Dataset::Ring {
                modes: 8,
                radius: 1.0,
                std: 0.01,
                weights: None
            }
        );
        assert_eq!(
            Dataset::Grid25.build().unwrap().spec(),
            &Dataset::Grid {
                side: 5,
                spacing: 2.0,
                std: 0.05
            }
        );
    }

    #[test]
    fn latent_fills_only_its_columns() {
        let mut z = DMatrix::<f32>::from_element(4, 5, 9.0);
        Latent {
            kind: LatentKind::Uniform,
            dim: 3,
        }
        .sample_into(&mut rng(0, 0), &mut z);
        assert!(z.columns(0, 3).iter().all(|v| (0.0..1.0).contains(v)));
        assert!(z.columns(3, 2).iter().all(|v| *v == 9.0));
    }
}
