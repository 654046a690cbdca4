//! The tangent of the penalty's double backprop ([`Mlp::penalty_tangent`]): the
//! R-operator applied to the input-gradient pass and the parameter gradient of the
//! gradient penalty.

use super::*;

impl Mlp {
    /// Tangent of [`Mlp::penalty_backward`]: adds R{∂P/∂params} to `dgrad`.
    ///
    /// Call order, on one point and direction: [`Mlp::forward`] and
    /// [`Mlp::input_gradient`] on `ws`, the primal seed Ḡ₀ in `ws.penalty_seed_mut()`;
    /// [`Mlp::forward_tangent`] and [`Mlp::backward_tangent`] (with a zero seed tangent,
    /// since the seed of the input gradient is the constant 1, and `input_grad = true`)
    /// on `tw`, and R{Ḡ₀} in `tw.penalty_seed_mut()`. The primal adjoints Ḡ_l, δ̄_l, Ā_l
    /// are recomputed here (into `ws`), since only their tangents are wanted.
    ///
    /// Pass 1, l = 0 … L−1 (with g_{l+1} = ws's H̄_{l+1} of the input-gradient pass):
    /// R{∂W_l} += R{Ḡ_l}ᵀ δ_l + Ḡ_lᵀ R{δ_l}, R{δ̄_l} = R{Ḡ_l} W_l + Ḡ_l R{W_l},
    /// R{Ḡ_{l+1}} = R{δ̄_l} ⊙ s_l + δ̄_l ⊙ c_l ⊙ R{A_l},
    /// R{Ā_l} = (R{δ̄_l} ⊙ g_{l+1} + δ̄_l ⊙ R{g_{l+1}}) ⊙ c_l + δ̄_l ⊙ g_{l+1} ⊙ σ‴(A_l) ⊙ M_l ⊙ R{A_l}.
    /// Pass 2 (only when some σ is curved), l = L−1 … 0: R{Ā_l} += R{H̄′_{l+1}} ⊙ s_l +
    /// H̄′_{l+1} ⊙ c_l ⊙ R{A_l}, R{∂W_l} += R{H_l}ᵀ Ā_l + H_lᵀ R{Ā_l}, R{∂b_l} += 1ᵀ R{Ā_l},
    /// R{H̄′_l} = R{Ā_l} W_lᵀ + Ā_l R{W_l}ᵀ.
    ///
    /// # Panics
    /// On mismatched lengths or batch sizes, or buffers built without double backprop
    /// (programming errors).
    pub fn penalty_tangent<T: Float>(
        &self,
        params: &[T],
        dparams: Option<&[T]>,
        ws: &mut Workspace<T>,
        tw: &mut Tangent<T>,
        dgrad: &mut [T],
    ) {
        crate::simd::dispatch(
            #[inline(always)]
            || self.penalty_tangent_impl(params, dparams, ws, tw, dgrad),
        )
    }

    #[inline(always)]
    #[allow(clippy::too_many_lines)]
    fn penalty_tangent_impl<T: Float>(
        &self,
        params: &[T],
        dparams: Option<&[T]>,
        ws: &mut Workspace<T>,
        tw: &mut Tangent<T>,
        dgrad: &mut [T],
    ) {
        self.check(params, dparams, ws, tw);
        assert!(
            !tw.rgbar.is_empty(),
            "tangent buffers built without double backprop"
        );
        let n = self.layers().len();
        let batch = tw.batch;
        let curved = ws.curv.iter().any(|c| !c.is_empty());
        // With a zero forward tangent R{A_l} = R{H_l} = 0: their terms are skipped.
        let moving = !tw.forward_zero;
        // σ‴(A_l) ⊙ M_l from y = σ(A_l) = H_{l+1} / M_l (where M_l ≠ 0; 0 elsewhere).
        for (l, s) in self.layers().iter().enumerate() {
            if tw.third[l].is_empty() || !moving {
                continue;
            }
            let act = s.activation;
            let h = ws.h[l + 1].as_slice();
            let m = ws.masks[l].as_slice();
            for (i, t) in tw.third[l].as_mut_slice().iter_mut().enumerate() {
                *t = if m.is_empty() {
                    act.third_derivative(T::zero(), h[i])
                } else if m[i] == T::zero() {
                    T::zero()
                } else {
                    act.third_derivative(T::zero(), h[i] / m[i]) * m[i]
                };
            }
        }
        assert!(
            self.supports_double_backprop(),
            "no double-backprop tangent for this network"
        );
        for l in 0..n {
            let s = &self.layers()[l];
            let (w, b) = self.layout(l);
            let aw = s.affine_width();
            let wv = View::col_major(&params[w..b], s.fan_in, aw);
            gemm_into(
                T::one(),
                View::of(&ws.gbar[l]),
                wv,
                T::zero(),
                &mut ws.dbar[l],
            );
            gemm(
                T::one(),
                View::of(&tw.rgbar[l]).t(),
                View::of(&ws.delta[l]),
                T::one(),
                &mut dgrad[w..b],
                s.fan_in,
                aw,
            );
            gemm(
                T::one(),
                View::of(&ws.gbar[l]).t(),
                View::of(&tw.rdelta[l]),
                T::one(),
                &mut dgrad[w..b],
                s.fan_in,
                aw,
            );
            gemm_into(
                T::one(),
                View::of(&tw.rgbar[l]),
                wv,
                T::zero(),
                &mut tw.rdbar[l],
            );
            if let Some(dp) = dparams {
                gemm_into(
                    T::one(),
                    View::of(&ws.gbar[l]),
                    View::col_major(&dp[w..b], s.fan_in, aw),
                    T::one(),
                    &mut tw.rdbar[l],
                );
            }
            let curved_l = !ws.curv[l].is_empty();
            if l + 1 < n {
                let (_, rest) = ws.gbar.split_at_mut(l + 1);
                let (_, rrest) = tw.rgbar.split_at_mut(l + 1);
                if let (LayerKind::Maxout { pieces }, Extra::Maxout { arg, .. }) =
                    (s.kind, &ws.extra[l])
                {
                    // Ḡ_{l+1} = S(δ̄_l) ⊙ M_l and its tangent S(R{δ̄_l}) ⊙ M_l.
                    let d = ws.deriv[l].as_slice();
                    maxout::gather(
                        ws.dbar[l].as_slice(),
                        d,
                        arg,
                        rest[0].as_mut_slice(),
                        batch,
                        pieces,
                    );
                    maxout::gather(
                        tw.rdbar[l].as_slice(),
                        d,
                        arg,
                        rrest[0].as_mut_slice(),
                        batch,
                        pieces,
                    );
                } else {
                    mul_into(&mut rest[0], &ws.dbar[l], &ws.deriv[l]);
                    mul_into(&mut rrest[0], &tw.rdbar[l], &ws.deriv[l]);
                }
                if curved_l && moving {
                    add_mul3(&mut rrest[0], &ws.dbar[l], &ws.curv[l], &tw.ra[l]);
                }
            }
            if curved_l {
                let g = ws.dh[l + 1].as_slice();
                let rg = tw.rdh[l + 1].as_slice();
                let c = ws.curv[l].as_slice();
                let t3 = tw.third[l].as_slice();
                let ra = tw.ra[l].as_slice();
                let db = ws.dbar[l].as_slice();
                let rdb = tw.rdbar[l].as_slice();
                for (i, a) in ws.abar[l].as_mut_slice().iter_mut().enumerate() {
                    *a = db[i] * g[i] * c[i];
                }
                for (i, a) in tw.rabar[l].as_mut_slice().iter_mut().enumerate() {
                    *a = (rdb[i] * g[i] + db[i] * rg[i]) * c[i];
                }
                if moving {
                    for (i, a) in tw.rabar[l].as_mut_slice().iter_mut().enumerate() {
                        *a += db[i] * g[i] * t3[i] * ra[i];
                    }
                }
            } else if curved {
                ws.abar[l].fill(T::zero());
                tw.rabar[l].fill(T::zero());
            }
        }
        if !curved {
            return;
        }
        for l in (0..n).rev() {
            let s = &self.layers()[l];
            let (w, b) = self.layout(l);
            if l + 1 < n {
                add_mul(&mut ws.abar[l], &ws.dbar[l], &ws.deriv[l]);
                add_mul(&mut tw.rabar[l], &tw.rdbar[l], &ws.deriv[l]);
                if !ws.curv[l].is_empty() && moving {
                    add_mul3(&mut tw.rabar[l], &ws.dbar[l], &ws.curv[l], &tw.ra[l]);
                }
            }
            gemm(
                T::one(),
                View::of(&ws.h[l]).t(),
                View::of(&tw.rabar[l]),
                T::one(),
                &mut dgrad[w..b],
                s.fan_in,
                s.fan_out,
            );
            if (l > 0 || tw.input_live) && moving {
                gemm(
                    T::one(),
                    View::of(&tw.rh[l]).t(),
                    View::of(&ws.abar[l]),
                    T::one(),
                    &mut dgrad[w..b],
                    s.fan_in,
                    s.fan_out,
                );
            }
            add_column_sums(&tw.rabar[l], &mut dgrad[b..b + s.fan_out], batch);
            if l > 0 {
                let wt = View::col_major(&params[w..b], s.fan_in, s.fan_out).t();
                let (lo, _) = ws.dbar.split_at_mut(l);
                gemm_into(
                    T::one(),
                    View::of(&ws.abar[l]),
                    wt,
                    T::zero(),
                    &mut lo[l - 1],
                );
                let (rlo, _) = tw.rdbar.split_at_mut(l);
                gemm_into(
                    T::one(),
                    View::of(&tw.rabar[l]),
                    wt,
                    T::zero(),
                    &mut rlo[l - 1],
                );
                if let Some(dp) = dparams {
                    gemm_into(
                        T::one(),
                        View::of(&ws.abar[l]),
                        View::col_major(&dp[w..b], s.fan_in, s.fan_out).t(),
                        T::one(),
                        &mut rlo[l - 1],
                    );
                }
            }
        }
    }
}
