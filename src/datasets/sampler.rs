//! Drawing batches from a validated data set.

use std::f64::consts::TAU;

use nalgebra::DMatrix;
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

use super::{DataSampler, Dataset, Modes, POINT_COVERAGE_RADIUS};
use crate::linalg::Rng;
use crate::nn::Float;

impl DataSampler {
    /// The description it was built from.
    #[must_use]
    pub fn spec(&self) -> &Dataset {
        &self.spec
    }
    /// Data dimension.
    #[must_use]
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The modes (means, stds, coverage radii), for mixtures and point sets.
    #[must_use]
    pub fn modes(&self) -> Option<Modes> {
        if self.centres.is_empty() {
            return None;
        }
        let total: f64 = self.cumulative.last().copied().unwrap_or(1.0);
        let mut prev = 0.0;
        let weights = self
            .cumulative
            .iter()
            .map(|c| {
                let w = (c - prev) / total;
                prev = *c;
                w
            })
            .collect();
        Some(Modes {
            means: self.centres.clone(),
            stds: self.stds.clone(),
            radii: self
                .stds
                .iter()
                .map(|s| {
                    if *s > 0.0 {
                        3.0 * s
                    } else {
                        POINT_COVERAGE_RADIUS
                    }
                })
                .collect(),
            weights,
        })
    }

    /// Fills every row of `out` (n × dim) with an independent draw.
    ///
    /// # Panics
    /// If `out` does not have `dim` columns (a programming error).
    pub fn sample_into<T: Float>(&self, rng: &mut Rng, out: &mut DMatrix<T>) {
        assert_eq!(out.ncols(), self.dim, "sample buffer width");
        let n = out.nrows();
        for i in 0..n {
            match &self.spec {
                Dataset::UnitCircle => {
                    let a = rng.random_range(0.0..TAU);
                    out[(i, 0)] = T::of(a.cos());
                    out[(i, 1)] = T::of(a.sin());
                }
                Dataset::Csv { .. } => {
                    let p = &self.points[rng.random_range(0..self.points.len())];
                    for (j, v) in p.iter().enumerate() {
                        out[(i, j)] = T::of(*v);
                    }
                }
                _ => {
                    let k = self.pick_mode(rng);
                    let (c, s) = (&self.centres[k], self.stds[k]);
                    for j in 0..self.dim {
                        let z: f64 = if s > 0.0 {
                            StandardNormal.sample(rng)
                        } else {
                            0.0
                        };
                        out[(i, j)] = T::of(c[j] + s * z);
                    }
                }
            }
        }
    }

    /// `n` fresh samples.
    #[must_use]
    pub fn sample<T: Float>(&self, rng: &mut Rng, n: usize) -> DMatrix<T> {
        let mut m = DMatrix::zeros(n, self.dim);
        self.sample_into(rng, &mut m);
        m
    }

    fn pick_mode(&self, rng: &mut Rng) -> usize {
        if self.cumulative.len() <= 1 {
            return 0;
        }
        let u: f64 = rng.random();
        self.cumulative
            .iter()
            .position(|c| u < *c)
            .unwrap_or(self.cumulative.len() - 1)
    }
}
