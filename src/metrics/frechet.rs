//! The Fréchet (2-Wasserstein) distance between Gaussian fits of two point sets, the
//! quantity behind FID (Heusel et al. 2017) applied to raw coordinates.
//!
//! For N(μ₁, Σ₁) and N(μ₂, Σ₂) (Dowson & Landau 1982; Olkin & Pukelsheim 1982):
//! d² = ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2}).
//! We report d² (as FID does), not d.
//!
//! Each set is fitted by its sample mean and the unbiased sample covariance
//! (1/(n−1)) Σ (x − x̄)(x − x̄)ᵀ, as `numpy.cov` in the reference FID code (pytorch-fid,
//! TTUR); so a set needs at least 2 points.
//!
//! Computation (stable, no non-symmetric matrix square root): Σ₁ = U Λ Uᵀ by a symmetric
//! eigendecomposition, Σ₁^{1/2} = U Λ^{1/2} Uᵀ; then M = Σ₁^{1/2} Σ₂ Σ₁^{1/2} is symmetrised,
//! (M + Mᵀ)/2, and tr M^{1/2} = Σ √λ_i(M). Covariances are positive semi-definite, so any
//! negative eigenvalue of Σ₁ or M is rounding: it is clamped to 0 before the square root
//! (a rounding-size negative eigenvalue then contributes 0 instead of NaN). The total is also
//! clamped at 0, since rounding can leave −1e-16 for identical fits.

use nalgebra::{DMatrix, DVector, SymmetricEigen};

use super::points::Points;
use crate::error::{Error, Result};

/// Sweep cap of the symmetric eigen-solver (nalgebra's `SymmetricEigen::try_new`); small
/// symmetric matrices converge in a few dozen sweeps, so hitting this cap means a non-finite
/// or corrupted input.
pub const SYM_EIGEN_MAX_ITER: usize = 10_000;

/// A Gaussian fit of a point set: sample mean and unbiased sample covariance.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianFit {
    /// Sample mean x̄.
    pub mean: DVector<f64>,
    /// Unbiased sample covariance (1/(n−1)) Σ (x − x̄)(x − x̄)ᵀ.
    pub cov: DMatrix<f64>,
    /// Number of points n.
    pub n: usize,
}

/// Fits a Gaussian to the rows of `x` (two passes: the mean, then centred products).
///
/// # Errors
/// [`Error::Param`] (key `key`) for fewer than 2 points or a non-finite value.
pub fn gaussian_fit(key: &str, x: &DMatrix<f64>) -> Result<GaussianFit> {
    let p = Points::from_matrix(key, x)?;
    fit_points(key, &p)
}

/// [`gaussian_fit`] on a validated point set.
pub(crate) fn fit_points(key: &str, p: &Points) -> Result<GaussianFit> {
    if p.n < 2 {
        return Err(Error::param(
            key,
            format!("{} point: a covariance needs at least 2", p.n),
        ));
    }
    let d = p.d;
    let mut mean = DVector::zeros(d);
    for i in 0..p.n {
        for (j, v) in p.row(i).iter().enumerate() {
            mean[j] += v;
        }
    }
    mean /= p.n as f64;
    let mut cov = DMatrix::zeros(d, d);
    for i in 0..p.n {
        let r = p.row(i);
        for a in 0..d {
            let da = r[a] - mean[a];
            for b in 0..=a {
                cov[(a, b)] += da * (r[b] - mean[b]);
            }
        }
    }
    for a in 0..d {
        for b in 0..a {
            cov[(b, a)] = cov[(a, b)];
        }
    }
    cov /= (p.n - 1) as f64;
    Ok(GaussianFit { mean, cov, n: p.n })
}

/// Eigenvalues of the symmetric part of `m`, with the solver's sweep cap.
fn sym_eigenvalues(m: &DMatrix<f64>, what: &str) -> Result<DVector<f64>> {
    let sym = (m + m.transpose()) * 0.5;
    SymmetricEigen::try_new(sym, f64::EPSILON, SYM_EIGEN_MAX_ITER)
        .map(|e| e.eigenvalues)
        .ok_or_else(|| {
            Error::numerical(
                "frechet_distance",
                format!("symmetric eigendecomposition of {what} did not converge"),
            )
        })
}

/// Fréchet distance d² between two Gaussians (see the module docs for the formula and the
/// clamping of rounding-size negative eigenvalues).
///
/// # Errors
/// [`Error::Dimension`] when the fits differ in dimension; [`Error::Numerical`] when an
/// eigendecomposition does not converge (non-finite input).
pub fn frechet_distance_gaussians(a: &GaussianFit, b: &GaussianFit) -> Result<f64> {
    let d = a.mean.len();
    if b.mean.len() != d || a.cov.shape() != (d, d) || b.cov.shape() != (d, d) {
        return Err(Error::Dimension {
            what: "second Gaussian".into(),
            got: b.mean.len(),
            expected: d,
        });
    }
    let e1 = SymmetricEigen::try_new(
        (&a.cov + a.cov.transpose()) * 0.5,
        f64::EPSILON,
        SYM_EIGEN_MAX_ITER,
    )
    .ok_or_else(|| {
        Error::numerical(
            "frechet_distance",
            "symmetric eigendecomposition of Σ₁ did not converge",
        )
    })?;
    let root = DVector::from_iterator(d, e1.eigenvalues.iter().map(|l| l.max(0.0).sqrt()));
    let s1 = &e1.eigenvectors * DMatrix::from_diagonal(&root) * e1.eigenvectors.transpose();
    let m = &s1 * &b.cov * &s1;
    let tr_sqrt: f64 = sym_eigenvalues(&m, "Σ₁^{1/2} Σ₂ Σ₁^{1/2}")?
        .iter()
        .map(|l| l.max(0.0).sqrt())
        .sum();
    let dm = (&a.mean - &b.mean).norm_squared();
    let d2 = dm + a.cov.trace() + b.cov.trace() - 2.0 * tr_sqrt;
    Ok(d2.max(0.0))
}

/// Fréchet distance d² between Gaussian fits of the rows of `x` and of `y`.
///
/// # Errors
/// [`Error::Param`] for a set with fewer than 2 points or a non-finite value (key `samples`
/// for `x`, `target` for `y`); [`Error::Dimension`] when the sets differ in dimension.
pub fn frechet_distance(x: &DMatrix<f64>, y: &DMatrix<f64>) -> Result<f64> {
    let a = gaussian_fit("samples", x)?;
    let b = gaussian_fit("target", y)?;
    if a.mean.len() != b.mean.len() {
        return Err(Error::Dimension {
            what: "target points".into(),
            got: b.mean.len(),
            expected: a.mean.len(),
        });
    }
    frechet_distance_gaussians(&a, &b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::rng;
    use rand_distr::{Distribution, StandardNormal};

    /// Relative tolerance for the closed forms: the fits and the eigendecompositions of
    /// 2×2 / 3×3 matrices of O(1) entries lose a few hundred ulps at most, and the whitening
    /// below another few; 1e-10 is far above that and far below any formula error.
    const FRECHET_TOL: f64 = 1e-10;

    /// `n` points in R^d whose sample mean is exactly 0 and sample covariance exactly I (up
    /// to rounding): Gaussian draws, centred, then whitened by the inverse Cholesky factor
    /// of their covariance.
    fn standardised(n: usize, d: usize, seed: u64) -> DMatrix<f64> {
        let mut r = rng(seed, 0);
        let z = DMatrix::from_fn(n, d, |_, _| StandardNormal.sample(&mut r));
        let f = gaussian_fit("z", &z).unwrap();
        let centred = DMatrix::from_fn(n, d, |i, j| z[(i, j)] - f.mean[j]);
        let l = f.cov.cholesky().unwrap().l();
        let l_inv_t = l.try_inverse().unwrap().transpose();
        centred * l_inv_t
    }

    #[test]
    fn standardised_sets_have_exact_moments() {
        let z = standardised(500, 3, 1);
        let f = gaussian_fit("z", &z).unwrap();
        assert!(f.mean.amax() < FRECHET_TOL);
        assert!((f.cov - DMatrix::identity(3, 3)).amax() < FRECHET_TOL);
    }

    #[test]
    fn shifted_and_scaled_gaussians_match_the_closed_form() {
        // X = μ₁ + Z diag(σ₁), Y = μ₂ + Z' diag(σ₂) with exact sample moments: the fits are
        // N(μ₁, diag σ₁²) and N(μ₂, diag σ₂²), commuting, so
        // d² = ‖μ₁ − μ₂‖² + Σ_j (σ₁ⱼ − σ₂ⱼ)².
        let (mu1, s1) = ([1.0, -2.0, 0.5], [0.3, 2.0, 1.0]);
        let (mu2, s2) = ([-0.5, 1.0, 0.5], [1.3, 0.5, 1.0]);
        let z1 = standardised(400, 3, 2);
        let z2 = standardised(250, 3, 3);
        let x = DMatrix::from_fn(400, 3, |i, j| mu1[j] + s1[j] * z1[(i, j)]);
        let y = DMatrix::from_fn(250, 3, |i, j| mu2[j] + s2[j] * z2[(i, j)]);
        let want: f64 = (0..3)
            .map(|j| (mu1[j] - mu2[j]).powi(2) + (s1[j] - s2[j]).powi(2))
            .sum();
        let got = frechet_distance(&x, &y).unwrap();
        assert!((got - want).abs() < FRECHET_TOL * want, "{got} vs {want}");
        // Symmetric in its arguments.
        let back = frechet_distance(&y, &x).unwrap();
        assert!((back - want).abs() < FRECHET_TOL * want);
    }

    #[test]
    fn non_commuting_2x2_covariances_match_the_closed_form() {
        // For 2×2 symmetric positive definite M, tr M^{1/2} = √(tr M + 2√det M) (from
        // M^{1/2} = (M + √det M I)/√(tr M + 2√det M)). With M = Σ₁^{1/2} Σ₂ Σ₁^{1/2}:
        // tr M = tr(Σ₁Σ₂), det M = det Σ₁ det Σ₂, so
        // d² = ‖Δμ‖² + tr Σ₁ + tr Σ₂ − 2√(tr(Σ₁Σ₂) + 2√(det Σ₁ det Σ₂)).
        let c1 = DMatrix::from_row_slice(2, 2, &[2.0, 0.7, 0.7, 0.5]);
        let c2 = DMatrix::from_row_slice(2, 2, &[0.3, -0.2, -0.2, 1.5]);
        let a = GaussianFit {
            mean: DVector::from_vec(vec![0.0, 1.0]),
            cov: c1.clone(),
            n: 10,
        };
        let b = GaussianFit {
            mean: DVector::from_vec(vec![2.0, -1.0]),
            cov: c2.clone(),
            n: 10,
        };
        let want = 8.0 + c1.trace() + c2.trace()
            - 2.0
                * ((&c1 * &c2).trace() + 2.0 * (c1.determinant() * c2.determinant()).sqrt()).sqrt();
        let got = frechet_distance_gaussians(&a, &b).unwrap();
        assert!((got - want).abs() < FRECHET_TOL * want, "{got} vs {want}");
        // Equal covariances leave only the mean term.
        let b2 = GaussianFit { cov: c1, ..b };
        let got = frechet_distance_gaussians(&a, &b2).unwrap();
        assert!((got - 8.0).abs() < FRECHET_TOL * 8.0, "{got}");
    }

    #[test]
    fn identical_and_singular_sets() {
        let z = standardised(300, 2, 4);
        assert!(frechet_distance(&z, &z).unwrap() < FRECHET_TOL);
        // A degenerate set (all points on a line: Σ singular, an eigenvalue 0 or −ε) against
        // itself is still 0, and against the standard fit gives the closed form with σ = (√2, 0)
        // in the line's frame: d² = (√2 − 1)² + (0 − 1)²  (the line's direction is (1,1)/√2
        // and the coordinates t ~ standardised, so the variance along it is 2·1 = 2).
        let t = standardised(300, 1, 5);
        let line = DMatrix::from_fn(300, 2, |i, _| t[(i, 0)]);
        assert!(frechet_distance(&line, &line).unwrap() < FRECHET_TOL);
        let got = frechet_distance(&line, &z).unwrap();
        let want = (2f64.sqrt() - 1.0).powi(2) + 1.0;
        assert!((got - want).abs() < FRECHET_TOL * want, "{got} vs {want}");
    }

    #[test]
    fn bad_inputs_are_refused() {
        let one = DMatrix::from_element(1, 2, 0.0);
        let two = DMatrix::from_element(2, 2, 0.0);
        let e = frechet_distance(&one, &two).unwrap_err().to_string();
        assert!(e.contains("samples") && e.contains("at least 2"), "{e}");
        assert!(frechet_distance(&two, &DMatrix::zeros(2, 3)).is_err());
        assert!(frechet_distance(&two, &DMatrix::zeros(0, 2)).is_err());
    }
}
