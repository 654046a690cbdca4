//! The ordered real Schur form of a small matrix: the Rayleigh–Ritz step of the
//! Krylov–Schur method ([`super::krylov`]).
//!
//! H = Q T Qᵀ with Q orthogonal and T quasi upper triangular (1×1 blocks for real
//! eigenvalues, 2×2 blocks for complex pairs), reordered so that the wanted
//! eigenvalues come first: then the leading p columns of Q span the invariant subspace
//! of those eigenvalues, which is what a Krylov–Schur restart keeps (Stewart 2001,
//! "A Krylov–Schur algorithm for large eigenproblems", SIAM J. Matrix Anal. Appl.
//! 23(3), §3). Staying in real arithmetic keeps conjugate pairs together exactly.
//!
//! The Schur form itself comes from nalgebra (faer 0.24 keeps its Schur routines
//! private), capped at [`super::SCHUR_MAX_ITER`] sweeps; the reordering swaps
//! adjacent blocks as LAPACK's `dtrexc`/`dlaexc` do (Bai and Demmel 1993, "On swapping
//! diagonal blocks in real Schur form", Linear Algebra Appl. 186).

use super::{Eigenvalue, Matrix, SCHUR_MAX_ITER};
use crate::error::{Error, Result};

/// One diagonal block of T: a real eigenvalue (size 1) or a complex pair (size 2,
/// `value` is the member with positive imaginary part).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unit {
    /// First row of the block.
    pub start: usize,
    /// 1 or 2.
    pub size: usize,
    /// The eigenvalue (for a pair, the one with Im > 0).
    pub value: Eigenvalue,
}

/// A swap is rejected (left undone) when the block that should vanish after it is
/// larger than this many ε times the largest entry of the 4×4 window: LAPACK's
/// `dlaexc` uses the same factor 10 for its "weak stability test".
const SWAP_REJECT: f64 = 10.0;

/// Real Schur form H = Q T Qᵀ with every 2×2 block holding a complex pair (2×2 blocks
/// with real eigenvalues are split), and the list of its blocks.
///
/// # Errors
/// [`Error::Numerical`] if the QR iteration does not converge.
pub(crate) fn real_schur(h: &Matrix) -> Result<(Matrix, Matrix, Vec<Unit>)> {
    let schur = nalgebra::linalg::Schur::try_new(h.clone(), f64::EPSILON, SCHUR_MAX_ITER)
        .ok_or_else(|| {
            Error::numerical(
                "krylov",
                format!(
                    "Schur decomposition of the {0}x{0} projected matrix did not converge in {SCHUR_MAX_ITER} sweeps",
                    h.nrows()
                ),
            )
        })?;
    let (mut q, mut t) = schur.unpack();
    let units = standardise(&mut q, &mut t);
    Ok((q, t, units))
}

/// Zeroes T below its block structure, splits 2×2 blocks whose eigenvalues are real
/// (one rotation puts the eigenvector first), and lists the blocks.
fn standardise(q: &mut Matrix, t: &mut Matrix) -> Vec<Unit> {
    let m = t.nrows();
    for j in 0..m {
        for i in j + 2..m {
            t[(i, j)] = 0.0;
        }
    }
    let mut units = Vec::with_capacity(m);
    let mut i = 0;
    while i < m {
        if i + 1 < m && t[(i + 1, i)] != 0.0 {
            let (a, b, c, d) = (t[(i, i)], t[(i, i + 1)], t[(i + 1, i)], t[(i + 1, i + 1)]);
            let p = 0.5 * (a - d);
            let disc = p * p + b * c;
            if disc < 0.0 {
                units.push(Unit {
                    start: i,
                    size: 2,
                    value: Eigenvalue::new(0.5 * (a + d), (-disc).sqrt()),
                });
                i += 2;
                continue;
            }
            // Real pair: λ = (a+d)/2 + sign(p)·√disc (the root without cancellation);
            // its eigenvector is (b, λ − a) or (λ − d, c), whichever is longer.
            let lam = 0.5 * (a + d) + p.signum() * disc.sqrt();
            let (x1, x2) = if b * b + (lam - a) * (lam - a) >= (lam - d) * (lam - d) + c * c {
                (b, lam - a)
            } else {
                (lam - d, c)
            };
            let r = x1.hypot(x2);
            if r > 0.0 {
                rotate(q, t, i, x1 / r, x2 / r);
                t[(i + 1, i)] = 0.0;
            }
            units.push(Unit {
                start: i,
                size: 1,
                value: Eigenvalue::new(t[(i, i)], 0.0),
            });
            units.push(Unit {
                start: i + 1,
                size: 1,
                value: Eigenvalue::new(t[(i + 1, i + 1)], 0.0),
            });
            i += 2;
        } else {
            units.push(Unit {
                start: i,
                size: 1,
                value: Eigenvalue::new(t[(i, i)], 0.0),
            });
            i += 1;
        }
    }
    units
}

/// T ← GᵀTG, Q ← QG with G the rotation [[cs, −sn], [sn, cs]] acting on rows and
/// columns i, i+1.
fn rotate(q: &mut Matrix, t: &mut Matrix, i: usize, cs: f64, sn: f64) {
    let m = t.nrows();
    for j in 0..m {
        let (x, y) = (t[(i, j)], t[(i + 1, j)]);
        t[(i, j)] = cs * x + sn * y;
        t[(i + 1, j)] = -sn * x + cs * y;
    }
    for r in 0..m {
        let (x, y) = (t[(r, i)], t[(r, i + 1)]);
        t[(r, i)] = cs * x + sn * y;
        t[(r, i + 1)] = -sn * x + cs * y;
    }
    for r in 0..q.nrows() {
        let (x, y) = (q[(r, i)], q[(r, i + 1)]);
        q[(r, i)] = cs * x + sn * y;
        q[(r, i + 1)] = -sn * x + cs * y;
    }
}

/// Reorders the Schur form so that the blocks come in decreasing `rank` (ties keep the
/// current order), by adjacent swaps. A swap that fails LAPACK's stability test is
/// left undone (the order is then only approximately the wanted one, but T and Q stay
/// an exact similarity). Returns the blocks in their new order.
pub(crate) fn reorder(
    q: &mut Matrix,
    t: &mut Matrix,
    units: &[Unit],
    rank: impl Fn(Eigenvalue) -> (f64, f64),
) -> Vec<Unit> {
    let mut desired: Vec<usize> = (0..units.len()).collect();
    let keys: Vec<(f64, f64)> = units.iter().map(|u| rank(u.value)).collect();
    desired.sort_by(|&a, &b| {
        keys[b]
            .0
            .total_cmp(&keys[a].0)
            .then(keys[b].1.total_cmp(&keys[a].1))
            .then(a.cmp(&b))
    });
    // current[i] = (id, size) of the block at the i-th position
    let mut current: Vec<(usize, usize)> =
        units.iter().enumerate().map(|(i, u)| (i, u.size)).collect();
    for (target, &id) in desired.iter().enumerate() {
        let Some(mut pos) = current.iter().position(|c| c.0 == id) else {
            continue;
        };
        while pos > target {
            let start: usize = current[..pos - 1].iter().map(|c| c.1).sum();
            if !swap(q, t, start, current[pos - 1].1, current[pos].1) {
                break;
            }
            current.swap(pos - 1, pos);
            pos -= 1;
        }
    }
    standardise(q, t)
}

/// Swaps the adjacent diagonal blocks of sizes n1 (at j0) and n2 (after it). Returns
/// false, changing nothing, if the swap would not be accurate.
fn swap(q: &mut Matrix, t: &mut Matrix, j0: usize, n1: usize, n2: usize) -> bool {
    let m = t.nrows();
    if n1 == 1 && n2 == 1 {
        // dlaexc's 1×1 case: the rotation whose first column is the eigenvector of
        // [[t11, t12], [0, t22]] for t22, ∝ (t12, t22 − t11). Always stable.
        let (t11, t12, t22) = (t[(j0, j0)], t[(j0, j0 + 1)], t[(j0 + 1, j0 + 1)]);
        let (x1, x2) = (t12, t22 - t11);
        let r = x1.hypot(x2);
        if r == 0.0 {
            return true;
        }
        rotate(q, t, j0, x1 / r, x2 / r);
        t[(j0 + 1, j0)] = 0.0;
        t[(j0, j0)] = t22;
        t[(j0 + 1, j0 + 1)] = t11;
        return true;
    }
    let nw = n1 + n2;
    let w = t.view((j0, j0), (nw, nw)).clone_owned();
    let a11 = w.view((0, 0), (n1, n1)).clone_owned();
    let a12 = w.view((0, n1), (n1, n2)).clone_owned();
    let a22 = w.view((n1, n1), (n2, n2)).clone_owned();
    let x = sylvester(&a11, &a22, &a12);
    // [−X; I] spans the invariant subspace of A22's eigenvalues: its QR factor Qw makes
    // Qwᵀ W Qw = [[Ã22, ·], [E, Ã11]] with E = 0 in exact arithmetic.
    let mut basis = Matrix::zeros(nw, n2);
    for i in 0..n1 {
        for j in 0..n2 {
            basis[(i, j)] = -x[(i, j)];
        }
    }
    for j in 0..n2 {
        basis[(n1 + j, j)] = 1.0;
    }
    let qw = householder_full_q(&basis);
    let wnew = qw.transpose() * &w * &qw;
    let wmax = w.amax();
    let e = wnew.view((n2, 0), (n1, n2)).amax();
    if e > (SWAP_REJECT * f64::EPSILON * wmax).max(f64::MIN_POSITIVE)
        || !wnew.iter().all(|v| v.is_finite())
    {
        return false;
    }
    // Apply Qw to the rows j0..j0+nw (columns right of the window), to the columns
    // (rows above the window), and to Q.
    if j0 + nw < m {
        let right = t.view((j0, j0 + nw), (nw, m - j0 - nw)).clone_owned();
        t.view_mut((j0, j0 + nw), (nw, m - j0 - nw))
            .copy_from(&(qw.transpose() * right));
    }
    if j0 > 0 {
        let above = t.view((0, j0), (j0, nw)).clone_owned();
        t.view_mut((0, j0), (j0, nw)).copy_from(&(above * &qw));
    }
    t.view_mut((j0, j0), (nw, nw)).copy_from(&wnew);
    for i in n2..nw {
        for j in 0..n2 {
            t[(j0 + i, j0 + j)] = 0.0;
        }
    }
    let qcols = q.view((0, j0), (q.nrows(), nw)).clone_owned();
    q.view_mut((0, j0), (q.nrows(), nw))
        .copy_from(&(qcols * &qw));
    true
}

/// Solves A11 X − X A22 = A12 for X (at most 2×2) through its Kronecker form
/// (I ⊗ A11 − A22ᵀ ⊗ I) vec X = vec A12, by Gaussian elimination with complete
/// pivoting; a pivot below ε·max|K| is replaced by that value, as LAPACK's `dlasy2`
/// does (the swap's stability test then decides whether the result is usable).
fn sylvester(a11: &Matrix, a22: &Matrix, a12: &Matrix) -> Matrix {
    let (n1, n2) = (a11.nrows(), a22.nrows());
    let s = n1 * n2;
    let mut k = Matrix::zeros(s, s);
    let mut rhs: Vec<f64> = vec![0.0; s];
    for j in 0..n2 {
        for i in 0..n1 {
            let row = i + n1 * j;
            rhs[row] = a12[(i, j)];
            for l in 0..n1 {
                k[(row, l + n1 * j)] += a11[(i, l)];
            }
            for l in 0..n2 {
                k[(row, i + n1 * l)] -= a22[(l, j)];
            }
        }
    }
    let smin = (f64::EPSILON * k.amax()).max(f64::MIN_POSITIVE);
    let mut perm: Vec<usize> = (0..s).collect(); // column permutation
    for c in 0..s {
        // complete pivoting on the trailing block
        let (mut pr, mut pc, mut best) = (c, c, -1.0);
        for r in c..s {
            for cc in c..s {
                if k[(r, cc)].abs() > best {
                    best = k[(r, cc)].abs();
                    pr = r;
                    pc = cc;
                }
            }
        }
        k.swap_rows(c, pr);
        rhs.swap(c, pr);
        k.swap_columns(c, pc);
        perm.swap(c, pc);
        if k[(c, c)].abs() < smin {
            k[(c, c)] = smin;
        }
        for r in c + 1..s {
            let f = k[(r, c)] / k[(c, c)];
            for cc in c..s {
                k[(r, cc)] -= f * k[(c, cc)];
            }
            rhs[r] -= f * rhs[c];
        }
    }
    let mut z = vec![0.0; s];
    for c in (0..s).rev() {
        let mut acc = rhs[c];
        for cc in c + 1..s {
            acc -= k[(c, cc)] * z[cc];
        }
        z[c] = acc / k[(c, c)];
    }
    let mut x = Matrix::zeros(n1, n2);
    for (c, &var) in perm.iter().enumerate() {
        x[(var % n1, var / n1)] = z[c];
    }
    x
}

/// The full orthogonal factor Q (nw × nw) of the Householder QR of an nw × c matrix.
fn householder_full_q(a: &Matrix) -> Matrix {
    let (nw, c) = (a.nrows(), a.ncols());
    let mut r = a.clone();
    let mut q = Matrix::identity(nw, nw);
    for j in 0..c {
        let norm: f64 = (j..nw).map(|i| r[(i, j)] * r[(i, j)]).sum::<f64>().sqrt();
        if norm == 0.0 {
            continue;
        }
        let alpha = if r[(j, j)] > 0.0 { -norm } else { norm };
        let mut v = vec![0.0; nw];
        v[j] = r[(j, j)] - alpha;
        for i in j + 1..nw {
            v[i] = r[(i, j)];
        }
        let vv: f64 = v.iter().map(|x| x * x).sum();
        if vv == 0.0 {
            continue;
        }
        // R ← (I − 2vvᵀ/vᵀv) R,  Q ← Q (I − 2vvᵀ/vᵀv)
        for col in 0..c {
            let d: f64 = (j..nw).map(|i| v[i] * r[(i, col)]).sum::<f64>() * 2.0 / vv;
            for i in j..nw {
                r[(i, col)] -= d * v[i];
            }
        }
        for row in 0..nw {
            let d: f64 = (j..nw).map(|i| q[(row, i)] * v[i]).sum::<f64>() * 2.0 / vv;
            for i in j..nw {
                q[(row, i)] -= d * v[i];
            }
        }
    }
    q
}

/// The eigenvector s of T for the block `units[idx]` (the eigenvalue with Im ≥ 0), by
/// back substitution through the blocks above it (LAPACK `dtrevc`); a near-zero
/// divisor (an eigenvalue repeated higher up) is replaced by ε·max|T|. Length m,
/// zero below the block; not normalised.
pub(crate) fn eigenvector(t: &Matrix, units: &[Unit], idx: usize) -> Vec<Eigenvalue> {
    let m = t.nrows();
    let zero = Eigenvalue::new(0.0, 0.0);
    let mut s = vec![zero; m];
    let u = units[idx];
    let theta = u.value;
    let end = u.start + u.size;
    if u.size == 1 {
        s[u.start] = Eigenvalue::new(1.0, 0.0);
    } else {
        let i = u.start;
        let (a, b, c, d) = (t[(i, i)], t[(i, i + 1)], t[(i + 1, i)], t[(i + 1, i + 1)]);
        let v1 = (Eigenvalue::new(b, 0.0), theta - a);
        let v2 = (theta - d, Eigenvalue::new(c, 0.0));
        let (x1, x2) = if v1.0.norm_sqr() + v1.1.norm_sqr() >= v2.0.norm_sqr() + v2.1.norm_sqr() {
            v1
        } else {
            v2
        };
        s[i] = x1;
        s[i + 1] = x2;
    }
    let smin = (f64::EPSILON * t.amax()).max(f64::MIN_POSITIVE);
    for w in units[..idx].iter().rev() {
        let r0 = w.start;
        let mut rhs = [zero; 2];
        for (k, rhs_k) in rhs.iter_mut().enumerate().take(w.size) {
            let mut acc = zero;
            for col in r0 + w.size..end {
                acc += s[col] * t[(r0 + k, col)];
            }
            *rhs_k = -acc;
        }
        if w.size == 1 {
            let mut den = Eigenvalue::new(t[(r0, r0)], 0.0) - theta;
            if den.norm() < smin {
                den = Eigenvalue::new(smin, 0.0);
            }
            s[r0] = cdiv(rhs[0], den);
        } else {
            let b11 = Eigenvalue::new(t[(r0, r0)], 0.0) - theta;
            let b12 = Eigenvalue::new(t[(r0, r0 + 1)], 0.0);
            let b21 = Eigenvalue::new(t[(r0 + 1, r0)], 0.0);
            let b22 = Eigenvalue::new(t[(r0 + 1, r0 + 1)], 0.0) - theta;
            let mut det = b11 * b22 - b12 * b21;
            let dmin = smin * smin.max(t.amax());
            if det.norm() < dmin {
                det = Eigenvalue::new(dmin.max(f64::MIN_POSITIVE), 0.0);
            }
            s[r0] = cdiv(b22 * rhs[0] - b12 * rhs[1], det);
            s[r0 + 1] = cdiv(b11 * rhs[1] - b21 * rhs[0], det);
        }
    }
    s
}

/// a / b by Smith's algorithm (Smith 1962, "Algorithm 116: Complex division"): no
/// intermediate |b|², which underflows to 0 for |b| < 1e-154 and turns 0/b into NaN.
fn cdiv(a: Eigenvalue, b: Eigenvalue) -> Eigenvalue {
    if b.re.abs() >= b.im.abs() {
        let r = b.im / b.re;
        let d = b.re + b.im * r;
        Eigenvalue::new((a.re + a.im * r) / d, (a.im - a.re * r) / d)
    } else {
        let r = b.re / b.im;
        let d = b.re * r + b.im;
        Eigenvalue::new((a.re * r + a.im) / d, (a.im * r - a.re) / d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::test_matrices::gaussian;

    /// Orthogonality and reconstruction of a Schur form of a 30×30 matrix with entries
    /// of order 1: backward stable, ‖QTQᵀ − H‖ ≈ ε·n·‖H‖ ≈ 1e-13.
    const SCHUR_TOL: f64 = 1e-11;

    fn check(h: &Matrix, q: &Matrix, t: &Matrix, units: &[Unit]) {
        let m = h.nrows();
        assert!((q.transpose() * q - Matrix::identity(m, m)).amax() < SCHUR_TOL);
        assert!((q * t * q.transpose() - h).amax() < SCHUR_TOL);
        let mut pos = 0;
        for u in units {
            assert_eq!(u.start, pos);
            pos += u.size;
        }
        assert_eq!(pos, m);
        for j in 0..m {
            for i in j + 1..m {
                let inside = units
                    .iter()
                    .any(|u| u.size == 2 && u.start == j && i == j + 1);
                if !inside {
                    assert_eq!(t[(i, j)], 0.0, "T[{i},{j}]");
                }
            }
        }
    }

    #[test]
    fn reordering_puts_the_wanted_blocks_first_and_keeps_the_similarity() {
        let h = gaussian(30, 5);
        let (mut q, mut t, units) = real_schur(&h).unwrap();
        check(&h, &q, &t, &units);
        assert!(
            units.iter().any(|u| u.size == 2),
            "a random matrix has complex pairs"
        );
        let mut before: Vec<f64> = units.iter().map(|u| u.value.im).collect();
        let ordered = reorder(&mut q, &mut t, &units, |z| (z.im.abs(), z.norm()));
        check(&h, &q, &t, &ordered);
        let after: Vec<f64> = ordered.iter().map(|u| u.value.im).collect();
        for w in after.windows(2) {
            assert!(w[0] >= w[1] - SCHUR_TOL, "{after:?}");
        }
        before.sort_by(|a, b| b.total_cmp(a));
        for (a, b) in after.iter().zip(&before) {
            assert!((a - b).abs() < SCHUR_TOL);
        }
        // and by real part
        let ordered = reorder(&mut q, &mut t, &ordered, |z| (z.re, z.im.abs()));
        check(&h, &q, &t, &ordered);
        for w in ordered.windows(2) {
            assert!(w[0].value.re >= w[1].value.re - SCHUR_TOL);
        }
    }

    #[test]
    fn complex_division_survives_tiny_divisors() {
        let tiny = Eigenvalue::new(f64::MIN_POSITIVE, 0.0);
        assert_eq!(
            cdiv(Eigenvalue::new(0.0, 0.0), tiny),
            Eigenvalue::new(0.0, 0.0)
        );
        let q = cdiv(Eigenvalue::new(3.0, -1.0), Eigenvalue::new(1e-200, 2e-200));
        // (3 − i)/(1 + 2i)·1e200 = (1 − 7i)/5·1e200
        assert!((q.re / 0.2e200 - 1.0).abs() < 1e-15 && (q.im / -1.4e200 - 1.0).abs() < 1e-15);
    }

    #[test]
    fn eigenvectors_of_the_schur_form_satisfy_t_s_equals_lambda_s() {
        let h = gaussian(25, 6);
        let (_, t, units) = real_schur(&h).unwrap();
        let tc = t.map(|v| Eigenvalue::new(v, 0.0));
        for idx in 0..units.len() {
            let s = eigenvector(&t, &units, idx);
            let sv = nalgebra::DVector::from_vec(s);
            let r = &tc * &sv - &sv * units[idx].value;
            assert!(r.norm() < SCHUR_TOL * sv.norm(), "unit {idx}: {}", r.norm());
        }
    }
}
