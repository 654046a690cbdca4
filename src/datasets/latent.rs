//! The latent distribution p(z).

use nalgebra::DMatrix;
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::linalg::Rng;
use crate::nn::Float;

/// The latent distribution p(z).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LatentKind {
    /// Uniform on [0, 1)^d (gan-vis).
    #[default]
    Uniform,
    /// Standard normal N(0, I_d) (seed 002).
    Gaussian,
}

/// A latent distribution of a given dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Latent {
    /// Uniform or Gaussian.
    #[serde(default)]
    pub kind: LatentKind,
    /// Dimension d ≥ 1.
    pub dim: usize,
}

impl Default for Latent {
    /// gan-vis: 10-D uniform.
    fn default() -> Self {
        Latent {
            kind: LatentKind::Uniform,
            dim: 10,
        }
    }
}

impl Latent {
    /// Fills columns `0..dim` of every row of `out` with a draw of z (further columns,
    /// e.g. an InfoGAN code, are left alone).
    ///
    /// # Panics
    /// If `out` has fewer than `dim` columns (a programming error).
    pub fn sample_into<T: Float>(&self, rng: &mut Rng, out: &mut DMatrix<T>) {
        assert!(out.ncols() >= self.dim, "latent buffer width");
        let n = out.nrows();
        // Column-major: fill column by column, row index fastest, so the draw order is
        // fixed (row-major in the draw sequence is not needed for reproducibility).
        let cols = &mut out.as_mut_slice()[..n * self.dim];
        match self.kind {
            LatentKind::Uniform => cols
                .iter_mut()
                .for_each(|v| *v = T::of(rng.random::<f64>())),
            LatentKind::Gaussian => cols.iter_mut().for_each(|v| {
                let z: f64 = StandardNormal.sample(rng);
                *v = T::of(z);
            }),
        }
    }
}
