//! Parameter initialisation schemes.

use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::linalg::Rng;

/// How a layer's weights (and biases) are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Init {
    /// Glorot & Bengio (2010) uniform: U(−r, r) with r = √(6/(fan_in + fan_out)),
    /// applied to the weights **and** the biases (the bias of a layer uses the same r),
    /// as gan-vis does.
    #[default]
    GlorotUniform,
    /// He et al. (2015): weights N(0, 2/fan_in), biases 0.
    He,
    /// Weights N(0, std²), biases 0.
    Normal {
        /// Standard deviation.
        std: f64,
    },
}

impl Init {
    /// One weight for a layer with the given fans.
    pub(crate) fn weight(self, fan_in: usize, fan_out: usize, rng: &mut Rng) -> f64 {
        match self {
            Init::GlorotUniform => {
                let r = (6.0 / (fan_in + fan_out) as f64).sqrt();
                rng.random_range(-r..r)
            }
            Init::He => {
                let z: f64 = StandardNormal.sample(rng);
                z * (2.0 / fan_in as f64).sqrt()
            }
            Init::Normal { std } => {
                let z: f64 = StandardNormal.sample(rng);
                z * std
            }
        }
    }
    /// One bias for a layer with the given fans.
    pub(crate) fn bias(self, fan_in: usize, fan_out: usize, rng: &mut Rng) -> f64 {
        match self {
            Init::GlorotUniform => self.weight(fan_in, fan_out, rng),
            Init::He | Init::Normal { .. } => 0.0,
        }
    }
}
