//! PacGAN's mode-collapse measures on a Gaussian mixture with known modes (Lin et al. 2018,
//! "PacGAN: the power of two samples in generative adversarial networks", Table 1; after
//! VEEGAN, Srivastava et al. 2017).
//!
//! Implemented exactly as the authors' metric code, `MetricLogger.do` in
//! `synthetic_data_experiments/PacGAN/pacgan/extensions.py` of github fjxmlzn/PacGAN, which
//! produced Table 1 (2500 generated samples, `num_log_figure_sample` in the configs):
//!
//! 1. Each sample x is assigned to the mode k with the smallest normalised distance
//!    δ_k(x) = √(Σ_j (x_j − μ_kj)² / σ_kj²) (`dis = sqrt(sum(dis_vector² / variance_vector))`
//!    with `variance_vector = diag(VARIANCES[k])`); ties go to the lower index (their loop
//!    replaces the minimum only when `dis < min_dis`).
//! 2. The sample is *high quality* when δ_k(x) < 3 (`min_dis < self.dis_thre`, `dis_thre = 3`):
//!    strictly less, and "3 standard deviations" is a Mahalanobis radius, ‖x − μ_k‖ < 3σ_k for
//!    isotropic modes, not a per-coordinate box. For a sample drawn from the mode in 2-D this
//!    happens with probability P(χ²₂ < 9) = 1 − e^{−4.5} ≈ 0.9889.
//! 3. `counts[k]` = number of high-quality samples assigned to mode k (`detail_of_coverage`).
//!    A mode is *captured* when `counts[k] ≥ 1` (`len(nonzero(detail_of_coverage))`).
//! 4. The *high-quality share* is Σ_k `counts[k]` / n over all n samples
//!    (`good_points_percentage`).
//! 5. The histogram is p_k = `counts[k]` / Σ `counts`, over the high-quality samples only.
//!
//! Where we had to choose:
//! - **Reverse KL.** The repository logs the entropy H(p) (`scipy.stats.entropy`, natural log)
//!   and a JSD, not the KL of Table 1. The paper's "reverse KL" of the histogram against the
//!   uniform target is KL(p ‖ u) = Σ_k p_k ln(p_k K) = ln K − H(p), the model in the first
//!   slot (the reverse of the likelihood direction KL(u ‖ p)). It is the only direction that
//!   is finite for a model that misses modes, and Table 1 reports finite values for runs with
//!   6.3 of 8 modes. Empty modes contribute 0 (0 ln 0 = 0). We use the natural log, as the
//!   repository's entropy does. For a weighted mixture the target histogram is the mixture
//!   weights w (KL(p ‖ w) = Σ p_k ln(p_k / w_k), +∞ if p_k > 0 = w_k); with PacGAN's equal
//!   weights this is exactly KL(p ‖ u).
//! - **No high-quality sample.** p is 0/0; the repository would log NaN. We report
//!   `reverse_kl = None` (JSON `null`), with `modes_captured = 0` and `high_quality = 0`.
//! - **Point masses** (σ_k = 0, e.g. `two_points`): δ_k is undefined (the repository divides
//!   by zero). We use the mode's coverage radius instead of 3σ_k: σ_k := radius_k / 3 with
//!   radius_k = [`crate::datasets::POINT_COVERAGE_RADIUS`] (the `radii` of [`Modes`]), so a
//!   sample is high quality within that radius.
//!
//! # How this differs from the gan-vis coverage in [`crate::metrics::neural::mode_coverage`]
//! That measure assigns each sample to the nearest mean in Euclidean distance and counts it
//! when ‖x − μ_k‖ ≤ 3σ_k (not strict); a mode is *covered* when it holds at least a fraction
//! `min_fraction` (5 % by default) of **all** samples. PacGAN's mode is *captured* by a single
//! high-quality sample. So with 2500 samples, gan-vis needs 125 samples at a mode where PacGAN
//! needs 1, and PacGAN's count is always ≥ gan-vis's. The nearest mode also differs when modes
//! have unequal stds (PacGAN normalises by σ_k first). The high-quality share agrees up to the
//! `<` / `≤` boundary when all modes share one std.

use std::path::{Path, PathBuf};

use nalgebra::DMatrix;
use serde::Serialize;

use super::points::Points;
use crate::datasets::{Dataset, Modes, read_points};
use crate::error::{Error, Result};

/// PacGAN's high-quality threshold, in standard deviations (`dis_thre = 3` in `MetricLogger`).
pub const PACGAN_THRESHOLD_STDS: f64 = 3.0;

/// Number of generated samples PacGAN scores (`num_log_figure_sample = 2500` in the configs
/// of `2DRing_GAN&PacGAN` and `2DGrid_GAN&PacGAN`).
pub const PACGAN_SAMPLES: usize = 2500;

/// PacGAN's three measures (and the per-mode counts behind them) for one sample set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModeMeasures {
    /// Number of samples n.
    pub n_samples: usize,
    /// Number of modes K.
    pub n_modes: usize,
    /// Per mode, the number of high-quality samples assigned to it (PacGAN's
    /// `detail_of_coverage`).
    pub counts: Vec<usize>,
    /// Modes with at least one high-quality sample (PacGAN's "modes", Table 1).
    pub modes_captured: usize,
    /// Share of all samples that are high quality, in [0, 1] (PacGAN's "high quality
    /// samples", reported there in %).
    pub high_quality: f64,
    /// KL(p ‖ w) of the high-quality histogram p against the mixture weights w (uniform for
    /// PacGAN's sets), natural log (PacGAN's "reverse KL", Table 1). `None` when no sample is
    /// high quality.
    pub reverse_kl: Option<f64>,
}

/// The per-mode scale of the normalised distance: σ_k, or radius_k/3 for a point mass.
fn scales(modes: &Modes) -> Vec<f64> {
    modes
        .stds
        .iter()
        .zip(&modes.radii)
        .map(|(s, r)| {
            if *s > 0.0 {
                *s
            } else {
                r / PACGAN_THRESHOLD_STDS
            }
        })
        .collect()
}

/// Checks that `modes` is usable with samples of dimension `dim`.
fn check_modes(modes: &Modes, dim: usize) -> Result<()> {
    let k = modes.means.len();
    if k == 0 {
        return Err(Error::param("modes", "no modes given"));
    }
    if modes.stds.len() != k || modes.radii.len() != k || modes.weights.len() != k {
        return Err(Error::param(
            "modes",
            format!(
                "{k} means but {} stds, {} radii and {} weights",
                modes.stds.len(),
                modes.radii.len(),
                modes.weights.len()
            ),
        ));
    }
    if let Some(m) = modes.means.iter().find(|m| m.len() != dim) {
        return Err(Error::Dimension {
            what: "a mode mean".into(),
            got: m.len(),
            expected: dim,
        });
    }
    if modes.means.iter().flatten().any(|v| !v.is_finite()) {
        return Err(Error::param("modes", "a mode mean is not finite"));
    }
    let bad = |v: &f64| !(v.is_finite() && *v >= 0.0);
    if modes.stds.iter().any(bad) || modes.weights.iter().any(bad) {
        return Err(Error::param(
            "modes",
            "mode stds and weights must be finite and non-negative",
        ));
    }
    if scales(modes).iter().any(|s| !(s.is_finite() && *s > 0.0)) {
        return Err(Error::param(
            "modes",
            "a mode's scale (its std, or radius/3 for a point mass) is not a positive number",
        ));
    }
    if modes.weights.iter().sum::<f64>() <= 0.0 {
        return Err(Error::param("modes", "the mode weights sum to 0"));
    }
    Ok(())
}

/// PacGAN's measures of the rows of `samples` against `modes` (see the module docs for the
/// definitions, their source and the choices).
///
/// # Errors
/// [`Error::Param`] for an empty or non-finite sample set (key `samples`) or inconsistent
/// modes (key `modes`); [`Error::Dimension`] when a mode mean has another dimension.
pub fn mode_measures(samples: &DMatrix<f64>, modes: &Modes) -> Result<ModeMeasures> {
    let p = Points::from_matrix("samples", samples)?;
    mode_measures_points(&p, modes)
}

/// [`mode_measures`] on a validated point set.
pub(crate) fn mode_measures_points(p: &Points, modes: &Modes) -> Result<ModeMeasures> {
    check_modes(modes, p.d)?;
    let k = modes.means.len();
    let inv_var: Vec<f64> = scales(modes).iter().map(|s| 1.0 / (s * s)).collect();
    let mut counts = vec![0usize; k];
    for i in 0..p.n {
        let x = p.row(i);
        let mut best = (0usize, f64::INFINITY);
        for (m, mu) in modes.means.iter().enumerate() {
            // δ² = Σ_j (x_j − μ_j)² / σ² (compared squared: same order, and δ < 3 ⇔ δ² < 9).
            let d2 = super::points::sq_dist(x, mu) * inv_var[m];
            if d2 < best.1 {
                best = (m, d2);
            }
        }
        if best.1 < PACGAN_THRESHOLD_STDS * PACGAN_THRESHOLD_STDS {
            counts[best.0] += 1;
        }
    }
    let hq: usize = counts.iter().sum();
    let wsum: f64 = modes.weights.iter().sum();
    let reverse_kl = (hq > 0).then(|| {
        counts
            .iter()
            .zip(&modes.weights)
            .filter(|(c, _)| **c > 0)
            .map(|(c, w)| {
                let pk = *c as f64 / hq as f64;
                pk * (pk / (w / wsum)).ln()
            })
            .sum::<f64>()
    });
    Ok(ModeMeasures {
        n_samples: p.n,
        n_modes: k,
        modes_captured: counts.iter().filter(|c| **c > 0).count(),
        high_quality: hq as f64 / p.n as f64,
        counts,
        reverse_kl,
    })
}

/// Equally weighted isotropic modes with the given means and one std (> 0), e.g. read from a
/// CSV of mode means for `redqueen metrics`.
///
/// # Errors
/// [`Error::Param`] for no means, means of different dimensions, a non-finite mean (key
/// `modes`), or a std that is not positive and finite (key `std`).
pub fn isotropic_modes(means: Vec<Vec<f64>>, std: f64) -> Result<Modes> {
    if !(std.is_finite() && std > 0.0) {
        return Err(Error::param(
            "std",
            format!("{std} is not a positive number"),
        ));
    }
    let Some(d) = means.first().map(Vec::len) else {
        return Err(Error::param("modes", "no mode means given"));
    };
    if means.iter().any(|m| m.len() != d) || means.iter().flatten().any(|v| !v.is_finite()) {
        return Err(Error::param(
            "modes",
            "mode means must be finite and of one dimension",
        ));
    }
    let k = means.len();
    Ok(Modes {
        means,
        stds: vec![std; k],
        radii: vec![PACGAN_THRESHOLD_STDS * std; k],
        weights: vec![1.0 / k as f64; k],
    })
}

/// Where the modes of a target come from when scoring sample files.
///
/// On the command line (for `redqueen metrics --modes VALUE [--std S]`), [`ModeSource::from_arg`]
/// reads `VALUE` as:
/// - a file of mode means (one mean a row, the CSV format of [`read_points`]) when it ends in
///   `.csv` or names an existing file; then `--std` is required (each mode is isotropic with
///   that std, equally weighted);
/// - otherwise a data set given by name ([`Dataset::named`]: `ring8`, `grid25`, `ring`, `grid`,
///   `two_points`, `four_points`), whose modes, stds and weights are used; `--std` is then
///   refused (write the general data set in a config to change its std).
#[derive(Debug, Clone, PartialEq)]
pub enum ModeSource {
    /// The modes of a data set.
    Dataset(Dataset),
    /// Mode means from a CSV file, all with one isotropic std.
    MeansCsv {
        /// The file of mode means.
        path: PathBuf,
        /// The std of every mode.
        std: f64,
    },
}

impl ModeSource {
    /// Interprets a command-line value (see the type docs).
    ///
    /// # Errors
    /// [`Error::Param`] naming `--modes` (an unknown data set name) or `--std` (missing for a
    /// CSV, given with a name).
    pub fn from_arg(value: &str, std: Option<f64>) -> Result<ModeSource> {
        let path = Path::new(value);
        let is_file = value.to_ascii_lowercase().ends_with(".csv") || path.is_file();
        if let Some(s) = std.filter(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(Error::param(
                "--std",
                format!("{s} is not a positive number"),
            ));
        }
        match (is_file, std) {
            (true, Some(std)) => Ok(ModeSource::MeansCsv {
                path: path.to_path_buf(),
                std,
            }),
            (true, None) => Err(Error::param(
                "--std",
                format!("the mode means in {value} need --std, the std of every mode"),
            )),
            (false, None) => Ok(ModeSource::Dataset(Dataset::named("--modes", value)?)),
            (false, Some(s)) => Err(Error::param(
                "--std",
                format!(
                    "--std {s} applies to a CSV of mode means; the data set {value:?} has its own std"
                ),
            )),
        }
    }

    /// The modes, for samples of dimension `dim`.
    ///
    /// # Errors
    /// [`Error::File`] naming the file for an unreadable or malformed CSV or means of another
    /// dimension than `dim`; [`Error::Param`] (key `--modes`) for a data set without modes
    /// (e.g. `unit_circle`) or of another dimension, or a bad std.
    pub fn modes(&self, dim: usize) -> Result<Modes> {
        let modes = self.read()?;
        let d = modes.means.first().map_or(dim, Vec::len);
        if d == dim {
            return Ok(modes);
        }
        let reason = format!("the modes have {d} coordinates, but the samples have {dim}");
        Err(match self {
            ModeSource::Dataset(ds) => Error::param("--modes", format!("{ds:?}: {reason}")),
            ModeSource::MeansCsv { path, .. } => Error::file(path, reason),
        })
    }

    /// The modes as given.
    fn read(&self) -> Result<Modes> {
        match self {
            ModeSource::Dataset(d) => d.build()?.modes().ok_or_else(|| {
                Error::param(
                    "--modes",
                    format!("the data set {d:?} has no modes to score against"),
                )
            }),
            ModeSource::MeansCsv { path, std } => {
                let means = read_points(path)?;
                isotropic_modes(means, *std).map_err(|e| match e {
                    Error::Param { key, reason } if key == "modes" => Error::file(path, reason),
                    other => other,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::Dataset;
    use crate::linalg::rng;

    /// Rounding tolerance for the hand-computed KL (a few logs and products).
    const KL_TOL: f64 = 1e-12;

    fn rows(p: &[[f64; 2]]) -> DMatrix<f64> {
        DMatrix::from_fn(p.len(), 2, |i, j| p[i][j])
    }

    #[test]
    fn hand_counted_example() {
        // Modes (1,0), (0,1), (−1,0), (0,−1), std 0.1: high quality ⇔ ‖x − μ‖ < 0.3.
        let modes = isotropic_modes(
            vec![
                vec![1.0, 0.0],
                vec![0.0, 1.0],
                vec![-1.0, 0.0],
                vec![0.0, -1.0],
            ],
            0.1,
        )
        .unwrap();
        let x = rows(&[
            [1.0, 0.0],   // mode 0, δ = 0        → HQ
            [1.1, 0.1],   // mode 0, δ = 1.41     → HQ
            [0.0, 1.25],  // mode 1, δ = 2.5      → HQ
            [-1.0, 0.29], // mode 2, δ = 2.9      → HQ
            [0.0, -1.5],  // mode 3, δ = 5        → not
            [0.5, 0.5],   // modes 0/1 tie, δ = 7.07 → not
            [0.0, 0.0],   // all four tie, δ = 10 → not
        ]);
        let m = mode_measures(&x, &modes).unwrap();
        assert_eq!(m.counts, vec![2, 1, 1, 0]);
        assert_eq!(m.modes_captured, 3, "mode 3 is empty");
        assert_eq!(m.high_quality, 4.0 / 7.0);
        // p = (1/2, 1/4, 1/4, 0): KL(p‖u) = ½ ln(½·4) + 2·¼ ln(¼·4) + 0 = ½ ln 2
        // (= ln 4 − H(p), with H(p) = ½ ln 2 + ½ ln 4).
        let kl = m.reverse_kl.unwrap();
        assert!((kl - 0.5 * 2f64.ln()).abs() < KL_TOL, "{kl}");
    }

    #[test]
    fn the_threshold_is_strict_and_nearest_is_by_normalised_distance() {
        // 1-D: mode 0 at 0 with σ = 1, mode 1 at 3 with σ = 0.1. The sample 2.5 is nearer mode 1
        // in Euclidean distance (0.5 < 2.5) but nearer mode 0 in σ units (2.5 < 5), as in
        // PacGAN's code: it is high quality at mode 0.
        let modes = Modes {
            means: vec![vec![0.0], vec![3.0]],
            stds: vec![1.0, 0.1],
            radii: vec![3.0, 0.3],
            weights: vec![0.5, 0.5],
        };
        let x = DMatrix::from_column_slice(3, 1, &[2.5, 3.0, -3.0]);
        let m = mode_measures(&x, &modes).unwrap();
        // 2.5 → mode 0 (δ 2.5); 3.0 → mode 1 (δ 0); −3.0 → mode 0 with δ = 3 exactly: not < 3.
        assert_eq!(m.counts, vec![1, 1]);
        assert_eq!(m.high_quality, 2.0 / 3.0);
        assert!(m.reverse_kl.unwrap().abs() < KL_TOL, "p = w = (½, ½)");
    }

    #[test]
    fn no_high_quality_sample_has_no_kl() {
        let modes = Dataset::Ring8.build().unwrap().modes().unwrap();
        let far = DMatrix::from_element(10, 2, 5.0);
        let m = mode_measures(&far, &modes).unwrap();
        assert_eq!(
            (m.modes_captured, m.high_quality, m.reverse_kl),
            (0, 0.0, None)
        );
    }

    #[test]
    fn weighted_targets_use_their_weights() {
        // Two modes with weights (¾, ¼), every sample at mode 0: p = (1, 0),
        // KL(p‖w) = 1·ln(1/¾) = ln(4/3).
        let modes = Modes {
            means: vec![vec![0.0, 0.0], vec![5.0, 0.0]],
            stds: vec![0.1, 0.1],
            radii: vec![0.3, 0.3],
            weights: vec![3.0, 1.0],
        };
        let m = mode_measures(&DMatrix::zeros(4, 2), &modes).unwrap();
        assert!((m.reverse_kl.unwrap() - (4.0f64 / 3.0).ln()).abs() < KL_TOL);
    }

    /// Binomial tolerance for a share estimated from n = 10 000 draws: five standard
    /// deviations √(q(1−q)/n) of the expected share q (exceeded with probability ≈ 6e-7 per
    /// check).
    fn share_tol(q: f64, n: usize) -> f64 {
        5.0 * (q * (1.0 - q) / n as f64).sqrt()
    }

    /// Bound on the G statistic 2·N·KL of a histogram drawn from its target: above the
    /// 1 − 1e-6 quantiles of χ²₇ (40.5) and χ²₂₄ (72.2), the ring's and the grid's.
    const G_STAT_BOUND: f64 = 80.0;

    /// Mixture weights are recovered from cumulative sums by differences, which may be a few
    /// ulps (of 1) off.
    const WEIGHT_TOL: f64 = 1e-15;

    #[test]
    fn ring8_and_grid25_samplers_fill_their_modes_evenly_at_the_expected_quality() {
        // P(high quality) for a sample of its own mode in 2-D: P(χ²₂ < 9) = 1 − e^{−4.5};
        // other modes are ≥ 0.765/0.01 (ring) or 2/0.05 (grid) stds away, so a sample's
        // nearest mode is its own.
        let hq = 1.0 - (-4.5f64).exp();
        let n = 10_000;
        for (d, k) in [(Dataset::Ring8, 8usize), (Dataset::Grid25, 25)] {
            let s = d.build().unwrap();
            let modes = s.modes().unwrap();
            assert_eq!(modes.means.len(), k);
            let x: DMatrix<f64> = s.sample(&mut rng(42, 0), n);
            let m = mode_measures(&x, &modes).unwrap();
            assert_eq!(m.modes_captured, k, "{d:?}");
            assert!(
                (m.high_quality - hq).abs() < share_tol(hq, n),
                "{d:?}: {}",
                m.high_quality
            );
            let q = 1.0 / k as f64;
            for c in &m.counts {
                let share = *c as f64 / n as f64;
                // Share of all samples that are high quality at this mode: q·hq.
                assert!(
                    (share - q * hq).abs() < share_tol(q * hq, n),
                    "{d:?}: {share}"
                );
            }
            // For a multinomial histogram from the target, 2·N_hq·KL(p‖u) is the G statistic,
            // ≈ χ²_{K−1}.
            let kl = m.reverse_kl.unwrap();
            let hq_n = m.counts.iter().sum::<usize>() as f64;
            assert!(2.0 * hq_n * kl < G_STAT_BOUND, "{d:?}: KL {kl}");
        }
    }

    #[test]
    fn presets_have_pacgans_exact_parameters() {
        let ring = Dataset::Ring8.build().unwrap().modes().unwrap();
        for (k, mu) in ring.means.iter().enumerate() {
            let a = std::f64::consts::TAU * k as f64 / 8.0;
            assert_eq!(mu, &vec![a.cos(), a.sin()]);
        }
        assert!(ring.stds.iter().all(|s| *s == 0.01));
        let grid = Dataset::Grid25.build().unwrap().modes().unwrap();
        let mut want = Vec::new();
        for i in [-4.0, -2.0, 0.0, 2.0, 4.0] {
            for j in [-4.0, -2.0, 0.0, 2.0, 4.0] {
                want.push(vec![i, j]);
            }
        }
        assert_eq!(
            grid.means, want,
            "itertools.product(range(-4, 5, 2), range(-4, 5, 2))"
        );
        assert!(grid.stds.iter().all(|s| *s == 0.05));
        assert!(grid.weights.iter().all(|w| (*w - 0.04).abs() < WEIGHT_TOL));
    }

    #[test]
    fn mode_sources_from_the_command_line() {
        assert_eq!(
            ModeSource::from_arg("ring8", None).unwrap(),
            ModeSource::Dataset(Dataset::Ring8)
        );
        let e = ModeSource::from_arg("ring9", None).unwrap_err().to_string();
        assert!(e.contains("--modes") && e.contains("ring9"), "{e}");
        let e = ModeSource::from_arg("grid25", Some(0.1))
            .unwrap_err()
            .to_string();
        assert!(e.contains("--std"), "{e}");
        let e = ModeSource::from_arg("means.csv", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--std"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("means.csv");
        std::fs::write(&f, "x,y\n0,0\n3,4\n").unwrap();
        let src = ModeSource::from_arg(f.to_str().unwrap(), Some(0.5)).unwrap();
        let m = src.modes(2).unwrap();
        assert_eq!(m.means, vec![vec![0.0, 0.0], vec![3.0, 4.0]]);
        assert_eq!((m.stds[1], m.radii[1], m.weights[0]), (0.5, 1.5, 0.5));
        // Means of another dimension than the samples': the error names the file.
        let e = src.modes(3).unwrap_err().to_string();
        assert!(e.contains("means.csv") && e.contains("3"), "{e}");
        let e = ModeSource::Dataset(Dataset::Ring8)
            .modes(1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--modes") && e.contains("Ring8"), "{e}");
        let e = ModeSource::Dataset(Dataset::UnitCircle)
            .modes(2)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no modes"), "{e}");
        let e = ModeSource::MeansCsv {
            path: f.clone(),
            std: -1.0,
        }
        .modes(2)
        .unwrap_err()
        .to_string();
        assert!(e.contains("std"), "{e}");
        for bad in [-1.0, 0.0, f64::NAN, f64::INFINITY] {
            let e = ModeSource::from_arg(f.to_str().unwrap(), Some(bad))
                .unwrap_err()
                .to_string();
            assert!(e.contains("--std"), "{bad}: {e}");
        }
    }

    #[test]
    fn bad_modes_are_refused() {
        let modes = isotropic_modes(vec![vec![0.0, 0.0, 0.0]], 0.1).unwrap();
        assert!(matches!(
            mode_measures(&DMatrix::zeros(2, 2), &modes),
            Err(Error::Dimension { .. })
        ));
        assert!(isotropic_modes(vec![], 0.1).is_err());
        assert!(isotropic_modes(vec![vec![0.0], vec![0.0, 1.0]], 0.1).is_err());
        assert!(mode_measures(&DMatrix::zeros(0, 2), &modes).is_err());
    }
}
