//! The MLP: a chain of layers ([`LayerSpec`]), the flat parameter layout, workspaces and
//! the hand-written passes. Dense layers take the fused loops below; the other kinds
//! ([`super::batch_norm`], [`super::maxout`], [`super::minibatch`]) plug their own
//! element-wise parts into the same products.

use nalgebra::DMatrix;
use rand::RngExt;

use super::layer::{LayerKind, LayerSpec, ParamBlock};
use super::{Activation, Float, Init, batch_norm, maxout, minibatch};
use crate::error::{Error, Result};
use crate::linalg::Rng;

mod passes;

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

#[cfg(test)]
mod tests;
