//! The variational autoencoder baseline (Kingma & Welling 2014, "Auto-encoding
//! variational Bayes"), the model seed 002 compares the GAN with on its point sets
//! ("VAEs are doing the job, but the result is blurry").
//!
//! # Model
//! * Encoder q(z|x) = N(μ(x), diag e^{s(x)}): an MLP data → 2m with a linear output
//!   [μ | s], s = ln σ² (m = the latent dimension).
//! * Decoder p(x|z) = N(x̂(z), σ_x² I): an MLP latent → data with a linear output x̂.
//! * Prior p(z) = N(0, I_m); the loss is −ELBO on the batch with one reparameterised
//!   draw z = μ + e^{s/2} ⊙ ε per row ([`elbo`]).
//!
//! # The decoder's variance is fixed (`decoder_std` = σ_x, default 0.1)
//! A learned σ_x has no finite optimum on the point sets of seed 002: the data
//! (−1, 0) and (1, 0) have no spread, the encoder can tell them apart, so the decoder
//! can reconstruct exactly and ln p(x|z) → +∞ as σ_x → 0. With σ_x fixed the ELBO is
//! bounded and σ_x is the model's stated resolution: the reconstruction term is the
//! squared error in units of σ_x², which trades against the KL term (a larger σ_x
//! lets the posteriors overlap more, and the decoder averages between the data
//! points). The default 0.1 is [`crate::datasets::POINT_COVERAGE_RADIUS`], the
//! distance within which a sample counts as on a point, and twice the gan-vis mode std.
//!
//! # Samples show the decoder's mean (default), not mean + noise
//! The samples of [`Vae::sample`] are x̂(z) for z ~ N(0, I), the mean of p(x|z), as
//! the GAN's samples are G(z): a deterministic map of prior noise. Adding the
//! decoder's noise σ_x ξ would blur every sample by σ_x by construction, which says
//! nothing about what the VAE learned; the blur that seed 002 describes is the
//! decoder's mean landing *between* the data (prior draws that fall between the
//! posteriors of two data points are decoded to points in between). So the metrics
//! and figures use the mean; `samples = "noisy"` adds the noise for the full
//! generative distribution p(x) = ∫ p(x|z) p(z) dz instead.
//!
//! # The VAE as a game
//! [`Vae`] is a [`Game`] with one real player: x = (θ_decoder, φ_encoder) are all
//! "generator" coordinates (split = dim, no discriminator coordinates), and the field
//! is v = −∇_x(−ELBO) on the current batch (data rows and the noise ε, drawn by
//! [`Game::draw_batch`] from the run's stream), a deterministic function of x between
//! draws. So the same runner ([`crate::dynamics::Run`]) with the same optimiser chains
//! trains it, and the Jacobian analyses apply (the generator's optimiser is the VAE's;
//! the discriminator's has nothing to update, and a discriminator turn of an
//! alternating schedule neither draws nor evaluates).

pub mod elbo;

use std::sync::Mutex;

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use crate::datasets::{DataSampler, Latent, LatentKind};
use crate::error::{Error, Result};
use crate::game::{Game, Player};
use crate::linalg::{Rng, Vector};
use crate::nn::{Float, Mlp, Mode, Workspace};
use elbo::{ElboTerms, gaussian_kl, gaussian_loglik, reparameterise, reparameterise_backward};

/// What [`Vae::sample`] returns (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum VaeSamples {
    /// The decoder's mean x̂(z), z ~ N(0, I).
    #[default]
    Mean,
    /// x̂(z) + σ_x ξ, ξ ~ N(0, I): a draw of the model's p(x).
    Noisy,
}

/// The VAE's settings in a training configuration (`[vae]`, with `model = "vae"`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VaeConfig {
    /// The decoder's fixed standard deviation σ_x (default 0.1; module docs).
    pub decoder_std: f64,
    /// `"mean"` (default) or `"noisy"` samples (module docs).
    pub samples: VaeSamples,
}

impl Default for VaeConfig {
    fn default() -> Self {
        VaeConfig {
            decoder_std: crate::datasets::POINT_COVERAGE_RADIUS,
            samples: VaeSamples::Mean,
        }
    }
}

impl VaeConfig {
    /// Checks every setting.
    ///
    /// # Errors
    /// [`Error::Param`] naming `vae.decoder_std`.
    pub fn validate(&self) -> Result<()> {
        if !(self.decoder_std.is_finite() && self.decoder_std > 0.0) {
            return Err(Error::param(
                "vae.decoder_std",
                format!("{} is not a positive number", self.decoder_std),
            ));
        }
        Ok(())
    }
}

/// The randomness of one field evaluation: the data rows and the reparameterisation
/// noise.
#[derive(Debug, Clone)]
pub struct VaeBatch<T: Float> {
    /// Data (B × data dim).
    pub x: DMatrix<T>,
    /// ε ~ N(0, I) (B × m).
    pub eps: DMatrix<T>,
}

/// What the latest field evaluation measured (for the training log).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct VaeEvaluation {
    /// ELBO and its terms on the batch.
    pub terms: ElboTerms,
    /// ‖∇_x ELBO‖.
    pub grad_norm: f64,
    /// Evaluations so far.
    pub evals: u64,
}

impl Default for VaeEvaluation {
    fn default() -> Self {
        VaeEvaluation {
            terms: ElboTerms {
                elbo: f64::NAN,
                recon_loglik: f64::NAN,
                kl: f64::NAN,
            },
            grad_norm: f64::NAN,
            evals: 0,
        }
    }
}

/// Buffers of one evaluation.
#[derive(Debug, Clone)]
pub struct VaeScratch<T: Float> {
    enc: Workspace<T>,
    dec: Workspace<T>,
    z: DMatrix<T>,
    dmu_s: DMatrix<T>,
    dz: DMatrix<T>,
    dxhat: DMatrix<T>,
    params: Vec<T>,
    grad: Vec<T>,
    last: VaeEvaluation,
}

/// A Gaussian VAE with a fixed batch (see the module docs).
#[derive(Debug)]
pub struct Vae<T: Float> {
    /// latent → data, linear output (the mean x̂).
    pub decoder: Mlp,
    /// data → 2m, linear output [μ | ln σ²].
    pub encoder: Mlp,
    /// The latent dimension m.
    pub latent_dim: usize,
    /// The data.
    pub data: DataSampler,
    /// σ_x.
    pub decoder_std: f64,
    batch_size: usize,
    batch: Mutex<VaeBatch<T>>,
    scratch: Mutex<VaeScratch<T>>,
}

fn lock<U>(m: &Mutex<U>) -> std::sync::MutexGuard<'_, U> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl<T: Float> Vae<T> {
    /// A VAE of batch size `batch`, with a first batch drawn from `rng`.
    ///
    /// # Errors
    /// [`Error::Param`] if the networks do not fit the data and latent widths, σ_x is
    /// not positive or the batch is empty.
    pub fn new(
        decoder: Mlp,
        encoder: Mlp,
        data: DataSampler,
        decoder_std: f64,
        batch: usize,
        rng: &mut Rng,
    ) -> Result<Self> {
        if batch == 0 {
            return Err(Error::param("batch_size", "must be at least 1"));
        }
        if !(decoder_std.is_finite() && decoder_std > 0.0) {
            return Err(Error::param(
                "vae.decoder_std",
                format!("{decoder_std} is not a positive number"),
            ));
        }
        let m = decoder.input_dim();
        if decoder.output_dim() != data.dim()
            || encoder.input_dim() != data.dim()
            || encoder.output_dim() != 2 * m
        {
            return Err(Error::param(
                "vae",
                format!(
                    "the decoder maps {m} → {}, the encoder {} → {} (the data have {} dimensions, the encoder must give μ and ln σ² of the {m}-D latent)",
                    decoder.output_dim(),
                    encoder.input_dim(),
                    encoder.output_dim(),
                    data.dim()
                ),
            ));
        }
        let dx = data.dim();
        let n = decoder.n_params() + encoder.n_params();
        let vae = Vae {
            scratch: Mutex::new(VaeScratch {
                enc: encoder.workspace(batch),
                dec: decoder.workspace(batch),
                z: DMatrix::zeros(batch, m),
                dmu_s: DMatrix::zeros(batch, 2 * m),
                dz: DMatrix::zeros(batch, m),
                dxhat: DMatrix::zeros(batch, dx),
                params: vec![T::zero(); n],
                grad: vec![T::zero(); n],
                last: VaeEvaluation::default(),
            }),
            batch: Mutex::new(VaeBatch {
                x: DMatrix::zeros(batch, dx),
                eps: DMatrix::zeros(batch, m),
            }),
            decoder,
            encoder,
            latent_dim: m,
            data,
            decoder_std,
            batch_size: batch,
        };
        vae.draw_batch(None, rng);
        Ok(vae)
    }

    /// |θ_decoder| (the first coordinates of x).
    #[must_use]
    pub fn n_decoder(&self) -> usize {
        self.decoder.n_params()
    }
    /// |φ_encoder|.
    #[must_use]
    pub fn n_encoder(&self) -> usize {
        self.encoder.n_params()
    }
    /// Batch size B.
    #[must_use]
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }
    /// A copy of the current batch.
    #[must_use]
    pub fn batch(&self) -> VaeBatch<T> {
        lock(&self.batch).clone()
    }
    /// What the latest field evaluation measured.
    #[must_use]
    pub fn last_evaluation(&self) -> VaeEvaluation {
        lock(&self.scratch).last
    }
    /// Fresh buffers for [`Vae::loss_gradient`].
    #[must_use]
    pub fn scratch(&self) -> VaeScratch<T> {
        lock(&self.scratch).clone()
    }

    /// ∇(−ELBO) on the current batch at the parameters `params` = (θ_decoder,
    /// φ_encoder), **added** to `grad`, and the ELBO's terms. Passes: encoder forward,
    /// z = μ + e^{s/2} ε, decoder forward, ∂(−ln p)/∂x̂ = (x̂ − x)/(σ_x² B), decoder
    /// backward (parameters and ∂/∂z), the chain rule through z and the KL gradient
    /// into ∂/∂[μ | s], encoder backward.
    ///
    /// # Panics
    /// If the slices do not have length dim (a programming error).
    pub fn loss_gradient(&self, params: &[T], s: &mut VaeScratch<T>, grad: &mut [T]) -> ElboTerms {
        let batch = lock(&self.batch);
        let (dec_p, enc_p) = params.split_at(self.n_decoder());
        let (dec_g, enc_g) = grad.split_at_mut(self.n_decoder());
        s.enc.input_mut().copy_from(&batch.x);
        self.encoder.forward(enc_p, &mut s.enc, Mode::Train);
        reparameterise(s.enc.output(), &batch.eps, &mut s.z);
        s.dec.input_mut().copy_from(&s.z);
        self.decoder.forward(dec_p, &mut s.dec, Mode::Train);
        let recon_loglik =
            gaussian_loglik(&batch.x, s.dec.output(), self.decoder_std, &mut s.dxhat);
        s.dec.output_grad_mut().copy_from(&s.dxhat);
        self.decoder.backward(dec_p, &mut s.dec, Some(dec_g), true);
        s.dz.copy_from(s.dec.input_grad());
        s.dmu_s.fill(T::zero());
        let kl = gaussian_kl(s.enc.output(), &mut s.dmu_s);
        reparameterise_backward(s.enc.output(), &batch.eps, &s.dz, &mut s.dmu_s);
        s.enc.output_grad_mut().copy_from(&s.dmu_s);
        self.encoder.backward(enc_p, &mut s.enc, Some(enc_g), false);
        ElboTerms {
            elbo: recon_loglik - kl,
            recon_loglik,
            kl,
        }
    }

    /// The decoder's means x̂(z) for the latent rows `z` (B × m).
    #[must_use]
    pub fn decode(&self, theta: &[T], z: &DMatrix<T>) -> DMatrix<T> {
        let mut ws = self.decoder.workspace(z.nrows());
        self.decoder
            .forward_from(&theta[..self.n_decoder()], z, &mut ws, Mode::Eval);
        ws.output().clone()
    }

    /// Samples for the latent rows `z` ~ N(0, I): the decoder's means, plus σ_x times
    /// the rows of `noise` (same shape as the samples) when given (`samples = "noisy"`).
    #[must_use]
    pub fn sample(&self, theta: &[T], z: &DMatrix<T>, noise: Option<&DMatrix<T>>) -> DMatrix<T> {
        let mut x = self.decode(theta, z);
        if let Some(n) = noise {
            x += n * T::of(self.decoder_std);
        }
        x
    }
}

impl<T: Float> Game for Vae<T> {
    fn name(&self) -> &'static str {
        "vae"
    }
    fn dim(&self) -> usize {
        self.n_decoder() + self.n_encoder()
    }
    /// All coordinates belong to the one real player.
    fn split(&self) -> usize {
        self.dim()
    }
    /// v(x) = ∇_x ELBO = −∇_x(−ELBO) on the current batch.
    fn field(&self, x: &Vector) -> Vector {
        let mut guard = lock(&self.scratch);
        let s = &mut *guard;
        let mut params = std::mem::take(&mut s.params);
        let mut grad = std::mem::take(&mut s.grad);
        params
            .iter_mut()
            .zip(x.iter())
            .for_each(|(p, v)| *p = T::of(*v));
        grad.fill(T::zero());
        let terms = self.loss_gradient(&params, s, &mut grad);
        let v = Vector::from_iterator(grad.len(), grad.iter().map(|g| -g.f64()));
        s.last = VaeEvaluation {
            terms,
            grad_norm: v.norm(),
            evals: s.last.evals + 1,
        };
        s.params = params;
        s.grad = grad;
        v
    }
    /// The whole field for the generator (the only player); the discriminator has no
    /// coordinates, so its block is empty and nothing is evaluated.
    fn player_field(&self, x: &Vector, player: Player) -> Vector {
        match player {
            Player::Generator => self.field(x),
            Player::Discriminator => Vector::zeros(self.dim()),
        }
    }
    /// A fresh batch: data rows, then ε. A discriminator turn draws nothing (there is
    /// no discriminator).
    fn draw_batch(&self, for_player: Option<Player>, rng: &mut Rng) {
        if for_player == Some(Player::Discriminator) {
            return;
        }
        let mut b = lock(&self.batch);
        self.data.sample_into(rng, &mut b.x);
        Latent {
            kind: LatentKind::Gaussian,
            dim: self.latent_dim,
        }
        .sample_into(rng, &mut b.eps);
    }
    fn nonsmooth_at(&self, _x: &Vector) -> Option<String> {
        let kinked = self
            .decoder
            .layers()
            .iter()
            .chain(self.encoder.layers())
            .any(|l| {
                matches!(
                    l.activation,
                    crate::nn::Activation::Relu | crate::nn::Activation::LeakyRelu { .. }
                )
            });
        kinked.then(|| "ReLU-type activations: the field is only piecewise smooth".to_string())
    }
    fn params(&self) -> serde_json::Value {
        serde_json::json!({
            "decoder": self.decoder.layers(),
            "encoder": self.encoder.layers(),
            "latent_dim": self.latent_dim,
            "decoder_std": self.decoder_std,
            "dataset": self.data.spec(),
            "batch_size": self.batch_size(),
        })
    }
}

#[cfg(test)]
mod tests;
