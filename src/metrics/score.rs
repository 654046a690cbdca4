//! One entry point that scores a generated sample set against a target sample set with all
//! the standard metrics: [`score`] on matrices, [`score_files`] on CSV point files.
//!
//! Sizes are checked before any copy or quadratic work: each set may hold at most
//! [`MetricOptions::max_points`] points (the error states the memory and the number of
//! distance evaluations the scoring would need). Memory is linear (the nearest-neighbour
//! passes stream over rows and never hold an n × m distance matrix); time is quadratic.

use std::io::Read;
use std::path::Path;

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use super::frechet::{fit_points, frechet_distance_gaussians};
use super::manifold::{DEFAULT_K, check_k, manifold_scores_points};
use super::modes::{ModeMeasures, ModeSource, mode_measures_points};
use super::points::{Points, check_size};
use super::sliced::{DEFAULT_PROJECTIONS, check_projections, sliced_points};
use crate::datasets::{Modes, read_points};
use crate::error::{Error, Result};

/// Default largest point set [`score`] accepts: 20 000 points, i.e. 4 × 4·10⁸ distance
/// evaluations against another 20 000 (a few seconds on one core in 2-D) and a few MB.
pub const DEFAULT_MAX_POINTS: usize = 20_000;

/// Settings of [`score`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricOptions {
    /// Neighbourhood size of the k-NN radii for precision, recall, density and coverage
    /// (default [`DEFAULT_K`] = 3); each set needs more than k points.
    pub k: usize,
    /// Number of random directions of the sliced Wasserstein distance (default
    /// [`DEFAULT_PROJECTIONS`]).
    pub projections: usize,
    /// Seed of those directions.
    pub seed: u64,
    /// Largest number of points accepted in either set (default [`DEFAULT_MAX_POINTS`]).
    pub max_points: usize,
}

impl Default for MetricOptions {
    fn default() -> Self {
        MetricOptions {
            k: DEFAULT_K,
            projections: DEFAULT_PROJECTIONS,
            seed: 0,
            max_points: DEFAULT_MAX_POINTS,
        }
    }
}

/// Every metric of a generated sample set against a target sample set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricReport {
    /// Number of generated points.
    pub n_samples: usize,
    /// Number of target points.
    pub n_target: usize,
    /// Dimension of the points.
    pub dim: usize,
    /// k of the k-NN radii.
    pub k: usize,
    /// Share of generated points inside the target's k-NN manifold, `≤` (Kynkäänniemi et al.
    /// 2019, "Improved precision and recall metric for assessing generative models").
    pub precision: f64,
    /// Share of target points inside the generated k-NN manifold, `≤` (Kynkäänniemi et al.
    /// 2019).
    pub recall: f64,
    /// Mean number of target k-NN balls (`<`) holding a generated point, over k (Naeem et al.
    /// 2020, "Reliable fidelity and diversity metrics for generative models"); ≈ 1 for
    /// matching distributions.
    pub density: f64,
    /// Share of target points whose k-NN ball (`<`) holds a generated point (Naeem et al.
    /// 2020).
    pub coverage: f64,
    /// Sliced Wasserstein-1 distance, mean over directions of the exact 1-D W₁ of the
    /// projections (Bonneel et al. 2015), by quantile matching (any sizes).
    pub sliced_w1: f64,
    /// Sliced Wasserstein-2 distance, (mean over directions of the 1-D W₂²)^{1/2}.
    pub sliced_w2: f64,
    /// Number of directions of the sliced distances.
    pub projections: usize,
    /// Seed of the directions.
    pub seed: u64,
    /// Squared Fréchet distance between Gaussian fits (sample mean, unbiased covariance):
    /// ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2(Σ₁^{1/2}Σ₂Σ₁^{1/2})^{1/2}) (Dowson & Landau 1982; the FID
    /// formula of Heusel et al. 2017 on raw coordinates).
    pub frechet: f64,
    /// PacGAN's modes captured, high-quality share and reverse KL of the generated points
    /// against the target's modes (Lin et al. 2018, Table 1); `None` when no modes were given.
    pub modes: Option<ModeMeasures>,
}

impl MetricReport {
    /// The scalar metrics as (column name, value) pairs for a tidy log, in a fixed order;
    /// the mode measures are NaN when no modes were given (and the reverse KL when no sample
    /// was high quality).
    #[must_use]
    pub fn columns(&self) -> Vec<(&'static str, f64)> {
        let m = self.modes.as_ref();
        vec![
            ("precision", self.precision),
            ("recall", self.recall),
            ("density", self.density),
            ("coverage", self.coverage),
            ("sliced_w1", self.sliced_w1),
            ("sliced_w2", self.sliced_w2),
            ("frechet", self.frechet),
            (
                "modes_captured",
                m.map_or(f64::NAN, |m| m.modes_captured as f64),
            ),
            ("high_quality", m.map_or(f64::NAN, |m| m.high_quality)),
            (
                "reverse_kl",
                m.and_then(|m| m.reverse_kl).unwrap_or(f64::NAN),
            ),
        ]
    }
}

/// Scores generated points `samples` against target points `target` (rows = points, any
/// sizes, one dimension) with every metric, and with PacGAN's mode measures of `samples`
/// when `modes` is given.
///
/// # Errors
/// [`Error::Param`] for a set over `max_points` (key `samples` / `target`, with the memory
/// and work it would need), an empty or non-finite set, k outside 1 ≤ k < n (key `k`),
/// zero projections (key `projections`) or inconsistent modes (key `modes`);
/// [`Error::Dimension`] when the sets or the modes differ in dimension.
pub fn score(
    samples: &DMatrix<f64>,
    target: &DMatrix<f64>,
    modes: Option<&Modes>,
    opts: &MetricOptions,
) -> Result<MetricReport> {
    let (n, m) = (samples.nrows(), target.nrows());
    check_size("samples", n, m, samples.ncols(), opts.max_points)?;
    check_size("target", m, n, target.ncols(), opts.max_points)?;
    let g = Points::from_matrix("samples", samples)?;
    let r = Points::from_matrix("target", target)?;
    if g.d != r.d {
        return Err(Error::Dimension {
            what: "target points".into(),
            got: r.d,
            expected: g.d,
        });
    }
    check_k("samples", g.n, opts.k)?;
    check_k("target", r.n, opts.k)?;
    check_projections(opts.projections, g.d)?;
    let mode_report = modes.map(|md| mode_measures_points(&g, md)).transpose()?;
    let manifold = manifold_scores_points(&g, &r, opts.k);
    let sliced = sliced_points(&g, &r, opts.projections, opts.seed);
    let frechet =
        frechet_distance_gaussians(&fit_points("samples", &g)?, &fit_points("target", &r)?)?;
    Ok(MetricReport {
        n_samples: g.n,
        n_target: r.n,
        dim: g.d,
        k: opts.k,
        precision: manifold.precision,
        recall: manifold.recall,
        density: manifold.density,
        coverage: manifold.coverage,
        sliced_w1: sliced.sw1,
        sliced_w2: sliced.sw2,
        projections: opts.projections,
        seed: opts.seed,
        frechet,
        modes: mode_report,
    })
}

/// Number of lines of a file, counted by streaming (no allocation in the file's size).
fn count_lines(path: &Path) -> Result<usize> {
    let mut f =
        std::fs::File::open(path).map_err(|e| Error::file(path, format!("cannot open: {e}")))?;
    let mut buf = [0u8; 64 * 1024];
    let (mut lines, mut last) = (0usize, b'\n');
    loop {
        let got = f
            .read(&mut buf)
            .map_err(|e| Error::file(path, format!("cannot read: {e}")))?;
        if got == 0 {
            break;
        }
        lines += buf[..got].iter().filter(|b| **b == b'\n').count();
        last = buf[got - 1];
    }
    Ok(lines + usize::from(last != b'\n'))
}

/// Reads a CSV point file after checking, by counting its lines, that it holds at most
/// `max_points` points (one header line allowed).
fn read_checked(path: &Path, max_points: usize) -> Result<DMatrix<f64>> {
    let lines = count_lines(path)?;
    if lines > max_points.saturating_add(1) {
        return Err(Error::file(
            path,
            format!(
                "{lines} lines is more than max_points = {max_points} points; subsample the file \
                 or raise max_points"
            ),
        ));
    }
    let pts = read_points(path)?;
    if pts.len() > max_points {
        return Err(Error::file(
            path,
            format!(
                "{} points is more than max_points = {max_points}",
                pts.len()
            ),
        ));
    }
    let d = pts[0].len();
    Ok(DMatrix::from_fn(pts.len(), d, |i, j| pts[i][j]))
}

/// [`score`] on CSV point files (one point a row, the format of [`read_points`]): generated
/// points in `samples`, target points in `target`, and optionally the target's modes (a named
/// data set or a CSV of mode means with a std; see [`ModeSource`]).
///
/// # Errors
/// [`Error::File`] naming the file for an unreadable or malformed file, one over
/// `max_points`, or a target whose dimension differs from the samples'; the errors of
/// [`ModeSource::modes`] and of [`score`].
pub fn score_files(
    samples: &Path,
    target: &Path,
    modes: Option<&ModeSource>,
    opts: &MetricOptions,
) -> Result<MetricReport> {
    let x = read_checked(samples, opts.max_points)?;
    let y = read_checked(target, opts.max_points)?;
    if x.ncols() != y.ncols() {
        return Err(Error::file(
            target,
            format!(
                "points have {} coordinates, but those of {} have {}",
                y.ncols(),
                samples.display(),
                x.ncols()
            ),
        ));
    }
    let modes = modes.map(|m| m.modes(x.ncols())).transpose()?;
    score(&x, &y, modes.as_ref(), opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::Dataset;
    use crate::linalg::rng;

    /// Rounding tolerance for distances of identical sets (Fréchet: eigenvalues of the
    /// squared covariance, a few ulps of its trace).
    const IDENTICAL_TOL: f64 = 1e-12;

    fn write_csv(path: &Path, x: &DMatrix<f64>) {
        let mut s = String::from("x,y\n");
        for i in 0..x.nrows() {
            // `{}` prints the shortest decimal that reads back to the same f64.
            s.push_str(&format!("{},{}\n", x[(i, 0)], x[(i, 1)]));
        }
        std::fs::write(path, s).unwrap();
    }

    #[test]
    fn identical_sets_score_perfectly() {
        let d = Dataset::Ring8.build().unwrap();
        let x: DMatrix<f64> = d.sample(&mut rng(8, 0), 1000);
        let r = score(&x, &x, d.modes().as_ref(), &MetricOptions::default()).unwrap();
        assert_eq!((r.precision, r.recall, r.coverage), (1.0, 1.0, 1.0));
        assert_eq!((r.sliced_w1, r.sliced_w2), (0.0, 0.0));
        assert!(r.frechet < IDENTICAL_TOL, "{}", r.frechet);
        assert_eq!(r.modes.as_ref().unwrap().modes_captured, 8);
        let cols = r.columns();
        assert_eq!(cols.len(), 10);
        assert_eq!(cols[7], ("modes_captured", 8.0));
    }

    #[test]
    fn files_score_like_matrices_and_errors_name_the_file() {
        let d = Dataset::Grid25.build().unwrap();
        let x: DMatrix<f64> = d.sample(&mut rng(9, 0), 300);
        let y: DMatrix<f64> = d.sample(&mut rng(9, 1), 200);
        let dir = tempfile::tempdir().unwrap();
        let (fx, fy) = (dir.path().join("gen.csv"), dir.path().join("real.csv"));
        write_csv(&fx, &x);
        write_csv(&fy, &y);
        let opts = MetricOptions {
            projections: 32,
            ..MetricOptions::default()
        };
        let src = ModeSource::from_arg("grid25", None).unwrap();
        let from_files = score_files(&fx, &fy, Some(&src), &opts).unwrap();
        let direct = score(&x, &y, d.modes().as_ref(), &opts).unwrap();
        assert_eq!(from_files, direct, "CSV round trip is exact");
        // Too many points: refused before reading, naming the file.
        let small = MetricOptions {
            max_points: 250,
            ..opts
        };
        let e = score_files(&fx, &fy, None, &small).unwrap_err().to_string();
        assert!(
            e.contains("gen.csv") && e.contains("max_points = 250"),
            "{e}"
        );
        // Mismatched dimensions name the target file.
        let f3 = dir.path().join("three.csv");
        std::fs::write(&f3, "1,2,3\n4,5,6\n7,8,9\n1,1,1\n5,5,5\n").unwrap();
        let e = score_files(&fx, &f3, None, &opts).unwrap_err().to_string();
        assert!(
            e.contains("three.csv") && e.contains("3 coordinates"),
            "{e}"
        );
        let e = score_files(&fx, &dir.path().join("none.csv"), None, &opts)
            .unwrap_err()
            .to_string();
        assert!(e.contains("none.csv"), "{e}");
    }

    #[test]
    fn errors_for_bad_sets() {
        let x = DMatrix::from_fn(10, 2, |i, j| (i + j) as f64);
        let o = MetricOptions::default();
        // Empty set.
        let e = score(&DMatrix::zeros(0, 2), &x, None, &o)
            .unwrap_err()
            .to_string();
        assert!(e.contains("samples") && e.contains("empty"), "{e}");
        // Mismatched dimensions.
        assert!(matches!(
            score(&x, &DMatrix::zeros(10, 3), None, &o),
            Err(Error::Dimension {
                got: 3,
                expected: 2,
                ..
            })
        ));
        // k ≥ n.
        let e = score(&x, &x.rows(0, 3).into_owned(), None, &o)
            .unwrap_err()
            .to_string();
        assert!(e.contains("k = 3") && e.contains("target"), "{e}");
        // Over the limit: the message gives the memory and the work.
        let small = MetricOptions { max_points: 5, ..o };
        let e = score(&x, &x, None, &small).unwrap_err().to_string();
        assert!(e.contains("max_points = 5") && e.contains("MB"), "{e}");
        // Modes of another dimension.
        let m3 = super::super::modes::isotropic_modes(vec![vec![0.0; 3]], 1.0).unwrap();
        assert!(score(&x, &x, Some(&m3), &o).is_err());
    }
}
