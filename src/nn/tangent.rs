//! Tangent (forward-mode) passes through the MLP's forward, backward and double-backprop
//! passes: Pearlmutter's R-operator (Pearlmutter 1994, "Fast exact multiplication by
//! the Hessian", Neural Computation 6(1)), R{f} = d/dε f(p + ε·ṗ, x + ε·ẋ) |ε=0 for
//! a direction ṗ in the parameters (`dparams`) and ẋ in the input.
//!
//! Each primal quantity of [`Mlp::forward`], [`Mlp::backward`] and
//! [`Mlp::penalty_backward`] gets its tangent by the product rule, with the primal
//! values read from the [`Workspace`] of the same passes. With s_l = σ′(A_l) ⊙ M_l and
//! c_l = σ″(A_l) ⊙ M_l (stored by the forward pass; the dropout mask M_l is fixed for
//! the batch, so it is linear):
//!
//! * forward: R{A_l} = R{H_l} W_l + H_l R{W_l} + 1 R{b_l}ᵀ, R{H_{l+1}} = s_l ⊙ R{A_l};
//! * backward: R{δ_l} = R{H̄_{l+1}} ⊙ s_l + H̄_{l+1} ⊙ c_l ⊙ R{A_l},
//!   R{∂W_l} = R{H_l}ᵀ δ_l + H_lᵀ R{δ_l}, R{∂b_l} = 1ᵀ R{δ_l},
//!   R{H̄_l} = R{δ_l} W_lᵀ + δ_l R{W_l}ᵀ;
//! * double backprop ([`Mlp::penalty_tangent`]): the same rule applied to every line of
//!   [`Mlp::penalty_backward`]; curved σ also need σ‴ (the tangent of c_l).
//!
//! The cost is about twice the primal pass it differentiates (each product of the
//! primal pass becomes two). These passes are only for analysis (Jacobian-vector and
//! Hessian-vector products of a neural GAN's field, [`crate::gan::NeuralGan`]):
//! training never calls them, and their buffers live in a separate [`Tangent`].

use nalgebra::DMatrix;

use super::mlp::{Extra, add_column_sums, mul_into};
use super::{Float, LayerKind, Mlp, View, Workspace, gemm, gemm_into, maxout};

/// Buffers for the tangents of one MLP's passes at one batch size (the counterpart
/// of a [`Workspace`]).
#[derive(Debug, Clone)]
pub struct Tangent<T: Float> {
    batch: usize,
    /// Whether the last [`Mlp::forward_tangent`] had an input tangent (else R{H_0} = 0
    /// and the products with it are skipped).
    input_live: bool,
    /// Whether the last forward tangent was identically zero (no input and no
    /// parameter direction): then every R{H_l}, R{A_l} is 0 and only the output's is
    /// written (as zeros).
    forward_zero: bool,
    /// R{H_l}, l = 0..=L (rh[0] = the input tangent).
    rh: Vec<DMatrix<T>>,
    /// R{A_l} (for curved σ, where c_l ≠ 0, and maxout layers, affine width; empty
    /// otherwise).
    ra: Vec<DMatrix<T>>,
    /// R{δ_l}.
    rdelta: Vec<DMatrix<T>>,
    /// R{H̄_l}: rdh[L] is the seed's tangent, rdh[0] the input gradient's.
    rdh: Vec<DMatrix<T>>,
    /// R{Ḡ_l} of double backprop (empty unless built with `double_backprop`).
    rgbar: Vec<DMatrix<T>>,
    /// R{δ̄_l}, then R{H̄′_{l+1}} in the curvature pass.
    rdbar: Vec<DMatrix<T>>,
    /// R{Ā_l} (curved σ only).
    rabar: Vec<DMatrix<T>>,
    /// σ‴(A_l) ⊙ M_l (curved σ only).
    third: Vec<DMatrix<T>>,
    /// Row-scaled δ and its tangent for [`Mlp::seeded_gradient_tangent`] (sized on
    /// first use).
    scaled: Vec<T>,
    rscaled: Vec<T>,
}

impl<T: Float> Tangent<T> {
    /// The batch size the buffers are sized for.
    #[must_use]
    pub fn batch(&self) -> usize {
        self.batch
    }
    /// R{H_0}, the input's tangent (batch × input width), read by
    /// [`Mlp::forward_tangent`] when it is called with `input = true`.
    pub fn input_mut(&mut self) -> &mut DMatrix<T> {
        &mut self.rh[0]
    }
    /// R{output} of the last [`Mlp::forward_tangent`].
    #[must_use]
    pub fn output(&self) -> &DMatrix<T> {
        &self.rh[self.rh.len() - 1]
    }
    /// R{∂L/∂output}, the seed's tangent of the next [`Mlp::backward_tangent`].
    pub fn output_grad_mut(&mut self) -> &mut DMatrix<T> {
        let n = self.rdh.len() - 1;
        &mut self.rdh[n]
    }
    /// R{output} and the seed's tangent R{∂L/∂output} together (the seed's tangent is
    /// usually a function of the output's: R{ℓ′(y)} = ℓ″(y)·R{y}).
    pub fn output_and_seed_mut(&mut self) -> (&DMatrix<T>, &mut DMatrix<T>) {
        let (n, m) = (self.rh.len() - 1, self.rdh.len() - 1);
        (&self.rh[n], &mut self.rdh[m])
    }
    /// R{∂L/∂input} after [`Mlp::backward_tangent`] with `input_grad = true`.
    #[must_use]
    pub fn input_grad(&self) -> &DMatrix<T> {
        &self.rdh[0]
    }
    /// R{Ḡ₀}, the tangent of the penalty seed ∂P/∂(∇ₓ f), read by
    /// [`Mlp::penalty_tangent`].
    ///
    /// # Panics
    /// If the buffers were built without `double_backprop` (a programming error).
    pub fn penalty_seed_mut(&mut self) -> &mut DMatrix<T> {
        assert!(
            !self.rgbar.is_empty(),
            "tangent buffers built without double backprop"
        );
        &mut self.rgbar[0]
    }
}

/// out += a ⊙ b ⊙ c.
#[inline(always)]
fn add_mul3<T: Float>(out: &mut DMatrix<T>, a: &DMatrix<T>, b: &DMatrix<T>, c: &DMatrix<T>) {
    for (((o, &x), &y), &z) in out
        .as_mut_slice()
        .iter_mut()
        .zip(a.as_slice())
        .zip(b.as_slice())
        .zip(c.as_slice())
    {
        *o += x * y * z;
    }
}

/// out += a ⊙ b.
#[inline(always)]
fn add_mul<T: Float>(out: &mut DMatrix<T>, a: &DMatrix<T>, b: &DMatrix<T>) {
    for ((o, &x), &y) in out
        .as_mut_slice()
        .iter_mut()
        .zip(a.as_slice())
        .zip(b.as_slice())
    {
        *o += x * y;
    }
}

impl Mlp {
    /// Tangent buffers for batches of `batch` rows; `double_backprop` adds those of
    /// [`Mlp::penalty_tangent`].
    #[must_use]
    pub fn tangent<T: Float>(&self, batch: usize, double_backprop: bool) -> Tangent<T> {
        let z = |r: usize, c: usize| DMatrix::<T>::zeros(r, c);
        let l = self.layers();
        let curved = |s: &super::LayerSpec| !s.activation.is_piecewise_linear();
        let is_maxout = |s: &super::LayerSpec| matches!(s.kind, LayerKind::Maxout { .. });
        let any_curved = l.iter().any(curved);
        let per_layer = |on: bool, wide: &dyn Fn(&super::LayerSpec) -> usize| {
            l.iter()
                .map(|s| if on { z(batch, wide(s)) } else { z(0, 0) })
                .collect::<Vec<_>>()
        };
        let curved_only = |on: bool| {
            l.iter()
                .map(|s| {
                    if on && curved(s) {
                        z(batch, s.fan_out)
                    } else {
                        z(0, 0)
                    }
                })
                .collect::<Vec<_>>()
        };
        Tangent {
            batch,
            input_live: false,
            forward_zero: true,
            rh: std::iter::once(z(batch, self.input_dim()))
                .chain(l.iter().map(|s| z(batch, s.fan_out)))
                .collect(),
            ra: l
                .iter()
                .map(|s| {
                    if is_maxout(s) {
                        z(batch, s.affine_width())
                    } else if curved(s) {
                        z(batch, s.fan_out)
                    } else {
                        z(0, 0)
                    }
                })
                .collect(),
            rdelta: per_layer(true, &|s| s.affine_width()),
            rdh: std::iter::once(z(batch, self.input_dim()))
                .chain(l.iter().map(|s| z(batch, s.fan_out)))
                .collect(),
            rgbar: per_layer(double_backprop, &|s| s.fan_in),
            rdbar: per_layer(double_backprop, &|s| s.affine_width()),
            rabar: per_layer(double_backprop && any_curved, &|s| s.fan_out),
            third: curved_only(double_backprop),
            scaled: Vec::new(),
            rscaled: Vec::new(),
        }
    }

    /// Tangent of [`Mlp::forward`]: R{H_l} for every layer, for the parameter direction
    /// `dparams` (`None`: ṗ = 0) and, if `input`, the input direction in
    /// `tw.input_mut()`. `ws` must hold the forward pass at the same parameters
    /// and input (with the same dropout masks and mode).
    ///
    /// # Panics
    /// On mismatched lengths or batch sizes (programming errors).
    pub fn forward_tangent<T: Float>(
        &self,
        params: &[T],
        dparams: Option<&[T]>,
        ws: &Workspace<T>,
        tw: &mut Tangent<T>,
        input: bool,
    ) {
        crate::simd::dispatch(
            #[inline(always)]
            || self.forward_tangent_impl(params, dparams, ws, tw, input),
        )
    }

    #[inline(always)]
    fn forward_tangent_impl<T: Float>(
        &self,
        params: &[T],
        dparams: Option<&[T]>,
        ws: &Workspace<T>,
        tw: &mut Tangent<T>,
        input: bool,
    ) {
        self.check(params, dparams, ws, tw);
        let batch = tw.batch;
        tw.input_live = input;
        tw.forward_zero = !input && dparams.is_none();
        if tw.forward_zero {
            let n = tw.rh.len() - 1;
            tw.rh[n].fill(T::zero());
            return;
        }
        for (l, s) in self.layers().iter().enumerate() {
            let (w, b) = self.layout(l);
            let (prev, rest) = tw.rh.split_at_mut(l + 1);
            let live_in = l > 0 || input;
            if let (LayerKind::Maxout { pieces }, Extra::Maxout { arg, .. }) =
                (s.kind, &ws.extra[l])
            {
                // R{A} = R{H} W + H R{W} + 1 R{b}ᵀ (affine width), R{H′} = S(R{A}) ⊙ M.
                let a = s.affine_width();
                let ra = &mut tw.ra[l];
                if live_in {
                    gemm_into(
                        T::one(),
                        View::of(&prev[l]),
                        View::col_major(&params[w..b], s.fan_in, a),
                        T::zero(),
                        ra,
                    );
                }
                if let Some(dp) = dparams {
                    gemm_into(
                        T::one(),
                        View::of(&ws.h[l]),
                        View::col_major(&dp[w..b], s.fan_in, a),
                        if live_in { T::one() } else { T::zero() },
                        ra,
                    );
                    if batch > 0 {
                        for (col, &db) in
                            ra.as_mut_slice().chunks_exact_mut(batch).zip(&dp[b..b + a])
                        {
                            col.iter_mut().for_each(|v| *v += db);
                        }
                    }
                }
                maxout::gather(
                    ra.as_slice(),
                    ws.deriv[l].as_slice(),
                    arg,
                    rest[0].as_mut_slice(),
                    batch,
                    pieces,
                );
                continue;
            }
            let out = &mut rest[0];
            if live_in {
                gemm_into(
                    T::one(),
                    View::of(&prev[l]),
                    View::col_major(&params[w..b], s.fan_in, s.fan_out),
                    T::zero(),
                    out,
                );
            }
            if let Some(dp) = dparams {
                gemm_into(
                    T::one(),
                    View::of(&ws.h[l]),
                    View::col_major(&dp[w..b], s.fan_in, s.fan_out),
                    if live_in { T::one() } else { T::zero() },
                    out,
                );
            }
            // One pass: R{A} = (products) + R{b}, kept where σ is curved, and
            // R{H_{l+1}} = s_l ⊙ R{A}.
            if batch == 0 {
                continue;
            }
            let bias = |k: usize| dparams.map_or(T::zero(), |dp| dp[b + k]);
            let cols = out
                .as_mut_slice()
                .chunks_exact_mut(batch)
                .zip(ws.deriv[l].as_slice().chunks_exact(batch))
                .enumerate();
            if tw.ra[l].is_empty() {
                for (k, (o, d)) in cols {
                    let db = bias(k);
                    for (oi, &di) in o.iter_mut().zip(d) {
                        *oi = (*oi + db) * di;
                    }
                }
            } else {
                for ((k, (o, d)), ra) in cols.zip(tw.ra[l].as_mut_slice().chunks_exact_mut(batch)) {
                    let db = bias(k);
                    for ((oi, &di), ri) in o.iter_mut().zip(d).zip(ra.iter_mut()) {
                        *ri = *oi + db;
                        *oi = *ri * di;
                    }
                }
            }
        }
    }

    /// Tangent of [`Mlp::backward`] from the seed's tangent in
    /// `tw.output_grad_mut()`: R{∂L/∂params} is **added** to `dgrad` (if given) and
    /// R{∂L/∂input} written to `tw.input_grad()` (if `input_grad`). `ws` must hold the
    /// primal backward pass from the matching seed, and `tw` the
    /// [`Mlp::forward_tangent`] of the same point and direction.
    ///
    /// # Panics
    /// On mismatched lengths or batch sizes (programming errors).
    pub fn backward_tangent<T: Float>(
        &self,
        params: &[T],
        dparams: Option<&[T]>,
        ws: &Workspace<T>,
        tw: &mut Tangent<T>,
        dgrad: Option<&mut [T]>,
        input_grad: bool,
    ) {
        crate::simd::dispatch(
            #[inline(always)]
            || self.backward_tangent_impl(params, dparams, ws, tw, dgrad, input_grad),
        )
    }

    #[inline(always)]
    fn backward_tangent_impl<T: Float>(
        &self,
        params: &[T],
        dparams: Option<&[T]>,
        ws: &Workspace<T>,
        tw: &mut Tangent<T>,
        mut dgrad: Option<&mut [T]>,
        input_grad: bool,
    ) {
        self.check(params, dparams, ws, tw);
        let batch = tw.batch;
        for l in (0..self.layers().len()).rev() {
            let s = &self.layers()[l];
            let (w, b) = self.layout(l);
            let a = s.affine_width();
            if let (LayerKind::Maxout { pieces }, Extra::Maxout { arg, .. }) =
                (s.kind, &ws.extra[l])
            {
                // R{δ_l} = Sᵀ(R{H̄_{l+1}} ⊙ M_l): the selection does not move.
                maxout::scatter(
                    tw.rdh[l + 1].as_slice(),
                    ws.deriv[l].as_slice(),
                    arg,
                    tw.rdelta[l].as_mut_slice(),
                    batch,
                    pieces,
                );
            } else {
                // R{δ_l} = R{H̄_{l+1}} ⊙ s_l + H̄_{l+1} ⊙ c_l ⊙ R{A_l}.
                mul_into(&mut tw.rdelta[l], &tw.rdh[l + 1], &ws.deriv[l]);
                if !tw.ra[l].is_empty() && !tw.forward_zero {
                    add_mul3(&mut tw.rdelta[l], &ws.dh[l + 1], &ws.curv[l], &tw.ra[l]);
                }
            }
            if let Some(g) = dgrad.as_deref_mut() {
                add_column_sums(&tw.rdelta[l], &mut g[b..b + a], batch);
                // R{∂W_l} = H_lᵀ R{δ_l} + R{H_l}ᵀ δ_l, R{∂b_l} = 1ᵀ R{δ_l}.
                gemm(
                    T::one(),
                    View::of(&ws.h[l]).t(),
                    View::of(&tw.rdelta[l]),
                    T::one(),
                    &mut g[w..b],
                    s.fan_in,
                    a,
                );
                if (l > 0 || tw.input_live) && !tw.forward_zero {
                    gemm(
                        T::one(),
                        View::of(&tw.rh[l]).t(),
                        View::of(&ws.delta[l]),
                        T::one(),
                        &mut g[w..b],
                        s.fan_in,
                        a,
                    );
                }
            }
            if l > 0 || input_grad {
                // R{H̄_l} = R{δ_l} W_lᵀ + δ_l R{W_l}ᵀ.
                gemm_into(
                    T::one(),
                    View::of(&tw.rdelta[l]),
                    View::col_major(&params[w..b], s.fan_in, a).t(),
                    T::zero(),
                    &mut tw.rdh[l],
                );
                if let Some(dp) = dparams {
                    gemm_into(
                        T::one(),
                        View::of(&ws.delta[l]),
                        View::col_major(&dp[w..b], s.fan_in, a).t(),
                        T::one(),
                        &mut tw.rdh[l],
                    );
                }
            }
        }
    }

    /// For a network with one output: the tangent of the parameter gradient for the
    /// per-row seed s (∂L/∂outputᵢ = sᵢ) with tangent ṡ, **added** to `dgrad`, given the
    /// backward pass and its tangent from the unit seed (`ws` after [`Mlp::backward`]
    /// with seed 1, `tw` after [`Mlp::backward_tangent`] with seed tangent 0).
    ///
    /// Backpropagation is linear in the seed and the output is a scalar per row, so
    /// δ_l(s) = diag(s)·ρ_l with ρ_l the unit seed's δ_l, and
    /// R{∂W_l} = R{H_l}ᵀ diag(s) ρ_l + H_lᵀ (diag(ṡ) ρ_l + diag(s) R{ρ_l}),
    /// R{∂b_l} = 1ᵀ (diag(ṡ) ρ_l + diag(s) R{ρ_l}).
    /// One unit-seed pass thus serves several losses on the same rows (the
    /// discriminator's and the generator's on the fakes).
    ///
    /// # Panics
    /// If the network has more than one output, or on mismatched lengths (programming
    /// errors).
    pub fn seeded_gradient_tangent<T: Float>(
        &self,
        ws: &Workspace<T>,
        tw: &mut Tangent<T>,
        s: &[T],
        rs: &[T],
        dgrad: &mut [T],
    ) {
        crate::simd::dispatch(
            #[inline(always)]
            || self.seeded_gradient_tangent_impl(ws, tw, s, rs, dgrad),
        )
    }

    #[inline(always)]
    fn seeded_gradient_tangent_impl<T: Float>(
        &self,
        ws: &Workspace<T>,
        tw: &mut Tangent<T>,
        s: &[T],
        rs: &[T],
        dgrad: &mut [T],
    ) {
        let batch = tw.batch;
        assert!(
            self.output_dim() == 1 && s.len() == batch && rs.len() == batch,
            "seeded gradient tangent: one output and one seed per row"
        );
        assert!(
            dgrad.len() == self.n_params() && ws.batch == batch,
            "seeded gradient tangent: lengths"
        );
        assert!(
            self.has_exact_tangent(),
            "no tangent passes for this network"
        );
        let widest = self
            .layers()
            .iter()
            .map(super::LayerSpec::affine_width)
            .max()
            .unwrap_or(0);
        tw.scaled.resize(batch * widest, T::zero());
        tw.rscaled.resize(batch * widest, T::zero());
        for (l, spec) in self.layers().iter().enumerate() {
            let (w, b) = self.layout(l);
            let aw = spec.affine_width();
            let n = batch * aw;
            let (f, e) = (&mut tw.scaled[..n], &mut tw.rscaled[..n]);
            if batch > 0 {
                for (((fc, ec), rho), rrho) in f
                    .chunks_exact_mut(batch)
                    .zip(e.chunks_exact_mut(batch))
                    .zip(ws.delta[l].as_slice().chunks_exact(batch))
                    .zip(tw.rdelta[l].as_slice().chunks_exact(batch))
                {
                    for i in 0..batch {
                        fc[i] = s[i] * rho[i];
                        ec[i] = rs[i] * rho[i] + s[i] * rrho[i];
                    }
                }
            }
            let ev = View::col_major(&tw.rscaled[..n], batch, aw);
            gemm(
                T::one(),
                View::of(&ws.h[l]).t(),
                ev,
                T::one(),
                &mut dgrad[w..b],
                spec.fan_in,
                aw,
            );
            if (l > 0 || tw.input_live) && !tw.forward_zero {
                gemm(
                    T::one(),
                    View::of(&tw.rh[l]).t(),
                    View::col_major(&tw.scaled[..n], batch, aw),
                    T::one(),
                    &mut dgrad[w..b],
                    spec.fan_in,
                    aw,
                );
            }
            if batch > 0 {
                for (col, g) in tw.rscaled[..n]
                    .chunks_exact(batch)
                    .zip(&mut dgrad[b..b + aw])
                {
                    *g += super::sum(col);
                }
            }
        }
    }

    fn check<T: Float>(
        &self,
        params: &[T],
        dparams: Option<&[T]>,
        ws: &Workspace<T>,
        tw: &Tangent<T>,
    ) {
        assert_eq!(params.len(), self.n_params(), "parameter vector length");
        assert!(
            self.has_exact_tangent(),
            "no tangent passes through batch norm or minibatch layers"
        );
        assert!(
            dparams.is_none_or(|d| d.len() == self.n_params()),
            "parameter direction length"
        );
        assert!(
            ws.batch == tw.batch && tw.rh.len() == self.layers().len() + 1,
            "tangent buffers do not match the workspace"
        );
    }
}

mod penalty;
#[cfg(test)]
mod tests;
