//! The MLP: a chain of layers ([`LayerSpec`]), the flat parameter layout, workspaces and
//! the hand-written passes. Dense layers take the fused loops below; the other kinds
//! ([`super::batch_norm`], [`super::maxout`], [`super::minibatch`]) plug their own
//! element-wise parts into the same products.

use nalgebra::DMatrix;
use rand::RngExt;

use super::layer::{LayerKind, LayerSpec, ParamBlock};
use super::{Activation, Float, Init, View, batch_norm, gemm, gemm_into, maxout, minibatch};
use crate::error::{Error, Result};
use crate::linalg::Rng;

/// Whether a forward pass is the training or the evaluation function of the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Apply the dropout masks held in the workspace (drawn by [`Mlp::draw_masks`], all
    /// ones until drawn), normalise with the batch statistics, and compare the rows of
    /// each group in minibatch layers.
    Train,
    /// The deterministic network used for sampling and evaluation: no dropout, batch
    /// norm with the running statistics of the workspace, each row alone in minibatch
    /// layers.
    Eval,
}

/// A multilayer perceptron's architecture and the layout of its flat parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mlp {
    layers: Vec<LayerSpec>,
    offsets: Vec<usize>,
    n_params: usize,
}

use serde::{Deserialize, Serialize};

/// Buffers of the non-dense layer kinds.
#[derive(Debug, Clone)]
pub(super) enum Extra<T: Float> {
    /// A dense layer needs none.
    None,
    /// Batch norm: N, the statistics used, the running statistics.
    BatchNorm(batch_norm::Buffers<T>),
    /// Maxout: the affine output A (batch × k·width) and each unit's argmax.
    Maxout { a: DMatrix<T>, arg: Vec<u8> },
    /// Minibatch discrimination: M = f·T and the pair kernels.
    Minibatch(minibatch::Buffers<T>),
}

/// Preallocated buffers for one batch size. All passes write here; nothing allocates
/// while the batch size stays the same (a minibatch layer sizes its pair buffer on the
/// first pass with a new group size).
#[derive(Debug, Clone)]
pub struct Workspace<T: Float> {
    pub(super) batch: usize,
    /// h[0] = input, h[l] = output of layer l.
    pub(super) h: Vec<DMatrix<T>>,
    /// σ′(A_l) ⊙ M_l (dense, batch norm); M_l or ones (maxout); empty (minibatch).
    pub(super) deriv: Vec<DMatrix<T>>,
    /// σ″(A_l) ⊙ M_l (empty for piecewise-linear σ).
    pub(super) curv: Vec<DMatrix<T>>,
    /// Dropout masks (empty when keep = 1).
    pub(super) masks: Vec<DMatrix<T>>,
    /// δ_l = ∂/∂A_l of the last backward pass (batch × affine width).
    pub(super) delta: Vec<DMatrix<T>>,
    /// dh[l] = ∂/∂H_l; dh[L] is the seed of a backward pass, dh[0] the input gradient.
    pub(super) dh: Vec<DMatrix<T>>,
    /// Adjoints of the input-gradient graph (double backprop): Ḡ_{l−1} (B × fan_in).
    pub(super) gbar: Vec<DMatrix<T>>,
    /// δ̄_l (B × affine width), reused as H̄_l in the curvature pass.
    pub(super) dbar: Vec<DMatrix<T>>,
    /// Ā_l seeds of the curvature pass (B × fan_out).
    pub(super) abar: Vec<DMatrix<T>>,
    /// Buffers of the non-dense layers.
    pub(super) extra: Vec<Extra<T>>,
    /// Rows per group of the row-coupled minibatch layers in training mode (0: the whole
    /// batch is one group).
    pub(super) group: usize,
}

impl<T: Float> Workspace<T> {
    /// The batch size the buffers are sized for.
    #[must_use]
    pub fn batch(&self) -> usize {
        self.batch
    }
    /// The input buffer H_0 (batch × input width), to be filled before [`Mlp::forward`].
    pub fn input_mut(&mut self) -> &mut DMatrix<T> {
        &mut self.h[0]
    }
    /// The input of the last forward pass.
    #[must_use]
    pub fn input(&self) -> &DMatrix<T> {
        &self.h[0]
    }
    /// The output of the last forward pass (batch × output width).
    #[must_use]
    pub fn output(&self) -> &DMatrix<T> {
        &self.h[self.h.len() - 1]
    }
    /// The output of layer `l` of the last forward pass (batch × its fan_out), e.g. the
    /// features an intermediate layer computes.
    #[must_use]
    pub fn layer_output(&self, l: usize) -> &DMatrix<T> {
        &self.h[l + 1]
    }
    /// The seed ∂L/∂output of the next [`Mlp::backward`] (batch × output width).
    pub fn output_grad_mut(&mut self) -> &mut DMatrix<T> {
        let n = self.dh.len() - 1;
        &mut self.dh[n]
    }
    /// ∂L/∂input after a backward pass with `input_grad = true` (batch × input width);
    /// after [`Mlp::input_gradient`] this is ∇ₓ f per row.
    #[must_use]
    pub fn input_grad(&self) -> &DMatrix<T> {
        &self.dh[0]
    }
    /// The seed Ḡ₀ = ∂P/∂(∇ₓ f) of [`Mlp::penalty_backward`] (batch × input width).
    pub fn penalty_seed_mut(&mut self) -> &mut DMatrix<T> {
        &mut self.gbar[0]
    }
    /// Splits the rows into consecutive groups of `rows` for the minibatch layers in
    /// training mode (0 or the batch size: one group).
    ///
    /// # Panics
    /// If `rows` does not divide the batch (a programming error).
    pub fn set_group_rows(&mut self, rows: usize) {
        assert!(
            rows == 0 || self.batch.is_multiple_of(rows),
            "group of {rows} rows does not divide the batch of {}",
            self.batch
        );
        self.group = rows;
    }
    /// The batch mean and (biased) variance of each batch-normalised layer in the last
    /// training-mode forward pass, in layer order.
    #[must_use]
    pub fn batch_statistics(&self) -> Vec<(&[T], &[T])> {
        self.extra
            .iter()
            .filter_map(|e| match e {
                Extra::BatchNorm(bn) => Some((&bn.mean[..], &bn.var[..])),
                _ => None,
            })
            .collect()
    }
    /// Sets the running statistics that evaluation-mode passes of the batch-normalised
    /// layers use (one entry per such layer, in layer order; extra entries are ignored).
    pub fn set_running_stats(&mut self, stats: &[batch_norm::RunningStats]) {
        let bns = self.extra.iter_mut().filter_map(|e| match e {
            Extra::BatchNorm(bn) => Some(bn),
            _ => None,
        });
        for (bn, s) in bns.zip(stats) {
            for (d, v) in bn.running_mean.iter_mut().zip(&s.mean) {
                *d = T::of(*v);
            }
            for (d, v) in bn.running_var.iter_mut().zip(&s.var) {
                *d = T::of(*v);
            }
        }
    }
    /// Sets the dropout masks to rows of full-batch masks (from [`Mlp::mask_matrices`]
    /// of the same network): this workspace's rows are the rows `ranges` of the full
    /// batch, one range after the other.
    ///
    /// # Panics
    /// If the rows do not add up to this workspace's batch or a range is out of the
    /// full masks (programming errors).
    pub fn set_mask_rows(&mut self, full: &[DMatrix<T>], ranges: &[std::ops::Range<usize>]) {
        assert_eq!(
            ranges.iter().map(ExactSizeIterator::len).sum::<usize>(),
            self.batch,
            "mask rows"
        );
        for (m, f) in self.masks.iter_mut().zip(full) {
            if m.is_empty() {
                continue;
            }
            let (rows, cols) = f.shape();
            assert_eq!(cols, m.ncols(), "mask widths");
            let mut at = 0;
            for r in ranges {
                for j in 0..cols {
                    let src = &f.as_slice()[j * rows + r.start..j * rows + r.end];
                    m.as_mut_slice()[j * self.batch + at..j * self.batch + at + r.len()]
                        .copy_from_slice(src);
                }
                at += r.len();
            }
        }
    }
}

impl Mlp {
    /// A chain of dense layers with the given widths `[in, h₁, …, out]`, activation
    /// `hidden` on hidden layers, `output` on the last, and dropout keep probability
    /// `keep_hidden` on hidden layers.
    ///
    /// # Errors
    /// [`Error::Param`] for fewer than two widths, a zero width or keep ∉ (0, 1].
    pub fn new(
        widths: &[usize],
        hidden: Activation,
        output: Activation,
        keep_hidden: f64,
    ) -> Result<Self> {
        Self::chain(widths, hidden, output, keep_hidden, LayerKind::Dense, None)
    }

    /// A chain with the given widths `[in, h₁, …, out]` whose hidden layers are of kind
    /// `hidden_kind` (dense, batch norm or maxout) with activation `hidden` and dropout
    /// keep probability `keep_hidden`, and a dense last layer with activation `output`.
    /// With `minibatch` (a [`LayerKind::Minibatch`]), a minibatch-discrimination layer
    /// is inserted before the last layer, which then reads the last hidden features and
    /// the kernels' outputs.
    ///
    /// # Errors
    /// [`Error::Param`] for fewer than two widths, a zero width, keep ∉ (0, 1], or a
    /// layer kind's invalid setting ([`Mlp::from_layers`]).
    pub fn chain(
        widths: &[usize],
        hidden: Activation,
        output: Activation,
        keep_hidden: f64,
        hidden_kind: LayerKind,
        minibatch: Option<LayerKind>,
    ) -> Result<Self> {
        if widths.len() < 2 {
            return Err(Error::param(
                "widths",
                "need at least an input and an output width",
            ));
        }
        let n = widths.len() - 1;
        let mut layers: Vec<LayerSpec> = (0..n)
            .map(|l| {
                let last = l + 1 == n;
                LayerSpec {
                    fan_in: widths[l],
                    fan_out: widths[l + 1],
                    activation: if last { output } else { hidden },
                    keep: if last { 1.0 } else { keep_hidden },
                    kind: if last { LayerKind::Dense } else { hidden_kind },
                }
            })
            .collect();
        if let Some(kind) = minibatch {
            let LayerKind::Minibatch { kernels, .. } = kind else {
                return Err(Error::param(
                    "minibatch",
                    "the layer before the output must be a minibatch layer",
                ));
            };
            let f = widths[n - 1];
            layers.insert(
                n - 1,
                LayerSpec {
                    fan_in: f,
                    fan_out: f + kernels,
                    activation: Activation::Linear,
                    keep: 1.0,
                    kind,
                },
            );
            layers[n].fan_in = f + kernels;
        }
        Self::from_layers(layers)
    }

    /// An MLP from explicit layers.
    ///
    /// # Errors
    /// [`Error::Param`] if the layers do not chain, a width is zero, keep ∉ (0, 1], or a
    /// layer kind's setting is invalid (maxout: 2 ≤ k ≤ [`maxout::MAX_PIECES`] and a
    /// linear activation; batch norm: momentum in [0, 1], ε > 0; minibatch: at least one
    /// kernel of dimension ≥ 1, fan_out = fan_in + kernels, linear, no dropout).
    pub fn from_layers(layers: Vec<LayerSpec>) -> Result<Self> {
        if layers.is_empty() {
            return Err(Error::param("layers", "an MLP needs at least one layer"));
        }
        let mut offsets = Vec::with_capacity(layers.len());
        let mut n = 0usize;
        for (l, s) in layers.iter().enumerate() {
            if s.fan_in == 0 || s.fan_out == 0 {
                return Err(Error::param(
                    "widths",
                    format!("layer {l} has a zero width"),
                ));
            }
            if l > 0 && layers[l - 1].fan_out != s.fan_in {
                return Err(Error::param(
                    "widths",
                    format!(
                        "layer {l} takes {} inputs but the layer before gives {}",
                        s.fan_in,
                        layers[l - 1].fan_out
                    ),
                ));
            }
            if !(s.keep > 0.0 && s.keep <= 1.0) {
                return Err(Error::param(
                    "dropout_keep",
                    format!("keep probability {} is not in (0, 1]", s.keep),
                ));
            }
            if let Activation::LeakyRelu { slope } = s.activation
                && !slope.is_finite()
            {
                return Err(Error::param("slope", "leaky ReLU slope must be finite"));
            }
            check_kind(l, s)?;
            offsets.push(n);
            n = n
                .checked_add(s.n_params())
                .ok_or_else(|| Error::param("widths", "too many parameters"))?;
        }
        Ok(Mlp {
            layers,
            offsets,
            n_params: n,
        })
    }

    /// The layers.
    #[must_use]
    pub fn layers(&self) -> &[LayerSpec] {
        &self.layers
    }
    /// Number of parameters (length of the flat parameter vector).
    #[must_use]
    pub fn n_params(&self) -> usize {
        self.n_params
    }
    /// Input width.
    #[must_use]
    pub fn input_dim(&self) -> usize {
        self.layers[0].fan_in
    }
    /// Output width.
    #[must_use]
    pub fn output_dim(&self) -> usize {
        self.layers[self.layers.len() - 1].fan_out
    }
    /// Whether any layer uses dropout.
    #[must_use]
    pub fn has_dropout(&self) -> bool {
        self.layers.iter().any(|s| s.keep < 1.0)
    }
    /// Whether any layer is batch-normalised.
    #[must_use]
    pub fn has_batch_norm(&self) -> bool {
        self.layers
            .iter()
            .any(|s| matches!(s.kind, LayerKind::BatchNorm { .. }))
    }
    /// Whether the output of a row depends on other rows (batch norm in training mode,
    /// minibatch discrimination).
    #[must_use]
    pub fn couples_rows(&self) -> bool {
        self.layers.iter().any(LayerSpec::couples_rows)
    }
    /// Whether every layer has tangent passes ([`Mlp::forward_tangent`] and the others):
    /// dense and maxout layers only.
    #[must_use]
    pub fn has_exact_tangent(&self) -> bool {
        self.layers.iter().all(LayerSpec::has_exact_tangent)
    }
    /// Whether [`Mlp::penalty_backward`] (and its tangent) supports this network: dense
    /// and maxout layers, where a network with maxout layers has piecewise-linear
    /// activations only (its curvature pass would otherwise run back through a maxout
    /// selection, which is not implemented).
    #[must_use]
    pub fn supports_double_backprop(&self) -> bool {
        let maxout = self
            .layers
            .iter()
            .any(|s| matches!(s.kind, LayerKind::Maxout { .. }));
        let curved = self
            .layers
            .iter()
            .any(|s| !s.activation.is_piecewise_linear());
        self.has_exact_tangent() && !(maxout && curved)
    }
    /// Flat layout of layer `l`: (offset of W_l, offset of the block after W_l). W_l is
    /// fan_in × [`LayerSpec::affine_width`] column-major, so `W_l[j, k]` sits at
    /// `w + j + k·fan_in`; after it come the bias (dense, maxout), γ then β (batch
    /// norm), or nothing (minibatch). See [`Mlp::blocks`] for every block by name.
    #[must_use]
    pub fn layout(&self, l: usize) -> (usize, usize) {
        let s = &self.layers[l];
        (
            self.offsets[l],
            self.offsets[l] + s.fan_in * s.affine_width(),
        )
    }
    /// Every named block of the flat parameter vector with its offset and shape, in
    /// order (the checkpoint layout; module docs of [`super::layer`]).
    #[must_use]
    pub fn blocks(&self) -> Vec<ParamBlock> {
        let mut out = Vec::new();
        for (l, s) in self.layers.iter().enumerate() {
            let (w, b) = self.layout(l);
            let a = s.affine_width();
            let block = |name, offset, rows, cols| ParamBlock {
                layer: l,
                name,
                offset,
                rows,
                cols,
            };
            match s.kind {
                LayerKind::Dense | LayerKind::Maxout { .. } => {
                    out.push(block("W", w, s.fan_in, a));
                    out.push(block("b", b, a, 1));
                }
                LayerKind::BatchNorm { .. } => {
                    out.push(block("W", w, s.fan_in, a));
                    out.push(block("gamma", b, s.fan_out, 1));
                    out.push(block("beta", b + s.fan_out, s.fan_out, 1));
                }
                LayerKind::Minibatch { .. } => out.push(block("T", w, s.fan_in, a)),
            }
        }
        out
    }
    /// The weight matrices W_l of the dense, batch-norm and maxout layers as (offset,
    /// rows, cols) (the matrices spectral normalisation acts on; a minibatch layer's
    /// tensor T is not one).
    #[must_use]
    pub fn weight_matrices(&self) -> Vec<(usize, usize, usize)> {
        self.layers
            .iter()
            .enumerate()
            .filter(|(_, s)| !matches!(s.kind, LayerKind::Minibatch { .. }))
            .map(|(l, s)| (self.offsets[l], s.fan_in, s.affine_width()))
            .collect()
    }
    /// Multiply-accumulate count of one forward pass per sample
    /// (Σ fan_in·affine width; the pairwise terms of a minibatch layer are not counted).
    #[must_use]
    pub fn macs_per_sample(&self) -> usize {
        self.layers
            .iter()
            .map(|s| s.fan_in * s.affine_width())
            .sum()
    }

    /// Freshly initialised flat parameters: W (and T) by `init` with the fans
    /// (fan_in, affine width), biases by `init`, batch norm's γ = 1 and β = 0.
    #[must_use]
    pub fn init<T: Float>(&self, init: Init, rng: &mut Rng) -> Vec<T> {
        let mut p = vec![T::zero(); self.n_params];
        for (l, s) in self.layers.iter().enumerate() {
            let (w, b) = self.layout(l);
            let a = s.affine_width();
            for v in &mut p[w..b] {
                *v = T::of(init.weight(s.fan_in, a, rng));
            }
            match s.kind {
                LayerKind::Dense | LayerKind::Maxout { .. } => {
                    for v in &mut p[b..b + a] {
                        *v = T::of(init.bias(s.fan_in, a, rng));
                    }
                }
                LayerKind::BatchNorm { .. } => p[b..b + s.fan_out].fill(T::one()),
                LayerKind::Minibatch { .. } => {}
            }
        }
        p
    }

    /// The initial running statistics of the batch-normalised layers (mean 0, variance
    /// 1), in layer order.
    #[must_use]
    pub fn running_stats(&self) -> Vec<batch_norm::RunningStats> {
        self.layers
            .iter()
            .filter(|s| matches!(s.kind, LayerKind::BatchNorm { .. }))
            .map(|s| batch_norm::RunningStats::new(s.fan_out))
            .collect()
    }

    /// Folds the batch statistics of the last training-mode pass in `ws` into `stats`
    /// with each layer's momentum ([`batch_norm::RunningStats::update`]).
    pub fn update_running_stats<T: Float>(
        &self,
        ws: &Workspace<T>,
        stats: &mut [batch_norm::RunningStats],
    ) {
        let momenta = self.layers.iter().filter_map(|s| match s.kind {
            LayerKind::BatchNorm { momentum, .. } => Some(momentum),
            _ => None,
        });
        for ((st, (mean, var)), m) in stats.iter_mut().zip(ws.batch_statistics()).zip(momenta) {
            st.update(mean, var, ws.batch, m);
        }
    }

    /// Buffers for batches of `batch` rows (dropout masks start as all ones).
    #[must_use]
    pub fn workspace<T: Float>(&self, batch: usize) -> Workspace<T> {
        let z = |r: usize, c: usize| DMatrix::<T>::zeros(r, c);
        let l = &self.layers;
        let has_deriv = |s: &LayerSpec| !matches!(s.kind, LayerKind::Minibatch { .. });
        Workspace {
            batch,
            h: std::iter::once(z(batch, self.input_dim()))
                .chain(l.iter().map(|s| z(batch, s.fan_out)))
                .collect(),
            deriv: l
                .iter()
                .map(|s| {
                    if has_deriv(s) {
                        z(batch, s.fan_out)
                    } else {
                        z(0, 0)
                    }
                })
                .collect(),
            curv: l
                .iter()
                .map(|s| {
                    if s.activation.is_piecewise_linear() || !has_deriv(s) {
                        z(0, 0)
                    } else {
                        z(batch, s.fan_out)
                    }
                })
                .collect(),
            masks: l
                .iter()
                .map(|s| {
                    if s.keep < 1.0 {
                        DMatrix::from_element(batch, s.fan_out, T::one())
                    } else {
                        z(0, 0)
                    }
                })
                .collect(),
            delta: l.iter().map(|s| z(batch, s.affine_width())).collect(),
            dh: std::iter::once(z(batch, self.input_dim()))
                .chain(l.iter().map(|s| z(batch, s.fan_out)))
                .collect(),
            gbar: l.iter().map(|s| z(batch, s.fan_in)).collect(),
            dbar: l.iter().map(|s| z(batch, s.affine_width())).collect(),
            abar: l.iter().map(|s| z(batch, s.fan_out)).collect(),
            extra: l
                .iter()
                .map(|s| match s.kind {
                    LayerKind::Dense => Extra::None,
                    LayerKind::BatchNorm { .. } => {
                        Extra::BatchNorm(batch_norm::Buffers::new(batch, s.fan_out))
                    }
                    LayerKind::Maxout { .. } => Extra::Maxout {
                        a: z(batch, s.affine_width()),
                        arg: vec![0; batch * s.fan_out],
                    },
                    LayerKind::Minibatch { .. } => {
                        Extra::Minibatch(minibatch::Buffers::new(batch, s.affine_width()))
                    }
                })
                .collect(),
            group: 0,
        }
    }

    /// Resizes `ws` for `batch` rows if needed (allocates only when the size changes).
    pub fn ensure_batch<T: Float>(&self, ws: &mut Workspace<T>, batch: usize) {
        if ws.batch != batch || ws.h.len() != self.layers.len() + 1 {
            *ws = self.workspace(batch);
        }
    }

    /// Draws fresh inverted-dropout masks into `ws` (entries 0 or 1/keep).
    pub fn draw_masks<T: Float>(&self, ws: &mut Workspace<T>, rng: &mut Rng) {
        self.fill_masks(&mut ws.masks, rng);
    }

    /// The dropout masks [`Mlp::draw_masks`] would draw from `rng` into a workspace of
    /// `batch` rows, as one matrix per layer (0 × 0 where keep = 1), for passes that
    /// split a batch into row blocks ([`Workspace::set_mask_rows`]).
    #[must_use]
    pub fn mask_matrices<T: Float>(&self, batch: usize, rng: &mut Rng) -> Vec<DMatrix<T>> {
        let mut m: Vec<DMatrix<T>> = self
            .layers
            .iter()
            .map(|s| {
                if s.keep < 1.0 {
                    DMatrix::zeros(batch, s.fan_out)
                } else {
                    DMatrix::zeros(0, 0)
                }
            })
            .collect();
        self.fill_masks(&mut m, rng);
        m
    }

    fn fill_masks<T: Float>(&self, masks: &mut [DMatrix<T>], rng: &mut Rng) {
        for (s, m) in self.layers.iter().zip(masks.iter_mut()) {
            if s.keep < 1.0 {
                let scale = T::of(1.0 / s.keep);
                for v in m.as_mut_slice().iter_mut() {
                    *v = if rng.random::<f64>() < s.keep {
                        scale
                    } else {
                        T::zero()
                    };
                }
            }
        }
    }

    /// Forward pass on the input already in `ws.input_mut()`; the result is
    /// `ws.output()`. Stores σ′ (and σ″ for curved σ) and each layer kind's own
    /// quantities for the backward passes.
    ///
    /// # Panics
    /// If `params` has the wrong length or the workspace belongs to another MLP
    /// (programming errors).
    pub fn forward<T: Float>(&self, params: &[T], ws: &mut Workspace<T>, mode: Mode) {
        crate::simd::dispatch(
            #[inline(always)]
            || self.forward_impl(params, ws, mode),
        )
    }

    #[inline(always)]
    fn forward_impl<T: Float>(&self, params: &[T], ws: &mut Workspace<T>, mode: Mode) {
        assert_eq!(params.len(), self.n_params, "parameter vector length");
        let batch = ws.batch;
        for (l, s) in self.layers.iter().enumerate() {
            let (w, b) = self.layout(l);
            let a = s.affine_width();
            let (prev, rest) = ws.h.split_at_mut(l + 1);
            let out = &mut rest[0];
            let wv = View::col_major(&params[w..b], s.fan_in, a);
            match (s.kind, &mut ws.extra[l]) {
                (LayerKind::Dense, _) => {
                    gemm_into(T::one(), View::of(&prev[l]), wv, T::zero(), out);
                    activate(
                        s.activation,
                        out.as_mut_slice(),
                        ws.deriv[l].as_mut_slice(),
                        ws.curv[l].as_mut_slice(),
                        &params[b..b + s.fan_out],
                        batch,
                    );
                }
                (LayerKind::BatchNorm { eps, .. }, Extra::BatchNorm(bn)) => {
                    gemm_into(T::one(), View::of(&prev[l]), wv, T::zero(), out);
                    let gamma = &params[b..b + s.fan_out];
                    let beta = &params[b + s.fan_out..b + 2 * s.fan_out];
                    batch_norm::forward(
                        out.as_mut_slice(),
                        gamma,
                        eps,
                        bn,
                        batch,
                        mode == Mode::Train,
                    );
                    activate(
                        s.activation,
                        out.as_mut_slice(),
                        ws.deriv[l].as_mut_slice(),
                        ws.curv[l].as_mut_slice(),
                        beta,
                        batch,
                    );
                }
                (LayerKind::Maxout { pieces }, Extra::Maxout { a: pre, arg }) => {
                    gemm_into(T::one(), View::of(&prev[l]), wv, T::zero(), pre);
                    maxout::forward(
                        pre.as_mut_slice(),
                        &params[b..b + a],
                        out.as_mut_slice(),
                        arg,
                        batch,
                        pieces,
                    );
                    ws.deriv[l].fill(T::one());
                }
                (LayerKind::Minibatch { kernels, dim }, Extra::Minibatch(buf)) => {
                    let group = match mode {
                        Mode::Eval => 1,
                        Mode::Train if ws.group == 0 => batch,
                        Mode::Train => ws.group,
                    };
                    let shape = minibatch::Shape {
                        features: s.fan_in,
                        kernels,
                        dim,
                    };
                    minibatch::forward(&prev[l], &params[w..b], out, buf, shape, group);
                    continue;
                }
                _ => panic!("workspace does not belong to this network"),
            }
            if mode == Mode::Train && s.keep < 1.0 {
                let m = ws.masks[l].as_slice();
                for ((y, d), &mk) in out
                    .as_mut_slice()
                    .iter_mut()
                    .zip(ws.deriv[l].as_mut_slice().iter_mut())
                    .zip(m)
                {
                    *y *= mk;
                    *d *= mk;
                }
                if !ws.curv[l].is_empty() {
                    for (c, &mk) in ws.curv[l].as_mut_slice().iter_mut().zip(m) {
                        *c *= mk;
                    }
                }
            }
        }
    }

    /// Convenience: copies `x` (batch × input width) into the workspace, resizing it if
    /// the batch size changed, and runs [`Mlp::forward`].
    pub fn forward_from<T: Float>(
        &self,
        params: &[T],
        x: &DMatrix<T>,
        ws: &mut Workspace<T>,
        mode: Mode,
    ) {
        self.ensure_batch(ws, x.nrows());
        ws.h[0].copy_from(x);
        self.forward(params, ws, mode);
    }

    /// Backward pass from the seed in `ws.output_grad_mut()` (= ∂L/∂output, batch ×
    /// output width) through the last forward pass: for a dense layer
    /// δ_l = H̄_l ⊙ σ′(A_l) ⊙ M_l, ∂L/∂W_l += H_{l−1}ᵀ δ_l, ∂L/∂b_l += 1ᵀ δ_l,
    /// H̄_{l−1} = δ_l W_lᵀ; the other kinds form δ_l their own way (their module docs).
    /// Parameter gradients are **added** to `grad` (if given); the input gradient is
    /// written to `ws.input_grad()` if `input_grad`.
    pub fn backward<T: Float>(
        &self,
        params: &[T],
        ws: &mut Workspace<T>,
        grad: Option<&mut [T]>,
        input_grad: bool,
    ) {
        crate::simd::dispatch(
            #[inline(always)]
            || self.backward_impl(params, ws, grad, input_grad),
        )
    }

    #[inline(always)]
    fn backward_impl<T: Float>(
        &self,
        params: &[T],
        ws: &mut Workspace<T>,
        mut grad: Option<&mut [T]>,
        input_grad: bool,
    ) {
        assert_eq!(params.len(), self.n_params, "parameter vector length");
        let batch = ws.batch;
        for l in (0..self.layers.len()).rev() {
            let s = &self.layers[l];
            let (w, b) = self.layout(l);
            let a = s.affine_width();
            let delta = &mut ws.delta[l];
            match (s.kind, &ws.extra[l]) {
                (LayerKind::Dense, _) => mul_into(delta, &ws.dh[l + 1], &ws.deriv[l]),
                (LayerKind::BatchNorm { .. }, Extra::BatchNorm(bn)) => {
                    mul_into(delta, &ws.dh[l + 1], &ws.deriv[l]);
                    batch_norm::backward(
                        delta.as_mut_slice(),
                        &params[b..b + s.fan_out],
                        bn,
                        batch,
                        grad.as_deref_mut().map(|g| &mut g[b..b + 2 * s.fan_out]),
                    );
                }
                (LayerKind::Maxout { pieces }, Extra::Maxout { arg, .. }) => maxout::scatter(
                    ws.dh[l + 1].as_slice(),
                    ws.deriv[l].as_slice(),
                    arg,
                    delta.as_mut_slice(),
                    batch,
                    pieces,
                ),
                (LayerKind::Minibatch { kernels, dim }, Extra::Minibatch(buf)) => {
                    let shape = minibatch::Shape {
                        features: s.fan_in,
                        kernels,
                        dim,
                    };
                    let (lo, hi) = ws.dh.split_at_mut(l + 1);
                    minibatch::backward(
                        &ws.h[l],
                        &params[w..b],
                        &hi[0],
                        delta,
                        buf,
                        shape,
                        grad.as_deref_mut().map(|g| &mut g[w..b]),
                        (l > 0 || input_grad).then_some(&mut lo[l]),
                    );
                    continue;
                }
                _ => panic!("workspace does not belong to this network"),
            }
            // A maxout layer's δ has one non-zero column in k per unit and sample: where
            // the dense products would run the f32 kernel, the sparse ones skip the zero
            // terms of the same recurrence ([`maxout::weight_grad`]).
            let sparse = match (s.kind, &ws.extra[l]) {
                (LayerKind::Maxout { pieces }, Extra::Maxout { arg, .. })
                    if maxout::sparse_products::<T>(batch, s.fan_in, a) =>
                {
                    Some((pieces, arg))
                }
                _ => None,
            };
            if let Some(g) = grad.as_deref_mut() {
                if let Some((pieces, arg)) = sparse {
                    let shape = maxout::Shape {
                        batch,
                        fan_in: s.fan_in,
                        pieces,
                    };
                    let (h, d) = (ws.h[l].as_slice(), ws.delta[l].as_slice());
                    maxout::weight_grad(h, d, arg, &mut g[w..b], shape);
                } else {
                    gemm(
                        T::one(),
                        View::of(&ws.h[l]).t(),
                        View::of(&ws.delta[l]),
                        T::one(),
                        &mut g[w..b],
                        s.fan_in,
                        a,
                    );
                }
                if !matches!(s.kind, LayerKind::BatchNorm { .. }) {
                    add_column_sums(&ws.delta[l], &mut g[b..b + a], batch);
                }
            }
            if l > 0 || input_grad {
                if let Some((pieces, arg)) = sparse {
                    let shape = maxout::Shape {
                        batch,
                        fan_in: s.fan_in,
                        pieces,
                    };
                    let d = ws.delta[l].as_slice();
                    maxout::input_grad(d, arg, &params[w..b], ws.dh[l].as_mut_slice(), shape);
                } else {
                    gemm_into(
                        T::one(),
                        View::of(&ws.delta[l]),
                        View::col_major(&params[w..b], s.fan_in, a).t(),
                        T::zero(),
                        &mut ws.dh[l],
                    );
                }
            }
        }
    }

    /// Input gradient of the last forward pass: row i of `ws.input_grad()` becomes
    /// ∇ₓ Σ_j f_j(x_i) (for a scalar-output network, ∇ₓ f(x_i), which R1, R2 and WGAN-GP
    /// penalise). Also leaves δ_l and H̄_l in place for [`Mlp::penalty_backward`].
    pub fn input_gradient<T: Float>(&self, params: &[T], ws: &mut Workspace<T>) {
        ws.output_grad_mut().as_mut_slice().fill(T::one());
        self.backward(params, ws, None, true);
    }

    /// Double backprop: given the seed Ḡ₀ = ∂P/∂(∇ₓ f) in `ws.penalty_seed_mut()`
    /// (batch × input width) for a penalty P(∇ₓ f(x_1), …), adds ∂P/∂params to `grad`.
    /// Must follow [`Mlp::input_gradient`] on the same workspace; the network must
    /// [support it](Mlp::supports_double_backprop).
    ///
    /// With g_L = 1, δ_l = g_l ⊙ s_l (s_l = σ′(A_l) ⊙ M_l) and g_{l−1} = δ_l W_lᵀ, reverse
    /// mode over this chain, for l = 1 … L, gives
    /// ∂P/∂W_l += Ḡ_{l−1}ᵀ δ_l, δ̄_l = Ḡ_{l−1} W_l, Ḡ_l = δ̄_l ⊙ s_l and the curvature seed
    /// Ā_l = δ̄_l ⊙ g_l ⊙ σ″(A_l) ⊙ M_l. When some σ is curved (tanh, sigmoid), a second
    /// reverse pass through the forward graph carries the seeds Ā_l to W and b:
    /// A_l ← Ā_l + H̄_l ⊙ s_l, ∂P/∂W_l += H_{l−1}ᵀ Ā_l, ∂P/∂b_l += 1ᵀ Ā_l, H̄_{l−1} = Ā_l W_lᵀ.
    /// For piecewise-linear nets σ″ = 0 a.e. and that pass is skipped. A maxout layer
    /// has δ_l = Sᵀ(g_l ⊙ M_l) and Ḡ_l = S(δ̄_l) ⊙ M_l (the selection of
    /// [`super::maxout`]) and no curvature seed.
    ///
    /// # Panics
    /// If the network does not support double backprop (a programming error).
    pub fn penalty_backward<T: Float>(&self, params: &[T], ws: &mut Workspace<T>, grad: &mut [T]) {
        crate::simd::dispatch(
            #[inline(always)]
            || self.penalty_backward_impl(params, ws, grad),
        )
    }

    #[inline(always)]
    fn penalty_backward_impl<T: Float>(&self, params: &[T], ws: &mut Workspace<T>, grad: &mut [T]) {
        assert_eq!(params.len(), self.n_params, "parameter vector length");
        assert!(
            self.supports_double_backprop(),
            "double backprop through batch norm or minibatch layers is not implemented"
        );
        let n = self.layers.len();
        let batch = ws.batch;
        let curved = ws.curv.iter().any(|c| !c.is_empty());
        for l in 0..n {
            let s = &self.layers[l];
            let (w, b) = self.layout(l);
            let a = s.affine_width();
            gemm(
                T::one(),
                View::of(&ws.gbar[l]).t(),
                View::of(&ws.delta[l]),
                T::one(),
                &mut grad[w..b],
                s.fan_in,
                a,
            );
            gemm_into(
                T::one(),
                View::of(&ws.gbar[l]),
                View::col_major(&params[w..b], s.fan_in, a),
                T::zero(),
                &mut ws.dbar[l],
            );
            if l + 1 < n {
                let (_, rest) = ws.gbar.split_at_mut(l + 1);
                match (s.kind, &ws.extra[l]) {
                    (LayerKind::Maxout { pieces }, Extra::Maxout { arg, .. }) => maxout::gather(
                        ws.dbar[l].as_slice(),
                        ws.deriv[l].as_slice(),
                        arg,
                        rest[0].as_mut_slice(),
                        batch,
                        pieces,
                    ),
                    _ => mul_into(&mut rest[0], &ws.dbar[l], &ws.deriv[l]),
                }
            }
            if ws.curv[l].is_empty() {
                if curved {
                    ws.abar[l].as_mut_slice().fill(T::zero());
                }
            } else {
                for (((a, &db), &g), &c) in ws.abar[l]
                    .as_mut_slice()
                    .iter_mut()
                    .zip(ws.dbar[l].as_slice().iter())
                    .zip(ws.dh[l + 1].as_slice().iter())
                    .zip(ws.curv[l].as_slice().iter())
                {
                    *a = db * g * c;
                }
            }
        }
        if !curved {
            return;
        }
        // Second pass: reverse through the forward graph with seeds Ā_l; dbar[l] now
        // holds H̄_{l+1}-style adjoints (dbar[l] is B × fan_out_l = B × width of H_{l+1};
        // with curved σ every layer is dense, so affine width = fan_out).
        for l in (0..n).rev() {
            let s = &self.layers[l];
            let (w, b) = self.layout(l);
            if l + 1 < n {
                for ((a, &hb), &sp) in ws.abar[l]
                    .as_mut_slice()
                    .iter_mut()
                    .zip(ws.dbar[l].as_slice().iter())
                    .zip(ws.deriv[l].as_slice().iter())
                {
                    *a += hb * sp;
                }
            }
            gemm(
                T::one(),
                View::of(&ws.h[l]).t(),
                View::of(&ws.abar[l]),
                T::one(),
                &mut grad[w..b],
                s.fan_in,
                s.fan_out,
            );
            add_column_sums(&ws.abar[l], &mut grad[b..b + s.fan_out], batch);
            if l > 0 {
                let (lo, _) = ws.dbar.split_at_mut(l);
                gemm_into(
                    T::one(),
                    View::of(&ws.abar[l]),
                    View::col_major(&params[w..b], s.fan_in, s.fan_out).t(),
                    T::zero(),
                    &mut lo[l - 1],
                );
            }
        }
    }
}

/// The settings of a layer kind, checked.
fn check_kind(l: usize, s: &LayerSpec) -> Result<()> {
    match s.kind {
        LayerKind::Dense => Ok(()),
        LayerKind::BatchNorm { momentum, eps } => {
            if !(0.0..=1.0).contains(&momentum) {
                return Err(Error::param(
                    "batch_norm_momentum",
                    format!("{momentum} is not in [0, 1]"),
                ));
            }
            if !(eps.is_finite() && eps > 0.0) {
                return Err(Error::param(
                    "batch_norm_eps",
                    format!("{eps} is not positive"),
                ));
            }
            Ok(())
        }
        LayerKind::Maxout { pieces } => {
            if !(2..=maxout::MAX_PIECES).contains(&pieces) {
                return Err(Error::param(
                    "maxout",
                    format!(
                        "{pieces} pieces is not in 2..={} (layer {l})",
                        maxout::MAX_PIECES
                    ),
                ));
            }
            if s.activation != Activation::Linear {
                return Err(Error::param(
                    "activation",
                    format!("maxout layer {l} takes no activation after the max (use linear)"),
                ));
            }
            Ok(())
        }
        LayerKind::Minibatch { kernels, dim } => {
            if kernels == 0 || dim == 0 {
                return Err(Error::param(
                    "minibatch",
                    "kernels and dim must be at least 1",
                ));
            }
            if s.fan_out != s.fan_in + kernels || s.activation != Activation::Linear || s.keep < 1.0
            {
                return Err(Error::param(
                    "minibatch",
                    format!(
                        "layer {l} must map {} features to {} (features and kernels), \
                         linear and without dropout",
                        s.fan_in,
                        s.fan_in + kernels
                    ),
                ));
            }
            Ok(())
        }
    }
}

/// out = a ⊙ b.
#[inline(always)]
pub(super) fn mul_into<T: Float>(out: &mut DMatrix<T>, a: &DMatrix<T>, b: &DMatrix<T>) {
    for ((o, &x), &y) in out
        .as_mut_slice()
        .iter_mut()
        .zip(a.as_slice())
        .zip(b.as_slice())
    {
        *o = x * y;
    }
}

/// g[k] += Σ_i m[i, k].
#[inline(always)]
pub(super) fn add_column_sums<T: Float>(m: &DMatrix<T>, g: &mut [T], batch: usize) {
    if batch == 0 {
        return;
    }
    for (col, gk) in m.as_slice().chunks_exact(batch).zip(g.iter_mut()) {
        *gk += super::sum(col);
    }
}

/// Adds the bias to each column of `out` (holding X W), applies σ in place and writes
/// σ′ to `deriv` and σ″ to `curv` (if non-empty). One loop per activation, so the
/// match is outside the inner loop.
#[inline(always)]
fn activate<T: Float>(
    act: Activation,
    out: &mut [T],
    deriv: &mut [T],
    curv: &mut [T],
    bias: &[T],
    batch: usize,
) {
    if batch == 0 {
        return;
    }
    let cols = out
        .chunks_exact_mut(batch)
        .zip(deriv.chunks_exact_mut(batch))
        .zip(bias);
    match act {
        Activation::Linear => {
            for ((o, d), &bk) in cols {
                for (y, dd) in o.iter_mut().zip(d.iter_mut()) {
                    *y += bk;
                    *dd = T::one();
                }
            }
        }
        Activation::Relu => {
            for ((o, d), &bk) in cols {
                for (y, dd) in o.iter_mut().zip(d.iter_mut()) {
                    let a = *y + bk;
                    let pos = a > T::zero();
                    *y = if pos { a } else { T::zero() };
                    *dd = if pos { T::one() } else { T::zero() };
                }
            }
        }
        Activation::LeakyRelu { slope } => {
            let s = T::of(slope);
            for ((o, d), &bk) in cols {
                for (y, dd) in o.iter_mut().zip(d.iter_mut()) {
                    let a = *y + bk;
                    let pos = a > T::zero();
                    *dd = if pos { T::one() } else { s };
                    *y = a * *dd;
                }
            }
        }
        Activation::Tanh | Activation::Sigmoid => {
            for ((o, d), &bk) in cols {
                for (y, dd) in o.iter_mut().zip(d.iter_mut()) {
                    let a = *y + bk;
                    let v = act.value(a);
                    *y = v;
                    *dd = act.derivative(a, v);
                }
            }
            if !curv.is_empty() {
                for (c, &y) in curv.iter_mut().zip(out.iter()) {
                    *c = act.second_derivative(T::zero(), y);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::rng;

    /// Relative error allowed between a hand-written gradient and central differences
    /// in f64: ‖a − fd‖ / max(‖a‖, ‖fd‖, 1e-12).
    pub const GRAD_CHECK_TOL: f64 = 1e-6;
    /// Central-difference step for the checks.
    const FD_H: f64 = 1e-5;

    fn rel_err(a: &[f64], b: &[f64]) -> f64 {
        let d: f64 = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f64>()
            .sqrt();
        let na: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt();
        let nb: f64 = b.iter().map(|x| x * x).sum::<f64>().sqrt();
        d / na.max(nb).max(1e-12)
    }

    fn fd_grad(mut f: impl FnMut(&[f64]) -> f64, p: &[f64]) -> Vec<f64> {
        let mut q = p.to_vec();
        (0..p.len())
            .map(|i| {
                q[i] = p[i] + FD_H;
                let fp = f(&q);
                q[i] = p[i] - FD_H;
                let fm = f(&q);
                q[i] = p[i];
                (fp - fm) / (2.0 * FD_H)
            })
            .collect()
    }

    const ACTS: [Activation; 5] = [
        Activation::Linear,
        Activation::Relu,
        Activation::LeakyRelu { slope: 0.2 },
        Activation::Tanh,
        Activation::Sigmoid,
    ];

    /// L = Σ C ⊙ f(X) for a fixed random C.
    fn weighted_output(
        mlp: &Mlp,
        p: &[f64],
        x: &DMatrix<f64>,
        c: &DMatrix<f64>,
        ws: &mut Workspace<f64>,
    ) -> f64 {
        mlp.forward_from(p, x, ws, Mode::Train);
        ws.output().component_mul(c).sum()
    }

    #[test]
    fn backward_matches_differences_for_every_activation_and_dropout() {
        for (ai, &act) in ACTS.iter().enumerate() {
            for &keep in &[1.0, 0.6] {
                let mut r = rng(0, ai as u64);
                let mlp = Mlp::new(&[3, 5, 4, 2], act, ACTS[(ai + 1) % 5], keep).unwrap();
                // Random biases too (Normal init sets them to 0, which would put dead-ReLU
                // rows exactly on the next layer's kink).
                let p: Vec<f64> = (0..mlp.n_params())
                    .map(|_| r.random_range(-1.0..1.0))
                    .collect();
                let x = DMatrix::from_fn(6, 3, |_, _| r.random_range(-1.5..1.5));
                let c = DMatrix::from_fn(6, 2, |_, _| r.random_range(-1.0..1.0));
                let mut ws = mlp.workspace::<f64>(6);
                mlp.draw_masks(&mut ws, &mut r);
                weighted_output(&mlp, &p, &x, &c, &mut ws);
                ws.output_grad_mut().copy_from(&c);
                let mut g = vec![0.0; p.len()];
                mlp.backward(&p, &mut ws, Some(&mut g), true);
                let gx = ws.input_grad().clone();
                let mut ws2 = ws.clone();
                let fd = fd_grad(|q| weighted_output(&mlp, q, &x, &c, &mut ws2), &p);
                assert!(
                    rel_err(&g, &fd) < GRAD_CHECK_TOL,
                    "{act:?} keep {keep}: {}",
                    rel_err(&g, &fd)
                );
                let fdx = fd_grad(
                    |xs| {
                        let xm = DMatrix::from_column_slice(6, 3, xs);
                        weighted_output(&mlp, &p, &xm, &c, &mut ws2)
                    },
                    x.as_slice(),
                );
                assert!(
                    rel_err(gx.as_slice(), &fdx) < GRAD_CHECK_TOL,
                    "{act:?} input grad"
                );
            }
        }
    }

    /// P = Σ_i [ a·‖∇ₓf(x_i)‖² + uᵢ·∇ₓf(x_i) ] exercises both the quadratic and the
    /// linear seed. Returns P and the seed Ḡ₀.
    fn penalty(
        mlp: &Mlp,
        p: &[f64],
        x: &DMatrix<f64>,
        u: &DMatrix<f64>,
        ws: &mut Workspace<f64>,
    ) -> (f64, DMatrix<f64>) {
        mlp.forward_from(p, x, ws, Mode::Train);
        mlp.input_gradient(p, ws);
        let g = ws.input_grad();
        let val = 0.7 * g.norm_squared() + g.component_mul(u).sum();
        (val, g * 1.4 + u)
    }

    #[test]
    fn double_backprop_matches_differences_for_every_activation() {
        for (ai, &act) in ACTS.iter().enumerate() {
            for &out_act in &[Activation::Linear, Activation::Tanh] {
                let mut r = rng(1, ai as u64);
                let mlp = Mlp::new(&[2, 6, 5, 1], act, out_act, 0.7).unwrap();
                let p: Vec<f64> = (0..mlp.n_params())
                    .map(|_| r.random_range(-1.0..1.0))
                    .collect();
                let x = DMatrix::from_fn(7, 2, |_, _| r.random_range(-1.5..1.5));
                let u = DMatrix::from_fn(7, 2, |_, _| r.random_range(-1.0..1.0));
                let mut ws = mlp.workspace::<f64>(7);
                mlp.draw_masks(&mut ws, &mut r);
                let (_, seed) = penalty(&mlp, &p, &x, &u, &mut ws);
                ws.penalty_seed_mut().copy_from(&seed);
                let mut g = vec![0.0; p.len()];
                mlp.penalty_backward(&p, &mut ws, &mut g);
                let mut ws2 = ws.clone();
                let fd = fd_grad(|q| penalty(&mlp, q, &x, &u, &mut ws2).0, &p);
                assert!(
                    rel_err(&g, &fd) < GRAD_CHECK_TOL,
                    "{act:?}/{out_act:?}: {}",
                    rel_err(&g, &fd)
                );
            }
        }
    }

    #[test]
    fn glorot_init_respects_its_bound_and_he_zero_bias() {
        let mlp = Mlp::new(&[10, 50, 2], Activation::Relu, Activation::Linear, 1.0).unwrap();
        let p: Vec<f64> = mlp.init(Init::GlorotUniform, &mut rng(0, 0));
        let r0 = (6.0f64 / 60.0).sqrt();
        let (w, b) = mlp.layout(0);
        assert!(p[w..b + 50].iter().all(|v| v.abs() <= r0));
        assert!(p[b..b + 50].iter().any(|v| v.abs() > 0.0));
        let q: Vec<f64> = mlp.init(Init::He, &mut rng(0, 0));
        assert!(q[b..b + 50].iter().all(|v| *v == 0.0));
        let var = q[w..b].iter().map(|v| v * v).sum::<f64>() / 500.0;
        assert!((var - 0.2).abs() < 0.05, "He variance {var}");
    }

    #[test]
    fn bad_architectures_are_rejected() {
        assert!(Mlp::new(&[3], Activation::Relu, Activation::Linear, 1.0).is_err());
        assert!(Mlp::new(&[3, 0, 1], Activation::Relu, Activation::Linear, 1.0).is_err());
        assert!(Mlp::new(&[3, 4, 1], Activation::Relu, Activation::Linear, 0.0).is_err());
    }
}
