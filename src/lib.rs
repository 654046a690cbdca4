//! redqueen: GAN training as a dynamical system.
//!
//! Data flows one way: configuration → game or model → dynamics → analysis →
//! export and plots. See README.md and the module docs for the sign convention
//! ([`game`]) and the formulas with their references.
#![warn(missing_docs)]

pub mod bench;
pub mod error;
pub mod game;
pub mod linalg;
pub mod optim;
