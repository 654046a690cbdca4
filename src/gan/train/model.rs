//! What a configuration trains beyond the plain GAN, and its checks: the generator
//! objective (`unroll`, `feature_matching`, [`crate::gan::generator_objective`]) and
//! the VAE baseline (`model = "vae"`, `[vae]`, [`crate::vae`]).
//!
//! # The VAE from a training configuration
//! The VAE uses the GAN's networks so that one file compares the two models with the
//! same layers (seed 002: "with same parameters, layer size etc."): the decoder is the
//! `[generator]` (latent → data) and the encoder the `[discriminator]`'s hidden layers
//! (data → 2·latent: μ and ln σ²). The prior is the `latent` distribution, which must
//! be Gaussian. `optimizer_g` updates every parameter of the VAE (it has one player);
//! `schedule` and `optimizer_d` are accepted and have nothing to do. The keys of the
//! GAN's losses (`loss`, `penalty`, `label_smoothing`, `weight_clip`, `infogan`,
//! `unroll`, `feature_matching`) and dropout are refused with `model = "vae"`.

use super::config::{Model, TrainConfig, ValidConfig};
use crate::budget::{check_memory, product};
use crate::datasets::LatentKind;
use crate::error::{Error, Result};
use crate::gan::generator_objective::{self, GeneratorObjective};
use crate::gan::{GanLoss, Penalty};
use crate::nn::{Activation, Mlp};
use crate::vae::VaeConfig;

impl TrainConfig {
    /// The checks of [`super::model`] that need no data set: the keys of the other
    /// model are refused, the VAE's settings are checked, a look-ahead's memory fits.
    pub(super) fn check_model(&self) -> Result<()> {
        match self.model {
            Model::Gan => {
                if self.vae.is_some() {
                    return Err(Error::param(
                        "vae",
                        "applies to model = \"vae\" only (this configuration trains a GAN)",
                    ));
                }
                if let Some(u) = &self.unroll {
                    // With backprop the look-ahead keeps one workspace of D on the 2B
                    // stacked rows per step (about ten numbers per unit and row).
                    let units = self.discriminator.hidden.iter().sum::<usize>() as u128 + 17;
                    let bytes =
                        product(&[u.steps as u128 + 2, 2 * self.batch_size as u128, units, 80]);
                    check_memory("unroll.steps", bytes, "the unrolled look-ahead")?;
                }
                Ok(())
            }
            Model::Vae => {
                let gan_only: [(&str, bool); 8] = [
                    ("loss", self.loss != GanLoss::NonSaturating),
                    ("penalty", self.penalty != Penalty::None),
                    ("label_smoothing", self.label_smoothing != 0.0),
                    ("weight_clip", self.weight_clip.is_some()),
                    ("infogan", self.infogan.is_some()),
                    ("unroll", self.unroll.is_some()),
                    ("feature_matching", self.feature_matching.is_some()),
                    ("generator.dropout_keep", self.generator.dropout_keep != 1.0),
                ];
                if let Some((key, _)) = gan_only.iter().find(|k| k.1) {
                    return Err(Error::param(
                        *key,
                        "is a GAN setting; model = \"vae\" does not use it (remove it)",
                    ));
                }
                if self.discriminator.dropout_keep != 1.0 {
                    return Err(Error::param(
                        "discriminator.dropout_keep",
                        "the VAE's encoder (the discriminator's layers) has no dropout",
                    ));
                }
                if self.latent.kind != LatentKind::Gaussian {
                    return Err(Error::param(
                        "latent.kind",
                        "the VAE's prior is N(0, I): use latent = { kind = \"gaussian\", dim = … }",
                    ));
                }
                self.vae_config().validate()
            }
        }
    }

    /// The VAE's settings (the defaults when `[vae]` is absent).
    #[must_use]
    pub fn vae_config(&self) -> VaeConfig {
        self.vae.unwrap_or_default()
    }

    /// The VAE's decoder (the generator's layers, latent → data) and encoder (the
    /// discriminator's hidden layers, data → 2·latent) for data of dimension
    /// `data_dim`.
    ///
    /// # Errors
    /// [`Error::Param`] for an invalid architecture.
    pub fn vae_networks(&self, data_dim: usize) -> Result<(Mlp, Mlp)> {
        let widths = |input: usize, hidden: &[usize], out: usize| {
            std::iter::once(input)
                .chain(hidden.iter().copied())
                .chain(std::iter::once(out))
                .collect::<Vec<_>>()
        };
        let m = self.latent.dim;
        let decoder = Mlp::new(
            &widths(m, &self.generator.hidden, data_dim),
            self.generator.activation,
            Activation::Linear,
            1.0,
        )?;
        let encoder = Mlp::new(
            &widths(data_dim, &self.discriminator.hidden, 2 * m),
            self.discriminator.activation,
            Activation::Linear,
            1.0,
        )?;
        Ok((decoder, encoder))
    }
}

impl ValidConfig {
    /// The generator objective of this configuration ([`generator_objective::resolve`]
    /// for its discriminator); adversarial for the VAE.
    ///
    /// # Errors
    /// As [`generator_objective::resolve`] (not expected: checked by
    /// [`TrainConfig::validated`]).
    pub fn generator_objective(&self) -> Result<GeneratorObjective> {
        if self.model == Model::Vae {
            return Ok(GeneratorObjective::Adversarial);
        }
        let (_, d, _) = self.networks(self.data().dim())?;
        generator_objective::resolve(
            self.unroll.as_ref(),
            self.feature_matching.as_ref(),
            &self.objective(),
            &d,
            self.optimizer_d.lr(),
        )
    }

    /// The checks that need the data set's dimension (the networks).
    pub(super) fn check_networks(&self) -> Result<()> {
        match self.model {
            Model::Gan => self.generator_objective().map(|_| ()),
            Model::Vae => self.vae_networks(self.data().dim()).map(|_| ()),
        }
    }
}

#[cfg(test)]
mod tests;
