//! Batch normalisation (Ioffe & Szegedy 2015, "Batch normalization: accelerating deep
//! network training by reducing internal covariate shift", ICML, Algorithm 1 and §3.1).
//!
//! Per column k of the affine output A (rows = the batch of B samples):
//!
//! * training mode: μ_k = (1/B) Σ_i A_ik, v_k = (1/B) Σ_i (A_ik − μ_k)² (the biased
//!   batch variance, as the paper and PyTorch normalise with), N = (A − μ)/√(v + ε),
//!   Â = γ ⊙ N + β. The gradient flows through μ and v: with δ = ∂L/∂Â,
//!   ∂L/∂γ_k = Σ_i δ_ik N_ik, ∂L/∂β_k = Σ_i δ_ik and
//!   ∂L/∂A_ik = γ_k/√(v_k + ε) · (δ_ik − (1/B) Σ_j δ_jk − N_ik (1/B) Σ_j δ_jk N_jk)
//!   (the paper's chain rule of §3, collected);
//! * evaluation mode: the running statistics r_μ, r_v instead of μ, v (constants), as
//!   for sampling: N = (A − r_μ)/√(r_v + ε).
//!
//! The running statistics are state of a training run, not parameters: they live with
//! the network's owner ([`crate::gan::NeuralGan`] holds G's), start at r_μ = 0, r_v = 1
//! (PyTorch's initial values, so nothing random) and are updated from a training-mode
//! pass by [`RunningStats::update`]: r ← (1 − m)·r + m·s with momentum m, where s is μ
//! and the **unbiased** variance v·B/(B − 1) (PyTorch's convention).
//!
//! A training-mode pass couples the rows of the batch, so a batch-normalised network is
//! not a per-sample function and has no row-blocked tangent passes here
//! ([`super::LayerSpec::has_exact_tangent`]).

use nalgebra::DMatrix;

use super::{Float, dot, sum};

/// The running mean and variance of one batch-normalised layer (f64, per unit).
#[derive(Debug, Clone, PartialEq)]
pub struct RunningStats {
    /// r_μ.
    pub mean: Vec<f64>,
    /// r_v.
    pub var: Vec<f64>,
}

impl RunningStats {
    /// The initial statistics of a layer of `width` units: mean 0, variance 1.
    #[must_use]
    pub fn new(width: usize) -> Self {
        RunningStats {
            mean: vec![0.0; width],
            var: vec![1.0; width],
        }
    }
    /// r ← (1 − m)·r + m·s from a training-mode pass over `batch` rows with batch mean
    /// `mean` and biased variance `var` (turned into the unbiased v·B/(B − 1); for one
    /// row, where that is undefined, the biased value 0 is used).
    pub fn update<T: Float>(&mut self, mean: &[T], var: &[T], batch: usize, momentum: f64) {
        let unbias = if batch > 1 {
            batch as f64 / (batch - 1) as f64
        } else {
            1.0
        };
        for (r, s) in self.mean.iter_mut().zip(mean) {
            *r = (1.0 - momentum) * *r + momentum * s.f64();
        }
        for (r, s) in self.var.iter_mut().zip(var) {
            *r = (1.0 - momentum) * *r + momentum * s.f64() * unbias;
        }
    }
}

/// The buffers of one batch-normalised layer in a [`super::Workspace`].
#[derive(Debug, Clone)]
pub(super) struct Buffers<T: Float> {
    /// N (batch × width) of the last forward pass.
    pub norm: DMatrix<T>,
    /// μ of the last training-mode pass.
    pub mean: Vec<T>,
    /// v (biased) of the last training-mode pass.
    pub var: Vec<T>,
    /// 1/√(v + ε) (or 1/√(r_v + ε) in evaluation mode) of the last pass.
    pub inv_std: Vec<T>,
    /// The running statistics an evaluation-mode pass uses.
    pub running_mean: Vec<T>,
    /// As above.
    pub running_var: Vec<T>,
    /// Whether the last pass used the batch statistics.
    pub train: bool,
}

impl<T: Float> Buffers<T> {
    pub fn new(batch: usize, width: usize) -> Self {
        Buffers {
            norm: DMatrix::zeros(batch, width),
            mean: vec![T::zero(); width],
            var: vec![T::zero(); width],
            inv_std: vec![T::zero(); width],
            running_mean: vec![T::zero(); width],
            running_var: vec![T::one(); width],
            train: true,
        }
    }
}

/// In place: `a` (batch × width, holding H·W) becomes γ ⊙ N; the caller then adds β and
/// applies σ. `train` chooses the batch or the running statistics.
#[inline(always)]
pub(super) fn forward<T: Float>(
    a: &mut [T],
    gamma: &[T],
    eps: f64,
    bn: &mut Buffers<T>,
    batch: usize,
    train: bool,
) {
    bn.train = train;
    if batch == 0 {
        return;
    }
    let inv_b = T::one() / T::of(batch as f64);
    let eps = T::of(eps);
    for (k, (col, ncol)) in a
        .chunks_exact_mut(batch)
        .zip(bn.norm.as_mut_slice().chunks_exact_mut(batch))
        .enumerate()
    {
        let mu = if train {
            sum(col) * inv_b
        } else {
            bn.running_mean[k]
        };
        for (n, &x) in ncol.iter_mut().zip(col.iter()) {
            *n = x - mu;
        }
        let inv = if train {
            let v = dot(ncol, ncol) * inv_b;
            bn.mean[k] = mu;
            bn.var[k] = v;
            T::one() / (v + eps).sqrt()
        } else {
            T::one() / (bn.running_var[k] + eps).sqrt()
        };
        bn.inv_std[k] = inv;
        let g = gamma[k];
        for (x, n) in col.iter_mut().zip(ncol.iter_mut()) {
            *n *= inv;
            *x = g * *n;
        }
    }
}

/// In place: `delta` (batch × width) holds δ = ∂L/∂Â and becomes ∂L/∂A (module docs);
/// ∂L/∂γ and ∂L/∂β are **added** to `grad` (γ's block then β's) when given.
#[inline(always)]
pub(super) fn backward<T: Float>(
    delta: &mut [T],
    gamma: &[T],
    bn: &Buffers<T>,
    batch: usize,
    grad: Option<&mut [T]>,
) {
    if batch == 0 {
        return;
    }
    let width = gamma.len();
    let inv_b = T::one() / T::of(batch as f64);
    let (mut gg, mut gb) = match grad {
        Some(g) => {
            let (a, b) = g.split_at_mut(width);
            (Some(a), Some(b))
        }
        None => (None, None),
    };
    for (k, (col, ncol)) in delta
        .chunks_exact_mut(batch)
        .zip(bn.norm.as_slice().chunks_exact(batch))
        .enumerate()
    {
        let s1 = sum(col);
        let s2 = dot(col, ncol);
        if let Some(g) = gg.as_deref_mut() {
            g[k] += s2;
        }
        if let Some(g) = gb.as_deref_mut() {
            g[k] += s1;
        }
        let scale = gamma[k] * bn.inv_std[k];
        if bn.train {
            let (m1, m2) = (s1 * inv_b, s2 * inv_b);
            for (d, &n) in col.iter_mut().zip(ncol) {
                *d = scale * (*d - m1 - n * m2);
            }
        } else {
            for d in col.iter_mut() {
                *d *= scale;
            }
        }
    }
}
