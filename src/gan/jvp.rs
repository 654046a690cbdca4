//! Exact Jacobian-vector and Hessian-vector products of a neural GAN's field.
//!
//! With v(x) = (−∇_θ L_G, −∇_ψ L_D) on the current batch, J·u = −R{(∇_θ L_G, ∇_ψ L_D)}
//! where R{f} = d/dε f(x + εu)|ε=0 is Pearlmutter's R-operator (Pearlmutter 1994,
//! "Fast exact multiplication by the Hessian"): every pass of the field evaluation of
//! [`NeuralGan`] is differentiated forward along u by the tangent passes of
//! [`crate::nn::Tangent`]:
//!
//! * G: fake = G(z; θ), R{fake} from the forward tangent along u_θ;
//! * D on the stacked [real; fake] (input tangent [0; R{fake}], parameter tangent u_D),
//!   the per-logit seeds of L_D and L_G and their tangents R{sᵢ} = ℓ″(lᵢ)·R{lᵢ}
//!   ([`crate::gan::GanLoss::discriminator_curvature`],
//!   [`crate::gan::GanLoss::generator_curvature`]; label
//!   smoothing changes only the first derivative). D has one output, so
//!   backpropagation of a seed s is diag(s) times that of the unit seed: one backward
//!   pass and its tangent from the seed 1 give both D's parameter-gradient tangent
//!   ([`Mlp::seeded_gradient_tangent`]) and the tangent of G's input seed
//!   ∂L_G/∂fake (when D has dropout, the generator's loss uses other masks, and a
//!   separate pass on the fakes does it);
//! * InfoGAN's λ_I·L_CE on the fakes ([`categorical_cross_entropy_tangent`]): both
//!   players descend it, so one backward tangent gives Q's parameter tangent and its
//!   part of R{∂L_G/∂fake};
//! * G's backward tangent from R{∂L_G/∂fake} gives R{∇_θ L_G};
//! * the penalty at x̂ (R{x̂} = (1 − ε)R{fake} for WGAN-GP, R{fake} for R2, 0 for R1)
//!   by the tangents of the input gradient, of the penalty seed
//!   ([`Penalty::seed_tangent`]) and of double backprop
//!   ([`Mlp::penalty_tangent`]).
//!
//! Dropout masks are those of the field evaluation (the same seeds and streams), fixed
//! for the batch, so the product is the derivative of exactly the field that
//! [`crate::game::Game::field`] computes. At a ReLU kink the derivative is the
//! one-sided one the primal pass uses (σ′(0) = 0).
//!
//! # Penalties are exact too
//! R1, R2 and WGAN-GP need third derivatives of the network (the tangent of double
//! backprop). They are derived exactly rather than by central differences, because
//! for ReLU networks (gan-vis, the WGAN-GP and R1 runs of the spectra study) a
//! difference step crosses some of the B·Σ widths kinks at a large batch; that error
//! (the size of one sample's jump in J·u, ~1/B relative) does not shrink with the step
//! and makes the product non-linear in u, which stalls Krylov solvers. The cost is the
//! penalty's double-backprop pass twice over (its products doubled, plus σ‴ for curved σ).
//!
//! # Cost, caching and threads
//! Each product of the field evaluation becomes two. The primal passes (forward
//! values, σ′, the backward passes' δ, the seeds) depend on x and the batch only: they
//! are kept after a product and reused while x and the batch are unchanged, which is
//! how Krylov solvers call it (hundreds of products at one point); the first product
//! at a new point costs about 1.5 times a later one. A Hessian-vector product skips
//! what does not reach its block: H_D·w needs no generator row and no G tangent (the
//! fakes do not move), H_G·w no discriminator row. For the gan-vis GAN (ReLU, no
//! penalty) a product costs about 1.1 field evaluations, H_G·w 0.6 and H_D·w 0.8
//! ([`crate::gan::bench::bench_jvp`]).
//!
//! The batch is processed in blocks of [`JVP_BLOCK_ROWS`] rows, in parallel on rayon's
//! pool (every pass is row-wise except the parameter-gradient sums); the blocks'
//! partial sums are added in block order, so the result does not depend on the number
//! of threads. Blocks of a few hundred rows also keep each pass's buffers in cache:
//! measured on gan-vis at batch 4096 (one thread), blocks of 128, 256 and 512 rows
//! took 38–42 ms per product and one block of 4096 rows 51 ms.
//!
//! The buffers (as large as the training scratch again, ~300 MB for gan-vis with a
//! penalty at batch 4096) are built on the first product and kept with the game. One
//! game's products are serialised by a lock held across the parallel passes, so a
//! game must not be used for products from several rayon tasks at once (a worker
//! waiting inside the lock could pick up the other task and block on the lock); give
//! each concurrent analysis its own game, as for training.

use std::ops::Range;

use nalgebra::DMatrix;
use rayon::prelude::*;

use super::loss::{categorical_cross_entropy, categorical_cross_entropy_tangent};
use super::neural::{Batch, NeuralGan, Objective, copy_into, lock};
use super::penalty::Penalty;
use crate::game::Player;
use crate::linalg::{Vector, rng};
use crate::nn::{Float, Mlp, Mode, Tangent, Workspace};

/// Rows of the batch per block of the tangent passes. 256 rows keep a block's
/// buffers (about a dozen 512 × 50 f64 matrices for D on [real; fake]) near the size
/// of a core's L2 cache, while the products stay large enough for the gemm kernel.
pub const JVP_BLOCK_ROWS: usize = 256;

/// Buffers and cached primal passes of the tangent products of one [`NeuralGan`]
/// (built on the first product; a separate set from the training scratch).
#[derive(Debug)]
pub(crate) struct TangentScratch<T: Float> {
    blocks: Vec<Block<T>>,
    /// What the buffers were built for (rebuilt if the game was changed since).
    built_for: Shape,
    /// The point and batch of the primal passes held in the blocks.
    key: Option<(Vec<f64>, Batch<T>)>,
    theta: Vec<T>,
    psi: Vec<T>,
    u_theta: Vec<T>,
    u_psi: Vec<T>,
}

/// The parts of the game the buffers depend on.
#[derive(Debug, Clone, PartialEq)]
struct Shape {
    g: Mlp,
    d: Mlp,
    q: Option<Mlp>,
    objective: Objective,
    batch: usize,
}

/// One block of rows: the primal workspaces and tangent buffers of every pass.
#[derive(Debug)]
struct Block<T: Float> {
    rows: Range<usize>,
    /// G on the latent rows.
    g: Pass<T>,
    /// D on [real; fake] rows (mask stream 0).
    d2: Pass<T>,
    /// D on the fakes for L_G (mask stream 2), only when D has dropout.
    dg: Option<Pass<T>>,
    /// D at the penalty points (mask stream 1).
    dp: Option<Pass<T>>,
    /// Q on the fakes (InfoGAN).
    q: Option<Pass<T>>,
    /// ∂L_D/∂l and ∂²L_D/∂l² on [real; fake] (2 × rows).
    seed_d: Vec<T>,
    curv_d: Vec<T>,
    /// ∂L_G/∂l and ∂²L_G/∂l² on the fakes.
    seed_g: Vec<T>,
    curv_g: Vec<T>,
    /// λ_I·∂L_CE/∂q (rows × k).
    seed_q: Vec<T>,
    /// R{∂L_D/∂l}.
    rseed: Vec<T>,
    /// ∂L_G/∂fake and its tangent.
    dfake: DMatrix<T>,
    rdfake: DMatrix<T>,
    /// ∇ₓD at the penalty points and its tangent.
    gpen: DMatrix<T>,
    rgpen: DMatrix<T>,
    /// This block's R{∇_θ L_G} and R{∇_ψ L_D}.
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
    fn new(net: &Mlp, rows: usize, double_backprop: bool) -> Self {
        Pass {
            ws: net.workspace(rows),
            tw: net.tangent(rows, double_backprop),
        }
    }
}

/// The full-batch dropout masks of the field evaluation (empty without dropout).
struct Masks<T: Float> {
    g: Vec<DMatrix<T>>,
    d2: Vec<DMatrix<T>>,
    dg: Vec<DMatrix<T>>,
    dp: Vec<DMatrix<T>>,
}

/// Which blocks of the direction are non-zero and which rows of J·u are wanted.
#[derive(Debug, Clone, Copy)]
struct Want {
    /// u_θ ≠ 0 (then the fakes move).
    live_g: bool,
    /// u_ψD ≠ 0.
    live_d: bool,
    /// Compute R{∇_θ L_G}.
    g: bool,
    /// Compute R{∇_ψ L_D}.
    d: bool,
}

/// The direction's blocks in network precision (`None`: zero).
#[derive(Clone, Copy)]
struct Dir<'a, T> {
    theta: Option<&'a [T]>,
    d: Option<&'a [T]>,
    q: Option<&'a [T]>,
}

impl<T: Float> Block<T> {
    fn new(gan: &NeuralGan<T>, rows: Range<usize>) -> Self {
        let c = rows.len();
        let dx = gan.data.dim();
        let z = |n: usize| vec![T::zero(); n];
        let k = gan.q.as_ref().map_or(0, Mlp::output_dim);
        Block {
            g: Pass::new(&gan.g, c, false),
            d2: Pass::new(&gan.d, 2 * c, false),
            dg: gan.d.has_dropout().then(|| Pass::new(&gan.d, c, false)),
            dp: gan
                .objective
                .penalty
                .is_active()
                .then(|| Pass::new(&gan.d, c, true)),
            q: gan.q.as_ref().map(|q| Pass::new(q, c, false)),
            seed_d: z(2 * c),
            curv_d: z(2 * c),
            seed_g: z(c),
            curv_g: z(c),
            seed_q: z(c * k),
            rseed: z(2 * c),
            dfake: DMatrix::zeros(c, dx),
            rdfake: DMatrix::zeros(c, dx),
            gpen: DMatrix::zeros(c, dx),
            rgpen: DMatrix::zeros(c, dx),
            r_theta: z(gan.n_generator()),
            r_psi: z(gan.n_discriminator()),
            rows,
        }
    }
}

impl Shape {
    fn of<T: Float>(gan: &NeuralGan<T>) -> Self {
        Shape {
            g: gan.g.clone(),
            d: gan.d.clone(),
            q: gan.q.clone(),
            objective: gan.objective.clone(),
            batch: gan.batch_size(),
        }
    }
    fn fits<T: Float>(&self, gan: &NeuralGan<T>) -> bool {
        self.g == gan.g
            && self.d == gan.d
            && self.q == gan.q
            && self.objective == gan.objective
            && self.batch == gan.batch_size()
    }
}

impl<T: Float> TangentScratch<T> {
    fn new(gan: &NeuralGan<T>) -> Self {
        let b = gan.batch_size();
        let z = |n: usize| vec![T::zero(); n];
        TangentScratch {
            blocks: (0..b.div_ceil(JVP_BLOCK_ROWS))
                .map(|i| Block::new(gan, i * JVP_BLOCK_ROWS..((i + 1) * JVP_BLOCK_ROWS).min(b)))
                .collect(),
            built_for: Shape::of(gan),
            key: None,
            theta: z(gan.n_generator()),
            psi: z(gan.n_discriminator()),
            u_theta: z(gan.n_generator()),
            u_psi: z(gan.n_discriminator()),
        }
    }
}

/// `dst ← src` converted to `T`.
fn convert<T: Float>(dst: &mut [T], src: &[f64]) {
    dst.iter_mut().zip(src).for_each(|(d, s)| *d = T::of(*s));
}

/// Rows `rows` of `src` into `dst` from row `at` on (both column-major, same width).
fn copy_rows<T: Float>(dst: &mut DMatrix<T>, at: usize, src: &DMatrix<T>, rows: Range<usize>) {
    let (rd, rs) = (dst.nrows(), src.nrows());
    for j in 0..src.ncols() {
        dst.as_mut_slice()[j * rd + at..j * rd + at + rows.len()]
            .copy_from_slice(&src.as_slice()[j * rs + rows.start..j * rs + rows.end]);
    }
}

fn scale<T: Float>(v: &mut [T], f: T) {
    v.iter_mut().for_each(|x| *x *= f);
}

/// The penalty with its weight multiplied by `f`: [`Penalty::value_and_seed`] divides
/// by the rows it is given, so a block of c rows of a batch of B uses the weight·c/B.
fn scaled_penalty(p: Penalty, f: f64) -> Penalty {
    match p {
        Penalty::None => Penalty::None,
        Penalty::GradientPenalty { lambda } => Penalty::GradientPenalty { lambda: lambda * f },
        Penalty::R1 { gamma } => Penalty::R1 { gamma: gamma * f },
        Penalty::R2 { gamma } => Penalty::R2 { gamma: gamma * f },
    }
}

fn same_batch<T: Float>(a: &Batch<T>, b: &Batch<T>) -> bool {
    a.g_mask_seed == b.g_mask_seed
        && a.d_mask_seed == b.d_mask_seed
        && a.codes == b.codes
        && a.eps == b.eps
        && a.real == b.real
        && a.z == b.z
}

impl<T: Float> NeuralGan<T> {
    /// Exact J·u (see the module docs); the implementation of
    /// [`crate::game::Game::jvp`].
    ///
    /// # Panics
    /// If `x` or `u` does not have length dim (a programming error).
    #[must_use]
    pub fn exact_jvp(&self, x: &Vector, u: &Vector) -> Vector {
        let n = self.n_generator() + self.n_discriminator();
        assert!(x.len() == n && u.len() == n, "jvp: length ≠ dim");
        let (r_theta, r_psi) = self.gradient_tangents(x, u, true, true);
        Vector::from_iterator(n, r_theta.iter().chain(&r_psi).map(|r| -*r))
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
        let want = Want {
            live_g: ug.iter().any(|v| *v != 0.0),
            live_d: ud[..nd].iter().any(|v| *v != 0.0),
            g: want_g,
            d: want_d,
        };
        let live_q = ud[nd..].iter().any(|v| *v != 0.0);
        let mut guard = lock(&self.tangent);
        if guard.as_ref().is_none_or(|ts| !ts.built_for.fits(self)) {
            *guard = Some(Box::new(TangentScratch::new(self)));
        }
        let ts: &mut TangentScratch<T> =
            guard.get_or_insert_with(|| Box::new(TangentScratch::new(self)));
        let batch = lock(&self.batch);
        let TangentScratch {
            blocks,
            key,
            theta,
            psi,
            u_theta,
            u_psi,
            ..
        } = ts;
        if !key
            .as_ref()
            .is_some_and(|(kx, kb)| kx.as_slice() == x.as_slice() && same_batch(kb, &batch))
        {
            *key = None;
            convert(theta, xg);
            convert(psi, xd);
            let masks = self.full_masks(&batch);
            blocks
                .par_iter_mut()
                .for_each(|bl| self.primal_block(bl, &batch, theta, psi, &masks));
            *key = Some((x.as_slice().to_vec(), batch.clone()));
        }
        convert(u_theta, ug);
        convert(u_psi, ud);
        let (u_d, u_q) = u_psi.split_at(nd);
        let dir = Dir {
            theta: want.live_g.then_some(&u_theta[..]),
            d: want.live_d.then_some(u_d),
            q: live_q.then_some(u_q),
        };
        blocks.par_iter_mut().for_each(|bl| {
            bl.r_theta.fill(T::zero());
            bl.r_psi.fill(T::zero());
            self.tangent_block(bl, &batch, theta, psi, dir, want);
        });
        let mut r_theta = vec![0.0; ng];
        let mut r_psi = vec![0.0; self.n_discriminator()];
        for bl in blocks.iter() {
            for (o, v) in r_theta.iter_mut().zip(&bl.r_theta) {
                *o += v.f64();
            }
            for (o, v) in r_psi.iter_mut().zip(&bl.r_psi) {
                *o += v.f64();
            }
        }
        (r_theta, r_psi)
    }

    /// The masks of the field evaluation: G's from stream 0 of the batch's G seed, D's
    /// from streams 0 (stacked [real; fake], 2B rows), 1 (penalty points) and 2 (the
    /// fakes of L_G) of its D seed.
    fn full_masks(&self, batch: &Batch<T>) -> Masks<T> {
        let b = self.batch_size();
        let d = |rows: usize, stream: u64, on: bool| {
            if self.d.has_dropout() && on {
                self.d
                    .mask_matrices(rows, &mut rng(batch.d_mask_seed, stream))
            } else {
                Vec::new()
            }
        };
        Masks {
            g: if self.g.has_dropout() {
                self.g.mask_matrices(b, &mut rng(batch.g_mask_seed, 0))
            } else {
                Vec::new()
            },
            d2: d(2 * b, 0, true),
            dp: d(b, 1, self.objective.penalty.is_active()),
            dg: d(b, 2, true),
        }
    }

    /// The primal passes of one block: forward passes, seeds, loss curvatures and the
    /// backward passes whose δ the tangents need.
    #[allow(clippy::too_many_lines)]
    fn primal_block(
        &self,
        bl: &mut Block<T>,
        batch: &Batch<T>,
        theta: &[T],
        psi: &[T],
        masks: &Masks<T>,
    ) {
        let Block {
            rows,
            g,
            d2,
            dg,
            dp,
            q,
            seed_d,
            curv_d,
            seed_g,
            curv_g,
            seed_q,
            dfake,
            gpen,
            ..
        } = bl;
        let r = rows.clone();
        let c = r.len();
        let full = self.batch_size();
        let frac = c as f64 / full as f64;
        let (psi_d, psi_q) = psi.split_at(self.d.n_params());
        let loss = self.objective.loss;
        // Every seed is a mean over the B rows of the batch; the loss functions divide
        // by the c rows they see, so the block's seeds are scaled by c/B.
        let fr = T::of(frac);

        copy_rows(g.ws.input_mut(), 0, &batch.z, r.clone());
        if self.g.has_dropout() {
            g.ws.set_mask_rows(&masks.g, std::slice::from_ref(&r));
        }
        self.g.forward(theta, &mut g.ws, Mode::Train);
        let fake = g.ws.output();

        let input = d2.ws.input_mut();
        copy_rows(input, 0, &batch.real, r.clone());
        copy_rows(input, c, fake, 0..c);
        if self.d.has_dropout() {
            d2.ws
                .set_mask_rows(&masks.d2, &[r.clone(), full + r.start..full + r.end]);
        }
        self.d.forward(psi_d, &mut d2.ws, Mode::Train);
        {
            let l = d2.ws.output().as_slice();
            let target = 1.0 - self.objective.label_smoothing;
            let (sr, sf) = seed_d.split_at_mut(c);
            loss.discriminator(&l[..c], &l[c..], target, sr, sf);
            let (cr, cf) = curv_d.split_at_mut(c);
            loss.discriminator_curvature(&l[..c], &l[c..], cr, cf);
        }
        scale(seed_d, fr);
        scale(curv_d, fr);
        let dx = self.data.dim();
        if let Some(dg) = dg.as_mut() {
            // With dropout, L_G's pass on the fakes has its own masks: D's seeded
            // backward on [real; fake] and a separate pass on the fakes.
            d2.ws
                .output_grad_mut()
                .as_mut_slice()
                .copy_from_slice(seed_d);
            self.d.backward(psi_d, &mut d2.ws, None, false);
            copy_into(dg.ws.input_mut(), fake);
            dg.ws.set_mask_rows(&masks.dg, std::slice::from_ref(&r));
            self.d.forward(psi_d, &mut dg.ws, Mode::Train);
            let l = dg.ws.output().as_slice();
            loss.generator(l, seed_g);
            loss.generator_curvature(l, curv_g);
            scale(seed_g, fr);
            scale(curv_g, fr);
            dg.ws
                .output_grad_mut()
                .as_mut_slice()
                .copy_from_slice(seed_g);
            self.d.backward(psi_d, &mut dg.ws, None, true);
            copy_into(dfake, dg.ws.input_grad());
        } else {
            // One backward pass from the unit seed serves L_D and L_G (module docs).
            let l = &d2.ws.output().as_slice()[c..];
            loss.generator(l, seed_g);
            loss.generator_curvature(l, curv_g);
            scale(seed_g, fr);
            scale(curv_g, fr);
            d2.ws.output_grad_mut().fill(T::one());
            self.d.backward(psi_d, &mut d2.ws, None, true);
            let rho = d2.ws.input_grad();
            for j in 0..dx {
                for i in 0..c {
                    dfake[(i, j)] = seed_g[i] * rho[(c + i, j)];
                }
            }
        }
        if let (Some(qn), Some(info), Some(qp)) = (&self.q, self.objective.info, q.as_mut()) {
            copy_into(qp.ws.input_mut(), fake);
            qn.forward(psi_q, &mut qp.ws, Mode::Train);
            categorical_cross_entropy(
                qp.ws.output().as_slice(),
                c,
                &batch.codes[r.clone()],
                info.lambda * frac,
                seed_q,
            );
            qp.ws
                .output_grad_mut()
                .as_mut_slice()
                .copy_from_slice(seed_q);
            qn.backward(psi_q, &mut qp.ws, None, true);
            *dfake += qp.ws.input_grad();
        }
        if let Some(dp) = dp.as_mut() {
            let pen = self.objective.penalty;
            let x = dp.ws.input_mut();
            for j in 0..dx {
                for (i, row) in r.clone().enumerate() {
                    let (re, f) = (batch.real[(row, j)], fake[(i, j)]);
                    x[(i, j)] = match pen {
                        Penalty::GradientPenalty { .. } => {
                            let e = batch.eps[row];
                            e * re + (T::one() - e) * f
                        }
                        Penalty::R2 { .. } => f,
                        _ => re,
                    };
                }
            }
            if self.d.has_dropout() {
                dp.ws.set_mask_rows(&masks.dp, std::slice::from_ref(&r));
            }
            self.d.forward(psi_d, &mut dp.ws, Mode::Train);
            self.d.input_gradient(psi_d, &mut dp.ws);
            copy_into(gpen, dp.ws.input_grad());
            scaled_penalty(pen, frac).value_and_seed(gpen, dp.ws.penalty_seed_mut());
        }
        copy_into(g.ws.output_grad_mut(), dfake);
        self.g.backward(theta, &mut g.ws, None, false);
    }

    /// The tangent passes of one block, into its `r_theta` and `r_psi`.
    #[allow(clippy::too_many_lines)]
    fn tangent_block(
        &self,
        bl: &mut Block<T>,
        batch: &Batch<T>,
        theta: &[T],
        psi: &[T],
        dir: Dir<'_, T>,
        want: Want,
    ) {
        let Block {
            rows,
            g,
            d2,
            dg,
            dp,
            q,
            seed_d,
            curv_d,
            seed_g,
            curv_g,
            rseed,
            rdfake,
            gpen,
            rgpen,
            r_theta,
            r_psi,
            ..
        } = bl;
        let r = rows.clone();
        let c = r.len();
        let frac = c as f64 / self.batch_size() as f64;
        let nd = self.d.n_params();
        let (psi_d, psi_q) = psi.split_at(nd);
        let (r_psi_d, r_psi_q) = r_psi.split_at_mut(nd);
        let dx = self.data.dim();

        self.g
            .forward_tangent(theta, dir.theta, &g.ws, &mut g.tw, false);
        let rfake = g.tw.output();
        if want.live_g {
            let x = d2.tw.input_mut();
            for j in 0..dx {
                x.as_mut_slice()[j * 2 * c..j * 2 * c + c].fill(T::zero());
            }
            copy_rows(x, c, rfake, 0..c);
        }
        self.d
            .forward_tangent(psi_d, dir.d, &d2.ws, &mut d2.tw, want.live_g);
        if let Some(dg) = dg.as_mut() {
            if want.d {
                let (rl, rs) = d2.tw.output_and_seed_mut();
                seed_tangent(rs.as_mut_slice(), curv_d, rl.as_slice());
                self.d
                    .backward_tangent(psi_d, dir.d, &d2.ws, &mut d2.tw, Some(r_psi_d), false);
            }
            if want.g {
                if want.live_g {
                    copy_into(dg.tw.input_mut(), rfake);
                }
                self.d
                    .forward_tangent(psi_d, dir.d, &dg.ws, &mut dg.tw, want.live_g);
                let (rl, rs) = dg.tw.output_and_seed_mut();
                seed_tangent(rs.as_mut_slice(), curv_g, rl.as_slice());
                self.d
                    .backward_tangent(psi_d, dir.d, &dg.ws, &mut dg.tw, None, true);
                copy_into(rdfake, dg.tw.input_grad());
            }
        } else {
            d2.tw.output_grad_mut().fill(T::zero());
            self.d
                .backward_tangent(psi_d, dir.d, &d2.ws, &mut d2.tw, None, want.g);
            seed_tangent(rseed, curv_d, d2.tw.output().as_slice());
            if want.d {
                self.d
                    .seeded_gradient_tangent(&d2.ws, &mut d2.tw, seed_d, rseed, r_psi_d);
            }
            if want.g {
                // R{sᵢ ρᵢ} = R{sᵢ} ρᵢ + sᵢ R{ρᵢ} on the fake rows, ρ = ∂D/∂x.
                let rl = &d2.tw.output().as_slice()[c..];
                let (rho, rrho) = (d2.ws.input_grad(), d2.tw.input_grad());
                for j in 0..dx {
                    for i in 0..c {
                        rdfake[(i, j)] =
                            curv_g[i] * rl[i] * rho[(c + i, j)] + seed_g[i] * rrho[(c + i, j)];
                    }
                }
            }
        }
        if let (Some(qn), Some(info), Some(qp)) = (&self.q, self.objective.info, q.as_mut()) {
            if want.live_g {
                copy_into(qp.tw.input_mut(), rfake);
            }
            qn.forward_tangent(psi_q, dir.q, &qp.ws, &mut qp.tw, want.live_g);
            let (rl, rs) = qp.tw.output_and_seed_mut();
            categorical_cross_entropy_tangent(
                qp.ws.output().as_slice(),
                c,
                rl.as_slice(),
                info.lambda * frac,
                rs.as_mut_slice(),
            );
            qn.backward_tangent(
                psi_q,
                dir.q,
                &qp.ws,
                &mut qp.tw,
                want.d.then_some(&mut r_psi_q[..]),
                want.g,
            );
            if want.g {
                *rdfake += qp.tw.input_grad();
            }
        }
        if want.g {
            copy_into(g.tw.output_grad_mut(), rdfake);
            self.g
                .backward_tangent(theta, dir.theta, &g.ws, &mut g.tw, Some(r_theta), false);
        }
        let pen = self.objective.penalty;
        // R1's real points do not move with θ.
        let moves = want.live_g && !matches!(pen, Penalty::R1 { .. });
        if let Some(dp) = dp.as_mut().filter(|_| want.d && (moves || want.live_d)) {
            let rfake = g.tw.output();
            if moves {
                let x = dp.tw.input_mut();
                for j in 0..dx {
                    for (i, row) in r.clone().enumerate() {
                        x[(i, j)] = match pen {
                            Penalty::GradientPenalty { .. } => {
                                (T::one() - batch.eps[row]) * rfake[(i, j)]
                            }
                            _ => rfake[(i, j)],
                        };
                    }
                }
            }
            self.d
                .forward_tangent(psi_d, dir.d, &dp.ws, &mut dp.tw, moves);
            dp.tw.output_grad_mut().fill(T::zero());
            self.d
                .backward_tangent(psi_d, dir.d, &dp.ws, &mut dp.tw, None, true);
            copy_into(rgpen, dp.tw.input_grad());
            scaled_penalty(pen, frac).seed_tangent(gpen, rgpen, dp.tw.penalty_seed_mut());
            self.d
                .penalty_tangent(psi_d, dir.d, &mut dp.ws, &mut dp.tw, r_psi_d);
        }
    }
}

/// R{sᵢ} = ℓ″(lᵢ)·R{lᵢ}: a seed's tangent from the loss curvature and the logits'
/// tangent.
fn seed_tangent<T: Float>(out: &mut [T], curv: &[T], r_logits: &[T]) {
    for ((o, &c), &r) in out.iter_mut().zip(curv).zip(r_logits) {
        *o = c * r;
    }
}
#[cfg(test)]
mod tests;
