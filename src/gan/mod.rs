//! Neural GANs: losses and regularisers, InfoGAN, the GAN as a [`crate::game::Game`],
//! and the seeded trainer.
//!
//! References: Goodfellow et al. 2014 (minimax and non-saturating losses), Arjovsky et
//! al. 2017 (WGAN, weight clipping), Gulrajani et al. 2017 (WGAN-GP), Mescheder et al.
//! 2018 (R1, R2), Chen et al. 2016 (InfoGAN), Salimans et al. 2016 (one-sided label
//! smoothing); generator objectives: Metz et al. 2017 (unrolled GAN), Salimans et al.
//! 2016 §3.1 (feature matching).
//!
//! Entry points for the command line and studies:
//! * [`train`]`(&ValidConfig, &Recording) -> Result<TrainReport>` for
//!   `redqueen train --config <file>` (parse with [`TrainConfig::from_toml`], validate
//!   once with [`TrainConfig::validated`]; a study's settings deserialise into the same
//!   [`TrainConfig`]);
//! * [`build_game`]`(&ValidConfig)` for analyses: the GAN as a [`crate::game::Game`]
//!   and its initial point, which [`TrainConfig::rule_spec`] and [`crate::dynamics::Run`]
//!   train exactly as [`train`] does (training is not a second loop);
//! * exact Jacobian-vector products of the field through [`crate::game::Game::jvp`] and
//!   the players' Hessian-vector products through [`crate::game::Game::hessian_vp`]
//!   (forward mode through the passes, [`jvp`]).

pub mod checkpoint;
pub mod feature_matching;
pub mod generator_objective;
pub mod jvp;
pub mod loss;
pub mod neural;
pub mod penalty;
pub mod spectra;
pub mod spectra_figures;
pub mod train;
pub mod unrolled;

pub use generator_objective::{
    FeatureMatching, FeatureMatchingConfig, GeneratorObjective, Unroll, UnrollConfig,
};
pub use loss::GanLoss;
pub use neural::{
    Batch, DStats, Evaluation, GStats, GanOptions, InfoGanTerm, NeuralGan, Objective, RunState,
    Scratch, SpectralNorm,
};
pub use penalty::Penalty;
pub use train::{
    EvalMetrics, InfoGanConfig, MinibatchConfig, NetConfig, Precision, Probe, ProbeFrame,
    Recording, RunStatus, TrainConfig, TrainReport, ValidConfig, build_game, train,
};
