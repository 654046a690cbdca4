//! The hand-written passes of the MLP: forward, backward (parameter and input
//! gradients) and the penalty's double backprop, with the fused bias-and-activation loop.

use nalgebra::DMatrix;

use super::{Extra, Mlp, Mode, Workspace, add_column_sums, mul_into};
use crate::nn::layer::LayerKind;
use crate::nn::{Activation, Float, View, batch_norm, gemm, gemm_into, maxout, minibatch};

impl Mlp {
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
