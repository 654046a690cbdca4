//! redqueen: GAN training as a dynamical system.
//!
//! Data flows one way: configuration → game or model → dynamics → analysis →
//! export and plots. See README.md and the module docs for the sign convention
//! ([`game`]) and the formulas with their references.
#![warn(missing_docs)]

pub mod analysis;
pub mod bench;
pub mod budget;
pub mod datasets;
pub mod dynamics;
pub mod error;
pub mod export;
pub mod figures;
pub mod game;
pub mod gan;
pub mod interrupt;
pub mod linalg;
pub mod metrics;
pub mod neural_study;
pub mod nn;
pub mod npy;
pub mod optim;
pub mod output;
pub mod parallel;
pub mod plot;
pub mod progress;
pub mod report;
pub mod shard;
pub mod simd;
pub mod slurm;
pub mod study;
pub mod sweep;
pub mod unread_keys;
pub mod vae;
