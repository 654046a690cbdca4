//! Dense eigenvalues: every eigenvalue of a small or medium matrix (n up to a few
//! thousand), by faer's Hessenberg reduction and multishift QR with aggressive early
//! deflation (Braman, Byers and Mathias 2002), after a diagonal balancing of our own.
//!
//! # Why faer
//! faer 0.24 is pure Rust and computes the real Schur form with the blocked multishift
//! QR of LAPACK's `dhseqr`; nalgebra's `Schur` is the textbook double-shift QR with no
//! blocking (RUST-NOTES: 27–35 s at n = 2000). Measured for this module (release, one
//! thread, a 2000×2000 standard-normal matrix, on a shared 2-core machine): 2.3 s of
//! CPU (2.3–3.5 s wall), the same as `numpy.linalg.eigvals` (LAPACK `dgeev` in
//! OpenBLAS 0.3.31, one thread: 2.3 s CPU, 2.3–3.4 s wall); the eigenvalues agree with
//! numpy's to 1.1e-13 relative. A profile shows the Hessenberg reduction (half of it
//! matrix–vector work, memory-bound, as in LAPACK's `dgehrd`) taking most of the time,
//! then the QR sweeps; our balancing costs under 1 %. This module is the ONE dense
//! eigenvalue solver of redqueen: every reduced-game analysis goes through
//! [`eigenvalues`]. For 2×2 matrices the results equal LAPACK's bit for bit (both
//! standardise the block as `dlanv2` does), which can differ from a closed form in the
//! last bit: the Dirac-GAN's ±0.5i comes out as ±0.5000000000000001i.
//!
//! # Balancing
//! faer does not balance. LAPACK's `dgeev` (what `numpy.linalg.eigvals` calls) does:
//! D⁻¹AD with D diagonal, entries powers of 2 (so the scaling is exact and the
//! eigenvalues are unchanged), chosen so that row i and column i have comparable norms
//! (Parlett and Reinsch 1969, "Balancing a matrix for calculation of eigenvalues and
//! eigenvectors"; the 2-norm variant with the 0.95 acceptance test of James, Langou and
//! Lowery 2014, LAPACK 3.5 `dgebal`). The QR algorithm is backward stable with an
//! error of order ε‖A‖, so shrinking ‖A‖ shrinks the eigenvalue errors; a Jacobian
//! whose parameter blocks live on different scales is the case that needs it. We do
//! not do dgebal's permutation step (it isolates eigenvalues of reducible matrices;
//! it is a speed-up, not an accuracy gain, for the dense QR).
//!
//! # Threads
//! faer's blocked kernels sum in an order that depends on the thread count: at
//! n = 2000 the eigenvalues from one and from two threads differ by up to 8.5e-13.
//! [`eigenvalues`] therefore runs on one thread ([`DENSE_PAR_THREADS`]), so results do
//! not depend on the machine (house rule); [`eigenvalues_with_threads`] lets a caller
//! trade that for speed. On the shared 2-core machine two threads gained nothing at
//! n = 2000 (2.5 s CPU, 2.5–4.0 s wall), since the cores were busy anyway.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd::{self, ComputeEigenvectors};
use faer::{Par, diag::Diag};

use super::{Eigenvalue, Matrix};
use crate::error::{Error, Result};

/// Threads used by [`eigenvalues`] and [`symmetric_eigenvalues`]: one, so that results
/// are bitwise reproducible whatever the number of cores (house rule).
pub const DENSE_PAR_THREADS: usize = 1;

/// Sweeps of the balancing loop before it stops. Each sweep changes every scale by at
/// most the factor that equalises its row and column; LAPACK has no cap, but a cap
/// keeps a pathological input from looping (a finite input converges in a few sweeps).
const BALANCE_MAX_SWEEPS: usize = 100;

/// The balancing acceptance factor of LAPACK 3.5 `dgebal`: a rescaling is kept only if
/// it reduces ‖row‖ + ‖column‖ below 0.95 of its old value.
const BALANCE_ACCEPT: f64 = 0.95;

/// Complex eigenvalues of a square matrix, sorted by real part then imaginary part,
/// so that outputs are reproducible. One thread (see the module doc).
///
/// # Errors
/// [`Error::Numerical`] if the matrix is not square, holds a non-finite entry, or the
/// QR iteration does not converge.
pub fn eigenvalues(m: &Matrix) -> Result<Vec<Eigenvalue>> {
    eigenvalues_with_threads(m, DENSE_PAR_THREADS)
}

/// [`eigenvalues`] on `threads` threads of rayon's global pool (0 = all of them;
/// 1 = sequential). With more than one thread the last bits may depend on the thread
/// count.
///
/// # Errors
/// As [`eigenvalues`].
pub fn eigenvalues_with_threads(m: &Matrix, threads: usize) -> Result<Vec<Eigenvalue>> {
    check_square_finite(m, "eigenvalues")?;
    let n = m.nrows();
    if n == 0 {
        return Ok(Vec::new());
    }
    let mut a = m.clone();
    balance(&mut a);
    let par = par(threads);
    let a = faer::MatRef::from_column_major_slice(a.as_slice(), n, n);
    let mut re = Diag::<f64>::zeros(n);
    let mut im = Diag::<f64>::zeros(n);
    let mut buf = MemBuffer::new(evd::evd_scratch::<f64>(
        n,
        ComputeEigenvectors::No,
        ComputeEigenvectors::No,
        par,
        Default::default(),
    ));
    evd::evd_real(
        a,
        re.as_mut(),
        im.as_mut(),
        None,
        None,
        par,
        MemStack::new(&mut buf),
        Default::default(),
    )
    .map_err(|_| {
        Error::numerical(
            "eigenvalues",
            format!("the QR iteration did not converge (n = {n})"),
        )
    })?;
    let mut ev: Vec<Eigenvalue> = (0..n).map(|i| Eigenvalue::new(re[i], im[i])).collect();
    ev.sort_by(|a, b| a.re.total_cmp(&b.re).then(a.im.total_cmp(&b.im)));
    Ok(ev)
}

/// Eigenvalues of the symmetric part ½(A + Aᵀ) of a square matrix, in increasing
/// order: for a symmetric A (a player's Hessian) these are A's eigenvalues. Taking the
/// symmetric part, rather than one triangle, makes the answer independent of which
/// triangle a slightly asymmetric (finite-difference) Hessian is read from. One thread.
///
/// # Errors
/// [`Error::Numerical`] if the matrix is not square, holds a non-finite entry, or the
/// tridiagonal QR does not converge.
pub fn symmetric_eigenvalues(m: &Matrix) -> Result<Vec<f64>> {
    check_square_finite(m, "symmetric_eigenvalues")?;
    let n = m.nrows();
    if n == 0 {
        return Ok(Vec::new());
    }
    let sym = (m + m.transpose()) * 0.5;
    let par = par(DENSE_PAR_THREADS);
    let a = faer::MatRef::from_column_major_slice(sym.as_slice(), n, n);
    let mut s = Diag::<f64>::zeros(n);
    let mut buf = MemBuffer::new(evd::self_adjoint_evd_scratch::<f64>(
        n,
        ComputeEigenvectors::No,
        par,
        Default::default(),
    ));
    evd::self_adjoint_evd(
        a,
        s.as_mut(),
        None,
        par,
        MemStack::new(&mut buf),
        Default::default(),
    )
    .map_err(|_| {
        Error::numerical(
            "symmetric_eigenvalues",
            format!("the tridiagonal QR did not converge (n = {n})"),
        )
    })?;
    let mut ev: Vec<f64> = (0..n).map(|i| s[i]).collect();
    ev.sort_by(f64::total_cmp);
    Ok(ev)
}

fn par(threads: usize) -> Par {
    if threads == 1 {
        Par::Seq
    } else {
        Par::rayon(threads)
    }
}

fn check_square_finite(m: &Matrix, routine: &str) -> Result<()> {
    if !m.is_square() {
        return Err(Error::numerical(
            routine,
            format!("matrix is {}x{}, not square", m.nrows(), m.ncols()),
        ));
    }
    if !super::all_finite(m.as_slice()) {
        return Err(Error::numerical(routine, "matrix has a non-finite entry"));
    }
    Ok(())
}

/// Balances `a` in place: a ← D⁻¹AD with dᵢ powers of 2, LAPACK 3.5 `dgebal` (job 'S').
/// For each i, c = ‖column i off the diagonal‖₂ and r = ‖row i off the diagonal‖₂;
/// f = 2^j brings c·f close to r/f; the change is kept if (c·f + r/f) < 0.95 (c + r).
/// Rows or columns that are zero off the diagonal are left alone.
fn balance(a: &mut Matrix) {
    let n = a.nrows();
    let mut d = vec![1.0; n];
    // Keep every scale inside the range where multiplying by it cannot overflow or
    // underflow a normal number (dgebal's sfmin1/sfmax1 bounds, with radix 2).
    let sfmin = f64::MIN_POSITIVE / f64::EPSILON;
    let sfmax = 1.0 / sfmin;
    for _ in 0..BALANCE_MAX_SWEEPS {
        let mut changed = false;
        for i in 0..n {
            let mut c2 = 0.0;
            let mut r2 = 0.0;
            for j in 0..n {
                if j != i {
                    c2 += a[(j, i)] * a[(j, i)];
                    r2 += a[(i, j)] * a[(i, j)];
                }
            }
            let (c, r) = (c2.sqrt(), r2.sqrt());
            if c == 0.0 || r == 0.0 {
                continue;
            }
            let s = c + r;
            let (mut c, mut r, mut f) = (c, r, 1.0);
            let g = r / 2.0;
            while c < g && f * 2.0 * d[i] < sfmax {
                f *= 2.0;
                c *= 2.0;
                r /= 2.0;
            }
            let g = r * 2.0;
            while c >= g && f / 2.0 * d[i] > sfmin {
                f /= 2.0;
                c /= 2.0;
                r *= 2.0;
            }
            if c + r >= BALANCE_ACCEPT * s {
                continue;
            }
            d[i] *= f;
            changed = true;
            // a ← D_i⁻¹ a D_i with D_i = diag(1, …, f, …, 1): row i / f, column i · f.
            for j in 0..n {
                a[(i, j)] /= f;
            }
            for j in 0..n {
                a[(j, i)] *= f;
            }
        }
        if !changed {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::rng;
    use rand::RngExt;

    /// Σλ = tr A and Πλ = det A on small well-conditioned matrices: the QR algorithm is
    /// backward stable, so both hold to a few ε‖A‖ⁿ; 1e-9 leaves room for n ≤ 6 and
    /// entries of order 1.
    const INVARIANT_TOL: f64 = 1e-9;

    fn random(n: usize, seed: u64) -> Matrix {
        let mut r = rng(seed, 0);
        Matrix::from_fn(n, n, |_, _| r.random_range(-1.0..1.0))
    }

    #[test]
    fn trace_and_determinant_invariants() {
        for (n, seed) in [(1, 1), (2, 2), (3, 3), (5, 4), (6, 5)] {
            let m = random(n, seed);
            let ev = eigenvalues(&m).unwrap();
            assert_eq!(ev.len(), n);
            let sum = ev.iter().fold(Eigenvalue::new(0.0, 0.0), |s, z| s + z);
            let prod = ev.iter().fold(Eigenvalue::new(1.0, 0.0), |p, z| p * z);
            assert!((sum.re - m.trace()).abs() < INVARIANT_TOL, "n={n}");
            assert!(sum.im.abs() < INVARIANT_TOL, "n={n}");
            assert!((prod.re - m.determinant()).abs() < INVARIANT_TOL, "n={n}");
            assert!(prod.im.abs() < INVARIANT_TOL, "n={n}");
            // sorted by (re, im)
            for w in ev.windows(2) {
                assert!(w[0].re < w[1].re || (w[0].re == w[1].re && w[0].im <= w[1].im));
            }
        }
    }

    /// Tolerance for eigenvalues of a badly scaled matrix, relative to the eigenvalue
    /// scale (1): the similarity DAD⁻¹ with d from 1e-6 to 1e6 has ‖DAD⁻¹‖ ≈ 1e12, so an
    /// unbalanced QR errs by ≈ ε·1e12 ≈ 1e-4; balancing brings the norm back to O(1)
    /// and the error to ≈ 1e-14. 1e-10 separates the two.
    const BALANCED_TOL: f64 = 1e-10;

    #[test]
    fn balancing_recovers_eigenvalues_of_a_badly_scaled_matrix() {
        // Upper triangular T with known diagonal, conjugated by a random orthogonal-ish
        // (well-conditioned) matrix, then scaled by D = diag(10^{-6 … 6}).
        let n = 12;
        let mut r = rng(11, 0);
        let want: Vec<f64> = (0..n).map(|i| 1.0 + i as f64 * 0.25).collect();
        let t = Matrix::from_fn(n, n, |i, j| {
            if i == j {
                want[i]
            } else if i < j {
                r.random_range(-0.5..0.5)
            } else {
                0.0
            }
        });
        let d: Vec<f64> = (0..n)
            .map(|i| 10f64.powf(-6.0 + 12.0 * i as f64 / (n - 1) as f64))
            .collect();
        // D T D⁻¹ keeps the triangular structure; mix with a rotation so it is dense,
        // then scale: A = D (Q T Qᵀ) D⁻¹.
        let q = crate::linalg::test_matrices::random_orthogonal(n, 12);
        let dense = &q * t * q.transpose();
        let a = Matrix::from_fn(n, n, |i, j| d[i] * dense[(i, j)] / d[j]);
        let ev = eigenvalues(&a).unwrap();
        for (z, w) in ev.iter().zip(&want) {
            assert!(
                (z.re - w).abs() < BALANCED_TOL && z.im.abs() < BALANCED_TOL,
                "{z} vs {w}"
            );
        }
    }

    /// Symmetric eigenvalues against a diagonal spectrum conjugated by a random
    /// orthogonal matrix: backward stable, error ≈ ε‖A‖·n; 1e-12 on eigenvalues of
    /// order 1 with n = 40.
    const SYM_TOL: f64 = 1e-12;

    #[test]
    fn symmetric_eigenvalues_of_a_known_spectrum() {
        let n = 40;
        let want: Vec<f64> = (0..n).map(|i| -2.0 + 0.1 * i as f64).collect();
        let q = crate::linalg::test_matrices::random_orthogonal(n, 13);
        let a = &q
            * Matrix::from_diagonal(&super::super::Vector::from_vec(want.clone()))
            * q.transpose();
        let ev = symmetric_eigenvalues(&a).unwrap();
        for (z, w) in ev.iter().zip(&want) {
            assert!((z - w).abs() < SYM_TOL, "{z} vs {w}");
        }
        // the symmetric part is what is used: adding an antisymmetric part changes nothing
        let k = random(n, 14);
        let skew = &k - k.transpose();
        let ev2 = symmetric_eigenvalues(&(a + skew)).unwrap();
        for (z, w) in ev2.iter().zip(&want) {
            assert!((z - w).abs() < SYM_TOL, "{z} vs {w}");
        }
        assert!(symmetric_eigenvalues(&Matrix::zeros(2, 3)).is_err());
        assert!(symmetric_eigenvalues(&Matrix::from_element(2, 2, f64::INFINITY)).is_err());
    }

    #[test]
    fn several_threads_give_the_same_eigenvalues_to_rounding() {
        // Not a bitwise claim: the parallel path may sum in another order.
        const THREADS_TOL: f64 = 1e-10;
        let m = random(300, 21);
        let a = eigenvalues(&m).unwrap();
        let b = eigenvalues_with_threads(&m, 2).unwrap();
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).norm() < THREADS_TOL, "{x} vs {y}");
        }
    }
}
