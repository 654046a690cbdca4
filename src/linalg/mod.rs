//! Linear algebra: aliases, central finite differences, seeded random-number helpers,
//! and the eigen-solvers.
//!
//! - [`dense`]: every eigenvalue of a dense matrix (faer), [`eigenvalues`] and
//!   [`symmetric_eigenvalues`];
//! - [`krylov`]: a few eigenvalues of a non-symmetric operator known only through
//!   products ([`LinearOperator`]), by Krylov–Schur;
//! - [`lanczos`]: extreme eigenvalues of a symmetric operator (a player's Hessian).
//!
//! The solvers compute eigenvalues of whatever operator they are given; the sign
//! convention (J = ∂v/∂x of v = −∇L, stable iff max Re λ < 0) belongs to the caller.

mod arnoldi;
pub mod dense;
pub mod krylov;
pub mod lanczos;
mod schur;
#[cfg(test)]
pub(crate) mod test_matrices;

pub use dense::{eigenvalues, eigenvalues_with_threads, symmetric_eigenvalues};
pub use krylov::{
    FnOperator, KrylovOptions, LinearOperator, PartialEigen, RitzValue, Which, top_k,
};
pub use lanczos::{SymmetricPartialEigen, SymmetricRitzValue, SymmetricWhich, extreme_eigenvalues};

use nalgebra::{Complex, DMatrix, DVector};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A real column vector (the joint parameters x = (θ_G, ψ_D), or a field value).
pub type Vector = DVector<f64>;
/// A dense real matrix (a Jacobian).
pub type Matrix = DMatrix<f64>;
/// A complex eigenvalue.
pub type Eigenvalue = Complex<f64>;
/// The seeded generator used everywhere. ChaCha8 is portable and its stream does not
/// depend on the platform or on the number of threads.
pub type Rng = ChaCha8Rng;

/// Relative step of the central differences: h_i = FD_STEP · max(1, |x_i|).
/// With an O(h²) truncation error and O(ε/h) rounding error, h ≈ ε^(1/3) ≈ 6e-6
/// balances the two for f64.
pub const FD_STEP: f64 = 6.0e-6;

/// Central-difference Jacobian of `f` at `x`: column i is (f(x + h eᵢ) − f(x − h eᵢ)) / 2h.
#[must_use]
pub fn central_jacobian(f: impl Fn(&Vector) -> Vector, x: &Vector) -> Matrix {
    let n = x.len();
    let f0 = f(x);
    let mut jac = Matrix::zeros(f0.len(), n);
    let mut xp = x.clone();
    for i in 0..n {
        let h = FD_STEP * x[i].abs().max(1.0);
        xp[i] = x[i] + h;
        let fp = f(&xp);
        xp[i] = x[i] - h;
        let fm = f(&xp);
        xp[i] = x[i];
        jac.set_column(i, &((fp - fm) / (2.0 * h)));
    }
    jac
}

/// Maximum number of QR sweeps of nalgebra's real Schur decomposition before giving up
/// (nalgebra's `complex_eigenvalues` has no cap and can hang, RUST-NOTES.md). Used for
/// the small projected matrices of the Krylov solvers ([`krylov`]), which need Schur
/// vectors: faer 0.24 keeps its Schur routines private.
pub const SCHUR_MAX_ITER: usize = 10_000;

/// Spectral radius max |λ|.
#[must_use]
pub fn spectral_radius(ev: &[Eigenvalue]) -> f64 {
    ev.iter().map(|z| z.norm()).fold(0.0, f64::max)
}

/// A generator seeded from `seed` and a `stream` number, so that run i of a study gets
/// an independent, reproducible stream whatever the order in which runs execute.
#[must_use]
pub fn rng(seed: u64, stream: u64) -> Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream);
    r
}

/// Whether every entry is finite, in one vectorised pass: v·0 is ±0 for finite v and
/// NaN for ±∞ or NaN, and eight independent partial sums of those keep the loop free
/// of a serial dependency (a short-circuiting `any` does not vectorise).
#[must_use]
pub fn all_finite(x: &[f64]) -> bool {
    let mut acc = [0.0f64; 8];
    let chunks = x.chunks_exact(8);
    let rest = chunks.remainder().iter().fold(0.0, |s, v| s + v * 0.0);
    for c in chunks {
        for l in 0..8 {
            acc[l] += c[l] * 0.0;
        }
    }
    acc.iter().fold(rest, |s, v| s + v).is_finite()
}

/// ‖x‖₂ with eight independent partial sums of squares (vectorises; the association
/// order is fixed, so the result is reproducible).
#[must_use]
pub fn norm(x: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let chunks = x.chunks_exact(8);
    let rest = chunks.remainder().iter().fold(0.0, |s, v| s + v * v);
    for c in chunks {
        for l in 0..8 {
            acc[l] += c[l] * c[l];
        }
    }
    acc.iter().fold(rest, |s, v| s + v).sqrt()
}

/// SplitMix64 finaliser: derives a well-mixed child seed from (seed, index).
#[must_use]
pub fn derive_seed(seed: u64, index: u64) -> u64 {
    let mut z = seed ^ index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tolerance for eigenvalue invariants on well-conditioned small matrices.
    const INVARIANT_TOL: f64 = 1e-9;

    #[test]
    fn all_finite_finds_every_bad_entry_and_norm_matches_nalgebra() {
        for n in [0, 1, 7, 8, 9, 23, 64] {
            let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.7).sin() * 1e3).collect();
            assert!(all_finite(&x));
            let want = Vector::from_vec(x.clone()).norm();
            assert!((norm(&x) - want).abs() <= 1e-14 * want.max(1.0), "n={n}");
            for i in 0..n {
                for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                    let mut y = x.clone();
                    y[i] = bad;
                    assert!(!all_finite(&y), "n={n} i={i} {bad}");
                }
            }
        }
        assert!(all_finite(&[f64::MAX, -f64::MAX, f64::MIN_POSITIVE]));
    }

    #[test]
    fn jacobian_of_quadratic_map_matches_closed_form() {
        // f(x) = (x0² x1, sin x0 + x1³): J = [[2 x0 x1, x0²], [cos x0, 3 x1²]]
        let f = |x: &Vector| Vector::from_vec(vec![x[0] * x[0] * x[1], x[0].sin() + x[1].powi(3)]);
        for &(a, b) in &[(0.3, -1.2), (2.0, 0.5), (-1.5, 3.0)] {
            let x = Vector::from_vec(vec![a, b]);
            let j = central_jacobian(f, &x);
            let exact = Matrix::from_row_slice(2, 2, &[2.0 * a * b, a * a, a.cos(), 3.0 * b * b]);
            assert!((j - exact).amax() < 1e-8);
        }
    }

    #[test]
    fn eigenvalues_of_rotation_and_invariants() {
        let m = Matrix::from_row_slice(2, 2, &[0.0, -0.5, 0.5, 0.0]);
        let ev = eigenvalues(&m).unwrap();
        assert!((ev[0].re).abs() < INVARIANT_TOL && (ev[0].im + 0.5).abs() < INVARIANT_TOL);
        assert!((ev[1].im - 0.5).abs() < INVARIANT_TOL);
        let m3 = Matrix::from_row_slice(3, 3, &[1.0, 2.0, 0.0, -3.0, 0.5, 1.0, 0.2, 0.1, -2.0]);
        let ev = eigenvalues(&m3).unwrap();
        let tr: f64 = ev.iter().map(|z| z.re).sum();
        assert!((tr - m3.trace()).abs() < INVARIANT_TOL);
        let det = ev.iter().fold(Eigenvalue::new(1.0, 0.0), |p, z| p * z);
        assert!((det.re - m3.determinant()).abs() < INVARIANT_TOL && det.im.abs() < INVARIANT_TOL);
    }

    #[test]
    fn eigenvalues_reject_bad_input() {
        assert!(eigenvalues(&Matrix::zeros(2, 3)).is_err());
        assert!(eigenvalues(&Matrix::from_element(2, 2, f64::NAN)).is_err());
    }

    #[test]
    fn streams_are_distinct_and_reproducible() {
        use rand::RngExt;
        let a: f64 = rng(7, 0).random();
        let b: f64 = rng(7, 0).random();
        let c: f64 = rng(7, 1).random();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(derive_seed(1, 0), derive_seed(1, 1));
    }
}
