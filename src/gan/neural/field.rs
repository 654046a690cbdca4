//! The players' gradients on the drawn batch (D and Q, then G, with the penalties and
//! the generator objective), and the neural GAN as a [`Game`]: its field, products and
//! batch draws.

use nalgebra::DMatrix;
use rand::RngExt;

use super::*;
use crate::datasets::{DataSampler, Latent};
use crate::game::{Game, JVP_FD_STEP, JvpMethod, Player, central_jvp};
use crate::gan::loss::categorical_cross_entropy;
use crate::gan::penalty::Penalty;
use crate::linalg::{Rng, Vector, rng};
use crate::nn::{Float, LayerKind, Mlp, Mode, Workspace};

impl<T: Float> NeuralGan<T> {
    /// Draws into `batch`: for the generator only its randomness (z, codes, G's dropout
    /// masks), which is all a generator update uses; otherwise real data first, then
    /// the generator's part, then ε and D's mask seed.
    fn draw(
        data: &DataSampler,
        latent: &Latent,
        info: Option<InfoGanTerm>,
        batch: &mut Batch<T>,
        for_player: Option<Player>,
        rng: &mut Rng,
    ) {
        let full = for_player != Some(Player::Generator);
        if full {
            data.sample_into(rng, &mut batch.real);
        }
        latent.sample_into(rng, &mut batch.z);
        if let Some(info) = info {
            let b = batch.z.nrows();
            let off = latent.dim;
            for i in 0..b {
                let c = rng.random_range(0..info.categories);
                batch.codes[i] = c;
                for j in 0..info.categories {
                    batch.z[(i, off + j)] = if j == c { T::one() } else { T::zero() };
                }
            }
        }
        batch.g_mask_seed = rng.random();
        if full {
            for e in &mut batch.eps {
                *e = T::of(rng.random::<f64>());
            }
            batch.d_mask_seed = rng.random();
        }
    }

    /// G forward on the batch's z into `s.g` (training mode: dropout on).
    fn generate(&self, batch: &Batch<T>, theta: &[T], s: &mut Scratch<T>) {
        copy_into(s.g.input_mut(), &batch.z);
        if self.g.has_dropout() {
            self.g.draw_masks(&mut s.g, &mut rng(batch.g_mask_seed, 0));
        }
        self.g.forward(theta, &mut s.g, Mode::Train);
    }

    /// D's dropout masks for this batch: stream 0 for the stacked [real; fake] batch of
    /// L_D, 1 for the penalty points, 2 for the fakes of L_G (the tangent passes of
    /// [`crate::gan::jvp`] draw the same).
    fn d_masks(&self, batch: &Batch<T>, ws: &mut Workspace<T>, stream: u64) {
        if self.d.has_dropout() {
            self.d.draw_masks(ws, &mut rng(batch.d_mask_seed, stream));
        }
    }

    /// With spectral normalisation: runs the power iterations from the committed
    /// vectors into `s.sn`, writes Ŵ to `s.psi_hat` and σ̃ to `s.sigmas`, and returns
    /// true; false (and nothing done) without.
    fn normalise_d(&self, psi_d: &[T], s: &mut Scratch<T>) -> bool {
        let Some(opts) = self.options.spectral_norm else {
            return false;
        };
        {
            let st = lock(&self.state);
            match (&mut s.sn, st.sn.as_ref()) {
                (Some(dst), Some(src)) => dst.clone_from(src),
                (dst, src) => dst.clone_from(&src.cloned()),
            }
        }
        if let Some(sn) = s.sn.as_mut() {
            sn.apply(
                &self.d,
                psi_d,
                opts.iterations,
                &mut s.psi_hat,
                &mut s.sigmas,
            );
        }
        true
    }

    /// ∇_ψ L_D at (θ, ψ) on the current batch, **added** to `grad` (length |ψ|).
    ///
    /// # Panics
    /// If the slices have the wrong lengths (a programming error).
    #[allow(clippy::too_many_lines)]
    pub fn discriminator_gradient(
        &self,
        theta: &[T],
        psi: &[T],
        s: &mut Scratch<T>,
        grad: &mut [T],
    ) -> DStats {
        let b = self.batch_size();
        let m = self.pack();
        let nd = self.d.n_params();
        let (psi_d, psi_q) = psi.split_at(nd);
        let (grad_d, grad_q) = grad.split_at_mut(nd);
        let batch = lock(&self.batch);
        self.generate(&batch, theta, s);
        let sn = self.normalise_d(psi_d, s);
        let psi_hat = std::mem::take(&mut s.psi_hat);
        let mut grad_hat = std::mem::take(&mut s.grad_hat);
        let (dpsi, dgrad): (&[T], &mut [T]) = if sn {
            grad_hat.fill(T::zero());
            (&psi_hat, &mut grad_hat)
        } else {
            (psi_d, grad_d)
        };
        // Stack [real; fake] (packed) into one 2B batch: one gemm per layer for both.
        pack_into(s.d2.input_mut(), 0, &batch.real, 0..b, m);
        pack_into(s.d2.input_mut(), b, s.g.output(), 0..b, m);
        self.d_masks(&batch, &mut s.d2, 0);
        self.d.forward(dpsi, &mut s.d2, Mode::Train);
        let target = 1.0 - self.objective.label_smoothing;
        let stats = {
            let logits = s.d2.output().as_slice();
            let mut seed = std::mem::take(&mut s.grad);
            seed.resize(2 * b, T::zero());
            let (sr, sf) = seed.split_at_mut(b);
            let st = self
                .objective
                .loss
                .discriminator(&logits[..b], &logits[b..], target, sr, sf);
            s.d2.output_grad_mut().as_mut_slice().copy_from_slice(&seed);
            s.grad = seed;
            st
        };
        self.d.backward(dpsi, &mut s.d2, Some(&mut *dgrad), false);
        let mut out = DStats {
            loss: stats.loss,
            penalty: 0.0,
            info: 0.0,
            d_real: stats.d_real,
            d_fake: stats.d_fake,
            sigma_min: f64::NAN,
            sigma_max: f64::NAN,
        };
        let pen = self.objective.penalty;
        if pen.is_active() {
            {
                let fake = s.g.output();
                let x = s.d1.input_mut();
                let dx = self.data.dim();
                for k in 0..m {
                    for j in 0..dx {
                        for i in 0..b {
                            let (r, f) = (batch.real[(i * m + k, j)], fake[(i * m + k, j)]);
                            x[(i, k * dx + j)] = match pen {
                                Penalty::GradientPenalty { .. } => {
                                    let e = batch.eps[i];
                                    e * r + (T::one() - e) * f
                                }
                                Penalty::R2 { .. } => f,
                                _ => r,
                            };
                        }
                    }
                }
            }
            self.d_masks(&batch, &mut s.d1, 1);
            self.d.forward(dpsi, &mut s.d1, Mode::Train);
            self.d.input_gradient(dpsi, &mut s.d1);
            copy_into(&mut s.gpen, s.d1.input_grad());
            let p = pen.value_and_seed(&s.gpen, s.d1.penalty_seed_mut());
            self.d.penalty_backward(dpsi, &mut s.d1, dgrad);
            out.penalty = p;
            out.loss += p;
        }
        if sn {
            if let Some(st) = s.sn.as_ref() {
                st.pullback(&self.d, &psi_hat, &s.sigmas, &grad_hat, grad_d);
            }
            out.sigma_min = s.sigmas.iter().copied().fold(f64::INFINITY, f64::min);
            out.sigma_max = s.sigmas.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        }
        s.psi_hat = psi_hat;
        s.grad_hat = grad_hat;
        if let (Some(qn), Some(info), Some(qws)) = (&self.q, self.objective.info, s.q.as_mut()) {
            copy_into(qws.input_mut(), s.g.output());
            qn.forward(psi_q, qws, Mode::Train);
            let mut seed = std::mem::take(&mut s.grad);
            seed.resize(b * m * info.categories, T::zero());
            let ce = categorical_cross_entropy(
                qws.output().as_slice(),
                b * m,
                &batch.codes,
                info.lambda,
                &mut seed,
            );
            qws.output_grad_mut().as_mut_slice().copy_from_slice(&seed);
            s.grad = seed;
            qn.backward(psi_q, qws, Some(grad_q), false);
            out.info = ce;
            out.loss += info.lambda * ce;
        }
        out
    }

    /// ∇_θ L_G at (θ, ψ) on the current batch, **added** to `grad` (length |θ|), for
    /// the game's generator objective ([`NeuralGan::generator_objective`]).
    ///
    /// # Panics
    /// If the slices have the wrong lengths (a programming error).
    pub fn generator_gradient(
        &self,
        theta: &[T],
        psi: &[T],
        s: &mut Scratch<T>,
        grad: &mut [T],
    ) -> GStats {
        if let Some(stats) = self.objective_generator_gradient(theta, psi, &mut s.objective, grad) {
            return stats;
        }
        let b = self.batch_size();
        let m = self.pack();
        let nd = self.d.n_params();
        let (psi_d, psi_q) = psi.split_at(nd);
        let batch = lock(&self.batch);
        self.generate(&batch, theta, s);
        let sn = self.normalise_d(psi_d, s);
        let psi_hat = std::mem::take(&mut s.psi_hat);
        let dpsi: &[T] = if sn { &psi_hat } else { psi_d };
        pack_into(s.d1.input_mut(), 0, s.g.output(), 0..b, m);
        self.d_masks(&batch, &mut s.d1, 2);
        self.d.forward(dpsi, &mut s.d1, Mode::Train);
        let mut seed = std::mem::take(&mut s.grad);
        seed.resize(b, T::zero());
        let mut loss = self
            .objective
            .loss
            .generator(s.d1.output().as_slice(), &mut seed);
        s.d1.output_grad_mut().as_mut_slice().copy_from_slice(&seed);
        self.d.backward(dpsi, &mut s.d1, None, true);
        s.psi_hat = psi_hat;
        unpack_into(&mut s.dfake, s.d1.input_grad(), m);
        let mut info_loss = 0.0;
        if let (Some(qn), Some(info), Some(qws)) = (&self.q, self.objective.info, s.q.as_mut()) {
            copy_into(qws.input_mut(), s.g.output());
            qn.forward(psi_q, qws, Mode::Train);
            seed.resize(b * m * info.categories, T::zero());
            info_loss = categorical_cross_entropy(
                qws.output().as_slice(),
                b * m,
                &batch.codes,
                info.lambda,
                &mut seed,
            );
            qws.output_grad_mut().as_mut_slice().copy_from_slice(&seed);
            qn.backward(psi_q, qws, None, true);
            s.dfake += qws.input_grad();
            loss += info.lambda * info_loss;
        }
        s.grad = seed;
        copy_into(s.g.output_grad_mut(), &s.dfake);
        self.g.backward(theta, &mut s.g, Some(grad), false);
        GStats {
            loss,
            info: info_loss,
        }
    }

    /// Weight clipping of ψ_D (the Q network is not clipped).
    pub fn clip(&self, psi: &mut [T]) {
        if let Some(c) = self.objective.weight_clip {
            let (lo, hi) = (T::of(-c), T::of(c));
            for v in &mut psi[..self.d.n_params()] {
                *v = if *v < lo {
                    lo
                } else if *v > hi {
                    hi
                } else {
                    *v
                };
            }
        }
    }

    /// G's samples for the latent rows in `z` (evaluation mode: no dropout; batch norm
    /// with the latest running statistics).
    #[must_use]
    pub fn sample_generator(&self, theta: &[T], z: &DMatrix<T>) -> DMatrix<T> {
        let mut ws = self.g.workspace(z.nrows());
        if self.g.has_batch_norm() {
            ws.set_running_stats(lock(&self.state).latest_bn());
        }
        self.g.forward_from(theta, z, &mut ws, Mode::Eval);
        ws.output().clone()
    }

    /// D's output (σ(logit), or the critic value for WGAN) at the rows of `x`
    /// (evaluation mode: minibatch features of each row alone). With spectral
    /// normalisation D uses Ŵ = W/σ̃ with σ̃ = aᵀWb from the latest vectors, without
    /// iterating (PyTorch's evaluation mode). With pack m, D reads each row repeated m
    /// times (a pack of m copies of the point).
    #[must_use]
    pub fn evaluate_discriminator(&self, psi: &[T], x: &DMatrix<T>) -> Vec<f64> {
        let m = self.pack();
        let psi_d = &psi[..self.d.n_params()];
        let mut hat = Vec::new();
        if self.options.spectral_norm.is_some()
            && let Some(mut st) = lock(&self.state).latest_sn().cloned()
        {
            hat = vec![T::zero(); psi_d.len()];
            let mut sig = vec![0.0; st.vectors.len()];
            st.apply(&self.d, psi_d, 0, &mut hat, &mut sig);
        }
        let dpsi: &[T] = if hat.is_empty() { psi_d } else { &hat };
        let mut ws = self.d.workspace(x.nrows());
        if m == 1 {
            ws.input_mut().copy_from(x);
        } else {
            let d = x.ncols();
            let input = ws.input_mut();
            for k in 0..m {
                input.columns_mut(k * d, d).copy_from(x);
            }
        }
        self.d.forward(dpsi, &mut ws, Mode::Eval);
        ws.output()
            .iter()
            .map(|l| {
                if self.objective.loss.uses_sigmoid() {
                    crate::nn::sigmoid(*l).f64()
                } else {
                    l.f64()
                }
            })
            .collect()
    }

    fn field_blocks(&self, x: &Vector, want_g: bool, want_d: bool) -> Vector {
        let (ng, nd) = (self.n_generator(), self.n_discriminator());
        let mut guard = lock(&self.scratch);
        let s = &mut *guard;
        let (xg, xd) = x.as_slice().split_at(ng);
        let mut theta = std::mem::take(&mut s.theta);
        let mut psi = std::mem::take(&mut s.psi);
        let mut grad_theta = std::mem::take(&mut s.grad_theta);
        let mut grad_psi = std::mem::take(&mut s.grad_psi);
        round_into(&mut theta, xg);
        round_into(&mut psi, xd);
        // v = −∇L (zero for a block not asked for), with ‖∇L‖ for the log.
        let mut v = Vec::with_capacity(ng + nd);
        if want_g {
            grad_theta.fill(T::zero());
            s.last.g = self.generator_gradient(&theta, &psi, s, &mut grad_theta);
            s.last.grad_norm_g = negate_extend(&mut v, &grad_theta);
            s.last.g_evals += 1;
        } else {
            v.resize(ng, 0.0);
        }
        if want_d {
            grad_psi.fill(T::zero());
            s.last.d = self.discriminator_gradient(&theta, &psi, s, &mut grad_psi);
            s.last.grad_norm_d = negate_extend(&mut v, &grad_psi);
            s.last.d_evals += 1;
        } else {
            v.resize(ng + nd, 0.0);
        }
        let v = Vector::from_vec(v);
        s.theta = theta;
        s.psi = psi;
        s.grad_theta = grad_theta;
        s.grad_psi = grad_psi;
        // The run state this evaluation would leave, committed at the next draw.
        if self.g.has_batch_norm() || (want_d && s.sn.is_some()) {
            let mut st = lock(&self.state);
            if self.g.has_batch_norm() {
                let mut next = st.bn.clone();
                self.g.update_running_stats(&s.g, &mut next);
                st.bn_pending = Some(next);
            }
            if want_d {
                st.sn_pending.clone_from(&s.sn);
            }
        }
        v
    }
}

impl<T: Float> Game for NeuralGan<T> {
    fn name(&self) -> &'static str {
        "neural"
    }
    fn dim(&self) -> usize {
        self.n_generator() + self.n_discriminator()
    }
    fn split(&self) -> usize {
        self.n_generator()
    }
    /// v(x) = (−∇_θ L_G, −∇_ψ L_D) on the current batch.
    fn field(&self, x: &Vector) -> Vector {
        self.field_blocks(x, true, true)
    }
    /// Only the requested block is computed (one backward pass instead of two).
    fn player_field(&self, x: &Vector, player: Player) -> Vector {
        match player {
            Player::Generator => self.field_blocks(x, true, false),
            Player::Discriminator => self.field_blocks(x, false, true),
        }
    }
    /// Exact J·u by forward-mode differentiation through the backward passes
    /// (Pearlmutter's R-operator, [`crate::gan::jvp`]), penalties included, when
    /// [`NeuralGan::has_exact_products`]; otherwise (batch norm, minibatch
    /// discrimination, spectral normalisation) central differences of the field.
    fn jvp(&self, x: &Vector, u: &Vector) -> Vector {
        if self.has_exact_products() {
            self.exact_jvp(x, u)
        } else {
            assert!(
                x.len() == self.dim() && u.len() == self.dim(),
                "jvp: length ≠ dim"
            );
            central_jvp(|y| self.field(y), x, u)
        }
    }
    /// Exact, in the network precision T (an f32 game differentiates its f32 passes),
    /// or central differences (see [`Game::jvp`]).
    fn jvp_method(&self) -> JvpMethod {
        if self.has_exact_products() {
            JvpMethod::Exact
        } else {
            JvpMethod::CentralDifference { step: JVP_FD_STEP }
        }
    }
    /// H·w computing only the requested player's block: exact, or central differences
    /// of that player's field (as [`Game::jvp`]).
    fn hessian_vp(&self, x: &Vector, player: Player, w: &Vector) -> Vector {
        if self.has_exact_products() {
            return self.exact_hessian_vp(x, player, w);
        }
        let r = player.range(self.split(), self.dim());
        assert!(
            x.len() == self.dim() && w.len() == r.len(),
            "hessian_vp: length mismatch"
        );
        let mut u = Vector::zeros(self.dim());
        u.rows_mut(r.start, r.len()).copy_from(w);
        let ju = central_jvp(|y| self.player_field(y, player), x, &u);
        -ju.rows(r.start, r.len())
    }
    /// Draws the next batch, first committing the run state of the latest evaluation
    /// (module docs).
    fn draw_batch(&self, for_player: Option<Player>, rng: &mut Rng) {
        lock(&self.state).commit();
        let mut batch = lock(&self.batch);
        Self::draw(
            &self.data,
            &self.latent,
            self.objective.info,
            &mut batch,
            for_player,
            rng,
        );
    }
    fn project(&self, x: &mut Vector) {
        if let Some(c) = self.objective.weight_clip {
            let ng = self.n_generator();
            for v in x.iter_mut().skip(ng).take(self.d.n_params()) {
                *v = v.clamp(-c, c);
            }
        }
    }
    fn nonsmooth_at(&self, _x: &Vector) -> Option<String> {
        let layers = || self.g.layers().iter().chain(self.d.layers());
        let kinked = layers().any(|l| {
            matches!(
                l.activation,
                crate::nn::Activation::Relu | crate::nn::Activation::LeakyRelu { .. }
            )
        });
        let selecting = layers().any(|l| {
            matches!(
                l.kind,
                LayerKind::Maxout { .. } | LayerKind::Minibatch { .. }
            )
        });
        if kinked {
            Some("ReLU-type activations: the field is only piecewise smooth".to_string())
        } else {
            selecting.then(|| {
                "maxout units or L1 kernels: the field is only piecewise smooth".to_string()
            })
        }
    }
    fn params(&self) -> serde_json::Value {
        let mut p = serde_json::json!({
            "generator": self.g.layers(),
            "discriminator": self.d.layers(),
            "q": self.q.as_ref().map(Mlp::layers),
            "objective": self.objective,
            "generator_objective": self.generator,
            "latent": self.latent,
            "dataset": self.data.spec(),
            "batch_size": self.batch_size(),
        });
        if self.options != GanOptions::default() {
            p["options"] = serde_json::json!(self.options);
        }
        p
    }
}
