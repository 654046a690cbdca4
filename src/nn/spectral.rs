//! Spectral normalisation (Miyato, Kataoka, Koyama & Yoshida 2018, "Spectral
//! normalization for generative adversarial networks", ICLR, §2.1–2.2 and Appendix A).
//!
//! Every weight matrix W (fan_in × width, as stored in the flat vector) is replaced by
//! Ŵ = W/σ(W) in the passes, with σ(W) estimated by power iteration from a persistent
//! pair of unit vectors (a ∈ R^fan_in, b ∈ R^width), one pair per matrix:
//! a ← W b/‖W b‖, b ← Wᵀ a/‖Wᵀ a‖ (repeated `iterations` times), σ̃ = aᵀ W b.
//! (In PyTorch's orientation, with its weight M = Wᵀ of shape width × fan_in, b is its
//! `u` and a its `v`; the iteration and σ̃ are the same.) Norms are floored at 1e-12 as
//! PyTorch's `normalize` does.
//!
//! The gradient goes through σ̃ as in the paper (its eq. 12), with a and b held fixed
//! (∂σ̃/∂W = a bᵀ, their "u₁v₁ᵀ"): for ĝ = ∂L/∂Ŵ,
//! ∂L/∂W = (ĝ − ⟨ĝ, Ŵ⟩ a bᵀ)/σ̃ ([`SpectralState::pullback`]). Biases are not normalised
//! and their gradients pass through.
//!
//! The vectors are state of the run, not parameters (no optimiser touches them): they
//! start as independent N(0, I) draws from a seeded stream, normalised, and advance by
//! the power iterations. Where they live and when they advance is the owner's choice
//! ([`crate::gan::NeuralGan`]). The power iteration runs in f64 on the network's values.

use rand_distr::{Distribution, StandardNormal};

use super::{Float, Mlp};
use crate::linalg::Rng;

/// Smallest norm a power-iteration vector is divided by (PyTorch's `normalize` eps).
pub const NORM_FLOOR: f64 = 1e-12;

/// The persistent pair of one weight matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerVectors {
    /// a ∈ R^fan_in (the input side).
    pub left: Vec<f64>,
    /// b ∈ R^width (the output side).
    pub right: Vec<f64>,
}

/// The power-iteration vectors of every weight matrix of a network
/// ([`Mlp::weight_matrices`]), in layer order.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectralState {
    /// One pair per matrix.
    pub vectors: Vec<PowerVectors>,
}

fn normalise(v: &mut [f64]) {
    let n = v.iter().map(|x| x * x).sum::<f64>().sqrt().max(NORM_FLOOR);
    v.iter_mut().for_each(|x| *x /= n);
}

/// out = W r (W rows × cols column-major).
fn mat_vec<T: Float>(w: &[T], rows: usize, r: &[f64], out: &mut [f64]) {
    out.fill(0.0);
    for (col, &rj) in w.chunks_exact(rows).zip(r) {
        for (o, &x) in out.iter_mut().zip(col) {
            *o += x.f64() * rj;
        }
    }
}

/// out = Wᵀ l.
fn mat_t_vec<T: Float>(w: &[T], rows: usize, l: &[f64], out: &mut [f64]) {
    for (o, col) in out.iter_mut().zip(w.chunks_exact(rows)) {
        *o = col.iter().zip(l).map(|(x, y)| x.f64() * y).sum();
    }
}

impl SpectralState {
    /// Fresh unit vectors for every weight matrix of `mlp`, drawn from `rng` (per
    /// matrix: b, then a).
    #[must_use]
    pub fn new(mlp: &Mlp, rng: &mut Rng) -> Self {
        let mut draw = |n: usize| {
            let mut v: Vec<f64> = (0..n).map(|_| StandardNormal.sample(rng)).collect();
            normalise(&mut v);
            v
        };
        SpectralState {
            vectors: mlp
                .weight_matrices()
                .into_iter()
                .map(|(_, rows, cols)| {
                    let right = draw(cols);
                    let left = draw(rows);
                    PowerVectors { left, right }
                })
                .collect(),
        }
    }

    /// Runs `iterations` power iterations per matrix (advancing the vectors), writes
    /// the normalised parameters to `out` (Ŵ = W/σ̃ for every weight matrix, the other
    /// entries copied) and σ̃ of each matrix to `sigmas`.
    ///
    /// # Panics
    /// If the lengths do not match the network (a programming error).
    pub fn apply<T: Float>(
        &mut self,
        mlp: &Mlp,
        params: &[T],
        iterations: usize,
        out: &mut [T],
        sigmas: &mut [f64],
    ) {
        let mats = mlp.weight_matrices();
        assert!(
            params.len() == mlp.n_params()
                && out.len() == params.len()
                && sigmas.len() == mats.len()
                && self.vectors.len() == mats.len(),
            "spectral normalisation: lengths"
        );
        out.copy_from_slice(params);
        let mut tmp = Vec::new();
        for (((off, rows, cols), pv), sigma) in mats.into_iter().zip(&mut self.vectors).zip(sigmas)
        {
            let w = &params[off..off + rows * cols];
            for _ in 0..iterations {
                mat_vec(w, rows, &pv.right, &mut pv.left);
                normalise(&mut pv.left);
                mat_t_vec(w, rows, &pv.left, &mut pv.right);
                normalise(&mut pv.right);
            }
            tmp.resize(rows, 0.0);
            mat_vec(w, rows, &pv.right, &mut tmp);
            let s: f64 = tmp.iter().zip(&pv.left).map(|(x, y)| x * y).sum();
            *sigma = s;
            let inv = T::of(1.0 / s);
            for (o, &x) in out[off..off + rows * cols].iter_mut().zip(w) {
                *o = x * inv;
            }
        }
    }

    /// **Adds** ∂L/∂params to `grad` from `grad_hat` = ∂L/∂(normalised parameters),
    /// given the normalised parameters `params_hat` and σ̃ of [`SpectralState::apply`]
    /// (with the vectors it left): ∂L/∂W = (ĝ − ⟨ĝ, Ŵ⟩ a bᵀ)/σ̃ per weight matrix, the
    /// other entries passed through.
    ///
    /// # Panics
    /// If the lengths do not match the network (a programming error).
    pub fn pullback<T: Float>(
        &self,
        mlp: &Mlp,
        params_hat: &[T],
        sigmas: &[f64],
        grad_hat: &[T],
        grad: &mut [T],
    ) {
        let mats = mlp.weight_matrices();
        assert!(
            params_hat.len() == mlp.n_params()
                && grad_hat.len() == grad.len()
                && grad.len() == params_hat.len()
                && sigmas.len() == mats.len(),
            "spectral normalisation: lengths"
        );
        let mut at = 0;
        for (((off, rows, cols), pv), &sigma) in mats.into_iter().zip(&self.vectors).zip(sigmas) {
            for (g, &gh) in grad[at..off].iter_mut().zip(&grad_hat[at..off]) {
                *g += gh;
            }
            let n = rows * cols;
            let (gh, wh) = (&grad_hat[off..off + n], &params_hat[off..off + n]);
            let inner = T::of(super::dot(gh, wh).f64());
            let inv = T::of(1.0 / sigma);
            for ((gcol, ghcol), &bj) in grad[off..off + n]
                .chunks_exact_mut(rows)
                .zip(gh.chunks_exact(rows))
                .zip(&pv.right)
            {
                let c = inner * T::of(bj);
                for ((g, &x), &ai) in gcol.iter_mut().zip(ghcol).zip(&pv.left) {
                    *g += (x - c * T::of(ai)) * inv;
                }
            }
            at = off + n;
        }
        for (g, &gh) in grad[at..].iter_mut().zip(&grad_hat[at..]) {
            *g += gh;
        }
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::DMatrix;
    use rand::RngExt;

    use super::*;
    use crate::linalg::rng;
    use crate::nn::{Activation, LayerKind, Mode};

    /// Relative error allowed between the pulled-back gradient and central differences
    /// of the loss with the power-iteration vectors held fixed, in f64 (as the other
    /// gradient checks of [`crate::nn`]).
    const GRAD_CHECK_TOL: f64 = 1e-6;
    const FD_H: f64 = 1e-5;
    /// Agreement of the power-iteration σ̃ with the largest singular value (SVD) after
    /// enough iterations on a matrix with a clear spectral gap: the error shrinks like
    /// (σ₂/σ₁)^{2t}, far below this after 200 iterations.
    const SIGMA_TOL: f64 = 1e-10;

    fn rel_err(a: &[f64], b: &[f64]) -> f64 {
        let d = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f64>()
            .sqrt();
        let n = a.iter().map(|x| x * x).sum::<f64>().sqrt();
        let m = b.iter().map(|x| x * x).sum::<f64>().sqrt();
        d / n.max(m).max(1e-12)
    }

    #[test]
    fn power_iteration_finds_the_largest_singular_value() {
        let mlp = Mlp::chain(
            &[6, 9, 1],
            Activation::Linear,
            Activation::Linear,
            1.0,
            LayerKind::Maxout { pieces: 2 },
            None,
        )
        .unwrap();
        let mut r = rng(4, 0);
        let p: Vec<f64> = (0..mlp.n_params())
            .map(|_| r.random_range(-1.0..1.0))
            .collect();
        let mut st = SpectralState::new(&mlp, &mut rng(4, 1));
        let mut out = vec![0.0; p.len()];
        let mut sig = vec![0.0; 2];
        st.apply(&mlp, &p, 200, &mut out, &mut sig);
        for (k, (off, rows, cols)) in mlp.weight_matrices().into_iter().enumerate() {
            let w = DMatrix::from_column_slice(rows, cols, &p[off..off + rows * cols]);
            let s = w.singular_values();
            let top = s.max();
            assert!(
                (sig[k] - top).abs() < SIGMA_TOL * top,
                "{} vs {top}",
                sig[k]
            );
            let wh = DMatrix::from_column_slice(rows, cols, &out[off..off + rows * cols]);
            assert!((wh.singular_values().max() - 1.0).abs() < SIGMA_TOL);
        }
    }

    /// L(W) = Σ C ⊙ f_Ŵ(X) through a maxout network, the vectors held fixed (zero
    /// iterations at the differenced points).
    #[test]
    fn gradient_through_sigma_matches_differences_with_fixed_vectors() {
        let mlp = Mlp::chain(
            &[3, 5, 4, 1],
            Activation::Linear,
            Activation::Linear,
            1.0,
            LayerKind::Maxout { pieces: 3 },
            None,
        )
        .unwrap();
        let mut r = rng(7, 0);
        let p: Vec<f64> = (0..mlp.n_params())
            .map(|_| r.random_range(-1.0..1.0))
            .collect();
        let x = DMatrix::from_fn(6, 3, |_, _| r.random_range(-1.5..1.5));
        let c = DMatrix::from_fn(6, 1, |_, _| r.random_range(-1.0..1.0));
        let mut st = SpectralState::new(&mlp, &mut rng(7, 1));
        let mut ws = mlp.workspace::<f64>(6);
        let nm = mlp.weight_matrices().len();
        // Two iterations to move the vectors off their random start, then frozen.
        let mut hat = vec![0.0; p.len()];
        let mut sig = vec![0.0; nm];
        st.apply(&mlp, &p, 2, &mut hat, &mut sig);
        let loss = |q: &[f64], ws: &mut crate::nn::Workspace<f64>| {
            let mut s = st.clone();
            let mut h = vec![0.0; q.len()];
            let mut sg = vec![0.0; nm];
            s.apply(&mlp, q, 0, &mut h, &mut sg);
            mlp.forward_from(&h, &x, ws, Mode::Train);
            ws.output().component_mul(&c).sum()
        };
        mlp.forward_from(&hat, &x, &mut ws, Mode::Train);
        ws.output_grad_mut().copy_from(&c);
        let mut gh = vec![0.0; p.len()];
        mlp.backward(&hat, &mut ws, Some(&mut gh), false);
        let mut g = vec![0.0; p.len()];
        st.pullback(&mlp, &hat, &sig, &gh, &mut g);
        let mut q = p.clone();
        let fd: Vec<f64> = (0..p.len())
            .map(|i| {
                q[i] = p[i] + FD_H;
                let a = loss(&q, &mut ws);
                q[i] = p[i] - FD_H;
                let b = loss(&q, &mut ws);
                q[i] = p[i];
                (a - b) / (2.0 * FD_H)
            })
            .collect();
        let e = rel_err(&g, &fd);
        assert!(e < GRAD_CHECK_TOL, "{e:e}");
    }
}
