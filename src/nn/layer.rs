//! The layer kinds of an [`crate::nn::Mlp`] chain and their parameter blocks.
//!
//! Every layer l reads H_l (batch × `fan_in`) and writes H_{l+1} (batch × `fan_out`).
//! Its parameters are one contiguous block of the flat vector, laid out as follows
//! (matrices column-major; `a` = [`LayerSpec::affine_width`]):
//!
//! | kind | computes | block |
//! |---|---|---|
//! | `dense` | A = H W + 1bᵀ, H′ = σ(A) ⊙ M | W (fan_in × fan_out), b (fan_out) |
//! | `batch_norm` | A = H W, Â = γ ⊙ (A − μ)/√(v + ε) + β, H′ = σ(Â) ⊙ M | W (fan_in × fan_out), γ (fan_out), β (fan_out) |
//! | `maxout` | A = H W + 1bᵀ (a = k·fan_out), H′_j = max_p A_{j·k+p} ⊙ M | W (fan_in × k·fan_out), b (k·fan_out) |
//! | `minibatch` | M = H T, o_b(x_i) = Σ_j exp(−‖M_{i,b} − M_{j,b}‖₁), H′ = [H, o] | T (fan_in × kernels·dim) |
//!
//! M is the inverted-dropout mask. A batch-normalised layer has no bias of its own: in
//! training mode the batch mean removes any constant added before it (its gradient is
//! exactly zero, so an optimiser such as Adam, which divides by the gradient's scale,
//! would only amplify rounding noise in it); β plays its part. The module docs of
//! [`super::batch_norm`], [`super::maxout`] and [`super::minibatch`] give each
//! kind's passes and references.

use serde::{Deserialize, Serialize};

use super::Activation;

/// What a layer computes (see the module docs for the formulas and blocks).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LayerKind {
    /// An affine map and an element-wise activation.
    #[default]
    Dense,
    /// An affine map without bias, batch normalisation (Ioffe & Szegedy 2015), then the
    /// activation.
    BatchNorm {
        /// Weight of the newest batch in the running statistics, PyTorch's `momentum`:
        /// r ← (1 − momentum)·r + momentum·(batch statistic) (PyTorch's default 0.1).
        momentum: f64,
        /// ε added to the variance (PyTorch's default 1e-5).
        eps: f64,
    },
    /// Maxout units with `pieces` affine pieces each (Goodfellow et al. 2013); the
    /// activation must be linear (the max is the nonlinearity).
    Maxout {
        /// Pieces k ≥ 2 per unit.
        pieces: usize,
    },
    /// Minibatch discrimination (Salimans et al. 2016, §3.2): the input features
    /// followed by `kernels` closeness features to the other rows of the group.
    Minibatch {
        /// Number of kernels B (output features added).
        kernels: usize,
        /// Dimension C of each kernel's projection.
        dim: usize,
    },
}

impl LayerKind {
    fn is_dense(&self) -> bool {
        *self == LayerKind::Dense
    }
}

/// One layer of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LayerSpec {
    /// Input width.
    pub fan_in: usize,
    /// Output width.
    pub fan_out: usize,
    /// σ.
    pub activation: Activation,
    /// Dropout keep probability on this layer's output (1 = no dropout). In training
    /// mode the output is multiplied by a mask M with entries Bernoulli(keep)/keep
    /// (inverted dropout, so 𝔼M = 1 and evaluation uses no mask and no rescaling).
    pub keep: f64,
    /// The layer kind (dense unless said otherwise; omitted from the JSON form when
    /// dense, so the plain networks' descriptions are unchanged).
    #[serde(default, skip_serializing_if = "LayerKind::is_dense")]
    pub kind: LayerKind,
}

impl LayerSpec {
    /// A dense layer.
    #[must_use]
    pub fn dense(fan_in: usize, fan_out: usize, activation: Activation, keep: f64) -> Self {
        LayerSpec {
            fan_in,
            fan_out,
            activation,
            keep,
            kind: LayerKind::Dense,
        }
    }
    /// Width of the affine map's output A (the columns of W): k·fan_out for maxout,
    /// kernels·dim for minibatch discrimination, fan_out otherwise.
    #[must_use]
    pub fn affine_width(&self) -> usize {
        match self.kind {
            LayerKind::Maxout { pieces } => pieces * self.fan_out,
            LayerKind::Minibatch { kernels, dim } => kernels * dim,
            LayerKind::Dense | LayerKind::BatchNorm { .. } => self.fan_out,
        }
    }
    /// Length of the vector after W in the block: the bias (dense, maxout), γ and β
    /// (batch norm), nothing (minibatch).
    #[must_use]
    pub fn tail_len(&self) -> usize {
        match self.kind {
            LayerKind::Dense | LayerKind::Maxout { .. } => self.affine_width(),
            LayerKind::BatchNorm { .. } => 2 * self.fan_out,
            LayerKind::Minibatch { .. } => 0,
        }
    }
    /// Parameters of this layer.
    #[must_use]
    pub fn n_params(&self) -> usize {
        self.fan_in * self.affine_width() + self.tail_len()
    }
    /// Whether the passes of this layer have tangent (forward-mode) and double-backprop
    /// counterparts: dense and maxout layers (piecewise linear in their input for
    /// fixed argmax), not batch norm or minibatch discrimination, whose rows interact.
    #[must_use]
    pub fn has_exact_tangent(&self) -> bool {
        matches!(self.kind, LayerKind::Dense | LayerKind::Maxout { .. })
    }
    /// Whether the output of one row depends on the other rows of the batch.
    #[must_use]
    pub fn couples_rows(&self) -> bool {
        matches!(
            self.kind,
            LayerKind::BatchNorm { .. } | LayerKind::Minibatch { .. }
        )
    }
}

/// One named block of the flat parameter vector: `rows × cols` numbers (column-major)
/// from `offset` on; a vector has `cols = 1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParamBlock {
    /// Layer index.
    pub layer: usize,
    /// `W`, `b`, `gamma`, `beta` or `T`.
    pub name: &'static str,
    /// First index in the flat vector.
    pub offset: usize,
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
}
