//! A neural GAN exposed as a [`Game`]: the joint vector is x = (θ_G, ψ), with ψ the
//! discriminator's parameters followed (for InfoGAN) by the Q network's.
//!
//! The minibatch is explicit state, replaced only by [`Game::draw_batch`]: for a fixed
//! batch the field v(x) = (−∇_θ L_G, −∇_ψ L_D) is a deterministic function of x, so
//! Jacobians, spectra and every analysis of [`crate::analysis`] apply unchanged. The
//! update rule draws a batch before each update from the run's seeded stream
//! ([`crate::dynamics::RuleState`]), so [`crate::dynamics::run`] trains a neural GAN
//! exactly as it steps a reduced game.
//!
//! The joint vector x is f64; the networks run in `T` (f32 or f64): each field
//! evaluation rounds θ and ψ to `T`, and the update is added to x in f64 (f64 master
//! weights, as in mixed-precision training).
//!
//! Losses: L_D = adversarial D loss ([`GanLoss`]) + penalty ([`Penalty`]) + λ_I·L_CE,
//! L_G = adversarial G loss + λ_I·L_CE, where L_CE = −E[ln Q(c | G(z, c))] is InfoGAN's
//! categorical cross-entropy (Chen et al. 2016; minimising L_CE maximises the
//! variational lower bound L_I = H(c) − L_CE on the mutual information I(c; G(z, c))).
//! Both G and Q *descend* λ_I·L_CE (the mutual-information term is cooperative); the
//! Q network belongs to the discriminator player, as in InfoGAN where Q shares D's body
//! and is updated with D.
//!
//! # Packing, spectral normalisation, batch norm ([`GanOptions`])
//! * **PacGAN packing** (Lin, Khetan, Fanti & Oh 2018, "PacGAN: the power of two samples
//!   in generative adversarial networks", NeurIPS, §3): with pack m, D reads m samples
//!   concatenated (m·d inputs). A batch of B packs holds B·m independent real draws and
//!   B·m independent latent draws; pack i is samples i·m … i·m + m − 1 (PyTorch's
//!   `view(B, m·d)` of the B·m × d batch). The losses, ε of WGAN-GP and D's output are
//!   per pack; G, Q and the InfoGAN codes run on the B·m samples. m = 1 is the plain GAN
//!   (the same draws and the same arithmetic, bit for bit).
//! * **Spectral normalisation** of D's weight matrices ([`crate::nn::spectral`]): D runs
//!   on Ŵ = W/σ̃(W) in both players' losses and the D gradient is pulled back through
//!   σ̃. The power-iteration vectors are run state held here (seeded from
//!   [`SPECTRAL_STREAM`] of the configured seed).
//! * **Batch norm in G**: the field is G in **training mode** on the current batch
//!   (batch statistics, the gradient through them), as the trainer follows it; so the
//!   Jacobians and spectra of a batch-normalised GAN are those of that map. Sampling and
//!   the metrics use evaluation mode, with the running statistics held here.
//!
//! # Run state and when it advances
//! The running statistics and the power-iteration vectors are not parameters: they
//! live in the game ([`NeuralGan::run_state`]), start deterministically (statistics
//! 0 and 1; vectors from the seeded stream) and advance only at [`Game::draw_batch`]:
//! each field evaluation computes what the state would become from the committed
//! state (the batch statistics folded in with the momentum; the vectors after the
//! power iterations of a D-block evaluation) and keeps it as pending; the next draw
//! commits the pending state of the latest evaluation. So for a fixed batch the field
//! is a deterministic function of x (analyses evaluate it many times without moving
//! anything), while training advances the state once per update (per batch): the
//! running statistics once per G forward pass of a D or G update, as PyTorch's
//! training loop does, and the vectors by the configured iterations per D update.
//! Sampling uses the latest state, pending or committed.

use std::sync::Mutex;

use nalgebra::DMatrix;
use serde::Serialize;

use super::generator_objective::{GeneratorObjective, ObjectiveScratch};
use super::jvp::TangentScratch;
use super::loss::GanLoss;
use super::penalty::Penalty;
use crate::datasets::{DataSampler, Latent};
use crate::error::{Error, Result};
use crate::game::Game;
use crate::linalg::Rng;
use crate::nn::spectral::SpectralState;
use crate::nn::{Float, Mlp, RunningStats, Workspace};

/// The stream of the seed that draws the initial power-iteration vectors of spectral
/// normalisation (`rng(seed, SPECTRAL_STREAM)`), apart from the batch, initialisation
/// and evaluation streams 0, 1, 2.
pub const SPECTRAL_STREAM: u64 = 0x5EC7_4A10;

/// Spectral normalisation of D's weight matrices (Miyato et al. 2018).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SpectralNorm {
    /// Power iterations per D update (1 by default, as in the paper's Algorithm 1). 0
    /// keeps the initial vectors (only for checks with the vectors held fixed).
    pub iterations: usize,
    /// Seed of the initial vectors (drawn from stream [`SPECTRAL_STREAM`]).
    pub seed: u64,
}

/// What a GAN adds to its networks besides the layers: PacGAN packing and spectral
/// normalisation of D (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GanOptions {
    /// Samples per pack m ≥ 1 (1: the plain GAN).
    pub pack: usize,
    /// Spectral normalisation of D's weight matrices, if on.
    pub spectral_norm: Option<SpectralNorm>,
}

impl Default for GanOptions {
    fn default() -> Self {
        GanOptions {
            pack: 1,
            spectral_norm: None,
        }
    }
}

/// The run state of a [`NeuralGan`] that is not a parameter (module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct RunState {
    /// G's running statistics per batch-normalised layer (committed).
    pub bn: Vec<RunningStats>,
    /// The running statistics after the latest training-mode G pass on the current
    /// batch, committed at the next draw.
    pub bn_pending: Option<Vec<RunningStats>>,
    /// D's power-iteration vectors (committed), with spectral normalisation.
    pub sn: Option<SpectralState>,
    /// The vectors after the latest D-block evaluation, committed at the next draw.
    pub sn_pending: Option<SpectralState>,
}

impl RunState {
    /// The latest running statistics (pending, else committed).
    #[must_use]
    pub fn latest_bn(&self) -> &[RunningStats] {
        self.bn_pending.as_deref().unwrap_or(&self.bn)
    }
    /// The latest power-iteration vectors (pending, else committed).
    #[must_use]
    pub fn latest_sn(&self) -> Option<&SpectralState> {
        self.sn_pending.as_ref().or(self.sn.as_ref())
    }
    fn commit(&mut self) {
        if let Some(b) = self.bn_pending.take() {
            self.bn = b;
        }
        if let Some(v) = self.sn_pending.take() {
            self.sn = Some(v);
        }
    }
}

/// `dst ← src` for equally shaped matrices, as one slice copy (nalgebra's `copy_from`
/// walks element by element).
pub(super) fn copy_into<T: Float>(dst: &mut DMatrix<T>, src: &DMatrix<T>) {
    debug_assert_eq!(dst.shape(), src.shape());
    dst.as_mut_slice().copy_from_slice(src.as_slice());
}

/// `dst ← src` rounded to the network precision, on the fastest SIMD path
/// ([`crate::simd::dispatch`]): this pass touches every parameter on every field
/// evaluation, which shows at PacGAN's 0.9 M parameters. Rounding is one IEEE operation,
/// the same on every path.
fn round_into<T: Float>(dst: &mut [T], src: &[f64]) {
    crate::simd::dispatch(
        #[inline(always)]
        || dst.iter_mut().zip(src).for_each(|(d, x)| *d = T::of(*x)),
    );
}

/// Appends −g (in f64) to `out` and returns ‖g‖ with the summation order of
/// [`crate::linalg::norm`] (eight interleaved accumulators, then the remainder, then
/// the accumulators in order), so the logged norms are the same bits as before; on the
/// fastest SIMD path. Appending to a vector reserved once avoids zero-filling a
/// 7 MB field before writing it.
fn negate_extend<T: Float>(out: &mut Vec<f64>, g: &[T]) -> f64 {
    crate::simd::dispatch(
        #[inline(always)]
        || {
            let mut acc = [0.0f64; 8];
            let chunks = g.chunks_exact(8);
            let rem = chunks.remainder();
            for c in chunks {
                let o: [f64; 8] = std::array::from_fn(|l| -c[l].f64());
                for l in 0..8 {
                    acc[l] += o[l] * o[l];
                }
                out.extend_from_slice(&o);
            }
            let mut rest = 0.0;
            for v in rem {
                let o = -v.f64();
                rest += o * o;
                out.push(o);
            }
            acc.iter().fold(rest, |s, v| s + v).sqrt()
        },
    )
}

/// Packs (PacGAN) into rows `at…` of `dst` (packs × m·d): pack p of `packs` is the
/// samples p·m … p·m + m − 1 of `src` (rows = samples, d columns) side by side, sample k
/// in columns k·d … k·d + d − 1. With m = 1 a plain copy of the rows.
pub(super) fn pack_into<T: Float>(
    dst: &mut DMatrix<T>,
    at: usize,
    src: &DMatrix<T>,
    packs: std::ops::Range<usize>,
    m: usize,
) {
    let (rd, rs, d) = (dst.nrows(), src.nrows(), src.ncols());
    let (dst, src) = (dst.as_mut_slice(), src.as_slice());
    for k in 0..m {
        for j in 0..d {
            let out = &mut dst[(k * d + j) * rd + at..(k * d + j) * rd + at + packs.len()];
            let col = &src[j * rs..(j + 1) * rs];
            if m == 1 {
                out.copy_from_slice(&col[packs.clone()]);
            } else {
                for (o, p) in out.iter_mut().zip(packs.clone()) {
                    *o = col[p * m + k];
                }
            }
        }
    }
}

/// The inverse of [`pack_into`]: `dst` (packs·m × d) ← the samples of `src` (packs ×
/// m·d).
pub(super) fn unpack_into<T: Float>(dst: &mut DMatrix<T>, src: &DMatrix<T>, m: usize) {
    if m == 1 {
        copy_into(dst, src);
        return;
    }
    let (rd, rs, d) = (dst.nrows(), src.nrows(), dst.ncols());
    let (dst, src) = (dst.as_mut_slice(), src.as_slice());
    for k in 0..m {
        for j in 0..d {
            let col = &src[(k * d + j) * rs..(k * d + j + 1) * rs];
            let out = &mut dst[j * rd..(j + 1) * rd];
            for (p, &v) in col.iter().enumerate() {
                out[p * m + k] = v;
            }
        }
    }
}

/// InfoGAN's categorical code: c ~ Uniform{0, …, k−1}, appended to z as a one-hot.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct InfoGanTerm {
    /// Number of categories k.
    pub categories: usize,
    /// Weight λ_I of L_CE in both players' losses.
    pub lambda: f64,
}

/// The objective: which losses and regularisers each player minimises.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Objective {
    /// The adversarial loss pair.
    pub loss: GanLoss,
    /// Gradient penalty on D (D's loss only).
    pub penalty: Penalty,
    /// One-sided label smoothing α: real targets are 1 − α (Salimans et al. 2016).
    pub label_smoothing: f64,
    /// WGAN weight clipping: after each D update, ψ_D ← clip(ψ_D, −c, c) (Arjovsky et
    /// al. 2017); applied through [`Game::project`].
    pub weight_clip: Option<f64>,
    /// InfoGAN term, if any.
    pub info: Option<InfoGanTerm>,
}

/// The current minibatch: everything random that one field evaluation depends on.
#[derive(Debug, Clone)]
pub struct Batch<T: Float> {
    /// Real samples (B × data dim).
    pub real: DMatrix<T>,
    /// Generator input (B × (latent dim + k)): z then the one-hot code.
    pub z: DMatrix<T>,
    /// InfoGAN codes (empty without InfoGAN).
    pub codes: Vec<usize>,
    /// Interpolation weights ε for WGAN-GP.
    pub eps: Vec<T>,
    /// Seed of the generator's dropout masks for this batch.
    pub g_mask_seed: u64,
    /// Seed of the discriminator's dropout masks for this batch.
    pub d_mask_seed: u64,
}

/// Preallocated buffers for field evaluations (one per thread or trainer).
#[derive(Debug, Clone)]
pub struct Scratch<T: Float> {
    g: Workspace<T>,
    /// D on the stacked [real; fake] batch (2B rows).
    d2: Workspace<T>,
    /// D on B rows (generator step and penalties).
    d1: Workspace<T>,
    q: Option<Workspace<T>>,
    /// ∂L/∂(G output) (B·m × data dim).
    dfake: DMatrix<T>,
    /// ∇ₓD at the penalty points (B × m·data dim).
    gpen: DMatrix<T>,
    /// Spectral normalisation: Ŵ (D's normalised parameters), ∂L/∂Ŵ, σ̃ per matrix and
    /// the vectors after this evaluation's iterations.
    psi_hat: Vec<T>,
    grad_hat: Vec<T>,
    sigmas: Vec<f64>,
    sn: Option<SpectralState>,
    theta: Vec<T>,
    psi: Vec<T>,
    grad: Vec<T>,
    grad_theta: Vec<T>,
    grad_psi: Vec<T>,
    last: Evaluation,
    /// Buffers of a non-adversarial generator objective (built on first use).
    pub(super) objective: Option<ObjectiveScratch<T>>,
}

/// What the latest field evaluation of a [`NeuralGan`] (through [`Game::field`] or
/// [`Game::player_field`]) measured, for training logs. A block that was not evaluated
/// keeps its previous value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Evaluation {
    /// The discriminator's losses and mean outputs.
    pub d: DStats,
    /// The generator's losses.
    pub g: GStats,
    /// ‖∇_θ L_G‖.
    pub grad_norm_g: f64,
    /// ‖∇_ψ L_D‖.
    pub grad_norm_d: f64,
    /// Generator-block evaluations so far (to tell a fresh value from a kept one).
    pub g_evals: u64,
    /// Discriminator-block evaluations so far.
    pub d_evals: u64,
}

impl Default for Evaluation {
    fn default() -> Self {
        Evaluation {
            d: DStats {
                loss: f64::NAN,
                d_real: f64::NAN,
                d_fake: f64::NAN,
                sigma_min: f64::NAN,
                sigma_max: f64::NAN,
                ..DStats::default()
            },
            g: GStats {
                loss: f64::NAN,
                info: 0.0,
            },
            grad_norm_g: f64::NAN,
            grad_norm_d: f64::NAN,
            g_evals: 0,
            d_evals: 0,
        }
    }
}

/// Statistics of one discriminator gradient evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct DStats {
    /// L_D in total (adversarial + penalty + λ_I·L_CE).
    pub loss: f64,
    /// The penalty value P.
    pub penalty: f64,
    /// L_CE (0 without InfoGAN).
    pub info: f64,
    /// Mean D(x) on real data (σ(logit), or the critic value for WGAN).
    pub d_real: f64,
    /// Mean D on fakes.
    pub d_fake: f64,
    /// Smallest σ̃ of D's weight matrices in this evaluation (spectral
    /// normalisation; NaN without).
    pub sigma_min: f64,
    /// Largest σ̃ (NaN without spectral normalisation).
    pub sigma_max: f64,
}

/// Statistics of one generator gradient evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct GStats {
    /// L_G in total (adversarial + λ_I·L_CE).
    pub loss: f64,
    /// L_CE (0 without InfoGAN).
    pub info: f64,
}

/// A GAN of two (or, with InfoGAN, three) MLPs with a fixed minibatch.
#[derive(Debug)]
pub struct NeuralGan<T: Float> {
    /// The generator (latent dim + k → data dim, linear output).
    pub g: Mlp,
    /// The discriminator (data dim → 1 logit).
    pub d: Mlp,
    /// The Q network of InfoGAN (data dim → k logits).
    pub q: Option<Mlp>,
    /// Losses and regularisers.
    pub objective: Objective,
    /// p(z).
    pub latent: Latent,
    /// The target.
    pub data: DataSampler,
    /// Packing and spectral normalisation.
    pub options: GanOptions,
    batch_size: usize,
    /// The current minibatch ([`Game::draw_batch`] replaces it).
    pub(super) batch: Mutex<Batch<T>>,
    scratch: Mutex<Scratch<T>>,
    /// Run state (running statistics, power-iteration vectors; module docs).
    state: Mutex<RunState>,
    /// Buffers of the tangent passes ([`Game::jvp`], [`Game::hessian_vp`]), built on
    /// first use; training never touches them.
    pub(super) tangent: Mutex<Option<Box<TangentScratch<T>>>>,
    /// What the generator descends ([`NeuralGan::with_generator_objective`]).
    generator: GeneratorObjective,
}

/// Locks a mutex, recovering the data after a panic elsewhere (the buffers hold no
/// invariants a panic could break).
pub(super) fn lock<U>(m: &Mutex<U>) -> std::sync::MutexGuard<'_, U> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl<T: Float> NeuralGan<T> {
    /// Builds the game with batch size `batch` and draws a first batch from `rng` (as
    /// [`Game::draw_batch`]`(None, rng)`).
    /// (Eight arguments: the three networks, the objective, the two distributions, the
    /// batch size and the RNG are all independent choices.)
    ///
    /// # Errors
    /// [`Error::Param`] if the networks do not fit the data, latent and code widths,
    /// D has more than one output, or the batch size is zero.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        g: Mlp,
        d: Mlp,
        q: Option<Mlp>,
        objective: Objective,
        latent: Latent,
        data: DataSampler,
        batch: usize,
        rng: &mut Rng,
    ) -> Result<Self> {
        Self::with_options(
            g,
            d,
            q,
            objective,
            latent,
            data,
            batch,
            GanOptions::default(),
            rng,
        )
    }

    /// As [`NeuralGan::new`] with packing and spectral normalisation ([`GanOptions`]);
    /// `batch` is the number of packs B (G then runs on B·m samples).
    ///
    /// # Errors
    /// As [`NeuralGan::new`], and [`Error::Param`] if D does not read m samples, the pack
    /// is 0, D is batch-normalised (its stacked real and fake rows would share
    /// statistics), G is batch-normalised with fewer than 2 samples per batch, or a
    /// gradient penalty meets a D without double backprop (minibatch discrimination).
    #[allow(clippy::too_many_arguments)]
    pub fn with_options(
        g: Mlp,
        d: Mlp,
        q: Option<Mlp>,
        objective: Objective,
        latent: Latent,
        data: DataSampler,
        batch: usize,
        options: GanOptions,
        rng: &mut Rng,
    ) -> Result<Self> {
        if batch == 0 {
            return Err(Error::param("batch_size", "must be at least 1"));
        }
        let m = options.pack;
        if m == 0 {
            return Err(Error::param("pack", "must be at least 1"));
        }
        let samples = batch
            .checked_mul(m)
            .ok_or_else(|| Error::param("pack", "batch_size × pack overflows"))?;
        if d.has_batch_norm() {
            return Err(Error::param(
                "discriminator.batch_norm",
                "batch norm in D is not supported (D's real and fake rows are one stacked batch)",
            ));
        }
        if g.has_batch_norm() && samples < 2 {
            return Err(Error::param(
                "batch_size",
                "batch norm in G needs at least 2 samples per batch",
            ));
        }
        if objective.penalty.is_active() && !d.supports_double_backprop() {
            return Err(Error::param(
                "penalty",
                "gradient penalties need double backprop through D, which minibatch \
                 discrimination does not have",
            ));
        }
        let k = objective.info.map_or(0, |i| i.categories);
        if g.input_dim() != latent.dim + k {
            return Err(Error::param(
                "generator",
                format!(
                    "input width {} ≠ latent dim {} + code size {k}",
                    g.input_dim(),
                    latent.dim
                ),
            ));
        }
        if g.output_dim() != data.dim() || d.input_dim() != m * data.dim() {
            return Err(Error::param(
                "generator",
                format!(
                    "the data have {} dimensions, G outputs {} and D reads {} (pack {m})",
                    data.dim(),
                    g.output_dim(),
                    d.input_dim()
                ),
            ));
        }
        if d.output_dim() != 1 {
            return Err(Error::param("discriminator", "D must output one logit"));
        }
        match (&q, objective.info) {
            (Some(qn), Some(info))
                if qn.input_dim() == data.dim() && qn.output_dim() == info.categories => {}
            (None, None) => {}
            _ => {
                return Err(Error::param(
                    "infogan",
                    "the Q network must map data → k logits, and exists iff InfoGAN is on",
                ));
            }
        }
        let dx = data.dim();
        let mut d2 = d.workspace(2 * batch);
        // Minibatch layers compare real rows with real rows and fakes with fakes.
        d2.set_group_rows(batch);
        let sn = options
            .spectral_norm
            .map(|o| SpectralState::new(&d, &mut crate::linalg::rng(o.seed, SPECTRAL_STREAM)));
        let n_mats = d.weight_matrices().len();
        let scratch = Scratch {
            g: g.workspace(samples),
            d2,
            d1: d.workspace(batch),
            q: q.as_ref().map(|qn| qn.workspace(samples)),
            dfake: DMatrix::zeros(samples, dx),
            gpen: DMatrix::zeros(batch, m * dx),
            psi_hat: vec![T::zero(); if sn.is_some() { d.n_params() } else { 0 }],
            grad_hat: vec![T::zero(); if sn.is_some() { d.n_params() } else { 0 }],
            sigmas: vec![0.0; n_mats],
            sn: sn.clone(),
            theta: vec![T::zero(); g.n_params()],
            psi: vec![T::zero(); d.n_params() + q.as_ref().map_or(0, Mlp::n_params)],
            grad: Vec::new(),
            grad_theta: vec![T::zero(); g.n_params()],
            grad_psi: vec![T::zero(); d.n_params() + q.as_ref().map_or(0, Mlp::n_params)],
            last: Evaluation::default(),
            objective: None,
        };
        let state = RunState {
            bn: g.running_stats(),
            bn_pending: None,
            sn,
            sn_pending: None,
        };
        let gan = NeuralGan {
            batch_size: batch,
            options,
            state: Mutex::new(state),
            batch: Mutex::new(Batch {
                real: DMatrix::zeros(samples, dx),
                z: DMatrix::zeros(samples, g.input_dim()),
                codes: vec![0; if k > 0 { samples } else { 0 }],
                eps: vec![T::zero(); batch],
                g_mask_seed: 0,
                d_mask_seed: 0,
            }),
            g,
            d,
            q,
            objective,
            latent,
            data,
            scratch: Mutex::new(scratch),
            tangent: Mutex::new(None),
            generator: GeneratorObjective::Adversarial,
        };
        gan.draw_batch(None, rng);
        Ok(gan)
    }

    /// The same game with the generator descending `objective` instead of the
    /// adversarial loss ([`super::generator_objective`]).
    ///
    /// # Errors
    /// [`Error::Param`] naming the objective's key if it does not fit the game.
    pub fn with_generator_objective(mut self, objective: GeneratorObjective) -> Result<Self> {
        objective.check(&self.objective, &self.d)?;
        self.generator = objective;
        lock(&self.scratch).objective = None;
        Ok(self)
    }
    /// What the generator descends.
    #[must_use]
    pub fn generator_objective(&self) -> &GeneratorObjective {
        &self.generator
    }
    /// Batch size B (packs; B·m samples per batch).
    #[must_use]
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }
    /// Samples per pack m.
    #[must_use]
    pub fn pack(&self) -> usize {
        self.options.pack
    }
    /// A copy of the run state (running statistics, power-iteration vectors).
    #[must_use]
    pub fn run_state(&self) -> RunState {
        lock(&self.state).clone()
    }
    /// Replaces the run state (e.g. to continue a run from saved state).
    ///
    /// # Errors
    /// [`Error::Param`] if its shapes do not match this game's networks.
    pub fn set_run_state(&self, state: RunState) -> Result<()> {
        let cur = lock(&self.state);
        let same_bn = |a: &[RunningStats], b: &[RunningStats]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.mean.len() == y.mean.len())
        };
        let same_sn = |a: Option<&SpectralState>, b: Option<&SpectralState>| match (a, b) {
            (None, None) => true,
            (Some(x), Some(y)) => {
                x.vectors.len() == y.vectors.len()
                    && x.vectors.iter().zip(&y.vectors).all(|(p, q)| {
                        p.left.len() == q.left.len() && p.right.len() == q.right.len()
                    })
            }
            _ => false,
        };
        if !same_bn(&cur.bn, &state.bn) || !same_sn(cur.sn.as_ref(), state.sn.as_ref()) {
            return Err(Error::param(
                "run_state",
                "shapes do not match the networks",
            ));
        }
        drop(cur);
        *lock(&self.state) = state;
        Ok(())
    }
    /// Whether J·u and the Hessian-vector products are exact ([`crate::gan::jvp`]):
    /// every network has tangent passes (dense and maxout layers, no batch norm or
    /// minibatch discrimination), D is not spectrally normalised (the power iteration
    /// has no tangent) and the generator descends the adversarial loss (unrolling and
    /// feature matching have no tangent passes). Otherwise they are central differences
    /// of the field.
    #[must_use]
    pub fn has_exact_products(&self) -> bool {
        self.generator.is_adversarial()
            && self.g.has_exact_tangent()
            && self.d.has_exact_tangent()
            && self.q.as_ref().is_none_or(Mlp::has_exact_tangent)
            && self.options.spectral_norm.is_none()
            && self.pack() == 1
    }
    /// |θ_G|.
    #[must_use]
    pub fn n_generator(&self) -> usize {
        self.g.n_params()
    }
    /// |ψ| = |ψ_D| + |ψ_Q|.
    #[must_use]
    pub fn n_discriminator(&self) -> usize {
        self.d.n_params() + self.q.as_ref().map_or(0, Mlp::n_params)
    }
    /// A copy of the current batch.
    #[must_use]
    pub fn batch(&self) -> Batch<T> {
        lock(&self.batch).clone()
    }
    /// What the latest [`Game::field`] or [`Game::player_field`] call measured.
    #[must_use]
    pub fn last_evaluation(&self) -> Evaluation {
        lock(&self.scratch).last
    }
    /// Fresh buffers for [`NeuralGan::discriminator_gradient`] and
    /// [`NeuralGan::generator_gradient`].
    #[must_use]
    pub fn scratch(&self) -> Scratch<T> {
        lock(&self.scratch).clone()
    }
}

mod field;
#[cfg(test)]
mod tests;
