//! Neural GANs: losses and regularisers, InfoGAN, the GAN as a [`crate::game::Game`],
//! the seeded trainer and the benchmark.
//!
//! References: Goodfellow et al. 2014 (minimax and non-saturating losses), Arjovsky et
//! al. 2017 (WGAN, weight clipping), Gulrajani et al. 2017 (WGAN-GP), Mescheder et al.
//! 2018 (R1, R2), Chen et al. 2016 (InfoGAN), Salimans et al. 2016 (one-sided label
//! smoothing).
//!
//! Entry points for the command line and studies:
//! * [`train`]`(&TrainConfig, Option<&Path>, progress) -> Result<TrainReport>` for
//!   `redqueen train --config <file>` (parse with [`TrainConfig::from_toml`]; a study's
//!   `[train]` section deserialises into the same [`TrainConfig`]);
//! * [`build_game`]`(&TrainConfig)` for analyses: the GAN as a [`crate::game::Game`]
//!   and its initial point, which [`TrainConfig::rule`] and [`crate::dynamics::run`]
//!   train exactly as [`train`] does (training is not a second loop);
//! * [`bench_neural`]`(steps, threads) -> Vec<NeuralBench>` for `redqueen bench neural`
//!   (`NeuralBench` is `Serialize`, for `--json`);
//! * exact Jacobian-vector products of the field through [`crate::game::Game::jvp`] and
//!   the players' Hessian-vector products through [`crate::game::Game::hessian_vp`]
//!   (forward mode through the passes, [`jvp`]), timed by [`bench::bench_jvp`].

pub mod bench;
pub mod jvp;
pub mod loss;
pub mod neural;
pub mod penalty;
pub mod trainer;

pub use bench::{NeuralBench, bench_neural};
pub use loss::GanLoss;
pub use neural::{Batch, DStats, Evaluation, GStats, InfoGanTerm, NeuralGan, Objective, Scratch};
pub use penalty::Penalty;
pub use trainer::{
    EvalMetrics, InfoGanConfig, NetConfig, OptimizerConfig, Precision, Probe, ProbeFrame,
    RunStatus, Schedule, TrainConfig, TrainReport, UpdateOrder, build_game, train, train_probed,
};
