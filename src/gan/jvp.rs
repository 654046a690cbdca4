//! Exact Jacobian-vector and Hessian-vector products of a neural GAN's field.
//!
//! With v(x) = (−∇_θ L_G, −∇_ψ L_D) on the current batch, J·u = −R{(∇_θ L_G, ∇_ψ L_D)}
//! where R{f} = d/dε f(x + εu)|ε=0 is Pearlmutter's R-operator (Pearlmutter 1994,
//! "Fast exact multiplication by the Hessian"): every pass of the field evaluation of
//! [`NeuralGan`] is differentiated forward along u by the tangent passes of
//! [`crate::nn::Tangent`]:
//!
//! * G: fake = G(z; θ), R{fake} from the forward tangent along u_θ;
//! * generator row: D on the fakes (input tangent R{fake}, parameter tangent u_D),
//!   the seed of L_G per logit and its tangent ∂²L_G/∂l²·R{l}
//!   ([`GanLoss::generator_curvature`]), D's input gradient and its tangent, plus
//!   InfoGAN's Q term, then G's backward tangent gives R{∇_θ L_G};
//! * discriminator row: D on [real; fake] (input tangent [0; R{fake}]), the seeds of
//!   L_D and their tangents ([`GanLoss::discriminator_curvature`]; label smoothing
//!   changes only the first derivative), D's backward tangent gives R{∇_ψD L_D}; the
//!   penalty at x̂ (R{x̂} = (1 − ε)R{fake} for WGAN-GP, R{fake} for R2, 0 for R1) by the
//!   tangents of the input gradient, of the penalty seed ([`Penalty::seed_tangent`]) and
//!   of double backprop ([`crate::nn::Mlp::penalty_tangent`]); and Q's term
//!   λ_I·L_CE ([`categorical_cross_entropy_tangent`]).
//!
//! Dropout masks are those of the field evaluation (the same seeds and streams), fixed
//! for the batch, so the product is the derivative of exactly the field
//! [`Game::field`] computes. At a ReLU kink the derivative is the one-sided one the
//! primal pass uses (σ′(0) = 0).
//!
//! # Penalties are exact too
//! R1, R2 and WGAN-GP need third derivatives of the network (the tangent of double
//! backprop). They are derived exactly rather than by central differences, because
//! for ReLU networks (gan-vis, the study's WGAN-GP and R1 runs) a difference step
//! crosses some of the B·Σ widths kinks at a large batch, and that error (the size of
//! one sample's jump in J·u, ~1/B relative) does not shrink with the step and makes
//! the product non-linear in u, which stalls Krylov solvers. The cost is the penalty's
//! double-backprop pass twice over (its products doubled, plus σ‴ for curved σ).
//!
//! # Cost
//! Each product of the field evaluation becomes two (the primal pass is recomputed
//! each time, and its parameter gradients are skipped). A Hessian-vector product of
//! one player skips what does not reach its block: H_D·w needs no G tangent (the
//! fakes do not move) and no generator row; H_G·w no discriminator row.

use nalgebra::DMatrix;

use super::loss::{categorical_cross_entropy, categorical_cross_entropy_tangent};
use super::neural::{NeuralGan, copy_into, lock};
use super::penalty::Penalty;
use crate::game::Player;
use crate::linalg::Vector;
use crate::nn::{Float, Mlp, Mode, Tangent, Workspace};

/// Buffers of the tangent passes of one [`NeuralGan`] (built on the first product,
/// kept for the next ones; a separate set from the training scratch).
#[derive(Debug)]
pub(crate) struct TangentScratch<T: Float> {
    /// G on the latent batch.
    g: Pass<T>,
    /// D on the fakes, for L_G (mask stream 2).
    dg: Pass<T>,
    /// D on the stacked [real; fake], for L_D (mask stream 0).
    d2: Pass<T>,
    /// D at the penalty points (mask stream 1).
    dp: Option<Pass<T>>,
    /// Q on the fakes (InfoGAN).
    q: Option<Pass<T>>,
    /// Per-logit seed buffers.
    seed: Vec<T>,
    curv: Vec<T>,
    /// ∂L_G/∂fake and its tangent (B × data dim).
    dfake: DMatrix<T>,
    rdfake: DMatrix<T>,
    /// ∇ₓD at the penalty points and its tangent.
    gpen: DMatrix<T>,
    rgpen: DMatrix<T>,
    theta: Vec<T>,
    psi: Vec<T>,
    u_theta: Vec<T>,
    u_psi: Vec<T>,
    /// R{∇_θ L_G} and R{∇_ψ L_D}.
    r_theta: Vec<T>,
    r_psi: Vec<T>,
}

/// One network's primal workspace and tangent buffers.
#[derive(Debug)]
struct Pass<T: Float> {
    ws: Workspace<T>,
    tw: Tangent<T>,
}

impl<T: Float> Pass<T> {
    fn new(net: &Mlp, batch: usize, double_backprop: bool) -> Self {
        Pass {
            ws: net.workspace(batch),
            tw: net.tangent(batch, double_backprop),
        }
    }
}

/// Which blocks of the direction are non-zero and which rows of J·u are wanted.
#[derive(Debug, Clone, Copy)]
struct Blocks {
    /// u_θ ≠ 0 (then the fakes move).
    live_g: bool,
    /// u_ψD ≠ 0.
    live_d: bool,
    /// u_ψQ ≠ 0.
    live_q: bool,
    /// Compute R{∇_θ L_G}.
    want_g: bool,
    /// Compute R{∇_ψ L_D}.
    want_d: bool,
}

impl<T: Float> TangentScratch<T> {
    fn new(gan: &NeuralGan<T>) -> Self {
        let b = gan.batch_size();
        let dx = gan.data.dim();
        let z = |n: usize| vec![T::zero(); n];
        TangentScratch {
            g: Pass::new(&gan.g, b, false),
            dg: Pass::new(&gan.d, b, false),
            d2: Pass::new(&gan.d, 2 * b, false),
            dp: gan
                .objective
                .penalty
                .is_active()
                .then(|| Pass::new(&gan.d, b, true)),
            q: gan.q.as_ref().map(|q| Pass::new(q, b, false)),
            seed: z(2 * b * gan.q.as_ref().map_or(1, |q| q.output_dim().max(1))),
            curv: z(2 * b),
            dfake: DMatrix::zeros(b, dx),
            rdfake: DMatrix::zeros(b, dx),
            gpen: DMatrix::zeros(b, dx),
            rgpen: DMatrix::zeros(b, dx),
            theta: z(gan.n_generator()),
            psi: z(gan.n_discriminator()),
            u_theta: z(gan.n_generator()),
            u_psi: z(gan.n_discriminator()),
            r_theta: z(gan.n_generator()),
            r_psi: z(gan.n_discriminator()),
        }
    }
}

/// `dst ← src` converted to `T`.
fn convert<T: Float>(dst: &mut [T], src: &[f64]) {
    dst.iter_mut().zip(src).for_each(|(d, s)| *d = T::of(*s));
}

/// R{l} ← c ⊙ R{l}: the seed's tangent from the loss curvature and the logits' tangent.
fn scale_rows<T: Float>(out: &mut DMatrix<T>, c: &[T], r: &[T]) {
    for ((o, &ci), &ri) in out.as_mut_slice().iter_mut().zip(c).zip(r) {
        *o = ci * ri;
    }
}

impl<T: Float> NeuralGan<T> {
    /// Exact J·u (see the module docs); the implementation of [`crate::game::Game::jvp`].
    ///
    /// # Panics
    /// If `x` or `u` does not have length dim (a programming error).
    #[must_use]
    pub fn exact_jvp(&self, x: &Vector, u: &Vector) -> Vector {
        let n = self.n_generator() + self.n_discriminator();
        assert!(x.len() == n && u.len() == n, "jvp: length ≠ dim");
        let ng = self.n_generator();
        let (r_theta, r_psi) = self.gradient_tangents(x, u, true, true);
        let mut out = Vector::zeros(n);
        for (o, r) in out.iter_mut().zip(r_theta.iter().chain(&r_psi)) {
            *o = -*r;
        }
        debug_assert_eq!(r_theta.len(), ng);
        out
    }

    /// Exact H_G·w = ∇²_θ L_G·w or H_D·w = ∇²_ψ L_D·w; the implementation of
    /// [`crate::game::Game::hessian_vp`]. Only that player's row is computed, and for
    /// H_D no generator tangent (the fakes do not move).
    ///
    /// # Panics
    /// If `x` does not have length dim or `w` the player's length.
    #[must_use]
    pub fn exact_hessian_vp(&self, x: &Vector, player: Player, w: &Vector) -> Vector {
        let (ng, nd) = (self.n_generator(), self.n_discriminator());
        let r = player.range(ng, ng + nd);
        assert!(
            x.len() == ng + nd && w.len() == r.len(),
            "hessian_vp: length mismatch"
        );
        let mut u = Vector::zeros(ng + nd);
        u.rows_mut(r.start, r.len()).copy_from(w);
        let want_g = player == Player::Generator;
        let (r_theta, r_psi) = self.gradient_tangents(x, &u, want_g, !want_g);
        Vector::from_vec(if want_g { r_theta } else { r_psi })
    }

    /// (R{∇_θ L_G}, R{∇_ψ L_D}) at x along u, in f64; a row that is not wanted is
    /// returned as zeros.
    fn gradient_tangents(
        &self,
        x: &Vector,
        u: &Vector,
        want_g: bool,
        want_d: bool,
    ) -> (Vec<f64>, Vec<f64>) {
        let ng = self.n_generator();
        let nd = self.d.n_params();
        let (xg, xd) = x.as_slice().split_at(ng);
        let (ug, ud) = u.as_slice().split_at(ng);
        let blocks = Blocks {
            live_g: ug.iter().any(|v| *v != 0.0),
            live_d: ud[..nd].iter().any(|v| *v != 0.0),
            live_q: ud[nd..].iter().any(|v| *v != 0.0),
            want_g,
            want_d,
        };
        let mut guard = lock(&self.tangent);
        let ts = guard.get_or_insert_with(|| Box::new(TangentScratch::new(self)));
        convert(&mut ts.theta, xg);
        convert(&mut ts.psi, xd);
        convert(&mut ts.u_theta, ug);
        convert(&mut ts.u_psi, ud);
        ts.r_theta.fill(T::zero());
        ts.r_psi.fill(T::zero());
        self.tangents_into(ts, blocks);
        let out = |r: &[T]| r.iter().map(|v| v.f64()).collect::<Vec<f64>>();
        (out(&ts.r_theta), out(&ts.r_psi))
    }

    /// The passes of the module docs, accumulating into `ts.r_theta` and `ts.r_psi`.
    fn tangents_into(&self, ts: &mut TangentScratch<T>, k: Blocks) {
        let batch = lock(&self.batch);
        let nd = self.d.n_params();
        let TangentScratch {
            g,
            dg,
            d2,
            dp,
            q,
            seed,
            curv,
            dfake,
            rdfake,
            gpen,
            rgpen,
            theta,
            psi,
            u_theta,
            u_psi,
            r_theta,
            r_psi,
        } = ts;
        let (psi_d, psi_q) = psi.split_at(nd);
        let (u_d, u_q) = u_psi.split_at(nd);
        let (r_psi_d, r_psi_q) = r_psi.split_at_mut(nd);
        let u_theta = k.live_g.then_some(&u_theta[..]);
        let u_d = k.live_d.then_some(u_d);
        let u_q = k.live_q.then_some(u_q);
        let b = self.batch_size();
        let loss = self.objective.loss;

        // G forward and its tangent: fake and R{fake}.
        self.generate(&batch, theta, &mut g.ws);
        self.g.forward_tangent(theta, u_theta, &g.ws, &mut g.tw, false);
        let fake = g.ws.output();
        let rfake = g.tw.output();

        if k.want_g {
            // D on the fakes, seeds of L_G and their tangents.
            copy_into(dg.ws.input_mut(), fake);
            self.d_masks(&batch, &mut dg.ws, 2);
            self.d.forward(psi_d, &mut dg.ws, Mode::Train);
            if k.live_g {
                copy_into(dg.tw.input_mut(), rfake);
            }
            self.d.forward_tangent(psi_d, u_d, &dg.ws, &mut dg.tw, k.live_g);
            let logits = dg.ws.output().as_slice();
            loss.generator(logits, &mut seed[..b]);
            loss.generator_curvature(logits, &mut curv[..b]);
            let (rl, rseed) = dg.tw.output_and_seed_mut();
            scale_rows(rseed, &curv[..b], rl.as_slice());
            dg.ws
                .output_grad_mut()
                .as_mut_slice()
                .copy_from_slice(&seed[..b]);
            self.d.backward(psi_d, &mut dg.ws, None, true);
            self.d
                .backward_tangent(psi_d, u_d, &dg.ws, &mut dg.tw, None, true);
            copy_into(dfake, dg.ws.input_grad());
            copy_into(rdfake, dg.tw.input_grad());
        }
        if let (Some(qn), Some(info), Some(qp)) = (&self.q, self.objective.info, q.as_mut()) {
            // λ_I·L_CE on the fakes: both players descend it, so one backward pass gives
            // G's input gradient and Q's parameter gradient.
            copy_into(qp.ws.input_mut(), fake);
            qn.forward(psi_q, &mut qp.ws, Mode::Train);
            if k.live_g {
                copy_into(qp.tw.input_mut(), rfake);
            }
            qn.forward_tangent(psi_q, u_q, &qp.ws, &mut qp.tw, k.live_g);
            let kq = info.categories;
            let logits = qp.ws.output().as_slice();
            categorical_cross_entropy(logits, b, &batch.codes, info.lambda, &mut seed[..b * kq]);
            let (rl, rseed) = qp.tw.output_and_seed_mut();
            categorical_cross_entropy_tangent(
                logits,
                b,
                rl.as_slice(),
                info.lambda,
                rseed.as_mut_slice(),
            );
            qp.ws
                .output_grad_mut()
                .as_mut_slice()
                .copy_from_slice(&seed[..b * kq]);
            qn.backward(psi_q, &mut qp.ws, None, k.want_g);
            qn.backward_tangent(
                psi_q,
                u_q,
                &qp.ws,
                &mut qp.tw,
                k.want_d.then_some(&mut r_psi_q[..]),
                k.want_g,
            );
            if k.want_g {
                *dfake += qp.ws.input_grad();
                *rdfake += qp.tw.input_grad();
            }
        }
        if k.want_g {
            copy_into(g.ws.output_grad_mut(), dfake);
            self.g.backward(theta, &mut g.ws, None, false);
            copy_into(g.tw.output_grad_mut(), rdfake);
            self.g
                .backward_tangent(theta, u_theta, &g.ws, &mut g.tw, Some(r_theta), false);
        }
        if !k.want_d {
            return;
        }
        let fake = g.ws.output();
        let rfake = g.tw.output();
        // D on [real; fake]: input tangent [0; R{fake}].
        let dxdim = self.data.dim();
        {
            let x = d2.ws.input_mut();
            for j in 0..dxdim {
                let col = &mut x.as_mut_slice()[j * 2 * b..(j + 1) * 2 * b];
                col[..b].copy_from_slice(&batch.real.as_slice()[j * b..(j + 1) * b]);
                col[b..].copy_from_slice(&fake.as_slice()[j * b..(j + 1) * b]);
            }
        }
        self.d_masks(&batch, &mut d2.ws, 0);
        self.d.forward(psi_d, &mut d2.ws, Mode::Train);
        if k.live_g {
            let x = d2.tw.input_mut();
            for j in 0..dxdim {
                let col = &mut x.as_mut_slice()[j * 2 * b..(j + 1) * 2 * b];
                col[..b].fill(T::zero());
                col[b..].copy_from_slice(&rfake.as_slice()[j * b..(j + 1) * b]);
            }
        }
        self.d.forward_tangent(psi_d, u_d, &d2.ws, &mut d2.tw, k.live_g);
        {
            let logits = d2.ws.output().as_slice();
            let target = 1.0 - self.objective.label_smoothing;
            let (sr, sf) = seed[..2 * b].split_at_mut(b);
            loss.discriminator(&logits[..b], &logits[b..], target, sr, sf);
            let (cr, cf) = curv[..2 * b].split_at_mut(b);
            loss.discriminator_curvature(&logits[..b], &logits[b..], cr, cf);
        }
        let (rl, rseed) = d2.tw.output_and_seed_mut();
        scale_rows(rseed, &curv[..2 * b], rl.as_slice());
        d2.ws
            .output_grad_mut()
            .as_mut_slice()
            .copy_from_slice(&seed[..2 * b]);
        self.d.backward(psi_d, &mut d2.ws, None, false);
        self.d
            .backward_tangent(psi_d, u_d, &d2.ws, &mut d2.tw, Some(r_psi_d), false);

        let pen = self.objective.penalty;
        let moves = k.live_g && !matches!(pen, Penalty::R1 { .. });
        if let Some(dp) = dp.as_mut().filter(|_| pen.is_active() && (moves || k.live_d)) {
            // The penalty points and their tangents (R1's real points do not move).
            {
                let x = dp.ws.input_mut();
                for j in 0..dxdim {
                    for i in 0..b {
                        let (r, f) = (batch.real[(i, j)], fake[(i, j)]);
                        x[(i, j)] = match pen {
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
            if moves {
                let x = dp.tw.input_mut();
                for j in 0..dxdim {
                    for i in 0..b {
                        x[(i, j)] = match pen {
                            Penalty::GradientPenalty { .. } => {
                                (T::one() - batch.eps[i]) * rfake[(i, j)]
                            }
                            _ => rfake[(i, j)],
                        };
                    }
                }
            }
            self.d_masks(&batch, &mut dp.ws, 1);
            self.d.forward(psi_d, &mut dp.ws, Mode::Train);
            self.d.input_gradient(psi_d, &mut dp.ws);
            copy_into(gpen, dp.ws.input_grad());
            pen.value_and_seed(gpen, dp.ws.penalty_seed_mut());
            {
                self.d.forward_tangent(psi_d, u_d, &dp.ws, &mut dp.tw, moves);
                dp.tw.output_grad_mut().fill(T::zero());
                self.d
                    .backward_tangent(psi_d, u_d, &dp.ws, &mut dp.tw, None, true);
                copy_into(rgpen, dp.tw.input_grad());
                pen.seed_tangent(gpen, rgpen, dp.tw.penalty_seed_mut());
                self.d
                    .penalty_tangent(psi_d, u_d, &mut dp.ws, &mut dp.tw, r_psi_d);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::RngExt;

    use super::*;
    use crate::datasets::{Dataset, Latent, LatentKind};
    use crate::game::Game;
    use crate::gan::{GanLoss, InfoGanTerm, Objective};
    use crate::linalg::{Matrix, central_jacobian, rng};
    use crate::nn::Activation;

    /// Relative error allowed between an exact product and central differences in
    /// f64, ‖a − fd‖ / max(‖a‖, ‖fd‖), as for the gradient checks: the differences
    /// are accurate to ~1e-9 relative (truncation h²·|v‴|, rounding ε·|v|/h).
    const JVP_TOL: f64 = 1e-6;
    /// Relative step of the directional differences in these checks: the perturbation
    /// h·u has norm `FD_ETA`·max(1, ‖x‖). Smaller than the library's ε^(1/3) so that
    /// a ReLU unit within h·|R{A}| of its kink (where differences are wrong by the
    /// jump, not by h²) is ~60× less likely; rounding stays ~ε/η ≈ 1e-9 relative.
    const FD_ETA: f64 = 1e-7;

    const ACTS: [Activation; 5] = [
        Activation::Linear,
        Activation::Relu,
        Activation::LeakyRelu { slope: 0.2 },
        Activation::Tanh,
        Activation::Sigmoid,
    ];
    const LOSSES: [GanLoss; 3] = [
        GanLoss::Minimax,
        GanLoss::NonSaturating,
        GanLoss::Wasserstein,
    ];

    fn rel_err(a: &Vector, b: &Vector) -> f64 {
        (a - b).norm() / a.norm().max(b.norm()).max(1e-12)
    }

    fn objective(loss: GanLoss, penalty: Penalty, smoothing: f64, info: bool) -> Objective {
        Objective {
            loss,
            penalty,
            label_smoothing: smoothing,
            weight_clip: None,
            info: info.then_some(InfoGanTerm {
                categories: 3,
                lambda: 0.7,
            }),
        }
    }

    /// A small GAN at a random point x with a random direction u. Every parameter,
    /// biases included, is uniform in (−1, 1), so no ReLU unit sits on its kink.
    fn small_gan(
        objective: Objective,
        act: Activation,
        (g_keep, d_keep): (f64, f64),
        seed: u64,
    ) -> (NeuralGan<f64>, Vector, Vector) {
        let k = objective.info.map_or(0, |i| i.categories);
        let latent = Latent {
            kind: LatentKind::Gaussian,
            dim: 3,
        };
        let g = Mlp::new(&[3 + k, 6, 5, 2], act, Activation::Linear, g_keep).unwrap();
        let d = Mlp::new(&[2, 7, 5, 1], act, Activation::Linear, d_keep).unwrap();
        let q = objective
            .info
            .map(|i| Mlp::new(&[2, 4, i.categories], act, Activation::Linear, 1.0).unwrap());
        let mut r = rng(seed, 0);
        let data = Dataset::Ring {
            modes: 3,
            radius: 1.0,
            std: 0.3,
            weights: None,
        }
        .build()
        .unwrap();
        let gan = NeuralGan::new(g, d, q, objective, latent, data, 5, &mut r).unwrap();
        let n = gan.dim();
        let x = Vector::from_fn(n, |_, _| r.random_range(-1.0..1.0));
        let u = Vector::from_fn(n, |_, _| r.random_range(-1.0..1.0));
        (gan, x, u)
    }

    /// (v(x + h u) − v(x − h u)) / 2h with ‖h u‖ = FD_ETA·max(1, ‖x‖).
    fn fd_jvp(gan: &NeuralGan<f64>, x: &Vector, u: &Vector) -> Vector {
        let h = FD_ETA * x.norm().max(1.0) / u.norm();
        (gan.field(&(x + u * h)) - gan.field(&(x - u * h))) / (2.0 * h)
    }

    fn check_directional(gan: &NeuralGan<f64>, x: &Vector, u: &Vector, what: &str) {
        let exact = gan.jvp(x, u);
        let fd = fd_jvp(gan, x, u);
        let err = rel_err(&exact, &fd);
        eprintln!("{what}: {err:e} {}", fd.norm());
        assert!(err < JVP_TOL, "{what}: relative error {err:e}");
        assert!(fd.norm() > 1e-3, "{what}: the product is trivially small");
    }

    #[test]
    fn exact_jvp_matches_differences_for_every_loss_activation_and_smoothing() {
        for (li, &loss) in LOSSES.iter().enumerate() {
            for (ai, &act) in ACTS.iter().enumerate() {
                for smoothing in [0.0, 0.1] {
                    let o = objective(loss, Penalty::None, smoothing, false);
                    let (gan, x, u) = small_gan(o, act, (1.0, 1.0), (10 * li + ai) as u64);
                    check_directional(&gan, &x, &u, &format!("{loss:?} {act:?} α={smoothing}"));
                }
            }
        }
    }

    #[test]
    fn exact_jvp_matches_differences_with_infogan_and_dropout() {
        for (ai, &act) in ACTS.iter().enumerate() {
            for (info, keep) in [
                (true, (1.0, 1.0)),
                (false, (0.5, 1.0)),
                (true, (0.5, 1.0)),
                (false, (1.0, 0.6)),
            ] {
                let o = objective(GanLoss::NonSaturating, Penalty::None, 0.1, info);
                let (gan, x, u) = small_gan(o, act, keep, 100 + ai as u64);
                check_directional(&gan, &x, &u, &format!("{act:?} info={info} keep={keep:?}"));
            }
        }
    }

    const PENALTIES: [Penalty; 3] = [
        Penalty::GradientPenalty { lambda: 10.0 },
        Penalty::R1 { gamma: 3.0 },
        Penalty::R2 { gamma: 0.5 },
    ];

    #[test]
    fn exact_jvp_with_penalties_matches_the_dense_central_jacobian() {
        for (pi, &pen) in PENALTIES.iter().enumerate() {
            for (ai, &act) in ACTS.iter().enumerate() {
                let loss = LOSSES[(pi + ai) % 3];
                // InfoGAN with tanh, dropout in both networks with sigmoid (σ‴ under a mask).
                let o = objective(loss, pen, 0.1, ai == 3);
                let keep = if ai == 4 { (0.7, 0.6) } else { (1.0, 1.0) };
                let (gan, x, u) = small_gan(o, act, keep, (200 + 10 * pi + ai) as u64);
                let dense: Matrix = central_jacobian(|y| gan.field(y), &x);
                let err = rel_err(&gan.jvp(&x, &u), &(&dense * &u));
                eprintln!("{pen:?} {act:?} {loss:?}: {err:e}");
                assert!(err < JVP_TOL, "{pen:?} {act:?} {loss:?}: {err:e}");
            }
        }
    }

    #[test]
    fn hessian_vector_products_match_the_dense_jacobian_blocks() {
        for (pi, &pen) in [Penalty::None, PENALTIES[0], PENALTIES[1]].iter().enumerate() {
            for &act in &[Activation::Tanh, Activation::LeakyRelu { slope: 0.2 }] {
                let o = objective(GanLoss::NonSaturating, pen, 0.0, pi == 1);
                let (gan, x, u) = small_gan(o, act, (1.0, 0.7), 300 + pi as u64);
                let dense: Matrix = central_jacobian(|y| gan.field(y), &x);
                let (ng, n) = (gan.split(), gan.dim());
                for (player, r) in [(Player::Generator, 0..ng), (Player::Discriminator, ng..n)] {
                    let w = u.rows(r.start, r.len()).into_owned();
                    let block = dense.view((r.start, r.start), (r.len(), r.len()));
                    let want = -(block * &w);
                    let got = gan.hessian_vp(&x, player, &w);
                    let err = rel_err(&got, &want);
                    assert!(err < JVP_TOL, "{pen:?} {act:?} {player:?}: {err:e}");
                    // The same block through the full product J·(w, 0) or J·(0, w).
                    let mut e = Vector::zeros(n);
                    e.rows_mut(r.start, r.len()).copy_from(&w);
                    let full = -gan.jvp(&x, &e).rows(r.start, r.len()).into_owned();
                    assert!(rel_err(&got, &full) < 1e-12, "{player:?} block vs full");
                }
            }
        }
    }
}
