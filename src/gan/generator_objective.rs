//! The generator's objective: which loss the generator descends.
//!
//! | objective | L_G | reference |
//! |---|---|---|
//! | adversarial (default) | the generator loss of [`crate::gan::GanLoss`] against D at ψ | Goodfellow et al. 2014 |
//! | unrolled | the same loss against D after k look-ahead steps of D's loss from ψ | Metz et al. 2017 ([`super::unrolled`]) |
//! | feature matching | ‖E f(x_real) − E f(G(z))‖² for a hidden layer f of D | Salimans et al. 2016, §3.1 ([`super::feature_matching`]) |
//!
//! The discriminator's loss and update are the same for all three. Each objective is a
//! deterministic function of (θ, ψ) on the drawn batch, so the generator's field block
//! −∇_θ L_G is a well-defined [`crate::game::Game`] field like the adversarial one
//! (the runner, the Jacobian and every analysis apply unchanged; the Jacobian-vector
//! products of a game with a non-adversarial objective are central differences of the
//! field, [`crate::game::JvpMethod::CentralDifference`]).
//!
//! Restrictions, checked when the objective is set ([`GeneratorObjective::check`]):
//! neither objective is combined with InfoGAN (its λ_I·L_CE term is part of the
//! adversarial generator loss only), and the unrolled objective needs a discriminator
//! loss without a gradient penalty or weight clipping (the look-ahead differentiates
//! ∇_ψ L_D once more: through a penalty that would need third derivatives of D in its
//! input, and clipping is not differentiable).

use serde::{Deserialize, Serialize};

use super::feature_matching::FeatureMatchingScratch;
use super::neural::{GStats, NeuralGan, Objective, lock};
use super::unrolled::UnrollScratch;
use crate::error::{Error, Result};
use crate::nn::{Float, Mlp};

/// The generator's objective (see the module table).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GeneratorObjective {
    /// The adversarial loss of [`crate::gan::GanLoss`] at the current ψ.
    #[default]
    Adversarial,
    /// The unrolled-GAN loss (Metz et al. 2017).
    Unrolled(Unroll),
    /// Feature matching (Salimans et al. 2016, §3.1).
    FeatureMatching(FeatureMatching),
}

/// The unrolled-GAN objective: L_G(θ, ψ_k) with ψ_0 = ψ and the look-ahead
/// ψ_{j+1} = ψ_j − η ∇_ψ L_D(θ, ψ_j) on the current batch (plain gradient steps: see
/// [`super::unrolled`] for why not D's own optimiser).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Unroll {
    /// Look-ahead steps k (0: the adversarial loss, bit for bit).
    pub steps: usize,
    /// Whether the gradient goes through the look-ahead (dψ_k/dθ, Metz et al.'s
    /// unrolled gradient) or treats ψ_k as a constant (the cheaper variant: ∂_θ L_G at
    /// ψ_k only).
    pub backprop: bool,
    /// Step size η of the look-ahead.
    pub lr: f64,
}

/// Feature matching on D's hidden layer `layer` (1 = the first hidden layer), built
/// for one discriminator by [`FeatureMatching::new`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureMatching {
    /// Which hidden layer's output (after its activation and dropout mask) is f:
    /// 1 … (number of hidden layers of D).
    layer: usize,
    /// D's first `layer` layers: f(x) is their output, and their parameters are the
    /// first entries of ψ_D (the flat layout of [`Mlp`] is layer by layer).
    #[serde(skip)]
    body: Mlp,
}

impl FeatureMatching {
    /// Feature matching on hidden layer `layer` of the discriminator `d`.
    ///
    /// # Errors
    /// [`Error::Param`] naming `feature_matching.layer` if D has no such hidden layer.
    pub fn new(d: &Mlp, layer: usize) -> Result<Self> {
        let hidden = d.layers().len() - 1;
        if hidden == 0 {
            return Err(Error::param(
                "feature_matching",
                "the discriminator has no hidden layer to match",
            ));
        }
        if layer == 0 || layer > hidden {
            return Err(Error::param(
                "feature_matching.layer",
                format!("{layer} is not a hidden layer of D (1 … {hidden})"),
            ));
        }
        Ok(FeatureMatching {
            layer,
            body: Mlp::from_layers(d.layers()[..layer].to_vec())?,
        })
    }
    /// The matched hidden layer (1-based).
    #[must_use]
    pub fn layer(&self) -> usize {
        self.layer
    }
    /// D's first [`FeatureMatching::layer`] layers.
    #[must_use]
    pub fn body(&self) -> &Mlp {
        &self.body
    }
}

/// `unroll = { steps, backprop, lr }` as a training configuration writes it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnrollConfig {
    /// Look-ahead steps k (Metz et al.: 5 or 10).
    pub steps: usize,
    /// Gradient through the look-ahead (default true); false: the cheaper variant.
    #[serde(default = "yes")]
    pub backprop: bool,
    /// Look-ahead step size η (default: the discriminator optimiser's learning rate).
    #[serde(default)]
    pub lr: Option<f64>,
}

fn yes() -> bool {
    true
}

/// `feature_matching = { layer }` as a training configuration writes it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FeatureMatchingConfig {
    /// D's hidden layer (1-based; default the last hidden layer).
    #[serde(default)]
    pub layer: Option<usize>,
}

/// The generator objective a configuration asks for: `unroll`, `feature_matching` or
/// neither, for the discriminator `d`, the losses `o` and D's learning rate `lr_d`
/// (the default look-ahead step).
///
/// # Errors
/// [`Error::Param`] naming the key: both objectives at once, a hidden layer D does not
/// have, a look-ahead that [`GeneratorObjective::check`] refuses.
pub fn resolve(
    unroll: Option<&UnrollConfig>,
    feature_matching: Option<&FeatureMatchingConfig>,
    o: &Objective,
    d: &Mlp,
    lr_d: f64,
) -> Result<GeneratorObjective> {
    let objective = match (unroll, feature_matching) {
        (Some(_), Some(_)) => {
            return Err(Error::param(
                "feature_matching",
                "cannot be combined with unroll (both replace the generator's loss)",
            ));
        }
        (Some(u), None) => GeneratorObjective::Unrolled(Unroll {
            steps: u.steps,
            backprop: u.backprop,
            lr: u.lr.unwrap_or(lr_d),
        }),
        (None, Some(f)) => GeneratorObjective::FeatureMatching(FeatureMatching::new(
            d,
            f.layer.unwrap_or(d.layers().len().saturating_sub(1)),
        )?),
        (None, None) => GeneratorObjective::Adversarial,
    };
    objective.check(o, d)?;
    Ok(objective)
}

/// Largest number of look-ahead steps: each step costs a forward and a backward pass
/// of D on the 2B stacked rows (twice that with backprop), and with backprop every
/// step's D workspace is kept; Metz et al. used at most 10.
pub const MAX_UNROLL_STEPS: usize = 100;

impl GeneratorObjective {
    /// Whether this is the adversarial loss.
    #[must_use]
    pub fn is_adversarial(&self) -> bool {
        matches!(self, GeneratorObjective::Adversarial)
    }

    /// A one-line description for logs and reports, e.g. "unrolled, k = 5, gradient
    /// through the look-ahead".
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            GeneratorObjective::Adversarial => "adversarial".into(),
            GeneratorObjective::Unrolled(u) => format!(
                "unrolled, k = {} SGD look-ahead steps of η = {}, {}",
                u.steps,
                u.lr,
                if u.backprop {
                    "gradient through the look-ahead (dψ_k/dθ included)"
                } else {
                    "no backprop through the look-ahead (∂_θ L_G at ψ_k only)"
                }
            ),
            GeneratorObjective::FeatureMatching(f) => {
                format!("feature matching on D's hidden layer {}", f.layer)
            }
        }
    }

    /// Checks that the objective fits the discriminator `d` and the players' losses `o`.
    ///
    /// # Errors
    /// [`Error::Param`] naming `unroll.*` or `feature_matching.*` and the reason.
    pub fn check(&self, o: &Objective, d: &Mlp) -> Result<()> {
        match self {
            GeneratorObjective::Adversarial => Ok(()),
            GeneratorObjective::Unrolled(u) => {
                if u.steps > MAX_UNROLL_STEPS {
                    return Err(Error::param(
                        "unroll.steps",
                        format!("{} is more than {MAX_UNROLL_STEPS}", u.steps),
                    ));
                }
                if !(u.lr.is_finite() && u.lr > 0.0) {
                    return Err(Error::param(
                        "unroll.lr",
                        format!("{} is not a positive number", u.lr),
                    ));
                }
                if o.penalty.is_active() {
                    return Err(Error::param(
                        "unroll",
                        "cannot be combined with a gradient penalty (the look-ahead would need third derivatives of D in its input): use penalty = { kind = \"none\" }",
                    ));
                }
                if o.weight_clip.is_some() {
                    return Err(Error::param(
                        "unroll",
                        "cannot be combined with weight_clip (clipping is not differentiable)",
                    ));
                }
                if o.info.is_some() {
                    return Err(Error::param("unroll", "cannot be combined with infogan"));
                }
                Ok(())
            }
            GeneratorObjective::FeatureMatching(f) => {
                if d.layers().get(..f.layer) != Some(f.body.layers()) {
                    return Err(Error::param(
                        "feature_matching",
                        "was built for another discriminator",
                    ));
                }
                if o.info.is_some() {
                    return Err(Error::param(
                        "feature_matching",
                        "cannot be combined with infogan",
                    ));
                }
                Ok(())
            }
        }
    }
}

/// Buffers of a non-adversarial generator objective, built on first use and kept in
/// the game's [`super::Scratch`].
#[derive(Debug, Clone)]
pub(crate) enum ObjectiveScratch<T: Float> {
    /// For [`GeneratorObjective::Unrolled`].
    Unrolled(Box<UnrollScratch<T>>),
    /// For [`GeneratorObjective::FeatureMatching`].
    FeatureMatching(Box<FeatureMatchingScratch<T>>),
}

impl<T: Float> NeuralGan<T> {
    /// ∇_θ L_G of a non-adversarial generator objective, **added** to `grad`; `None`
    /// for the adversarial one (which [`NeuralGan::generator_gradient`] computes).
    pub(super) fn objective_generator_gradient(
        &self,
        theta: &[T],
        psi: &[T],
        slot: &mut Option<ObjectiveScratch<T>>,
        grad: &mut [T],
    ) -> Option<GStats> {
        let batch = lock(&self.batch);
        match self.generator_objective() {
            GeneratorObjective::Adversarial => None,
            GeneratorObjective::Unrolled(u) => {
                let fits = matches!(slot, Some(ObjectiveScratch::Unrolled(s)) if s.fits(self, u));
                if !fits {
                    *slot = Some(ObjectiveScratch::Unrolled(Box::new(UnrollScratch::new(
                        self, u,
                    ))));
                }
                let Some(ObjectiveScratch::Unrolled(s)) = slot else {
                    return None;
                };
                Some(self.unrolled_generator_gradient(u, &batch, theta, psi, s, grad))
            }
            GeneratorObjective::FeatureMatching(f) => {
                let fits =
                    matches!(slot, Some(ObjectiveScratch::FeatureMatching(s)) if s.fits(self, f));
                if !fits {
                    *slot = Some(ObjectiveScratch::FeatureMatching(Box::new(
                        FeatureMatchingScratch::new(self, f),
                    )));
                }
                let Some(ObjectiveScratch::FeatureMatching(s)) = slot else {
                    return None;
                };
                Some(self.feature_matching_gradient(f, &batch, theta, psi, s, grad))
            }
        }
    }
}
