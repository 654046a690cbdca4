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
use rand::RngExt;
use serde::Serialize;

use super::generator_objective::{GeneratorObjective, ObjectiveScratch};
use super::jvp::TangentScratch;
use super::loss::{GanLoss, categorical_cross_entropy};
use super::penalty::Penalty;
use crate::datasets::{DataSampler, Latent};
use crate::error::{Error, Result};
use crate::game::{Game, JVP_FD_STEP, JvpMethod, Player, central_jvp};
use crate::linalg::{Rng, Vector, rng};
use crate::nn::spectral::SpectralState;
use crate::nn::{Float, LayerKind, Mlp, Mode, RunningStats, Workspace};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::{Dataset, LatentKind};
    use crate::nn::Activation;

    /// Relative error allowed between the hand-written field and central differences
    /// of the losses, in f64: ‖a − fd‖ / max(‖a‖, ‖fd‖).
    const GRAD_CHECK_TOL: f64 = 1e-6;
    const FD_H: f64 = 1e-5;

    fn rel_err(a: &[f64], b: &[f64]) -> f64 {
        let d: f64 = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f64>()
            .sqrt();
        let n = a
            .iter()
            .map(|x| x * x)
            .sum::<f64>()
            .sqrt()
            .max(b.iter().map(|x| x * x).sum::<f64>().sqrt());
        d / n.max(1e-12)
    }

    fn small_gan(
        objective: Objective,
        act: Activation,
        g_keep: f64,
        seed: u64,
    ) -> (NeuralGan<f64>, Vec<f64>, Vec<f64>) {
        let k = objective.info.map_or(0, |i| i.categories);
        let latent = Latent {
            kind: LatentKind::Gaussian,
            dim: 3,
        };
        let g = Mlp::new(&[3 + k, 6, 5, 2], act, Activation::Linear, g_keep).unwrap();
        let d = Mlp::new(&[2, 7, 5, 1], act, Activation::Linear, 1.0).unwrap();
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
        // Random biases so that no ReLU row sits exactly on a kink.
        let theta = (0..gan.n_generator())
            .map(|_| r.random_range(-1.0..1.0))
            .collect();
        let psi = (0..gan.n_discriminator())
            .map(|_| r.random_range(-1.0..1.0))
            .collect();
        (gan, theta, psi)
    }

    fn check(objective: Objective, act: Activation, g_keep: f64) {
        let (gan, theta, psi) = small_gan(objective.clone(), act, g_keep, 3);
        let mut s = gan.scratch();
        let mut gg = vec![0.0; theta.len()];
        gan.generator_gradient(&theta, &psi, &mut s, &mut gg);
        let mut gd = vec![0.0; psi.len()];
        gan.discriminator_gradient(&theta, &psi, &mut s, &mut gd);
        let lg = |t: &[f64], s: &mut Scratch<f64>| {
            gan.generator_gradient(t, &psi, s, &mut vec![0.0; theta.len()])
                .loss
        };
        let ld = |p: &[f64], s: &mut Scratch<f64>| {
            gan.discriminator_gradient(&theta, p, s, &mut vec![0.0; psi.len()])
                .loss
        };
        let fd = |f: &dyn Fn(&[f64], &mut Scratch<f64>) -> f64, p: &[f64], s: &mut Scratch<f64>| {
            let mut q = p.to_vec();
            (0..p.len())
                .map(|i| {
                    q[i] = p[i] + FD_H;
                    let a = f(&q, s);
                    q[i] = p[i] - FD_H;
                    let b = f(&q, s);
                    q[i] = p[i];
                    (a - b) / (2.0 * FD_H)
                })
                .collect::<Vec<_>>()
        };
        let eg = rel_err(&gg, &fd(&lg, &theta, &mut s));
        let ed = rel_err(&gd, &fd(&ld, &psi, &mut s));
        assert!(
            eg < GRAD_CHECK_TOL && ed < GRAD_CHECK_TOL,
            "{objective:?} {act:?}: G {eg:e}, D {ed:e}"
        );
    }

    fn objective(loss: GanLoss, penalty: Penalty) -> Objective {
        Objective {
            loss,
            penalty,
            label_smoothing: 0.0,
            weight_clip: None,
            info: None,
        }
    }

    #[test]
    fn field_matches_differences_for_every_loss_and_penalty() {
        let penalties = [
            Penalty::None,
            Penalty::GradientPenalty { lambda: 10.0 },
            Penalty::R1 { gamma: 3.0 },
            Penalty::R2 { gamma: 0.5 },
        ];
        for loss in [
            GanLoss::Minimax,
            GanLoss::NonSaturating,
            GanLoss::Wasserstein,
        ] {
            for pen in penalties {
                for act in [Activation::Tanh, Activation::LeakyRelu { slope: 0.2 }] {
                    check(objective(loss, pen), act, 1.0);
                }
            }
        }
    }

    #[test]
    fn field_matches_differences_with_smoothing_infogan_and_dropout() {
        let mut o = objective(GanLoss::NonSaturating, Penalty::R1 { gamma: 1.0 });
        o.label_smoothing = 0.1;
        check(o.clone(), Activation::Sigmoid, 1.0);
        o.info = Some(InfoGanTerm {
            categories: 3,
            lambda: 0.7,
        });
        check(o.clone(), Activation::Tanh, 1.0);
        check(o, Activation::Relu, 0.5);
    }

    #[test]
    fn game_field_is_minus_gradients_and_player_field_agrees() {
        let (gan, theta, psi) = small_gan(
            objective(GanLoss::Minimax, Penalty::None),
            Activation::Tanh,
            1.0,
            5,
        );
        let x = Vector::from_iterator(gan.dim(), theta.iter().chain(&psi).copied());
        let v = gan.field(&x);
        let vg = gan.player_field(&x, Player::Generator);
        let vd = gan.player_field(&x, Player::Discriminator);
        assert!((&vg + &vd - &v).amax() < 1e-15);
        let mut s = gan.scratch();
        let mut gg = vec![0.0; theta.len()];
        gan.generator_gradient(&theta, &psi, &mut s, &mut gg);
        assert!(
            gg.iter()
                .zip(v.iter())
                .all(|(g, vi)| (g + vi).abs() < 1e-15)
        );
        // Zero-sum check for minimax without smoothing: ∇_θ L_G = −∇_θ L_D. L_D depends
        // on θ only through the fakes, so compare the θ-differences of the two losses.
        let mut tp = theta.clone();
        tp[0] += 1e-5;
        let lg = |t: &[f64], s: &mut Scratch<f64>| {
            gan.generator_gradient(t, &psi, s, &mut vec![0.0; theta.len()])
                .loss
        };
        let ld = |t: &[f64], s: &mut Scratch<f64>| {
            gan.discriminator_gradient(t, &psi, s, &mut vec![0.0; psi.len()])
                .loss
        };
        let dg = lg(&tp, &mut s) - lg(&theta, &mut s);
        let dd = ld(&tp, &mut s) - ld(&theta, &mut s);
        assert!((dg + dd).abs() < 1e-12, "{dg} {dd}");
    }

    /// Tolerance of the zero-sum Jacobian identity: both blocks come from central
    /// differences of the field (h ≈ 6e-6), so agreement is to ~1e-8 at order-one entries.
    const JACOBIAN_TOL: f64 = 1e-6;

    #[test]
    fn zero_sum_jacobian_has_antisymmetric_coupling_blocks() {
        // Minimax without smoothing or penalty: L_G = −L_D + c(ψ), so v = (∇_θL_D, −∇_ψL_D)
        // and J_θψ = ∇²_θψ L_D = −J_ψθᵀ. Computed through the Game trait's default
        // (finite-difference) Jacobian, as every analysis does.
        let (gan, theta, psi) = small_gan(
            objective(GanLoss::Minimax, Penalty::None),
            Activation::Tanh,
            1.0,
            9,
        );
        let x = Vector::from_iterator(gan.dim(), theta.iter().chain(&psi).copied());
        let j = gan.jacobian(&x);
        let (ng, n) = (gan.split(), gan.dim());
        let jgd = j.view((0, ng), (ng, n - ng));
        let jdg = j.view((ng, 0), (n - ng, ng));
        let err = (jgd + jdg.transpose()).amax();
        assert!(err < JACOBIAN_TOL * jgd.amax().max(1.0), "{err}");
        assert!(jgd.amax() > 1e-3, "coupling block is not trivially zero");
        assert!(gan.nonsmooth_at(&x).is_none());
    }

    #[test]
    fn clipping_projects_only_the_discriminator() {
        let mut o = objective(GanLoss::Wasserstein, Penalty::None);
        o.weight_clip = Some(0.1);
        let (gan, theta, psi) = small_gan(o, Activation::Relu, 1.0, 1);
        let mut x = Vector::from_iterator(gan.dim(), theta.iter().chain(&psi).copied());
        gan.project(&mut x);
        assert!(x.iter().skip(gan.split()).all(|v| v.abs() <= 0.1));
        assert!(x.iter().take(gan.split()).zip(&theta).all(|(a, b)| a == b));
        assert!(gan.nonsmooth_at(&x).is_some());
    }
}
