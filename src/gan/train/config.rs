//! The training configuration: [`TrainConfig`] as read from TOML (every key optional,
//! unknown keys refused), validated once into a [`ValidConfig`], the only form the
//! builder and the trainer accept.
//!
//! [`TrainConfig`] is what `redqueen train --config <file>` and a study's `[train]`
//! section parse ([`TrainConfig::from_toml`]). Every key is optional (defaults: the
//! gan-vis run); unknown keys are errors. The seed-002 WGAN-GP run, for example:
//! ```toml
//! seed = 0
//! steps = 500
//! batch_size = 500
//! loss = "wasserstein"                               # minimax | non_saturating | wasserstein
//! penalty = { kind = "gradient_penalty", lambda = 10.0 }  # none | r1 | r2 (gamma)
//! latent = { kind = "gaussian", dim = 15 }
//! dataset = { kind = "ring", modes = 3, radius = 1.0, std = 0.1 }
//! schedule = { order = "d_first", d_steps = 5, g_steps = 1 }
//! [generator]
//! hidden = [50, 50, 50, 50]
//! activation = { kind = "leaky_relu", slope = 0.2 }
//! [discriminator]
//! hidden = [100, 50, 50]
//! activation = { kind = "leaky_relu", slope = 0.2 }
//! [optimizer_g]
//! kind = "adam"
//! lr = 1e-4
//! beta1 = 0.5
//! beta2 = 0.9
//! [optimizer_d]
//! kind = "adam"
//! lr = 1e-4
//! beta1 = 0.5
//! beta2 = 0.9
//! ```
//! Other keys: `precision` (`"f32"`/`"f64"`), `label_smoothing`, `weight_clip`,
//! `[infogan]` (`categories`, `lambda`, `hidden`), `unroll` (`steps`, `backprop`,
//! `lr`), `feature_matching` (`layer`), `model` (`"gan"`/`"vae"`) and `[vae]`
//! (`decoder_std`, `samples`), `log_every`, `snapshot_every`, `checkpoint_every`, `snapshot_samples`,
//! `eval_samples`, `coverage_min_fraction`, `histogram_bins`, `pack`; see the field
//! docs of [`TrainConfig`], for the layer keys of `[generator]` and `[discriminator]`
//! those of [`NetConfig`], and for the generator objectives and the VAE
//! [`super::model`].
//!
//! PacGAN2 on the 8-mode ring (Lin et al. 2018, the model of the PyTorch peer):
//! ```toml
//! batch_size = 100
//! pack = 2
//! latent = { kind = "gaussian", dim = 2 }
//! dataset = { kind = "ring", modes = 8, radius = 1.0, std = 0.01 }
//! [generator]
//! hidden = [400, 400, 400, 400]
//! batch_norm = true
//! init = { kind = "normal", std = 0.02 }
//! [discriminator]
//! hidden = [200, 200, 200]
//! maxout = 5                      # maxout units are their own nonlinearity
//! init = { kind = "normal", std = 0.02 }
//! [optimizer_g]
//! kind = "adam"
//! lr = 1e-4
//! beta1 = 0.8
//! [optimizer_d]
//! kind = "adam"
//! lr = 1e-4
//! beta1 = 0.8
//! ```

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::budget::{check_memory, product};
use crate::datasets::{DataSampler, Dataset, Latent};
use crate::dynamics::{Optimizer, Order, RuleSpec, Scheme};
use crate::error::{Error, Result};
use crate::gan::neural::{GanOptions, SpectralNorm};
use crate::gan::{FeatureMatchingConfig, GanLoss, InfoGanTerm, Objective, Penalty, UnrollConfig};
use crate::nn::{Activation, LayerKind, Mlp};
use crate::vae::VaeConfig;

/// Which model a configuration trains (`model = "gan" | "vae"`, [`super::model`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    /// A GAN (the default).
    #[default]
    Gan,
    /// The VAE baseline (Kingma & Welling 2014, [`crate::vae`]).
    Vae,
}

impl Model {
    /// Whether this is the GAN (the default, left out of the written configuration).
    #[must_use]
    pub fn is_gan(&self) -> bool {
        *self == Model::Gan
    }
}

/// Floating-point type of the networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// Single precision (measured faster, see [`crate::nn`]).
    #[default]
    F32,
    /// Double precision.
    F64,
}

pub use super::net_config::{
    BN_EPS, BN_MOMENTUM, MAX_PACK, MAX_POWER_ITERATIONS, MinibatchConfig, NetConfig,
};
use super::net_config::{is_one, is_zero, one, relu};

/// InfoGAN settings (Chen et al. 2016).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InfoGanConfig {
    /// Number of categories k of the code c (gan-vis: 3, 6, 20).
    pub categories: usize,
    /// λ (default 1).
    #[serde(default = "one")]
    pub lambda: f64,
    /// Hidden widths of Q (default `[40, 40]`, ReLU; Q is 2→40→40→k with softmax).
    #[serde(default = "q_hidden")]
    pub hidden: Vec<usize>,
}

fn q_hidden() -> Vec<usize> {
    vec![40, 40]
}

/// Everything a neural training run needs. Every field has a default matching the
/// gan-vis configuration (seed 001), so an empty file is a valid config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Master seed (default 0).
    pub seed: u64,
    /// Number of steps (G phases) (default 100 000, gan-vis).
    pub steps: usize,
    /// Batch size B for real and fake batches (default 50).
    pub batch_size: usize,
    /// Network precision (default f32).
    pub precision: Precision,
    /// Target distribution (default the gan-vis ring: 3 modes, radius 1, std 0.05).
    pub dataset: Dataset,
    /// Latent distribution (default 10-D uniform on [0, 1)).
    pub latent: Latent,
    /// Generator (default hidden [50, 50, 50], ReLU, Glorot-uniform).
    pub generator: NetConfig,
    /// Discriminator (default hidden [50, 50, 50, 50], ReLU, Glorot-uniform).
    pub discriminator: NetConfig,
    /// Adversarial loss (default non-saturating).
    pub loss: GanLoss,
    /// Gradient penalty on D (default none).
    pub penalty: Penalty,
    /// One-sided label smoothing α ∈ [0, 1) (default 0).
    pub label_smoothing: f64,
    /// WGAN weight clip c > 0 on D's parameters (default none; gan-vis WGAN: 0.1).
    pub weight_clip: Option<f64>,
    /// InfoGAN categorical code (default none).
    pub infogan: Option<InfoGanConfig>,
    /// Unrolled GAN (Metz et al. 2017): `{ steps, backprop = true, lr = optimizer_d's
    /// lr }` (default none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unroll: Option<UnrollConfig>,
    /// Feature matching (Salimans et al. 2016, §3.1): `{ layer = D's last hidden layer }`
    /// (default none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature_matching: Option<FeatureMatchingConfig>,
    /// The model: `"gan"` (default) or `"vae"`.
    #[serde(skip_serializing_if = "Model::is_gan")]
    pub model: Model,
    /// The VAE's settings (with `model = "vae"`; default `{ decoder_std = 0.1,
    /// samples = "mean" }`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vae: Option<VaeConfig>,
    /// Generator optimiser (default Adam lr 1e-4, β = (0.9, 0.999), ε = 1e-8).
    pub optimizer_g: Optimizer,
    /// Discriminator (and Q) optimiser (default as the generator's).
    pub optimizer_d: Optimizer,
    /// Update scheme: order and updates per player (default D first, 1 and 1).
    pub schedule: Scheme,
    /// Log a CSV row every this many steps (default 100).
    pub log_every: usize,
    /// Write a sample snapshot every this many steps; 0 = never (default 0).
    pub snapshot_every: usize,
    /// Write the joint parameters x = (θ_G, ψ) and the optimiser state to
    /// `checkpoints/` every this many steps and at the last step; 0 = never (default 0).
    /// The format is [`crate::gan::checkpoint`]'s.
    #[serde(skip_serializing_if = "is_zero")]
    pub checkpoint_every: usize,
    /// Samples per snapshot and in `samples_final.csv` (default 500).
    pub snapshot_samples: usize,
    /// Generated samples used for the metrics at each log step (default 1000; the
    /// energy distance uses all of them, cost O(n²)).
    pub eval_samples: usize,
    /// A mode counts as covered when it holds at least this fraction of the samples
    /// (default 0.05).
    pub coverage_min_fraction: f64,
    /// Bins of the 1-D histogram KL/JS (default 50).
    pub histogram_bins: usize,
    /// PacGAN packing m (Lin et al. 2018): D reads m samples concatenated; a batch is
    /// `batch_size` packs of m independent draws (default 1: the plain GAN).
    #[serde(skip_serializing_if = "is_one")]
    pub pack: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            seed: 0,
            steps: 100_000,
            batch_size: 50,
            precision: Precision::F32,
            dataset: Dataset::default(),
            latent: Latent::default(),
            generator: NetConfig::dense(vec![50, 50, 50], relu()),
            discriminator: NetConfig::dense(vec![50, 50, 50, 50], relu()),
            loss: GanLoss::NonSaturating,
            penalty: Penalty::None,
            label_smoothing: 0.0,
            weight_clip: None,
            infogan: None,
            unroll: None,
            feature_matching: None,
            model: Model::Gan,
            vae: None,
            optimizer_g: Optimizer::adam(1e-4, 0.9, 0.999),
            optimizer_d: Optimizer::adam(1e-4, 0.9, 0.999),
            schedule: Scheme::Alternating {
                order: Order::DFirst,
                k_g: 1,
                k_d: 1,
            },
            log_every: 100,
            snapshot_every: 0,
            checkpoint_every: 0,
            snapshot_samples: 500,
            eval_samples: 1000,
            coverage_min_fraction: 0.05,
            histogram_bins: 50,
            pack: 1,
        }
    }
}

/// Most evaluation samples per log step: the energy distance of 2-D targets compares
/// every pair, so n = 10⁵ is already 10¹⁰ distance evaluations per log row.
pub const MAX_EVAL_SAMPLES: usize = 100_000;

impl TrainConfig {
    /// Parses a TOML document (the `redqueen train --config` file or a study setting):
    /// the raw form, not yet validated ([`TrainConfig::validated`]).
    ///
    /// # Errors
    /// [`Error::Config`] naming `path` and the line for a TOML or unknown-key error, or
    /// naming a key that would be silently dropped ([`crate::unread_keys`]).
    pub fn from_toml(text: &str, path: &Path) -> Result<Self> {
        let config: Self = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|sp| text[..sp.start.min(text.len())].matches('\n').count() + 1);
            Error::config(
                path,
                match line {
                    Some(l) => format!("line {l}: {}", e.message()),
                    None => e.message().to_string(),
                },
            )
        })?;
        if let Ok(table) = text.parse::<toml::Table>()
            && let Some(why) = crate::unread_keys::first_unread::<Self>(&table)
        {
            return Err(Error::config(path, why));
        }
        Ok(config)
    }

    /// Checks every value (naming the key and the reason) and the memory the run will
    /// need, and returns the configuration in the only form the trainer accepts.
    ///
    /// # Errors
    /// [`Error::Param`] with the offending key.
    pub fn validated(self) -> Result<ValidConfig> {
        self.check()?;
        let data = Arc::new(self.dataset.build()?);
        let valid = ValidConfig { config: self, data };
        valid.check_networks()?;
        Ok(valid)
    }

    fn check(&self) -> Result<()> {
        let pos = |key: &str, v: usize| {
            if v == 0 {
                Err(Error::param(key, "must be at least 1"))
            } else {
                Ok(())
            }
        };
        pos("steps", self.steps)?;
        pos("batch_size", self.batch_size)?;
        pos("log_every", self.log_every)?;
        pos("latent.dim", self.latent.dim)?;
        self.schedule.validate(&|f| format!("schedule.{f}"))?;
        if self.eval_samples < 2 {
            return Err(Error::param("eval_samples", "must be at least 2"));
        }
        if self.eval_samples > MAX_EVAL_SAMPLES {
            return Err(Error::param(
                "eval_samples",
                format!(
                    "{} is more than the limit {MAX_EVAL_SAMPLES} (the energy distance compares every pair)",
                    self.eval_samples
                ),
            ));
        }
        if self.snapshot_samples == 0 {
            return Err(Error::param("snapshot_samples", "must be at least 1"));
        }
        pos("histogram_bins", self.histogram_bins)?;
        if self.checkpoint_every > 0 && self.model == Model::Vae {
            return Err(Error::param(
                "checkpoint_every",
                "checkpoints hold a GAN's (θ_G, ψ_D); the VAE writes none (set 0)",
            ));
        }
        self.generator.check("generator")?;
        self.discriminator.check("discriminator")?;
        self.check_stabilisers()?;
        if !(0.0..1.0).contains(&self.label_smoothing) {
            return Err(Error::param(
                "label_smoothing",
                format!("{} is not in [0, 1)", self.label_smoothing),
            ));
        }
        if let Some(c) = self.weight_clip
            && !(c.is_finite() && c > 0.0)
        {
            return Err(Error::param(
                "weight_clip",
                format!("{c} is not a positive number"),
            ));
        }
        let w = self.penalty.weight();
        if !(w.is_finite() && w >= 0.0) {
            return Err(Error::param("penalty", format!("weight {w} is not ≥ 0")));
        }
        if let Some(info) = &self.infogan {
            if info.categories < 2 {
                return Err(Error::param(
                    "infogan.categories",
                    "need at least 2 categories",
                ));
            }
            if !(info.lambda.is_finite() && info.lambda >= 0.0) {
                return Err(Error::param(
                    "infogan.lambda",
                    format!("{} is not ≥ 0", info.lambda),
                ));
            }
            if info.hidden.contains(&0) {
                return Err(Error::param("infogan.hidden", "a hidden width is 0"));
            }
        }
        if !(0.0..=1.0).contains(&self.coverage_min_fraction) {
            return Err(Error::param("coverage_min_fraction", "must be in [0, 1]"));
        }
        self.check_model()?;
        self.optimizer_g.validate(&|f| format!("optimizer_g.{f}"))?;
        self.optimizer_d.validate(&|f| format!("optimizer_d.{f}"))?;
        self.rule_spec().validate().map_err(|e| match e {
            Error::Param { reason, .. } => Error::param("schedule", reason),
            other => other,
        })?;
        self.check_memory()
    }

    /// The combinations of the layer and packing keys.
    fn check_stabilisers(&self) -> Result<()> {
        if !(1..=MAX_PACK).contains(&self.pack) {
            return Err(Error::param(
                "pack",
                format!("{} is not in 1..={MAX_PACK}", self.pack),
            ));
        }
        if self.discriminator.batch_norm {
            return Err(Error::param(
                "discriminator.batch_norm",
                "batch norm is for the generator (D's real and fake rows form one stacked \
                 batch; use spectral_norm to regularise D)",
            ));
        }
        if self.generator.spectral_norm {
            return Err(Error::param(
                "generator.spectral_norm",
                "spectral normalisation applies to the discriminator",
            ));
        }
        if self.generator.minibatch.is_some() {
            return Err(Error::param(
                "generator.minibatch",
                "minibatch discrimination is a discriminator layer",
            ));
        }
        if self.discriminator.minibatch.is_some() && self.penalty.is_active() {
            return Err(Error::param(
                "discriminator.minibatch",
                "gradient penalties need double backprop through D, which minibatch \
                 discrimination does not have: set penalty = { kind = \"none\" }",
            ));
        }
        if self.generator.batch_norm && self.batch_size.saturating_mul(self.pack) < 2 {
            return Err(Error::param(
                "batch_size",
                "batch norm in the generator needs at least 2 samples per batch",
            ));
        }
        Ok(())
    }

    /// The memory of the run, estimated from the sizes before anything is allocated:
    /// per parameter the f64 point, its field and two optimiser slots, plus the network
    /// precision's copy and gradient (≈ 48 bytes); per unit of every layer and batch row
    /// about ten f64 buffers (activations, derivatives, adjoints), with D run on 3B rows
    /// (real and fake stacked, plus the generator step); the evaluation and snapshot
    /// samples through G; the log rows; the histogram bins.
    fn check_memory(&self) -> Result<()> {
        let k = self.infogan.as_ref().map_or(0, |i| i.categories) as u128;
        let width = |hidden: &[usize]| hidden.iter().map(|&h| h as u128).sum::<u128>();
        // The data dimension is not known before the data set is built; 16 bounds every
        // synthetic set here (CSV data are checked when they are read).
        let data = 16u128;
        // Maxout layers hold k affine outputs per unit (pre-activations, adjoints).
        let (wg, wd) = (
            width(&self.generator.hidden) * self.generator.maxout as u128,
            width(&self.discriminator.hidden) * self.discriminator.maxout as u128,
        );
        let m = self.pack as u128;
        let wq = self.infogan.as_ref().map_or(0, |i| width(&i.hidden));
        let layer = |input: u128, hidden: &[usize], out: u128| {
            let mut w = vec![input];
            w.extend(hidden.iter().map(|&h| h as u128));
            w.push(out);
            w.windows(2)
                .map(|p| product(&[p[0] + 1, p[1]]))
                .fold(0u128, u128::saturating_add)
        };
        let g_params = layer(self.latent.dim as u128 + k, &self.generator.hidden, data)
            .saturating_mul(self.generator.maxout as u128);
        let d_params = layer(m * data, &self.discriminator.hidden, 1)
            .saturating_mul(self.discriminator.maxout as u128)
            .saturating_add(
                self.infogan
                    .as_ref()
                    .map_or(0, |i| layer(data, &i.hidden, k)),
            );
        let b = self.batch_size as u128;
        let units_g = wg + self.latent.dim as u128 + k + data;
        let units_d = wd + m * data + 1;
        // Minibatch discrimination: M (kernels·dim per row) and the pair kernels (B per
        // row and kernel, real and fake groups) of D on 2B rows.
        let pairs = self.discriminator.minibatch.map_or(0, |mb| {
            product(&[2 * b, 8, mb.kernels as u128, (b + mb.dim as u128)])
        });
        let eval_rows = self.eval_samples.max(self.snapshot_samples) as u128;
        let parts = [
            ("generator.hidden", product(&[g_params, 48])),
            ("discriminator.hidden", product(&[d_params, 48])),
            (
                "batch_size",
                product(&[b, 80, m * units_g + 3 * units_d + m * wq + m * data])
                    .saturating_add(pairs),
            ),
            ("eval_samples", product(&[eval_rows, 80, units_g])),
            (
                "steps",
                product(&[(self.steps / self.log_every) as u128 + 2, 8 * 64]),
            ),
            (
                "histogram_bins",
                product(&[self.histogram_bins as u128, 16]),
            ),
        ];
        let total = parts.iter().fold(0u128, |t, p| t.saturating_add(p.1));
        let key = parts
            .iter()
            .max_by_key(|p| p.1)
            .map_or("batch_size", |p| p.0);
        check_memory(key, total, "this training run")
    }

    /// The three networks (G, D, optional Q) for data of dimension `data_dim`.
    ///
    /// # Errors
    /// [`Error::Param`] for an invalid architecture.
    pub fn networks(&self, data_dim: usize) -> Result<(Mlp, Mlp, Option<Mlp>)> {
        let k = self.infogan.as_ref().map_or(0, |i| i.categories);
        let widths = |input: usize, hidden: &[usize], out: usize| {
            std::iter::once(input)
                .chain(hidden.iter().copied())
                .chain(std::iter::once(out))
                .collect::<Vec<_>>()
        };
        let g = Mlp::chain(
            &widths(self.latent.dim + k, &self.generator.hidden, data_dim),
            self.generator.activation,
            Activation::Linear,
            self.generator.dropout_keep,
            self.generator.hidden_kind(),
            None,
        )?;
        let d = Mlp::chain(
            &widths(self.pack * data_dim, &self.discriminator.hidden, 1),
            self.discriminator.activation,
            Activation::Linear,
            self.discriminator.dropout_keep,
            self.discriminator.hidden_kind(),
            self.discriminator.minibatch.map(|mb| LayerKind::Minibatch {
                kernels: mb.kernels,
                dim: mb.dim,
            }),
        )?;
        let q = match &self.infogan {
            Some(info) => Some(Mlp::new(
                &widths(data_dim, &info.hidden, info.categories),
                Activation::Relu,
                Activation::Linear,
                1.0,
            )?),
            None => None,
        };
        Ok((g, d, q))
    }

    /// The update rule of this configuration, in the rules' one vocabulary: the schedule
    /// is the scheme and the two optimisers are the players' (no field adjustment).
    #[must_use]
    pub fn rule_spec(&self) -> RuleSpec {
        RuleSpec {
            scheme: self.schedule.clone(),
            g: self.optimizer_g,
            d: self.optimizer_d,
            adjust: None,
        }
    }

    /// Packing and spectral normalisation of the GAN (the power-iteration vectors are
    /// seeded by `seed`).
    #[must_use]
    pub fn gan_options(&self) -> GanOptions {
        GanOptions {
            pack: self.pack,
            spectral_norm: self.discriminator.spectral_norm.then_some(SpectralNorm {
                iterations: self.discriminator.spectral_norm_iterations,
                seed: self.seed,
            }),
        }
    }

    /// The losses and regularisers of both players.
    #[must_use]
    pub fn objective(&self) -> Objective {
        Objective {
            loss: self.loss,
            penalty: self.penalty,
            label_smoothing: self.label_smoothing,
            weight_clip: self.weight_clip,
            info: self.infogan.as_ref().map(|i| InfoGanTerm {
                categories: i.categories,
                lambda: i.lambda,
            }),
        }
    }
}

/// A configuration that passed [`TrainConfig::validated`], with its data set built (so a
/// bad data set, a CSV file included, is reported when the configuration is read). It
/// cannot be changed except through methods that keep it valid, so the builder and the
/// trainer never check again.
#[derive(Debug, Clone)]
pub struct ValidConfig {
    config: TrainConfig,
    data: Arc<DataSampler>,
}

impl PartialEq for ValidConfig {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
    }
}

/// Written as the configuration alone (the data set is its description).
impl Serialize for ValidConfig {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.config.serialize(s)
    }
}

impl std::ops::Deref for ValidConfig {
    type Target = TrainConfig;
    fn deref(&self) -> &TrainConfig {
        &self.config
    }
}

impl ValidConfig {
    /// The data set, built once.
    #[must_use]
    pub fn data(&self) -> &DataSampler {
        &self.data
    }
    /// The same configuration with another seed (every seed is valid).
    #[must_use]
    pub fn with_seed(&self, seed: u64) -> Self {
        ValidConfig {
            config: TrainConfig {
                seed,
                ..self.config.clone()
            },
            data: self.data.clone(),
        }
    }
    /// The same configuration cut to at most `steps` steps (at least 1), with the log
    /// interval cut to match: a shorter run of the same kind needs no new check.
    #[must_use]
    pub fn shortened(&self, steps: usize) -> Self {
        let steps = self.config.steps.min(steps).max(1);
        ValidConfig {
            config: TrainConfig {
                steps,
                log_every: self.config.log_every.min(steps),
                ..self.config.clone()
            },
            data: self.data.clone(),
        }
    }
    /// The same configuration on another data set.
    ///
    /// # Errors
    /// As [`crate::datasets::Dataset::build`].
    pub fn with_dataset(&self, dataset: Dataset) -> Result<Self> {
        let data = Arc::new(dataset.build()?);
        Ok(ValidConfig {
            config: TrainConfig {
                dataset,
                ..self.config.clone()
            },
            data,
        })
    }
    /// The raw configuration.
    #[must_use]
    pub fn into_inner(self) -> TrainConfig {
        self.config
    }
}
