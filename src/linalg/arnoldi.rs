//! An orthonormal Krylov basis built by the Arnoldi process with full
//! reorthogonalisation, shared by the Krylov–Schur solver ([`super::krylov`]) and the
//! thick-restart Lanczos solver ([`super::lanczos`]).
//!
//! After [`Basis::expand`] to m vectors, A V_m = V_m H_m + h_{m+1,m} v_{m+1} e_mᵀ, with
//! V = [v_1 … v_{m+1}] orthonormal to working precision: every new vector is
//! orthogonalised against all the previous ones by classical Gram–Schmidt, repeated
//! when a pass cancels more than 1/√2 of it (Daniel, Gragg, Kaufman and Stewart 1976,
//! "Reorthogonalization and stable algorithms for updating the Gram–Schmidt QR
//! factorization"; the DGKS test of ARPACK's `dnaitr`). [`Basis::restart`] truncates
//! to a Krylov decomposition A V_p = V_p T_p + v_{p+1} bᵀ (Stewart 2001, §2), which
//! `expand` extends again.

use rand::RngExt;
use rand_distr::StandardNormal;

use super::krylov::{LinearOperator, START_STREAM};
use super::{Matrix, Rng, rng};
use crate::error::{Error, Result};

/// Below this ratio ‖w after orthogonalisation‖ / ‖A v‖ the new direction is rounding
/// noise: the Krylov space is (numerically) invariant. 100 ε: above it, the second
/// Gram–Schmidt pass still leaves a vector orthogonal to working precision.
const BREAKDOWN_REL: f64 = 100.0 * f64::EPSILON;

/// A Gram–Schmidt pass is repeated when it shrinks the vector below 1/√2 of its
/// length (Daniel, Gragg, Kaufman and Stewart 1976).
const REORTH_ETA: f64 = std::f64::consts::FRAC_1_SQRT_2;

/// An orthonormal Krylov basis and its projected matrix, shared by Krylov–Schur and
/// the thick-restart Lanczos method: A V_j = V_{j+1} H[0..j+1, 0..j] after `expand`.
pub(crate) struct Basis {
    /// Dimension n.
    pub n: usize,
    /// Subspace size m.
    pub m: usize,
    /// V, n × (m + 1), column-major.
    v: Vec<f64>,
    /// H, (m + 1) × m.
    pub h: Matrix,
    /// Products so far.
    pub products: usize,
    rng: Rng,
    w: Vec<f64>,
}

impl Basis {
    /// A basis for `op` with subspace m and a random unit start vector from `seed`.
    ///
    /// # Errors
    /// [`Error::Param`] (`subspace`) if n·(m + 1) values do not fit in memory's address
    /// space.
    pub fn new<A: LinearOperator + ?Sized>(op: &A, m: usize, seed: u64) -> Result<Self> {
        let n = op.dim();
        let len = n
            .checked_mul(m + 1)
            .filter(|l| l.checked_mul(8).is_some())
            .ok_or_else(|| {
                Error::param(
                    "subspace",
                    format!(
                        "a basis of n = {n} by m + 1 = {} vectors is too large",
                        m + 1
                    ),
                )
            })?;
        let mut b = Basis {
            n,
            m,
            v: vec![0.0; len],
            h: Matrix::zeros(m + 1, m),
            products: 0,
            rng: rng(seed, START_STREAM),
            w: vec![0.0; n],
        };
        let mut x = vec![0.0; n];
        b.random_orthogonal_to(0, &mut x);
        b.v[..n].copy_from_slice(&x);
        Ok(b)
    }

    fn col(&self, j: usize) -> &[f64] {
        &self.v[j * self.n..(j + 1) * self.n]
    }

    /// y ← A x, counted, checked for length and finiteness.
    pub fn apply<A: LinearOperator + ?Sized>(
        &mut self,
        op: &A,
        x: &[f64],
        y: &mut [f64],
    ) -> Result<()> {
        op.apply(x, y)?;
        self.products += 1;
        if y.len() != self.n || !super::all_finite(y) {
            return Err(Error::numerical(
                "krylov",
                format!("product {} returned a non-finite value", self.products),
            ));
        }
        Ok(())
    }

    /// A random unit vector orthogonal to the first `cols` columns, into x.
    fn random_orthogonal_to(&mut self, cols: usize, x: &mut [f64]) {
        loop {
            for xi in x.iter_mut() {
                *xi = self.rng.sample(StandardNormal);
            }
            let mut h = vec![0.0; cols];
            let before = super::norm(x);
            self.orthogonalise(cols, x, &mut h);
            let nrm = super::norm(x);
            if nrm > 0.5 * before {
                for xi in x.iter_mut() {
                    *xi /= nrm;
                }
                return;
            }
        }
    }

    /// x ← (I − V Vᵀ) x against the first `cols` columns, accumulating the
    /// coefficients into h: classical Gram–Schmidt, repeated (at most twice more) while
    /// a pass shrinks x below 1/√2 of its length — the DGKS criterion, which ARPACK
    /// (`dnaitr`) and SLEPc (`BV_ORTHOG_REFINE_IFNEEDED`) use: a pass that removes
    /// little leaves x orthogonal to working precision.
    fn orthogonalise(&self, cols: usize, x: &mut [f64], h: &mut [f64]) {
        let mut coef = vec![0.0; cols];
        let mut before = super::norm(x);
        for _ in 0..3 {
            for (i, c) in coef.iter_mut().enumerate() {
                *c = dot(self.col(i), x);
            }
            for (i, &c) in coef.iter().enumerate() {
                axpy(-c, self.col(i), x);
            }
            for (hi, c) in h.iter_mut().zip(&coef) {
                *hi += c;
            }
            let after = super::norm(x);
            if after > REORTH_ETA * before {
                break;
            }
            before = after;
        }
    }

    /// Extends the decomposition from `from` vectors to m (Arnoldi with full
    /// reorthogonalisation). Column j of H gets Vᵀ A v_j and ‖w‖ below it. After an
    /// exact breakdown the next vector is random (orthogonal to V) and H[j+1, j] = 0,
    /// so that the decomposition stays exact.
    pub fn expand<A: LinearOperator + ?Sized>(&mut self, op: &A, from: usize) -> Result<()> {
        let n = self.n;
        let mut w = std::mem::take(&mut self.w);
        let mut h = vec![0.0; self.m + 1];
        for j in from..self.m {
            let x = self.col(j).to_vec();
            self.apply(op, &x, &mut w)?;
            let before = super::norm(&w);
            h[..=j].iter_mut().for_each(|v| *v = 0.0);
            self.orthogonalise(j + 1, &mut w, &mut h[..=j]);
            for (i, &hi) in h[..=j].iter().enumerate() {
                self.h[(i, j)] = hi;
            }
            let beta = super::norm(&w);
            let next = (j + 1) * n..(j + 2) * n;
            if beta <= BREAKDOWN_REL * before || beta == 0.0 {
                self.h[(j + 1, j)] = 0.0;
                if j + 1 < n {
                    let mut x = vec![0.0; n];
                    self.random_orthogonal_to(j + 1, &mut x);
                    self.v[next].copy_from_slice(&x);
                } else {
                    self.v[next].iter_mut().for_each(|v| *v = 0.0);
                }
            } else {
                self.h[(j + 1, j)] = beta;
                for (dst, src) in self.v[next].iter_mut().zip(&w) {
                    *dst = src / beta;
                }
            }
        }
        self.w = w;
        Ok(())
    }

    /// out ← V_m y.
    pub fn combine(&self, y: &[f64], out: &mut [f64]) {
        out.iter_mut().for_each(|v| *v = 0.0);
        for (j, &c) in y.iter().enumerate() {
            axpy(c, self.col(j), out);
        }
    }

    /// Truncates to the p vectors V_m Y (Y: m × p orthonormal) with projected matrix
    /// `lead` (p × p, = Yᵀ H_m Y), residual row b = H[m, :]·Y, and v_{p+1} = v_{m+1}.
    pub fn restart(&mut self, y: &Matrix, lead: &Matrix) {
        let (n, m, p) = (self.n, self.m, y.ncols());
        let vm = nalgebra::DMatrixView::from_slice(&self.v[..n * m], n, m);
        let vnew = vm * y;
        self.v[..n * p].copy_from_slice(vnew.as_slice());
        self.v.copy_within(m * n..(m + 1) * n, p * n);
        let b = self.h.view((m, 0), (1, m)) * y;
        self.h.fill(0.0);
        self.h.view_mut((0, 0), (p, p)).copy_from(lead);
        self.h.view_mut((p, 0), (1, p)).copy_from(&b);
    }
}

/// x·y with eight independent partial sums (vectorises; fixed order, reproducible).
fn dot(x: &[f64], y: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let cx = x.chunks_exact(8);
    let cy = y.chunks_exact(8);
    let rest: f64 = cx
        .remainder()
        .iter()
        .zip(cy.remainder())
        .map(|(a, b)| a * b)
        .sum();
    for (a, b) in cx.zip(cy) {
        for l in 0..8 {
            acc[l] += a[l] * b[l];
        }
    }
    acc.iter().fold(rest, |s, v| s + v)
}

/// y ← y + a x.
fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}
