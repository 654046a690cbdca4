//! Neural GANs: losses and regularisers, InfoGAN, the GAN as a [`crate::game::Game`],
//! the seeded trainer and the benchmark.
//!
//! References: Goodfellow et al. 2014 (minimax and non-saturating losses), Arjovsky et
//! al. 2017 (WGAN, weight clipping), Gulrajani et al. 2017 (WGAN-GP), Mescheder et al.
//! 2018 (R1, R2), Chen et al. 2016 (InfoGAN), Salimans et al. 2016 (one-sided label
//! smoothing).

pub mod loss;
pub mod neural;
pub mod penalty;
pub mod trainer;

pub use loss::GanLoss;
pub use neural::{Batch, DStats, GStats, InfoGanTerm, NeuralGan, Objective, Scratch};
pub use penalty::Penalty;
pub use trainer::{
    EvalMetrics, InfoGanConfig, NetConfig, OptimizerConfig, Precision, Probe, ProbeFrame,
    RunStatus, Schedule, TrainConfig, TrainReport, UpdateOrder, train, train_probed,
};
