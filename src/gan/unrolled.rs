//! The unrolled-GAN generator objective (Metz, Poole, Pfau & Sohl-Dickstein 2017,
//! "Unrolled generative adversarial networks", §2): the generator's loss is taken
//! against the discriminator after k look-ahead steps of D's loss from the current ψ,
//!
//! ψ₀ = ψ,  ψ_{j+1} = ψ_j − η ∇_ψ L_D(θ, ψ_j)  (j = 0 … k−1),  L̃_G(θ, ψ) = L_G(θ, ψ_k(θ, ψ)),
//!
//! all on the current batch (the real rows, the latents and D's dropout masks of the
//! batch; the fakes G(z; θ) are the same at every step since θ does not move). The
//! real discriminator update is unchanged: only the generator's field block becomes
//! −∇_θ L̃_G, a deterministic function of x = (θ, ψ) on the drawn batch, so the
//! unrolled GAN is a [`crate::game::Game`] like the plain one.
//!
//! # The look-ahead optimiser: plain gradient steps (a documented simplification)
//! Metz et al. unroll D's own optimiser (Adam) with its state copied; their released
//! 2-D notebook (poolio/unrolled_gan) differentiates through Keras' Adam updates with
//! D's lr 1e-4. Here the look-ahead takes plain gradient steps with step size η
//! (`unroll.lr`, default D's learning rate), because the field must be a function of
//! x alone: the Adam state is not part of x, and a look-ahead that read it would make
//! the generator's field depend on the optimiser's history, so it would no longer be
//! a field of the game. η is a setting, not D's Adam step: one Adam step moves every
//! coordinate by about lr whatever the gradient's size, a gradient step by η·|∂L_D|,
//! so equal numbers are not equal look-aheads (the `stabilisers` study says which η it
//! uses and why).
//!
//! # The gradient through the look-ahead (second derivatives, exact)
//! With λ_k = ∇_ψ L_G(θ, ψ_k), reverse accumulation through the k steps gives
//!
//! dL̃_G/dθ = ∂_θ L_G(θ, ψ_k) − η Σ_{j<k} ∂²L_D/∂θ∂ψ(θ, ψ_j) · λ_{j+1},
//! λ_j = (I − η H_ψψ(θ, ψ_j)) λ_{j+1},
//!
//! since ∂ψ_{j+1}/∂ψ_j = I − η H_ψψ and ∂ψ_{j+1}/∂θ = −η ∂²L_D/∂ψ∂θ (the Hessian is
//! symmetric where L_D is twice differentiable). Both products are exact, from one
//! tangent (forward-mode, Pearlmutter's R-operator, [`crate::nn::Tangent`]) pass of D's
//! gradient along the parameter direction λ at ψ_j:
//!
//! * R{∇_ψ L_D} along (0, λ) is H_ψψ λ: [`crate::nn::Mlp::forward_tangent`] with direction λ and
//!   no input tangent, the seed's tangent R{sᵢ} = ℓ″(lᵢ) R{lᵢ}
//!   ([`crate::gan::GanLoss::discriminator_curvature`]), then
//!   [`crate::nn::Mlp::backward_tangent`] into the parameters;
//! * the same backward tangent gives R{∂L_D/∂x} for every input row. L_D depends on θ
//!   only through the fake rows x = G(z; θ), and R{∂L_D/∂x} = ∂/∂x (λᵀ∇_ψ L_D) (mixed
//!   partials commute), so the mixed term is ∂²L_D/∂θ∂ψ·λ = J_Gᵀ R{∂L_D/∂x_fake}.
//!   Every θ-term therefore enters through ∂/∂fake: the k mixed terms and
//!   ∂L_G/∂fake at ψ_k are summed into one matrix, and a single backward pass of G
//!   gives dL̃_G/dθ.
//!
//! No finite differences are involved; the f64 check against central differences of
//! L̃_G is in the tests (relative error below [`crate::gan`]'s gradient-check
//! tolerance 1e-6). At a ReLU kink the derivative is the one-sided one the primal pass
//! uses, as everywhere in the neural engine.
//!
//! # The cheaper variant
//! With `backprop = false` the look-ahead is the same but ψ_k is treated as a
//! constant: the field is −∂_θ L_G(θ, ψ_k), no tangent pass (the variant that many
//! re-implementations use, labelled "no backprop through the look-ahead" in the
//! configuration and the logs). k = 0 is the adversarial loss, computed by the same
//! passes in the same order, so it equals the plain GAN bit for bit (tested).
//!
//! # Cost
//! Per generator evaluation: one G forward and backward, k forward and backward passes
//! of D on the 2B stacked rows, one D pass on the B fakes, and with backprop k tangent
//! passes (each about twice a primal pass). The k workspaces of D are kept for the
//! reverse sweep (k × the D workspace of the discriminator update).

use nalgebra::DMatrix;

use super::generator_objective::Unroll;
use super::neural::{Batch, GStats, NeuralGan, copy_into};
use crate::linalg::rng;
use crate::nn::{Float, Mode, Tangent, Workspace};

/// Buffers of the unrolled objective for one game (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct UnrollScratch<T: Float> {
    steps: usize,
    backprop: bool,
    batch: usize,
    /// G on the B latent rows.
    g: Workspace<T>,
    /// D on the stacked [real; fake] rows at ψ_j: one per step with backprop (the
    /// reverse sweep reads them), otherwise one reused.
    d2: Vec<Workspace<T>>,
    /// Tangent buffers of D on the stacked rows (backprop only).
    tw: Option<Tangent<T>>,
    /// D on the B fakes at ψ_k.
    d1: Workspace<T>,
    /// ψ_D at look-ahead steps 0 … k.
    psi: Vec<Vec<T>>,
    /// ∇_ψ L_D at the current step.
    grad: Vec<T>,
    /// λ_j and H_ψψ λ_j.
    lambda: Vec<T>,
    hlam: Vec<T>,
    /// ∂L_D/∂l (2B), ℓ″ (2B), ∂L_G/∂l (B).
    seed_d: Vec<T>,
    curv: Vec<T>,
    seed_g: Vec<T>,
    /// The seed of G's backward pass: ∂L̃_G/∂fake.
    dfake: DMatrix<T>,
}

impl<T: Float> UnrollScratch<T> {
    pub(crate) fn new(gan: &NeuralGan<T>, u: &Unroll) -> Self {
        let b = gan.batch_size();
        let nd = gan.d.n_params();
        let stored = if u.backprop { u.steps } else { 1 };
        UnrollScratch {
            steps: u.steps,
            backprop: u.backprop,
            batch: b,
            g: gan.g.workspace(b),
            d2: (0..stored).map(|_| gan.d.workspace(2 * b)).collect(),
            tw: (u.backprop && u.steps > 0).then(|| gan.d.tangent(2 * b, false)),
            d1: gan.d.workspace(b),
            psi: vec![vec![T::zero(); nd]; u.steps + 1],
            grad: vec![T::zero(); nd],
            lambda: vec![T::zero(); nd],
            hlam: vec![T::zero(); nd],
            seed_d: vec![T::zero(); 2 * b],
            curv: vec![T::zero(); 2 * b],
            seed_g: vec![T::zero(); b],
            dfake: DMatrix::zeros(b, gan.data.dim()),
        }
    }

    pub(crate) fn fits(&self, gan: &NeuralGan<T>, u: &Unroll) -> bool {
        self.steps == u.steps && self.backprop == u.backprop && self.batch == gan.batch_size()
    }
}

/// `x ← [real; fake]` (2B rows, column-major), one copy per column.
fn stack<T: Float>(x: &mut DMatrix<T>, real: &DMatrix<T>, fake: &DMatrix<T>) {
    let b = real.nrows();
    for j in 0..real.ncols() {
        let col = &mut x.as_mut_slice()[j * 2 * b..(j + 1) * 2 * b];
        col[..b].copy_from_slice(&real.as_slice()[j * b..(j + 1) * b]);
        col[b..].copy_from_slice(&fake.as_slice()[j * b..(j + 1) * b]);
    }
}

impl<T: Float> NeuralGan<T> {
    /// D's forward and backward pass of L_D on the stacked rows in `ws` at `psi_d`:
    /// the gradient ∇_ψ L_D into `grad` (overwritten), the seeds in `seed`.
    fn look_ahead_gradient(
        &self,
        batch: &Batch<T>,
        psi_d: &[T],
        ws: &mut Workspace<T>,
        seed: &mut [T],
        grad: &mut [T],
    ) {
        let b = self.batch_size();
        if self.d.has_dropout() {
            // Stream 0: the masks of the discriminator's own update on this batch.
            self.d.draw_masks(ws, &mut rng(batch.d_mask_seed, 0));
        }
        self.d.forward(psi_d, ws, Mode::Train);
        {
            let logits = ws.output().as_slice();
            let (sr, sf) = seed.split_at_mut(b);
            self.objective.loss.discriminator(
                &logits[..b],
                &logits[b..],
                1.0 - self.objective.label_smoothing,
                sr,
                sf,
            );
        }
        ws.output_grad_mut().as_mut_slice().copy_from_slice(seed);
        grad.fill(T::zero());
        self.d.backward(psi_d, ws, Some(grad), false);
    }

    /// ψ_D after `u.steps` look-ahead steps from `psi` at generator θ on the current
    /// batch (the ψ_k of the module docs), in network precision.
    #[must_use]
    pub fn look_ahead(&self, u: &Unroll, theta: &[T], psi: &[T]) -> Vec<T> {
        let u = Unroll {
            backprop: false,
            ..*u
        };
        let mut s = UnrollScratch::new(self, &u);
        let batch = self.batch();
        self.generate_into(&batch, theta, &mut s.g);
        self.unroll_forward(&u, &batch, psi, &mut s);
        s.psi.pop().unwrap_or_default()
    }

    /// G forward on the batch's latents (training mode, G's dropout masks of the
    /// batch), as the adversarial generator pass does it.
    fn generate_into(&self, batch: &Batch<T>, theta: &[T], g: &mut Workspace<T>) {
        copy_into(g.input_mut(), &batch.z);
        if self.g.has_dropout() {
            self.g.draw_masks(g, &mut rng(batch.g_mask_seed, 0));
        }
        self.g.forward(theta, g, Mode::Train);
    }

    /// The look-ahead ψ₀ … ψ_k into `s.psi` (G's forward pass must be in `s.g`).
    fn unroll_forward(&self, u: &Unroll, batch: &Batch<T>, psi: &[T], s: &mut UnrollScratch<T>) {
        let nd = self.d.n_params();
        s.psi[0].copy_from_slice(&psi[..nd]);
        let eta = T::of(u.lr);
        for j in 0..u.steps {
            let ws = &mut s.d2[if u.backprop { j } else { 0 }];
            stack(ws.input_mut(), &batch.real, s.g.output());
            self.look_ahead_gradient(batch, &s.psi[j], ws, &mut s.seed_d, &mut s.grad);
            let (done, next) = s.psi.split_at_mut(j + 1);
            for ((n, p), g) in next[0].iter_mut().zip(&done[j]).zip(&s.grad) {
                *n = *p - eta * *g;
            }
        }
    }

    /// ∇_θ L̃_G **added** to `grad` (with `u.backprop`, through the look-ahead; see the
    /// module docs), and L̃_G = L_G(θ, ψ_k).
    pub(super) fn unrolled_generator_gradient(
        &self,
        u: &Unroll,
        batch: &Batch<T>,
        theta: &[T],
        psi: &[T],
        s: &mut UnrollScratch<T>,
        grad: &mut [T],
    ) -> GStats {
        let k = u.steps;
        self.generate_into(batch, theta, &mut s.g);
        self.unroll_forward(u, batch, psi, s);
        // L_G at ψ_k on the fakes (D's mask stream 2, as the adversarial pass).
        copy_into(s.d1.input_mut(), s.g.output());
        if self.d.has_dropout() {
            self.d.draw_masks(&mut s.d1, &mut rng(batch.d_mask_seed, 2));
        }
        self.d.forward(&s.psi[k], &mut s.d1, Mode::Train);
        let loss = self
            .objective
            .loss
            .generator(s.d1.output().as_slice(), &mut s.seed_g);
        s.d1.output_grad_mut()
            .as_mut_slice()
            .copy_from_slice(&s.seed_g);
        let through = u.backprop && k > 0;
        if through {
            s.lambda.fill(T::zero());
        }
        self.d.backward(
            &s.psi[k],
            &mut s.d1,
            through.then_some(&mut s.lambda[..]),
            true,
        );
        copy_into(&mut s.dfake, s.d1.input_grad());
        if through && let Some(tw) = s.tw.as_mut() {
            self.unroll_reverse(
                u,
                (&s.d2, &s.psi),
                tw,
                ReverseBuffers {
                    lambda: &mut s.lambda,
                    hlam: &mut s.hlam,
                    curv: &mut s.curv,
                    dfake: &mut s.dfake,
                },
            );
        }
        copy_into(s.g.output_grad_mut(), &s.dfake);
        self.g.backward(theta, &mut s.g, Some(grad), false);
        GStats { loss, info: 0.0 }
    }

    /// The reverse sweep j = k−1 … 0: ∂L̃_G/∂fake −= η R{∂L_D/∂fake}(ψ_j; λ_{j+1}) and
    /// λ_j = λ_{j+1} − η H_ψψ(ψ_j) λ_{j+1} (module docs).
    fn unroll_reverse(
        &self,
        u: &Unroll,
        (d2, psi): (&[Workspace<T>], &[Vec<T>]),
        tw: &mut Tangent<T>,
        r: ReverseBuffers<'_, T>,
    ) {
        let b = self.batch_size();
        let eta = T::of(u.lr);
        for j in (0..u.steps).rev() {
            let ws = &d2[j];
            self.d
                .forward_tangent(&psi[j], Some(&r.lambda[..]), ws, tw, false);
            {
                let logits = ws.output().as_slice();
                let (cr, cf) = r.curv.split_at_mut(b);
                self.objective
                    .loss
                    .discriminator_curvature(&logits[..b], &logits[b..], cr, cf);
                let (rl, rs) = tw.output_and_seed_mut();
                for ((o, &c), &l) in rs
                    .as_mut_slice()
                    .iter_mut()
                    .zip(r.curv.iter())
                    .zip(rl.as_slice())
                {
                    *o = c * l;
                }
            }
            r.hlam.fill(T::zero());
            self.d.backward_tangent(
                &psi[j],
                Some(&r.lambda[..]),
                ws,
                tw,
                Some(&mut r.hlam[..]),
                true,
            );
            let rx = tw.input_grad();
            for col in 0..r.dfake.ncols() {
                for i in 0..b {
                    r.dfake[(i, col)] -= eta * rx[(b + i, col)];
                }
            }
            if j > 0 {
                for (l, h) in r.lambda.iter_mut().zip(r.hlam.iter()) {
                    *l -= eta * *h;
                }
            }
        }
    }
}

/// The buffers the reverse sweep writes.
struct ReverseBuffers<'a, T> {
    lambda: &'a mut [T],
    hlam: &'a mut [T],
    curv: &'a mut [T],
    dfake: &'a mut DMatrix<T>,
}

#[cfg(test)]
mod tests;
