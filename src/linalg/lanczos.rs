//! Extreme eigenvalues of a symmetric operator (a player's Hessian ∇²_θ L_G or
//! ∇²_ψ L_D) from products alone: the thick-restart Lanczos method (Wu and Simon 2000,
//! "Thick-restart Lanczos method for large symmetric eigenvalue problems", SIAM J.
//! Matrix Anal. Appl. 22(2)), which is Krylov–Schur on a symmetric operator (Stewart
//! 2001, §5): the Schur form of the projected matrix is its eigen-decomposition.
//!
//! The basis is built by the same Arnoldi code as [`super::krylov`], with full
//! reorthogonalisation (so no ghost copies of converged eigenvalues appear, which
//! plain three-term Lanczos produces in floating point: Paige 1976). The projected
//! matrix H_m = V_mᵀ A V_m is symmetric in exact arithmetic; its symmetric part is
//! diagonalised, Y Θ Yᵀ. A restart keeps the wanted Ritz vectors V_m Y_p with the
//! arrowhead projected matrix [diag(Θ_p); bᵀ], b = β e_mᵀ Y_p (Wu and Simon, §2).
//!
//! Convergence, the tolerance's floor, the true residuals (one product per value)
//! and the `converged` flag are as in [`super::krylov`].

use std::str::FromStr;

use super::arnoldi::Basis;
use super::krylov::{KrylovOptions, LinearOperator, MAX_TIGHTENINGS, threshold};
use super::{Matrix, SCHUR_MAX_ITER};
use crate::error::{Error, Result};

/// Which end of a symmetric spectrum [`extreme_eigenvalues`] looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymmetricWhich {
    /// The k largest (algebraic) eigenvalues, ARPACK `LA`.
    Largest,
    /// The k smallest (algebraic) eigenvalues, ARPACK `SA`: negative ones tell that a
    /// player is at a saddle, not a minimum.
    Smallest,
    /// ⌈k/2⌉ largest and ⌊k/2⌋ smallest in one run, ARPACK `BE`.
    BothEnds,
}

impl SymmetricWhich {
    /// The ARPACK code: `LA`, `SA` or `BE`.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            SymmetricWhich::Largest => "LA",
            SymmetricWhich::Smallest => "SA",
            SymmetricWhich::BothEnds => "BE",
        }
    }

    /// Indices of `theta` in order of preference: descending, ascending, or
    /// alternately from the top and the bottom.
    fn order(self, theta: &[f64]) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..theta.len()).collect();
        idx.sort_by(|&a, &b| theta[b].total_cmp(&theta[a]).then(a.cmp(&b)));
        match self {
            SymmetricWhich::Largest => idx,
            SymmetricWhich::Smallest => {
                idx.reverse();
                idx
            }
            SymmetricWhich::BothEnds => {
                let (mut lo, mut hi) = (0, idx.len());
                let mut out = Vec::with_capacity(idx.len());
                while lo < hi {
                    out.push(idx[lo]);
                    lo += 1;
                    if lo < hi {
                        hi -= 1;
                        out.push(idx[hi]);
                    }
                }
                out
            }
        }
    }
}

impl FromStr for SymmetricWhich {
    type Err = Error;
    /// `LA`/`largest`, `SA`/`smallest`, `BE`/`both-ends`, any case.
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "la" | "largest" => Ok(SymmetricWhich::Largest),
            "sa" | "smallest" => Ok(SymmetricWhich::Smallest),
            "be" | "both-ends" => Ok(SymmetricWhich::BothEnds),
            _ => Err(Error::param(
                "which",
                format!("`{s}` is not one of LA (largest), SA (smallest), BE (both-ends)"),
            )),
        }
    }
}

/// One computed eigenvalue of a symmetric operator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SymmetricRitzValue {
    /// λ.
    pub value: f64,
    /// The true residual ‖A x − λ x‖/‖x‖ of its Ritz vector, from one product.
    pub residual: f64,
    /// Whether the residual meets the tolerance (as in [`super::krylov`]).
    pub converged: bool,
}

/// The result of [`extreme_eigenvalues`].
#[derive(Debug, Clone, PartialEq)]
pub struct SymmetricPartialEigen {
    /// The k eigenvalues: descending for `Largest` and `BothEnds`, ascending for
    /// `Smallest`.
    pub values: Vec<SymmetricRitzValue>,
    /// Operator products used, including those for the true residuals.
    pub products: usize,
    /// Restarts performed.
    pub restarts: usize,
    /// The subspace size m used.
    pub subspace: usize,
    /// The selection.
    pub which: SymmetricWhich,
    /// ρ̂ = max |θ| over the last Ritz values (the scale of the tolerance's floor).
    pub scale: f64,
}

impl SymmetricPartialEigen {
    /// Whether every returned eigenvalue converged.
    #[must_use]
    pub fn all_converged(&self) -> bool {
        self.values.iter().all(|v| v.converged)
    }
}

/// The k extreme eigenvalues of a symmetric operator (thick-restart Lanczos). The
/// operator is trusted to be symmetric; only its symmetric part is seen by the
/// Rayleigh–Ritz step, but a non-symmetric operator will show large residuals.
///
/// # Errors
/// As [`super::krylov::top_k`].
pub fn extreme_eigenvalues<A: LinearOperator + ?Sized>(
    op: &A,
    which: SymmetricWhich,
    opts: &KrylovOptions,
) -> Result<SymmetricPartialEigen> {
    let n = op.dim();
    let m = opts.subspace_for(n)?;
    let k = opts.k;
    let mut basis = Basis::new(op, m, opts.seed)?;
    let mut from = 0;
    let mut restarts = 0;
    let mut tighten = 1.0;
    let mut tightenings = 0;
    loop {
        basis.expand(op, from)?;
        let hm = basis.h.view((0, 0), (m, m)).clone_owned();
        let sym = (&hm + hm.transpose()) * 0.5;
        let eig = nalgebra::SymmetricEigen::try_new(sym, f64::EPSILON, SCHUR_MAX_ITER).ok_or_else(
            || {
                Error::numerical(
                    "lanczos",
                    format!("eigen-decomposition of the {m}x{m} projected matrix did not converge"),
                )
            },
        )?;
        let theta: Vec<f64> = eig.eigenvalues.iter().copied().collect();
        let order = which.order(&theta);
        let scale = theta.iter().map(|t| t.abs()).fold(0.0, f64::max);
        let brow = basis.h.view((m, 0), (1, m)).clone_owned();
        let estimate = |i: usize| (&brow * eig.eigenvectors.column(i))[(0, 0)].abs();
        let pass = |i: usize, f: f64| estimate(i) <= f * threshold(opts.tol, theta[i].abs(), scale);
        let estimates_pass = order[..k].iter().all(|&i| pass(i, tighten));
        let exhausted = restarts >= opts.max_restarts || m == n;
        if estimates_pass || exhausted {
            let mut values = Vec::with_capacity(k);
            let (mut x, mut ax) = (vec![0.0; n], vec![0.0; n]);
            for &i in &order[..k] {
                let y: Vec<f64> = eig.eigenvectors.column(i).iter().copied().collect();
                basis.combine(&y, &mut x);
                basis.apply(op, &x, &mut ax)?;
                let t = theta[i];
                let r2: f64 = ax
                    .iter()
                    .zip(&x)
                    .map(|(a, b)| (a - t * b) * (a - t * b))
                    .sum();
                let x2 = super::norm(&x).powi(2);
                let residual = if x2 > 0.0 {
                    (r2 / x2).sqrt()
                } else {
                    f64::INFINITY
                };
                values.push(SymmetricRitzValue {
                    value: t,
                    residual,
                    converged: residual <= threshold(opts.tol, t.abs(), scale),
                });
            }
            let all = values.iter().all(|v| v.converged);
            if all || exhausted || tightenings >= MAX_TIGHTENINGS {
                match which {
                    SymmetricWhich::Smallest => values.sort_by(|a, b| a.value.total_cmp(&b.value)),
                    _ => values.sort_by(|a, b| b.value.total_cmp(&a.value)),
                }
                return Ok(SymmetricPartialEigen {
                    values,
                    products: basis.products,
                    restarts,
                    subspace: m,
                    which,
                    scale,
                });
            }
            tighten *= 0.1;
            tightenings += 1;
        }
        // keep the wanted, the converged and half the rest (as in krylov::top_k)
        let converged = order[..k].iter().filter(|&&i| pass(i, tighten)).count();
        let p = k.max(converged + (m - converged) / 2).min(m - 1);
        let mut y = Matrix::zeros(m, p);
        let mut lead = Matrix::zeros(p, p);
        for (c, &i) in order[..p].iter().enumerate() {
            y.set_column(c, &eig.eigenvectors.column(i));
            lead[(c, c)] = theta[i];
        }
        basis.restart(&y, &lead);
        from = p;
        restarts += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::krylov::DEFAULT_TOL;
    use crate::linalg::test_matrices::{gaussian, random_orthogonal};
    use crate::linalg::{Vector, symmetric_eigenvalues};

    /// Relative accuracy of converged eigenvalues against the dense solver. For a
    /// symmetric operator the Ritz value error is at most residual²/gap (Parlett 1998,
    /// "The symmetric eigenvalue problem", Thm 11.7.1), far below tol·|λ|; 1e-8 is the
    /// brief's bound.
    const EIG_REL_TOL: f64 = 1e-8;

    fn check_against_dense(a: &Matrix, which: SymmetricWhich, k: usize) -> SymmetricPartialEigen {
        let dense = symmetric_eigenvalues(a).unwrap(); // ascending
        let got = extreme_eigenvalues(a, which, &KrylovOptions::new(k)).unwrap();
        assert!(got.all_converged(), "{which:?}: {:?}", got.values);
        let n = dense.len();
        let mut want: Vec<f64> = match which {
            SymmetricWhich::Largest => dense[n - k..].iter().rev().copied().collect(),
            SymmetricWhich::Smallest => dense[..k].to_vec(),
            SymmetricWhich::BothEnds => {
                let hi = k.div_ceil(2);
                let mut w: Vec<f64> = dense[n - hi..].to_vec();
                w.extend_from_slice(&dense[..k - hi]);
                w.sort_by(|a, b| b.total_cmp(a));
                w
            }
        };
        if which == SymmetricWhich::Largest {
            want.sort_by(|a, b| b.total_cmp(a));
        }
        assert_eq!(got.values.len(), k);
        for (g, w) in got.values.iter().zip(&want) {
            assert!(
                (g.value - w).abs() <= EIG_REL_TOL * w.abs(),
                "{which:?}: {} vs {w}",
                g.value
            );
            assert!(g.residual <= threshold(DEFAULT_TOL, g.value.abs(), got.scale));
        }
        got
    }

    #[test]
    fn lanczos_matches_dense_symmetric_eigenvalues() {
        // a random symmetric (GOE-like) matrix: semicircle spectrum, extremes not far
        // from the bulk, a realistic test of restarts
        let g = gaussian(400, 31);
        let a = (&g + g.transpose()) / (2.0 * 400f64.sqrt());
        for which in [
            SymmetricWhich::Largest,
            SymmetricWhich::Smallest,
            SymmetricWhich::BothEnds,
        ] {
            let got = check_against_dense(&a, which, 5);
            assert!(got.restarts > 0, "the test should exercise restarts");
        }
        // a Hessian-like spectrum: a few negative eigenvalues, many near zero
        let n = 300;
        let diag: Vec<f64> = (0..n)
            .map(|i| match i {
                0 => -2.0,
                1 => -0.5,
                2..=9 => 3.0 + i as f64,
                _ => 1e-3 * ((i * 7919) % 100) as f64 / 100.0,
            })
            .collect();
        let q = random_orthogonal(n, 32);
        let h = &q * Matrix::from_diagonal(&Vector::from_vec(diag)) * q.transpose();
        check_against_dense(&h, SymmetricWhich::Smallest, 2);
        check_against_dense(&h, SymmetricWhich::Largest, 4);
        check_against_dense(&h, SymmetricWhich::BothEnds, 4);
    }

    #[test]
    fn lanczos_reports_unconverged_and_rejects_bad_k() {
        let g = gaussian(300, 33);
        let a = (&g + g.transpose()) / 2.0;
        let o = KrylovOptions {
            subspace: Some(5),
            max_restarts: 0,
            ..KrylovOptions::new(3)
        };
        let got = extreme_eigenvalues(&a, SymmetricWhich::Largest, &o).unwrap();
        assert!(!got.all_converged());
        for v in &got.values {
            assert_eq!(
                v.converged,
                v.residual <= threshold(DEFAULT_TOL, v.value.abs(), got.scale)
            );
        }
        for k in [0, 300] {
            assert!(matches!(
                extreme_eigenvalues(&a, SymmetricWhich::Largest, &KrylovOptions::new(k)),
                Err(Error::Param { key, .. }) if key == "k"
            ));
        }
        assert!(
            matches!("up".parse::<SymmetricWhich>(), Err(Error::Param { key, .. }) if key == "which")
        );
        assert_eq!(
            order_of(SymmetricWhich::BothEnds, &[3.0, 1.0, 2.0, 0.0]),
            vec![0, 3, 2, 1]
        );
    }

    fn order_of(w: SymmetricWhich, t: &[f64]) -> Vec<usize> {
        w.order(t)
    }
}
