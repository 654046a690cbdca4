//! Building a configured run: the networks and the objective (from the configuration),
//! the neural GAN as a [`crate::game::Game`], its initial point and its update rule.

use nalgebra::DMatrix;
use rand::RngExt;

use super::config::{TrainConfig, ValidConfig};
use crate::dynamics::Rule;
use crate::error::Result;
use crate::game::Game;
use crate::gan::NeuralGan;
use crate::linalg::{Vector, rng};
use crate::nn::{Float, Init, Mlp};

/// `n` latent rows from `r`, each with a one-hot InfoGAN code (uniform) when InfoGAN is on.
pub fn latent_with_codes<T: Float>(
    cfg: &TrainConfig,
    n: usize,
    r: &mut crate::linalg::Rng,
) -> DMatrix<T> {
    let k = cfg.infogan.as_ref().map_or(0, |i| i.categories);
    let mut z = DMatrix::zeros(n, cfg.latent.dim + k);
    cfg.latent.sample_into(r, &mut z);
    if k > 0 {
        for i in 0..n {
            let c = r.random_range(0..k);
            z[(i, cfg.latent.dim + c)] = T::one();
        }
    }
    z
}

/// x₀ = (θ_G, ψ) drawn from stream 1 of the seed in the network precision T (so an f32
/// run starts from f32-representable weights): G, then D, then Q (Glorot-uniform).
pub fn initial_point<T: Float>(cfg: &TrainConfig, g: &Mlp, d: &Mlp, q: Option<&Mlp>) -> Vector {
    let mut init_rng = rng(cfg.seed, 1);
    let theta: Vec<T> = g.init(cfg.generator.init, &mut init_rng);
    let mut psi: Vec<T> = d.init(cfg.discriminator.init, &mut init_rng);
    if let Some(qn) = q {
        psi.extend(qn.init::<T>(Init::GlorotUniform, &mut init_rng));
    }
    Vector::from_iterator(
        theta.len() + psi.len(),
        theta.iter().chain(&psi).map(|v| v.f64()),
    )
}

/// The configured GAN in network precision T as a [`crate::game::Game`], its initial
/// point x₀ (projected, i.e. clipped), and the update rule of the configuration. The
/// game holds the batch of the first update (stream 0 of the seed, which the rule
/// state of [`Rule::init_seeded`] draws from again).
pub fn configured<T: Float>(cfg: &ValidConfig) -> Result<(NeuralGan<T>, Vector, Rule)> {
    let data = cfg.data().clone();
    let (g, d, q) = cfg.networks(data.dim())?;
    let mut x0 = initial_point::<T>(cfg, &g, &d, q.as_ref());
    let gan = NeuralGan::<T>::with_options(
        g,
        d,
        q,
        cfg.objective(),
        cfg.latent,
        data,
        cfg.batch_size,
        cfg.gan_options(),
        &mut rng(cfg.seed, 0),
    )?
    .with_generator_objective(cfg.generator_objective()?)?;
    gan.project(&mut x0);
    Ok((gan, x0, cfg.rule_spec().build()?))
}

/// The configured GAN as a [`crate::game::Game`] in f64, holding the batch of the
/// trainer's first update, and the initial joint point x₀ = (θ_G, ψ) that [`train`]
/// starts from, so that Jacobians, spectra and the other analyses of
/// [`crate::analysis`] apply to it unchanged. [`TrainConfig::rule_spec`] with
/// [`Rule::init_seeded`]`(…, seed)` and [`crate::dynamics::Run`] continue it exactly as
/// [`super::train`] does (with `precision = "f64"`).
///
/// # Errors
/// As [`crate::datasets::Dataset::build`].
pub fn build_game(cfg: &ValidConfig) -> Result<(NeuralGan<f64>, Vector)> {
    let (gan, x0, _) = configured::<f64>(cfg)?;
    Ok((gan, x0))
}

/// θ and ψ of the joint vector in network precision (for evaluation and probes).
pub fn split_params<T: Float>(x: &Vector, ng: usize) -> (Vec<T>, Vec<T>) {
    let (g, d) = x.as_slice().split_at(ng);
    (
        g.iter().map(|v| T::of(*v)).collect(),
        d.iter().map(|v| T::of(*v)).collect(),
    )
}
