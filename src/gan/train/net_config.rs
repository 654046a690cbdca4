//! One network's architecture as configured (`[generator]`, `[discriminator]`): widths,
//! activation, dropout, initialisation and the layer keys (batch norm, maxout, spectral
//! normalisation, minibatch discrimination), with their validation.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::nn::{Activation, Init, LayerKind, maxout};

/// One network's architecture (the output layer is always linear: G's samples, D's
/// logit, Q's class logits). The layer keys (`batch_norm`, `maxout`, `spectral_norm`,
/// `minibatch`) are omitted from the written configuration when off, so a plain
/// network's description is as before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "RawNetConfig")]
pub struct NetConfig {
    /// Hidden widths, e.g. `[50, 50, 50]` (required when the section is written, since
    /// G's and D's defaults differ).
    pub hidden: Vec<usize>,
    /// Hidden activation, e.g. `{ kind = "relu" }` or `{ kind = "leaky_relu", slope = 0.2 }`
    /// (default ReLU; with `maxout` the default is linear and nothing else is allowed:
    /// the max is the nonlinearity).
    pub activation: Activation,
    /// Dropout keep probability on hidden layers (1 = off; gan-vis dropout G: 0.5).
    pub dropout_keep: f64,
    /// Initialisation (default Glorot-uniform weights and biases, as gan-vis;
    /// PacGAN's N(0, 0.02²) with zero biases is `{ kind = "normal", std = 0.02 }`).
    pub init: Init,
    /// Batch normalisation of every hidden layer, between its affine map and the
    /// activation (Ioffe & Szegedy 2015; generator only). The affine map then has no
    /// bias (β takes its place); γ starts at 1, β at 0.
    #[serde(skip_serializing_if = "is_false")]
    pub batch_norm: bool,
    /// Momentum of the running statistics (PyTorch's default 0.1).
    #[serde(skip_serializing_if = "is_default_momentum")]
    pub batch_norm_momentum: f64,
    /// ε of batch norm (PyTorch's default 1e-5).
    #[serde(skip_serializing_if = "is_default_eps")]
    pub batch_norm_eps: f64,
    /// Maxout pieces k of every hidden unit (Goodfellow et al. 2013); 1 = plain units
    /// (default).
    #[serde(skip_serializing_if = "is_one")]
    pub maxout: usize,
    /// Spectral normalisation of every weight matrix (Miyato et al. 2018;
    /// discriminator only).
    #[serde(skip_serializing_if = "is_false")]
    pub spectral_norm: bool,
    /// Power iterations per D update of spectral normalisation (default 1).
    #[serde(skip_serializing_if = "is_one")]
    pub spectral_norm_iterations: usize,
    /// Minibatch discrimination before the last layer (Salimans et al. 2016, §3.2;
    /// discriminator only): `{ kernels = B, dim = C }`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minibatch: Option<MinibatchConfig>,
}

/// Minibatch discrimination's tensor T ∈ R^{A×B×C}: A is the last hidden width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinibatchConfig {
    /// Number of kernels B (features added).
    pub kernels: usize,
    /// Dimension C of each kernel.
    pub dim: usize,
}

/// Default batch-norm momentum (PyTorch's).
pub const BN_MOMENTUM: f64 = 0.1;
/// Default batch-norm ε (PyTorch's).
pub const BN_EPS: f64 = 1e-5;
/// Largest PacGAN pack m (the paper uses 2–4; D's input grows with m).
pub const MAX_PACK: usize = 64;
/// Most power iterations per D update (each costs two products with every weight
/// matrix; the paper uses 1).
pub const MAX_POWER_ITERATIONS: usize = 100;

pub(super) fn is_false(b: &bool) -> bool {
    !*b
}
pub(super) fn is_one(v: &usize) -> bool {
    *v == 1
}
#[allow(clippy::trivially_copy_pass_by_ref)]
pub(super) fn is_zero(v: &usize) -> bool {
    *v == 0
}
#[allow(clippy::trivially_copy_pass_by_ref)]
pub(super) fn is_default_momentum(v: &f64) -> bool {
    *v == BN_MOMENTUM
}
#[allow(clippy::trivially_copy_pass_by_ref)]
pub(super) fn is_default_eps(v: &f64) -> bool {
    *v == BN_EPS
}

/// The TOML form of [`NetConfig`]: the activation's default depends on `maxout`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetConfig {
    hidden: Vec<usize>,
    activation: Option<Activation>,
    #[serde(default = "one")]
    dropout_keep: f64,
    #[serde(default)]
    init: Init,
    #[serde(default)]
    batch_norm: bool,
    #[serde(default = "bn_momentum")]
    batch_norm_momentum: f64,
    #[serde(default = "bn_eps")]
    batch_norm_eps: f64,
    #[serde(default = "one_usize")]
    maxout: usize,
    #[serde(default)]
    spectral_norm: bool,
    #[serde(default = "one_usize")]
    spectral_norm_iterations: usize,
    #[serde(default)]
    minibatch: Option<MinibatchConfig>,
}

impl From<RawNetConfig> for NetConfig {
    fn from(r: RawNetConfig) -> Self {
        let activation = r.activation.unwrap_or(if r.maxout > 1 {
            Activation::Linear
        } else {
            Activation::Relu
        });
        NetConfig {
            hidden: r.hidden,
            activation,
            dropout_keep: r.dropout_keep,
            init: r.init,
            batch_norm: r.batch_norm,
            batch_norm_momentum: r.batch_norm_momentum,
            batch_norm_eps: r.batch_norm_eps,
            maxout: r.maxout,
            spectral_norm: r.spectral_norm,
            spectral_norm_iterations: r.spectral_norm_iterations,
            minibatch: r.minibatch,
        }
    }
}

impl NetConfig {
    /// Plain dense layers of the given widths and activation, no dropout, Glorot-uniform
    /// (every other key at its default).
    #[must_use]
    pub fn dense(hidden: Vec<usize>, activation: Activation) -> Self {
        NetConfig {
            hidden,
            activation,
            dropout_keep: 1.0,
            init: Init::GlorotUniform,
            batch_norm: false,
            batch_norm_momentum: BN_MOMENTUM,
            batch_norm_eps: BN_EPS,
            maxout: 1,
            spectral_norm: false,
            spectral_norm_iterations: 1,
            minibatch: None,
        }
    }
    /// The kind of the hidden layers.
    #[must_use]
    pub fn hidden_kind(&self) -> LayerKind {
        if self.batch_norm {
            LayerKind::BatchNorm {
                momentum: self.batch_norm_momentum,
                eps: self.batch_norm_eps,
            }
        } else if self.maxout > 1 {
            LayerKind::Maxout {
                pieces: self.maxout,
            }
        } else {
            LayerKind::Dense
        }
    }

    /// Checks the values of the section `key` (`generator` or `discriminator`).
    pub(super) fn check(&self, key: &str) -> Result<()> {
        let k = |f: &str| format!("{key}.{f}");
        if self.hidden.contains(&0) {
            return Err(Error::param(k("hidden"), "a hidden width is 0"));
        }
        if !(self.dropout_keep > 0.0 && self.dropout_keep <= 1.0) {
            return Err(Error::param(
                k("dropout_keep"),
                format!("{} is not in (0, 1]", self.dropout_keep),
            ));
        }
        if let Init::Normal { std } = self.init
            && !(std.is_finite() && std > 0.0)
        {
            return Err(Error::param(
                k("init.std"),
                format!("{std} is not positive"),
            ));
        }
        if let Activation::LeakyRelu { slope } = self.activation
            && !slope.is_finite()
        {
            return Err(Error::param(k("activation.slope"), "must be finite"));
        }
        if !(0.0..=1.0).contains(&self.batch_norm_momentum) {
            return Err(Error::param(
                k("batch_norm_momentum"),
                format!("{} is not in [0, 1]", self.batch_norm_momentum),
            ));
        }
        if !(self.batch_norm_eps.is_finite() && self.batch_norm_eps > 0.0) {
            return Err(Error::param(
                k("batch_norm_eps"),
                format!("{} is not positive", self.batch_norm_eps),
            ));
        }
        if !(1..=maxout::MAX_PIECES).contains(&self.maxout) {
            return Err(Error::param(
                k("maxout"),
                format!(
                    "{} is not in 1..={} (pieces per unit; 1 = off)",
                    self.maxout,
                    maxout::MAX_PIECES
                ),
            ));
        }
        if self.maxout > 1 && self.activation != Activation::Linear {
            return Err(Error::param(
                k("activation"),
                "maxout units are their own nonlinearity: leave `activation` out (or linear)",
            ));
        }
        if self.maxout > 1 && self.batch_norm {
            return Err(Error::param(
                k("maxout"),
                "batch_norm and maxout on one network are not supported together",
            ));
        }
        if !(1..=MAX_POWER_ITERATIONS).contains(&self.spectral_norm_iterations) {
            return Err(Error::param(
                k("spectral_norm_iterations"),
                format!(
                    "{} is not in 1..={MAX_POWER_ITERATIONS}",
                    self.spectral_norm_iterations
                ),
            ));
        }
        if let Some(mb) = self.minibatch
            && (mb.kernels == 0 || mb.dim == 0)
        {
            return Err(Error::param(
                k("minibatch"),
                format!(
                    "kernels = {} and dim = {} must both be at least 1",
                    mb.kernels, mb.dim
                ),
            ));
        }
        Ok(())
    }
}

pub(super) fn relu() -> Activation {
    Activation::Relu
}
pub(super) fn one() -> f64 {
    1.0
}
pub(super) fn one_usize() -> usize {
    1
}
pub(super) fn bn_momentum() -> f64 {
    BN_MOMENTUM
}
pub(super) fn bn_eps() -> f64 {
    BN_EPS
}
