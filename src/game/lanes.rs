//! Two-coordinate games as lane kernels: the field, Jacobian and projection of one
//! trajectory written as plain `f64` arithmetic, so that the batch engine
//! ([`crate::dynamics::batch`]) can run it over many trajectories at once in vector
//! registers, and the game's own [`Game::field`](super::Game::field) calls the very same
//! function. That is what makes a cell of the engine equal a scalar run bit for bit:
//! there is one copy of the arithmetic, and vectorising a loop over lanes does not change
//! the arithmetic of any lane (see [`crate::simd`]).
//!
//! A kernel uses no C-library calls (they do not vectorise): the logistic function comes
//! from [`crate::simd::math`]. Games of other dimensions (bilinear n × m, one-mode) and
//! the instance-noise Dirac-GAN (a 160-node quadrature per evaluation) have no kernel;
//! the engine runs them through the scalar reference, lane by lane.

use crate::linalg::{Matrix, Vector};

/// The field of a two-coordinate game (generator coordinate 0, discriminator 1), for
/// one lane. `#[inline(always)]` on the implementations lets the engine's lane loops
/// vectorise.
pub trait Field2: Copy + Send + Sync {
    /// v(x) (see [`crate::game`] for the sign convention).
    fn field2(&self, x: [f64; 2]) -> [f64; 2];
    /// J = ∂v/∂x, rows then columns.
    fn jacobian2(&self, x: [f64; 2]) -> [[f64; 2]; 2];
    /// The projection after every update (weight clipping); the identity by default.
    #[inline(always)]
    fn project2(&self, x: [f64; 2]) -> [f64; 2] {
        x
    }
}

/// A two-coordinate game with a lane kernel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kernel2 {
    /// The Dirac-GAN with the standard loss, without regularisers or noise (clipping
    /// allowed).
    Dirac(super::dirac::DiracField<false, false>),
    /// The Dirac-GAN with the standard loss and R1/R2 or WGAN-GP (no noise).
    DiracRegularised(super::dirac::DiracField<true, false>),
    /// The Dirac-GAN with the non-saturating or WGAN loss, without regularisers or noise.
    DiracLoss(super::dirac::DiracField<false, true>),
    /// The Dirac-GAN with the non-saturating or WGAN loss and R1/R2 or WGAN-GP.
    DiracLossRegularised(super::dirac::DiracField<true, true>),
    /// Lotka–Volterra.
    LotkaVolterra(super::LotkaVolterra),
    /// The TTUR saddle.
    TturSaddle(super::TturSaddle),
    /// The scalar bilinear game s·xy.
    Bilinear(ScalarBilinear),
}

/// A game the batch engine can run in vector lanes: a [`Kernel2`], possibly with the
/// consensus or SGA adjustment of its field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LaneGame {
    /// The kernel's own field.
    Plain(Kernel2),
    /// v − γJᵀv ([`super::Consensus`]).
    Consensus(Kernel2, f64),
    /// v − λAᵀv, A = (J − Jᵀ)/2 ([`super::Sga`]).
    Sga(Kernel2, f64),
}

/// The scalar bilinear game min_x max_y s·xy: v = (−s y, s x).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScalarBilinear {
    /// The coupling s.
    pub s: f64,
}

impl Field2 for ScalarBilinear {
    #[inline(always)]
    fn field2(&self, x: [f64; 2]) -> [f64; 2] {
        // The n × m game's loops ([`super::Bilinear`]) with n = m = 1.
        [-(self.s * x[1]), self.s * x[0]]
    }
    #[inline(always)]
    fn jacobian2(&self, _x: [f64; 2]) -> [[f64; 2]; 2] {
        [[0.0, -self.s], [self.s, 0.0]]
    }
}

/// Consensus optimisation on a kernel: v − γJᵀv, with (Jᵀv)ᵢ = Σⱼ Jⱼᵢ vⱼ summed in
/// index order (the order of [`adjusted_field`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Consensus2<F> {
    /// The underlying game.
    pub inner: F,
    /// γ.
    pub gamma: f64,
}

/// Symplectic gradient adjustment on a kernel: v − λAᵀv with A = (J − Jᵀ)/2.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sga2<F> {
    /// The underlying game.
    pub inner: F,
    /// λ.
    pub lambda: f64,
}

impl<F: Field2> Field2 for Consensus2<F> {
    #[inline(always)]
    fn field2(&self, x: [f64; 2]) -> [f64; 2] {
        let v = self.inner.field2(x);
        let j = self.inner.jacobian2(x);
        let w0 = j[0][0] * v[0] + j[1][0] * v[1];
        let w1 = j[0][1] * v[0] + j[1][1] * v[1];
        [v[0] - self.gamma * w0, v[1] - self.gamma * w1]
    }
    fn jacobian2(&self, x: [f64; 2]) -> [[f64; 2]; 2] {
        central_jacobian2(|y| self.field2(y), x)
    }
    #[inline(always)]
    fn project2(&self, x: [f64; 2]) -> [f64; 2] {
        self.inner.project2(x)
    }
}

impl<F: Field2> Field2 for Sga2<F> {
    #[inline(always)]
    fn field2(&self, x: [f64; 2]) -> [f64; 2] {
        let v = self.inner.field2(x);
        let j = self.inner.jacobian2(x);
        let a = |r: usize, c: usize| (j[r][c] - j[c][r]) * 0.5;
        let w0 = a(0, 0) * v[0] + a(1, 0) * v[1];
        let w1 = a(0, 1) * v[0] + a(1, 1) * v[1];
        [v[0] - self.lambda * w0, v[1] - self.lambda * w1]
    }
    fn jacobian2(&self, x: [f64; 2]) -> [[f64; 2]; 2] {
        central_jacobian2(|y| self.field2(y), x)
    }
    #[inline(always)]
    fn project2(&self, x: [f64; 2]) -> [f64; 2] {
        self.inner.project2(x)
    }
}

/// Central differences of a two-coordinate field, with the step of
/// [`crate::linalg::central_jacobian`] (so both give the same numbers).
fn central_jacobian2(f: impl Fn([f64; 2]) -> [f64; 2], x: [f64; 2]) -> [[f64; 2]; 2] {
    let j = crate::linalg::central_jacobian(
        |y: &Vector| Vector::from_vec(f([y[0], y[1]]).to_vec()),
        &Vector::from_vec(x.to_vec()),
    );
    [[j[(0, 0)], j[(0, 1)]], [j[(1, 0)], j[(1, 1)]]]
}

/// The consensus (`sga = false`) or SGA (`sga = true`) adjustment of v with weight w,
/// for any dimension: out = v − w·Mᵀv with M = J (consensus) or (J − Jᵀ)/2 (SGA),
/// (Mᵀv)ᵢ = Σⱼ Mⱼᵢ vⱼ in index order. For two coordinates it is the arithmetic of
/// [`Consensus2`] and [`Sga2`].
#[must_use]
pub fn adjusted_field(v: &Vector, j: &Matrix, weight: f64, sga: bool) -> Vector {
    let n = v.len();
    let m = |r: usize, c: usize| {
        if sga {
            (j[(r, c)] - j[(c, r)]) * 0.5
        } else {
            j[(r, c)]
        }
    };
    Vector::from_fn(n, |i, _| {
        let mut w = m(0, i) * v[0];
        for k in 1..n {
            w += m(k, i) * v[k];
        }
        v[i] - weight * w
    })
}

/// The field of a [`LaneGame`] at one point (scalar callers).
#[must_use]
pub fn lane_field(g: &LaneGame, x: [f64; 2]) -> [f64; 2] {
    match *g {
        LaneGame::Plain(k) => k.field2(x),
        LaneGame::Consensus(k, gamma) => Consensus2 { inner: k, gamma }.field2(x),
        LaneGame::Sga(k, lambda) => Sga2 { inner: k, lambda }.field2(x),
    }
}

impl Field2 for Kernel2 {
    #[inline(always)]
    fn field2(&self, x: [f64; 2]) -> [f64; 2] {
        match self {
            Kernel2::Dirac(k) => k.field2(x),
            Kernel2::DiracRegularised(k) => k.field2(x),
            Kernel2::DiracLoss(k) => k.field2(x),
            Kernel2::DiracLossRegularised(k) => k.field2(x),
            Kernel2::LotkaVolterra(k) => k.field2(x),
            Kernel2::TturSaddle(k) => k.field2(x),
            Kernel2::Bilinear(k) => k.field2(x),
        }
    }
    #[inline(always)]
    fn jacobian2(&self, x: [f64; 2]) -> [[f64; 2]; 2] {
        match self {
            Kernel2::Dirac(k) => k.jacobian2(x),
            Kernel2::DiracRegularised(k) => k.jacobian2(x),
            Kernel2::DiracLoss(k) => k.jacobian2(x),
            Kernel2::DiracLossRegularised(k) => k.jacobian2(x),
            Kernel2::LotkaVolterra(k) => k.jacobian2(x),
            Kernel2::TturSaddle(k) => k.jacobian2(x),
            Kernel2::Bilinear(k) => k.jacobian2(x),
        }
    }
    #[inline(always)]
    fn project2(&self, x: [f64; 2]) -> [f64; 2] {
        match self {
            Kernel2::Dirac(k) => k.project2(x),
            Kernel2::DiracRegularised(k) => k.project2(x),
            Kernel2::DiracLoss(k) => k.project2(x),
            Kernel2::DiracLossRegularised(k) => k.project2(x),
            Kernel2::LotkaVolterra(k) => k.project2(x),
            Kernel2::TturSaddle(k) => k.project2(x),
            Kernel2::Bilinear(k) => k.project2(x),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::{Dirac, DiracLoss, Game, LotkaVolterra};

    #[test]
    fn adjusted_field_is_the_kernel_arithmetic() {
        for inner in [
            Dirac::new(DiracLoss::Standard).kernel().unwrap(),
            Kernel2::LotkaVolterra(LotkaVolterra::default()),
        ] {
            for &x in &[[0.3, -1.2], [1.5, 0.7]] {
                let v = Vector::from_vec(inner.field2(x).to_vec());
                let j = inner.jacobian2(x);
                let jm = Matrix::from_row_slice(2, 2, &[j[0][0], j[0][1], j[1][0], j[1][1]]);
                let c = adjusted_field(&v, &jm, 0.7, false);
                let k = Consensus2 { inner, gamma: 0.7 }.field2(x);
                assert_eq!(
                    (c[0].to_bits(), c[1].to_bits()),
                    (k[0].to_bits(), k[1].to_bits())
                );
                let s = adjusted_field(&v, &jm, 0.7, true);
                let k = Sga2 { inner, lambda: 0.7 }.field2(x);
                assert_eq!(
                    (s[0].to_bits(), s[1].to_bits()),
                    (k[0].to_bits(), k[1].to_bits())
                );
            }
        }
        // The game's own field is the kernel's.
        let g = Dirac::default();
        let x = [0.4, 0.9];
        let v = g.field(&Vector::from_vec(x.to_vec()));
        assert_eq!(v[0].to_bits(), g.kernel().unwrap().field2(x)[0].to_bits());
    }
}
